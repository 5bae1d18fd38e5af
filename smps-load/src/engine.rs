//! The engine: builder, run handle, workers and the collector.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::Stream;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::error::{Error, Result};
use crate::plan::ArrivalPlan;
use crate::recorder::Stats;
use crate::report::{
    LatencyBasis, LatencySummary, Phase, PhaseReport, Report, RunSettings, Snapshot,
};
use crate::transport::{Endpoint, Http1Client, HttpVersion, Origin, Slot, Transport};
use crate::worker::{WorkerCtx, WorkerFinal, WorkerModel, WorkerMsg, worker};

/// How requests are paced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LoadModel {
    /// Closed loop: every connection sends its next request as soon as the previous response
    /// is complete ("as fast as possible"). Latency is measured from the actual send, so it
    /// equals service time plus the engine's own turnaround; it is **not** corrected for
    /// coordinated omission.
    Closed,
    /// Open loop: requests are sent at the intended times of an [`ArrivalPlan`], whatever the
    /// server does. Latency is measured from the intended send time (coordinated-omission
    /// corrected); service time is kept separately.
    Open {
        /// When requests are meant to be sent.
        plan: ArrivalPlan,
        /// What happens when no connection is free at an intended send time.
        backlog: BacklogPolicy,
    },
}

/// What an open-loop run does when a request is due and no connection is free.
///
/// Whatever the policy, latency is still measured from the intended send time, and every
/// outcome is counted ([`PhaseReport::queued`], [`PhaseReport::dropped`],
/// [`PhaseReport::connections_opened`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BacklogPolicy {
    /// Wait for a connection (first come, first served); beyond `max_queued` waiting
    /// requests (per worker), further ones are dropped.
    Queue {
        /// Most requests waiting at once, per worker.
        max_queued: usize,
    },
    /// Open another connection, up to `max_connections` in total; beyond that, queue as
    /// [`BacklogPolicy::Queue`] does.
    Grow {
        /// Cap on connections (all workers together).
        max_connections: usize,
        /// Most requests waiting at once, per worker, once the cap is reached.
        max_queued: usize,
    },
    /// Do not send the request; count it as dropped.
    Drop,
}

impl Default for BacklogPolicy {
    fn default() -> Self {
        BacklogPolicy::Queue {
            max_queued: DEFAULT_MAX_QUEUED,
        }
    }
}

const DEFAULT_MAX_QUEUED: usize = 100_000;

/// Builder of an [`Engine`]. Setters never fail; [`EngineBuilder::build`] checks everything
/// and names the offending setting.
#[derive(Debug, Clone)]
#[must_use]
pub struct EngineBuilder {
    urls: Vec<(String, String)>,
    method: Option<Method>,
    headers: Vec<(String, String)>,
    headers_field: String,
    cookies: Vec<(String, String)>,
    body: Bytes,
    content_type: Option<String>,
    connections: i64,
    connections_field: String,
    model: LoadModel,
    duration: Option<Duration>,
    max_requests: Option<u64>,
    warmup: Duration,
    request_timeout: Duration,
    connect_timeout: Duration,
    interval: Duration,
    workers: Option<usize>,
    version: HttpVersion,
    h1_client: Http1Client,
    extra_ca_pem: Vec<(String, String)>,
    labels: BTreeMap<String, String>,
    deferred: Option<(String, String)>,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            urls: Vec::new(),
            method: None,
            headers: Vec::new(),
            headers_field: "headers".into(),
            cookies: Vec::new(),
            body: Bytes::new(),
            content_type: None,
            connections: 1,
            connections_field: "connections".into(),
            model: LoadModel::Closed,
            duration: None,
            max_requests: None,
            warmup: Duration::ZERO,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            interval: Duration::from_secs(1),
            workers: None,
            version: HttpVersion::default(),
            h1_client: Http1Client::default(),
            extra_ca_pem: Vec::new(),
            labels: BTreeMap::new(),
            deferred: None,
        }
    }
}

impl EngineBuilder {
    /// Adds a target URL (`http://` or `https://`). Several URLs are used in rotation.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        let field = format!("urls[{}]", self.urls.len());
        self.urls.push((url.into(), field));
        self
    }

    /// The request method (default: `GET`, or `POST` when a body is set).
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Adds a request header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a cookie (sent in one `Cookie` header).
    pub fn cookie(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.cookies.push((name.into(), value.into()));
        self
    }

    /// The request body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The `Content-Type` header of the body.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Number of connections (closed loop: concurrency; open loop: initial pool). Default 1.
    pub fn connections(mut self, connections: usize) -> Self {
        self.connections = connections.try_into().unwrap_or(i64::MAX);
        self
    }

    /// The load model (default [`LoadModel::Closed`]).
    pub fn load_model(mut self, model: LoadModel) -> Self {
        self.model = model;
        self
    }

    /// Shorthand for an open loop at a constant rate with the default backlog policy.
    ///
    /// An invalid rate is reported by [`EngineBuilder::build`].
    pub fn rate(mut self, rps: f64) -> Self {
        match ArrivalPlan::constant(rps) {
            Ok(plan) => {
                self.model = LoadModel::Open {
                    plan,
                    backlog: BacklogPolicy::default(),
                }
            }
            Err(e) => self.deferred = Some(("rate".into(), e.to_string())),
        }
        self
    }

    /// How long the measured phase lasts (after the warm-up).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// Stop after this many requests (warm-up included), split evenly across workers.
    pub fn max_requests(mut self, requests: u64) -> Self {
        self.max_requests = Some(requests);
        self
    }

    /// A warm-up phase before the measured phase: its requests are reported separately and
    /// kept out of the totals. Default: none.
    pub fn warmup(mut self, warmup: Duration) -> Self {
        self.warmup = warmup;
        self
    }

    /// Per-request timeout, connect and TLS handshake included (default 10 s). In the closed
    /// loop a timeout fires on time or up to a thousandth of it (at least 1 ms) late, never
    /// early: the timer is not moved for every request.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Timeout of each TCP connect and of each TLS handshake (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Length of the progress intervals (default 1 s).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Number of worker tasks (default: the runtime's worker threads, at most one per
    /// connection). Each worker owns its connections and its recorder.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// The HTTP version (default [`HttpVersion::Http1`]).
    pub fn http_version(mut self, version: HttpVersion) -> Self {
        self.version = version;
        self
    }

    /// Which client carries HTTP/1.1 (default [`Http1Client::Lean`]).
    pub fn http1_client(mut self, client: Http1Client) -> Self {
        self.h1_client = client;
        self
    }

    /// Trust the certificates in this PEM text in addition to the webpki roots.
    pub fn trust_pem(mut self, pem: impl Into<String>) -> Self {
        self.extra_ca_pem.push((pem.into(), "trust_pem".into()));
        self
    }

    /// Adds a label copied into the results.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// A builder set up from one SMP client and the test's duration and labels.
    ///
    /// Mapping: `protocol` must be HTTP; `connections` ≥ 1; `rps` 0 means closed loop and
    /// a positive value an open loop at that constant rate (global); `headers`, `cookies`, `body` (the
    /// method is `POST` when a body is given), `content_type`; `endpoint_urls` are used in
    /// rotation; `ssl_certificate` is PEM text trusted in addition to the webpki roots;
    /// the test's `duration` bounds the run. `internal`, `load_generator` and
    /// `additional_options` do not change what the engine does.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] when `clients` has no entry or more than one (build one engine
    /// per client and [`Report::merge`] the results), or the protocol is not HTTP;
    /// [`Error::InvalidSetting`] for a negative rate or duration. Other fields are checked
    /// by [`EngineBuilder::build`], with the field named as `clients[0].<field>`.
    pub fn from_config(config: &smps_model::PerformanceTestConfig) -> Result<Self> {
        let client = match config.clients.as_slice() {
            [c] => c,
            [] => {
                return Err(Error::Unsupported {
                    field: "clients".into(),
                    reason: "the test has no client".into(),
                });
            }
            _ => {
                return Err(Error::Unsupported {
                    field: "clients".into(),
                    reason: format!(
                        "{} clients given; build one engine per client (EngineBuilder::from_client) and merge the reports",
                        config.clients.len()
                    ),
                });
            }
        };
        let mut b = Self::from_client(client, "clients[0]")?;
        if let Some(d) = &config.duration {
            match d.to_std() {
                Some(d) => b.duration = Some(d),
                None => {
                    return Err(Error::InvalidSetting {
                        field: "duration".into(),
                        reason: format!("must not be negative, got `{}`", d.as_str()),
                    });
                }
            }
        }
        for (k, v) in &config.labels {
            b.labels.insert(k.clone(), v.clone());
        }
        Ok(b)
    }

    /// A builder set up from one SMP client; `field` names it in error messages
    /// (e.g. `clients[0]`). See [`EngineBuilder::from_config`] for the mapping.
    ///
    /// # Errors
    ///
    /// As [`EngineBuilder::from_config`].
    pub fn from_client(client: &smps_model::Client, field: &str) -> Result<Self> {
        if client.protocol != smps_model::Protocol::Http {
            return Err(Error::Unsupported {
                field: format!("{field}.protocol"),
                reason: format!(
                    "only PROTOCOL_HTTP is implemented, got {}",
                    client.protocol.name()
                ),
            });
        }
        let mut b = EngineBuilder {
            connections: i64::from(client.connections),
            connections_field: format!("{field}.connections"),
            headers_field: format!("{field}.headers"),
            ..EngineBuilder::default()
        };
        if client.rps < 0 {
            return Err(Error::InvalidSetting {
                field: format!("{field}.rps"),
                reason: format!("must be >= 0 (0 = as fast as possible), got {}", client.rps),
            });
        }
        if client.rps > 0 {
            b = b.load_model(LoadModel::Open {
                plan: ArrivalPlan::constant(client.rps as f64)?,
                backlog: BacklogPolicy::default(),
            });
        }
        b.headers = client
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        b.cookies = client
            .cookies
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !client.body.is_empty() {
            b.body = Bytes::from(client.body.clone());
        }
        if !client.content_type.is_empty() {
            b.content_type = Some(client.content_type.clone());
        }
        b.urls = client
            .endpoint_urls
            .iter()
            .enumerate()
            .map(|(i, u)| (u.clone(), format!("{field}.endpoint_urls[{i}]")))
            .collect();
        if !client.ssl_certificate.trim().is_empty() {
            b.extra_ca_pem.push((
                client.ssl_certificate.clone(),
                format!("{field}.ssl_certificate"),
            ));
        }
        Ok(b)
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn check_positive(field: &str, d: Duration) -> Result<()> {
    if d.is_zero() {
        return Err(invalid(field, "must be longer than zero"));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OriginSpec {
    https: bool,
    host: String,
    port: u16,
}

fn parse_url(url: &str, field: &str) -> Result<(OriginSpec, Uri, Uri, String)> {
    let bad = |reason: &str| Error::InvalidEndpoint {
        url: url.to_string(),
        field: field.to_string(),
        reason: reason.to_string(),
    };
    let uri: Uri = url
        .trim()
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        Some(other) => return Err(bad(&format!("scheme `{other}` is not http or https"))),
        None => return Err(bad("an absolute URL with http:// or https:// is needed")),
    };
    let authority = uri.authority().ok_or_else(|| bad("the URL has no host"))?;
    if authority.as_str().contains('@') {
        return Err(bad("user information in URLs is not supported"));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if host.is_empty() {
        return Err(bad("the URL has no host"));
    }
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let pq = if pq.is_empty() { "/" } else { pq };
    let path: Uri = pq
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    let absolute: Uri = format!(
        "{}://{}{}",
        if https { "https" } else { "http" },
        authority.as_str(),
        pq
    )
    .parse()
    .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    Ok((
        OriginSpec { https, host, port },
        path,
        absolute,
        authority.as_str().to_string(),
    ))
}

impl EngineBuilder {
    /// Checks every setting and builds the engine.
    ///
    /// # Errors
    ///
    /// * [`Error::InvalidEndpoint`]: no URL, or a URL that is not absolute `http(s)://`.
    /// * [`Error::InvalidSetting`]: zero connections or interval, a zero timeout, no limit
    ///   (no duration, no request count and an endless plan), an invalid rate, a growth cap
    ///   below the initial connections.
    /// * [`Error::InvalidHeader`]: a header or cookie that HTTP cannot carry.
    /// * [`Error::LoadCertificate`]: a trusted-CA PEM without a usable certificate.
    /// * [`Error::Unsupported`]: an `https://` URL when the `rustls` feature is off.
    pub fn build(self) -> Result<Engine> {
        if let Some((field, reason)) = &self.deferred {
            return Err(invalid(field, reason.clone()));
        }
        if self.urls.is_empty() {
            return Err(Error::InvalidEndpoint {
                url: String::new(),
                field: self
                    .connections_field
                    .replace("connections", "endpoint_urls"),
                reason: "at least one endpoint URL is needed".into(),
            });
        }
        if self.connections < 1 || self.connections > 1_000_000 {
            return Err(invalid(
                &self.connections_field,
                format!("must be between 1 and 1000000, got {}", self.connections),
            ));
        }
        let connections = self.connections as usize;
        check_positive("interval", self.interval)?;
        check_positive("request_timeout", self.request_timeout)?;
        check_positive("connect_timeout", self.connect_timeout)?;
        if self.workers == Some(0) {
            return Err(invalid("workers", "must be at least 1"));
        }
        if self.duration.is_some_and(|d| d.is_zero()) {
            return Err(invalid("duration", "must be longer than zero"));
        }
        if self.max_requests == Some(0) {
            return Err(invalid("max_requests", "must be at least 1"));
        }
        let endless_plan = match &self.model {
            LoadModel::Closed => true,
            LoadModel::Open { plan, backlog } => {
                if let BacklogPolicy::Grow {
                    max_connections, ..
                } = backlog
                {
                    if *max_connections < connections {
                        return Err(invalid(
                            "backlog.max_connections",
                            format!(
                                "must be at least the initial connections ({connections}), got {max_connections}"
                            ),
                        ));
                    }
                }
                plan.length().is_none()
            }
        };
        if endless_plan && self.duration.is_none() && self.max_requests.is_none() {
            return Err(invalid(
                "duration",
                "the run needs a limit: a duration, a request count, or a plan with an end",
            ));
        }

        // Common headers.
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let field = format!("{}.{name}", self.headers_field);
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| Error::InvalidHeader {
                name: name.clone(),
                field: field.clone(),
                source: Box::new(e),
            })?;
            let v = HeaderValue::from_str(value).map_err(|e| Error::InvalidHeader {
                name: name.clone(),
                field,
                source: Box::new(e),
            })?;
            headers.append(n, v);
        }
        if !self.cookies.is_empty() {
            let text = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let v = HeaderValue::from_str(&text).map_err(|e| Error::InvalidHeader {
                name: "cookie".into(),
                field: self.headers_field.replace("headers", "cookies"),
                source: Box::new(e),
            })?;
            headers.insert(http::header::COOKIE, v);
        }
        if let Some(ct) = &self.content_type {
            let v = HeaderValue::from_str(ct).map_err(|e| Error::InvalidHeader {
                name: "content-type".into(),
                field: self.headers_field.replace("headers", "content_type"),
                source: Box::new(e),
            })?;
            headers.insert(http::header::CONTENT_TYPE, v);
        }
        if !headers.contains_key(http::header::USER_AGENT) {
            headers.insert(
                http::header::USER_AGENT,
                HeaderValue::from_static(concat!("smps-load/", env!("CARGO_PKG_VERSION"))),
            );
        }
        let method = self.method.clone().unwrap_or(if self.body.is_empty() {
            Method::GET
        } else {
            Method::POST
        });

        let mut origins: Vec<OriginSpec> = Vec::new();
        let mut endpoints = Vec::new();
        for (url, field) in &self.urls {
            let (origin, path, absolute, authority) = parse_url(url, field)?;
            #[cfg(not(feature = "rustls"))]
            if origin.https {
                return Err(Error::Unsupported {
                    field: field.clone(),
                    reason: "https:// needs the `rustls` feature".into(),
                });
            }
            let index = match origins.iter().position(|o| *o == origin) {
                Some(i) => i,
                None => {
                    origins.push(origin);
                    origins.len() - 1
                }
            };
            let mut h = headers.clone();
            if !h.contains_key(http::header::HOST) {
                let v = HeaderValue::from_str(&authority).map_err(|e| Error::InvalidHeader {
                    name: "host".into(),
                    field: field.clone(),
                    source: Box::new(e),
                })?;
                h.insert(http::header::HOST, v);
            }
            if !self.body.is_empty() {
                h.insert(
                    http::header::CONTENT_LENGTH,
                    HeaderValue::from(self.body.len()),
                );
            }
            let raw = crate::raw::encode_request(&method, &path.to_string(), &h, &self.body);
            let bytes_out = raw.len() as u64;
            endpoints.push(Endpoint {
                raw,
                is_head: method == Method::HEAD,
                origin: index,
                url: url.clone(),
                path,
                absolute,
                method: method.clone(),
                headers: h,
                body: self.body.clone(),
                bytes_out,
            });
        }

        #[cfg(feature = "rustls")]
        let tls = {
            let mut certs = Vec::new();
            for (pem, field) in &self.extra_ca_pem {
                use tokio_rustls::rustls::pki_types::CertificateDer;
                use tokio_rustls::rustls::pki_types::pem::PemObject;
                let mut n = 0;
                for c in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    let c = c.map_err(|e| Error::LoadCertificate {
                        field: field.clone(),
                        reason: format!("invalid PEM: {e}"),
                    })?;
                    certs.push(c);
                    n += 1;
                }
                if n == 0 {
                    return Err(Error::LoadCertificate {
                        field: field.clone(),
                        reason: "no `-----BEGIN CERTIFICATE-----` block found".into(),
                    });
                }
            }
            if origins.iter().any(|o| o.https) {
                #[cfg(feature = "http2")]
                let h2 = self.version == HttpVersion::Http2;
                #[cfg(not(feature = "http2"))]
                let h2 = false;
                let field = self
                    .extra_ca_pem
                    .first()
                    .map(|(_, f)| f.clone())
                    .unwrap_or_else(|| "trust_pem".into());
                Some(
                    crate::transport::tls_connector(&certs, h2)
                        .map_err(|reason| Error::LoadCertificate { field, reason })?,
                )
            } else {
                None
            }
        };
        #[cfg(not(feature = "rustls"))]
        if !self.extra_ca_pem.is_empty() {
            return Err(Error::Unsupported {
                field: self.extra_ca_pem[0].1.clone(),
                reason: "trusting a certificate needs the `rustls` feature".into(),
            });
        }

        Ok(Engine {
            inner: Arc::new(Inner {
                origins,
                endpoints: Arc::new(endpoints),
                version: self.version,
                h1_client: self.h1_client,
                connect_timeout: self.connect_timeout,
                request_timeout: self.request_timeout,
                #[cfg(feature = "rustls")]
                tls,
                connections,
                model: self.model,
                duration: self.duration,
                max_requests: self.max_requests,
                warmup: self.warmup,
                interval: self.interval,
                workers: self.workers,
                labels: self.labels,
            }),
        })
    }
}

struct Inner {
    origins: Vec<OriginSpec>,
    endpoints: Arc<Vec<Endpoint>>,
    version: HttpVersion,
    h1_client: Http1Client,
    connect_timeout: Duration,
    request_timeout: Duration,
    #[cfg(feature = "rustls")]
    tls: Option<tokio_rustls::TlsConnector>,
    connections: usize,
    model: LoadModel,
    duration: Option<Duration>,
    max_requests: Option<u64>,
    warmup: Duration,
    interval: Duration,
    workers: Option<usize>,
    labels: BTreeMap<String, String>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field(
                "endpoints",
                &self.endpoints.iter().map(|e| &e.url).collect::<Vec<_>>(),
            )
            .field("version", &self.version)
            .field("connections", &self.connections)
            .field("model", &self.model)
            .field("duration", &self.duration)
            .field("max_requests", &self.max_requests)
            .field("warmup", &self.warmup)
            .finish_non_exhaustive()
    }
}

/// A configured load test, ready to run any number of times.
///
/// Build it with [`Engine::builder`] or [`EngineBuilder::from_config`].
///
/// # Runtime
///
/// [`Engine::start`] and [`Engine::run`] must be called from within a Tokio runtime with
/// the time and I/O drivers enabled (`enable_all`). Both flavours work: on a multi-thread
/// runtime the workers (one per runtime thread by default) run in parallel; on a
/// current-thread runtime they share the one thread. The engine never creates a runtime.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use smps_load::Engine;
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), smps_load::Error> {
/// let engine = Engine::builder()
///     .url("http://127.0.0.1:8080/")
///     .connections(16)
///     .rate(1000.0)
///     .duration(Duration::from_secs(10))
///     .build()?;
/// let report = engine.run().await?;
/// println!("p99 = {:.3} ms", report.measured.latency_ms(99.0));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// Cancels a running test gracefully: no new requests are sent, requests in flight (and,
/// in an open loop, requests already queued) are given up to the request timeout to finish,
/// and the report covers what was done.
#[derive(Debug, Clone)]
pub struct StopHandle {
    token: CancellationToken,
}

impl StopHandle {
    /// Asks the run to stop. Idempotent.
    pub fn stop(&self) {
        self.token.cancel();
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// A run in progress: a [`Stream`] of per-interval [`Snapshot`]s, a [`StopHandle`], and the
/// final [`Report`] from [`Run::finish`].
///
/// Dropping a `Run` stops the test (as [`StopHandle::stop`] does); its workers end in the
/// background within the request timeout.
#[derive(Debug)]
pub struct Run {
    snapshots: mpsc::UnboundedReceiver<Snapshot>,
    collector: JoinHandle<Result<Report>>,
    stop: StopHandle,
    guard: Option<DropGuard>,
}

impl Run {
    /// A handle that stops this run; it can be cloned and moved to other tasks.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Waits for the run to end and returns its report. Snapshots not yet read are dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Worker`] if a worker task ended abnormally.
    ///
    /// # Cancel safety
    ///
    /// Dropping this future stops the run.
    pub async fn finish(mut self) -> Result<Report> {
        self.snapshots.close();
        let result = (&mut self.collector).await;
        if let Some(g) = self.guard.take() {
            g.disarm();
        }
        result.map_err(|source| Error::Worker { source })?
    }
}

impl Stream for Run {
    type Item = Snapshot;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Snapshot>> {
        self.get_mut().snapshots.poll_recv(cx)
    }
}

impl Engine {
    /// A builder with the defaults: closed loop, one connection, HTTP/1.1, 10 s request
    /// timeout, 1 s intervals, no warm-up.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Resolves the targets, opens the initial connections, and starts the run.
    ///
    /// # Errors
    ///
    /// [`Error::NoRuntime`] outside a Tokio runtime; [`Error::Resolve`] if a host name
    /// cannot be resolved. Connection failures are not errors: they are counted in the
    /// report as request failures.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes starts nothing.
    pub async fn start(&self) -> Result<Run> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let inner = &self.inner;
        let mut origins = Vec::with_capacity(inner.origins.len());
        for o in &inner.origins {
            let addrs: Vec<SocketAddr> = match o.host.parse::<std::net::IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, o.port)],
                Err(_) => tokio::net::lookup_host((o.host.as_str(), o.port))
                    .await
                    .map_err(|e| Error::Resolve {
                        host: format!("{}:{}", o.host, o.port),
                        source: Some(e),
                    })?
                    .collect(),
            };
            if addrs.is_empty() {
                return Err(Error::Resolve {
                    host: format!("{}:{}", o.host, o.port),
                    source: None,
                });
            }
            origins.push(Origin {
                https: o.https,
                host: o.host.clone(),
                addrs,
            });
        }
        let transport = Arc::new(Transport {
            origins,
            endpoints: Arc::clone(&inner.endpoints),
            version: inner.version,
            h1_client: inner.h1_client,
            connect_timeout: inner.connect_timeout,
            #[cfg(feature = "rustls")]
            tls: inner.tls.clone(),
        });

        let threads = handle.metrics().num_workers().max(1);
        let workers = inner
            .workers
            .unwrap_or(threads)
            .clamp(1, inner.connections.max(1));

        // Open the initial connections before the clock starts, so that connection setup
        // is not charged to the first requests.
        let origin_count = transport.origins.len();
        let mut slots: Vec<Slot> = (0..inner.connections)
            .map(|_| Slot::new(origin_count))
            .collect();
        let opened: u64 = {
            let t = &transport;
            let results =
                futures_util::future::join_all(slots.iter_mut().enumerate().map(|(i, slot)| {
                    let origin = t.endpoints[i % t.endpoints.len()].origin;
                    t.preconnect(slot, origin)
                }))
                .await;
            results.into_iter().filter(|ok| *ok).count() as u64
        };

        let token = CancellationToken::new();
        let (tx, rx) = mpsc::unbounded_channel();
        let (snap_tx, snap_rx) = mpsc::unbounded_channel();
        let t0 = Instant::now();
        let start_time = SystemTime::now();
        let measure_start = t0 + inner.warmup;
        let deadline = inner.duration.map(|d| measure_start + d);
        let mut joins = Vec::with_capacity(workers);
        for k in 0..workers {
            let share = split(inner.connections as u64, workers, k) as usize;
            let my_slots: Vec<Slot> = slots.drain(..share.min(slots.len())).collect();
            let quota = inner.max_requests.map(|n| split(n, workers, k));
            let model = match &inner.model {
                LoadModel::Closed => WorkerModel::Closed,
                LoadModel::Open { plan, backlog } => WorkerModel::Open {
                    arrivals: plan.stripe(k, workers),
                    backlog: match *backlog {
                        BacklogPolicy::Grow {
                            max_connections,
                            max_queued,
                        } => BacklogPolicy::Grow {
                            max_connections: split(max_connections as u64, workers, k) as usize,
                            max_queued,
                        },
                        other => other,
                    },
                },
            };
            let ctx = WorkerCtx {
                index: k,
                workers,
                transport: Arc::clone(&transport),
                t0,
                measure_start,
                deadline,
                quota,
                model,
                interval: inner.interval,
                request_timeout: inner.request_timeout,
                stop: token.clone(),
                tx: tx.clone(),
                warmup: !inner.warmup.is_zero(),
            };
            joins.push(tokio::spawn(worker(ctx, my_slots)));
        }
        drop(tx);
        let (basis, requested_rps, plan) = match &inner.model {
            LoadModel::Closed => (LatencyBasis::ActualSend, None, None),
            LoadModel::Open { plan, .. } => (
                LatencyBasis::IntendedSend,
                match plan.length() {
                    None => Some(plan.rate_at(Duration::ZERO)),
                    Some(len) => Some(plan.expected_by(len) / len.as_secs_f64()),
                },
                Some(plan.clone()),
            ),
        };
        let settings = RunSettings {
            endpoints: inner.endpoints.iter().map(|e| e.url.clone()).collect(),
            connections: inner.connections,
            workers,
            requested_rps,
            duration: inner.duration,
            max_requests: inner.max_requests,
            warmup: inner.warmup,
            http_version: inner.version,
            latency_basis: basis,
            load_model: match &inner.model {
                LoadModel::Closed => "closed".into(),
                LoadModel::Open { plan, backlog } => {
                    let spacing = match plan.spacing() {
                        crate::plan::Spacing::Uniform => "uniform".to_string(),
                        crate::plan::Spacing::Poisson { seed } => format!("poisson(seed={seed})"),
                    };
                    let shape = if plan.length().is_some() {
                        "stages"
                    } else {
                        "constant"
                    };
                    format!("open/{shape}/{spacing}/{backlog:?}")
                }
            },
        };
        let cctx = CollectorCtx {
            t0,
            plan_end: inner.duration.map(|d| inner.warmup + d),
            start_time,
            warmup: inner.warmup,
            interval: inner.interval,
            plan,
            settings,
            labels: inner.labels.clone(),
            preopened: opened,
        };
        let collector = tokio::spawn(collect(rx, joins, snap_tx, cctx));
        Ok(Run {
            snapshots: snap_rx,
            collector,
            stop: StopHandle {
                token: token.clone(),
            },
            guard: Some(token.drop_guard()),
        })
    }

    /// Runs the test to its end and returns the report (progress snapshots are discarded;
    /// use [`Engine::start`] to see them).
    ///
    /// # Errors
    ///
    /// As [`Engine::start`] and [`Run::finish`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the run.
    pub async fn run(&self) -> Result<Report> {
        self.start().await?.finish().await
    }
}

/// Share `k` of `n` split as evenly as possible over `parts`.
fn split(n: u64, parts: usize, k: usize) -> u64 {
    let parts = parts.max(1) as u64;
    n / parts + u64::from((k as u64) < n % parts)
}

struct CollectorCtx {
    t0: Instant,
    /// Offset after which the plan sends nothing (warm-up + duration).
    plan_end: Option<Duration>,
    start_time: SystemTime,
    warmup: Duration,
    interval: Duration,
    plan: Option<ArrivalPlan>,
    settings: RunSettings,
    labels: BTreeMap<String, String>,
    preopened: u64,
}

struct PendingInterval {
    stats: Stats,
    in_flight: u64,
    end: Instant,
}

async fn collect(
    mut rx: mpsc::UnboundedReceiver<WorkerMsg>,
    joins: Vec<JoinHandle<Box<WorkerFinal>>>,
    snap_tx: mpsc::UnboundedSender<Snapshot>,
    ctx: CollectorCtx,
) -> Result<Report> {
    let n = joins.len();
    let mut pending: BTreeMap<u64, PendingInterval> = BTreeMap::new();
    let mut reported: Vec<Option<u64>> = vec![None; n];
    let mut done = vec![false; n];
    let mut next_emit = 0u64;
    let mut intervals = Vec::new();
    let mut cumulative = 0u64;
    let emit =
        |index: u64, p: PendingInterval, cumulative: &mut u64, intervals: &mut Vec<Snapshot>| {
            let start = ctx
                .interval
                .saturating_mul(index.min(u64::from(u32::MAX)) as u32);
            let end = p.end.saturating_duration_since(ctx.t0).max(start);
            let responses = p.stats.responses();
            let errors = p.stats.error_total();
            *cumulative += responses + errors;
            let secs = (end - start).as_secs_f64();
            let snap = Snapshot {
                index,
                phase: if start < ctx.warmup {
                    Phase::WarmUp
                } else {
                    Phase::Measure
                },
                start,
                end,
                responses,
                errors,
                dropped: p.stats.dropped,
                queued: p.stats.queued,
                planned: ctx.plan.as_ref().map(|pl| {
                    let cap = |d: Duration| ctx.plan_end.map_or(d, |e| d.min(e));
                    pl.expected_by(cap(end)) - pl.expected_by(cap(start))
                }),
                rate: if secs > 0.0 {
                    (responses + errors) as f64 / secs
                } else {
                    0.0
                },
                latency: LatencySummary::of(&p.stats.latency),
                service_time: LatencySummary::of(&p.stats.service),
                in_flight: p.in_flight,
                total_requests: *cumulative,
            };
            let _ = snap_tx.send(snap.clone());
            intervals.push(snap);
        };
    while let Some(msg) = rx.recv().await {
        match msg {
            WorkerMsg::Interval {
                worker,
                index,
                end,
                in_flight,
                stats,
            } => {
                let e = pending.entry(index).or_insert_with(|| PendingInterval {
                    stats: Stats::default(),
                    in_flight: 0,
                    end,
                });
                e.stats.add(&stats);
                e.in_flight += in_flight;
                e.end = e.end.max(end);
                reported[worker] = Some(index);
            }
            WorkerMsg::Done { worker } => done[worker] = true,
        }
        loop {
            let k = next_emit;
            let ready = (0..n).all(|w| done[w] || reported[w].is_some_and(|r| r >= k));
            if !ready {
                break;
            }
            let Some(p) = pending.remove(&k) else { break };
            emit(k, p, &mut cumulative, &mut intervals);
            next_emit += 1;
        }
    }
    for (k, p) in std::mem::take(&mut pending) {
        emit(k, p, &mut cumulative, &mut intervals);
    }

    let mut measured = Stats::default();
    let mut warm: Option<Stats> = None;
    let mut last_done: Option<Instant> = None;
    let mut stopped_at = ctx.t0;
    for j in joins {
        let f = j.await.map_err(|source| Error::Worker { source })?;
        measured.add(&f.measured);
        if let Some(w) = &f.warmup {
            warm.get_or_insert_with(Stats::default).add(w);
        }
        last_done = match (last_done, f.last_done) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        stopped_at = stopped_at.max(f.stopped_at);
    }
    measured.connections_opened += ctx.preopened;
    let to_system = |i: Instant| ctx.start_time + i.saturating_duration_since(ctx.t0);
    let measure_start = ctx.t0 + ctx.warmup;
    let measure_end = last_done.unwrap_or(stopped_at).max(measure_start);
    let warmup =
        warm.map(|w| PhaseReport::from_stats(&w, ctx.start_time, to_system(measure_start)));
    Ok(Report {
        start_time: ctx.start_time,
        end_time: to_system(stopped_at),
        measured: PhaseReport::from_stats(
            &measured,
            to_system(measure_start),
            to_system(measure_end),
        ),
        warmup,
        intervals,
        settings: ctx.settings,
        labels: ctx.labels,
        run_ids: vec![crate::RunId::generate()],
    })
}
