//! The `aws` flavor: AWS Secrets Manager, in ZenML's layout.
//!
//! A secret `db` of a manager with scope `component` is the AWS secret
//! `zenml/component/<uuid>/db`; its `SecretString` is the JSON of its
//! values plus `"zenml_schema_name"`, and in a scope it carries ZenML's
//! tags (`zenml_scope`, `zenml_secret_name`, ...). Listing follows
//! `NextToken` to the end and matches names and tags exactly, since AWS's
//! filters match by prefix.

mod client;
mod credentials;

use client::SecretsManager;
use secman_sdk::{
    Capabilities, Error, Flavor, FlavorInfo, Manager, ManagerApi, OptionSpec, Options, Scope,
    Secret, zenml,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// ListSecrets' largest page.
const PAGE_SIZE: u32 = 100;

struct Aws;

impl Flavor for Aws {
    type Manager = AwsManager;

    fn info() -> FlavorInfo {
        FlavorInfo {
            name: "aws".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "AWS Secrets Manager (ZenML's layout)".into(),
            options: vec![
                OptionSpec::new("region_name", "The AWS region, e.g. eu-west-1", true),
                OptionSpec::new(
                    "endpoint_url",
                    "Another endpoint, e.g. a VPC endpoint, LocalStack or moto",
                    false,
                )
                .endpoint_url(),
                OptionSpec::new(
                    "sts_endpoint_url",
                    "Where a profile's role is assumed, if not AWS's STS (a VPC endpoint, moto)",
                    false,
                )
                .endpoint_url(),
                OptionSpec::new(
                    "container_credentials_url",
                    "On ECS or EKS: take the task's or pod's credentials from this endpoint",
                    false,
                )
                .with_default("http://169.254.170.2")
                .endpoint_url(),
                OptionSpec::new(
                    "instance_metadata_url",
                    "On EC2: take the instance role's credentials from its metadata service",
                    false,
                )
                .with_default("http://169.254.169.254")
                .endpoint_url(),
            ],
            capabilities: Capabilities {
                outbound_hosts: vec!["*.amazonaws.com".into()],
                environment: vec![
                    "AWS_ACCESS_KEY_ID".into(),
                    "AWS_SECRET_ACCESS_KEY".into(),
                    "AWS_SESSION_TOKEN".into(),
                    "AWS_PROFILE".into(),
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI".into(),
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN".into(),
                ],
                storage: false,
                files: [credentials::CREDENTIALS_FILE, credentials::CONFIG_FILE]
                    .into_iter()
                    .flat_map(|(variable, in_home)| {
                        [format!("${variable}"), format!("~/{in_home}")]
                    })
                    .collect(),
            },
            scoped: true,
        }
    }
}

struct AwsManager {
    client: SecretsManager,
    scope: Scope,
}

impl ManagerApi for AwsManager {
    fn open(options: Vec<(String, String)>) -> Result<Manager, Error> {
        let options = Options::new(options);
        let scope = Scope::from_options(&options)?;
        if let Some(namespace) = scope.namespace() {
            check_name(namespace, "namespace")?;
        }
        let region = options.require("region_name")?;
        let places = credentials::Places {
            region,
            sts: options.get("sts_endpoint_url"),
            container: options.get("container_credentials_url"),
            instance: options.get("instance_metadata_url"),
        };
        let identity = credentials::find(&places)?;
        let client = SecretsManager::new(region, options.get("endpoint_url"), identity);
        Ok(Manager::new(AwsManager { client, scope }))
    }

    fn register_secret(&self, secret: Secret) -> Result<(), Error> {
        check_name(&secret.name, "secret name")?;
        let aws_name = self.aws_name(&secret.name);
        let tags: Vec<Value> = self
            .scope
            .secret_metadata(&secret.name, &secret.schema)
            .into_iter()
            .map(|(key, value)| json!({"Key": key, "Value": value}))
            .collect();
        let mut input = json!({"Name": aws_name, "SecretString": secret_string(&secret)?});
        if !tags.is_empty() {
            input["Tags"] = Value::Array(tags);
        }
        self.client
            .call::<Value>("CreateSecret", &input)
            .map_err(|e| match e {
                Error::AlreadyExists(_) => Error::AlreadyExists(format!(
                    "secret `{}` already exists (AWS secret {aws_name})",
                    secret.name
                )),
                other => other,
            })?;
        Ok(())
    }

    fn get_secret(&self, name: String) -> Result<Secret, Error> {
        check_name(&name, "secret name")?;
        #[derive(Deserialize)]
        struct Answer {
            #[serde(rename = "SecretString")]
            secret_string: Option<String>,
        }
        let aws_name = self.aws_name(&name);
        let answer: Answer = self
            .client
            .call("GetSecretValue", &json!({"SecretId": aws_name}))
            .map_err(|e| self.not_found(e, &name))?;
        let text = answer.secret_string.ok_or_else(|| {
            Error::Backend(format!(
                "AWS secret {aws_name} holds binary data, not ZenML's JSON"
            ))
        })?;
        zenml::from_json(name, text.as_bytes(), &format!("AWS secret {aws_name}"))
    }

    fn get_all_secret_keys(&self) -> Result<Vec<String>, Error> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(rename = "SecretList", default)]
            secrets: Vec<Listed>,
            #[serde(rename = "NextToken")]
            next_token: Option<String>,
        }
        #[derive(Deserialize)]
        struct Listed {
            #[serde(rename = "Name")]
            name: String,
            #[serde(rename = "Tags", default)]
            tags: Vec<Tag>,
        }
        #[derive(Deserialize)]
        struct Tag {
            #[serde(rename = "Key")]
            key: String,
            #[serde(rename = "Value", default)]
            value: String,
        }

        let wanted = self.scope.scope_metadata();
        let mut input = json!({"MaxResults": PAGE_SIZE, "Filters": self.filters()});
        let mut names = Vec::new();
        for number in 1.. {
            let page: Page = self.client.call("ListSecrets", &input)?;
            secman_sdk::log::debug(&format!(
                "ListSecrets page {number}: {} secrets",
                page.secrets.len()
            ));
            for listed in page.secrets {
                let has = |key: &str, value: &str| {
                    listed.tags.iter().any(|t| t.key == key && t.value == value)
                };
                let in_scope = if self.scope.is_scoped() {
                    wanted.iter().all(|(key, value)| has(key, value))
                } else {
                    !listed.tags.iter().any(|t| t.key == "zenml_scope")
                };
                if let Some(name) = self.scope.unscoped_name(&listed.name, "/")
                    && in_scope
                {
                    names.push(name.to_string());
                }
            }
            match page.next_token {
                Some(token) if !token.is_empty() => input["NextToken"] = Value::String(token),
                _ => break,
            }
        }
        Ok(names)
    }

    fn update_secret(&self, secret: Secret) -> Result<(), Error> {
        check_name(&secret.name, "secret name")?;
        let input = json!({
            "SecretId": self.aws_name(&secret.name),
            "SecretString": secret_string(&secret)?,
        });
        self.client
            .call::<Value>("PutSecretValue", &input)
            .map_err(|e| self.not_found(e, &secret.name))?;
        Ok(())
    }

    fn delete_secret(&self, name: String) -> Result<(), Error> {
        check_name(&name, "secret name")?;
        let id = json!({"SecretId": self.aws_name(&name)});
        // Some servers (moto) answer a forced delete of a missing secret
        // with success: ask first, so a missing secret is `not-found`.
        self.client
            .call::<Value>("DescribeSecret", &id)
            .map_err(|e| self.not_found(e, &name))?;
        let input = json!({"SecretId": self.aws_name(&name), "ForceDeleteWithoutRecovery": true});
        self.client
            .call::<Value>("DeleteSecret", &input)
            .map_err(|e| self.not_found(e, &name))?;
        Ok(())
    }

    fn delete_all_secrets(&self, force: bool) -> Result<(), Error> {
        if !force {
            return Err(Error::Invalid("deleting all secrets needs force".into()));
        }
        for name in self.get_all_secret_keys()? {
            match self.delete_secret(name) {
                // Deleted meanwhile by someone else: the goal is met.
                Ok(()) | Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl AwsManager {
    fn aws_name(&self, name: &str) -> String {
        self.scope.scoped_name(name, "/")
    }

    /// ListSecrets filters narrowing the listing to the scope; AWS matches
    /// them by prefix, so listing checks the results again exactly.
    ///
    /// Scope `none` lists everything: ZenML's negated filter
    /// (`!zenml_scope`) is read differently by different servers (moto
    /// returns only tagged secrets for it), and an exact check follows
    /// anyway.
    fn filters(&self) -> Vec<Value> {
        if !self.scope.is_scoped() {
            return vec![];
        }
        let mut filters: Vec<Value> = self
            .scope
            .scope_metadata()
            .into_iter()
            .flat_map(|(key, value)| {
                [
                    json!({"Key": "tag-key", "Values": [key]}),
                    json!({"Key": "tag-value", "Values": [value]}),
                ]
            })
            .collect();
        let prefix = format!("{}/", self.scope.path().join("/"));
        filters.push(json!({"Key": "name", "Values": [prefix]}));
        filters
    }

    /// A clearer `not-found` for the secret `name`.
    fn not_found(&self, error: Error, name: &str) -> Error {
        match error {
            Error::NotFound(_) => Error::NotFound(format!(
                "secret `{name}` does not exist (AWS secret {}, scope {})",
                self.aws_name(name),
                self.scope.name()
            )),
            other => other,
        }
    }
}

/// AWS's characters for names, without `/`, which separates scope paths.
fn check_name(name: &str, what: &str) -> Result<(), Error> {
    let valid = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=.@-".contains(c));
    if valid && !name.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "`{name}` is not a valid {what} for AWS: use letters, digits and `_+=.@-`"
        )))
    }
}

/// The most a secret's value may hold in Secrets Manager, in bytes.
const MAX_SECRET_BYTES: usize = 65_536;

/// ZenML's `SecretString`: the values plus the schema, as JSON; `invalid`
/// when it is more than Secrets Manager stores.
fn secret_string(secret: &Secret) -> Result<String, Error> {
    let text = zenml::to_json(secret);
    if text.len() > MAX_SECRET_BYTES {
        return Err(Error::Invalid(format!(
            "secret `{}` is {} bytes as JSON, and AWS Secrets Manager stores at most {} bytes \
             per secret: split it, or keep large values in a file",
            secret.name,
            text.len(),
            MAX_SECRET_BYTES
        )));
    }
    Ok(text)
}

secman_sdk::export!(Aws);
