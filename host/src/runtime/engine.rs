//! The one wasmtime engine, and the clock that enforces call deadlines.
//!
//! A deadline is enforced three ways. Guest code is interrupted by the
//! engine's epoch, which the clock advances; a call waiting on something
//! asynchronous in the host (the network, a timer) is stopped by tokio's
//! timer; and a call blocked in a synchronous host call (file I/O on a FIFO
//! or a hung network mount, which runs inline on the only thread) is ended
//! by the [`Watchdog`], checked on every tick of the clock, which ends the
//! process: a CLI runs one command, and nothing else can take the blocked
//! thread back.
//!
//! The clock is a POSIX timer that signals the thread which made the
//! runtime, not a thread of its own: a second thread cost a warm command
//! 6 to 16 % of its time (`BENCHMARKS.md`; its creation, its malloc arena, the TLB
//! shootdowns it brings to every `mprotect` and `munmap`, and waking it to
//! exit). The signal is installed with `SA_RESTART`, so the system calls it
//! interrupts resume, and what its handler does is async-signal-safe: an
//! atomic increment, a `try_lock`, a clock read, `write` and `_exit`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use anyhow::Result;
use wasmtime::{Config, Engine, OptLevel};

/// How often the engine's epoch advances: the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Builds the engine every flavor runs on.
///
/// Deadlines use epoch interruption (cheap checks in loops and calls, unlike
/// fuel). The configuration is part of the compile cache's key, so changing
/// it here recompiles every cached component.
pub fn new_engine() -> Result<Engine> {
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true);
    Ok(Engine::new(&config)?)
}

/// How long past its limit a blocked call may last before the watchdog
/// ends secman.
pub const WATCHDOG_GRACE: Duration = Duration::from_millis(500);

/// The deadline of the call in progress and the error that reports it.
#[derive(Debug, Clone, Default)]
pub struct Watchdog(Arc<Mutex<Option<(Instant, String)>>>);

impl Watchdog {
    /// Watches one call: past `deadline`, secman prints `error` and exits
    /// with status 1, unless the returned guard was dropped.
    pub fn arm(&self, deadline: Instant, error: String) -> Armed<'_> {
        *self.0.lock().unwrap() = Some((deadline, error));
        Armed(self)
    }

    /// Ends secman if the call being watched is past its deadline. Called
    /// from a signal handler: it allocates nothing, and skips a tick when
    /// the thread it interrupted holds the lock.
    fn check(&self) {
        let Ok(watched) = self.0.try_lock() else {
            return;
        };
        if let Some((deadline, error)) = &*watched
            && Instant::now() >= *deadline
        {
            for part in [b"secman: error: ", error.as_bytes(), b"\n"] {
                // SAFETY: writes bytes that live as long as the lock is held.
                unsafe { libc::write(libc::STDERR_FILENO, part.as_ptr().cast(), part.len()) };
            }
            // No copy of a granted file outlives secman.
            super::scratch::remove_all_now();
            // SAFETY: `_exit` is async-signal-safe and ends the process.
            unsafe { libc::_exit(1) };
        }
    }
}

/// A call being watched; dropping it ends the watch.
pub struct Armed<'a>(&'a Watchdog);

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        *self.0.0.lock().unwrap() = None;
    }
}

/// What one clock advances and checks, leaked: a tick already queued when
/// the clock stops may still arrive.
struct Tick {
    engine: wasmtime::EngineWeak,
    watchdog: Watchdog,
}

/// The signal the clocks tick with.
fn tick_signal() -> libc::c_int {
    libc::SIGRTMIN() + 1
}

/// A timer's `siginfo_t` on Linux: the `sigval` it was made with follows
/// the timer's id and overrun count.
#[repr(C)]
struct TimerSiginfo {
    signo: libc::c_int,
    errno: libc::c_int,
    code: libc::c_int,
    _pad: libc::c_int,
    timer_id: libc::c_int,
    overrun: libc::c_int,
    value: *mut libc::c_void,
}

extern "C" fn on_tick(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the handler is installed with SA_SIGINFO, so the kernel
    // passes a siginfo. A stray `kill` of this signal is ignored; a timer's
    // carries the value it was made with, and a clock's is a leaked `Tick`.
    // (Only a process of the same user, which could as well ptrace secman,
    // can forge a timer's siginfo with `rt_sigqueueinfo`.)
    let info = unsafe { &*info.cast::<TimerSiginfo>() };
    if info.code != libc::SI_TIMER || info.value.is_null() {
        return;
    }
    // SAFETY: as above.
    let tick = unsafe { &*info.value.cast::<Tick>() };
    // SAFETY: `__errno_location` is the calling thread's errno, which the
    // interrupted code may be about to read.
    let errno = unsafe { *libc::__errno_location() };
    // The engine is only dropped by the thread this signal interrupts, so
    // this is never the last reference.
    if let Some(engine) = tick.engine.upgrade() {
        engine.increment_epoch();
    }
    tick.watchdog.check();
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Advances an engine's epoch every [`EPOCH_TICK`] and checks a watchdog,
/// until it is stopped or dropped.
pub struct Clock {
    timer: libc::timer_t,
    stopped: AtomicBool,
}

impl Clock {
    /// Starts a clock for `engine` and `watchdog` that ticks on the
    /// calling thread.
    pub fn start(engine: &Engine, watchdog: Watchdog) -> Result<Clock> {
        static HANDLER: Once = Once::new();
        HANDLER.call_once(|| {
            // SAFETY: installs a handler that does only async-signal-safe
            // work, for a signal nothing else in secman uses.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_tick as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(tick_signal(), &action, std::ptr::null_mut());
            }
        });
        let tick: &'static Tick = Box::leak(Box::new(Tick {
            engine: engine.weak(),
            watchdog,
        }));
        // SAFETY: plain C structures filled in before use; the timer
        // signals this thread, with a value that lives forever.
        unsafe {
            let mut event: libc::sigevent = std::mem::zeroed();
            event.sigev_notify = libc::SIGEV_THREAD_ID;
            event.sigev_signo = tick_signal();
            event.sigev_value.sival_ptr = std::ptr::from_ref(tick).cast_mut().cast();
            event.sigev_notify_thread_id = libc::gettid();
            let mut timer: libc::timer_t = std::mem::zeroed();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer) != 0 {
                anyhow::bail!(
                    "cannot start the clock that enforces time limits: {}",
                    std::io::Error::last_os_error()
                );
            }
            let every = libc::timespec {
                tv_sec: 0,
                tv_nsec: EPOCH_TICK.as_nanos() as libc::c_long,
            };
            let spec = libc::itimerspec {
                it_interval: every,
                it_value: every,
            };
            libc::timer_settime(timer, 0, &spec, std::ptr::null_mut());
            Ok(Clock {
                timer,
                stopped: AtomicBool::new(false),
            })
        }
    }

    /// Stops the clock, and discards a tick already sent: before secman
    /// `exec`s a command, which keeps pending signals, and for which this
    /// one's default action is to end it.
    pub fn stop(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        // SAFETY: masks and dispositions of one signal, each restored; the
        // timer is deleted once.
        unsafe {
            let mut tick = std::mem::zeroed();
            libc::sigemptyset(&mut tick);
            libc::sigaddset(&mut tick, tick_signal());
            let mut mask = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &tick, &mut mask);
            libc::timer_delete(self.timer);
            // Ignoring a signal discards its pending instances.
            let mut ignore: libc::sigaction = std::mem::zeroed();
            ignore.sa_sigaction = libc::SIG_IGN;
            let mut handler = std::mem::zeroed();
            libc::sigaction(tick_signal(), &ignore, &mut handler);
            libc::sigaction(tick_signal(), &handler, std::ptr::null_mut());
            libc::pthread_sigmask(libc::SIG_SETMASK, &mask, std::ptr::null_mut());
        }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.stop();
    }
}
