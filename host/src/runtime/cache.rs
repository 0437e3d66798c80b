//! Compiled components on disk, so a flavor is compiled once.
//!
//! A cache entry is keyed by the component's sha256 and the engine's
//! compatibility hash (wasmtime version, compiler settings, CPU features):
//! `<cache>/<engine>/<sha256>.cwasm`. An entry is native code that wasmtime
//! cannot validate, so the host runs only entries it can vouch for:
//!
//! - the cache folder must be private (see [`check_private_dir`]), and it
//!   is never mounted into a sandbox;
//! - when the host writes an entry it records, in its state folder (apart
//!   from the cache), the entry's sha256 and the file's identity: device,
//!   inode, size, modification and change times. The change time is set by
//!   the kernel on every write and cannot be set back by a process, so an
//!   entry whose identity still matches is the one that was written;
//! - an entry whose identity changed is hashed in full and used only if it
//!   still has the recorded sha256; any other entry (patched, planted, or
//!   written for another home) is compiled again and replaced.

use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::Result;
use wasmtime::Engine;
use wasmtime::component::Component;

use sha2::{Digest, Sha256};

use super::FlavorInfo;
use crate::fileid::{Identity, Record};
use crate::home::{
    Home, check_private_dir, check_private_subdir, create_private_dir, write_atomic,
};

/// The compiled-component cache of one engine.
pub struct CompileCache {
    dir: PathBuf,
    records: PathBuf,
}

/// The lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl CompileCache {
    /// The cache for `engine` in `home`'s cache folder, which is created
    /// private and refused if it is not.
    pub fn new(home: &Home, engine: &Engine) -> Result<CompileCache> {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let key = format!("{:016x}", hasher.finish());
        let dir = home.cache_dir().join(&key);
        create_private_dir(&dir)?;
        check_private_dir(home.cache_dir(), "compile cache")?;
        check_private_subdir(&dir, "compile cache")?;
        Ok(CompileCache {
            dir,
            records: home.compile_records_dir().join(key),
        })
    }

    /// Compiles the component whose bytes are `wasm` (with digest
    /// `sha256`) and stores it for [`CompileCache::load`].
    pub fn compile(&self, engine: &Engine, wasm: &[u8], sha256: &str) -> Result<Component> {
        let compiled = engine.precompile_component(wasm)?;
        // A cache that cannot be written only costs speed.
        let _ = self.store(sha256, &compiled);
        // SAFETY: the bytes were produced by this engine just now.
        let component = unsafe { Component::deserialize(engine, &compiled) }?;
        Ok(component)
    }

    /// The cached component whose digest is `sha256`, if there is an entry
    /// this host can vouch for.
    pub fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let record = Record::parse(&fs::read_to_string(self.record(sha256)).ok()?)?;
        let entry = self.entry(sha256);
        let mut file = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&entry)
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        if Identity::of(&meta) == record.identity {
            // The very file whose identity was checked, through its open
            // descriptor: the path could name another file by now. (By
            // path only where there is no /proc.)
            let by_fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
            let path = if by_fd.exists() { by_fd } else { entry };
            // SAFETY: this is the file the host wrote from
            // `precompile_component` of an engine with the same
            // compatibility hash (its identity, change time included, is
            // the recorded one), in a folder only this user can write to.
            return unsafe { Component::deserialize_file(engine, &path) }.ok();
        }
        // Copied, restored or touched: trust the bytes, not the file.
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut bytes).ok()?;
        if sha256_hex(&bytes) != record.sha256 {
            return None;
        }
        // SAFETY: these bytes hash to what this host's engine produced.
        let component = unsafe { Component::deserialize(engine, &bytes) }.ok()?;
        let record = Record {
            identity: Identity::of(&meta),
            ..record
        };
        let _ = write_atomic(&self.record(sha256), record.render().as_bytes());
        Some(component)
    }

    /// Writes an entry and records what it is.
    fn store(&self, sha256: &str, compiled: &[u8]) -> Result<()> {
        let entry = self.entry(sha256);
        write_atomic(&entry, compiled)?;
        let record = Record {
            sha256: sha256_hex(compiled),
            identity: Identity::of(&fs::symlink_metadata(&entry)?),
        };
        write_atomic(&self.record(sha256), record.render().as_bytes())
    }

    /// What the component `sha256` said about itself when it was last
    /// asked, if it was recorded.
    pub fn info(&self, sha256: &str) -> Option<FlavorInfo> {
        serde_json::from_slice(&fs::read(self.info_record(sha256)).ok()?).ok()
    }

    /// Records what the component `sha256` says about itself, beside the
    /// record of its compiled code: a later command need not instantiate
    /// it only to ask.
    pub fn store_info(&self, sha256: &str, info: &FlavorInfo) {
        // Only speed is lost if it cannot be written.
        if let Ok(json) = serde_json::to_vec(info) {
            let _ = write_atomic(&self.info_record(sha256), &json);
        }
    }

    fn info_record(&self, sha256: &str) -> PathBuf {
        self.records.join(format!("{sha256}.info.json"))
    }

    fn entry(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.cwasm"))
    }

    fn record(&self, sha256: &str) -> PathBuf {
        self.records.join(sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Home, Engine) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().join("state"), dir.path().join("cache"));
        let engine = super::super::engine::new_engine().unwrap();
        (dir, home, engine)
    }

    fn entries(cache: &CompileCache) -> Vec<PathBuf> {
        fs::read_dir(&cache.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    #[test]
    fn an_entry_is_reused_only_while_it_is_the_one_written() {
        let (_dir, home, engine) = setup();
        let wasm = crate::builtin::BUILTIN_FLAVORS[0].wasm;
        let sha = sha256_hex(wasm);
        let cache = CompileCache::new(&home, &engine).unwrap();
        cache.compile(&engine, wasm, &sha).unwrap();
        let entry = cache.entry(&sha);
        assert_eq!(entries(&cache), vec![entry.clone()]);
        assert!(cache.load(&engine, &sha).is_some());

        // Rewritten with the same bytes: hashed again and still good.
        let bytes = fs::read(&entry).unwrap();
        fs::write(&entry, &bytes).unwrap();
        assert!(cache.load(&engine, &sha).is_some());

        // Patched: refused, then compiled again and replaced.
        let mut patched = bytes.clone();
        let middle = patched.len() / 2;
        patched[middle] ^= 0xff;
        fs::write(&entry, &patched).unwrap();
        assert!(cache.load(&engine, &sha).is_none());
        cache.compile(&engine, wasm, &sha).unwrap();
        assert_eq!(fs::read(&entry).unwrap(), bytes);

        // An entry nobody recorded (planted, or from another home): refused.
        let other = CompileCache::new(
            &Home::new(
                home.compile_records_dir().join("other"),
                home.cache_dir().into(),
            ),
            &engine,
        )
        .unwrap();
        assert!(other.load(&engine, &sha).is_none());
    }

    #[test]
    fn what_a_component_said_is_kept_beside_its_record() {
        let (_dir, home, engine) = setup();
        let cache = CompileCache::new(&home, &engine).unwrap();
        let sha = "ab".repeat(32);
        assert_eq!(cache.info(&sha), None);
        let info = FlavorInfo {
            name: "local".into(),
            version: "1.2.3".into(),
            description: "a store".into(),
            ..FlavorInfo::default()
        };
        cache.store_info(&sha, &info);
        assert_eq!(cache.info(&sha), Some(info));
        assert_eq!(cache.info(&"cd".repeat(32)), None);
        fs::write(cache.info_record(&sha), "{\"name\": 1").unwrap();
        assert_eq!(cache.info(&sha), None);
    }

    #[test]
    fn a_cache_folder_others_can_write_to_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, home, engine) = setup();
        CompileCache::new(&home, &engine).unwrap();
        fs::set_permissions(home.cache_dir(), fs::Permissions::from_mode(0o777)).unwrap();
        let err = CompileCache::new(&home, &engine).err().unwrap().to_string();
        assert!(
            err.contains("compile cache") && err.contains("chmod 700"),
            "{err}"
        );
    }

    #[test]
    fn an_engine_folder_others_can_write_to_or_a_link_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, home, engine) = setup();
        let engine_dir = CompileCache::new(&home, &engine).unwrap().dir;
        fs::set_permissions(&engine_dir, fs::Permissions::from_mode(0o777)).unwrap();
        let err = CompileCache::new(&home, &engine).err().unwrap().to_string();
        assert!(
            err.contains("not private") && err.contains("chmod 700"),
            "{err}"
        );

        fs::remove_dir(&engine_dir).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &engine_dir).unwrap();
        let err = CompileCache::new(&home, &engine).err().unwrap().to_string();
        assert!(err.contains("is not a folder"), "{err}");
    }
}
