//! `access.smi-spec.io`: [`TrafficTarget`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Group, ObjectMeta, Version, expect_kind, field, header, metadata, required, to_value};
use crate::error::{Error, Result};

/// A source or destination identity of a [`TrafficTarget`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityBindingSubject {
    /// Kind, normally `ServiceAccount`.
    pub kind: String,
    /// Name of the identity.
    pub name: String,
    /// Namespace; `None` means the TrafficTarget's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Destination port (v1alpha1/v1alpha2 only; removed in v1alpha3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl IdentityBindingSubject {
    /// A `ServiceAccount` subject.
    #[must_use]
    pub fn service_account(name: impl Into<String>, namespace: Option<String>) -> Self {
        Self {
            kind: "ServiceAccount".into(),
            name: name.into(),
            namespace,
            port: None,
        }
    }
}

/// One rule of a [`TrafficTarget`]: a route resource and optionally some of its matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TrafficTargetRule {
    /// `HTTPRouteGroup`, `TCPRoute` or `UDPRoute`.
    pub kind: String,
    /// Name of the route resource in the TrafficTarget's namespace.
    pub name: String,
    /// Names of HTTPRouteGroup matches; `None` means all matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<String>>,
}

/// The body of a [`TrafficTarget`] (top level in v1alpha1, `spec` later).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrafficTargetSpec {
    /// The destination identity.
    pub destination: IdentityBindingSubject,
    /// Rules (`specs` in v1alpha1).
    pub rules: Vec<TrafficTargetRule>,
    /// Allowed source identities.
    pub sources: Vec<IdentityBindingSubject>,
}

/// `access.smi-spec.io` TrafficTarget, v1alpha1–v1alpha3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
#[non_exhaustive]
pub struct TrafficTarget {
    /// The version this object is written in.
    pub version: Version,
    /// Metadata.
    pub metadata: ObjectMeta,
    /// The normalised body.
    pub spec: TrafficTargetSpec,
}

impl TrafficTarget {
    /// Reads a manifest.
    ///
    /// # Errors
    ///
    /// Returns a [`Error::ParseResource`] naming the offending path if the manifest is not a TrafficTarget
    /// of a known version or a field has the wrong type.
    pub fn from_manifest(manifest: &Value) -> Result<Self> {
        let version = expect_kind(manifest, Group::Access, "TrafficTarget")?;
        let metadata = metadata(manifest)?;
        let (body, base, rules_key) = if version == Version::V1alpha1 {
            (manifest.clone(), String::new(), "specs")
        } else {
            (
                manifest.get("spec").cloned().unwrap_or(Value::Null),
                "/spec".to_string(),
                "rules",
            )
        };
        let spec = TrafficTargetSpec {
            destination: required(&body, &base, "destination")?,
            rules: field(&body, &base, rules_key)?.unwrap_or_default(),
            sources: field(&body, &base, "sources")?.unwrap_or_default(),
        };
        Ok(Self {
            version,
            metadata,
            spec,
        })
    }

    /// Writes the manifest in this object's version layout.
    #[must_use]
    pub fn to_manifest(&self) -> Value {
        let mut m = header(Group::Access, self.version, "TrafficTarget", &self.metadata);
        let mut dest = self.spec.destination.clone();
        if self.version == Version::V1alpha3 {
            dest.port = None;
        }
        let mut body = Map::new();
        body.insert("destination".into(), to_value(&dest));
        let rules_key = if self.version == Version::V1alpha1 {
            "specs"
        } else {
            "rules"
        };
        body.insert(rules_key.into(), to_value(&self.spec.rules));
        body.insert("sources".into(), to_value(&self.spec.sources));
        if self.version == Version::V1alpha1 {
            m.extend(body);
        } else {
            m.insert("spec".into(), Value::Object(body));
        }
        Value::Object(m)
    }
}

value_conv!(TrafficTarget);
