//! The secret model and ZenML's schemas.
//!
//! A secret is a name, a schema type and key/value content. The host checks
//! a secret against its schema before any flavor sees it, so every flavor
//! stores only secrets that ZenML would accept too.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::text::is_hidden;

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
    /// The name is empty.
    #[error("a secret's name cannot be empty")]
    EmptyName,
    /// A new name holds a character that shows as nothing or changes what
    /// a terminal shows.
    #[error(
        "`{0}` holds a control or invisible character, which would make the secret hard to \
         tell apart from others: choose a name without one"
    )]
    HiddenCharacter(String),
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
    /// Checks the schema and every key, as ZenML did, and that there is a
    /// name. (A new name is held to [`validate_new_name`] too.)
    pub fn validate(&self) -> Result<(), SecretError> {
        check_name(&self.name)?;
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

/// Whether `name` can address a secret a store holds: any name but the
/// empty one. Stores written by ZenML hold names with spaces, `:`, `/`,
/// quotes, non-ASCII letters or a leading `-`; each is readable, and shown
/// escaped where it could disguise itself (see [`crate::text`]). A flavor
/// refuses what its backend cannot hold (`/` in AWS, for one).
pub fn check_name(name: &str) -> Result<(), SecretError> {
    if name.is_empty() {
        return Err(SecretError::EmptyName);
    }
    Ok(())
}

/// Whether `name` may name a new secret: any name a store could hold,
/// except one with a character that shows as nothing or changes what a
/// terminal shows (see [`is_hidden`]), which no one could tell apart or
/// type back.
pub fn validate_new_name(name: &str) -> Result<(), SecretError> {
    check_name(name)?;
    if name.chars().any(is_hidden) {
        return Err(SecretError::HiddenCharacter(name.to_string()));
    }
    Ok(())
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
    fn any_name_zenml_writes_is_a_name() {
        for name in [
            "db_creds-1.prod@x+y=z",
            "a/b",
            "my secret",
            "ns:db",
            "~home",
            "clé d'API",
            "日本",
            "-x",
            "--help",
            "#tag",
            "\"quoted\"",
            &"x".repeat(5000),
        ] {
            assert!(validate_new_name(name).is_ok(), "{name}");
        }
        assert_eq!(check_name(""), Err(SecretError::EmptyName));
        assert_eq!(validate_new_name(""), Err(SecretError::EmptyName));
    }

    #[test]
    fn a_new_name_holds_nothing_that_hides() {
        for name in [
            "a\nb",
            "a\u{1b}[2J",
            "evil\u{202e}",
            "zero\u{200b}width",
            "tab\t",
        ] {
            assert!(
                matches!(
                    validate_new_name(name),
                    Err(SecretError::HiddenCharacter(_))
                ),
                "{name:?}"
            );
            // A store that holds one still has it read.
            assert_eq!(check_name(name), Ok(()));
        }
    }
}
