//! A secman flavor in Rust: secrets in `secrets.json`, in the storage
//! folder secman grants each manager.
//!
//! wit-bindgen generates the contract's types and traits from `wit/`; this
//! file implements them. A flavor built for wasm32-wasip2 reaches files
//! through `std::fs`, inside the folders the host mounted.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

wit_bindgen::generate!({ path: "wit", world: "flavor" });

use exports::secman::flavor::secrets_manager::{Guest, GuestManager, Manager};
use secman::flavor::log::{Level, log};
use secman::flavor::types::{Capabilities, Error, FlavorInfo, Secret};

const FILE: &str = "secrets.json";

struct Flavor;

impl Guest for Flavor {
    type Manager = JsonFile;

    fn info() -> FlavorInfo {
        FlavorInfo {
            name: "example-rust".into(),
            version: "0.1.0".into(),
            description: "Secrets in a JSON file, by a flavor written in Rust".into(),
            options: vec![],
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

/// One manager: the file it keeps its secrets in.
struct JsonFile {
    path: PathBuf,
}

/// Secrets by name: `{"schema": ..., "values": {key: value}}`.
type Secrets = BTreeMap<String, Value>;

impl JsonFile {
    fn load(&self) -> Result<Secrets, Error> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Backend(format!("{} is not JSON: {e}", self.path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Secrets::new()),
            Err(e) => Err(Error::Backend(format!(
                "cannot read {}: {e}",
                self.path.display()
            ))),
        }
    }

    /// Writes a whole new file, then renames it: a reader never sees half.
    fn save(&self, secrets: &Secrets) -> Result<(), Error> {
        let temporary = self.path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(secrets).expect("JSON values serialise");
        fs::write(&temporary, text)
            .and_then(|()| fs::rename(&temporary, &self.path))
            .map_err(|e| Error::Backend(format!("cannot write {}: {e}", self.path.display())))?;
        log(Level::Debug, &format!("wrote {} secrets", secrets.len()));
        Ok(())
    }
}

fn entry(secret: &Secret) -> Value {
    let values: Map<String, Value> = secret
        .values
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({"schema": secret.schema, "values": values})
}

fn not_found(name: &str) -> Error {
    Error::NotFound(format!("secret `{name}` does not exist"))
}

impl GuestManager for JsonFile {
    fn open(options: Vec<(String, String)>) -> Result<Manager, Error> {
        let Some((_, folder)) = options.into_iter().find(|(k, _)| k == "storage") else {
            return Err(Error::Denied(
                "this flavor keeps secrets in a file, but it was granted no storage: grant it \
                 with `secman flavor grant NAME --allow-storage`"
                    .into(),
            ));
        };
        let path = PathBuf::from(folder).join(FILE);
        Ok(Manager::new(JsonFile { path }))
    }

    fn register_secret(&self, secret: Secret) -> Result<(), Error> {
        let mut secrets = self.load()?;
        if secrets.contains_key(&secret.name) {
            return Err(Error::AlreadyExists(format!(
                "secret `{}` already exists",
                secret.name
            )));
        }
        secrets.insert(secret.name.clone(), entry(&secret));
        self.save(&secrets)
    }

    fn get_secret(&self, name: String) -> Result<Secret, Error> {
        let secrets = self.load()?;
        let found = secrets.get(&name).ok_or_else(|| not_found(&name))?;
        let corrupt = || Error::Backend(format!("secret `{name}` is corrupt in {FILE}"));
        let schema = found["schema"].as_str().ok_or_else(corrupt)?.to_string();
        let values = found["values"]
            .as_object()
            .ok_or_else(corrupt)?
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(corrupt)?.to_string())))
            .collect::<Result<_, Error>>()?;
        Ok(Secret {
            name,
            schema,
            values,
        })
    }

    fn get_all_secret_keys(&self) -> Result<Vec<String>, Error> {
        Ok(self.load()?.into_keys().collect())
    }

    fn update_secret(&self, secret: Secret) -> Result<(), Error> {
        let mut secrets = self.load()?;
        let slot = secrets
            .get_mut(&secret.name)
            .ok_or_else(|| not_found(&secret.name))?;
        *slot = entry(&secret);
        self.save(&secrets)
    }

    fn delete_secret(&self, name: String) -> Result<(), Error> {
        let mut secrets = self.load()?;
        secrets.remove(&name).ok_or_else(|| not_found(&name))?;
        self.save(&secrets)
    }

    fn delete_all_secrets(&self, force: bool) -> Result<(), Error> {
        if !force {
            return Err(Error::Invalid(
                "delete-all deletes every secret: pass force to mean it".into(),
            ));
        }
        self.save(&Secrets::new())
    }
}

export!(Flavor);
