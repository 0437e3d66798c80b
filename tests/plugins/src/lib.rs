//! Paths of the test flavors' components, built by `build.rs`:
//! - `hostile`: a flavor that attacks the sandbox in every way the tests
//!   name (see `hostile/src/lib.rs`);
//! - `unknown-import`: a flavor importing an interface secman does not
//!   provide.

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));
