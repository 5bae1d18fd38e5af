//! The `metrics` operation: [`MetricsOp`] and the resource, edge and count range it names.

use std::fmt;

use serde::{Deserialize, Serialize};
use smps_model::GoDuration;

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
