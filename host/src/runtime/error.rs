//! What can go wrong when the host loads or calls a flavor.

use std::time::Duration;

use super::bindings::types;
use super::untrusted::message;

/// Why a call into a flavor failed.
///
/// The first five mirror the contract's `error` variant; the rest are the
/// sandbox stepping in. Messages name the flavor and never hold a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlavorError {
    /// The named secret does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The name is taken.
    #[error("{0}")]
    AlreadyExists(String),
    /// The request was malformed.
    #[error("{0}")]
    Invalid(String),
    /// The backend or the sandbox refused.
    #[error("{0}")]
    Denied(String),
    /// The backend failed.
    #[error("{0}")]
    Backend(String),
    /// The flavor wrote more into its storage folder than its quota.
    #[error(
        "flavor `{flavor}` wrote past its storage quota of {} in {operation} and was stopped: \
         {} holds what it may; free space there, or raise the quota with `secman flavor \
         register FILE --storage-quota-mib MIB`",
        size_text(*limit as usize),
        folder.display()
    )]
    StorageQuota {
        /// The flavor.
        flavor: String,
        /// The operation.
        operation: &'static str,
        /// Its storage folder.
        folder: std::path::PathBuf,
        /// The quota, in bytes.
        limit: u64,
    },
    /// The call ran past its deadline and was stopped.
    #[error(
        "flavor `{flavor}` ran past its time limit of {}s in {operation} and was stopped",
        limit.as_secs_f64()
    )]
    TimeLimit {
        /// The flavor.
        flavor: String,
        /// The operation.
        operation: &'static str,
        /// The deadline.
        limit: Duration,
    },
    /// The flavor tried to use more memory than it may.
    #[error(
        "flavor `{flavor}` hit its memory limit of {} MiB in {operation} and was stopped",
        limit >> 20
    )]
    MemoryLimit {
        /// The flavor.
        flavor: String,
        /// The operation.
        operation: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// The flavor printed more than it may.
    #[error(
        "flavor `{flavor}` printed more than its output limit of {} KiB in {operation} \
         and was stopped",
        limit >> 10
    )]
    OutputLimit {
        /// The flavor.
        flavor: String,
        /// The operation.
        operation: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// The flavor tried to return (or hand the host) more than it may.
    #[error(
        "flavor `{flavor}` tried to copy more than its limit of {} into secman in {operation} \
         and was stopped",
        size_text(*limit)
    )]
    ResultLimit {
        /// The flavor.
        flavor: String,
        /// The operation.
        operation: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// The flavor trapped: a panic, an abort, a stack overflow.
    #[error("flavor `{flavor}` crashed in {operation}: {reason} (run with -v to see its output)")]
    Crashed {
        /// The flavor.
        flavor: String,
        /// The operation.
        operation: &'static str,
        /// The trap, as wasmtime describes it.
        reason: String,
    },
}

impl FlavorError {
    /// Whether the request itself was at fault, rather than the operation.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, FlavorError::Invalid(_))
    }
}

/// A flavor's own error: its message is untrusted text, passed on escaped
/// and capped.
impl From<types::Error> for FlavorError {
    fn from(error: types::Error) -> Self {
        match error {
            types::Error::NotFound(m) => FlavorError::NotFound(message(m)),
            types::Error::AlreadyExists(m) => FlavorError::AlreadyExists(message(m)),
            types::Error::Invalid(m) => FlavorError::Invalid(message(m)),
            types::Error::Denied(m) => FlavorError::Denied(message(m)),
            types::Error::Backend(m) => FlavorError::Backend(message(m)),
        }
    }
}

/// `bytes` in the largest whole unit: `64 KiB`, `16 MiB`.
fn size_text(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Why a file cannot be loaded as a flavor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Not WebAssembly at all.
    #[error(
        "it is not a WebAssembly file (it does not start with `\\0asm`): \
         build the flavor for wasm32-wasip2"
    )]
    NotWasm,
    /// A core module, not a component.
    #[error(
        "it is a core WebAssembly module, not a component: build it for wasm32-wasip2, or \
         wrap it with WASI's preview1 adapter: `jco new core.wasm --wasi-reactor -o \
         flavor.wasm`, or `wasm-tools component new core.wasm --adapt \
         wasi_snapshot_preview1=wasi_snapshot_preview1.reactor.wasm -o flavor.wasm` (the \
         adapter is in the crate wasi-preview1-component-adapter-provider; see \
         docs/writing-a-flavor.md in secman's repository)"
    )]
    CoreModule,
    /// Its shape would cost the host more memory than a flavor may.
    #[error("it is too big to load: {0}")]
    TooBig(String),
    /// The binary does not validate or compile.
    #[error("it is not a valid WebAssembly component: {0}")]
    Invalid(String),
    /// The component is not a flavor.
    #[error(
        "it does not export `{expected}` (it exports: {found}): build it against \
         secman's wit/ folder, world `secman:flavor/flavor` (flavors built against \
         0.1.0 also run)"
    )]
    NotAFlavor {
        /// The export every flavor has.
        expected: &'static str,
        /// What it exports instead.
        found: String,
    },
    /// The component needs something the host does not give flavors.
    #[error("it imports something secman does not provide to flavors: {0}")]
    UnsupportedImport(String),
    /// `info` failed or described something the host cannot use.
    #[error("its flavor-info is unusable: {0}")]
    BadInfo(String),
}
