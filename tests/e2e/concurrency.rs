//! Many `secman` processes on one store: no lost update, no torn file.

use std::thread;
use std::time::Duration;

use crate::support::TestHome;

#[test]
fn eight_processes_registering_25_secrets_each_lose_none() {
    let home = TestHome::new();
    // Create the default manager before the race, as a first command would.
    home.ok(&["secret", "list"]);
    thread::scope(|scope| {
        for writer in 0..8 {
            let home = &home;
            scope.spawn(move || {
                for i in 0..25 {
                    let name = format!("w{writer}_s{i:02}");
                    home.ok(&["secret", "register", &name, &format!("value={writer}-{i}")]);
                }
            });
        }
    });
    let names: Vec<String> =
        serde_json::from_str(&home.ok(&["secret", "list", "-o", "json"])).unwrap();
    assert_eq!(names.len(), 200, "{names:?}");
    for writer in 0..8 {
        for i in 0..25 {
            assert!(names.contains(&format!("w{writer}_s{i:02}")));
        }
    }
    assert_eq!(
        home.ok(&["secret", "get", "w7_s24", "-k", "value"]),
        "7-24\n"
    );
}

#[test]
fn the_first_use_by_many_processes_at_once_creates_one_default_manager() {
    let home = TestHome::new();
    thread::scope(|scope| {
        for writer in 0..6 {
            let home = &home;
            scope.spawn(move || {
                home.ok(&["secret", "register", &format!("s{writer}"), "k=v"]);
            });
        }
    });
    assert_eq!(home.ok(&["secret", "list"]).lines().count(), 6);
}

#[test]
fn a_writer_killed_mid_write_leaves_a_store_that_parses() {
    let home = TestHome::new();
    // A store big enough that a write takes a while.
    let values: Vec<String> = (0..40)
        .map(|k| format!("key{k}={}", "x".repeat(200)))
        .collect();
    let mut args = vec!["secret", "register", "big"];
    args.extend(values.iter().map(String::as_str));
    home.ok(&args);
    for i in 0..200 {
        home.ok(&["secret", "register", &format!("filler{i:03}"), "k=v"]);
    }

    let mut killed = 0;
    for round in 0..30u64 {
        let mut child = home
            .command(&["secret", "register", &format!("victim{round:02}"), "k=v"])
            .spawn()
            .unwrap();
        // Kill at a different moment each round: before, during or after
        // the write.
        thread::sleep(Duration::from_micros(500 + round * 700));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        // Whatever the moment, the store parses and nothing old is lost.
        let names: Vec<String> =
            serde_json::from_str(&home.ok(&["secret", "list", "-o", "json"])).unwrap();
        assert!(names.contains(&"big".to_string()) && names.contains(&"filler199".to_string()));
    }
    assert!(
        killed > 0,
        "no writer was killed mid-run; the test proved nothing"
    );
    assert_eq!(
        home.ok(&["secret", "get", "big", "-k", "key39"]),
        format!("{}\n", "x".repeat(200))
    );
}
