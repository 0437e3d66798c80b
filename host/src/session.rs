//! Opening a configured manager: its flavor, its sandbox, its options.
//!
//! This is where the user's grants become a sandbox: the storage folder
//! (the manager's own, or the folder of a storage-file option the user
//! set, checked by [`Home::check_storage_folder`]), the granted environment
//! variables, files and hosts, the manager's endpoints, and the options the host
//! reserves. Calls
//! that share a storage folder are serialised by a lock held for the whole
//! session, so a read-modify-write (`secret update`) is atomic too.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use crate::home::{FileLock, Home, LockMode, StorageFolder};
use crate::managers::{ManagerConfig, Managers};
use crate::registry::{FlavorRegistry, LoadedFlavor};
use crate::runtime::{
    Endpoint, HostPattern, LogLevel, ManagerInstance, OptionKind, Runtime, SandboxSpec, escape,
};

/// What a session does to the store, which decides how it locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads: runs beside other readers.
    Read,
    /// Writes: runs alone.
    Write,
}

/// An opened manager, ready for secret operations.
pub struct Session {
    /// The manager's name.
    pub manager: String,
    /// The flavor's name.
    pub flavor: String,
    /// The flavor instance; operations go through it.
    pub instance: ManagerInstance,
    show_output: bool,
    _lock: Option<FileLock>,
}

/// A manager's sandbox, ready to instantiate its flavor in.
struct Prepared {
    spec: SandboxSpec,
    /// The options its manager opens with.
    options: Vec<(String, String)>,
    /// Its storage folder, held open until the sandbox mounts it.
    folder: Option<StorageFolder>,
}

/// Everything needed to open a manager.
pub struct Opener<'a> {
    /// The home.
    pub home: &'a Home,
    /// The runtime.
    pub runtime: &'a Runtime,
    /// How much flavor logging to show.
    pub log_level: LogLevel,
}

impl Opener<'_> {
    /// Opens the manager `name`, or the active one, for `access`.
    pub async fn open(&self, name: Option<&str>, access: Access) -> Result<Session> {
        let managers = Managers::load(self.home)?;
        let (name, config) = managers.resolve(name)?;
        crate::profile::stage("config");
        let flavor = FlavorRegistry::load_named(self.home, self.runtime, &config.flavor)
            .await
            .with_context(|| format!("cannot open manager `{name}`"))?;
        crate::profile::stage("info");
        let others = managers.folders_except(name);
        self.open_with(name, config, &flavor, &others, access).await
    }

    /// Opens the manager `name` configured as `config`, on `flavor`, whose
    /// storage must not nest with the folders of the `others`.
    pub async fn open_with(
        &self,
        name: &str,
        config: &ManagerConfig,
        flavor: &LoadedFlavor,
        others: &[(String, PathBuf)],
        access: Access,
    ) -> Result<Session> {
        let Prepared {
            spec,
            options,
            folder,
        } = self
            .sandbox(name, config, flavor, others)
            .with_context(|| format!("cannot open manager `{name}`"))?;
        let lock = match &folder {
            Some(folder) => Some(self.home.lock_storage(
                &folder.real,
                match access {
                    Access::Read => LockMode::Shared,
                    Access::Write => LockMode::Exclusive,
                },
            )?),
            None => None,
        };
        let instance = flavor
            .component
            .open(&spec, &options)
            .await
            .with_context(|| format!("cannot open manager `{name}` (flavor `{}`)", flavor.name))?;
        // The folder was held open until the sandbox mounted it.
        drop(folder);
        crate::profile::stage("instantiate");
        Ok(Session {
            manager: name.to_string(),
            flavor: flavor.name.clone(),
            instance,
            show_output: self.log_level <= LogLevel::Info,
            _lock: lock,
        })
    }

    /// The sandbox and the options a manager's flavor gets.
    ///
    /// Only the user widens what a flavor reaches: a `storage-file` or
    /// `endpoint-url` option counts when the user set it, never through a
    /// default the flavor chose (such a default is not applied at all).
    fn sandbox(
        &self,
        name: &str,
        config: &ManagerConfig,
        flavor: &LoadedFlavor,
        others: &[(String, PathBuf)],
    ) -> Result<Prepared> {
        let info = &flavor.info;
        let mut options: Vec<(String, String)> = Vec::new();
        let mut storage: Option<PathBuf> = None;
        let mut endpoints = Vec::new();
        for spec in &info.options {
            let value = match (config.options.get(&spec.name), spec.kind) {
                (Some(value), _) => value,
                (None, OptionKind::Text) => match &spec.default {
                    Some(default) => default,
                    None => continue,
                },
                (None, _) => continue,
            };
            match spec.kind {
                OptionKind::Text => {}
                OptionKind::StorageFile => {
                    let folder = Path::new(value)
                        .parent()
                        .filter(|_| Path::new(value).is_absolute())
                        .with_context(|| {
                            format!("option `{}` names no file by its full path", spec.name)
                        })?;
                    storage = Some(folder.to_path_buf());
                }
                OptionKind::EndpointUrl => endpoints.push(
                    Endpoint::parse(value).map_err(|e| anyhow!("option `{}`: {e}", spec.name))?,
                ),
            }
            options.push((spec.name.clone(), value.clone()));
        }
        let own = self.home.storage_dir(&config.uuid);
        let mut opened = None;
        if info.capabilities.storage && flavor.grants.storage {
            let folder = storage.unwrap_or_else(|| own.clone());
            opened = Some(
                self.home
                    .open_storage_folder(&folder, &own, others)
                    .map_err(|why| anyhow!(why))?,
            );
            storage = Some(folder);
        } else if storage.is_some() {
            bail!(
                "flavor `{}` was not granted storage, so its storage-file option cannot be used: \
                 run `secman flavor grant {} --allow-storage`",
                flavor.name,
                flavor.name
            );
        }

        options.push(("scope".into(), config.scope.to_string()));
        if let Some(namespace) = &config.namespace {
            options.push(("namespace".into(), namespace.clone()));
        }
        options.push(("component_uuid".into(), config.uuid.clone()));
        options.push(("component_name".into(), name.to_string()));
        if let Some(folder) = &storage {
            options.push(("storage".into(), folder.display().to_string()));
        }

        let env = flavor
            .grants
            .env
            .iter()
            .filter_map(|var| std::env::var(var).ok().map(|value| (var.clone(), value)))
            .collect();
        let hosts = flavor
            .grants
            .hosts
            .iter()
            .map(|host| HostPattern::parse(host).map_err(|e| anyhow!(e)))
            .collect::<Result<_>>()?;
        // Every manager's storage (a flavor may run in any of them), and
        // secman's own folders, which hold the stores of the rest.
        let writable = others
            .iter()
            .map(|(_, folder)| folder.clone())
            .chain(storage.iter().cloned())
            .chain(self.home.own_folders())
            .collect();
        let spec = SandboxSpec {
            flavor: flavor.name.clone(),
            storage,
            storage_on_host: opened.as_ref().map(|f| f.mount.clone()),
            env,
            files: flavor.grants.files.clone(),
            private: self.home.own_folders(),
            writable,
            builtin: flavor.source.is_builtin(),
            hosts,
            endpoints,
            limits: flavor.limits,
            log_level: self.log_level,
        };
        Ok(Prepared {
            spec,
            options,
            folder: opened,
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.show_output {
            return;
        }
        let (stdout, stderr) = self.instance.captured_output();
        let mut err = std::io::stderr().lock();
        for (stream, bytes) in [("stdout", stdout), ("stderr", stderr)] {
            for line in String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| !l.is_empty())
            {
                let line = escape(line);
                let _ = writeln!(err, "secman: [{}] {stream}: {line}", self.flavor);
            }
        }
    }
}
