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

/// Other names of built-in flavors: the names ZenML once gave them.
const ALIASES: &[(&str, &str)] = &[("gcp_secrets_manager", "gcp")];

/// The built-in flavor called `name`, or known by that other name.
pub fn find(name: &str) -> Option<&'static EmbeddedFlavor> {
    let name = canonical(name);
    BUILTIN_FLAVORS.iter().find(|f| f.name == name)
}

/// The name of the built-in flavor that `name` is another name of, or
/// `name` itself.
pub fn canonical(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, builtin)| builtin)
}
