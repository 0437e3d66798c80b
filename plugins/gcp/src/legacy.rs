//! ZenML's older layout, for scope `none`: one GCP secret per key.
//!
//! Secret `db` with keys `user` and `pw` is the GCP secrets `db_user` and
//! `db_pw`, each labelled `zenml-group-key: db` and `zenml-schema-name:
//! <schema>`, each holding the value's bytes. ZenML wrote these key by key
//! and could not add or remove keys on update; here every write is all or
//! nothing: what a failed write did is undone before the error is returned.

use std::collections::{BTreeMap, BTreeSet};

use secman_sdk::{Error, Secret};

use crate::client::{Listed, SecretManager};
use crate::{Layout, check_payload, delete_each, names};

/// The label holding the secret a key belongs to.
const GROUP_LABEL: &str = "zenml-group-key";
/// The label holding the secret's schema.
const SCHEMA_LABEL: &str = "zenml-schema-name";

pub struct Legacy {
    client: SecretManager,
}

/// What a write did so far, to undo it if a later step fails.
enum Done {
    /// A GCP secret was created.
    Created(String),
    /// A version was added over this value.
    Versioned(String, Vec<u8>),
}

impl Legacy {
    pub fn new(client: SecretManager) -> Legacy {
        Legacy { client }
    }

    /// The GCP secrets of secret `name`, by key; empty if there is none.
    fn parts(&self, name: &str) -> Result<BTreeMap<String, Listed>, Error> {
        names::check_name(name, "secret name")?;
        let prefix = format!("{name}_");
        let mut parts = BTreeMap::new();
        for listed in self.client.list(&format!("labels.{GROUP_LABEL}={name}"))? {
            if listed.label(GROUP_LABEL) != Some(name) {
                continue;
            }
            if let Some(key) = listed.id().strip_prefix(&prefix) {
                parts.insert(key.to_string(), listed);
            }
        }
        Ok(parts)
    }

    /// Every GCP secret of this layout, with the secret it belongs to.
    fn every_part(&self) -> Result<Vec<(String, Listed)>, Error> {
        let mut parts = Vec::new();
        for listed in self.client.list(&format!("labels.{GROUP_LABEL}:*"))? {
            if let Some(name) = listed.label(GROUP_LABEL)
                && listed.id().starts_with(&format!("{name}_"))
            {
                parts.push((name.to_string(), listed));
            }
        }
        Ok(parts)
    }

    /// The GCP id of each key of `secret`, with its value, all checked.
    fn ids(secret: &Secret) -> Result<Vec<(String, &str, &str)>, Error> {
        let name = &secret.name;
        names::check_name(name, "secret name")?;
        if secret.values.is_empty() {
            return Err(Error::Invalid(format!(
                "secret `{name}` has no keys: with scope none each key is a GCP secret of its \
                 own, so a secret needs at least one"
            )));
        }
        secret
            .values
            .iter()
            .map(|(key, value)| {
                let id = format!("{name}_{key}");
                names::check_id(&id, &format!("key `{key}` of secret `{name}`"))?;
                check_payload(value.as_bytes(), &format!("the value of key `{key}`"))?;
                Ok((id, key.as_str(), value.as_str()))
            })
            .collect()
    }

    fn labels(secret: &Secret) -> Vec<(&'static str, String)> {
        vec![
            (GROUP_LABEL, secret.name.clone()),
            (SCHEMA_LABEL, secret.schema.clone()),
        ]
    }

    /// Creates GCP secret `id` holding `value`, recording it in `done`.
    fn create(
        &self,
        id: &str,
        value: &str,
        secret: &Secret,
        done: &mut Vec<Done>,
    ) -> Result<(), Error> {
        self.client
            .create(id, &Self::labels(secret))
            .map_err(|e| match e {
                Error::AlreadyExists(_) => Error::AlreadyExists(format!(
                    "GCP secret {id} already exists and is not part of secret `{}`: with scope \
                     none a secret's keys are GCP secrets `<name>_<key>`, so another secret \
                     holds this id (e.g. `a` with key `b_c` and `a_b` with key `c`); use \
                     another name or key",
                    secret.name
                )),
                other => other,
            })?;
        done.push(Done::Created(id.to_string()));
        self.client.add_version(id, value.as_bytes())
    }

    /// Runs `steps`; if one fails, undoes what they did, newest first, and
    /// returns its error.
    fn all_or_nothing(
        &self,
        steps: impl FnOnce(&mut Vec<Done>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut done = Vec::new();
        let Err(error) = steps(&mut done) else {
            return Ok(());
        };
        let mut undone = true;
        for step in done.into_iter().rev() {
            let result = match &step {
                Done::Created(id) => self.client.delete(id),
                Done::Versioned(id, old) => self.client.add_version(id, old),
            };
            undone &= result.is_ok();
        }
        if undone {
            Err(error)
        } else {
            Err(Error::Backend(format!(
                "{}; undoing the keys written before it failed too, so the secret may be \
                 half-written: check it with `secman secret get`",
                describe(&error)
            )))
        }
    }
}

impl Layout for Legacy {
    fn register(&self, secret: Secret) -> Result<(), Error> {
        let ids = Self::ids(&secret)?;
        if !self.parts(&secret.name)?.is_empty() {
            return Err(Error::AlreadyExists(format!(
                "secret `{}` already exists",
                secret.name
            )));
        }
        self.all_or_nothing(|done| {
            for (id, _, value) in &ids {
                self.create(id, value, &secret, done)?;
            }
            Ok(())
        })
    }

    fn get(&self, name: &str) -> Result<Secret, Error> {
        let parts = self.parts(name)?;
        let Some(first) = parts.values().next() else {
            return Err(Error::NotFound(format!("secret `{name}` does not exist")));
        };
        let schema = first.label(SCHEMA_LABEL).unwrap_or("arbitrary").to_string();
        let mut values = Vec::with_capacity(parts.len());
        for (key, listed) in &parts {
            let data = self.client.access(listed.id())?;
            let value = String::from_utf8(data).map_err(|_| {
                Error::Backend(format!(
                    "GCP secret {} does not hold UTF-8 text",
                    listed.id()
                ))
            })?;
            values.push((key.clone(), value));
        }
        Ok(Secret {
            name: name.to_string(),
            schema,
            values,
        })
    }

    fn names(&self) -> Result<Vec<String>, Error> {
        let names: BTreeSet<String> = self
            .every_part()?
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        Ok(names.into_iter().collect())
    }

    fn update(&self, secret: Secret) -> Result<(), Error> {
        let ids = Self::ids(&secret)?;
        let parts = self.parts(&secret.name)?;
        if parts.is_empty() {
            return Err(Error::NotFound(format!(
                "secret `{}` does not exist",
                secret.name
            )));
        }
        let kept: BTreeSet<&str> = ids.iter().map(|(_, key, _)| *key).collect();
        self.all_or_nothing(|done| {
            // New keys first: a collision stops the update before any value
            // changed.
            for (id, key, value) in &ids {
                if !parts.contains_key(*key) {
                    self.create(id, value, &secret, done)?;
                }
            }
            for (id, key, value) in &ids {
                if !parts.contains_key(*key) {
                    continue;
                }
                let old = self.client.access(id)?;
                if old != value.as_bytes() {
                    self.client.add_version(id, value.as_bytes())?;
                    done.push(Done::Versioned(id.clone(), old));
                }
            }
            Ok(())
        })?;
        // Removed keys last: a deletion cannot be undone.
        let removed = parts
            .iter()
            .filter(|(key, _)| !kept.contains(key.as_str()))
            .map(|(_, listed)| listed.id());
        delete_each(&self.client, removed)
    }

    fn delete(&self, name: &str) -> Result<(), Error> {
        let parts = self.parts(name)?;
        if parts.is_empty() {
            return Err(Error::NotFound(format!("secret `{name}` does not exist")));
        }
        delete_each(&self.client, parts.values().map(Listed::id))
    }

    fn delete_all(&self) -> Result<(), Error> {
        let parts = self.every_part()?;
        delete_each(&self.client, parts.iter().map(|(_, listed)| listed.id()))
    }
}

/// An error's message.
fn describe(error: &Error) -> &str {
    match error {
        Error::NotFound(m)
        | Error::AlreadyExists(m)
        | Error::Invalid(m)
        | Error::Denied(m)
        | Error::Backend(m) => m,
    }
}
