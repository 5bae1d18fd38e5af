//! The traffic operations: `traffic` (convergence to N consecutive expected outcomes) and `distribution` (the χ² test of backend shares).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use smps_model::GoDuration;

use crate::backend::{Outcome, RequestRecord, TrafficRequest};
use crate::error::chain;
use crate::report::{OperationResult, Status};
use crate::stats::chi_square;
use crate::suite::{DenialClass, DistributionOp, Expect, TrafficOp};

use super::Runner;
use super::support::{Backoff, TestState, op_result, subst_str};

pub(super) fn outcome_key(r: &RequestRecord) -> String {
    match (&r.outcome, &r.served_by) {
        (Outcome::Http { status }, Some(b)) => format!("HTTP {status} from {b}"),
        (Outcome::Datagram, Some(b)) => format!("UDP answer from {b}"),
        (o, _) => o.to_string(),
    }
}

pub(super) fn is_udp(url: &str) -> bool {
    url.starts_with("udp://")
}

/// `GET http://… from app-a` or `UDP udp://… from app-a`.
pub(super) fn describe(req: &TrafficRequest) -> String {
    let method = if is_udp(&req.url) { "UDP" } else { &req.method };
    format!("{method} {} from {}", req.url, req.source)
}

/// Counts a batch's records: requests served, by backend, and the others, by outcome.
fn tally(records: Vec<RequestRecord>) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut served: BTreeMap<String, u64> = BTreeMap::new();
    let mut other: BTreeMap<String, u64> = BTreeMap::new();
    for rec in records {
        match (&rec.outcome, rec.served_by) {
            (o, Some(b)) if o.is_served() => *served.entry(b).or_default() += 1,
            (o, _) => *other.entry(o.to_string()).or_default() += 1,
        }
    }
    (served, other)
}

impl Runner {
    /// Replaces `${podIP:DEPLOYMENT}` (the `status.podIP` of the first Pod the Deployment's
    /// selector matches) and `${clusterIP:SERVICE}` (the Service's `spec.clusterIP`) in `text`.
    pub(super) async fn resolve_addresses(&self, ns: &str, text: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let inner = &rest[start + 2..start + len];
            let Some((what, name)) = inner.split_once(':') else {
                out.push_str(&rest[..start + len + 1]);
                rest = &rest[start + len + 1..];
                continue;
            };
            let get = |kind: &str, api: &str| {
                crate::backend::ObjectRef::new(api, kind, Some(ns.to_string()), name)
            };
            let value = match what {
                "clusterIP" => self
                    .cluster
                    .get(&get("Service", "v1"))
                    .await
                    .map_err(|e| chain(&e))?
                    .and_then(|s| s["spec"]["clusterIP"].as_str().map(String::from))
                    .ok_or_else(|| format!("Service {ns}/{name} has no spec.clusterIP"))?,
                "podIP" => {
                    let d = self
                        .cluster
                        .get(&get("Deployment", "apps/v1"))
                        .await
                        .map_err(|e| chain(&e))?
                        .ok_or_else(|| format!("no Deployment {ns}/{name}"))?;
                    let selector = d["spec"]["selector"]["matchLabels"].clone();
                    let pods = self
                        .cluster
                        .list("v1", "Pod", Some(ns))
                        .await
                        .map_err(|e| chain(&e))?;
                    pods.iter()
                        .filter(|p| {
                            selector.as_object().is_some_and(|m| {
                                m.iter().all(|(k, v)| p["metadata"]["labels"][k] == *v)
                            })
                        })
                        .find_map(|p| p["status"]["podIP"].as_str().map(String::from))
                        .ok_or_else(|| format!("no Pod of Deployment {ns}/{name} has a podIP"))?
                }
                _ => {
                    out.push_str(&rest[..start + len + 1]);
                    rest = &rest[start + len + 1..];
                    continue;
                }
            };
            out.push_str(&rest[..start]);
            out.push_str(&value);
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    pub(super) fn request(
        &self,
        ns: &str,
        from: &str,
        to: &str,
        method: &str,
        headers: &BTreeMap<String, String>,
        rt: Option<&GoDuration>,
    ) -> TrafficRequest {
        let from = subst_str(from, ns);
        // `namespace/workload` sends from a workload in another namespace.
        let (src_ns, source) = match from.split_once('/') {
            Some((n, w)) => (n.to_string(), w.to_string()),
            None => (ns.to_string(), from),
        };
        let mut req = TrafficRequest::get(src_ns, source, subst_str(to, ns));
        req.method = method.to_string();
        req.headers = headers
            .iter()
            .map(|(k, v)| (k.clone(), subst_str(v, ns)))
            .collect();
        req.timeout = rt
            .and_then(GoDuration::to_std)
            .unwrap_or(Duration::from_secs(2));
        req
    }

    pub(super) async fn traffic(
        &self,
        t: &TrafficOp,
        state: &TestState,
        timeout: Duration,
    ) -> OperationResult {
        let started = Instant::now();
        let deadline = started + timeout;
        let to = match self.resolve_addresses(&state.namespace, &t.to).await {
            Ok(to) => to,
            Err(e) => {
                return op_result(
                    "traffic",
                    started,
                    Status::Error,
                    format!("cannot resolve an address in `{}`: {e}", t.to),
                    Value::Null,
                );
            }
        };
        let req = self.request(
            &state.namespace,
            &t.from,
            &to,
            &t.method,
            &t.headers,
            t.request_timeout.as_ref(),
        );
        let denied: Vec<DenialClass> = t.denied_when.clone().unwrap_or_else(|| {
            if is_udp(&req.url) {
                DenialClass::DEFAULT_UDP.to_vec()
            } else {
                DenialClass::DEFAULT.to_vec()
            }
        });
        let want = match t.expect {
            Expect::Allowed => "allowed".to_string(),
            Expect::Denied => format!("denied ({denied:?})"),
        };
        let what = describe(&req);
        let mut streak = 0u32;
        let mut sent = 0u32;
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        let mut last: Vec<RequestRecord> = Vec::new();
        let mut mismatch: Option<String> = None;
        let mut backoff = Backoff::new(self.poll);
        loop {
            let rec = match self.traffic.send(&req).await {
                Ok(r) => r,
                Err(e) => {
                    return op_result("traffic", started, Status::Error, chain(&e), Value::Null);
                }
            };
            sent += 1;
            *counts.entry(outcome_key(&rec)).or_default() += 1;
            let ok = match t.expect {
                Expect::Allowed => {
                    let shape = match &t.response {
                        Some(exp) => super::expect::check(exp, &rec),
                        None if rec.outcome.is_served() => Ok(()),
                        None => Err(format!("{} is not allowed", rec.outcome)),
                    };
                    let by = match &t.served_by {
                        Some(b) if rec.served_by.as_ref() != Some(b) => Err(format!(
                            "served by {}, expected {b}",
                            rec.served_by.as_deref().unwrap_or("nobody")
                        )),
                        _ => Ok(()),
                    };
                    match shape.and(by) {
                        Ok(()) => true,
                        Err(why) => {
                            mismatch = Some(why);
                            false
                        }
                    }
                }
                Expect::Denied => denied.iter().any(|c| c.covers(&rec.outcome)),
            };
            last.push(rec);
            if last.len() > 5 {
                last.remove(0);
            }
            let evidence = |counts: &BTreeMap<String, u32>, last: &Vec<RequestRecord>| {
                json!({"expected": want, "consecutive": t.consecutive, "sent": sent,
                       "outcomes": counts, "last": last, "lastMismatch": mismatch})
            };
            if ok {
                streak += 1;
                if streak >= t.consecutive {
                    return op_result(
                        "traffic",
                        started,
                        Status::Passed,
                        format!("{what}: {want}, {streak} consecutive after {sent} request(s)"),
                        evidence(&counts, &last),
                    );
                }
                if Instant::now() >= deadline {
                    return op_result(
                        "traffic",
                        started,
                        Status::Failed,
                        format!(
                            "{what}: expected {want} {} times in a row within {timeout:?}; reached {streak}",
                            t.consecutive
                        ),
                        evidence(&counts, &last),
                    );
                }
            } else {
                streak = 0;
                if !backoff.wait(deadline).await {
                    let summary: Vec<String> =
                        counts.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
                    return op_result(
                        "traffic",
                        started,
                        Status::Failed,
                        format!(
                            "{what}: expected {want} {} times in a row within {timeout:?}; got {}{}",
                            t.consecutive,
                            summary.join(", "),
                            mismatch
                                .as_ref()
                                .map(|m| format!(" (last: {m})"))
                                .unwrap_or_default()
                        ),
                        evidence(&counts, &last),
                    );
                }
            }
        }
    }

    pub(super) async fn distribution(
        &self,
        d: &DistributionOp,
        state: &TestState,
        timeout: Duration,
    ) -> OperationResult {
        let started = Instant::now();
        let req = self.request(
            &state.namespace,
            &d.from,
            &d.to,
            &d.method,
            &d.headers,
            d.request_timeout.as_ref(),
        );
        let total_w: u64 = d.weights.values().sum();
        let positive: Vec<(&String, f64)> = d
            .weights
            .iter()
            .filter(|(_, w)| **w > 0)
            .map(|(b, w)| (b, *w as f64 / total_w as f64))
            .collect();
        let what = describe(&req);
        let mut attempts_ev = Vec::new();
        for attempt in 1..=d.attempts {
            // One batch per attempt (a backend may send it as one command), bounded by the
            // attempt's timeout; what it answered before a timeout is kept as evidence.
            let mut records = Vec::with_capacity(d.requests as usize);
            let batch = tokio::time::timeout(
                timeout,
                self.traffic.send_batch(&req, d.requests, &mut records),
            )
            .await;
            match batch {
                Err(_) => {
                    let (served, other) = tally(records);
                    return op_result(
                        "distribution",
                        started,
                        Status::Failed,
                        format!(
                            "{what}: attempt {attempt} did not finish {} requests within {timeout:?} ({} answered)",
                            d.requests,
                            served.values().chain(other.values()).sum::<u64>()
                        ),
                        json!({"attempts": attempts_ev, "unfinished": {"attempt": attempt,
                               "requests": d.requests, "served": served, "notServed": other}}),
                    );
                }
                Ok(Err(e)) => {
                    return op_result(
                        "distribution",
                        started,
                        Status::Error,
                        chain(&e),
                        Value::Null,
                    );
                }
                Ok(Ok(())) if records.len() == d.requests as usize => {}
                Ok(Ok(())) => {
                    return op_result(
                        "distribution",
                        started,
                        Status::Error,
                        format!(
                            "{what}: the traffic backend answered {} records for a batch of {}",
                            records.len(),
                            d.requests
                        ),
                        Value::Null,
                    );
                }
            }
            let (served, other) = tally(records);
            let expected: BTreeMap<&String, f64> = positive
                .iter()
                .map(|(b, s)| (*b, s * f64::from(d.requests)))
                .collect();
            let mut ev = json!({"attempt": attempt, "requests": d.requests, "served": served,
                                "expected": expected, "notServed": other});
            if !other.is_empty() {
                let n: u64 = other.values().sum();
                return op_result(
                    "distribution",
                    started,
                    Status::Failed,
                    format!(
                        "{what}: {n} of {} requests were not served by a backend",
                        d.requests
                    ),
                    ev,
                );
            }
            let unexpected: Vec<String> = served
                .iter()
                .filter(|(b, _)| d.weights.get(*b).is_none_or(|w| *w == 0))
                .map(|(b, n)| {
                    if d.weights.contains_key(b) {
                        format!("{b} has weight 0 but served {n}")
                    } else {
                        format!("{b} is not a backend but served {n}")
                    }
                })
                .collect();
            if !unexpected.is_empty() {
                return op_result(
                    "distribution",
                    started,
                    Status::Failed,
                    format!("{what}: {}", unexpected.join("; ")),
                    ev,
                );
            }
            if positive.len() == 1 {
                return op_result(
                    "distribution",
                    started,
                    Status::Passed,
                    format!(
                        "{what}: all {} requests served by {}",
                        d.requests, positive[0].0
                    ),
                    ev,
                );
            }
            let observed: Vec<u64> = positive
                .iter()
                .map(|(b, _)| served.get(*b).copied().unwrap_or(0))
                .collect();
            let shares: Vec<f64> = positive.iter().map(|(_, s)| *s).collect();
            let Some(chi) = chi_square(&observed, &shares) else {
                return op_result(
                    "distribution",
                    started,
                    Status::Error,
                    "χ² test not applicable".into(),
                    ev,
                );
            };
            ev["chiSquare"] = json!(chi);
            ev["alpha"] = json!(d.alpha);
            ev["falseFailRate"] =
                json!(d.alpha.powi(i32::try_from(d.attempts).unwrap_or(i32::MAX)));
            let counts: Vec<String> = positive
                .iter()
                .zip(&observed)
                .map(|((b, s), o)| format!("{b} {o} (expected {:.0})", s * f64::from(d.requests)))
                .collect();
            if chi.p_value >= d.alpha {
                return op_result(
                    "distribution",
                    started,
                    Status::Passed,
                    format!(
                        "{what}: {} — χ²={:.2}, p={:.3} ≥ α={}",
                        counts.join(", "),
                        chi.statistic,
                        chi.p_value,
                        d.alpha
                    ),
                    ev,
                );
            }
            let msg = format!(
                "{what}: {} — χ²={:.2}, p={:.2e} < α={}",
                counts.join(", "),
                chi.statistic,
                chi.p_value,
                d.alpha
            );
            attempts_ev.push(ev);
            if attempt == d.attempts {
                return op_result(
                    "distribution",
                    started,
                    Status::Failed,
                    format!("{msg} in all {} attempt(s)", d.attempts),
                    json!({"attempts": attempts_ev}),
                );
            }
        }
        op_result(
            "distribution",
            started,
            Status::Error,
            "no attempt was made".into(),
            Value::Null,
        )
    }
}
