//! `secman secret copy NAME... | --all --from MANAGER --to MANAGER`: moves
//! secrets between any two managers (a ZenML local store to AWS, one cloud
//! to another).
//!
//! Each secret is written whole or not at all (the contract's register and
//! update), and a copy that stops says which secrets were copied and which
//! were not. Running it again finishes the job: a secret already in the
//! destination with the same schema and values is left as it is, so only
//! what is missing is written.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use clap::Args;
use serde::Serialize;

use super::output::print_as;
use super::{Context, usage};
use crate::runtime::FlavorError;
use crate::secret::check_name;
use crate::session::{Access, Session};
use crate::text::escape;

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The secrets to copy (or --all).
    #[arg(
        value_name = "NAME",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    names: Vec<String>,
    /// Copy every secret of the source manager.
    #[arg(long)]
    all: bool,
    /// The manager to copy from.
    #[arg(long, value_name = "MANAGER")]
    from: String,
    /// The manager to copy to.
    #[arg(long, value_name = "MANAGER")]
    to: String,
    /// Replace a secret the destination already has with other values
    /// (without it, such a secret is left as it is, and reported).
    #[arg(long)]
    overwrite: bool,
}

/// What a copy did, secret by secret.
#[derive(Debug, Default, Serialize)]
struct Report {
    copied: Vec<String>,
    overwritten: Vec<String>,
    unchanged: Vec<String>,
    /// In the destination with other values, left as they are.
    conflicting: Vec<String>,
}

impl CopyArgs {
    pub async fn run(self, ctx: &Context) -> Result<()> {
        if self.from == self.to {
            usage!("--from and --to name the same manager, `{}`", self.from);
        }
        for name in &self.names {
            check_name(name)?;
        }
        let format = ctx.format()?;
        let opener = ctx.opener()?;
        // The destination first: where both managers keep their stores in
        // one folder, its exclusive lock covers the source's too.
        let mut to = opener.open(Some(&self.to), Access::Write).await?;
        let mut from = opener.open(Some(&self.from), Access::Read).await?;
        let names = if self.all {
            let (names, _) = from.instance.list_secrets().await.with_context(|| {
                format!("cannot list the secrets of manager `{}`", from.manager)
            })?;
            names
        } else {
            self.names.clone()
        };

        let mut report = Report::default();
        let mut counter = Counter::new(names.len());
        for (done, name) in names.iter().enumerate() {
            counter.show(done);
            if let Err(error) = self.copy_one(&mut from, &mut to, name, &mut report).await {
                counter.clear();
                let left = &names[done..];
                return Err(error.context(format!(
                    "copied {} of {} secrets from `{}` to `{}`{}, then stopped at `{name}`; not \
                     copied: {}. Run the same command again to copy the rest: secrets already \
                     there are left as they are",
                    report.copied.len() + report.overwritten.len(),
                    names.len(),
                    self.from,
                    self.to,
                    already(&report),
                    some(left)
                )));
            }
        }
        counter.clear();
        print_as(format, &report, || {
            format!(
                "Copied {} of {} secrets from `{}` to `{}`{}{}\n",
                report.copied.len() + report.overwritten.len(),
                names.len(),
                self.from,
                self.to,
                already(&report),
                if report.overwritten.is_empty() {
                    String::new()
                } else {
                    let names: Vec<_> = report.overwritten.iter().map(|n| escape(n)).collect();
                    format!("; overwrote {}", names.join(", "))
                }
            )
        })?;
        if !report.conflicting.is_empty() {
            return Err(FlavorError::AlreadyExists(format!(
                "{} secret(s) exist in `{}` with other values and were left as they are: {}. \
                 Pass --overwrite to replace them",
                report.conflicting.len(),
                self.to,
                some(&report.conflicting)
            ))
            .into());
        }
        Ok(())
    }

    /// Copies secret `name`: registers it, or, where the destination has
    /// it, leaves it (same values) or replaces it (--overwrite).
    async fn copy_one(
        &self,
        from: &mut Session,
        to: &mut Session,
        name: &str,
        report: &mut Report,
    ) -> Result<()> {
        let secret = from
            .instance
            .get_secret(name)
            .await
            .with_context(|| format!("cannot get secret `{name}` from `{}`", from.manager))?;
        let error = match to.instance.register_secret(&secret).await {
            Ok(()) => {
                report.copied.push(name.into());
                return Ok(());
            }
            Err(FlavorError::AlreadyExists(_)) => None,
            Err(error) => Some(error),
        };
        if let Some(error) = error {
            return Err(anyhow!(error))
                .with_context(|| format!("cannot register secret `{name}` in `{}`", to.manager));
        }
        let there = to
            .instance
            .get_secret(name)
            .await
            .with_context(|| format!("cannot read secret `{name}` in `{}`", to.manager))?;
        if there.schema == secret.schema && there.values == secret.values {
            report.unchanged.push(name.into());
        } else if self.overwrite {
            to.instance
                .update_secret(&secret)
                .await
                .with_context(|| format!("cannot overwrite secret `{name}` in `{}`", to.manager))?;
            report.overwritten.push(name.into());
        } else {
            report.conflicting.push(name.into());
        }
        Ok(())
    }
}

/// `, N already there` when there were some.
fn already(report: &Report) -> String {
    let there = report.unchanged.len() + report.conflicting.len();
    if there == 0 {
        String::new()
    } else {
        format!(" ({there} already there)")
    }
}

/// The first few of `names`, and how many more.
fn some(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text += &format!(" and {} more", names.len() - SHOWN);
    }
    text
}

/// `copying 412/1000` on stderr, at a terminal, at most ten times a second.
struct Counter {
    total: usize,
    shown: Option<Instant>,
    terminal: bool,
}

impl Counter {
    fn new(total: usize) -> Counter {
        Counter {
            total,
            shown: None,
            terminal: total > 1 && std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, done: usize) {
        if !self.terminal
            || self
                .shown
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.shown = Some(Instant::now());
        let width = 30;
        let filled = done * width / self.total;
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\rsecman: copying [{}{}] {done}/{}",
            "#".repeat(filled),
            " ".repeat(width - filled),
            self.total
        );
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.terminal && self.shown.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
