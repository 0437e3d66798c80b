//! AWS Secrets Manager's JSON 1.1 API: SigV4-signed calls, errors mapped
//! to the contract, throttling and server errors retried.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use secman_sdk::Error;
use secman_sdk::http::{self, Request, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Credentials, and where they were found, for messages.
pub struct Identity {
    /// The keys.
    pub credentials: Credentials,
    /// Where they came from: `AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
    /// `profile \`x\` of ~/.aws/credentials`, ...
    pub source: String,
}

/// A signed connection to one region's Secrets Manager.
pub struct SecretsManager {
    endpoint: String,
    region: String,
    identity: Identity,
}

impl SecretsManager {
    /// A client for `region`, at `endpoint` (or AWS's own), signing as
    /// `identity`.
    pub fn new(region: &str, endpoint: Option<&str>, identity: Identity) -> Self {
        SecretsManager {
            endpoint: service_endpoint("secretsmanager", region, endpoint),
            region: region.to_string(),
            identity,
        }
    }

    /// Calls `operation` (e.g. `GetSecretValue`) with `input`.
    pub fn call<T: DeserializeOwned>(&self, operation: &str, input: &Value) -> Result<T, Error> {
        let body = serde_json::to_vec(input)
            .map_err(|e| Error::Backend(format!("cannot encode a {operation} request: {e}")))?;
        let target = format!("secretsmanager.{operation}");
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ];
        let response = http::send_retrying(
            operation,
            || {
                signed(
                    &self.identity.credentials,
                    &self.region,
                    "secretsmanager",
                    &self.endpoint,
                    &headers,
                    &body,
                )
            },
            |response| Failure::read(response).is_transient(),
        )?;
        if response.status.is_success() {
            return response.json(&format!("the answer to {operation}"));
        }
        Err(Failure::read(&response).into_error(operation, &self.identity.source))
    }
}

/// `endpoint` (the user's), or AWS's own for `service` in `region`, with
/// a trailing `/`.
pub fn service_endpoint(service: &str, region: &str, endpoint: Option<&str>) -> String {
    let endpoint = endpoint
        .map(|e| e.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("https://{service}.{region}.amazonaws.com"));
    format!("{endpoint}/")
}

/// A POST of `body` with `headers` to `url`, signed (SigV4) with
/// `credentials` for `service` in `region`.
pub fn signed(
    credentials: &Credentials,
    region: &str,
    service: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Request<Vec<u8>>, Error> {
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| Error::Invalid(format!("cannot sign for AWS: {e}")))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| Error::Invalid(format!("cannot sign a request to {url}: {e}")))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| Error::Invalid(format!("cannot sign for AWS: {e}")))?
        .into_parts();
    let mut request = Request::post(url);
    for (name, value) in headers.iter().copied().chain(instructions.headers()) {
        request = request.header(name, value);
    }
    request
        .body(body.to_vec())
        .map_err(|e| Error::Invalid(format!("invalid endpoint {url}: {e}")))
}

/// An error answer: AWS's code and message.
pub struct Failure {
    status: u16,
    code: String,
    message: String,
}

impl Failure {
    /// JSON (`{"__type": ..., "message": ...}`) from the service, XML
    /// (`<ErrorResponse>`) from some front ends for signature errors.
    pub fn read(response: &Response) -> Failure {
        let status = response.status.as_u16();
        let text = response.text();
        let (code, message) = match serde_json::from_str::<Value>(&text) {
            Ok(json) => {
                let field = |names: &[&str]| {
                    names
                        .iter()
                        .find_map(|n| json.get(*n).and_then(Value::as_str))
                        .unwrap_or_default()
                        .to_string()
                };
                (
                    field(&["__type", "code", "Code"]),
                    field(&["message", "Message"]),
                )
            }
            Err(_) => (xml_field(&text, "Code"), xml_field(&text, "Message")),
        };
        // `__type` may be qualified: `com.amazonaws...#ResourceNotFoundException`.
        let code = code.rsplit('#').next().unwrap_or_default().to_string();
        Failure {
            status,
            code,
            message,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.status >= 500
            || self.status == 429
            || matches!(
                self.code.as_str(),
                "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded"
            )
    }

    /// The contract's error for this answer to `operation`, made with the
    /// credentials from `source`.
    pub fn into_error(self, operation: &str, source: &str) -> Error {
        let Failure {
            status,
            code,
            message,
        } = self;
        let detail = format!("AWS answered {operation} with {code} ({status}): {message}");
        match code.as_str() {
            "ResourceNotFoundException" => Error::NotFound(detail),
            "ResourceExistsException" => Error::AlreadyExists(detail),
            "InvalidParameterException" | "ValidationException" => Error::Invalid(detail),
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "InvalidClientTokenId"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
            | "ExpiredTokenException" => Error::Denied(format!(
                "AWS denied {operation} ({code}): {message} Check the credentials in {source}"
            )),
            _ if status == 401 || status == 403 || code.starts_with("AccessDenied") => {
                Error::Denied(format!(
                    "AWS denied {operation} ({code}): {message} (credentials from {source})"
                ))
            }
            _ => Error::Backend(detail),
        }
    }
}

/// The text of the first `<name>` element; enough for AWS's error XML and
/// STS's answers.
pub fn xml_field(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    xml.split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&close))
        .map(|(value, _)| value.trim().to_string())
        .unwrap_or_default()
}
