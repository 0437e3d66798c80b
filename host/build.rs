//! Compiles the built-in flavors (`plugins/*` except the SDK) to
//! `wasm32-wasip2` components and embeds them in the `secman` binary.
//!
//! The plugins are built by a nested `cargo build` with its own target
//! folder (`target/plugins`), shared by every profile of the host so that
//! `cargo build`, `cargo test` and `cargo clippy` compile them once.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// The built-in flavors: (flavor name, crate name).
const BUILTINS: &[(&str, &str)] = &[("local", "secman-flavor-local")];

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("plugins");

    for path in ["wit", "plugins", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }

    ensure_wasm_target();
    build_plugins(&root, &target_dir);

    let mut generated = String::from("/// The built-in flavors, compiled from `plugins/`.\n");
    generated += "pub const BUILTIN_FLAVORS: &[EmbeddedFlavor] = &[\n";
    for (name, krate) in BUILTINS {
        let wasm = target_dir
            .join(TARGET)
            .join(PROFILE)
            .join(format!("{}.wasm", krate.replace('-', "_")));
        let bytes = fs::read(&wasm)
            .unwrap_or_else(|e| panic!("built-in flavor {name} was not built at {wasm:?}: {e}"));
        let embedded = out_dir.join(format!("{name}.wasm"));
        fs::write(&embedded, &bytes).unwrap();
        let sha256 = hex(&Sha256::digest(&bytes));
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

/// Builds every built-in plugin crate for wasm32-wasip2 in one cargo call.
fn build_plugins(root: &Path, target_dir: &Path) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--locked",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
        ])
        .arg("--target-dir")
        .arg(target_dir);
    for (_, krate) in BUILTINS {
        cmd.args(["--package", krate]);
    }
    // The outer build's settings are for the host, not for wasm: clippy's
    // wrapper, host rustflags and the outer target folder must not leak in.
    for var in [
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the built-in flavors: {e}"));
    assert!(
        status.success(),
        "building the built-in flavors for {TARGET} failed (see the errors above)"
    );
}

/// rustup reads `targets` in rust-toolchain.toml only when it installs the
/// toolchain; add the wasm target here so a fresh machine needs no extra step.
fn ensure_wasm_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = &sysroot
        && sysroot.join("lib/rustlib").join(TARGET).exists()
    {
        return;
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", TARGET]);
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        rustup.arg("--toolchain").arg(toolchain);
    }
    let added = rustup.status().map(|s| s.success()).unwrap_or(false);
    assert!(
        added,
        "the Rust target {TARGET} is missing and `rustup target add {TARGET}` failed: \
         install it by hand, then build again"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
