//! Helpers every operation uses: the per-test state, operation results, `<NAMESPACE>` substitution and polling with backoff.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use smps_model::redact;

use crate::backend::ObjectRef;
use crate::report::{OperationResult, Status};

pub(super) struct TestState {
    pub(super) namespace: String,
    pub(super) applied: Vec<ObjectRef>,
    pub(super) api_versions: BTreeSet<String>,
}

impl TestState {
    pub(super) fn new(ns: &str) -> Self {
        Self {
            namespace: ns.to_string(),
            applied: Vec::new(),
            api_versions: BTreeSet::new(),
        }
    }
}

pub(super) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(super) fn op_result(
    kind: &str,
    started: Instant,
    status: Status,
    message: String,
    evidence: Value,
) -> OperationResult {
    OperationResult {
        kind: kind.to_string(),
        status,
        duration_ms: ms(started.elapsed()),
        message,
        evidence,
    }
}

/// `r` with every secret hidden: URLs in its message and in the strings of its evidence
/// pass through [`smps_model::redact::text`], and evidence values under a sensitive header or
/// query name (`authorization`, `cookie`, `*token*`, ...) become `***`.
pub(super) fn redacted(mut r: OperationResult) -> OperationResult {
    if let Cow::Owned(m) = redact::text(&r.message) {
        r.message = m;
    }
    redact_value(&mut r.evidence);
    r
}

fn redact_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Cow::Owned(t) = redact::text(s) {
                *s = t;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_value),
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if redact::is_sensitive_header(k) || redact::is_sensitive_query_key(k) {
                    hide_strings(x);
                } else {
                    redact_value(x);
                }
            }
        }
        _ => {}
    }
}

/// Replaces every string in `v` (a secret's value, or a list of them) with `***`.
fn hide_strings(v: &mut Value) {
    match v {
        Value::String(s) => *s = redact::REDACTED.to_owned(),
        Value::Array(a) => a.iter_mut().for_each(hide_strings),
        Value::Object(m) => m.values_mut().for_each(hide_strings),
        _ => {}
    }
}

/// Replaces `<NAMESPACE>` and `$NAMESPACE` in every string of `v`.
#[must_use]
pub fn substitute(v: &Value, namespace: &str) -> Value {
    match v {
        Value::String(s) => Value::String(subst_str(s, namespace)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, namespace)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), substitute(x, namespace)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(super) fn subst_str(s: &str, ns: &str) -> String {
    s.replace("<NAMESPACE>", ns).replace("$NAMESPACE", ns)
}

pub(super) fn slug(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(40);
    s.trim_matches('-').to_string()
}

pub(super) struct Backoff {
    pub(super) next: Duration,
    pub(super) max: Duration,
}

impl Backoff {
    pub(super) fn new(max: Duration) -> Self {
        Self {
            next: Duration::from_millis(20).min(max),
            max,
        }
    }

    /// Waits before the next poll, but never past `deadline`. Returns false if the deadline passed.
    pub(super) async fn wait(&mut self, deadline: Instant) -> bool {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        let d = self.next.min(deadline - now);
        tokio::time::sleep(d).await;
        self.next = (self.next * 2).min(self.max);
        true
    }
}
