//! ZenML's scopes: how secrets of different managers are kept apart on one
//! backend, by a path before their names and metadata beside them.
//!
//! | scope | path | metadata (AWS tags, GCP labels) |
//! |---|---|---|
//! | `none` | (none) | (none) |
//! | `global` | `zenml/global` | `zenml_scope` |
//! | `component` | `zenml/component/<uuid>` | `zenml_scope`, `zenml_component_uuid` |
//! | `namespace` | `zenml/namespace/<namespace>` | `zenml_scope`, `zenml_namespace` |
//!
//! A stored secret also carries `zenml_secret_name`, `zenml_secret_schema`,
//! `zenml_component_name` and `zenml_component_uuid`, as ZenML wrote them.

use crate::{Error, Options};

/// Where a manager's secrets live on a shared backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    kind: ScopeKind,
    component_uuid: String,
    component_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ScopeKind {
    None,
    Global,
    Component,
    Namespace(String),
}

impl Scope {
    /// The scope the host put in a manager's options.
    pub fn from_options(options: &Options) -> Result<Scope, Error> {
        let kind = match options.get("scope").unwrap_or("none") {
            "none" => ScopeKind::None,
            "global" => ScopeKind::Global,
            "component" => ScopeKind::Component,
            "namespace" => ScopeKind::Namespace(options.require("namespace")?.to_string()),
            other => return Err(Error::Invalid(format!("unknown scope `{other}`"))),
        };
        Ok(Scope {
            kind,
            component_uuid: options
                .get("component_uuid")
                .unwrap_or_default()
                .to_string(),
            component_name: options
                .get("component_name")
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// The scope's name: `none`, `global`, `component` or `namespace`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            ScopeKind::None => "none",
            ScopeKind::Global => "global",
            ScopeKind::Component => "component",
            ScopeKind::Namespace(_) => "namespace",
        }
    }

    /// Whether secrets are kept apart at all.
    pub fn is_scoped(&self) -> bool {
        self.kind != ScopeKind::None
    }

    /// The namespace, for the namespace scope.
    pub fn namespace(&self) -> Option<&str> {
        match &self.kind {
            ScopeKind::Namespace(namespace) => Some(namespace),
            _ => None,
        }
    }

    /// The path before a secret's name: empty for `none`.
    pub fn path(&self) -> Vec<&str> {
        match &self.kind {
            ScopeKind::None => vec![],
            ScopeKind::Global => vec!["zenml", "global"],
            ScopeKind::Component => vec!["zenml", "component", &self.component_uuid],
            ScopeKind::Namespace(namespace) => vec!["zenml", "namespace", namespace],
        }
    }

    /// The backend's name for the secret `name`: the path and the name
    /// joined by `separator`.
    pub fn scoped_name(&self, name: &str, separator: &str) -> String {
        let mut path = self.path();
        path.push(name);
        path.join(separator)
    }

    /// The secret name inside `scoped`, if `scoped` belongs to this scope.
    pub fn unscoped_name<'a>(&self, scoped: &'a str, separator: &str) -> Option<&'a str> {
        let mut prefix = self.path().join(separator);
        if !prefix.is_empty() {
            prefix.push_str(separator);
        }
        let name = scoped.strip_prefix(&prefix)?;
        (!name.is_empty() && !name.contains(separator)).then_some(name)
    }

    /// The metadata every secret of this scope carries, to filter on.
    pub fn scope_metadata(&self) -> Vec<(&'static str, String)> {
        let mut metadata = vec![];
        if !self.is_scoped() {
            return metadata;
        }
        metadata.push(("zenml_scope", self.name().to_string()));
        match &self.kind {
            ScopeKind::Namespace(namespace) => {
                metadata.push(("zenml_namespace", namespace.clone()))
            }
            ScopeKind::Component => {
                metadata.push(("zenml_component_uuid", self.component_uuid.clone()))
            }
            _ => {}
        }
        metadata
    }

    /// The metadata ZenML stores with a secret: none for scope `none`.
    pub fn secret_metadata(&self, name: &str, schema: &str) -> Vec<(&'static str, String)> {
        let mut metadata = self.scope_metadata();
        if !self.is_scoped() {
            return metadata;
        }
        metadata.retain(|(key, _)| *key != "zenml_component_uuid");
        metadata.extend([
            ("zenml_secret_name", name.to_string()),
            ("zenml_component_name", self.component_name.clone()),
            ("zenml_component_uuid", self.component_uuid.clone()),
            ("zenml_secret_schema", schema.to_string()),
        ]);
        metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(pairs: &[(&str, &str)]) -> Scope {
        let pairs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Scope::from_options(&Options::new(pairs)).unwrap()
    }

    #[test]
    fn names_follow_zenml_paths() {
        let base = [("component_uuid", "u-1"), ("component_name", "prod")];
        let none = scope(&base);
        assert_eq!(none.scoped_name("db", "/"), "db");
        let global = scope(&[base[0], base[1], ("scope", "global")]);
        assert_eq!(global.scoped_name("db", "/"), "zenml/global/db");
        let component = scope(&[base[0], base[1], ("scope", "component")]);
        assert_eq!(component.scoped_name("db", "-"), "zenml-component-u-1-db");
        let namespace = scope(&[
            base[0],
            base[1],
            ("scope", "namespace"),
            ("namespace", "team"),
        ]);
        assert_eq!(namespace.scoped_name("db", "/"), "zenml/namespace/team/db");
    }

    #[test]
    fn unscoped_names_must_sit_exactly_in_the_scope() {
        let global = scope(&[("scope", "global")]);
        assert_eq!(global.unscoped_name("zenml/global/db", "/"), Some("db"));
        assert_eq!(global.unscoped_name("zenml/global/a/b", "/"), None);
        assert_eq!(global.unscoped_name("zenml/globalx/db", "/"), None);
        assert_eq!(global.unscoped_name("db", "/"), None);
        let none = scope(&[]);
        assert_eq!(none.unscoped_name("db", "/"), Some("db"));
        assert_eq!(none.unscoped_name("zenml/global/db", "/"), None);
    }

    #[test]
    fn metadata_is_zenmls() {
        let component = scope(&[
            ("scope", "component"),
            ("component_uuid", "u"),
            ("component_name", "n"),
        ]);
        assert_eq!(
            component.scope_metadata(),
            vec![
                ("zenml_scope", "component".into()),
                ("zenml_component_uuid", "u".into())
            ]
        );
        assert_eq!(
            component.secret_metadata("db", "aws"),
            vec![
                ("zenml_scope", "component".into()),
                ("zenml_secret_name", "db".into()),
                ("zenml_component_name", "n".into()),
                ("zenml_component_uuid", "u".into()),
                ("zenml_secret_schema", "aws".into()),
            ]
        );
        assert!(scope(&[]).secret_metadata("db", "aws").is_empty());
    }
}
