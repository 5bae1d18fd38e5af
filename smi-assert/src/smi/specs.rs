//! `specs.smi-spec.io`: [`HttpRouteGroup`], [`TcpRoute`] and [`UdpRoute`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Group, ObjectMeta, Version, expect_kind, field, header, metadata, parse_error, required,
    to_value,
};
use crate::error::{Error, Result};

/// Header filters of an [`HttpMatch`]: header name → regex on the value. All must match (AND).
///
/// Accepts both wire encodings: a map (`{user-agent: ".*Android.*"}`, the spec prose) and a list of
/// single-key maps (`[{user-agent: ".*Android.*"}]`, the CRD and SDK). Serialises as the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeaderMatches {
    /// `(name, value regex)` pairs in document order.
    pub entries: Vec<(String, String)>,
    /// Whether the document used the map encoding.
    pub was_map: bool,
}

impl Serialize for HeaderMatches {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<BTreeMap<&str, &str>> = self
            .entries
            .iter()
            .map(|(k, v)| BTreeMap::from([(k.as_str(), v.as_str())]))
            .collect();
        list.serialize(s)
    }
}

impl<'de> Deserialize<'de> for HeaderMatches {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Map(BTreeMap<String, String>),
            List(Vec<BTreeMap<String, String>>),
        }
        match Wire::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "headers must be a map of name to regex or a list of single-key maps",
            )
        })? {
            Wire::Map(m) => Ok(Self {
                entries: m.into_iter().collect(),
                was_map: true,
            }),
            Wire::List(l) => Ok(Self {
                entries: l.into_iter().flatten().collect(),
                was_map: false,
            }),
        }
    }
}

/// One named match of an [`HttpRouteGroup`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HttpMatch {
    /// The match's name (its key for `TrafficTarget.rules[].matches`).
    pub name: String,
    /// Path regex, anchored at the start of the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_regex: Option<String>,
    /// Methods; `*` means all. `None` means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// Header filters (v1alpha2+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<HeaderMatches>,
}

/// `specs.smi-spec.io` HTTPRouteGroup, v1alpha1–v1alpha4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
#[non_exhaustive]
pub struct HttpRouteGroup {
    /// The version this object is written in.
    pub version: Version,
    /// Metadata.
    pub metadata: ObjectMeta,
    /// The matches (top level before v1alpha3, `spec.matches` from v1alpha3).
    pub matches: Vec<HttpMatch>,
}

impl HttpRouteGroup {
    /// Reads a manifest.
    ///
    /// # Errors
    ///
    /// Returns a [`Error::ParseResource`] if the manifest is not an HTTPRouteGroup of a known version or
    /// `matches` is missing from the place that version requires.
    pub fn from_manifest(manifest: &Value) -> Result<Self> {
        let version = expect_kind(manifest, Group::Specs, "HTTPRouteGroup")?;
        let metadata = metadata(manifest)?;
        let matches = if version <= Version::V1alpha2 {
            required(manifest, "", "matches")?
        } else {
            let spec = manifest
                .get("spec")
                .ok_or_else(|| parse_error("/spec", "required field is missing"))?;
            required(spec, "/spec", "matches")?
        };
        Ok(Self {
            version,
            metadata,
            matches,
        })
    }

    /// Writes the manifest in this object's version layout.
    #[must_use]
    pub fn to_manifest(&self) -> Value {
        let mut m = header(Group::Specs, self.version, "HTTPRouteGroup", &self.metadata);
        if self.version <= Version::V1alpha2 {
            m.insert("matches".into(), to_value(&self.matches));
        } else {
            m.insert("spec".into(), json!({ "matches": to_value(&self.matches) }));
        }
        Value::Object(m)
    }
}

/// Port matches of a [`TcpRoute`] or [`UdpRoute`] (v1alpha4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortMatch {
    /// Optional name (SDK only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Ports; empty means all ports of the service.
    #[serde(default)]
    pub ports: Vec<u16>,
}

macro_rules! l4_route {
    ($ty:ident, $kind:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "Value", into = "Value")]
        #[non_exhaustive]
        pub struct $ty {
            /// The version this object is written in.
            pub version: Version,
            /// Metadata.
            pub metadata: ObjectMeta,
            /// `spec.matches` (v1alpha4); `None` means all ports.
            pub matches: Option<PortMatch>,
        }

        impl $ty {
            /// Reads a manifest.
            ///
            /// # Errors
            ///
            /// Returns a [`Error::ParseResource`] if the manifest is not this kind in a known version.
            pub fn from_manifest(manifest: &Value) -> Result<Self> {
                let version = expect_kind(manifest, Group::Specs, $kind)?;
                let metadata = metadata(manifest)?;
                let matches = match manifest.get("spec") {
                    Some(spec) if version == Version::V1alpha4 => {
                        field(spec, "/spec", "matches")?
                    }
                    _ => None,
                };
                Ok(Self {
                    version,
                    metadata,
                    matches,
                })
            }

            /// Writes the manifest in this object's version layout.
            #[must_use]
            pub fn to_manifest(&self) -> Value {
                let mut m = header(Group::Specs, self.version, $kind, &self.metadata);
                match self.version {
                    Version::V1alpha4 => {
                        let pm = self.matches.clone().unwrap_or_default();
                        m.insert("spec".into(), json!({ "matches": to_value(&pm) }));
                    }
                    Version::V1alpha3 => {
                        m.insert("spec".into(), json!({}));
                    }
                    _ => {}
                }
                Value::Object(m)
            }

            /// Whether traffic to `port` is covered by this route.
            #[must_use]
            pub fn covers_port(&self, port: u16) -> bool {
                match &self.matches {
                    None => true,
                    Some(m) => m.ports.is_empty() || m.ports.contains(&port),
                }
            }
        }

        value_conv!($ty);
    };
}

l4_route!(
    TcpRoute,
    "TCPRoute",
    "`specs.smi-spec.io` TCPRoute, v1alpha1–v1alpha4."
);
l4_route!(
    UdpRoute,
    "UDPRoute",
    "`specs.smi-spec.io` UDPRoute, v1alpha4."
);

value_conv!(HttpRouteGroup);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_encodings_are_equivalent() {
        let a: HeaderMatches = serde_json::from_value(json!({"user-agent": ".*"})).unwrap();
        let b: HeaderMatches = serde_json::from_value(json!([{"user-agent": ".*"}])).unwrap();
        assert_eq!(a.entries, b.entries);
        assert!(a.was_map && !b.was_map);
        assert!(serde_json::from_value::<HeaderMatches>(json!(3)).is_err());
    }
}
