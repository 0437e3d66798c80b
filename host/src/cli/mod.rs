//! The `secman` command line: one module per command group.
//!
//! Each command is a clap `Args` struct whose doc comments are its help,
//! with an async `run`. Errors carry context naming the secret, manager or
//! flavor; `main` prints them on one line and picks the exit code.

mod flavor;
mod input;
mod manager;
mod output;
mod secret;

use std::cell::OnceCell;
use std::ffi::OsString;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

use crate::home::Home;
use crate::runtime::{FlavorError, LogLevel, Runtime};
use crate::secret::SecretError;
use crate::session::Opener;

/// A secrets manager whose backends are sandboxed WebAssembly components.
///
/// Secrets live in managers; a manager is a configured flavor (a backend
/// such as a local file or a cloud secrets service). A manager called
/// `default`, on the built-in `local` flavor, exists from the start.
#[derive(Debug, Parser)]
#[command(name = "secman", version, max_term_width = 100)]
pub struct Cli {
    /// Show what flavors log and print (-v), and their debug messages (-vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Register, update, read, list and delete secrets.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Configure managers: named instances of a flavor.
    #[command(subcommand)]
    Manager(manager::ManagerCommand),
    /// Register and inspect flavors: the WebAssembly components behind managers.
    #[command(subcommand)]
    Flavor(flavor::FlavorCommand),
}

impl Cli {
    /// Parses the process's arguments; exits with code 2 on a usage error.
    pub fn parse_args() -> Cli {
        Cli::parse_from(zenml_values_as_positionals(std::env::args_os().collect()))
    }

    /// Runs the command.
    pub async fn run(self) -> Result<()> {
        let log_level = match (self.verbose, std::env::var("SECMAN_LOG").ok().as_deref()) {
            (2.., _) | (_, Some("debug")) => LogLevel::Debug,
            (1, _) | (_, Some("info")) => LogLevel::Info,
            (_, Some("error")) => LogLevel::Error,
            _ => LogLevel::Warn,
        };
        let ctx = Context {
            home: Home::from_env()?,
            log_level,
            runtime: OnceCell::new(),
        };
        match self.command {
            Command::Secret(command) => command.run(&ctx).await,
            Command::Manager(command) => command.run(&ctx).await,
            Command::Flavor(command) => command.run(&ctx).await,
        }
    }
}

/// What every command works with.
pub struct Context {
    home: Home,
    log_level: LogLevel,
    runtime: OnceCell<Runtime>,
}

impl Context {
    /// The runtime, started on first use: commands that never run a flavor
    /// do not pay for it.
    fn runtime(&self) -> Result<&Runtime> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime);
        }
        let runtime = Runtime::new(&self.home)?;
        Ok(self.runtime.get_or_init(|| runtime))
    }

    fn opener(&self) -> Result<Opener<'_>> {
        Ok(Opener {
            home: &self.home,
            runtime: self.runtime()?,
            log_level: self.log_level,
        })
    }
}

/// Rewrites ZenML's `--KEY=VALUE` secret values of `secret register` and
/// `secret update` to `KEY=VALUE`, unless KEY is one of the command's own
/// options, so values mix freely with options such as `--manager`.
fn zenml_values_as_positionals(mut args: Vec<OsString>) -> Vec<OsString> {
    let words: Vec<(usize, &str)> = args
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(i, a)| a.to_str().map(|a| (i, a)))
        .filter(|(_, a)| !a.starts_with('-'))
        .take(2)
        .collect();
    let [(_, "secret"), (at, sub @ ("register" | "update"))] = words[..] else {
        return args;
    };
    let command = Cli::command();
    let options: Vec<String> = command
        .find_subcommand("secret")
        .and_then(|c| c.find_subcommand(sub))
        .map(|c| {
            c.get_arguments()
                .filter_map(|a| a.get_long())
                .chain(["help", "verbose"])
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    for arg in &mut args[at + 1..] {
        let Some(text) = arg.to_str() else { continue };
        if text == "--" {
            break;
        }
        if let Some(pair) = text.strip_prefix("--")
            && let Some((key, _)) = pair.split_once('=')
            && !options.iter().any(|o| o == key)
        {
            *arg = pair.into();
        }
    }
    args
}

/// A command line that cannot be carried out as typed (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Returns a [`UsageError`] from the current function.
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err($crate::cli::UsageError(format!($($arg)*)).into())
    };
}
pub(crate) use usage;

/// The exit code for `error`: 2 when the input was at fault, 1 otherwise.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    let usage = error.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause.is::<SecretError>()
            || cause
                .downcast_ref::<FlavorError>()
                .is_some_and(FlavorError::is_invalid_input)
    });
    if usage { 2 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(args: &[&str]) -> Vec<String> {
        zenml_values_as_positionals(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn zenml_values_become_positionals_but_options_stay() {
        assert_eq!(
            rewrite(&[
                "secman",
                "secret",
                "register",
                "db",
                "--user=a",
                "--schema=aws",
                "--manager=m",
                "--x=y=z"
            ]),
            [
                "secman",
                "secret",
                "register",
                "db",
                "user=a",
                "--schema=aws",
                "--manager=m",
                "x=y=z"
            ]
        );
        assert_eq!(
            rewrite(&[
                "secman", "-v", "secret", "update", "db", "--k=v", "--", "--a=b"
            ]),
            [
                "secman", "-v", "secret", "update", "db", "k=v", "--", "--a=b"
            ]
        );
        let untouched = ["secman", "manager", "register", "x", "--option=a=b"];
        assert_eq!(rewrite(&untouched), untouched);
    }
}
