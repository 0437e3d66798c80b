//! A hostile flavor attacks its sandbox through the CLI; every attack ends
//! with a clear error (or a harmless result) within its limit, and the
//! next command, on another manager, still works.

use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Run, TestHome};

/// A home with the hostile flavor registered (all it asks for granted,
/// tight limits) and a secret in the default manager to check afterwards.
fn hostile_home() -> TestHome {
    let home = TestHome::new();
    home.ok(&[
        "flavor",
        "register",
        secman_test_plugins::HOSTILE,
        "--yes",
        "--time-limit-secs",
        "1",
        "--memory-limit-mib",
        "64",
        "--output-limit-kib",
        "64",
        "--result-limit-mib",
        "1",
    ]);
    home.ok(&["secret", "register", "bystander", "k=still here"]);
    home
}

/// A manager of the hostile flavor aiming `attack` at `target`, and its
/// storage folder.
fn aim(home: &TestHome, attack: &str, target: &str) -> (String, PathBuf) {
    let digest: u32 = target
        .bytes()
        .fold(7, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    let manager = format!("m_{attack}_{digest:x}");
    if home.run(&["manager", "describe", &manager]).code != 0 {
        home.ok(&[
            "manager",
            "register",
            &manager,
            "--flavor",
            "hostile",
            "--option",
            &format!("target={target}"),
        ]);
    }
    let storage = storage_of(home, &manager);
    (manager, storage)
}

/// Runs `attack` from a manager of the hostile flavor aimed at `target`.
fn attack(home: &TestHome, attack: &str, target: &str) -> Run {
    let (manager, _) = aim(home, attack, target);
    home.run(&["secret", "get", attack, "-m", &manager, "-o", "json"])
}

/// The attack was refused with one clear line, and secman goes on: the
/// sandbox stopped the call (exit code 1), or the flavor passed on the
/// sandbox's refusal as `denied` (exit code 5).
fn refused(home: &TestHome, run: Run, needle: &str) -> String {
    assert!([1, 5].contains(&run.code), "{}", run.stderr);
    let code = run.code;
    let run = run.fails(code);
    assert!(
        run.stderr.contains(needle),
        "expected `{needle}` in: {}",
        run.stderr
    );
    assert_eq!(
        home.ok(&["secret", "get", "bystander", "-k", "k"]),
        "still here\n",
        "the next command on another manager must work"
    );
    run.stderr
}

fn storage_of(home: &TestHome, manager: &str) -> PathBuf {
    let uuid = home.manager_json(manager)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    home.home().join("stores").join(uuid)
}

#[test]
fn it_cannot_read_files_outside_its_storage() {
    let home = hostile_home();
    let err = refused(&home, attack(&home, "read_file", "/etc/passwd"), "refused");
    assert!(!err.contains("root:"), "{err}");
    let user_home = std::env::var("HOME").unwrap();
    refused(&home, attack(&home, "list_dir", &user_home), "refused");
    let managers = home.home().join("managers.yaml");
    refused(
        &home,
        attack(&home, "read_file", managers.to_str().unwrap()),
        "refused",
    );
    let default_store = home.default_store();
    let err = refused(
        &home,
        attack(&home, "read_file", default_store.to_str().unwrap()),
        "refused",
    );
    assert!(!err.contains("c3RpbGwgaGVyZQ"), "{err}");
}

#[test]
fn it_cannot_climb_or_follow_links_out_of_its_storage() {
    let home = hostile_home();
    // Inside its own folder it may write: the harmless result.
    let own = "{storage}/own.txt";
    attack(&home, "write_file", own).ok();
    let (_, storage) = aim(&home, "write_file", own);
    assert!(storage.join("own.txt").is_file());

    refused(
        &home,
        attack(&home, "read_file", "{storage}/../../managers.yaml"),
        "refused",
    );
    refused(
        &home,
        attack(&home, "write_file", "{storage}/../escaped.txt"),
        "refused",
    );
    assert!(!storage.parent().unwrap().join("escaped.txt").exists());
    let outside = home.path().join("outside.txt");
    refused(
        &home,
        attack(&home, "write_file", outside.to_str().unwrap()),
        "refused",
    );
    assert!(!outside.exists());

    // Links inside its folder to places outside lead nowhere.
    let links = "{storage}/link";
    let (_, link_storage) = aim(&home, "read_file", links);
    std::fs::create_dir_all(&link_storage).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", link_storage.join("link")).unwrap();
    let err = refused(&home, attack(&home, "read_file", links), "refused");
    assert!(!err.contains("root:"), "{err}");
    let (_, dir_storage) = aim(&home, "read_file", "{storage}/up/managers.yaml");
    std::fs::create_dir_all(&dir_storage).unwrap();
    std::os::unix::fs::symlink(home.home(), dir_storage.join("up")).unwrap();
    refused(
        &home,
        attack(&home, "read_file", "{storage}/up/managers.yaml"),
        "refused",
    );
}

#[test]
fn it_sees_only_the_environment_it_was_granted() {
    let home = hostile_home();
    let manager = "envy";
    home.ok(&["manager", "register", manager, "--flavor", "hostile"]);
    let run = home
        .command(&["secret", "get", "read_env", "-m", manager, "-o", "json"])
        .env("HOSTILE_GRANTED", "granted-value")
        .env("HOST_ONLY_SECRET", "must-not-leak")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let seen: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        seen["values"],
        serde_json::json!({"HOSTILE_GRANTED": "granted-value"})
    );
}

#[test]
fn it_cannot_open_sockets_or_resolve_names() {
    let home = hostile_home();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();

    refused(
        &home,
        attack(&home, "tcp_connect", &tcp.local_addr().unwrap().to_string()),
        "refused",
    );
    refused(
        &home,
        attack(&home, "udp_send", &udp.local_addr().unwrap().to_string()),
        "refused",
    );
    refused(&home, attack(&home, "resolve", "localhost"), "refused");

    assert!(
        tcp.accept().is_err(),
        "a TCP connection reached the listener"
    );
    assert!(
        udp.recv(&mut [0; 16]).is_err(),
        "a UDP datagram reached the socket"
    );
}

#[test]
fn http_to_a_host_it_was_not_granted_never_leaves_the_host() {
    let home = hostile_home();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    for url in [
        format!("http://{address}/steal"),
        format!("https://{address}/steal"),
    ] {
        let scheme = url.split(':').next().unwrap();
        let err = refused(
            &home,
            attack(&home, "http_get", &url),
            "which it was not granted",
        );
        assert!(err.contains(&format!("{scheme}://{address}")), "{err}");
    }
    assert!(listener.accept().is_err(), "a request reached the listener");
}

#[test]
fn a_flavor_looping_forever_is_stopped_at_its_time_limit() {
    let home = hostile_home();
    let start = Instant::now();
    refused(
        &home,
        attack(&home, "loop", "x"),
        "ran past its time limit of 1s",
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_flavor_growing_memory_is_stopped_at_its_memory_limit() {
    let home = hostile_home();
    refused(
        &home,
        attack(&home, "grow_memory", "x"),
        "hit its memory limit of 64 MiB",
    );
}

#[test]
fn recursion_panics_aborts_and_exits_are_errors_of_that_call() {
    let home = hostile_home();
    refused(&home, attack(&home, "recurse", "x"), "call stack exhausted");
    refused(&home, attack(&home, "panic", "x"), "crashed in get-secret");
    refused(&home, attack(&home, "abort", "x"), "crashed in get-secret");
    refused(&home, attack(&home, "exit", "x"), "exited with status 1");
    // What it printed stays out of the way unless asked for.
    let manager = home.run(&["manager", "list", "-o", "json"]).ok().stdout;
    assert!(!manager.contains("panics"));
}

#[test]
fn flooding_output_or_returning_100_mb_hits_the_limits() {
    let home = hostile_home();
    refused(
        &home,
        attack(&home, "print_flood", "x"),
        "output limit of 64 KiB",
    );
    // 100 MB does not fit in 64 MiB of memory: the memory limit comes first.
    refused(&home, attack(&home, "huge_string", "x"), "memory limit");

    let roomy = TestHome::new();
    roomy.ok(&[
        "flavor",
        "register",
        secman_test_plugins::HOSTILE,
        "--yes",
        "--result-limit-mib",
        "1",
    ]);
    roomy.ok(&["secret", "register", "bystander", "k=still here"]);
    refused(
        &roomy,
        attack(&roomy, "huge_string", "x"),
        "tried to copy more than its limit of 1 MiB into secman in get-secret",
    );
    roomy.ok(&[
        "manager",
        "register",
        "lister",
        "--flavor",
        "hostile",
        "--option",
        "list_attack=huge",
    ]);
    refused(
        &roomy,
        roomy.run(&["secret", "list", "-m", "lister"]),
        "more than its limit of 1 MiB",
    );
}

#[test]
fn options_and_identity_come_from_the_host() {
    let home = hostile_home();
    home.ok(&[
        "manager", "register", "one", "--flavor", "hostile", "--option", "target=a",
    ]);
    home.ok(&[
        "manager", "register", "two", "--flavor", "hostile", "--option", "target=b",
    ]);
    let seen = |manager: &str| -> Value {
        serde_json::from_str(&home.ok(&[
            "secret",
            "get",
            "read_options",
            "-m",
            manager,
            "-o",
            "json",
        ]))
        .unwrap()
    };
    for (manager, other) in [("one", "two"), ("two", "one")] {
        let values = seen(manager)["values"].clone();
        let described = home.manager_json(manager);
        assert_eq!(values["component_uuid"], described["uuid"]);
        assert_eq!(values["component_name"], manager);
        assert_eq!(
            values["storage"],
            storage_of(&home, manager).display().to_string()
        );
        let text = values.to_string();
        assert!(
            !text.contains(home.manager_json(other)["uuid"].as_str().unwrap()),
            "{text}"
        );
    }
    // One manager's flavor cannot read another's store.
    let other_store = storage_of(&home, "two").join("secrets.yaml");
    std::fs::write(&other_store, "two's secret").unwrap();
    refused(
        &home,
        attack(&home, "read_file", other_store.to_str().unwrap()),
        "refused",
    );
}

#[test]
fn an_import_the_host_does_not_provide_is_refused_at_registration() {
    let home = TestHome::new();
    let wasm = std::fs::read(secman_test_plugins::UNKNOWN_IMPORT).unwrap();
    let entry = format!("{}.cwasm", secman::runtime::sha256_hex(&wasm));
    let entries = || -> Vec<PathBuf> {
        std::fs::read_dir(crate::support::shared_cache())
            .map(|dirs| dirs.map(|d| d.unwrap().path().join(&entry)).collect())
            .unwrap_or_default()
    };
    for stale in entries() {
        let _ = std::fs::remove_file(stale);
    }
    let err = home.fails(
        &[
            "flavor",
            "register",
            secman_test_plugins::UNKNOWN_IMPORT,
            "--yes",
        ],
        1,
    );
    assert!(err.contains("secman-test:unknown/unprovided"), "{err}");
    assert!(err.contains("does not provide"), "{err}");
    let list = home.ok(&["flavor", "list"]);
    assert!(!list.contains("unknown-import"), "{list}");
    // Refused from its imports alone: it was never compiled.
    assert!(
        !entries().iter().any(|e| e.exists()),
        "the refused component was compiled"
    );
}
