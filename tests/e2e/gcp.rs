//! The `gcp` flavor against drongo, checked with Google's own client.
//!
//! Most tests talk to drongo through `tests/peers/gcp_layer.py`, which
//! filters, pages and refuses as Google does (drongo alone ignores filters
//! and paging); one runs against drongo as it ships. drongo keeps one store
//! per project: each test uses a project of its own.

use std::net::TcpListener;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::http_stub::HttpStub;
use crate::support::{PeerServer, Run, TestHome, get_json, peer, peer_json};

/// drongo behind the layer that behaves as Google does.
fn layer() -> String {
    peer("SECMAN_TEST_GCP_URL")
}

/// Registers manager `name` of the gcp flavor on project `project` at
/// `endpoint`, with `scope` flags.
fn gcp_manager(home: &TestHome, name: &str, endpoint: &str, project: &str, scope: &[&str]) {
    let project = format!("project_id={project}");
    let endpoint = format!("endpoint={endpoint}");
    let mut args = vec!["manager", "register", name, "--flavor", "gcp"];
    args.extend(["--option", &project, "--option", &endpoint]);
    args.extend(scope);
    home.ok(&args);
}

/// Calls Secret Manager on `project` through Google's Python client.
fn google(project: &str, operation: &str, params: Value) -> Value {
    let args = [
        layer(),
        project.into(),
        operation.into(),
        params.to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    peer_json("SECMAN_TEST_PYTHON", "gcp_call.py", &args, None)
}

/// The scopes, with the flags that choose each.
const SCOPES: [(&str, &[&str]); 4] = [
    ("none", &["--scope", "none"]),
    ("global", &["--scope", "global"]),
    ("component", &[]),
    (
        "namespace",
        &["--scope", "namespace", "--namespace", "team_z"],
    ),
];

#[test]
fn every_secret_command_works_in_each_scope() {
    let home = TestHome::new();
    let project = format!("p{}", home.unique());
    for (scope, flags) in SCOPES {
        let manager = format!("m_{scope}");
        gcp_manager(&home, &manager, &layer(), &project, flags);
        home.every_secret_command(&manager, scope);
    }
}

#[test]
fn every_secret_command_works_against_drongo_as_it_ships() {
    let home = TestHome::new();
    let project = format!("p{}", home.unique());
    let drongo = peer("SECMAN_TEST_DRONGO_URL");
    gcp_manager(&home, "plain", &drongo, &project, &[]);
    gcp_manager(&home, "legacy", &drongo, &project, &["--scope", "none"]);
    // drongo lists every secret of the project whatever the filter: the
    // flavor's own exact match keeps the two layouts apart.
    home.ok(&["secret", "register", "other", "k=v", "-m", "legacy"]);
    home.every_secret_command("plain", "component on drongo");
    assert_eq!(home.listed("legacy"), vec!["other".to_string()]);
    home.ok(&["secret", "delete", "other", "--yes", "-m", "legacy"]);
    home.every_secret_command("legacy", "none on drongo");
}

#[test]
fn googles_client_finds_zenmls_layout_in_what_secman_wrote() {
    let home = TestHome::new();
    let project = format!("p{}", home.unique());
    gcp_manager(&home, "Prod.EU", &layer(), &project, &[]);
    gcp_manager(&home, "legacy", &layer(), &project, &["--scope", "none"]);
    let uuid = home.manager_json("Prod.EU")["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    home.ok(&[
        "secret",
        "register",
        "db",
        "-m",
        "Prod.EU",
        "user=\u{fc} \u{2713}",
        "pw=a=b",
        "json={\"x\": 1}",
    ]);
    let id = format!("zenml-component-{uuid}-db");
    assert_eq!(
        google(&project, "access", json!({"id": id}))["data"],
        r#"{"json": "{\"x\": 1}", "pw": "a=b", "user": "\u00fc \u2713", "zenml_schema_name": "arbitrary"}"#,
        "ZenML's JSON, byte for byte as Python's json.dumps writes it (secman keeps keys sorted)"
    );
    // The component's name is not a valid label value: it is made one.
    assert_eq!(
        google(&project, "get", json!({"id": id}))["labels"],
        json!({"zenml_scope": "component", "zenml_secret_name": "db",
               "zenml_component_name": "prod-eu", "zenml_component_uuid": uuid,
               "zenml_secret_schema": "arbitrary"})
    );

    home.ok(&[
        "secret",
        "register",
        "aws",
        "--schema",
        "aws",
        "-m",
        "legacy",
        "aws_access_key_id=A",
        "aws_secret_access_key=S/+=",
    ]);
    for (key, value) in [
        ("aws_access_key_id", "A"),
        ("aws_secret_access_key", "S/+="),
    ] {
        let id = format!("aws_{key}");
        assert_eq!(google(&project, "access", json!({"id": id}))["data"], value);
        assert_eq!(
            google(&project, "get", json!({"id": id}))["labels"],
            json!({"zenml-group-key": "aws", "zenml-schema-name": "aws"})
        );
    }
}

#[test]
fn secman_reads_what_googles_client_wrote_in_zenmls_layout_and_only_that() {
    let home = TestHome::new();
    let project = format!("p{}", home.unique());
    gcp_manager(&home, "global", &layer(), &project, &["--scope", "global"]);
    gcp_manager(&home, "legacy", &layer(), &project, &["--scope", "none"]);
    let labels = |name: &str| {
        json!({"zenml_scope": "global", "zenml_secret_name": name,
               "zenml_component_name": "zenml-sm", "zenml_component_uuid": "u",
               "zenml_secret_schema": "basic_auth"})
    };
    let payload = r#"{"username": "u", "password": "p\u00fc", "zenml_schema_name": "basic_auth"}"#;
    google(
        &project,
        "create",
        json!({"id": "zenml-global-login", "labels": labels("login"), "data": payload}),
    );
    // An id of the scope whose labels name another secret, and one without
    // labels: not this scope's secrets.
    google(
        &project,
        "create",
        json!({"id": "zenml-global-x", "labels": labels("y"), "data": payload}),
    );
    google(
        &project,
        "create",
        json!({"id": "zenml-global-bare", "data": payload}),
    );
    for (key, value) in [("host", "h"), ("DB_URL", "postgres://x")] {
        google(
            &project,
            "create",
            json!({"id": format!("pg_{key}"),
            "labels": {"zenml-group-key": "pg", "zenml-schema-name": "arbitrary"}, "data": value}),
        );
    }

    assert_eq!(home.listed("global"), vec!["login".to_string()]);
    assert_eq!(
        home.secret_json("login", "global"),
        json!({"name": "login", "schema": "basic_auth",
               "values": {"username": "u", "password": "p\u{fc}"}})
    );
    home.fails(&["secret", "get", "x", "-m", "global"], 3);
    home.fails(&["secret", "get", "bare", "-m", "global"], 3);
    assert_eq!(home.listed("legacy"), vec!["pg".to_string()]);
    assert_eq!(
        home.secret_json("pg", "legacy")["values"],
        json!({"host": "h", "DB_URL": "postgres://x"})
    );
}

/// ZenML 0.52.0's own GCPSecretsManager, on the layer, as a manager of
/// `scope` (with `namespace`, and component id `uuid`): `decode` prints
/// every secret as ZenML gets it; `register` and `update` take secrets on
/// stdin; `delete` takes names.
struct Zenml<'a> {
    project: &'a str,
    scope: &'a str,
    namespace: &'a str,
    uuid: &'a str,
}

impl Zenml<'_> {
    fn run(&self, command: &str, names: &[&str], input: Option<Value>) -> Value {
        let layer = layer();
        let mut args = vec![
            &layer,
            self.project,
            self.scope,
            self.namespace,
            self.uuid,
            command,
        ];
        args.extend(names);
        peer_json(
            "SECMAN_TEST_ZENML_PYTHON",
            "zenml_gcp.py",
            &args,
            input.as_ref(),
        )
    }
}

#[test]
fn zenml_reads_what_secman_wrote_and_secman_reads_what_zenml_wrote_in_each_scope() {
    let home = TestHome::new();
    let project = format!("p{}", home.unique());
    for (scope, flags) in SCOPES {
        let manager = format!("m_{scope}");
        gcp_manager(&home, &manager, &layer(), &project, flags);
        let uuid = home.manager_json(&manager)["uuid"]
            .as_str()
            .unwrap()
            .to_string();
        let namespace = if scope == "namespace" { "team_z" } else { "-" };
        let zenml = Zenml {
            project: &project,
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
fn listing_follows_next_page_token_to_the_end() {
    let home = TestHome::new();
    let project = format!("p{}", home.unique());
    gcp_manager(&home, "many", &layer(), &project, &[]);
    for i in 0..10 {
        home.ok(&[
            "secret",
            "register",
            &format!("s{i:02}"),
            "k=v",
            "-m",
            "many",
        ]);
    }
    let run = home.run(&["-vv", "secret", "list", "-m", "many"]).ok();
    let names: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        names,
        (0..10).map(|i| format!("s{i:02}")).collect::<Vec<_>>()
    );
    let pages = run.stderr.matches("ListSecrets page").count();
    assert_eq!(pages, 4, "the layer pages by 3: {}", run.stderr);
}

#[test]
fn legacy_writes_are_all_or_nothing() {
    let home = TestHome::new();
    let project = format!("p{}", home.unique());
    gcp_manager(&home, "legacy", &layer(), &project, &["--scope", "none"]);
    home.ok(&["secret", "register", "a", "b_c=1", "-m", "legacy"]);
    // `a_b` with key `c` would be the GCP secret `a_b_c`, which is `a`'s.
    let err = home.fails(
        &["secret", "register", "a_b", "z=2", "c=3", "-m", "legacy"],
        4,
    );
    assert!(
        err.contains("a_b_c") && err.contains("another name or key"),
        "{err}"
    );
    assert_eq!(home.listed("legacy"), vec!["a".to_string()]);
    let ids: Vec<Value> = google(&project, "list", json!({}))
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ids.len(), 1, "nothing of `a_b` was left behind: {ids:?}");

    // An update that cannot add a key changes nothing.
    home.ok(&["secret", "register", "a_b", "z=2", "-m", "legacy"]);
    home.fails(
        &["secret", "update", "a_b", "z=3", "c=4", "-m", "legacy"],
        4,
    );
    assert_eq!(
        home.secret_json("a_b", "legacy")["values"],
        json!({"z": "2"})
    );
    // Keys GCP cannot name, empty values and secrets without keys are
    // refused before any request.
    for (args, needle) in [
        (vec!["\u{fc}=1"], "GCP secret id"),
        (vec!["k="], "stores no empty value"),
    ] {
        let mut command = vec!["secret", "register", "n", "-m", "legacy"];
        command.extend(args);
        let err = home.fails(&command, 2);
        assert!(err.contains(needle), "{err}");
    }
    assert_eq!(
        home.listed("legacy"),
        vec!["a".to_string(), "a_b".to_string()]
    );
}

#[test]
fn names_gcp_would_refuse_are_refused_before_any_request() {
    let home = TestHome::new();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    gcp_manager(&home, "prod", &endpoint, "p", &[]);
    for name in ["DB", "a.b", &"a".repeat(64)] {
        let err = home.fails(&["secret", "get", name, "-m", "prod"], 2);
        assert!(err.contains("is not a valid secret name for GCP"), "{err}");
    }
    gcp_manager(
        &home,
        "ns",
        &endpoint,
        "p",
        &["--scope", "namespace", "--namespace", "Team"],
    );
    let err = home.fails(&["secret", "list", "-m", "ns"], 2);
    assert!(err.contains("not a valid namespace for GCP"), "{err}");
    let err = home.fails(&["secret", "list", "-m", "prod"], 1);
    assert!(err.contains("refused"), "then the request: {err}");
    // ZenML's name for the flavor works too.
    home.ok(&[
        "manager",
        "register",
        "old",
        "--flavor",
        "gcp_secrets_manager",
        "--option",
        "project_id=p",
    ]);
    assert_eq!(home.manager_json("old")["flavor"], "gcp");
}

#[test]
fn a_token_is_sent_as_bearer_and_a_wrong_one_is_denied() {
    let home = TestHome::new();
    let project = format!("p{}", home.unique());
    gcp_manager(&home, "prod", &layer(), &project, &[]);
    let with_token = |token: &str, args: &[&str]| {
        Run::from(
            home.command(args)
                .env("GOOGLE_OAUTH_ACCESS_TOKEN", token)
                .output()
                .unwrap(),
        )
    };
    let token = format!("ya29.token-{}", home.unique());
    with_token(&token, &["secret", "register", "db", "k=v", "-m", "prod"]).ok();
    let seen: Vec<String> = get_json(&format!("{}/layer/tokens", layer()));
    assert!(seen.contains(&token), "{seen:?}");

    let wrong = "ya29.invalid-token";
    let run = with_token(wrong, &["secret", "get", "db", "-m", "prod"]).fails(5);
    assert!(
        run.stderr.contains("invalid authentication credentials"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(wrong), "{}", run.stderr);
    let run = with_token(wrong, &["secret", "register", "new", "k=v", "-m", "prod"]).fails(5);
    assert!(run.stderr.contains("Google denied"), "{}", run.stderr);
    assert_eq!(home.listed("prod"), vec!["db".to_string()]);

    // Without an endpoint the flavor talks to Google, which needs a token.
    home.ok(&[
        "manager",
        "register",
        "real",
        "--flavor",
        "gcp",
        "--option",
        "project_id=p",
    ]);
    let err = home.fails(&["secret", "list", "-m", "real"], 5);
    assert!(err.contains("GOOGLE_OAUTH_ACCESS_TOKEN"), "{err}");
}

#[test]
fn the_gcp_flavor_passes_the_conformance_suite() {
    let home = TestHome::new();
    let project = format!("project_id=p{}", home.unique());
    let endpoint = format!("endpoint={}", layer());
    let report = home.conformant("gcp", &[&project, &endpoint]);
    // It keeps at most 64 KiB a secret: the flavor says so.
    assert!(
        report.contains("ok    a 1 MiB value, or `invalid`: invalid\n"),
        "{report}"
    );
}

/// A manager of the gcp flavor, scope global, whose endpoint is `stub`;
/// `secret get db` on it.
fn stub_get(stub: &HttpStub) -> Run {
    let home = TestHome::new();
    gcp_manager(&home, "stubbed", &stub.url(), "p", &["--scope", "global"]);
    home.run(&["secret", "get", "db", "-m", "stubbed", "-k", "k"])
}

/// What Google answers for secret `zenml-global-db`, then for its latest
/// version, whose checksum is `crc32c`.
fn stub_answers(crc32c: &str) -> Vec<(u16, String)> {
    let payload = BASE64.encode(r#"{"k": "v", "zenml_schema_name": "arbitrary"}"#);
    vec![
        (
            200,
            json!({"name": "projects/p/secrets/zenml-global-db",
                   "labels": {"zenml_scope": "global", "zenml_secret_name": "db"}})
            .to_string(),
        ),
        (
            200,
            json!({"payload": {"data": payload, "dataCrc32c": crc32c}}).to_string(),
        ),
    ]
}

fn google_error(code: u16, status: &str, message: &str) -> (u16, String) {
    let error = json!({"error": {"code": code, "status": status, "message": message}});
    (code, error.to_string())
}

#[test]
fn throttling_and_server_errors_are_retried_with_bounded_backoff() {
    let mut answers = vec![
        google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"),
        google_error(503, "UNAVAILABLE", "try again"),
    ];
    answers.extend(stub_answers("3054028540"));
    let stub = HttpStub::start(answers);
    assert_eq!(stub_get(&stub).ok().stdout, "v\n");
    assert_eq!(stub.requests(), 4);

    let stub = HttpStub::start(vec![google_error(500, "INTERNAL", "it broke")]);
    let err = stub_get(&stub).fails(1).stderr;
    assert!(err.contains("500") && err.contains("it broke"), "{err}");
    assert_eq!(stub.requests(), 4, "tried a bounded number of times");

    // Errors that retrying cannot fix are not retried.
    let stub = HttpStub::start(vec![google_error(404, "NOT_FOUND", "no such secret")]);
    stub_get(&stub).fails(3);
    assert_eq!(stub.requests(), 1);
}

#[test]
fn a_payload_that_does_not_match_its_checksum_is_refused() {
    let stub = HttpStub::start(stub_answers("12345"));
    let err = stub_get(&stub).fails(1).stderr;
    assert!(err.contains("does not match its checksum"), "{err}");
    assert!(!err.contains("\"v\""), "{err}");
}

/// Google's token endpoint and a metadata server
/// (`tests/peers/google_token_server.py`), for a service account whose key
/// pair openssl made.
struct GoogleAuth {
    server: PeerServer,
    /// The service account's private key, PKCS#8 PEM as Google writes it.
    private_key: String,
}

const REFRESH_TOKEN: &str = "1//test-refresh-token";

impl GoogleAuth {
    fn start(home: &TestHome) -> GoogleAuth {
        let private_key = new_key(home, "account");
        let public = home.path().join("account.pub.pem");
        let made = Command::new("openssl")
            .args(["pkey", "-pubout", "-out"])
            .arg(&public)
            .arg("-in")
            .arg(home.path().join("account.pem"))
            .output()
            .expect("cannot run openssl");
        assert!(made.status.success(), "{made:?}");
        let server = PeerServer::start(
            "google_token_server.py",
            &[public.as_os_str(), REFRESH_TOKEN.as_ref()],
        );
        GoogleAuth {
            server,
            private_key,
        }
    }

    /// `http://127.0.0.1:PORT` of the token endpoint and metadata server.
    fn url(&self) -> String {
        self.server.url()
    }

    /// The tokens issued so far: (how, token).
    fn issued(&self) -> Vec<(String, String)> {
        get_json(&format!("{}/issued", self.url()))
    }

    /// A service account's key file, signed by `private_key`.
    fn key_file(&self, home: &TestHome, private_key: &str) -> std::path::PathBuf {
        let path = home.path().join("key.json");
        let key = json!({
            "type": "service_account",
            "project_id": "p",
            "private_key_id": "0123abcd",
            "private_key": private_key,
            "client_email": "secman-test@p.iam.gserviceaccount.com",
            "client_id": "1234",
            "token_uri": format!("{}/token", self.url()),
        });
        std::fs::write(&path, key.to_string()).unwrap();
        path
    }
}

/// A new RSA key in PKCS#8 PEM, at `<home>/<name>.pem`.
fn new_key(home: &TestHome, name: &str) -> String {
    let path = home.path().join(format!("{name}.pem"));
    let made = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&path)
        .output()
        .expect("cannot run openssl");
    assert!(made.status.success(), "{made:?}");
    std::fs::read_to_string(path).unwrap()
}

/// Manager `name` on the layer, asking `auth` for its tokens.
fn authenticated_manager(home: &TestHome, name: &str, project: &str, option: &str) {
    let project = format!("project_id={project}");
    let endpoint = format!("endpoint={}", layer());
    home.ok(&[
        "manager", "register", name, "--flavor", "gcp", "--option", &project, "--option",
        &endpoint, "--option", option,
    ]);
}

#[test]
fn a_service_account_key_is_signed_for_a_token_that_secret_manager_then_sees() {
    let home = TestHome::new();
    let auth = GoogleAuth::start(&home);
    let project = format!("p{}", home.unique());
    let key_file = auth.key_file(&home, &auth.private_key);
    let with_key = |args: &[&str]| {
        Run::from(
            home.command(args)
                .env("GOOGLE_APPLICATION_CREDENTIALS", &key_file)
                .output()
                .unwrap(),
        )
    };
    let token_endpoint = format!("token_endpoint={}/token", auth.url());
    authenticated_manager(&home, "sa", &project, &token_endpoint);

    // One token for the whole command (a create and a version), then one
    // for the next command; the layer in front of the emulator saw them.
    with_key(&["secret", "register", "db", "k=v", "-m", "sa"]).ok();
    assert_eq!(auth.issued().len(), 1, "{:?}", auth.issued());
    let got = with_key(&["secret", "get", "db", "-k", "k", "-m", "sa"]).ok();
    assert_eq!(got.stdout, "v\n");
    let issued = auth.issued();
    assert_eq!(issued.len(), 2, "{issued:?}");
    let seen: Vec<String> = get_json(&format!("{}/layer/tokens", layer()));
    for (how, token) in &issued {
        assert_eq!(how, "service_account:secman-test@p.iam.gserviceaccount.com");
        assert!(seen.contains(token), "{token} not in {seen:?}");
    }

    // The key file's token_uri is not Google's: it is reached only once
    // the user names it.
    let project_option = format!("project_id={project}");
    home.ok(&[
        "manager",
        "register",
        "unnamed",
        "--flavor",
        "gcp",
        "--option",
        &project_option,
    ]);
    let run = with_key(&["secret", "list", "-m", "unnamed"]).fails(5);
    assert!(
        run.stderr
            .contains("not Google's: set the manager's option token_endpoint="),
        "{}",
        run.stderr
    );

    // A key the endpoint does not know: denied, with Google's reason and
    // nothing of the key.
    let other = new_key(&home, "other");
    auth.key_file(&home, &other);
    let run = with_key(&["secret", "get", "db", "-m", "sa"]).fails(5);
    assert!(
        run.stderr.contains("Invalid JWT Signature"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("PRIVATE KEY"), "{}", run.stderr);
    assert_eq!(auth.issued().len(), 2);

    // A file that is no key file: a clear error quoting none of it.
    std::fs::write(
        &key_file,
        "{\"type\": \"service_account\", \"private_key\": 5}",
    )
    .unwrap();
    let run = with_key(&["secret", "get", "db", "-m", "sa"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("is not a Google credentials file"),
        "{}",
        run.stderr
    );
}

#[test]
fn application_default_credentials_and_the_metadata_server_give_tokens_too() {
    let home = TestHome::new();
    let auth = GoogleAuth::start(&home);
    let project = format!("p{}", home.unique());
    let token_endpoint = format!("token_endpoint={}/token", auth.url());
    authenticated_manager(&home, "adc", &project, &token_endpoint);
    let adc = home
        .user_home()
        .join(".config/gcloud/application_default_credentials.json");
    std::fs::create_dir_all(adc.parent().unwrap()).unwrap();
    let user = |refresh_token: &str| {
        let file = json!({
            "type": "authorized_user",
            "client_id": "764086051850-test.apps.googleusercontent.com",
            "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty",
            "refresh_token": refresh_token,
        });
        std::fs::write(&adc, file.to_string()).unwrap();
    };

    // `gcloud auth application-default login`'s file: its token_uri is
    // Google's by default, so the endpoint option sends it here.
    user(REFRESH_TOKEN);
    home.ok(&["secret", "register", "db", "k=v", "-m", "adc"]);
    let issued = auth.issued();
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert!(issued[0].0.starts_with("authorized_user:"), "{issued:?}");
    let seen: Vec<String> = get_json(&format!("{}/layer/tokens", layer()));
    assert!(seen.contains(&issued[0].1), "{seen:?}");

    user("1//revoked");
    let run = home.run(&["secret", "get", "db", "-m", "adc"]).fails(5);
    assert!(run.stderr.contains("expired or revoked"), "{}", run.stderr);
    assert!(!run.stderr.contains("1//revoked"), "{}", run.stderr);
    std::fs::remove_file(&adc).unwrap();

    // The metadata server only where the manager names it.
    let metadata = format!("metadata_server={}", auth.url());
    authenticated_manager(&home, "gce", &project, &metadata);
    home.ok(&["secret", "register", "db", "k=w", "-m", "gce"]);
    assert_eq!(
        home.ok(&["secret", "get", "db", "-k", "k", "-m", "gce"]),
        "w\n"
    );
    let issued = auth.issued();
    let metadata: Vec<_> = issued.iter().filter(|(how, _)| how == "metadata").collect();
    assert_eq!(metadata.len(), 2, "a token per command: {issued:?}");
    let describe = home.ok(&["flavor", "describe", "gcp"]);
    assert!(
        describe.contains("suggests http://metadata.google.internal, used only if you set it")
            && describe.contains("file $GOOGLE_APPLICATION_CREDENTIALS (read-only)"),
        "{describe}"
    );
}
