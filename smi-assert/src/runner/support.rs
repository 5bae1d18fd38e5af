//! Helpers every operation uses: the per-test state, operation results, `<NAMESPACE>` substitution and polling with backoff.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

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
