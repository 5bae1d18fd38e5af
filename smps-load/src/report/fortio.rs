//! The fortio-compatible JSON of a report (the shape Meshery ingests).

use std::time::SystemTime;

use super::{GENERATOR, Report};

fn rfc3339(t: SystemTime) -> String {
    smps_model::Timestamp::from_system_time(t)
        .map(|ts| ts.to_string())
        .unwrap_or_default()
}

use serde_json::json;

impl Report {
    /// A fortio-compatible JSON result (the shape Meshery ingests): durations in seconds,
    /// `DurationHistogram` built bucket by bucket from the HdrHistogram (so percentiles
    /// interpolate finely), `RetCodes` by status with `-1` for failed requests.
    ///
    /// `ErrorsDurationHistogram` carries only the count of failed requests (their durations
    /// are not recorded), and `Sizes`/`HeaderSizes` are left out.
    ///
    /// TCP, UDP and gRPC runs take fortio's own shape for those runners: `RunType` `TCP`,
    /// `UDP` or `GRPC` (`GRPC Health` for health checks), `Destination` instead of `URL`,
    /// `RetCodes` keyed by outcome name (`OK`, or `SERVING` for health checks; gRPC codes by
    /// name such as `UNAVAILABLE`; other failures by [`ErrorKind`](crate::ErrorKind) name),
    /// `BytesSent`/`BytesReceived` (TCP, UDP) and `Streams` (gRPC).
    pub fn to_fortio_json(&self) -> serde_json::Value {
        let mut v = self.fortio_common();
        let protocol = self.settings.protocol;
        if protocol == crate::Protocol::Http {
            return v;
        }
        let m = &self.measured;
        let destination = v
            .as_object_mut()
            .and_then(|o| o.remove("URL"))
            .unwrap_or_default();
        let health =
            protocol == crate::Protocol::Grpc && destination.as_str().is_some_and(is_health_check);
        let ok_name = if health { "SERVING" } else { "OK" };
        let mut ret = serde_json::Map::new();
        if m.ok() > 0 {
            ret.insert(ok_name.into(), json!(m.ok()));
        }
        for (code, n) in m
            .status_codes
            .iter()
            .filter(|(c, _)| !(200..400).contains(*c))
        {
            ret.insert(code.to_string(), json!(n));
        }
        for (kind, n) in &m.errors {
            let name = kind.grpc_code_name().unwrap_or(kind.name());
            ret.insert(name.into(), json!(n));
        }
        if let Some(o) = v.as_object_mut() {
            o.insert("Destination".into(), destination);
            o.insert("RetCodes".into(), serde_json::Value::Object(ret));
            match protocol {
                crate::Protocol::Grpc => {
                    let run_type = if health { "GRPC Health" } else { "GRPC" };
                    o.insert("RunType".into(), json!(run_type));
                    o.insert(
                        "Streams".into(),
                        json!(self.settings.streams_per_connection),
                    );
                }
                _ => {
                    o.insert("RunType".into(), json!(protocol.name().to_uppercase()));
                    o.insert("BytesSent".into(), json!(m.bytes_out));
                    o.insert("BytesReceived".into(), json!(m.bytes_in));
                }
            }
        }
        v
    }

    /// The fields every fortio runner's result has (in the HTTP runner's shape).
    fn fortio_common(&self) -> serde_json::Value {
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

/// Whether a gRPC endpoint URL calls the health check (no method path, or its path).
fn is_health_check(url: &str) -> bool {
    url.parse::<http::Uri>()
        .is_ok_and(|u| matches!(u.path(), "" | "/" | "/grpc.health.v1.Health/Check"))
}
