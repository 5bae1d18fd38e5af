//! The engine and a run of it: start (resolve, pre-connect, spawn the workers), the run
//! handle with its progress stream and stop, and the split of work between workers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::collect::{CollectorCtx, collect};
use crate::error::{Error, Result};
use crate::model::{BacklogPolicy, LoadModel, Pacing};
use crate::report::{LatencyBasis, Report, RunSettings, Snapshot};
use crate::segment::ExecutionPart;
use crate::transport::{
    Endpoint, Http1Client, HttpVersion, Origin, Protocol, Slot, Transport, TransportSettings,
};
use crate::worker::{WorkerCtx, WorkerModel, worker};

/// Where an endpoint is, as configured (before name resolution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OriginSpec {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// The checked settings of an engine.
pub(crate) struct Inner {
    pub(crate) origins: Vec<OriginSpec>,
    pub(crate) endpoints: Arc<Vec<Endpoint>>,
    pub(crate) version: HttpVersion,
    pub(crate) h1_client: Http1Client,
    #[cfg(feature = "http2")]
    pub(crate) h2_client: crate::Http2Client,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<tokio_rustls::TlsConnector>,
    pub(crate) connections: usize,
    pub(crate) model: LoadModel,
    pub(crate) duration: Option<Duration>,
    pub(crate) max_requests: Option<u64>,
    pub(crate) warmup: Duration,
    pub(crate) interval: Duration,
    pub(crate) workers: Option<usize>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) dispatch_lag_limit: Duration,
    pub(crate) pacing: Pacing,
    /// The part of a distributed run this engine runs (counts above are already its share).
    pub(crate) part: Option<ExecutionPart>,
    /// When the run starts.
    pub(crate) start_at: Option<SystemTime>,
    pub(crate) protocol: Protocol,
    /// HTTP/2 and gRPC: streams per connection (1 otherwise).
    pub(crate) streams_per_connection: usize,
    pub(crate) payload_size: usize,
    pub(crate) udp_timeout: Duration,
}

impl Inner {
    /// Concurrency slots: one per connection, or one per stream when several streams share
    /// each HTTP/2 connection.
    pub(crate) fn slots(&self) -> usize {
        self.connections
            .saturating_mul(self.streams_per_connection.max(1))
    }

    /// The most sockets the run may hold at once: one per connection slot and origin.
    fn max_sockets(&self) -> u64 {
        let slots = match &self.model {
            LoadModel::Open {
                backlog:
                    BacklogPolicy::Grow {
                        max_connections, ..
                    },
                ..
            } => (*max_connections).max(self.slots()),
            _ => self.slots(),
        };
        // Slots sharing an HTTP/2 connection share its socket.
        let sockets = slots.div_ceil(self.streams_per_connection.max(1));
        (sockets as u64).saturating_mul(self.origins.len().max(1) as u64)
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field(
                "endpoints",
                &self
                    .endpoints
                    .iter()
                    .map(|e| smps_model::redact::url(&e.url))
                    .collect::<Vec<_>>(),
            )
            .field("protocol", &self.protocol)
            .field("version", &self.version)
            .field("streams_per_connection", &self.streams_per_connection)
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
/// Build it with [`Engine::builder`] or [`EngineBuilder::from_config`](crate::EngineBuilder::from_config).
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

impl Engine {
    /// An engine of checked settings (from [`EngineBuilder::build`]).
    pub(crate) fn from_inner(inner: Inner) -> Self {
        Engine {
            inner: Arc::new(inner),
        }
    }
}

/// Cancels a running test gracefully: no new requests are sent (in an open loop, requests
/// still waiting for a connection are counted as dropped), requests in flight are given up
/// to the request timeout to finish, and the report covers what was done.
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
    /// The next per-interval snapshot, or `None` once the run has ended (the same items as
    /// the [`Stream`] implementation, without needing a stream extension trait).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a snapshot is never lost by dropping this future.
    pub async fn next_snapshot(&mut self) -> Option<Snapshot> {
        self.snapshots.recv().await
    }

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
    /// Resolves the targets, opens the initial connections, and starts the run.
    ///
    /// # Errors
    ///
    /// [`Error::NoRuntime`] outside a Tokio runtime; [`Error::FileDescriptors`] if the
    /// connections the run may open (one per connection and origin, the backlog policy's
    /// cap included) do not fit in the process's file-descriptor limit; [`Error::Resolve`]
    /// if a host name cannot be resolved; [`Error::InvalidSetting`] (field `start_at`) for a
    /// [start instant](crate::EngineBuilder::start_at) more than a day ahead. Connection
    /// failures are not errors: they are counted in the report as request failures.
    ///
    /// With a start instant, this waits for it (after resolving and connecting), then starts.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes starts nothing.
    pub async fn start(&self) -> Result<Run> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let inner = &self.inner;
        crate::limits::check_descriptors(inner.max_sockets())?;
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
        let transport = Arc::new(Transport::new(
            &TransportSettings {
                protocol: inner.protocol,
                version: inner.version,
                h1_client: inner.h1_client,
                #[cfg(feature = "http2")]
                h2_client: inner.h2_client,
                connect_timeout: inner.connect_timeout,
                streams_per_connection: inner.streams_per_connection,
                payload_size: inner.payload_size,
                udp_timeout: inner.udp_timeout,
                #[cfg(feature = "rustls")]
                tls: inner.tls.clone(),
            },
            origins,
            Arc::clone(&inner.endpoints),
        ));

        let threads = handle.metrics().num_workers().max(1);
        let workers = inner
            .workers
            .unwrap_or(threads)
            .clamp(1, inner.slots().max(1));

        // Open the initial connections before the clock starts, so that connection setup
        // is not charged to the first requests.
        let origin_count = transport.origins.len();
        let mut slots: Vec<Slot> = (0..inner.slots())
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

        if let Some(at) = inner.start_at {
            wait_until(at).await?;
        }
        let token = CancellationToken::new();
        let (tx, rx) = mpsc::unbounded_channel();
        let (snap_tx, snap_rx) = mpsc::unbounded_channel();
        let t0 = Instant::now();
        let start_time = SystemTime::now();
        let start_late = inner
            .start_at
            .map(|at| start_time.duration_since(at).unwrap_or_default());
        let measure_start = t0 + inner.warmup;
        let deadline = inner.duration.map(|d| measure_start + d);
        let mut joins = Vec::with_capacity(workers);
        for k in 0..workers {
            let share = split(inner.slots() as u64, workers, k) as usize;
            let my_slots: Vec<Slot> = slots.drain(..share.min(slots.len())).collect();
            let quota = inner.max_requests.map(|n| split(n, workers, k));
            let model = match &inner.model {
                LoadModel::Closed => WorkerModel::Closed,
                LoadModel::Open { plan, backlog } => WorkerModel::Open {
                    arrivals: plan.stripe_in(inner.part.as_ref(), k, workers),
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
                pacing: inner.pacing,
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
                }
                .map(|r| r * inner.part.as_ref().map_or(1.0, ExecutionPart::fraction)),
                Some(plan.clone()),
            ),
        };
        let settings = RunSettings {
            endpoints: inner
                .endpoints
                .iter()
                .map(|e| smps_model::redact::url(&e.url).into_owned())
                .collect(),
            connections: inner.connections,
            workers,
            requested_rps,
            duration: inner.duration,
            max_requests: inner.max_requests,
            warmup: inner.warmup,
            http_version: inner.version,
            protocol: inner.protocol,
            streams_per_connection: inner.streams_per_connection,
            latency_basis: basis,
            dispatch_lag_limit: inner.dispatch_lag_limit,
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
                    format!(
                        "open/{shape}/{spacing}/{}/{}",
                        backlog.label(),
                        inner.pacing.name()
                    )
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
            plan_share: inner.part.as_ref().map_or(1.0, ExecutionPart::fraction),
            settings,
            labels: inner.labels.clone(),
            preopened: opened,
            transport: Arc::clone(&transport),
            part: (inner.part.is_some() || inner.start_at.is_some()).then(|| {
                crate::collect::PartSpec {
                    segment: inner
                        .part
                        .as_ref()
                        .map(|p| (p.segment().to_string(), p.sequence().to_string())),
                    start_at: inner.start_at,
                    start_late,
                }
            }),
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

/// The longest a run may wait for its start instant.
const MAX_START_WAIT: Duration = Duration::from_secs(86_400);

/// The last stretch before a start instant, waited by yielding rather than on Tokio's 1 ms
/// timer, so that the parts of a distributed run start within a fraction of a millisecond of
/// it.
const START_SPIN: Duration = Duration::from_millis(2);

/// Waits until the wall-clock instant `at` (not at all if it has passed): timer sleeps to
/// [`START_SPIN`] before it, then yields until the clock reads `at`.
async fn wait_until(at: SystemTime) -> Result<()> {
    let Ok(ahead) = at.duration_since(SystemTime::now()) else {
        return Ok(());
    };
    if ahead > MAX_START_WAIT {
        return Err(Error::InvalidSetting {
            field: "start_at".into(),
            reason: format!(
                "is {} s ahead; a run waits at most a day for its start",
                ahead.as_secs()
            ),
        });
    }
    // Bounded by the monotonic clock too, should the wall clock be stepped back meanwhile.
    let give_up = Instant::now() + ahead + Duration::from_secs(1);
    while let Ok(left) = at.duration_since(SystemTime::now()) {
        if left.is_zero() || Instant::now() >= give_up {
            break;
        }
        if left > START_SPIN {
            tokio::time::sleep(left - START_SPIN).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
    Ok(())
}

/// Share `k` of `n` split as evenly as possible over `parts`.
fn split(n: u64, parts: usize, k: usize) -> u64 {
    let parts = parts.max(1) as u64;
    n / parts + u64::from((k as u64) < n % parts)
}
