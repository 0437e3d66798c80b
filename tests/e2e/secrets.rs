//! `secman secret ...` on the default manager (the built-in local flavor).

use serde_json::{Value, json};

use crate::support::TestHome;

fn get_json(home: &TestHome, name: &str) -> Value {
    serde_json::from_str(&home.ok(&["secret", "get", name, "--output", "json"])).unwrap()
}

#[test]
fn a_registered_secret_reads_back_in_every_format() {
    let home = TestHome::new();
    home.ok(&[
        "secret",
        "register",
        "db",
        "username=admin",
        "password=s3cr3t",
    ]);

    assert_eq!(
        get_json(&home, "db"),
        json!({"name": "db", "schema": "arbitrary",
               "values": {"password": "s3cr3t", "username": "admin"}})
    );
    assert_eq!(
        home.ok(&["secret", "get", "db"]),
        "KEY       VALUE\npassword  s3cr3t\nusername  admin\n"
    );
    let yaml: Value =
        serde_norway::from_str(&home.ok(&["secret", "get", "db", "-o", "yaml"])).unwrap();
    assert_eq!(yaml, get_json(&home, "db"));
    assert_eq!(
        home.ok(&["secret", "get", "db", "--output", "env"]),
        "DB_PASSWORD='s3cr3t'\nDB_USERNAME='admin'\n"
    );
    assert_eq!(
        home.ok(&["secret", "get", "db", "-o", "env", "--prefix", "APP_"]),
        "APP_PASSWORD='s3cr3t'\nAPP_USERNAME='admin'\n"
    );
    assert_eq!(
        home.ok(&["secret", "get", "db", "--key", "password"]),
        "s3cr3t\n"
    );
}

#[test]
fn register_shows_keys_but_never_values() {
    let home = TestHome::new();
    let out = home.ok(&[
        "secret",
        "register",
        "db",
        "user=admin",
        "password=hunter2-value",
    ]);
    assert!(out.contains("password") && out.contains("user"), "{out}");
    assert!(
        !out.contains("hunter2-value") && !out.contains("admin"),
        "{out}"
    );
}

#[test]
fn zenml_double_dash_form_works_and_values_split_on_the_first_equals() {
    let home = TestHome::new();
    home.ok(&[
        "secret",
        "register",
        "db",
        "--url=postgres://u@h/db?x=1",
        "--empty=",
    ]);
    assert_eq!(
        get_json(&home, "db")["values"],
        json!({"url": "postgres://u@h/db?x=1", "empty": ""})
    );
}

#[test]
fn at_path_reads_a_file_and_double_at_stores_a_literal_at() {
    let home = TestHome::new();
    let file = home.path().join("cert.pem");
    std::fs::write(&file, "-----BEGIN-----\nline two\n").unwrap();
    home.ok(&[
        "secret",
        "register",
        "tls",
        &format!("cert=@{}", file.display()),
        "handle=@@someone",
    ]);
    assert_eq!(
        get_json(&home, "tls")["values"],
        json!({"cert": "-----BEGIN-----\nline two\n", "handle": "@someone"})
    );
    // A file of one line gives the line, without its line ending.
    let file = home.path().join("pw.txt");
    std::fs::write(&file, "s3cr3t\n").unwrap();
    home.ok(&[
        "secret",
        "register",
        "pw",
        &format!("password=@{}", file.display()),
    ]);
    assert_eq!(
        home.ok(&["secret", "get", "pw", "-k", "password"]),
        "s3cr3t\n"
    );
    // The path is not repeated: it may be a value that starts with `@`.
    let err = home.fails(&["secret", "register", "x", "k=@/nonexistent/file"], 1);
    assert!(
        !err.contains("/nonexistent/file") && err.contains("`k`") && err.contains("`@@`"),
        "{err}"
    );
}

#[test]
fn registering_an_existing_name_fails_and_keeps_the_old_secret() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "password=old"]);
    let err = home.fails(&["secret", "register", "db", "password=NEWVALUE123"], 4);
    assert!(
        err.contains("`db`") && err.contains("already exists"),
        "{err}"
    );
    assert!(err.contains("manager `default`"), "{err}");
    assert!(!err.contains("NEWVALUE123"), "{err}");
    assert_eq!(home.ok(&["secret", "get", "db", "-k", "password"]), "old\n");
}

#[test]
fn getting_a_missing_secret_or_key_fails_with_exit_code_3() {
    let home = TestHome::new();
    let err = home.fails(&["secret", "get", "nope"], 3);
    assert!(
        err.contains("`nope`") && err.contains("manager `default`"),
        "{err}"
    );
    home.ok(&["secret", "register", "db", "user=admin"]);
    let err = home.fails(&["secret", "get", "db", "--key", "password"], 3);
    assert!(
        err.contains("no key `password`") && err.contains("user"),
        "{err}"
    );
    assert!(!err.contains("admin"), "{err}");
}

#[test]
fn list_is_sorted_as_lines_and_as_a_json_array() {
    let home = TestHome::new();
    assert_eq!(home.ok(&["secret", "list", "-o", "json"]).trim(), "[]");
    for name in ["charlie", "alpha", "bravo"] {
        home.ok(&["secret", "register", name, "k=v"]);
    }
    assert_eq!(home.ok(&["secret", "list"]), "alpha\nbravo\ncharlie\n");
    let names: Value =
        serde_json::from_str(&home.ok(&["secret", "list", "--output", "json"])).unwrap();
    assert_eq!(names, json!(["alpha", "bravo", "charlie"]));
}

#[test]
fn update_merges_new_values_and_can_remove_keys() {
    let home = TestHome::new();
    home.ok(&[
        "secret",
        "register",
        "db",
        "user=admin",
        "password=old",
        "port=5432",
    ]);
    let out = home.ok(&[
        "secret",
        "update",
        "db",
        "password=NEWVALUE123",
        "host=db.local",
        "--remove",
        "port",
    ]);
    assert!(!out.contains("NEWVALUE123"), "{out}");
    assert_eq!(
        get_json(&home, "db")["values"],
        json!({"user": "admin", "password": "NEWVALUE123", "host": "db.local"})
    );
}

#[test]
fn updating_a_missing_secret_says_not_found() {
    // ZenML once answered "already exists" here.
    let home = TestHome::new();
    let err = home.fails(&["secret", "update", "ghost", "k=v"], 3);
    assert!(
        err.contains("`ghost`") && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(home.ok(&["secret", "list"]), "");
}

#[test]
fn bad_updates_are_usage_errors_that_change_nothing() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "user=admin"]);
    let before = std::fs::read(home.default_store()).unwrap();
    home.fails(&["secret", "update", "db"], 2);
    // A key that is not there is not found, as `secret get --key` says.
    let err = home.fails(&["secret", "update", "db", "--remove", "nokey"], 3);
    assert!(err.contains("no key `nokey` to remove"), "{err}");
    home.fails(&["secret", "get", "db", "--key", "nokey"], 3);
    home.fails(&["secret", "update", "db", "--remove", "user"], 2);
    home.fails(&["secret", "update", "db", "not-a-pair"], 2);
    assert_eq!(std::fs::read(home.default_store()).unwrap(), before);
}

#[test]
fn delete_asks_for_confirmation_and_yes_gives_it() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "k=v"]);
    let err = home.fails(&["secret", "delete", "db"], 2);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(home.ok(&["secret", "list"]), "db\n");
    home.ok(&["secret", "delete", "db", "--yes"]);
    assert_eq!(home.ok(&["secret", "list"]), "");
    let err = home.fails(&["secret", "delete", "db", "-y"], 3);
    assert!(
        err.contains("`db`") && err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn delete_all_is_refused_without_force() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "a", "k=v"]);
    home.ok(&["secret", "register", "b", "k=v"]);
    let err = home.fails(&["secret", "delete-all", "--yes"], 2);
    assert!(
        err.contains("--force (-f)") && err.contains("--yes (-y)"),
        "{err}"
    );
    assert_eq!(home.ok(&["secret", "list"]), "a\nb\n");
    home.fails(&["secret", "delete-all", "--force"], 2);
    assert_eq!(home.ok(&["secret", "list"]), "a\nb\n");
    home.ok(&["secret", "delete-all", "-f", "-y"]);
    assert_eq!(home.ok(&["secret", "list"]), "");
    // Registering afterwards starts a fresh store.
    home.ok(&["secret", "register", "c", "k=v"]);
    assert_eq!(home.ok(&["secret", "list"]), "c\n");
}

#[test]
fn schemas_are_checked_before_anything_is_written() {
    let home = TestHome::new();
    home.ok(&[
        "secret",
        "register",
        "cloud",
        "--schema",
        "aws",
        "aws_access_key_id=AKIAEXAMPLE",
        "aws_secret_access_key=wJalrXUtn",
    ]);
    assert_eq!(get_json(&home, "cloud")["schema"], "aws");

    let cases: &[&[&str]] = &[
        &[
            "secret",
            "register",
            "x",
            "--schema",
            "aws",
            "aws_access_key_id=TOPSECRETVALUE",
        ],
        &[
            "secret",
            "register",
            "x",
            "--schema",
            "basic_auth",
            "username=u",
            "password=p",
            "extra=TOPSECRETVALUE",
        ],
        &[
            "secret",
            "register",
            "x",
            "--schema",
            "nope",
            "k=TOPSECRETVALUE",
        ],
        &["secret", "register", "x", "1key=TOPSECRETVALUE"],
        &["secret", "register", "x", "name=TOPSECRETVALUE"],
        &[
            "secret",
            "register",
            "x",
            "zenml_schema_name=TOPSECRETVALUE",
        ],
        &["secret", "register", "bad\u{1b}name", "k=TOPSECRETVALUE"],
        &["secret", "register", "x"],
    ];
    for args in cases {
        let err = home.fails(args, 2);
        assert!(!err.contains("TOPSECRETVALUE"), "a value leaked: {err}");
    }
    assert_eq!(home.ok(&["secret", "list"]), "cloud\n");
    let err = home.fails(
        &["secret", "register", "x", "--schema", "gcp", "other=v"],
        2,
    );
    assert!(
        err.contains("schema `gcp`") && err.contains("token"),
        "{err}"
    );
}

#[test]
fn interactive_register_reads_hidden_values_from_piped_stdin() {
    let home = TestHome::new();
    let run = home.run_with_stdin(
        &[
            "secret",
            "register",
            "db",
            "-i",
            "username",
            "password",
            "port=5432",
        ],
        "admin\ns3cr3t\n",
    );
    let run = run.ok();
    assert!(!run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"));
    assert_eq!(
        get_json(&home, "db")["values"],
        json!({"username": "admin", "password": "s3cr3t", "port": "5432"})
    );
}

#[test]
fn interactive_register_asks_for_each_field_of_a_schema() {
    let home = TestHome::new();
    home.run_with_stdin(
        &[
            "secret",
            "register",
            "login",
            "--schema",
            "basic_auth",
            "-i",
        ],
        "admin\ns3cr3t\n",
    )
    .ok();
    assert_eq!(
        get_json(&home, "login"),
        json!({"name": "login", "schema": "basic_auth",
               "values": {"username": "admin", "password": "s3cr3t"}})
    );
    // Arbitrary: key/value pairs until an empty key.
    home.run_with_stdin(&["secret", "register", "free", "-i"], "a\n1\nb\n2\n\n")
        .ok();
    assert_eq!(
        get_json(&home, "free")["values"],
        json!({"a": "1", "b": "2"})
    );
    // Stdin that ends too early registers nothing.
    let run = home.run_with_stdin(&["secret", "register", "short", "-i", "a", "b"], "1\n");
    assert_eq!(run.code, 2, "{}", run.stderr);
    // The error has a line of its own, not the prompt's.
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("secman: error: stdin ended"),
        "{}",
        run.stderr
    );
    assert_eq!(home.ok(&["secret", "list"]), "free\nlogin\n");
}

#[test]
fn update_interactive_asks_for_new_values() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "password=old"]);
    home.run_with_stdin(&["secret", "update", "db", "-i", "password"], "new\n")
        .ok();
    assert_eq!(home.ok(&["secret", "get", "db", "-k", "password"]), "new\n");
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let home = TestHome::new();
    for i in 0..50 {
        home.ok(&["secret", "register", &format!("s{i:02}"), "k=v"]);
    }
    let mut child = home
        .command(&["secret", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_full_disk_is_named_when_the_output_cannot_be_written() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "k=v"]);
    let full = std::fs::File::create("/dev/full").unwrap();
    let output = home
        .command(&["secret", "get", "db", "-k", "k"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write the output to stdout")
            && stderr.contains("No space left on device"),
        "{stderr}"
    );
}

#[test]
fn command_line_mistakes_exit_with_2() {
    let home = TestHome::new();
    for args in [
        &["secret"][..],
        &["secret", "get"],
        &["secret", "get", "x", "--output", "xml"],
        &["nonsense"],
    ] {
        let run = home.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
}

#[test]
fn scripts_tell_failures_apart_by_exit_code_and_json_kind() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "user=admin"]);
    let error = |args: &[&str], code: i32| -> Value {
        let run = home.run(args);
        assert_eq!(run.code, code, "{}", run.stderr);
        assert_eq!(run.stdout, "");
        serde_json::from_str::<Value>(&run.stderr).unwrap()["error"].clone()
    };
    let missing = error(&["secret", "get", "nope", "-o", "json"], 3);
    assert_eq!(missing["kind"], "not-found");
    assert_eq!(missing["exit_code"], 3);
    assert!(
        missing["message"].as_str().unwrap().contains("`nope`"),
        "{missing}"
    );
    let taken = error(&["-o", "json", "secret", "register", "db", "k=v"], 4);
    assert_eq!(taken["kind"], "already-exists");
    let bad = error(&["-o", "json", "secret", "register", "-x", "k=v"], 2);
    assert_eq!(bad["kind"], "usage");
    // Without -o json the same failures keep their codes, in words.
    assert!(
        home.fails(&["secret", "get", "nope"], 3)
            .contains("does not exist")
    );
    assert!(
        home.fails(&["secret", "update", "nope", "k=v"], 3)
            .contains("does not exist")
    );
}

#[test]
fn global_options_go_before_or_after_the_command() {
    let home = TestHome::new();
    home.ok(&["manager", "register", "other", "--flavor", "local"]);
    home.ok(&["-m", "other", "secret", "register", "db", "k=v"]);
    assert_eq!(home.ok(&["secret", "list", "-m", "other"]), "db\n");
    assert_eq!(home.ok(&["--manager", "other", "secret", "list"]), "db\n");
    assert_eq!(home.ok(&["secret", "list"]), "");
    let json = home.ok(&["-o", "json", "-m", "other", "secret", "get", "db"]);
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap()["values"]["k"],
        "v"
    );
    assert_eq!(
        home.ok(&["-m", "other", "-o", "env", "secret", "get", "db"]),
        "DB_K='v'\n"
    );
    assert!(
        home.fails(&["-o", "env", "secret", "list"], 2)
            .contains("--output env")
    );
    assert!(
        home.fails(&["-m", "other", "manager", "list"], 2)
            .contains("--manager")
    );
}

#[test]
fn a_mistyped_value_never_shows_in_the_error() {
    let home = TestHome::new();
    for (arg, code) in [
        ("password:TOPSECRET-1", 2),
        ("password=@TOPSECRET-2", 1),
        ("--password:TOPSECRET-3", 2),
    ] {
        let err = home.fails(&["secret", "register", "db", "user=u", arg], code);
        assert!(!err.contains("TOPSECRET"), "{arg}: {err}");
        assert!(err.contains("`password`"), "{arg}: {err}");
    }
    home.fails(&["secret", "get", "db"], 3);
}

#[test]
fn secman_profile_prints_the_stages_of_a_command_on_stderr_only() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "password=pw"]);
    let run = crate::support::Run::from(
        home.command(&["secret", "get", "db", "-k", "password"])
            .env("SECMAN_PROFILE", "1")
            .output()
            .unwrap(),
    )
    .ok();
    assert_eq!(run.stdout, "pw\n");
    let line = run.stderr.strip_prefix("secman: profile: ").unwrap();
    let stages: Vec<(&str, u64)> = line
        .trim_end()
        .split(' ')
        .map(|pair| {
            let (stage, micros) = pair.split_once('=').unwrap();
            (stage, micros.parse().unwrap())
        })
        .collect();
    let names: Vec<&str> = stages.iter().map(|(stage, _)| *stage).collect();
    assert_eq!(
        names,
        [
            "arguments",
            "tokio",
            "engine",
            "clock",
            "cache",
            "config",
            "load",
            "linker",
            "info",
            "instantiate",
            "call",
            "output",
            "close",
            "exit",
            "total"
        ]
    );
    let sum: u64 = stages[..stages.len() - 1].iter().map(|(_, m)| m).sum();
    let total = stages[stages.len() - 1].1;
    assert!(sum.abs_diff(total) <= stages.len() as u64, "{line}");
    // Without the variable, nothing is printed.
    let quiet = home.run(&["secret", "get", "db", "-k", "password"]);
    assert_eq!(quiet.stderr, "");
}

/// Every error secman prints, in every way a test here can make it fail,
/// holds none of the secret values involved: each value carries a marker,
/// and the marker is looked for in all that the failing commands printed.
#[test]
fn no_error_secman_prints_holds_a_secret_value() {
    const MARKER: &str = "S3CRET";
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "password=S3CRET-db", "user=u"]);
    home.ok(&["secret", "register", "api", "token=S3CRET-api"]);
    home.local_manager("other", &home.store_file("other"));
    home.ok(&[
        "secret",
        "register",
        "db",
        "password=S3CRET-other",
        "-m",
        "other",
    ]);
    let big = format!("k={MARKER}{}", "x".repeat(70_000));
    home.ok(&[
        "manager",
        "register",
        "aws",
        "--flavor",
        "aws",
        "--option",
        "region_name=us-east-1",
        "--option",
        "endpoint_url=http://127.0.0.1:9",
    ]);
    let cases: &[&[&str]] = &[
        &["secret", "register", "db", "password=S3CRET-new"],
        &["secret", "register", "x", "password:S3CRET-typo"],
        &["secret", "register", "x", "password=@S3CRET-not-a-file"],
        &["secret", "register", "x", "bad key=S3CRET-v"],
        &["secret", "register", "bad\u{1b}name", "k=S3CRET-v"],
        &[
            "secret",
            "register",
            "x",
            "--schema",
            "basic_auth",
            "extra=S3CRET-v",
        ],
        &["secret", "get", "db", "-k", "nokey"],
        &["secret", "get", "db", "-k", "nokey", "-o", "json"],
        &["secret", "get", "db", "-o", "env", "--prefix", "1bad"],
        &[
            "secret",
            "update",
            "db",
            "--remove",
            "nokey",
            "password=S3CRET-u",
        ],
        &["secret", "update", "nope", "password=S3CRET-u"],
        &[
            "secret", "update", "db", "--remove", "password", "--remove", "user",
        ],
        &[
            "secret", "copy", "--all", "--from", "default", "--to", "other",
        ],
        &["secret", "copy", "db", "--from", "default", "--to", "aws"],
        &["secret", "register", "big", &big, "-m", "aws"],
        &["run", "--secret", "db", "--", "/no/such/command"],
        &["run", "--secret", "db:1", "--", "true"],
        &[
            "run", "--secret", "db:", "--secret", "api:", "--secret", "db:", "--", "true",
        ],
        &["-v", "secret", "get", "nope"],
    ];
    for args in cases {
        let run = home.run(args);
        assert_ne!(run.code, 0, "{args:?} succeeded: {}", run.stdout);
        let printed = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !printed.contains(MARKER),
            "{args:?} printed a value: {printed}"
        );
    }
    // Wrong credentials are not echoed either.
    let run = crate::support::Run::from(
        home.command(&["secret", "list", "-m", "aws"])
            .env("AWS_ACCESS_KEY_ID", "AKIAS3CRET")
            .env("AWS_SECRET_ACCESS_KEY", "S3CRET-key")
            .output()
            .unwrap(),
    );
    assert_ne!(run.code, 0);
    assert!(!run.stderr.contains("S3CRET-key"), "{}", run.stderr);
}
