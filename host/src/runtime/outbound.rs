//! Outgoing HTTP: only to granted hosts and the manager's own endpoints.
//!
//! A flavor sends requests through `wasi:http`; every request passes
//! through [`OutboundPolicy::send_request`] before any connection is made.
//! A granted host (`example.com`, `*.example.com`, optionally `:port`) is
//! reachable over HTTPS on its port (443 by default); an endpoint the user
//! configured for the manager is reachable exactly as configured, plain
//! HTTP included. Everything else is refused with `HTTP-request-denied`
//! and remembered, so the host can name it in its error. Request and
//! response bodies are capped.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The largest request body a flavor may send.
pub const MAX_REQUEST_BODY: u64 = 1 << 20;
/// The largest response body a flavor may receive.
pub const MAX_RESPONSE_BODY: u64 = 8 << 20;

/// Where a flavor may send HTTP requests.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    hosts: Vec<HostPattern>,
    endpoints: Vec<Endpoint>,
    denied: Vec<String>,
    /// A body that went over its cap, described; bodies stream after the
    /// hook returns, so they report here.
    oversized: Arc<Mutex<Option<String>>>,
}

impl OutboundPolicy {
    /// Requests may go to `hosts` (granted patterns) and `endpoints`
    /// (URLs configured for the manager).
    pub fn new(hosts: Vec<HostPattern>, endpoints: Vec<Endpoint>) -> OutboundPolicy {
        OutboundPolicy {
            hosts,
            endpoints,
            denied: Vec::new(),
            oversized: Arc::default(),
        }
    }

    /// The destinations refused so far, as `scheme://host:port`.
    pub fn denied(&self) -> &[String] {
        &self.denied
    }

    /// Which body went over its cap, if one did.
    pub fn oversized(&self) -> Option<String> {
        self.oversized.lock().unwrap().clone()
    }

    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.endpoints
            .iter()
            .any(|e| e.scheme == scheme && e.host == host && e.port == port)
            || (scheme == "https" && self.hosts.iter().any(|p| p.matches(host, port)))
    }
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), Error>> + Send>,
                    ),
                    Error,
                >,
            > + Send,
    > {
        _ = fut;
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        let destination = format!("{scheme}://{host}:{port}");
        if !self.allows(&scheme, &host, port) {
            self.denied.push(destination);
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let oversized = self.oversized.clone();
        let request = request.map(|body| {
            let cap = Cap {
                limit: MAX_REQUEST_BODY,
                error: Error::HttpRequestBodySize,
                note: format!("the request to {destination} is over the 1 MiB secman allows"),
                oversized: oversized.clone(),
            };
            Capped { inner: body, cap }.boxed_unsync()
        });
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            let response = response.map(|body| {
                let cap = Cap {
                    limit: MAX_RESPONSE_BODY,
                    error: Error::HttpResponseBodySize,
                    note: format!("the answer from {destination} is over the 8 MiB secman allows"),
                    oversized,
                };
                Capped { inner: body, cap }.boxed_unsync()
            });
            Ok((response, Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

/// A granted host: `name`, `*.suffix`, either with an optional `:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// The host, or for a wildcard the suffix with its leading dot.
    host: String,
    wildcard: bool,
    port: u16,
}

impl HostPattern {
    /// Parses a pattern as flavors and users write it.
    pub fn parse(pattern: &str) -> Result<HostPattern, String> {
        let invalid = || {
            format!(
                "`{pattern}` is not a host pattern: use a name such as `api.example.com` or \
                 `*.example.com`, optionally with `:port`"
            )
        };
        let (host, port) = match pattern.rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().map_err(|_| invalid())?),
            None => (pattern, 443),
        };
        let (wildcard, name) = match host.strip_prefix("*.") {
            Some(suffix) => (true, suffix),
            None => (false, host),
        };
        let valid_name = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid_name {
            return Err(invalid());
        }
        let name = name.to_ascii_lowercase();
        Ok(HostPattern {
            host: if wildcard { format!(".{name}") } else { name },
            wildcard,
            port,
        })
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        port == self.port
            && if self.wildcard {
                host.ends_with(&self.host)
            } else {
                host == self.host
            }
    }
}

/// An endpoint a user configured for a manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: String,
    host: String,
    port: u16,
}

impl Endpoint {
    /// Parses an `http://` or `https://` URL.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let invalid = || {
            format!("`{url}` is not an endpoint URL: use http://HOST[:PORT] or https://HOST[:PORT]")
        };
        let uri: http::Uri = url.parse().map_err(|_| invalid())?;
        let scheme = uri
            .scheme_str()
            .map(str::to_ascii_lowercase)
            .ok_or_else(invalid)?;
        if scheme != "http" && scheme != "https" {
            return Err(invalid());
        }
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(invalid)?;
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        Ok(Endpoint {
            host: host.to_ascii_lowercase(),
            scheme,
            port,
        })
    }
}

/// A body that fails once more than its cap went by, and says so.
struct Capped<B> {
    inner: B,
    cap: Cap,
}

struct Cap {
    /// Bytes still allowed.
    limit: u64,
    error: fn(Option<u64>) -> Error,
    note: String,
    oversized: Arc<Mutex<Option<String>>>,
}

impl<B: Body<Data = Bytes, Error = Error> + Unpin> Body for Capped<B> {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        if let Some(data) = frame.data_ref() {
            let size = data.len() as u64;
            let cap = &mut self.cap;
            if size > cap.limit {
                *cap.oversized.lock().unwrap() = Some(cap.note.clone());
                return Poll::Ready(Some(Err((cap.error)(None))));
            }
            cap.limit -= size;
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str], endpoints: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(
            hosts
                .iter()
                .map(|h| HostPattern::parse(h).unwrap())
                .collect(),
            endpoints
                .iter()
                .map(|e| Endpoint::parse(e).unwrap())
                .collect(),
        )
    }

    #[test]
    fn granted_hosts_are_reachable_over_https_on_their_port() {
        let p = policy(&["*.amazonaws.com", "vault.example.com:8200"], &[]);
        assert!(p.allows("https", "secretsmanager.eu-west-1.amazonaws.com", 443));
        assert!(!p.allows("https", "amazonaws.com", 443));
        assert!(!p.allows("https", "evil-amazonaws.com", 443));
        assert!(!p.allows("http", "secretsmanager.eu-west-1.amazonaws.com", 80));
        assert!(!p.allows("https", "s.amazonaws.com", 8443));
        assert!(p.allows("https", "vault.example.com", 8200));
        assert!(!p.allows("https", "vault.example.com", 443));
    }

    #[test]
    fn endpoints_are_reachable_exactly_as_configured() {
        let p = policy(&[], &["http://127.0.0.1:5005", "https://Vault.Local"]);
        assert!(p.allows("http", "127.0.0.1", 5005));
        assert!(!p.allows("https", "127.0.0.1", 5005));
        assert!(!p.allows("http", "127.0.0.1", 5006));
        assert!(p.allows("https", "vault.local", 443));
        assert!(!p.allows("http", "vault.local", 80));
    }

    #[test]
    fn malformed_patterns_and_urls_are_refused() {
        for bad in ["", "*", "*.", "a..b", "host:port", "a/b", "ex ample.com"] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
        for bad in ["127.0.0.1:5005", "ftp://x", "http://", "not a url"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
