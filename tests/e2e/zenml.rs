//! Stores written by ZenML are read by secman, and the other way round.
//!
//! The oracle is ZenML 0.52.0's own `LocalSecretsManager`, driven by
//! `tests/peers/zenml_local.py`: what it writes, how it reads, and what it
//! writes when it does the same thing secman did.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{TestHome, peer_json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/zenml");

/// Registers a manager `zen` whose store is `store`.
fn zenml_manager(home: &TestHome, store: &Path) {
    home.local_manager("zen", store);
}

/// Runs ZenML's own local secrets manager on `store`: `decode` prints
/// every secret as ZenML gets it; `register` and `update` take secrets
/// (`[{"name", "schema", "values"}]`) on stdin; `delete` takes names.
fn zenml(command: &str, store: &Path, names: &[&str], input: Option<&Value>) -> Value {
    let mut args = vec![command, store.to_str().unwrap()];
    args.extend(names);
    peer_json("SECMAN_TEST_ZENML_PYTHON", "zenml_local.py", &args, input)
}

/// Every secret of `store`, as ZenML gets it.
fn zenml_decode(store: &Path) -> Value {
    zenml("decode", store, &[], None)
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

    let decoded = zenml_decode(&store);
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
        "login": {"schema": "basic_auth", "values": {"username": "root", "password": "pw"}},
    });
    let as_list: Vec<Value> = secrets
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, s)| json!({"name": name, "schema": s["schema"], "values": s["values"]}))
        .collect();
    zenml("register", &store, &[], Some(&json!(as_list)));
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
    assert_eq!(zenml_decode(&store)["a"]["values"]["k"], "v");
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

/// `values` as a JSON map.
fn values(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    )
}

/// `secret register NAME KEY=VALUE...` through secman.
fn secman_register(home: &TestHome, name: &str, content: &Value) {
    let pairs: Vec<String> = content
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
        .collect();
    let mut args = vec!["secret", "register", name, "-m", "zen"];
    args.extend(pairs.iter().map(String::as_str));
    home.ok(&args);
}

/// Names and keys that YAML 1.1 reads as something else unless quoted.
const MISREAD: &[&str] = &[
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "null",
    "1_000",
    "1__",
    "0x1F",
    "017",
    "+1",
    "1e3",
    "2001-12-14",
    "=",
    ".inf",
    ".NaN",
];

#[test]
fn names_and_keys_yaml_1_1_misreads_are_written_as_zenml_writes_them() {
    let home = TestHome::new();
    let ours = home.store_file("secman.yaml");
    let theirs = home.path().join("zenml-wrote.yaml");
    zenml_manager(&home, &ours);
    let long = "n".repeat(130);
    let content = values(&[
        ("yes", "1"),
        ("on", "line\nbreak"),
        ("null", ""),
        ("clé", "ünïcödé"),
        ("k", "yes"),
    ]);
    let mut names: Vec<&str> = MISREAD.to_vec();
    names.push(&long);
    for name in &names {
        secman_register(&home, name, &content);
        let secret = json!([{"name": name, "schema": "arbitrary", "values": content}]);
        zenml("register", &theirs, &[], Some(&secret));
    }
    assert_eq!(
        std::fs::read_to_string(&ours).unwrap(),
        std::fs::read_to_string(&theirs).unwrap(),
        "secman's store is not the bytes ZenML writes for the same secrets"
    );
    let decoded = zenml_decode(&ours);
    for name in &names {
        assert_eq!(
            decoded[*name],
            json!({"schema": "arbitrary", "values": content}),
            "{name}"
        );
    }
}

#[test]
fn a_command_on_a_store_zenml_wrote_changes_only_its_secret() {
    let home = TestHome::new();
    let written = home.path().join("zenml.yaml");
    // What ZenML users have: names secman can address and names it
    // cannot (`12:30`, `clé`, spaces), keys and values YAML misreads.
    let long = "x".repeat(200);
    let mut names: Vec<String> = MISREAD.iter().map(|n| n.to_string()).collect();
    names.extend(
        [
            "12:30",
            "clé",
            "a b",
            "<<",
            "~",
            "2001-12-14 21:59:43",
            &long,
            "-dash",
        ]
        .iter()
        .map(|n| n.to_string()),
    );
    names.extend((0..38).map(|i| format!("s{i:02}")));
    let secrets: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let content = values(&[
                ("on", "x"),
                ("yes", &format!("value {i}\nwith: yaml #")),
                ("clé", "秘密"),
                ("n", &i.to_string()),
            ]);
            json!({"name": name, "schema": "arbitrary", "values": content})
        })
        .collect();
    assert!(secrets.len() >= 62);
    zenml("register", &written, &[], Some(&json!(secrets)));
    let before = zenml_decode(&written);
    assert!(
        before
            .as_object()
            .unwrap()
            .values()
            .all(|s| s.get("error").is_none()),
        "{before}"
    );

    // secman reads every secret it can address as ZenML does.
    let ours = home.store_file("secrets.yaml");
    std::fs::copy(&written, &ours).unwrap();
    zenml_manager(&home, &ours);
    for name in MISREAD.iter().chain(&["s00", "s37"]) {
        let got: Value =
            serde_json::from_str(&home.ok(&["secret", "get", name, "-m", "zen", "-o", "json"]))
                .unwrap();
        assert_eq!(got["values"], before[*name]["values"], "{name}");
    }
    assert_eq!(
        std::fs::read(&ours).unwrap(),
        std::fs::read(&written).unwrap()
    );

    // Each command, done by secman and by ZenML on copies: the same bytes,
    // and ZenML reads everything else as before.
    let new_content = values(&[("yes", "new"), ("k", "v")]);
    let updated = {
        let mut content = before["on"]["values"].clone();
        content["n"] = json!("updated");
        content
    };
    // (secman's command, ZenML's method, the secret, its new content)
    let commands: [(&[&str], &str, &str, Option<Value>); 3] = [
        (
            &["secret", "register", "Off", "yes=new", "k=v"],
            "register",
            "Off",
            Some(new_content),
        ),
        (
            &["secret", "update", "on", "n=updated"],
            "update",
            "on",
            Some(updated),
        ),
        (
            &["secret", "delete", "1_000", "--yes"],
            "delete",
            "1_000",
            None,
        ),
    ];
    for (args, method, changed, content) in commands {
        std::fs::copy(&written, &ours).unwrap();
        let theirs = home.path().join("zenml-did.yaml");
        std::fs::copy(&written, &theirs).unwrap();
        let mut args = args.to_vec();
        args.extend(["-m", "zen"]);
        home.ok(&args);
        match &content {
            Some(values) => {
                let secret = json!([{"name": changed, "schema": "arbitrary", "values": values}]);
                zenml(method, &theirs, &[], Some(&secret));
            }
            None => {
                zenml(method, &theirs, &[changed], None);
            }
        }
        assert_eq!(
            std::fs::read_to_string(&ours).unwrap(),
            std::fs::read_to_string(&theirs).unwrap(),
            "{args:?}: secman's store is not the bytes ZenML writes"
        );
        let mut expected = before.clone();
        match &content {
            Some(content) => expected[changed] = json!({"schema": "arbitrary", "values": content}),
            None => {
                expected.as_object_mut().unwrap().remove(changed);
            }
        }
        assert_eq!(zenml_decode(&ours), expected, "{args:?}");
    }
}

/// Names ZenML's own CLI and API write without complaint, which secman
/// once refused to address.
const ZENML_NAMES: &[&str] = &[
    "my secret",
    "ns:db",
    "~tilde",
    "a/b",
    "clé d'API",
    "日本語",
    "-dash",
    "--help",
    "#hash",
    "\"double\"",
    "'single'",
    "a=b@c+d",
];

#[test]
fn every_name_zenml_writes_is_listed_read_updated_deleted_and_copied() {
    let home = TestHome::new();
    let written = home.path().join("zenml.yaml");
    // A name with a tab too: secman reads it, and creates no such name.
    let mut names: Vec<&str> = ZENML_NAMES.to_vec();
    names.push("tab\there");
    let secrets: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"name": name, "schema": "arbitrary",
                   "values": values(&[("k", &format!("value {i}"))])})
        })
        .collect();
    zenml("register", &written, &[], Some(&json!(secrets)));
    let before = zenml_decode(&written);
    let ours = home.store_file("secrets.yaml");
    std::fs::copy(&written, &ours).unwrap();
    zenml_manager(&home, &ours);

    // Listed, every one: exact in JSON, one a line (escaped) in plain text.
    let listed: Vec<String> =
        serde_json::from_str(&home.ok(&["secret", "list", "-m", "zen", "-o", "json"])).unwrap();
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    let plain = home.ok(&["secret", "list", "-m", "zen"]);
    assert_eq!(plain.lines().count(), names.len(), "{plain}");
    assert!(plain.contains("tab\\there\n"), "{plain}");

    // Read as ZenML reads them (after `--`, a leading `-` is a name).
    for name in &names {
        let got: Value = serde_json::from_str(
            &home.ok(&["secret", "get", "-m", "zen", "-o", "json", "--", name]),
        )
        .unwrap();
        assert_eq!(got["values"], before[*name]["values"], "{name}");
        assert_eq!(
            home.ok(&["secret", "get", "-m", "zen", "-k", "k", "--", name]),
            format!("{}\n", before[*name]["values"]["k"].as_str().unwrap())
        );
    }

    // Updated, registered and deleted: the bytes ZenML writes.
    let commands: [(&[&str], &str, &str, Option<Value>); 4] = [
        (
            &["secret", "update", "-m", "zen", "--", "-dash", "k=updated"],
            "update",
            "-dash",
            Some(values(&[("k", "updated")])),
        ),
        (
            &[
                "secret",
                "update",
                "-m",
                "zen",
                "--",
                "tab\there",
                "k=updated",
            ],
            "update",
            "tab\there",
            Some(values(&[("k", "updated")])),
        ),
        (
            &[
                "secret",
                "register",
                "-m",
                "zen",
                "--",
                "new: name ✓",
                "k=v",
            ],
            "register",
            "new: name ✓",
            Some(values(&[("k", "v")])),
        ),
        (
            &["secret", "delete", "-m", "zen", "--yes", "--", "#hash"],
            "delete",
            "#hash",
            None,
        ),
    ];
    for (args, method, changed, content) in commands {
        std::fs::copy(&written, &ours).unwrap();
        let theirs = home.path().join("zenml-did.yaml");
        std::fs::copy(&written, &theirs).unwrap();
        home.ok(args);
        match &content {
            Some(values) => {
                let secret = json!([{"name": changed, "schema": "arbitrary", "values": values}]);
                zenml(method, &theirs, &[], Some(&secret));
            }
            None => {
                zenml(method, &theirs, &[changed], None);
            }
        }
        assert_eq!(
            std::fs::read_to_string(&ours).unwrap(),
            std::fs::read_to_string(&theirs).unwrap(),
            "{args:?}: secman's store is not the bytes ZenML writes"
        );
    }

    // Copied, every one, to a store ZenML reads the same.
    std::fs::copy(&written, &ours).unwrap();
    let other = home.path().join("other").join("secrets.yaml");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    home.local_manager("other", &other);
    home.ok(&["secret", "copy", "--all", "--from", "zen", "--to", "other"]);
    assert_eq!(zenml_decode(&other), before);

    // A new name may hold anything but what hides on a terminal.
    let err = home.fails(
        &["secret", "register", "-m", "zen", "--", "x\u{1b}[2J", "k=v"],
        2,
    );
    assert!(err.contains("control or invisible character"), "{err}");
}
