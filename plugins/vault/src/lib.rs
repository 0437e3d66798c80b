//! The `vault` flavor: HashiCorp Vault and OpenBao, KV version 2, in
//! ZenML's layout.
//!
//! A secret `db` of a manager with scope `component` is the KV secret
//! `zenml/component/<uuid>/db` under the mount (`secret` by default); with
//! scope `none`, `db` at the mount's root. Its data is the values plus
//! `zenml_schema_name`. Writes use check-and-set, so a register never
//! overwrites and an update never loses another writer's change; a delete
//! removes every version.

mod client;

use client::{Conflict, Vault};
use secman_sdk::{
    Capabilities, Error, Flavor, FlavorInfo, Manager, ManagerApi, OptionSpec, Options, Scope,
    Secret, zenml,
};

/// The variable holding the token, as Vault's and OpenBao's CLIs read it.
const TOKEN_VARIABLE: &str = "VAULT_TOKEN";
/// The most a secret's data may hold as JSON: Vault's integrated storage
/// (Raft) keeps at most 1 MiB per entry, as does secman per request.
const MAX_DATA_BYTES: usize = 1_048_576 - 1024;

struct VaultFlavor;

impl Flavor for VaultFlavor {
    type Manager = VaultManager;

    fn info() -> FlavorInfo {
        FlavorInfo {
            name: "vault".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "HashiCorp Vault or OpenBao, KV version 2 (ZenML's layout)".into(),
            options: vec![
                OptionSpec::new(
                    "url",
                    "The server, e.g. https://vault.example.com:8200",
                    true,
                )
                .endpoint_url(),
                OptionSpec::new(
                    "mount_point",
                    "Where the KV version 2 engine is mounted",
                    false,
                )
                .with_default("secret"),
                OptionSpec::new(
                    "vault_namespace",
                    "The Vault Enterprise or OpenBao namespace",
                    false,
                ),
                OptionSpec::new(
                    "token",
                    "The token, if not in VAULT_TOKEN (kept in secman's configuration)",
                    false,
                )
                .sensitive(),
            ],
            capabilities: Capabilities {
                outbound_hosts: vec![],
                environment: vec![TOKEN_VARIABLE.into()],
                storage: false,
                files: vec![],
            },
            scoped: true,
        }
    }
}

struct VaultManager {
    vault: Vault,
    scope: Scope,
}

impl ManagerApi for VaultManager {
    fn open(options: Vec<(String, String)>) -> Result<Manager, Error> {
        let options = Options::new(options);
        let scope = Scope::from_options(&options)?;
        if let Some(namespace) = scope.namespace() {
            check_name(namespace, "namespace")?;
        }
        let mount = options.get("mount_point").unwrap_or("secret");
        check_mount(mount)?;
        let vault = Vault::new(
            options.require("url")?,
            mount,
            &token(&options)?,
            options.get("vault_namespace").filter(|n| !n.is_empty()),
        )?;
        Ok(Manager::new(VaultManager { vault, scope }))
    }

    fn register_secret(&self, secret: Secret) -> Result<(), Error> {
        let path = self.path(&secret.name)?;
        match self.vault.write(&path, &data(&secret)?, 0)? {
            Ok(()) => Ok(()),
            Err(Conflict) => Err(Error::AlreadyExists(format!(
                "secret `{}` already exists (Vault path {path})",
                secret.name
            ))),
        }
    }

    fn get_secret(&self, name: String) -> Result<Secret, Error> {
        let path = self.path(&name)?;
        match self.vault.read(&path)? {
            Some(read) => Ok(zenml::from_object(name, read.data)),
            None => Err(self.missing(&name)),
        }
    }

    fn get_all_secret_keys(&self) -> Result<Vec<String>, Error> {
        self.vault.list(&self.scope.path().join("/"))
    }

    fn update_secret(&self, secret: Secret) -> Result<(), Error> {
        let path = self.path(&secret.name)?;
        let Some(current) = self.vault.read(&path)? else {
            return Err(self.missing(&secret.name));
        };
        match self
            .vault
            .write(&path, &zenml::to_json(&secret), current.version)?
        {
            Ok(()) => Ok(()),
            Err(Conflict) => Err(Error::Backend(format!(
                "secret `{}` changed while it was updated (Vault path {path}); nothing was \
                 written: try again",
                secret.name
            ))),
        }
    }

    fn delete_secret(&self, name: String) -> Result<(), Error> {
        let path = self.path(&name)?;
        // Vault answers a delete of a missing path with success.
        if !self.vault.exists(&path)? {
            return Err(self.missing(&name));
        }
        self.vault.delete(&path)
    }

    fn delete_all_secrets(&self, force: bool) -> Result<(), Error> {
        if !force {
            return Err(Error::Invalid("deleting all secrets needs force".into()));
        }
        for name in self.get_all_secret_keys()? {
            self.vault.delete(&self.scope.scoped_name(&name, "/"))?;
        }
        Ok(())
    }
}

impl VaultManager {
    /// The KV path of secret `name`, checked.
    fn path(&self, name: &str) -> Result<String, Error> {
        check_name(name, "secret name")?;
        Ok(self.scope.scoped_name(name, "/"))
    }

    fn missing(&self, name: &str) -> Error {
        Error::NotFound(format!(
            "secret `{name}` does not exist (Vault path {}, scope {})",
            self.scope.scoped_name(name, "/"),
            self.scope.name()
        ))
    }
}

/// ZenML's data for `secret`: its values and schema, as JSON; `invalid`
/// when it is more than Vault keeps.
fn data(secret: &Secret) -> Result<String, Error> {
    let data = zenml::to_json(secret);
    if data.len() > MAX_DATA_BYTES {
        return Err(Error::Invalid(format!(
            "secret `{}` is {} bytes as JSON, and Vault keeps at most {MAX_DATA_BYTES} bytes \
             per secret: split it, or keep large values in a file",
            secret.name,
            data.len()
        )));
    }
    Ok(data)
}

/// The token: the `token` option, or `VAULT_TOKEN` when it was granted.
fn token(options: &Options) -> Result<String, Error> {
    let from_env = std::env::var(TOKEN_VARIABLE).ok();
    options
        .get("token")
        .map(str::to_string)
        .or(from_env)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::Denied(format!(
                "no Vault token: set {TOKEN_VARIABLE} in secman's environment, or give the \
                 manager --option token=..."
            ))
        })
}

/// ZenML's rule for names on Vault (`[a-zA-Z0-9_+=.@-]`), without the
/// names it let through and Vault then refused or misplaced: empty, `.`
/// and `..`.
fn check_name(name: &str, what: &str) -> Result<(), Error> {
    let valid = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_+=.@-".contains(&b));
    if valid && !["", ".", ".."].contains(&name) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "`{name}` is not a valid {what} for Vault: use letters, digits and `_+=.@-` \
             (not `.` or `..` alone)"
        )))
    }
}

/// A mount path: segments of letters, digits, `_`, `-` and `.`, by `/`.
fn check_mount(mount: &str) -> Result<(), Error> {
    let valid = mount.trim_matches('/').split('/').all(|segment| {
        !segment.is_empty()
            && ![".", ".."].contains(&segment)
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    });
    if valid {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "`{mount}` is not a mount point: give the path the KV version 2 engine is mounted \
             at, e.g. `secret` or `kv/team`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_zenmls_rule_without_its_holes() {
        for good in ["db", "a.b", "x+y=z@w-_", "..."] {
            assert!(check_name(good, "name").is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "ü"] {
            assert!(check_name(bad, "name").is_err(), "{bad}");
        }
    }

    #[test]
    fn mounts_are_paths() {
        for good in ["secret", "kv/team", "/secret/"] {
            assert!(check_mount(good).is_ok(), "{good}");
        }
        for bad in ["", "a//b", "../sys", "a?b", "a b"] {
            assert!(check_mount(bad).is_err(), "{bad}");
        }
    }
}

secman_sdk::export!(VaultFlavor);
