//! Traffic metrics of the loopback proxy, served as `metrics.smi-spec.io/v1alpha1` objects.
//!
//! The sidecar records every HTTP request it routed to a destination workload, per pod-to-pod
//! edge, in one-second slots: a success and a failure counter and a log-linear latency histogram
//! (16 sub-buckets per power of two, so a percentile is at most 6.25 % above the true value).
//! Queries merge the slots of the last `window` and aggregate pods into their Deployment or
//! Namespace, as the spec asks ("all resources that contain pods are aggregates of the metrics
//! contained within the pods"). Memory is bounded by edges × window seconds × occupied buckets,
//! not by the request count.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use super::sync::lock;

/// One end of an edge: a pod of a Deployment in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Peer {
    pub(super) namespace: String,
    pub(super) deployment: String,
    pub(super) pod: String,
}

/// A resource kind the metrics API aggregates over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ResourceKind {
    Pod,
    Deployment,
    Namespace,
}

impl ResourceKind {
    pub(super) fn parse(kind: &str) -> Option<Self> {
        match kind {
            "Pod" => Some(Self::Pod),
            "Deployment" => Some(Self::Deployment),
            "Namespace" => Some(Self::Namespace),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Pod => "Pod",
            Self::Deployment => "Deployment",
            Self::Namespace => "Namespace",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Self::Pod => "pods",
            Self::Deployment => "deployments",
            Self::Namespace => "namespaces",
        }
    }

    /// The identity of `peer` at this kind's granularity: (namespace, name).
    fn key(self, peer: &Peer) -> (String, String) {
        match self {
            Self::Pod => (peer.namespace.clone(), peer.pod.clone()),
            Self::Deployment => (peer.namespace.clone(), peer.deployment.clone()),
            Self::Namespace => (String::new(), peer.namespace.clone()),
        }
    }
}

/// A measured resource: kind, namespace (empty for namespaces) and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Resource {
    pub(super) kind: ResourceKind,
    pub(super) namespace: String,
    pub(super) name: String,
}

impl Resource {
    fn matches(&self, peer: &Peer) -> bool {
        self.kind.key(peer) == (self.namespace.clone(), self.name.clone())
    }

    fn reference(&self) -> Value {
        if self.kind == ResourceKind::Namespace {
            json!({"kind": self.kind.as_str(), "name": self.name})
        } else {
            json!({"kind": self.kind.as_str(), "namespace": self.namespace, "name": self.name})
        }
    }

    fn self_link(&self) -> String {
        let base = format!("/apis/{API_VERSION}");
        if self.kind == ResourceKind::Namespace {
            format!("{base}/namespaces/{}", self.name)
        } else {
            format!(
                "{base}/namespaces/{}/{}/{}",
                self.namespace,
                self.kind.plural(),
                self.name
            )
        }
    }
}

/// The API version served.
pub(super) const API_VERSION: &str = "metrics.smi-spec.io/v1alpha1";

/// Log-linear histogram of microseconds: values below 16 are exact, above that 16 sub-buckets per
/// power of two.
#[derive(Debug, Clone, Default)]
struct Histogram {
    buckets: BTreeMap<u32, u64>,
    count: u64,
    max: u64,
}

fn bucket_of(us: u64) -> u32 {
    if us < 16 {
        return u32::try_from(us).unwrap_or(0);
    }
    let e = 63 - us.leading_zeros(); // ≥ 4
    let m = us >> (e - 4); // 16..=31
    (e - 4) * 16 + u32::try_from(m).unwrap_or(31)
}

/// The highest value that falls into bucket `b`.
fn bucket_high(b: u32) -> u64 {
    if b < 16 {
        return u64::from(b);
    }
    let shift = b / 16 - 1;
    let m = u128::from(b % 16 + 16);
    u64::try_from(((m + 1) << shift) - 1).unwrap_or(u64::MAX)
}

impl Histogram {
    fn record(&mut self, us: u64) {
        *self.buckets.entry(bucket_of(us)).or_default() += 1;
        self.count += 1;
        self.max = self.max.max(us);
    }

    fn add(&mut self, other: &Histogram) {
        for (b, n) in &other.buckets {
            *self.buckets.entry(*b).or_default() += n;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    /// The value at quantile `q` (0–1), or 0 for an empty histogram.
    fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        // Nearest-rank: the smallest value with at least q·count values at or below it.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return bucket_high(*b).min(self.max);
            }
        }
        self.max
    }
}

/// Counters of one second.
#[derive(Debug, Clone, Default)]
struct Slot {
    second: u64,
    success: u64,
    failure: u64,
    latency: Histogram,
}

#[derive(Debug, Clone, Default)]
struct Totals {
    success: u64,
    failure: u64,
    latency: Histogram,
}

impl Totals {
    fn add(&mut self, s: &Slot) {
        self.success += s.success;
        self.failure += s.failure;
        self.latency.add(&s.latency);
    }
}

/// Whether a routed request counts as a success or a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Success,
    Failure,
}

type EdgeKey = (Peer, Peer); // (source, destination)

/// The recorder. All methods are cheap and never block on I/O.
#[derive(Debug)]
pub(super) struct Recorder {
    window: Duration,
    started: Instant,
    edges: Mutex<HashMap<EdgeKey, VecDeque<Slot>>>,
}

impl Recorder {
    pub(super) fn new(window: Duration) -> Self {
        Self {
            window: window.max(Duration::from_secs(1)),
            started: Instant::now(),
            edges: Mutex::new(HashMap::new()),
        }
    }

    fn second(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_secs()
    }

    fn window_secs(&self) -> u64 {
        self.window.as_secs().max(1)
    }

    /// Records one request from `src` to `dst`.
    pub(super) fn record(&self, src: &Peer, dst: &Peer, class: Class, latency: Duration) {
        self.record_at(src, dst, class, latency, Instant::now());
    }

    fn record_at(&self, src: &Peer, dst: &Peer, class: Class, latency: Duration, at: Instant) {
        let now = self.second(at);
        let oldest = now.saturating_sub(self.window_secs() - 1);
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut edges = lock(&self.edges);
        let slots = edges.entry((src.clone(), dst.clone())).or_default();
        while slots.front().is_some_and(|s| s.second < oldest) {
            slots.pop_front();
        }
        if slots.back().is_none_or(|s| s.second != now) {
            slots.push_back(Slot {
                second: now,
                ..Slot::default()
            });
        }
        if let Some(s) = slots.back_mut() {
            match class {
                Class::Success => s.success += 1,
                Class::Failure => s.failure += 1,
            }
            s.latency.record(us);
        }
    }

    /// Forgets every edge with an end in `namespace` (the namespace was deleted).
    pub(super) fn forget_namespace(&self, namespace: &str) {
        lock(&self.edges).retain(|(s, d), _| s.namespace != namespace && d.namespace != namespace);
    }

    /// Sums of the slots within the window, per edge.
    fn snapshot(&self) -> Vec<(EdgeKey, Totals)> {
        self.snapshot_at(Instant::now())
    }

    fn snapshot_at(&self, at: Instant) -> Vec<(EdgeKey, Totals)> {
        let now = self.second(at);
        let oldest = now.saturating_sub(self.window_secs() - 1);
        lock(&self.edges)
            .iter()
            .filter_map(|(k, slots)| {
                let mut t = Totals::default();
                for s in slots.iter().filter(|s| s.second >= oldest) {
                    t.add(s);
                }
                (t.success + t.failure > 0).then(|| (k.clone(), t))
            })
            .collect()
    }

    /// The TrafficMetrics of `r`: everything it received (edge `from`, side `server`, all peers).
    pub(super) fn resource_metrics(&self, r: &Resource) -> Value {
        let mut t = Totals::default();
        for ((_, dst), tot) in self.snapshot() {
            if r.matches(&dst) {
                t.success += tot.success;
                t.failure += tot.failure;
                t.latency.add(&tot.latency);
            }
        }
        self.object(
            r,
            &r.self_link(),
            json!({"direction": "from", "side": "server", "resource": {}}),
            &t,
        )
    }

    /// The TrafficMetricsList of `r`'s edges: one item per peer (at `r`'s granularity) that
    /// exchanged traffic with it within the window, `from` peers it received from (observed at the
    /// server side) and `to` peers it sent to (observed at the client side).
    pub(super) fn edges(&self, r: &Resource) -> Value {
        let mut from: BTreeMap<(String, String), Totals> = BTreeMap::new();
        let mut to: BTreeMap<(String, String), Totals> = BTreeMap::new();
        for ((src, dst), tot) in self.snapshot() {
            if r.matches(&dst) {
                let e = from.entry(r.kind.key(&src)).or_default();
                e.success += tot.success;
                e.failure += tot.failure;
                e.latency.add(&tot.latency);
            }
            if r.matches(&src) {
                let e = to.entry(r.kind.key(&dst)).or_default();
                e.success += tot.success;
                e.failure += tot.failure;
                e.latency.add(&tot.latency);
            }
        }
        let link = format!("{}/edges", r.self_link());
        let peer = |(ns, name): &(String, String)| Resource {
            kind: r.kind,
            namespace: ns.clone(),
            name: name.clone(),
        };
        let mut items = Vec::new();
        for (direction, side, map) in [("from", "server", &from), ("to", "client", &to)] {
            for (k, t) in map {
                let edge = json!({"direction": direction, "side": side,
                                  "resource": peer(k).reference()});
                items.push(self.object(r, &link, edge, t));
            }
        }
        json!({
            "apiVersion": API_VERSION,
            "kind": "TrafficMetricsList",
            "metadata": {"selfLink": link},
            "resource": r.reference(),
            "items": items,
        })
    }

    fn object(&self, r: &Resource, self_link: &str, edge: Value, t: &Totals) -> Value {
        let now = crate::report::whole_seconds(SystemTime::now()).to_string();
        let mut metadata = json!({"name": r.name, "selfLink": self_link, "creationTimestamp": now});
        if r.kind != ResourceKind::Namespace {
            metadata["namespace"] = json!(r.namespace);
        }
        let latency = |q: f64| {
            // Microseconds are milli-milliseconds: the quantity in ms has milli precision.
            json!(quantity_milli(t.latency.quantile(q)))
        };
        json!({
            "apiVersion": API_VERSION,
            "kind": "TrafficMetrics",
            "metadata": metadata,
            "timestamp": now,
            "window": go_duration(self.window),
            "resource": r.reference(),
            "edge": edge,
            "metrics": [
                {"name": "p99_response_latency", "unit": "ms", "value": latency(0.99)},
                {"name": "p90_response_latency", "unit": "ms", "value": latency(0.90)},
                {"name": "p50_response_latency", "unit": "ms", "value": latency(0.50)},
                {"name": "success_count", "value": quantity_milli(t.success.saturating_mul(1000))},
                {"name": "failure_count", "value": quantity_milli(t.failure.saturating_mul(1000))},
            ],
        })
    }
}

/// A canonical Kubernetes DecimalSI quantity for `milli` thousandths: `1500m`, `2`, `3k`.
pub(super) fn quantity_milli(milli: u64) -> String {
    if milli % 1000 != 0 {
        return format!("{milli}m");
    }
    let mut v = milli / 1000;
    let mut suffix = "";
    for s in ["k", "M", "G", "T", "P", "E"] {
        if v == 0 || v % 1000 != 0 {
            break;
        }
        v /= 1000;
        suffix = s;
    }
    format!("{v}{suffix}")
}

/// A duration in Go's `time.Duration.String()` form (`30s`, `1m30s`, `500ms`), as
/// `metav1.Duration` serialises it.
pub(super) fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m) = (ms / 3_600_000, (ms / 60_000) % 60);
    let s = (ms % 60_000) as f64 / 1000.0;
    let s = if (ms % 1000) == 0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    };
    match (h, m) {
        (0, 0) => s,
        (0, m) => format!("{m}m{s}"),
        (h, m) => format!("{h}h{m}m{s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(ns: &str, d: &str, p: &str) -> Peer {
        Peer {
            namespace: ns.into(),
            deployment: d.into(),
            pod: p.into(),
        }
    }

    #[test]
    fn buckets_are_contiguous_and_bound_the_relative_error() {
        let mut last = 0;
        for us in 0..100_000u64 {
            let b = bucket_of(us);
            assert!(b == last || b == last + 1, "{us}: {last} → {b}");
            last = b;
            let high = bucket_high(b);
            assert!(high >= us, "{us} above its bucket's high {high}");
            assert!(
                (high - us) as f64 <= us as f64 / 16.0,
                "{us}: high {high} too far"
            );
        }
        assert_eq!(bucket_high(bucket_of(u64::MAX)), u64::MAX);
    }

    #[test]
    fn quantiles_use_nearest_rank() {
        let mut h = Histogram::default();
        for us in 1..=100 {
            h.record(us * 10);
        }
        // 1000 is exact-ish: bucket high of 990..=1023 region clamps to the recorded max.
        assert_eq!(h.quantile(1.0), 1000);
        let p50 = h.quantile(0.5);
        assert!((500..=531).contains(&p50), "{p50}");
        let p90 = h.quantile(0.9);
        assert!((900..=959).contains(&p90), "{p90}");
        assert_eq!(Histogram::default().quantile(0.99), 0);
    }

    #[test]
    fn quantities_and_durations_use_the_kubernetes_forms() {
        assert_eq!(quantity_milli(0), "0");
        assert_eq!(quantity_milli(1234), "1234m");
        assert_eq!(quantity_milli(5000), "5");
        assert_eq!(quantity_milli(28_580_000), "28580");
        assert_eq!(quantity_milli(3_000_000), "3k");
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(250)), "250ms");
    }

    #[test]
    fn requests_leave_the_window_and_old_slots_are_dropped() {
        let rec = Recorder::new(Duration::from_secs(30));
        let (a, b) = (peer("t", "a", "a-1"), peer("t", "b", "b-1"));
        let t0 = rec.started;
        rec.record_at(&a, &b, Class::Success, Duration::from_millis(1), t0);
        rec.record_at(
            &a,
            &b,
            Class::Failure,
            Duration::from_millis(1),
            t0 + Duration::from_secs(10),
        );
        let totals = |at| {
            rec.snapshot_at(at)
                .into_iter()
                .map(|(_, t)| (t.success, t.failure))
                .collect::<Vec<_>>()
        };
        assert_eq!(totals(t0 + Duration::from_secs(29)), [(1, 1)]);
        assert_eq!(
            totals(t0 + Duration::from_secs(30)),
            [(0, 1)],
            "t0 left the window"
        );
        assert_eq!(
            totals(t0 + Duration::from_secs(40)),
            [],
            "no traffic, no edge"
        );
        rec.record_at(
            &a,
            &b,
            Class::Success,
            Duration::from_millis(1),
            t0 + Duration::from_secs(45),
        );
        let slots = lock(&rec.edges)[&(a.clone(), b.clone())].len();
        assert_eq!(slots, 1, "expired slots are pruned on record");
    }

    #[test]
    fn edges_aggregate_pods_into_deployments_and_namespaces() {
        let rec = Recorder::new(Duration::from_secs(30));
        let a = peer("t", "app-a", "app-a-1");
        let b1 = peer("t", "app-b", "app-b-1");
        let b2 = peer("t", "app-b", "app-b-2");
        rec.record(&a, &b1, Class::Success, Duration::from_millis(2));
        rec.record(&a, &b2, Class::Success, Duration::from_millis(4));
        rec.record(&a, &b2, Class::Failure, Duration::from_millis(8));
        let dep = Resource {
            kind: ResourceKind::Deployment,
            namespace: "t".into(),
            name: "app-b".into(),
        };
        let m = rec.resource_metrics(&dep);
        let get = |m: &Value, n: &str| {
            m["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == n)
                .unwrap()["value"]
                .clone()
        };
        assert_eq!(get(&m, "success_count"), "2");
        assert_eq!(get(&m, "failure_count"), "1");
        assert_eq!(get(&m, "p99_response_latency"), "8", "8000 µs is 8 ms");
        assert_eq!(m["edge"]["direction"], "from");
        let edges = rec.edges(&dep);
        let items = edges["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{edges}");
        assert_eq!(items[0]["edge"]["resource"]["name"], "app-a");
        let src = Resource {
            kind: ResourceKind::Deployment,
            namespace: "t".into(),
            name: "app-a".into(),
        };
        let out = rec.edges(&src);
        assert_eq!(out["items"][0]["edge"]["direction"], "to");
        assert_eq!(out["items"][0]["edge"]["side"], "client");
        assert_eq!(get(&out["items"][0], "success_count"), "2");
        let ns = Resource {
            kind: ResourceKind::Namespace,
            namespace: String::new(),
            name: "t".into(),
        };
        assert_eq!(get(&rec.resource_metrics(&ns), "success_count"), "2");
        let pod = Resource {
            kind: ResourceKind::Pod,
            namespace: "t".into(),
            name: "app-b-1".into(),
        };
        assert_eq!(get(&rec.resource_metrics(&pod), "success_count"), "1");
        rec.forget_namespace("t");
        assert_eq!(get(&rec.resource_metrics(&dep), "success_count"), "0");
        assert!(rec.edges(&dep)["items"].as_array().unwrap().is_empty());
    }
}
