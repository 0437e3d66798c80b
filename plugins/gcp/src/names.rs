//! What GCP accepts, checked before any request: ZenML's rule for names
//! (they become label values), GCP's for secret ids and label values.

use secman_sdk::Error;

/// The longest label value.
const MAX_LABEL: usize = 63;
/// The longest secret id.
const MAX_ID: usize = 255;

/// ZenML's rule for secret names and namespaces on GCP, which are label
/// values: lowercase letters, digits, `_` and `-`, at most 63.
pub fn check_name(name: &str, what: &str) -> Result<(), Error> {
    let valid = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid && !name.is_empty() && name.len() <= MAX_LABEL {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "`{name}` is not a valid {what} for GCP: use 1 to {MAX_LABEL} lowercase letters, \
             digits, `_` and `-` (GCP keeps it as a label)"
        )))
    }
}

/// GCP's rule for a secret id: letters, digits, `_` and `-`, at most 255.
/// `origin` says what the id was made from.
pub fn check_id(id: &str, origin: &str) -> Result<(), Error> {
    let valid = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid && !id.is_empty() && id.len() <= MAX_ID {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{origin} makes the GCP secret id `{id}`, which GCP refuses: an id is 1 to {MAX_ID} \
             ASCII letters, digits, `_` and `-`"
        )))
    }
}

/// A project id or number: lowercase letters, digits and `-`, or a
/// domain-scoped id (`example.com:my-project`).
pub fn check_project(project: &str) -> Result<(), Error> {
    let valid = project
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.:".contains(&b));
    if valid && !project.is_empty() && project.len() <= 100 {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "`{project}` is not a GCP project id: pass the id (e.g. `my-project-123`) or number \
             as --option project_id=ID"
        )))
    }
}

/// `text` as a label value GCP accepts: lowercase, anything but letters,
/// digits, `_` and `-` as `-`, at most 63 characters. ZenML wrote a
/// component's name verbatim, which GCP refuses when it has capitals or
/// dots or is longer; nothing reads this label back.
pub fn label_value(text: &str) -> String {
    text.chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(MAX_LABEL)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_zenmls_rule() {
        for good in ["db", "db_creds-2", &"a".repeat(63)] {
            assert!(check_name(good, "name").is_ok(), "{good}");
        }
        for bad in ["", "DB", "a.b", "a/b", "ü", &"a".repeat(64)] {
            assert!(check_name(bad, "name").is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_follow_gcps_rule() {
        assert!(check_id("db_DB_URL", "x").is_ok());
        assert!(check_id(&"a".repeat(255), "x").is_ok());
        for bad in ["", "a.b", "a b", "db_ü", &"a".repeat(256)] {
            let err = check_id(bad, "key `k` of secret `db`").unwrap_err();
            assert!(
                matches!(err, Error::Invalid(m) if m.contains("key `k`")),
                "{bad}"
            );
        }
    }

    #[test]
    fn label_values_are_made_valid() {
        assert_eq!(label_value("Prod.EU"), "prod-eu");
        assert_eq!(label_value(&"X".repeat(70)), "x".repeat(63));
        assert_eq!(label_value("team_a-1"), "team_a-1");
    }
}
