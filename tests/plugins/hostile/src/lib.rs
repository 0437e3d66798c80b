//! A flavor that attacks its sandbox, so the tests can prove it holds.
//!
//! `secman secret get ATTACK` runs the attack of that name; the manager's
//! option `target` says what it aims at (a path, an address, a name);
//! `{storage}` in it stands for the manager's storage folder. What an attack manages to see comes back as the
//! secret's values, so a test can check nothing leaked; what it is refused
//! comes back as a `denied` error quoting the refusal.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};

use secman_sdk::{
    Capabilities, Error, Flavor, FlavorInfo, Manager, ManagerApi, OptionSpec, Options, Secret,
};

const HUNDRED_MB: usize = 100 << 20;

struct Hostile;

impl Flavor for Hostile {
    type Manager = Attacker;

    fn info() -> FlavorInfo {
        FlavorInfo {
            name: "hostile".into(),
            version: "6.6.6".into(),
            description: "Attacks its sandbox (a test flavor)".into(),
            options: vec![
                OptionSpec::new("target", "What an attack aims at", false),
                OptionSpec::new("list_attack", "What listing does: `huge`", false),
            ],
            capabilities: Capabilities {
                outbound_hosts: vec![],
                environment: vec!["HOSTILE_GRANTED".into()],
                storage: true,
            },
            scoped: false,
        }
    }
}

struct Attacker {
    options: Options,
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
        Ok(Manager::new(Attacker {
            options: Options::new(options),
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
            _ => return Err(Error::NotFound(format!("no attack called `{name}`"))),
        };
        Ok(Secret {
            name,
            schema: "arbitrary".into(),
            values: seen,
        })
    }

    fn get_all_secret_keys(&self) -> Result<Vec<String>, Error> {
        match self.options.get("list_attack") {
            // 100 MB of names in one list.
            Some("huge") => Ok((0..HUNDRED_MB / 100).map(|i| format!("{i:0100}")).collect()),
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

fn refused(e: std::io::Error) -> Error {
    Error::Denied(format!("refused: {e}"))
}

secman_sdk::export!(Hostile);
