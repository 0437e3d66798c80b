//! `secman run --secret NAME[:PREFIX]... -- COMMAND ARGS`: a command with
//! secrets in its environment, as `chamber exec`, `doppler run` and
//! `op run` give them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use anyhow::{Context as _, Result, bail};
use clap::Args;

use super::{Context, usage};
use crate::runtime::{env_name, env_prefix};
use crate::session::Access;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A secret whose keys become variables (repeatable): `db` gives
    /// DB_PASSWORD, ...; `db:PG_` gives PG_PASSWORD; `db:` the keys alone.
    #[arg(short, long = "secret", value_name = "NAME[:PREFIX]", required = true)]
    secrets: Vec<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

impl RunArgs {
    pub async fn run(self, ctx: &Context) -> Result<()> {
        let wanted: Vec<(&str, String)> = self
            .secrets
            .iter()
            .map(|spec| match spec.split_once(':') {
                Some((name, prefix)) => (name, prefix.to_string()),
                None => (spec.as_str(), env_prefix(spec)),
            })
            .collect();
        let mut session = ctx.open(Access::Read).await?;
        // Every variable, and the secret it comes from.
        let mut variables: BTreeMap<String, (String, &str)> = BTreeMap::new();
        for (name, prefix) in &wanted {
            let secret = session.instance.get_secret(name).await.with_context(|| {
                format!(
                    "cannot get secret `{name}` from manager `{}`; the command was not run",
                    session.manager
                )
            })?;
            for (key, value) in secret.values {
                let variable = match env_name(prefix, &key) {
                    Ok(variable) => variable,
                    Err(why) => usage!(
                        "secret `{name}` cannot be given as variables: {why}; the command was \
                         not run"
                    ),
                };
                if value.contains('\0') {
                    bail!(
                        "the value of key `{key}` of secret `{name}` holds a NUL byte, which no \
                         variable can; the command was not run"
                    );
                }
                if let Some((_, other)) = variables.get(&variable) {
                    usage!(
                        "secrets `{other}` and `{name}` both give variable {variable}: give one \
                         a prefix of its own (`--secret {name}:PREFIX_`); the command was not run"
                    );
                }
                variables.insert(variable, (value, name));
            }
        }
        // The manager's lock is let go before the command starts: it may
        // run for hours, and may run secman itself.
        drop(session);
        // A tick of the clock still pending at `exec` would end the command.
        ctx.stop_clock();
        let (program, args) = self.command.split_first().expect("clap requires a command");
        let error = std::process::Command::new(program)
            .args(args)
            .envs(variables.iter().map(|(name, (value, _))| (name, value)))
            .exec();
        Err(error).with_context(|| format!("cannot run `{}`", program.to_string_lossy()))
    }
}
