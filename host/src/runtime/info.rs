//! What a flavor says about itself, as the host keeps it. It is checked by
//! [`super::untrusted::check_info`] before the host acts on it.

use serde::{Deserialize, Serialize};

use super::bindings::types;

/// Option names the host sets itself; a flavor cannot declare them.
pub const RESERVED_OPTIONS: &[&str] = &[
    "scope",
    "namespace",
    "component_uuid",
    "component_name",
    "storage",
];

/// A flavor's description of itself (the WIT `flavor-info`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlavorInfo {
    /// Short lowercase name.
    pub name: String,
    /// The flavor's own version.
    pub version: String,
    /// One line for listings.
    pub description: String,
    /// The options a manager takes.
    #[serde(default)]
    pub options: Vec<OptionSpec>,
    /// What the flavor asks for.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Whether the flavor understands scopes.
    #[serde(default)]
    pub scoped: bool,
}

/// An option a manager takes (the WIT `option-spec`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionSpec {
    /// The option's name.
    pub name: String,
    /// One line of help.
    pub description: String,
    /// Whether a manager must set it.
    #[serde(default)]
    pub required: bool,
    /// The value used when it is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether the value is a credential, masked when shown.
    #[serde(default)]
    pub sensitive: bool,
    /// How the host treats the value.
    #[serde(default)]
    pub kind: OptionKind,
}

/// How the host treats an option's value (the WIT `option-kind`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    /// Passed as given.
    #[default]
    Text,
    /// A file whose folder becomes the manager's storage folder.
    StorageFile,
    /// A URL whose host and port the manager may send HTTP requests to.
    EndpointUrl,
}

/// What a flavor asks the host for (the WIT `capabilities`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Hosts it sends HTTP requests to.
    #[serde(default)]
    pub outbound_hosts: Vec<String>,
    /// Environment variables it reads.
    #[serde(default)]
    pub environment: Vec<String>,
    /// Whether it keeps files in a storage folder.
    #[serde(default)]
    pub storage: bool,
    /// Files it reads (`$NAME`, `~/PATH` or `/PATH`), read-only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

impl FlavorInfo {
    /// The option called `name`.
    pub fn option(&self, name: &str) -> Option<&OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }
}

/// Whether `name` can name a flavor: it is used in file names and commands.
pub fn is_flavor_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl From<types::FlavorInfo> for FlavorInfo {
    fn from(info: types::FlavorInfo) -> Self {
        FlavorInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            options: info
                .options
                .into_iter()
                .map(|o| OptionSpec {
                    name: o.name,
                    description: o.description,
                    required: o.required,
                    default: o.default,
                    sensitive: o.sensitive,
                    kind: match o.kind {
                        types::OptionKind::Text => OptionKind::Text,
                        types::OptionKind::StorageFile => OptionKind::StorageFile,
                        types::OptionKind::EndpointUrl => OptionKind::EndpointUrl,
                    },
                })
                .collect(),
            capabilities: Capabilities {
                outbound_hosts: info.capabilities.outbound_hosts,
                environment: info.capabilities.environment,
                storage: info.capabilities.storage,
                files: info.capabilities.files,
            },
            scoped: info.scoped,
        }
    }
}
