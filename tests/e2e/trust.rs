//! The third hostile suite: the surfaces added since the second. Files a
//! flavor is granted (what a blanket yes gives, kernel files, variables,
//! links, copies left behind), `secman run` (whose configuration a
//! flavor's keys could choose), what loading a component costs, and the
//! handles a well-behaved flavor holds. Each test is an attack through
//! the real CLI, in the throwaway home of `hardening`, and every attack
//! is checked as there: nothing leaked, nothing outside the grant
//! changed, no copy of a granted file left, memory and time within the
//! limits, and the next command on another manager works.

use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::hardening::{
    DECOYS, HOST_OVERHEAD_MIB, MEMORY_MIB, TIME_SECS, User, fails_with, refused,
};
use crate::support::Run;

/// `user`'s command with `HOSTILE_KEY_FILE` set to `file` (and the
/// variable the flavor may be granted, so that it always sees one).
fn with_key(user: &User, args: &[&str], file: &Path) -> Run {
    Run::from(
        user.command(args)
            .env("HOSTILE_KEY_FILE", file)
            .env("HOSTILE_GRANTED", "visible")
            .output()
            .unwrap(),
    )
}

#[test]
fn a_blanket_yes_grants_no_file_and_kernel_files_and_other_programs_keys_need_their_path() {
    let user = User::new();
    let run = user.register_hostile(8, 0, &["--yes"]);
    let said = run.ok().stderr;
    // No file at all: each is the user's to name.
    for (file, why) in [
        ("$HOSTILE_KEY_FILE", "whatever file $HOSTILE_KEY_FILE names"),
        ("~/.ssh/id_rsa", "keys or credentials of ssh"),
        ("/proc/self/environ", "kernel filesystem"),
        ("~/.config/tool/token", ""),
    ] {
        let line = said
            .lines()
            .find(|l| l.contains(&format!("Not granted: file {file}")))
            .unwrap_or_else(|| panic!("{file}: {said}"));
        assert!(
            line.contains(why) && line.contains("--allow-file"),
            "{line}"
        );
    }
    let describe = user.ok(&["flavor", "describe", "hostile"]);
    for file in [
        "~/.config/tool/token",
        "~/.ssh/id_rsa",
        "/proc/self/environ",
        "$HOSTILE_KEY_FILE",
    ] {
        let line = describe
            .lines()
            .find(|l| l.contains(&format!("file {file} ")))
            .unwrap_or_else(|| panic!("{file}: {describe}"));
        assert!(line.contains("NOT granted"), "{line}");
    }

    // A kernel file is refused by what it is, even when named.
    user.ok(&[
        "flavor",
        "grant",
        "hostile",
        "--allow-file",
        "/proc/self/environ",
    ]);
    user.hostile_manager("proc", "/proc/self/environ");
    let run = user.attack(&["secret", "get", "read_file", "-m", "proc"]);
    fails_with(&run, 1, "kernel's `proc` filesystem");
    // (Every manager of the flavor is refused while that grant stands.)
    user.ok(&[
        "flavor",
        "revoke",
        "hostile",
        "--allow-file",
        "/proc/self/environ",
    ]);

    // A variable that names another program's key gives nothing, nor does
    // a link to one; the key's own path, typed by the user, does.
    user.ok(&[
        "flavor",
        "grant",
        "hostile",
        "--allow-file",
        "$HOSTILE_KEY_FILE",
    ]);
    let ssh_key = user.home().join(DECOYS[0].0);
    let innocent = user.dir.path().join("keys/innocent.json");
    fs::create_dir_all(innocent.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&ssh_key, &innocent).unwrap();
    for (manager, file) in [("ssh", &ssh_key), ("innocent", &innocent)] {
        user.hostile_manager(manager, file.to_str().unwrap());
        let run = with_key(&user, &["secret", "get", "read_file", "-m", manager], file);
        fails_with(&run, 1, "holds keys or credentials of ssh");
        assert!(!run.stdout.contains(DECOYS[0].1));
        assert_eq!(user.copies_left(), Vec::<std::path::PathBuf>::new());
    }
    user.ok(&[
        "flavor",
        "grant",
        "hostile",
        "--allow-file",
        "~/.ssh/id_rsa",
    ]);
    let read = user.run(&["secret", "get", "read_file", "-m", "ssh", "-k", "content"]);
    assert_eq!(read.ok().stdout.trim_end(), DECOYS[0].1);
}

#[test]
fn a_file_grant_by_variable_passes_only_the_path_of_a_copied_file() {
    let user = User::new();
    user.register_hostile(
        8,
        0,
        &[
            "--allow-file",
            "$HOSTILE_KEY_FILE",
            "--allow-env",
            "HOSTILE_GRANTED",
        ],
    )
    .ok();
    user.hostile_manager("env", "");
    // The variable holds a token, not a file: the flavor sees neither.
    let token = Path::new("DECOY-TOKEN-IN-A-VARIABLE");
    let run = with_key(
        &user,
        &["secret", "get", "read_env", "-m", "env", "-o", "json"],
        token,
    );
    let seen = run.ok().stdout;
    assert!(!seen.contains("DECOY-TOKEN"), "{seen}");
    assert!(!seen.contains("HOSTILE_KEY_FILE"), "{seen}");
    // A file: its path, where the copy is.
    let key = user.dir.path().join("keys/sa.json");
    fs::create_dir_all(key.parent().unwrap()).unwrap();
    fs::write(&key, "{}").unwrap();
    let run = with_key(
        &user,
        &["secret", "get", "read_env", "-m", "env", "-o", "json"],
        &key,
    );
    let seen: Value = serde_json::from_str(&run.ok().stdout).unwrap();
    assert_eq!(seen["values"]["HOSTILE_KEY_FILE"], key.to_str().unwrap());
}

#[test]
fn a_link_a_flavor_plants_beside_a_granted_file_is_never_followed() {
    let user = User::new();
    user.register_hostile(
        8,
        0,
        &["--allow-storage", "--allow-file", "$HOSTILE_KEY_FILE"],
    )
    .ok();
    // A team folder the flavor keeps its store in, where a granted file
    // lives too.
    let team = user.dir.path().join("team");
    fs::create_dir_all(&team).unwrap();
    let creds = team.join("creds.json");
    fs::write(&creds, "TEAM-CREDS").unwrap();
    let store = format!("store_file={}", team.join("store.yaml").display());
    let ssh_key = user.home().join(DECOYS[0].0);
    let bashrc = user.home().join(DECOYS[1].0);
    for (manager, target) in [
        ("reader", creds.display().to_string()),
        (
            "planter",
            format!("{}=>../user/{}", creds.display(), DECOYS[1].0),
        ),
    ] {
        user.ok(&[
            "manager",
            "register",
            manager,
            "--flavor",
            "hostile",
            "--option",
            &store,
            "--option",
            &format!("target={target}"),
        ]);
    }
    let read = with_key(
        &user,
        &[
            "secret",
            "get",
            "read_file",
            "-m",
            "reader",
            "-k",
            "content",
        ],
        &creds,
    );
    assert_eq!(read.ok().stdout, "TEAM-CREDS\n");
    // The flavor cannot plant a link at all...
    let run = user.attack(&["secret", "get", "symlink", "-m", "planter"]);
    refused(&run, "refused");
    assert!(!fs::symlink_metadata(&creds).is_ok_and(|m| m.is_symlink()));
    // ...and one planted there otherwise (by an older secman, another
    // program) is never followed: here to the user's shell rc file (no
    // program's key: only the link gives it away).
    let _ = fs::remove_file(&creds);
    std::os::unix::fs::symlink(format!("../user/{}", DECOYS[1].0), &creds).unwrap();
    let run = with_key(
        &user,
        &["secret", "get", "read_file", "-m", "reader"],
        &creds,
    );
    fails_with(&run, 1, "inside a storage folder that a flavor can write");
    assert!(!run.stdout.contains(DECOYS[1].1));
    assert_eq!(fs::read_to_string(&bashrc).unwrap(), DECOYS[1].1);
    assert!(ssh_key.exists());
}

#[test]
fn no_exit_leaves_a_copy_of_a_granted_file_behind() {
    let user = User::new();
    let token = user.home().join(".config/tool/token");
    fs::create_dir_all(token.parent().unwrap()).unwrap();
    fs::write(&token, "TOOL-TOKEN").unwrap();
    user.register_hostile(
        8,
        0,
        &["--allow-storage", "--allow-file", "~/.config/tool/token"],
    )
    .ok();
    user.hostile_manager("m", "{storage}/fifo");
    let fifo = user.storage_of("m").join("fifo");
    fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);

    // The deadline (guest code), the watchdog (a blocked host call) and
    // the heap's budget each end the command; `attack` checks that no
    // copy is left.
    let run = user.attack(&["secret", "get", "loop", "-m", "m"]);
    refused(&run, "ran past its time limit");
    let run = user.attack(&["secret", "get", "read_file", "-m", "m"]);
    refused(&run, "ran past its time limit");
    let run = user.attack(&["secret", "get", "hoard_fields", "-m", "m"]);
    refused(&run, "hold more than");

    // Ctrl-C, SIGTERM, and any other signal that ends secman (SIGXFSZ is
    // what a flavor writing past `ulimit -f` causes): the copies go
    // first, then the signal ends secman as it would have.
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1, libc::SIGXFSZ] {
        let mut child = user
            .command(&["secret", "get", "loop", "-m", "m"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_copies(&user);
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal));
        assert_eq!(user.copies_left(), Vec::<std::path::PathBuf>::new());
    }

    // SIGKILL leaves no chance: the next command, whatever it is,
    // removes what is left.
    let mut child = user
        .command(&["secret", "get", "loop", "-m", "m"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_copies(&user);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(user.copies_left().len(), 1);
    user.ok(&["flavor", "list"]);
    assert_eq!(user.copies_left(), Vec::<std::path::PathBuf>::new());
}

/// Waits until a command has made its copies.
fn wait_for_copies(user: &User) {
    for _ in 0..200 {
        if !user.copies_left().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no copy was made");
}

#[test]
fn secman_run_never_lets_a_flavor_choose_a_programs_configuration() {
    let user = User::new();
    user.register_hostile(0, 0, &["--yes"]).ok();
    user.hostile_manager("m", "{storage}/planted");
    let marker = user.dir.path().join("ran");
    let script = format!("touch {}", marker.display());
    // `aws` under the default prefix gives AWS_CONFIG_FILE, which would
    // point the AWS CLI at a file the flavor wrote (and its
    // credential_process).
    let run = user.attack(&["run", "-m", "m", "-s", "aws", "--", "sh", "-c", &script]);
    fails_with(&run, 2, "AWS_CONFIG_FILE");
    assert!(
        run.stderr.contains("read as configuration"),
        "{}",
        run.stderr
    );
    // A value that leads into the flavor's storage, under any name.
    let run = user.attack(&[
        "run",
        "-m",
        "m",
        "-s",
        "pointer:MY_",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    fails_with(&run, 1, "a storage folder that a flavor can write");
    assert!(!marker.exists(), "the command ran");
    // However the path is spelled.
    user.hostile_manager("spelled", "sh {storage}//./sub/../evil.sh");
    let run = user.attack(&[
        "run",
        "-m",
        "spelled",
        "-s",
        "pointer:MY_",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    fails_with(&run, 1, "a storage folder that a flavor can write");
    // Nor through `eval "$(secman secret get ... -o env)"`.
    let run = user.attack(&[
        "secret", "get", "pointer", "-m", "m", "-o", "env", "--prefix", "MY_",
    ]);
    fails_with(&run, 1, "a storage folder that a flavor");
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    // The command starts with the user's umask, not secman's.
    let mut command = user.command(&["run", "-s", "bystander", "--", "sh", "-c", "umask"]);
    // SAFETY: umask in the child before it execs secman.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0o027);
            Ok(())
        })
    };
    let run = Run::from(command.output().unwrap());
    assert_eq!(run.ok().stdout.trim(), "0027");
}

/// A component of one core module with `imports` function imports, made
/// byte by byte: valid, and never instantiated.
fn component_with_imports(imports: u32) -> Vec<u8> {
    fn leb(mut n: u32, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
        out.push(id);
        leb(body.len() as u32, out);
        out.extend(body);
    }
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    section(1, &[1, 0x60, 0, 0], &mut module);
    let mut entries = Vec::new();
    leb(imports, &mut entries);
    for i in 0..imports {
        let name = format!("f{i}");
        entries.extend([1, b'm']);
        leb(name.len() as u32, &mut entries);
        entries.extend(name.as_bytes());
        entries.extend([0, 0]);
    }
    section(2, &entries, &mut module);
    let mut component = b"\0asm\x0d\0\x01\0".to_vec();
    section(1, &module, &mut component);
    component
}

#[test]
fn a_component_whose_shape_costs_too_much_is_refused_before_it_compiles() {
    let user = User::new();
    let wasm = user.dir.path().join("imports.wasm");
    fs::write(&wasm, component_with_imports(300_000)).unwrap();
    let measured = user.measure(&["flavor", "register", wasm.to_str().unwrap(), "--yes"]);
    fails_with(&measured.run, 1, "too big to load");
    assert!(
        measured.run.stderr.contains("300000 imports"),
        "{}",
        measured.run.stderr
    );
    assert!(
        measured.peak_rss_mib < MEMORY_MIB + HOST_OVERHEAD_MIB,
        "{} MiB",
        measured.peak_rss_mib
    );
    assert!(
        measured.elapsed < Duration::from_secs(TIME_SECS),
        "{:?}",
        measured.elapsed
    );
    assert!(!user.ok(&["flavor", "list"]).contains("imports.wasm"));
}

#[test]
fn a_flavor_that_holds_many_live_handles_is_not_stopped() {
    let user = User::new();
    user.register_hostile(0, 0, &["--yes"]).ok();
    user.hostile_manager("m", "");
    // Five times the old limit of live handles, as a garbage-collected
    // runtime holds them.
    let run = user.attack(&["secret", "get", "hold_handles", "-m", "m", "-k", "held"]);
    assert_eq!(run.ok().stdout, "5000\n");
}

#[test]
fn one_flavors_memory_is_never_blamed_on_another() {
    let user = User::new();
    // Two flavors from one file: a taker with the suite's budget of host
    // memory per call (35 MiB), and a hoarder with a larger one (42 MiB)
    // that holds 36 MiB from the moment it opens.
    user.register_hostile(0, 0, &["--yes", "--name", "taker"])
        .ok();
    let wasm = user.hostile(0, 0);
    user.ok(&[
        "flavor",
        "register",
        wasm.to_str().unwrap(),
        "--yes",
        "--name",
        "hoarder",
        "--result-limit-mib",
        "8",
    ]);
    user.ok(&["manager", "register", "taker", "--flavor", "taker"]);
    user.ok(&[
        "manager",
        "register",
        "hoarder",
        "--flavor",
        "hoarder",
        "--option",
        "open_hoard_mib=36",
    ]);
    // The copy opens the taker, then the hoarder, then calls the taker
    // again: the hoarder's memory is the hoarder's.
    let run = user.run(&[
        "secret",
        "copy",
        "lie_quotes",
        "--from",
        "hoarder",
        "--to",
        "taker",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // And the hoarder is held to its own budget.
    user.ok(&[
        "manager",
        "register",
        "greedy",
        "--flavor",
        "hoarder",
        "--option",
        "open_hoard_mib=60",
    ]);
    let run = user.run(&["secret", "get", "lie_quotes", "-m", "greedy"]);
    fails_with(
        &run,
        1,
        "flavor `hoarder` made secman hold more than 42 MiB",
    );
}

#[test]
fn a_storage_folder_holds_no_more_than_its_quota() {
    let user = User::new();
    user.register_hostile(0, 0, &["--yes", "--storage-quota-mib", "4"])
        .ok();
    let describe = user.ok(&["flavor", "describe", "hostile"]);
    assert!(describe.contains("storage 4 MiB"), "{describe}");
    user.hostile_manager("m", "");
    // It writes 1 MiB at a time until a write fails: the write past the
    // quota fails as a full disk would, and the call is stopped.
    let run = user.attack(&["secret", "get", "fill_storage", "-m", "m"]);
    fails_with(
        &run,
        1,
        "wrote past its storage quota of 4 MiB in get-secret",
    );
    let fill = user.storage_of("m").join("fill");
    assert!(fs::metadata(&fill).unwrap().len() <= 4 << 20);
    // What it holds counts at the next command too.
    let run = user.attack(&["secret", "get", "fill_storage", "-m", "m"]);
    fails_with(&run, 1, "storage quota");
    // Empty files cost a block each: no flavor uses up the inodes.
    fs::remove_file(&fill).unwrap();
    let run = user.attack(&["secret", "get", "many_files", "-m", "m"]);
    fails_with(&run, 1, "storage quota");
    let files = fs::read_dir(user.storage_of("m")).unwrap().count();
    assert!(files <= 1024, "{files} files");
}
