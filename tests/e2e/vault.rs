//! The `vault` flavor against a real OpenBao dev server, checked with
//! OpenBao's own CLI (`bao`) and ZenML 0.52.0's own VaultSecretsManager.
//!
//! Each test works in a KV version 2 mount of its own, so that deleting
//! everything in scope `none` (the mount's root) touches no other test.

use std::process::Command;

use serde_json::{Value, json};

use crate::http_stub::HttpStub;
use crate::support::{Run, TestHome, peer, peer_json};

fn url() -> String {
    peer("SECMAN_TEST_VAULT_URL")
}

/// `bao ARGS` against the test server, as its root; its JSON answer.
fn bao(args: &[&str]) -> Value {
    let output = Command::new(peer("SECMAN_TEST_BAO"))
        .args(args)
        .env("VAULT_ADDR", url())
        .env("VAULT_TOKEN", peer("SECMAN_TEST_VAULT_TOKEN"))
        .output()
        .expect("cannot run bao");
    assert!(
        output.status.success(),
        "bao {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// A new KV version 2 mount for `home`'s test; its path.
fn fresh_mount(home: &TestHome) -> String {
    let mount = format!("kv{}", home.unique());
    bao(&["secrets", "enable", &format!("-path={mount}"), "kv-v2"]);
    mount
}

/// Registers manager `name` of the vault flavor on mount `mount`.
fn vault_manager(home: &TestHome, name: &str, mount: &str, scope: &[&str]) {
    let url = format!("url={}", url());
    let mount = format!("mount_point={mount}");
    let mut args = vec!["manager", "register", name, "--flavor", "vault"];
    args.extend(["--option", &url, "--option", &mount]);
    args.extend(scope);
    home.ok(&args);
}

/// The scopes, with the flags that choose each.
const SCOPES: [(&str, &[&str]); 4] = [
    ("none", &["--scope", "none"]),
    ("global", &["--scope", "global"]),
    ("component", &[]),
    (
        "namespace",
        &["--scope", "namespace", "--namespace", "team_v"],
    ),
];

/// The KV path of `name` in `scope` for the manager `manager`.
fn kv_path(home: &TestHome, manager: &str, scope: &str, name: &str) -> String {
    match scope {
        "none" => name.to_string(),
        "global" => format!("zenml/global/{name}"),
        "component" => {
            let uuid = home.manager_json(manager)["uuid"]
                .as_str()
                .unwrap()
                .to_string();
            format!("zenml/component/{uuid}/{name}")
        }
        _ => format!("zenml/namespace/team_v/{name}"),
    }
}

#[test]
fn every_secret_command_works_in_each_scope() {
    let home = TestHome::new();
    let mount = fresh_mount(&home);
    for (scope, flags) in SCOPES {
        let manager = format!("m_{scope}");
        vault_manager(&home, &manager, &mount, flags);
        home.every_secret_command(&manager, scope);
    }
}

#[test]
fn bao_reads_zenmls_layout_in_what_secman_wrote_and_secman_reads_what_bao_wrote() {
    let home = TestHome::new();
    let mount = fresh_mount(&home);
    let mount_flag = format!("-mount={mount}");
    for (scope, flags) in SCOPES {
        let manager = format!("m_{scope}");
        vault_manager(&home, &manager, &mount, flags);
        home.ok(&[
            "secret",
            "register",
            "db",
            "-m",
            &manager,
            "user=\u{fc} \u{2713}",
            "pw=a=b\nc",
        ]);
        let path = kv_path(&home, &manager, scope, "db");
        let read = bao(&["kv", "get", "-format=json", &mount_flag, &path]);
        assert_eq!(
            read["data"]["data"],
            json!({"user": "\u{fc} \u{2713}", "pw": "a=b\nc", "zenml_schema_name": "arbitrary"}),
            "{scope}"
        );
        assert_eq!(read["data"]["metadata"]["version"], 1, "{scope}");
        home.ok(&["secret", "update", "db", "-m", &manager, "pw=new"]);
        let read = bao(&["kv", "get", "-format=json", &mount_flag, &path]);
        assert_eq!(read["data"]["metadata"]["version"], 2, "{scope}");

        let path = kv_path(&home, &manager, scope, "login");
        bao(&[
            "kv",
            "put",
            &mount_flag,
            &path,
            "username=u",
            "password=p",
            "zenml_schema_name=basic_auth",
        ]);
        assert_eq!(
            home.secret_json("login", &manager),
            json!({"name": "login", "schema": "basic_auth",
                   "values": {"username": "u", "password": "p"}}),
            "{scope}"
        );
        // Written by something else, without ZenML's schema key: arbitrary.
        let path = kv_path(&home, &manager, scope, "plain");
        bao(&["kv", "put", &mount_flag, &path, "k=v"]);
        assert_eq!(home.secret_json("plain", &manager)["schema"], "arbitrary");
        let mut listed = home.listed(&manager);
        listed.sort();
        assert_eq!(listed, ["db", "login", "plain"], "{scope}");
        home.ok(&["secret", "delete-all", "--force", "--yes", "-m", &manager]);
        // A delete removes every version: nothing is left to undelete.
        let left = Command::new(peer("SECMAN_TEST_BAO"))
            .args(["kv", "metadata", "get", &mount_flag, &path])
            .env("VAULT_ADDR", url())
            .env("VAULT_TOKEN", peer("SECMAN_TEST_VAULT_TOKEN"))
            .output()
            .unwrap();
        assert!(!left.status.success(), "{scope}: the metadata is gone too");
    }
}

/// ZenML 0.52.0's own VaultSecretsManager on `mount`, as a manager of
/// `scope` (with `namespace`, and component id `uuid`).
struct Zenml<'a> {
    mount: &'a str,
    scope: &'a str,
    namespace: &'a str,
    uuid: &'a str,
}

impl Zenml<'_> {
    fn run(&self, command: &str, names: &[&str], input: Option<Value>) -> Value {
        let (url, token) = (url(), peer("SECMAN_TEST_VAULT_TOKEN"));
        let mut args = vec![
            &url,
            &token,
            self.mount,
            self.scope,
            self.namespace,
            self.uuid,
        ];
        args.push(command);
        args.extend(names);
        peer_json(
            "SECMAN_TEST_ZENML_PYTHON",
            "zenml_vault.py",
            &args,
            input.as_ref(),
        )
    }
}

#[test]
fn zenml_reads_what_secman_wrote_and_secman_reads_what_zenml_wrote_in_each_scope() {
    let home = TestHome::new();
    let mount = fresh_mount(&home);
    for (scope, flags) in SCOPES {
        let manager = format!("m_{scope}");
        vault_manager(&home, &manager, &mount, flags);
        let uuid = home.manager_json(&manager)["uuid"]
            .as_str()
            .unwrap()
            .to_string();
        let namespace = if scope == "namespace" { "team_v" } else { "-" };
        let zenml = Zenml {
            mount: &mount,
            scope,
            namespace,
            uuid: &uuid,
        };

        home.zenml_round_trip(&manager, scope, |command, names, input| {
            zenml.run(command, names, input)
        });
    }
}

#[test]
fn a_wrong_token_is_denied_and_writes_nothing() {
    let home = TestHome::new();
    let mount = fresh_mount(&home);
    vault_manager(&home, "prod", &mount, &["--scope", "global"]);
    let wrong = "s.not-the-token";
    let with_wrong = |args: &[&str]| {
        Run::from(
            home.command(args)
                .env("VAULT_TOKEN", wrong)
                .output()
                .unwrap(),
        )
    };
    let run = with_wrong(&["secret", "register", "db", "k=v", "-m", "prod"]).fails(5);
    assert!(run.stderr.contains("permission denied"), "{}", run.stderr);
    assert!(!run.stderr.contains(wrong), "{}", run.stderr);
    with_wrong(&["secret", "list", "-m", "prod"]).fails(5);
    assert_eq!(home.listed("prod"), Vec::<String>::new());

    let run = Run::from(
        home.command(&["secret", "list", "-m", "prod"])
            .env_remove("VAULT_TOKEN")
            .output()
            .unwrap(),
    )
    .fails(5);
    assert!(run.stderr.contains("VAULT_TOKEN"), "{}", run.stderr);
}

#[test]
fn a_token_given_as_an_option_is_used_and_never_shown() {
    let home = TestHome::new();
    let mount = fresh_mount(&home);
    let token = peer("SECMAN_TEST_VAULT_TOKEN");
    let (url, mount, token_option) = (
        format!("url={}", url()),
        format!("mount_point={mount}"),
        format!("token={token}"),
    );
    home.ok(&[
        "manager",
        "register",
        "prod",
        "--flavor",
        "vault",
        "--option",
        &url,
        "--option",
        &mount,
        "--option",
        &token_option,
    ]);
    let run = Run::from(
        home.command(&["secret", "register", "db", "k=v", "-m", "prod"])
            .env_remove("VAULT_TOKEN")
            .output()
            .unwrap(),
    );
    run.ok();
    let described = home.ok(&["manager", "describe", "prod"]);
    assert!(!described.contains(&token), "{described}");
}

#[test]
fn names_vault_would_refuse_or_misplace_are_refused_before_any_request() {
    let home = TestHome::new();
    let stub = HttpStub::start(vec![(500, "{}".into())]);
    home.ok(&[
        "manager",
        "register",
        "prod",
        "--flavor",
        "vault",
        "--option",
        &format!("url={}", stub.url()),
    ]);
    for name in [".", "..", "a b"] {
        let err = home.fails(&["secret", "get", name, "-m", "prod"], 2);
        assert!(
            err.contains("is not a valid secret name for Vault"),
            "{err}"
        );
    }
    assert_eq!(stub.requests(), 0);
}

/// `secret get db` on a manager whose server is `stub`.
fn stub_get(stub: &HttpStub) -> Run {
    let home = TestHome::new();
    home.ok(&[
        "manager",
        "register",
        "stubbed",
        "--flavor",
        "vault",
        "--scope",
        "none",
        "--option",
        &format!("url={}", stub.url()),
    ]);
    home.run(&["secret", "get", "db", "-m", "stubbed", "-k", "k"])
}

#[test]
fn throttling_and_server_errors_are_retried_and_a_sealed_or_standby_server_is_named() {
    let secret = json!({"data": {"data": {"k": "v", "zenml_schema_name": "arbitrary"},
                                 "metadata": {"version": 3}}});
    let stub = HttpStub::start(vec![
        (429, r#"{"errors":["rate limit quota exceeded"]}"#.into()),
        (502, "{}".into()),
        (200, secret.to_string()),
    ]);
    assert_eq!(stub_get(&stub).ok().stdout, "v\n");
    assert_eq!(stub.requests(), 3);

    let stub = HttpStub::start(vec![(503, r#"{"errors":["Vault is sealed"]}"#.into())]);
    let err = stub_get(&stub).fails(1).stderr;
    assert!(err.contains("is sealed: unseal it"), "{err}");
    assert_eq!(stub.requests(), 4, "tried a bounded number of times");

    let stub = HttpStub::start(vec![(307, String::new())]);
    let err = stub_get(&stub).fails(1).stderr;
    assert!(err.contains("is a standby node"), "{err}");
    assert_eq!(stub.requests(), 1);

    let stub = HttpStub::start(vec![(403, r#"{"errors":["permission denied"]}"#.into())]);
    stub_get(&stub).fails(5);
    assert_eq!(stub.requests(), 1);
}

#[test]
fn the_vault_flavor_passes_the_conformance_suite() {
    let home = TestHome::new();
    let mount = fresh_mount(&home);
    let (url, mount) = (format!("url={}", url()), format!("mount_point={mount}"));
    home.conformant("vault", &[&url, &mount]);
}

#[test]
fn a_vault_namespace_keeps_its_secrets_apart() {
    let home = TestHome::new();
    let namespace = format!("ns{}", home.unique());
    bao(&["namespace", "create", "-format=json", &namespace]);
    bao(&[
        "secrets",
        "enable",
        &format!("-namespace={namespace}"),
        "-path=kv",
        "kv-v2",
    ]);
    let (url, namespace_option) = (
        format!("url={}", url()),
        format!("vault_namespace={namespace}"),
    );
    home.ok(&[
        "manager",
        "register",
        "team",
        "--flavor",
        "vault",
        "--scope",
        "global",
        "--option",
        &url,
        "--option",
        "mount_point=kv",
        "--option",
        &namespace_option,
    ]);
    home.ok(&["secret", "register", "db", "k=v", "-m", "team"]);
    let read = bao(&[
        "kv",
        "get",
        "-format=json",
        &format!("-namespace={namespace}"),
        "-mount=kv",
        "zenml/global/db",
    ]);
    assert_eq!(read["data"]["data"]["k"], "v");
}
