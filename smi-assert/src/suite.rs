//! The suite model: Suite → Test → Step → Operation, as YAML or built in Rust.
//!
//! ```yaml
//! name: my-suite
//! fixtures:
//!   app: [ ...manifests... ]
//! tests:
//! - name: access-default-deny
//!   features: [access.default-deny]
//!   steps:
//!   - name: install
//!     precondition: true
//!     operations:
//!     - apply: {fixture: app}
//!     - assert: {object: {apiVersion: apps/v1, kind: Deployment, metadata: {name: app-b}, status: {readyReplicas: 1}}}
//!   - name: denied
//!     operations:
//!     - traffic: {from: app-a, to: "http://app-b:9091/echo", expect: denied}
//! ```
//!
//! Unknown keys are errors (kuttl #278). Durations are Go duration strings ([`GoDuration`]) like `500ms`, `5s`, `1m` or `1h30m`;
//! a negative one is an invalid suite.
//! `<NAMESPACE>` and `$NAMESPACE` in manifests, URLs and sources are replaced by the test's
//! namespace. Timeouts inherit operation → step → test → suite → built-in defaults
//! ([`Timeouts::built_in`]).
//!
//! With the `schema` feature, `Suite::json_schema` gives a JSON Schema for editors (checked in
//! as `smi-assert/schema/suite.schema.json`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smps_model::GoDuration;

use crate::backend::ObjectRef;
use crate::error::YamlError;
use crate::input::ReadError;
pub use crate::input::{DEFAULT_MAX_FILE_BYTES, InputSize};
use crate::matcher::{ListMode, ListModes};
use crate::{Error, Result};

/// Timeouts per operation type; unset fields inherit from the enclosing level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Timeouts {
    /// For `apply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<GoDuration>,
    /// For `delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<GoDuration>,
    /// For `assert`, `absent` and `metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assert: Option<GoDuration>,
    /// For `traffic` convergence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<GoDuration>,
    /// For one `distribution` attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<GoDuration>,
    /// For `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<GoDuration>,
}

impl Timeouts {
    /// Built-in defaults: apply 5 s, delete 15 s, assert 30 s, traffic 30 s, distribution 60 s,
    /// custom 30 s.
    #[must_use]
    pub fn built_in() -> Timeouts {
        let secs = |s: i64| Some(GoDuration::from_nanos(s * 1_000_000_000));
        Timeouts {
            apply: secs(5),
            delete: secs(15),
            assert: secs(30),
            traffic: secs(30),
            distribution: secs(60),
            custom: secs(30),
        }
    }

    /// `self` with unset fields taken from `parent`.
    #[must_use]
    pub fn inherit(&self, parent: &Timeouts) -> Timeouts {
        let pick = |own: &Option<GoDuration>, up: &Option<GoDuration>| own.clone().or(up.clone());
        Timeouts {
            apply: pick(&self.apply, &parent.apply),
            delete: pick(&self.delete, &parent.delete),
            assert: pick(&self.assert, &parent.assert),
            traffic: pick(&self.traffic, &parent.traffic),
            distribution: pick(&self.distribution, &parent.distribution),
            custom: pick(&self.custom, &parent.custom),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&'static str, &GoDuration)> {
        [
            ("apply", &self.apply),
            ("delete", &self.delete),
            ("assert", &self.assert),
            ("traffic", &self.traffic),
            ("distribution", &self.distribution),
            ("custom", &self.custom),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|d| (k, d)))
    }
}

/// A whole suite.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Suite {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Suite-level timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Named manifest lists usable with `apply: {fixture: name}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fixtures: BTreeMap<String, Vec<Value>>,
    /// Tests, run in order, each in its own namespace.
    pub tests: Vec<Test>,
}

/// One test: runs in its own namespace; cleanup always runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Test {
    /// Name (unique in the suite).
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// SMI features exercised (ids from [`crate::features::FEATURES`]), all from one profile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Test-level timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Steps, run in order; the first failing step ends the test.
    pub steps: Vec<Step>,
    /// Operations that always run after the steps (before namespace cleanup).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finally: Vec<Operation>,
}

/// One step: a list of operations, run in order; the first failure ends the step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Step {
    /// Name.
    pub name: String,
    /// A precondition (setup) step: its failure makes the test an *error*, not a failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub precondition: bool,
    /// Step-level timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Operations.
    pub operations: Vec<Operation>,
}

/// One operation. In YAML, a single-key map: `- traffic: {...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "OpRepr", into = "OpRepr")]
#[non_exhaustive]
pub enum Operation {
    /// Create or merge-patch objects (validated first).
    Apply(ApplyOp),
    /// Delete objects and wait until they are gone.
    Delete(DeleteOp),
    /// Poll until an object matches (subset semantics + list modes).
    Assert(AssertOp),
    /// Poll until no object matches.
    Absent(AbsentOp),
    /// Send requests until N consecutive outcomes are as expected.
    Traffic(TrafficOp),
    /// Check the distribution of requests over backends.
    Distribution(DistributionOp),
    /// Poll the TrafficMetrics API until a resource's (or edge's) metrics are as expected.
    Metrics(MetricsOp),
    /// Run a registered [`crate::runner::CustomCheck`].
    Custom(CustomOp),
    /// Sleep explicitly (documented cases only; never needed for synchronisation).
    Sleep(SleepOp),
}

/// The wire form of [`Operation`]: exactly one key set (serde_yaml 0.9 wants YAML tags for
/// externally tagged enums, which editors and kuttl users do not write).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OpRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    apply: Option<ApplyOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delete: Option<DeleteOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assert: Option<AssertOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    absent: Option<AbsentOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    traffic: Option<TrafficOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    distribution: Option<DistributionOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metrics: Option<MetricsOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    custom: Option<CustomOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sleep: Option<SleepOp>,
}

impl TryFrom<OpRepr> for Operation {
    type Error = String;
    fn try_from(r: OpRepr) -> std::result::Result<Self, String> {
        let mut ops: Vec<Operation> = Vec::new();
        ops.extend(r.apply.map(Operation::Apply));
        ops.extend(r.delete.map(Operation::Delete));
        ops.extend(r.assert.map(Operation::Assert));
        ops.extend(r.absent.map(Operation::Absent));
        ops.extend(r.traffic.map(Operation::Traffic));
        ops.extend(r.distribution.map(Operation::Distribution));
        ops.extend(r.metrics.map(Operation::Metrics));
        ops.extend(r.custom.map(Operation::Custom));
        ops.extend(r.sleep.map(Operation::Sleep));
        match ops.len() {
            1 => Ok(ops.remove(0)),
            0 => Err(
                "an operation needs one of apply, delete, assert, absent, traffic, \
                      distribution, metrics, custom, sleep"
                    .into(),
            ),
            _ => Err(format!(
                "an operation has exactly one kind, found {}",
                ops.iter()
                    .map(Operation::kind)
                    .collect::<Vec<_>>()
                    .join(" and ")
            )),
        }
    }
}

impl From<Operation> for OpRepr {
    fn from(op: Operation) -> Self {
        let mut r = OpRepr::default();
        match op {
            Operation::Apply(o) => r.apply = Some(o),
            Operation::Delete(o) => r.delete = Some(o),
            Operation::Assert(o) => r.assert = Some(o),
            Operation::Absent(o) => r.absent = Some(o),
            Operation::Traffic(o) => r.traffic = Some(o),
            Operation::Distribution(o) => r.distribution = Some(o),
            Operation::Metrics(o) => r.metrics = Some(o),
            Operation::Custom(o) => r.custom = Some(o),
            Operation::Sleep(o) => r.sleep = Some(o),
        }
        r
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Operation {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Operation".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut s = OpRepr::json_schema(g);
        s.insert("minProperties".into(), 1.into());
        s.insert("maxProperties".into(), 1.into());
        s
    }
}

impl Operation {
    /// The operation's kind, e.g. `traffic`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Apply(_) => "apply",
            Self::Delete(_) => "delete",
            Self::Assert(_) => "assert",
            Self::Absent(_) => "absent",
            Self::Traffic(_) => "traffic",
            Self::Distribution(_) => "distribution",
            Self::Metrics(_) => "metrics",
            Self::Custom(_) => "custom",
            Self::Sleep(_) => "sleep",
        }
    }

    /// The durations the operation sets, by YAML key.
    fn durations(&self) -> Vec<(&'static str, &GoDuration)> {
        let set: Vec<(&'static str, &Option<GoDuration>)> = match self {
            Self::Apply(a) => vec![("timeout", &a.timeout)],
            Self::Delete(d) => vec![("timeout", &d.timeout)],
            Self::Assert(a) => vec![("timeout", &a.timeout)],
            Self::Absent(a) => vec![("timeout", &a.timeout)],
            Self::Traffic(t) => vec![
                ("requestTimeout", &t.request_timeout),
                ("timeout", &t.timeout),
            ],
            Self::Distribution(d) => {
                vec![
                    ("requestTimeout", &d.request_timeout),
                    ("timeout", &d.timeout),
                ]
            }
            Self::Metrics(m) => vec![("maxLatency", &m.max_latency), ("timeout", &m.timeout)],
            Self::Custom(c) => vec![("timeout", &c.timeout)],
            Self::Sleep(s) => return vec![("duration", &s.duration)],
        };
        set.into_iter()
            .filter_map(|(k, d)| d.as_ref().map(|d| (k, d)))
            .collect()
    }
}

/// `apply`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ApplyOp {
    /// Manifests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<Value>,
    /// Name of a suite fixture to apply (before `objects`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixture: Option<String>,
    /// Validate SMI manifests against the bundled CRDs first (default true).
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub validate: bool,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

fn yes() -> bool {
    true
}

/// `delete`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct DeleteOp {
    /// Objects to delete (missing ones are fine).
    pub objects: Vec<ObjectRef>,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

/// `assert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AssertOp {
    /// Expected (partial) object. With `metadata.name` it is fetched; without, objects of the
    /// kind are listed (filtered by `metadata.labels`) and any match passes.
    pub object: Value,
    /// Default list mode (default `ordered`, as kuttl).
    #[serde(default)]
    pub lists: ListMode,
    /// Per-path list modes, e.g. `{"/spec/backends": "keyed:service"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub list_modes: BTreeMap<String, ListMode>,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

impl AssertOp {
    /// An assert with kuttl's defaults.
    #[must_use]
    pub fn new(object: Value) -> Self {
        Self {
            object,
            lists: ListMode::Ordered,
            list_modes: BTreeMap::new(),
            timeout: None,
        }
    }

    /// The list modes to use.
    #[must_use]
    pub fn modes(&self) -> ListModes {
        ListModes {
            default: self.lists.clone(),
            overrides: self.list_modes.clone(),
        }
    }
}

/// `absent`: passes once no object matches `object` (eventually absent, as kuttl errors files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AbsentOp {
    /// The (partial) object that must not exist.
    pub object: Value,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

/// Expected result of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Expect {
    /// A 2xx/3xx response (for `udp://`, an answer echoing the datagram).
    Allowed,
    /// An outcome in `deniedWhen`.
    Denied,
}

/// A class of outcome that counts as a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum DenialClass {
    /// HTTP 403.
    Http403,
    /// Any HTTP 4xx.
    Http4xx,
    /// Any HTTP 5xx.
    Http5xx,
    /// Connection reset.
    Reset,
    /// Connection closed without a response.
    Eof,
    /// No answer in time.
    Timeout,
    /// Connection refused.
    Refused,
}

impl DenialClass {
    /// Default denial classes: HTTP 403, reset, EOF (Istio's protocol-aware "forbidden").
    pub const DEFAULT: [DenialClass; 3] =
        [DenialClass::Http403, DenialClass::Reset, DenialClass::Eof];

    /// Default denial classes for `udp://` targets: a timeout, since a mesh can only drop a
    /// datagram (pair a UDP denial check with an allowed one, so a broken path cannot pass it).
    pub const DEFAULT_UDP: [DenialClass; 1] = [DenialClass::Timeout];

    /// Whether `outcome` is in this class.
    #[must_use]
    pub fn covers(self, outcome: &crate::backend::Outcome) -> bool {
        use crate::backend::Outcome as O;
        match (self, outcome) {
            (Self::Http403, O::Http { status }) => *status == 403,
            (Self::Http4xx, O::Http { status }) => (400..500).contains(status),
            (Self::Http5xx, O::Http { status }) => (500..600).contains(status),
            (Self::Reset, O::Reset) | (Self::Eof, O::Eof) | (Self::Timeout, O::Timeout) => true,
            (Self::Refused, O::Refused) => true,
            _ => false,
        }
    }
}

/// `traffic`: send requests from a source workload until `consecutive` outcomes in a row are as
/// expected, within the timeout (convergence; never a fixed sleep).
///
/// A `udp://svc:port` target sends one UDP datagram per request instead of an HTTP request
/// (`method` and `headers` are unused): *allowed* means an answer echoing it arrived, *denied*
/// defaults to no answer within `requestTimeout` ([`DenialClass::DEFAULT_UDP`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct TrafficOp {
    /// Source workload (Deployment or Service name).
    pub from: String,
    /// Target URL, e.g. `http://app-b:9091/echo` or `udp://app-b:9092`.
    pub to: String,
    /// Method (default GET).
    #[serde(default = "get")]
    pub method: String,
    /// Headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Expected result.
    pub expect: Expect,
    /// Outcomes that count as denied (default: http403, reset, eof; timeout for `udp://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_when: Option<Vec<DenialClass>>,
    /// Consecutive expected outcomes required (N, default 3); `count` is accepted as an alias.
    #[serde(default = "three", alias = "count")]
    pub consecutive: u32,
    /// If set, allowed responses must come from this backend (its reported name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_by: Option<String>,
    /// Per-request timeout (default 2s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<GoDuration>,
    /// Convergence timeout T (inherits `timeouts.traffic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

fn get() -> String {
    "GET".into()
}

fn three() -> u32 {
    3
}

impl TrafficOp {
    /// A GET expecting `expect`, N = 3.
    #[must_use]
    pub fn new(from: impl Into<String>, to: impl Into<String>, expect: Expect) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
            method: get(),
            headers: BTreeMap::new(),
            expect,
            denied_when: None,
            consecutive: 3,
            served_by: None,
            request_timeout: None,
            timeout: None,
        }
    }
}

/// `distribution`: send `requests` requests and judge the backend shares with a χ² test
/// (see [`crate::stats`] for the false-fail rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct DistributionOp {
    /// Source workload.
    pub from: String,
    /// Target URL (the root/apex service).
    pub to: String,
    /// Method (default GET).
    #[serde(default = "get")]
    pub method: String,
    /// Headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Backend (as it reports itself, `x-served-by`) → relative weight. Weight 0 means none.
    pub weights: BTreeMap<String, u64>,
    /// Requests per attempt (default 400).
    #[serde(default = "four_hundred")]
    pub requests: u32,
    /// Significance level α (default 0.001).
    #[serde(default = "alpha")]
    pub alpha: f64,
    /// Independent attempts before failing (default 2): false-fail rate ≈ α^attempts.
    #[serde(default = "two")]
    pub attempts: u32,
    /// Per-request timeout (default 2s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<GoDuration>,
    /// Timeout of one attempt (inherits `timeouts.distribution`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

fn four_hundred() -> u32 {
    400
}

fn alpha() -> f64 {
    0.001
}

fn two() -> u32 {
    2
}

impl DistributionOp {
    /// A distribution check with the defaults (400 requests, α = 0.001, 2 attempts).
    #[must_use]
    pub fn new(
        from: impl Into<String>,
        to: impl Into<String>,
        weights: impl IntoIterator<Item = (String, u64)>,
    ) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
            method: get(),
            headers: BTreeMap::new(),
            weights: weights.into_iter().collect(),
            requests: 400,
            alpha: 0.001,
            attempts: 2,
            request_timeout: None,
            timeout: None,
        }
    }
}

/// `metrics`: poll the TrafficMetrics API (`metrics.smi-spec.io`, read through the cluster
/// backend) until the metrics of a resource, or of one of its edges, are well-formed and in range.
///
/// Every object read must be a well-formed `TrafficMetrics` for the requested resource (and
/// edge): an RFC 3339 `timestamp` within `window` + 5 min of now, a positive `window`, the five
/// metrics of the spec with quantity values, latencies with a time unit (`ms` as the SDK writes,
/// or `seconds` as the spec's example does) and p50 ≤ p90 ≤ p99. Then the optional ranges apply.
/// Counts are compared exactly, so an implementation that extrapolates counts (Prometheus
/// `increase()`) may need a lower `min`.
///
/// ```yaml
/// - metrics:
///     resource: {kind: Deployment, name: app-b-deployment}
///     edge: {direction: from, resource: {kind: Deployment, name: app-a-deployment}}
///     successCount: {min: 10}
///     maxLatency: 5s
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct MetricsOp {
    /// The measured resource.
    pub resource: MetricsResource,
    /// Check the metrics of this edge (an item of the resource's `edges` list) instead of the
    /// resource's own metrics (everything it received).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<MetricsEdge>,
    /// Pass once the edge is *not* listed (no traffic with that peer). Needs `edge`; no ranges.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub absent: bool,
    /// Range of `success_count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_count: Option<CountRange>,
    /// Range of `failure_count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_count: Option<CountRange>,
    /// Upper bound of `p99_response_latency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency: Option<GoDuration>,
    /// API version read (default `metrics.smi-spec.io/v1alpha1`).
    #[serde(default = "metrics_api_version")]
    pub api_version: String,
    /// Timeout override (inherits `timeouts.assert`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

fn metrics_api_version() -> String {
    "metrics.smi-spec.io/v1alpha1".into()
}

impl MetricsOp {
    /// A check of `resource`'s own metrics with no ranges (well-formedness only).
    #[must_use]
    pub fn new(resource: MetricsResource) -> Self {
        Self {
            resource,
            edge: None,
            absent: false,
            success_count: None,
            failure_count: None,
            max_latency: None,
            api_version: metrics_api_version(),
            timeout: None,
        }
    }
}

/// A resource whose traffic metrics are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct MetricsResource {
    /// Kind of the measured resource: `Pod`, `Deployment`, `Namespace`, ...
    pub kind: String,
    /// Name. Without one, any resource of the kind in the namespace may satisfy the check (pod
    /// names are not known in advance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace (default: the test namespace; unused for `Namespace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl MetricsResource {
    /// A named resource in the test namespace.
    #[must_use]
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            name: Some(name.into()),
            namespace: None,
        }
    }
}

/// Direction of a TrafficMetrics edge, seen from the measured resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EdgeDirection {
    /// Traffic the resource received from the peer (observed at the server side).
    From,
    /// Traffic the resource sent to the peer (observed at the client side).
    To,
}

impl EdgeDirection {
    /// `from` or `to`, as in the API.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::From => "from",
            Self::To => "to",
        }
    }
}

/// One edge of a resource: the direction and the peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct MetricsEdge {
    /// Direction.
    pub direction: EdgeDirection,
    /// The peer (with a name; usually of the same kind as the resource).
    pub resource: MetricsResource,
}

impl MetricsEdge {
    /// An edge.
    #[must_use]
    pub fn new(direction: EdgeDirection, resource: MetricsResource) -> Self {
        Self {
            direction,
            resource,
        }
    }
}

/// An inclusive range of a count; an unset bound is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct CountRange {
    /// Smallest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    /// Largest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
}

impl CountRange {
    /// At least `min`.
    #[must_use]
    pub fn at_least(min: u64) -> Self {
        Self {
            min: Some(min),
            max: None,
        }
    }

    /// At most `max`.
    #[must_use]
    pub fn at_most(max: u64) -> Self {
        Self {
            min: None,
            max: Some(max),
        }
    }
}

impl fmt::Display for CountRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => write!(f, "= {a}"),
            (Some(a), Some(b)) => write!(f, "in {a}..={b}"),
            (Some(a), None) => write!(f, "≥ {a}"),
            (None, Some(b)) => write!(f, "≤ {b}"),
            (None, None) => f.write_str("any"),
        }
    }
}

/// `custom`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct CustomOp {
    /// Registered name.
    pub name: String,
    /// Arguments passed to the check.
    #[serde(default)]
    pub args: Value,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

/// `sleep`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SleepOp {
    /// How long.
    pub duration: GoDuration,
}

impl Suite {
    /// A builder.
    pub fn builder(name: impl Into<String>) -> SuiteBuilder {
        SuiteBuilder {
            suite: Suite {
                name: name.into(),
                ..Suite::default()
            },
        }
    }

    /// Parses a YAML suite and checks it ([`Suite::check`]).
    ///
    /// # Errors
    ///
    /// [`Error::ParseSuite`] with line/column for malformed YAML or unknown keys; [`Error::InvalidSuite`]
    /// for inconsistencies.
    pub fn from_yaml(text: &str) -> Result<Self> {
        Self::from_yaml_named(text, "<string>")
    }

    fn from_yaml_named(text: &str, origin: &str) -> Result<Self> {
        let suite: Suite = serde_yaml::from_str(text).map_err(|e| Error::ParseSuite {
            origin: origin.to_string(),
            source: YamlError::new(e),
        })?;
        suite.check()?;
        Ok(suite)
    }

    /// Reads a YAML suite file of at most [`DEFAULT_MAX_FILE_BYTES`].
    ///
    /// # Errors
    ///
    /// As [`Suite::from_file_with_limit`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_file_with_limit(path, DEFAULT_MAX_FILE_BYTES)
    }

    /// Reads a YAML suite file of at most `max_bytes` bytes. A larger regular file is refused
    /// without being read; a FIFO or device is read no further than `max_bytes + 1` bytes.
    ///
    /// # Errors
    ///
    /// As [`Suite::from_yaml`], plus [`Error::ReadFile`], [`Error::TooLarge`] (with the file's
    /// size) and [`Error::NotUtf8`] (with the line and column of the first invalid byte).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let suite = smi_assert::suite::Suite::from_file_with_limit("suite.yaml", 1 << 20)?;
    /// # Ok::<(), smi_assert::Error>(())
    /// ```
    pub fn from_file_with_limit(path: impl AsRef<Path>, max_bytes: u64) -> Result<Self> {
        let p = path.as_ref();
        let path = p.to_path_buf();
        let text = crate::input::read_text(p, max_bytes).map_err(|e| match e {
            ReadError::Io(source) => Error::ReadFile {
                path: path.clone(),
                source,
            },
            ReadError::TooLarge { size, limit } => Error::TooLarge {
                path: path.clone(),
                size,
                limit,
            },
            ReadError::NotUtf8 { line, column } => Error::NotUtf8 {
                path: path.clone(),
                line,
                column,
            },
        })?;
        Self::from_yaml_named(&text, &p.display().to_string())
    }

    /// Serialises to YAML.
    ///
    /// # Errors
    ///
    /// [`Error::WriteSuite`] only if a manifest cannot be represented in YAML (not expected for JSON
    /// values).
    pub fn to_yaml(&self) -> Result<String> {
        serde_yaml::to_string(self).map_err(|e| Error::WriteSuite {
            source: YamlError::new(e),
        })
    }

    /// The JSON Schema of the suite format.
    #[cfg(feature = "schema")]
    #[cfg_attr(docsrs, doc(cfg(feature = "schema")))]
    #[must_use]
    pub fn json_schema() -> Value {
        serde_json::to_value(schemars::schema_for!(Suite)).unwrap_or(Value::Null)
    }

    /// Checks consistency: unique test names, known features from one profile, existing fixtures,
    /// sane traffic/distribution parameters.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSuite`] naming the location.
    pub fn check(&self) -> Result<()> {
        let invalid =
            |location: String, message: String| Err(Error::InvalidSuite { location, message });
        let negative = |d: &GoDuration| d.is_negative();
        if let Some((k, d)) = self.timeouts.iter().find(|(_, d)| negative(d)) {
            return invalid(
                format!("{}/timeouts/{k}", self.name),
                format!("duration {d} is negative"),
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for t in &self.tests {
            let step_timeouts = t.steps.iter().map(|s| (s.name.as_str(), &s.timeouts));
            for (at, timeouts) in
                std::iter::once((t.name.as_str(), &t.timeouts)).chain(step_timeouts)
            {
                if let Some((k, d)) = timeouts.iter().find(|(_, d)| negative(d)) {
                    return invalid(
                        format!("{}/{at}/timeouts/{k}", t.name),
                        format!("duration {d} is negative"),
                    );
                }
            }
            if t.name.is_empty() {
                return invalid(self.name.clone(), "a test has no name".into());
            }
            if !names.insert(&t.name) {
                return invalid(t.name.clone(), "duplicate test name".into());
            }
            let mut profile = None;
            for f in &t.features {
                let Some(feat) = crate::features::feature(f) else {
                    return invalid(t.name.clone(), format!("unknown feature `{f}`"));
                };
                if profile.is_some_and(|p| p != feat.profile) {
                    return invalid(
                        t.name.clone(),
                        "features of one test must belong to one profile".into(),
                    );
                }
                profile = Some(feat.profile);
            }
            let all = t
                .steps
                .iter()
                .flat_map(|s| s.operations.iter().map(move |o| (s.name.as_str(), o)))
                .chain(t.finally.iter().map(|o| ("finally", o)));
            for (i, (step, op)) in all.enumerate() {
                let loc = format!("{}/{step}/{i}:{}", t.name, op.kind());
                if let Some((k, d)) = op.durations().into_iter().find(|(_, d)| negative(d)) {
                    return invalid(loc, format!("{k}: duration {d} is negative"));
                }
                match op {
                    Operation::Apply(a) => {
                        if let Some(fx) = &a.fixture
                            && !self.fixtures.contains_key(fx)
                        {
                            return invalid(loc, format!("unknown fixture `{fx}`"));
                        }
                        if a.fixture.is_none() && a.objects.is_empty() {
                            return invalid(loc, "nothing to apply".into());
                        }
                    }
                    Operation::Traffic(tr) if tr.consecutive == 0 => {
                        return invalid(loc, "consecutive must be at least 1".into());
                    }
                    Operation::Metrics(m) => {
                        if m.resource.kind.is_empty() {
                            return invalid(loc, "resource.kind is empty".into());
                        }
                        if m.edge.as_ref().is_some_and(|e| e.resource.name.is_none()) {
                            return invalid(loc, "edge.resource needs a name".into());
                        }
                        if m.absent
                            && (m.edge.is_none()
                                || m.success_count.is_some()
                                || m.failure_count.is_some()
                                || m.max_latency.is_some())
                        {
                            return invalid(
                                loc,
                                "absent needs an edge and takes no ranges or latency bound".into(),
                            );
                        }
                        for (what, r) in [
                            ("successCount", m.success_count),
                            ("failureCount", m.failure_count),
                        ] {
                            if let Some(CountRange {
                                min: Some(a),
                                max: Some(b),
                            }) = r
                                && a > b
                            {
                                return invalid(loc, format!("{what}: min {a} is above max {b}"));
                            }
                        }
                    }
                    Operation::Distribution(d) => {
                        let total: u64 = d.weights.values().sum();
                        if total == 0 {
                            return invalid(loc, "weights must not all be 0".into());
                        }
                        if !(d.alpha > 0.0 && d.alpha < 1.0) {
                            return invalid(loc, format!("alpha {} is not in (0, 1)", d.alpha));
                        }
                        if d.attempts == 0 {
                            return invalid(loc, "attempts must be at least 1".into());
                        }
                        for (b, w) in &d.weights {
                            let expected = f64::from(d.requests) * *w as f64 / total as f64;
                            if *w > 0 && expected < 5.0 {
                                return invalid(
                                    loc,
                                    format!(
                                        "backend `{b}` expects {expected:.1} requests; the χ² test \
                                         needs at least 5, so raise `requests`"
                                    ),
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// Builder for [`Suite`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SuiteBuilder {
    suite: Suite,
}

impl SuiteBuilder {
    /// Sets suite-level timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.suite.timeouts = timeouts;
        self
    }

    /// Adds a fixture.
    pub fn fixture(mut self, name: impl Into<String>, objects: Vec<Value>) -> Self {
        self.suite.fixtures.insert(name.into(), objects);
        self
    }

    /// Adds a test.
    pub fn test(mut self, test: Test) -> Self {
        self.suite.tests.push(test);
        self
    }

    /// Finishes and checks the suite.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSuite`] as [`Suite::check`].
    pub fn build(self) -> Result<Suite> {
        self.suite.check()?;
        Ok(self.suite)
    }
}

impl Test {
    /// A builder.
    pub fn builder(name: impl Into<String>) -> TestBuilder {
        TestBuilder {
            test: Test {
                name: name.into(),
                ..Test::default()
            },
        }
    }
}

/// Builder for [`Test`].
#[derive(Debug, Clone)]
#[must_use]
pub struct TestBuilder {
    test: Test,
}

impl TestBuilder {
    /// Declares a feature.
    pub fn feature(mut self, id: impl Into<String>) -> Self {
        self.test.features.push(id.into());
        self
    }

    /// Sets test-level timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.test.timeouts = timeouts;
        self
    }

    /// Adds a step.
    pub fn step(mut self, name: impl Into<String>, operations: Vec<Operation>) -> Self {
        self.test.steps.push(Step {
            name: name.into(),
            precondition: false,
            timeouts: Timeouts::default(),
            operations,
        });
        self
    }

    /// Adds a precondition step (its failure is an error, not a conformance failure).
    pub fn precondition(mut self, name: impl Into<String>, operations: Vec<Operation>) -> Self {
        self.test.steps.push(Step {
            name: name.into(),
            precondition: true,
            timeouts: Timeouts::default(),
            operations,
        });
        self
    }

    /// Adds an operation that always runs at the end.
    pub fn finally(mut self, op: Operation) -> Self {
        self.test.finally.push(op);
        self
    }

    /// Finishes the test (checked when added to a suite).
    #[must_use]
    pub fn build(self) -> Test {
        self.test
    }
}

impl Operation {
    /// `apply` of manifests.
    #[must_use]
    pub fn apply(objects: Vec<Value>) -> Self {
        Self::Apply(ApplyOp {
            objects,
            fixture: None,
            validate: true,
            timeout: None,
        })
    }

    /// `apply` of a suite fixture.
    #[must_use]
    pub fn apply_fixture(name: impl Into<String>) -> Self {
        Self::Apply(ApplyOp {
            objects: Vec::new(),
            fixture: Some(name.into()),
            validate: true,
            timeout: None,
        })
    }

    /// `delete` of objects.
    #[must_use]
    pub fn delete(objects: Vec<ObjectRef>) -> Self {
        Self::Delete(DeleteOp {
            objects,
            timeout: None,
        })
    }

    /// `assert` with kuttl defaults.
    #[must_use]
    pub fn assert(object: Value) -> Self {
        Self::Assert(AssertOp::new(object))
    }

    /// `absent`.
    #[must_use]
    pub fn absent(object: Value) -> Self {
        Self::Absent(AbsentOp {
            object,
            timeout: None,
        })
    }

    /// `custom`.
    #[must_use]
    pub fn custom(name: impl Into<String>, args: Value) -> Self {
        Self::Custom(CustomOp {
            name: name.into(),
            args,
            timeout: None,
        })
    }

    /// `sleep`.
    #[must_use]
    pub fn sleep(duration: Duration) -> Self {
        Self::Sleep(SleepOp {
            duration: GoDuration::from_std(duration)
                .unwrap_or_else(|_| GoDuration::from_nanos(i64::MAX)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_go_syntax_like_the_rest_of_the_family() {
        // Regression (issue 13): `1h30m` was rejected here while the CLI's other commands
        // accept it.
        let s = Suite::from_yaml(
            "name: s\ntimeouts: {traffic: 1h30m, assert: 1.5s}\ntests:\n- name: t\n  steps:\n  - name: a\n    operations:\n    - sleep: {duration: 250ms}\n",
        )
        .unwrap();
        assert_eq!(
            s.timeouts.traffic.unwrap().to_std(),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(
            s.timeouts.assert.unwrap().to_std(),
            Some(Duration::from_millis(1500))
        );
        assert!(Suite::from_yaml("name: s\ntimeouts: {traffic: '5'}\ntests: []\n").is_err());
    }

    #[test]
    fn negative_durations_make_a_suite_invalid() {
        let e = Suite::from_yaml(
            "name: s\ntests:\n- name: t\n  steps:\n  - name: a\n    operations:\n    - sleep: {duration: -1s}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("negative"), "{e}");
        let e = Suite::from_yaml("name: s\ntimeouts: {apply: -5s}\ntests: []\n").unwrap_err();
        assert!(e.to_string().contains("negative"), "{e}");
    }

    #[test]
    fn suite_files_over_the_limit_are_refused_with_their_size() {
        let dir = std::env::temp_dir().join(format!("smi-assert-suite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("suite.yaml");
        std::fs::write(&p, "name: s\ntests: []\n").unwrap();
        let e = Suite::from_file_with_limit(&p, 5).unwrap_err();
        assert!(
            matches!(
                &e,
                Error::TooLarge {
                    size: InputSize::Exactly(18),
                    limit: 5,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("suite.yaml"), "{e}");
        assert_eq!(Suite::from_file_with_limit(&p, 18).unwrap().name, "s");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn an_endless_device_as_suite_is_refused_at_the_default_limit() {
        let e = Suite::from_file("/dev/zero").unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLarge {
                    size: InputSize::MoreThan(DEFAULT_MAX_FILE_BYTES),
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
