//! The fortio-compatible JSON of a report (the shape Meshery ingests).

use std::time::SystemTime;

use super::{GENERATOR, Report};

fn rfc3339(t: SystemTime) -> String {
    smps_model::Timestamp::from_system_time(t)
        .map(|ts| ts.to_string())
        .unwrap_or_default()
}

impl Report {
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
}
