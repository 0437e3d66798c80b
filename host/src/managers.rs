//! Configured managers: instances of a flavor, like ZenML's stack components.
//!
//! `managers.yaml` in the home holds each manager's flavor, options, scope
//! and UUID, and which manager is active. The first time secman runs it
//! creates a manager called `default` on the built-in `local` flavor and
//! makes it active, so secrets can be stored with no set-up.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::home::{Home, read_if_exists, write_atomic};

/// The manager that exists from the start.
pub const DEFAULT_MANAGER: &str = "default";
/// The flavor of the default manager.
pub const DEFAULT_FLAVOR: &str = "local";

/// How a manager's secrets are kept apart from others on the same backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The backend's raw name space, shared with everything.
    #[default]
    None,
    /// Shared by every global-scoped manager on the backend.
    Global,
    /// Private to this manager, by its UUID.
    Component,
    /// Shared by the managers with the same namespace.
    Namespace,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::None => "none",
            Scope::Global => "global",
            Scope::Component => "component",
            Scope::Namespace => "namespace",
        })
    }
}

/// One configured manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerConfig {
    /// The flavor it is an instance of.
    pub flavor: String,
    /// Its identity, used by the `component` scope and for its storage.
    pub uuid: String,
    /// How its secrets are kept apart.
    #[serde(default)]
    pub scope: Scope,
    /// The namespace, with scope `namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The flavor's options, as the user gave them.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The option that names the manager's storage file, if the user set
    /// one: its folder is the manager's storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_option: Option<String>,
}

impl ManagerConfig {
    /// A new manager of `flavor` with a fresh UUID.
    pub fn new(flavor: &str) -> ManagerConfig {
        ManagerConfig {
            flavor: flavor.to_string(),
            uuid: uuid::Uuid::new_v4().to_string(),
            scope: Scope::None,
            namespace: None,
            options: BTreeMap::new(),
            storage_option: None,
        }
    }
}

/// Every configured manager, and the active one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Managers {
    /// The manager secret commands use without `--manager`.
    #[serde(default)]
    pub active: Option<String>,
    /// The managers by name.
    #[serde(default)]
    pub managers: BTreeMap<String, ManagerConfig>,
}

impl Managers {
    /// Reads the managers of `home`, creating the `default` one the first
    /// time.
    pub fn load(home: &Home) -> Result<Managers> {
        if let Some(managers) = Self::read(home)? {
            return Ok(managers);
        }
        let _lock = home.lock_state()?;
        // Another process may have created them while this one waited.
        if let Some(managers) = Self::read(home)? {
            return Ok(managers);
        }
        let managers = Managers {
            active: Some(DEFAULT_MANAGER.into()),
            managers: BTreeMap::from([(
                DEFAULT_MANAGER.into(),
                ManagerConfig::new(DEFAULT_FLAVOR),
            )]),
        };
        managers.save(home)?;
        Ok(managers)
    }

    fn read(home: &Home) -> Result<Option<Managers>> {
        let file = home.managers_file();
        let Some(bytes) = read_if_exists(&file)? else {
            return Ok(None);
        };
        let managers = serde_norway::from_slice(&bytes).with_context(|| {
            format!(
                "{} is corrupt; it was left untouched: repair or remove it",
                file.display()
            )
        })?;
        Ok(Some(managers))
    }

    /// Writes the managers back. Call it under [`Home::lock_state`].
    pub fn save(&self, home: &Home) -> Result<()> {
        write_atomic(
            &home.managers_file(),
            serde_norway::to_string(self)?.as_bytes(),
        )
    }

    /// The manager called `name`.
    pub fn get(&self, name: &str) -> Result<&ManagerConfig> {
        match self.managers.get(name) {
            Some(manager) => Ok(manager),
            None => bail!(
                "there is no manager called `{name}`: see `secman manager list`, or create one \
                 with `secman manager register {name} --flavor FLAVOR`"
            ),
        }
    }

    /// The manager `name`, or the active one when `name` is `None`.
    pub fn resolve<'a>(&'a self, name: Option<&'a str>) -> Result<(&'a str, &'a ManagerConfig)> {
        let name = match name.or(self.active.as_deref()) {
            Some(name) => name,
            None => bail!(
                "no manager is active: pick one with `secman manager use NAME`, or pass \
                 --manager NAME (see `secman manager list`)"
            ),
        };
        Ok((name, self.get(name)?))
    }

    /// The storage folders that managers other than `name` were given by
    /// an option. A manager recorded before secman noted which option that
    /// is counts the folder of every option that is an absolute path,
    /// except `/`, which no storage folder may be.
    pub fn folders_except(&self, name: &str) -> Vec<(String, PathBuf)> {
        let mut folders = Vec::new();
        for (other, config) in self.managers.iter().filter(|(other, _)| *other != name) {
            let candidates: Vec<&String> = match &config.storage_option {
                Some(option) => config.options.get(option).into_iter().collect(),
                None => config.options.values().collect(),
            };
            for value in candidates {
                let path = Path::new(value);
                if let Some(folder) = path
                    .parent()
                    .filter(|f| path.is_absolute() && f.parent().is_some())
                {
                    folders.push((other.clone(), folder.to_path_buf()));
                }
            }
        }
        folders
    }

    /// Every storage folder a manager was given by an option: the folders
    /// a flavor may write, beside secman's own `stores/`.
    pub fn storage_folders(&self) -> Vec<PathBuf> {
        self.folders_except("")
            .into_iter()
            .map(|(_, folder)| folder)
            .collect()
    }

    /// The names of the managers using `flavor`.
    pub fn using_flavor(&self, flavor: &str) -> Vec<&str> {
        self.managers
            .iter()
            .filter(|(_, m)| m.flavor == flavor)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// Whether `name` can name a manager.
pub fn is_manager_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !name.starts_with(['.', '-'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_use_creates_an_active_default_manager_once() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().into(), dir.path().join("cache"));
        let first = Managers::load(&home).unwrap();
        assert_eq!(first.active.as_deref(), Some(DEFAULT_MANAGER));
        assert_eq!(first.get(DEFAULT_MANAGER).unwrap().flavor, DEFAULT_FLAVOR);
        // The UUID is stable: the second load reads what the first wrote.
        assert_eq!(Managers::load(&home).unwrap(), first);
    }

    #[test]
    fn manager_names_are_plain() {
        assert!(is_manager_name("prod-eu_1.a"));
        for name in ["", "a b", "a/b", "-x", ".x", "é"] {
            assert!(!is_manager_name(name), "{name}");
        }
    }
}
