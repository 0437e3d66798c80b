//! `secman manager ...`: configured instances of a flavor.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{print, print_as, table};
use super::{Context, input, usage};
use crate::builtin;
use crate::home::absolute;
use crate::managers::{ManagerConfig, Managers, Scope, is_manager_name};
use crate::registry::FlavorRegistry;
use crate::runtime::{Endpoint, FlavorInfo, OptionKind, RESERVED_OPTIONS};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ManagerCommand {
    /// Create a manager: `secman manager register prod --flavor aws --option region_name=eu-west-1`.
    Register(RegisterArgs),
    /// List the managers; `*` marks the active one.
    List(ListArgs),
    /// Show a manager's flavor, options, scope and UUID.
    Describe(DescribeArgs),
    /// Make a manager the active one, used when --manager is not given.
    Use(UseArgs),
    /// Forget a manager. Its secrets stay where its flavor put them.
    Delete(DeleteArgs),
}

impl ManagerCommand {
    pub async fn run(self, ctx: &Context) -> Result<()> {
        match self {
            ManagerCommand::Register(args) => args.run(ctx).await,
            ManagerCommand::List(args) => args.run(ctx),
            ManagerCommand::Describe(args) => args.run(ctx).await,
            ManagerCommand::Use(args) => args.run(ctx),
            ManagerCommand::Delete(args) => args.run(ctx),
        }
    }
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The manager's name.
    name: String,
    /// The flavor it is an instance of (see `secman flavor list`).
    #[arg(short, long)]
    flavor: String,
    /// An option of the flavor (repeatable; see `secman flavor describe FLAVOR`).
    #[arg(long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
    /// How its secrets are kept apart [default: component for flavors with
    /// scopes, none otherwise].
    #[arg(long, value_enum)]
    scope: Option<Scope>,
    /// The namespace, for --scope namespace.
    #[arg(long)]
    namespace: Option<String>,
}

impl RegisterArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        if !is_manager_name(&self.name) {
            usage!(
                "`{}` is not a valid manager name: use letters, digits, `_`, `.` and `-`",
                self.name
            );
        }
        if Managers::load(&ctx.home)?.managers.contains_key(&self.name) {
            bail!(
                "manager `{}` already exists: pick another name, or delete it first with \
                 `secman manager delete {}`",
                self.name,
                self.name
            );
        }
        let flavor_name = builtin::canonical(&self.flavor);
        let flavor = FlavorRegistry::load_named(&ctx.home, ctx.runtime()?, flavor_name).await?;
        let mut config = ManagerConfig::new(flavor_name);
        config.options = options(&flavor.info, &self.options)?;
        let others = Managers::load(&ctx.home)?.folders_except(&self.name);
        check_storage_option(ctx, &mut config, &flavor.info, &others)?;
        (config.scope, config.namespace) = scope(&flavor.info, self.scope, self.namespace)?;

        let _lock = ctx.home.lock_state()?;
        let mut managers = Managers::load(&ctx.home)?;
        if managers.managers.contains_key(&self.name) {
            bail!("manager `{}` already exists", self.name);
        }
        managers.managers.insert(self.name.clone(), config.clone());
        managers.save(&ctx.home)?;
        print(&format!(
            "Registered manager `{}` (flavor `{}`, scope {}, uuid {}). Make it the active \
             one with `secman manager use {}`.\n",
            self.name, config.flavor, config.scope, config.uuid, self.name
        ))
    }
}

/// Records which option of `config` names its storage file, if the user
/// set one, after checking its folder may be a storage folder.
pub(super) fn check_storage_option(
    ctx: &Context,
    config: &mut ManagerConfig,
    info: &FlavorInfo,
    others: &[(String, PathBuf)],
) -> Result<()> {
    for spec in &info.options {
        if let (OptionKind::StorageFile, Some(file)) = (spec.kind, config.options.get(&spec.name)) {
            let folder = Path::new(file).parent().unwrap_or(Path::new("/"));
            let own = ctx.home.storage_dir(&config.uuid);
            if let Err(why) = ctx.home.check_storage_folder(folder, &own, others) {
                usage!("option `{}`: {why}", spec.name);
            }
            config.storage_option = Some(spec.name.clone());
        }
    }
    Ok(())
}

/// The options of a new manager, checked against what the flavor declares.
pub(super) fn options(info: &FlavorInfo, args: &[String]) -> Result<BTreeMap<String, String>> {
    let mut options = BTreeMap::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            usage!("option `{arg}` is not KEY=VALUE");
        };
        if RESERVED_OPTIONS.contains(&key) {
            let instead = match key {
                "scope" | "namespace" => "pass --scope and --namespace instead",
                "storage" => {
                    "it is the manager's own storage folder, given when the flavor is granted \
                     storage (`secman flavor grant FLAVOR --allow-storage`); a flavor that keeps \
                     a file may take its path as an option of its own (see `secman flavor \
                     describe FLAVOR`)"
                }
                _ => "it comes from the manager's name and uuid",
            };
            usage!("option `{key}` is set by secman itself: {instead}");
        }
        let Some(spec) = info.option(key) else {
            usage!(
                "flavor `{}` has no option `{key}`: its options are {}",
                info.name,
                option_names(info)
            );
        };
        let value = match spec.kind {
            OptionKind::StorageFile => absolute(value.as_ref())?.display().to_string(),
            OptionKind::EndpointUrl => match Endpoint::parse(value) {
                Ok(_) => value.to_string(),
                Err(e) => usage!("option `{key}`: {e}"),
            },
            OptionKind::Text => value.to_string(),
        };
        if options.insert(key.to_string(), value).is_some() {
            usage!("option `{key}` is given twice");
        }
    }
    for spec in &info.options {
        if spec.required && spec.default.is_none() && !options.contains_key(&spec.name) {
            usage!(
                "flavor `{}` requires option `{}` ({}): pass --option {}=VALUE",
                info.name,
                spec.name,
                spec.description,
                spec.name
            );
        }
    }
    Ok(options)
}

fn option_names(info: &FlavorInfo) -> String {
    if info.options.is_empty() {
        return "(none)".into();
    }
    info.options
        .iter()
        .map(|o| o.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scope and namespace of a new manager, checked against the flavor.
fn scope(
    info: &FlavorInfo,
    scope: Option<Scope>,
    namespace: Option<String>,
) -> Result<(Scope, Option<String>)> {
    let scope = match (scope, info.scoped) {
        (None, true) => Scope::Component,
        (None, false) => Scope::None,
        (Some(Scope::None), _) => Scope::None,
        (Some(scope), true) => scope,
        (Some(scope), false) => usage!(
            "flavor `{}` does not keep secrets apart by scope, so --scope {scope} cannot apply: \
             omit --scope",
            info.name
        ),
    };
    match (scope, namespace) {
        (Scope::Namespace, Some(ns)) if !ns.is_empty() => Ok((scope, Some(ns))),
        (Scope::Namespace, _) => usage!("--scope namespace needs --namespace NAME"),
        (_, Some(_)) => usage!("--namespace only applies with --scope namespace"),
        (_, None) => Ok((scope, None)),
    }
}

/// A manager as `list` and `describe` show it.
#[derive(Debug, Serialize)]
struct ManagerView {
    name: String,
    flavor: String,
    uuid: String,
    scope: Scope,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<BTreeMap<String, String>>,
    active: bool,
}

impl ManagerView {
    /// `config` as shown, with its options when the flavor's `info` says
    /// which ones to mask.
    fn new(
        name: &str,
        config: &ManagerConfig,
        managers: &Managers,
        info: Option<&FlavorInfo>,
    ) -> Self {
        let options = info.map(|info| {
            config
                .options
                .iter()
                .map(|(key, value)| {
                    let sensitive = info.option(key).is_none_or(|spec| spec.sensitive);
                    let shown = if sensitive {
                        "********".into()
                    } else {
                        value.clone()
                    };
                    (key.clone(), shown)
                })
                .collect()
        });
        ManagerView {
            name: name.to_string(),
            flavor: config.flavor.clone(),
            uuid: config.uuid.clone(),
            scope: config.scope,
            namespace: config.namespace.clone(),
            options,
            active: managers.active.as_deref() == Some(name),
        }
    }
}

#[derive(Debug, Args)]
pub struct ListArgs {}

impl ListArgs {
    fn run(self, ctx: &Context) -> Result<()> {
        let managers = Managers::load(&ctx.home)?;
        // Listing loads no flavor, so it cannot tell which options are
        // sensitive: `describe` shows them.
        let views: Vec<ManagerView> = managers
            .managers
            .iter()
            .map(|(name, config)| ManagerView::new(name, config, &managers, None))
            .collect();
        print_as(ctx.format()?, &views, || {
            let rows: Vec<Vec<String>> = views
                .iter()
                .map(|v| {
                    vec![
                        if v.active { "*".into() } else { String::new() },
                        v.name.clone(),
                        v.flavor.clone(),
                        v.scope.to_string(),
                        v.uuid.clone(),
                    ]
                })
                .collect();
            table(&["ACTIVE", "NAME", "FLAVOR", "SCOPE", "UUID"], &rows)
        })
    }
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The manager's name [default: the active one].
    name: Option<String>,
}

impl DescribeArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        let managers = Managers::load(&ctx.home)?;
        let (name, config) = managers.resolve(self.name.as_deref())?;
        let flavor = FlavorRegistry::load_named(&ctx.home, ctx.runtime()?, &config.flavor).await;
        // A flavor that cannot be loaded cannot say what is sensitive: mask all.
        let unknown = FlavorInfo::default();
        let info = flavor.as_ref().map_or(&unknown, |f| &f.info);
        let view = ManagerView::new(name, config, &managers, Some(info));
        print_as(ctx.format()?, &view, || {
            let mut rows = vec![
                vec!["name".into(), view.name.clone()],
                vec!["flavor".into(), view.flavor.clone()],
                vec!["uuid".into(), view.uuid.clone()],
                vec!["scope".into(), view.scope.to_string()],
            ];
            if let Some(ns) = &view.namespace {
                rows.push(vec!["namespace".into(), ns.clone()]);
            }
            rows.push(vec!["active".into(), view.active.to_string()]);
            for (key, value) in view.options.iter().flatten() {
                rows.push(vec![format!("option {key}"), value.clone()]);
            }
            if let Err(e) = &flavor {
                rows.push(vec!["problem".into(), format!("{e:#}")]);
            }
            table(&["FIELD", "VALUE"], &rows)
        })
    }
}

#[derive(Debug, Args)]
pub struct UseArgs {
    /// The manager's name.
    name: String,
}

impl UseArgs {
    fn run(self, ctx: &Context) -> Result<()> {
        let _lock = ctx.home.lock_state()?;
        let mut managers = Managers::load(&ctx.home)?;
        managers.get(&self.name)?;
        managers.active = Some(self.name.clone());
        managers.save(&ctx.home)?;
        print(&format!("Manager `{}` is now the active one\n", self.name))
    }
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The manager's name.
    name: String,
    /// Do not ask for confirmation (asked only for the active manager).
    #[arg(short, long)]
    yes: bool,
}

impl DeleteArgs {
    fn run(self, ctx: &Context) -> Result<()> {
        // Every command without -m uses the active manager: deleting it
        // is asked about first (before the lock, which a question would
        // hold for as long as the user takes to answer).
        let active = Managers::load(&ctx.home)?.active;
        if active.as_deref() == Some(self.name.as_str()) {
            input::confirm(
                &format!(
                    "delete manager `{}`, the active one (its secrets stay where they are)",
                    self.name
                ),
                self.yes,
            )?;
        }
        let _lock = ctx.home.lock_state()?;
        let mut managers = Managers::load(&ctx.home)?;
        let config = managers.get(&self.name)?.clone();
        managers.managers.remove(&self.name);
        let was_active = managers.active.as_deref() == Some(self.name.as_str());
        if was_active {
            managers.active = None;
        }
        managers.save(&ctx.home)?;
        let storage = ctx.home.storage_dir(&config.uuid);
        let mut message = format!("Deleted manager `{}`", self.name);
        if storage.exists() {
            message += &format!(
                "; its storage folder {} was kept: delete it yourself once you no longer need \
                 its secrets",
                storage.display()
            );
        }
        if was_active {
            message += "; no manager is active now: pick one with `secman manager use NAME` (see \
                        `secman manager list`), or register a new one";
        }
        print(&(message + "\n"))
    }
}
