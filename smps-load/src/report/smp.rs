//! The SMP `PerformanceTestResult` of a report, with the labels that say how it was measured
//! and how its requests ended.

use std::collections::BTreeMap;

use super::{
    GENERATOR, LABEL_GENERATOR, LABEL_HISTOGRAM, LABEL_LATENCY_BASIS, LABEL_LOAD_MODEL,
    LatencyBasis, LatencySummary, Report,
};

impl Report {
    /// The labels written into results: the user's, plus the latency basis, generator,
    /// load model, histogram resolution, what happened to the requests of the measured
    /// phase (see [`Report::outcome_labels`]), the run id(s), and for distributed runs the
    /// segments and how late the parts started ([`LABEL_SEGMENT`](crate::LABEL_SEGMENT) and
    /// the keys beside it).
    pub fn result_labels(&self) -> BTreeMap<String, String> {
        let mut l = self.labels.clone();
        l.extend(self.outcome_labels());
        l.extend(self.part_labels());
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
    /// (intended → actual send) p99 exceeds [`RunSettings::dispatch_lag_limit`](crate::RunSettings::dispatch_lag_limit), saying by how
    /// much. The corrected latency then includes the generator's own delay: the generator or
    /// the machine was busy, or no connection was free (see [`PhaseReport::queued`](crate::PhaseReport::queued)); the
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
    /// (min, mean, p50, p90, p99, max of [`PhaseReport::latency`](crate::PhaseReport::latency)), `actual_qps`, start and
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
}
