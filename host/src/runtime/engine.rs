//! The one wasmtime engine, and the clock that enforces call deadlines.

use std::thread;
use std::time::Duration;

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

/// Advances `engine`'s epoch every [`EPOCH_TICK`] on a background thread,
/// until the engine is dropped.
pub fn start_epoch_clock(engine: &Engine) {
    let engine = engine.weak();
    thread::Builder::new()
        .name("secman-epoch".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_TICK);
            }
        })
        .expect("cannot start the epoch thread");
}
