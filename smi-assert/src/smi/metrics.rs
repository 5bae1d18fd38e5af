//! `metrics.smi-spec.io`: [`TrafficMetrics`] and [`TrafficMetricsList`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ObjectMeta;

/// A Kubernetes `ObjectReference` as used by TrafficMetrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ObjectReference {
    /// Kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The edge of a TrafficMetrics object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Edge {
    /// `to` or `from`.
    pub direction: String,
    /// `client` or `server` (v1alpha2 in the SDK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
    /// The peer; empty means all peers.
    #[serde(default)]
    pub resource: ObjectReference,
}

/// TrafficSplit backend information (v1alpha2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetricsBackend {
    /// The apex service.
    pub apex: String,
    /// The backend name.
    pub name: String,
    /// Its weight.
    pub weight: i64,
}

/// One metric value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metric {
    /// Name, e.g. `p99_response_latency`, `success_count`.
    pub name: String,
    /// Unit (`ms` in the SDK, `seconds` in the doc example).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Value as a quantity string.
    pub value: String,
}

/// `metrics.smi-spec.io` TrafficMetrics (read-only aggregated API), v1alpha1/v1alpha2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrafficMetrics {
    /// `metrics.smi-spec.io/v1alpha1` or `/v1alpha2`.
    pub api_version: String,
    /// `TrafficMetrics`.
    pub kind: String,
    /// Metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The measured resource.
    #[serde(default)]
    pub resource: ObjectReference,
    /// The edge, if this is an edge metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<Edge>,
    /// Backend of a TrafficSplit (v1alpha2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<MetricsBackend>,
    /// Timestamp (RFC 3339).
    #[serde(default)]
    pub timestamp: String,
    /// Window (duration string, e.g. `30s`).
    #[serde(default)]
    pub window: String,
    /// The metrics.
    #[serde(default)]
    pub metrics: Vec<Metric>,
}

/// `metrics.smi-spec.io` TrafficMetricsList.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrafficMetricsList {
    /// `metrics.smi-spec.io/v1alpha1` or `/v1alpha2`.
    pub api_version: String,
    /// `TrafficMetricsList`.
    pub kind: String,
    /// The resource the list is about.
    #[serde(default)]
    pub resource: ObjectReference,
    /// Label selector filtering items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<Value>,
    /// Items.
    #[serde(default)]
    pub items: Vec<TrafficMetrics>,
}
