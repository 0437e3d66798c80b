//! Google credentials, found where Google's own libraries look for them:
//!
//! 1. a ready access token in `GOOGLE_OAUTH_ACCESS_TOKEN` (as Terraform's
//!    Google provider takes it);
//! 2. the key file `GOOGLE_APPLICATION_CREDENTIALS` names: a service
//!    account's (an RS256 JWT, signed here, exchanged at its `token_uri`)
//!    or a user's (`authorized_user`: its refresh token exchanged);
//! 3. the application-default credentials `gcloud auth application-default
//!    login` writes, `~/.config/gcloud/application_default_credentials.json`;
//! 4. the metadata server of a GCE or GKE machine, only where the user set
//!    the manager's `metadata_server` option: it is on a link-local address
//!    that nothing reaches unless granted by name.
//!
//! With an emulator (`endpoint`) and none of them, requests go without a
//! token. A token is kept for its lifetime, less a minute, and asked for
//! again after that.
//!
//! The files are read-only copies the host gives the flavor
//! (`capabilities.files`); no message here quotes a key, a token or a
//! refresh token.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use secman_sdk::http::{self, HeaderValue, Method, Request, header};
use secman_sdk::{Error, Options};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

/// The variable holding a ready access token.
pub const TOKEN_VARIABLE: &str = "GOOGLE_OAUTH_ACCESS_TOKEN";
/// The variable naming a key file.
pub const KEY_FILE_VARIABLE: &str = "GOOGLE_APPLICATION_CREDENTIALS";
/// Where `gcloud auth application-default login` writes, in the home.
pub const ADC_FILE: &str = ".config/gcloud/application_default_credentials.json";
/// Google's token endpoint.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The scope Secret Manager needs.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// How long a signed assertion is valid (Google's maximum).
const ASSERTION_SECONDS: u64 = 3600;
/// A token this close to its end is asked for again.
const EXPIRY_MARGIN_SECONDS: u64 = 60;

/// Where the access token comes from, and the token while it lasts.
pub struct Credentials {
    source: Source,
    cached: RefCell<Option<(HeaderValue, u64)>>,
}

enum Source {
    /// A token given as is.
    Ready(HeaderValue),
    /// A service account's key.
    ServiceAccount {
        file: String,
        email: String,
        key_id: Option<String>,
        key: Box<RsaPrivateKey>,
        audience: String,
        endpoint: String,
    },
    /// A user's refresh token.
    AuthorizedUser {
        file: String,
        client_id: String,
        client_secret: String,
        refresh_token: String,
        endpoint: String,
    },
    /// The metadata server at this URL.
    Metadata(String),
    /// No token: an emulator.
    Anonymous,
}

/// A credentials file, as Google writes them.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

/// A token endpoint's answer.
#[derive(Deserialize)]
struct Issued {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// A token endpoint's refusal.
#[derive(Deserialize)]
struct Refusal {
    error: Option<serde_json::Value>,
    error_description: Option<String>,
}

impl Credentials {
    /// The first credentials found, in Google's order; with `emulator`, no
    /// credentials at all is allowed.
    pub fn find(options: &Options, emulator: bool) -> Result<Credentials, Error> {
        let source = find_source(options, emulator)?;
        Ok(Credentials {
            source,
            cached: RefCell::new(None),
        })
    }

    /// The `Authorization` header to send, if any: the cached token while
    /// it lasts, else a new one.
    pub fn authorization(&self) -> Result<Option<HeaderValue>, Error> {
        let now = now();
        if let Some((header, until)) = &*self.cached.borrow()
            && now < *until
        {
            return Ok(Some(header.clone()));
        }
        let (token, lifetime) = match &self.source {
            Source::Ready(header) => return Ok(Some(header.clone())),
            Source::Anonymous => return Ok(None),
            Source::ServiceAccount {
                file,
                email,
                key_id,
                key,
                audience,
                endpoint,
            } => {
                let assertion = sign_assertion(email, key_id.as_deref(), key, audience, now)
                    .map_err(|e| {
                        Error::Denied(format!("cannot sign with the key in {file}: {e}"))
                    })?;
                let form = form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &assertion),
                ]);
                exchange(endpoint, form, file)?
            }
            Source::AuthorizedUser {
                file,
                client_id,
                client_secret,
                refresh_token,
                endpoint,
            } => {
                let form = form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                    ("refresh_token", refresh_token),
                ]);
                exchange(endpoint, form, file)?
            }
            Source::Metadata(base) => metadata_token(base)?,
        };
        let header = bearer(&token)?;
        let until = now + lifetime.saturating_sub(EXPIRY_MARGIN_SECONDS);
        *self.cached.borrow_mut() = Some((header.clone(), until));
        Ok(Some(header))
    }
}

fn find_source(options: &Options, emulator: bool) -> Result<Source, Error> {
    if let Some(token) = variable(TOKEN_VARIABLE) {
        return Ok(Source::Ready(bearer(&token)?));
    }
    let token_endpoint = options.get("token_endpoint");
    if let Some(path) = variable(KEY_FILE_VARIABLE) {
        let text = std::fs::read(&path).map_err(|e| {
            Error::Denied(format!(
                "{KEY_FILE_VARIABLE} names {path}, which cannot be read ({e}): point it at a \
                 key file, or grant the file with `secman flavor grant NAME --allow-file \
                 '${KEY_FILE_VARIABLE}'`"
            ))
        })?;
        return key_file_source(&path, &text, token_endpoint);
    }
    if let Some(home) = variable("HOME") {
        let path = format!("{}/{ADC_FILE}", home.trim_end_matches('/'));
        if let Ok(text) = std::fs::read(&path) {
            return key_file_source(&path, &text, token_endpoint);
        }
    }
    if let Some(server) = options.get("metadata_server") {
        return Ok(Source::Metadata(server.trim_end_matches('/').to_string()));
    }
    if emulator {
        return Ok(Source::Anonymous);
    }
    Err(Error::Denied(format!(
        "no Google credentials: set {KEY_FILE_VARIABLE} to a service account's key file, run \
         `gcloud auth application-default login`, set {TOKEN_VARIABLE} (e.g. to the output of \
         `gcloud auth print-access-token`), or on a GCE or GKE machine set the manager's option \
         metadata_server=http://metadata.google.internal"
    )))
}

/// The source a credentials file at `path` describes.
fn key_file_source(path: &str, text: &[u8], token_endpoint: Option<&str>) -> Result<Source, Error> {
    let file: KeyFile = serde_json::from_slice(text).map_err(|e| {
        // Only where it failed: serde's message can quote the content.
        Error::Invalid(format!(
            "{path} is not a Google credentials file (JSON with a `type`): it fails at line {} \
             column {}",
            e.line(),
            e.column()
        ))
    })?;
    let missing = |field: &str| {
        Error::Invalid(format!(
            "{path} is a `{}` credentials file without `{field}`: download it again",
            file.kind
        ))
    };
    let token_uri = file.token_uri.as_deref().unwrap_or(GOOGLE_TOKEN_URI);
    let endpoint = match token_endpoint {
        Some(endpoint) => endpoint.to_string(),
        None if token_uri == GOOGLE_TOKEN_URI => token_uri.to_string(),
        None => {
            return Err(Error::Denied(format!(
                "the token_uri of {path} is {token_uri}, not Google's: set the manager's option \
                 token_endpoint={token_uri} to let the flavor send it the key's assertion"
            )));
        }
    };
    match file.kind.as_str() {
        "service_account" => {
            let email = file
                .client_email
                .clone()
                .ok_or_else(|| missing("client_email"))?;
            let pem = file
                .private_key
                .as_deref()
                .ok_or_else(|| missing("private_key"))?;
            let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| {
                Error::Invalid(format!(
                    "the private_key in {path} is not an RSA key in PKCS#8 PEM, as Google \
                     writes them: download the key again"
                ))
            })?;
            Ok(Source::ServiceAccount {
                file: path.into(),
                email,
                key_id: file.private_key_id.clone(),
                key: Box::new(key),
                audience: token_uri.into(),
                endpoint,
            })
        }
        "authorized_user" => Ok(Source::AuthorizedUser {
            file: path.into(),
            client_id: file.client_id.clone().ok_or_else(|| missing("client_id"))?,
            client_secret: file
                .client_secret
                .clone()
                .ok_or_else(|| missing("client_secret"))?,
            refresh_token: file
                .refresh_token
                .clone()
                .ok_or_else(|| missing("refresh_token"))?,
            endpoint,
        }),
        other => Err(Error::Denied(format!(
            "{path} holds credentials of type `{}`, which this flavor does not use: give it a \
             service account's key (`service_account`) or a user's (`gcloud auth \
             application-default login`)",
            other.escape_debug()
        ))),
    }
}

/// The RS256 JWT a service account sends for a token.
fn sign_assertion(
    email: &str,
    key_id: Option<&str>,
    key: &RsaPrivateKey,
    audience: &str,
    now: u64,
) -> Result<String, rsa::signature::Error> {
    let mut head = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(id) = key_id {
        head["kid"] = id.into();
    }
    let claims = json!({
        "iss": email,
        "scope": SCOPE,
        "aud": audience,
        "iat": now,
        "exp": now + ASSERTION_SECONDS,
    });
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(head.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signer = SigningKey::<Sha256>::new(key.clone());
    let signature = signer.try_sign_with_rng(&mut rand_core::OsRng, signed.as_bytes())?;
    Ok(format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// Exchanges `form` at `endpoint` for (token, lifetime in seconds); `file`
/// names the credentials in errors.
fn exchange(endpoint: &str, form: String, file: &str) -> Result<(String, u64), Error> {
    let response = http::send_retrying(
        "the token exchange",
        || {
            Request::builder()
                .method(Method::POST)
                .uri(endpoint)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.clone().into_bytes())
                .map_err(|e| Error::Invalid(format!("cannot ask {endpoint} for a token: {e}")))
        },
        http::is_transient,
    )?;
    if !response.status.is_success() {
        let refusal: Option<Refusal> = serde_json::from_slice(&response.body).ok();
        let why = refusal
            .map(|r| {
                let error = r.error.map(|e| match e {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
                [error, r.error_description]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ")
            })
            .filter(|why| !why.is_empty())
            .unwrap_or_else(|| response.status.to_string());
        return Err(Error::Denied(format!(
            "Google refused the credentials in {file} at {endpoint}: {why}"
        )));
    }
    let issued: Issued = response.json(&format!("the answer of {endpoint}"))?;
    Ok((issued.access_token, issued.expires_in.unwrap_or(3600)))
}

/// A token from the metadata server at `base`.
fn metadata_token(base: &str) -> Result<(String, u64), Error> {
    let url = format!("{base}/computeMetadata/v1/instance/service-accounts/default/token");
    let response = http::send_retrying(
        "the metadata server",
        || {
            Request::builder()
                .uri(&url)
                .header("Metadata-Flavor", "Google")
                .body(Vec::new())
                .map_err(|e| Error::Invalid(format!("cannot ask {url} for a token: {e}")))
        },
        http::is_transient,
    )?;
    if !response.status.is_success() {
        return Err(Error::Denied(format!(
            "the metadata server at {base} gave no token: {} (does this machine have a \
             service account?)",
            response.status
        )));
    }
    let issued: Issued = response.json(&format!("the answer of {url}"))?;
    Ok((issued.access_token, issued.expires_in.unwrap_or(3600)))
}

/// `Bearer TOKEN` as a header.
fn bearer(token: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| Error::Denied("the Google access token holds characters no token has".into()))
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of variable `name`, if set and not empty.
fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Seconds since 1970.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
