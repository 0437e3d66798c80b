//! Outgoing HTTP: only to granted hosts and the manager's own endpoints,
//! and only to the addresses those grants mean.
//!
//! A flavor sends requests through `wasi:http`; every request passes
//! through [`OutboundPolicy::send_request`], which decides before anything
//! leaves the host:
//!
//! - a granted host (`api.example.com`, `*.example.com`, an IP address,
//!   each with an optional `:port`, 443 by default) is reachable over HTTPS.
//!   A *name* reaches only public addresses: whatever it resolves to is
//!   checked, and a loopback, private or link-local answer is refused (DNS
//!   rebinding). A non-public address is reached only through a grant that
//!   is that address, which `--yes` never gives;
//! - the endpoint a user typed for a manager is reachable exactly as typed,
//!   plain HTTP included. A name typed there may resolve to a public,
//!   private or loopback address, never a link-local one (where cloud
//!   metadata services answer): type that address itself to reach it.
//!
//! The host resolves the name, vets each address, connects to a vetted one
//! and runs TLS against the name, so what was checked is what is used.
//! Anything refused is remembered, for the host to name in its error.
//! Request and response bodies are capped.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The largest request body a flavor may send.
pub const MAX_REQUEST_BODY: u64 = 1 << 20;
/// The largest response body a flavor may receive.
pub const MAX_RESPONSE_BODY: u64 = 8 << 20;
/// How long a connection may take when the flavor sets no timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A host as it appears in a URL or a grant: a DNS name, or an address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Host {
    /// A DNS name, lowercase, without a trailing dot.
    Name(String),
    /// An IP address.
    Ip(IpAddr),
}

impl Host {
    /// Parses a host: a name, a dotted-quad IPv4 address or a bracketed
    /// IPv6 one. A name whose last label is numeric must be a dotted quad,
    /// so `2130706433` or `0x7f.1` (other spellings of 127.0.0.1) are
    /// refused rather than read as names.
    pub fn parse(text: &str) -> Option<Host> {
        if let Some(v6) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return v6
                .parse::<Ipv6Addr>()
                .ok()
                .map(|ip| Host::Ip(IpAddr::V6(ip)));
        }
        let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
        let last = name.rsplit('.').next().unwrap_or_default();
        if last.starts_with(|c: char| c.is_ascii_digit()) {
            return name
                .parse::<Ipv4Addr>()
                .ok()
                .map(|ip| Host::Ip(IpAddr::V4(ip)));
        }
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                (1..=63).contains(&label.len())
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    // `_` is not in RFC 1123, but Compose service names
                    // and some internal DNS use it.
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        valid.then_some(Host::Name(name))
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// What kind of network an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// Reachable on the internet.
    Public,
    /// This machine.
    Loopback,
    /// A private network: RFC 1918, shared (CGNAT) and unique-local ranges.
    Private,
    /// The local link, where cloud metadata services answer.
    LinkLocal,
    /// Unspecified, multicast, broadcast, documentation, benchmarking or
    /// reserved: never a server.
    Special,
}

impl AddressClass {
    /// Classifies `ip`, looking through IPv4-mapped, NAT64 and 6to4
    /// addresses at the IPv4 address they carry. Written out rather than
    /// taken from a crate: `IpAddr::is_global` is unstable, and the ranges
    /// are few (IANA's special-purpose registries).
    pub fn of(ip: IpAddr) -> AddressClass {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => Self::of_v6(v6),
        }
    }

    fn of_v4(ip: Ipv4Addr) -> AddressClass {
        let [a, b, c, _] = ip.octets();
        match (a, b, c) {
            (127, ..) => AddressClass::Loopback,
            (10, ..) | (172, 16..=31, _) | (192, 168, _) | (100, 64..=127, _) => {
                AddressClass::Private
            }
            (169, 254, _) => AddressClass::LinkLocal,
            (0, ..) | (224..=255, ..) => AddressClass::Special,
            (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) | (198, 18..=19, _) => {
                AddressClass::Special
            }
            _ => AddressClass::Public,
        }
    }

    fn of_v6(ip: Ipv6Addr) -> AddressClass {
        let s = ip.segments();
        let embedded_v4 =
            |hi: u16, lo: u16| Self::of_v4(Ipv4Addr::from(((hi as u32) << 16) | lo as u32));
        match s {
            _ if ip.is_loopback() => AddressClass::Loopback,
            _ if ip.is_unspecified() => AddressClass::Special,
            [0xfe80..=0xfebf, ..] => AddressClass::LinkLocal,
            [0xfc00..=0xfdff, ..] | [0xfec0..=0xfeff, ..] => AddressClass::Private,
            [0xff00..=0xffff, ..] => AddressClass::Special,
            // NAT64 and SIIT (IPv4-translated): the IPv4 address reached.
            [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] => {
                embedded_v4(hi, lo)
            }
            [0x64, 0xff9b, 1, ..] => AddressClass::Private,
            // 6to4: the IPv4 address of the relay's far side.
            [0x2002, hi, lo, ..] => embedded_v4(hi, lo),
            // Documentation, Teredo and other IETF assignments, discard,
            // and IPv4-compatible addresses.
            [0x2001, 0x0db8, ..] | [0x2001, 0..=0x01ff, ..] | [0x0100, 0, 0, 0, ..] => {
                AddressClass::Special
            }
            [0, 0, 0, 0, 0, 0, ..] => AddressClass::Special,
            _ => AddressClass::Public,
        }
    }

    /// How messages name the class.
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "a public address",
            AddressClass::Loopback => "a loopback address",
            AddressClass::Private => "a private address",
            AddressClass::LinkLocal => "a link-local address",
            AddressClass::Special => "a special-purpose address",
        }
    }
}

/// A granted host: a name, `*.suffix` or an address, with a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    host: PatternHost,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternHost {
    Exact(Host),
    /// Any name ending in `.suffix`.
    Suffix(String),
}

impl HostPattern {
    /// Parses a pattern as flavors and users write it: `api.example.com`,
    /// `*.example.com`, `10.0.0.5` or `[fd00::5]`, each optionally with
    /// `:port`. A wildcard must leave a registrable domain: `*.com`,
    /// `*.co.uk`, `*.github.io` or `*` are refused, as they cover a whole
    /// public suffix (by the Public Suffix List).
    pub fn parse(pattern: &str) -> Result<HostPattern, String> {
        let invalid = |why: &str| {
            format!(
                "`{}` is not a host pattern ({why}): use a name such as `api.example.com` or \
                 `*.example.com`, or an address, optionally with `:port`",
                crate::text::quote(pattern, 80)
            )
        };
        let (host, port) = match pattern.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (
                host,
                port.parse::<u16>()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| invalid("a bad port"))?,
            ),
            _ => (pattern, 443),
        };
        let host = match host.strip_prefix("*.") {
            Some(suffix) => {
                let Some(Host::Name(suffix)) = Host::parse(suffix) else {
                    return Err(invalid("a wildcard needs a domain name after `*.`"));
                };
                if psl::domain_str(&suffix).is_none() {
                    return Err(invalid(&format!(
                        "`*.{suffix}` covers a whole public suffix"
                    )));
                }
                PatternHost::Suffix(suffix)
            }
            None => PatternHost::Exact(
                Host::parse(host).ok_or_else(|| invalid("not a host name or address"))?,
            ),
        };
        Ok(HostPattern { host, port })
    }

    /// Whether only a user who names it may grant it: a loopback, private,
    /// link-local or special address, or the name `localhost`. `--yes` and
    /// built-in flavors never get these.
    pub fn needs_naming(&self) -> bool {
        match &self.host {
            PatternHost::Exact(Host::Ip(ip)) => AddressClass::of(*ip) != AddressClass::Public,
            PatternHost::Exact(Host::Name(name)) => {
                name == "localhost" || name.ends_with(".localhost")
            }
            PatternHost::Suffix(_) => false,
        }
    }

    fn matches(&self, host: &Host, port: u16) -> bool {
        port == self.port
            && match (&self.host, host) {
                (PatternHost::Exact(exact), host) => exact == host,
                (PatternHost::Suffix(suffix), Host::Name(name)) => name
                    .strip_suffix(suffix.as_str())
                    .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
                (PatternHost::Suffix(_), Host::Ip(_)) => false,
            }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            PatternHost::Exact(host) => write!(f, "{host}")?,
            PatternHost::Suffix(suffix) => write!(f, "*.{suffix}")?,
        }
        if self.port != 443 {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// An endpoint a user configured for a manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: String,
    host: Host,
    port: u16,
}

impl Endpoint {
    /// Parses an `http://` or `https://` URL.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let invalid = || {
            format!(
                "`{}` is not an endpoint URL: use http://HOST[:PORT] or https://HOST[:PORT]",
                crate::text::quote(url, 80)
            )
        };
        let uri: http::Uri = url.parse().map_err(|_| invalid())?;
        let scheme = uri
            .scheme_str()
            .map(str::to_ascii_lowercase)
            .filter(|s| s == "http" || s == "https")
            .ok_or_else(invalid)?;
        let host = uri.host().and_then(Host::parse).ok_or_else(invalid)?;
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        Ok(Endpoint { scheme, host, port })
    }
}

/// Why a request was stopped before it left the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing granted covers the destination, `scheme://host:port`.
    NotGranted(String),
    /// The destination's name resolved only to addresses its grant does
    /// not reach.
    Address {
        /// `scheme://host:port`.
        destination: String,
        /// The first address refused.
        address: IpAddr,
        /// Its class.
        class: AddressClass,
    },
    /// The destination is not a host name or address secman accepts.
    Malformed(String),
}

/// What the policy saw during a call: refusals and oversized bodies.
#[derive(Debug, Default)]
struct Report {
    refused: Vec<Refusal>,
    oversized: Option<String>,
}

/// Where a flavor may send HTTP requests.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    hosts: Vec<HostPattern>,
    endpoints: Vec<Endpoint>,
    /// Shared with the futures and bodies that outlive the hook's call.
    report: Arc<Mutex<Report>>,
}

/// Which addresses a destination may be reached at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Exactly this address: the grant or endpoint named it.
    Exactly(IpAddr),
    /// Whatever a name resolves to, within these classes.
    Resolved(&'static [AddressClass]),
}

/// A name granted as a host reaches only the internet.
const GRANTED_NAME_REACHES: &[AddressClass] = &[AddressClass::Public];
/// A name the user typed as an endpoint may also be on their network.
const ENDPOINT_NAME_REACHES: &[AddressClass] = &[
    AddressClass::Public,
    AddressClass::Private,
    AddressClass::Loopback,
];

impl OutboundPolicy {
    /// Requests may go to `hosts` (granted patterns) and `endpoints`
    /// (URLs configured for the manager).
    pub fn new(hosts: Vec<HostPattern>, endpoints: Vec<Endpoint>) -> OutboundPolicy {
        OutboundPolicy {
            hosts,
            endpoints,
            report: Arc::default(),
        }
    }

    /// What was refused so far.
    pub fn refused(&self) -> Vec<Refusal> {
        self.report.lock().unwrap().refused.clone()
    }

    /// Which body went over its cap, if one did.
    pub fn oversized(&self) -> Option<String> {
        self.report.lock().unwrap().oversized.clone()
    }

    fn refuse(&self, refusal: Refusal) -> Error {
        self.report.lock().unwrap().refused.push(refusal);
        Error::HttpRequestDenied
    }

    /// How `host:port` over `scheme` may be reached, if at all.
    fn reach(&self, scheme: &str, host: &Host, port: u16) -> Option<Reach> {
        let exact_or = |classes| match host {
            Host::Ip(ip) => Reach::Exactly(*ip),
            Host::Name(_) => Reach::Resolved(classes),
        };
        if self
            .endpoints
            .iter()
            .any(|e| e.scheme == scheme && e.host == *host && e.port == port)
        {
            return Some(exact_or(ENDPOINT_NAME_REACHES));
        }
        (scheme == "https" && self.hosts.iter().any(|p| p.matches(host, port)))
            .then(|| exact_or(GRANTED_NAME_REACHES))
    }
}

/// The addresses of `name` within `reach`, or the first one refused.
fn vet(
    resolved: impl IntoIterator<Item = SocketAddr>,
    allowed: &[AddressClass],
) -> Result<Vec<SocketAddr>, Option<(IpAddr, AddressClass)>> {
    let mut first_refused = None;
    let mut vetted = Vec::new();
    for addr in resolved {
        let ip = addr.ip().to_canonical();
        let class = AddressClass::of(ip);
        if allowed.contains(&class) {
            vetted.push(SocketAddr::new(ip, addr.port()));
        } else {
            first_refused.get_or_insert((ip, class));
        }
    }
    if vetted.is_empty() {
        Err(first_refused)
    } else {
        Ok(vetted)
    }
}

impl WasiHttpHooks for OutboundPolicy {
    /// What one write to a request body may buffer in the host.
    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        64 << 10
    }

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
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        let raw_host = uri.host().unwrap_or_default().to_string();
        let Some(host) = Host::parse(&raw_host) else {
            let error = self.refuse(Refusal::Malformed(raw_host));
            return Box::new(async { Err(error) });
        };
        let destination = format!("{scheme}://{host}:{port}");
        let Some(reach) = self.reach(&scheme, &host, port) else {
            let error = self.refuse(Refusal::NotGranted(destination));
            return Box::new(async { Err(error) });
        };
        let report = self.report.clone();
        Box::new(async move {
            let timeouts = Timeouts::from(options);
            let addresses = match (reach, &host) {
                (Reach::Exactly(ip), _) => vec![SocketAddr::new(ip, port)],
                (Reach::Resolved(allowed), Host::Name(name)) => {
                    let resolved = tokio::time::timeout(
                        timeouts.connect,
                        tokio::net::lookup_host((name.as_str(), port)),
                    )
                    .await
                    .map_err(|_| Error::DnsTimeout)?
                    .map_err(|_| Error::DnsError {
                        rcode: None,
                        info_code: None,
                    })?;
                    match vet(resolved, allowed) {
                        Ok(vetted) => vetted,
                        Err(first) => {
                            if let Some((address, class)) = first {
                                report.lock().unwrap().refused.push(Refusal::Address {
                                    destination,
                                    address,
                                    class,
                                });
                            }
                            return Err(Error::DestinationIpProhibited);
                        }
                    }
                }
                (Reach::Resolved(_), Host::Ip(ip)) => vec![SocketAddr::new(*ip, port)],
            };
            let server_name = match &host {
                Host::Name(name) => {
                    ServerName::try_from(name.clone()).map_err(Error::InvalidDnsNameError)?
                }
                Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
            };
            let request = request.map(|body| {
                Capped::new(
                    body,
                    MAX_REQUEST_BODY,
                    Error::HttpRequestBodySize,
                    format!("the request to {destination} is over the 1 MiB secman allows"),
                    report.clone(),
                    None,
                )
                .boxed_unsync()
            });
            let tls = scheme == "https";
            let (response, connection) =
                send(request, &addresses, tls.then_some(server_name), timeouts).await?;
            let response = response.map(|body| {
                Capped::new(
                    body.map_err(Error::from),
                    MAX_RESPONSE_BODY,
                    Error::HttpResponseBodySize,
                    format!("the answer from {destination} is over the 8 MiB secman allows"),
                    report,
                    Some(timeouts.between_bytes),
                )
                .boxed_unsync()
            });
            Ok((
                response,
                Box::new(connection) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// The flavor's timeouts for one request, or the host's defaults.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    connect: Duration,
    first_byte: Duration,
    between_bytes: Duration,
}

impl From<Option<RequestOptions>> for Timeouts {
    fn from(options: Option<RequestOptions>) -> Self {
        let options = options.unwrap_or_default();
        // The call's own deadline bounds them all in the end.
        let or_default =
            |d: Option<Duration>| d.filter(|d| !d.is_zero()).unwrap_or(CONNECT_TIMEOUT);
        Timeouts {
            connect: or_default(options.connect_timeout),
            first_byte: or_default(options.first_byte_timeout),
            between_bytes: or_default(options.between_bytes_timeout),
        }
    }
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Connects to the first of `addresses` that answers, runs TLS against
/// `server_name` when given, and sends `request` over HTTP/1.1.
async fn send(
    mut request: http::Request<WasiBody>,
    addresses: &[SocketAddr],
    server_name: Option<ServerName<'static>>,
    timeouts: Timeouts,
) -> Result<
    (
        http::Response<hyper::body::Incoming>,
        impl Future<Output = Result<(), Error>> + Send + 'static,
    ),
    Error,
> {
    let mut last_error = Error::ConnectionRefused;
    let mut stream = None;
    for address in addresses {
        match tokio::time::timeout(timeouts.connect, TcpStream::connect(address)).await {
            Ok(Ok(connected)) => {
                stream = Some(connected);
                break;
            }
            Ok(Err(e)) => last_error = Error::Connect(e),
            Err(_) => last_error = Error::ConnectionTimeout,
        }
    }
    let stream = stream.ok_or(last_error)?;
    let stream: Box<dyn Stream> = match server_name {
        Some(name) => Box::new(
            tokio::time::timeout(timeouts.connect, tls_connector().connect(name, stream))
                .await
                .map_err(|_| Error::ConnectionTimeout)?
                .map_err(Error::Tls)?,
        ),
        None => Box::new(stream),
    };
    let (mut sender, connection) = tokio::time::timeout(
        timeouts.connect,
        hyper::client::conn::http1::handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)??;
    // The request line carries the path only: scheme and authority are for
    // proxies.
    *request.uri_mut() = http::Uri::builder()
        .path_and_query(request.uri().path_and_query().map_or("/", |p| p.as_str()))
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;
    let mut connection = Some(Box::pin(connection));
    let mut response = std::pin::pin!(sender.send_request(request));
    // Drive the connection until the response head arrives.
    let head = std::future::poll_fn(|cx| {
        if let Poll::Ready(result) = response.as_mut().poll(cx) {
            return Poll::Ready(result.map_err(Error::from));
        }
        if let Some(conn) = connection.as_mut()
            && let Poll::Ready(result) = conn.as_mut().poll(cx)
        {
            connection = None;
            result?;
            return response.as_mut().poll(cx).map_err(Error::from);
        }
        Poll::Pending
    });
    let response = tokio::time::timeout(timeouts.first_byte, head)
        .await
        .map_err(|_| Error::ConnectionReadTimeout)??;
    Ok((response, async move {
        match connection {
            Some(conn) => Ok(conn.await?),
            None => Ok(()),
        }
    }))
}

/// TLS with the Mozilla roots (webpki-roots), as wasmtime-wasi-http does.
fn tls_connector() -> tokio_rustls::TlsConnector {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
        )
    });
    tokio_rustls::TlsConnector::from(config.clone())
}

/// A body that fails once more than its cap went by, and says so; a
/// response body also fails when no data comes for too long.
struct Capped<B> {
    inner: B,
    /// Bytes still allowed.
    remaining: u64,
    error: fn(Option<u64>) -> Error,
    note: String,
    report: Arc<Mutex<Report>>,
    idle: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
}

impl<B> Capped<B> {
    fn new(
        inner: B,
        limit: u64,
        error: fn(Option<u64>) -> Error,
        note: String,
        report: Arc<Mutex<Report>>,
        idle: Option<Duration>,
    ) -> Self {
        Capped {
            inner,
            remaining: limit,
            error,
            note,
            report,
            idle: idle.map(|d| (d, Box::pin(tokio::time::sleep(d)))),
        }
    }
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
            Poll::Pending => {
                if let Some((_, sleep)) = &mut self.idle {
                    ready!(sleep.as_mut().poll(cx));
                    return Poll::Ready(Some(Err(Error::ConnectionReadTimeout)));
                }
                return Poll::Pending;
            }
            other => return other,
        };
        if let Some((duration, sleep)) = &mut self.idle {
            sleep
                .as_mut()
                .reset(tokio::time::Instant::now() + *duration);
        }
        if let Some(data) = frame.data_ref() {
            let size = data.len() as u64;
            if size > self.remaining {
                self.report.lock().unwrap().oversized = Some(self.note.clone());
                return Poll::Ready(Some(Err((self.error)(None))));
            }
            self.remaining -= size;
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

    fn host(text: &str) -> Host {
        Host::parse(text).unwrap()
    }

    fn allows(p: &OutboundPolicy, scheme: &str, h: &str, port: u16) -> bool {
        p.reach(scheme, &host(h), port).is_some()
    }

    #[test]
    fn granted_hosts_are_reachable_over_https_on_their_port() {
        let p = policy(&["*.amazonaws.com", "vault.example.com:8200"], &[]);
        assert!(allows(
            &p,
            "https",
            "secretsmanager.eu-west-1.amazonaws.com",
            443
        ));
        assert!(allows(&p, "https", "SecretsManager.amazonaws.com.", 443));
        assert!(!allows(&p, "https", "amazonaws.com", 443));
        assert!(!allows(&p, "https", "evil-amazonaws.com", 443));
        assert!(!allows(&p, "https", "xamazonaws.com", 443));
        assert!(!allows(
            &p,
            "http",
            "secretsmanager.eu-west-1.amazonaws.com",
            80
        ));
        assert!(!allows(&p, "https", "s.amazonaws.com", 8443));
        assert!(allows(&p, "https", "vault.example.com", 8200));
        assert!(!allows(&p, "https", "vault.example.com", 443));
    }

    #[test]
    fn granted_names_resolve_only_to_public_addresses() {
        let p = policy(&["api.example.com", "10.1.2.3:8200"], &[]);
        assert_eq!(
            p.reach("https", &host("api.example.com"), 443),
            Some(Reach::Resolved(GRANTED_NAME_REACHES))
        );
        assert_eq!(
            p.reach("https", &host("10.1.2.3"), 8200),
            Some(Reach::Exactly("10.1.2.3".parse().unwrap()))
        );
        let at = |ip: &str| SocketAddr::new(ip.parse().unwrap(), 443);
        // DNS rebinding: a granted name answering with a local address.
        for local in [
            "127.0.0.1",
            "169.254.169.254",
            "10.0.0.1",
            "::1",
            "fe80::1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "0.0.0.0",
        ] {
            assert!(vet([at(local)], GRANTED_NAME_REACHES).is_err(), "{local}");
        }
        let mixed = vet([at("10.0.0.1"), at("93.184.215.14")], GRANTED_NAME_REACHES);
        assert_eq!(mixed, Ok(vec![at("93.184.215.14")]));
        assert_eq!(
            vet([at("169.254.169.254")], GRANTED_NAME_REACHES),
            Err(Some((
                "169.254.169.254".parse().unwrap(),
                AddressClass::LinkLocal
            )))
        );
    }

    #[test]
    fn endpoints_are_reachable_exactly_as_configured() {
        let p = policy(&[], &["http://127.0.0.1:5005", "https://Vault.Local"]);
        assert_eq!(
            p.reach("http", &host("127.0.0.1"), 5005),
            Some(Reach::Exactly("127.0.0.1".parse().unwrap()))
        );
        assert!(!allows(&p, "https", "127.0.0.1", 5005));
        assert!(!allows(&p, "http", "127.0.0.1", 5006));
        assert!(!allows(&p, "http", "localhost", 5005));
        assert_eq!(
            p.reach("https", &host("vault.local"), 443),
            Some(Reach::Resolved(ENDPOINT_NAME_REACHES))
        );
        assert!(!allows(&p, "http", "vault.local", 80));
        // A name typed as an endpoint may be on the user's network, but
        // never reaches the metadata service on the local link.
        let at = |ip: &str| SocketAddr::new(ip.parse().unwrap(), 80);
        assert!(vet([at("10.0.0.5")], ENDPOINT_NAME_REACHES).is_ok());
        assert!(vet([at("127.0.0.1")], ENDPOINT_NAME_REACHES).is_ok());
        assert!(vet([at("169.254.169.254")], ENDPOINT_NAME_REACHES).is_err());
        assert!(vet([at("fe80::a9fe:a9fe")], ENDPOINT_NAME_REACHES).is_err());
    }

    #[test]
    fn addresses_are_classified_through_their_disguises() {
        let class = |ip: &str| AddressClass::of(ip.parse().unwrap());
        for (ip, expected) in [
            ("8.8.8.8", AddressClass::Public),
            ("2606:4700::1111", AddressClass::Public),
            ("127.0.0.1", AddressClass::Loopback),
            ("127.255.0.9", AddressClass::Loopback),
            ("::1", AddressClass::Loopback),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("10.1.2.3", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("172.32.0.1", AddressClass::Public),
            ("192.168.1.1", AddressClass::Private),
            ("100.64.0.1", AddressClass::Private),
            ("fd12::1", AddressClass::Private),
            ("169.254.169.254", AddressClass::LinkLocal),
            ("fe80::1", AddressClass::LinkLocal),
            ("::ffff:a9fe:a9fe", AddressClass::LinkLocal),
            ("64:ff9b::a9fe:a9fe", AddressClass::LinkLocal),
            ("2002:a9fe:a9fe::1", AddressClass::LinkLocal),
            ("::ffff:0:a9fe:a9fe", AddressClass::LinkLocal),
            ("::ffff:0:7f00:1", AddressClass::Loopback),
            ("0.0.0.0", AddressClass::Special),
            ("::", AddressClass::Special),
            ("255.255.255.255", AddressClass::Special),
            ("224.0.0.1", AddressClass::Special),
            ("ff02::1", AddressClass::Special),
            ("192.0.2.1", AddressClass::Special),
            ("2001:db8::1", AddressClass::Special),
            ("::7f00:1", AddressClass::Special),
        ] {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn patterns_covering_a_public_suffix_or_everything_are_refused() {
        for bad in [
            "*",
            "*.",
            "*.com",
            "*.co.uk",
            "*.github.io",
            "*.s3.amazonaws.com",
            "*.local",
            "*.localhost",
            "*.127.0.0.1",
            "",
            "a..b",
            "host:port",
            "host:0",
            "a/b",
            "ex ample.com",
            "2130706433",
            "0x7f.1",
            "127.1",
            "-a.com",
            "é.com",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
        for good in [
            "*.amazonaws.com",
            "*.example.com",
            "*.vault.corp",
            "api.example.com:8443",
            "10.0.0.5:8200",
            "[fd00::5]:8200",
            "[::1]",
            "localhost:8200",
        ] {
            assert!(HostPattern::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn only_public_patterns_can_be_granted_without_naming_them() {
        let naming = |p: &str| HostPattern::parse(p).unwrap().needs_naming();
        for local in [
            "127.0.0.1:9",
            "localhost:9",
            "a.localhost",
            "[::1]",
            "169.254.169.254",
            "10.0.0.1",
        ] {
            assert!(naming(local), "{local}");
        }
        for public in [
            "api.example.com",
            "*.amazonaws.com",
            "93.184.215.14",
            "vault.corp",
        ] {
            assert!(!naming(public), "{public}");
        }
    }

    #[test]
    fn patterns_print_in_one_canonical_form() {
        let shown = |p: &str| HostPattern::parse(p).unwrap().to_string();
        assert_eq!(shown("API.Example.com."), "api.example.com");
        assert_eq!(shown("api.example.com:443"), "api.example.com");
        assert_eq!(shown("*.Example.com:8443"), "*.example.com:8443");
        assert_eq!(shown("[::1]:8200"), "[::1]:8200");
    }

    #[test]
    fn malformed_urls_are_refused() {
        for bad in [
            "127.0.0.1:5005",
            "ftp://x",
            "http://",
            "not a url",
            "http://2130706433/",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
        assert!(Endpoint::parse("http://[::1]:5005").is_ok());
        assert!(Endpoint::parse("http://vault_server:8200").is_ok());
    }
}
