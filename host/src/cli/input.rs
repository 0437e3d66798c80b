//! Reading secret values from the command line, files and prompts.
//!
//! Values come as `KEY=VALUE` (or ZenML's `--KEY=VALUE`), split on the
//! first `=`. `KEY=@path` reads the value from a file (a one-line file
//! without its line ending) and `KEY=@@x` is the literal `@x`. With `-i`, values are asked for with hidden input, so they
//! stay out of the shell history; without a terminal they are read one per
//! line from stdin.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result, bail};

use super::usage;
use crate::secret::Schema;

/// One value argument: a key, and its value unless it is to be asked for.
type Assignment = (String, Option<String>);

/// Parses `KEY=VALUE` arguments. A bare `KEY` is allowed with `-i`, which
/// asks for its value.
fn parse(args: &[String], interactive: bool) -> Result<Vec<Assignment>> {
    let mut parsed: Vec<Assignment> = Vec::with_capacity(args.len());
    for arg in args {
        let arg = arg.strip_prefix("--").unwrap_or(arg);
        let (key, value) = match arg.split_once('=') {
            Some((key, raw)) => (key, Some(resolve(key, raw)?)),
            None if interactive => (arg, None),
            // Only the part that could be a key is shown: the rest may be
            // a value typed with the wrong separator (`password:s3cr3t`).
            None => match arg.find(|c: char| !(c == '_' || c.is_alphanumeric())) {
                None => usage!(
                    "`{arg}` is not KEY=VALUE: give the value after `=`, or pass -i to be asked \
                     for it"
                ),
                Some(at) => usage!(
                    "the argument starting `{}` is not KEY=VALUE (it has no `=`): write \
                     KEY=VALUE, or pass -i to be asked for the value",
                    &arg[..at]
                ),
            },
        };
        if parsed.iter().any(|(k, _)| k == key) {
            usage!("key `{key}` is given twice");
        }
        parsed.push((key.to_string(), value));
    }
    Ok(parsed)
}

/// The value of a `KEY=raw` argument: `@path` reads a file, `@@` escapes.
/// A file of one line gives that line, without its line ending (what
/// `echo pw > pw.txt` wrote, as `$(cat pw.txt)` reads it); a file of
/// several lines is kept exactly (a PEM ends with a line break).
fn resolve(key: &str, raw: &str) -> Result<String> {
    if let Some(literal) = raw.strip_prefix("@@") {
        return Ok(format!("@{literal}"));
    }
    let Some(path) = raw.strip_prefix('@') else {
        return Ok(raw.to_string());
    };
    // The path is not shown: it may be a value that starts with `@`.
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read the value of key `{key}` from the file named after its `@` (to store \
             a value that starts with `@`, write `@@`)"
        )
    })?;
    match String::from_utf8(bytes) {
        Ok(value) => {
            let line = value
                .strip_suffix('\n')
                .map(|v| v.strip_suffix('\r').unwrap_or(v));
            match line {
                Some(line) if !line.contains('\n') => Ok(line.to_string()),
                _ => Ok(value),
            }
        }
        Err(_) => usage!(
            "the value of key `{key}` must be text, but the file named after its `@` is not UTF-8"
        ),
    }
}

/// The values of `secret register`: from the arguments, then from prompts
/// for what `-i` leaves open (each of the schema's keys, or key/value pairs
/// until an empty key for `arbitrary`).
pub fn values_for_register(
    args: &[String],
    interactive: bool,
    schema: &Schema,
) -> Result<BTreeMap<String, String>> {
    let parsed = parse(args, interactive)?;
    let mut prompter = Prompter::new();
    let mut values = BTreeMap::new();
    if interactive && parsed.is_empty() {
        if schema.is_open() {
            loop {
                let key = prompter.ask_visible("Key (empty to finish): ")?;
                if key.is_empty() {
                    break;
                }
                let value = prompter.ask_hidden(&format!("Value of {key}: "))?;
                values.insert(key, value);
            }
        } else {
            for (key, required) in schema.fields {
                let optional = if *required { "" } else { " (empty to skip)" };
                let value = prompter.ask_hidden(&format!("Value of {key}{optional}: "))?;
                if !value.is_empty() || *required {
                    values.insert(key.to_string(), value);
                }
            }
        }
        return Ok(values);
    }
    for (key, value) in parsed {
        let value = match value {
            Some(value) => value,
            None => prompter.ask_hidden(&format!("Value of {key}: "))?,
        };
        values.insert(key, value);
    }
    Ok(values)
}

/// The values of `secret update`: every key must be named; `-i` asks for
/// the values of keys given without one.
pub fn values_for_update(args: &[String], interactive: bool) -> Result<BTreeMap<String, String>> {
    let mut prompter = Prompter::new();
    parse(args, interactive)?
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                Some(value) => value,
                None => prompter.ask_hidden(&format!("New value of {key}: "))?,
            };
            Ok((key, value))
        })
        .collect()
}

/// Asks the user to confirm `action`, unless `yes`. Without a terminal
/// there is no one to ask: refuse, and say to pass `--yes`.
pub fn confirm(action: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        usage!("refusing to {action} without confirmation: pass --yes");
    }
    let answer = Prompter::new().ask_visible(&format!("{action}? [y/N] "))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        bail!("cancelled: did not {action}")
    }
}

/// Asks `question` at the terminal: whether the user answered yes (the
/// default is no).
pub fn ask_yes_no(question: &str) -> Result<bool> {
    let answer = Prompter::new().ask_visible(&format!("{question} [y/N] "))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Asks questions on the terminal, or reads answers from piped stdin.
struct Prompter {
    terminal: bool,
}

impl Prompter {
    fn new() -> Prompter {
        Prompter {
            terminal: std::io::stdin().is_terminal(),
        }
    }

    fn ask_hidden(&mut self, prompt: &str) -> Result<String> {
        if self.terminal {
            return rpassword::prompt_password(prompt).context("cannot read from the terminal");
        }
        self.ask_visible(prompt)
    }

    fn ask_visible(&mut self, prompt: &str) -> Result<String> {
        let mut err = std::io::stderr();
        let _ = write!(err, "{prompt}");
        let _ = err.flush();
        let mut line = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read from stdin")?;
        if read == 0 {
            // End the prompt's line, so the error starts one of its own.
            let _ = writeln!(err);
            usage!("stdin ended before every value was given");
        }
        if !self.terminal {
            // Echo the line break a terminal would have shown.
            let _ = writeln!(err);
        }
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_split_on_the_first_equals_sign_in_both_forms() {
        let parsed = parse(&args(&["a=b=c", "--d=e", "f="]), false).unwrap();
        assert_eq!(
            parsed,
            vec![
                ("a".into(), Some("b=c".into())),
                ("d".into(), Some("e".into())),
                ("f".into(), Some("".into())),
            ]
        );
    }

    #[test]
    fn at_reads_a_file_and_double_at_is_literal() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.txt");
        std::fs::write(&file, "from file\n").unwrap();
        let parsed = parse(&args(&[&format!("a=@{}", file.display()), "b=@@x"]), false).unwrap();
        assert_eq!(parsed[0].1.as_deref(), Some("from file"));
        assert_eq!(parsed[1].1.as_deref(), Some("@x"));
    }

    #[test]
    fn a_one_line_file_loses_its_line_ending_and_longer_ones_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.txt");
        for (content, value) in [
            ("pw\n", "pw"),
            ("pw\r\n", "pw"),
            ("pw", "pw"),
            ("pw\n\n", "pw\n\n"),
            ("-----BEGIN-----\nabc\n", "-----BEGIN-----\nabc\n"),
            ("\n", ""),
        ] {
            std::fs::write(&file, content).unwrap();
            assert_eq!(
                resolve("k", &format!("@{}", file.display())).unwrap(),
                value,
                "{content:?}"
            );
        }
    }

    #[test]
    fn bare_keys_need_interactive_and_keys_are_unique() {
        assert!(parse(&args(&["a"]), false).is_err());
        assert_eq!(
            parse(&args(&["a"]), true).unwrap(),
            vec![("a".into(), None)]
        );
        assert!(parse(&args(&["a=1", "--a=2"]), false).is_err());
    }
}
