//! Compiled components on disk, so a flavor is compiled once.
//!
//! A cache entry is keyed by the component's sha256 and the engine's
//! compatibility hash (wasmtime version, compiler settings, CPU features):
//! `<cache>/<engine>/<sha256>.cwasm`. Only the host writes there, and it
//! loads nothing it did not write: wasmtime cannot validate a `.cwasm`, so
//! a cache entry is trusted native code.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::Result;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::home::write_atomic;

/// The compiled-component cache of one engine.
pub struct CompileCache {
    dir: PathBuf,
}

impl CompileCache {
    /// The cache for `engine` under `root`.
    pub fn new(root: &Path, engine: &Engine) -> CompileCache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir: root.join(format!("{:016x}", hasher.finish())),
        }
    }

    /// Loads the component whose bytes are `wasm` (with digest `sha256`),
    /// compiling and storing it on the first use.
    pub fn compile_cached(&self, engine: &Engine, wasm: &[u8], sha256: &str) -> Result<Component> {
        let entry = self.entry(sha256);
        if entry.exists() {
            // SAFETY: the entry was written by `precompile_component` of an
            // engine with the same compatibility hash, in a folder only this
            // user can write to.
            // A truncated or foreign entry is compiled again below.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &entry) } {
                return Ok(component);
            }
        }
        let compiled = engine.precompile_component(wasm)?;
        // A cache that cannot be written only costs speed.
        let _ = write_atomic(&entry, &compiled);
        // SAFETY: the bytes were produced by this engine just now.
        let component = unsafe { Component::deserialize(engine, &compiled) }?;
        Ok(component)
    }

    fn entry(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.cwasm"))
    }
}
