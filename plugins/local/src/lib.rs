//! The `local` flavor: secrets in one YAML file, in ZenML's layout.
//!
//! ```yaml
//! db_creds:
//!   password: czNjcjN0          # base64 of the UTF-8 value, each on its own
//!   username: YWRtaW4=
//!   zenml_schema_name: arbitrary # the schema, in plain text
//! ```
//!
//! The file is exactly what ZenML's `yaml.dump` writes ([`pyyaml`]). A
//! command reads the file, parses only the secret it needs ([`store`]), and
//! writes the file back to a temp file that is synced and renamed over the
//! original, so a reader or a killed writer never leaves half a file; every
//! secret it did not change keeps its bytes. The host serialises writers
//! that share a storage folder, so no update is lost.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use secman_sdk::{
    Capabilities, Error, Flavor, FlavorInfo, Manager, ManagerApi, OptionSpec, Options, Secret,
};

mod pyyaml;
mod store;
use store::{Store, Values};

/// The key under which ZenML keeps a secret's schema, not base64-encoded.
const SCHEMA_KEY: &str = "zenml_schema_name";
/// The file name ZenML gives a store inside its folder.
const SECRETS_FILE_NAME: &str = "secrets.yaml";

struct Local;

impl Flavor for Local {
    type Manager = LocalManager;

    fn info() -> FlavorInfo {
        FlavorInfo {
            name: "local".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Secrets in a local YAML file (ZenML's secrets.yaml layout)".into(),
            options: vec![
                OptionSpec::new(
                    "secrets_file",
                    "Path of the secrets.yaml file; default: the manager's own storage folder",
                    false,
                )
                .storage_file(),
            ],
            capabilities: Capabilities {
                outbound_hosts: vec![],
                environment: vec![],
                storage: true,
                files: vec![],
            },
            scoped: false,
        }
    }
}

struct LocalManager {
    path: PathBuf,
}

impl ManagerApi for LocalManager {
    fn open(options: Vec<(String, String)>) -> Result<Manager, Error> {
        let options = Options::new(options);
        let path = match (options.get("secrets_file"), options.get("storage")) {
            (Some(file), _) => PathBuf::from(file),
            (None, Some(folder)) => Path::new(folder).join(SECRETS_FILE_NAME),
            (None, None) => {
                return Err(Error::Denied(
                    "the local flavor keeps secrets in a file, but it was granted no storage \
                     folder"
                        .into(),
                ));
            }
        };
        Ok(Manager::new(LocalManager { path }))
    }

    fn register_secret(&self, secret: Secret) -> Result<(), Error> {
        let mut store = self.read()?;
        if store.contains(&secret.name) {
            return Err(Error::AlreadyExists(format!(
                "secret `{}` already exists in {}",
                secret.name,
                self.path.display()
            )));
        }
        store.set(&secret.name, encode(&secret));
        self.write(&store)
    }

    fn get_secret(&self, name: String) -> Result<Secret, Error> {
        let store = self.read()?;
        let stored = store
            .get(&name)
            .map_err(|e| self.format_error(e))?
            .ok_or_else(|| self.not_found(&name))?;
        self.decode(name, stored)
    }

    fn get_all_secret_keys(&self) -> Result<Vec<String>, Error> {
        Ok(self.read()?.names().map(String::from).collect())
    }

    fn update_secret(&self, secret: Secret) -> Result<(), Error> {
        let mut store = self.read()?;
        if !store.contains(&secret.name) {
            return Err(self.not_found(&secret.name));
        }
        store.set(&secret.name, encode(&secret));
        self.write(&store)
    }

    fn delete_secret(&self, name: String) -> Result<(), Error> {
        let mut store = self.read()?;
        if !store.remove(&name) {
            return Err(self.not_found(&name));
        }
        self.write(&store)
    }

    fn delete_all_secrets(&self, force: bool) -> Result<(), Error> {
        if !force {
            return Err(Error::Invalid(
                "deleting all secrets needs force".to_string(),
            ));
        }
        // Like ZenML: the store goes away with its secrets.
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io_error("delete", e)),
        }
    }
}

impl LocalManager {
    /// Reads the whole store; a missing or empty file is an empty store.
    fn read(&self) -> Result<Store, Error> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Store::default()),
            Err(e) => return Err(self.io_error("read", e)),
        };
        Store::parse(text).map_err(|e| self.format_error(e))
    }

    fn format_error(&self, e: store::FormatError) -> Error {
        Error::Backend(format!(
            "{} is not a valid secrets store: expected {} at line {}, column {}. The file was \
             left untouched; repair it or point the manager's `secrets_file` option elsewhere",
            self.path.display(),
            e.expected,
            e.line,
            e.column
        ))
    }

    /// Replaces the store atomically: write a temp file, sync it, rename it.
    fn write(&self, store: &Store) -> Result<(), Error> {
        let text = store.render();
        // One temp name is enough: the host lets one writer at a time in.
        let tmp = self.path.with_file_name(format!(
            ".{}.secman-tmp",
            self.path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            self.io_error("write", e)
        })
    }

    fn decode(&self, name: String, mut stored: Values) -> Result<Secret, Error> {
        let schema = stored
            .remove(SCHEMA_KEY)
            .unwrap_or_else(|| "arbitrary".into());
        let values = stored
            .into_iter()
            .map(|(key, encoded)| {
                let bytes = BASE64
                    .decode(encoded.trim())
                    .map_err(|_| self.corrupt(&name, &key, "is not valid base64"))?;
                let value = String::from_utf8(bytes)
                    .map_err(|_| self.corrupt(&name, &key, "is not UTF-8 once decoded"))?;
                Ok((key, value))
            })
            .collect::<Result<_, Error>>()?;
        Ok(Secret {
            name,
            schema,
            values,
        })
    }

    fn not_found(&self, name: &str) -> Error {
        Error::NotFound(format!(
            "secret `{name}` does not exist in {}",
            self.path.display()
        ))
    }

    fn corrupt(&self, name: &str, key: &str, what: &str) -> Error {
        Error::Backend(format!(
            "the value of key `{key}` of secret `{name}` in {} {what}",
            self.path.display()
        ))
    }

    fn io_error(&self, action: &str, e: std::io::Error) -> Error {
        let message = format!("cannot {action} {}: {e}", self.path.display());
        if e.kind() == ErrorKind::PermissionDenied {
            Error::Denied(message)
        } else {
            Error::Backend(message)
        }
    }
}

/// ZenML's encoding: every value base64 on its own, the schema in plain text.
fn encode(secret: &Secret) -> Values {
    let mut encoded: Values = secret
        .values
        .iter()
        .map(|(key, value)| (key.clone(), BASE64.encode(value)))
        .collect();
    encoded.insert(SCHEMA_KEY.into(), secret.schema.clone());
    encoded
}

secman_sdk::export!(Local);
