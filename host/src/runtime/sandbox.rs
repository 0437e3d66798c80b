//! The sandbox a flavor runs in: only what was granted, within limits.
//!
//! A flavor starts with nothing: no files, no environment, no sockets, no
//! name lookup, closed stdin, no outgoing HTTP. [`SandboxSpec`] adds back
//! what the user granted (a storage folder, some environment variables,
//! read-only copies of some files, some hosts) and the manager's own
//! endpoints. Its output is
//! captured and capped instead of reaching the terminal, its memory is
//! budgeted across all of its linear memories, and each call has a deadline.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::bindings::{Level, log, types};
use super::files::{self, FileRules, GrantedFiles};
use super::outbound::{Endpoint, HostPattern, MAX_RESPONSE_BODY, OutboundPolicy, Refusal};
use super::output::CappedOutput;
use super::quota::Quota;
use crate::text::escape;

/// The limits a flavor runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of linear memory, all memories together.
    pub memory: usize,
    /// Wall time one call may take.
    pub timeout: Duration,
    /// Bytes the flavor may print to stdout and stderr, each.
    pub output: usize,
    /// Bytes one call may return: a secret's names, keys and values, or
    /// the names a listing returns.
    pub result: usize,
    /// Bytes its storage folder may hold (a flavor that is not built in).
    pub storage: u64,
}

impl Limits {
    /// How much secman's own heap may grow during one call: what the
    /// flavor may return and print, one response body, and room for the
    /// host's own work.
    pub fn host_heap(&self) -> usize {
        self.result + 2 * self.output + MAX_RESPONSE_BODY as usize + (24 << 20)
    }
}

impl Limits {
    /// How much secman's heap may grow while it compiles a flavor that is
    /// not built in: twice its memory limit and 64 MiB. Compiling costs
    /// about 20 bytes of heap per byte of code (the Python example, 18 MB,
    /// takes about 330 MiB), so the defaults fit every example with room,
    /// and a flavor registered with a small memory limit cannot make secman
    /// hold gigabytes before any of its calls is counted.
    pub fn compile_heap(&self) -> usize {
        self.memory.saturating_mul(2).saturating_add(64 << 20)
    }

    /// How long compiling a flavor that is not built in may take: four
    /// times its time limit, one minute at least (two with the defaults;
    /// the largest example takes 10 to 20 s on two busy cores).
    pub fn compile_time(&self) -> Duration {
        (self.timeout * 4).max(Duration::from_secs(60))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: 256 << 20,
            timeout: Duration::from_secs(30),
            output: 1 << 20,
            result: 16 << 20,
            storage: 256 << 20,
        }
    }
}

/// Everything one sandbox holds.
#[derive(Debug, Clone, Default)]
pub struct SandboxSpec {
    /// The flavor's name, for messages.
    pub flavor: String,
    /// A folder mounted read-write, at this path inside.
    pub storage: Option<PathBuf>,
    /// Where that folder is on the host, when it is not at that path: the
    /// checked folder held open by the session (`/proc/self/fd/N`).
    pub storage_on_host: Option<PathBuf>,
    /// Environment variables the flavor sees.
    pub env: Vec<(String, String)>,
    /// Files it reads, as `capabilities.files` names them, given read-only.
    pub files: Vec<String>,
    /// secman's own folders: no granted file may be inside one.
    pub private: Vec<PathBuf>,
    /// Folders a flavor can write (every manager's storage): no link in
    /// them is followed to a granted file.
    pub writable: Vec<PathBuf>,
    /// Whether the flavor is built into secman, and so may read its own
    /// CLI's credentials through a variable.
    pub builtin: bool,
    /// Hosts it may send HTTPS requests to.
    pub hosts: Vec<HostPattern>,
    /// The manager's own endpoints, reachable as configured.
    pub endpoints: Vec<Endpoint>,
    /// The limits.
    pub limits: Limits,
    /// The least important flavor log message that is shown.
    pub log_level: LogLevel,
}

/// How much of a flavor's logging reaches stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Steps worth knowing.
    Info,
    /// Only warnings and errors.
    #[default]
    Warn,
    /// Only errors.
    Error,
}

/// The store data of one flavor instance.
pub struct SandboxState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: OutboundPolicy,
    table: ResourceTable,
    budget: MemoryBudget,
    log: FlavorLog,
    stdout: CappedOutput,
    stderr: CappedOutput,
    /// The copies of its granted files, removed with the sandbox.
    _files: GrantedFiles,
    /// What it may still write into its storage folder.
    pub(super) quota: Quota,
}

impl SandboxState {
    /// Whether the memory budget refused a request.
    pub fn memory_limit_hit(&self) -> bool {
        self.budget.hit
    }

    /// The HTTP requests the policy stopped.
    pub fn refused_requests(&self) -> Vec<Refusal> {
        self.outbound.refused()
    }

    /// Which HTTP body went over its cap, if one did.
    pub fn oversized_http_body(&self) -> Option<String> {
        self.outbound.oversized()
    }

    /// Whether stdout or stderr filled up.
    pub fn output_limit_hit(&self) -> bool {
        self.stdout.overflowed() || self.stderr.overflowed()
    }

    /// What the flavor printed, for `-v`.
    pub fn captured_output(&self) -> (Vec<u8>, Vec<u8>) {
        (self.stdout.contents(), self.stderr.contents())
    }
}

impl SandboxSpec {
    /// A store holding this sandbox, ready to instantiate a flavor in.
    pub fn build_store(&self, engine: &wasmtime::Engine) -> Result<Store<SandboxState>> {
        let stdout = CappedOutput::new(self.limits.output);
        let stderr = CappedOutput::new(self.limits.output);
        let files = files::copy_granted(
            &self.files,
            &FileRules {
                flavor: &self.flavor,
                builtin: self.builtin,
                forbidden: &self.private,
                writable: &self.writable,
            },
        )?;
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .envs(&self.env)
            .envs(&files.env)
            .max_random_size(MAX_RANDOM_BYTES)
            // A CLI runs one call at a time: do file I/O on this thread
            // rather than hop to a blocking pool (tens of microseconds per
            // operation). A call that blocks here (a FIFO, a hung network
            // mount) is ended by the watchdog (see `engine`). Set before
            // the preopen, which copies it.
            .allow_blocking_current_thread(true);
        if let Some(dir) = &self.storage {
            let guest_path = dir
                .to_str()
                .with_context(|| format!("storage folder {} is not valid UTF-8", dir.display()))?;
            let host_path = self.storage_on_host.as_ref().unwrap_or(dir);
            wasi.preopened_dir(host_path, guest_path, FsPerms::ReadWrite)
                .map_err(|e| anyhow!("cannot open storage folder {}: {e}", dir.display()))?;
        }
        for (copy, inside) in &files.mounts {
            wasi.preopened_dir(copy, inside, FsPerms::ReadOnly)
                .map_err(|e| anyhow!("cannot give the flavor the files in {inside}: {e}"))?;
        }
        // What a flavor can make the host hold, beyond its own memory: a
        // handle per resource (streams, HTTP fields, requests), and header
        // bytes per `fields`. At most about 16 MiB of headers in all.
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let mut http = WasiHttpCtx::new();
        http.set_field_size_limit(MAX_FIELDS_BYTES);
        let state = SandboxState {
            wasi: wasi.build(),
            http,
            outbound: OutboundPolicy::new(self.hosts.clone(), self.endpoints.clone()),
            table,
            budget: MemoryBudget {
                limit: self.limits.memory,
                used: 0,
                hit: false,
            },
            log: FlavorLog {
                flavor: self.flavor.clone(),
                level: self.log_level,
                remaining: MAX_LOG_BYTES,
            },
            stdout,
            stderr,
            _files: files,
            quota: match &self.storage {
                Some(folder) if !self.builtin => Quota::new(folder.clone(), self.limits.storage),
                _ => Quota::default(),
            },
        };
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.budget);
        store.set_max_component_handles(MAX_RESOURCES);
        store.epoch_deadline_trap();
        Ok(store)
    }
}

impl WasiView for SandboxState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for SandboxState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// A memory cap over every linear memory and table of the instance
/// together.
struct MemoryBudget {
    limit: usize,
    used: usize,
    hit: bool,
}

impl ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let next = self.used + desired.saturating_sub(current);
        if next > self.limit {
            // Refuse the growth; a guest that cannot cope traps, and the
            // host reports the limit instead of the trap.
            self.hit = true;
            return Ok(false);
        }
        self.used = next;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Table elements live in the host too: they count against the
        // same budget, at the size of a reference.
        let next = self.used + desired.saturating_sub(current) * TABLE_ELEMENT_BYTES;
        if next > self.limit {
            self.hit = true;
            return Ok(false);
        }
        self.used = next;
        Ok(true)
    }
}

/// What one table element costs the host.
const TABLE_ELEMENT_BYTES: usize = 16;
/// Live resources (host handles, and guest handles) one instance may hold.
/// Counted live, as wasmtime counts them, and sized for languages with a
/// garbage collector, which drop handles late (a JavaScript flavor holds
/// one per file it touched until a collection): what they cost the host's
/// heap is within the heap budget of each call (see `heap`) anyway.
const MAX_RESOURCES: usize = 100_000;
/// Header bytes one `wasi:http` `fields` may hold.
const MAX_FIELDS_BYTES: usize = 16 << 10;
/// The most random bytes one call may ask for.
const MAX_RANDOM_BYTES: u64 = 1 << 20;
/// What a flavor's log messages may weigh in all, per instance.
const MAX_LOG_BYTES: usize = 64 << 10;
const MAX_LOG_MESSAGE_BYTES: usize = 4096;

/// Where a flavor's `log` calls go: the host's stderr, filtered and capped.
struct FlavorLog {
    flavor: String,
    level: LogLevel,
    remaining: usize,
}

impl types::Host for SandboxState {}

impl log::Host for SandboxState {
    fn log(&mut self, level: Level, message: String) {
        let log = &mut self.log;
        let level = match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        if level < log.level || log.remaining == 0 {
            return;
        }
        let mut end = message.len().min(MAX_LOG_MESSAGE_BYTES);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let mut err = std::io::stderr().lock();
        if end >= log.remaining {
            log.remaining = 0;
            let _ = writeln!(
                err,
                "secman: [{}] warn: its further messages were dropped: it logged more than {} \
                 KiB",
                log.flavor,
                MAX_LOG_BYTES >> 10
            );
            return;
        }
        log.remaining -= end.max(1);
        let level = format!("{level:?}").to_lowercase();
        let _ = writeln!(
            err,
            "secman: [{}] {level}: {}",
            log.flavor,
            escape(&message[..end])
        );
    }
}
