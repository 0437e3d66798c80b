//! The `aws` flavor against moto (a real Secrets Manager API that checks
//! SigV4 signatures), checked with boto3, AWS's own client.
//!
//! Tests share one moto server and run at once: each uses names of its own
//! (`home.unique()`), only deletes everything in scopes it owns, and works
//! in a region of its own. moto keeps one store per region and its
//! ListSecrets iterates that store unlocked: a listing beside another
//! test's writes in the same region fails with a 500.

use std::net::TcpListener;
use std::process::Command;

use serde_json::{Value, json};

use crate::http_stub::HttpStub;
use crate::support::{PeerServer, Run, TestHome, get_json, peer, peer_json};

fn moto() -> String {
    peer("SECMAN_TEST_MOTO_URL")
}

/// Registers manager `name` of the aws flavor against moto, in `region`.
fn aws_manager(home: &TestHome, name: &str, region: &str, scope: &[&str]) {
    let region = format!("region_name={region}");
    let endpoint = format!("endpoint_url={}", moto());
    let mut args = vec!["manager", "register", name, "--flavor", "aws"];
    args.extend(["--option", &region, "--option", &endpoint]);
    args.extend(scope);
    home.ok(&args);
}

/// Calls Secrets Manager in `region` through boto3.
fn boto3(region: &str, operation: &str, params: Value) -> Value {
    let args = [moto(), region.into(), operation.into(), params.to_string()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    peer_json("SECMAN_TEST_PYTHON", "boto3_call.py", &args, None)
}

/// A secret's tags as one JSON object.
fn tags(described: &Value) -> Value {
    let tags = described["Tags"].as_array().cloned().unwrap_or_default();
    Value::Object(
        tags.iter()
            .map(|t| (t["Key"].as_str().unwrap().to_string(), t["Value"].clone()))
            .collect(),
    )
}

#[test]
fn every_secret_command_works_in_each_scope() {
    let home = TestHome::new();
    let u = home.unique();
    let namespace = format!("ns{u}");
    let scopes: [(&str, Vec<&str>); 4] = [
        ("none", vec!["--scope", "none"]),
        ("global", vec!["--scope", "global"]),
        ("component", vec![]),
        (
            "namespace",
            vec!["--scope", "namespace", "--namespace", &namespace],
        ),
    ];
    for (scope, flags) in &scopes {
        let manager = format!("m_{scope}");
        aws_manager(&home, &manager, "eu-west-1", flags);
        let name = format!("db{u}");
        home.ok(&[
            "secret",
            "register",
            &name,
            "user=admin",
            "password=s3cr3t",
            "-m",
            &manager,
        ]);
        assert_eq!(
            home.secret_json(&name, &manager),
            json!({"name": name, "schema": "arbitrary",
                   "values": {"user": "admin", "password": "s3cr3t"}}),
            "{scope}"
        );
        assert!(home.listed(&manager).contains(&name), "{scope}");
        let err = home.fails(&["secret", "register", &name, "k=v", "-m", &manager], 4);
        assert!(err.contains("already exists"), "{scope}: {err}");

        home.ok(&[
            "secret",
            "update",
            &name,
            "password=n3w",
            "host=h",
            "--remove",
            "user",
            "-m",
            &manager,
        ]);
        assert_eq!(
            home.secret_json(&name, &manager)["values"],
            json!({"password": "n3w", "host": "h"}),
            "{scope}"
        );
        home.ok(&["secret", "delete", &name, "--yes", "-m", &manager]);
        let err = home.fails(&["secret", "get", &name, "-m", &manager], 3);
        assert!(err.contains("does not exist"), "{scope}: {err}");
        home.fails(&["secret", "delete", &name, "--yes", "-m", &manager], 3);
        home.fails(&["secret", "update", &name, "k=v", "-m", &manager], 3);
    }
    // Scopes of this test alone can be emptied.
    for manager in ["m_component", "m_namespace"] {
        home.ok(&["secret", "register", &format!("a{u}"), "k=v", "-m", manager]);
        home.ok(&["secret", "register", &format!("b{u}"), "k=v", "-m", manager]);
        assert_eq!(home.listed(manager).len(), 2);
        home.ok(&["secret", "delete-all", "--force", "--yes", "-m", manager]);
        assert_eq!(home.listed(manager), Vec::<String>::new());
    }
}

#[test]
fn boto3_finds_zenmls_layout_in_what_secman_wrote() {
    let home = TestHome::new();
    let u = home.unique();
    aws_manager(&home, "prod", "eu-west-2", &[]);
    let name = format!("cloud{u}");
    home.ok(&[
        "secret",
        "register",
        &name,
        "--schema",
        "aws",
        "-m",
        "prod",
        "aws_access_key_id=AKIAEXAMPLE",
        "aws_secret_access_key=wJalrXUtn",
    ]);
    let uuid = home.manager_json("prod")["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let aws_name = format!("zenml/component/{uuid}/{name}");

    let value = boto3(
        "eu-west-2",
        "get_secret_value",
        json!({"SecretId": aws_name}),
    );
    let content: Value = serde_json::from_str(value["SecretString"].as_str().unwrap()).unwrap();
    assert_eq!(
        content,
        json!({"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "wJalrXUtn",
               "zenml_schema_name": "aws"})
    );
    let described = boto3(
        "eu-west-2",
        "describe_secret",
        json!({"SecretId": aws_name}),
    );
    assert_eq!(described["Name"], aws_name);
    assert_eq!(
        tags(&described),
        json!({"zenml_component_name": "prod", "zenml_component_uuid": uuid,
               "zenml_scope": "component", "zenml_secret_name": name,
               "zenml_secret_schema": "aws"})
    );

    // Deleting removes it for good (ForceDeleteWithoutRecovery): the name
    // can be used again at once.
    home.ok(&["secret", "delete", &name, "--yes", "-m", "prod"]);
    let gone = boto3(
        "eu-west-2",
        "describe_secret",
        json!({"SecretId": aws_name}),
    );
    assert_eq!(gone["Error"]["Code"], "ResourceNotFoundException");
    home.ok(&["secret", "register", &name, "k=v", "-m", "prod"]);
}

#[test]
fn secman_reads_secrets_boto3_wrote_in_zenmls_layout_and_only_those() {
    let home = TestHome::new();
    let u = home.unique();
    let namespace = format!("team{u}");
    aws_manager(
        &home,
        "team",
        "eu-west-3",
        &["--scope", "namespace", "--namespace", &namespace],
    );
    let zenml_tags = |name: &str| {
        json!([
            {"Key": "zenml_scope", "Value": "namespace"},
            {"Key": "zenml_namespace", "Value": namespace},
            {"Key": "zenml_secret_name", "Value": name},
            {"Key": "zenml_secret_schema", "Value": "basic_auth"},
        ])
    };
    boto3(
        "eu-west-3",
        "create_secret",
        json!({
            "Name": format!("zenml/namespace/{namespace}/login"),
            "SecretString": r#"{"username": "u", "password": "p", "zenml_schema_name": "basic_auth"}"#,
            "Tags": zenml_tags("login"),
        }),
    );
    // The same prefix, but not exactly the scope: AWS's filters let these
    // through; secman must not.
    boto3(
        "eu-west-3",
        "create_secret",
        json!({
            "Name": format!("zenml/namespace/{namespace}/deeper/path"),
            "SecretString": "{}", "Tags": zenml_tags("path"),
        }),
    );
    boto3(
        "eu-west-3",
        "create_secret",
        json!({
            "Name": format!("zenml/namespace/{namespace}x/other"),
            "SecretString": "{}",
            "Tags": [{"Key": "zenml_scope", "Value": "namespace"},
                     {"Key": "zenml_namespace", "Value": format!("{namespace}x")}],
        }),
    );
    boto3(
        "eu-west-3",
        "create_secret",
        json!({
            "Name": format!("zenml/namespace/{namespace}/untagged"), "SecretString": "{}",
        }),
    );

    assert_eq!(home.listed("team"), vec!["login".to_string()]);
    assert_eq!(
        home.secret_json("login", "team"),
        json!({"name": "login", "schema": "basic_auth",
               "values": {"username": "u", "password": "p"}})
    );
}

#[test]
fn two_component_managers_on_one_backend_do_not_see_each_other() {
    let home = TestHome::new();
    aws_manager(&home, "one", "eu-central-1", &[]);
    aws_manager(&home, "two", "eu-central-1", &[]);
    home.ok(&[
        "secret",
        "register",
        "shared_name",
        "owner=one",
        "-m",
        "one",
    ]);
    home.ok(&[
        "secret",
        "register",
        "shared_name",
        "owner=two",
        "-m",
        "two",
    ]);
    assert_eq!(
        home.ok(&["secret", "get", "shared_name", "-k", "owner", "-m", "one"]),
        "one\n"
    );
    assert_eq!(
        home.ok(&["secret", "get", "shared_name", "-k", "owner", "-m", "two"]),
        "two\n"
    );
    home.ok(&["secret", "delete-all", "--force", "--yes", "-m", "one"]);
    assert_eq!(home.listed("one"), Vec::<String>::new());
    assert_eq!(home.listed("two"), vec!["shared_name".to_string()]);
}

#[test]
fn listing_250_secrets_follows_next_token_to_the_end() {
    let home = TestHome::new();
    aws_manager(&home, "many", "eu-north-1", &[]);
    for i in 0..250 {
        home.ok(&[
            "secret",
            "register",
            &format!("s{i:03}"),
            "k=v",
            "-m",
            "many",
        ]);
    }
    let run = home.run(&["-vv", "secret", "list", "-m", "many"]).ok();
    let names: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(names.len(), 250);
    assert_eq!(names.first(), Some(&"s000"));
    assert_eq!(names.last(), Some(&"s249"));
    let pages = run.stderr.matches("ListSecrets page").count();
    assert!(pages >= 3, "expected pages of at most 100: {}", run.stderr);
}

#[test]
fn a_wrong_secret_key_is_denied_and_writes_nothing() {
    let home = TestHome::new();
    let u = home.unique();
    aws_manager(&home, "prod", "us-east-1", &["--scope", "global"]);
    let name = format!("never{u}");
    let run = Run::from(
        home.command(&["secret", "register", &name, "k=v", "-m", "prod"])
            .env("AWS_SECRET_ACCESS_KEY", "not-the-right-key")
            .output()
            .unwrap(),
    )
    .fails(5);
    assert!(
        run.stderr.contains("AWS denied CreateSecret"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("SignatureDoesNotMatch"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not-the-right-key"), "{}", run.stderr);
    let described = boto3(
        "us-east-1",
        "describe_secret",
        json!({"SecretId": format!("zenml/global/{name}")}),
    );
    assert_eq!(described["Error"]["Code"], "ResourceNotFoundException");

    let run = Run::from(
        home.command(&["secret", "list", "-m", "prod"])
            .env("AWS_ACCESS_KEY_ID", "AKIANOSUCHKEY")
            .output()
            .unwrap(),
    )
    .fails(5);
    assert!(
        run.stderr.contains("InvalidClientTokenId"),
        "{}",
        run.stderr
    );

    let run = Run::from(
        home.command(&["secret", "list", "-m", "prod"])
            .env_remove("AWS_ACCESS_KEY_ID")
            .output()
            .unwrap(),
    )
    .fails(5);
    assert!(run.stderr.contains("no AWS credentials"), "{}", run.stderr);
}

#[test]
fn names_aws_would_refuse_are_refused_before_any_request() {
    let home = TestHome::new();
    aws_manager(&home, "prod", "us-east-2", &[]);
    let err = home.fails(&["secret", "get", "a/b", "-m", "prod"], 2);
    assert!(err.contains("not a valid secret name for AWS"), "{err}");
    let err = home.fails(
        &[
            "manager",
            "register",
            "x",
            "--flavor",
            "aws",
            "--option",
            "region_name=eu-west-1",
            "--option",
            "endpoint_url=127.0.0.1:5005",
        ],
        2,
    );
    assert!(err.contains("endpoint"), "{err}");
    let err = home.fails(&["manager", "register", "y", "--flavor", "aws"], 2);
    assert!(err.contains("region_name"), "{err}");
}

#[test]
fn an_unreachable_endpoint_is_a_clear_backend_error() {
    let home = TestHome::new();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    home.ok(&[
        "manager",
        "register",
        "down",
        "--flavor",
        "aws",
        "--option",
        "region_name=eu-west-1",
        "--option",
        &format!("endpoint_url=http://127.0.0.1:{port}"),
    ]);
    let err = home.fails(&["secret", "list", "-m", "down"], 1);
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("refused"),
        "{err}"
    );
}

/// A manager of the aws flavor whose endpoint is `url`.
fn stub_manager(home: &TestHome, url: &str) {
    home.ok(&[
        "manager",
        "register",
        "stubbed",
        "--flavor",
        "aws",
        "--scope",
        "none",
        "--option",
        "region_name=eu-west-1",
        "--option",
        &format!("endpoint_url={url}"),
    ]);
}

/// `secman secret get db ARGS` on the stubbed manager, with made-up
/// credentials: the stub checks no signature.
fn stub_get(home: &TestHome, args: &[&str]) -> Run {
    let mut all = vec!["secret", "get", "db", "-m", "stubbed"];
    all.extend(args);
    Run::from(
        home.command(&all)
            .env("AWS_ACCESS_KEY_ID", "AKIASTUB")
            .env("AWS_SECRET_ACCESS_KEY", "stub")
            .output()
            .unwrap(),
    )
}

#[test]
fn throttling_and_server_errors_are_retried_with_bounded_backoff() {
    let home = TestHome::new();
    let secret =
        r#"{"Name":"db","SecretString":"{\"k\":\"v\",\"zenml_schema_name\":\"arbitrary\"}"}"#;
    let stub = HttpStub::start(vec![
        (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
        ),
        (503, "{}".into()),
        (200, secret.into()),
    ]);
    stub_manager(&home, &stub.url());
    assert_eq!(stub_get(&home, &["-k", "k"]).ok().stdout, "v\n");
    assert_eq!(stub.requests(), 3);

    let home = TestHome::new();
    let stub = HttpStub::start(vec![(
        500,
        r#"{"__type":"InternalServiceError","message":"it broke"}"#.into(),
    )]);
    stub_manager(&home, &stub.url());
    let err = stub_get(&home, &[]).fails(1).stderr;
    assert!(
        err.contains("InternalServiceError") && err.contains("it broke"),
        "{err}"
    );
    assert_eq!(stub.requests(), 4, "tried a bounded number of times");

    // Errors that retrying cannot fix are not retried.
    let home = TestHome::new();
    let stub = HttpStub::start(vec![(
        400,
        r#"{"__type":"ResourceNotFoundException","message":"no such secret"}"#.into(),
    )]);
    stub_manager(&home, &stub.url());
    stub_get(&home, &[]).fails(3);
    assert_eq!(stub.requests(), 1);
}

#[test]
fn an_oversized_answer_is_cut_off_by_the_host() {
    let home = TestHome::new();
    let stub = HttpStub::start(vec![(200, "x".repeat(9 << 20))]);
    stub_manager(&home, &stub.url());
    let err = stub_get(&home, &[]).fails(1).stderr;
    assert!(err.contains("is over the 8 MiB secman allows"), "{err}");
}

#[test]
fn an_https_endpoint_must_present_a_trusted_certificate() {
    let home = TestHome::new();
    let (cert, key) = (home.path().join("cert.pem"), home.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("cannot run openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let server = PeerServer::start("tls_server.py", &[&cert, &key]);
    stub_manager(&home, &format!("https://127.0.0.1:{}", server.port));
    let run = stub_get(&home, &[]);
    drop(server);
    let err = run.fails(1).stderr;
    assert!(
        err.contains("https://127.0.0.1") && err.contains("TLS"),
        "{err}"
    );
}

#[test]
fn the_aws_flavor_passes_the_conformance_suite_against_moto() {
    let home = TestHome::new();
    let endpoint = format!("endpoint_url={}", moto());
    let report = home.conformant("aws", &["region_name=us-west-2", &endpoint]);
    // It keeps at most 64 KiB a secret: the flavor says so.
    assert!(
        report.contains("ok    a 1 MiB value, or `invalid`: invalid\n"),
        "{report}"
    );
}

/// `secman ARGS` as a user who keeps credentials in `~/.aws`, not in the
/// environment, with `AWS_PROFILE` = `profile`.
fn with_profile(home: &TestHome, profile: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = home.command(args);
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    match profile {
        Some(profile) => cmd.env("AWS_PROFILE", profile),
        None => cmd.env_remove("AWS_PROFILE"),
    };
    Run::from(cmd.output().unwrap())
}

#[test]
fn credentials_come_from_the_shared_files_and_a_profile_assumes_its_role_through_sts() {
    let home = TestHome::new();
    let u = home.unique();
    let aws = home.user_home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    let (key, secret) = (
        peer("SECMAN_TEST_AWS_ACCESS_KEY_ID"),
        peer("SECMAN_TEST_AWS_SECRET_ACCESS_KEY"),
    );
    let (assumer_key, assumer_secret) = (
        peer("SECMAN_TEST_AWS_ASSUMER_KEY_ID"),
        peer("SECMAN_TEST_AWS_ASSUMER_SECRET"),
    );
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n\
             [assumer]\naws_access_key_id = {assumer_key}\n\
             aws_secret_access_key = {assumer_secret}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[default]\nregion = us-east-1\n\n[profile deploy]\nrole_arn = {}\n\
             source_profile = assumer\nrole_session_name = secman-test\n\n\
             [profile tool]\ncredential_process = /usr/bin/get-keys\n",
            peer("SECMAN_TEST_AWS_ROLE_ARN")
        ),
    )
    .unwrap();
    let sts = format!("sts_endpoint_url={}", moto());
    aws_manager(
        &home,
        "prod",
        "us-east-1",
        &["--scope", "global", "--option", &sts],
    );

    // The default profile's static keys.
    let first = format!("first{u}");
    with_profile(
        &home,
        None,
        &["secret", "register", &first, "k=v", "-m", "prod"],
    )
    .ok();
    let described = boto3(
        "us-east-1",
        "describe_secret",
        json!({"SecretId": format!("zenml/global/{first}")}),
    );
    assert_eq!(described["Name"], format!("zenml/global/{first}"));

    // The assumer alone may not touch Secrets Manager...
    let run = with_profile(&home, Some("assumer"), &["secret", "list", "-m", "prod"]).fails(5);
    assert!(run.stderr.contains("profile `assumer`"), "{}", run.stderr);
    assert!(!run.stderr.contains(&assumer_secret), "{}", run.stderr);
    // ...but the role it assumes may: STS's keys signed these calls.
    let second = format!("second{u}");
    with_profile(
        &home,
        Some("deploy"),
        &["secret", "register", &second, "k=w", "-m", "prod"],
    )
    .ok();
    let got = with_profile(
        &home,
        Some("deploy"),
        &["secret", "get", &second, "-k", "k", "-m", "prod"],
    );
    assert_eq!(got.ok().stdout, "w\n");
    let listed = with_profile(&home, Some("deploy"), &["secret", "list", "-m", "prod"]).ok();
    assert!(listed.stdout.contains(&first) && listed.stdout.contains(&second));

    // What cannot work says why.
    let run = with_profile(&home, Some("nosuch"), &["secret", "list", "-m", "prod"]).fails(2);
    assert!(run.stderr.contains("profile `nosuch`"), "{}", run.stderr);
    let run = with_profile(&home, Some("tool"), &["secret", "list", "-m", "prod"]).fails(5);
    assert!(run.stderr.contains("credential_process"), "{}", run.stderr);

    // AWS_SHARED_CREDENTIALS_FILE takes the place of ~/.aws/credentials.
    let elsewhere = home.path().join("elsewhere");
    std::fs::write(
        &elsewhere,
        format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    std::fs::remove_file(aws.join("credentials")).unwrap();
    let run = with_profile(&home, None, &["secret", "list", "-m", "prod"]).fails(5);
    assert!(
        run.stderr.contains("no aws_access_key_id"),
        "{}",
        run.stderr
    );
    let mut cmd = home.command(&["secret", "get", &first, "-k", "k", "-m", "prod"]);
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_SHARED_CREDENTIALS_FILE", &elsewhere);
    assert_eq!(Run::from(cmd.output().unwrap()).ok().stdout, "v\n");
}

#[test]
fn instance_and_container_credentials_are_asked_for_only_where_the_manager_names_them() {
    let home = TestHome::new();
    let u = home.unique();
    let server = PeerServer::start(
        "aws_metadata_server.py",
        &[
            peer("SECMAN_TEST_AWS_ACCESS_KEY_ID"),
            peer("SECMAN_TEST_AWS_SECRET_ACCESS_KEY"),
        ],
    );
    let url = server.url();
    let seen = || -> Vec<String> { get_json(&format!("{url}/seen")) };

    // Not named: nothing is asked, and the error says how to name it.
    aws_manager(&home, "plain", "us-east-1", &["--scope", "global"]);
    let run = with_profile(&home, None, &["secret", "list", "-m", "plain"]).fails(5);
    assert!(
        run.stderr.contains("instance_metadata_url"),
        "{}",
        run.stderr
    );
    assert!(seen().is_empty());

    // IMDSv2: a session token first, then the role and its credentials.
    let imds = format!("instance_metadata_url={url}");
    aws_manager(
        &home,
        "ec2",
        "us-east-1",
        &["--scope", "global", "--option", &imds],
    );
    let name = format!("ec2{u}");
    with_profile(
        &home,
        None,
        &["secret", "register", &name, "k=v", "-m", "ec2"],
    )
    .ok();
    assert_eq!(
        seen(),
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/secman-role",
        ]
    );

    // A container's endpoint, with the task's relative URI and token.
    let ecs = format!("container_credentials_url={url}");
    aws_manager(
        &home,
        "ecs",
        "us-east-1",
        &["--scope", "global", "--option", &ecs],
    );
    let mut cmd = home.command(&["secret", "get", &name, "-k", "k", "-m", "ecs"]);
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/task-1",
        )
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token");
    let got = Run::from(cmd.output().unwrap());
    let asked = seen();
    assert_eq!(got.ok().stdout, "v\n");
    assert_eq!(asked.last().unwrap(), "GET /v2/credentials/task-1");
}
