//! The host's heap, counted, so that no flavor makes secman hold more than
//! a fixed budget beside the flavor's own memory.
//!
//! A flavor's linear memory is capped by the store's limiter, but much of
//! what it can ask the host to keep lives on the host's heap: HTTP header
//! maps, request methods and bodies, directory listings, buffered output,
//! the answers it returns. Capping each of those one by one leaves the next
//! one open, so secman counts its whole heap instead. While a call into a
//! flavor runs, the heap may hold at most a budget more than when the
//! flavor's instance was made, so that what it kept from earlier calls
//! counts too; an allocation past it ends secman at once with an error
//! naming the flavor (allocation cannot fail gracefully in Rust, and
//! nothing the flavor started can be trusted to unwind). Each flavor is
//! charged for what it causes: what the heap grew between its calls
//! (another flavor's calls in `secret copy`, the host's own work) is added
//! to its base, so one flavor's memory is never blamed on another.
//! Between calls nothing is watched: compiling a large component may use
//! far more, legitimately.
//!
//! Linear memories are mapped by wasmtime directly, not allocated here, so
//! they are not counted twice.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The allocator of every secman binary and test: the system's, counted.
pub struct CountingAllocator;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Bytes allocated now.
static IN_USE: AtomicUsize = AtomicUsize::new(0);
/// The most that may be allocated while a call runs; `usize::MAX` between
/// calls.
static CEILING: AtomicUsize = AtomicUsize::new(usize::MAX);
/// The error printed when the ceiling is crossed.
static ERROR: Mutex<String> = Mutex::new(String::new());

impl CountingAllocator {
    fn grew(size: usize) {
        let size = chunk(size);
        let now = IN_USE.fetch_add(size, Ordering::Relaxed) + size;
        if now > CEILING.load(Ordering::Relaxed) {
            over_budget();
        }
    }
}

// SAFETY: every method forwards to `System` and only counts sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::grew(layout.size());
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::grew(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        Self::grew(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What an allocation of `size` bytes costs the system's allocator: glibc
/// adds a header and rounds up to 16 bytes, 32 at least. Counting requested
/// bytes alone would let many tiny allocations cost many times their count.
fn chunk(size: usize) -> usize {
    (size.saturating_add(8 + 15) & !15).max(32)
}

/// Ends secman: the heap crossed the running call's ceiling. Nothing here
/// may allocate.
#[cold]
fn over_budget() -> ! {
    CEILING.store(usize::MAX, Ordering::Relaxed);
    const FALLBACK: &str = "secman: error: a flavor made secman hold too much memory\n";
    let error = ERROR.try_lock();
    let line = match &error {
        Ok(line) if !line.is_empty() => line.as_str(),
        _ => FALLBACK,
    };
    // No copy of a granted file outlives secman (this allocates nothing).
    super::scratch::remove_all_now();
    // SAFETY: writes a valid buffer to stderr, then leaves at once.
    unsafe {
        libc::write(2, line.as_ptr().cast(), line.len());
        libc::_exit(1)
    }
}

/// The bytes the heap holds now.
pub fn in_use() -> usize {
    IN_USE.load(Ordering::Relaxed)
}

/// Watches the heap for one call: until the returned guard is dropped, it
/// may hold at most `budget` bytes more than `base` (what it held when the
/// flavor's instance was made, so that what the flavor left from earlier
/// calls counts too), or secman prints `error` and exits with status 1.
pub fn watch(base: usize, budget: usize, error: &str) -> Watched {
    let line = format!("secman: error: {error}\n");
    *ERROR.lock().unwrap() = line;
    CEILING.store(base.saturating_add(budget), Ordering::Relaxed);
    if in_use() > base.saturating_add(budget) {
        over_budget();
    }
    Watched(())
}

/// A call whose heap growth is watched.
pub struct Watched(());

impl Drop for Watched {
    fn drop(&mut self) {
        CEILING.store(usize::MAX, Ordering::Relaxed);
    }
}
