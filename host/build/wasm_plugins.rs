//! Builds plugin crates of this workspace as wasm32-wasip2 components.
//!
//! Shared by the build scripts that embed the built-in flavors
//! (`host/build.rs`) and that build the test flavors
//! (`tests/plugins/build.rs`). The plugins get their own target folder,
//! `target/plugins`, shared by every profile of the host, so `cargo build`,
//! `cargo test` and `cargo clippy` compile each plugin once.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
/// A release profile for small components (see the workspace's Cargo.toml).
const PROFILE: &str = "plugin";

/// Builds `crates` (package names) for wasm32-wasip2 and returns the folder
/// holding their `.wasm` files. `root` is the workspace's root.
pub fn build(root: &Path, crates: &[&str]) -> PathBuf {
    for path in ["wit", "plugins", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    ensure_wasm_target();
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("plugins");
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
        .arg(&target_dir);
    for krate in crates {
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
        .unwrap_or_else(|e| panic!("cannot run cargo to build {crates:?}: {e}"));
    assert!(
        status.success(),
        "building {crates:?} for {TARGET} failed (see the errors above)"
    );
    target_dir.join(TARGET).join(PROFILE)
}

/// The file cargo writes for the cdylib `krate`.
pub fn wasm_file(dir: &Path, krate: &str) -> PathBuf {
    dir.join(format!("{}.wasm", krate.replace('-', "_")))
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
