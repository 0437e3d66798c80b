//! Loading flavor components and calling them inside their sandbox.
//!
//! [`Runtime`] owns the engine and the compile cache, and links each
//! component with what it imports of what a flavor may import (WASI 0.2,
//! `wasi:http` and the host's `log`; see `link`).
//! [`Runtime::load`] turns a component's bytes into a [`FlavorComponent`],
//! checked and pre-instantiated; [`FlavorComponent::open`] instantiates it in a sandbox
//! and opens one manager, whose operations [`ManagerInstance`] exposes.

mod bindings;
mod cache;
mod engine;
mod error;
mod files;
mod heap;
mod info;
mod link;
mod outbound;
mod output;
mod quota;
mod resolve;
mod sandbox;
mod scratch;
mod surface;
mod untrusted;

use anyhow::Result;
use std::time::Instant;
use wasmtime::component::{Component, ResourceAny};

use wasmtime::{Engine, Store, Trap};

use crate::home::Home;
use crate::secret::Secret;
pub use crate::text::{escape, escape_lines, quote};
use bindings::{FLAVOR_EXPORTS, Flavor, FlavorPre, types, v0_1};
use cache::CompileCache;
pub use cache::sha256_hex;
use engine::Watchdog;
pub use error::{FlavorError, LoadError};
pub use files::{FileAsk, OTHER_PROGRAMS};
pub use info::{
    Capabilities, FlavorInfo, OptionKind, OptionSpec, RESERVED_OPTIONS, is_flavor_name,
};
pub use outbound::{AddressClass, Endpoint, HostPattern, Refusal};
pub use sandbox::{Limits, LogLevel, SandboxSpec, SandboxState};
pub use scratch::sweep_left_copies;
use surface::Surface;
pub use untrusted::{check_info, env_line, env_name, env_prefix};

/// The export every flavor has: the contract's `secrets-manager` interface,
/// in its current version.
pub const FLAVOR_EXPORT: &str = FLAVOR_EXPORTS[0];

/// Prefixes of the interfaces the linker provides; anything else a
/// component imports is refused when it is loaded, by name.
const PROVIDED_IMPORTS: &[&str] = &[
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:http/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
    "secman:flavor/",
];

/// Called before a component is compiled, with its label and size in
/// bytes; what it returns is dropped when the compile ends. The CLI shows
/// progress with it.
pub type CompileProgress = Box<dyn Fn(&str, usize) -> Box<dyn std::any::Any>>;

/// The engine and the compile cache.
pub struct Runtime {
    engine: Engine,
    watchdog: Watchdog,
    clock: engine::Clock,
    cache: CompileCache,
    progress: Option<CompileProgress>,
}

impl Runtime {
    /// A runtime whose compiled components are cached in `home`'s cache.
    pub fn new(home: &Home) -> Result<Runtime> {
        let engine = engine::new_engine()?;
        crate::profile::stage("engine");
        let watchdog = Watchdog::default();
        let clock = engine::Clock::start(&engine, watchdog.clone())?;
        crate::profile::stage("clock");
        let cache = CompileCache::new(home, &engine)?;
        Ok(Runtime {
            engine,
            watchdog,
            clock,
            cache,
            progress: None,
        })
    }

    /// Stops the clock that enforces time limits, and with it every flavor
    /// call: before secman `exec`s another program.
    pub fn stop_clock(&self) {
        self.clock.stop();
    }

    /// Calls `progress` around every compile (not for components taken
    /// from the cache).
    pub fn on_compile(&mut self, progress: CompileProgress) {
        self.progress = Some(progress);
    }

    /// Checks `wasm` (whose sha256 is `sha256`) is a flavor component this
    /// host can run, compiling it into the cache on first use. `label`
    /// names it in progress reports. A flavor that is not built in is
    /// compiled within what its `limits` allow (see
    /// [`Limits::compile_heap`]); a built-in one is trusted (`None`).
    pub fn load(
        &self,
        label: &str,
        wasm: &[u8],
        sha256: &str,
        limits: Option<&Limits>,
    ) -> Result<FlavorComponent, LoadError> {
        match wasm.get(..8) {
            Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => return Err(LoadError::CoreModule),
            Some([0, b'a', b's', b'm', ..]) => {}
            _ => return Err(LoadError::NotWasm),
        }
        let component = match self.cache.load(&self.engine, sha256) {
            Some(component) => component,
            None => {
                check_surface(wasm)?;
                let _progress = self.progress.as_ref().map(|start| start(label, wasm.len()));
                // What compiling costs counts against the flavor: its time
                // (the watchdog ends secman past it; compiling cannot be
                // interrupted) and its memory.
                let _deadline = limits.map(|limits| {
                    let time = limits.compile_time();
                    self.watchdog.arm(
                        Instant::now() + time,
                        format!(
                            "compiling {label} took more than {} s, which its time limit of {} s \
                             allows (four times that, one minute at least): register it with a \
                             larger --time-limit-secs if you trust it",
                            time.as_secs(),
                            limits.timeout.as_secs_f64()
                        ),
                    )
                });
                let _watched = limits.map(|limits| {
                    let budget = limits.compile_heap();
                    heap::watch(
                        heap::in_use(),
                        budget,
                        &format!(
                            "compiling {label} needed more than {} MiB of memory, which its \
                             memory limit of {} MiB allows (twice that and 64 MiB): register it \
                             with a larger --memory-limit-mib if you trust it",
                            budget >> 20,
                            limits.memory >> 20
                        ),
                    )
                });
                self.cache
                    .compile(&self.engine, wasm, sha256)
                    .map_err(|e| LoadError::Invalid(quote(&one_line(&format!("{e:#}")), 400)))?
            }
        };
        self.prepare(&component)
    }

    /// The component whose sha256 is `sha256` from the compile cache,
    /// without its bytes, if it is there.
    pub fn load_cached(&self, sha256: &str) -> Option<Result<FlavorComponent, LoadError>> {
        let component = self.cache.load(&self.engine, sha256)?;
        Some(self.prepare(&component))
    }

    /// What the component whose sha256 is `sha256` says about itself:
    /// asked once, then read from beside its compiled code, and checked
    /// each time as if it had just been said.
    pub async fn info(
        &self,
        component: &FlavorComponent,
        label: &str,
        sha256: &str,
        limits: Limits,
    ) -> Result<FlavorInfo, LoadError> {
        if let Some(info) = self.cache.info(sha256)
            && untrusted::check_info(&info).is_ok()
        {
            return Ok(info);
        }
        let info = component.info(label, limits).await?;
        self.cache.store_info(sha256, &info);
        Ok(info)
    }

    /// Links a compiled component and checks it exports the contract, in
    /// one of the versions the host runs.
    fn prepare(&self, component: &Component) -> Result<FlavorComponent, LoadError> {
        crate::profile::stage("load");
        let linker = link::for_component(&self.engine, component)
            .map_err(|e| LoadError::Invalid(quote(&one_line(&format!("{e:#}")), 400)))?;
        let pre = linker
            .instantiate_pre(component)
            .map_err(|e| LoadError::UnsupportedImport(quote(&one_line(&format!("{e:#}")), 400)))?;
        let pre = match FlavorPre::new(pre.clone()) {
            Ok(pre) => Pre::Current(pre),
            Err(e) => Pre::V0_1(
                v0_1::FlavorPre::new(pre).map_err(|_| LoadError::NotAFlavor {
                    expected: FLAVOR_EXPORT,
                    found: format!(
                        "an incompatible version of it ({})",
                        quote(&one_line(&format!("{e:#}")), 400)
                    ),
                })?,
            ),
        };
        crate::profile::stage("linker");
        Ok(FlavorComponent {
            engine: self.engine.clone(),
            watchdog: self.watchdog.clone(),
            pre,
        })
    }
}

/// Refuses, before the costly compile, a component that does not export
/// the contract or imports what the host does not provide.
fn check_surface(wasm: &[u8]) -> Result<(), LoadError> {
    let surface = Surface::read(wasm).map_err(|e| LoadError::Invalid(quote(&one_line(&e), 400)))?;
    surface.shape.check().map_err(LoadError::TooBig)?;
    if !surface
        .exports
        .iter()
        .any(|e| FLAVOR_EXPORTS.contains(&e.as_str()))
    {
        let found: Vec<String> = surface.exports.iter().map(|n| quote(n, 80)).collect();
        return Err(LoadError::NotAFlavor {
            expected: FLAVOR_EXPORT,
            found: if found.is_empty() {
                "nothing".into()
            } else {
                found.join(", ")
            },
        });
    }
    let foreign: Vec<String> = surface
        .imports
        .iter()
        .filter(|name| !PROVIDED_IMPORTS.iter().any(|p| name.starts_with(p)))
        .map(|name| quote(name, 80))
        .collect();
    if !foreign.is_empty() {
        return Err(LoadError::UnsupportedImport(format!(
            "{} (a flavor may import WASI 0.2, wasi:http and secman:flavor/log)",
            foreign.join(", ")
        )));
    }
    Ok(())
}

/// A checked, pre-instantiated flavor component.
pub struct FlavorComponent {
    engine: Engine,
    watchdog: Watchdog,
    pre: Pre,
}

/// A component linked against the version of the contract it was built for.
enum Pre {
    Current(FlavorPre<SandboxState>),
    V0_1(v0_1::FlavorPre<SandboxState>),
}

/// An instance of a flavor, speaking one version of the contract.
enum Instance {
    Current(Flavor),
    V0_1(v0_1::Flavor),
}

impl Pre {
    async fn instantiate(&self, store: &mut Store<SandboxState>) -> wasmtime::Result<Instance> {
        Ok(match self {
            Pre::Current(pre) => Instance::Current(pre.instantiate_async(store).await?),
            Pre::V0_1(pre) => Instance::V0_1(pre.instantiate_async(store).await?),
        })
    }
}

/// Evaluates `$body` with `$api` bound to the functions of the flavor's
/// `secrets-manager` interface (`$interface`), or of its `manager`
/// resource (`$interface.manager()`), in whichever version the instance
/// speaks. Values cross with `.into()` to and from the current version.
macro_rules! on_api {
    ($instance:expr, |$api:ident| $body:expr) => {
        match $instance {
            Instance::Current(flavor) => {
                // The conversions are to the same types here.
                #[allow(clippy::useless_conversion)]
                let value = {
                    let $api = flavor.secman_flavor_secrets_manager();
                    $body
                };
                value
            }
            Instance::V0_1(flavor) => {
                let $api = flavor.secman_flavor_secrets_manager();
                $body
            }
        }
    };
}

impl FlavorComponent {
    /// Asks the flavor to describe itself, in a sandbox with no grants.
    /// `label` names it in errors: its name, or its file.
    pub async fn info(&self, label: &str, limits: Limits) -> Result<FlavorInfo, LoadError> {
        let spec = SandboxSpec {
            flavor: label.into(),
            limits,
            ..SandboxSpec::default()
        };
        let mut call = Call::new(&self.engine, &self.watchdog, &spec)
            .map_err(|e| LoadError::BadInfo(format!("{e:#}")))?;
        let flavor = call
            .run("instantiate", async |store| {
                self.pre.instantiate(store).await
            })
            .await
            .map_err(|e| LoadError::BadInfo(e.to_string()))?;
        // What crosses into the host is capped before it is copied.
        call.fuel = untrusted::MAX_INFO_BYTES.min(call.limits.result);
        let info: types::FlavorInfo = on_api!(&flavor, |api| call
            .run("flavor-info", async |store| api.call_info(store).await)
            .await
            .map(Into::into))
        .map_err(|e| LoadError::BadInfo(e.to_string()))?;
        let info = FlavorInfo::from(info);
        untrusted::check_info(&info).map_err(LoadError::BadInfo)?;
        Ok(info)
    }

    /// Instantiates the flavor in the sandbox `spec` and opens one manager
    /// with `options`.
    pub async fn open(
        &self,
        spec: &SandboxSpec,
        options: &[(String, String)],
    ) -> Result<ManagerInstance, FlavorError> {
        let mut call = Call::new(&self.engine, &self.watchdog, spec).map_err(|e| {
            FlavorError::Backend(format!(
                "cannot set up the sandbox of flavor `{}`: {e:#}",
                spec.flavor
            ))
        })?;
        let flavor = call
            .run("instantiate", async |store| {
                self.pre.instantiate(store).await
            })
            .await?;
        let manager = on_api!(&flavor, |api| call
            .run_op("open", async |store| {
                api.manager().call_open(store, options).await
            })
            .await)?;
        Ok(ManagerInstance {
            call,
            flavor,
            manager,
        })
    }
}

/// One opened manager of a flavor, inside its sandbox.
pub struct ManagerInstance {
    call: Call,
    flavor: Instance,
    manager: ResourceAny,
}

impl ManagerInstance {
    /// Stores a new secret.
    pub async fn register_secret(&mut self, secret: &Secret) -> Result<(), FlavorError> {
        let (secret, manager) = (to_wit(secret), self.manager);
        on_api!(&self.flavor, |api| self
            .call
            .run_op("register-secret", async |store| {
                let secret = secret.clone().into();
                api.manager()
                    .call_register_secret(store, manager, &secret)
                    .await
            })
            .await)
    }

    /// Reads a secret.
    pub async fn get_secret(&mut self, name: &str) -> Result<Secret, FlavorError> {
        let manager = self.manager;
        let secret: types::Secret = on_api!(&self.flavor, |api| self
            .call
            .run_op("get-secret", async |store| {
                api.manager().call_get_secret(store, manager, name).await
            })
            .await
            .map(Into::into))?;
        untrusted::check_secret(name, secret.name, secret.schema, secret.values)
            .map_err(|why| self.call.bad_answer(&why))
    }

    /// The names of all secrets, sorted, and a note on the names the
    /// flavor listed that are not secret names secman can address.
    pub async fn list_secrets(&mut self) -> Result<(Vec<String>, Option<String>), FlavorError> {
        let manager = self.manager;
        let names = on_api!(&self.flavor, |api| self
            .call
            .run_op("get-all-secret-keys", async |store| {
                api.manager().call_get_all_secret_keys(store, manager).await
            })
            .await)?;
        let (mut names, skipped) = untrusted::check_names(names);
        names.sort_unstable();
        names.dedup();
        Ok((names, skipped))
    }

    /// Replaces the content of an existing secret.
    pub async fn update_secret(&mut self, secret: &Secret) -> Result<(), FlavorError> {
        let (secret, manager) = (to_wit(secret), self.manager);
        on_api!(&self.flavor, |api| self
            .call
            .run_op("update-secret", async |store| {
                let secret = secret.clone().into();
                api.manager()
                    .call_update_secret(store, manager, &secret)
                    .await
            })
            .await)
    }

    /// Deletes a secret.
    pub async fn delete_secret(&mut self, name: &str) -> Result<(), FlavorError> {
        let manager = self.manager;
        on_api!(&self.flavor, |api| self
            .call
            .run_op("delete-secret", async |store| {
                api.manager().call_delete_secret(store, manager, name).await
            })
            .await)
    }

    /// Deletes every secret in the manager's scope.
    pub async fn delete_all_secrets(&mut self, force: bool) -> Result<(), FlavorError> {
        let manager = self.manager;
        on_api!(&self.flavor, |api| self
            .call
            .run_op("delete-all-secrets", async |store| {
                api.manager()
                    .call_delete_all_secrets(store, manager, force)
                    .await
            })
            .await)
    }

    /// What the flavor printed so far: (stdout, stderr).
    pub fn captured_output(&self) -> (Vec<u8>, Vec<u8>) {
        self.call.store.data().captured_output()
    }
}

fn to_wit(secret: &Secret) -> types::Secret {
    types::Secret {
        name: secret.name.clone(),
        schema: secret.schema.clone(),
        values: secret
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// A store plus what is needed to turn its traps into clear errors.
struct Call {
    store: Store<SandboxState>,
    watchdog: Watchdog,
    flavor: String,
    operation: &'static str,
    limits: Limits,
    /// The most a flavor may copy into the host per host call, and the
    /// most an answer may weigh as it is copied out.
    fuel: usize,
    /// What this instance is charged for on the host's heap: what it held
    /// when it was made, plus every growth that happened between its calls
    /// (another flavor's calls, the host's own work), which is not its
    /// doing. Within a call, the heap may grow the call's budget past this.
    heap_base: usize,
    /// What the heap held when the instance's last call ended.
    heap_after_last: usize,
    /// Why the instance can run nothing more: a call trapped or was cut
    /// off mid-way, which leaves the instance in no state to trust.
    dead: Option<String>,
}

impl Call {
    fn new(engine: &Engine, watchdog: &Watchdog, spec: &SandboxSpec) -> Result<Call> {
        Ok(Call {
            store: spec.build_store(engine)?,
            watchdog: watchdog.clone(),
            flavor: spec.flavor.clone(),
            operation: "instantiate",
            limits: spec.limits,
            fuel: spec.limits.result,
            heap_base: heap::in_use(),
            heap_after_last: heap::in_use(),
            dead: None,
        })
    }

    /// Runs one call into the guest under the deadline, turning a trap
    /// into the error that explains it.
    async fn run<T>(
        &mut self,
        operation: &'static str,
        call: impl AsyncFnOnce(&mut Store<SandboxState>) -> wasmtime::Result<T>,
    ) -> Result<T, FlavorError> {
        if let Some(earlier) = &self.dead {
            return Err(FlavorError::Backend(format!(
                "flavor `{}` cannot run {operation}: its instance stopped in {} ({earlier}), and \
                 secman does not call an instance that stopped; nothing more was done",
                self.flavor, self.operation
            )));
        }
        self.operation = operation;
        self.store.data().quota.new_call();
        let ticks = self.limits.timeout.as_millis() / engine::EPOCH_TICK.as_millis();
        self.store.set_epoch_deadline(ticks.max(1) as u64);
        self.store.set_hostcall_fuel(self.fuel);
        // The epoch stops guest code; the timer stops a call that waits in
        // the host on the network; the watchdog ends one blocked in a
        // synchronous host call (see `engine`).
        let watched = self.watchdog.arm(
            Instant::now() + self.limits.timeout + engine::WATCHDOG_GRACE,
            self.time_limit().to_string(),
        );
        // Each flavor is charged for what it causes: what grew since its
        // last call was someone else's.
        self.heap_base += heap::in_use().saturating_sub(self.heap_after_last);
        let heap = heap::watch(
            self.heap_base,
            self.limits.host_heap(),
            &format!(
                "flavor `{}` made secman hold more than {} MiB of memory in {operation} and \
                 was stopped",
                self.flavor,
                self.limits.host_heap() >> 20
            ),
        );
        let result = tokio::time::timeout(self.limits.timeout, call(&mut self.store)).await;
        drop(heap);
        self.heap_after_last = heap::in_use();
        drop(watched);
        let error = match result {
            // A flavor that wrote past its storage quota or printed past
            // its cap is stopped even if it coped with the failed write.
            Ok(_) if self.store.data().quota.hit().is_some() => self.storage_quota(),
            Ok(Ok(_)) if self.store.data().output_limit_hit() => self.output_limit(),
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(trap)) => self
                .outbound_failure()
                .unwrap_or_else(|| self.explain(trap)),
            Err(_elapsed) => self.time_limit(),
        };
        self.dead = Some(error.to_string());
        Err(error)
    }

    /// Runs one operation of the contract: a trap or the flavor's own
    /// error becomes a [`FlavorError`].
    async fn run_op<T, E: Into<types::Error>>(
        &mut self,
        operation: &'static str,
        call: impl AsyncFnOnce(&mut Store<SandboxState>) -> wasmtime::Result<Result<T, E>>,
    ) -> Result<T, FlavorError> {
        self.run(operation, call).await?.map_err(|error| {
            self.outbound_failure()
                .unwrap_or_else(|| error.into().into())
        })
    }

    /// What the outgoing-HTTP policy stopped during the call: it explains
    /// a failure better than the flavor's own account (or trap) can.
    fn outbound_failure(&self) -> Option<FlavorError> {
        let state = self.store.data();
        let flavor = &self.flavor;
        if let Some(refusal) = state.refused_requests().into_iter().next() {
            return Some(FlavorError::Denied(match refusal {
                Refusal::NotGranted(destination) => format!(
                    "flavor `{flavor}` tried to send HTTP to {destination}, which it was not \
                     granted: grant the host with `secman flavor grant {flavor} --allow-host \
                     HOST` if the flavor asks for it, or set it as the manager's endpoint"
                ),
                Refusal::Address {
                    destination,
                    address,
                    class,
                } => format!(
                    "flavor `{flavor}` tried to send HTTP to {destination}, whose name resolves \
                     to {address}, {}, which a granted name never reaches: grant the address \
                     itself if the flavor asks for it, or set it as the manager's endpoint",
                    class.describe()
                ),
                Refusal::Malformed(host) => format!(
                    "flavor `{flavor}` tried to send HTTP to `{}`, which is not a host name or \
                     address secman accepts",
                    quote(&host, 80)
                ),
            }));
        }
        let oversized = state.oversized_http_body()?;
        Some(FlavorError::Backend(format!(
            "flavor `{flavor}` failed: {oversized}"
        )))
    }

    /// An answer that breaks the contract: a `backend` error naming it.
    fn bad_answer(&self, why: &str) -> FlavorError {
        FlavorError::Backend(format!(
            "flavor `{}` gave an answer to {} that secman refuses: {why}",
            self.flavor, self.operation
        ))
    }

    fn explain(&self, error: wasmtime::Error) -> FlavorError {
        let state = self.store.data();
        // wasmtime's error for too much data is not a public type.
        let copied_too_much =
            || format!("{error:#}").contains("fuel allocated for hostcalls has been exhausted");
        if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            self.time_limit()
        } else if state.memory_limit_hit() {
            FlavorError::MemoryLimit {
                flavor: self.flavor.clone(),
                operation: self.operation,
                limit: self.limits.memory,
            }
        } else if state.output_limit_hit() {
            self.output_limit()
        } else if copied_too_much() {
            FlavorError::ResultLimit {
                flavor: self.flavor.clone(),
                operation: self.operation,
                limit: self.fuel,
            }
        } else {
            let reason = if error.downcast_ref::<Trap>() == Some(&Trap::CannotLeaveComponent) {
                format!(
                    "{}: it called an import while secman was copying arguments into it \
                     (cabi_realloc) or after the call returned (post-return), which the \
                     component model forbids; a garbage collector starting there does this \
                     (examples/go/flavor.go shows how a Go flavor avoids it)",
                    Trap::CannotLeaveComponent
                )
            } else if let Some(trap) = error.downcast_ref::<Trap>() {
                trap.to_string()
            } else if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
                format!("it exited with status {}", exit.0)
            } else {
                // The root cause, without wasmtime's multi-line backtrace;
                // it can quote the component's own names.
                quote(&one_line(&error.root_cause().to_string()), 400)
            };
            FlavorError::Crashed {
                flavor: self.flavor.clone(),
                operation: self.operation,
                reason,
            }
        }
    }

    fn output_limit(&self) -> FlavorError {
        FlavorError::OutputLimit {
            flavor: self.flavor.clone(),
            operation: self.operation,
            limit: self.limits.output,
        }
    }

    fn storage_quota(&self) -> FlavorError {
        let (folder, limit) = self.store.data().quota.hit().unwrap_or_default();
        FlavorError::StorageQuota {
            flavor: self.flavor.clone(),
            operation: self.operation,
            folder,
            limit,
        }
    }

    fn time_limit(&self) -> FlavorError {
        FlavorError::TimeLimit {
            flavor: self.flavor.clone(),
            operation: self.operation,
            limit: self.limits.timeout,
        }
    }
}

/// `text` on one line: errors are printed as one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
