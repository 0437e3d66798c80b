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
    let mut folders: Vec<PathBuf> = folders.iter().map(|f| normalise(f)).collect();
    folders.extend(resolved);
    Ok(folders)
}

/// The folder of `folders` that `value` names a place inside, if any.
///
/// A value is read as a program might read it: every word of it (split at
/// blanks, quotes, `=`, `:`, `;`, `,` and shell operators) that names a
/// path, after `%XX` escapes are decoded (`file:` URLs), `$NAME`,
/// `${NAME}` and `~` are expanded, a relative path is taken from the
/// current folder (the command's), `.`, `..` and `//` are resolved, and
/// links are followed as far as the path exists.
pub(super) fn points_into<'a>(value: &str, folders: &'a [PathBuf]) -> Option<&'a Path> {
    let cwd = std::env::current_dir().ok();
    let expanded = expand_variables(&percent_decode(value));
    let words = expanded
        .split(|c: char| c.is_whitespace() || "'\"`=:;,|&<>()".contains(c))
        .filter(|w| !w.is_empty());
    for word in words {
        let path = match word.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                match std::env::var_os("HOME") {
                    Some(home) => PathBuf::from(home).join(rest.trim_start_matches('/')),
                    None => continue,
                }
            }
            // `file://host/path`: the path after the host.
            _ if word.starts_with("//") => {
                PathBuf::from(word[2..].find('/').map_or("/", |at| &word[2 + at..]))
            }
            _ if word.starts_with('/') => PathBuf::from(word),
            // A bare word is a path only where it names something there.
            _ => match &cwd {
                Some(cwd) if word.contains('/') || cwd.join(word).symlink_metadata().is_ok() => {
                    cwd.join(word)
                }
                _ => continue,
            },
        };
        let lexical = normalise(&path);
        let real = resolve_existing(&lexical);
        if let Some(folder) = folders
            .iter()
            .find(|folder| lexical.starts_with(folder) || real.starts_with(folder))
        {
            return Some(folder);
        }
    }
    None
}

/// `text` with each `%XX` escape decoded (as a `file:` URL is read).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with `$NAME` and `${NAME}` replaced by the variable's value, as
/// a shell or a program expanding them would.
fn expand_variables(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = match after.strip_prefix('{') {
            // `${NAME}`, and `${NAME:-default}` and its kin as `${NAME}`.
            Some(inner) => match inner.find('}') {
                Some(end) => {
                    let name = &inner[..end];
                    let name = name
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .map_or(name, |at| &name[..at]);
                    (name, end + 2)
                }
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match std::env::var(name).ok().filter(|_| !name.is_empty()) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// `path` without `.`, `..` or empty parts, as the kernel would read it if
/// no part were a link.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(part) => out.push(part),
            _ => {}
        }
    }
    out
}

/// `path` with its links resolved as far as it exists.
fn resolve_existing(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    while let Some(parent) = existing.parent() {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest
                .iter()
                .rev()
                .fold(real, |p: PathBuf, part| p.join(part));
        }
        rest.push(existing.file_name().unwrap_or_default());
        existing = parent;
    }
    path.to_path_buf()
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
            "sh /home/u//team/./evil.sh",
            "/home/u/x/../team/evil.sh",
            "file:///home/u/%74eam/x.py",
            "-e 'ssh -F /home/u/team/cfg'",
            "file://localhost/home/u/team/x",
        ] {
            assert!(points_into(value, &folders).is_some(), "{value}");
        }
        // SAFETY (test): the variable is this test's alone.
        unsafe { std::env::set_var("SECMAN_TEST_TEAM", "/home/u/team") };
        for value in [
            "$SECMAN_TEST_TEAM/evil.sh",
            "sh ${SECMAN_TEST_TEAM}/x",
            "${SECMAN_TEST_TEAM:-/}/x",
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
