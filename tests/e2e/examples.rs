//! The example flavors under `examples/`, one per language, as a flavor
//! author builds them (`scripts/examples.sh` runs each `build.sh`):
//! registered like any third-party flavor, used through the CLI, and
//! checked with the conformance suite.

use std::path::PathBuf;

use crate::support::TestHome;

/// The built component of the example in `lang`.
fn example(lang: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(lang)
        .join("flavor.wasm");
    assert!(
        path.exists(),
        "{} is not built: run the tests with `bash scripts/test.sh`, which builds the examples \
         (scripts/examples.sh)",
        path.display()
    );
    path
}

fn check(lang: &str) {
    check_component(&example(lang), &format!("example-{lang}"));
}

fn check_component(path: &std::path::Path, name: &str) {
    let home = TestHome::new();
    let name = name.to_string();
    let said = home.ok(&[
        "flavor",
        "register",
        path.to_str().unwrap(),
        "--allow-storage",
    ]);
    assert!(said.contains(&format!("flavor `{name}` 0.1.0")), "{said}");
    home.ok(&["manager", "register", "m", "--flavor", &name]);
    home.ok(&[
        "-m",
        "m",
        "secret",
        "register",
        "db",
        "user=admin",
        "password=p=ss word\n",
    ]);
    assert_eq!(
        home.ok(&["-m", "m", "secret", "get", "db", "-k", "password"]),
        "p=ss word\n\n"
    );
    home.fails(&["-m", "m", "secret", "get", "nope"], 3);
    home.fails(&["-m", "m", "secret", "register", "db", "k=v"], 4);
    assert_eq!(home.ok(&["-m", "m", "secret", "list"]), "db\n");

    let out = home.ok(&["flavor", "test", &name]);
    assert!(out.contains(" passed, 0 failed, 0 skipped"), "{out}");
}

/// The contract is public: a flavor built against an earlier version
/// keeps loading and working. The file is the Rust example as built
/// against `secman:flavor@0.1.0` (`wit/0.1.0/`), before 0.2.0 existed.
#[test]
fn a_flavor_built_against_contract_0_1_keeps_working_unchanged() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/contract-0.1/example-rust.wasm");
    check_component(&path, "example-rust");
}

#[test]
fn the_rust_example_keeps_the_contract() {
    check("rust");
}

#[test]
fn the_python_example_keeps_the_contract() {
    check("python");
}

#[test]
fn the_javascript_example_keeps_the_contract() {
    check("js");
}

#[test]
fn the_c_example_keeps_the_contract() {
    check("c");
}

#[test]
fn the_go_example_keeps_the_contract() {
    check("go");
}
