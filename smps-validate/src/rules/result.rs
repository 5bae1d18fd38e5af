//! The rules of a `PerformanceTestResult`: latencies (order, range, unit), timestamps and
//! their order, rates.

use smps_model::Timestamp;

use crate::doc::Pointer;
use crate::tree::Tree;
use crate::violation::{Rule, ViolationKind};

use super::common::*;

pub(super) const LATENCY_FIELDS: [&str; 6] = ["min", "p50", "p90", "p99", "max", "average"];

pub(crate) fn check_result<T: Tree>(r: &T::Map, sink: &mut Sink<'_>) {
    let root = Pointer::root();
    if let Some(lat) = obj(field::<T>(r, "latenciesMs")) {
        let base = || Pointer::root().child("latenciesMs");
        // At most one entry per latency field: no allocation.
        let mut slots = [("", 0.0_f64); LATENCY_FIELDS.len()];
        let mut count = 0;
        for name in LATENCY_FIELDS {
            let Some(raw) = field::<T>(lat, name) else {
                continue;
            };
            let Some(x) = number(raw) else { continue };
            if !x.is_finite() || x < 0.0 {
                sink.push(
                    Rule::LatencyValue,
                    base().child(name),
                    ViolationKind::OutOfRange {
                        expected: "a finite, non-negative number of milliseconds".into(),
                        actual: raw.to_value(),
                    },
                );
            } else {
                slots[count] = (name, x);
                count += 1;
            }
        }
        let present = &slots[..count];
        let mut ordered = present.iter().copied().filter(|(n, _)| *n != "average");
        let mut previous = ordered.next();
        for (hi_name, hi) in ordered {
            let Some((lo_name, lo)) = previous.replace((hi_name, hi)) else {
                continue;
            };
            if lo > hi {
                sink.push(
                    Rule::LatencyOrder,
                    base().child(hi_name),
                    ViolationKind::Order {
                        lower_field: lo_name.into(),
                        lower: copy::<T>(lat, lo_name),
                        upper_field: hi_name.into(),
                        upper: copy::<T>(lat, hi_name),
                    },
                );
            }
        }
        let get = |n: &str| present.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        if let (Some(avg), Some(min), Some(max)) = (get("average"), get("min"), get("max")) {
            if min <= max && (avg < min || avg > max) {
                sink.push(
                    Rule::LatencyAverage,
                    base().child("average"),
                    ViolationKind::OutOfRange {
                        expected: format!("within [min, max] = [{min}, {max}]"),
                        actual: copy::<T>(lat, "average"),
                    },
                );
            }
        }
        let max = present.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
        if !present.is_empty() && max > 0.0 && max < 1.0 {
            sink.push(
                Rule::LatencyUnit,
                base(),
                ViolationKind::LikelySeconds { max },
            );
        }
    }
    let start = timestamp::<T>(r, "startTime", sink);
    let end = timestamp::<T>(r, "endTime", sink);
    if let (Some(s), Some(e)) = (start, end) {
        if e.unix_nanos() < s.unix_nanos() {
            sink.push(
                Rule::TimeOrder,
                root.child("endTime"),
                ViolationKind::Order {
                    lower_field: "startTime".into(),
                    lower: copy::<T>(r, "startTime"),
                    upper_field: "endTime".into(),
                    upper: copy::<T>(r, "endTime"),
                },
            );
        }
    }
    if let Some(raw) = field::<T>(r, "actualQps") {
        if let Some(q) = number(raw) {
            if !q.is_finite() || q < 0.0 {
                sink.push(
                    Rule::Rate,
                    root.child("actualQps"),
                    ViolationKind::OutOfRange {
                        expected: "a finite, non-negative rate".into(),
                        actual: raw.to_value(),
                    },
                );
            }
        }
    }
}

pub(super) fn timestamp<T: Tree>(m: &T::Map, key: &str, sink: &mut Sink<'_>) -> Option<Timestamp> {
    let raw = field::<T>(m, key)?;
    let s = raw.as_str()?;
    match Timestamp::parse(s) {
        Ok(t) => Some(t),
        Err(e) => {
            sink.push(
                Rule::Timestamp,
                Pointer::root().child(key),
                ViolationKind::Malformed {
                    expected: "an RFC 3339 timestamp".into(),
                    actual: raw.to_value(),
                    reason: e.to_string(),
                },
            );
            None
        }
    }
}
