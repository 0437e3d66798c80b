//! A flavor that imports an interface secman does not provide: the host
//! must refuse it at `flavor register`, not at its first call.

wit_bindgen::generate!({
    path: ["../../../wit", "wit"],
    world: "secman-test:unknown/flavor-with-extra-import",
    generate_all,
});

use exports::secman::flavor::secrets_manager::{Guest, GuestManager, Manager};
use secman::flavor::types::{Capabilities, Error, FlavorInfo, Secret};

struct Flavor;

impl Guest for Flavor {
    type Manager = Unusable;

    fn info() -> FlavorInfo {
        FlavorInfo {
            name: "unknown-import".into(),
            version: "0.1.0".into(),
            description: format!("needs {}", secman_test::unknown::unprovided::poke()),
            options: vec![],
            capabilities: Capabilities {
                outbound_hosts: vec![],
                environment: vec![],
                storage: false,
                files: vec![],
            },
            scoped: false,
        }
    }
}

struct Unusable;

fn unusable<T>() -> Result<T, Error> {
    Err(Error::Backend(
        "this flavor only exists to be refused".into(),
    ))
}

impl GuestManager for Unusable {
    fn open(_: Vec<(String, String)>) -> Result<Manager, Error> {
        unusable()
    }
    fn register_secret(&self, _: Secret) -> Result<(), Error> {
        unusable()
    }
    fn get_secret(&self, _: String) -> Result<Secret, Error> {
        unusable()
    }
    fn get_all_secret_keys(&self) -> Result<Vec<String>, Error> {
        unusable()
    }
    fn update_secret(&self, _: Secret) -> Result<(), Error> {
        unusable()
    }
    fn delete_secret(&self, _: String) -> Result<(), Error> {
        unusable()
    }
    fn delete_all_secrets(&self, _: bool) -> Result<(), Error> {
        unusable()
    }
}

export!(Flavor);
