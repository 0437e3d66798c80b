//! A flavor that attacks its sandbox, so the tests can prove it holds.
//!
//! `secman secret get ATTACK` runs the attack of that name; the manager's
//! option `target` says what it aims at (a path, an address, a name);
//! `{storage}` in it stands for the manager's storage folder. What an
//! attack manages to see comes back as the secret's values, so a test can
//! check nothing leaked; what it is refused comes back as a `denied` error
//! quoting the refusal. Other names return answers that lie (`lie_*`).
//!
//! What it says about itself is an attack too. The component carries a
//! block of text, [`CONFIG`], that a test patches in a copy of the file:
//! `variant=NN` picks the `flavor-info` (see [`Hostile::info`]) and
//! `port=NNNNN` is a port on 127.0.0.1 the test listens on.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};

use secman_sdk::{
    Capabilities, Error, Flavor, FlavorInfo, Manager, ManagerApi, OptionSpec, Options, Secret,
};

const HUNDRED_MB: usize = 100 << 20;

/// Patched by the tests; the layout is fixed: the variant at bytes 30..32,
/// the port at 38..43.
#[used]
static CONFIG: [u8; 43] = *b"SECMAN-HOSTILE-CONFIG:variant=00;port=00000";

/// The field of [`CONFIG`] at `range`, read so that the compiler cannot
/// fold the unpatched value in.
fn config(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| char::from(unsafe { std::ptr::read_volatile(&CONFIG[i]) }))
        .collect()
}

fn variant() -> String {
    config(30..32)
}

fn port() -> u16 {
    config(38..43).parse().unwrap_or(0)
}

struct Hostile;

impl Flavor for Hostile {
    type Manager = Attacker;

    /// `00`: what it asks for is plain (the first hostile suite).
    /// `01`: defaults that would widen its reach: a storage file at `/`,
    ///       an endpoint at the test's port.
    /// `02`: hidden characters in its description and version.
    /// `03`: an environment variable name that rewrites the prompt.
    /// `04`: 300,000 options.
    /// `05`: a host pattern covering a whole public suffix.
    /// `06`: loopback hosts at the test's port, by address and by name.
    /// `07`: files: the one `$HOSTILE_KEY_FILE` names, and
    ///       `~/.aws/credentials`.
    /// `08`: files a blanket yes must never give (an SSH key, a kernel
    ///       file, whatever a variable names) beside a plain one, and a
    ///       storage-file option `store_file`.
    fn info() -> FlavorInfo {
        let mut info = FlavorInfo {
            name: "hostile".into(),
            version: "6.6.6".into(),
            description: "Attacks its sandbox (a test flavor)".into(),
            options: vec![
                OptionSpec::new("target", "What an attack aims at", false),
                OptionSpec::new("list_attack", "What listing does: `huge`", false),
                OptionSpec::new("open_hoard_mib", "Host memory to hold from open", false),
            ],
            capabilities: Capabilities {
                outbound_hosts: vec![],
                environment: vec!["HOSTILE_GRANTED".into()],
                storage: true,
                files: vec![],
            },
            scoped: false,
        };
        let port = port();
        match variant().as_str() {
            "01" => info.options.extend([
                OptionSpec::new("secrets_file", "Where secrets go", false)
                    .with_default("/secrets.yaml")
                    .storage_file(),
                OptionSpec::new("endpoint", "Where to send them", false)
                    .with_default(&format!("http://127.0.0.1:{port}/latest/meta-data/"))
                    .endpoint_url(),
            ]),
            "02" => {
                info.description = "Harmless\u{1b}[2K\r\u{202e}elif a ton si siht".into();
                info.version = "1.0\u{1b}]0;pwned\u{7}".into();
            }
            "03" => {
                info.capabilities.environment =
                    vec!["AWS_SECRET_ACCESS_KEY\u{1b}[1A\u{1b}[2K\ra storage folder".into()]
            }
            "04" => {
                info.options = (0..300_000)
                    .map(|i| OptionSpec::new(&format!("option_{i}"), "One of many", false))
                    .collect()
            }
            "05" => info.capabilities.outbound_hosts = vec!["*.com".into()],
            "06" => {
                info.capabilities.outbound_hosts = vec![
                    format!("127.0.0.1:{port}"),
                    format!("localhost:{port}"),
                    "api.example.com".into(),
                ]
            }
            "07" => {
                info.capabilities.files =
                    vec!["$HOSTILE_KEY_FILE".into(), "~/.aws/credentials".into()]
            }
            "08" => {
                info.capabilities.files = vec![
                    "$HOSTILE_KEY_FILE".into(),
                    "~/.ssh/id_rsa".into(),
                    "/proc/self/environ".into(),
                    "~/.config/tool/token".into(),
                ];
                info.options.push(
                    OptionSpec::new("store_file", "Where it keeps things", false).storage_file(),
                );
            }
            _ => {}
        }
        info
    }
}

struct Attacker {
    options: Options,
    /// Host objects it keeps for as long as it lives (`open_hoard_mib`).
    _hoard: Vec<wasip2::http::types::Fields>,
}

impl Attacker {
    fn target(&self) -> Result<String, Error> {
        let target = self.options.require("target")?;
        let storage = self.options.get("storage").unwrap_or("(no storage)");
        Ok(target.replace("{storage}", storage))
    }
}

impl ManagerApi for Attacker {
    fn open(options: Vec<(String, String)>) -> Result<Manager, Error> {
        let options = Options::new(options);
        // `open_hoard_mib=N`: N MiB of header maps on the host's heap, held
        // by the instance, within its own budget.
        let mib: usize = options
            .get("open_hoard_mib")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let hoard = (0..mib * 128)
            .map(|_| {
                let fields = wasip2::http::types::Fields::new();
                let _ = fields.append("x-hoard", &[b'a'; 8 << 10]);
                fields
            })
            .collect();
        Ok(Manager::new(Attacker {
            options,
            _hoard: hoard,
        }))
    }

    fn get_secret(&self, name: String) -> Result<Secret, Error> {
        let seen: Vec<(String, String)> = match name.as_str() {
            "read_file" => vec![(
                "content".into(),
                std::fs::read_to_string(self.target()?).map_err(refused)?,
            )],
            "list_dir" => std::fs::read_dir(self.target()?)
                .map_err(refused)?
                .map(|entry| {
                    let name = entry.map_err(refused)?.file_name();
                    Ok((name.to_string_lossy().into_owned(), String::new()))
                })
                .collect::<Result<_, Error>>()?,
            "write_file" => {
                std::fs::write(self.target()?, "written by a hostile flavor").map_err(refused)?;
                vec![("wrote".into(), self.target()?)]
            }
            "read_env" => std::env::vars().collect(),
            "many_files" => {
                // Empty files in {storage}, until one cannot be made.
                let storage = self.options.require("storage")?.to_string();
                let mut made = 0usize;
                let failure = loop {
                    match std::fs::File::create(format!("{storage}/empty-{made}")) {
                        Ok(_) => made += 1,
                        Err(e) => break e,
                    }
                };
                return Err(Error::Backend(format!(
                    "made {made} files, then: {failure}"
                )));
            }
            "fill_storage" => {
                // 1 MiB at a time into {storage}/fill, until a write fails.
                let path = format!("{}/fill", self.options.require("storage")?);
                let mut file = std::fs::File::create(&path).map_err(refused)?;
                let chunk = vec![b'f'; 1 << 20];
                let mut written = 0usize;
                let failure = loop {
                    match file.write_all(&chunk) {
                        Ok(()) => written += chunk.len(),
                        Err(e) => break e,
                    }
                };
                return Err(Error::Backend(format!(
                    "wrote {written} bytes, then: {failure}"
                )));
            }
            "symlink" => {
                // `target` is `LINK=>DEST`: a link at LINK (inside a
                // folder it can write) whose content is DEST.
                let target = self.target()?;
                let (link, dest) = target
                    .split_once("=>")
                    .ok_or_else(|| Error::Invalid("target is LINK=>DEST".into()))?;
                let (dir, inside) = wasip2::filesystem::preopens::get_directories()
                    .into_iter()
                    .find_map(|(dir, path)| {
                        let inside = link.strip_prefix(path.trim_end_matches('/'))?;
                        Some((dir, inside.trim_start_matches('/').to_string()))
                    })
                    .ok_or_else(|| Error::Denied("refused: no folder holds the link".into()))?;
                let _ = dir.unlink_file_at(&inside);
                dir.symlink_at(dest, &inside)
                    .map_err(|e| Error::Denied(format!("refused: {e:?}")))?;
                vec![("linked".into(), link.into())]
            }
            "hold_handles" => {
                // What a garbage-collected runtime does: many live handles,
                // dropped only later.
                let held: Vec<_> = (0..5000)
                    .map(|_| wasip2::http::types::Fields::new())
                    .collect();
                let count = held.len();
                std::mem::forget(held);
                vec![("held".into(), count.to_string())]
            }
            // Keys that would point a program at what the flavor wrote,
            // under the default prefix of a secret named `aws` (`AWS_`).
            "aws" => vec![
                ("config_file".into(), self.target()?),
                ("access_key_id".into(), "AKIAHOSTILE".into()),
            ],
            // A value that leads into its storage folder.
            "pointer" => vec![("token".into(), self.target()?)],
            "read_options" => self.options_seen(),
            "tcp_connect" => {
                TcpStream::connect(self.target()?).map_err(refused)?;
                vec![("connected".into(), "tcp".into())]
            }
            "udp_send" => {
                let socket = UdpSocket::bind("0.0.0.0:0").map_err(refused)?;
                socket
                    .send_to(b"hostile", self.target()?)
                    .map_err(refused)?;
                vec![("sent".into(), "udp".into())]
            }
            "http_get" => {
                let request = secman_sdk::http::Request::get(self.target()?)
                    .body(vec![])
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                let response = secman_sdk::http::send(request)?;
                vec![("status".into(), response.status.to_string())]
            }
            "resolve" => (self.target()?.as_str(), 80)
                .to_socket_addrs()
                .map_err(refused)?
                .map(|a| ("address".into(), a.to_string()))
                .collect(),
            "loop" => loop {
                std::hint::black_box(0);
            },
            "grow_memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => vec![("depth".into(), recurse(0).to_string())],
            "panic" => panic!("a hostile flavor panics"),
            "abort" => std::process::abort(),
            "exit" => std::process::exit(3),
            "print_flood" => {
                let line = "flood ".repeat(1000) + "\n";
                let mut out = std::io::stdout();
                for _ in 0..(HUNDRED_MB / line.len()) {
                    out.write_all(line.as_bytes()).map_err(refused)?;
                }
                vec![]
            }
            "huge_string" => vec![("huge".into(), "x".repeat(HUNDRED_MB))],
            "hoard_fields" => {
                // Host-side objects: thousands of header maps, 8 KiB each.
                let mut hoard = Vec::new();
                loop {
                    let fields = wasip2::http::types::Fields::new();
                    fields
                        .append("x-hoard", &[b'a'; 8 << 10])
                        .map_err(|e| Error::Denied(format!("refused: {e:?}")))?;
                    hoard.push(fields);
                }
            }
            "hoard_methods" => {
                // Host-side strings: request methods of 900 KiB each.
                use wasip2::http::types::{Fields, Method, OutgoingRequest};
                let method = Method::Other("A".repeat(900 << 10));
                let mut hoard = Vec::new();
                loop {
                    let request = OutgoingRequest::new(Fields::new());
                    request
                        .set_method(&method)
                        .map_err(|()| Error::Denied("refused: method".into()))?;
                    hoard.push(request);
                }
            }
            "random_flood" => {
                let bytes = wasip2::random::random::get_random_bytes(64 << 20);
                vec![("got".into(), bytes.len().to_string())]
            }
            // Answers that break the contract.
            "lie_name" => return Ok(secret("someone_else", vec![("k".into(), "v".into())])),
            "lie_duplicate" => vec![
                ("k".into(), "secret-one".into()),
                ("k".into(), "secret-two".into()),
            ],
            "lie_key" => vec![("x;touch pwned;y".into(), "v".into())],
            "lie_unicode_key" => vec![("clé".into(), "v".into())],
            "lie_lookalike" => vec![
                ("password".into(), "real".into()),
                ("password\u{fe0f}".into(), "attacker".into()),
            ],
            "lie_env" => vec![
                ("password".into(), "hunter2".into()),
                ("PROMPT_COMMAND".into(), "touch pwned".into()),
            ],
            "lie_quotes" => vec![(
                "k".into(),
                "it's $(touch pwned) `touch pwned` \\' \u{1b}[2J\u{202e}".into(),
            )],
            "lie_lines" => vec![("k".into(), "abc\nLD_PRELOAD=/x".into())],
            "lie_hidden" => {
                let hidden = "\u{1b}[2J\u{1b}[31mred\r\u{202e}evil\u{9b}1m";
                secman_sdk::log::warn(&format!("log{hidden}"));
                println!("stdout{hidden}");
                vec![("k".into(), hidden.into())]
            }
            "lie_error" => {
                return Err(Error::NotFound(
                    "gone\u{1b}[2J\nsecman: error: a second line\u{202e}".into(),
                ));
            }
            "lie_big_error" => return Err(Error::Backend("x".repeat(512 << 10))),
            _ => return Err(Error::NotFound(format!("no attack called `{name}`"))),
        };
        Ok(secret(&name, seen))
    }

    fn get_all_secret_keys(&self) -> Result<Vec<String>, Error> {
        match self.options.get("list_attack") {
            // 100 MB of names in one list.
            Some("huge") => Ok((0..HUNDRED_MB / 100).map(|i| format!("{i:0100}")).collect()),
            // Names that would print as something else.
            Some("lies") => Ok(vec![
                "ok".into(),
                "two\nlines".into(),
                "\u{1b}[2Jcleared".into(),
                "--manager=default".into(),
            ]),
            _ => Ok(vec![]),
        }
    }

    fn register_secret(&self, _: Secret) -> Result<(), Error> {
        Ok(())
    }

    fn update_secret(&self, _: Secret) -> Result<(), Error> {
        Ok(())
    }

    fn delete_secret(&self, _: String) -> Result<(), Error> {
        Ok(())
    }

    fn delete_all_secrets(&self, _: bool) -> Result<(), Error> {
        Ok(())
    }
}

impl Attacker {
    /// Every option the host gave, e.g. to check another manager's never
    /// shows up.
    fn options_seen(&self) -> Vec<(String, String)> {
        [
            "target",
            "secrets_file",
            "endpoint",
            "scope",
            "component_uuid",
            "component_name",
            "storage",
            "namespace",
        ]
        .iter()
        .filter_map(|k| self.options.get(k).map(|v| (k.to_string(), v.to_string())))
        .collect()
    }
}

/// Recurses until the stack runs out: the depth check never ends it.
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return depth;
    }
    std::hint::black_box(recurse(depth + 1)) + 1
}

fn secret(name: &str, values: Vec<(String, String)>) -> Secret {
    Secret {
        name: name.into(),
        schema: "arbitrary".into(),
        values,
    }
}

fn refused(e: std::io::Error) -> Error {
    Error::Denied(format!("refused: {e}"))
}

secman_sdk::export!(Hostile);
