//! Vault's KV version 2 HTTP API (OpenBao speaks the same): the calls the
//! flavor makes, Vault's errors mapped to the contract, throttling and
//! server errors retried.

use secman_sdk::Error;
use secman_sdk::http::{self, HeaderValue, Method, Request, Response, StatusCode, header};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A secret's latest version: its data and version number.
pub struct Read {
    pub data: Map<String, Value>,
    pub version: u64,
}

/// A write refused because the secret's version was not the one expected
/// (check-and-set): it exists when it should not, or changed meanwhile.
pub struct Conflict;

/// A connection to one KV v2 mount.
pub struct Vault {
    /// `<url>/v1/<mount>`.
    base: String,
    token: HeaderValue,
    namespace: Option<HeaderValue>,
}

impl Vault {
    /// A client for the KV v2 engine at `mount` on the server at `url`,
    /// sending `token`, in Vault namespace `namespace` if there is one.
    pub fn new(
        url: &str,
        mount: &str,
        token: &str,
        namespace: Option<&str>,
    ) -> Result<Vault, Error> {
        let header = |value: &str, what: &str| {
            HeaderValue::from_str(value)
                .map_err(|_| Error::Invalid(format!("the {what} holds characters no header may")))
        };
        Ok(Vault {
            base: format!(
                "{}/v1/{}",
                url.trim_end_matches('/'),
                mount.trim_matches('/')
            ),
            token: header(token, "Vault token")?,
            namespace: namespace
                .map(|n| header(n, "Vault namespace"))
                .transpose()?,
        })
    }

    /// The latest version of the secret at `path`; none if there is none,
    /// or if its latest version was deleted.
    pub fn read(&self, path: &str) -> Result<Option<Read>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            data: Versioned,
        }
        #[derive(Deserialize)]
        struct Versioned {
            data: Option<Map<String, Value>>,
            metadata: Metadata,
        }
        #[derive(Deserialize)]
        struct Metadata {
            version: u64,
        }
        let Some(answer) =
            self.call::<Answer>(Method::GET, &format!("/data/{path}"), None, "read")?
        else {
            return Ok(None);
        };
        Ok(answer.data.data.map(|data| Read {
            data,
            version: answer.data.metadata.version,
        }))
    }

    /// Writes `data` (a JSON object) as the new version of `path`, if the
    /// current version is `version` (0: only if there is none).
    pub fn write(
        &self,
        path: &str,
        data: &str,
        version: u64,
    ) -> Result<Result<(), Conflict>, Error> {
        let body = format!(r#"{{"options": {{"cas": {version}}}, "data": {data}}}"#);
        match self.call::<Value>(Method::POST, &format!("/data/{path}"), Some(body), "write") {
            Ok(_) => Ok(Ok(())),
            Err(Error::Invalid(message)) if message.contains("check-and-set") => Ok(Err(Conflict)),
            Err(e) => Err(e),
        }
    }

    /// The names in folder `folder` (empty: the mount's root), folders
    /// (`name/`) left out; none if there is no such folder.
    pub fn list(&self, folder: &str) -> Result<Vec<String>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            data: Keys,
        }
        #[derive(Deserialize)]
        struct Keys {
            #[serde(default)]
            keys: Vec<String>,
        }
        let path = format!("/metadata/{folder}?list=true");
        let answer = self.call::<Answer>(Method::GET, &path, None, "list")?;
        Ok(answer
            .map(|a| a.data.keys)
            .unwrap_or_default()
            .into_iter()
            .filter(|key| !key.ends_with('/'))
            .collect())
    }

    /// Whether a secret (any version, deleted or not) is at `path`.
    pub fn exists(&self, path: &str) -> Result<bool, Error> {
        let found = self.call::<Value>(Method::GET, &format!("/metadata/{path}"), None, "read")?;
        Ok(found.is_some())
    }

    /// Deletes the secret at `path`: every version and its metadata.
    pub fn delete(&self, path: &str) -> Result<(), Error> {
        self.call::<Value>(Method::DELETE, &format!("/metadata/{path}"), None, "delete")?;
        Ok(())
    }

    /// Sends `method` to the mount's URL plus `path`, retrying throttling
    /// and server errors, and reads the JSON answer:
    /// none for a 404, or for an answer without a body (204).
    fn call<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        operation: &str,
    ) -> Result<Option<T>, Error> {
        let body = body.unwrap_or_default().into_bytes();
        let response = http::send_retrying(
            operation,
            || self.request(method.clone(), path, body.clone()),
            http::is_transient,
        )?;
        if response.status == StatusCode::NOT_FOUND
            || (response.status.is_success() && response.body.is_empty())
        {
            return Ok(None);
        }
        if response.status.is_success() {
            return response
                .json(&format!("Vault's answer to a {operation}"))
                .map(Some);
        }
        Err(Failure::read(&response).into_error(operation, &self.base))
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Request<Vec<u8>>, Error> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("x-vault-token", self.token.clone());
        if let Some(namespace) = &self.namespace {
            request = request.header("x-vault-namespace", namespace.clone());
        }
        if !body.is_empty() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        request
            .body(body)
            .map_err(|e| Error::Invalid(format!("cannot make a request to {}: {e}", self.base)))
    }
}

/// A call's failure, as Vault describes it.
struct Failure {
    status: StatusCode,
    message: String,
}

impl Failure {
    fn read(response: &Response) -> Failure {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            errors: Vec<String>,
        }
        let message = match serde_json::from_slice::<Answer>(&response.body) {
            Ok(answer) if !answer.errors.is_empty() => answer.errors.join("; "),
            _ => response.text().chars().take(200).collect(),
        };
        Failure {
            status: response.status,
            message,
        }
    }

    fn into_error(self, operation: &str, base: &str) -> Error {
        let Failure { status, message } = self;
        match status.as_u16() {
            401 | 403 => Error::Denied(format!(
                "Vault denied a {operation} ({status}): {message}; check the token and that \
                 its policies allow this path"
            )),
            400 => Error::Invalid(format!("Vault refused a {operation}: {message}")),
            // A standby that does not forward redirects to the active node;
            // the host follows no redirect.
            307 | 308 => Error::Backend(format!(
                "the Vault server at {base} is a standby node and redirects to the active one: \
                 set the manager's url to the active node, or to the cluster's address"
            )),
            503 if message.contains("sealed") => Error::Backend(format!(
                "the Vault server at {base} is sealed: unseal it (`bao operator unseal` or \
                 `vault operator unseal`), then try again"
            )),
            _ => Error::Backend(format!(
                "Vault answered a {operation} with {status}: {message}"
            )),
        }
    }
}
