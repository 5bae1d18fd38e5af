//! Which document an object is, recognised from its keys in any spelling.
//!
//! [`classify`] takes the members of a mapping as `(key, ValueKind)` pairs, so it works on a
//! `serde_json` object ([`classify_object`]) as well as on any other tree a tool builds (the
//! borrowed tree of `smps-validate`'s fast path). Keys match in any casing (`latencies_ms`,
//! `latenciesMs`, `LatenciesMs`) and under the legacy names of [`crate::spelling`], including
//! the root aliases (`kubernetes`, `sidecars`) that [`crate::read`] accepts once the kind is
//! known. It allocates only to describe an object it cannot recognise.
//!
//! ```
//! use smps_model::{Kind, Shape, classify_object};
//!
//! let doc = serde_json::json!({"kubernetes": "v1.29.3"});
//! let shape = classify_object(doc.as_object().unwrap())?;
//! assert_eq!(shape, Shape::Smp(Kind::EnvironmentConfig));
//! # Ok::<(), smps_model::UnknownShape>(())
//! ```

use serde_json::{Map, Value};

use crate::Kind;

/// What a value is, as far as recognising a document needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// A list.
    Array,
    /// A mapping.
    Object,
}

impl From<&Value> for ValueKind {
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => ValueKind::Null,
            Value::Bool(_) => ValueKind::Bool,
            Value::Number(_) => ValueKind::Number,
            Value::String(_) => ValueKind::String,
            Value::Array(_) => ValueKind::Array,
            Value::Object(_) => ValueKind::Object,
        }
    }
}

/// The shape a document was recognised in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Shape {
    /// An SMP message at the root.
    Smp(Kind),
    /// Meshery's `{test, mesh}` test-configuration wrapper.
    MesheryWrapper,
    /// A Meshery performance profile.
    MesheryProfile,
    /// A Meshery result record.
    MesheryResult,
    /// A bare fortio (or fortio-shaped) result payload.
    FortioPayload,
    /// The legacy `BenchmarkSpec` export.
    LegacyBenchmarkSpec,
    /// A Meshery page of records (`page`, `page_size`, `total_count` and `results` or
    /// `profiles`): each record is a document of its own.
    MesheryPage,
}

impl Shape {
    /// The SMP kind a document of this shape is read as (`None` for a page, whose records each
    /// have their own).
    #[must_use]
    pub fn kind(self) -> Option<Kind> {
        match self {
            Shape::Smp(kind) => Some(kind),
            Shape::MesheryWrapper | Shape::MesheryProfile => Some(Kind::PerformanceTestConfig),
            Shape::MesheryResult | Shape::FortioPayload | Shape::LegacyBenchmarkSpec => {
                Some(Kind::PerformanceTestResult)
            }
            Shape::MesheryPage => None,
        }
    }

    /// Whether a document of this shape may stand for `kind` (when the caller names the kind,
    /// a special shape of that kind is still read as that shape).
    #[must_use]
    pub fn fits(self, kind: Kind) -> bool {
        self.kind() == Some(kind)
    }

    /// The shape in words (`a Meshery performance profile`).
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Shape::Smp(_) => "an SMP message",
            Shape::MesheryWrapper => "Meshery's {test, mesh} wrapper",
            Shape::MesheryProfile => "a Meshery performance profile",
            Shape::MesheryResult => "a Meshery result record",
            Shape::FortioPayload => "a bare fortio result payload",
            Shape::LegacyBenchmarkSpec => "the legacy BenchmarkSpec export",
            Shape::MesheryPage => "a Meshery page of records",
        }
    }
}

/// A mapping whose keys belong to no known document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct UnknownShape {
    reason: String,
}

impl UnknownShape {
    /// Why (`none of its keys (a, b) belongs to a known SMP document`).
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Keys of a `PerformanceTestConfig` (folded).
const CONFIG_KEYS: &[&str] = &["clients", "duration"];
/// Keys of a `PerformanceTestResult` (folded).
const RESULT_KEYS: &[&str] = &[
    "latenciesms",
    "actualqps",
    "starttime",
    "endtime",
    "detailsuri",
    "testid",
    "meshconfigid",
    "envid",
];
/// Keys of a `ServiceMeshConfig` (folded), with its root alias `sidecars`.
const MESH_CONFIG_KEYS: &[&str] = &[
    "ingressgateway",
    "sidecar",
    "sidecars",
    "meshtelemetry",
    "meshpolicy",
    "meshcontrolplane",
    "meshpolicyenabled",
    "meshtelemetryenabled",
    "mtlsenabled",
    "proxyconcurrency",
    "meshbuild",
    "proxybuild",
    "expgroupuuid",
    "expuuid",
    "profile",
    "meshtype",
    "applicationmetadata",
];
/// Keys of an `EnvironmentConfig` (folded), with its root alias `kubernetes`.
const ENVIRONMENT_KEYS: &[&str] = &[
    "kubernetesversion",
    "kubernetes",
    "nodes",
    "individualworkloads",
    "trafficmetadata",
];
/// Keys of a `ServiceMesh` (folded).
const SERVICE_MESH_KEYS: &[&str] = &["type", "version", "labels", "annotations"];

/// What one pass over the keys found.
#[derive(Default)]
struct Seen {
    len: usize,
    test: bool,
    mesh: bool,
    only_wrapper_keys: bool,
    paging: bool,
    records: bool,
    meshery_result: bool,
    fortio: bool,
    profile: bool,
    endpoints: bool,
    qps: bool,
    benchmark: bool,
    type_or_version: bool,
    only_service_mesh_keys: bool,
    scores: [usize; 4],
}

const SCORED: [(Kind, &[&str]); 4] = [
    (Kind::PerformanceTestConfig, CONFIG_KEYS),
    (Kind::PerformanceTestResult, RESULT_KEYS),
    (Kind::ServiceMeshConfig, MESH_CONFIG_KEYS),
    (Kind::EnvironmentConfig, ENVIRONMENT_KEYS),
];

/// A key folded (ASCII lower case, without `_`, `-` and spaces) into a small buffer; every key
/// the rules know fits, so a longer or non-ASCII key is no known key (empty).
struct Folded {
    buf: [u8; 24],
    len: usize,
}

impl Folded {
    fn new(key: &str) -> Folded {
        let mut f = Folded {
            buf: [0; 24],
            len: 0,
        };
        for b in key.bytes() {
            if matches!(b, b'_' | b'-' | b' ') {
                continue;
            }
            if !b.is_ascii() || f.len == f.buf.len() {
                // No known key: an impossible folded form.
                f.len = 0;
                f.buf[0] = 0xff;
                return f;
            }
            f.buf[f.len] = b.to_ascii_lowercase();
            f.len += 1;
        }
        f
    }

    fn is(&self, folded: &str) -> bool {
        self.len > 0 && &self.buf[..self.len] == folded.as_bytes()
    }
}

fn any_of(key: &Folded, set: &[&str]) -> bool {
    set.iter().any(|k| key.is(k))
}

/// Recognises a document from its members (key as written, and what its value is).
///
/// Members whose value is `null` are not set (proto3 JSON) and do not count, except a page's
/// `null` records. The rules, first match wins: a page of records; Meshery's `{test, mesh}` wrapper (or a lone
/// `mesh`); a Meshery result record (`runner_results`, `meshery_id`); a fortio payload
/// (`DurationHistogram`); a Meshery profile (`load_generators`, `concurrent_request`, or
/// `endpoints` with `qps`); the legacy `BenchmarkSpec` (`client` as a mapping, `endpoint_url`,
/// `env`, `metrics`); then the SMP message with the most of its own keys (ties go to the
/// earlier of config, result, mesh config, environment); then a `ServiceMesh` (only `type`,
/// `version`, `labels`, `annotations`, one of the first two present).
///
/// # Errors
///
/// [`UnknownShape`] for an empty mapping or one whose keys belong to no known document.
pub fn classify<'k, I>(members: I) -> Result<Shape, UnknownShape>
where
    I: IntoIterator<Item = (&'k str, ValueKind)>,
    I::IntoIter: Clone,
{
    let members = members.into_iter();
    let mut seen = Seen {
        only_wrapper_keys: true,
        only_service_mesh_keys: true,
        ..Seen::default()
    };
    let mut null_members = 0;
    for (raw, value) in members.clone() {
        let key = &Folded::new(raw);
        // `null` means "not set" (proto3 JSON): such a key says nothing about the document,
        // except that a page's records may be `null`.
        if value == ValueKind::Null {
            null_members += 1;
            seen.records |= any_of(key, &["results", "profiles"]);
            continue;
        }
        seen.len += 1;
        let test = key.is("test");
        let mesh = key.is("mesh");
        seen.test |= test;
        seen.mesh |= mesh;
        seen.only_wrapper_keys &= test || mesh;
        seen.paging |= any_of(key, &["page", "pagesize", "totalcount"]);
        seen.records |= any_of(key, &["results", "profiles"]) && value == ValueKind::Array;
        seen.meshery_result |= any_of(key, &["runnerresults", "mesheryid"]);
        seen.fortio |= key.is("durationhistogram");
        seen.profile |= any_of(key, &["loadgenerators", "concurrentrequest"]);
        seen.endpoints |= key.is("endpoints");
        seen.qps |= key.is("qps");
        seen.benchmark |= (key.is("client") && value == ValueKind::Object)
            || any_of(key, &["endpointurl", "endpointurls", "env", "metrics"]);
        seen.type_or_version |= any_of(key, &["type", "version"]);
        seen.only_service_mesh_keys &= any_of(key, SERVICE_MESH_KEYS);
        for (score, (_, set)) in seen.scores.iter_mut().zip(SCORED) {
            *score += usize::from(any_of(key, set));
        }
    }
    if seen.paging && seen.records {
        return Ok(Shape::MesheryPage);
    }
    if (seen.test && seen.only_wrapper_keys) || (seen.len == 1 && seen.mesh) {
        return Ok(Shape::MesheryWrapper);
    }
    if seen.meshery_result {
        return Ok(Shape::MesheryResult);
    }
    if seen.fortio {
        return Ok(Shape::FortioPayload);
    }
    if seen.profile || (seen.endpoints && seen.qps) {
        return Ok(Shape::MesheryProfile);
    }
    if seen.benchmark {
        return Ok(Shape::LegacyBenchmarkSpec);
    }
    let mut best: Option<(Kind, usize)> = None;
    for ((kind, _), score) in SCORED.iter().zip(seen.scores) {
        if score > 0 && best.is_none_or(|(_, b)| score > b) {
            best = Some((*kind, score));
        }
    }
    if let Some((kind, _)) = best {
        return Ok(Shape::Smp(kind));
    }
    if seen.len > 0 && seen.type_or_version && seen.only_service_mesh_keys {
        return Ok(Shape::Smp(Kind::ServiceMesh));
    }
    if seen.len + null_members == 0 {
        return Err(UnknownShape {
            reason: "it is an empty object".to_owned(),
        });
    }
    let mut names: Vec<&str> = members.map(|(k, _)| k).take(8).collect();
    if seen.len + null_members > names.len() {
        names.push("...");
    }
    Err(UnknownShape {
        reason: format!(
            "none of its keys ({}) belongs to a known SMP document",
            names.join(", ")
        ),
    })
}

/// [`classify`] for a `serde_json` object.
///
/// # Errors
///
/// As [`classify`].
pub fn classify_object(object: &Map<String, Value>) -> Result<Shape, UnknownShape> {
    classify(object.iter().map(|(k, v)| (k.as_str(), ValueKind::from(v))))
}

/// The key of a page's records (`results` or `profiles`), if `object` is a Meshery page.
pub(crate) fn page_records(object: &Map<String, Value>) -> Option<&str> {
    if classify_object(object) != Ok(Shape::MesheryPage) {
        return None;
    }
    object
        .iter()
        .find(|(k, v)| {
            any_of(&Folded::new(k), &["results", "profiles"]) && (v.is_array() || v.is_null())
        })
        .map(|(k, _)| k.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape(v: Value) -> Result<Shape, UnknownShape> {
        classify_object(v.as_object().unwrap())
    }

    #[test]
    fn every_shape_is_recognised() {
        assert_eq!(
            shape(json!({"latencies_ms": {}})),
            Ok(Shape::Smp(Kind::PerformanceTestResult))
        );
        assert_eq!(
            shape(json!({"clients": [], "duration": "1s"})),
            Ok(Shape::Smp(Kind::PerformanceTestConfig))
        );
        assert_eq!(
            shape(json!({"test": {}, "mesh": {}})),
            Ok(Shape::MesheryWrapper)
        );
        assert_eq!(shape(json!({"mesh": {}})), Ok(Shape::MesheryWrapper));
        assert_eq!(
            shape(json!({"type": "ISTIO", "version": "1"})),
            Ok(Shape::Smp(Kind::ServiceMesh))
        );
        assert_eq!(
            shape(json!({"page": 0, "results": []})),
            Ok(Shape::MesheryPage)
        );
        assert_eq!(
            shape(json!({"page": 0, "results": "x"})).map_err(|e| e.reason().to_owned()),
            Err("none of its keys (page, results) belongs to a known SMP document".to_owned())
        );
        assert_eq!(
            shape(json!({"runner_results": {}})),
            Ok(Shape::MesheryResult)
        );
        assert_eq!(
            shape(json!({"DurationHistogram": {}})),
            Ok(Shape::FortioPayload)
        );
        assert_eq!(
            shape(json!({"endpoints": [], "qps": 1})),
            Ok(Shape::MesheryProfile)
        );
        assert_eq!(shape(json!({"client": {}})), Ok(Shape::LegacyBenchmarkSpec));
        assert_eq!(
            shape(json!({"client": "x", "duration": "1s"})),
            Ok(Shape::Smp(Kind::PerformanceTestConfig))
        );
        assert_eq!(
            shape(json!({})).map_err(|e| e.reason().to_owned()),
            Err("it is an empty object".to_owned())
        );
        // `null` is "not set": it says nothing about the kind.
        assert_eq!(
            shape(json!({"version": null})).map_err(|e| e.reason().to_owned()),
            Err("none of its keys (version) belongs to a known SMP document".to_owned())
        );
        assert_eq!(
            shape(json!({"latencies_ms": {}, "clients": null})),
            Ok(Shape::Smp(Kind::PerformanceTestResult))
        );
        assert_eq!(
            shape(json!({"page": 0, "results": null})),
            Ok(Shape::MesheryPage)
        );
    }

    #[test]
    fn root_aliases_count_for_their_kind() {
        assert_eq!(
            shape(json!({"kubernetes": "v1.2.3"})),
            Ok(Shape::Smp(Kind::EnvironmentConfig))
        );
        assert_eq!(
            shape(json!({"sidecars": {}})),
            Ok(Shape::Smp(Kind::ServiceMeshConfig))
        );
        assert_eq!(
            shape(json!({"kubernetes": "v1", "nodes": [], "sidecar": {}})),
            Ok(Shape::Smp(Kind::EnvironmentConfig))
        );
    }

    #[test]
    fn shapes_fit_their_kinds() {
        assert!(Shape::MesheryProfile.fits(Kind::PerformanceTestConfig));
        assert!(!Shape::MesheryProfile.fits(Kind::PerformanceTestResult));
        assert!(Shape::FortioPayload.fits(Kind::PerformanceTestResult));
        assert!(!Shape::MesheryPage.fits(Kind::PerformanceTestResult));
    }
}
