//! secman: a secrets manager whose backends are sandboxed WebAssembly
//! components.
//!
//! - [`runtime`] loads flavor components and runs them in a sandbox;
//! - [`registry`] and [`builtin`] know which flavors exist;
//! - [`managers`] holds the configured managers, [`session`] opens one;
//! - [`secret`] is the secret model and its schemas, [`text`] makes any
//!   text safe to show;
//! - [`home`] is where state lives and how it is written, [`fileid`]
//!   knows a file was not written since it was hashed;
//! - [`cli`] is the `secman` command line on top, [`profile`] times its
//!   stages, [`process`] keeps secman's files private.

pub mod builtin;
pub mod cli;
pub mod fileid;
pub mod home;
pub mod managers;
pub mod process;
pub mod profile;
pub mod registry;
pub mod runtime;
pub mod secret;
pub mod session;
pub mod text;
