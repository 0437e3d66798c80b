//! `secman secret copy`: secrets moved between managers whole, a stopped
//! copy finished by running it again, and AWS (moto, checked with boto3)
//! as a destination.

use serde_json::{Value, json};

use crate::support::{TestHome, peer, peer_json};

/// Two local managers, `a` (with `db`, `api` and `cache`) and `b`.
fn two_stores(home: &TestHome) {
    home.local_manager("a", &home.store_file("a"));
    home.local_manager("b", &home.store_file("b"));
    for (name, value) in [("db", "pw1"), ("api", "pw2"), ("cache", "pw3")] {
        home.ok(&[
            "secret",
            "register",
            name,
            &format!("password={value}"),
            "-m",
            "a",
        ]);
    }
}

#[test]
fn a_copy_of_all_secrets_is_whole_and_a_second_run_changes_nothing() {
    let home = TestHome::new();
    two_stores(&home);
    let said = home.ok(&["secret", "copy", "--all", "--from", "a", "--to", "b"]);
    assert_eq!(said, "Copied 3 of 3 secrets from `a` to `b`\n");
    for name in ["api", "cache", "db"] {
        assert_eq!(home.secret_json(name, "b"), home.secret_json(name, "a"));
    }
    let again = home.ok(&["secret", "copy", "--all", "--from", "a", "--to", "b"]);
    assert_eq!(
        again,
        "Copied 0 of 3 secrets from `a` to `b` (3 already there)\n"
    );

    // A secret the destination holds with other values is left, and named.
    home.ok(&["secret", "update", "db", "password=changed", "-m", "b"]);
    let err = home.fails(&["secret", "copy", "--all", "--from", "a", "--to", "b"], 4);
    assert!(
        err.contains("1 secret(s) exist in `b` with other values") && err.contains("`db`"),
        "{err}"
    );
    assert!(!err.contains("pw1") && !err.contains("changed"), "{err}");
    assert_eq!(
        home.ok(&["secret", "get", "db", "-k", "password", "-m", "b"]),
        "changed\n"
    );
    let json: Value = serde_json::from_str(&home.ok(&[
        "secret",
        "copy",
        "db",
        "--from",
        "a",
        "--to",
        "b",
        "--overwrite",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["overwritten"], json!(["db"]));
    assert_eq!(
        home.ok(&["secret", "get", "db", "-k", "password", "-m", "b"]),
        "pw1\n"
    );

    let err = home.fails(&["secret", "copy", "db", "--from", "a", "--to", "a"], 2);
    assert!(err.contains("the same manager"), "{err}");
    let err = home.fails(&["secret", "copy", "nope", "--from", "a", "--to", "b"], 3);
    assert!(err.contains("stopped at `nope`"), "{err}");
}

#[test]
fn a_copy_to_aws_that_stops_says_what_was_not_copied_and_a_second_run_finishes_it() {
    let home = TestHome::new();
    let u = home.unique();
    home.local_manager("local", &home.store_file("local"));
    let names = [format!("a{u}"), format!("b{u}"), format!("c{u}")];
    for name in &names {
        home.ok(&["secret", "register", name, "k=v", "-m", "local"]);
    }
    // More than AWS keeps in one secret: the copy stops there.
    let big = format!("k={}", "x".repeat(70_000));
    home.ok(&["secret", "update", &names[1], &big, "-m", "local"]);
    let region = "region_name=us-east-1".to_string();
    let endpoint = format!("endpoint_url={}", peer("SECMAN_TEST_MOTO_URL"));
    home.ok(&[
        "manager", "register", "cloud", "--flavor", "aws", "--option", &region, "--option",
        &endpoint, "--scope", "global",
    ]);

    let err = home.fails(
        &[
            "secret", "copy", "--all", "--from", "local", "--to", "cloud",
        ],
        2,
    );
    assert!(
        err.contains("copied 1 of 3 secrets")
            && err.contains(&format!("stopped at `{}`", names[1]))
            && err.contains(&format!("not copied: `{}`, `{}`", names[1], names[2])),
        "{err}"
    );
    assert!(!err.contains("xxxx"), "{err}");

    home.ok(&["secret", "update", &names[1], "k=small", "-m", "local"]);
    let said = home.ok(&[
        "secret", "copy", "--all", "--from", "local", "--to", "cloud",
    ]);
    assert_eq!(
        said,
        "Copied 2 of 3 secrets from `local` to `cloud` (1 already there)\n"
    );
    for (name, value) in [(&names[0], "v"), (&names[1], "small"), (&names[2], "v")] {
        let args = [
            peer("SECMAN_TEST_MOTO_URL"),
            "us-east-1".into(),
            "get_secret_value".into(),
            json!({"SecretId": format!("zenml/global/{name}")}).to_string(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let got = peer_json("SECMAN_TEST_PYTHON", "boto3_call.py", &args, None);
        let stored: Value = serde_json::from_str(got["SecretString"].as_str().unwrap()).unwrap();
        assert_eq!(stored["k"], value, "{got}");
    }
}
