//! Benchmarks of the `secman` binary as a user runs it, and of the
//! host-to-plugin call in-process.
//!
//! Run with `bash scripts/bench.sh`, which starts moto, drongo and OpenBao
//! for the aws, gcp and vault figures (plain `cargo bench -p secman --bench cli` skips
//! them). Each figure is
//! the median (and 90th percentile) of many runs on this machine, with the
//! peak RSS of the process; the results feed `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use secman::home::Home;
use secman::registry::FlavorRegistry;
use secman::runtime::{Runtime, SandboxSpec};

const SECMAN: &str = env!("CARGO_BIN_EXE_secman");

/// The sections, in the order they run. `bash scripts/bench.sh SECTION...`
/// runs only those named; with none, all of them.
const SECTIONS: &[&str] = &[
    "warm",
    "run",
    "baseline",
    "first",
    "stores",
    "in-process",
    "examples",
    "aws",
    "copy",
    "gcp",
    "vault",
];

fn main() {
    // `cargo bench` passes `--bench`; every other argument names a section.
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    if let Some(unknown) = named.iter().find(|name| !SECTIONS.contains(&name.as_str())) {
        eprintln!(
            "no section `{unknown}`: the sections are {}",
            SECTIONS.join(", ")
        );
        std::process::exit(2);
    }
    let wanted = |section: &str| named.is_empty() || named.iter().any(|name| name == section);

    settle(Path::new(SECMAN));
    if let Some(baseline) = std::env::var_os("SECMAN_BENCH_BASELINE") {
        settle(Path::new(&baseline));
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let cache = dir.path().join("cache");

    // A small store, as most users have.
    run(
        &home,
        &cache,
        &[
            "secret",
            "register",
            "db",
            "username=admin",
            "password=s3cr3t",
        ],
    );
    if wanted("warm") {
        warm_path(&home, &cache);
    }
    if wanted("run") {
        run_beside_get(&home, &cache);
    }
    if wanted("baseline")
        && let Some(baseline) = std::env::var_os("SECMAN_BENCH_BASELINE")
    {
        beside_baseline(Path::new(&baseline), dir.path());
    }
    if wanted("first") {
        let first = measure(20, || {
            let fresh = tempfile::tempdir().unwrap();
            run(&home, fresh.path(), &["secret", "get", "db"])
        });
        report(
            "first use `secret get` (empty compile cache)",
            &first,
            "target: median <= 300 ms",
        );
    }
    if wanted("stores") {
        big_stores(dir.path(), &cache);
    }
    if wanted("in-process") {
        in_process(&home, &cache);
    }
    if wanted("examples") {
        examples_beside_local(dir.path(), &cache);
    }
    if wanted("aws") {
        aws_beside_awscli(dir.path(), &cache);
    }
    if wanted("copy") {
        copy_beside_boto3(dir.path(), &cache);
    }
    if wanted("gcp") {
        gcp_beside_google_client(dir.path(), &cache);
    }
    if wanted("vault") {
        vault_beside_bao(dir.path(), &cache);
    }
}

/// Drops `binary` from the page cache and reads it back whole, so that
/// every binary compared is cached alike. The same bytes run up to a
/// quarter slower when the file sits in the page cache as the linker wrote
/// it (small pages: more page faults to map it) than after a sequential
/// read (large folios), and a copy made with `cp` is cached differently
/// again.
fn settle(binary: &Path) {
    use std::os::fd::AsRawFd;
    let mut file = std::fs::File::open(binary).unwrap();
    // SAFETY: an advice on a file this function holds open.
    unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    std::io::copy(&mut file, &mut std::io::sink()).unwrap();
}

/// `secret get` and `secret register` in local stores of 1,000 and 10,000
/// secrets, and PyYAML loading the larger one.
fn big_stores(dir: &Path, cache: &Path) {
    for (count, target) in [
        (1_000, "target: median <= twice the warm get"),
        (10_000, "target: median <= 15 ms"),
    ] {
        let store = local_store(dir, cache, count);
        let get = measure(50, || {
            run(
                &store.home,
                cache,
                &["secret", "get", "secret00500", "-m", "big"],
            )
        });
        report(
            &format!("`secret get` in a store of {count} secrets"),
            &get,
            target,
        );
        if count == 10_000 {
            let mut n = 0;
            let register = measure(50, || {
                n += 1;
                let name = format!("added{n:03}");
                run(
                    &store.home,
                    cache,
                    &["secret", "register", &name, "k=v", "-m", "big"],
                )
            });
            report(
                "`secret register` into a store of 10,000 secrets",
                &register,
                "target: median <= 40 ms",
            );
            pyyaml_beside(&store.file);
        }
    }
}

/// Warm `secret get` through each example flavor under `examples/` that
/// is built (`bash scripts/examples.sh`), interleaved with the built-in
/// `local`, and the time `flavor register` takes to compile each.
fn examples_beside_local(dir: &Path, cache: &Path) {
    let home = dir.join("examples");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut managers = vec![("local (built-in)".to_string(), "default".to_string())];
    for lang in ["rust", "python", "js", "c", "go"] {
        let wasm = root.join(lang).join("flavor.wasm");
        if !wasm.exists() {
            println!("examples/{lang} is not built: run `bash scripts/examples.sh`");
            continue;
        }
        let size = std::fs::metadata(&wasm).unwrap().len();
        let register = run(
            &home,
            cache,
            &[
                "flavor",
                "register",
                wasm.to_str().unwrap(),
                "--allow-storage",
            ],
        );
        println!(
            "`flavor register` of examples/{lang} ({:.1} MB), compiling it: {:.0} ms",
            size as f64 / 1e6,
            ms(register.wall)
        );
        let manager = format!("m-{lang}");
        let flavor = format!("example-{lang}");
        run(
            &home,
            cache,
            &["manager", "register", &manager, "--flavor", &flavor],
        );
        run(
            &home,
            cache,
            &["-m", &manager, "secret", "register", "db", "k=v"],
        );
        managers.push((format!("example-{lang}"), manager));
    }
    run(&home, cache, &["secret", "register", "db", "k=v"]);
    // A registered file is read again until it is two seconds old.
    std::thread::sleep(Duration::from_millis(2100));
    let mut samples: Vec<Vec<Sample>> = managers.iter().map(|_| Vec::new()).collect();
    for round in 0..=100 {
        for ((_, manager), samples) in managers.iter().zip(&mut samples) {
            let sample = run(&home, cache, &["-m", manager, "secret", "get", "db"]);
            if round > 0 {
                samples.push(sample);
            }
        }
    }
    let local = ms(median(&samples[0]));
    for ((name, _), samples) in managers.iter().zip(&samples) {
        let target = match name.as_str() {
            "example-python" | "example-js" => "target: median <= 15 ms",
            "example-go" => "target: median <= 8 ms",
            "example-c" => "target: within 1 ms of local",
            _ => "",
        };
        report(
            &format!(
                "warm `secret get` through {name} (interleaved; {:+.2} ms beside local)",
                ms(median(samples)) - local
            ),
            samples,
            target,
        );
    }
}

/// A manager `big` on a local store of `count` secrets.
struct LocalStore {
    home: PathBuf,
    file: PathBuf,
}

fn local_store(dir: &Path, cache: &Path, count: usize) -> LocalStore {
    let home = dir.join(format!("home-{count}"));
    // A folder of its own: a storage folder may not hold secman's state.
    let file = dir.join(format!("store-{count}")).join("secrets.yaml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    write_store(&file, count);
    let option = format!("secrets_file={}", file.display());
    run(
        &home,
        cache,
        &[
            "manager", "register", "big", "--flavor", "local", "--option", &option,
        ],
    );
    LocalStore { home, file }
}

/// PyYAML's `safe_load` of the same store, as ZenML reads it on every
/// call: the median of 10 loads in one Python process.
fn pyyaml_beside(store: &Path) {
    let Ok(python) = std::env::var("SECMAN_TEST_ZENML_PYTHON") else {
        println!("PyYAML: skipped, its virtualenv is not set up (use scripts/bench.sh)");
        return;
    };
    let script = "import sys, time, statistics, yaml\n\
                  text = open(sys.argv[1]).read()\n\
                  times = []\n\
                  for _ in range(10):\n\
                  \x20   start = time.perf_counter(); yaml.safe_load(text); times.append(time.perf_counter() - start)\n\
                  print('%.1f' % (statistics.median(times) * 1000))\n";
    let output = Command::new(python)
        .args(["-c", script])
        .arg(store)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!(
        "PyYAML `yaml.safe_load` of the same store (ZenML's read): median {} ms over 10 loads",
        String::from_utf8_lossy(&output.stdout).trim()
    );
}

/// `secret get` through the aws flavor against moto, beside awscli's
/// `get-secret-value` of the same secret on the same server.
fn aws_beside_awscli(dir: &Path, cache: &Path) {
    let Some(Moto {
        url: moto,
        python,
        credentials,
    }) = Moto::running("aws")
    else {
        return;
    };
    let home = dir.join("aws");
    let secman = |args: &[&str]| {
        let mut command = Command::new(SECMAN);
        command
            .args(args)
            .env("SECMAN_HOME", &home)
            .env("SECMAN_CACHE_DIR", cache)
            .envs(credentials.clone());
        command
    };
    let name = format!("bench{}", std::process::id());
    let endpoint = format!("endpoint_url={moto}");
    for setup in [
        &[
            "manager",
            "register",
            "bench",
            "--flavor",
            "aws",
            "--scope",
            "global",
            "--option",
            "region_name=eu-west-1",
            "--option",
            &endpoint,
        ][..],
        &[
            "secret",
            "register",
            &name,
            "user=admin",
            "password=s3cr3t",
            "-m",
            "bench",
        ],
    ] {
        timed(secman(setup));
    }

    let ours = measure(50, || {
        timed(secman(&["secret", "get", &name, "-m", "bench"]))
    });
    let awscli = Path::new(&python).with_file_name("aws");
    let aws_name = format!("zenml/global/{name}");
    let theirs = measure(20, || {
        let mut command = Command::new(&python);
        command
            .arg(&awscli)
            .args([
                "secretsmanager",
                "get-secret-value",
                "--secret-id",
                &aws_name,
            ])
            .args(["--endpoint-url", &moto, "--region", "eu-west-1"])
            .envs(credentials.clone());
        timed(command)
    });
    compare(
        ("aws flavor `secret get` against moto", &ours),
        (
            "awscli `secretsmanager get-secret-value` against moto",
            &theirs,
        ),
        10.0,
    );
}

/// moto as `scripts/peers.sh` started it, and the keys it accepts.
struct Moto {
    url: String,
    python: String,
    credentials: [(&'static str, String); 2],
}

impl Moto {
    /// moto, if it runs; else says that `what` is skipped.
    fn running(what: &str) -> Option<Moto> {
        let var = |name: &str| std::env::var(name).ok();
        let found = Some(Moto {
            url: var("SECMAN_TEST_MOTO_URL")?,
            python: var("SECMAN_TEST_PYTHON")?,
            credentials: [
                ("AWS_ACCESS_KEY_ID", var("SECMAN_TEST_AWS_ACCESS_KEY_ID")?),
                (
                    "AWS_SECRET_ACCESS_KEY",
                    var("SECMAN_TEST_AWS_SECRET_ACCESS_KEY")?,
                ),
            ],
        });
        if found.is_none() {
            println!("{what}: skipped, moto is not running (use scripts/bench.sh)");
        }
        found
    }
}

/// `secman run --secret db -- true` beside a warm `secret get db`,
/// interleaved: what `run` adds before its command starts (the exec of
/// `true` included).
fn run_beside_get(home: &Path, cache: &Path) {
    let (mut gets, mut runs) = (Vec::new(), Vec::new());
    for round in 0..=100 {
        let get = run(home, cache, &["secret", "get", "db"]);
        let started = run(home, cache, &["run", "--secret", "db", "--", "true"]);
        if round > 0 {
            gets.push(get);
            runs.push(started);
        }
    }
    report("warm `secret get db` (interleaved)", &gets, "");
    report("`secman run --secret db -- true` (interleaved)", &runs, "");
    println!(
        "`secman run` adds {:.2} ms over a warm `secret get`, exec of `true` included \
         (target: at most 5 ms)",
        ms(median(&runs)) - ms(median(&gets))
    );
}

/// `secret copy --all` of 1,000 secrets from a local store to AWS (moto),
/// beside a boto3 script making the same `create_secret` calls against the
/// same server, three of each, interleaved.
fn copy_beside_boto3(dir: &Path, cache: &Path) {
    let Some(Moto {
        url: moto,
        python,
        credentials,
    }) = Moto::running("copy")
    else {
        return;
    };
    // A store of its own: the `stores` section registers `big` in the same folder.
    let store = local_store(&dir.join("copy"), cache, 1_000);
    let endpoint = format!("endpoint_url={moto}");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..3 {
        let namespace = format!("copy{}x{round}", std::process::id());
        let mut register = Command::new(SECMAN);
        register
            .args(["manager", "register", &namespace, "--flavor", "aws"])
            .args(["--scope", "namespace", "--namespace", &namespace])
            .args(["--option", "region_name=eu-west-1", "--option", &endpoint])
            .env("SECMAN_HOME", &store.home)
            .env("SECMAN_CACHE_DIR", cache);
        timed(register);
        let mut copy = Command::new(SECMAN);
        copy.args([
            "secret", "copy", "--all", "--from", "big", "--to", &namespace,
        ])
        .env("SECMAN_HOME", &store.home)
        .env("SECMAN_CACHE_DIR", cache)
        .envs(credentials.clone());
        ours.push(timed(copy));
        let mut boto3 = Command::new(&python);
        boto3
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/boto3_create_many.py"))
            .args([&moto, "eu-west-1", &format!("boto3/{namespace}/"), "1000"])
            .envs(credentials.clone());
        theirs.push(timed(boto3));
    }
    report(
        "`secret copy --all` of 1,000 secrets, local to aws (moto)",
        &ours,
        "target: no slower than boto3",
    );
    report(
        "boto3: the same 1,000 `create_secret` calls (one process)",
        &theirs,
        "the peer",
    );
    println!(
        "copy: secman's median is {:.2} times boto3's",
        ms(median(&ours)) / ms(median(&theirs))
    );
}

/// `secret get` through the gcp flavor against drongo, beside a Python
/// script that reads the same secret from the same server with Google's
/// client (`google-cloud-secret-manager`, REST).
fn gcp_beside_google_client(dir: &Path, cache: &Path) {
    let (Ok(drongo), Ok(python)) = (
        std::env::var("SECMAN_TEST_DRONGO_URL"),
        std::env::var("SECMAN_TEST_PYTHON"),
    ) else {
        println!("gcp: skipped, drongo is not running (use scripts/bench.sh)");
        return;
    };
    let home = dir.join("gcp");
    let project = format!("bench{}", std::process::id());
    let endpoint = format!("endpoint={drongo}");
    let project_id = format!("project_id={project}");
    let setup: [&[&str]; 2] = [
        &[
            "manager",
            "register",
            "bench",
            "--flavor",
            "gcp",
            "--scope",
            "global",
            "--option",
            &project_id,
            "--option",
            &endpoint,
        ],
        &[
            "secret",
            "register",
            "db",
            "user=admin",
            "password=s3cr3t",
            "-m",
            "bench",
        ],
    ];
    for args in setup {
        run(&home, cache, args);
    }
    let ours = measure(50, || {
        run(&home, cache, &["secret", "get", "db", "-m", "bench"])
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/gcp_call.py");
    let theirs = measure(20, || {
        let mut command = Command::new(&python);
        command
            .arg(&script)
            .args([&drongo, &project, "access", r#"{"id": "zenml-global-db"}"#]);
        timed(command)
    });
    compare(
        ("gcp flavor `secret get` against drongo", &ours),
        (
            "google-cloud-secret-manager `access_secret_version` against drongo",
            &theirs,
        ),
        10.0,
    );
}

/// `secret get` through the vault flavor against an OpenBao dev server,
/// beside `bao kv get` of the same secret on the same server.
fn vault_beside_bao(dir: &Path, cache: &Path) {
    let (Ok(url), Ok(token), Ok(bao)) = (
        std::env::var("SECMAN_TEST_VAULT_URL"),
        std::env::var("SECMAN_TEST_VAULT_TOKEN"),
        std::env::var("SECMAN_TEST_BAO"),
    ) else {
        println!("vault: skipped, OpenBao is not running (use scripts/bench.sh)");
        return;
    };
    let home = dir.join("vault");
    let secman = |args: &[&str]| {
        let mut command = Command::new(SECMAN);
        command
            .args(args)
            .env("SECMAN_HOME", &home)
            .env("SECMAN_CACHE_DIR", cache)
            .env("VAULT_TOKEN", &token);
        command
    };
    let name = format!("bench{}", std::process::id());
    let url_option = format!("url={url}");
    let setup: [&[&str]; 2] = [
        &[
            "manager",
            "register",
            "bench",
            "--flavor",
            "vault",
            "--scope",
            "global",
            "--option",
            &url_option,
        ],
        &[
            "secret",
            "register",
            &name,
            "user=admin",
            "password=s3cr3t",
            "-m",
            "bench",
        ],
    ];
    for args in setup {
        timed(secman(args));
    }
    let ours = measure(50, || {
        timed(secman(&["secret", "get", &name, "-m", "bench"]))
    });
    let path = format!("zenml/global/{name}");
    let theirs = measure(50, || {
        let mut command = Command::new(&bao);
        command
            .args(["kv", "get", "-mount=secret", &path])
            .env("VAULT_ADDR", &url)
            .env("VAULT_TOKEN", &token);
        timed(command)
    });
    compare(
        ("vault flavor `secret get` against OpenBao", &ours),
        ("`bao kv get` against OpenBao", &theirs),
        2.0,
    );
}

/// The warm path: `secret get` beside `cat` of the store it reads and
/// `secman --version`, interleaved so that all three see the same
/// machine, and the stages of the get as `SECMAN_PROFILE` reports them
/// (what is left of the whole is process start and exit).
fn warm_path(home: &Path, cache: &Path) {
    let store = find_file(&home.join("stores"), "secrets.yaml");
    let (mut get, mut cat, mut version) = (Vec::new(), Vec::new(), Vec::new());
    let mut stages: Vec<(String, Vec<f64>)> = Vec::new();
    for round in 0..=200 {
        let samples = (
            run(home, cache, &["secret", "get", "db"]),
            timed({
                let mut cat = Command::new("cat");
                cat.arg(&store);
                cat
            }),
            run(home, cache, &["--version"]),
        );
        let profiled = Command::new(SECMAN)
            .args(["secret", "get", "db"])
            .env("SECMAN_HOME", home)
            .env("SECMAN_CACHE_DIR", cache)
            .env("SECMAN_PROFILE", "1")
            .output()
            .unwrap();
        if round == 0 {
            continue; // the page cache warms
        }
        get.push(samples.0);
        cat.push(samples.1);
        version.push(samples.2);
        let stderr = String::from_utf8_lossy(&profiled.stderr);
        let line = stderr
            .lines()
            .find_map(|line| line.strip_prefix("secman: profile: "))
            .expect("SECMAN_PROFILE prints a profile line");
        for (i, pair) in line.split(' ').enumerate() {
            let (stage, micros) = pair.split_once('=').unwrap();
            if stages.len() <= i {
                stages.push((stage.to_string(), Vec::new()));
            }
            stages[i].1.push(micros.parse::<f64>().unwrap() / 1000.0);
        }
    }
    report(
        "warm `secret get` (cache filled, 1 secret)",
        &get,
        "target: median <= 2.0 ms and <= 2.2 times cat, RSS <= 12 MB",
    );
    report("`cat` of the store", &cat, "the floor");
    report("`secman --version`", &version, "target: median <= 1.2 ms");
    println!(
        "warm `secret get` / `cat`: {:.2}",
        ms(median(&get)) / ms(median(&cat))
    );
    let (found, listed) = hot_symbols_found();
    println!(
        "host/hot-symbols.txt: {found} of its {listed} functions are in this build \
         (fewer: rerun scripts/hot-symbols.py)"
    );
    println!("stages of a warm `secret get` (medians, ms):");
    let mut total = 0.0;
    for (stage, mut times) in stages {
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        if stage == "total" {
            total = median;
        } else {
            println!("  {stage:<12} {median:.3}");
        }
    }
    println!(
        "  {:<12} {:.3} (the whole process's median less the in-process total, {total:.3})",
        "start, exit",
        ms(median(&get)) - total
    );
}

/// How many of the functions `host/hot-symbols.txt` lists for the linker
/// to place together this build has, and how many it lists. A change to
/// the code renames some (their names carry hashes), and those are placed
/// anywhere.
fn hot_symbols_found() -> (usize, usize) {
    let list = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/hot-symbols.txt"))
        .expect("host/hot-symbols.txt is readable");
    let nm = Command::new("nm")
        .args(["--defined-only", SECMAN])
        .output()
        .expect("nm runs");
    let symbols = String::from_utf8_lossy(&nm.stdout);
    let defined: std::collections::HashSet<&str> = symbols
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .collect();
    let listed: Vec<&str> = list
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let found = listed.iter().filter(|name| defined.contains(*name)).count();
    (found, listed.len())
}

/// The first file called `name` under `dir`.
fn find_file(dir: &Path, name: &str) -> PathBuf {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let found = find_file(&path, name);
            if found.exists() {
                return found;
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return path;
        }
    }
    dir.join(name)
}

/// Reports secman's figures beside a peer's, and the ratio of their
/// medians; the target is secman at least `target` times faster.
fn compare(ours: (&str, &[Sample]), theirs: (&str, &[Sample]), target: f64) {
    report(
        ours.0,
        ours.1,
        &format!("target: at most 1/{target} of the peer's median"),
    );
    report(theirs.0, theirs.1, "the peer");
    println!(
        "{}: secman's median is {:.1} times faster than the peer's",
        ours.0,
        median(theirs.1).as_secs_f64() / median(ours.1).as_secs_f64()
    );
}

/// The warm `secret get` and `secman run` of this build beside another
/// `secman` binary (`SECMAN_BENCH_BASELINE`, e.g. an earlier commit's),
/// each in its own home, runs interleaved so that both see the same
/// machine.
fn beside_baseline(baseline: &Path, dir: &Path) {
    let binaries = [Path::new(SECMAN), baseline];
    let homes = ["this", "baseline"].map(|name| dir.join(format!("compare-{name}")));
    for (binary, home) in binaries.iter().zip(&homes) {
        let mut register = Command::new(binary);
        register
            .args([
                "secret",
                "register",
                "db",
                "username=admin",
                "password=s3cr3t",
            ])
            .env("SECMAN_HOME", home)
            .env("SECMAN_CACHE_DIR", home.join("cache"));
        timed(register);
    }
    for (what, args) in [
        ("warm `secret get`", &["secret", "get", "db"][..]),
        (
            "`secman run --secret db -- true`",
            &["run", "--secret", "db", "--", "true"][..],
        ),
    ] {
        let mut samples: [Vec<Sample>; 2] = Default::default();
        for round in 0..=200 {
            for ((binary, home), samples) in binaries.iter().zip(&homes).zip(&mut samples) {
                let mut command = Command::new(binary);
                command
                    .args(args)
                    .env("SECMAN_HOME", home)
                    .env("SECMAN_CACHE_DIR", home.join("cache"));
                let sample = timed(command);
                if round > 0 {
                    samples.push(sample);
                }
            }
        }
        let [this, base] = samples;
        report(&format!("{what}, this build (interleaved)"), &this, "");
        report(
            &format!("{what}, {} (interleaved)", baseline.display()),
            &base,
            "",
        );
        println!(
            "ratio this/baseline: {:.3}",
            ms(median(&this)) / ms(median(&base))
        );
    }
}

/// One run of `secman ARGS`: its wall time and peak RSS.
struct Sample {
    wall: Duration,
    max_rss_kib: i64,
}

/// One run of `secman ARGS`.
fn run(home: &Path, cache: &Path, args: &[&str]) -> Sample {
    let mut command = Command::new(SECMAN);
    command
        .args(args)
        .env("SECMAN_HOME", home)
        .env("SECMAN_CACHE_DIR", cache);
    timed(command)
}

/// Runs `command` to the end, timing it and reading its peak RSS.
#[expect(
    clippy::zombie_processes,
    reason = "reaped by wait4, which also reads its rusage"
)]
fn timed(mut command: Command) -> Sample {
    let start = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (status, max_rss_kib) = wait_with_rusage(child.id());
    let wall = start.elapsed();
    assert!(status.success(), "{command:?} failed");
    Sample { wall, max_rss_kib }
}

fn median(samples: &[Sample]) -> Duration {
    let mut walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    walls.sort();
    walls[walls.len() / 2]
}

/// Waits for `pid` and reads its own peak RSS (not that of earlier children).
fn wait_with_rusage(pid: u32) -> (std::process::ExitStatus, i64) {
    let mut status = 0;
    let mut usage = unsafe { std::mem::zeroed::<libc::rusage>() };
    let waited = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid as i32, "wait4 failed");
    (std::process::ExitStatus::from_raw(status), usage.ru_maxrss)
}

fn measure(runs: usize, mut once: impl FnMut() -> Sample) -> Vec<Sample> {
    once(); // warm the page cache
    (0..runs).map(|_| once()).collect()
}

fn report(what: &str, samples: &[Sample], target: &str) {
    let mut walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    walls.sort();
    let p90 = walls[walls.len() * 9 / 10];
    let rss = samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0);
    println!(
        "{what}: median {:.2} ms, p90 {:.2} ms, peak RSS {:.1} MB over {} runs ({target})",
        ms(median(samples)),
        ms(p90),
        rss as f64 / 1024.0,
        samples.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A store in ZenML's layout with `count` secrets of two keys each.
fn write_store(path: &Path, count: usize) {
    let mut text = String::new();
    for i in 0..count {
        let _ = write!(
            text,
            "secret{i:05}:\n  password: {}\n  username: {}\n  zenml_schema_name: arbitrary\n",
            BASE64.encode(format!("password-{i}-with-some-length")),
            BASE64.encode(format!("user{i}"))
        );
    }
    std::fs::write(path, text).unwrap();
}

/// The cost of crossing into the plugin: instantiating and opening a
/// manager, and one call that does almost nothing (listing an empty store).
fn in_process(home: &Path, cache: &Path) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio.block_on(async {
        let home = Home::new(home.to_path_buf(), cache.to_path_buf());
        let runtime = Runtime::new(&home).unwrap();
        let registry = FlavorRegistry::load(&home).unwrap();
        let flavor = registry.load_flavor(&runtime, "local").await.unwrap();
        let empty = tempfile::tempdir().unwrap();
        let spec = SandboxSpec {
            flavor: "local".into(),
            storage: Some(empty.path().to_path_buf()),
            ..SandboxSpec::default()
        };
        let options = vec![("storage".to_string(), empty.path().display().to_string())];

        let mut opens = Vec::new();
        for _ in 0..200 {
            let start = Instant::now();
            let instance = flavor.component.open(&spec, &options).await.unwrap();
            opens.push(start.elapsed());
            drop(instance);
        }
        let mut instance = flavor.component.open(&spec, &options).await.unwrap();
        let mut calls = Vec::new();
        for _ in 0..2000 {
            let start = Instant::now();
            let (names, _) = instance.list_secrets().await.unwrap();
            calls.push(start.elapsed());
            assert!(names.is_empty());
        }
        for (what, mut times) in [
            ("in-process instantiate + open a manager", opens),
            ("in-process call (list an empty store)", calls),
        ] {
            times.sort();
            println!(
                "{what}: median {:.1} µs, p90 {:.1} µs over {} calls",
                times[times.len() / 2].as_secs_f64() * 1e6,
                times[times.len() * 9 / 10].as_secs_f64() * 1e6,
                times.len()
            );
        }
    });
}
