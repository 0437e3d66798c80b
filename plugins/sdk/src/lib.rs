//! Helpers for writing secman flavors in Rust.
//!
//! A flavor is a `cdylib` crate built for `wasm32-wasip2`. It implements
//! [`Flavor`] (what it is) and [`ManagerApi`] (what one configured manager
//! does), then hands its type to [`export!`]:
//!
//! ```ignore
//! use secman_sdk::{Error, Flavor, FlavorInfo, ManagerApi, Manager, Options, Secret};
//!
//! struct Memory;
//! impl Flavor for Memory {
//!     type Manager = MemoryManager;
//!     fn info() -> FlavorInfo { /* name, version, options, capabilities */ }
//! }
//! impl ManagerApi for MemoryManager {
//!     fn open(options: Vec<(String, String)>) -> Result<Manager, Error> { /* ... */ }
//!     /* register_secret, get_secret, ... */
//! }
//! secman_sdk::export!(Memory);
//! ```
//!
//! The types come from the WIT contract in the repository's `wit/` folder,
//! so a flavor written here and one written in Python or C are the same to
//! the host.

// The generated bindings name their runtime `::secman_sdk::wit_bindgen`, so
// that flavors depend on this crate alone.
extern crate self as secman_sdk;
#[doc(hidden)]
pub use wit_bindgen;

wit_bindgen::generate!({
    path: "../../wit",
    world: "flavor",
    pub_export_macro: true,
    export_macro_name: "export",
    default_bindings_module: "secman_sdk",
    runtime_path: "::secman_sdk::wit_bindgen::rt",
});

pub use exports::secman::flavor::secrets_manager::{
    Guest as Flavor, GuestManager as ManagerApi, Manager,
};
pub use secman::flavor::types::{Capabilities, Error, FlavorInfo, OptionKind, OptionSpec, Secret};

mod options;
mod scope;
pub use options::Options;
pub use scope::Scope;

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "json")]
pub mod zenml;

/// Sends messages to the host's log. Never log a secret value.
pub mod log {
    use crate::secman::flavor::log::{Level, log};

    /// A detail useful when debugging the flavor.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }

    /// A step worth knowing about.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Something the user should look at.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }
}

impl Secret {
    /// The value of `key`, if the secret has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl OptionSpec {
    /// A plain option with no default.
    pub fn new(name: &str, description: &str, required: bool) -> Self {
        OptionSpec {
            name: name.into(),
            description: description.into(),
            required,
            default: None,
            sensitive: false,
            kind: OptionKind::Text,
        }
    }

    /// The same option, with `value` used when it is not given.
    pub fn with_default(mut self, value: &str) -> Self {
        self.default = Some(value.into());
        self
    }

    /// The same option, marked as a credential the host must not show.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// The same option, naming a file the host grants the folder of.
    pub fn storage_file(mut self) -> Self {
        self.kind = OptionKind::StorageFile;
        self
    }

    /// The same option, naming a URL the host lets the manager reach.
    pub fn endpoint_url(mut self) -> Self {
        self.kind = OptionKind::EndpointUrl;
        self
    }
}
