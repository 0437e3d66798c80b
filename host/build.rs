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
    link_for_a_quick_start(&manifest_dir);
}

/// Linker flags that make `secman` start sooner, for the target and linker
/// they are known to work with: x86-64 GNU/Linux, linked by rustc's own
/// lld (its default there). A build that names another linker (a
/// `linker` setting, `-C linker...` or `-fuse-ld` in its flags) gets none.
///
/// - Relocations packed as `DT_RELR` (glibc 2.36 and later): the loader
///   reads 10 KB at start instead of 640 KB of `RELA` entries.
/// - The warm path's functions (`hot-symbols.txt`, written by
///   `scripts/hot-symbols.py`) placed first and together, so that they fill
///   a few dozen pages instead of touching pages all over 17 MB of code.
///
/// BENCHMARKS.md gives what each saves.
fn link_for_a_quick_start(manifest_dir: &std::path::Path) {
    let hot = manifest_dir.join("hot-symbols.txt");
    println!("cargo:rerun-if-changed={}", hot.display());
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let rustflags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if env::var("TARGET").unwrap() != "x86_64-unknown-linux-gnu"
        || env::var_os("RUSTC_LINKER").is_some()
        || rustflags.contains("linker")
        || rustflags.contains("fuse-ld")
    {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
        hot.display()
    );
    // A name the list has and this build lacks is skipped without a word.
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
}
