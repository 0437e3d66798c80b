//! Compiles the built-in flavors (`plugins/*`) to wasm32-wasip2 components
//! and embeds them in the `secman` binary.

#[path = "build/wasm_plugins.rs"]
mod wasm_plugins;

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// The built-in flavors: (flavor name, crate name).
const BUILTINS: &[(&str, &str)] = &[
    ("local", "secman-flavor-local"),
    ("aws", "secman-flavor-aws"),
    ("gcp", "secman-flavor-gcp"),
    ("vault", "secman-flavor-vault"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let crates: Vec<&str> = BUILTINS.iter().map(|(_, krate)| *krate).collect();
    let wasm_dir = wasm_plugins::build(root, &crates);

    let mut generated = String::from("/// The built-in flavors, compiled from `plugins/`.\n");
    generated += "pub const BUILTIN_FLAVORS: &[EmbeddedFlavor] = &[\n";
    for (name, krate) in BUILTINS {
        let wasm = wasm_plugins::wasm_file(&wasm_dir, krate);
        let bytes = fs::read(&wasm)
            .unwrap_or_else(|e| panic!("built-in flavor {name} was not built at {wasm:?}: {e}"));
        let embedded = out_dir.join(format!("{name}.wasm"));
        fs::write(&embedded, &bytes).unwrap();
        let sha256: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        writeln!(
            generated,
            "    EmbeddedFlavor {{ name: {name:?}, sha256: {sha256:?}, \
             wasm: include_bytes!({embedded:?}) }},"
        )
        .unwrap();
    }
    generated += "];\n";
    fs::write(out_dir.join("builtin_flavors.rs"), generated).unwrap();
    // The tests register copies of the built-in components as third-party
    // flavors.
    println!(
        "cargo:rustc-env=SECMAN_BUILTIN_WASM_DIR={}",
        out_dir.display()
    );
}
