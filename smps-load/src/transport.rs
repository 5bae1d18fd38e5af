//! HTTP transport: connections (TCP, optionally TLS), HTTP/1.1 keep-alive and HTTP/2, one
//! request/response exchange, and the classification of failures into [`ErrorKind`].

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::ErrorKind;

/// Which HTTP version the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTP/1.1 with keep-alive (one request in flight per connection).
    #[default]
    Http1,
    /// HTTP/2: prior knowledge (h2c) for `http://` URLs, ALPN `h2` for `https://` URLs (a
    /// server that only offers HTTP/1.1 over TLS is then spoken to in HTTP/1.1).
    /// One stream in flight per connection.
    #[cfg(feature = "http2")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http2")))]
    Http2,
}

/// Which HTTP/1.1 client implementation carries HTTP/1.1 requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Http1Client {
    /// The engine's own lean client (default): each request is encoded once per endpoint, the
    /// response head is parsed in place and the body counted without being kept. Fewer CPU
    /// cycles per request, which matters when the generator must not be the bottleneck.
    #[default]
    Lean,
    /// hyper's HTTP/1.1 client connection (stricter, more general, about twice the CPU per
    /// request in our measurements; see `benches/README.md`).
    Hyper,
}

/// A resolved origin (scheme, host, port).
#[derive(Debug)]
pub(crate) struct Origin {
    pub(crate) https: bool,
    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    pub(crate) host: String,
    pub(crate) addrs: Vec<SocketAddr>,
}

/// A prepared request for one endpoint.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) origin: usize,
    pub(crate) url: String,
    /// Origin-form target (HTTP/1.1).
    pub(crate) path: Uri,
    /// Absolute form (HTTP/2 pseudo-headers).
    pub(crate) absolute: Uri,
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// Bytes of the request head and body as HTTP/1.1 would write them.
    pub(crate) bytes_out: u64,
    /// The whole HTTP/1.1 request, encoded once.
    pub(crate) raw: Bytes,
    pub(crate) is_head: bool,
}

/// Everything a worker needs to talk to the targets; shared read-only by all workers.
pub(crate) struct Transport {
    pub(crate) origins: Vec<Origin>,
    pub(crate) endpoints: Arc<Vec<Endpoint>>,
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    pub(crate) version: HttpVersion,
    pub(crate) h1_client: Http1Client,
    pub(crate) connect_timeout: Duration,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<tokio_rustls::TlsConnector>,
    /// The first reason seen for each kind of connection failure (the TLS library's message,
    /// the operating system's), for the report. Written only when a connection fails.
    pub(crate) reasons: std::sync::Mutex<BTreeMap<ErrorKind, String>>,
}

/// Most characters kept of one failure reason.
const MAX_REASON_CHARS: usize = 200;

impl Transport {
    /// Remembers why a connection failed, if no reason is known yet for its kind; returns the
    /// kind so failure paths stay one expression.
    fn failed(&self, kind: ErrorKind, reason: impl FnOnce() -> String) -> ErrorKind {
        let mut reasons = self
            .reasons
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        reasons.entry(kind).or_insert_with(|| {
            let text = reason();
            let text = smps_model::redact::text(&text);
            text.chars().take(MAX_REASON_CHARS).collect()
        });
        kind
    }

    /// The reasons collected so far.
    pub(crate) fn reasons(&self) -> BTreeMap<ErrorKind, String> {
        self.reasons
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A TCP stream, possibly wrapped in TLS.
enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

type Body = Full<Bytes>;

/// One open connection.
enum Conn {
    Raw(crate::raw::RawConn<Stream>),
    H1 {
        sender: http1::SendRequest<Body>,
        /// The connection state machine, polled by whoever is using the connection (no task
        /// per connection). Dropped as soon as it completes.
        driver: Pin<Box<http1::Connection<TokioIo<Stream>, Body>>>,
    },
    #[cfg(feature = "http2")]
    H2 {
        sender: hyper::client::conn::http2::SendRequest<Body>,
    },
}

/// A unit of concurrency: at most one request in flight, and one lazily opened connection
/// per origin.
pub(crate) struct Slot {
    conns: Vec<Option<Conn>>,
    backoff: Duration,
    retry_at: Option<Instant>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("open", &self.conns.iter().filter(|c| c.is_some()).count())
            .finish()
    }
}

const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_millis(250);

impl Slot {
    pub(crate) fn new(origins: usize) -> Self {
        Slot {
            conns: (0..origins).map(|_| None).collect(),
            backoff: BACKOFF_MIN,
            retry_at: None,
        }
    }

    /// Forget the connection to `origin` (after a timeout left it mid-request).
    pub(crate) fn discard(&mut self, origin: usize) {
        if let Some(c) = self.conns.get_mut(origin) {
            *c = None;
        }
    }
}

/// What one exchange produced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exchange {
    /// HTTP status, or why there is none.
    pub(crate) outcome: Result<u16, ErrorKind>,
    /// When the request was handed to the connection (after any connect).
    pub(crate) sent_at: Instant,
    /// When the last byte of the response arrived (or the failure was seen).
    pub(crate) done_at: Instant,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
    /// Whether a new connection was opened for this exchange.
    pub(crate) connected: bool,
}

impl Transport {
    async fn connect(&self, origin: &Origin) -> Result<Conn, ErrorKind> {
        let mut last = ErrorKind::Resolve;
        let mut tcp = None;
        for addr in &origin.addrs {
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                Err(_) => {
                    last = self.failed(ErrorKind::ConnectTimeout, || {
                        format!(
                            "no TCP connection to {addr} within the connect timeout ({:?})",
                            self.connect_timeout
                        )
                    });
                }
                Ok(Err(e)) => {
                    last = self.failed(classify_connect_io(&e), || {
                        format!("connect to {addr}: {e}")
                    });
                }
                Ok(Ok(s)) => {
                    tcp = Some(s);
                    break;
                }
            }
        }
        let tcp = tcp.ok_or(last)?;
        // Best effort: a failure here only costs latency.
        let _ = tcp.set_nodelay(true);
        #[cfg_attr(not(feature = "rustls"), allow(unused_mut))]
        let mut use_h2 = self.wants_h2();
        let stream = if origin.https {
            #[cfg(feature = "rustls")]
            {
                let Some(tls) = &self.tls else {
                    return Err(self.failed(ErrorKind::Tls, || "no TLS configuration".into()));
                };
                let name =
                    tokio_rustls::rustls::pki_types::ServerName::try_from(origin.host.clone())
                        .map_err(|e| {
                            self.failed(ErrorKind::Tls, || {
                                format!("`{}` is not a TLS server name: {e}", origin.host)
                            })
                        })?;
                let s = tokio::time::timeout(self.connect_timeout, tls.connect(name, tcp))
                    .await
                    .map_err(|_| {
                        self.failed(ErrorKind::ConnectTimeout, || {
                            format!(
                                "the TLS handshake with {} did not finish within the connect timeout ({:?}); is the port plain HTTP?",
                                origin.host, self.connect_timeout
                            )
                        })
                    })?
                    .map_err(|e| {
                        let kind = match e.kind() {
                            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => {
                                ErrorKind::ConnectionReset
                            }
                            _ => ErrorKind::Tls,
                        };
                        self.failed(kind, || {
                            let hint = if e.to_string().contains("InvalidContentType") {
                                " (the server answered in plain text: is the port plain HTTP?)"
                            } else {
                                ""
                            };
                            format!("TLS handshake with {}: {e}{hint}", origin.host)
                        })
                    })?;
                use_h2 = s.get_ref().1.alpn_protocol() == Some(b"h2");
                Stream::Tls(Box::new(s))
            }
            #[cfg(not(feature = "rustls"))]
            {
                drop(tcp);
                return Err(ErrorKind::Tls);
            }
        } else {
            Stream::Plain(tcp)
        };
        #[cfg(feature = "http2")]
        if use_h2 {
            let io = TokioIo::new(stream);
            let (sender, conn) =
                hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
                    .await
                    .map_err(|e| {
                        self.failed(classify_hyper(&e), || format!("HTTP/2 handshake: {e}"))
                    })?;
            tokio::spawn(async move {
                // The connection's end is observed by the sender; its error is not needed.
                let _ = conn.await;
            });
            return Ok(Conn::H2 { sender });
        }
        let _ = use_h2;
        if self.h1_client == Http1Client::Lean {
            return Ok(Conn::Raw(crate::raw::RawConn::new(stream)));
        }
        let io = TokioIo::new(stream);
        let (sender, driver) = http1::handshake(io).await.map_err(|e| classify_hyper(&e))?;
        Ok(Conn::H1 {
            sender,
            driver: Box::pin(driver),
        })
    }

    /// Opens the slot's connection to `origin` ahead of the run. Returns whether it worked;
    /// a failure is not counted here (the first request on the slot retries and counts it).
    pub(crate) async fn preconnect(&self, slot: &mut Slot, origin: usize) -> bool {
        let Some(o) = self.origins.get(origin) else {
            return false;
        };
        match self.connect(o).await {
            Ok(c) => {
                slot.conns[origin] = Some(c);
                true
            }
            Err(_) => false,
        }
    }

    fn wants_h2(&self) -> bool {
        #[cfg(feature = "http2")]
        {
            self.version == HttpVersion::Http2
        }
        #[cfg(not(feature = "http2"))]
        {
            false
        }
    }

    fn request(&self, ep: &Endpoint, h2: bool) -> Request<Body> {
        let mut req = Request::new(Full::new(ep.body.clone()));
        *req.method_mut() = ep.method.clone();
        *req.uri_mut() = if h2 {
            ep.absolute.clone()
        } else {
            ep.path.clone()
        };
        *req.headers_mut() = ep.headers.clone();
        if h2 {
            req.headers_mut().remove(http::header::HOST);
            *req.version_mut() = http::Version::HTTP_2;
        }
        req
    }

    /// Send one request to endpoint `ep` on `slot`, connecting first if needed.
    ///
    /// Cancel safety: dropping the future may leave the slot's connection to the endpoint's
    /// origin mid-request; call [`Slot::discard`] afterwards.
    pub(crate) async fn exchange(&self, slot: &mut Slot, ep_index: usize) -> Exchange {
        let ep = &self.endpoints[ep_index];
        let origin = &self.origins[ep.origin];
        if let Some(at) = slot.retry_at.take() {
            tokio::time::sleep_until(at).await;
        }
        let mut connected = false;
        let entry = &mut slot.conns[ep.origin];
        if let Some(conn) = entry {
            let alive = match conn {
                // A close by the server shows up as a failed exchange (counted) and a reconnect.
                Conn::Raw(_) => true,
                Conn::H1 { sender, driver } => {
                    // Let the connection notice a close by the server before we reuse it.
                    !sender.is_closed() && driver.as_mut().now_or_never().is_none()
                }
                #[cfg(feature = "http2")]
                Conn::H2 { sender } => !sender.is_closed(),
            };
            if !alive {
                *entry = None;
            }
        }
        if entry.is_none() {
            // Boxed: connecting (TLS included) is rare and its future is large; kept
            // inline it would be moved with every request's future.
            match Box::pin(self.connect(origin)).await {
                Ok(c) => {
                    *entry = Some(c);
                    connected = true;
                    slot.backoff = BACKOFF_MIN;
                }
                Err(kind) => {
                    let now = Instant::now();
                    slot.retry_at = Some(now + slot.backoff);
                    slot.backoff = (slot.backoff * 2).min(BACKOFF_MAX);
                    return Exchange {
                        outcome: Err(kind),
                        sent_at: now,
                        done_at: now,
                        bytes_in: 0,
                        bytes_out: 0,
                        connected: false,
                    };
                }
            }
        }
        let Some(conn) = entry.as_mut() else {
            let now = Instant::now();
            return Exchange {
                outcome: Err(ErrorKind::Other),
                sent_at: now,
                done_at: now,
                bytes_in: 0,
                bytes_out: 0,
                connected,
            };
        };
        let sent_at;
        let mut reusable = true;
        let result = match conn {
            Conn::Raw(raw) => {
                sent_at = Instant::now();
                match raw.exchange(&ep.raw, ep.is_head).await {
                    Ok((status, bytes, keep)) => {
                        reusable = keep;
                        Ok((status, bytes))
                    }
                    Err(k) => Err(k),
                }
            }
            Conn::H1 { sender, driver } => {
                let req = self.request(ep, false);
                sent_at = Instant::now();
                let fut = async {
                    sender.ready().await.map_err(|e| classify_hyper(&e))?;
                    let resp = sender
                        .send_request(req)
                        .await
                        .map_err(|e| classify_hyper(&e))?;
                    read_response(resp).await
                };
                // Boxed, like the HTTP/2 exchange below: hyper's futures are large, and the
                // lean HTTP/1.1 path should not move their space around with every request.
                let mut fut = Box::pin(fut);
                tokio::select! {
                    biased;
                    r = &mut fut => r,
                    d = driver.as_mut() => match d {
                        Err(e) => Err(classify_hyper(&e)),
                        // The connection ended and handed its error (if any) to the
                        // pending request, which now resolves at once.
                        Ok(()) => match fut.await {
                            Ok(r) => Ok(r),
                            Err(k) => Err(k),
                        },
                    },
                }
            }
            #[cfg(feature = "http2")]
            Conn::H2 { sender } => {
                let req = self.request(ep, true);
                sent_at = Instant::now();
                Box::pin(async {
                    sender.ready().await.map_err(|e| classify_hyper(&e))?;
                    let resp = sender
                        .send_request(req)
                        .await
                        .map_err(|e| classify_hyper(&e))?;
                    read_response(resp).await
                })
                .await
            }
        };
        let done_at = Instant::now();
        if !reusable {
            *entry = None;
        }
        match result {
            Ok((status, bytes_in)) => Exchange {
                outcome: Ok(status),
                sent_at,
                done_at,
                bytes_in,
                bytes_out: ep.bytes_out,
                connected,
            },
            Err(kind) => {
                *entry = None;
                Exchange {
                    outcome: Err(kind),
                    sent_at,
                    done_at,
                    bytes_in: 0,
                    bytes_out: ep.bytes_out,
                    connected,
                }
            }
        }
    }
}

/// Reads the whole body, counting bytes without keeping them. Returns the status and the
/// bytes received (status line and header fields as HTTP/1.1 text, plus body).
async fn read_response(
    resp: http::Response<hyper::body::Incoming>,
) -> Result<(u16, u64), ErrorKind> {
    let status = resp.status().as_u16();
    let mut bytes = 17u64; // "HTTP/1.1 200 OK\r\n"
    for (name, value) in resp.headers() {
        bytes += (name.as_str().len() + value.len() + 4) as u64;
    }
    bytes += 2;
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| match classify_hyper(&e) {
            ErrorKind::Other => ErrorKind::BodyRead,
            k => k,
        })?;
        if let Some(d) = frame.data_ref() {
            bytes += d.len() as u64;
        }
    }
    Ok((status, bytes))
}

pub(crate) fn classify_connect_io(e: &io::Error) -> ErrorKind {
    if crate::limits::is_out_of_descriptors(e) {
        return ErrorKind::TooManyOpenFiles;
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ErrorKind::ConnectionReset,
        _ => ErrorKind::Connect,
    }
}

pub(crate) fn classify_hyper(e: &hyper::Error) -> ErrorKind {
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe => return ErrorKind::ConnectionReset,
                io::ErrorKind::UnexpectedEof => return ErrorKind::ConnectionClosed,
                io::ErrorKind::TimedOut => return ErrorKind::RequestTimeout,
                _ => {}
            }
        }
        src = s.source();
    }
    if e.is_timeout() {
        ErrorKind::RequestTimeout
    } else if e.is_parse() || e.is_parse_status() {
        ErrorKind::Protocol
    } else if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        ErrorKind::ConnectionClosed
    } else if e.is_user() {
        ErrorKind::Other
    } else {
        // HTTP/2 protocol errors (GOAWAY, RST_STREAM, bad frames) land here.
        ErrorKind::Protocol
    }
}

/// Builds the TLS connector: webpki roots plus the extra trusted CAs.
#[cfg(feature = "rustls")]
pub(crate) fn tls_connector(
    extra_ca: &[tokio_rustls::rustls::pki_types::CertificateDer<'static>],
    h2: bool,
) -> Result<tokio_rustls::TlsConnector, String> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra_ca {
        roots
            .add(cert.clone())
            .map_err(|e| format!("certificate not usable as a trust anchor: {e}"))?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = if h2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future_size<'a, F>(_: impl FnOnce(&'a Transport, &'a mut Slot) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn the_per_request_future_stays_small() {
        // A new exchange future is built for every request; connecting and the hyper paths
        // are boxed so that the lean path does not copy kilobytes per request.
        let size = future_size(|t: &Transport, s: &mut Slot| t.exchange(s, 0));
        assert!(size <= 512, "exchange future is {size} bytes");
    }

    #[test]
    #[cfg(unix)]
    fn running_out_of_file_descriptors_is_its_own_kind() {
        let emfile = io::Error::from_raw_os_error(rustix::io::Errno::MFILE.raw_os_error());
        assert_eq!(classify_connect_io(&emfile), ErrorKind::TooManyOpenFiles);
    }

    #[test]
    fn connect_errors_map_to_stable_kinds() {
        let k = |kind| classify_connect_io(&io::Error::from(kind));
        assert_eq!(
            k(io::ErrorKind::ConnectionRefused),
            ErrorKind::ConnectRefused
        );
        assert_eq!(k(io::ErrorKind::TimedOut), ErrorKind::ConnectTimeout);
        assert_eq!(
            k(io::ErrorKind::ConnectionReset),
            ErrorKind::ConnectionReset
        );
        assert_eq!(k(io::ErrorKind::PermissionDenied), ErrorKind::Connect);
    }
}
