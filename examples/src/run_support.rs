//! Pieces shared by the examples that run load tests (`run`, `smps run`, `smps merge`):
//! pointing placeholder endpoints at the embedded reference server, a one-line progress
//! display, and the percentile table.

use std::fmt::Write as _;

use smps_load::{LatencySummary, Phase, Report, Snapshot};
use smps_model::PerformanceTestConfig;

/// The host name in shipped configs that stands for the embedded reference server.
pub const PLACEHOLDER_HOST: &str = "reference-server";

/// Rewrites every `http(s)://reference-server...` endpoint to `base` (the reference server's
/// `http://127.0.0.1:PORT`), and every `grpc://reference-server...` one to the same server
/// (which answers gRPC too); returns how many were rewritten.
pub fn point_at_reference_server(config: &mut PerformanceTestConfig, base: &str) -> usize {
    let base = base.trim_end_matches('/');
    let authority = base.trim_start_matches("http://");
    let mut rewritten = 0;
    for (scheme, to) in [
        ("http", base.to_string()),
        ("https", base.to_string()),
        ("grpc", format!("grpc://{authority}")),
    ] {
        rewritten += point_placeholder(config, scheme, &to);
    }
    rewritten
}

/// Whether an endpoint of `scheme` (`tcp`, `udp`, ...) names the placeholder host.
pub fn names_placeholder(config: &PerformanceTestConfig, scheme: &str) -> bool {
    let prefix = format!("{scheme}://{PLACEHOLDER_HOST}");
    config
        .clients
        .iter()
        .flat_map(|c| &c.endpoint_urls)
        .any(|u| u.starts_with(&prefix) && url_host(u) == PLACEHOLDER_HOST)
}

/// Rewrites every `{scheme}://reference-server[:port]...` endpoint to `base` followed by the
/// rest of the URL (a placeholder's port is dropped: the server's own is used); returns how
/// many were rewritten.
pub fn point_placeholder(config: &mut PerformanceTestConfig, scheme: &str, base: &str) -> usize {
    let placeholder = format!("{scheme}://{PLACEHOLDER_HOST}");
    let mut rewritten = 0;
    for client in &mut config.clients {
        for url in &mut client.endpoint_urls {
            if url_host(url) != PLACEHOLDER_HOST {
                continue;
            }
            if let Some(rest) = url.strip_prefix(&placeholder) {
                let rest = match rest.strip_prefix(':') {
                    Some(port) => port.trim_start_matches(|c: char| c.is_ascii_digit()),
                    None => rest,
                };
                *url = format!("{base}{rest}");
                rewritten += 1;
            }
        }
    }
    rewritten
}

/// The host of a URL (`[::1]` without brackets), or `""`.
pub fn url_host(url: &str) -> &str {
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', '?']).next())
        .map(|auth| {
            let auth = auth.rsplit('@').next().unwrap_or(auth);
            if auth.starts_with('[') {
                auth.split(']').next().unwrap_or("").trim_start_matches('[')
            } else {
                auth.split(':').next().unwrap_or("")
            }
        })
        .unwrap_or("")
}

/// Whether a host is the local machine.
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A one-line progress display for a snapshot (`\r`-prefixed, for a terminal).
pub fn progress_line(s: &Snapshot, total_secs: f64) -> String {
    let frac = if total_secs > 0.0 {
        (s.end.as_secs_f64() / total_secs).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let filled = (frac * 30.0).round() as usize;
    // The drain after an open-loop plan ends expects nothing: no "(plan 0)" there.
    let planned = s.planned.filter(|p| *p > 0.0).map_or(String::new(), |p| {
        format!(
            " (plan {:.0})",
            p / (s.end - s.start).as_secs_f64().max(1e-9)
        )
    });
    format!(
        "\r[{}{}] {:>5.1}/{:.0} s {} {:>8.0} req/s{planned} p99 {:>8.3} ms  errors {:<5}",
        "#".repeat(filled),
        ".".repeat(30 - filled),
        s.end.as_secs_f64(),
        total_secs,
        if s.phase == Phase::WarmUp {
            "warm-up"
        } else {
            "measure"
        },
        s.rate,
        s.latency.p99,
        s.errors
    )
}

fn row(name: &str, s: &LatencySummary) -> String {
    format!(
        "| {name:<28} | {:>9} | {:>8.3} | {:>8.3} | {:>8.3} | {:>8.3} | {:>8.3} | {:>8.3} | {:>8.3} |",
        s.count, s.min, s.mean, s.p50, s.p90, s.p99, s.p999, s.max
    )
}

/// The percentile table (ms) of the measured phase, with counts and the warm-up line.
pub fn percentile_table(report: &Report) -> String {
    let m = &report.measured;
    let basis = report.settings.latency_basis.name();
    let mut out = String::new();
    let _ = writeln!(out, "# Percentiles (ms) of the measured phase");
    let _ = writeln!(
        out,
        "| {:<28} | {:>9} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} |",
        "metric", "count", "min", "mean", "p50", "p90", "p99", "p99.9", "max"
    );
    let _ = writeln!(out, "|{}|", ["---"; 9].join("|"));
    let _ = writeln!(
        out,
        "{}",
        row(&format!("latency ({basis})"), &m.latency_summary())
    );
    let _ = writeln!(
        out,
        "{}",
        row("service time (actual send)", &m.service_time_summary())
    );
    let _ = writeln!(
        out,
        "{}",
        row(
            "dispatch lag (queueing)",
            &LatencySummary::of(&m.dispatch_lag)
        )
    );
    let _ = writeln!(
        out,
        "\nrequests {} in {:.2} s = {:.1} req/s (planned {}); ok {}; status {:?}; errors {:?}; queued {}; dropped {}; abandoned {}; connections opened {}",
        m.requests(),
        m.elapsed().as_secs_f64(),
        m.requests_per_second(),
        report
            .settings
            .requested_rps
            .map_or("max".to_string(), |r| format!("{r:.1}")),
        m.ok(),
        m.status_codes,
        m.errors,
        m.queued,
        m.dropped,
        m.abandoned,
        m.connections_opened
    );
    if let Some(w) = &report.warmup {
        let _ = writeln!(
            out,
            "warm-up (not counted above): {} requests, latency p99 {:.3} ms",
            w.requests(),
            w.latency_ms(99.0)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(start_s: u64, end_s: u64, planned: Option<f64>) -> Snapshot {
        let latency = serde_json::to_value(LatencySummary::default()).unwrap();
        let phase = serde_json::to_value(Phase::Measure).unwrap();
        serde_json::from_value(serde_json::json!({
            "index": start_s, "phase": phase,
            "start": {"secs": start_s, "nanos": 0}, "end": {"secs": end_s, "nanos": 0},
            "responses": 2000, "errors": 0, "dropped": 0, "queued": 0,
            "planned": planned, "rate": 2000.0,
            "latency": latency, "service_time": latency,
            "in_flight": 0, "total_requests": 2000,
        }))
        .unwrap()
    }

    #[test]
    fn progress_shows_the_planned_rate_only_while_the_plan_runs() {
        let line = progress_line(&snapshot(1, 2, Some(2000.0)), 10.0);
        assert!(line.contains("(plan 2000)"), "{line}");
        assert!(!progress_line(&snapshot(10, 11, Some(0.0)), 10.0).contains("plan"));
        assert!(!progress_line(&snapshot(1, 2, None), 10.0).contains("plan"));
    }
}
