//! `secman run`: a command with secrets in its environment.

use crate::support::TestHome;

/// `secman run ARGS -- sh -c SCRIPT`.
fn run_sh(home: &TestHome, args: &[&str], script: &str) -> crate::support::Run {
    let mut all = vec!["run"];
    all.extend(args);
    all.extend(["--", "sh", "-c", script]);
    home.run(&all)
}

#[test]
fn a_command_gets_the_secrets_as_variables_and_its_exit_status_is_secmans() {
    let home = TestHome::new();
    home.ok(&[
        "secret",
        "register",
        "db",
        "user=admin",
        "password=p w$x'\"`;",
    ]);
    home.ok(&["secret", "register", "api", "token=t0k"]);
    let pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    home.ok(&["secret", "register", "tls", &format!("cert={pem}")]);
    let run = run_sh(
        &home,
        &["--secret", "db", "-s", "api:TOK_", "--secret", "tls:"],
        r#"printf '%s|%s|%s|%s' "$DB_USER" "$DB_PASSWORD" "$TOK_TOKEN" "$CERT""#,
    )
    .ok();
    assert_eq!(run.stdout, format!("admin|p w$x'\"`;|t0k|{pem}"));
    // The exit status passes through, and so does stdin and stderr.
    let run = run_sh(&home, &["--secret", "api"], "echo oops >&2; exit 7");
    assert_eq!((run.code, run.stderr.as_str()), (7, "oops\n"));
    // With -m (or SECMAN_MANAGER) another manager's secrets.
    home.local_manager("other", &home.store_file("other.yaml"));
    home.ok(&["secret", "register", "db", "user=other", "-m", "other"]);
    let run = run_sh(
        &home,
        &["-m", "other", "--secret", "db"],
        r#"printf %s "$DB_USER""#,
    );
    assert_eq!(run.ok().stdout, "other");
}

#[test]
fn nothing_runs_unless_every_variable_can_be_set() {
    let home = TestHome::new();
    let marker = home.path().join("ran");
    let script = format!("touch {}", marker.display());
    home.ok(&["secret", "register", "a", "k=1"]);
    home.ok(&["secret", "register", "b", "k=2"]);
    home.ok(&["secret", "register", "evil", "ld_preload=/tmp/x.so"]);

    let err = run_sh(&home, &["--secret", "a", "--secret", "missing"], &script)
        .fails(3)
        .stderr;
    assert!(
        err.contains("`missing`") && err.contains("not run"),
        "{err}"
    );
    // Two secrets giving the same variable.
    let err = run_sh(&home, &["--secret", "a:", "--secret", "b:"], &script)
        .fails(2)
        .stderr;
    assert!(err.contains("both give variable K"), "{err}");
    // A variable that changes how programs behave.
    let err = run_sh(&home, &["--secret", "evil:"], &script)
        .fails(2)
        .stderr;
    assert!(err.contains("LD_PRELOAD"), "{err}");
    assert!(!err.contains("/tmp/x.so"), "{err}");
    assert!(!marker.exists(), "the command must not have run");
    // A command that cannot be started.
    let err = home
        .run(&["run", "--secret", "a", "--", "/nonexistent/cmd"])
        .fails(1)
        .stderr;
    assert!(err.contains("cannot run `/nonexistent/cmd`"), "{err}");
}

/// The command starts with no trace of the clock that times flavor calls:
/// no timer signal pending, blocked or ignored (a tick pending at `exec`
/// would end it). The command runs long enough for many ticks to have
/// been due, had the clock survived.
#[test]
fn the_command_inherits_no_signal_of_secmans_clock() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "user=admin"]);
    let run = run_sh(
        &home,
        &["--secret", "db"],
        "sleep 0.1; grep -E '^(SigPnd|ShdPnd|SigBlk|SigIgn):' /proc/self/status",
    )
    .ok();
    let masks: Vec<(&str, u64)> = run
        .stdout
        .lines()
        .map(|line| {
            let (name, mask) = line.split_once(':').unwrap();
            (name, u64::from_str_radix(mask.trim(), 16).unwrap())
        })
        .collect();
    assert_eq!(masks.len(), 4, "{}", run.stdout);
    // Signal n is bit n - 1; the clock's is SIGRTMIN + 1.
    let tick = (libc::SIGRTMIN() + 1) as u32;
    for (name, mask) in masks {
        assert_eq!(
            mask & (1 << (tick - 1)),
            0,
            "{name} holds the clock's signal"
        );
        if name != "SigIgn" {
            assert_eq!(mask, 0, "{name}: {mask:x}");
        }
    }
}
