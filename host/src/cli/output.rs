//! How commands print: aligned tables for people, JSON and YAML for scripts.
//!
//! Much of what is printed came from a flavor, so every way out escapes
//! what could disguise itself on a terminal (see [`escape`]): table cells
//! always, messages on stderr always, and anything else when stdout is a
//! terminal. What goes to a pipe in a machine format is exact.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::runtime::{escape, escape_lines};

/// Output formats for listings and descriptions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Prints `value` as JSON or YAML, or calls `table` for the table format.
pub fn print_as<T: Serialize>(
    format: Format,
    value: &T,
    table: impl FnOnce() -> String,
) -> Result<()> {
    match format {
        Format::Table => print(&table()),
        Format::Json => print(&(serde_json::to_string_pretty(value)? + "\n")),
        Format::Yaml => print(&serde_norway::to_string(value)?),
    }
}

/// Writes `text` to stdout, escaped if stdout is a terminal. A closed pipe
/// (`secman ... | head`) surfaces as an `io::Error` that `main` treats as
/// success.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let written = if out.is_terminal() {
        out.write_all(escape_lines(text).as_bytes())
    } else {
        out.write_all(text.as_bytes())
    };
    written
        .and_then(|()| out.flush())
        .context("cannot write the output to stdout (a full disk, or a file it cannot grow?)")?;
    crate::profile::stage("output");
    Ok(())
}

/// A message for people, on stderr so that stdout stays parseable.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{}", escape_lines(text));
}

/// Renders rows under headers in aligned columns, each cell on one line
/// with hidden characters escaped.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| escape(cell).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&headers).chain(&rows) {
        let last = row.len().saturating_sub(1);
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i == last {
                text += cell;
            } else {
                text += &format!("{cell:<width$}  ");
            }
        }
        text += "\n";
    }
    text
}

/// Progress of a long step, when stderr is a terminal: the seconds
/// counting while it runs, then a line saying how long it took. Scripts
/// reading stderr see nothing.
pub struct Progress {
    done: String,
    started: Instant,
    ticker: Option<(mpsc::Sender<()>, thread::JoinHandle<()>)>,
}

impl Progress {
    /// Starts showing `what` is being done (e.g. "compiling x.wasm"); at
    /// the end, says `done` and how long it took.
    pub fn start(what: String, done: String) -> Progress {
        let started = Instant::now();
        let terminal = std::io::stderr().is_terminal();
        let ticker = terminal.then(|| {
            let (stop, stopped) = mpsc::channel::<()>();
            let line = escape(&what).into_owned();
            let thread = thread::spawn(move || {
                let mut err = std::io::stderr();
                loop {
                    let secs = started.elapsed().as_secs();
                    let _ = write!(err, "\rsecman: {line}... {secs} s");
                    let _ = err.flush();
                    match stopped.recv_timeout(Duration::from_millis(500)) {
                        Err(mpsc::RecvTimeoutError::Timeout) => continue,
                        _ => break,
                    }
                }
                let _ = write!(err, "\r\x1b[K");
            });
            (stop, thread)
        });
        Progress {
            done,
            started,
            ticker,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        let Some((stop, thread)) = self.ticker.take() else {
            return;
        };
        drop(stop);
        let _ = thread.join();
        note(&format!(
            "secman: {} in {:.1} s",
            self.done,
            self.started.elapsed().as_secs_f64()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let text = table(
            &["KEY", "VALUE"],
            &[
                vec!["a".into(), "1".into()],
                vec!["long_key".into(), "2".into()],
            ],
        );
        assert_eq!(text, "KEY       VALUE\na         1\nlong_key  2\n");
    }

    #[test]
    fn table_cells_are_escaped_onto_one_line() {
        let text = table(
            &["NAME", "VALUE"],
            &[vec!["a\nb".into(), "\u{1b}[31mred\u{202e}".into()]],
        );
        assert_eq!(text, "NAME  VALUE\na\\nb  \\u{1b}[31mred\\u{202e}\n");
    }
}
