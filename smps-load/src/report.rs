//! Results: the [`Report`] of a run, progress [`Snapshot`]s, and the projections to an SMP
//! `PerformanceTestResult`, fortio-compatible JSON and a lossless, mergeable
//! [`PortableReport`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use crate::ErrorKind;
use crate::error::{Error, Result};
use crate::recorder::{Stats, new_histogram};
use crate::transport::HttpVersion;

/// Name of this generator, as written into results.
pub const GENERATOR: &str = concat!("smps-load ", env!("CARGO_PKG_VERSION"));

/// Label key stating what latency is measured from (shared with smps-model's converters, so a
/// fortio import and an smps-load run state it the same way).
pub const LABEL_LATENCY_BASIS: &str = smps_model::labels::LATENCY_BASIS;
/// Label key naming the generator (shared with smps-model's converters).
pub const LABEL_GENERATOR: &str = smps_model::labels::LOAD_GENERATOR;
/// Label key describing the load model: `closed`, or
/// `open/{constant|stages}/{uniform|poisson(seed=N)}/{backlog}` with the backlog policy's
/// [`label`](crate::BacklogPolicy::label) (`open/constant/uniform/queue(max_queued=100000)`).
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

fn us_to_ms(v: u64) -> f64 {
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

/// Totals of one phase: histograms (in microseconds, 1 µs to 1 h, 3 significant digits)
/// and counters.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PhaseReport {
    /// Start of the phase.
    pub start: SystemTime,
    /// End of the phase (last response of the phase).
    pub end: SystemTime,
    /// Latency: from the intended send (open loop) or actual send (closed loop) to the last
    /// byte of the response. Responses of any status; failed requests are not included.
    pub latency: Histogram<u64>,
    /// Service time: actual send → last byte.
    pub service_time: Histogram<u64>,
    /// Dispatch lag: intended send → actual send (queueing and the generator's own delay).
    pub dispatch_lag: Histogram<u64>,
    /// Responses by HTTP status (0 = out of range).
    pub status_codes: BTreeMap<u16, u64>,
    /// Failed requests by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Bytes received (status line and header fields as HTTP/1.1 text, plus bodies).
    pub bytes_in: u64,
    /// Bytes sent (request head as HTTP/1.1 text, plus bodies).
    pub bytes_out: u64,
    /// Planned requests never sent: no connection was free and the backlog policy dropped
    /// them, or they still waited for a connection when the run ended (nothing is sent after
    /// the run's end).
    pub dropped: u64,
    /// Requests sent but still in flight one request timeout after the run ended, given up.
    pub abandoned: u64,
    /// Requests that waited for a free connection.
    pub queued: u64,
    /// Connections opened (initial ones and reconnects).
    pub connections_opened: u64,
    /// Samples above the histograms' 1 h range (recorded as 1 h).
    pub clamped: u64,
    /// The disjoint time spans during which the phase measured, in order: `[(start, end)]` for
    /// one run, the union of the parts' spans after merging.
    spans: Vec<(SystemTime, SystemTime)>,
}

impl PhaseReport {
    pub(crate) fn from_stats(s: &Stats, start: SystemTime, end: SystemTime) -> Self {
        PhaseReport {
            start,
            end,
            latency: s.latency.clone(),
            service_time: s.service.clone(),
            dispatch_lag: s.lag.clone(),
            status_codes: s.status_map(),
            errors: s.error_map(),
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
            dropped: s.dropped,
            abandoned: s.abandoned,
            queued: s.queued,
            connections_opened: s.connections_opened,
            clamped: s.clamped,
            spans: vec![(start, end)],
        }
    }

    /// Measured time of the phase: its length for one run; for merged results the total length
    /// of the union of the parts' [spans](PhaseReport::spans), so that a gap between sequential
    /// runs is not counted and concurrent parts count once. Rates divide by this.
    pub fn elapsed(&self) -> Duration {
        self.spans
            .iter()
            .map(|(start, end)| end.duration_since(*start).unwrap_or_default())
            .sum()
    }

    /// The disjoint time spans during which the phase measured, in order: one `(start, end)`
    /// for a single run, the union of the parts' spans after merging.
    pub fn spans(&self) -> &[(SystemTime, SystemTime)] {
        &self.spans
    }

    /// Responses received (any status).
    pub fn responses(&self) -> u64 {
        self.status_codes
            .values()
            .fold(0, |a, n| a.saturating_add(*n))
    }

    /// Responses with a 2xx or 3xx status.
    pub fn ok(&self) -> u64 {
        self.status_codes
            .range(200..400)
            .fold(0, |a, (_, n)| a.saturating_add(*n))
    }

    /// Requests that failed: no response ([`PhaseReport::error_count`]) or a status outside
    /// 2xx–3xx. The same count fortio reports as errors.
    pub fn failed(&self) -> u64 {
        self.requests().saturating_sub(self.ok())
    }

    /// The share of completed requests that failed (0 when none completed).
    pub fn failed_share(&self) -> f64 {
        match self.requests() {
            0 => 0.0,
            n => self.failed() as f64 / n as f64,
        }
    }

    /// Failed requests (no response).
    pub fn error_count(&self) -> u64 {
        self.errors.values().fold(0, |a, n| a.saturating_add(*n))
    }

    /// Completed requests (responses and failures).
    pub fn requests(&self) -> u64 {
        self.responses().saturating_add(self.error_count())
    }

    /// Completed requests per second over the phase.
    pub fn requests_per_second(&self) -> f64 {
        let s = self.elapsed().as_secs_f64();
        if s > 0.0 {
            self.requests() as f64 / s
        } else {
            0.0
        }
    }

    /// The latency at percentile `p` (0–100), in milliseconds (0 when empty).
    pub fn latency_ms(&self, p: f64) -> f64 {
        if self.latency.is_empty() {
            0.0
        } else {
            us_to_ms(self.latency.value_at_percentile(p))
        }
    }

    /// Summary of [`PhaseReport::latency`].
    pub fn latency_summary(&self) -> LatencySummary {
        LatencySummary::of(&self.latency)
    }

    /// Summary of [`PhaseReport::service_time`].
    pub fn service_time_summary(&self) -> LatencySummary {
        LatencySummary::of(&self.service_time)
    }

    /// Adds `other` into `self` losslessly: histograms and counters are added, the window
    /// `start..end` covers both, and the [spans](PhaseReport::spans) become their union (so
    /// [`PhaseReport::elapsed`] counts neither a gap between the two nor an overlap twice).
    ///
    /// # Errors
    ///
    /// [`Error::Merge`] if the histograms cannot be added (incompatible bounds);
    /// [`Error::CounterOverflow`] if a counter would exceed `u64::MAX`. On error `self` is
    /// unchanged.
    pub fn merge(&mut self, other: &PhaseReport) -> Result<()> {
        *self = self.merged("", other)?;
        Ok(())
    }

    /// `self` and `other` merged as by [`PhaseReport::merge`], naming counters under `prefix`
    /// (`measured.` or `warmup.`) in errors.
    fn merged(&self, prefix: &str, other: &PhaseReport) -> Result<PhaseReport> {
        let mut out = self.clone();
        for (a, b, name) in [
            (&mut out.latency, &other.latency, "latency"),
            (&mut out.service_time, &other.service_time, "service_time"),
            (&mut out.dispatch_lag, &other.dispatch_lag, "dispatch_lag"),
        ] {
            a.add(b).map_err(|e| Error::Merge {
                reason: format!("`{prefix}{name}` histograms: {e:?}"),
            })?;
        }
        let add = |a: u64, b: u64, name: &dyn std::fmt::Display| {
            a.checked_add(b).ok_or_else(|| Error::CounterOverflow {
                counter: format!("{prefix}{name}"),
            })
        };
        for (k, v) in &other.status_codes {
            let n = out.status_codes.entry(*k).or_default();
            *n = add(*n, *v, &format_args!("status_codes[{k}]"))?;
        }
        for (k, v) in &other.errors {
            let n = out.errors.entry(*k).or_default();
            *n = add(*n, *v, &format_args!("errors[{k}]"))?;
        }
        for (a, b, name) in [
            (&mut out.bytes_in, other.bytes_in, "bytes_in"),
            (&mut out.bytes_out, other.bytes_out, "bytes_out"),
            (&mut out.dropped, other.dropped, "dropped"),
            (&mut out.abandoned, other.abandoned, "abandoned"),
            (&mut out.queued, other.queued, "queued"),
            (
                &mut out.connections_opened,
                other.connections_opened,
                "connections_opened",
            ),
            (&mut out.clamped, other.clamped, "clamped"),
        ] {
            *a = add(*a, b, &name)?;
        }
        out.start = self.start.min(other.start);
        out.end = self.end.max(other.end);
        out.spans = union_of_spans(self.spans.iter().chain(&other.spans).copied());
        Ok(out)
    }
}

/// Sorts spans and joins the ones that overlap or touch.
fn union_of_spans(
    spans: impl IntoIterator<Item = (SystemTime, SystemTime)>,
) -> Vec<(SystemTime, SystemTime)> {
    let mut spans: Vec<_> = spans.into_iter().collect();
    spans.sort_unstable();
    let mut out: Vec<(SystemTime, SystemTime)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

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
}

fn rfc3339(t: SystemTime) -> String {
    smps_model::Timestamp::from_system_time(t)
        .map(|ts| ts.to_string())
        .unwrap_or_default()
}

impl Report {
    /// The labels written into results: the user's, plus the latency basis, generator,
    /// load model, histogram resolution, and what happened to the requests of the measured
    /// phase (see [`Report::outcome_labels`]).
    pub fn result_labels(&self) -> BTreeMap<String, String> {
        let mut l = self.labels.clone();
        l.extend(self.outcome_labels());
        l.insert(
            LABEL_LATENCY_BASIS.into(),
            self.settings.latency_basis.name().into(),
        );
        l.insert(LABEL_GENERATOR.into(), GENERATOR.into());
        l.insert(LABEL_LOAD_MODEL.into(), self.settings.load_model.clone());
        l.insert(
            LABEL_HISTOGRAM.into(),
            "hdrhistogram us 1..3600000000 sigfig=3".into(),
        );
        l
    }

    /// What happened to the requests of the measured phase, as result labels (keys from
    /// `smps_model::labels`): the requests completed (`smps.io/requests`), how many failed
    /// (`smps.io/failed-requests`: no response or a status outside 2xx–3xx), responses by
    /// status (`smps.io/status-codes`, `-1` for no response), failures by kind
    /// (`smps.io/errors`) with their reasons (`smps.io/error-reasons`), and the dropped and
    /// abandoned counts. A reader of an SMP result can tell a failed run from a slow one.
    pub fn outcome_labels(&self) -> BTreeMap<String, String> {
        use smps_model::labels;
        let m = &self.measured;
        let mut l = BTreeMap::new();
        l.insert(labels::REQUESTS.into(), m.requests().to_string());
        l.insert(labels::FAILED_REQUESTS.into(), m.failed().to_string());
        let mut codes: Vec<String> = m
            .status_codes
            .iter()
            .map(|(c, n)| format!("{c}:{n}"))
            .collect();
        if m.error_count() > 0 {
            codes.push(format!("-1:{}", m.error_count()));
        }
        l.insert(labels::STATUS_CODES.into(), codes.join(","));
        if !m.errors.is_empty() {
            let errors: Vec<String> = m
                .errors
                .iter()
                .map(|(k, n)| format!("{}:{n}", k.name()))
                .collect();
            l.insert(labels::ERRORS.into(), errors.join(","));
        }
        if !self.error_reasons.is_empty() {
            let reasons: Vec<String> = self
                .error_reasons
                .iter()
                .map(|(k, r)| format!("{}: {r}", k.name()))
                .collect();
            l.insert(labels::ERROR_REASONS.into(), reasons.join("; "));
        }
        if self.settings.latency_basis == LatencyBasis::IntendedSend && !m.dispatch_lag.is_empty() {
            let lag = LatencySummary::of(&m.dispatch_lag);
            l.insert(
                labels::DISPATCH_LAG_MS.into(),
                format!("p50={},p99={},max={}", lag.p50, lag.p99, lag.max),
            );
        }
        if let Some(w) = self.lag_warning() {
            l.insert(labels::WARNING.into(), w);
        }
        l.insert(labels::DROPPED.into(), m.dropped.to_string());
        l.insert(labels::ABANDONED.into(), m.abandoned.to_string());
        if let Some(url) = self.settings.endpoints.first() {
            l.insert(
                labels::URL.into(),
                smps_model::redact::url(url).into_owned(),
            );
        }
        l
    }

    /// The generator's self-check of an open-loop run: `Some` when the dispatch lag
    /// (intended → actual send) p99 exceeds [`RunSettings::dispatch_lag_limit`], saying by how
    /// much. The corrected latency then includes the generator's own delay: the generator or
    /// the machine was busy, or no connection was free (see [`PhaseReport::queued`]); the
    /// result measures less of the target than it should. `None` for closed loops.
    pub fn lag_warning(&self) -> Option<String> {
        let m = &self.measured;
        if self.settings.latency_basis != LatencyBasis::IntendedSend || m.dispatch_lag.is_empty() {
            return None;
        }
        let p99 = m.dispatch_lag.value_at_quantile(0.99);
        let limit = u64::try_from(self.settings.dispatch_lag_limit.as_micros()).unwrap_or(u64::MAX);
        if p99 <= limit {
            return None;
        }
        let cause = if m.queued > 0 {
            format!("{} requests waited for a free connection", m.queued)
        } else {
            "the generator or its machine was busy".to_string()
        };
        Some(format!(
            "dispatch lag p99 is {p99} µs, above the {limit} µs limit: requests left late ({cause}), and the latency includes that delay"
        ))
    }

    /// The SMP `PerformanceTestResult` of the measured phase: latencies in milliseconds
    /// (min, mean, p50, p90, p99, max of [`PhaseReport::latency`]), `actual_qps`, start and
    /// end time, and labels stating the latency basis and the generator.
    pub fn to_smp_result(&self) -> smps_model::PerformanceTestResult {
        let m = &self.measured;
        let s = m.latency_summary();
        let mut lat = smps_model::Latency::default();
        lat.min = s.min;
        lat.average = s.mean;
        lat.p50 = s.p50;
        lat.p90 = s.p90;
        lat.p99 = s.p99;
        lat.max = s.max;
        let mut r = smps_model::PerformanceTestResult::default();
        r.labels = self.result_labels();
        r.start_time = smps_model::Timestamp::from_system_time(m.start).ok();
        r.end_time = smps_model::Timestamp::from_system_time(m.end).ok();
        r.latencies_ms = Some(lat);
        r.actual_qps = m.requests_per_second();
        r
    }

    /// A fortio-compatible JSON result (the shape Meshery ingests): durations in seconds,
    /// `DurationHistogram` built bucket by bucket from the HdrHistogram (so percentiles
    /// interpolate finely), `RetCodes` by status with `-1` for failed requests.
    ///
    /// `ErrorsDurationHistogram` carries only the count of failed requests (their durations
    /// are not recorded), and `Sizes`/`HeaderSizes` are left out.
    pub fn to_fortio_json(&self) -> serde_json::Value {
        use serde_json::json;
        let m = &self.measured;
        let h = &m.latency;
        let total = h.len();
        let mut data = Vec::new();
        let mut cum = 0u64;
        for v in h.iter_recorded() {
            let n = v.count_since_last_iteration();
            cum += n;
            let hi = h.highest_equivalent(v.value_iterated_to());
            let lo = h.lowest_equivalent(v.value_iterated_to());
            data.push(json!({
                "Start": lo as f64 / 1e6,
                "End": hi as f64 / 1e6,
                "Percent": if total > 0 { 100.0 * cum as f64 / total as f64 } else { 0.0 },
                "Count": n,
            }));
        }
        let percentiles: Vec<_> = [50.0, 75.0, 90.0, 99.0, 99.9]
            .iter()
            .map(|p| json!({"Percentile": p, "Value": if total > 0 { h.value_at_percentile(*p) as f64 / 1e6 } else { 0.0 }}))
            .collect();
        let mut ret = serde_json::Map::new();
        for (k, v) in &m.status_codes {
            ret.insert(k.to_string(), json!(v));
        }
        if m.error_count() > 0 {
            ret.insert("-1".into(), json!(m.error_count()));
        }
        // Intended → actual send, in seconds like the rest (an smps-load addition).
        let lag_at = |p: f64| {
            if m.dispatch_lag.is_empty() {
                0.0
            } else {
                m.dispatch_lag.value_at_percentile(p) as f64 / 1e6
            }
        };
        let lag_percentiles: Vec<_> = [50.0, 90.0, 99.0, 99.9]
            .iter()
            .map(|p| json!({"Percentile": p, "Value": lag_at(*p)}))
            .collect();
        let lag = json!({
            "Count": m.dispatch_lag.len(),
            "Percentiles": lag_percentiles,
            "Max": lag_at(100.0),
        });
        let (mean, sd) = if total > 0 {
            (h.mean() / 1e6, h.stdev() / 1e6)
        } else {
            (0.0, 0.0)
        };
        json!({
            "RunType": "HTTP",
            "Labels": self.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
            "StartTime": rfc3339(m.start),
            "RequestedQPS": self.settings.requested_rps.map(|r| format!("{r}")).unwrap_or_else(|| "max".into()),
            "RequestedDuration": self.settings.duration.map(|d| format!("{}s", d.as_secs_f64())).unwrap_or_else(|| format!("exactly {} calls", self.settings.max_requests.unwrap_or(0))),
            "ActualQPS": m.requests_per_second(),
            "ActualDuration": m.elapsed().as_nanos() as u64,
            "NumThreads": self.settings.connections,
            "Version": GENERATOR,
            "DurationHistogram": {
                "Count": total,
                "Min": if total > 0 { h.min() as f64 / 1e6 } else { 0.0 },
                "Max": if total > 0 { h.max() as f64 / 1e6 } else { 0.0 },
                "Sum": mean * total as f64,
                "Avg": mean,
                "StdDev": sd,
                "Data": data,
                "Percentiles": percentiles,
            },
            "ErrorsDurationHistogram": { "Count": m.error_count() + m.status_codes.iter().filter(|(s, _)| !(200..400).contains(*s)).map(|(_, n)| n).sum::<u64>() },
            "Exactly": self.settings.max_requests.unwrap_or(0),
            "Jitter": false,
            "Uniform": false,
            "NoCatchUp": false,
            "RetCodes": ret,
            "URL": self.settings.endpoints.first().map(|u| smps_model::redact::url(u).into_owned()).unwrap_or_default(),
            "SocketCount": m.connections_opened,
            "Sockets": [],
            "LatencyBasis": self.settings.latency_basis.name(),
            "DispatchLag": lag,
            "Warnings": self.lag_warning().into_iter().collect::<Vec<_>>(),
        })
    }

    /// Merges another report into this one: measured and warm-up totals are added
    /// losslessly (histograms and counters) and the time windows become their union, so
    /// merging the parts of a run gives the same totals as recording everything at once.
    /// Rates are computed over the union of the parts' measured spans
    /// ([`PhaseReport::elapsed`]): a gap between sequential runs is not counted, and concurrent
    /// parts do not double the time. The other report's intervals are appended after this
    /// one's (they are summaries and are not combined), settings that add up (connections,
    /// workers, planned rate) are summed, and the run ids are joined.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateRun`] if a run of `other` is already in this report (merging it would
    /// count its requests twice); [`Error::CounterOverflow`] if a counter would overflow;
    /// [`Error::Merge`] if the latency bases differ or the histograms are incompatible. On
    /// error `self` is unchanged.
    pub fn merge(&mut self, other: &Report) -> Result<()> {
        if let Some(id) = other.run_ids.iter().find(|id| self.run_ids.contains(id)) {
            return Err(Error::DuplicateRun {
                run_id: id.to_string(),
            });
        }
        if self.settings.latency_basis != other.settings.latency_basis {
            return Err(Error::Merge {
                reason: format!(
                    "latency bases differ ({} vs {})",
                    self.settings.latency_basis.name(),
                    other.settings.latency_basis.name()
                ),
            });
        }
        let overflow = |counter: &str| Error::CounterOverflow {
            counter: counter.into(),
        };
        let connections = self
            .settings
            .connections
            .checked_add(other.settings.connections)
            .ok_or_else(|| overflow("connections"))?;
        let workers = self
            .settings
            .workers
            .checked_add(other.settings.workers)
            .ok_or_else(|| overflow("workers"))?;
        let measured = self.measured.merged("measured.", &other.measured)?;
        let warmup = match (&self.warmup, &other.warmup) {
            (Some(a), Some(b)) => Some(a.merged("warmup.", b)?),
            (a, b) => a.as_ref().or(b.as_ref()).cloned(),
        };
        self.measured = measured;
        self.warmup = warmup;
        self.start_time = self.start_time.min(other.start_time);
        self.end_time = self.end_time.max(other.end_time);
        self.settings.connections = connections;
        self.settings.workers = workers;
        self.settings.requested_rps =
            match (self.settings.requested_rps, other.settings.requested_rps) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
        self.intervals.extend(other.intervals.iter().cloned());
        for (k, v) in &other.labels {
            self.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, r) in &other.error_reasons {
            self.error_reasons.entry(*k).or_insert_with(|| r.clone());
        }
        self.run_ids.extend(other.run_ids.iter().cloned());
        Ok(())
    }

    /// The lossless, serializable form of this report (histograms as HdrHistogram V2 with
    /// deflate, base64).
    ///
    /// # Errors
    ///
    /// [`Error::EncodeHistogram`] if a histogram cannot be serialized.
    pub fn to_portable(&self) -> Result<PortableReport> {
        Ok(PortableReport {
            format: PORTABLE_FORMAT.into(),
            generator: GENERATOR.into(),
            latency_basis: self.settings.latency_basis,
            load_model: self.settings.load_model.clone(),
            endpoints: self.settings.endpoints.clone(),
            connections: self.settings.connections,
            requested_rps: self.settings.requested_rps,
            labels: self.labels.clone(),
            start_unix_ns: unix_ns(self.start_time),
            end_unix_ns: unix_ns(self.end_time),
            measured: PortablePhase::encode(&self.measured)?,
            warmup: self
                .warmup
                .as_ref()
                .map(PortablePhase::encode)
                .transpose()?,
            intervals: self.intervals.clone(),
            run_ids: self.run_ids.clone(),
        })
    }

    /// Rebuilds a report from its portable form (settings not carried by the portable form
    /// are left at neutral values; the interval series is kept). A file written before run
    /// ids existed gets the id [`PortableReport::runs`] derives.
    ///
    /// # Errors
    ///
    /// [`Error::DecodeHistogram`] for a histogram that is not valid base64 HdrHistogram V2;
    /// [`Error::InvalidPortable`] for a run or phase that ends before it starts, measured spans
    /// outside their phase, or a run id given twice; [`Error::Merge`] for an unknown `format`.
    pub fn from_portable(p: &PortableReport) -> Result<Report> {
        if p.format != PORTABLE_FORMAT {
            return Err(Error::Merge {
                reason: format!("unknown portable format `{}`", p.format),
            });
        }
        check_window("", p.start_unix_ns, p.end_unix_ns)?;
        let run_ids = p.runs();
        if let Some(id) = run_ids
            .iter()
            .enumerate()
            .find_map(|(i, id)| run_ids[..i].contains(id).then_some(id))
        {
            return Err(Error::InvalidPortable {
                field: "run_ids".into(),
                reason: format!("lists run `{id}` twice"),
            });
        }
        Ok(Report {
            start_time: from_unix_ns(p.start_unix_ns),
            end_time: from_unix_ns(p.end_unix_ns),
            measured: p.measured.decode("measured.")?,
            warmup: p.warmup.as_ref().map(|w| w.decode("warmup.")).transpose()?,
            intervals: p.intervals.clone(),
            settings: RunSettings {
                endpoints: p.endpoints.clone(),
                connections: p.connections,
                workers: 0,
                requested_rps: p.requested_rps,
                duration: None,
                max_requests: None,
                warmup: Duration::ZERO,
                http_version: HttpVersion::default(),
                latency_basis: p.latency_basis,
                load_model: p.load_model.clone(),
                dispatch_lag_limit: DEFAULT_DISPATCH_LAG_LIMIT,
            },
            labels: p.labels.clone(),
            error_reasons: BTreeMap::new(),
            run_ids,
        })
    }
}

/// Refuses a window that ends before it starts.
fn check_window(prefix: &str, start_unix_ns: u64, end_unix_ns: u64) -> Result<()> {
    if end_unix_ns < start_unix_ns {
        return Err(Error::InvalidPortable {
            field: format!("{prefix}end_unix_ns"),
            reason: format!(
                "({end_unix_ns}) is before `{prefix}start_unix_ns` ({start_unix_ns}): the part ends before it starts"
            ),
        });
    }
    Ok(())
}

/// Merges portable reports (for example one per node or per client) into one report.
///
/// # Errors
///
/// [`Error::Merge`] if `parts` is empty; otherwise [`Error::MergePart`] naming the part that
/// could not be decoded ([`Report::from_portable`]) or merged ([`Report::merge`]: the same run
/// twice, a counter overflow, different latency bases), with that error as its source.
pub fn merge(parts: &[PortableReport]) -> Result<Report> {
    let (first, rest) = parts.split_first().ok_or_else(|| Error::Merge {
        reason: "nothing to merge".into(),
    })?;
    let in_part = |index: usize| {
        move |e: Error| Error::MergePart {
            index,
            source: Box::new(e),
        }
    };
    let mut r = Report::from_portable(first).map_err(in_part(0))?;
    for (i, p) in rest.iter().enumerate() {
        Report::from_portable(p)
            .and_then(|part| r.merge(&part))
            .map_err(in_part(i + 1))?;
    }
    Ok(r)
}

/// The id of one run, made when the engine builds its [`Report`] and carried by its
/// [`PortableReport`], so that merging can refuse to count a run twice.
///
/// Ids are opaque strings; [`RunId::generate`] makes them from the wall-clock time, the
/// process id and a randomly keyed hash, so two runs practically never share one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(String);

impl RunId {
    /// A new id: `<unix ns, hex>-<process id, hex>-<64-bit random-keyed hash, hex>`.
    ///
    /// ```
    /// let (a, b) = (smps_load::RunId::generate(), smps_load::RunId::generate());
    /// assert_ne!(a, b);
    /// ```
    #[must_use]
    pub fn generate() -> RunId {
        use std::hash::{BuildHasher, Hash, Hasher};
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let pid = std::process::id();
        // Each RandomState has fresh keys (random per thread, then incremented), so two ids made
        // in the same nanosecond by the same process still differ.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        now.hash(&mut h);
        pid.hash(&mut h);
        std::thread::current().id().hash(&mut h);
        RunId(format!("{now:x}-{pid:x}-{:016x}", h.finish()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for RunId {
    fn from(id: String) -> Self {
        RunId(id)
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const PORTABLE_FORMAT: &str = "smps-load/v1";

fn unix_ns(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos().min(u128::from(u64::MAX)) as u64)
        .unwrap_or(0)
}

fn from_unix_ns(ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(ns)
}

/// A lossless, serializable, mergeable report (serde: JSON, YAML, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortableReport {
    /// Format tag, `smps-load/v1`.
    pub format: String,
    /// Generator and version.
    pub generator: String,
    /// What latency is measured from.
    pub latency_basis: LatencyBasis,
    /// Load model description.
    pub load_model: String,
    /// Target URLs.
    pub endpoints: Vec<String>,
    /// Connections.
    pub connections: usize,
    /// Planned mean rate (open loop).
    pub requested_rps: Option<f64>,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// Run start, nanoseconds since the Unix epoch.
    pub start_unix_ns: u64,
    /// Run end, nanoseconds since the Unix epoch.
    pub end_unix_ns: u64,
    /// Measured phase.
    pub measured: PortablePhase,
    /// Warm-up phase.
    pub warmup: Option<PortablePhase>,
    /// The per-interval series of the run (one entry a second by default; empty in files
    /// written before it was added). Merging concatenates the parts' series.
    #[serde(default)]
    pub intervals: Vec<Snapshot>,
    /// The ids of the runs this report holds (one per run merged into it; empty in files
    /// written before run ids were added, see [`PortableReport::runs`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run_ids: Vec<RunId>,
}

impl PortableReport {
    /// The runs this report holds: [`PortableReport::run_ids`], or for a file written before
    /// run ids existed one id derived from its start and end time (`unidentified-<start>-<end>`,
    /// nanoseconds in hex), so that the same old file given twice is still recognised.
    pub fn runs(&self) -> Vec<RunId> {
        if self.run_ids.is_empty() {
            vec![RunId(format!(
                "unidentified-{:x}-{:x}",
                self.start_unix_ns, self.end_unix_ns
            ))]
        } else {
            self.run_ids.clone()
        }
    }
}

/// One phase of a [`PortableReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortablePhase {
    /// Phase start, ns since the Unix epoch.
    pub start_unix_ns: u64,
    /// Phase end, ns since the Unix epoch.
    pub end_unix_ns: u64,
    /// Latency histogram (µs), HdrHistogram V2 + deflate, base64.
    pub latency_hdr: String,
    /// Service-time histogram (µs), same encoding.
    pub service_time_hdr: String,
    /// Dispatch-lag histogram (µs), same encoding.
    pub dispatch_lag_hdr: String,
    /// Responses by status code.
    pub status_codes: BTreeMap<u16, u64>,
    /// Failures by [`ErrorKind::name`].
    pub errors: BTreeMap<String, u64>,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Dropped requests.
    pub dropped: u64,
    /// Abandoned requests.
    pub abandoned: u64,
    /// Queued requests.
    pub queued: u64,
    /// Connections opened.
    pub connections_opened: u64,
    /// Samples clamped to the histogram range.
    pub clamped: u64,
    /// The disjoint spans `[start, end]` (ns since the Unix epoch) during which the phase
    /// measured, when there are several (a merged result); absent means the one span
    /// `[start_unix_ns, end_unix_ns]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spans_unix_ns: Vec<[u64; 2]>,
}

fn encode_hist(h: &Histogram<u64>, metric: &'static str) -> Result<String> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .map_err(|e| Error::EncodeHistogram {
            metric,
            source: format!("{e:?}").into(),
        })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(buf))
}

fn decode_hist(text: &str, metric: &'static str) -> Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| Error::DecodeHistogram {
            metric,
            source: Box::new(e),
        })?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| Error::DecodeHistogram {
            metric,
            source: format!("{e:?}").into(),
        })?;
    // Re-home into the standard bounds so merged histograms always add.
    let mut out = new_histogram();
    out.add(&h).map_err(|e| Error::DecodeHistogram {
        metric,
        source: format!("{e:?}").into(),
    })?;
    Ok(out)
}

impl PortablePhase {
    fn encode(p: &PhaseReport) -> Result<Self> {
        Ok(PortablePhase {
            start_unix_ns: unix_ns(p.start),
            end_unix_ns: unix_ns(p.end),
            latency_hdr: encode_hist(&p.latency, "latency")?,
            service_time_hdr: encode_hist(&p.service_time, "service_time")?,
            dispatch_lag_hdr: encode_hist(&p.dispatch_lag, "dispatch_lag")?,
            status_codes: p.status_codes.clone(),
            errors: p
                .errors
                .iter()
                .map(|(k, v)| (k.name().to_string(), *v))
                .collect(),
            bytes_in: p.bytes_in,
            bytes_out: p.bytes_out,
            dropped: p.dropped,
            abandoned: p.abandoned,
            queued: p.queued,
            connections_opened: p.connections_opened,
            clamped: p.clamped,
            spans_unix_ns: if p.spans.len() > 1 {
                p.spans
                    .iter()
                    .map(|(start, end)| [unix_ns(*start), unix_ns(*end)])
                    .collect()
            } else {
                Vec::new()
            },
        })
    }

    /// Decodes the phase, checking its window and spans; `prefix` (`measured.` or `warmup.`)
    /// names the fields in errors.
    fn decode(&self, prefix: &str) -> Result<PhaseReport> {
        check_window(prefix, self.start_unix_ns, self.end_unix_ns)?;
        let spans = if self.spans_unix_ns.is_empty() {
            vec![(self.start_unix_ns, self.end_unix_ns)]
        } else {
            self.spans_unix_ns.iter().map(|[s, e]| (*s, *e)).collect()
        };
        for (i, (start, end)) in spans.iter().enumerate() {
            let reason = if end < start {
                "ends before it starts"
            } else if *start < self.start_unix_ns || *end > self.end_unix_ns {
                "is outside the phase's start_unix_ns..end_unix_ns"
            } else {
                continue;
            };
            return Err(Error::InvalidPortable {
                field: format!("{prefix}spans_unix_ns[{i}]"),
                reason: reason.into(),
            });
        }
        let spans = union_of_spans(
            spans
                .into_iter()
                .map(|(start, end)| (from_unix_ns(start), from_unix_ns(end))),
        );
        let mut errors = BTreeMap::new();
        for (k, v) in &self.errors {
            let kind = ErrorKind::from_name(k).unwrap_or(ErrorKind::Other);
            *errors.entry(kind).or_default() += v;
        }
        Ok(PhaseReport {
            start: from_unix_ns(self.start_unix_ns),
            end: from_unix_ns(self.end_unix_ns),
            latency: decode_hist(&self.latency_hdr, "latency")?,
            service_time: decode_hist(&self.service_time_hdr, "service_time")?,
            dispatch_lag: decode_hist(&self.dispatch_lag_hdr, "dispatch_lag")?,
            status_codes: self.status_codes.clone(),
            errors,
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
            dropped: self.dropped,
            abandoned: self.abandoned,
            queued: self.queued,
            connections_opened: self.connections_opened,
            clamped: self.clamped,
            spans,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Stats;
    use proptest::prelude::*;

    fn report_of(stats: &Stats, start_s: u64, end_s: u64) -> Report {
        let t = |s: u64| UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s);
        Report {
            start_time: t(start_s),
            end_time: t(end_s),
            measured: PhaseReport::from_stats(stats, t(start_s), t(end_s)),
            warmup: None,
            intervals: Vec::new(),
            settings: RunSettings {
                endpoints: vec!["http://127.0.0.1/".into()],
                connections: 1,
                workers: 1,
                requested_rps: Some(10.0),
                duration: None,
                max_requests: None,
                warmup: Duration::ZERO,
                http_version: HttpVersion::Http1,
                latency_basis: LatencyBasis::IntendedSend,
                load_model: "open".into(),
                dispatch_lag_limit: DEFAULT_DISPATCH_LAG_LIMIT,
            },
            labels: BTreeMap::new(),
            error_reasons: BTreeMap::new(),
            run_ids: vec![RunId::generate()],
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn merging_the_encoded_parts_of_a_run_equals_one_recording_of_everything(
            samples in proptest::collection::vec(
                (1u64..7_200_000_000, 1u64..1_000_000, prop_oneof![Just(200u16), Just(503u16), Just(0u16)]),
                0..400,
            ),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            // One recording of everything.
            let mut whole = Stats::default();
            for (lat, svc, status) in &samples {
                if *status == 0 {
                    whole.record_error(ErrorKind::ConnectionReset);
                } else {
                    whole.record_response(*status, *lat, *svc, lat.saturating_sub(*svc));
                }
            }
            // The same samples split into consecutive parts, each its own report, encoded.
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(samples.len() + 1)).collect();
            bounds.push(0);
            bounds.push(samples.len());
            bounds.sort_unstable();
            let mut parts = Vec::new();
            for (i, w) in bounds.windows(2).enumerate() {
                let mut s = Stats::default();
                for (lat, svc, status) in &samples[w[0]..w[1]] {
                    if *status == 0 {
                        s.record_error(ErrorKind::ConnectionReset);
                    } else {
                        s.record_response(*status, *lat, *svc, lat.saturating_sub(*svc));
                    }
                }
                let r = report_of(&s, i as u64, i as u64 + 1);
                parts.push(r.to_portable().unwrap());
            }
            let merged = merge(&parts).unwrap();
            let expected = report_of(&whole, 0, (bounds.len() - 1) as u64);
            prop_assert_eq!(&merged.measured.latency, &expected.measured.latency);
            prop_assert_eq!(&merged.measured.service_time, &expected.measured.service_time);
            prop_assert_eq!(&merged.measured.dispatch_lag, &expected.measured.dispatch_lag);
            prop_assert_eq!(&merged.measured.status_codes, &expected.measured.status_codes);
            prop_assert_eq!(&merged.measured.errors, &expected.measured.errors);
            prop_assert_eq!(merged.measured.clamped, expected.measured.clamped);
            prop_assert_eq!(merged.measured.start, expected.measured.start);
            prop_assert_eq!(merged.measured.end, expected.measured.end);
            // And the projections agree with the single recording.
            prop_assert_eq!(merged.to_smp_result().latencies_ms, expected.to_smp_result().latencies_ms);
        }
    }

    fn stats_with(responses: u64) -> Stats {
        let mut s = Stats::default();
        for i in 0..responses {
            s.record_response(200, 1000 + i, 900, 100);
        }
        s
    }

    fn part(responses: u64, start_s: u64, end_s: u64) -> PortableReport {
        report_of(&stats_with(responses), start_s, end_s)
            .to_portable()
            .unwrap()
    }

    fn source_of(e: &Error, index: usize) -> &Error {
        match e {
            Error::MergePart { index: i, source } if *i == index => source,
            other => panic!("expected MergePart {{ index: {index} }}, got {other:?}"),
        }
    }

    #[test]
    fn every_report_gets_its_own_run_id_and_the_portable_form_keeps_it() {
        let (a, b) = (part(1, 0, 1), part(1, 0, 1));
        assert_eq!(a.run_ids.len(), 1);
        assert_ne!(a.run_ids, b.run_ids);
        let json = serde_json::to_string(&a).unwrap();
        let back: PortableReport = serde_json::from_str(&json).unwrap();
        assert_eq!(Report::from_portable(&back).unwrap().run_ids, a.run_ids);
        let merged = merge(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(merged.run_ids, [a.run_ids[0].clone(), b.run_ids[0].clone()]);
    }

    #[test]
    fn merging_the_same_run_twice_is_refused_naming_the_part_and_the_run() {
        let (a, b) = (part(5, 0, 1), part(5, 1, 2));
        let e = merge(&[a.clone(), b.clone(), a.clone()]).unwrap_err();
        let id = a.run_ids[0].to_string();
        assert!(
            matches!(source_of(&e, 2), Error::DuplicateRun { run_id } if *run_id == id),
            "{e:?}"
        );
        // A merged result merged again with one of its parts is refused too, and left as it was.
        let mut merged = merge(&[a.clone(), b]).unwrap();
        let before = merged.clone();
        let e = merged
            .merge(&Report::from_portable(&a).unwrap())
            .unwrap_err();
        assert!(matches!(e, Error::DuplicateRun { .. }), "{e:?}");
        assert_eq!(merged, before);
    }

    #[test]
    fn files_written_before_run_ids_still_read_and_the_same_old_file_twice_is_refused() {
        let mut json = serde_json::to_value(part(3, 0, 1)).unwrap();
        json.as_object_mut().unwrap().remove("run_ids");
        assert!(json["measured"].get("spans_unix_ns").is_none());
        let old: PortableReport = serde_json::from_value(json).unwrap();
        assert!(old.run_ids.is_empty());
        let r = Report::from_portable(&old).unwrap();
        assert_eq!(r.measured.requests(), 3);
        assert_eq!(r.run_ids, old.runs());
        let e = merge(&[old.clone(), old]).unwrap_err();
        assert!(
            matches!(source_of(&e, 1), Error::DuplicateRun { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn counters_that_would_overflow_are_refused_and_the_report_is_unchanged() {
        let mut a = part(1, 0, 1);
        a.measured.bytes_in = u64::MAX - 1;
        let mut b = part(1, 1, 2);
        b.measured.bytes_in = 2;
        let e = merge(&[a.clone(), b.clone()]).unwrap_err();
        assert!(
            matches!(source_of(&e, 1), Error::CounterOverflow { counter } if counter == "measured.bytes_in"),
            "{e:?}"
        );
        let (mut c, mut d) = (part(0, 0, 1), part(0, 1, 2));
        c.measured.status_codes.insert(503, u64::MAX);
        d.measured.status_codes.insert(503, 1);
        let mut rc = Report::from_portable(&c).unwrap();
        let before = rc.clone();
        let e = rc.merge(&Report::from_portable(&d).unwrap()).unwrap_err();
        assert!(
            matches!(&e, Error::CounterOverflow { counter } if counter == "measured.status_codes[503]"),
            "{e:?}"
        );
        assert_eq!(rc, before);
        // Totals over several counters saturate instead of wrapping or panicking.
        c.measured.status_codes.insert(200, u64::MAX);
        assert_eq!(
            Report::from_portable(&c).unwrap().measured.requests(),
            u64::MAX
        );
    }

    #[test]
    fn a_part_that_ends_before_it_starts_is_refused() {
        let mut p = part(1, 5, 6);
        p.measured.end_unix_ns = p.measured.start_unix_ns - 1;
        let e = Report::from_portable(&p).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidPortable { field, .. } if field == "measured.end_unix_ns"),
            "{e:?}"
        );
        let mut p = part(1, 5, 6);
        p.end_unix_ns = p.start_unix_ns - 1;
        let e = merge(&[part(1, 0, 1), p]).unwrap_err();
        assert!(
            matches!(source_of(&e, 1), Error::InvalidPortable { field, .. } if field == "end_unix_ns"),
            "{e:?}"
        );
        let mut p = part(1, 5, 7);
        p.measured.spans_unix_ns = vec![[p.measured.start_unix_ns, p.measured.end_unix_ns + 1]];
        let e = Report::from_portable(&p).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidPortable { field, .. } if field == "measured.spans_unix_ns[0]"),
            "{e:?}"
        );
    }

    #[test]
    fn merged_rates_count_measured_time_once_and_not_the_gaps_between_runs() {
        // Two sequential 1 s runs, 10 s apart, 100 requests each: 200 requests in 2 s.
        let merged = merge(&[part(100, 0, 1), part(100, 11, 12)]).unwrap();
        assert_eq!(merged.measured.elapsed(), Duration::from_secs(2));
        assert_eq!(merged.measured.requests_per_second(), 100.0);
        assert_eq!(merged.to_smp_result().actual_qps, 100.0);
        // The window still spans both runs.
        assert_eq!(
            merged
                .measured
                .end
                .duration_since(merged.measured.start)
                .unwrap(),
            Duration::from_secs(12)
        );
        // Two concurrent parts over the same 2 s: 400 requests in 2 s, not in 4 s.
        let merged = merge(&[part(200, 0, 2), part(200, 0, 2)]).unwrap();
        assert_eq!(merged.measured.requests_per_second(), 200.0);
        // Overlapping parts: 0–2 s and 1–4 s measure 4 s.
        let merged = merge(&[part(100, 0, 2), part(100, 1, 4)]).unwrap();
        assert_eq!(merged.measured.elapsed(), Duration::from_secs(4));
        // The spans survive the portable form, so merging the merged result again still works.
        let gapped = merge(&[part(100, 0, 1), part(100, 11, 12)]).unwrap();
        let p = gapped.to_portable().unwrap();
        assert_eq!(p.measured.spans_unix_ns.len(), 2);
        let again = merge(&[p, part(100, 20, 21)]).unwrap();
        assert_eq!(again.measured.elapsed(), Duration::from_secs(3));
        assert_eq!(again.measured.requests_per_second(), 100.0);
    }

    #[test]
    fn corrupt_portable_histograms_are_decode_errors() {
        let r = report_of(&Stats::default(), 0, 1);
        let mut p = r.to_portable().unwrap();
        p.measured.latency_hdr = "not base64!".into();
        let e = Report::from_portable(&p).unwrap_err();
        assert!(
            matches!(
                e,
                Error::DecodeHistogram {
                    metric: "latency",
                    ..
                }
            ),
            "{e}"
        );
        p.measured.latency_hdr = base64::engine::general_purpose::STANDARD.encode(b"garbage");
        assert!(Report::from_portable(&p).is_err());
        p.format = "other/v9".into();
        assert!(Report::from_portable(&p).is_err());
    }

    #[test]
    fn a_dispatch_lag_above_the_limit_is_a_warning_in_every_projection() {
        let mut stats = Stats::default();
        for _ in 0..100 {
            stats.record_response(200, 900, 400, 500);
        }
        let mut r = report_of(&stats, 0, 1);
        let w = r.lag_warning().expect("500 µs is above the default 100 µs");
        assert!(w.contains("500 µs") && w.contains("100 µs"), "{w}");
        let smp = r.to_smp_result();
        assert_eq!(smp.labels[smps_model::labels::WARNING], w);
        assert_eq!(
            smp.labels[smps_model::labels::DISPATCH_LAG_MS],
            "p50=0.5,p99=0.5,max=0.5"
        );
        let fortio = r.to_fortio_json();
        assert_eq!(fortio["Warnings"][0], serde_json::json!(w));
        assert_eq!(fortio["DispatchLag"]["Percentiles"][2]["Value"], 0.0005);

        r.settings.dispatch_lag_limit = Duration::from_millis(1);
        assert_eq!(r.lag_warning(), None);
        assert!(
            !r.to_smp_result()
                .labels
                .contains_key(smps_model::labels::WARNING)
        );
        r.settings.dispatch_lag_limit = DEFAULT_DISPATCH_LAG_LIMIT;
        r.settings.latency_basis = LatencyBasis::ActualSend;
        assert_eq!(
            r.lag_warning(),
            None,
            "a closed loop has no plan to lag behind"
        );
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Report>();
        check::<PortableReport>();
        check::<Snapshot>();
        check::<crate::Engine>();
        check::<crate::EngineBuilder>();
        check::<crate::StopHandle>();
        check::<crate::Error>();
        check::<crate::ArrivalPlan>();
        fn send<T: Send>() {}
        send::<crate::Run>();
        fn future_is_send<F: std::future::Future + Send>(_: F) {}
        let engine = crate::Engine::builder()
            .url("http://127.0.0.1:9/")
            .max_requests(1)
            .build()
            .unwrap();
        future_is_send(engine.run());
    }
}
