//! [`SmiResource`]: any SMI resource.

use serde_json::Value;

use super::{
    Group, HttpRouteGroup, ObjectMeta, TcpRoute, TrafficMetrics, TrafficMetricsList, TrafficSplit,
    TrafficTarget, UdpRoute, group_version, is_known_kind, parse_error,
};
use crate::error::Result;

/// Any SMI resource.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // short-lived parse results; boxing would only add noise
pub enum SmiResource {
    /// A TrafficTarget.
    TrafficTarget(TrafficTarget),
    /// An HTTPRouteGroup.
    HttpRouteGroup(HttpRouteGroup),
    /// A TCPRoute.
    TcpRoute(TcpRoute),
    /// A UDPRoute.
    UdpRoute(UdpRoute),
    /// A TrafficSplit.
    TrafficSplit(TrafficSplit),
    /// A TrafficMetrics object.
    TrafficMetrics(TrafficMetrics),
    /// A TrafficMetricsList.
    TrafficMetricsList(TrafficMetricsList),
}

impl SmiResource {
    /// Reads any SMI manifest. Returns `Ok(None)` if the manifest is not in an SMI group.
    ///
    /// # Errors
    ///
    /// Returns a [`Error::ParseResource`](crate::Error::ParseResource) if it is in an SMI group but malformed or of an unknown kind/version.
    pub fn from_manifest(manifest: &Value) -> Result<Option<Self>> {
        let av = manifest
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let group = av.split('/').next().unwrap_or("");
        if Group::parse(group).is_none() {
            return Ok(None);
        }
        let kind = manifest.get("kind").and_then(Value::as_str).unwrap_or("");
        let r = match kind {
            "TrafficTarget" => Self::TrafficTarget(TrafficTarget::from_manifest(manifest)?),
            "HTTPRouteGroup" => Self::HttpRouteGroup(HttpRouteGroup::from_manifest(manifest)?),
            "TCPRoute" => Self::TcpRoute(TcpRoute::from_manifest(manifest)?),
            "UDPRoute" => Self::UdpRoute(UdpRoute::from_manifest(manifest)?),
            "TrafficSplit" => Self::TrafficSplit(TrafficSplit::from_manifest(manifest)?),
            "TrafficMetrics" | "TrafficMetricsList" => {
                let (g, v) = group_version(manifest)?;
                if !is_known_kind(g, v, kind) {
                    return Err(parse_error(
                        "/apiVersion",
                        format!("{kind} does not exist in {av}"),
                    ));
                }
                if kind == "TrafficMetrics" {
                    Self::TrafficMetrics(
                        serde_json::from_value(manifest.clone())
                            .map_err(|e| parse_error("", e.to_string()))?,
                    )
                } else {
                    Self::TrafficMetricsList(
                        serde_json::from_value(manifest.clone())
                            .map_err(|e| parse_error("", e.to_string()))?,
                    )
                }
            }
            other => {
                return Err(parse_error(
                    "/kind",
                    format!("`{other}` is not an SMI kind"),
                ));
            }
        };
        Ok(Some(r))
    }

    /// The object's metadata (TrafficMetricsList has none and returns an empty one).
    #[must_use]
    pub fn metadata(&self) -> ObjectMeta {
        match self {
            Self::TrafficTarget(t) => t.metadata.clone(),
            Self::HttpRouteGroup(t) => t.metadata.clone(),
            Self::TcpRoute(t) => t.metadata.clone(),
            Self::UdpRoute(t) => t.metadata.clone(),
            Self::TrafficSplit(t) => t.metadata.clone(),
            Self::TrafficMetrics(t) => t.metadata.clone(),
            Self::TrafficMetricsList(_) => ObjectMeta::default(),
        }
    }
}
