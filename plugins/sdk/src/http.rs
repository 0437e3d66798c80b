//! HTTP for flavors, over `wasi:http` (through wstd).
//!
//! The host sends the requests, and only to the hosts the flavor was
//! granted and the manager's endpoint; anything else comes back as a
//! `denied` error. Calls block until the response is read whole: a flavor's
//! operations are synchronous, and the host's time limit bounds them.

use std::time::Duration;

pub use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri, header};
use serde::de::DeserializeOwned;
use wstd::http::error::ErrorCode;
use wstd::http::{Body, Client};

use crate::Error;

/// A whole response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON, or a `backend` error naming `what`.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::Backend(format!("{what} is not the JSON expected: {e}")))
    }
}

/// Sends `request` and reads the whole response.
///
/// The body is sent with its `content-length`, not chunked (which some
/// servers do not read), even when empty, except for a GET or a HEAD.
pub fn send(mut request: Request<Vec<u8>>) -> Result<Response, Error> {
    if !request.body().is_empty() || ![Method::GET, Method::HEAD].contains(request.method()) {
        let length = HeaderValue::from(request.body().len());
        request.headers_mut().insert(header::CONTENT_LENGTH, length);
    }
    let destination = format!(
        "{}://{}",
        request.uri().scheme_str().unwrap_or("https"),
        request.uri().authority().map(|a| a.as_str()).unwrap_or("?")
    );
    wstd::runtime::block_on(async move {
        // No request options: the host sets the timeouts, and
        // wasmtime-wasi-http 48 keeps every request-options resource it is
        // handed until the instance ends, so a long-lived instance sending
        // them would run out of resource handles.
        let client = Client::new();
        let request = request.map(Body::from);
        let response = client
            .send(request)
            .await
            .map_err(|e| transport_error(&destination, e))?;
        let (parts, mut body) = response.into_parts();
        let body = body
            .contents()
            .await
            .map_err(|e| transport_error(&destination, e))?
            .to_vec();
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    })
}

/// Waits, e.g. between retries.
pub fn sleep(duration: Duration) {
    std::thread::sleep(duration);
}

/// How many times a throttled or failed call is tried in all.
const ATTEMPTS: u32 = 4;
/// The wait before the first retry; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Sends the request `request` makes, and again while `transient` says the
/// answer is worth retrying (throttling, a server error), up to 4 times in
/// all with a doubling wait from 100 ms; returns the last answer. Each
/// attempt gets a new request (a signature may hold the time); `what`
/// names the call in debug messages.
pub fn send_retrying(
    what: &str,
    request: impl Fn() -> Result<Request<Vec<u8>>, Error>,
    transient: impl Fn(&Response) -> bool,
) -> Result<Response, Error> {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        let response = send(request()?)?;
        if attempt == ATTEMPTS || !transient(&response) {
            return Ok(response);
        }
        crate::log::debug(&format!(
            "{what}: {} on attempt {attempt}, retrying",
            response.status
        ));
        sleep(backoff);
        backoff *= 2;
        attempt += 1;
    }
}

/// Whether `response` is throttling (429) or a server error (5xx): what
/// most services ask to be retried.
pub fn is_transient(response: &Response) -> bool {
    response.status == StatusCode::TOO_MANY_REQUESTS || response.status.is_server_error()
}

fn transport_error(destination: &str, error: wstd::http::Error) -> Error {
    match error.downcast_ref::<ErrorCode>() {
        Some(ErrorCode::HttpRequestDenied) => Error::Denied(format!(
            "secman refused the request to {destination}: the flavor was not granted it"
        )),
        Some(code) => Error::Backend(format!("cannot reach {destination}: {}", describe(code))),
        None => Error::Backend(format!("cannot reach {destination}: {error}")),
    }
}

fn describe(code: &ErrorCode) -> String {
    match code {
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTimeout => "the connection timed out".into(),
        ErrorCode::DnsTimeout | ErrorCode::DnsError(_) => "its name does not resolve".into(),
        ErrorCode::TlsCertificateError | ErrorCode::TlsProtocolError => {
            "the TLS handshake failed (is its certificate trusted?)".into()
        }
        other => format!("{other:?}"),
    }
}
