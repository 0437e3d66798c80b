//! `secman run --secret NAME[:PREFIX]... -- COMMAND ARGS`: a command with
//! secrets in its environment, as `chamber exec`, `doppler run` and
//! `op run` give them.
//!
//! A flavor chooses the keys, so it must never choose what a variable
//! makes a program do: each variable is the user's prefix and a key, and
//! a name that programs read as configuration (a file, a command, a proxy
//! or a setting: `KUBECONFIG`, `AWS_CONFIG_FILE`, `PYTHONUSERBASE`) is
//! refused whatever the prefix; a value that names a place inside a folder
//! a flavor can write (any storage folder) is refused too, since the
//! flavor could have put code there. The command starts as the user's
//! shell would start it: with the user's umask, not secman's.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Args;

use super::{Context, usage};
use crate::managers::Managers;
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
        // Every folder a flavor can write: storage folders set by option,
        // and secman's own, which holds the rest.
        let writable = writable_folders(ctx)?;
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
                if let Some(folder) = points_into(&value, &writable) {
                    bail!(
                        "the value of key `{key}` of secret `{name}` names a place inside {}, \
                         a storage folder that a flavor can write, so it could lead the \
                         command to files the flavor wrote; the command was not run",
                        folder.display()
                    );
                }
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
        crate::process::restore_for_child();
        let (program, args) = self.command.split_first().expect("clap requires a command");
        let error = std::process::Command::new(program)
            .args(args)
            .envs(variables.iter().map(|(name, (value, _))| (name, value)))
            .exec();
        Err(error).with_context(|| format!("cannot run `{}`", program.to_string_lossy()))
    }
}

/// The folders a flavor can write, as configured and as their links
/// resolve.
pub(super) fn writable_folders(ctx: &Context) -> Result<Vec<PathBuf>> {
    let mut folders = Managers::load(&ctx.home)?.storage_folders();
    folders.extend(ctx.home.own_folders());
    let resolved: Vec<PathBuf> = folders
        .iter()
        .filter_map(|f| std::fs::canonicalize(f).ok())
        .collect();
    folders.extend(resolved);
    Ok(folders)
}

/// The folder of `folders` that `value` names a place inside, if any: as
/// a path, a `file:` URL, an option's argument or an entry of a list.
pub(super) fn points_into<'a>(value: &str, folders: &'a [PathBuf]) -> Option<&'a Path> {
    let home = std::env::var("HOME").ok().filter(|h| h.starts_with('/'));
    let expanded = match (&home, value.contains("~/")) {
        (Some(home), true) => value.replace("~/", &format!("{home}/")),
        _ => value.to_string(),
    };
    folders.iter().map(PathBuf::as_path).find(|folder| {
        let folder = folder.to_string_lossy();
        let folder = folder.trim_end_matches('/');
        !folder.is_empty()
            && expanded.match_indices(folder).any(|(at, _)| {
                // The whole folder, not a longer name that starts the same.
                matches!(
                    expanded[at + folder.len()..].chars().next(),
                    None | Some('/')
                )
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_lead_into_a_storage_folder_are_found() {
        let folders = [PathBuf::from("/home/u/team"), PathBuf::from("/srv/store/")];
        for value in [
            "/home/u/team",
            "/home/u/team/config",
            "file:///home/u/team/x.py",
            "--require=/home/u/team/hook.js",
            "/usr/bin:/home/u/team/bin",
            "/srv/store/a",
        ] {
            assert!(points_into(value, &folders).is_some(), "{value}");
        }
        for value in [
            "/home/u/teams/x",
            "hunter2",
            "/home/u",
            "https://example.com/home/u/teamx",
        ] {
            assert!(points_into(value, &folders).is_none(), "{value}");
        }
    }
}
