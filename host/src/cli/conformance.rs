//! The conformance suite behind `secman flavor test`: a flavor driven
//! through the whole contract, case by case, as secman itself calls it.
//!
//! Every case says which result came back (`ok` or the error variant), so a
//! flavor author sees at once that a missing secret gave `backend` where
//! `not-found` was due. Secrets the suite writes carry a prefix of their
//! own and are deleted again; `delete-all` with `force` runs only on a
//! store the suite made itself (a fresh storage folder or a scope of its
//! own) and that was still empty when it began.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::output::print;
use crate::managers::ManagerConfig;
use crate::registry::LoadedFlavor;
use crate::runtime::FlavorError;
use crate::secret::{SCHEMAS, Secret};
use crate::session::{Access, Opener, Session};

/// How many secrets the listing case registers.
const MANY: usize = 1000;

/// What the suite runs against.
pub struct Target<'a> {
    /// The manager's name, as errors show it.
    pub name: &'a str,
    /// Its configuration.
    pub config: &'a ManagerConfig,
    /// Its flavor.
    pub flavor: &'a LoadedFlavor,
    /// Other managers' storage folders.
    pub others: &'a [(String, PathBuf)],
    /// Whether the suite made the store itself (a fresh storage folder, or
    /// a scope of its own): only then may it delete everything in it.
    pub owned: bool,
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// As the contract says.
    Passed,
    /// Not as the contract says.
    Failed,
    /// Not run, and why is in the detail.
    Skipped,
}

/// One case's result.
#[derive(Debug, Serialize)]
pub struct Case {
    /// What was checked.
    pub case: String,
    /// How it ended.
    pub outcome: Outcome,
    /// What came back: `ok`, or the error variant.
    pub got: String,
    /// Why it failed or was skipped, or what it found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The whole run.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The flavor tested.
    pub flavor: String,
    /// Its version.
    pub version: String,
    /// Cases passed.
    pub passed: usize,
    /// Cases failed.
    pub failed: usize,
    /// Cases skipped.
    pub skipped: usize,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Every case, in order.
    pub cases: Vec<Case>,
}

/// The name of a result: `ok`, or the contract's variant.
fn got<T>(result: &Result<T, FlavorError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(error) => variant(error).into(),
    }
}

fn variant(error: &FlavorError) -> &'static str {
    match error {
        FlavorError::NotFound(_) => "not-found",
        FlavorError::AlreadyExists(_) => "already-exists",
        FlavorError::Invalid(_) => "invalid",
        FlavorError::Denied(_) => "denied",
        FlavorError::Backend(_) => "backend",
        FlavorError::TimeLimit { .. } => "time-limit",
        FlavorError::MemoryLimit { .. } => "memory-limit",
        FlavorError::OutputLimit { .. } => "output-limit",
        FlavorError::ResultLimit { .. } => "result-limit",
        FlavorError::StorageQuota { .. } => "storage-quota",
        FlavorError::Crashed { .. } => "crashed",
    }
}

/// The suite, as it runs.
struct Suite<'a> {
    opener: &'a Opener<'a>,
    target: Target<'a>,
    prefix: String,
    cases: Vec<Case>,
    /// Whether each case is printed as it ends.
    live: bool,
}

/// Runs every case against `target`; prints each as it ends when `live`.
pub async fn run(opener: &Opener<'_>, target: Target<'_>, live: bool) -> Report {
    let started = Instant::now();
    let info = &target.flavor.info;
    let (flavor, version) = (info.name.clone(), info.version.clone());
    let options = info.options.len();
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    let mut suite = Suite {
        opener,
        target,
        prefix: format!("secman-test-{}", &uuid[..8]),
        cases: Vec::new(),
        live,
    };
    suite.pass(
        "flavor-info is well formed",
        "ok",
        Some(format!("{flavor} {version}, {options} options")),
    );
    suite.all().await;
    let count = |outcome| suite.cases.iter().filter(|c| c.outcome == outcome).count();
    Report {
        passed: count(Outcome::Passed),
        failed: count(Outcome::Failed),
        skipped: count(Outcome::Skipped),
        flavor,
        version,
        seconds: started.elapsed().as_secs_f64(),
        cases: suite.cases,
    }
}

impl Suite<'_> {
    fn record(&mut self, case: &str, outcome: Outcome, got: &str, detail: Option<String>) {
        if self.live {
            let status = match outcome {
                Outcome::Passed => "ok",
                Outcome::Failed => "FAIL",
                Outcome::Skipped => "skip",
            };
            let detail = detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let _ = print(&format!("{status:<4}  {case}: {got}{detail}\n"));
        }
        self.cases.push(Case {
            case: case.into(),
            outcome,
            got: got.into(),
            detail,
        });
    }

    fn pass(&mut self, case: &str, got: &str, detail: Option<String>) {
        self.record(case, Outcome::Passed, got, detail);
    }

    fn fail(&mut self, case: &str, got: &str, why: String) {
        self.record(case, Outcome::Failed, got, Some(why));
    }

    /// Records `result`, which should have succeeded; gives back its value.
    fn ok<T>(&mut self, case: &str, result: Result<T, FlavorError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.pass(case, "ok", None);
                Some(value)
            }
            Err(error) => {
                let got = variant(&error);
                self.fail(case, got, format!("expected ok: {error}"));
                None
            }
        }
    }

    /// Records `result`, which should have failed with `expected`.
    fn err<T>(&mut self, case: &str, expected: &str, result: Result<T, FlavorError>) {
        match &result {
            Err(error) if variant(error) == expected => self.pass(case, expected, None),
            Err(error) => self.fail(
                case,
                variant(error),
                format!("expected {expected}: {error}"),
            ),
            Ok(_) => self.fail(case, "ok", format!("expected {expected}")),
        }
    }

    /// Records whether `secret` reads back as written.
    async fn round_trip(&mut self, session: &mut Session, case: &str, secret: &Secret) {
        let result = session.instance.get_secret(&secret.name).await;
        let got_name = got(&result);
        match result {
            Ok(read) if read == *secret => self.pass(case, &got_name, None),
            Ok(read) => {
                let why = differences(secret, &read);
                self.fail(case, &got_name, why);
            }
            Err(error) => self.fail(case, &got_name, format!("expected ok: {error}")),
        }
    }

    async fn open(&mut self) -> Option<Session> {
        let t = &self.target;
        match self
            .opener
            .open_with(t.name, t.config, t.flavor, t.others, Access::Write)
            .await
        {
            Ok(session) => Some(session),
            Err(error) => {
                self.fail("open a manager", "error", format!("{error:#}"));
                None
            }
        }
    }

    fn name(&self, what: &str) -> String {
        format!("{}-{what}", self.prefix)
    }

    async fn all(&mut self) {
        let Some(mut session) = self.open().await else {
            return;
        };
        self.pass("open a manager", "ok", None);
        // Names secman cannot address count too: they are secrets.
        let Some(before) = self.ok(
            "list the secrets",
            session
                .instance
                .list_secrets()
                .await
                .map(|(names, skipped)| names.len() + usize::from(skipped.is_some())),
        ) else {
            return;
        };
        let empty_at_start = before == 0;

        // The six operations, and their errors.
        let basic = secret(&self.name("basic"), "arbitrary", &[("a", "1"), ("b", "2")]);
        let missing = secret(&self.name("missing"), "arbitrary", &[("a", "1")]);
        let result = session.instance.register_secret(&basic).await;
        if self.ok("register a new secret", result).is_none() {
            return;
        }
        self.round_trip(&mut session, "get gives back what was registered", &basic)
            .await;
        let listed = session.instance.list_secrets().await.map(|(n, _)| n);
        let got_list = got(&listed);
        match listed {
            Ok(names) if names.contains(&basic.name) => self.pass(
                "list includes a registered secret",
                &got_list,
                Some(format!("{} names", names.len())),
            ),
            Ok(_) => self.fail(
                "list includes a registered secret",
                &got_list,
                format!("`{}` is not listed", basic.name),
            ),
            Err(error) => self.fail(
                "list includes a registered secret",
                &got_list,
                error.to_string(),
            ),
        }
        let result = session.instance.register_secret(&basic).await;
        self.err("register of an existing name", "already-exists", result);
        self.round_trip(&mut session, "a refused register changes nothing", &basic)
            .await;
        let result = session.instance.get_secret(&missing.name).await;
        self.err("get of a missing secret", "not-found", result);
        let result = session.instance.update_secret(&missing).await;
        self.err("update of a missing secret", "not-found", result);
        let result = session.instance.delete_secret(&missing.name).await;
        self.err("delete of a missing secret", "not-found", result);
        let result = session.instance.get_secret(&missing.name).await;
        self.err("a refused update creates nothing", "not-found", result);

        let replaced = secret(&basic.name, "arbitrary", &[("c", "3")]);
        let result = session.instance.update_secret(&replaced).await;
        if self.ok("update an existing secret", result).is_some() {
            self.round_trip(&mut session, "update replaces the whole content", &replaced)
                .await;
        }

        // Values a store must keep exactly.
        let big: String = (0..1 << 20)
            .map(|i: u32| char::from(b'!' + (i.wrapping_mul(2_654_435_761) >> 25) as u8 % 94))
            .collect();
        let values: &[(&str, &str, Pairs)] = &[
            (
                "values with `=`, `:`, quotes and look-alikes of YAML and JSON",
                "tricky",
                &[
                    ("equals", "a=b==c="),
                    ("colon", "key: value # not a comment"),
                    ("quotes", "'single' \"double\" `back`"),
                    ("json", "{\"a\": [1, 2], \"b\": null}"),
                    ("yes", "yes"),
                    ("null", "~"),
                    ("octal", "0o17"),
                    ("date", "2026-11-28"),
                    ("spaces", "  padded  "),
                    ("backslash", "C:\\path\\n"),
                ],
            ),
            (
                "values with line breaks",
                "lines",
                &[("lf", "one\ntwo\n"), ("crlf", "one\r\ntwo"), ("pem", PEM)],
            ),
            (
                "unicode keys and values",
                "unicode",
                &[
                    ("clé", "pässwörd ✓"),
                    ("cjk", "秘密の値"),
                    ("rtl", "סוד"),
                    ("emoji", "🔑🗝"),
                ],
            ),
        ];
        for (case, what, pairs) in values {
            let one = secret(&self.name(what), "arbitrary", pairs);
            self.write_read_delete(&mut session, case, &one).await;
        }
        // Every backend stores 60 KiB; some refuse 1 MiB, which is fine if
        // they say it is `invalid`.
        let one = secret(
            &self.name("60k"),
            "arbitrary",
            &[("blob", &big[..60 << 10])],
        );
        self.write_read_delete(&mut session, "a 60 KiB value", &one)
            .await;
        let one = secret(&self.name("big"), "arbitrary", &[("blob", &big)]);
        let case = "a 1 MiB value, or `invalid`";
        match session.instance.register_secret(&one).await {
            Err(FlavorError::Invalid(_)) => self.pass(case, "invalid", None),
            Err(error) => {
                let why = format!("expected ok or invalid: {error}");
                self.fail(case, variant(&error), why);
            }
            Ok(()) => {
                self.round_trip(&mut session, case, &one).await;
                let _ = session.instance.delete_secret(&one.name).await;
            }
        }
        for schema in SCHEMAS {
            let pairs: Vec<(&str, &str)> = if schema.fields.is_empty() {
                vec![("any_key", "any value")]
            } else {
                schema.fields.iter().map(|(key, _)| (*key, "v-1")).collect()
            };
            let one = secret(&self.name(schema.name), schema.name, &pairs);
            let case = format!("schema `{}` round-trips", schema.name);
            self.write_read_delete(&mut session, &case, &one).await;
        }

        // A new instance sees what the last one wrote.
        drop(session);
        let Some(mut session) = self.open().await else {
            return;
        };
        self.round_trip(&mut session, "secrets persist across instances", &replaced)
            .await;

        // A long listing, in full.
        let started = Instant::now();
        let mut registered = Vec::with_capacity(MANY);
        for i in 0..MANY {
            let one = secret(
                &self.name(&format!("many-{i:04}")),
                "arbitrary",
                &[("n", "1")],
            );
            match session.instance.register_secret(&one).await {
                Ok(()) => registered.push(one.name),
                Err(error) => {
                    self.fail(
                        "1,000 secrets listed in full",
                        variant(&error),
                        format!("registering secret {} of {MANY}: {error}", i + 1),
                    );
                    break;
                }
            }
        }
        if registered.len() == MANY {
            let listed = session.instance.list_secrets().await.map(|(n, _)| n);
            let got_list = got(&listed);
            match listed {
                Ok(names) => {
                    let absent = registered.iter().filter(|n| !names.contains(n)).count();
                    if absent == 0 {
                        self.pass(
                            "1,000 secrets listed in full",
                            &got_list,
                            Some(format!(
                                "registered and listed in {:.1} s",
                                started.elapsed().as_secs_f64()
                            )),
                        );
                    } else {
                        self.fail(
                            "1,000 secrets listed in full",
                            &got_list,
                            format!("{absent} of {MANY} are missing from the listing"),
                        );
                    }
                }
                Err(error) => {
                    self.fail("1,000 secrets listed in full", &got_list, error.to_string())
                }
            }
        }

        let result = session.instance.delete_secret(&replaced.name).await;
        if self.ok("delete a secret", result).is_some() {
            let result = session.instance.get_secret(&replaced.name).await;
            self.err("a deleted secret is gone", "not-found", result);
        }
        let result = session.instance.delete_all_secrets(false).await;
        self.err("delete-all without force", "invalid", result);
        if let Some(first) = registered.first() {
            let result = session.instance.get_secret(first).await;
            self.ok("a refused delete-all deletes nothing", result);
        }
        if empty_at_start && self.target.owned {
            let result = session.instance.delete_all_secrets(true).await;
            if self.ok("delete-all with force", result).is_some() {
                let listed = session.instance.list_secrets().await.map(|(n, _)| n);
                let got_list = got(&listed);
                match listed {
                    Ok(names) if names.is_empty() => {
                        self.pass("delete-all leaves nothing", &got_list, None)
                    }
                    Ok(names) => self.fail(
                        "delete-all leaves nothing",
                        &got_list,
                        format!("{} secrets are still listed", names.len()),
                    ),
                    Err(error) => {
                        self.fail("delete-all leaves nothing", &got_list, error.to_string())
                    }
                }
            }
        } else {
            self.record(
                "delete-all with force",
                Outcome::Skipped,
                "-",
                Some(if self.target.owned {
                    "the store held secrets before the suite: run it on an empty one".into()
                } else {
                    "it runs only on a store the suite made itself".into()
                }),
            );
            let mut left = 0;
            for name in &registered {
                if session.instance.delete_secret(name).await.is_err() {
                    left += 1;
                }
            }
            if left > 0 {
                self.fail(
                    "clean up",
                    "error",
                    format!(
                        "{left} secrets named {}-* could not be deleted",
                        self.prefix
                    ),
                );
            }
        }
    }

    /// Registers `secret`, checks it reads back exactly, and deletes it.
    async fn write_read_delete(&mut self, session: &mut Session, case: &str, secret: &Secret) {
        match session.instance.register_secret(secret).await {
            Ok(()) => self.round_trip(session, case, secret).await,
            Err(error) => self.fail(case, variant(&error), format!("register failed: {error}")),
        }
        if let Err(error) = session.instance.delete_secret(&secret.name).await
            && !matches!(error, FlavorError::NotFound(_))
        {
            self.fail(
                &format!("{case}: delete"),
                variant(&error),
                error.to_string(),
            );
        }
    }
}

/// Keys and values, literally.
type Pairs<'a> = &'a [(&'a str, &'a str)];

/// A secret from literal parts.
fn secret(name: &str, schema: &str, values: &[(&str, &str)]) -> Secret {
    Secret {
        name: name.into(),
        schema: schema.into(),
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// Says how `read` differs from `written`, naming keys, never values.
fn differences(written: &Secret, read: &Secret) -> String {
    let mut why = Vec::new();
    if read.name != written.name {
        why.push("its name changed".to_string());
    }
    if read.schema != written.schema {
        why.push(format!(
            "schema `{}` came back as `{}`",
            written.schema, read.schema
        ));
    }
    for key in written.values.keys() {
        match read.values.get(key) {
            None => why.push(format!("key `{key}` is missing")),
            Some(value) if *value != written.values[key] => {
                why.push(format!("the value of `{key}` changed"))
            }
            Some(_) => {}
        }
    }
    for key in read
        .values
        .keys()
        .filter(|k| !written.values.contains_key(*k))
    {
        why.push(format!("key `{key}` was not written"));
    }
    why.join("; ")
}

/// A certificate-shaped value: long lines, `-----`, a trailing newline.
const PEM: &str = "-----BEGIN CERTIFICATE-----\n\
MIIBszCCAVmgAwIBAgIUJ8s3mXl0q6YV1S7t2dYb8f3x2l4wCgYIKoZIzj0EAwIw\n\
-----END CERTIFICATE-----\n";
