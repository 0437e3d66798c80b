//! Stores written by ZenML are read by secman, and the other way round.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{TestHome, python};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/zenml");

/// Registers a manager `zen` whose store is `store`.
fn zenml_manager(home: &TestHome, store: &Path) {
    home.local_manager("zen", store);
}

/// Runs ZenML's store rules (`zenml_local_store.py`) with PyYAML.
fn zenml(command: &str, store: &Path, input: Option<&Value>) -> Value {
    let mut child = Command::new(python())
        .arg(Path::new(FIXTURES).join("zenml_local_store.py"))
        .args([command, store.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run python");
    let stdin = child.stdin.take().unwrap();
    if let Some(input) = input {
        serde_json::to_writer(stdin, input).unwrap();
    } else {
        drop(stdin);
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "ZenML's rules failed on {}: {}",
        store.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

fn fixture_copy(home: &TestHome) -> PathBuf {
    let dir = home
        .path()
        .join("zenml")
        .join("local_stores")
        .join("0d6c5e7a");
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("secrets.yaml");
    std::fs::copy(Path::new(FIXTURES).join("secrets.yaml"), &store).unwrap();
    store
}

#[test]
fn the_reference_zenml_store_reads_through_secrets_file() {
    let home = TestHome::new();
    let store = fixture_copy(&home);
    let before = std::fs::read(&store).unwrap();
    zenml_manager(&home, &store);

    assert_eq!(
        home.ok(&["secret", "list", "-m", "zen"]),
        "db_creds\nmy_aws\n"
    );
    let db: Value =
        serde_json::from_str(&home.ok(&["secret", "get", "db_creds", "-m", "zen", "-o", "json"]))
            .unwrap();
    assert_eq!(
        db,
        json!({"name": "db_creds", "schema": "arbitrary",
               "values": {"password": "s3cr3t", "username": "admin"}})
    );
    let aws: Value =
        serde_json::from_str(&home.ok(&["secret", "get", "my_aws", "-m", "zen", "-o", "json"]))
            .unwrap();
    assert_eq!(
        aws,
        json!({"name": "my_aws", "schema": "aws",
               "values": {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "wJalrXUtn"}})
    );
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "reading must not rewrite the store"
    );
}

#[test]
fn what_secman_writes_decodes_by_zenml_rules() {
    let home = TestHome::new();
    let store = fixture_copy(&home);
    zenml_manager(&home, &store);
    // Values YAML would misread if they were not quoted or encoded.
    let tricky = [
        ("unicode", "pässwörd ✓ 秘密"),
        ("multiline", "line one\nline two\n"),
        ("number", "12345"),
        ("boolean", "yes"),
        ("empty", ""),
        ("yaml", "key: [value, {x: 1}] # not a comment"),
    ];
    let mut args = vec!["secret", "register", "tricky", "-m", "zen"];
    let pairs: Vec<String> = tricky.iter().map(|(k, v)| format!("{k}={v}")).collect();
    args.extend(pairs.iter().map(String::as_str));
    home.ok(&args);
    home.ok(&[
        "secret",
        "update",
        "db_creds",
        "-m",
        "zen",
        "password=n3w",
        "--remove",
        "username",
    ]);
    home.ok(&[
        "secret",
        "register",
        "login",
        "-m",
        "zen",
        "--schema",
        "basic_auth",
        "username=u",
        "password=p",
    ]);

    let decoded = zenml("decode", &store, None);
    let values: serde_json::Map<String, Value> = tricky
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    assert_eq!(
        decoded,
        json!({
            "db_creds": {"schema": "arbitrary", "values": {"password": "n3w"}},
            "login": {"schema": "basic_auth", "values": {"password": "p", "username": "u"}},
            "my_aws": {"schema": "aws", "values": {
                "aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "wJalrXUtn"}},
            "tricky": {"schema": "arbitrary", "values": values},
        })
    );
    // ZenML writes keys sorted at both levels; so does secman.
    let text = std::fs::read_to_string(&store).unwrap();
    let names: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(names, ["db_creds:", "login:", "my_aws:", "tricky:"]);
    assert!(
        text.contains(
            "login:\n  password: cA==\n  username: dQ==\n  zenml_schema_name: basic_auth\n"
        ),
        "{text}"
    );
}

#[test]
fn what_zenml_writes_secman_reads() {
    let home = TestHome::new();
    let store = home.store_file("written-by-zenml.yaml");
    let secrets = json!({
        "api": {"schema": "arbitrary", "values": {
            "token": "tok: en\n#1 ✓", "number": "007", "empty": "", "null_word": "null"}},
        "mysql_db": {"schema": "mysql", "values": {"user": "root", "password": "pw"}},
    });
    zenml("encode", &store, Some(&secrets));
    zenml_manager(&home, &store);
    for (name, secret) in secrets.as_object().unwrap() {
        let got: Value =
            serde_json::from_str(&home.ok(&["secret", "get", name, "-m", "zen", "-o", "json"]))
                .unwrap();
        assert_eq!(got["schema"], secret["schema"], "{name}");
        assert_eq!(got["values"], secret["values"], "{name}");
    }
}

#[test]
fn an_empty_store_file_as_zenml_creates_it_is_an_empty_store() {
    let home = TestHome::new();
    let store = home.store_file("secrets.yaml");
    std::fs::write(&store, "").unwrap();
    zenml_manager(&home, &store);
    assert_eq!(home.ok(&["secret", "list", "-m", "zen"]), "");
    home.ok(&["secret", "register", "a", "k=v", "-m", "zen"]);
    assert_eq!(zenml("decode", &store, None)["a"]["values"]["k"], "v");
}

#[test]
fn a_corrupt_store_gives_a_clear_error_and_is_left_untouched() {
    let home = TestHome::new();
    let store = home.store_file("secrets.yaml");
    let corrupt = "db_creds:\n  password: TOPSECRETVALUE\n  - this is not a map\n";
    std::fs::write(&store, corrupt).unwrap();
    zenml_manager(&home, &store);
    for args in [
        &["secret", "list", "-m", "zen"][..],
        &["secret", "register", "x", "k=v", "-m", "zen"],
        &["secret", "delete", "db_creds", "-m", "zen", "--yes"],
    ] {
        let err = home.fails(args, 1);
        assert!(err.contains(&store.display().to_string()), "{err}");
        assert!(err.contains("line") && err.contains("untouched"), "{err}");
        assert!(!err.contains("TOPSECRETVALUE"), "a value leaked: {err}");
    }
    assert_eq!(std::fs::read_to_string(&store).unwrap(), corrupt);

    // A value that is not base64 names the secret and key, not the value.
    std::fs::write(
        &store,
        "db:\n  password: 'not base64!'\n  zenml_schema_name: arbitrary\n",
    )
    .unwrap();
    let err = home.fails(&["secret", "get", "db", "-m", "zen"], 1);
    assert!(
        err.contains("`password`") && err.contains("`db`") && !err.contains("not base64!"),
        "{err}"
    );
}
