//! The flavors compiled into the binary by `build.rs`.
//!
//! Built-in flavors are plugins like any other, compiled from `plugins/`
//! against the same WIT. They differ in two ways: their bytes are part of
//! this binary (so no file can change under them), and their grants are
//! pre-approved: they get what they ask for.

/// One built-in flavor component.
#[derive(Debug)]
pub struct EmbeddedFlavor {
    /// The flavor's name.
    pub name: &'static str,
    /// The sha256 of `wasm`, computed at build time.
    pub sha256: &'static str,
    /// The component.
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtin_flavors.rs"));

/// The built-in flavor called `name`.
pub fn find(name: &str) -> Option<&'static EmbeddedFlavor> {
    BUILTIN_FLAVORS.iter().find(|f| f.name == name)
}
