//! ZenML's JSON for a secret, as its cloud secrets managers store it: the
//! values plus `"zenml_schema_name"`, rendered as Python's `json.dumps`
//! renders a dict (`", "` and `": "` between items, everything beyond ASCII
//! as `\uXXXX`, keys in the secret's order, the schema last).

use std::io::{self, Write};

use serde::Serializer as _;
use serde_json::ser::Formatter;
use serde_json::{Map, Serializer, Value};

use crate::{Error, Secret};

/// The key under which ZenML keeps a secret's schema in its JSON.
pub const SCHEMA_KEY: &str = "zenml_schema_name";

/// The schema of a secret whose JSON names none.
const DEFAULT_SCHEMA: &str = "arbitrary";

/// `secret`'s values and schema as ZenML's JSON, byte for byte as ZenML
/// 0.52 wrote it.
pub fn to_json(secret: &Secret) -> String {
    let entries = secret
        .values
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .chain([(SCHEMA_KEY, secret.schema.as_str())]);
    let mut out = Vec::new();
    Serializer::with_formatter(&mut out, PythonJson)
        .collect_map(entries)
        .expect("writing JSON to memory cannot fail");
    String::from_utf8(out).expect("the JSON is ASCII")
}

/// The secret `name` from ZenML's JSON in `text`; `what` names where the
/// text came from, for errors.
pub fn from_json(name: String, text: &[u8], what: &str) -> Result<Secret, Error> {
    match serde_json::from_slice(text) {
        Ok(Value::Object(object)) => Ok(from_object(name, object)),
        _ => Err(Error::Backend(format!(
            "{what} does not hold a JSON object"
        ))),
    }
}

/// The secret `name` from ZenML's JSON object: the values, and the schema
/// under `zenml_schema_name` (`arbitrary` if there is none). A value that
/// is not a string is kept as its JSON text; a null is left out, as ZenML
/// left out its `None` values.
pub fn from_object(name: String, object: Map<String, Value>) -> Secret {
    let mut schema = DEFAULT_SCHEMA.to_string();
    let mut values = Vec::with_capacity(object.len());
    for (key, value) in object {
        let value = match value {
            Value::String(text) => text,
            Value::Null => continue,
            other => other.to_string(),
        };
        if key == SCHEMA_KEY {
            schema = value;
        } else {
            values.push((key, value));
        }
    }
    Secret {
        name,
        schema,
        values,
    }
}

/// Python's `json.dumps` defaults: `ensure_ascii=True`, separators
/// `(", ", ": ")`.
struct PythonJson;

impl Formatter for PythonJson {
    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { out.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { out.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        out: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(|c: char| !c.is_ascii()) {
            out.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().expect("found above");
            for unit in c.encode_utf16(&mut [0; 2]) {
                write!(out, "\\u{unit:04x}")?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        out.write_all(rest.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(schema: &str, values: &[(&str, &str)]) -> Secret {
        Secret {
            name: "db".into(),
            schema: schema.into(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn json_is_byte_for_byte_what_zenml_wrote() {
        // The bytes ZenML 0.52.0's GCPSecretsManager was seen to write.
        let db = secret(
            "arbitrary",
            &[
                ("user", "\u{fc} \u{2713}"),
                ("pw", "a=b\n"),
                ("json", "{\"x\": 1}"),
            ],
        );
        assert_eq!(
            to_json(&db),
            r#"{"user": "\u00fc \u2713", "pw": "a=b\n", "json": "{\"x\": 1}", "zenml_schema_name": "arbitrary"}"#
        );
        assert_eq!(
            to_json(&secret(
                "aws",
                &[
                    ("aws_access_key_id", "A"),
                    ("aws_secret_access_key", "S/+=")
                ]
            )),
            r#"{"aws_access_key_id": "A", "aws_secret_access_key": "S/+=", "zenml_schema_name": "aws"}"#
        );
        assert_eq!(
            to_json(&secret("arbitrary", &[])),
            r#"{"zenml_schema_name": "arbitrary"}"#
        );
        // Astral characters as surrogate pairs, controls as Python escapes them.
        assert_eq!(
            to_json(&secret("arbitrary", &[("k", "\u{1f389}\u{1}\t\u{7f}")])),
            r#"{"k": "\ud83c\udf89\u0001\t"#.to_string()
                + "\u{7f}\", \"zenml_schema_name\": \"arbitrary\"}"
        );
    }

    #[test]
    fn json_reads_back_with_its_schema() {
        let db = secret("basic_auth", &[("username", "\u{fc}"), ("password", "p")]);
        let read = from_json("db".into(), to_json(&db).as_bytes(), "it").unwrap();
        assert_eq!(read.schema, "basic_auth");
        let mut values = read.values;
        values.sort();
        assert_eq!(
            values,
            vec![
                ("password".into(), "p".into()),
                ("username".into(), "\u{fc}".into())
            ]
        );
        assert!(matches!(
            from_json("db".into(), b"[1]", "x"),
            Err(Error::Backend(_))
        ));
    }
}
