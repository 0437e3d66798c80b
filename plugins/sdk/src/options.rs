//! The options a manager is opened with.

use crate::Error;

/// A manager's options: the user's, with defaults filled in, plus the ones
/// the host reserves (`scope`, `namespace`, `component_uuid`,
/// `component_name`, `storage`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pairs: Vec<(String, String)>,
}

impl Options {
    /// Wraps the pairs a flavor's `open` receives.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Options { pairs }
    }

    /// The value of `name`, if it was given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or an `invalid` error saying it is missing.
    pub fn require(&self, name: &str) -> Result<&str, Error> {
        self.get(name).ok_or_else(|| {
            Error::Invalid(format!(
                "option `{name}` is required: pass --option {name}=VALUE"
            ))
        })
    }
}
