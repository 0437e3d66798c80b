//! ZenML's layout in a scope: one GCP secret per secret.

use secman_sdk::{Error, Scope, Secret, zenml};

use crate::client::{Listed, SecretManager};
use crate::{Layout, check_payload, delete_each, names};

/// The label ZenML keeps a secret's name in.
const NAME_LABEL: &str = "zenml_secret_name";
/// The label ZenML keeps the writing component's name in.
const COMPONENT_NAME_LABEL: &str = "zenml_component_name";

pub struct Scoped {
    client: SecretManager,
    scope: Scope,
}

impl Scoped {
    pub fn new(client: SecretManager, scope: Scope) -> Scoped {
        Scoped { client, scope }
    }

    /// The GCP id of secret `name`, both checked.
    fn id(&self, name: &str) -> Result<String, Error> {
        names::check_name(name, "secret name")?;
        let id = self.scope.scoped_name(name, "-");
        names::check_id(
            &id,
            &format!("secret `{name}` in scope {}", self.scope.name()),
        )?;
        Ok(id)
    }

    /// Whether `listed` is secret `name` of this scope: every scope label
    /// and the name label match, as ZenML checks on get.
    fn holds(&self, listed: &Listed, name: &str) -> bool {
        listed.label(NAME_LABEL) == Some(name)
            && self
                .scope
                .scope_metadata()
                .iter()
                .all(|(key, value)| listed.label(key) == Some(value))
    }

    /// The id of existing secret `name`; `not-found` unless a GCP secret
    /// of that id is labelled as this scope's `name`.
    fn existing(&self, name: &str) -> Result<String, Error> {
        let id = self.id(name)?;
        let missing = || {
            Error::NotFound(format!(
                "secret `{name}` does not exist (GCP secret {id}, scope {})",
                self.scope.name()
            ))
        };
        let listed = self.client.get(&id).map_err(|e| match e {
            Error::NotFound(_) => missing(),
            other => other,
        })?;
        if !self.holds(&listed, name) {
            secman_sdk::log::debug(&format!(
                "GCP secret {id} exists without the labels of secret `{name}` in this scope"
            ));
            return Err(missing());
        }
        Ok(id)
    }

    /// ZenML's labels for `secret`, the component's name made a valid
    /// label value.
    fn labels(&self, secret: &Secret) -> Vec<(&'static str, String)> {
        let mut labels = self.scope.secret_metadata(&secret.name, &secret.schema);
        for (key, value) in &mut labels {
            if *key == COMPONENT_NAME_LABEL {
                *value = names::label_value(value);
            }
        }
        labels
    }

    fn payload(secret: &Secret) -> Result<String, Error> {
        let payload = zenml::to_json(secret);
        check_payload(
            payload.as_bytes(),
            &format!("secret `{}` as JSON", secret.name),
        )?;
        Ok(payload)
    }

    /// ZenML's filter for this scope's secrets: its labels, unquoted.
    fn filter(&self) -> String {
        self.scope
            .scope_metadata()
            .iter()
            .map(|(key, value)| format!("labels.{key}={value}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// This scope's secrets, as (name, id), matched exactly.
    fn listed(&self) -> Result<Vec<(String, String)>, Error> {
        let mut found = Vec::new();
        for listed in self.client.list(&self.filter())? {
            let Some(name) = listed.label(NAME_LABEL) else {
                continue;
            };
            if self.holds(&listed, name) && listed.id() == self.scope.scoped_name(name, "-") {
                found.push((name.to_string(), listed.id().to_string()));
            }
        }
        Ok(found)
    }
}

impl Layout for Scoped {
    fn register(&self, secret: Secret) -> Result<(), Error> {
        let id = self.id(&secret.name)?;
        let payload = Self::payload(&secret)?;
        self.client
            .create(&id, &self.labels(&secret))
            .map_err(|e| match e {
                Error::AlreadyExists(_) => Error::AlreadyExists(format!(
                    "secret `{}` already exists (GCP secret {id})",
                    secret.name
                )),
                other => other,
            })?;
        // A secret without a version cannot be read: take it back if its
        // first version cannot be added.
        if let Err(e) = self.client.add_version(&id, payload.as_bytes()) {
            let _ = self.client.delete(&id);
            return Err(e);
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Result<Secret, Error> {
        let id = self.existing(name)?;
        let payload = self.client.access(&id)?;
        zenml::from_json(name.to_string(), &payload, &format!("GCP secret {id}"))
    }

    fn names(&self) -> Result<Vec<String>, Error> {
        Ok(self.listed()?.into_iter().map(|(name, _)| name).collect())
    }

    fn update(&self, secret: Secret) -> Result<(), Error> {
        let id = self.existing(&secret.name)?;
        let payload = Self::payload(&secret)?;
        self.client.add_version(&id, payload.as_bytes())
    }

    fn delete(&self, name: &str) -> Result<(), Error> {
        let id = self.existing(name)?;
        self.client.delete(&id)
    }

    fn delete_all(&self) -> Result<(), Error> {
        let listed = self.listed()?;
        delete_each(&self.client, listed.iter().map(|(_, id)| id.as_str()))
    }
}
