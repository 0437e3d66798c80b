//! Builds the test flavors to wasm32-wasip2 and gives the tests their paths.

#[path = "../../host/build/wasm_plugins.rs"]
mod wasm_plugins;

use std::env;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The test flavors: (constant name, crate name).
const PLUGINS: &[(&str, &str)] = &[
    ("HOSTILE", "hostile-flavor"),
    ("UNKNOWN_IMPORT", "unknown-import-flavor"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed={}", manifest_dir.display());
    let root = manifest_dir.parent().unwrap().parent().unwrap();
    let crates: Vec<&str> = PLUGINS.iter().map(|(_, krate)| *krate).collect();
    let dir = wasm_plugins::build(root, &crates);
    let mut generated = String::new();
    for (constant, krate) in PLUGINS {
        let path = wasm_plugins::wasm_file(&dir, krate);
        writeln!(generated, "/// The component of `{krate}`.").unwrap();
        writeln!(
            generated,
            "pub const {constant}: &str = {:?};",
            path.display().to_string()
        )
        .unwrap();
    }
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("plugins.rs"), generated).unwrap();
}
