//! Where secman keeps its state, and how it writes it safely.
//!
//! `SECMAN_HOME` (default: the platform's config folder, e.g.
//! `~/.config/secman`) holds the flavor registry, the managers and the
//! managers' storage folders. Compiled components live apart, in
//! `SECMAN_CACHE_DIR` (default: e.g. `~/.cache/secman`): they can be rebuilt
//! at any time and are shared by every home.
//!
//! Every write is atomic (temp file, fsync, rename) and every change of the
//! host's own files happens under an exclusive lock, so concurrent `secman`
//! processes never lose an update or see half a file.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use sha2::{Digest, Sha256};

/// The folders secman works in.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
    cache: PathBuf,
}

impl Home {
    /// The home named by `SECMAN_HOME` and `SECMAN_CACHE_DIR`, or the
    /// platform's defaults.
    pub fn from_env() -> Result<Home> {
        let root = match std::env::var_os("SECMAN_HOME") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::config_dir()
                .ok_or_else(|| anyhow!("cannot find a config folder: set SECMAN_HOME"))?
                .join("secman"),
        };
        let cache = match std::env::var_os("SECMAN_CACHE_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::cache_dir()
                .map(|d| d.join("secman"))
                .unwrap_or_else(|| root.join("cache")),
        };
        Ok(Home::new(absolute(&root)?, absolute(&cache)?))
    }

    /// A home at explicit folders.
    pub fn new(root: PathBuf, cache: PathBuf) -> Home {
        Home { root, cache }
    }

    /// The folder of compiled components.
    pub fn cache_dir(&self) -> &Path {
        &self.cache
    }

    /// The registry of third-party flavors.
    pub fn flavors_file(&self) -> PathBuf {
        self.root.join("flavors.yaml")
    }

    /// The configured managers and the active one.
    pub fn managers_file(&self) -> PathBuf {
        self.root.join("managers.yaml")
    }

    /// The storage folder a manager gets when its flavor asks for one.
    pub fn storage_dir(&self, manager_uuid: &str) -> PathBuf {
        self.root.join("stores").join(manager_uuid)
    }

    /// Takes the lock that serialises changes to the host's own files.
    pub fn lock_state(&self) -> Result<FileLock> {
        create_private_dir(&self.root)?;
        FileLock::acquire(&self.root.join(".lock"), LockMode::Exclusive)
    }

    /// Takes the lock that serialises flavor calls sharing a storage folder.
    ///
    /// Lock files live in the home, not in the storage folder: the folder
    /// may be a user's (a ZenML store), and a flavor must not reach its lock.
    pub fn lock_storage(&self, storage: &Path, mode: LockMode) -> Result<FileLock> {
        let locks = self.root.join("locks");
        create_private_dir(&locks)?;
        let digest = Sha256::digest(storage.as_os_str().as_encoded_bytes());
        let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        FileLock::acquire(&locks.join(format!("{name}.lock")), mode)
    }
}

/// Whether a lock excludes everyone or only writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Readers share the lock with each other.
    Shared,
    /// A writer holds it alone.
    Exclusive,
}

/// An advisory lock on a file, released when dropped or when the process
/// dies (so a killed `secman` never leaves a stale lock).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Blocks until the lock on `path` is held in `mode`.
    pub fn acquire(path: &Path, mode: LockMode) -> Result<FileLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        match mode {
            LockMode::Shared => file.lock_shared(),
            LockMode::Exclusive => file.lock(),
        }
        .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(FileLock { _file: file })
    }
}

/// Creates `dir` and its parents, readable by the owner only.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))
}

/// Replaces `path` with `contents` atomically, readable by the owner only:
/// a reader sees the old file or the new one, never a mix, even if this
/// process is killed halfway.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent folder", path.display()))?;
    create_private_dir(dir)?;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename is durable once the folder itself is synced.
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Reads `path`, or `None` if it does not exist.
pub fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// `path` made absolute against the current folder, without touching disk.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve path {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("state.yaml");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["state.yaml"]);
    }

    #[test]
    fn storage_locks_of_different_folders_do_not_block_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().into(), dir.path().join("cache"));
        let _a = home
            .lock_storage(Path::new("/a"), LockMode::Exclusive)
            .unwrap();
        let _b = home
            .lock_storage(Path::new("/b"), LockMode::Exclusive)
            .unwrap();
    }
}
