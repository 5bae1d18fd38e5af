//! SMI resource types for every group and version the project supports.
//!
//! Each kind has one Rust type holding a *normalised* view of the resource plus the [`Version`] it
//! was written in. Reading and writing go through the layout of that version: a v1alpha1
//! `TrafficTarget` keeps its body at the top level, later versions under `spec`; HTTPRouteGroup
//! v1alpha1/v1alpha2 keep `matches` at the top level, v1alpha3+ under `spec`. The types implement
//! `serde::Serialize`/`Deserialize` through that layout, so they round-trip through YAML and JSON.
//!
//! | group | kinds | versions |
//! |---|---|---|
//! | `access.smi-spec.io` | [`TrafficTarget`] | v1alpha1–v1alpha3 |
//! | `specs.smi-spec.io` | [`HttpRouteGroup`], [`TcpRoute`], [`UdpRoute`] (v1alpha4 only) | v1alpha1–v1alpha4 |
//! | `split.smi-spec.io` | [`TrafficSplit`] | v1alpha1–v1alpha4 |
//! | `metrics.smi-spec.io` | [`TrafficMetrics`], [`TrafficMetricsList`] | v1alpha1–v1alpha2 |
//!
//! Deserialisation is lenient about unknown fields; strictness lives in [`crate::validate`].
//!
//! # Examples
//!
//! ```
//! use smi_assert::smi::{SmiResource, TrafficSplit};
//! let yaml = "apiVersion: split.smi-spec.io/v1alpha1\nkind: TrafficSplit\nmetadata: {name: s}\n\
//!             spec:\n  service: web\n  backends:\n  - {service: v1, weight: 500m}\n  - {service: v2, weight: 1}\n";
//! let split: TrafficSplit = serde_yaml::from_str(yaml)?;
//! assert_eq!(split.spec.backends[0].weight.to_milli(), Some(500));
//! assert_eq!(split.spec.backends[1].weight.to_milli(), Some(1000));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! One file per group: `access.rs`, `specs.rs`, `split.rs` and `metrics.rs` hold its kinds,
//! `resource.rs` the [`SmiResource`] enum over all of them; this file the group, version and
//! metadata types and the helpers the kinds read and write manifests with.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// `TryFrom<Value>` and `Into<Value>` for a kind, through its `from_manifest` / `to_manifest`.
macro_rules! value_conv {
    ($ty:ident) => {
        impl TryFrom<Value> for $ty {
            type Error = Error;
            fn try_from(v: Value) -> Result<Self> {
                Self::from_manifest(&v)
            }
        }
        impl From<$ty> for Value {
            fn from(t: $ty) -> Value {
                t.to_manifest()
            }
        }
    };
}

mod access;
mod metrics;
mod resource;
mod specs;
mod split;

pub use access::{IdentityBindingSubject, TrafficTarget, TrafficTargetRule, TrafficTargetSpec};
pub use metrics::{
    Edge, Metric, MetricsBackend, ObjectReference, TrafficMetrics, TrafficMetricsList,
};
pub use resource::SmiResource;
pub use specs::{HeaderMatches, HttpMatch, HttpRouteGroup, PortMatch, TcpRoute, UdpRoute};
pub use split::{
    Quantity, TrafficSplit, TrafficSplitBackend, TrafficSplitSpec, TypedLocalObjectReference,
    Weight,
};

/// An [`Error::ParseResource`] at `pointer`.
fn parse_error(pointer: impl Into<String>, message: impl Into<String>) -> Error {
    Error::ParseResource {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// An SMI API group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Group {
    /// `access.smi-spec.io`
    #[serde(rename = "access.smi-spec.io")]
    Access,
    /// `specs.smi-spec.io`
    #[serde(rename = "specs.smi-spec.io")]
    Specs,
    /// `split.smi-spec.io`
    #[serde(rename = "split.smi-spec.io")]
    Split,
    /// `metrics.smi-spec.io`
    #[serde(rename = "metrics.smi-spec.io")]
    Metrics,
}

impl Group {
    /// The group's DNS name, e.g. `access.smi-spec.io`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access.smi-spec.io",
            Self::Specs => "specs.smi-spec.io",
            Self::Split => "split.smi-spec.io",
            Self::Metrics => "metrics.smi-spec.io",
        }
    }

    /// Parses a group name; `None` if it is not an SMI group.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "access.smi-spec.io" => Some(Self::Access),
            "specs.smi-spec.io" => Some(Self::Specs),
            "split.smi-spec.io" => Some(Self::Split),
            "metrics.smi-spec.io" => Some(Self::Metrics),
            _ => None,
        }
    }
}

/// An SMI API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Version {
    /// `v1alpha1`
    V1alpha1,
    /// `v1alpha2`
    V1alpha2,
    /// `v1alpha3`
    V1alpha3,
    /// `v1alpha4`
    V1alpha4,
}

impl Version {
    /// The version string, e.g. `v1alpha3`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1alpha1 => "v1alpha1",
            Self::V1alpha2 => "v1alpha2",
            Self::V1alpha3 => "v1alpha3",
            Self::V1alpha4 => "v1alpha4",
        }
    }

    /// Parses a version string; `None` if unknown.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "v1alpha1" => Some(Self::V1alpha1),
            "v1alpha2" => Some(Self::V1alpha2),
            "v1alpha3" => Some(Self::V1alpha3),
            "v1alpha4" => Some(Self::V1alpha4),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which kinds exist in which versions, per the SMI spec (research §1.1).
///
/// Returns `true` if `kind` is defined in `group`/`version`.
#[must_use]
pub fn is_known_kind(group: Group, version: Version, kind: &str) -> bool {
    use Version::*;
    match (group, kind) {
        (Group::Access, "TrafficTarget") => matches!(version, V1alpha1 | V1alpha2 | V1alpha3),
        (Group::Specs, "HTTPRouteGroup" | "TCPRoute") => true,
        (Group::Specs, "UDPRoute") => version == V1alpha4,
        (Group::Split, "TrafficSplit") => true,
        (Group::Metrics, "TrafficMetrics" | "TrafficMetricsList") => {
            matches!(version, V1alpha1 | V1alpha2)
        }
        _ => false,
    }
}

/// The subset of Kubernetes `metadata` the framework uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ObjectMeta {
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Namespace; `None` means the test namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ObjectMeta {
    /// Metadata with just a name.
    #[must_use]
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// Splits `apiVersion` into a known SMI group and version.
///
/// # Errors
///
/// Returns a [`Error::ParseResource`] if `apiVersion` is missing or not an SMI group/version.
pub fn group_version(manifest: &Value) -> Result<(Group, Version)> {
    let av = manifest
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| parse_error("/apiVersion", "missing or not a string"))?;
    let (g, v) = av
        .split_once('/')
        .ok_or_else(|| parse_error("/apiVersion", format!("`{av}` is not group/version")))?;
    let group = Group::parse(g)
        .ok_or_else(|| parse_error("/apiVersion", format!("`{g}` is not an SMI group")))?;
    let version = Version::parse(v)
        .ok_or_else(|| parse_error("/apiVersion", format!("unknown SMI version `{v}`")))?;
    Ok((group, version))
}

fn expect_kind(manifest: &Value, group: Group, kind: &str) -> Result<Version> {
    let (g, v) = group_version(manifest)?;
    if g != group {
        return Err(parse_error(
            "/apiVersion",
            format!(
                "expected group {} for {kind}, found {}",
                group.as_str(),
                g.as_str()
            ),
        ));
    }
    let k = manifest.get("kind").and_then(Value::as_str).unwrap_or("");
    if k != kind {
        return Err(parse_error(
            "/kind",
            format!("expected `{kind}`, found `{k}`"),
        ));
    }
    if !is_known_kind(g, v, kind) {
        return Err(parse_error(
            "/apiVersion",
            format!("{kind} does not exist in {}/{v}", g.as_str()),
        ));
    }
    Ok(v)
}

fn field<T: serde::de::DeserializeOwned>(obj: &Value, base: &str, name: &str) -> Result<Option<T>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| parse_error(format!("{base}/{name}"), e.to_string())),
    }
}

fn required<T: serde::de::DeserializeOwned>(obj: &Value, base: &str, name: &str) -> Result<T> {
    field(obj, base, name)?
        .ok_or_else(|| parse_error(format!("{base}/{name}"), "required field is missing"))
}

fn metadata(manifest: &Value) -> Result<ObjectMeta> {
    Ok(field(manifest, "", "metadata")?.unwrap_or_default())
}

fn header(group: Group, version: Version, kind: &str, meta: &ObjectMeta) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "apiVersion".into(),
        Value::String(format!("{}/{}", group.as_str(), version.as_str())),
    );
    m.insert("kind".into(), Value::String(kind.into()));
    m.insert(
        "metadata".into(),
        serde_json::to_value(meta).unwrap_or(Value::Null),
    );
    m
}

fn to_value<T: Serialize>(t: &T) -> Value {
    // Serialising these plain data types cannot fail (no maps with non-string keys).
    serde_json::to_value(t).unwrap_or(Value::Null)
}
