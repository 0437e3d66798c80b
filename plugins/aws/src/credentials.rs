//! AWS credentials, found where AWS's own tools find them:
//!
//! 1. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and
//!    `AWS_SESSION_TOKEN`);
//! 2. the profile `AWS_PROFILE` names (else `default`) in the shared files,
//!    `~/.aws/credentials` and `~/.aws/config` (or the files
//!    `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` name): its static
//!    keys and session token, or its `role_arn`, assumed through STS
//!    `AssumeRole` with the credentials of its `source_profile` (which may
//!    itself assume a role);
//! 3. where the manager names them, and only there (they are on
//!    link-local addresses nothing reaches unless named): the credentials
//!    endpoint of an ECS or EKS container (`container_credentials_url`, with
//!    `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` and
//!    `AWS_CONTAINER_AUTHORIZATION_TOKEN`), then an EC2 instance's metadata
//!    service, IMDSv2 (`instance_metadata_url`).
//!
//! The files are read-only copies the host gives the flavor
//! (`capabilities.files`). No message quotes a key or a token.

use std::collections::BTreeMap;

use aws_credential_types::Credentials;
use secman_sdk::Error;
use secman_sdk::http;

use crate::client::{self, Failure, Identity, xml_field};

/// The shared credentials file, in the home, and its variable.
pub const CREDENTIALS_FILE: (&str, &str) = ("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
/// The shared config file, in the home, and its variable.
pub const CONFIG_FILE: (&str, &str) = ("AWS_CONFIG_FILE", ".aws/config");
/// How deep `source_profile` may chain.
const MAX_CHAIN: usize = 5;

/// Where credentials may be asked for, as the manager configures them.
pub struct Places<'a> {
    /// The manager's region.
    pub region: &'a str,
    /// The user's STS endpoint, if not AWS's.
    pub sts: Option<&'a str>,
    /// A container's credentials endpoint, if the user named it.
    pub container: Option<&'a str>,
    /// An instance's metadata service, if the user named it.
    pub instance: Option<&'a str>,
}

/// The first credentials found, in AWS's order.
pub fn find(places: &Places) -> Result<Identity, Error> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Identity {
            credentials: Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "env"),
            source: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
        });
    }
    let files = SharedFiles::read()?;
    let named = var("AWS_PROFILE");
    let profile = named.as_deref().unwrap_or("default");
    if files.has(profile) {
        return files.resolve(profile, places, 0);
    }
    if named.is_some() {
        return Err(Error::Invalid(format!(
            "AWS_PROFILE names profile `{profile}`, which is in neither {} nor {}: see `aws \
             configure list-profiles`",
            files.credentials.0, files.config.0
        )));
    }
    if let Some(base) = places.container {
        return container_credentials(base);
    }
    if let Some(base) = places.instance {
        return instance_credentials(base);
    }
    Err(Error::Denied(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
         AWS_SESSION_TOKEN for temporary ones) in secman's environment, or configure a \
         profile in ~/.aws/credentials or ~/.aws/config (`aws configure`) and name it with \
         AWS_PROFILE; on EC2, ECS or EKS, set the manager's option instance_metadata_url or \
         container_credentials_url"
            .into(),
    ))
}

/// Temporary credentials as the metadata services give them.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Issued {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
}

impl Issued {
    fn read(response: &http::Response, source: String) -> Result<Identity, Error> {
        if !response.status.is_success() {
            return Err(Error::Denied(format!(
                "{source} gave no credentials: {}",
                response.status
            )));
        }
        let issued: Issued = response.json(&format!("the answer of {source}"))?;
        Ok(Identity {
            credentials: Credentials::new(
                issued.access_key_id,
                issued.secret_access_key,
                issued.token.filter(|t| !t.is_empty()),
                None,
                "metadata",
            ),
            source,
        })
    }
}

/// A GET of `url` with `headers`, retried as other calls are.
fn get(url: &str, headers: &[(&str, &str)]) -> Result<http::Response, Error> {
    http::send_retrying(
        "a metadata request",
        || {
            let mut request = http::Request::get(url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            request
                .body(Vec::new())
                .map_err(|e| Error::Invalid(format!("cannot ask {url} for credentials: {e}")))
        },
        http::is_transient,
    )
}

/// An ECS or EKS container's credentials, from the endpoint at `base`.
fn container_credentials(base: &str) -> Result<Identity, Error> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let path = var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").ok_or_else(|| {
        Error::Denied(
            "container_credentials_url is set, but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is \
             not: is this an ECS task or an EKS pod with credentials?"
                .into(),
        )
    })?;
    let url = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let token = var("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    let headers: Vec<(&str, &str)> = token
        .iter()
        .map(|t| ("authorization", t.as_str()))
        .collect();
    Issued::read(
        &get(&url, &headers)?,
        format!("the container credentials at {base}"),
    )
}

/// An EC2 instance's role credentials, from IMDSv2 at `base`.
fn instance_credentials(base: &str) -> Result<Identity, Error> {
    let base = base.trim_end_matches('/');
    let source = format!("the instance metadata service at {base}");
    let session = http::send(
        http::Request::put(format!("{base}/latest/api/token"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", "300")
            .body(Vec::new())
            .map_err(|e| Error::Invalid(format!("cannot ask {source} for a token: {e}")))?,
    )?;
    if !session.status.is_success() {
        return Err(Error::Denied(format!(
            "{source} gave no session token (IMDSv2): {}",
            session.status
        )));
    }
    let token = session.text();
    let headers = [("x-aws-ec2-metadata-token", token.trim())];
    let roles = format!("{base}/latest/meta-data/iam/security-credentials/");
    let listed = get(&roles, &headers)?;
    let role = listed.text();
    let role = role.lines().next().unwrap_or_default().trim();
    if !listed.status.is_success() || role.is_empty() {
        return Err(Error::Denied(format!(
            "{source} names no role: does the instance have an instance profile?"
        )));
    }
    let identity = Issued::read(&get(&format!("{roles}{role}"), &headers)?, source)?;
    Ok(Identity {
        source: format!("{} (role {role})", identity.source),
        ..identity
    })
}

/// A profile's settings: key -> value.
type Section = BTreeMap<String, String>;

/// The two shared files: (where, profile -> settings).
struct SharedFiles {
    credentials: (String, BTreeMap<String, Section>),
    config: (String, BTreeMap<String, Section>),
}

impl SharedFiles {
    fn read() -> Result<SharedFiles, Error> {
        let load = |(variable, in_home): (&str, &str), config: bool| {
            let path = match std::env::var(variable).ok().filter(|v| !v.is_empty()) {
                Some(path) => path,
                None => match std::env::var("HOME").ok().filter(|h| !h.is_empty()) {
                    Some(home) => format!("{}/{in_home}", home.trim_end_matches('/')),
                    None => return Ok((format!("~/{in_home}"), BTreeMap::new())),
                },
            };
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => {
                    return Err(Error::Denied(format!(
                        "cannot read {path} ({e}): grant it with `secman flavor grant NAME \
                         --allow-file` if the flavor is not built in"
                    )));
                }
            };
            Ok((path, parse(&text, config)))
        };
        Ok(SharedFiles {
            credentials: load(CREDENTIALS_FILE, false)?,
            config: load(CONFIG_FILE, true)?,
        })
    }

    fn has(&self, profile: &str) -> bool {
        self.credentials.1.contains_key(profile) || self.config.1.contains_key(profile)
    }

    /// Setting `key` of `profile`: the credentials file's first, as AWS
    /// merges them.
    fn get(&self, profile: &str, key: &str) -> Option<&str> {
        [&self.credentials.1, &self.config.1]
            .into_iter()
            .find_map(|file| file.get(profile)?.get(key))
            .map(String::as_str)
    }

    /// The credentials of `profile`, `depth` deep in a chain of
    /// `source_profile`s.
    fn resolve(&self, profile: &str, places: &Places, depth: usize) -> Result<Identity, Error> {
        let place = format!(
            "profile `{profile}` of {} and {}",
            self.credentials.0, self.config.0
        );
        if !self.has(profile) {
            return Err(Error::Invalid(format!(
                "{place}: there is no such profile (a source_profile names it)"
            )));
        }
        if depth > MAX_CHAIN {
            return Err(Error::Invalid(format!(
                "{place}: its source_profile chain is longer than {MAX_CHAIN} or a loop"
            )));
        }
        if let Some(role) = self.get(profile, "role_arn") {
            let base = match self.get(profile, "source_profile") {
                // A profile may name itself for its own static keys.
                Some(source) if source == profile => self.static_keys(profile, &place)?,
                Some(source) => Some(self.resolve(source, places, depth + 1)?),
                None => None,
            };
            let Some(base) = base else {
                let how = if self.get(profile, "credential_source").is_some() {
                    "credential_source, which secman does not use"
                } else {
                    "no source_profile"
                };
                return Err(Error::Invalid(format!(
                    "{place}: it assumes role {role} with {how}: name the profile with the keys \
                     to assume it with as source_profile"
                )));
            };
            return assume_role(&base, role, profile, self, places);
        }
        if let Some(identity) = self.static_keys(profile, &place)? {
            return Ok(identity);
        }
        let unsupported = ["credential_process", "sso_session", "sso_start_url"]
            .into_iter()
            .find(|key| self.get(profile, key).is_some());
        Err(Error::Denied(match unsupported {
            Some(key) => format!(
                "{place}: its credentials come from {key}, which a sandboxed flavor cannot use: \
                 export them (`eval \"$(aws configure export-credentials --profile {profile} \
                 --format env)\"`) before running secman"
            ),
            None => format!(
                "{place}: it has no aws_access_key_id and aws_secret_access_key, and no role_arn"
            ),
        }))
    }

    /// The static keys of `profile`, if it has them.
    fn static_keys(&self, profile: &str, place: &str) -> Result<Option<Identity>, Error> {
        match (
            self.get(profile, "aws_access_key_id"),
            self.get(profile, "aws_secret_access_key"),
        ) {
            (Some(key), Some(secret)) => Ok(Some(Identity {
                credentials: Credentials::new(
                    key,
                    secret,
                    self.get(profile, "aws_session_token").map(str::to_string),
                    None,
                    "profile",
                ),
                source: place.to_string(),
            })),
            (None, None) => Ok(None),
            _ => Err(Error::Invalid(format!(
                "{place}: it has only one of aws_access_key_id and aws_secret_access_key"
            ))),
        }
    }
}

/// Reads an INI file as AWS's tools do: `[name]` sections (`[profile
/// name]` in the config file, where `[default]` is plain), `key = value`
/// lines, `#` and `;` comments; indented lines (a service's nested
/// settings) are skipped. Written here: it is 30 lines, and no INI crate
/// knows AWS's section names.
fn parse(text: &str, config: bool) -> BTreeMap<String, Section> {
    let mut sections: BTreeMap<String, Section> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            current = match name.strip_prefix("profile ") {
                Some(profile) if config => Some(profile.trim().to_string()),
                None if !config || name == "default" => Some(name.to_string()),
                // `[sso-session x]`, `[services x]`, or a config section
                // without `profile `: not a profile.
                _ => None,
            };
            if let Some(name) = &current {
                sections.entry(name.clone()).or_default();
            }
            continue;
        }
        if let (Some(section), Some((key, value))) = (&current, line.split_once('=')) {
            let section = sections.entry(section.clone()).or_default();
            section
                .entry(key.trim().to_ascii_lowercase())
                .or_insert_with(|| value.trim().to_string());
        }
    }
    sections
}

/// STS `AssumeRole` of `role` (for `profile`) with `base`.
fn assume_role(
    base: &Identity,
    role: &str,
    profile: &str,
    files: &SharedFiles,
    places: &Places,
) -> Result<Identity, Error> {
    let session = files
        .get(profile, "role_session_name")
        .map(str::to_string)
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            format!("secman-{now}")
        });
    let duration = files.get(profile, "duration_seconds").unwrap_or("3600");
    let mut form = vec![
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", role),
        ("RoleSessionName", session.as_str()),
        ("DurationSeconds", duration),
    ];
    if let Some(external) = files.get(profile, "external_id") {
        form.push(("ExternalId", external));
    }
    // RFC 3986's unreserved characters stay as they are, as AWS's SDKs
    // send them (a server may sign the form as it re-encodes it).
    const VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, VALUE)))
        .collect::<Vec<_>>()
        .join("&");
    let url = client::service_endpoint("sts", places.region, places.sts);
    let headers = [(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )];
    let response = http::send_retrying(
        "AssumeRole",
        || {
            client::signed(
                &base.credentials,
                places.region,
                "sts",
                &url,
                &headers,
                body.as_bytes(),
            )
        },
        |response| Failure::read(response).is_transient(),
    )?;
    if !response.status.is_success() {
        let error = Failure::read(&response).into_error("AssumeRole", &base.source);
        return Err(match error {
            Error::Denied(why) | Error::Invalid(why) | Error::NotFound(why) => Error::Denied(
                format!("cannot assume role {role} for profile `{profile}`: {why}"),
            ),
            other => other,
        });
    }
    let text = response.text();
    let (key, secret, token) = (
        xml_field(&text, "AccessKeyId"),
        xml_field(&text, "SecretAccessKey"),
        xml_field(&text, "SessionToken"),
    );
    if key.is_empty() || secret.is_empty() || token.is_empty() {
        return Err(Error::Backend(format!(
            "STS's answer to AssumeRole of {role} holds no credentials"
        )));
    }
    Ok(Identity {
        credentials: Credentials::new(key, secret, Some(token), None, "assumed-role"),
        source: format!(
            "role {role}, assumed for profile `{profile}` with the credentials in {}",
            base.source
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn shared_files_read_as_aws_reads_them() {
        let config = parse(
            "[default]\nregion = eu-west-1\n[profile deploy]\nrole_arn = arn:aws:iam::1:role/r\n\
             source_profile=base\n  s3 =\n    max = 1\n\
             [sso-session corp]\nsso_region = x\n[plain]\nk = v\n# note\n",
            true,
        );
        assert_eq!(config["default"]["region"], "eu-west-1");
        assert_eq!(config["deploy"]["role_arn"], "arn:aws:iam::1:role/r");
        assert_eq!(config["deploy"]["source_profile"], "base");
        assert!(!config["deploy"].contains_key("max"));
        assert!(!config.contains_key("corp") && !config.contains_key("plain"));
        let credentials = parse("[base]\nAWS_ACCESS_KEY_ID = AKIA1\n", false);
        assert_eq!(credentials["base"]["aws_access_key_id"], "AKIA1");
    }
}
