//! `secman secret ...`: the six operations of the contract.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};

use super::output::{Format, note, print, print_as, table};
use super::{Context, OutputFormat, input, usage};
use crate::runtime::{FlavorError, env_line, env_prefix, escape};
use crate::secret::{DEFAULT_SCHEMA, Schema, Secret, validate_new_name};
use crate::session::Access;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum SecretCommand {
    /// Store a new secret: `secman secret register db user=admin password=@pw.txt`.
    Register(RegisterArgs),
    /// Show a secret's values, or one value with --key.
    Get(GetArgs),
    /// List the names of all secrets, sorted.
    List(ListArgs),
    /// Change some values of a secret, add keys, or remove them.
    Update(UpdateArgs),
    /// Delete a secret.
    Delete(DeleteArgs),
    /// Delete every secret of a manager.
    DeleteAll(DeleteAllArgs),
    /// Copy secrets between managers: `secman secret copy --all --from local --to prod`.
    ///
    /// Each secret is written whole or not at all. A secret the destination
    /// already has with the same values is left as it is, so running the
    /// same command again after a failure copies only what is missing.
    Copy(super::copy::CopyArgs),
}

impl SecretCommand {
    pub async fn run(self, ctx: &Context) -> Result<()> {
        match self {
            SecretCommand::Register(args) => args.run(ctx).await,
            SecretCommand::Get(args) => args.run(ctx).await,
            SecretCommand::List(args) => args.run(ctx).await,
            SecretCommand::Update(args) => args.run(ctx).await,
            SecretCommand::Delete(args) => args.run(ctx).await,
            SecretCommand::DeleteAll(args) => args.run(ctx).await,
            SecretCommand::Copy(args) => args.run(ctx).await,
        }
    }
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The secret's name.
    name: String,
    /// The values: KEY=VALUE (or --KEY=VALUE). KEY=@path reads the value from
    /// a file; KEY=@@x stores the literal @x. With -i, a bare KEY is asked for.
    #[arg(value_name = "KEY=VALUE")]
    values: Vec<String>,
    /// The schema the keys follow: arbitrary, aws, gcp, azure, basic_auth, mysql.
    #[arg(long, default_value = DEFAULT_SCHEMA)]
    schema: String,
    /// Ask for values with hidden input instead of taking them as arguments.
    #[arg(short, long)]
    interactive: bool,
}

impl RegisterArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        validate_new_name(&self.name)?;
        let schema = Schema::find(&self.schema)?;
        let values = input::values_for_register(&self.values, self.interactive, schema)?;
        let secret = Secret {
            name: self.name,
            schema: schema.name.to_string(),
            values,
        };
        secret
            .validate()
            .with_context(|| format!("cannot register secret `{}`", secret.name))?;
        let mut session = ctx.open(Access::Write).await?;
        session
            .instance
            .register_secret(&secret)
            .await
            .with_context(|| {
                format!(
                    "cannot register secret `{}` in manager `{}`",
                    secret.name, session.manager
                )
            })?;
        print(&format!(
            "Registered secret `{}` ({}) in manager `{}` with keys: {}\n",
            escape(&secret.name),
            secret.schema,
            session.manager,
            keys(&secret.values)
        ))
    }
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The secret's name.
    name: String,
    /// Print only the value of this key, with nothing around it.
    #[arg(short, long)]
    key: Option<String>,
    /// With --output env, what starts each variable's name, before the key
    /// in capitals [default: the secret's name in capitals, then `_`: `db`
    /// gives DB_PASSWORD]. Keys come from the flavor, so they never name a
    /// variable alone.
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,
}

impl GetArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        let output = ctx.output.unwrap_or(OutputFormat::Table);
        if self.prefix.is_some() && output != OutputFormat::Env {
            usage!("--prefix only applies with --output env");
        }
        let mut session = ctx.open(Access::Read).await?;
        let secret = session
            .instance
            .get_secret(&self.name)
            .await
            .with_context(|| {
                format!(
                    "cannot get secret `{}` from manager `{}`",
                    self.name, session.manager
                )
            })?;
        crate::profile::stage("call");
        if let Some(key) = &self.key {
            let Some(value) = secret.values.get(key) else {
                return Err(FlavorError::NotFound(format!(
                    "secret `{}` has no key `{key}`: its keys are {}",
                    secret.name,
                    keys(&secret.values)
                ))
                .into());
            };
            return print(&format!("{value}\n"));
        }
        match output {
            OutputFormat::Table => {
                let rows: Vec<Vec<String>> = secret
                    .values
                    .iter()
                    .map(|(k, v)| vec![k.clone(), v.clone()])
                    .collect();
                print(&table(&["KEY", "VALUE"], &rows))
            }
            OutputFormat::Json => print_as(Format::Json, &secret, String::new),
            OutputFormat::Yaml => print_as(Format::Yaml, &secret, String::new),
            OutputFormat::Env => {
                // Keys and values come from the flavor: what is printed
                // must only ever assign plain variables of the user's.
                let prefix = match &self.prefix {
                    Some(prefix) => prefix.clone(),
                    None => env_prefix(&secret.name),
                };
                // As for `secman run`: no value that leads where a flavor
                // can write.
                let writable = super::run::writable_folders(ctx)?;
                for (key, value) in &secret.values {
                    if let Some(folder) = super::run::points_into(value, &writable) {
                        bail!(
                            "secret `{}` cannot be printed with --output env: the value of key \
                             `{key}` names a place inside {}, a storage folder that a flavor \
                             can write. Use --output json",
                            secret.name,
                            folder.display()
                        );
                    }
                }
                let lines = secret
                    .values
                    .iter()
                    .map(|(k, v)| env_line(&prefix, k, v))
                    .collect::<Result<Vec<String>, String>>();
                match lines {
                    Ok(lines) => print(&lines.concat()),
                    Err(why) => bail!(
                        "secret `{}` cannot be printed with --output env: {why}. Use --output \
                         json",
                        secret.name
                    ),
                }
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct ListArgs {}

impl ListArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        let mut session = ctx.open(Access::Read).await?;
        let (names, skipped) =
            session.instance.list_secrets().await.with_context(|| {
                format!("cannot list the secrets of manager `{}`", session.manager)
            })?;
        if let Some(skipped) = skipped {
            note(&format!(
                "secman: warning: flavor `{}` listed {skipped}",
                session.flavor
            ));
        }
        let format = ctx.format()?;
        if names.is_empty() && format == Format::Table && std::io::stdout().is_terminal() {
            note(&format!("No secrets in manager `{}`.", session.manager));
        }
        print_as(format, &names, || {
            // One name a line, even for a name that holds a line break:
            // escaped as a table cell is (`-o json` is exact).
            names.iter().map(|n| format!("{}\n", escape(n))).collect()
        })
    }
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The secret's name.
    name: String,
    /// Values to set: KEY=VALUE (or --KEY=VALUE), as for `register`. Keys not
    /// named keep their value.
    #[arg(value_name = "KEY=VALUE")]
    values: Vec<String>,
    /// Remove this key from the secret (repeatable).
    #[arg(long, value_name = "KEY")]
    remove: Vec<String>,
    /// Ask for the values of keys given without one, with hidden input.
    #[arg(short, long)]
    interactive: bool,
}

impl UpdateArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        if self.values.is_empty() && self.remove.is_empty() {
            usage!("nothing to update: give KEY=VALUE pairs to set, or --remove KEY");
        }
        let changes = input::values_for_update(&self.values, self.interactive)?;
        let mut session = ctx.open(Access::Write).await?;
        let context = || {
            format!(
                "cannot update secret `{}` in manager `{}`",
                self.name, session.manager
            )
        };
        let mut secret = session
            .instance
            .get_secret(&self.name)
            .await
            .with_context(context)?;
        for key in &self.remove {
            if secret.values.remove(key).is_none() {
                return Err(FlavorError::NotFound(format!(
                    "cannot update secret `{}`: it has no key `{key}` to remove (its keys are {})",
                    self.name,
                    keys(&secret.values)
                ))
                .into());
            }
        }
        secret.values.extend(changes);
        if secret.values.is_empty() {
            usage!(
                "cannot remove every key of secret `{}`: to delete it, run `secman secret delete {}`",
                self.name,
                self.name
            );
        }
        secret.validate().with_context(context)?;
        session
            .instance
            .update_secret(&secret)
            .await
            .with_context(context)?;
        print(&format!(
            "Updated secret `{}` in manager `{}`; its keys are now: {}\n",
            escape(&secret.name),
            session.manager,
            keys(&secret.values)
        ))
    }
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The secret's name.
    name: String,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    yes: bool,
}

impl DeleteArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        let mut session = ctx.open(Access::Write).await?;
        input::confirm(
            &format!(
                "delete secret `{}` from manager `{}`",
                self.name, session.manager
            ),
            self.yes,
        )?;
        session
            .instance
            .delete_secret(&self.name)
            .await
            .with_context(|| {
                format!(
                    "cannot delete secret `{}` from manager `{}`",
                    self.name, session.manager
                )
            })?;
        print(&format!(
            "Deleted secret `{}` from manager `{}`\n",
            escape(&self.name),
            session.manager
        ))
    }
}

#[derive(Debug, Args)]
pub struct DeleteAllArgs {
    /// Required: this deletes every secret the manager can see.
    #[arg(short, long)]
    force: bool,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    yes: bool,
}

impl DeleteAllArgs {
    async fn run(self, ctx: &Context) -> Result<()> {
        if !self.force {
            usage!(
                "delete-all deletes every secret of the manager: pass --force (-f) to mean it, \
                 and --yes (-y) to skip the question"
            );
        }
        let mut session = ctx.open(Access::Write).await?;
        input::confirm(
            &format!("delete every secret of manager `{}`", session.manager),
            self.yes,
        )?;
        session
            .instance
            .delete_all_secrets(true)
            .await
            .with_context(|| {
                format!("cannot delete the secrets of manager `{}`", session.manager)
            })?;
        print(&format!(
            "Deleted every secret of manager `{}`\n",
            session.manager
        ))
    }
}

fn keys(values: &BTreeMap<String, String>) -> String {
    if values.is_empty() {
        return "(none)".into();
    }
    values.keys().cloned().collect::<Vec<_>>().join(", ")
}
