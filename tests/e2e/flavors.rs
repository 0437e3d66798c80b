//! `secman flavor ...`: registering components and what is refused.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{TestHome, builtin_wasm, register_local_copy};

/// A copy of the local flavor's component, to register as a third party.
fn local_copy(home: &TestHome) -> PathBuf {
    let path = home.path().join("my-flavor.wasm");
    std::fs::copy(builtin_wasm("local"), &path).unwrap();
    path
}

fn flavors_json(home: &TestHome) -> Value {
    serde_json::from_str(&home.ok(&["flavor", "list", "--output", "json"])).unwrap()
}

#[test]
fn list_shows_the_built_in_flavors() {
    let home = TestHome::new();
    let list = flavors_json(&home);
    let local = &list[0];
    assert_eq!(local["name"], "local");
    assert_eq!(local["builtin"], true);
    assert_eq!(local["source"], "built-in");
    assert_eq!(local["version"], "0.1.0");
    assert_eq!(local["sha256"].as_str().unwrap().len(), 64);
    let aws = &list[1];
    assert_eq!(
        (aws["name"].as_str(), aws["builtin"].as_bool()),
        (Some("aws"), Some(true))
    );
    let table = home.ok(&["flavor", "list"]);
    assert!(
        table.starts_with("FLAVOR") && table.contains("local"),
        "{table}"
    );
}

#[test]
fn a_registered_component_runs_managers_like_a_built_in() {
    let home = TestHome::new();
    let wasm = local_copy(&home);
    let path = wasm.display().to_string();
    let out = home.ok(&[
        "flavor",
        "register",
        &path,
        "--name",
        "mine",
        "--allow-storage",
    ]);
    assert!(out.contains("`mine`") && out.contains("storage"), "{out}");

    let list = flavors_json(&home);
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "mine")
        .unwrap();
    assert_eq!(mine["builtin"], false);
    assert_eq!(mine["source"], path);

    home.ok(&["manager", "register", "m", "--flavor", "mine"]);
    home.ok(&["secret", "register", "db", "k=v", "-m", "m"]);
    assert_eq!(
        home.ok(&["secret", "get", "db", "-k", "k", "-m", "m"]),
        "v\n"
    );

    let describe = home.ok(&["flavor", "describe", "mine"]);
    assert!(
        describe.contains("storage") && describe.contains("granted"),
        "{describe}"
    );
    assert!(describe.contains("secrets_file"), "{describe}");
}

#[test]
fn a_flavor_that_asks_for_something_is_refused_without_grants_and_no_terminal() {
    let home = TestHome::new();
    let path = local_copy(&home).display().to_string();
    let builtins = flavors_json(&home).as_array().unwrap().len();
    let err = home.fails(&["flavor", "register", &path, "--name", "mine"], 2);
    assert!(
        err.contains("--allow-storage") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(flavors_json(&home).as_array().unwrap().len(), builtins);
    home.ok(&["flavor", "register", &path, "--name", "mine", "--yes"]);
    assert_eq!(flavors_json(&home).as_array().unwrap().len(), builtins + 1);
}

#[test]
fn a_built_in_name_cannot_be_taken() {
    let home = TestHome::new();
    let path = local_copy(&home).display().to_string();
    // The component calls itself `local`.
    let err = home.fails(&["flavor", "register", &path, "--yes"], 2);
    assert!(err.contains("built-in") && err.contains("--name"), "{err}");
    home.fails(&["flavor", "delete", "local"], 2);
}

#[test]
fn a_file_changed_after_registration_is_refused_until_registered_again() {
    let home = TestHome::new();
    let wasm = local_copy(&home);
    let path = wasm.display().to_string();
    home.ok(&["flavor", "register", &path, "--name", "mine", "--yes"]);
    home.ok(&["manager", "register", "m", "--flavor", "mine"]);
    home.ok(&["secret", "register", "db", "k=v", "-m", "m"]);

    // Append a custom section: still a valid component, but not the same file.
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.extend_from_slice(&[0, 6, 5, b'e', b'x', b't', b'r', b'a']);
    std::fs::write(&wasm, &bytes).unwrap();

    let err = home.fails(&["secret", "get", "db", "-m", "m"], 1);
    assert!(err.contains("changed since it was registered"), "{err}");
    assert!(
        err.contains(&format!("secman flavor register {path}")),
        "{err}"
    );

    home.ok(&["flavor", "register", &path, "--name", "mine", "--yes"]);
    assert_eq!(
        home.ok(&["secret", "get", "db", "-m", "m", "-k", "k"]),
        "v\n"
    );

    std::fs::remove_file(&wasm).unwrap();
    let err = home.fails(&["secret", "get", "db", "-m", "m"], 1);
    assert!(
        err.contains(&path) && err.contains("flavor delete"),
        "{err}"
    );
}

#[test]
fn files_that_are_not_flavor_components_are_refused_with_the_reason() {
    let home = TestHome::new();
    let builtins = flavors_json(&home).as_array().unwrap().len();
    let dir = home.path();
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "random.wasm",
            b"\x7fELF\x02\x01\x01\x00 not wasm at all",
            "not a WebAssembly file",
        ),
        (
            "core.wasm",
            b"\0asm\x01\x00\x00\x00",
            "core WebAssembly module, not a component: build it for wasm32-wasip2, or wrap it \
             with WASI's preview1 adapter: `jco new core.wasm --wasi-reactor",
        ),
        (
            "empty.wasm",
            b"\0asm\x0d\x00\x01\x00",
            "does not export `secman:flavor/secrets-manager@0.2.0`",
        ),
        (
            "broken.wasm",
            b"\0asm\x0d\x00\x01\x00\x07\xff\xff",
            "not a valid WebAssembly component",
        ),
    ];
    for (name, bytes, reason) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = home.fails(&["flavor", "register", path.to_str().unwrap(), "--yes"], 1);
        assert!(err.contains(reason), "{name}: {err}");
        assert!(err.contains(path.to_str().unwrap()), "{name}: {err}");
    }
    let err = home.fails(&["flavor", "register", "/no/such/flavor.wasm"], 1);
    assert!(err.contains("/no/such/flavor.wasm"), "{err}");
    assert_eq!(flavors_json(&home).as_array().unwrap().len(), builtins);
}

#[test]
fn a_flavor_in_use_is_deleted_only_with_force() {
    let home = TestHome::new();
    let path = local_copy(&home).display().to_string();
    home.ok(&["flavor", "register", &path, "--name", "mine", "--yes"]);
    home.ok(&["manager", "register", "m", "--flavor", "mine"]);
    let err = home.fails(&["flavor", "delete", "mine"], 1);
    assert!(
        err.contains("manager(s) m") && err.contains("--force"),
        "{err}"
    );
    home.ok(&["flavor", "delete", "mine", "--force"]);
    let err = home.fails(&["secret", "list", "-m", "m"], 1);
    assert!(err.contains("no flavor called `mine`"), "{err}");
    home.fails(&["flavor", "delete", "mine"], 1);
}

#[test]
fn grants_can_be_revoked_and_given_back() {
    let home = TestHome::new();
    let path = local_copy(&home).display().to_string();
    home.ok(&["flavor", "register", &path, "--name", "mine", "--yes"]);
    home.ok(&["manager", "register", "m", "--flavor", "mine"]);
    home.ok(&["flavor", "revoke", "mine", "--allow-storage"]);
    let describe = home.ok(&["flavor", "describe", "mine"]);
    assert!(describe.contains("NOT granted"), "{describe}");
    // Without storage the flavor has nowhere to keep secrets: it says so.
    let err = home.fails(&["secret", "list", "-m", "m"], 5);
    assert!(err.contains("granted no storage"), "{err}");
    home.ok(&["flavor", "grant", "mine", "--allow-storage"]);
    assert_eq!(home.ok(&["secret", "list", "-m", "m"]), "");
    // Errors name the flavor as it was registered, and what it asks for.
    let err = home.fails(&["flavor", "grant", "mine", "--allow-env", "HOME"], 2);
    assert!(
        err.contains("flavor `mine` does not ask for environment variable `HOME`")
            && err.contains("the variables it asks for: none"),
        "{err}"
    );
    let err = home.fails(
        &["flavor", "revoke", "mine", "--allow-host", "example.com"],
        2,
    );
    assert!(err.contains("flavor `mine`"), "{err}");
    home.fails(&["flavor", "grant", "local", "--allow-storage"], 2);
    // Revoke's help says what its flags take back.
    let help = home.ok(&["flavor", "revoke", "--help"]);
    assert!(
        help.contains("Stop it reading environment variable NAME"),
        "{help}"
    );
    assert!(!help.contains("Let it"), "{help}");
    // `storage` is secman's own option: the error says how storage is given.
    let err = home.fails(
        &[
            "manager",
            "register",
            "s",
            "--flavor",
            "mine",
            "--option",
            "storage=/tmp",
        ],
        2,
    );
    assert!(
        err.contains("--allow-storage") && !err.contains("--scope"),
        "{err}"
    );
}

#[test]
fn new_writes_a_project_with_the_wit_and_refuses_to_overwrite() {
    let home = TestHome::new();
    let dir = home.path().join("my-store");
    let said = home.ok(&[
        "flavor",
        "new",
        "my-store",
        "--lang",
        "python",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        said.contains("build.sh") && said.contains("flavor test"),
        "{said}"
    );
    let app = std::fs::read_to_string(dir.join("app.py")).unwrap();
    assert!(app.contains("name=\"my-store\""), "{app}");
    for file in [
        "secrets_manager.py",
        "build.sh",
        "wit/flavor.wit",
        "wit/deps/filesystem.wit",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let err = home.fails(
        &[
            "flavor",
            "new",
            "other",
            "--lang",
            "go",
            "--dir",
            dir.to_str().unwrap(),
        ],
        2,
    );
    assert!(err.contains("not an empty folder"), "{err}");
    home.fails(&["flavor", "new", "Bad Name", "--lang", "c"], 2);
    assert_eq!(home.run(&["flavor", "new", "x", "--lang", "cobol"]).code, 2);
}

#[test]
fn a_verified_file_is_trusted_only_while_it_is_not_written() {
    let home = TestHome::new();
    let path = register_local_copy(&home);
    home.ok(&["manager", "register", "m", "--flavor", "mine"]);
    // A file changed within the clock's granularity of being checked is
    // not recorded; one that has settled is.
    home.ok(&["secret", "list", "-m", "m"]);
    let record = home.home().join("verified/mine");
    assert!(!record.exists());
    std::thread::sleep(std::time::Duration::from_millis(2100));
    home.ok(&["secret", "list", "-m", "m"]);
    assert!(record.exists());
    home.ok(&["secret", "register", "db", "k=v", "-m", "m"]);

    // Any write changes the file's identity: it is hashed again, and refused.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(0);
    std::fs::write(&path, &bytes).unwrap();
    let err = home.fails(&["secret", "get", "db", "-m", "m"], 1);
    assert!(err.contains("changed since it was registered"), "{err}");
    // Written back as it was: its bytes are the registered ones again.
    bytes.pop();
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        home.ok(&["secret", "get", "db", "-m", "m", "-k", "k"]),
        "v\n"
    );
}

#[test]
fn what_a_built_in_says_about_itself_is_asked_once_and_checked_each_time() {
    let home = TestHome::new();
    home.ok(&["secret", "list"]);
    let infos: Vec<PathBuf> = std::fs::read_dir(home.home().join("compiled"))
        .unwrap()
        .flat_map(|engine| std::fs::read_dir(engine.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".info.json"))
        .collect();
    assert_eq!(infos.len(), 1, "{infos:?}");
    let recorded: Value = serde_json::from_slice(&std::fs::read(&infos[0]).unwrap()).unwrap();
    assert_eq!(recorded["name"], "local");

    // A record that does not pass the checks a flavor's own answer gets
    // (here: an option the host reserves) is not used, and is replaced.
    let mut bad = recorded.clone();
    bad["options"] = serde_json::json!([{"name": "storage", "description": "x",
        "required": false, "default": "/", "sensitive": false, "kind": "text"}]);
    std::fs::write(&infos[0], bad.to_string()).unwrap();
    home.ok(&["secret", "register", "db", "k=v"]);
    let now: Value = serde_json::from_slice(&std::fs::read(&infos[0]).unwrap()).unwrap();
    assert_eq!(now, recorded);
    assert_eq!(home.ok(&["secret", "get", "db", "-k", "k"]), "v\n");
}
