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

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

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

// ------------------------------------------------------------------------------------------------
// access.smi-spec.io

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

// ------------------------------------------------------------------------------------------------
// specs.smi-spec.io

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

// ------------------------------------------------------------------------------------------------
// split.smi-spec.io

/// A Kubernetes `resource.Quantity` (v1alpha1 TrafficSplit weights), e.g. `500m`, `1`, `1.5k`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quantity {
    /// The text as written.
    pub text: String,
    /// The value in milli-units, rounded up (as Kubernetes does).
    pub milli: i64,
}

impl Quantity {
    /// Parses a quantity.
    ///
    /// # Errors
    ///
    /// Returns a message if `text` is not a valid quantity or does not fit in milli-units.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, suffix) = t.split_at(split);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(format!("`{text}` is not a quantity"));
        }
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        let digits = format!("{int_part}{frac_part}");
        let mantissa: i128 = digits
            .parse()
            .map_err(|_| format!("`{text}` is not a quantity"))?;
        // value = mantissa / 10^frac * num_f / den_f
        let mut num_f: i128 = 1;
        let mut den_f: i128 = 10_i128.pow(u32::try_from(frac_part.len()).unwrap_or(40).min(30));
        let pow = |b: i128, e: u32| b.checked_pow(e);
        let (n, d): (Option<i128>, i128) = match suffix {
            "" => (Some(1), 1),
            "n" => (Some(1), 1_000_000_000),
            "u" => (Some(1), 1_000_000),
            "m" => (Some(1), 1000),
            "k" => (pow(10, 3), 1),
            "M" => (pow(10, 6), 1),
            "G" => (pow(10, 9), 1),
            "T" => (pow(10, 12), 1),
            "P" => (pow(10, 15), 1),
            "E" => (pow(10, 18), 1),
            "Ki" => (pow(2, 10), 1),
            "Mi" => (pow(2, 20), 1),
            "Gi" => (pow(2, 30), 1),
            "Ti" => (pow(2, 40), 1),
            "Pi" => (pow(2, 50), 1),
            "Ei" => (pow(2, 60), 1),
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..]
                    .parse()
                    .map_err(|_| format!("`{text}` has a bad exponent"))?;
                if e >= 0 {
                    (pow(10, e.unsigned_abs()), 1)
                } else {
                    (Some(1), pow(10, e.unsigned_abs()).unwrap_or(i128::MAX))
                }
            }
            s => return Err(format!("`{text}` has an unknown suffix `{s}`")),
        };
        num_f = num_f.saturating_mul(n.ok_or_else(|| format!("`{text}` is too large"))?);
        den_f = den_f.saturating_mul(d);
        let top = mantissa
            .checked_mul(num_f)
            .and_then(|v| v.checked_mul(1000))
            .ok_or_else(|| format!("`{text}` is too large"))?;
        let milli = top
            .checked_add(den_f - 1)
            .ok_or_else(|| format!("`{text}` is too large"))?
            / den_f;
        let milli = i64::try_from(milli).map_err(|_| format!("`{text}` is too large"))?;
        Ok(Self {
            text: text.to_string(),
            milli: if neg { -milli } else { milli },
        })
    }
}

/// A TrafficSplit backend weight as written.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Weight {
    /// A whole number (v1alpha2+, and plain numbers in v1alpha1).
    Integer(i64),
    /// A non-whole number (the CRD's `type: number` lets it through; the spec forbids it).
    Number(f64),
    /// A quantity string (v1alpha1).
    Quantity(Quantity),
}

impl Weight {
    /// The weight normalised to milli-units, so `1` and `1000m` compare equal.
    /// `None` for non-finite numbers.
    #[must_use]
    pub fn to_milli(&self) -> Option<i64> {
        match self {
            Self::Integer(i) => i.checked_mul(1000),
            Self::Number(f) if f.is_finite() => {
                let v = (f * 1000.0).round();
                // Range-checked before the cast.
                if v.abs() < 9.0e15 {
                    Some(v as i64)
                } else {
                    None
                }
            }
            Self::Number(_) => None,
            Self::Quantity(q) => Some(q.milli),
        }
    }

    fn from_value(v: &Value, path: &str) -> Result<Self> {
        match v {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Self::Integer(i))
                } else {
                    Ok(Self::Number(n.as_f64().unwrap_or(f64::NAN)))
                }
            }
            Value::String(s) => Quantity::parse(s)
                .map(Self::Quantity)
                .map_err(|m| parse_error(path, m)),
            other => Err(parse_error(
                path,
                format!("weight must be a number or quantity, found {other}"),
            )),
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Self::Integer(i) => json!(i),
            Self::Number(f) => json!(f),
            Self::Quantity(q) => Value::String(q.text.clone()),
        }
    }
}

/// A backend of a [`TrafficSplit`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TrafficSplitBackend {
    /// The backend Kubernetes Service.
    pub service: String,
    /// Its relative weight.
    pub weight: Weight,
}

impl TrafficSplitBackend {
    /// A backend with an integer weight.
    #[must_use]
    pub fn new(service: impl Into<String>, weight: i64) -> Self {
        Self {
            service: service.into(),
            weight: Weight::Integer(weight),
        }
    }
}

/// A reference to an HTTPRouteGroup from `TrafficSplit.spec.matches` (v1alpha3+).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TypedLocalObjectReference {
    /// API group, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Kind (`HTTPRouteGroup`).
    pub kind: String,
    /// Name.
    pub name: String,
}

/// The `spec` of a [`TrafficSplit`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TrafficSplitSpec {
    /// The root (apex) service.
    pub service: String,
    /// Backends with weights.
    pub backends: Vec<TrafficSplitBackend>,
    /// HTTPRouteGroups for A/B splits (v1alpha3+).
    pub matches: Vec<TypedLocalObjectReference>,
}

/// `split.smi-spec.io` TrafficSplit, v1alpha1–v1alpha4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
#[non_exhaustive]
pub struct TrafficSplit {
    /// The version this object is written in.
    pub version: Version,
    /// Metadata.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: TrafficSplitSpec,
}

impl TrafficSplit {
    /// Reads a manifest.
    ///
    /// # Errors
    ///
    /// Returns a [`Error::ParseResource`] if the manifest is not a TrafficSplit of a known version or a weight
    /// is neither a number nor a quantity.
    pub fn from_manifest(manifest: &Value) -> Result<Self> {
        let version = expect_kind(manifest, Group::Split, "TrafficSplit")?;
        let metadata = metadata(manifest)?;
        let spec = manifest
            .get("spec")
            .ok_or_else(|| parse_error("/spec", "required field is missing"))?;
        let service: String = required(spec, "/spec", "service")?;
        let raw: Vec<Value> = required(spec, "/spec", "backends")?;
        let mut backends = Vec::with_capacity(raw.len());
        for (i, b) in raw.iter().enumerate() {
            let base = format!("/spec/backends/{i}");
            let service: String = required(b, &base, "service")?;
            let w = b
                .get("weight")
                .ok_or_else(|| parse_error(format!("{base}/weight"), "required"))?;
            let weight = Weight::from_value(w, &format!("{base}/weight"))?;
            backends.push(TrafficSplitBackend { service, weight });
        }
        let matches = field(spec, "/spec", "matches")?.unwrap_or_default();
        Ok(Self {
            version,
            metadata,
            spec: TrafficSplitSpec {
                service,
                backends,
                matches,
            },
        })
    }

    /// Writes the manifest in this object's version layout.
    #[must_use]
    pub fn to_manifest(&self) -> Value {
        let mut m = header(Group::Split, self.version, "TrafficSplit", &self.metadata);
        let backends: Vec<Value> = self
            .spec
            .backends
            .iter()
            .map(|b| json!({"service": b.service, "weight": b.weight.to_value()}))
            .collect();
        let mut spec = json!({"service": self.spec.service, "backends": backends});
        if !self.spec.matches.is_empty() {
            spec["matches"] = to_value(&self.spec.matches);
        }
        m.insert("spec".into(), spec);
        Value::Object(m)
    }

    /// Expected share of each backend: `wᵢ / Σw` over normalised weights. Empty if Σw is 0.
    #[must_use]
    pub fn shares(&self) -> Vec<(String, f64)> {
        let ws: Vec<(String, i64)> = self
            .spec
            .backends
            .iter()
            .map(|b| (b.service.clone(), b.weight.to_milli().unwrap_or(0).max(0)))
            .collect();
        let total: i64 = ws.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return Vec::new();
        }
        ws.into_iter()
            .map(|(s, w)| (s, w as f64 / total as f64))
            .collect()
    }
}

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
value_conv!(TrafficTarget);
value_conv!(HttpRouteGroup);
value_conv!(TrafficSplit);

// ------------------------------------------------------------------------------------------------
// metrics.smi-spec.io

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

// ------------------------------------------------------------------------------------------------

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
    /// Returns a [`Error::ParseResource`] if it is in an SMI group but malformed or of an unknown kind/version.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_normalise_to_milli() {
        for (t, m) in [
            ("1", 1000),
            ("500m", 500),
            ("1500m", 1500),
            ("1.5", 1500),
            ("10m", 10),
            ("1k", 1_000_000),
            ("1Ki", 1_024_000),
            ("1e3", 1_000_000),
            ("1n", 1),
        ] {
            assert_eq!(Quantity::parse(t).map(|q| q.milli), Ok(m), "{t}");
        }
        assert!(Quantity::parse("abc").is_err());
        assert!(Quantity::parse("1.2.3").is_err());
        assert!(Quantity::parse("5x").is_err());
        assert!(Quantity::parse("99999999999999999999999999999999999E").is_err());
        assert!(Quantity::parse("").is_err());
    }

    #[test]
    fn header_encodings_are_equivalent() {
        let a: HeaderMatches = serde_json::from_value(json!({"user-agent": ".*"})).unwrap();
        let b: HeaderMatches = serde_json::from_value(json!([{"user-agent": ".*"}])).unwrap();
        assert_eq!(a.entries, b.entries);
        assert!(a.was_map && !b.was_map);
        assert!(serde_json::from_value::<HeaderMatches>(json!(3)).is_err());
    }
}
