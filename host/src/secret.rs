//! The secret model and ZenML's schemas.
//!
//! A secret is a name, a schema type and key/value content. The host checks
//! a secret against its schema before any flavor sees it, so every flavor
//! stores only secrets that ZenML would accept too.

use std::collections::BTreeMap;

use serde::Serialize;

/// The key under which ZenML stores a secret's schema beside its values.
pub const SCHEMA_KEY: &str = "zenml_schema_name";

/// The schema a secret gets when none is named.
pub const DEFAULT_SCHEMA: &str = "arbitrary";

/// A secret as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Secret {
    /// The secret's name.
    pub name: String,
    /// The schema type, e.g. `arbitrary` or `aws`.
    pub schema: String,
    /// The content, sorted by key.
    pub values: BTreeMap<String, String>,
}

/// Why a secret was refused. Messages name keys, never values.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretError {
    /// The name is empty or holds characters no store accepts.
    #[error(
        "`{0}` is not a valid secret name: use letters, digits and `_.@+=-`, not starting \
         with `-`, at most 512 characters"
    )]
    InvalidName(String),
    /// The schema is not one secman knows.
    #[error("unknown schema `{0}`: use one of {list}", list = schema_names())]
    UnknownSchema(String),
    /// A key is not an identifier, or is reserved.
    #[error(
        "`{0}` is not a valid key: a key is an identifier (letters, digits and `_`, \
         not starting with a digit), and `name` and `{SCHEMA_KEY}` are reserved"
    )]
    InvalidKey(String),
    /// A key the schema does not have.
    #[error("schema `{schema}` has no key `{key}`: its keys are {fields}")]
    UnknownKey {
        /// The schema.
        schema: String,
        /// The key.
        key: String,
        /// The schema's keys, comma-separated.
        fields: String,
    },
    /// A key the schema requires is missing.
    #[error("schema `{schema}` requires key `{key}`")]
    MissingKey {
        /// The schema.
        schema: String,
        /// The key.
        key: String,
    },
    /// A secret with no content.
    #[error("a secret needs at least one key")]
    Empty,
}

/// One of ZenML's secret schemas.
#[derive(Debug)]
pub struct Schema {
    /// Its type name, e.g. `basic_auth`.
    pub name: &'static str,
    /// Its fields as (key, required); empty for `arbitrary`, which takes any key.
    pub fields: &'static [(&'static str, bool)],
}

/// ZenML's schemas, with the fields its classes declare.
pub const SCHEMAS: &[Schema] = &[
    Schema {
        name: "arbitrary",
        fields: &[],
    },
    Schema {
        name: "aws",
        fields: &[
            ("aws_access_key_id", true),
            ("aws_secret_access_key", true),
            ("aws_session_token", false),
        ],
    },
    Schema {
        name: "gcp",
        fields: &[("token", true)],
    },
    Schema {
        name: "azure",
        fields: &[
            ("account_name", false),
            ("account_key", false),
            ("sas_token", false),
            ("connection_string", false),
            ("client_id", false),
            ("client_secret", false),
            ("tenant_id", false),
        ],
    },
    Schema {
        name: "basic_auth",
        fields: &[("username", true), ("password", true)],
    },
    Schema {
        name: "mysql",
        fields: &[
            ("user", false),
            ("password", false),
            ("ssl_ca", false),
            ("ssl_cert", false),
            ("ssl_key", false),
            ("ssl_verify_server_cert", false),
        ],
    },
];

impl Schema {
    /// The schema called `name`.
    pub fn find(name: &str) -> Result<&'static Schema, SecretError> {
        SCHEMAS
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| SecretError::UnknownSchema(name.to_string()))
    }

    /// Whether any key is allowed.
    pub fn is_open(&self) -> bool {
        self.fields.is_empty()
    }

    fn field_names(&self) -> String {
        self.fields
            .iter()
            .map(|(f, _)| *f)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn schema_names() -> String {
    SCHEMAS
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Secret {
    /// Checks the name, the schema and every key, as ZenML did.
    pub fn validate(&self) -> Result<(), SecretError> {
        validate_name(&self.name)?;
        let schema = Schema::find(&self.schema)?;
        if self.values.is_empty() {
            return Err(SecretError::Empty);
        }
        for key in self.values.keys() {
            validate_key(key)?;
            if !schema.is_open() && !schema.fields.iter().any(|(f, _)| f == key) {
                return Err(SecretError::UnknownKey {
                    schema: schema.name.into(),
                    key: key.clone(),
                    fields: schema.field_names(),
                });
            }
        }
        for (field, required) in schema.fields {
            if *required && !self.values.contains_key(*field) {
                return Err(SecretError::MissingKey {
                    schema: schema.name.into(),
                    key: field.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// A secret name every built-in store accepts: AWS's character set without
/// `/`, which scopes use as a separator.
pub fn validate_name(name: &str) -> Result<(), SecretError> {
    // A leading `-` would read as an option in `secman secret get $NAME`.
    let valid = !name.is_empty()
        && !name.starts_with('-')
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@+=-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(SecretError::InvalidName(name.to_string()))
    }
}

/// A key is a Python identifier (`str.isidentifier()`), other than the
/// secret's own `name` and the schema marker.
pub fn validate_key(key: &str) -> Result<(), SecretError> {
    let mut chars = key.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c == '_' || unicode_ident::is_xid_start(c))
        && chars.all(unicode_ident::is_xid_continue);
    if identifier && key != "name" && key != SCHEMA_KEY {
        Ok(())
    } else {
        Err(SecretError::InvalidKey(key.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(schema: &str, pairs: &[(&str, &str)]) -> Secret {
        Secret {
            name: "s".into(),
            schema: schema.into(),
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn arbitrary_takes_any_identifier_key() {
        assert_eq!(
            secret("arbitrary", &[("x1", "v"), ("_y", "")]).validate(),
            Ok(())
        );
        assert_eq!(secret("arbitrary", &[("clé", "v")]).validate(), Ok(()));
    }

    #[test]
    fn keys_must_be_identifiers_and_not_reserved() {
        for key in ["1x", "a-b", "", "name", SCHEMA_KEY, "a b"] {
            assert_eq!(
                secret("arbitrary", &[(key, "v")]).validate(),
                Err(SecretError::InvalidKey(key.into())),
                "{key}"
            );
        }
    }

    #[test]
    fn schemas_require_their_fields_and_refuse_others() {
        assert_eq!(
            secret("basic_auth", &[("username", "u")]).validate(),
            Err(SecretError::MissingKey {
                schema: "basic_auth".into(),
                key: "password".into()
            })
        );
        assert!(matches!(
            secret(
                "aws",
                &[
                    ("aws_access_key_id", "a"),
                    ("aws_secret_access_key", "b"),
                    ("x", "c")
                ]
            )
            .validate(),
            Err(SecretError::UnknownKey { .. })
        ));
        assert_eq!(secret("mysql", &[("user", "u")]).validate(), Ok(()));
        assert_eq!(
            secret("nope", &[("a", "b")]).validate(),
            Err(SecretError::UnknownSchema("nope".into()))
        );
    }

    #[test]
    fn names_use_the_portable_character_set() {
        assert!(validate_name("db_creds-1.prod@x+y=z").is_ok());
        for name in ["", "a/b", "a b", "ü", "-x", "--help", &"x".repeat(513)] {
            assert!(validate_name(name).is_err(), "{name}");
        }
    }
}
