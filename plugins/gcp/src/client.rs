//! Secret Manager's REST API (v1): the calls the flavor makes, Google's
//! errors mapped to the contract, throttling and server errors retried.

use std::collections::BTreeMap;

use crate::auth::Credentials;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secman_sdk::Error;
use secman_sdk::http::{self, Method, Request, Response, StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Google's own endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://secretmanager.googleapis.com";
/// The most a secret version holds, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 65_536;
/// The secrets asked for per ListSecrets page (Google allows 25,000).
const PAGE_SIZE: u32 = 250;
/// What a query value keeps unescaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A GCP secret's metadata: its id and labels.
#[derive(Debug, Deserialize)]
pub struct Listed {
    /// `projects/<project>/secrets/<id>`.
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

impl Listed {
    /// The secret's id.
    pub fn id(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or_default()
    }

    /// The value of label `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}

/// A connection to one project's secrets.
pub struct SecretManager {
    /// `<endpoint>/v1/projects/<project>/secrets`.
    base: String,
    /// Where the `Authorization` header comes from.
    credentials: Credentials,
}

impl SecretManager {
    /// A client for `project` at `endpoint` (or Google's own),
    /// authenticated by `credentials`.
    pub fn new(endpoint: Option<&str>, project: &str, credentials: Credentials) -> Self {
        let endpoint = endpoint.map_or(DEFAULT_ENDPOINT, |e| e.trim_end_matches('/'));
        SecretManager {
            base: format!("{endpoint}/v1/projects/{project}/secrets"),
            credentials,
        }
    }

    /// Creates secret `id` with `labels` and automatic replication, with no
    /// version yet.
    pub fn create(&self, id: &str, labels: &[(&str, String)]) -> Result<(), Error> {
        let labels: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(key, value)| (key.to_string(), Value::String(value.clone())))
            .collect();
        let body = json!({"replication": {"automatic": {}}, "labels": labels});
        self.call::<Value>(
            Method::POST,
            &format!("?secretId={id}"),
            Some(&body),
            "CreateSecret",
        )?;
        Ok(())
    }

    /// Adds a version holding `data` to secret `id`, with its checksum, so
    /// Google refuses it if it was damaged on the way.
    pub fn add_version(&self, id: &str, data: &[u8]) -> Result<(), Error> {
        let body = json!({"payload": {
            "data": STANDARD.encode(data),
            "dataCrc32c": crc32c(data).to_string(),
        }});
        self.call::<Value>(
            Method::POST,
            &format!("/{id}:addVersion"),
            Some(&body),
            "AddSecretVersion",
        )?;
        Ok(())
    }

    /// The latest version's data of secret `id`, checked against the
    /// checksum the server sends with it.
    pub fn access(&self, id: &str) -> Result<Vec<u8>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            payload: Payload,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Payload {
            #[serde(default)]
            data: String,
            data_crc32c: Option<String>,
        }
        let path = format!("/{id}/versions/latest:access");
        let answer: Answer = self.call(Method::GET, &path, None, "AccessSecretVersion")?;
        let data = STANDARD
            .decode(answer.payload.data.as_bytes())
            .map_err(|_| Error::Backend(format!("the payload of GCP secret {id} is not base64")))?;
        if let Some(expected) = answer.payload.data_crc32c
            && expected.parse::<u64>().ok() != Some(u64::from(crc32c(&data)))
        {
            return Err(Error::Backend(format!(
                "the payload of GCP secret {id} does not match its checksum: it was damaged on \
                 the way; try again"
            )));
        }
        Ok(data)
    }

    /// Secret `id`'s metadata.
    pub fn get(&self, id: &str) -> Result<Listed, Error> {
        self.call(Method::GET, &format!("/{id}"), None, "GetSecret")
    }

    /// Deletes secret `id` with all its versions.
    pub fn delete(&self, id: &str) -> Result<(), Error> {
        self.call::<Value>(Method::DELETE, &format!("/{id}"), None, "DeleteSecret")?;
        Ok(())
    }

    /// Every secret `filter` lets through, following `nextPageToken` to the
    /// end. Servers differ in how they read filters: callers match again.
    pub fn list(&self, filter: &str) -> Result<Vec<Listed>, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            #[serde(default)]
            secrets: Vec<Listed>,
            next_page_token: Option<String>,
        }
        let query = format!(
            "?pageSize={PAGE_SIZE}&filter={}",
            utf8_percent_encode(filter, QUERY_VALUE)
        );
        let mut listed = Vec::new();
        let mut token = None::<String>;
        for number in 1.. {
            let path = match &token {
                Some(token) => format!(
                    "{query}&pageToken={}",
                    utf8_percent_encode(token, QUERY_VALUE)
                ),
                None => query.clone(),
            };
            let page: Page = self.call(Method::GET, &path, None, "ListSecrets")?;
            secman_sdk::log::debug(&format!(
                "ListSecrets page {number}: {} secrets",
                page.secrets.len()
            ));
            listed.extend(page.secrets);
            match page.next_page_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => break,
            }
        }
        Ok(listed)
    }

    /// Sends `method` to the base URL plus `path`, retrying throttling and
    /// server errors, and reads the JSON answer.
    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        operation: &str,
    ) -> Result<T, Error> {
        let body = body.map(Value::to_string).unwrap_or_default().into_bytes();
        let response = http::send_retrying(
            operation,
            || self.request(method.clone(), path, body.clone()),
            http::is_transient,
        )?;
        if response.status.is_success() {
            return response.json(&format!("Google's answer to {operation}"));
        }
        Err(Failure::read(&response).into_error(operation))
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Request<Vec<u8>>, Error> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if !body.is_empty() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        if let Some(authorization) = self.credentials.authorization()? {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        request
            .body(body)
            .map_err(|e| Error::Invalid(format!("cannot make a request to {}: {e}", self.base)))
    }
}

/// A call's failure, as Google describes it.
struct Failure {
    status: StatusCode,
    message: String,
}

impl Failure {
    fn read(response: &Response) -> Failure {
        #[derive(Deserialize)]
        struct Answer {
            error: Described,
        }
        #[derive(Deserialize)]
        struct Described {
            #[serde(default)]
            message: String,
        }
        let message = match serde_json::from_slice::<Answer>(&response.body) {
            Ok(answer) => answer.error.message,
            Err(_) => response.text().chars().take(200).collect(),
        };
        Failure {
            status: response.status,
            message,
        }
    }

    fn into_error(self, operation: &str) -> Error {
        let Failure { status, message } = self;
        match status.as_u16() {
            404 => Error::NotFound(format!("Google answered {operation}: {message}")),
            409 => Error::AlreadyExists(format!("Google answered {operation}: {message}")),
            401 | 403 => Error::Denied(format!(
                "Google denied {operation} ({status}): {message}; check the credentials and \
                 that they may use Secret Manager in this project"
            )),
            400 => Error::Invalid(format!("Google refused {operation}: {message}")),
            _ => Error::Backend(format!(
                "Google answered {operation} with {status}: {message}"
            )),
        }
    }
}

/// CRC32C (Castagnoli), the checksum Secret Manager keeps of a payload.
fn crc32c(data: &[u8]) -> u32 {
    crc::Crc::<u32>::new(&crc::CRC_32_ISCSI).checksum(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_is_castagnoli() {
        // The check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }
}
