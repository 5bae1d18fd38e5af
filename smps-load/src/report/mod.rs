//! Results: the [`Report`] of a run, progress [`Snapshot`]s, and the projections to an SMP
//! `PerformanceTestResult`, fortio-compatible JSON and a lossless, mergeable
//! [`PortableReport`].
//!
//! One file per job: the types here; [`PhaseReport`] in `phase.rs`; the SMP projection in
//! `smp.rs`, the fortio one in `fortio.rs`; merging and run ids in `merge.rs`; the parts of a
//! distributed run (segments, synchronised start, coverage) in `parts.rs`; the portable form
//! in `portable.rs`.

mod fortio;
mod merge;
mod parts;
mod phase;
mod portable;
mod smp;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::ErrorKind;
use crate::transport::{HttpVersion, Protocol};

pub use self::merge::{RunId, merge};
pub use self::parts::{
    LABEL_RUN_ID, LABEL_SEGMENT, LABEL_SEGMENT_SEQUENCE, LABEL_START_LATE_MS, PartRecord,
};
pub use self::phase::PhaseReport;
pub use self::portable::{PortablePhase, PortableReport};

/// Name of this generator, as written into results.
pub const GENERATOR: &str = concat!("smps-load ", env!("CARGO_PKG_VERSION"));

/// Label key stating what latency is measured from (shared with smps-model's converters, so a
/// fortio import and an smps-load run state it the same way).
pub const LABEL_LATENCY_BASIS: &str = smps_model::labels::LATENCY_BASIS;
/// Label key naming the generator (shared with smps-model's converters).
pub const LABEL_GENERATOR: &str = smps_model::labels::LOAD_GENERATOR;
/// Label key describing the load model: `closed`, or
/// `open/{constant|stages}/{uniform|poisson(seed=N)}/{backlog}/{pacing}` with the backlog
/// policy's [`label`](crate::BacklogPolicy::label) and the [`Pacing`](crate::Pacing)'s name
/// (`open/constant/uniform/queue(max_queued=100000)/precise`).
pub const LABEL_LOAD_MODEL: &str = "smps-load/load-model";
/// Label key giving the histogram resolution.
pub const LABEL_HISTOGRAM: &str = "smps-load/histogram";

/// What the headline latency is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LatencyBasis {
    /// From the intended send time of an open-loop plan (coordinated-omission corrected).
    IntendedSend,
    /// From the actual send (closed loop; not corrected).
    ActualSend,
}

impl LatencyBasis {
    /// Stable name: `intended-send` or `actual-send` (the values of
    /// `smps_model::labels::LATENCY_BASIS`).
    pub fn name(self) -> &'static str {
        match self {
            LatencyBasis::IntendedSend => smps_model::labels::LATENCY_BASIS_INTENDED,
            LatencyBasis::ActualSend => smps_model::labels::LATENCY_BASIS_ACTUAL,
        }
    }
}

/// Whether an interval belongs to the warm-up or to the measured phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Phase {
    /// Warm-up: reported, kept out of the totals.
    WarmUp,
    /// The measured phase.
    Measure,
}

/// Summary of one latency histogram, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Smallest sample.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest sample.
    pub max: f64,
}

pub(super) fn us_to_ms(v: u64) -> f64 {
    v as f64 / 1000.0
}

impl LatencySummary {
    /// Summarizes a histogram recorded in microseconds (zeros when it is empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            min: us_to_ms(h.min()),
            mean: h.mean() / 1000.0,
            p50: us_to_ms(h.value_at_quantile(0.50)),
            p90: us_to_ms(h.value_at_quantile(0.90)),
            p99: us_to_ms(h.value_at_quantile(0.99)),
            p999: us_to_ms(h.value_at_quantile(0.999)),
            max: us_to_ms(h.max()),
        }
    }
}

/// Progress of one interval (one second by default) of a run, merged over all workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// Interval number, from 0.
    pub index: u64,
    /// Warm-up or measured phase (by the interval's start).
    pub phase: Phase,
    /// Start of the interval, from the start of the run.
    pub start: Duration,
    /// End of the interval (earlier than `start + interval` for the last one).
    pub end: Duration,
    /// Responses received in the interval (any status).
    pub responses: u64,
    /// Failed requests (see [`ErrorKind`]) in the interval.
    pub errors: u64,
    /// Requests not sent because of the backlog policy.
    pub dropped: u64,
    /// Requests that had to wait for a connection.
    pub queued: u64,
    /// Requests the plan expected in the interval (open loop only).
    pub planned: Option<f64>,
    /// Completed requests (responses and errors) per second in the interval.
    pub rate: f64,
    /// Latency of the interval's responses (basis as in [`RunSettings::latency_basis`]).
    pub latency: LatencySummary,
    /// Service time (actual send → last byte) of the interval's responses.
    pub service_time: LatencySummary,
    /// Requests in flight at the end of the interval.
    pub in_flight: u64,
    /// Completed requests since the start of the run, warm-up included.
    pub total_requests: u64,
}

/// What the run was asked to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunSettings {
    /// Target URLs, in rotation order.
    pub endpoints: Vec<String>,
    /// Initial connections.
    pub connections: usize,
    /// Worker tasks used.
    pub workers: usize,
    /// Planned mean rate (open loop), requests per second.
    pub requested_rps: Option<f64>,
    /// Length of the measured phase, if limited by time.
    pub duration: Option<Duration>,
    /// Request limit, if any.
    pub max_requests: Option<u64>,
    /// Warm-up length.
    pub warmup: Duration,
    /// HTTP version asked for.
    pub http_version: HttpVersion,
    /// The protocol spoken.
    pub protocol: Protocol,
    /// HTTP/2 and gRPC: streams per connection (1 otherwise).
    pub streams_per_connection: usize,
    /// What latency is measured from.
    pub latency_basis: LatencyBasis,
    /// Description of the load model, as in the [`LABEL_LOAD_MODEL`] label.
    pub load_model: String,
    /// Dispatch-lag p99 above which an open-loop result carries a warning
    /// ([`Report::lag_warning`]).
    pub dispatch_lag_limit: Duration,
}

/// Default of [`RunSettings::dispatch_lag_limit`]: 100 µs.
pub const DEFAULT_DISPATCH_LAG_LIMIT: Duration = Duration::from_micros(100);

/// The result of a run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// When the run started (after the initial connections were opened).
    pub start_time: SystemTime,
    /// When the last worker stopped.
    pub end_time: SystemTime,
    /// Totals of the measured phase.
    pub measured: PhaseReport,
    /// Totals of the warm-up phase, if there was one (not included in `measured`).
    pub warmup: Option<PhaseReport>,
    /// Per-interval progress, in order (the same values the snapshot stream gave).
    pub intervals: Vec<Snapshot>,
    /// What the run was asked to do.
    pub settings: RunSettings,
    /// Labels given to the builder (or taken from the test config).
    pub labels: BTreeMap<String, String>,
    /// Why connections failed: the first reason seen for each kind (the TLS library's or the
    /// operating system's message), with URLs redacted. Empty when nothing failed to connect.
    pub error_reasons: BTreeMap<ErrorKind, String>,
    /// The ids of the runs this report holds: one for a run, one per part after merging.
    /// Merging refuses a run that is already in the report.
    pub run_ids: Vec<RunId>,
    /// The parts of a distributed run this report holds (segment, planned start, lateness):
    /// one for a run given a segment or a start instant, one per such part after merging;
    /// empty for a plain run.
    pub parts: Vec<PartRecord>,
}
