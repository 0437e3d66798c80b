//! `secman flavor test`: the conformance suite, run on flavors that keep
//! the contract and on one that does not.

use serde_json::Value;

use crate::support::{TestHome, register_local_copy};

/// The suite's report as JSON.
fn report(home: &TestHome, args: &[&str]) -> (i32, Value) {
    let mut full = vec!["-o", "json", "flavor", "test"];
    full.extend(args);
    let run = home.run(&full);
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    (run.code, report)
}

/// What came back for `case`, and how it ended.
fn case<'a>(report: &'a Value, case: &str) -> (&'a str, &'a str) {
    let found = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == case)
        .unwrap_or_else(|| panic!("no case `{case}` in {report}"));
    (
        found["got"].as_str().unwrap(),
        found["outcome"].as_str().unwrap(),
    )
}

#[test]
fn the_local_flavor_passes_every_case_and_each_line_names_the_result() {
    let home = TestHome::new();
    let out = home.ok(&["flavor", "test", "local"]);
    let lines: Vec<&str> = out.lines().collect();
    let summary = lines.last().unwrap();
    assert!(summary.contains(" passed, 0 failed, 0 skipped"), "{out}");
    for line in &lines[..lines.len() - 1] {
        assert!(line.starts_with("ok  "), "{out}");
    }
    assert!(
        out.contains("ok    get of a missing secret: not-found\n"),
        "{out}"
    );
    assert!(
        out.contains("ok    register of an existing name: already-exists\n"),
        "{out}"
    );
    assert!(
        out.contains("ok    delete-all without force: invalid\n"),
        "{out}"
    );

    let (code, report) = report(&home, &["local"]);
    assert_eq!(code, 0);
    assert_eq!(report["failed"], 0);
    assert!(report["passed"].as_u64().unwrap() >= 30, "{report}");
    assert_eq!(
        case(&report, "update of a missing secret"),
        ("not-found", "passed")
    );
    assert_eq!(
        case(&report, "1,000 secrets listed in full"),
        ("ok", "passed")
    );
    // The suite's store was its own, and is gone.
    assert_eq!(home.ok(&["secret", "list"]), "");
}

#[test]
fn a_flavor_that_breaks_the_contract_fails_naming_what_came_back() {
    let home = TestHome::new();
    let path = home.path().join("careless.wasm");
    std::fs::copy(secman_test_plugins::HOSTILE, &path).unwrap();
    let path = path.to_str().unwrap();

    let run = home.run(&["flavor", "test", path, "--yes"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("FAIL  update of a missing secret: ok (expected not-found)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("failed") && run.stderr.lines().count() == 2,
        "{}",
        run.stderr
    );

    let (code, report) = report(&home, &[path, "--yes"]);
    assert_eq!(code, 1);
    assert_eq!(case(&report, "delete-all without force"), ("ok", "failed"));
    assert_eq!(case(&report, "open a manager"), ("ok", "passed"));
    assert!(report["failed"].as_u64().unwrap() > 5, "{report}");
}

#[test]
fn a_registered_flavor_and_a_manager_in_use_are_tested_in_place() {
    let home = TestHome::new();
    register_local_copy(&home);
    assert!(home.ok(&["flavor", "test", "mine"]).contains(" 0 failed"));

    // A manager holding secrets: the suite works beside them, leaves them
    // alone, and skips what would delete them.
    home.ok(&["manager", "register", "m", "--flavor", "mine"]);
    home.ok(&["secret", "register", "keep", "k=v", "-m", "m"]);
    let (code, report) = report(&home, &["--manager", "m"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(case(&report, "delete-all with force"), ("-", "skipped"));
    assert_eq!(report["skipped"], 1);
    assert_eq!(home.ok(&["secret", "list", "-m", "m"]), "keep\n");
    assert_eq!(
        home.ok(&["secret", "get", "keep", "-m", "m", "-k", "k"]),
        "v\n"
    );

    home.fails(&["flavor", "test"], 2);
    home.fails(&["flavor", "test", "mine", "-m", "m"], 2);
    home.fails(&["flavor", "test", "mine", "--allow-storage"], 2);
}

#[test]
fn a_store_the_suite_did_not_make_is_never_emptied() {
    let home = TestHome::new();
    // A ZenML store whose only secret has a name secman cannot address:
    // listed as nothing, but not empty.
    let folder = home.path().join("zen");
    std::fs::create_dir(&folder).unwrap();
    let file = folder.join("secrets.yaml");
    let zenml = "my db:\n  password: aHVudGVyMg==\n  zenml_schema_name: arbitrary\n";
    std::fs::write(&file, zenml).unwrap();
    let option = format!("secrets_file={}", file.display());
    home.ok(&[
        "manager", "register", "zen", "--flavor", "local", "--option", &option,
    ]);

    for args in [&["-m", "zen"][..], &["local", "--option", &option]] {
        let (code, json) = report(&home, args);
        assert_eq!(code, 0, "{json}");
        assert_eq!(case(&json, "delete-all with force"), ("-", "skipped"));
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), zenml);
}
