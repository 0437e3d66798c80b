//! The `secman` command line: one module per command group.
//!
//! Each command is a clap `Args` struct whose doc comments are its help,
//! with an async `run`. Errors carry context naming the secret, manager or
//! flavor; `main` prints them on one line and picks the exit code.

mod conformance;
mod copy;
mod flavor;
mod input;
mod manager;
mod new;
mod output;
mod run;
mod secret;

use std::cell::OnceCell;
use std::ffi::OsString;

use anyhow::{Context as _, Result};
use clap::{CommandFactory, Parser, Subcommand};

use crate::home::Home;
use crate::runtime::{FlavorError, LogLevel, Runtime};
use crate::secret::SecretError;
use crate::session::{Access, Opener, Session};
use output::Format;

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

    /// The manager secret commands (and `flavor test`) work on [default:
    /// $SECMAN_MANAGER, else the active one].
    #[arg(short, long, global = true, value_name = "NAME")]
    manager: Option<String>,

    /// How to print: table, json or yaml; `secret get` also takes env. With
    /// json, an error is printed on stderr as one JSON object.
    #[arg(short, long, global = true, value_enum, value_name = "FORMAT")]
    output: Option<OutputFormat>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
// Each subcommand's arguments are built only when it is the one run:
// a command then builds a few dozen arguments, not every one secman has.
#[command(defer = true)]
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
    /// Run a command with secrets as environment variables:
    /// `secman run --secret db -- psql` (DB_USER, DB_PASSWORD, ...).
    ///
    /// The values reach the command through its environment only, never
    /// its command line or a file; its exit status is secman's.
    Run(run::RunArgs),
    /// Print the completion script for a shell, e.g.
    /// `secman completions bash > ~/.local/share/bash-completion/completions/secman`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print secman's man page, or write one page per command into DIR
    /// (`secman man ~/.local/share/man/man1`).
    Man {
        /// Where to write every command's page (secman.1, secman-secret.1, ...).
        dir: Option<std::path::PathBuf>,
    },
}

impl Cli {
    /// Parses the process's arguments; exits with code 2 on a usage error,
    /// printed as a JSON error when the command line asks for JSON.
    pub fn parse_args() -> Cli {
        let args = zenml_values_as_positionals(std::env::args_os().collect());
        let wants_json = asks_for_json(&args);
        match Cli::try_parse_from(args) {
            Ok(cli) => cli,
            Err(error) if wants_json && error.use_stderr() => {
                // clap's message, up to its usage lines, on one line.
                let text = error.to_string();
                let message = text
                    .lines()
                    .take_while(|line| !line.starts_with("Usage:"))
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let message = message.strip_prefix("error: ").unwrap_or(&message);
                eprintln!("{}", json_error(Failure::Usage, message));
                std::process::exit(Failure::Usage.exit_code().into());
            }
            Err(error) => error.exit(),
        }
    }

    /// Runs the command.
    pub async fn run(self) -> Result<()> {
        let log_level = match (self.verbose, std::env::var("SECMAN_LOG").ok().as_deref()) {
            (2.., _) | (_, Some("debug")) => LogLevel::Debug,
            (1, _) | (_, Some("info")) => LogLevel::Info,
            (_, Some("error")) => LogLevel::Error,
            _ => LogLevel::Warn,
        };
        let takes_manager = matches!(
            self.command,
            Command::Secret(_) | Command::Run(_) | Command::Flavor(flavor::FlavorCommand::Test(_))
        );
        if self.manager.is_some() && !takes_manager {
            usage!("--manager applies to `secret` commands, `run` and `flavor test` only");
        }
        // As `--manager`, for the commands that take one.
        let manager = self.manager.or_else(|| {
            let from_env = std::env::var("SECMAN_MANAGER").ok();
            from_env.filter(|name| takes_manager && !name.is_empty())
        });
        let ctx = Context {
            home: Home::from_env()?,
            log_level,
            manager,
            output: self.output,
            runtime: OnceCell::new(),
        };
        match self.command {
            Command::Secret(command) => command.run(&ctx).await,
            Command::Manager(command) => command.run(&ctx).await,
            Command::Flavor(command) => command.run(&ctx).await,
            Command::Run(args) => args.run(&ctx).await,
            Command::Completions { shell } => {
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut Cli::command(), "secman", &mut script);
                output::print(&String::from_utf8_lossy(&script))
            }
            Command::Man { dir: None } => {
                let mut page = Vec::new();
                clap_mangen::Man::new(Cli::command()).render(&mut page)?;
                output::print(&String::from_utf8_lossy(&page))
            }
            Command::Man { dir: Some(dir) } => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                clap_mangen::generate_to(Cli::command(), &dir).with_context(|| {
                    format!("cannot write the man pages into {}", dir.display())
                })?;
                output::print(&format!(
                    "Wrote secman's man pages into {}\n",
                    dir.display()
                ))
            }
        }
    }
}

/// What every command works with.
pub struct Context {
    home: Home,
    log_level: LogLevel,
    manager: Option<String>,
    output: Option<OutputFormat>,
    runtime: OnceCell<Runtime>,
}

impl Context {
    /// The output format of a command that prints a listing or a
    /// description: `env` is only for `secret get`.
    fn format(&self) -> Result<Format> {
        Ok(match self.output {
            None | Some(OutputFormat::Table) => Format::Table,
            Some(OutputFormat::Json) => Format::Json,
            Some(OutputFormat::Yaml) => Format::Yaml,
            Some(OutputFormat::Env) => {
                usage!("--output env applies to `secret get` only: use table, json or yaml")
            }
        })
    }

    /// The runtime, started on first use: commands that never run a flavor
    /// do not pay for it.
    fn runtime(&self) -> Result<&Runtime> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime);
        }
        let mut runtime = Runtime::new(&self.home)?;
        crate::profile::stage("cache");
        runtime.on_compile(Box::new(|label, size| {
            Box::new(output::Progress::start(
                format!(
                    "compiling {label} ({:.1} MB) for this machine; later runs use the result",
                    size as f64 / 1e6
                ),
                format!("compiled {label}"),
            ))
        }));
        Ok(self.runtime.get_or_init(|| runtime))
    }

    /// Stops the runtime's clock, if it started: before secman `exec`s
    /// another program.
    fn stop_clock(&self) {
        if let Some(runtime) = self.runtime.get() {
            runtime.stop_clock();
        }
    }

    /// Opens the manager named by `--manager`, or the active one.
    async fn open(&self, access: Access) -> Result<Session> {
        self.opener()?.open(self.manager.as_deref(), access).await
    }

    fn opener(&self) -> Result<Opener<'_>> {
        Ok(Opener {
            home: &self.home,
            runtime: self.runtime()?,
            log_level: self.log_level,
        })
    }
}

/// Whether the command line asks for `--output json`, in any of the
/// spellings clap accepts (`-o json`, `-ojson`, `-o=json`, `-vo json`,
/// `--output json`, `--output=json`), before a `--`.
fn asks_for_json(args: &[OsString]) -> bool {
    let mut args = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(arg) = args.next() {
        let value = if arg == "--" {
            return false;
        } else if arg == "--output" {
            args.next()
        } else if let Some(value) = arg.strip_prefix("--output=") {
            Some(value)
        } else if let Some(flags) = arg.strip_prefix('-').filter(|f| !f.starts_with('-')) {
            // A cluster of short flags: `-o` takes the rest of it, or the
            // next word; a flag that takes a value ends the cluster.
            match flags.char_indices().find(|(_, c)| "omkf".contains(*c)) {
                Some((at, 'o')) => match &flags[at + 1..] {
                    "" => args.next(),
                    rest => Some(rest.strip_prefix('=').unwrap_or(rest)),
                },
                _ => None,
            }
        } else {
            None
        };
        if value == Some("json") {
            return true;
        }
    }
    false
}

/// Rewrites ZenML's forms to secman's: the `--KEY=VALUE` secret values of
/// `secret register` and `secret update` to `KEY=VALUE` (and any other
/// `--WORD` that is not one of the command's own options to `WORD`), so
/// values mix freely with options such as `--manager`; and the
/// `--KEY=VALUE` options of `manager register` (`--region_name=eu-west-1`)
/// to `--option KEY=VALUE`.
fn zenml_values_as_positionals(args: Vec<OsString>) -> Vec<OsString> {
    // The first two words, past options and the values of the global
    // options that take one (`-m NAME`, `-o FORMAT`).
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut value_next = false;
    for (i, arg) in args.iter().enumerate().skip(1) {
        let Some(arg) = arg.to_str() else { continue };
        if std::mem::take(&mut value_next) {
            continue;
        }
        if matches!(arg, "-m" | "--manager" | "-o" | "--output") {
            value_next = true;
        } else if !arg.starts_with('-') {
            words.push((i, arg));
            if words.len() == 2 {
                break;
            }
        }
    }
    let (at, group, sub, as_option) = match words[..] {
        [(_, "secret"), (at, sub @ ("register" | "update"))] => (at, "secret", sub, false),
        [(_, "manager"), (at, "register")] => (at, "manager", "register", true),
        _ => return args,
    };
    let mut command = Cli::command();
    command.build();
    let options: Vec<String> = command
        .find_subcommand(group)
        .and_then(|c| c.find_subcommand(sub))
        .map(|c| {
            // The command's own options, and the global ones.
            c.get_arguments()
                .chain(command.get_arguments())
                .filter_map(|a| a.get_long())
                .chain(["help"])
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let mut rewritten = Vec::with_capacity(args.len() + 4);
    let mut rest = args.into_iter().enumerate();
    for (i, arg) in rest.by_ref() {
        let text = arg.to_str().map(str::to_string);
        match text.as_deref() {
            Some("--") => {
                rewritten.push(arg);
                break;
            }
            Some(text) if i > at => match text.strip_prefix("--") {
                // Not one of the command's options: for `secret`, a value,
                // perhaps mistyped (`--password:x`), which the value parser
                // reports without showing it, where clap would print it
                // whole; for `manager register`, ZenML's form of an option.
                Some(pair)
                    if !options
                        .iter()
                        .any(|o| o == pair.split('=').next().unwrap_or(pair)) =>
                {
                    if !as_option {
                        rewritten.push(pair.into());
                    } else if pair.contains('=') {
                        rewritten.extend(["--option".into(), pair.into()]);
                    } else {
                        rewritten.push(arg);
                    }
                }
                _ => rewritten.push(arg),
            },
            _ => rewritten.push(arg),
        }
    }
    rewritten.extend(rest.map(|(_, arg)| arg));
    rewritten
}

/// How a command prints what it found (`--output`, before or after the
/// command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// JSON; errors too, on stderr.
    Json,
    /// YAML.
    Yaml,
    /// `PREFIX_KEY='VALUE'` lines (`secret get` only).
    Env,
}

impl Cli {
    /// Whether errors are to be printed as JSON.
    pub fn json_errors(&self) -> bool {
        self.output == Some(OutputFormat::Json)
    }
}

/// `{"error": {"kind", "exit_code", "message"}}` on one line.
pub fn json_error(failure: Failure, message: &str) -> String {
    serde_json::json!({"error": {
        "kind": failure.kind(),
        "exit_code": failure.exit_code(),
        "message": message,
    }})
    .to_string()
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

/// What kind of failure an error is, for scripts: its exit code and the
/// `kind` of a JSON error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Anything else: the backend failed, the sandbox stopped the flavor,
    /// a file could not be read (exit code 1).
    Failed,
    /// The command line or the input was at fault (exit code 2).
    Usage,
    /// The secret does not exist (exit code 3).
    NotFound,
    /// A secret by that name exists already (exit code 4).
    AlreadyExists,
    /// The backend or the sandbox refused: credentials, permissions, a
    /// resource not granted (exit code 5).
    Denied,
}

impl Failure {
    /// Classifies `error` by the first cause that says what it is.
    pub fn of(error: &anyhow::Error) -> Failure {
        for cause in error.chain() {
            if cause.is::<UsageError>() || cause.is::<SecretError>() {
                return Failure::Usage;
            }
            if let Some(error) = cause.downcast_ref::<FlavorError>() {
                return match error {
                    FlavorError::NotFound(_) => Failure::NotFound,
                    FlavorError::AlreadyExists(_) => Failure::AlreadyExists,
                    FlavorError::Invalid(_) => Failure::Usage,
                    FlavorError::Denied(_) => Failure::Denied,
                    _ => Failure::Failed,
                };
            }
        }
        Failure::Failed
    }

    /// The process's exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Failure::Failed => 1,
            Failure::Usage => 2,
            Failure::NotFound => 3,
            Failure::AlreadyExists => 4,
            Failure::Denied => 5,
        }
    }

    /// The `kind` of a JSON error.
    pub fn kind(self) -> &'static str {
        match self {
            Failure::Failed => "failed",
            Failure::Usage => "usage",
            Failure::NotFound => "not-found",
            Failure::AlreadyExists => "already-exists",
            Failure::Denied => "denied",
        }
    }
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

    /// Subcommands are built only when run, so clap's checks of their
    /// definitions would otherwise see only the ones a test happens to run.
    #[test]
    fn every_command_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// A subcommand's arguments are added when it is built, and the doc
    /// comment of an `Args` struct it flattens would then replace its own
    /// help text: building must not change what any command says it does.
    #[test]
    fn building_a_command_keeps_its_help_text() {
        type About = (String, Option<String>, Option<String>);
        fn abouts(command: &clap::Command, path: &str, into: &mut Vec<About>) {
            for sub in command.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                let text = |s: Option<&clap::builder::StyledStr>| s.map(ToString::to_string);
                into.push((
                    path.clone(),
                    text(sub.get_about()),
                    text(sub.get_long_about()),
                ));
                abouts(sub, &path, into);
            }
        }
        let (mut eager, mut built) = (Vec::new(), Vec::new());
        abouts(&Cli::command(), "secman", &mut eager);
        let mut command = Cli::command();
        command.build();
        abouts(&command, "secman", &mut built);
        assert!(eager.len() > 20, "{eager:?}");
        // Building may add subcommands (each group's `help`); every one
        // there was before keeps its texts.
        for entry in &eager {
            assert_eq!(built.iter().find(|b| b.0 == entry.0), Some(entry));
        }
    }

    #[test]
    fn json_output_is_seen_in_every_spelling() {
        let asks =
            |args: &[&str]| asks_for_json(&args.iter().map(OsString::from).collect::<Vec<_>>());
        for yes in [
            &["secman", "-o", "json", "x"][..],
            &["secman", "x", "-ojson"],
            &["secman", "x", "-o=json"],
            &["secman", "-vo", "json"],
            &["secman", "-vojson"],
            &["secman", "--output", "json"],
            &["secman", "--output=json"],
        ] {
            assert!(asks(yes), "{yes:?}");
        }
        for no in [
            &["secman", "-o", "yaml"][..],
            &["secman", "-m", "json"],
            &["secman", "-mo", "json"],
            &["secman", "--", "-o", "json"],
            &["secman", "secret", "json"],
        ] {
            assert!(!asks(no), "{no:?}");
        }
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
        assert_eq!(
            rewrite(&[
                "secman", "-m", "prod", "secret", "register", "db", "--user=a"
            ]),
            ["secman", "-m", "prod", "secret", "register", "db", "user=a"]
        );
        assert_eq!(
            rewrite(&[
                "secman", "-o", "json", "secret", "-m", "p", "update", "db", "--k=v"
            ]),
            [
                "secman", "-o", "json", "secret", "-m", "p", "update", "db", "k=v"
            ]
        );
        let untouched = ["secman", "manager", "register", "x", "--option=a=b"];
        assert_eq!(rewrite(&untouched), untouched);
    }
}
