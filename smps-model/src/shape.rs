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

/// What a folded key says about the document it is in: one bit per rule of [`classify`].
mod role {
    pub(super) const TEST: u32 = 1;
    pub(super) const MESH: u32 = 1 << 1;
    /// `page`, `pagesize`, `totalcount`.
    pub(super) const PAGING: u32 = 1 << 2;
    /// `results`, `profiles`.
    pub(super) const RECORDS: u32 = 1 << 3;
    pub(super) const MESHERY_RESULT: u32 = 1 << 4;
    pub(super) const FORTIO: u32 = 1 << 5;
    pub(super) const PROFILE: u32 = 1 << 6;
    pub(super) const ENDPOINTS: u32 = 1 << 7;
    pub(super) const QPS: u32 = 1 << 8;
    /// `client` (the legacy spec when its value is a mapping).
    pub(super) const CLIENT: u32 = 1 << 9;
    pub(super) const BENCHMARK: u32 = 1 << 10;
    pub(super) const TYPE_OR_VERSION: u32 = 1 << 11;
    pub(super) const SERVICE_MESH: u32 = 1 << 12;
    /// The scored kinds, in the order of `SCORED`.
    pub(super) const CONFIG: u32 = 1 << 13;
    pub(super) const RESULT: u32 = 1 << 14;
    pub(super) const MESH_CONFIG: u32 = 1 << 15;
    pub(super) const ENVIRONMENT: u32 = 1 << 16;
    pub(super) const SCORED: [u32; 4] = [CONFIG, RESULT, MESH_CONFIG, ENVIRONMENT];
}

/// Every folded key a rule knows, sorted by bytes, with its roles ([`ROLE_TABLE`] is built
/// from it): one lookup per key instead of a comparison with each key of each rule. A test
/// checks this list against the rules' key sets.
const ROLES: &[(&str, u32)] = &[
    ("actualqps", role::RESULT),
    ("annotations", role::SERVICE_MESH),
    ("applicationmetadata", role::MESH_CONFIG),
    ("client", role::CLIENT),
    ("clients", role::CONFIG),
    ("concurrentrequest", role::PROFILE),
    ("detailsuri", role::RESULT),
    ("duration", role::CONFIG),
    ("durationhistogram", role::FORTIO),
    ("endpoints", role::ENDPOINTS),
    ("endpointurl", role::BENCHMARK),
    ("endpointurls", role::BENCHMARK),
    ("endtime", role::RESULT),
    ("env", role::BENCHMARK),
    ("envid", role::RESULT),
    ("expgroupuuid", role::MESH_CONFIG),
    ("expuuid", role::MESH_CONFIG),
    ("individualworkloads", role::ENVIRONMENT),
    ("ingressgateway", role::MESH_CONFIG),
    ("kubernetes", role::ENVIRONMENT),
    ("kubernetesversion", role::ENVIRONMENT),
    ("labels", role::SERVICE_MESH),
    ("latenciesms", role::RESULT),
    ("loadgenerators", role::PROFILE),
    ("mesh", role::MESH),
    ("meshbuild", role::MESH_CONFIG),
    ("meshconfigid", role::RESULT),
    ("meshcontrolplane", role::MESH_CONFIG),
    ("mesheryid", role::MESHERY_RESULT),
    ("meshpolicy", role::MESH_CONFIG),
    ("meshpolicyenabled", role::MESH_CONFIG),
    ("meshtelemetry", role::MESH_CONFIG),
    ("meshtelemetryenabled", role::MESH_CONFIG),
    ("meshtype", role::MESH_CONFIG),
    ("metrics", role::BENCHMARK),
    ("mtlsenabled", role::MESH_CONFIG),
    ("nodes", role::ENVIRONMENT),
    ("page", role::PAGING),
    ("pagesize", role::PAGING),
    ("profile", role::MESH_CONFIG),
    ("profiles", role::RECORDS),
    ("proxybuild", role::MESH_CONFIG),
    ("proxyconcurrency", role::MESH_CONFIG),
    ("qps", role::QPS),
    ("results", role::RECORDS),
    ("runnerresults", role::MESHERY_RESULT),
    ("sidecar", role::MESH_CONFIG),
    ("sidecars", role::MESH_CONFIG),
    ("starttime", role::RESULT),
    ("test", role::TEST),
    ("testid", role::RESULT),
    ("totalcount", role::PAGING),
    ("trafficmetadata", role::ENVIRONMENT),
    ("type", role::TYPE_OR_VERSION | role::SERVICE_MESH),
    ("version", role::TYPE_OR_VERSION | role::SERVICE_MESH),
];

/// A folded key as two big-endian integers of its zero-padded bytes: no known key holds a
/// zero byte, so two packed keys are equal when the keys are, in two integer comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed(u128, u64);

const fn pack(bytes: &[u8]) -> Packed {
    let mut buf = [0u8; 24];
    let mut i = 0;
    while i < bytes.len() {
        buf[i] = bytes[i];
        i += 1;
    }
    let mut hi = 0u128;
    let mut lo = 0u64;
    let mut j = 0;
    while j < 16 {
        hi = hi << 8 | buf[j] as u128;
        j += 1;
    }
    while j < 24 {
        lo = lo << 8 | buf[j] as u64;
        j += 1;
    }
    Packed(hi, lo)
}

/// Slots of [`ROLE_TABLE`] (a power of two, about four times the keys: short probes).
const SLOTS: usize = 256;

/// The slot a packed key hashes to.
const fn slot_of(p: Packed) -> usize {
    let h = (p.0 ^ (p.0 >> 64) ^ p.1 as u128) as u64;
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize
}

/// [`ROLES`] as an open-addressing hash table of packed keys, built at compile time: a
/// lookup is one hash and a probe or two, not a search. `Packed(0, 0)` marks an empty slot
/// (no key packs to it: the empty key is never looked up).
const ROLE_TABLE: [(Packed, u32); SLOTS] = {
    let mut t = [(Packed(0, 0), 0); SLOTS];
    let mut i = 0;
    while i < ROLES.len() {
        let p = pack(ROLES[i].0.as_bytes());
        let mut at = slot_of(p);
        while t[at].0.0 != 0 || t[at].0.1 != 0 {
            at = (at + 1) % SLOTS;
        }
        t[at] = (p, ROLES[i].1);
        i += 1;
    }
    t
};

/// The roles of a folded key (0 for a key no rule knows).
fn roles(key: &Folded) -> u32 {
    if key.len == 0 {
        return 0;
    }
    let k = key.packed();
    let mut at = slot_of(k);
    loop {
        let (p, r) = ROLE_TABLE[at];
        if p == k {
            return r;
        }
        if p == Packed(0, 0) {
            return 0;
        }
        at = (at + 1) % SLOTS;
    }
}

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

/// The SMP messages recognised by how many of their own keys a mapping has, in the order of
/// `role::SCORED` (ties go to the earlier).
const SCORED: [Kind; 4] = [
    Kind::PerformanceTestConfig,
    Kind::PerformanceTestResult,
    Kind::ServiceMeshConfig,
    Kind::EnvironmentConfig,
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

    /// The key packed for lookup in [`ROLE_TABLE`].
    fn packed(&self) -> Packed {
        let mut hi = [0u8; 16];
        let mut lo = [0u8; 8];
        hi.copy_from_slice(&self.buf[..16]);
        lo.copy_from_slice(&self.buf[16..]);
        Packed(u128::from_be_bytes(hi), u64::from_be_bytes(lo))
    }
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
        let r = roles(&Folded::new(raw));
        let has = |bit: u32| r & bit != 0;
        // `null` means "not set" (proto3 JSON): such a key says nothing about the document,
        // except that a page's records may be `null`.
        if value == ValueKind::Null {
            null_members += 1;
            seen.records |= has(role::RECORDS);
            continue;
        }
        seen.len += 1;
        seen.test |= has(role::TEST);
        seen.mesh |= has(role::MESH);
        seen.only_wrapper_keys &= has(role::TEST | role::MESH);
        seen.paging |= has(role::PAGING);
        seen.records |= has(role::RECORDS) && value == ValueKind::Array;
        seen.meshery_result |= has(role::MESHERY_RESULT);
        seen.fortio |= has(role::FORTIO);
        seen.profile |= has(role::PROFILE);
        seen.endpoints |= has(role::ENDPOINTS);
        seen.qps |= has(role::QPS);
        seen.benchmark |= (has(role::CLIENT) && value == ValueKind::Object) || has(role::BENCHMARK);
        seen.type_or_version |= has(role::TYPE_OR_VERSION);
        seen.only_service_mesh_keys &= has(role::SERVICE_MESH);
        for (score, bit) in seen.scores.iter_mut().zip(role::SCORED) {
            *score += usize::from(has(bit));
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
    for (kind, score) in SCORED.iter().zip(seen.scores) {
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
        .find(|(k, v)| roles(&Folded::new(k)) & role::RECORDS != 0 && (v.is_array() || v.is_null()))
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

    /// The scored kinds' key sets, in the order of [`SCORED`].
    const SCORED_SETS: [&[&str]; 4] =
        [CONFIG_KEYS, RESULT_KEYS, MESH_CONFIG_KEYS, ENVIRONMENT_KEYS];

    /// Keys of a `ServiceMesh` (folded).
    const SERVICE_MESH_KEYS: &[&str] = &["type", "version", "labels", "annotations"];

    /// The roles of a folded key as the rules define them, one key set at a time.
    fn roles_by_the_sets(key: &str) -> u32 {
        let is = |set: &[&str]| set.contains(&key);
        let mut r = 0;
        for (bit, set) in [
            (role::TEST, &["test"][..]),
            (role::MESH, &["mesh"]),
            (role::PAGING, &["page", "pagesize", "totalcount"]),
            (role::RECORDS, &["results", "profiles"]),
            (role::MESHERY_RESULT, &["runnerresults", "mesheryid"]),
            (role::FORTIO, &["durationhistogram"]),
            (role::PROFILE, &["loadgenerators", "concurrentrequest"]),
            (role::ENDPOINTS, &["endpoints"]),
            (role::QPS, &["qps"]),
            (role::CLIENT, &["client"]),
            (
                role::BENCHMARK,
                &["endpointurl", "endpointurls", "env", "metrics"],
            ),
            (role::TYPE_OR_VERSION, &["type", "version"]),
            (role::SERVICE_MESH, SERVICE_MESH_KEYS),
        ] {
            if is(set) {
                r |= bit;
            }
        }
        for (bit, set) in role::SCORED.iter().zip(SCORED_SETS) {
            if is(set) {
                r |= bit;
            }
        }
        r
    }

    #[test]
    fn the_role_table_is_sorted_and_agrees_with_the_key_sets() {
        assert!(
            ROLES
                .windows(2)
                .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes())
        );
        for (key, bits) in ROLES {
            assert_eq!(*bits, roles_by_the_sets(key), "{key}");
            assert_eq!(roles(&Folded::new(key)), *bits, "{key}");
        }
        let every_set_key = SCORED_SETS
            .iter()
            .flat_map(|set| set.iter())
            .chain(SERVICE_MESH_KEYS);
        for key in every_set_key {
            assert!(ROLES.iter().any(|(k, _)| k == key), "{key} missing");
        }
        for key in [
            "Latencies_MS",
            "end-time",
            "KUBERNETES",
            "x",
            "",
            "ünïcode",
            "a_very_long_key_that_is_no_rule",
        ] {
            let folded = Folded::new(key);
            let expect = if folded.len == 0 {
                0
            } else {
                roles_by_the_sets(std::str::from_utf8(&folded.buf[..folded.len]).unwrap())
            };
            assert_eq!(roles(&folded), expect, "{key}");
        }
    }

    #[test]
    fn shapes_fit_their_kinds() {
        assert!(Shape::MesheryProfile.fits(Kind::PerformanceTestConfig));
        assert!(!Shape::MesheryProfile.fits(Kind::PerformanceTestResult));
        assert!(Shape::FortioPayload.fits(Kind::PerformanceTestResult));
        assert!(!Shape::MesheryPage.fits(Kind::PerformanceTestResult));
    }
}
