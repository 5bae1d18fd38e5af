//! The per-request seam: [`Transport::exchange`] sends one request on a worker's [`Slot`]
//! and returns an [`Exchange`]; the worker loops know nothing of protocols.
//!
//! One module per protocol: `http1.rs` (HTTP/1.1 through the lean client in `raw.rs` or
//! hyper), HTTP/2 with N connections × M streams through the engine's own client
//! (`h2_lean/`, header compression in `hpack/`) or the `h2` crate (`h2.rs`), connections
//! shared by slots in `pool.rs`, `grpc.rs` (gRPC unary over HTTP/2),
//! `tcp.rs` and `udp.rs` (echo, with payloads from `echo.rs`); `stream.rs` opens TCP and TLS
//! streams, `tls.rs` configures TLS, `classify.rs` turns failures into [`ErrorKind`]s.

mod classify;
mod echo;
#[cfg(feature = "http2")]
mod grpc;
#[cfg(feature = "http2")]
mod h2;
#[cfg(feature = "http2")]
mod h2_lean;
#[cfg(feature = "http2")]
mod hpack;
mod http1;
#[cfg(feature = "http2")]
mod pool;
pub(crate) mod raw;
mod stream;
mod tcp;
#[cfg(feature = "rustls")]
mod tls;
mod udp;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use tokio::time::Instant;

use crate::ErrorKind;

pub(crate) use self::classify::classify_connect_io;
pub(crate) use self::echo::MIN_PAYLOAD;
#[cfg(feature = "http2")]
pub(crate) use self::grpc::{HEALTH_CHECK, frame as grpc_frame, health_request, timeout_value};
#[cfg(feature = "rustls")]
pub(crate) use self::tls::tls_connector;

/// The protocol a run speaks (the SMP client's `protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// HTTP/1.1 or HTTP/2 ([`HttpVersion`]); `http://` and `https://` URLs.
    #[default]
    Http,
    /// TCP echo: `tcp://host:port`. Each request writes a unique payload and reads the full
    /// echo back, checked byte for byte; connections are reused.
    Tcp,
    /// UDP echo: `udp://host:port`. Each request sends a unique datagram and waits for its
    /// echo; lost, late and mismatched echoes are told apart.
    Udp,
    /// gRPC unary calls over HTTP/2 (feature `http2`): `grpc://host:port/pkg.Service/Method`
    /// (h2c prior knowledge) or `grpcs://` (TLS with ALPN `h2`); `http://` and `https://`
    /// work too. Without a method path the built-in `grpc.health.v1.Health/Check` is
    /// called.
    Grpc,
}

impl Protocol {
    /// Lower-case name: `http`, `tcp`, `udp`, `grpc` (SMP's short names).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Grpc => "grpc",
        }
    }

    /// The protocol an SMP client names (`None` for `PROTOCOL_INVALID`, not set).
    pub fn from_smp(p: smps_model::Protocol) -> Option<Self> {
        match p {
            smps_model::Protocol::Http => Some(Protocol::Http),
            smps_model::Protocol::Tcp => Some(Protocol::Tcp),
            smps_model::Protocol::Udp => Some(Protocol::Udp),
            smps_model::Protocol::Grpc => Some(Protocol::Grpc),
            _ => None,
        }
    }

    /// The protocol a URL scheme stands for (`http`, `https`, `tcp`, `udp`, `grpc`,
    /// `grpcs`).
    pub fn from_scheme(scheme: &str) -> Option<Self> {
        match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" => Some(Protocol::Http),
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            "grpc" | "grpcs" => Some(Protocol::Grpc),
            _ => None,
        }
    }

    /// Whether requests of this protocol run over HTTP/2 streams whatever the HTTP version.
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    pub(crate) fn needs_h2(self) -> bool {
        self == Protocol::Grpc
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which HTTP version the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTP/1.1 with keep-alive (one request in flight per connection).
    #[default]
    Http1,
    /// HTTP/2: prior knowledge (h2c) for `http://` URLs, ALPN `h2` for `https://` URLs (a
    /// server that only offers HTTP/1.1 over TLS is then spoken to in HTTP/1.1).
    /// Each connection carries [`streams_per_connection`](crate::EngineBuilder::streams_per_connection)
    /// streams at once (default 1).
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

/// Which HTTP/2 client carries HTTP/2 requests and gRPC calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
#[cfg(feature = "http2")]
#[cfg_attr(docsrs, doc(cfg(feature = "http2")))]
pub enum Http2Client {
    /// The engine's own client (default): one task per connection owns the socket and
    /// batches frames; request header blocks are encoded once per endpoint; responses are
    /// parsed in place and bodies counted without being kept. About half the CPU per
    /// request of the `h2` crate in our measurements (`benches/README.md`).
    #[default]
    Lean,
    /// The `h2` crate's client (the HTTP/2 implementation under hyper): more widely
    /// deployed, more CPU per request.
    H2,
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
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    pub(crate) absolute: Uri,
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// Bytes of the request head and body as HTTP/1.1 would write them.
    pub(crate) bytes_out: u64,
    /// The whole HTTP/1.1 request, encoded once.
    pub(crate) raw: Bytes,
    pub(crate) is_head: bool,
    /// gRPC: the call is the built-in health check (its answer must say `SERVING`).
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    pub(crate) grpc_health: bool,
}

/// Everything a worker needs to talk to the targets; shared read-only by all workers.
pub(crate) struct Transport {
    pub(crate) protocol: Protocol,
    pub(crate) origins: Vec<Origin>,
    pub(crate) endpoints: Arc<Vec<Endpoint>>,
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    pub(crate) version: HttpVersion,
    pub(crate) h1_client: Http1Client,
    #[cfg(feature = "http2")]
    pub(crate) h2_client: Http2Client,
    pub(crate) connect_timeout: Duration,
    /// HTTP/2 and gRPC: concurrent streams per connection (slots sharing one connection).
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    pub(crate) streams_per_connection: usize,
    /// TCP and UDP echo: bytes per request.
    pub(crate) payload_size: usize,
    /// UDP echo: how long an echo may take to be on time.
    pub(crate) udp_timeout: Duration,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<tokio_rustls::TlsConnector>,
    /// HTTP/2 connections of the `h2` crate, one pool per origin.
    #[cfg(feature = "http2")]
    pub(crate) h2_pools: Vec<pool::Pool<h2::Shared>>,
    /// HTTP/2 connections of the engine's own client, one pool per origin.
    #[cfg(feature = "http2")]
    pub(crate) lean_pools: Vec<pool::Pool<Arc<h2_lean::Shared>>>,
    /// HTTP/2 header fields of each endpoint (by index), made once.
    #[cfg(feature = "http2")]
    pub(crate) h2_fields: Vec<HeaderMap>,
    /// The HPACK-encoded request header block of each endpoint (by index), made once.
    #[cfg(feature = "http2")]
    pub(crate) h2_blocks: Arc<Vec<Vec<u8>>>,
    /// Ids handed to slots at their first use.
    pub(crate) next_slot: AtomicUsize,
    /// The first reason seen for each kind of failure (the TLS library's message, the
    /// operating system's, a gRPC status message), for the report; indexed by
    /// [`ErrorKind::index`]. Written once per kind: every later failure of that kind costs
    /// one atomic load, no lock, however many workers fail at once.
    pub(crate) reasons: [OnceLock<String>; ErrorKind::ALL.len()],
}

/// The settings a [`Transport`] is made from (besides origins and endpoints).
pub(crate) struct TransportSettings {
    pub(crate) protocol: Protocol,
    pub(crate) version: HttpVersion,
    pub(crate) h1_client: Http1Client,
    #[cfg(feature = "http2")]
    pub(crate) h2_client: Http2Client,
    pub(crate) connect_timeout: Duration,
    pub(crate) streams_per_connection: usize,
    pub(crate) payload_size: usize,
    pub(crate) udp_timeout: Duration,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<tokio_rustls::TlsConnector>,
}

/// Most characters kept of one failure reason.
const MAX_REASON_CHARS: usize = 200;

impl Transport {
    pub(crate) fn new(
        s: &TransportSettings,
        origins: Vec<Origin>,
        endpoints: Arc<Vec<Endpoint>>,
    ) -> Self {
        #[cfg(feature = "http2")]
        let h2_fields: Vec<HeaderMap> = endpoints.iter().map(h2::head_fields).collect();
        Transport {
            protocol: s.protocol,
            #[cfg(feature = "http2")]
            h2_pools: origins.iter().map(|_| pool::Pool::default()).collect(),
            #[cfg(feature = "http2")]
            lean_pools: origins.iter().map(|_| pool::Pool::default()).collect(),
            #[cfg(feature = "http2")]
            h2_blocks: Arc::new(
                endpoints
                    .iter()
                    .zip(&h2_fields)
                    .map(|(ep, fields)| h2_lean::request_block(ep, fields))
                    .collect(),
            ),
            #[cfg(feature = "http2")]
            h2_fields,
            #[cfg(feature = "http2")]
            h2_client: s.h2_client,
            origins,
            endpoints,
            version: s.version,
            h1_client: s.h1_client,
            connect_timeout: s.connect_timeout,
            streams_per_connection: s.streams_per_connection.max(1),
            payload_size: s.payload_size,
            udp_timeout: s.udp_timeout,
            #[cfg(feature = "rustls")]
            tls: s.tls.clone(),
            next_slot: AtomicUsize::new(0),
            reasons: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    /// Remembers why a request failed, if no reason is known yet for its kind; returns the
    /// kind so failure paths stay one expression.
    ///
    /// Lock-free once the kind has a reason: failures come in storms (a refused port fails
    /// every request of every worker at once), and the only shared write is the first one per
    /// kind. Workers that race on that first write wait only while it is formatted.
    fn failed(&self, kind: ErrorKind, reason: impl FnOnce() -> String) -> ErrorKind {
        let first = &self.reasons[kind.index()];
        if first.get().is_none() {
            first.get_or_init(|| {
                let text = reason();
                let text = smps_model::redact::text(&text);
                text.chars().take(MAX_REASON_CHARS).collect()
            });
        }
        kind
    }

    /// The reasons collected so far.
    pub(crate) fn reasons(&self) -> BTreeMap<ErrorKind, String> {
        ErrorKind::ALL
            .iter()
            .zip(&self.reasons)
            .filter_map(|(kind, r)| Some((*kind, r.get()?.clone())))
            .collect()
    }

    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    fn wants_h2(&self) -> bool {
        #[cfg(feature = "http2")]
        {
            self.version == HttpVersion::Http2 || self.protocol.needs_h2()
        }
        #[cfg(not(feature = "http2"))]
        {
            false
        }
    }
}

/// One open connection (or, for HTTP/2, a stream handle on a shared one).
enum Conn {
    Raw(raw::RawConn<stream::Stream>),
    H1(http1::HyperH1),
    #[cfg(feature = "http2")]
    H2(h2::Handle),
    #[cfg(feature = "http2")]
    Lean2(h2_lean::Handle),
    Tcp(tcp::TcpConn),
    Udp(udp::UdpConn),
}

impl Conn {
    /// Whether the connection may carry the next request.
    fn alive(&mut self) -> bool {
        match self {
            // A close by the server shows up as a failed exchange (counted) and a reconnect.
            Conn::Raw(_) | Conn::Tcp(_) | Conn::Udp(_) => true,
            Conn::H1(h) => h.alive(),
            #[cfg(feature = "http2")]
            Conn::H2(h) => h.alive(),
            #[cfg(feature = "http2")]
            Conn::Lean2(h) => h.alive(),
        }
    }
}

/// A unit of concurrency: at most one request in flight, and one lazily opened connection
/// (or HTTP/2 stream handle) per origin.
pub(crate) struct Slot {
    conns: Vec<Option<Conn>>,
    backoff: Duration,
    retry_at: Option<Instant>,
    /// Given at first use: picks the slot's HTTP/2 connection and marks its echo payloads.
    id: Option<usize>,
    /// Echo requests sent by this slot.
    seq: u64,
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
            id: None,
            seq: 0,
        }
    }

    /// Forget the connection to `origin` (after a timeout left it mid-request).
    pub(crate) fn discard(&mut self, origin: usize) {
        if let Some(c) = self.conns.get_mut(origin) {
            *c = None;
        }
    }

    fn id(&mut self, t: &Transport) -> usize {
        *self
            .id
            .get_or_insert_with(|| t.next_slot.fetch_add(1, Ordering::Relaxed))
    }
}

/// What one exchange produced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exchange {
    /// Status (HTTP status; 200 for a successful echo or gRPC call), or why there is none.
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

/// What a protocol's exchange on an open connection produced.
pub(crate) struct Outcome {
    pub(crate) sent_at: Instant,
    /// Status, bytes in and bytes out; or why not.
    pub(crate) result: Result<(u16, u64, u64), ErrorKind>,
    /// Whether the connection may carry the next request (on success).
    pub(crate) reusable: bool,
}

impl Transport {
    /// Opens what slot `id` needs to reach `origin`: a connection, a socket, or an HTTP/2
    /// stream handle. Returns it and whether a new connection was opened.
    async fn open(&self, origin: usize, id: usize) -> Result<(Conn, bool), ErrorKind> {
        let o = &self.origins[origin];
        match self.protocol {
            Protocol::Tcp => {
                let s = self.connect_tcp(o).await?;
                return Ok((Conn::Tcp(tcp::TcpConn::new(s, self.payload_size)), true));
            }
            Protocol::Udp => {
                let addr = o.addrs[0];
                let c = udp::UdpConn::open(addr, self.payload_size)
                    .await
                    .map_err(|e| {
                        self.failed(classify_connect_io(&e), || {
                            format!("UDP socket for {addr}: {e}")
                        })
                    })?;
                return Ok((Conn::Udp(c), true));
            }
            Protocol::Http | Protocol::Grpc => {}
        }
        #[cfg(feature = "http2")]
        if self.wants_h2() {
            let joined = match self.h2_client {
                Http2Client::Lean => self.lean_handle(origin, id).await?.map(Conn::Lean2),
                Http2Client::H2 => self.h2_handle(origin, id).await?.map(Conn::H2),
            };
            return match joined {
                pool::Joined::Shared(c, opened) => Ok((c, opened)),
                pool::Joined::Http1(stream) => Ok((self.http1(stream).await?, true)),
            };
        }
        let _ = id;
        let (stream, _) = self.connect_stream(o).await?;
        Ok((self.http1(stream).await?, true))
    }

    /// One request or gRPC call on an HTTP/2 stream handle.
    #[cfg(feature = "http2")]
    async fn h2_call(&self, h: &mut h2::Handle, ep_index: usize) -> Outcome {
        let (ep, fields) = (&self.endpoints[ep_index], &self.h2_fields[ep_index]);
        if self.protocol == Protocol::Grpc {
            Box::pin(self.grpc_exchange(h, ep, fields)).await
        } else {
            Box::pin(h.exchange(ep, fields)).await
        }
    }

    /// One request or gRPC call on a stream of the engine's own HTTP/2 client. A failure
    /// is the first reason of its kind unless the request was not sent and may still be
    /// (`resend` false: it will be sent again on a new connection, and may succeed there).
    #[cfg(feature = "http2")]
    async fn lean_call(&self, h: &mut h2_lean::Handle, ep_index: usize, resend: bool) -> Outcome {
        let ep = &self.endpoints[ep_index];
        let sent_at = Instant::now();
        let result = match h.call(ep_index).await {
            Ok(a) => match &a.grpc {
                Some(g) => self
                    .grpc_verdict(
                        ep,
                        a.status,
                        g.status,
                        || g.message.clone().unwrap_or_default(),
                        &g.messages,
                    )
                    .map(|status| (status, a.bytes_in, ep.bytes_out)),
                None => Ok((a.status, a.bytes_in, ep.bytes_out)),
            },
            Err(f) if f.unsent && !resend => Err(f.kind),
            Err(f) => Err(self.failed(f.kind, || f.why.to_string())),
        };
        Outcome {
            sent_at,
            result,
            reusable: true,
        }
    }

    /// Opens (or joins) a new connection for slot `id` to `origin` and sends the request
    /// of endpoint `ep_index` on it again, when it is an HTTP/2 connection. Returns the
    /// connection, whether it was opened, and the new outcome.
    #[cfg(feature = "http2")]
    async fn resend(
        &self,
        origin: usize,
        id: usize,
        ep_index: usize,
    ) -> Option<(Conn, bool, Option<Outcome>)> {
        let (mut c, opened) = self.open(origin, id).await.ok()?;
        let again = match &mut c {
            Conn::H2(h) => Some(self.h2_call(h, ep_index).await),
            Conn::Lean2(h) => Some(self.lean_call(h, ep_index, true).await),
            _ => None,
        };
        Some((c, opened, again))
    }

    async fn http1(&self, stream: stream::Stream) -> Result<Conn, ErrorKind> {
        Ok(match self.h1_client {
            Http1Client::Lean => Conn::Raw(raw::RawConn::new(stream)),
            Http1Client::Hyper => Conn::H1(http1::HyperH1::handshake(stream).await?),
        })
    }

    /// Opens the slot's connection to `origin` ahead of the run. Returns whether a new
    /// connection was opened (an HTTP/2 slot may join one another slot opened); a failure
    /// is not counted here (the first request on the slot retries and counts it).
    pub(crate) async fn preconnect(&self, slot: &mut Slot, origin: usize) -> bool {
        if origin >= self.origins.len() {
            return false;
        }
        let id = slot.id(self);
        match self.open(origin, id).await {
            Ok((c, opened)) => {
                slot.conns[origin] = Some(c);
                opened
            }
            Err(_) => false,
        }
    }

    /// Send one request to endpoint `ep` on `slot`, connecting first if needed.
    ///
    /// Cancel safety: dropping the future may leave the slot's connection to the endpoint's
    /// origin mid-request; call [`Slot::discard`] afterwards.
    pub(crate) async fn exchange(&self, slot: &mut Slot, ep_index: usize) -> Exchange {
        let ep = &self.endpoints[ep_index];
        if let Some(at) = slot.retry_at.take() {
            tokio::time::sleep_until(at).await;
        }
        let id = slot.id(self);
        let mut connected = false;
        let entry = &mut slot.conns[ep.origin];
        if entry.as_mut().is_some_and(|c| !c.alive()) {
            *entry = None;
        }
        if entry.is_none() {
            // Boxed: connecting (TLS included) is rare and its future is large; kept
            // inline it would be moved with every request's future.
            match Box::pin(self.open(ep.origin, id)).await {
                Ok((c, opened)) => {
                    *entry = Some(c);
                    connected = opened;
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
        // HTTP/2: the shared connection went away before the stream was opened.
        #[cfg_attr(not(feature = "http2"), allow(unused_mut))]
        let mut retry = false;
        #[cfg_attr(not(feature = "http2"), allow(unused_mut))]
        let mut out = match conn {
            Conn::Raw(raw) => {
                let sent_at = Instant::now();
                match raw.exchange(&ep.raw, ep.is_head).await {
                    Ok((status, bytes, keep)) => Outcome {
                        sent_at,
                        result: Ok((status, bytes, ep.bytes_out)),
                        reusable: keep,
                    },
                    Err(k) => Outcome {
                        sent_at,
                        result: Err(k),
                        reusable: false,
                    },
                }
            }
            // Boxed: hyper's futures are large, and the lean path should not move their
            // space around with every request.
            Conn::H1(h) => Box::pin(h.exchange(ep)).await,
            #[cfg(feature = "http2")]
            Conn::H2(h) => {
                let out = self.h2_call(h, ep_index).await;
                retry = out.result.is_err() && h.unsent;
                out
            }
            #[cfg(feature = "http2")]
            Conn::Lean2(h) => {
                let out = self.lean_call(h, ep_index, false).await;
                retry = out.result.is_err() && h.unsent;
                out
            }
            Conn::Tcp(c) => {
                slot.seq += 1;
                c.exchange(id as u64, slot.seq).await
            }
            Conn::Udp(c) => {
                slot.seq += 1;
                Box::pin(c.exchange(id as u64, slot.seq, self.udp_timeout)).await
            }
        };
        #[cfg(feature = "http2")]
        if retry {
            // Nothing was sent: open (or join) a new connection and send once more; the
            // latency still counts from the first attempt.
            *entry = None;
            if let Some((c, opened, again)) = Box::pin(self.resend(ep.origin, id, ep_index)).await {
                connected |= opened;
                if let Some(again) = again {
                    out = Outcome {
                        sent_at: out.sent_at,
                        ..again
                    };
                }
                *entry = Some(c);
            }
        }
        let _ = retry;
        let done_at = Instant::now();
        match out.result {
            Ok((status, bytes_in, bytes_out)) => {
                if !out.reusable {
                    *entry = None;
                }
                Exchange {
                    outcome: Ok(status),
                    sent_at: out.sent_at,
                    done_at,
                    bytes_in,
                    bytes_out,
                    connected,
                }
            }
            Err(kind) => {
                // A failed stream or call leaves its HTTP/2 connection usable, and a UDP
                // socket has nothing to lose; other connections are closed.
                let keep = match conn_kind(entry) {
                    Kept::Shared => !is_connection_level(kind),
                    Kept::Socket => true,
                    Kept::Own => false,
                };
                if !keep {
                    *entry = None;
                }
                Exchange {
                    outcome: Err(kind),
                    sent_at: out.sent_at,
                    done_at,
                    bytes_in: 0,
                    bytes_out: match self.protocol {
                        Protocol::Tcp | Protocol::Udp => self.payload_size as u64,
                        _ => ep.bytes_out,
                    },
                    connected,
                }
            }
        }
    }
}

/// What a failure means for the slot's connection.
enum Kept {
    /// An HTTP/2 stream handle: the connection survives stream-level failures.
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    Shared,
    /// A UDP socket.
    Socket,
    /// A connection of the slot's own.
    Own,
}

fn conn_kind(entry: &Option<Conn>) -> Kept {
    match entry {
        #[cfg(feature = "http2")]
        Some(Conn::H2(_) | Conn::Lean2(_)) => Kept::Shared,
        Some(Conn::Udp(_)) => Kept::Socket,
        _ => Kept::Own,
    }
}

/// Whether a failure ends the connection (not only the stream or the call).
fn is_connection_level(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionClosed
            | ErrorKind::Http2GoAway
            | ErrorKind::Protocol
            | ErrorKind::Other
    )
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

    fn transport() -> Transport {
        let settings = TransportSettings {
            protocol: Protocol::Http,
            version: HttpVersion::Http1,
            h1_client: Http1Client::Lean,
            #[cfg(feature = "http2")]
            h2_client: Http2Client::Lean,
            connect_timeout: Duration::from_secs(1),
            streams_per_connection: 1,
            payload_size: 24,
            udp_timeout: Duration::from_millis(750),
            #[cfg(feature = "rustls")]
            tls: None,
        };
        Transport::new(&settings, Vec::new(), Arc::new(Vec::new()))
    }

    #[test]
    fn the_first_reason_of_each_kind_is_kept_redacted_and_cut() {
        let t = transport();
        assert!(t.reasons().is_empty());
        let long = format!("see https://user:secret@example.test/ {}", "x".repeat(500));
        assert_eq!(t.failed(ErrorKind::Tls, || long), ErrorKind::Tls);
        let mut asked = false;
        t.failed(ErrorKind::Tls, || {
            asked = true;
            "second".into()
        });
        assert!(!asked, "a kind with a reason does not build another one");
        t.failed(ErrorKind::ConnectRefused, || "refused".into());
        let reasons = t.reasons();
        assert_eq!(
            reasons.keys().copied().collect::<Vec<_>>(),
            [ErrorKind::ConnectRefused, ErrorKind::Tls]
        );
        assert_eq!(reasons[&ErrorKind::ConnectRefused], "refused");
        let tls = &reasons[&ErrorKind::Tls];
        assert!(!tls.contains("secret"), "{tls}");
        assert_eq!(tls.chars().count(), MAX_REASON_CHARS);
    }

    #[test]
    fn every_kind_has_its_own_reason_slot() {
        let t = transport();
        for k in ErrorKind::ALL {
            t.failed(k, || k.name().to_owned());
        }
        let reasons = t.reasons();
        assert_eq!(reasons.len(), ErrorKind::ALL.len());
        assert!(reasons.iter().all(|(k, r)| k.name() == r));
    }

    #[test]
    fn schemes_and_smp_names_select_protocols() {
        assert_eq!(Protocol::from_scheme("GRPCS"), Some(Protocol::Grpc));
        assert_eq!(Protocol::from_scheme("udp"), Some(Protocol::Udp));
        assert_eq!(Protocol::from_scheme("ftp"), None);
        assert_eq!(
            Protocol::from_smp(smps_model::Protocol::Tcp),
            Some(Protocol::Tcp)
        );
        assert_eq!(Protocol::from_smp(smps_model::Protocol::Invalid), None);
    }
}
