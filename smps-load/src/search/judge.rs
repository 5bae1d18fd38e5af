//! What a trial measured, and its verdict under the objective.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Slo, Trial};
use crate::report::Report;

/// The verdict of one trial, or of a rate after its trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Every bound of the objective held.
    Pass,
    /// The target missed a bound (latency or success).
    Fail,
    /// The generator fell behind its plan, so the trial says nothing about the target.
    GeneratorLimited,
}

impl Verdict {
    /// Stable name: `pass`, `fail`, `generator_limited`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::GeneratorLimited => "generator_limited",
        }
    }
}

/// Judges the report of a trial planned at `rps` for `length`.
///
/// * Planned requests: the plan's arrivals in `length` (`⌈rps · length⌉`).
/// * Issued: requests completed, abandoned after the end, or dropped because no connection was
///   free (the generator handled those arrivals; the target's slowness made them fail).
/// * Success: 2xx/3xx responses per planned request, so dropped and abandoned ones count
///   against the target.
/// * The generator fell behind when it issued fewer than `1 − send_tolerance` of the planned
///   requests (one request of rounding allowed), or when no request waited for a connection
///   and still the dispatch-lag p99 exceeded the run's limit (the generator or its machine
///   was late on its own).
pub(crate) fn judge(report: &Report, rps: f64, length: Duration, slo: &Slo, margin: f64) -> Trial {
    let m = &report.measured;
    // Uniform arrivals i = 0, 1, ... with i / rps < length.
    let planned = (rps * length.as_secs_f64()).ceil().max(1.0);
    let issued = m
        .requests()
        .saturating_add(m.abandoned)
        .saturating_add(m.dropped) as f64;
    // A Poisson trial may send a little more than planned.
    let success = (m.ok() as f64 / planned).min(1.0);
    let latency_ms = m.latency_ms(slo.percentile);
    let service_ms = if m.service_time.is_empty() {
        0.0
    } else {
        m.service_time.value_at_percentile(slo.percentile) as f64 / 1000.0
    };
    let lag_p99_us = if m.dispatch_lag.is_empty() {
        0
    } else {
        m.dispatch_lag.value_at_quantile(0.99)
    };
    let lag_limit_us =
        u64::try_from(report.settings.dispatch_lag_limit.as_micros()).unwrap_or(u64::MAX);
    let bound_ms = slo.latency.as_secs_f64() * 1000.0;

    let mut generator = Vec::new();
    if issued < planned * (1.0 - slo.send_tolerance) - 1.0 {
        generator.push(format!(
            "the generator issued {issued:.0} of {planned:.0} planned requests (more than {:.2} % short)",
            slo.send_tolerance * 100.0
        ));
    }
    if m.queued == 0 && lag_p99_us > lag_limit_us {
        generator.push(format!(
            "dispatch lag p99 {lag_p99_us} µs is above the {lag_limit_us} µs limit with no request waiting for a connection"
        ));
    }
    let mut target = Vec::new();
    if latency_ms > bound_ms {
        target.push(format!(
            "p{} latency {latency_ms:.3} ms is above {bound_ms:.3} ms",
            slo.percentile
        ));
    }
    if success < slo.min_success {
        target.push(format!(
            "{:.3} % of planned requests succeeded, below {:.3} %",
            success * 100.0,
            slo.min_success * 100.0
        ));
    }
    let verdict = if !generator.is_empty() {
        Verdict::GeneratorLimited
    } else if !target.is_empty() {
        Verdict::Fail
    } else {
        Verdict::Pass
    };
    let near = |value: f64, bound: f64, scale: f64| (value - bound).abs() <= margin * scale;
    let borderline = verdict == Verdict::GeneratorLimited
        || near(latency_ms, bound_ms, bound_ms)
        || (slo.min_success < 1.0 && near(success, slo.min_success, 1.0 - slo.min_success));
    let mut reasons = generator;
    reasons.extend(target);
    Trial {
        rps,
        verdict,
        borderline,
        latency_ms,
        service_ms,
        success,
        issued: issued / planned,
        dispatch_lag_p99_ms: lag_p99_us as f64 / 1000.0,
        queued: m.queued,
        requests: m.requests(),
        achieved_rps: m.requests_per_second(),
        reasons,
    }
}
