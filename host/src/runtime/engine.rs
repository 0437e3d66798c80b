//! The one wasmtime engine, and the clock that enforces call deadlines.
//!
//! A deadline is enforced three ways. Guest code is interrupted by the
//! engine's epoch, which the clock advances; a call waiting on something
//! asynchronous in the host (the network, a timer) is stopped by tokio's
//! timer; and a call blocked in a synchronous host call (file I/O on a FIFO
//! or a hung network mount, which runs inline on the only thread) is ended
//! by the [`Watchdog`] on the clock's thread, which ends the process: a CLI
//! runs one command, and nothing else can take the blocked thread back.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::thread;
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

    fn check(&self) {
        if let Some((deadline, error)) = &*self.0.lock().unwrap()
            && Instant::now() >= *deadline
        {
            let _ = writeln!(std::io::stderr(), "secman: error: {error}");
            std::process::exit(1);
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

/// Advances `engine`'s epoch every [`EPOCH_TICK`] on a background thread,
/// and checks `watchdog`, until the engine is dropped.
pub fn start_clock(engine: &Engine, watchdog: Watchdog) {
    let engine = engine.weak();
    thread::Builder::new()
        .name("secman-clock".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                watchdog.check();
                thread::sleep(EPOCH_TICK);
            }
        })
        .expect("cannot start the clock thread");
}
