//! Running the real `secman` binary in a temporary home.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use tempfile::TempDir;

/// The `secman` under test: this build's, or the one `SECMAN_TEST_BIN`
/// names (`scripts/test.sh` runs the suite again on the release binary).
pub fn secman_binary() -> PathBuf {
    std::env::var_os("SECMAN_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_secman").into())
}

/// A temporary `SECMAN_HOME`, deleted at the end of the test. Compiled
/// components go to one cache shared by all tests, as they would on a
/// user's machine.
pub struct TestHome {
    dir: TempDir,
}

impl TestHome {
    pub fn new() -> TestHome {
        TestHome {
            dir: tempfile::tempdir().expect("cannot create a temporary home"),
        }
    }

    /// A folder for the test's own files, beside the home.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The `SECMAN_HOME` the commands use.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The user's home folder the commands see (`HOME`), empty at first.
    pub fn user_home(&self) -> PathBuf {
        self.dir.path().join("user")
    }

    /// `secman ARGS`, ready to run, with no terminal and a clean
    /// environment; AWS credentials are moto's, and the Vault token
    /// OpenBao's, when they run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(secman_binary());
        cmd.args(args)
            .env("SECMAN_HOME", self.home())
            .env("SECMAN_CACHE_DIR", shared_cache())
            // A home of its own: no credentials file of the machine's user
            // (`~/.aws`, `~/.config/gcloud`) reaches a test.
            .env("HOME", self.user_home())
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env_remove("SECMAN_LOG")
            .env_remove("SECMAN_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("GOOGLE_OAUTH_ACCESS_TOKEN")
            .stdin(Stdio::null());
        for (var, test_var) in [
            ("AWS_ACCESS_KEY_ID", "SECMAN_TEST_AWS_ACCESS_KEY_ID"),
            ("AWS_SECRET_ACCESS_KEY", "SECMAN_TEST_AWS_SECRET_ACCESS_KEY"),
            ("VAULT_TOKEN", "SECMAN_TEST_VAULT_TOKEN"),
        ] {
            match std::env::var_os(test_var) {
                Some(value) => cmd.env(var, value),
                None => cmd.env_remove(var),
            };
        }
        cmd
    }

    /// A short token unique to this home, for names shared backends see.
    pub fn unique(&self) -> String {
        let name = self.dir.path().file_name().unwrap().to_string_lossy();
        name.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase()
    }

    /// Runs `secman ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("cannot run secman"))
    }

    /// Runs `secman ARGS` with `input` piped to its stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run secman");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// Runs `secman ARGS`, which must succeed, and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok().stdout
    }

    /// Runs `secman ARGS`, which must fail with `code`, and returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        self.run(args).fails(code).stderr
    }

    /// `file` in a folder of its own beside the home: a folder a manager may
    /// be given as its storage (the test's folder itself holds the home).
    pub fn store_file(&self, file: &str) -> PathBuf {
        let folder = self.dir.path().join("store");
        std::fs::create_dir_all(&folder).unwrap();
        folder.join(file)
    }

    /// Registers a manager `name` of the local flavor whose store is `store`.
    pub fn local_manager(&self, name: &str, store: &Path) {
        let option = format!("secrets_file={}", store.display());
        self.ok(&[
            "manager", "register", name, "--flavor", "local", "--option", &option,
        ]);
    }

    /// The store file of the default manager.
    pub fn default_store(&self) -> PathBuf {
        let uuid = self.manager_json("default")["uuid"]
            .as_str()
            .unwrap()
            .to_string();
        self.home().join("stores").join(uuid).join("secrets.yaml")
    }

    /// Runs `secman flavor test FLAVOR --option OPTION...`, which must pass
    /// every case; returns its report.
    pub fn conformant(&self, flavor: &str, options: &[&str]) -> String {
        let mut args = vec!["flavor", "test", flavor];
        for option in options {
            args.extend(["--option", option]);
        }
        let run = self.run(&args);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        for line in [
            " 0 failed, 0 skipped",
            "ok    get of a missing secret: not-found\n",
        ] {
            assert!(run.stdout.contains(line), "{}", run.stdout);
        }
        run.stdout
    }

    /// Every secret command in manager `manager` (of a flavor with a
    /// backend), checked through the CLI; `what` names the case.
    pub fn every_secret_command(&self, manager: &str, what: &str) {
        let name = "db";
        self.ok(&[
            "secret",
            "register",
            name,
            "user=admin",
            "password=s3cr3t",
            "-m",
            manager,
        ]);
        assert_eq!(
            self.secret_json(name, manager),
            json!({"name": name, "schema": "arbitrary",
                   "values": {"user": "admin", "password": "s3cr3t"}}),
            "{what}"
        );
        assert_eq!(self.listed(manager), vec![name.to_string()], "{what}");
        let err = self.fails(&["secret", "register", name, "k=v", "-m", manager], 4);
        assert!(err.contains("already exists"), "{what}: {err}");

        self.ok(&[
            "secret",
            "update",
            name,
            "password=n3w",
            "host=h",
            "--remove",
            "user",
            "-m",
            manager,
        ]);
        assert_eq!(
            self.secret_json(name, manager)["values"],
            json!({"password": "n3w", "host": "h"}),
            "{what}"
        );
        self.ok(&["secret", "delete", name, "--yes", "-m", manager]);
        let err = self.fails(&["secret", "get", name, "-m", manager], 3);
        assert!(err.contains("does not exist"), "{what}: {err}");
        self.fails(&["secret", "delete", name, "--yes", "-m", manager], 3);
        self.fails(&["secret", "update", name, "k=v", "-m", manager], 3);

        self.ok(&["secret", "register", "a", "k=v", "-m", manager]);
        self.ok(&["secret", "register", "b", "k=v", "j=w", "-m", manager]);
        assert_eq!(self.listed(manager).len(), 2, "{what}");
        self.ok(&["secret", "delete-all", "--force", "--yes", "-m", manager]);
        assert_eq!(self.listed(manager), Vec::<String>::new(), "{what}");
    }

    /// ZenML and secman sharing manager `manager`'s backend and scope:
    /// what one writes, updates or deletes, the other reads. `zenml(COMMAND,
    /// NAMES, INPUT)` runs ZenML 0.52.0's own secrets manager on them (a
    /// driver in `tests/peers/zenml_common.py`); `what` names the case.
    pub fn zenml_round_trip(
        &self,
        manager: &str,
        what: &str,
        zenml: impl Fn(&str, &[&str], Option<Value>) -> Value,
    ) {
        self.ok(&[
            "secret",
            "register",
            "from_secman",
            "-m",
            manager,
            "user=\u{fc} \u{2713}",
            "pem=-----BEGIN-----\nabc\n-----END-----",
            "eq=a=b:c",
        ]);
        self.ok(&[
            "secret",
            "register",
            "login",
            "--schema",
            "basic_auth",
            "-m",
            manager,
            "username=u",
            "password=p",
        ]);
        assert_eq!(
            zenml("decode", &[], None),
            json!({
                "from_secman": {"schema": "arbitrary", "values": {
                    "user": "\u{fc} \u{2713}", "pem": "-----BEGIN-----\nabc\n-----END-----",
                    "eq": "a=b:c"}},
                "login": {"schema": "basic_auth", "values": {"username": "u", "password": "p"}},
            }),
            "{what}"
        );

        zenml(
            "register",
            &[],
            Some(json!([{"name": "from_zenml", "schema": "aws",
                     "values": {"aws_access_key_id": "A", "aws_secret_access_key": "S/+="}}])),
        );
        assert_eq!(
            self.secret_json("from_zenml", manager),
            json!({"name": "from_zenml", "schema": "aws",
               "values": {"aws_access_key_id": "A", "aws_secret_access_key": "S/+="}}),
            "{what}"
        );
        // Each updates what the other wrote (ZenML keeps the keys in scope
        // none: its update there cannot add or remove any).
        zenml(
            "update",
            &[],
            Some(json!([{"name": "login", "schema": "basic_auth",
                     "values": {"username": "u2", "password": "p2"}}])),
        );
        assert_eq!(
            self.secret_json("login", manager)["values"],
            json!({"username": "u2", "password": "p2"}),
            "{what}"
        );
        self.ok(&[
            "secret",
            "update",
            "from_zenml",
            "-m",
            manager,
            "aws_access_key_id=B",
        ]);
        assert_eq!(
            zenml("decode", &[], None)["from_zenml"]["values"]["aws_access_key_id"],
            "B",
            "{what}"
        );

        zenml("delete", &["from_secman"], None);
        self.ok(&["secret", "delete", "from_zenml", "--yes", "-m", manager]);
        assert_eq!(self.listed(manager), vec!["login".to_string()], "{what}");
        assert_eq!(
            zenml("decode", &[], None),
            json!({"login": {"schema": "basic_auth", "values": {"username": "u2", "password": "p2"}}}),
            "{what}"
        );
        self.ok(&["secret", "delete", "login", "--yes", "-m", manager]);
    }

    /// `secman secret get NAME -m MANAGER -o json`.
    pub fn secret_json(&self, name: &str, manager: &str) -> serde_json::Value {
        let out = self.ok(&["secret", "get", name, "-m", manager, "-o", "json"]);
        serde_json::from_str(&out).unwrap()
    }

    /// The names `secman secret list -m MANAGER` lists.
    pub fn listed(&self, manager: &str) -> Vec<String> {
        serde_json::from_str(&self.ok(&["secret", "list", "-m", manager, "-o", "json"])).unwrap()
    }

    /// `secman manager describe NAME --output json`.
    pub fn manager_json(&self, name: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["manager", "describe", name, "--output", "json"])).unwrap()
    }
}

/// What a command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts the command succeeded.
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "secman failed; stdout: {}; stderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the command failed with `code` and one clear line on stderr.
    pub fn fails(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit code {code}; stdout: {}; stderr: {}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line on stderr: {}",
            self.stderr
        );
        // With `-o json` the error is a JSON object with the same code.
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(lines[0]) {
            assert_eq!(json["error"]["exit_code"], code, "{}", self.stderr);
            assert!(json["error"]["kind"].is_string(), "{}", self.stderr);
        } else {
            assert!(
                lines[0].starts_with("secman: error: "),
                "unexpected stderr: {}",
                self.stderr
            );
        }
        self
    }
}

/// The compile cache all tests share.
pub fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

/// Registers a copy of the local flavor's component as the third-party
/// flavor `mine`, granted storage; returns the copy's path.
pub fn register_local_copy(home: &TestHome) -> PathBuf {
    let path = home.path().join("mine.wasm");
    std::fs::copy(builtin_wasm("local"), &path).unwrap();
    home.ok(&[
        "flavor",
        "register",
        path.to_str().unwrap(),
        "--name",
        "mine",
        "--allow-storage",
    ]);
    path
}

/// The component of a built-in flavor, as embedded in the binary.
pub fn builtin_wasm(name: &str) -> PathBuf {
    Path::new(env!("SECMAN_BUILTIN_WASM_DIR")).join(format!("{name}.wasm"))
}

/// A setting of the test peers, which `scripts/test.sh` installs and
/// starts (see `scripts/peers.sh`).
pub fn peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) => value,
        Err(_) => panic!(
            "{var} is not set: run the tests with `bash scripts/test.sh`, which installs and \
             starts the peers they talk to"
        ),
    }
}

/// The Python with PyYAML, boto3 and awscli.
pub fn python() -> PathBuf {
    PathBuf::from(peer("SECMAN_TEST_PYTHON"))
}

/// Runs the peers' helper `script` with `python` and `args`, `input` as
/// JSON on its stdin; returns its JSON answer (null for none). It must
/// succeed.
pub fn peer_json(python: &str, script: &str, args: &[&str], input: Option<&Value>) -> Value {
    let mut child = Command::new(peer(python))
        .arg(peer_script(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    let stdin = child.stdin.take().unwrap();
    if let Some(input) = input {
        serde_json::to_writer(stdin, input).unwrap();
    } else {
        drop(stdin);
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{script} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    if output.stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

/// The peers' helper scripts.
pub fn peer_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/peers")
        .join(name)
}

/// A server of `tests/peers/` that prints the port it listens on
/// (127.0.0.1) and serves until killed, as when this is dropped.
pub struct PeerServer {
    child: std::process::Child,
    /// Its port.
    pub port: u16,
}

impl PeerServer {
    /// Starts `script` with `args`.
    pub fn start<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> PeerServer {
        let mut child = Command::new(python())
            .arg(peer_script(script))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
        let mut port = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut port,
        )
        .unwrap();
        let port = port
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{script} printed no port: {port:?}"));
        PeerServer { child, port }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON at `url` (a plain HTTP GET with the peers' Python).
pub fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> T {
    let out = Command::new(python())
        .args([
            "-c",
            "import sys, urllib.request; \
             sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())",
        ])
        .arg(url)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{url} gave no JSON ({e}): {out:?}"))
}
