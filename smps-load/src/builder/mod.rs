//! [`EngineBuilder`]: the settings of a test, checked once by [`EngineBuilder::build`].
//!
//! * `mod.rs`: the builder's settings and `build` (checks, request encoding, TLS);
//! * `from_config.rs`: the mapping from an SMP `PerformanceTestConfig`;
//! * `endpoint.rs`: endpoint URLs;
//! * `distributed.rs`: one part of a distributed run (execution segment, synchronised start);
//! * `search.rs`: the engine of one trial of an adaptive search;
//! * `protocol.rs`: the protocol's settings and which other settings it allows;
//! * `field.rs`: the name of each setting, as the user spelled it (builder call or SMP field).

mod distributed;
mod endpoint;
mod field;
mod from_config;
mod protocol;
mod search;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};

use self::endpoint::parse_url;
use self::field::{Setting, Source};
use crate::engine::{Engine, Inner, OriginSpec};
use crate::error::{Error, Result};
use crate::model::{BacklogPolicy, LoadModel, Pacing};
use crate::plan::ArrivalPlan;
use crate::transport::{Endpoint, Http1Client, HttpVersion, Protocol};

/// Builder of an [`Engine`]. Setters never fail; [`EngineBuilder::build`] checks everything
/// and names the offending setting.
#[derive(Debug, Clone)]
#[must_use]
pub struct EngineBuilder {
    urls: Vec<(String, String)>,
    method: Option<Method>,
    headers: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
    body: Bytes,
    content_type: Option<String>,
    connections: i64,
    /// Where the settings came from, to name them in errors.
    source: Source,
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
    #[cfg(feature = "http2")]
    h2_client: crate::Http2Client,
    extra_ca_pem: Vec<(String, String)>,
    labels: BTreeMap<String, String>,
    dispatch_lag_limit: Duration,
    pacing: Pacing,
    deferred: Option<(String, String)>,
    /// The part of a distributed run to run (`distributed.rs`).
    part: Option<crate::segment::ExecutionPart>,
    /// When to start (`distributed.rs`).
    start_at: Option<std::time::SystemTime>,
    protocol: Option<Protocol>,
    streams_per_connection: usize,
    payload_size: usize,
    udp_timeout: Duration,
    grpc_health_service: String,
    /// Where settings without an SMP field came from (`additional_options` keys), by
    /// builder name; settings not listed are named by their builder method.
    option_fields: BTreeMap<&'static str, String>,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            urls: Vec::new(),
            method: None,
            headers: Vec::new(),
            cookies: Vec::new(),
            body: Bytes::new(),
            content_type: None,
            connections: 1,
            source: Source::Builder,
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
            #[cfg(feature = "http2")]
            h2_client: crate::Http2Client::default(),
            extra_ca_pem: Vec::new(),
            labels: BTreeMap::new(),
            dispatch_lag_limit: crate::report::DEFAULT_DISPATCH_LAG_LIMIT,
            pacing: Pacing::default(),
            deferred: None,
            part: None,
            start_at: None,
            protocol: None,
            streams_per_connection: 1,
            payload_size: protocol::DEFAULT_PAYLOAD,
            udp_timeout: protocol::DEFAULT_UDP_TIMEOUT,
            grpc_health_service: String::new(),
            option_fields: BTreeMap::new(),
        }
    }
}

impl EngineBuilder {
    /// Adds a target URL. Several URLs are used in rotation; all must speak the same
    /// [`Protocol`]: `http://`/`https://` (HTTP), `tcp://host:port`, `udp://host:port`,
    /// `grpc://host:port/pkg.Service/Method`/`grpcs://…` (gRPC; see the crate docs).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        let field = Source::Builder.item(Setting::Url, self.urls.len());
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

    /// The request body. For gRPC, the request message as protobuf bytes (framed by the
    /// engine); not allowed for TCP and UDP, whose payloads are generated.
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
            Err(e) => self.deferred = Some((Source::Builder.name(Setting::Rate), e.reason())),
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

    /// How an open loop waits for each request's intended time (default
    /// [`Pacing::Precise`]; see [`Pacing`] for the CPU it costs).
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// The dispatch-lag p99 above which an open-loop result carries a warning (default
    /// 100 µs; see [`Report::lag_warning`](crate::Report::lag_warning)).
    pub fn dispatch_lag_limit(mut self, limit: Duration) -> Self {
        self.dispatch_lag_limit = limit;
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

    /// Which client carries HTTP/2 and gRPC (default [`Http2Client::Lean`](crate::Http2Client::Lean)).
    #[cfg(feature = "http2")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http2")))]
    pub fn http2_client(mut self, client: crate::Http2Client) -> Self {
        self.h2_client = client;
        self
    }

    /// The protocol (default: the one the first URL's scheme stands for). Setting it makes
    /// a URL of another protocol an error naming this setting.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// HTTP/2 and gRPC: concurrent streams per connection (default 1). The run opens
    /// [`connections`](EngineBuilder::connections) connections and carries up to
    /// `connections × streams` requests at once, each stream taking the next request as
    /// soon as it is free (in the open loop, a free stream on any connection takes the next
    /// arrival). The server's `SETTINGS_MAX_CONCURRENT_STREAMS` still applies: streams above
    /// it wait for a free one, and that wait counts in their service time.
    pub fn streams_per_connection(mut self, streams: usize) -> Self {
        self.streams_per_connection = streams;
        self
    }

    /// TCP and UDP echo: bytes per request (default 24, as fortio; at least 16, at most
    /// 1 MiB for TCP and 65,507 for UDP).
    pub fn payload_size(mut self, bytes: usize) -> Self {
        self.payload_size = bytes;
        self
    }

    /// UDP echo: how long an echo may take to count as on time (default 750 ms, as
    /// fortio's `-udp-timeout`). An echo within twice this is counted as
    /// [`ErrorKind::EchoLate`](crate::ErrorKind::EchoLate), none by then as
    /// [`ErrorKind::EchoLost`](crate::ErrorKind::EchoLost); twice it must be shorter than the
    /// request timeout.
    pub fn udp_timeout(mut self, timeout: Duration) -> Self {
        self.udp_timeout = timeout;
        self
    }

    /// gRPC health check: the service to ask about (default empty: the whole server).
    pub fn grpc_health_service(mut self, service: impl Into<String>) -> Self {
        self.grpc_health_service = service.into();
        self
    }

    /// Trust the certificates in this PEM text in addition to the webpki roots.
    pub fn trust_pem(mut self, pem: impl Into<String>) -> Self {
        let field = Source::Builder.item(Setting::TrustPem, self.extra_ca_pem.len());
        self.extra_ca_pem.push((pem.into(), field));
        self
    }

    /// Adds a label copied into the results.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }
}

impl Engine {
    /// A builder with the defaults: closed loop, one connection, HTTP/1.1, 10 s request
    /// timeout, 1 s intervals, no warm-up.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }
}

pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Error {
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
    /// * [`Error::InvalidSetting`] (field `segment`): a [segment](EngineBuilder::segment) whose
    ///   share of the connections or of the request budget is zero.
    pub fn build(mut self) -> Result<Engine> {
        if let Some((field, reason)) = &self.deferred {
            return Err(invalid(field, reason.clone()));
        }
        if self.urls.is_empty() {
            return Err(Error::InvalidEndpoint {
                url: String::new(),
                field: self.source.name(Setting::Url),
                reason: "at least one endpoint URL is needed".into(),
            });
        }
        if self.connections < 1 || self.connections > 1_000_000 {
            return Err(invalid(
                &self.source.name(Setting::Connections),
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
        if let (LoadModel::Open { plan, .. }, Some(duration)) = (&self.model, self.duration) {
            let planned = plan.expected_by(self.warmup.saturating_add(duration));
            if planned > smps_model::limits::MAX_PLANNED_ARRIVALS as f64 {
                return Err(invalid(
                    "duration",
                    format!(
                        "the rate held for the warm-up and the duration plans {planned:.3e} requests, more than the {} a plan may hold",
                        smps_model::limits::MAX_PLANNED_ARRIVALS
                    ),
                ));
            }
        }
        if endless_plan && self.duration.is_none() && self.max_requests.is_none() {
            return Err(invalid(
                "duration",
                "the run needs a limit: a duration, a request count, or a plan with an end",
            ));
        }
        let connections = self.take_part_share(connections)?;

        // Common headers.
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let field = self.source.keyed(Setting::Header, name);
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
                field: self.source.name(Setting::Cookie),
                source: Box::new(e),
            })?;
            headers.insert(http::header::COOKIE, v);
        }
        if let Some(ct) = &self.content_type {
            let v = HeaderValue::from_str(ct).map_err(|e| Error::InvalidHeader {
                name: "content-type".into(),
                field: self.source.name(Setting::ContentType),
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

        let mut parsed = Vec::with_capacity(self.urls.len());
        for (url, field) in &self.urls {
            parsed.push((
                parse_url(&endpoint::with_scheme(url, self.protocol), field)?,
                field,
            ));
        }
        let protocol = self.resolve_protocol(&parsed)?;
        self.check_protocol_settings(protocol, &parsed)?;
        let mut origins: Vec<OriginSpec> = Vec::new();
        let mut endpoints = Vec::new();
        for ((p, field), (url, _)) in parsed.into_iter().zip(&self.urls) {
            let endpoint::ParsedUrl {
                origin,
                path,
                absolute,
                authority,
                ..
            } = p;
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
            let (path, absolute, method, body, grpc_health) =
                self.call_parts(protocol, path, absolute, &method, &mut h, field)?;
            if !body.is_empty() {
                h.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            }
            let raw = crate::transport::raw::encode_request(&method, &path.to_string(), &h, &body);
            let bytes_out = match protocol {
                Protocol::Tcp | Protocol::Udp => self.payload_size as u64,
                _ => raw.len() as u64,
            };
            endpoints.push(Endpoint {
                raw,
                is_head: method == Method::HEAD,
                origin: index,
                url: url.clone(),
                path,
                absolute,
                method,
                headers: h,
                body,
                bytes_out,
                grpc_health,
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
                let h2 = self.version == HttpVersion::Http2 || protocol == Protocol::Grpc;
                #[cfg(not(feature = "http2"))]
                let h2 = false;
                let field = self
                    .extra_ca_pem
                    .first()
                    .map(|(_, f)| f.clone())
                    .unwrap_or_else(|| Source::Builder.name(Setting::TrustPem));
                Some(
                    crate::transport::tls_connector(&certs, h2, protocol == Protocol::Grpc)
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

        Ok(Engine::from_inner(Inner {
            origins,
            endpoints: Arc::new(endpoints),
            version: self.version,
            h1_client: self.h1_client,
            #[cfg(feature = "http2")]
            h2_client: self.h2_client,
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
            dispatch_lag_limit: self.dispatch_lag_limit,
            pacing: self.pacing,
            part: self.part,
            start_at: self.start_at,
            protocol,
            streams_per_connection: self.streams_per_connection,
            payload_size: self.payload_size,
            udp_timeout: self.udp_timeout,
        }))
    }
}
