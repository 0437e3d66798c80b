//! The `gcp` flavor: Google Cloud Secret Manager, in ZenML's layouts.
//!
//! In a scope (`global`, `component`, `namespace`), a secret is one GCP
//! secret: id = the scope path and the name joined by `-` (e.g.
//! `zenml-component-<uuid>-db`), payload = ZenML's JSON of the values and
//! `zenml_schema_name`, labels = ZenML's (`zenml_scope`,
//! `zenml_secret_name`, ...). With scope `none`, ZenML's older layout: one
//! GCP secret per key (`<name>_<key>`, see [`legacy`]).
//!
//! Every name and id is checked before any request. Listing follows
//! `nextPageToken` to the end and matches labels and ids exactly, since
//! servers differ in how they read filters.

mod auth;
mod client;
mod legacy;
mod names;
mod scoped;

use auth::Credentials;
use client::SecretManager;
use secman_sdk::{
    Capabilities, Error, Flavor, FlavorInfo, Manager, ManagerApi, OptionSpec, Options, Scope,
    Secret,
};

struct Gcp;

impl Flavor for Gcp {
    type Manager = GcpManager;

    fn info() -> FlavorInfo {
        FlavorInfo {
            name: "gcp".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Google Cloud Secret Manager (ZenML's layout)".into(),
            options: vec![
                OptionSpec::new("project_id", "The GCP project id or number", true),
                OptionSpec::new(
                    "endpoint",
                    "Another endpoint, e.g. a private one or an emulator",
                    false,
                )
                .endpoint_url(),
                OptionSpec::new(
                    "token_endpoint",
                    "Where a key file's token is asked for, if not Google's (its token_uri)",
                    false,
                )
                .endpoint_url(),
                OptionSpec::new(
                    "metadata_server",
                    "On GCE or GKE: take the machine's token from its metadata server",
                    false,
                )
                .with_default("http://metadata.google.internal")
                .endpoint_url(),
            ],
            capabilities: Capabilities {
                outbound_hosts: vec![
                    "secretmanager.googleapis.com".into(),
                    "oauth2.googleapis.com".into(),
                ],
                environment: vec![auth::TOKEN_VARIABLE.into()],
                storage: false,
                files: vec![
                    format!("${}", auth::KEY_FILE_VARIABLE),
                    format!("~/{}", auth::ADC_FILE),
                ],
            },
            scoped: true,
        }
    }
}

/// The operations of one of the two layouts.
trait Layout {
    fn register(&self, secret: Secret) -> Result<(), Error>;
    fn get(&self, name: &str) -> Result<Secret, Error>;
    fn names(&self) -> Result<Vec<String>, Error>;
    fn update(&self, secret: Secret) -> Result<(), Error>;
    fn delete(&self, name: &str) -> Result<(), Error>;
    /// Deletes every secret of the layout.
    fn delete_all(&self) -> Result<(), Error>;
}

struct GcpManager {
    layout: Box<dyn Layout>,
}

impl ManagerApi for GcpManager {
    fn open(options: Vec<(String, String)>) -> Result<Manager, Error> {
        let options = Options::new(options);
        let scope = Scope::from_options(&options)?;
        if let Some(namespace) = scope.namespace() {
            names::check_name(namespace, "namespace")?;
        }
        let project = options.require("project_id")?;
        names::check_project(project)?;
        let endpoint = options.get("endpoint");
        let credentials = Credentials::find(&options, endpoint.is_some())?;
        let client = SecretManager::new(endpoint, project, credentials);
        let layout: Box<dyn Layout> = if scope.is_scoped() {
            Box::new(scoped::Scoped::new(client, scope))
        } else {
            Box::new(legacy::Legacy::new(client))
        };
        Ok(Manager::new(GcpManager { layout }))
    }

    fn register_secret(&self, secret: Secret) -> Result<(), Error> {
        self.layout.register(secret)
    }

    fn get_secret(&self, name: String) -> Result<Secret, Error> {
        self.layout.get(&name)
    }

    fn get_all_secret_keys(&self) -> Result<Vec<String>, Error> {
        self.layout.names()
    }

    fn update_secret(&self, secret: Secret) -> Result<(), Error> {
        self.layout.update(secret)
    }

    fn delete_secret(&self, name: String) -> Result<(), Error> {
        self.layout.delete(&name)
    }

    fn delete_all_secrets(&self, force: bool) -> Result<(), Error> {
        if !force {
            return Err(Error::Invalid("deleting all secrets needs force".into()));
        }
        self.layout.delete_all()
    }
}

/// Deletes every one of `ids`; one deleted meanwhile by someone else is
/// gone as asked.
fn delete_each<'a>(
    client: &SecretManager,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<(), Error> {
    for id in ids {
        match client.delete(id) {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `payload` if GCP stores it: 1 byte to 64 KiB; `what` names it.
fn check_payload(payload: &[u8], what: &str) -> Result<(), Error> {
    if payload.is_empty() {
        return Err(Error::Invalid(format!(
            "{what} is empty, and GCP Secret Manager stores no empty value"
        )));
    }
    if payload.len() > client::MAX_PAYLOAD_BYTES {
        return Err(Error::Invalid(format!(
            "{what} is {} bytes, and GCP Secret Manager stores at most {} bytes per secret \
             version: split it, or keep large values in a file",
            payload.len(),
            client::MAX_PAYLOAD_BYTES
        )));
    }
    Ok(())
}

secman_sdk::export!(Gcp);
