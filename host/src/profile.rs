//! Where one command's time goes.
//!
//! With `SECMAN_PROFILE=1` in its environment, secman prints one line to
//! stderr as it exits: the microseconds each stage of the command took,
//! from the start of `main`:
//!
//! ```text
//! secman: profile: arguments=227 tokio=25 engine=140 clock=83 linker=184 cache=49 config=55 load=308 instantiate=288 call=118 output=7 close=116 exit=13 total=1619
//! ```
//!
//! `scripts/bench.sh` reads it to print the warm path's stages beside the
//! time of the whole process. Without the variable, a stage costs one
//! relaxed atomic load.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);
static STAGES: Mutex<Vec<(&'static str, Instant)>> = Mutex::new(Vec::new());

/// Starts the profile if `SECMAN_PROFILE` asks for one.
pub fn start() {
    if std::env::var_os("SECMAN_PROFILE").is_some_and(|v| !v.is_empty() && v != "0") {
        STAGES.lock().unwrap().push(("start", Instant::now()));
        ENABLED.store(true, Ordering::Relaxed);
    }
}

/// Ends the stage `name`: the time since the last stage ended is its own.
pub fn stage(name: &'static str) {
    if ENABLED.load(Ordering::Relaxed) {
        STAGES.lock().unwrap().push((name, Instant::now()));
    }
}

/// Prints the profile, if one was asked for.
pub fn finish() {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    stage("exit");
    let stages = STAGES.lock().unwrap();
    let micros = |from: Instant, to: Instant| to.duration_since(from).as_micros();
    let mut line = String::from("secman: profile:");
    for pair in stages.windows(2) {
        line.push_str(&format!(" {}={}", pair[1].0, micros(pair[0].1, pair[1].1)));
    }
    if let (Some(first), Some(last)) = (stages.first(), stages.last()) {
        line.push_str(&format!(" total={}", micros(first.1, last.1)));
    }
    let _ = writeln!(std::io::stderr(), "{line}");
}
