//! Prompts at a real terminal: `script` (util-linux) runs secman in a
//! pseudo-terminal and types the answers.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{Run, TestHome};

/// Runs `secman ARGS` in a terminal, typing `typed`.
pub fn at_terminal(home: &TestHome, args: &[&str], typed: &str) -> Run {
    let command = home.command(args);
    let line = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    script.args(["-qec", &line, "/dev/null"]);
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => script.env(key, value),
            None => script.env_remove(key),
        };
    }
    let mut child = script
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run `script` (util-linux)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().unwrap())
}

#[test]
fn hidden_values_are_read_from_the_terminal() {
    let home = TestHome::new();
    let run = at_terminal(
        &home,
        &["secret", "register", "db", "-i", "password"],
        "s3cr3t\n",
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Value of password"), "{}", run.stdout);
    assert_eq!(
        home.ok(&["secret", "get", "db", "-k", "password"]),
        "s3cr3t\n"
    );
}

#[test]
fn a_delete_waits_for_yes_at_the_terminal() {
    let home = TestHome::new();
    home.ok(&["secret", "register", "db", "k=v"]);
    let run = at_terminal(&home, &["secret", "delete", "db"], "n\n");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("cancelled"), "{}", run.stdout);
    assert_eq!(home.ok(&["secret", "list"]), "db\n");
    let run = at_terminal(&home, &["secret", "delete", "db"], "y\n");
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(home.ok(&["secret", "list"]), "");
}

#[test]
fn flavor_register_shows_what_a_flavor_asks_for_and_grants_on_yes() {
    let home = TestHome::new();
    let wasm = home.path().join("f.wasm");
    std::fs::copy(crate::support::builtin_wasm("local"), &wasm).unwrap();
    let path = wasm.to_str().unwrap();
    let run = at_terminal(
        &home,
        &["flavor", "register", path, "--name", "mine"],
        "n\n",
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("asks for:\r\n  a storage folder"),
        "{}",
        run.stdout
    );
    home.fails(&["flavor", "describe", "mine"], 1);
    let run = at_terminal(
        &home,
        &["flavor", "register", path, "--name", "mine"],
        "y\n",
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        home.ok(&["flavor", "describe", "mine"])
            .contains("storage  granted")
    );
}

#[test]
fn a_compile_shows_its_progress_at_the_terminal_only() {
    let home = TestHome::new();
    // A component no test compiled before: the local flavor with a custom
    // section of its own appended.
    let mut wasm = std::fs::read(crate::support::builtin_wasm("local")).unwrap();
    let unique = home.unique();
    wasm.extend([0, (2 + unique.len()) as u8, 1, b'x']);
    wasm.extend(unique.as_bytes());
    let path = home.path().join("fresh.wasm");
    std::fs::write(&path, &wasm).unwrap();
    let path = path.to_str().unwrap();

    let run = at_terminal(
        &home,
        &[
            "flavor",
            "register",
            path,
            "--name",
            "fresh",
            "--allow-storage",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("secman: compiling {path} (0."))
            && run.stdout.contains(&format!("secman: compiled {path} in ")),
        "{}",
        run.stdout
    );
    // Without a terminal (and from the cache) nothing is said.
    let said = home.run(&["flavor", "test", path, "--allow-storage"]);
    assert!(!said.stderr.contains("compil"), "{}", said.stderr);
}

#[test]
fn an_empty_list_says_so_at_the_terminal_only() {
    let home = TestHome::new();
    let run = at_terminal(&home, &["secret", "list"], "");
    assert!(
        run.stdout.contains("No secrets in manager `default`."),
        "{}",
        run.stdout
    );
    assert_eq!(home.run(&["secret", "list"]).stderr, "");
}
