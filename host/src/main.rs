//! The `secman` binary: parse the arguments, run, map errors to exit codes.

use std::io::Write;
use std::process::ExitCode;

use secman::cli::{Cli, Failure, json_error};
use secman::profile;
use secman::runtime::escape;

fn main() -> ExitCode {
    profile::start();
    // Everything secman and its flavors create is the user's alone.
    secman::process::keep_private();
    // What a killed secman left of the files granted to a flavor.
    secman::runtime::sweep_left_copies();
    // Usage errors exit with 2 from here, with clap's message.
    let cli = Cli::parse_args();
    profile::stage("arguments");
    let json_errors = cli.json_errors();
    // Timers for deadlines, I/O for the HTTP that flavors send.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot start the async runtime");
    profile::stage("tokio");
    let code = match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, whatever a flavor put in its part of the message.
            let message = escape(&format!("{error:#}")).into_owned();
            let failure = Failure::of(&error);
            let line = if json_errors {
                json_error(failure, &message)
            } else {
                format!("secman: error: {message}")
            };
            let _ = writeln!(std::io::stderr(), "{line}");
            ExitCode::from(failure.exit_code())
        }
    };
    // A name lookup for a flavor's request may still block a thread of
    // tokio's pool after its call ended: do not wait for it.
    profile::stage("close");
    runtime.shutdown_background();
    profile::finish();
    code
}

/// `secman secret list | head -1` closing the pipe early is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
