//! Private copies that no exit leaves behind.
//!
//! A granted file reaches a flavor as a copy in a private folder (see
//! `files`). A flavor can end secman in ways that skip destructors: a call
//! blocked past its deadline (the watchdog's `_exit`), a host heap past its
//! budget (the allocator's `_exit`), and a signal such as Ctrl-C. Each of
//! those removes the copies first, here: every file and folder made is
//! recorded in a fixed table of C strings, and [`remove_all_now`] unlinks
//! them without allocating or locking, so a signal handler may call it.
//! A `SIGKILL` leaves no chance, so the next command (any command) removes
//! any folder of a secman process that no longer runs.

use std::ffi::{CString, c_char};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Files and folders one command may have made at once: two sandboxes
/// (`secret copy`) of 16 files in up to 16 folders, with room to spare.
const SLOTS: usize = 128;

static PATHS: [AtomicPtr<c_char>; SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

/// What the folders of copies are called: `secman-files-<pid>-<random>`.
const PREFIX: &str = "secman-files-";

/// The slots of one set of copies, removed when dropped.
#[derive(Debug, Default)]
pub struct Copies {
    slots: Vec<usize>,
}

impl Copies {
    /// A new private folder (0700) for copies in `parent`, first removing
    /// any that secman processes no longer running left there. Its name is
    /// recorded before the folder is made, so that a signal between the
    /// two leaves nothing.
    pub fn new_folder(parent: &Path) -> io::Result<(Copies, PathBuf)> {
        sweep(parent);
        install_signal_handlers();
        let mut copies = Copies::default();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..64u32 {
            let name = format!(
                "{PREFIX}{}-{:08x}",
                std::process::id(),
                nanos.wrapping_mul(2_654_435_761).wrapping_add(attempt)
            );
            let folder = parent.join(name);
            copies.track(&folder)?;
            match std::fs::DirBuilder::new().mode(0o700).create(&folder) {
                Ok(()) => return Ok((copies, folder)),
                // Someone else's: never ours to remove.
                Err(e) => {
                    copies.forget_last();
                    if e.kind() != io::ErrorKind::AlreadyExists {
                        return Err(e);
                    }
                }
            }
        }
        Err(io::Error::other("no free name for a private folder"))
    }

    /// Forgets the path recorded last, which this process did not make.
    fn forget_last(&mut self) {
        if let Some(slot) = self.slots.pop() {
            let raw = PATHS[slot].swap(std::ptr::null_mut(), Ordering::AcqRel);
            if !raw.is_null() {
                // SAFETY: `raw` came from `CString::into_raw` in `track`.
                drop(unsafe { CString::from_raw(raw) });
            }
        }
    }

    /// Records `path`, a file or folder about to be made, to be removed
    /// with the rest (in the reverse order: what a folder holds first).
    /// Recorded first, so that no signal finds it made and not recorded.
    pub fn track(&mut self, path: &Path) -> io::Result<()> {
        let text = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
        let raw = text.into_raw();
        for (slot, entry) in PATHS.iter().enumerate() {
            if entry
                .compare_exchange(
                    std::ptr::null_mut(),
                    raw,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                self.slots.push(slot);
                return Ok(());
            }
        }
        // SAFETY: `raw` came from `into_raw` above and was not stored.
        drop(unsafe { CString::from_raw(raw) });
        Err(io::Error::other("too many copies of granted files at once"))
    }
}

impl Drop for Copies {
    fn drop(&mut self) {
        for &slot in self.slots.iter().rev() {
            let raw = PATHS[slot].swap(std::ptr::null_mut(), Ordering::AcqRel);
            if !raw.is_null() {
                remove(raw);
                // SAFETY: `raw` came from `CString::into_raw` in `track`, and
                // was taken out of its slot here alone.
                drop(unsafe { CString::from_raw(raw) });
            }
        }
    }
}

/// Removes every copy recorded, now. Async-signal-safe: it allocates
/// nothing and takes no lock. Files go first, then folders, innermost
/// first (a copy is at most two folders deep); the strings are left to
/// the process's end.
pub fn remove_all_now() {
    for _pass in 0..3 {
        for entry in &PATHS {
            let raw = entry.load(Ordering::Acquire);
            if !raw.is_null() && remove(raw) {
                entry.store(std::ptr::null_mut(), Ordering::Release);
            }
        }
    }
}

/// Unlinks the file or empty folder at `raw`; whether it is gone.
fn remove(raw: *const c_char) -> bool {
    // SAFETY: `raw` is a NUL-terminated path that lives until its slot is
    // emptied; `unlink` and `rmdir` are async-signal-safe.
    unsafe { libc::unlink(raw) == 0 || libc::rmdir(raw) == 0 }
}

/// Removes the copies, then lets the signal do what it would have done.
extern "C" fn on_signal(signal: libc::c_int) {
    remove_all_now();
    // SAFETY: `SA_RESETHAND` made the default action current; the signal is
    // delivered again once this handler returns.
    unsafe {
        libc::raise(signal);
    }
}

/// Catches every signal that ends secman by default and that nothing else
/// in secman handles, so that the copies go first: the terminal's, a
/// supervisor's, resource limits' (`SIGXCPU`, `SIGXFSZ`, which a flavor
/// writing a big file can cause), timers', `abort`'s, and the real-time
/// ones. A signal with a handler already (the clock's, wasmtime's for
/// traps) or ignored (`nohup`'s `SIGHUP`, Rust's `SIGPIPE`) is left as it
/// is. Only `SIGKILL` cannot be caught (see [`sweep`]).
fn install_signal_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let fixed = [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGTRAP,
            libc::SIGABRT,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGPIPE,
            libc::SIGALRM,
            libc::SIGTERM,
            libc::SIGSTKFLT,
            libc::SIGXCPU,
            libc::SIGXFSZ,
            libc::SIGVTALRM,
            libc::SIGPROF,
            libc::SIGIO,
            libc::SIGPWR,
            libc::SIGSYS,
        ];
        for signal in fixed.into_iter().chain(libc::SIGRTMIN()..=libc::SIGRTMAX()) {
            // SAFETY: reads the current action and installs one whose
            // handler is async-signal-safe.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                    || old.sa_sigaction != libc::SIG_DFL
                {
                    continue;
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as usize;
                action.sa_flags = libc::SA_RESETHAND;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}

/// Removes the copies that secman processes no longer running left in the
/// user's runtime folder: run when any command starts, so that what a
/// `SIGKILL` left does not wait for the next command that makes copies
/// (nor outlive a revoked grant). The runtime folder is the user's own and
/// small; the temporary folder, where copies go without one, may hold
/// thousands of entries (reading it cost a warm `secret get` a third more
/// time), so it is swept only when copies are made there.
pub fn sweep_left_copies() {
    if let Some(dir) = dirs::runtime_dir() {
        sweep(&dir);
    }
}

/// Removes the folders of copies in `parent` whose secman process is gone
/// (killed with `SIGKILL`, or by the kernel for memory).
fn sweep(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        let own = entry.metadata().is_ok_and(|m| {
            std::os::unix::fs::MetadataExt::uid(&m) == unsafe { libc::geteuid() } && m.is_dir()
        });
        if gone && own {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_go_when_dropped() {
        let parent = tempfile::tempdir().unwrap();
        let (mut copies, folder) = Copies::new_folder(parent.path()).unwrap();
        std::fs::create_dir(folder.join("0")).unwrap();
        copies.track(&folder.join("0")).unwrap();
        std::fs::write(folder.join("0/key"), "secret").unwrap();
        copies.track(&folder.join("0/key")).unwrap();
        drop(copies);
        assert!(!folder.exists());
    }

    #[test]
    fn folders_of_processes_that_are_gone_are_swept() {
        let parent = tempfile::tempdir().unwrap();
        // No process has a pid this high (pid_max is at most 2^22).
        let stale = parent.path().join(format!("{PREFIX}2147483646-abc"));
        std::fs::create_dir_all(stale.join("0")).unwrap();
        std::fs::write(stale.join("0/credentials"), "left behind").unwrap();
        let mine = parent
            .path()
            .join(format!("{PREFIX}{}-live", std::process::id()));
        std::fs::create_dir(&mine).unwrap();
        let (_copies, _) = Copies::new_folder(parent.path()).unwrap();
        assert!(!stale.exists());
        assert!(mine.exists());
    }
}
