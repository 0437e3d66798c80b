//! `secman manager ...`: configured instances of a flavor.

use serde_json::Value;

use crate::support::TestHome;

fn managers_json(home: &TestHome) -> Value {
    serde_json::from_str(&home.ok(&["manager", "list", "--output", "json"])).unwrap()
}

#[test]
fn a_default_local_manager_is_active_from_the_first_use() {
    let home = TestHome::new();
    let list = managers_json(&home);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "default");
    assert_eq!(list[0]["flavor"], "local");
    assert_eq!(list[0]["active"], true);
    // The same manager (same UUID, so the same store) every time.
    assert_eq!(managers_json(&home), list);
}

#[test]
fn describe_shows_name_flavor_uuid_options_and_scope() {
    let home = TestHome::new();
    let store = home.path().join("team").join("secrets.yaml");
    home.local_manager("team", &store);
    let team = home.manager_json("team");
    assert_eq!(team["name"], "team");
    assert_eq!(team["flavor"], "local");
    assert_eq!(team["scope"], "none");
    assert_eq!(team["active"], false);
    assert_eq!(team["options"]["secrets_file"], store.display().to_string());
    let uuid = team["uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36, "{uuid}");
    assert_ne!(team["uuid"], home.manager_json("default")["uuid"]);
    let table = home.ok(&["manager", "describe", "team"]);
    assert!(
        table.contains(uuid) && table.contains("secrets_file"),
        "{table}"
    );
}

#[test]
fn use_switches_the_active_manager_and_managers_keep_apart() {
    let home = TestHome::new();
    home.ok(&["manager", "register", "other", "--flavor", "local"]);
    home.ok(&["secret", "register", "in_default", "k=v"]);
    home.ok(&[
        "secret",
        "register",
        "in_other",
        "k=v",
        "--manager",
        "other",
    ]);
    assert_eq!(home.ok(&["secret", "list"]), "in_default\n");
    assert_eq!(home.ok(&["secret", "list", "-m", "other"]), "in_other\n");

    home.ok(&["manager", "use", "other"]);
    assert_eq!(home.ok(&["secret", "list"]), "in_other\n");
    assert_eq!(home.manager_json("other")["active"], true);
    home.fails(&["secret", "get", "in_default"], 3);
    assert_eq!(
        home.ok(&["secret", "get", "in_default", "-m", "default", "-k", "k"]),
        "v\n"
    );
}

#[test]
fn a_secrets_file_option_puts_the_store_where_it_says() {
    let home = TestHome::new();
    let store = home.path().join("elsewhere").join("my-secrets.yaml");
    home.local_manager("custom", &store);
    home.ok(&["secret", "register", "db", "user=admin", "-m", "custom"]);
    let text = std::fs::read_to_string(&store).unwrap();
    assert!(text.contains("user: YWRtaW4="), "{text}");
}

#[test]
fn register_checks_name_flavor_options_and_scope() {
    let home = TestHome::new();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["manager", "register", "x", "--flavor", "nope"],
            1,
            "no flavor called `nope`",
        ),
        (
            &[
                "manager",
                "register",
                "x",
                "--flavor",
                "local",
                "--option",
                "colour=red",
            ],
            2,
            "no option `colour`",
        ),
        (
            &[
                "manager",
                "register",
                "x",
                "--flavor",
                "local",
                "--option",
                "scope=global",
            ],
            2,
            "`scope`",
        ),
        (
            &[
                "manager", "register", "x", "--flavor", "local", "--option", "novalue",
            ],
            2,
            "KEY=VALUE",
        ),
        (
            &[
                "manager", "register", "x", "--flavor", "local", "--scope", "global",
            ],
            2,
            "scope",
        ),
        (
            &[
                "manager",
                "register",
                "x",
                "--flavor",
                "local",
                "--namespace",
                "ns",
            ],
            2,
            "--namespace",
        ),
        (
            &["manager", "register", "bad name", "--flavor", "local"],
            2,
            "not a valid manager name",
        ),
        (
            &["manager", "register", "default", "--flavor", "local"],
            1,
            "already exists",
        ),
    ];
    for (args, code, needle) in cases {
        let err = home.fails(args, *code);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(managers_json(&home).as_array().unwrap().len(), 1);
}

#[test]
fn deleting_the_active_manager_is_confirmed_and_leaves_none_active() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "k=v"]);
    let store = home.default_store();
    // Without a terminal there is no one to ask: --yes is needed.
    let err = home.fails(&["manager", "delete", "default"], 2);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(home.ok(&["secret", "list"]), "db\n");
    // Another manager than the active one goes without a question.
    home.local_manager("other", &home.store_file("secrets.yaml"));
    home.ok(&["manager", "delete", "other"]);
    let out = home.ok(&["manager", "delete", "default", "--yes"]);
    assert!(out.contains("kept"), "{out}");
    assert!(
        store.exists(),
        "the store must not be deleted with the manager"
    );
    assert_eq!(managers_json(&home), serde_json::json!([]));
    let err = home.fails(&["secret", "list"], 1);
    assert!(
        err.contains("no manager is active") && err.contains("manager use"),
        "{err}"
    );
    home.fails(&["manager", "use", "default"], 1);
    home.fails(&["manager", "delete", "default"], 1);
    home.fails(&["secret", "list", "-m", "ghost"], 1);
}

#[test]
fn stores_stay_private_and_a_first_command_never_waits_for_itself() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    // Commands that take the state lock and read the managers for the
    // first time (which creates them) on a new home.
    home.ok(&["manager", "use", "default"]);
    let other = TestHome::new();
    other.fails(&["manager", "delete", "nope"], 1);

    home.ok(&["secret", "register", "db", "k=v"]);
    let folder = home.path().join("team");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = folder.join("secrets.yaml");
    let option = format!("secrets_file={}", file.display());
    home.ok(&[
        "manager", "register", "team", "--flavor", "local", "--option", &option,
    ]);
    home.ok(&["secret", "register", "db", "k=v", "-m", "team"]);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    // A store the user made readable by others is rewritten private.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    home.ok(&["secret", "update", "db", "k=w", "-m", "team"]);
    assert_eq!(mode(&file), 0o600);
}

#[test]
fn secman_manager_picks_the_manager_and_zenmls_option_form_works() {
    let home = TestHome::new();
    // ZenML's form of a flavor option: `--secrets_file=PATH`.
    let store = home.store_file("team.yaml");
    home.ok(&[
        "manager",
        "register",
        "team",
        "--flavor",
        "local",
        &format!("--secrets_file={}", store.display()),
    ]);
    assert_eq!(
        home.manager_json("team")["options"]["secrets_file"],
        store.display().to_string()
    );
    let with_env = |args: &[&str]| {
        crate::support::Run::from(
            home.command(args)
                .env("SECMAN_MANAGER", "team")
                .output()
                .unwrap(),
        )
    };
    with_env(&["secret", "register", "db", "k=v"]).ok();
    assert!(std::fs::read_to_string(&store).unwrap().contains("db:"));
    assert_eq!(with_env(&["secret", "list"]).ok().stdout, "db\n");
    // -m wins over the variable; the active manager is untouched.
    assert_eq!(
        with_env(&["secret", "list", "-m", "default"]).ok().stdout,
        ""
    );
    assert_eq!(home.ok(&["secret", "list"]), "");
    // Commands that take no manager ignore it.
    with_env(&["manager", "list"]).ok();
}
