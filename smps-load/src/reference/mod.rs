//! A loopback reference server for tests, examples and benchmarks (feature
//! `reference-server`; not part of the default public surface).
//!
//! [`ReferenceServer`] listens on `127.0.0.1:0`, speaks HTTP/1.1 and HTTP/2 (prior knowledge
//! on plain TCP, ALPN under TLS; the streams per HTTP/2 connection can be limited) and gRPC
//! (`grpc.health.v1.Health/Check`, and an echo of any other method), and can inject a fixed
//! or random delay, periodic stalls ("pause N ms every M s", like suspending a server with
//! ^Z), an HTTP status mix and a gRPC status mix. [`EchoServer`] is a TCP or UDP echo server
//! (UDP with a configurable drop rate).
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use smps_load::reference::{ReferenceServer, Stall};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), smps_load::Error> {
//! let server = ReferenceServer::builder()
//!     .stall(Stall::new(Duration::from_millis(100), Duration::from_secs(1)))
//!     .status_mix(vec![(200, 9), (503, 1)])
//!     .start()
//!     .await?;
//! let url = server.url("/hello");
//! assert!(url.starts_with("http://127.0.0.1:"));
//! server.shutdown().await;
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::rng::SplitMix64;

mod echo;
mod grpc;

pub use self::echo::{EchoServer, EchoServerBuilder};
pub use self::grpc::GrpcBody;

/// The body of the reference server's responses: plain HTTP or gRPC (data, then trailers).
pub type ReferenceBody = http_body_util::Either<Full<Bytes>, GrpcBody>;

/// Largest request body the reference server reads.
const MAX_REQUEST_BODY: usize = 4 << 20;

/// Delay added to every response.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Delay {
    /// Respond at once.
    #[default]
    None,
    /// The same delay for every request.
    Fixed(Duration),
    /// Uniformly distributed in `[min, max]` (seeded by [`ReferenceServerBuilder::seed`]).
    Uniform {
        /// Smallest delay.
        min: Duration,
        /// Largest delay.
        max: Duration,
    },
}

/// A periodic stall: the server answers nothing for `pause` at the start of every `every`
/// period (counted from the server's start); requests arriving during a pause are answered
/// when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stall {
    /// How long each pause lasts.
    pub pause: Duration,
    /// Period of the pauses.
    pub every: Duration,
}

impl Stall {
    /// A pause of `pause` every `every`.
    pub fn new(pause: Duration, every: Duration) -> Self {
        Stall { pause, every }
    }
}

/// Builder of a [`ReferenceServer`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ReferenceServerBuilder {
    delay: Delay,
    stall: Option<Stall>,
    status_mix: Vec<(u16, u32)>,
    body: Bytes,
    seed: u64,
    max_streams: Option<u32>,
    grpc_mix: Vec<(u32, u32)>,
    grpc_serving: bool,
    #[cfg(feature = "rustls")]
    tls: Option<(String, String)>,
}

/// A running reference server. Stop it with [`ReferenceServer::shutdown`]; dropping it stops
/// accepting as well.
#[derive(Debug)]
pub struct ReferenceServer {
    addr: SocketAddr,
    https: bool,
    served: Arc<AtomicU64>,
    token: CancellationToken,
    task: Option<JoinHandle<()>>,
}

struct State {
    epoch: Instant,
    delay: Delay,
    stall: Option<Stall>,
    mix: Vec<(StatusCode, u64)>,
    mix_total: u64,
    counter: AtomicU64,
    served: Arc<AtomicU64>,
    body: Bytes,
    rng: Mutex<SplitMix64>,
    grpc_mix: Vec<(u32, u64)>,
    grpc_mix_total: u64,
    grpc_counter: AtomicU64,
    grpc_serving: bool,
}

impl ReferenceServer {
    /// A builder: no delay, no stall, always `200 OK` with body `hello\n`.
    pub fn builder() -> ReferenceServerBuilder {
        ReferenceServerBuilder {
            delay: Delay::None,
            stall: None,
            status_mix: vec![(200, 1)],
            body: Bytes::from_static(b"hello\n"),
            seed: 1,
            max_streams: None,
            grpc_mix: vec![(0, 1)],
            grpc_serving: true,
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }

    /// The listening address (on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` on this server (`http://` or `https://127.0.0.1:PORT/path`).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("{scheme}://{}{sep}{path}", self.addr)
    }

    /// Responses sent so far.
    pub fn requests_served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Stops accepting, closes open connections, and waits for the server task to end.
    pub async fn shutdown(mut self) {
        self.token.cancel();
        if let Some(t) = self.task.take() {
            // The accept loop only ends; its result carries nothing.
            let _ = t.await;
        }
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

impl ReferenceServerBuilder {
    /// Delay added to every response.
    pub fn delay(mut self, delay: Delay) -> Self {
        self.delay = delay;
        self
    }

    /// A periodic stall.
    pub fn stall(mut self, stall: Stall) -> Self {
        self.stall = Some(stall);
        self
    }

    /// Status codes with integer weights, served in a fixed deterministic cycle (e.g.
    /// `[(200, 9), (503, 1)]`: nine 200s, then one 503, repeated).
    pub fn status_mix(mut self, mix: Vec<(u16, u32)>) -> Self {
        self.status_mix = mix;
        self
    }

    /// Response body (default `hello\n`).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// HTTP/2: the most concurrent streams per connection the server allows
    /// (`SETTINGS_MAX_CONCURRENT_STREAMS`; default: hyper's, 200).
    pub fn max_concurrent_streams(mut self, streams: u32) -> Self {
        self.max_streams = Some(streams);
        self
    }

    /// gRPC status codes with integer weights, served in a fixed deterministic cycle like
    /// [`status_mix`](Self::status_mix) (default: always 0, `OK`). A non-OK call is answered
    /// trailers-only with `grpc-message: injected by the reference server`.
    pub fn grpc_status_mix(mut self, mix: Vec<(u32, u32)>) -> Self {
        self.grpc_mix = mix;
        self
    }

    /// gRPC health check: answer `SERVING` (default) or `NOT_SERVING`.
    pub fn grpc_serving(mut self, serving: bool) -> Self {
        self.grpc_serving = serving;
        self
    }

    /// Seed of the random delay.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Serve TLS with this certificate chain and private key (PEM), offering ALPN `h2` and
    /// `http/1.1`.
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    pub fn tls(mut self, cert_chain_pem: impl Into<String>, key_pem: impl Into<String>) -> Self {
        self.tls = Some((cert_chain_pem.into(), key_pem.into()));
        self
    }

    /// Binds `127.0.0.1:0` and starts serving on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for an empty or invalid status mix, a stall whose pause is
    /// not shorter than its period, or an inverted uniform delay; [`Error::LoadCertificate`]
    /// for unusable TLS material; [`Error::BindServer`] if the socket cannot be bound;
    /// [`Error::NoRuntime`] outside a Tokio runtime.
    pub async fn start(self) -> Result<ReferenceServer> {
        tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let mut mix = Vec::new();
        for (i, (code, w)) in self.status_mix.iter().enumerate() {
            let s = StatusCode::from_u16(*code).map_err(|_| Error::InvalidSetting {
                field: format!("status_mix[{i}]"),
                reason: format!("{code} is not an HTTP status code"),
            })?;
            if *w > 0 {
                mix.push((s, u64::from(*w)));
            }
        }
        let mix_total: u64 = mix.iter().map(|(_, w)| w).sum();
        let grpc_mix: Vec<(u32, u64)> = self
            .grpc_mix
            .iter()
            .filter(|(_, w)| *w > 0)
            .map(|(c, w)| (*c, u64::from(*w)))
            .collect();
        let grpc_mix_total: u64 = grpc_mix.iter().map(|(_, w)| w).sum();
        if grpc_mix_total == 0 || grpc_mix.iter().any(|(c, _)| *c > 16) {
            return Err(Error::InvalidSetting {
                field: "grpc_status_mix".into(),
                reason: "needs gRPC codes 0-16, at least one with a weight > 0".into(),
            });
        }
        if mix_total == 0 {
            return Err(Error::InvalidSetting {
                field: "status_mix".into(),
                reason: "needs at least one status with a weight > 0".into(),
            });
        }
        if let Some(st) = self.stall {
            if st.every.is_zero() || st.pause >= st.every {
                return Err(Error::InvalidSetting {
                    field: "stall".into(),
                    reason: format!(
                        "the pause ({:?}) must be shorter than the period ({:?})",
                        st.pause, st.every
                    ),
                });
            }
        }
        if let Delay::Uniform { min, max } = self.delay {
            if min > max {
                return Err(Error::InvalidSetting {
                    field: "delay".into(),
                    reason: format!("min ({min:?}) is above max ({max:?})"),
                });
            }
        }
        #[cfg(feature = "rustls")]
        let acceptor = match &self.tls {
            None => None,
            Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        };
        let listener =
            TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|source| Error::BindServer {
                    addr: "127.0.0.1:0".into(),
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| Error::BindServer {
            addr: "127.0.0.1:0".into(),
            source,
        })?;
        let served = Arc::new(AtomicU64::new(0));
        let state = Arc::new(State {
            epoch: Instant::now(),
            delay: self.delay,
            stall: self.stall,
            mix,
            mix_total,
            counter: AtomicU64::new(0),
            served: Arc::clone(&served),
            body: self.body,
            rng: Mutex::new(SplitMix64::new(self.seed)),
            grpc_mix,
            grpc_mix_total,
            grpc_counter: AtomicU64::new(0),
            grpc_serving: self.grpc_serving,
        });
        let max_streams = self.max_streams;
        let token = CancellationToken::new();
        let t = token.clone();
        #[cfg(feature = "rustls")]
        let https = acceptor.is_some();
        #[cfg(not(feature = "rustls"))]
        let https = false;
        let task = tokio::spawn(async move {
            loop {
                let (tcp, _) = tokio::select! {
                    _ = t.cancelled() => break,
                    r = listener.accept() => match r {
                        Ok(x) => x,
                        // Out of file descriptors and the like: keep serving the others.
                        Err(_) => continue,
                    },
                };
                let _ = tcp.set_nodelay(true);
                let state = Arc::clone(&state);
                let t = t.clone();
                #[cfg(feature = "rustls")]
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(Arc::clone(&state), req));
                    let mut builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    if let Some(n) = max_streams {
                        builder.http2().max_concurrent_streams(n);
                    }
                    #[cfg(feature = "rustls")]
                    if let Some(acc) = acceptor {
                        let Ok(tls) = acc.accept(tcp).await else {
                            return;
                        };
                        let conn = builder.serve_connection(TokioIo::new(tls), svc);
                        tokio::select! { _ = t.cancelled() => {}, _ = conn => {} }
                        return;
                    }
                    let conn = builder.serve_connection(TokioIo::new(tcp), svc);
                    tokio::select! { _ = t.cancelled() => {}, _ = conn => {} }
                });
            }
        });
        Ok(ReferenceServer {
            addr,
            https,
            served,
            token,
            task: Some(task),
        })
    }
}

#[cfg(feature = "rustls")]
fn tls_acceptor(cert: &str, key: &str) -> Result<tokio_rustls::TlsAcceptor> {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |field: &str, reason: String| Error::LoadCertificate {
        field: field.into(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad("tls.cert_chain_pem", e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("tls.cert_chain_pem", "no certificate found".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
        .map_err(|e| bad("tls.key_pem", e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad("tls", e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad("tls", e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> std::result::Result<Response<ReferenceBody>, Infallible> {
    let grpc = grpc::is_grpc(req.headers());
    let path = req.uri().path().to_string();
    // Read the request body (kept for a gRPC echo); a broken body still gets an answer.
    let body = http_body_util::Limited::new(req.into_body(), MAX_REQUEST_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    if let Some(st) = state.stall {
        let since = state.epoch.elapsed();
        let period = st.every.as_nanos();
        let phase = since.as_nanos() % period;
        if phase < st.pause.as_nanos() {
            let wait = st.pause.as_nanos() - phase;
            tokio::time::sleep(Duration::from_nanos(wait.min(u128::from(u64::MAX)) as u64)).await;
        }
    }
    let delay = match state.delay {
        Delay::None => Duration::ZERO,
        Delay::Fixed(d) => d,
        Delay::Uniform { min, max } => {
            let u = state.rng.lock().map(|mut r| r.unit()).unwrap_or(0.5);
            min + (max - min).mul_f64(u)
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if grpc {
        let n = state.grpc_counter.fetch_add(1, Ordering::Relaxed) % state.grpc_mix_total;
        let mut acc = 0;
        let mut code = 0;
        for (c, w) in &state.grpc_mix {
            acc += w;
            if n < acc {
                code = *c;
                break;
            }
        }
        state.served.fetch_add(1, Ordering::Relaxed);
        let resp = grpc::answer(&path, &body, code, state.grpc_serving);
        return Ok(resp.map(http_body_util::Either::Right));
    }
    let n = state.counter.fetch_add(1, Ordering::Relaxed) % state.mix_total;
    let mut acc = 0;
    let mut status = StatusCode::OK;
    for (s, w) in &state.mix {
        acc += w;
        if n < acc {
            status = *s;
            break;
        }
    }
    state.served.fetch_add(1, Ordering::Relaxed);
    let mut resp = Response::new(http_body_util::Either::Left(Full::new(state.body.clone())));
    *resp.status_mut() = status;
    Ok(resp)
}
