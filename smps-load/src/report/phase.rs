//! [`PhaseReport`]: the totals of one phase of a run, and how two of them add up.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use super::{LatencySummary, us_to_ms};
use crate::ErrorKind;
use crate::error::{Error, Result};
use crate::recorder::Stats;

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
    /// Bytes received (status line, header and trailer fields as HTTP/1.1 text, plus bodies).
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
    pub(super) spans: Vec<(SystemTime, SystemTime)>,
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
    pub(super) fn merged(&self, prefix: &str, other: &PhaseReport) -> Result<PhaseReport> {
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
pub(super) fn union_of_spans(
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
