//! The second hostile suite: what a flavor *says* is an attack too.
//!
//! Its `flavor-info` (names, help, defaults, what it asks for), its
//! answers, its errors, its logs and its output are untrusted input. Each
//! test runs the hostile flavor (with a `flavor-info` variant patched into
//! a copy of its component) through the real CLI, in a throwaway `HOME`
//! that holds decoys: an SSH key, a shell rc file, cloud credentials and
//! another manager's store. After every attack it checks that nothing
//! leaked, that no decoy changed, that secman's peak RSS stayed under the
//! flavor's memory limit plus a fixed overhead, that the call ended within
//! its time limit plus one second, and that the next command, on another
//! manager, works.

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::{Run, peer_script, python, secman_binary};

/// The memory and time limits the hostile flavor gets here.
pub(crate) const MEMORY_MIB: u64 = 16;
pub(crate) const TIME_SECS: u64 = 2;
/// What secman itself may use beside its flavor's memory: the binary,
/// wasmtime, the compiled component, the runtime's buffers.
pub(crate) const HOST_OVERHEAD_MIB: u64 = 64;

/// Files an attacker would want, with a marker in each.
pub(crate) const DECOYS: &[(&str, &str)] = &[
    (".ssh/id_rsa", "DECOY-SSH-PRIVATE-KEY"),
    (".bashrc", "DECOY-SHELL-RC"),
    (
        ".aws/credentials",
        "[default]\naws_secret_access_key = DECOY-AWS-SECRET\n",
    ),
];
/// A variable in secman's environment that no flavor is granted.
pub(crate) const DECOY_ENV: (&str, &str) = ("DECOY_TOKEN", "DECOY-ENV-VALUE");
/// The secret another manager (the default one) keeps.
pub(crate) const BYSTANDER: &str = "DECOY-BYSTANDER-VALUE";

/// A throwaway user: `HOME` with decoys, secman's state in its default
/// place under it, and a secret in the default manager.
pub(crate) struct User {
    pub(crate) dir: TempDir,
}

/// What one command did, measured.
pub(crate) struct Measured {
    pub(crate) run: Run,
    pub(crate) peak_rss_mib: u64,
    pub(crate) elapsed: Duration,
}

impl User {
    pub(crate) fn new() -> User {
        let user = User {
            dir: tempfile::tempdir().unwrap(),
        };
        for (path, content) in DECOYS {
            let path = user.home().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        user.ok(&["secret", "register", "bystander", &format!("k={BYSTANDER}")]);
        user
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.dir.path().join("user")
    }

    /// Where secman makes the private copies of granted files.
    pub(crate) fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("runtime")
    }

    /// The copies of granted files still on disk: none once a command ended.
    pub(crate) fn copies_left(&self) -> Vec<PathBuf> {
        fs::read_dir(self.runtime_dir())
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }

    /// secman's state, where it goes by default.
    pub(crate) fn state(&self) -> PathBuf {
        self.home().join(".config/secman")
    }

    /// `secman ARGS` as this user runs it: only `HOME` says where things
    /// are, and a decoy variable sits in the environment.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let runtime = self.runtime_dir();
        fs::create_dir_all(&runtime).unwrap();
        let mut cmd = Command::new(secman_binary());
        cmd.args(args)
            .env("HOME", self.home())
            .env("XDG_RUNTIME_DIR", runtime)
            .env(DECOY_ENV.0, DECOY_ENV.1)
            .stdin(Stdio::null());
        for var in [
            "SECMAN_HOME",
            "SECMAN_CACHE_DIR",
            "SECMAN_LOG",
            "XDG_CONFIG_HOME",
            "XDG_CACHE_HOME",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok().stdout
    }

    /// Runs `secman ARGS` and measures its wall time and peak RSS, through
    /// a small parent (`peak_rss.py`): started from this big test process,
    /// its peak RSS would count this process's too.
    pub(crate) fn measure(&self, args: &[&str]) -> Measured {
        let report = self.dir.path().join("peak-rss");
        let start = Instant::now();
        let cmd = self.command(args);
        let mut measured = Command::new(python());
        measured
            .arg(peer_script("peak_rss.py"))
            .arg(&report)
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .stdin(Stdio::null());
        for (var, value) in cmd.get_envs() {
            match value {
                Some(value) => measured.env(var, value),
                None => measured.env_remove(var),
            };
        }
        let output = measured.output().unwrap();
        let elapsed = start.elapsed();
        let report = fs::read_to_string(&report).unwrap();
        let (status, peak_kib) = report.split_once(' ').unwrap();
        Measured {
            run: Run::from(std::process::Output {
                status: ExitStatus::from_raw(status.parse().unwrap()),
                ..output
            }),
            peak_rss_mib: peak_kib.parse::<u64>().unwrap() / 1024,
            elapsed,
        }
    }

    /// Runs an attack and checks everything that must hold after any of
    /// them, whatever its result: returns what it did.
    pub(crate) fn attack(&self, args: &[&str]) -> Run {
        let before = self.snapshot();
        let measured = self.measure(args);
        let run = measured.run;
        let output = format!("{}{}", run.stdout, run.stderr);
        for secret in [DECOYS[0].1, "DECOY-AWS-SECRET", DECOY_ENV.1, BYSTANDER] {
            assert!(
                !output.contains(secret),
                "{args:?} leaked {secret}: {output}"
            );
        }
        assert!(
            !output.contains('\u{1b}') && !output.contains('\r'),
            "{args:?} let control characters through: {output:?}"
        );
        assert_eq!(
            self.snapshot(),
            before,
            "{args:?} changed files it was not granted"
        );
        assert_eq!(
            self.copies_left(),
            Vec::<PathBuf>::new(),
            "{args:?} left copies of granted files behind"
        );
        assert!(
            measured.peak_rss_mib < MEMORY_MIB + HOST_OVERHEAD_MIB,
            "{args:?}: secman grew to {} MiB: {output}",
            measured.peak_rss_mib
        );
        assert!(
            measured.elapsed < Duration::from_secs(TIME_SECS + 1),
            "{args:?} took {:?}",
            measured.elapsed
        );
        assert_eq!(
            self.ok(&["secret", "get", "bystander", "-k", "k"]),
            format!("{BYSTANDER}\n"),
            "the next command on another manager must work"
        );
        run
    }

    /// The decoys and secman's own state files (not the hostile managers'
    /// storage folders, which they are granted), with their contents.
    pub(crate) fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        let stores = self.state().join("stores");
        let bystander = self.manager_uuid("default");
        let mut stack = vec![self.home()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let granted = path.starts_with(&stores)
                    && !path.starts_with(stores.join(&bystander))
                    && path != stores;
                if granted || path.starts_with(self.home().join(".cache")) {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else if !path.ends_with(".lock")
                    && !path.starts_with(self.state().join("locks"))
                    // secman's own record that a flavor's file is unchanged
                    && !path.starts_with(self.state().join("verified"))
                {
                    files.push((path.clone(), fs::read(&path).unwrap_or_default()));
                }
            }
        }
        files.sort();
        files
    }

    pub(crate) fn manager_uuid(&self, name: &str) -> String {
        let json: Value =
            serde_json::from_str(&self.ok(&["manager", "describe", name, "-o", "json"])).unwrap();
        json["uuid"].as_str().unwrap().to_string()
    }

    /// A copy of the hostile flavor whose `flavor-info` is `variant`, with
    /// `port` as the port it names.
    pub(crate) fn hostile(&self, variant: u8, port: u16) -> PathBuf {
        let mut wasm = fs::read(secman_test_plugins::HOSTILE).unwrap();
        let marker = b"SECMAN-HOSTILE-CONFIG:variant=00;port=00000";
        let at = wasm
            .windows(marker.len())
            .position(|w| w == marker)
            .expect("the hostile flavor carries its config block");
        let patched = format!("SECMAN-HOSTILE-CONFIG:variant={variant:02};port={port:05}");
        wasm[at..at + marker.len()].copy_from_slice(patched.as_bytes());
        let path = self.dir.path().join(format!("hostile-{variant:02}.wasm"));
        fs::write(&path, wasm).unwrap();
        path
    }

    /// Registers hostile `variant` with the suite's limits and `grants`.
    pub(crate) fn register_hostile(&self, variant: u8, port: u16, grants: &[&str]) -> Run {
        let wasm = self.hostile(variant, port);
        let (memory, time) = (MEMORY_MIB.to_string(), TIME_SECS.to_string());
        let mut args = vec![
            "flavor",
            "register",
            wasm.to_str().unwrap(),
            "--memory-limit-mib",
            &memory,
            "--time-limit-secs",
            &time,
            "--result-limit-mib",
            "1",
        ];
        args.extend(grants);
        self.run(&args)
    }

    /// A manager `name` of the hostile flavor aimed at `target`.
    pub(crate) fn hostile_manager(&self, name: &str, target: &str) {
        self.ok(&[
            "manager",
            "register",
            name,
            "--flavor",
            "hostile",
            "--option",
            &format!("target={target}"),
        ]);
    }

    pub(crate) fn storage_of(&self, manager: &str) -> PathBuf {
        self.state().join("stores").join(self.manager_uuid(manager))
    }
}

/// A TCP listener on 127.0.0.1 that tells whether anything connected.
struct Listener(TcpListener);

impl Listener {
    fn new() -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Listener(listener)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    fn was_reached(&self) -> bool {
        self.0.accept().is_ok()
    }
}

/// The command failed with one line naming `needle`: the sandbox stopped
/// the call (exit code 1), or the flavor passed on the sandbox's refusal as
/// `denied` (exit code 5).
pub(crate) fn refused(run: &Run, needle: &str) {
    assert!([1, 5].contains(&run.code), "{}", run.stderr);
    fails_with(run, run.code, needle);
}

pub(crate) fn fails_with(run: &Run, code: i32, needle: &str) {
    assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(needle),
        "expected `{needle}` in: {}",
        run.stderr
    );
}

#[test]
fn option_defaults_widen_nothing() {
    let user = User::new();
    let metadata = Listener::new();
    let registered = user.register_hostile(1, metadata.port(), &["--yes"]);
    let said = registered.ok().stdout;
    assert!(
        !said.contains("HTTP") && !said.contains("127.0.0.1"),
        "{said}"
    );
    let describe = user.ok(&["flavor", "describe", "hostile"]);
    assert!(
        describe.contains("suggests /secrets.yaml, used only if you set it"),
        "{describe}"
    );

    user.hostile_manager("m", "x");
    let options = user.attack(&["secret", "get", "read_options", "-m", "m", "-o", "json"]);
    let seen: Value = serde_json::from_str(&options.ok().stdout).unwrap();
    assert_eq!(
        seen["values"]["storage"],
        user.storage_of("m").display().to_string(),
        "its storage is its own folder, not the default's"
    );
    for default in ["secrets_file", "endpoint"] {
        assert!(seen["values"].get(default).is_none(), "{seen}");
    }

    let home = user.home();
    for (attack, target) in [
        ("read_file", "/proc/self/environ".to_string()),
        ("read_file", home.join(".ssh/id_rsa").display().to_string()),
        ("write_file", home.join(".bashrc").display().to_string()),
        ("list_dir", "/".into()),
    ] {
        user.hostile_manager(&format!("{attack}_{}", target.len()), &target);
        let run = user.attack(&[
            "secret",
            "get",
            attack,
            "-m",
            &format!("{attack}_{}", target.len()),
        ]);
        refused(&run, "refused");
    }
    let url = format!("http://127.0.0.1:{}/latest/meta-data/", metadata.port());
    user.hostile_manager("imds", &url);
    let run = user.attack(&["secret", "get", "http_get", "-m", "imds"]);
    refused(&run, "which it was not granted");
    assert!(
        !metadata.was_reached(),
        "a request reached the metadata stand-in"
    );
}

#[test]
fn a_storage_folder_never_holds_secman_state_or_the_home() {
    let user = User::new();
    let home = user.home();
    let state = user.state();
    for file in [
        home.join("secrets.yaml"),
        PathBuf::from("/secrets.yaml"),
        state.join("stores/x/secrets.yaml"),
        state.join("secrets.yaml"),
        home.join(".cache/secman/secrets.yaml"),
        home.join(".cache/secrets.yaml"),
    ] {
        let option = format!("secrets_file={}", file.display());
        let run = user.run(&[
            "manager", "register", "t", "--flavor", "local", "--option", &option,
        ]);
        fails_with(&run, 2, "folder of its own");
    }
    let team = home.join("team/secrets.yaml");
    let option = format!("secrets_file={}", team.display());
    user.ok(&[
        "manager", "register", "team", "--flavor", "local", "--option", &option,
    ]);
    user.ok(&["secret", "register", "s", "k=v", "-m", "team"]);
    assert!(team.is_file());

    // A changed managers.yaml is checked again when the manager opens.
    let managers = state.join("managers.yaml");
    let text = fs::read_to_string(&managers).unwrap();
    fs::write(
        &managers,
        text.replace(
            &team.display().to_string(),
            &home.join("s.yaml").display().to_string(),
        ),
    )
    .unwrap();
    refused(
        &user.attack(&["secret", "list", "-m", "team"]),
        "folder of its own",
    );
    assert!(!home.join("s.yaml").exists());
    fs::write(&managers, text).unwrap();

    // No storage folder lies inside another manager's: a flavor there
    // could plant a link that turns the inner path into anything (here,
    // as if the team's flavor had made `link -> ../.ssh`).
    let planted = home.join("team/link");
    std::os::unix::fs::symlink("../.ssh", &planted).unwrap();
    let inner = format!("secrets_file={}", planted.join("secrets.yaml").display());
    let run = user.run(&[
        "manager", "register", "inner", "--flavor", "local", "--option", &inner,
    ]);
    fails_with(&run, 2, "of manager `team`");
    let elsewhere = home.join("elsewhere");
    let option = format!("secrets_file={}", elsewhere.join("secrets.yaml").display());
    user.ok(&[
        "manager", "register", "inner", "--flavor", "local", "--option", &option,
    ]);
    let text = fs::read_to_string(&managers).unwrap();
    fs::write(
        &managers,
        text.replace(
            &elsewhere.display().to_string(),
            &planted.display().to_string(),
        ),
    )
    .unwrap();
    refused(
        &user.attack(&["secret", "register", "x", "k=v", "-m", "inner"]),
        "of manager `team`",
    );

    // A grant written into flavors.yaml by hand, beyond what the flavor
    // asks for, is refused rather than honoured.
    user.register_hostile(0, 0, &["--allow-storage"]).ok();
    user.hostile_manager("envy", "x");
    let flavors = state.join("flavors.yaml");
    let text = fs::read_to_string(&flavors).unwrap();
    assert!(text.contains("env: []"), "{text}");
    fs::write(
        &flavors,
        text.replace("env: []", &format!("env: [{}]", DECOY_ENV.0)),
    )
    .unwrap();
    let run = user.attack(&["secret", "get", "read_env", "-m", "envy"]);
    refused(&run, "which it does not ask for");
}

#[test]
fn the_compile_cache_is_private_and_a_patched_entry_never_runs() {
    let user = User::new();
    let cache = user.home().join(".cache/secman");
    let entries: Vec<PathBuf> = fs::read_dir(&cache)
        .unwrap()
        .flat_map(|engine| fs::read_dir(engine.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    let written = fs::read(entry).unwrap();

    let mut patched = written.clone();
    let middle = patched.len() / 2;
    patched[middle..middle + 16].copy_from_slice(b"PATCHED-NATIVE!!");
    fs::write(entry, &patched).unwrap();
    assert_eq!(
        user.ok(&["secret", "get", "bystander", "-k", "k"]),
        format!("{BYSTANDER}\n")
    );
    assert_ne!(
        fs::read(entry).unwrap(),
        patched,
        "the patched entry was not replaced"
    );

    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o777)).unwrap();
    let run = user.run(&["secret", "get", "bystander"]);
    refused(&run, "chmod 700");
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o700)).unwrap();
    user.ok(&["secret", "get", "bystander"]);

    // No sandbox reaches it.
    user.register_hostile(0, 0, &["--yes"]).ok();
    user.hostile_manager("reader", entry.to_str().unwrap());
    refused(
        &user.attack(&["secret", "get", "read_file", "-m", "reader"]),
        "refused",
    );
}

#[test]
fn answers_errors_logs_and_output_cannot_inject_into_a_shell_or_a_terminal() {
    let user = User::new();
    user.register_hostile(0, 0, &["--yes"]).ok();
    user.hostile_manager("liar", "x");
    let hidden = "\u{1b}[2J\u{1b}[31mred\r\u{202e}evil\u{9b}1m";

    // A table escapes what it shows; -v escapes logs and output.
    let table = user
        .attack(&["secret", "get", "lie_hidden", "-m", "liar", "-v"])
        .ok();
    assert!(
        table
            .stdout
            .contains(r"\u{1b}[2J\u{1b}[31mred\r\u{202e}evil\u{9b}1m"),
        "{}",
        table.stdout
    );
    assert!(table.stderr.contains(r"log\u{1b}[2J"), "{}", table.stderr);
    assert!(
        table.stderr.contains(r"stdout\u{1b}[2J"),
        "{}",
        table.stderr
    );
    assert!(!table.stdout.contains('\u{202e}') && !table.stderr.contains('\u{9b}'));

    // Machine formats carry the value exactly, and a shell reads it back
    // as data.
    let json: Value = serde_json::from_str(&user.ok(&[
        "secret",
        "get",
        "lie_hidden",
        "-m",
        "liar",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["values"]["k"], hidden);
    let quotes = "it's $(touch pwned) `touch pwned` \\' \u{1b}[2J\u{202e}";
    let env = user
        .run(&["secret", "get", "lie_quotes", "-m", "liar", "-o", "env"])
        .ok()
        .stdout;
    let shell = Command::new("sh")
        .args(["-c", "eval \"$1\"; printf %s \"$LIE_QUOTES_K\"", "sh", &env])
        .current_dir(user.dir.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(shell.stdout).unwrap(), quotes);
    assert!(!user.dir.path().join("pwned").exists());

    // Keys that are not what the user could have typed: a backend error.
    for (attack, needle) in [
        ("lie_key", "not a valid key"),
        ("lie_duplicate", "twice"),
        ("lie_name", "`someone_else`"),
    ] {
        let run = user.attack(&["secret", "get", attack, "-m", "liar", "-o", "env"]);
        refused(&run, needle);
        assert!(!run.stderr.contains("secret-one"), "{}", run.stderr);
    }
    assert!(!user.dir.path().join("pwned").exists());
    refused(
        &user.attack(&["secret", "get", "lie_lookalike", "-m", "liar"]),
        "shows as nothing",
    );

    // `--output env` assigns only the user's variables, each on one line:
    // a key never names a variable alone, nor one that programs read as
    // configuration whatever the prefix (`LIE_ENV_PROMPT_COMMAND`).
    let env = user.attack(&["secret", "get", "lie_env", "-m", "liar", "-o", "env"]);
    refused(
        &env,
        "LIE_ENV_PROMPT_COMMAND` would set a variable that programs read",
    );
    assert!(env.stdout.is_empty(), "{}", env.stdout);
    for (attack, prefix, needle) in [
        (
            "lie_unicode_key",
            "X_",
            "cannot be part of a shell variable name",
        ),
        ("lie_env", "", "does not start a shell variable name"),
        ("lie_env", "LD_", "read as configuration"),
        ("lie_lines", "X_", "spans lines"),
    ] {
        let args = [
            "secret", "get", attack, "-m", "liar", "-o", "env", "--prefix", prefix,
        ];
        let run = user.attack(&args);
        refused(&run, needle);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        user.ok(&["secret", "get", attack, "-m", "liar", "-o", "json"]);
    }

    // Errors stay on one line, escaped and capped.
    let run = user.attack(&["secret", "get", "lie_error", "-m", "liar"]);
    fails_with(
        &run,
        3,
        r"gone\u{1b}[2J\nsecman: error: a second line\u{202e}",
    );
    let run = user.attack(&["secret", "get", "lie_big_error", "-m", "liar"]);
    fails_with(&run, 1, "xxxxxxxx...");
    assert!(run.stderr.len() < 4096, "{} bytes", run.stderr.len());

    // A listing shows every name a store holds, one a line, escaped.
    user.ok(&[
        "manager",
        "register",
        "lister",
        "--flavor",
        "hostile",
        "--option",
        "list_attack=lies",
    ]);
    let run = user.attack(&["secret", "list", "-m", "lister"]).ok();
    assert_eq!(
        run.stdout,
        "\\u{1b}[2Jcleared\n--manager=default\nok\ntwo\\nlines\n"
    );
    assert_eq!(run.stderr, "");

    // What it says about itself is held to the same rules.
    for variant in [2, 3] {
        let run = user.register_hostile(variant, 0, &["--yes"]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("could disguise") || run.stderr.contains("not a variable name"),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains('\u{1b}') && !run.stderr.contains('\r'),
            "{:?}",
            run.stderr
        );
    }
}

#[test]
fn at_a_terminal_even_a_raw_value_is_escaped() {
    let home = crate::support::TestHome::new();
    home.ok(&["flavor", "register", secman_test_plugins::HOSTILE, "--yes"]);
    home.ok(&["manager", "register", "liar", "--flavor", "hostile"]);
    let run = crate::terminal::at_terminal(
        &home,
        &["secret", "get", "lie_hidden", "-m", "liar", "-k", "k"],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains(r"\u{1b}[2J\u{1b}[31mred\r\u{202e}evil"),
        "{:?}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    // Through a pipe, the value is exact.
    let raw = home.ok(&["secret", "get", "lie_hidden", "-m", "liar", "-k", "k"]);
    assert!(raw.starts_with("\u{1b}[2J"), "{raw:?}");
}

#[test]
fn what_a_flavor_makes_the_host_hold_stays_within_its_limits() {
    let user = User::new();
    user.register_hostile(0, 0, &["--yes"]).ok();
    user.hostile_manager("hog", "x");
    for (attack, needle) in [
        ("hoard_fields", "made secman hold more than"),
        ("hoard_methods", "made secman hold more than"),
        ("random_flood", "crashed in get-secret"),
        ("huge_string", "memory limit of 16 MiB"),
        ("grow_memory", "memory limit of 16 MiB"),
    ] {
        let run = user.attack(&["secret", "get", attack, "-m", "hog"]);
        refused(&run, needle);
    }

    // A flavor-info of 300,000 options is refused before the host copies
    // it, and leaves nothing behind to slow later commands.
    let flavors = user.state().join("flavors.yaml");
    let before = fs::read(&flavors).unwrap();
    let wasm = user.hostile(4, 0);
    let start = Instant::now();
    let run = user.measure(&[
        "flavor",
        "register",
        wasm.to_str().unwrap(),
        "--yes",
        "--memory-limit-mib",
        "128",
    ]);
    assert!(start.elapsed() < Duration::from_secs(10));
    refused(&run.run, "more than its limit of 64 KiB");
    assert!(
        run.peak_rss_mib < 128 + HOST_OVERHEAD_MIB,
        "{} MiB",
        run.peak_rss_mib
    );
    assert_eq!(fs::read(&flavors).unwrap(), before);
}

#[test]
fn a_flavor_blocked_in_file_io_is_stopped_at_its_deadline() {
    let user = User::new();
    user.register_hostile(0, 0, &["--yes"]).ok();
    user.hostile_manager("fifo", "{storage}/fifo");
    let fifo = user.storage_of("fifo").join("fifo");
    fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    for attack in ["read_file", "write_file"] {
        let run = user.attack(&["secret", "get", attack, "-m", "fifo"]);
        refused(&run, &format!("ran past its time limit of {TIME_SECS}s"));
    }
}

#[test]
fn network_grants_are_never_broad_and_never_local_by_default() {
    let user = User::new();
    let run = user.register_hostile(5, 0, &["--yes"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("`*.com` covers a whole public suffix"),
        "{}",
        run.stderr
    );

    let server = Listener::new();
    let port = server.port();
    let run = user.register_hostile(6, port, &["--yes"]).ok();
    assert!(
        run.stderr.contains(&format!(
            "Not granted: HTTP to 127.0.0.1:{port}, localhost:{port}"
        )),
        "{}",
        run.stderr
    );
    let describe = user.ok(&["flavor", "describe", "hostile"]);
    assert!(
        describe.contains("host api.example.com") && describe.contains("only by naming it"),
        "{describe}"
    );

    let by_address = format!("https://127.0.0.1:{port}/");
    let by_name = format!("https://localhost:{port}/");
    user.hostile_manager("addr", &by_address);
    user.hostile_manager("name", &by_name);
    refused(
        &user.attack(&["secret", "get", "http_get", "-m", "addr"]),
        "which it was not granted",
    );
    assert!(!server.was_reached());

    // Named by the user, the address is reachable (the stand-in speaks
    // no TLS, so the call fails after connecting).
    let allow = format!("127.0.0.1:{port}");
    user.ok(&["flavor", "grant", "hostile", "--allow-host", &allow]);
    let run = user.attack(&["secret", "get", "http_get", "-m", "addr"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(server.was_reached(), "the granted address was not reached");

    // A name is never a way to a local address, even granted by name.
    let allow = format!("localhost:{port}");
    user.ok(&["flavor", "grant", "hostile", "--allow-host", &allow]);
    let run = user.attack(&["secret", "get", "http_get", "-m", "name"]);
    refused(
        &run,
        "a loopback address, which a granted name never reaches",
    );
    assert!(!server.was_reached());
}

#[test]
fn a_granted_file_is_a_read_only_copy_with_nothing_beside_it() {
    let user = User::new();
    let keys = user.dir.path().join("keys");
    fs::create_dir_all(&keys).unwrap();
    let key = keys.join("service_account");
    fs::write(&key, "GRANTED-KEY").unwrap();
    fs::write(keys.join("sibling"), "DECOY-SIBLING").unwrap();
    let with_key = |args: &[&str], file: &Path| {
        Run::from(
            user.command(args)
                .env("HOSTILE_KEY_FILE", file)
                .output()
                .unwrap(),
        )
    };
    user.register_hostile(7, 0, &["--allow-file", "$HOSTILE_KEY_FILE"])
        .ok();
    let describe = user.ok(&["flavor", "describe", "hostile"]);
    assert!(
        describe.contains("file $HOSTILE_KEY_FILE (read-only)")
            && describe.contains("file ~/.aws/credentials (read-only)  NOT granted"),
        "{describe}"
    );
    let sibling = keys.join("sibling");
    let aws = user.home().join(".aws/credentials");
    for (name, target) in [
        ("key", &key),
        ("sibling", &sibling),
        ("folder", &keys),
        ("aws", &aws),
    ] {
        user.hostile_manager(name, target.to_str().unwrap());
    }

    // The granted file reads as it is, where the variable says.
    let read = with_key(
        &["secret", "get", "read_file", "-m", "key", "-k", "content"],
        &key,
    );
    assert_eq!(read.ok().stdout, "GRANTED-KEY\n");
    let env = with_key(
        &["secret", "get", "read_env", "-m", "key", "-o", "json"],
        &key,
    );
    let env: Value = serde_json::from_str(&env.ok().stdout).unwrap();
    assert_eq!(env["values"]["HOSTILE_KEY_FILE"], key.to_str().unwrap());
    assert!(env["values"].get("HOME").is_none(), "{env}");

    // Nothing beside it: its folder lists only it, a sibling is not there,
    // and it cannot be written.
    let listed = with_key(
        &["secret", "get", "list_dir", "-m", "folder", "-o", "json"],
        &key,
    );
    let listed: Value = serde_json::from_str(&listed.ok().stdout).unwrap();
    let names: Vec<&String> = listed["values"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["service_account"]);
    refused(
        &with_key(&["secret", "get", "read_file", "-m", "sibling"], &key),
        "No such file",
    );
    let wrote = with_key(&["secret", "get", "write_file", "-m", "key"], &key);
    assert!([1, 5].contains(&wrote.code), "{}", wrote.stderr);
    assert_eq!(fs::read_to_string(&key).unwrap(), "GRANTED-KEY");

    // A file it asks for but was not granted is not there.
    let run = user.attack(&["secret", "get", "read_file", "-m", "aws"]);
    assert!([1, 5].contains(&run.code), "{}", run.stderr);

    // Granted by name, the home's file is there, and HOME with it.
    user.ok(&[
        "flavor",
        "grant",
        "hostile",
        "--allow-file",
        "~/.aws/credentials",
    ]);
    let read = with_key(
        &["secret", "get", "read_file", "-m", "aws", "-k", "content"],
        &key,
    );
    assert!(read.ok().stdout.contains("DECOY-AWS-SECRET"));

    // A variable aimed into secman's own folders gives nothing.
    let registry = user.state().join("flavors.yaml");
    let run = with_key(&["secret", "get", "read_file", "-m", "key"], &registry);
    fails_with(&run, 1, "inside secman's own folder");

    // A flavor cannot be granted a file it did not ask for.
    let run = user.run(&[
        "flavor",
        "grant",
        "hostile",
        "--allow-file",
        "~/.ssh/id_rsa",
    ]);
    fails_with(&run, 2, "does not ask for file `~/.ssh/id_rsa`");
}
