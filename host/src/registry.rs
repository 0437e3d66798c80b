//! The flavors secman knows: built-in ones and registered `.wasm` files.
//!
//! `flavors.yaml` in the home records, for each registered flavor, the
//! file's path and sha256 at registration, what the flavor said about
//! itself, and what the user granted it. A file whose sha256 no longer
//! matches is refused until it is registered again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::builtin::{self, EmbeddedFlavor};
use crate::fileid::{Identity, Record};
use crate::home::{Home, create_private_dir, read_if_exists, write_atomic};
use crate::runtime::{
    FlavorComponent, FlavorInfo, HostPattern, Limits, Runtime, check_info, quote, sha256_hex,
};

/// What the user let a flavor have. Nothing else reaches it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Hosts it may send HTTP requests to (exact, or `*.suffix`).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Environment variables it may read.
    #[serde(default)]
    pub env: Vec<String>,
    /// Whether it gets a storage folder.
    #[serde(default)]
    pub storage: bool,
    /// Files it may read (entries of its `capabilities.files`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

impl Grants {
    /// Everything `info` asks for.
    pub fn asked(info: &FlavorInfo) -> Grants {
        Grants {
            hosts: info.capabilities.outbound_hosts.clone(),
            env: info.capabilities.environment.clone(),
            storage: info.capabilities.storage,
            files: info.capabilities.files.clone(),
        }
    }

    /// What `info` asks for that may be granted without naming it: all of
    /// it but loopback, private and link-local addresses (and
    /// `localhost`), which only a user who types them grants. What
    /// built-in flavors get, and what `--yes` grants.
    pub fn by_default(info: &FlavorInfo) -> Grants {
        let mut grants = Grants::asked(info);
        grants
            .hosts
            .retain(|h| HostPattern::parse(h).is_ok_and(|p| !p.needs_naming()));
        grants
    }

    /// What a blanket yes (`--yes`) grants a flavor that is not built in:
    /// [`Grants::by_default`] less every file. A file is the user's to
    /// name: no list of where other programs keep their keys is ever
    /// complete, so none is relied on to decide for the user.
    pub fn blanket(info: &FlavorInfo) -> Grants {
        Grants {
            files: Vec::new(),
            ..Grants::by_default(info)
        }
    }

    /// Checks that these grants, read back from the registry, are within
    /// what the flavor asked for: the file may have been changed by hand.
    fn check_within(&self, name: &str, info: &FlavorInfo) -> Result<()> {
        let asked = &info.capabilities;
        let extra = self
            .hosts
            .iter()
            .filter(|h| !asked.outbound_hosts.contains(h))
            .map(|h| format!("host {}", quote(h, 80)))
            .chain(
                self.env
                    .iter()
                    .filter(|v| !asked.environment.contains(v))
                    .map(|v| format!("environment variable {}", quote(v, 80))),
            )
            .chain(
                self.files
                    .iter()
                    .filter(|f| !asked.files.contains(f))
                    .map(|f| format!("file {}", quote(f, 80))),
            )
            .chain((self.storage && !asked.storage).then(|| "storage".to_string()))
            .collect::<Vec<_>>();
        if !extra.is_empty() {
            bail!(
                "the record of flavor `{name}` grants it {}, which it does not ask for: the \
                 registry was changed outside secman, so the flavor is refused. Register it \
                 again with `secman flavor register`",
                extra.join(", ")
            );
        }
        Ok(())
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.env.is_empty() && self.files.is_empty() && !self.storage
    }
}

/// A registered third-party flavor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisteredFlavor {
    /// The component file, absolute.
    pub path: PathBuf,
    /// The file's sha256 when it was registered.
    pub sha256: String,
    /// What the flavor said about itself then.
    pub info: FlavorInfo,
    /// What the user granted it.
    #[serde(default)]
    pub grants: Grants,
    /// Limits other than the defaults, set at registration.
    #[serde(default, skip_serializing_if = "LimitSettings::is_default")]
    pub limits: LimitSettings,
}

/// A flavor's own limits, where they differ from [`Limits::default`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitSettings {
    /// Memory, in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
    /// Time per call, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_secs: Option<f64>,
    /// Captured output per stream, in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_kib: Option<u64>,
    /// What one call may return, in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_mib: Option<u64>,
    /// What each of its managers' storage folders may hold, in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_mib: Option<u64>,
}

impl LimitSettings {
    fn is_default(&self) -> bool {
        *self == LimitSettings::default()
    }

    /// The defaults with these settings applied.
    pub fn limits(&self) -> Limits {
        let default = Limits::default();
        Limits {
            memory: self
                .memory_mib
                .map_or(default.memory, |m| (m as usize) << 20),
            timeout: self
                .time_secs
                .map_or(default.timeout, Duration::from_secs_f64),
            output: self
                .output_kib
                .map_or(default.output, |k| (k as usize) << 10),
            result: self
                .result_mib
                .map_or(default.result, |m| (m as usize) << 20),
            storage: self.storage_mib.map_or(default.storage, |m| m << 20),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RegistryFile {
    #[serde(default)]
    flavors: BTreeMap<String, RegisteredFlavor>,
}

/// Where a flavor's component comes from.
#[derive(Debug, Clone)]
pub enum FlavorSource {
    /// Compiled into this binary.
    Builtin(&'static EmbeddedFlavor),
    /// A registered file.
    File(Box<RegisteredFlavor>),
}

impl FlavorSource {
    /// How `flavor list` shows the source.
    pub fn describe(&self) -> String {
        match self {
            FlavorSource::Builtin(_) => "built-in".into(),
            FlavorSource::File(f) => f.path.display().to_string(),
        }
    }

    /// The component's sha256, as recorded.
    pub fn sha256(&self) -> &str {
        match self {
            FlavorSource::Builtin(f) => f.sha256,
            FlavorSource::File(f) => &f.sha256,
        }
    }

    /// Whether the flavor is compiled into this binary.
    pub fn is_builtin(&self) -> bool {
        matches!(self, FlavorSource::Builtin(_))
    }
}

/// A flavor ready to open managers with.
pub struct LoadedFlavor {
    /// The name it is known by.
    pub name: String,
    /// Where it comes from.
    pub source: FlavorSource,
    /// What it says about itself.
    pub info: FlavorInfo,
    /// What it may have.
    pub grants: Grants,
    /// The limits it runs under.
    pub limits: Limits,
    /// The checked, compiled component.
    pub component: FlavorComponent,
}

/// The registry of flavors.
#[derive(Debug)]
pub struct FlavorRegistry {
    file: PathBuf,
    /// Where the files of registered flavors are recorded as verified.
    verified: PathBuf,
    registered: BTreeMap<String, RegisteredFlavor>,
}

impl FlavorRegistry {
    /// Loads the flavor called `name`, reading the registry only when it is
    /// not a built-in flavor: no registered flavor's record can slow a
    /// command that does not use it.
    pub async fn load_named(home: &Home, runtime: &Runtime, name: &str) -> Result<LoadedFlavor> {
        let registry = match builtin::find(name) {
            Some(_) => FlavorRegistry {
                file: home.flavors_file(),
                verified: home.verified_dir(),
                registered: BTreeMap::new(),
            },
            None => FlavorRegistry::load(home)?,
        };
        registry.load_flavor(runtime, name).await
    }

    /// Reads the registry of `home`; none yet is an empty one.
    pub fn load(home: &Home) -> Result<FlavorRegistry> {
        let file = home.flavors_file();
        let registered = match read_if_exists(&file)? {
            Some(bytes) => {
                serde_norway::from_slice::<RegistryFile>(&bytes)
                    .with_context(|| {
                        format!(
                            "{} is corrupt; it was left untouched: repair or remove it",
                            file.display()
                        )
                    })?
                    .flavors
            }
            None => BTreeMap::new(),
        };
        Ok(FlavorRegistry {
            file,
            verified: home.verified_dir(),
            registered,
        })
    }

    /// Writes the registry back. Call it under [`Home::lock_state`].
    pub fn save(&self) -> Result<()> {
        let file = RegistryFile {
            flavors: self.registered.clone(),
        };
        write_atomic(&self.file, serde_norway::to_string(&file)?.as_bytes())
    }

    /// Every flavor: the built-in ones first, then the registered ones.
    pub fn all(&self) -> Vec<(String, FlavorSource)> {
        let builtins = builtin::BUILTIN_FLAVORS
            .iter()
            .map(|f| (f.name.to_string(), FlavorSource::Builtin(f)));
        let registered = self
            .registered
            .iter()
            .map(|(name, f)| (name.clone(), FlavorSource::File(Box::new(f.clone()))));
        builtins.chain(registered).collect()
    }

    /// The flavor called `name`.
    pub fn source(&self, name: &str) -> Result<FlavorSource> {
        if let Some(builtin) = builtin::find(name) {
            return Ok(FlavorSource::Builtin(builtin));
        }
        match self.registered.get(name) {
            Some(flavor) => Ok(FlavorSource::File(Box::new(flavor.clone()))),
            None => bail!(
                "there is no flavor called `{name}`: see `secman flavor list`, or register one \
                 with `secman flavor register PATH`"
            ),
        }
    }

    /// The registered (not built-in) flavor called `name`.
    pub fn registered(&self, name: &str) -> Option<&RegisteredFlavor> {
        self.registered.get(name)
    }

    /// Records `flavor` under `name`, replacing an earlier record.
    pub fn insert(&mut self, name: String, flavor: RegisteredFlavor) {
        self.registered.insert(name, flavor);
    }

    /// Forgets the registered flavor called `name`.
    pub fn remove(&mut self, name: &str) -> Option<RegisteredFlavor> {
        self.registered.remove(name)
    }

    /// Loads the flavor called `name`: checks a registered file has not
    /// changed, then compiles it (or takes it from the cache).
    pub async fn load_flavor(&self, runtime: &Runtime, name: &str) -> Result<LoadedFlavor> {
        let source = self.source(name)?;
        let (component, info, grants, limits) = match &source {
            FlavorSource::Builtin(builtin) => {
                let limits = Limits::default();
                let component = runtime
                    .load(
                        &format!("built-in flavor `{name}`"),
                        builtin.wasm,
                        builtin.sha256,
                        None,
                    )
                    .with_context(|| format!("built-in flavor `{name}` cannot be loaded"))?;
                let info = runtime
                    .info(&component, name, builtin.sha256, limits)
                    .await
                    .with_context(|| format!("built-in flavor `{name}` cannot be loaded"))?;
                let grants = Grants::by_default(&info);
                (component, info, grants, limits)
            }
            FlavorSource::File(registered) => {
                // What was recorded is checked as if the flavor had just
                // said it: the registry is a file, and files change.
                check_info(&registered.info).map_err(|why| {
                    anyhow!(
                        "the record of flavor `{name}` is unusable: {why}. Register the flavor \
                         again with `secman flavor register`"
                    )
                })?;
                registered.grants.check_within(name, &registered.info)?;
                let component = self
                    .load_registered(runtime, name, registered)
                    .with_context(|| format!("flavor `{name}` cannot be loaded"))?;
                (
                    component,
                    registered.info.clone(),
                    registered.grants.clone(),
                    registered.limits.limits(),
                )
            }
        };
        Ok(LoadedFlavor {
            name: name.to_string(),
            source,
            info,
            grants,
            limits,
            component,
        })
    }
}

impl FlavorRegistry {
    /// The component of the registered flavor `name`, whose file must hold
    /// the bytes that were registered. A file recorded as verified, and
    /// not written since (see [`crate::fileid`]), is not read again when
    /// its compiled form is in the cache.
    fn load_registered(
        &self,
        runtime: &Runtime,
        name: &str,
        flavor: &RegisteredFlavor,
    ) -> Result<FlavorComponent> {
        let record = self.verified.join(name);
        let identity = std::fs::metadata(&flavor.path)
            .map(|meta| Identity::of(&meta))
            .map_err(|e| unreadable(name, flavor, e))?;
        let vouched = std::fs::read_to_string(&record)
            .ok()
            .and_then(|text| Record::parse(&text))
            .is_some_and(|r| r.sha256 == flavor.sha256 && r.identity == identity);
        if vouched && let Some(component) = runtime.load_cached(&flavor.sha256) {
            return Ok(component?);
        }
        let wasm = read_unchanged(name, flavor)?;
        let after = std::fs::metadata(&flavor.path).map(|meta| Identity::of(&meta));
        if !vouched && after.is_ok_and(|after| after == identity) && identity.settled() {
            // Only speed is lost if it cannot be written.
            let _ = create_private_dir(&self.verified).and_then(|()| {
                let sha256 = flavor.sha256.clone();
                write_atomic(&record, Record { sha256, identity }.render().as_bytes())
            });
        }
        let limits = flavor.limits.limits();
        Ok(runtime.load(
            &format!("flavor `{name}`"),
            &wasm,
            &flavor.sha256,
            Some(&limits),
        )?)
    }
}

fn unreadable(name: &str, flavor: &RegisteredFlavor, error: std::io::Error) -> anyhow::Error {
    anyhow!(
        "cannot read the file of flavor `{name}`, {}: {error}. Restore it, or remove the flavor \
         with `secman flavor delete {name}`",
        flavor.path.display()
    )
}

/// The bytes of a registered flavor's file, if they are still the ones
/// that were registered.
fn read_unchanged(name: &str, flavor: &RegisteredFlavor) -> Result<Vec<u8>> {
    let path = &flavor.path;
    let wasm = std::fs::read(path).map_err(|e| unreadable(name, flavor, e))?;
    let sha256 = sha256_hex(&wasm);
    if sha256 != flavor.sha256 {
        bail!(
            "the file of flavor `{name}`, {}, changed since it was registered (sha256 {} then, \
             {} now), so it is refused: if you trust the new file, run `secman flavor register {}` \
             again",
            path.display(),
            short(&flavor.sha256),
            short(&sha256),
            path.display()
        );
    }
    Ok(wasm)
}

/// The first 12 hex digits of a digest, for display.
pub fn short(sha256: &str) -> &str {
    &sha256[..sha256.len().min(12)]
}

/// Reads a candidate flavor file, naming it in the error.
pub fn read_flavor_file(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read flavor file {}", path.display()))?
        .len();
    if size > MAX_COMPONENT_BYTES {
        bail!(
            "flavor file {} is {} MiB, over the {} MiB secman takes",
            path.display(),
            size >> 20,
            MAX_COMPONENT_BYTES >> 20
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read flavor file {}", path.display()))
}

/// The largest component secman registers: componentize-py's and
/// componentize-js's components, which carry a whole interpreter, are
/// 10 to 40 MiB.
const MAX_COMPONENT_BYTES: u64 = 128 << 20;
