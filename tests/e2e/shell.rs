//! What secman gives the shell: completion scripts and man pages.

use std::process::Command;

use crate::support::TestHome;

#[test]
fn completion_scripts_cover_every_command_and_bash_reads_its_own() {
    let home = TestHome::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = home.ok(&["completions", shell]);
        for word in ["secret", "manager", "flavor", "delete-all", "--manager"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    let script = home.path().join("secman.bash");
    std::fs::write(&script, home.ok(&["completions", "bash"])).unwrap();
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let run = home.run(&["completions", "tcsh"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("possible values: bash"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_man_page_prints_and_every_command_gets_one() {
    let home = TestHome::new();
    let page = home.ok(&["man"]);
    assert!(page.contains(".TH secman 1"), "{page}");
    assert!(page.contains("secrets manager"), "{page}");
    let dir = home.path().join("man1");
    home.ok(&["man", dir.to_str().unwrap()]);
    for name in [
        "secman.1",
        "secman-secret-register.1",
        "secman-manager-delete.1",
        "secman-flavor-test.1",
    ] {
        let page = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(page.starts_with(".ie"), "{name}");
    }
}
