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
//!
//! Both folders are the host's alone: they are created private, refused if
//! anyone else could write to them (as ssh refuses a key file), and never
//! mounted into a sandbox, whole or in part ([`Home::check_storage_folder`]).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, anyhow, bail};
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

    /// The folders secman keeps its own state and cache in.
    pub fn own_folders(&self) -> Vec<PathBuf> {
        vec![self.root.clone(), self.cache.clone()]
    }

    /// The folder of compiled components.
    pub fn cache_dir(&self) -> &Path {
        &self.cache
    }

    /// Where secman records that a registered flavor's file still has the
    /// digest it was registered with (see [`crate::fileid`]).
    pub fn verified_dir(&self) -> PathBuf {
        self.root.join("verified")
    }

    /// Where the digests of compiled components are recorded: in the
    /// state, apart from the cache they vouch for.
    pub fn compile_records_dir(&self) -> PathBuf {
        self.root.join("compiled")
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
    ///
    /// The lock is re-entrant within the process: code that holds it may
    /// call code that takes it (reading `managers.yaml` for the first time
    /// creates it under the lock), where a second `flock` on another open
    /// file would wait for itself forever.
    pub fn lock_state(&self) -> Result<FileLock> {
        if STATE_LOCKS.fetch_add(1, Ordering::SeqCst) > 0 {
            return Ok(FileLock {
                _file: None,
                state: true,
                exclusive: None,
            });
        }
        let acquired = create_private_dir(&self.root)
            .and_then(|()| check_private_dir(&self.root, "state folder (SECMAN_HOME)"))
            .and_then(|()| FileLock::acquire(&self.root.join(".lock"), LockMode::Exclusive));
        match acquired {
            Ok(mut lock) => {
                lock.state = true;
                Ok(lock)
            }
            Err(error) => {
                STATE_LOCKS.fetch_sub(1, Ordering::SeqCst);
                Err(error)
            }
        }
    }

    /// Takes the lock that serialises flavor calls sharing a storage folder.
    ///
    /// Lock files live in the home, not in the storage folder: the folder
    /// may be a user's (a ZenML store), and a flavor must not reach its lock.
    ///
    /// A folder this process already holds exclusively is granted again at
    /// once (two managers of one folder in one command, such as `secret
    /// copy`, which takes its destination's lock first); the first hold
    /// must outlive the others.
    pub fn lock_storage(&self, storage: &Path, mode: LockMode) -> Result<FileLock> {
        let locks = self.root.join("locks");
        create_private_dir(&locks)?;
        let digest = Sha256::digest(storage.as_os_str().as_encoded_bytes());
        let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let path = locks.join(format!("{name}.lock"));
        let mut held = EXCLUSIVE.lock().unwrap_or_else(|e| e.into_inner());
        if held.contains(&path) {
            return Ok(FileLock {
                _file: None,
                state: false,
                exclusive: None,
            });
        }
        let mut lock = FileLock::acquire(&path, mode)?;
        if mode == LockMode::Exclusive {
            held.push(path.clone());
            lock.exclusive = Some(path);
        }
        Ok(lock)
    }

    /// Opens `folder` as the storage of a manager whose own storage folder
    /// is `own`, after checking that it may be mounted read-write into a
    /// sandbox: before anything is created, and again on the folder that
    /// was actually opened, which is then what the sandbox mounts (through
    /// `/proc/self/fd`), whatever happens to its path in between.
    ///
    /// A flavor gets the whole folder, so it must not be the root folder,
    /// the user's home or a folder holding it, a folder others can write
    /// to, or a folder that is, holds or lies inside secman's state or
    /// cache: there a flavor could rewrite its own grants, read other
    /// managers' stores, or plant native code. The manager's own folder,
    /// inside the state, is the one exception. Nor may it lie inside or
    /// hold a folder named by another manager (`others`, by manager): a
    /// flavor could plant a link there that turns the other manager's
    /// path into anything.
    pub fn open_storage_folder(
        &self,
        folder: &Path,
        own: &Path,
        others: &[(String, PathBuf)],
    ) -> Result<StorageFolder, String> {
        self.check_storage_folder(folder, own, others)?;
        create_private_dir(folder).map_err(|e| format!("{e:#}"))?;
        let expected = real_path(folder);
        let dir = File::open(folder)
            .map_err(|e| format!("cannot open storage folder {}: {e}", folder.display()))?;
        let by_fd = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
        match fs::read_link(&by_fd) {
            Ok(opened) => {
                if opened != expected {
                    return Err(format!(
                        "storage folder {} changed while secman opened it (it led to {}); \
                         nothing was mounted: check what replaced it",
                        folder.display(),
                        opened.display()
                    ));
                }
                Ok(StorageFolder {
                    _dir: dir,
                    mount: by_fd,
                    real: opened,
                })
            }
            // No /proc: the folder by its resolved path.
            Err(_) => {
                let real = real_path(folder);
                Ok(StorageFolder {
                    _dir: dir,
                    mount: real.clone(),
                    real,
                })
            }
        }
    }

    /// Checks that `folder` may be a storage folder (see
    /// [`Home::open_storage_folder`]), as typed and with symbolic links
    /// resolved as far as it exists.
    pub fn check_storage_folder(
        &self,
        folder: &Path,
        own: &Path,
        others: &[(String, PathBuf)],
    ) -> Result<(), String> {
        // `..` after a link leads out of the link's target: the kernel and
        // a reading by name would disagree on where the folder is.
        if folder.components().any(|c| c == Component::ParentDir) {
            return Err(format!(
                "folder {} cannot be a storage folder: give its path without `..`",
                folder.display()
            ));
        }
        let typed = lexical(folder);
        if typed == lexical(own) {
            return Ok(());
        }
        let real = real_path(folder);
        if real == real_path(own) {
            return Ok(());
        }
        let refuse = |why: String| {
            let example = dirs::home_dir()
                .unwrap_or_else(|| PathBuf::from("/srv"))
                .join("secman-stores/NAME/secrets.yaml");
            Err(format!(
                "folder {} cannot be a storage folder: {why}. A flavor gets read-write access to \
                 the whole folder of its store, so keep the store in a folder of its own, e.g. \
                 {}",
                folder.display(),
                example.display()
            ))
        };
        if real.parent().is_none() {
            return refuse("it is the root folder".into());
        }
        if let Some(home) = dirs::home_dir().map(|h| real_path(&h))
            && home.starts_with(&real)
        {
            return refuse(format!(
                "it is, or holds, your home folder {}",
                home.display()
            ));
        }
        for (what, protected) in [
            ("state folder (SECMAN_HOME)", &self.root),
            ("compile cache", &self.cache),
        ] {
            let protected = real_path(protected);
            if real.starts_with(&protected) || protected.starts_with(&real) {
                return refuse(format!(
                    "it is, holds or lies inside secman's {what} {}",
                    protected.display()
                ));
            }
        }
        for (manager, other) in others {
            let nested = |a: &Path, b: &Path| a != b && (a.starts_with(b) || b.starts_with(a));
            if nested(&typed, &lexical(other)) || nested(&real, &real_path(other)) {
                return refuse(format!(
                    "it holds, or lies inside, folder {} of manager `{manager}`",
                    other.display()
                ));
            }
        }
        if let Ok(meta) = fs::metadata(&real)
            && meta.mode() & 0o002 != 0
        {
            return refuse("every user of this machine can write to it".into());
        }
        Ok(())
    }
}

/// A storage folder, checked and held open for its sandbox.
#[derive(Debug)]
pub struct StorageFolder {
    /// Keeps the checked folder open, so that `mount` names it.
    _dir: File,
    /// The path to mount: the open folder itself where the system can name
    /// it (`/proc/self/fd/N`), or its resolved path.
    pub mount: PathBuf,
    /// The folder's resolved path, e.g. to lock it.
    pub real: PathBuf,
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
    /// The locked file; none for a nested hold of the state lock.
    _file: Option<File>,
    /// Whether this is (a hold of) the state lock.
    state: bool,
    /// The storage lock file this holds exclusively.
    exclusive: Option<PathBuf>,
}

/// How many holds of the state lock this process has.
static STATE_LOCKS: AtomicUsize = AtomicUsize::new(0);
/// The storage lock files this process holds exclusively.
static EXCLUSIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

impl Drop for FileLock {
    fn drop(&mut self) {
        if self.state {
            STATE_LOCKS.fetch_sub(1, Ordering::SeqCst);
        }
        if let Some(path) = self.exclusive.take() {
            EXCLUSIVE
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|held| *held != path);
        }
    }
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
        Ok(FileLock {
            _file: Some(file),
            state: false,
            exclusive: None,
        })
    }
}

/// Creates `dir` and its parents, readable by the owner only.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    // Most often it is there already: one `stat`, not a failed `mkdir` and
    // a `stat`.
    if fs::metadata(dir).is_ok_and(|meta| meta.is_dir()) {
        return Ok(());
    }
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

/// Checks that `dir`, a folder secman keeps to itself, is still private:
/// owned by this user and writable by nobody else, under parents that no
/// other user could swap it out of (owned by this user or root, and not
/// writable by everyone unless sticky, like /tmp). This is how ssh judges
/// a key file, and what keeps another user from planting a compiled
/// component, which is native code.
pub fn check_private_dir(dir: &Path, what: &str) -> Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let real = dir
        .canonicalize()
        .with_context(|| format!("cannot open secman's {what} {}", dir.display()))?;
    let meta = fs::metadata(&real)
        .with_context(|| format!("cannot open secman's {what} {}", real.display()))?;
    refuse_unless_private(&real, &meta, what)?;
    for parent in real.ancestors().skip(1) {
        let meta = fs::metadata(parent)
            .with_context(|| format!("cannot check folder {}", parent.display()))?;
        let sticky = meta.mode() & 0o1000 != 0;
        if (meta.uid() != me && meta.uid() != 0) || (meta.mode() & 0o002 != 0 && !sticky) {
            bail!(
                "secman's {what} {} lies inside {}, which another user could change (owner uid \
                 {}, mode {:o}): point secman at a folder whose parents belong to you or root",
                real.display(),
                parent.display(),
                meta.uid(),
                meta.mode() & 0o7777
            );
        }
    }
    Ok(())
}

/// Checks that `dir`, a folder inside a folder that [`check_private_dir`]
/// accepted, is private too, and is a folder there rather than a link to
/// one elsewhere: that is all the outer check leaves to check, without
/// resolving and walking the same path again.
pub fn check_private_subdir(dir: &Path, what: &str) -> Result<()> {
    let meta = fs::symlink_metadata(dir)
        .with_context(|| format!("cannot open secman's {what} {}", dir.display()))?;
    if !meta.is_dir() {
        bail!(
            "secman's {what} {} is not a folder (a link, or a file): remove it and secman \
             creates it again",
            dir.display()
        );
    }
    refuse_unless_private(dir, &meta, what)
}

/// Refuses `dir` unless it is owned by this user and writable by no one
/// else.
fn refuse_unless_private(dir: &Path, meta: &fs::Metadata, what: &str) -> Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me || meta.mode() & 0o022 != 0 {
        bail!(
            "secman's {what} {} is not private (owner uid {}, mode {:o}): anyone who can write \
             to it could change what secman runs. Make it yours alone with `chmod 700 {}` (and \
             `chown` it if needed), or point secman at another folder",
            dir.display(),
            meta.uid(),
            meta.mode() & 0o7777,
            dir.display()
        );
    }
    Ok(())
}

/// `path` with `.` and `..` resolved by name, as typed.
fn lexical(path: &Path) -> PathBuf {
    let mut lexical = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    lexical
}

/// `path` with symbolic links resolved as far as it exists, and `.` and
/// `..` resolved by name in the part that does not exist yet.
fn real_path(path: &Path) -> PathBuf {
    let lexical = lexical(path);
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |path, name| path.join(name));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return lexical,
        }
    }
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
    use std::os::unix::fs::PermissionsExt;

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
    fn storage_folders_never_hold_secman_state_the_home_or_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let home = Home::new(base.join("state"), base.join("cache"));
        let own = home.storage_dir("uuid-1");
        fs::create_dir_all(&own).unwrap();
        let others = [("team".to_string(), base.join("shared/team"))];
        let check = |folder: &Path| home.check_storage_folder(folder, &own, &others);
        assert_eq!(check(&own), Ok(()));
        assert!(check(&base.join("stores-elsewhere/team")).is_ok());
        assert!(
            check(&base.join("shared/team")).is_ok(),
            "the same folder is shared"
        );
        for refused in [
            PathBuf::from("/"),
            base.clone(),
            base.join("state"),
            home.storage_dir("uuid-2"),
            base.join("state/stores"),
            base.join("cache/0123"),
            base.join("team/../state"),
            base.join("mine/../elsewhere"),
            base.join("shared/team/inner"),
            base.join("shared"),
        ] {
            let err = check(&refused).unwrap_err();
            assert!(
                err.contains("cannot be a storage folder"),
                "{refused:?}: {err}"
            );
        }
        if let Some(user_home) = dirs::home_dir() {
            assert!(check(&user_home).is_err());
        }
        // A link to a refused folder is refused too, and a link planted in
        // another manager's folder cannot lead anywhere.
        std::os::unix::fs::symlink(base.join("state"), base.join("link")).unwrap();
        assert!(check(&base.join("link")).is_err());
        fs::create_dir_all(base.join("shared/team")).unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere"), base.join("shared/team/b")).unwrap();
        assert!(check(&base.join("shared/team/b")).is_err());

        // What is opened is what was checked, and what is mounted.
        let opened = home
            .open_storage_folder(&base.join("mine"), &own, &others)
            .unwrap();
        assert_eq!(opened.real, base.join("mine"));
        assert_eq!(fs::canonicalize(&opened.mount).unwrap(), base.join("mine"));
        // So is a folder everyone can write to.
        let open = base.join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(check(&open).unwrap_err().contains("every user"));
    }

    #[test]
    fn a_private_folder_passes_and_an_open_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private");
        create_private_dir(&private).unwrap();
        check_private_dir(&private, "cache").unwrap();
        fs::set_permissions(&private, fs::Permissions::from_mode(0o777)).unwrap();
        let err = check_private_dir(&private, "cache")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not private") && err.contains("chmod 700"),
            "{err}"
        );
        fs::set_permissions(&private, fs::Permissions::from_mode(0o720)).unwrap();
        assert!(check_private_dir(&private, "cache").is_err());
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
