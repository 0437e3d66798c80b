//! How commands print: aligned tables for people, JSON and YAML for scripts.
//!
//! Much of what is printed came from a flavor, so every way out escapes
//! what could disguise itself on a terminal (see [`escape`]): table cells
//! always, messages on stderr always, and anything else when stdout is a
//! terminal. What goes to a pipe in a machine format is exact.

use std::io::{IsTerminal, Write};

use anyhow::Result;
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
    if out.is_terminal() {
        out.write_all(escape_lines(text).as_bytes())?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
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
