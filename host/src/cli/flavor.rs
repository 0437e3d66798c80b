//! `secman flavor ...`: the WebAssembly components behind managers.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::Format;
use super::output::{note, print, print_as, table};
use super::{Context, UsageError, conformance, input, usage};
use crate::builtin;
use crate::home::absolute;
use crate::managers::{ManagerConfig, Managers, Scope};
use crate::registry::{
    FlavorRegistry, FlavorSource, Grants, LimitSettings, LoadedFlavor, RegisteredFlavor,
    read_flavor_file, short,
};
use crate::runtime::{
    FileAsk, FlavorInfo, HostPattern, Limits, OptionKind, is_flavor_name, quote, sha256_hex,
};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum FlavorCommand {
    /// Register a flavor component: `secman flavor register ./my-flavor.wasm`.
    ///
    /// The file must be a WebAssembly component of the world
    /// `secman:flavor/flavor` (see the wit/ folder). secman records its
    /// sha256, refuses it later if it changes, and compiles it once.
    Register(RegisterArgs),
    /// List the built-in and registered flavors.
    List(ListArgs),
    /// Show a flavor's options, and what it asks for beside what it was granted.
    Describe(DescribeArgs),
    /// Forget a registered flavor. Built-in flavors cannot be deleted.
    Delete(DeleteArgs),
    /// Grant a registered flavor more of what it asks for.
    Grant(GrantArgs),
    /// Take back what a registered flavor was granted.
    Revoke(RevokeArgs),
    /// Check that a flavor keeps the contract: `secman flavor test ./my-flavor.wasm`.
    ///
    /// Runs every operation, its errors and its edge cases against a fresh
    /// storage folder (or, with --manager, the manager's own backend), one
    /// line per case. Exits with 1 if a case fails.
    Test(TestArgs),
    /// Start a flavor project: `secman flavor new my-store --lang python`.
    ///
    /// Writes a working file-backed flavor in Rust, Python, JavaScript, C or
    /// Go, with a build.sh that installs its pinned tools once, and the WIT
    /// secman accepts. It passes `secman flavor test` as written.
    New(super::new::NewArgs),
}

impl FlavorCommand {
    pub async fn run(self, ctx: &Context) -> Result<()> {
        match self {
            FlavorCommand::Register(args) => args.run(ctx).await,
            FlavorCommand::List(args) => args.run(ctx).await,
            FlavorCommand::Describe(args) => args.run(ctx).await,
            FlavorCommand::Delete(args) => args.run(ctx),
            FlavorCommand::Grant(args) => args.run(ctx, true),
            FlavorCommand::Revoke(args) => args.grant.run(ctx, false),
            FlavorCommand::Test(args) => args.run(ctx).await,
            FlavorCommand::New(args) => args.run(),
        }
    }
}

// What a user grants a flavor, as flags. (Not a doc comment: clap would
// make it the help text of each command that flattens these flags.)
#[derive(Debug, Clone, Default, Args)]
struct GrantFlags {
    /// Let it send HTTP requests to HOST (exact, or `*.suffix`; repeatable).
    #[arg(long = "allow-host", value_name = "HOST")]
    hosts: Vec<String>,
    /// Let it read environment variable NAME (repeatable).
    #[arg(long = "allow-env", value_name = "NAME")]
    env: Vec<String>,
    /// Let it read a copy of FILE, as it asks for it: `$NAME` (the file
    /// the variable names), `~/PATH` or `/PATH` (repeatable).
    #[arg(long = "allow-file", value_name = "FILE")]
    files: Vec<String>,
    /// Give each of its managers a storage folder.
    #[arg(long = "allow-storage")]
    storage: bool,
}

impl GrantFlags {
    fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.env.is_empty() && self.files.is_empty() && !self.storage
    }

    /// The grants these flags name, refusing what flavor `name` did not
    /// ask for.
    fn to_grants(&self, name: &str, info: &FlavorInfo) -> Result<Grants> {
        let asked = &info.capabilities;
        let mut hosts = Vec::new();
        for host in &self.hosts {
            // The user's spelling may differ from the flavor's: compare
            // what the patterns mean, and record the flavor's.
            let typed = HostPattern::parse(host).map_err(UsageError)?;
            let Some(asked_as) = asked
                .outbound_hosts
                .iter()
                .find(|a| HostPattern::parse(a).is_ok_and(|a| a == typed))
            else {
                usage!(
                    "flavor `{name}` does not ask for host `{typed}` (the hosts it asks for: {})",
                    list(&asked.outbound_hosts)
                );
            };
            hosts.push(asked_as.clone());
        }
        for var in &self.env {
            if !asked.environment.contains(var) {
                usage!(
                    "flavor `{name}` does not ask for environment variable `{}` (the variables it \
                     asks for: {})",
                    quote(var, 80),
                    list(&asked.environment)
                );
            }
        }
        for file in &self.files {
            if !asked.files.contains(file) {
                usage!(
                    "flavor `{name}` does not ask for file `{}` (the files it asks for: {})",
                    quote(file, 80),
                    list(&asked.files)
                );
            }
        }
        if self.storage && !asked.storage {
            usage!("flavor `{name}` does not ask for storage");
        }
        Ok(Grants {
            hosts,
            env: self.env.clone(),
            storage: self.storage,
            files: self.files.clone(),
        })
    }
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The component file (.wasm).
    path: PathBuf,
    /// Register it under this name instead of the one it gives itself.
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    grants: GrantFlags,
    /// Grant everything the flavor asks for.
    #[arg(short, long, conflicts_with_all = ["hosts", "env", "files", "storage"])]
    yes: bool,
    #[command(flatten)]
    limits: LimitFlags,
}

// Limits other than the defaults, for one flavor. (Not a doc comment, as
// for `GrantFlags`.)
#[derive(Debug, Clone, Args)]
struct LimitFlags {
    /// Memory the flavor may use, in MiB [default: 256].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=16384))]
    memory_limit_mib: Option<u64>,
    /// Time one call may take, in seconds [default: 30].
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    time_limit_secs: Option<f64>,
    /// Output the flavor may print per stream, in KiB [default: 1024].
    #[arg(long, value_name = "KIB", value_parser = clap::value_parser!(u64).range(1..=1048576))]
    output_limit_kib: Option<u64>,
    /// What one call may return, in MiB [default: 16].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=4096))]
    result_limit_mib: Option<u64>,
    /// What each of its managers' storage folders may hold, in MiB [default: 256].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=1048576))]
    storage_quota_mib: Option<u64>,
}

impl LimitFlags {
    fn settings(&self) -> LimitSettings {
        LimitSettings {
            memory_mib: self.memory_limit_mib,
            time_secs: self.time_limit_secs,
            output_kib: self.output_limit_kib,
            result_mib: self.result_limit_mib,
            storage_mib: self.storage_quota_mib,
        }
    }
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 3600.0 => Ok(secs),
        _ => Err("expected a number of seconds above 0 and at most 3600, e.g. 0.5 or 60".into()),
    }
}

impl RegisterArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        let path = absolute(&self.path)?;
        let failed = || format!("cannot register {} as a flavor", path.display());
        let wasm = read_flavor_file(&path)?;
        let sha256 = sha256_hex(&wasm);
        let limits = self.limits.settings();
        let component = ctx
            .runtime()?
            .load(
                &path.display().to_string(),
                &wasm,
                &sha256,
                Some(&limits.limits()),
            )
            .with_context(failed)?;
        let label = path.display().to_string();
        let info = component
            .info(&label, limits.limits())
            .await
            .with_context(failed)?;

        let name = self.name.clone().unwrap_or_else(|| info.name.clone());
        if !is_flavor_name(&name) {
            usage!(
                "`{name}` is not a valid flavor name: use lowercase letters, digits, `_` and `-`"
            );
        }
        if builtin::find(&name).is_some() {
            usage!(
                "`{name}` is the name of a built-in flavor and cannot be replaced: register this \
                 one under another name with --name NAME"
            );
        }
        let grants = self.grants(&name, &info)?;

        let _lock = ctx.home.lock_state()?;
        let mut registry = FlavorRegistry::load(&ctx.home)?;
        if let Some(existing) = registry.registered(&name)
            && existing.path != path
        {
            bail!(
                "a flavor called `{name}` is already registered from {}: delete it first with \
                 `secman flavor delete {name}`, or register this one with --name NAME",
                existing.path.display()
            );
        }
        let again = registry.registered(&name).is_some();
        registry.insert(
            name.clone(),
            RegisteredFlavor {
                path: path.clone(),
                sha256: sha256.clone(),
                info: info.clone(),
                grants: grants.clone(),
                limits,
            },
        );
        registry.save()?;
        print(&format!(
            "{} flavor `{name}` {} from {} (sha256 {}); granted: {}\n",
            if again { "Re-registered" } else { "Registered" },
            info.version,
            path.display(),
            short(&sha256),
            describe_grants(&grants)
        ))
    }

    /// What the user grants: the flags; or, with --yes, everything that
    /// can be granted without naming it; or, at a terminal, what the user
    /// accepts: the hosts, variables and storage as a whole, then each file
    /// by its path. Loopback, private and link-local addresses, and files,
    /// are granted by --yes only by naming them.
    fn grants(&self, name: &str, info: &FlavorInfo) -> Result<Grants> {
        if !self.grants.is_empty() {
            return self.grants.to_grants(name, info);
        }
        let asked = Grants::asked(info);
        let mut granted = Grants::blanket(info);
        // Local addresses are never asked about: only typing them grants.
        let to_ask = !granted.is_empty() || !asked.files.is_empty();
        if !self.yes && to_ask {
            if !std::io::stdin().is_terminal() {
                usage!(
                    "flavor `{name}` asks for {}. Grant it with {}, or with --yes all of it but \
                     local addresses and the files that only their own grant gives",
                    describe_grants(&asked),
                    grant_flags(&asked)
                );
            }
            let others = Grants {
                files: Vec::new(),
                ..granted.clone()
            };
            if !others.is_empty() {
                note(&format!(
                    "Flavor `{name}` asks for:\n{}",
                    grant_lines(&others)
                ));
                input::confirm("grant these", false)?;
            }
            for file in &asked.files {
                let why = caution(file);
                note(&format!(
                    "Flavor `{name}` asks for a read-only copy of file {file}{}{why}.",
                    now_at(file)
                ));
                if input::ask_yes_no("Grant this file?")? {
                    granted.files.push(file.clone());
                }
            }
        }
        let held_back: Vec<&String> = asked
            .hosts
            .iter()
            .filter(|h| !granted.hosts.contains(h))
            .collect();
        if !held_back.is_empty() {
            let flags: Vec<String> = held_back
                .iter()
                .map(|h| format!("--allow-host {h}"))
                .collect();
            note(&format!(
                "Not granted: HTTP to {}, which {} on this machine or its network: only you can \
                 grant that, by naming it: `secman flavor grant {name} {}`",
                list(&held_back.iter().map(|h| h.to_string()).collect::<Vec<_>>()),
                if held_back.len() == 1 { "is" } else { "are" },
                flags.join(" ")
            ));
        }
        if self.yes {
            for file in &asked.files {
                let why = caution(file);
                note(&format!(
                    "Not granted: file {file}{why}. A file is granted only by naming it: \
                     `secman flavor grant {name} --allow-file '{file}'`"
                ));
            }
        }
        Ok(granted)
    }
}

/// What a user should know of the file a grant entry names, as ` (why)`,
/// or nothing.
fn caution(entry: &str) -> String {
    FileAsk::parse(entry)
        .ok()
        .and_then(|ask| ask.caution())
        .map(|why| format!(" ({why})"))
        .unwrap_or_default()
}

/// Where the file a grant entry names is now, for a prompt: a variable's
/// value or the home's path.
fn now_at(entry: &str) -> String {
    let path = match FileAsk::parse(entry) {
        // A variable's value is shown only when it is a file's path: it
        // may hold a token.
        Ok(FileAsk::Variable(var)) => match std::env::var_os(&var).map(PathBuf::from) {
            Some(path) if path.is_absolute() && path.is_file() => path,
            Some(_) => return format!(" (${var} is set, not to a file's full path)"),
            None => return format!(" (${var} is not set now)"),
        },
        Ok(FileAsk::Home(rest)) => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(rest),
            None => return String::new(),
        },
        _ => return String::new(),
    };
    format!(" (now {})", quote(&path.display().to_string(), 200))
}

#[derive(Debug, Args)]
pub struct ListArgs {}

/// A flavor as `list` shows it.
#[derive(Debug, Serialize)]
struct FlavorRow {
    name: String,
    version: String,
    builtin: bool,
    source: String,
    sha256: String,
    description: String,
}

impl ListArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        let registry = FlavorRegistry::load(&ctx.home)?;
        let mut rows = Vec::new();
        for (name, source) in registry.all() {
            let info = match &source {
                // A built-in flavor is asked; a registered one was asked
                // when it was registered.
                FlavorSource::Builtin(_) => registry.load_flavor(ctx.runtime()?, &name).await?.info,
                FlavorSource::File(registered) => registered.info.clone(),
            };
            rows.push(FlavorRow {
                version: info.version,
                builtin: source.is_builtin(),
                source: source.describe(),
                sha256: source.sha256().to_string(),
                description: info.description,
                name,
            });
        }
        print_as(ctx.format()?, &rows, || {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        r.version.clone(),
                        r.source.clone(),
                        short(&r.sha256).to_string(),
                        r.description.clone(),
                    ]
                })
                .collect();
            table(
                &["FLAVOR", "VERSION", "SOURCE", "SHA256", "DESCRIPTION"],
                &cells,
            )
        })
    }
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The flavor's name.
    name: String,
}

/// A flavor as `describe` shows it.
#[derive(Debug, Serialize)]
struct FlavorView {
    name: String,
    builtin: bool,
    source: String,
    sha256: String,
    info: FlavorInfo,
    granted: Grants,
    limits: LimitsView,
}

/// The limits a flavor runs under, in the units of the flags.
#[derive(Debug, Serialize)]
struct LimitsView {
    memory_mib: usize,
    time_secs: f64,
    output_kib: usize,
    result_mib: usize,
    storage_mib: u64,
}

impl From<Limits> for LimitsView {
    fn from(limits: Limits) -> Self {
        LimitsView {
            memory_mib: limits.memory >> 20,
            time_secs: limits.timeout.as_secs_f64(),
            output_kib: limits.output >> 10,
            result_mib: limits.result >> 20,
            storage_mib: limits.storage >> 20,
        }
    }
}

impl DescribeArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        let registry = FlavorRegistry::load(&ctx.home)?;
        let source = registry.source(&self.name)?;
        // A registered flavor is described from its record, so that a
        // changed file can still be inspected.
        let (info, granted, limits) = match &source {
            FlavorSource::Builtin(_) => {
                let flavor = registry.load_flavor(ctx.runtime()?, &self.name).await?;
                (flavor.info, flavor.grants, flavor.limits)
            }
            FlavorSource::File(registered) => (
                registered.info.clone(),
                registered.grants.clone(),
                registered.limits.limits(),
            ),
        };
        let view = FlavorView {
            name: self.name.clone(),
            builtin: source.is_builtin(),
            source: source.describe(),
            sha256: source.sha256().to_string(),
            info,
            granted,
            limits: limits.into(),
        };
        print_as(ctx.format()?, &view, || describe_table(&view))
    }
}

fn describe_table(view: &FlavorView) -> String {
    let info = &view.info;
    let mut text = format!(
        "{} {}: {}\nsource: {}\nsha256: {}\n",
        view.name, info.version, info.description, view.source, view.sha256
    );
    let scopes = if info.scoped {
        "none, global, component (default), namespace"
    } else {
        "none"
    };
    let limits = &view.limits;
    text += &format!(
        "scopes: {scopes}\nlimits: memory {} MiB, {} s per call, output {} KiB, result {} MiB, \
         storage {} MiB\n\nOptions:\n",
        limits.memory_mib,
        limits.time_secs,
        limits.output_kib,
        limits.result_mib,
        limits.storage_mib
    );
    let options: Vec<Vec<String>> = info
        .options
        .iter()
        .map(|o| {
            let mut notes = vec![];
            if o.required {
                notes.push("required".to_string());
            }
            match (&o.default, o.kind) {
                (Some(default), OptionKind::Text) => notes.push(format!("default {default}")),
                (Some(default), _) => {
                    notes.push(format!("suggests {default}, used only if you set it"))
                }
                (None, _) => {}
            }
            if o.sensitive {
                notes.push("sensitive".into());
            }
            vec![o.name.clone(), notes.join(", "), o.description.clone()]
        })
        .collect();
    text += &table(&["  NAME", "NOTES", "DESCRIPTION"], &indent(options));
    let asked = Grants::asked(info);
    let granted = &view.granted;
    let mark = |yes: bool| if yes { "granted" } else { "NOT granted" }.to_string();
    let mut rows = vec![];
    for host in &asked.hosts {
        let status = if granted.hosts.contains(host) {
            mark(true)
        } else if !view.builtin && HostPattern::parse(host).is_ok_and(|p| p.needs_naming()) {
            format!("NOT granted (only by naming it: --allow-host {host})")
        } else {
            mark(false)
        };
        rows.push(vec![format!("host {host}"), status]);
    }
    for var in &asked.env {
        rows.push(vec![format!("env {var}"), mark(granted.env.contains(var))]);
    }
    for file in &asked.files {
        rows.push(vec![
            format!("file {file} (read-only)"),
            mark(granted.files.contains(file)),
        ]);
    }
    if asked.storage {
        rows.push(vec!["storage".into(), mark(granted.storage)]);
    }
    text += "\nAsks for:\n";
    if rows.is_empty() {
        text += "  nothing\n";
    } else {
        text += &table(&["  WHAT", "STATUS"], &indent(rows));
    }
    text
}

fn indent(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|mut row| {
            row[0] = format!("  {}", row[0]);
            row
        })
        .collect()
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The flavor's name.
    name: String,
    /// Delete it even if managers use it (they stop working until it is
    /// registered again).
    #[arg(long)]
    force: bool,
}

impl DeleteArgs {
    fn run(self, ctx: &Context) -> Result<()> {
        let name = &self.name;
        if builtin::find(name).is_some() {
            usage!("`{name}` is a built-in flavor and cannot be deleted");
        }
        let _lock = ctx.home.lock_state()?;
        let mut registry = FlavorRegistry::load(&ctx.home)?;
        if registry.registered(name).is_none() {
            bail!("there is no registered flavor called `{name}`: see `secman flavor list`");
        }
        let managers = Managers::load(&ctx.home)?;
        let users = managers.using_flavor(name);
        if !users.is_empty() && !self.force {
            bail!(
                "flavor `{name}` is used by manager(s) {}: delete them first, or pass --force",
                users.join(", ")
            );
        }
        registry.remove(name);
        registry.save()?;
        // Its file's record goes with it; a missing one costs nothing.
        let _ = std::fs::remove_file(ctx.home.verified_dir().join(name));
        print(&format!("Deleted flavor `{name}`\n"))
    }
}

// `grant`'s options, with help that says what taking each back does. (Not
// a doc comment: it would replace the variant's. And not on the variant:
// there they would run before `grant`'s options exist, as a subcommand's
// arguments are built only when it runs.)
#[derive(Debug, Args)]
#[command(
    mut_arg("hosts", |a| a.help("Stop it sending HTTP requests to HOST (repeatable)")),
    mut_arg("env", |a| a.help("Stop it reading environment variable NAME (repeatable)")),
    mut_arg("files", |a| a.help("Stop it reading FILE (repeatable)")),
    mut_arg("storage", |a| a.help("Take its managers' storage folders away (their files stay)"))
)]
pub struct RevokeArgs {
    #[command(flatten)]
    grant: GrantArgs,
}

#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The registered flavor's name.
    name: String,
    #[command(flatten)]
    grants: GrantFlags,
}

impl GrantArgs {
    fn run(self, ctx: &Context, grant: bool) -> Result<()> {
        let name = &self.name;
        if builtin::find(name).is_some() {
            usage!("`{name}` is a built-in flavor: its grants are fixed");
        }
        if self.grants.is_empty() {
            usage!(
                "name what to change: --allow-host HOST, --allow-env NAME, --allow-file FILE or \
                 --allow-storage"
            );
        }
        let _lock = ctx.home.lock_state()?;
        let mut registry = FlavorRegistry::load(&ctx.home)?;
        let Some(mut flavor) = registry.registered(name).cloned() else {
            bail!("there is no registered flavor called `{name}`: see `secman flavor list`");
        };
        let change = self.grants.to_grants(name, &flavor.info)?;
        let grants = &mut flavor.grants;
        if grant {
            for host in change.hosts {
                if !grants.hosts.contains(&host) {
                    grants.hosts.push(host);
                }
            }
            for var in change.env {
                if !grants.env.contains(&var) {
                    grants.env.push(var);
                }
            }
            for file in change.files {
                if !grants.files.contains(&file) {
                    grants.files.push(file);
                }
            }
            grants.storage |= change.storage;
        } else {
            grants.hosts.retain(|h| !change.hosts.contains(h));
            grants.env.retain(|v| !change.env.contains(v));
            grants.files.retain(|f| !change.files.contains(f));
            grants.storage &= !change.storage;
        }
        let summary = describe_grants(grants);
        registry.insert(name.clone(), flavor);
        registry.save()?;
        print(&format!("Flavor `{name}` is now granted: {summary}\n"))
    }
}

fn describe_grants(grants: &Grants) -> String {
    let mut parts = vec![];
    if grants.storage {
        parts.push("a storage folder".to_string());
    }
    if !grants.env.is_empty() {
        parts.push(format!("environment variables {}", grants.env.join(", ")));
    }
    if !grants.files.is_empty() {
        parts.push(format!("read-only files {}", grants.files.join(", ")));
    }
    if !grants.hosts.is_empty() {
        parts.push(format!("HTTP to {}", grants.hosts.join(", ")));
    }
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join("; ")
    }
}

/// What `grants` holds, one item per line, for a prompt.
fn grant_lines(grants: &Grants) -> String {
    let mut lines = vec![];
    if grants.storage {
        lines.push("  a storage folder for each of its managers".to_string());
    }
    for var in &grants.env {
        lines.push(format!("  environment variable {var}"));
    }
    for file in &grants.files {
        lines.push(format!("  a read-only copy of file {file}"));
    }
    for host in &grants.hosts {
        lines.push(format!("  HTTPS to {host}"));
    }
    lines.join("\n")
}

fn grant_flags(grants: &Grants) -> String {
    let mut flags = vec![];
    flags.extend(grants.hosts.iter().map(|h| format!("--allow-host {h}")));
    flags.extend(grants.env.iter().map(|v| format!("--allow-env {v}")));
    flags.extend(grants.files.iter().map(|f| format!("--allow-file '{f}'")));
    if grants.storage {
        flags.push("--allow-storage".into());
    }
    flags.join(" ")
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The flavor: a name (see `secman flavor list`) or a component file.
    /// Without it, --manager names the manager whose flavor and backend to
    /// test.
    flavor: Option<String>,
    /// An option of the flavor (repeatable), as for `manager register`.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
    #[command(flatten)]
    grants: GrantFlags,
    /// Grant a component file everything it asks for but local addresses.
    #[arg(short, long, conflicts_with_all = ["hosts", "env", "files", "storage"])]
    yes: bool,
}

impl TestArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        let managers = Managers::load(&ctx.home)?;
        let (name, config, flavor, fresh) = match (&self.flavor, &ctx.manager) {
            (Some(_), Some(_)) => {
                usage!("name a flavor or a manager (--manager), not both")
            }
            (None, None) => usage!(
                "name the flavor to test (`secman flavor test ./flavor.wasm`), or a manager \
                 with --manager NAME"
            ),
            (None, Some(manager)) => {
                if !self.options.is_empty() || !self.grants.is_empty() || self.yes {
                    usage!("a manager is tested as configured: drop --option and the grants");
                }
                let (name, config) = managers.resolve(Some(manager))?;
                let flavor =
                    FlavorRegistry::load_named(&ctx.home, ctx.runtime()?, &config.flavor).await?;
                (name.to_string(), config.clone(), flavor, false)
            }
            (Some(flavor), None) => {
                let mut flavor = self.load(ctx, flavor).await?;
                // The suite's own folder, in secman's state: it may have it.
                flavor.grants.storage = flavor.info.capabilities.storage;
                let mut config = ManagerConfig::new(&flavor.name);
                config.options = super::manager::options(&flavor.info, &self.options)?;
                config.scope = if flavor.info.scoped {
                    Scope::Component
                } else {
                    Scope::None
                };
                let others = managers.folders_except("flavor-test");
                super::manager::check_storage_option(ctx, &mut config, &flavor.info, &others)?;
                ("flavor-test".to_string(), config, flavor, true)
            }
        };
        let others = managers.folders_except(&name);
        let own = ctx.home.storage_dir(&config.uuid);
        let format = ctx.format()?;
        let live = format == Format::Table;
        if live {
            note(&format!(
                "Testing flavor `{}` {}{}",
                flavor.info.name,
                flavor.info.version,
                if fresh {
                    " on a fresh store".to_string()
                } else {
                    format!(" through manager `{name}`")
                }
            ));
        }
        // The suite's own store: a fresh folder (unless the user named a
        // file), or a component scope no other manager has.
        let owned = fresh
            && config.storage_option.is_none()
            && (flavor.info.capabilities.storage || flavor.info.scoped);
        let target = conformance::Target {
            name: &name,
            config: &config,
            flavor: &flavor,
            others: &others,
            owned,
        };
        let report = conformance::run(&ctx.opener()?, target, live).await;
        if fresh {
            let _ = std::fs::remove_dir_all(&own);
        }
        print_as(format, &report, || {
            format!(
                "{} passed, {} failed, {} skipped in {:.1} s\n",
                report.passed, report.failed, report.skipped, report.seconds
            )
        })?;
        if report.failed > 0 {
            bail!(
                "flavor `{}` failed {} of {} cases",
                report.flavor,
                report.failed,
                report.cases.len()
            );
        }
        Ok(())
    }

    /// The flavor `what` names: a component file when it looks like a
    /// path, else a built-in or registered flavor.
    async fn load(&self, ctx: &Context, what: &str) -> Result<LoadedFlavor> {
        let is_path = what.contains('/') || what.ends_with(".wasm");
        if !is_path {
            if !self.grants.is_empty() || self.yes {
                usage!(
                    "flavor `{what}` is tested with what it was granted: change that with \
                     `secman flavor grant`"
                );
            }
            return FlavorRegistry::load_named(&ctx.home, ctx.runtime()?, what).await;
        }
        let path = absolute(what.as_ref())?;
        let failed = || format!("cannot test {} as a flavor", path.display());
        let wasm = read_flavor_file(&path)?;
        let sha256 = sha256_hex(&wasm);
        let label = path.display().to_string();
        let limits = LimitSettings::default();
        let component = ctx
            .runtime()?
            .load(&label, &wasm, &sha256, Some(&limits.limits()))
            .with_context(failed)?;
        let info = component
            .info(&label, limits.limits())
            .await
            .with_context(failed)?;
        let grants = if self.yes {
            Grants::blanket(&info)
        } else {
            self.grants.to_grants(&info.name, &info)?
        };
        Ok(LoadedFlavor {
            name: info.name.clone(),
            source: FlavorSource::File(Box::new(RegisteredFlavor {
                path,
                sha256,
                info: info.clone(),
                grants: grants.clone(),
                limits: limits.clone(),
            })),
            info,
            grants,
            limits: limits.limits(),
            component,
        })
    }
}
