//! What secman changes about its own process, and gives back to a program
//! it `exec`s (`secman run`).
//!
//! secman creates files readable by the user alone: everything it writes,
//! and everything a flavor writes in its storage folder (a store rewritten
//! as a new file renamed over the old stays private). So it runs with
//! umask 077, and remembers the user's, which a child gets back.

use std::sync::atomic::{AtomicU32, Ordering};

/// The umask secman was started with.
static USER_UMASK: AtomicU32 = AtomicU32::new(0o022);

/// Makes every file secman creates private, remembering the user's umask.
pub fn keep_private() {
    // SAFETY: umask only sets the process's file-creation mask.
    let user = unsafe { libc::umask(0o077) };
    USER_UMASK.store(user as u32, Ordering::Relaxed);
}

/// Gives back what secman changed for itself: before it `exec`s another
/// program, which should start as the user's shell would start it.
pub fn restore_for_child() {
    // SAFETY: as above.
    unsafe { libc::umask(USER_UMASK.load(Ordering::Relaxed) as libc::mode_t) };
}
