//! The engine: builder, run handle, workers and the collector.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, Stream, StreamExt};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::error::{Error, Result};
use crate::plan::{ArrivalPlan, Arrivals};
use crate::recorder::Stats;
use crate::report::{LatencyBasis, LatencySummary, Phase, PhaseReport, Report, RunSettings, Snapshot};
use crate::transport::{Endpoint, Exchange, HttpVersion, Origin, Slot, Transport};
use crate::ErrorKind;

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

    /// Per-request timeout, connect and TLS handshake included (default 10 s).
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
    /// Mapping: `protocol` must be HTTP; `connections` ≥ 1; `rps` 0 means closed loop,
    /// > 0 an open loop at that constant rate (global); `headers`, `cookies`, `body` (the
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
        let mut b = EngineBuilder::default();
        b.connections = i64::from(client.connections);
        b.connections_field = format!("{field}.connections");
        b.headers_field = format!("{field}.headers");
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
        b.headers = client.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        b.cookies = client.cookies.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
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
            b.extra_ca_pem
                .push((client.ssl_certificate.clone(), format!("{field}.ssl_certificate")));
        }
        Ok(b)
    }
}
