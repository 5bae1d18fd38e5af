//! Judging `TrafficMetrics` objects for the `metrics` operation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::smi::Quantity;
use crate::suite::{CountRange, MetricsEdge, MetricsOp};

/// How far a timestamp may be in the future (clock skew) or older than its window.
const SKEW: Duration = Duration::from_secs(300);

/// The five metrics of the spec.
const LATENCIES: [&str; 3] = [
    "p50_response_latency",
    "p90_response_latency",
    "p99_response_latency",
];

/// Whether `item` (of an edges list) is the edge `edge`, whose peer is in `peer_ns` unless the
/// peer is cluster-scoped.
pub(super) fn is_edge(item: &Value, edge: &MetricsEdge, peer_ns: Option<&str>) -> bool {
    let e = &item["edge"];
    let r = &e["resource"];
    e["direction"].as_str() == Some(edge.direction.as_str())
        && r["kind"]
            .as_str()
            .is_some_and(|k| k.eq_ignore_ascii_case(&edge.resource.kind))
        && r["name"].as_str() == edge.resource.name.as_deref()
        && match (r["namespace"].as_str(), peer_ns) {
            (Some(have), Some(want)) => have == want,
            _ => true,
        }
}

/// The name of the resource a TrafficMetrics object measures.
pub(super) fn resource_name(item: &Value) -> Option<&str> {
    item["resource"]["name"]
        .as_str()
        .or_else(|| item["metadata"]["name"].as_str())
}

/// Reads a metric's value in milli-units.
fn metric(obj: &Value, name: &str) -> Result<(i64, Option<String>), String> {
    let m = obj["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["name"] == name)
        .ok_or_else(|| format!("metric {name} is missing"))?;
    let text = match &m["value"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => return Err(format!("metric {name} has no quantity value ({other})")),
    };
    let q = Quantity::parse(&text).map_err(|e| format!("metric {name}: {e}"))?;
    Ok((q.milli, m["unit"].as_str().map(String::from)))
}

/// Milli-units of `unit` → microseconds.
fn latency_us(name: &str, milli: i64, unit: Option<&str>) -> Result<i64, String> {
    let per_unit_us: i64 = match unit {
        Some("ms" | "milliseconds") => 1000,
        Some("s" | "seconds") => 1_000_000,
        Some("us" | "µs" | "microseconds") => 1,
        Some(other) => return Err(format!("metric {name} has an unknown time unit `{other}`")),
        None => return Err(format!("metric {name} has no unit")),
    };
    Ok(milli.saturating_mul(per_unit_us) / 1000)
}

fn range_problem(name: &str, milli: i64, range: CountRange) -> Option<String> {
    let low = range
        .min
        .is_some_and(|m| i128::from(milli) < i128::from(m) * 1000);
    let high = range
        .max
        .is_some_and(|m| i128::from(milli) > i128::from(m) * 1000);
    (low || high).then(|| format!("{name} is {}, expected {range}", show(milli)))
}

fn show(milli: i64) -> String {
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{:.3}", milli as f64 / 1000.0)
    }
}

/// Everything wrong with `obj` as the answer to `op` for the resource `name` (if named).
pub(super) fn problems(obj: &Value, op: &MetricsOp, name: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if obj["kind"] != "TrafficMetrics" {
        out.push(format!("kind is {}, not TrafficMetrics", obj["kind"]));
    }
    if !obj["apiVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("metrics.smi-spec.io/"))
    {
        out.push(format!(
            "apiVersion {} is not metrics.smi-spec.io",
            obj["apiVersion"]
        ));
    }
    let kind = obj["resource"]["kind"].as_str().unwrap_or("");
    if !kind.eq_ignore_ascii_case(&op.resource.kind) {
        out.push(format!(
            "resource.kind is `{kind}`, expected {}",
            op.resource.kind
        ));
    }
    if let Some(want) = name
        && resource_name(obj) != Some(want)
    {
        out.push(format!(
            "resource.name is {}, expected {want}",
            obj["resource"]["name"]
        ));
    }
    let window = match obj["window"].as_str().map(parse_go_duration) {
        Some(Ok(w)) if !w.is_zero() => Some(w),
        Some(Ok(_)) => {
            out.push("window is zero".into());
            None
        }
        Some(Err(e)) => {
            out.push(format!("window: {e}"));
            None
        }
        None => {
            out.push("window is missing".into());
            None
        }
    };
    match obj["timestamp"].as_str().map(parse_rfc3339) {
        Some(Some(ts)) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            let age = now - ts;
            let allowed =
                i64::try_from((window.unwrap_or_default() + SKEW).as_secs()).unwrap_or(i64::MAX);
            if age > allowed {
                out.push(format!(
                    "timestamp {} is {age} s old, more than the window + {} s",
                    obj["timestamp"],
                    SKEW.as_secs()
                ));
            } else if -age > i64::try_from(SKEW.as_secs()).unwrap_or(i64::MAX) {
                out.push(format!(
                    "timestamp {} is {} s in the future",
                    obj["timestamp"], -age
                ));
            }
        }
        Some(None) => out.push(format!("timestamp {} is not RFC 3339", obj["timestamp"])),
        None => out.push("timestamp is missing".into()),
    }
    let mut counts = [0i64; 2];
    for (i, (n, range)) in [
        ("success_count", op.success_count),
        ("failure_count", op.failure_count),
    ]
    .into_iter()
    .enumerate()
    {
        match metric(obj, n) {
            Err(e) => out.push(e),
            Ok((v, _)) if v < 0 => out.push(format!("{n} is negative ({})", show(v))),
            Ok((v, _)) => {
                counts[i] = v;
                out.extend(range.and_then(|r| range_problem(n, v, r)));
            }
        }
    }
    let mut lat = Vec::new();
    for n in LATENCIES {
        match metric(obj, n).and_then(|(v, unit)| latency_us(n, v, unit.as_deref())) {
            Err(e) => out.push(e),
            Ok(us) if us < 0 => out.push(format!("{n} is negative")),
            Ok(us) => lat.push(us),
        }
    }
    if let [p50, p90, p99] = lat[..]
        && counts[0] + counts[1] > 0
    {
        if !(p50 <= p90 && p90 <= p99) {
            out.push(format!(
                "latencies are not ordered: p50 {p50} µs, p90 {p90} µs, p99 {p99} µs"
            ));
        }
        if let Some(max) = op.max_latency {
            let max_us = i64::try_from(max.0.as_micros()).unwrap_or(i64::MAX);
            if p99 > max_us {
                out.push(format!("p99_response_latency is {p99} µs, above {max}"));
            }
        }
    }
    out
}

/// Seconds since the Unix epoch of an RFC 3339 date-time (`2019-04-08T22:25:55Z`,
/// fractional seconds and numeric offsets allowed).
pub(super) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && matches!(o.as_bytes()[0], b'+' | b'-') && o.as_bytes()[3] == b':' => {
            let oh: i64 = o.get(1..3)?.parse().ok()?;
            let om: i64 = o.get(4..6)?.parse().ok()?;
            let v = oh * 3600 + om * 60;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    // Days from civil (proleptic Gregorian).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// A Go `time.Duration` string (`30s`, `1m30s`, `1.5s`, `250ms`, `1h0m0s`).
pub(super) fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("`{s}` is not a duration");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += value * secs;
        rest = &rest[u..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{EdgeDirection, MetricsResource};
    use serde_json::json;

    #[test]
    fn rfc3339_dates_parse_with_fractions_and_offsets() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2019-04-08T22:25:55Z"), Some(1_554_762_355));
        assert_eq!(
            parse_rfc3339("2019-04-09T00:25:55.123+02:00"),
            Some(1_554_762_355)
        );
        assert_eq!(parse_rfc3339("2000-02-29T12:00:00Z"), Some(951_825_600));
        for bad in [
            "2019-04-08",
            "2019-13-08T22:25:55Z",
            "2019-04-08T22:25:55",
            "x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        let now = SystemTime::now();
        let t = parse_rfc3339(&crate::report::rfc3339(now)).unwrap();
        let secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(t, i64::try_from(secs).unwrap());
    }

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_go_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_go_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("1h0m0s"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_go_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "30", "s", "5x", "1m30"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }

    fn object(success: &str, p50: &str, p99: &str, unit: &str) -> Value {
        json!({
            "apiVersion": "metrics.smi-spec.io/v1alpha1", "kind": "TrafficMetrics",
            "timestamp": crate::report::rfc3339(SystemTime::now()), "window": "30s",
            "resource": {"kind": "Deployment", "namespace": "t", "name": "b"},
            "edge": {"direction": "from", "resource": {"kind": "Deployment", "namespace": "t", "name": "a"}},
            "metrics": [
                {"name": "p99_response_latency", "unit": unit, "value": p99},
                {"name": "p90_response_latency", "unit": unit, "value": p99},
                {"name": "p50_response_latency", "unit": unit, "value": p50},
                {"name": "success_count", "value": success},
                {"name": "failure_count", "value": "0"},
            ],
        })
    }

    #[test]
    fn a_well_formed_object_passes_and_each_defect_is_named() {
        let mut op = MetricsOp::new(MetricsResource::new("Deployment", "b"));
        op.success_count = Some(CountRange::at_least(10));
        op.max_latency = Some(crate::suite::Dur(Duration::from_millis(50)));
        let ok = object("12", "1500m", "20", "ms");
        assert!(
            problems(&ok, &op, Some("b")).is_empty(),
            "{:?}",
            problems(&ok, &op, Some("b"))
        );
        // The spec's example writes seconds with a milli quantity: 10m seconds = 10 ms.
        assert!(problems(&object("12", "5m", "10m", "seconds"), &op, Some("b")).is_empty());
        let few = problems(&object("9", "1", "2", "ms"), &op, Some("b"));
        assert_eq!(few, ["success_count is 9, expected ≥ 10"]);
        let slow = problems(&object("10", "1", "60", "ms"), &op, Some("b"));
        assert!(slow[0].contains("above 50ms"), "{slow:?}");
        let unordered = problems(&object("10", "9", "2", "ms"), &op, Some("b"));
        assert!(unordered[0].contains("not ordered"), "{unordered:?}");
        let unitless = problems(&object("10", "1", "2", ""), &op, Some("b"));
        assert!(
            unitless.iter().any(|p| p.contains("unknown time unit")),
            "{unitless:?}"
        );
        let mut stale = ok.clone();
        stale["timestamp"] = json!("2019-04-08T22:25:55Z");
        assert!(problems(&stale, &op, Some("b"))[0].contains("old"));
        let mut other = ok.clone();
        other["resource"]["name"] = json!("c");
        other["window"] = json!("soon");
        other["metrics"].as_array_mut().unwrap().pop();
        let p = problems(&other, &op, Some("b"));
        assert_eq!(p.len(), 3, "{p:?}");
        let edge = MetricsEdge::new(EdgeDirection::From, MetricsResource::new("Deployment", "a"));
        assert!(is_edge(&ok, &edge, Some("t")));
        assert!(!is_edge(&ok, &edge, Some("u")));
        let to = MetricsEdge::new(EdgeDirection::To, MetricsResource::new("Deployment", "a"));
        assert!(!is_edge(&ok, &to, Some("t")));
    }
}
