//! The `metrics` operation: reading `TrafficMetrics` through the cluster backend and judging them
//! (well-formed, fresh, in range).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use smps_model::{GoDuration, Timestamp};

use crate::backend::ObjectRef;
use crate::error::Result;
use crate::report::{OperationResult, Status};
use crate::smi::Quantity;
use crate::suite::{CountRange, MetricsEdge, MetricsOp};

use super::Runner;
use super::support::{Backoff, TestState, op_result, subst_str};

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
    let window = match obj["window"].as_str().map(GoDuration::parse) {
        Some(Ok(w)) if w.is_negative() => {
            out.push(format!("window {w} is negative"));
            None
        }
        Some(Ok(w)) if !w.is_zero() => w.to_std(),
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
    match obj["timestamp"].as_str().map(Timestamp::parse) {
        Some(Ok(ts)) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            let age = now - ts.unix_seconds();
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
        Some(Err(_)) => out.push(format!("timestamp {} is not RFC 3339", obj["timestamp"])),
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
        if let Some(max) = &op.max_latency {
            let max_us = max.as_nanos() / 1_000;
            if p99 > max_us {
                out.push(format!("p99_response_latency is {p99} µs, above {max}"));
            }
        }
    }
    out
}

impl Runner {
    /// Reads the candidate TrafficMetrics objects of a `metrics` operation: `Ok(None)` if the
    /// resource (or, unnamed, any resource of the kind) does not exist.
    pub(super) async fn read_metrics(
        &self,
        m: &MetricsOp,
        res_ns: Option<&str>,
        name: Option<&str>,
        edge: Option<&crate::suite::MetricsEdge>,
        peer_ns: Option<&str>,
    ) -> Result<Option<Vec<Value>>, crate::error::Error> {
        let kind = m.resource.kind.as_str();
        let get = |name: String| {
            ObjectRef::new(m.api_version.clone(), kind, res_ns.map(String::from), name)
        };
        let Some(edge) = edge else {
            return Ok(match name {
                Some(n) => self
                    .cluster
                    .get(&get(n.to_string()))
                    .await?
                    .map(|o| vec![o]),
                None => {
                    let all = self.cluster.list(&m.api_version, kind, res_ns).await?;
                    (!all.is_empty()).then_some(all)
                }
            });
        };
        let names: Vec<String> = match name {
            Some(n) => vec![n.to_string()],
            None => self
                .cluster
                .list(&m.api_version, kind, res_ns)
                .await?
                .iter()
                .filter_map(|o| resource_name(o).map(String::from))
                .collect(),
        };
        let mut found = false;
        let mut items = Vec::new();
        for n in names {
            if let Some(list) = self.cluster.get(&get(format!("{n}/edges"))).await? {
                found = true;
                items.extend(
                    list["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|i| is_edge(i, edge, peer_ns))
                        .cloned(),
                );
            }
        }
        Ok(found.then_some(items))
    }

    pub(super) async fn metrics(
        &self,
        m: &MetricsOp,
        state: &mut TestState,
        timeout: Duration,
    ) -> OperationResult {
        let started = Instant::now();
        let deadline = started + timeout;
        let ns = state.namespace.clone();
        let scoped = |kind: &str, explicit: Option<&String>| {
            (kind != "Namespace").then(|| subst_str(explicit.map_or(&ns, |n| n), &ns))
        };
        let res_ns = scoped(&m.resource.kind, m.resource.namespace.as_ref());
        let name = m.resource.name.as_deref().map(|n| subst_str(n, &ns));
        let edge = m.edge.as_ref().map(|e| {
            let mut e = e.clone();
            e.resource.name = e.resource.name.as_deref().map(|n| subst_str(n, &ns));
            e
        });
        let peer_ns = m
            .edge
            .as_ref()
            .and_then(|e| scoped(&e.resource.kind, e.resource.namespace.as_ref()));
        let mut what = match &name {
            Some(n) => format!("{} {n}", m.resource.kind),
            None => format!("any {}", m.resource.kind),
        };
        if let Some(e) = &edge {
            what = format!(
                "{what}, edge {} {} {}",
                e.direction.as_str(),
                e.resource.kind,
                e.resource.name.as_deref().unwrap_or("")
            );
        }
        let mut backoff = Backoff::new(self.poll);
        let mut polls = 0u32;
        loop {
            polls += 1;
            let read = self
                .read_metrics(
                    m,
                    res_ns.as_deref(),
                    name.as_deref(),
                    edge.as_ref(),
                    peer_ns.as_deref(),
                )
                .await;
            let cands = match read {
                Ok(c) => c,
                Err(e) => {
                    return op_result(
                        "metrics",
                        started,
                        Status::Error,
                        e.to_string(),
                        Value::Null,
                    );
                }
            };
            if cands.is_some() {
                state.api_versions.insert(m.api_version.clone());
            }
            let (passed, message, evidence) = match &cands {
                None => (false, format!("{what}: not found"), json!({"polls": polls})),
                Some(items) if m.absent => {
                    if items.is_empty() {
                        (true, format!("{what}: not listed"), json!({"polls": polls}))
                    } else {
                        (
                            false,
                            format!("{what}: still listed"),
                            json!({"polls": polls, "object": items[0]}),
                        )
                    }
                }
                Some(items) if items.is_empty() => (
                    false,
                    format!("{what}: no such edge is listed"),
                    json!({"polls": polls}),
                ),
                Some(items) => {
                    let judged: Vec<(Vec<String>, &Value)> = items
                        .iter()
                        .map(|o| (problems(o, m, name.as_deref()), o))
                        .collect();
                    let best = judged
                        .iter()
                        .min_by_key(|(p, _)| p.len())
                        .map(|(p, o)| (p.clone(), *o));
                    match best {
                        Some((p, o)) if p.is_empty() => {
                            let metric = |n: &str| {
                                let x = o["metrics"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .find(|x| x["name"] == n);
                                let part = |k: &str| {
                                    x.and_then(|x| x[k].as_str()).unwrap_or("").to_string()
                                };
                                format!("{} {}", part("value"), part("unit"))
                                    .trim_end()
                                    .to_string()
                            };
                            (
                                true,
                                format!(
                                    "{what}: success_count {}, failure_count {}, p99 {}",
                                    metric("success_count"),
                                    metric("failure_count"),
                                    metric("p99_response_latency"),
                                ),
                                json!({"polls": polls, "object": o}),
                            )
                        }
                        Some((p, o)) => (
                            false,
                            format!("{what}: {}", p.join("; ")),
                            json!({"polls": polls, "problems": p, "object": o}),
                        ),
                        None => (false, format!("{what}: nothing to judge"), Value::Null),
                    }
                }
            };
            if passed {
                return op_result("metrics", started, Status::Passed, message, evidence);
            }
            if !backoff.wait(deadline).await {
                return op_result(
                    "metrics",
                    started,
                    Status::Failed,
                    format!("{message} (after {timeout:?})"),
                    evidence,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{EdgeDirection, MetricsResource};
    use serde_json::json;

    #[test]
    fn timestamps_and_windows_are_read_with_the_model_types() {
        // Fractions and offsets are RFC 3339; `1h30m` is a Go duration (issue 13: one owner).
        let op = MetricsOp::new(MetricsResource::new("Deployment", "b"));
        let mut o = object("1", "1", "2", "ms");
        let now = Timestamp::from_system_time(SystemTime::now()).unwrap();
        let local = now.to_string().replace('Z', "+00:00");
        o["timestamp"] = json!(local);
        o["window"] = json!("1h30m");
        assert!(
            problems(&o, &op, Some("b")).is_empty(),
            "{:?}",
            problems(&o, &op, Some("b"))
        );
        o["window"] = json!("0s");
        assert_eq!(problems(&o, &op, Some("b")), ["window is zero"]);
        o["window"] = json!("-30s");
        assert_eq!(problems(&o, &op, Some("b")), ["window -30s is negative"]);
        o["window"] = json!("30s");
        o["timestamp"] = json!("2019-04-08");
        assert!(problems(&o, &op, Some("b"))[0].contains("not RFC 3339"));
    }

    fn object(success: &str, p50: &str, p99: &str, unit: &str) -> Value {
        json!({
            "apiVersion": "metrics.smi-spec.io/v1alpha1", "kind": "TrafficMetrics",
            "timestamp": Timestamp::from_system_time(SystemTime::now()).unwrap().to_string(), "window": "30s",
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
        op.max_latency = Some(GoDuration::parse("50ms").unwrap());
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
