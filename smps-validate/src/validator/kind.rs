//! Which kind of SMP document a tree is, from its canonical keys (mirrors smps-model's
//! reader).

use smps_model::Kind;

use crate::tree::{Object, Tree};

pub(super) enum Shape {
    Wrapper,
    Proto(Kind),
    Other(&'static str),
    Unknown(String),
}

pub(super) fn is_wrapper<T: Tree>(m: &T::Map) -> bool {
    let has = |k: &str| m.get(k).is_some();
    let len = m.members().count();
    (has("test") && m.members().all(|(k, _)| k == "test" || k == "mesh"))
        || (len == 1 && has("mesh"))
}

pub(super) const CONFIG_KEYS: &[&str] = &["clients", "duration"];
pub(super) const RESULT_KEYS: &[&str] = &[
    "latenciesMs",
    "actualQps",
    "startTime",
    "endTime",
    "detailsUri",
    "testId",
    "meshConfigId",
    "envId",
];
pub(super) const MESH_CONFIG_KEYS: &[&str] = &[
    "ingressGateway",
    "sidecar",
    "meshTelemetry",
    "meshPolicy",
    "meshControlPlane",
    "meshPolicyEnabled",
    "meshTelemetryEnabled",
    "mtlsEnabled",
    "proxyConcurrency",
    "meshBuild",
    "proxyBuild",
    "expGroupUuid",
    "expUuid",
    "profile",
    "meshType",
    "applicationMetadata",
];
pub(super) const ENVIRONMENT_KEYS: &[&str] = &[
    "kubernetesVersion",
    "nodes",
    "individualWorkloads",
    "trafficMetadata",
];
pub(super) const SERVICE_MESH_KEYS: &[&str] = &["type", "version", "labels", "annotations"];

/// Recognises a document from its (canonical) keys, mirroring smps-model's reader.
pub(super) fn classify<T: Tree>(m: &T::Map) -> Shape {
    let keys = || m.members().map(|(k, _)| k);
    let has = |k: &str| m.get(k).is_some();
    // Fast path, same answer as below: only result fields (and the common ones) present.
    if has("latenciesMs")
        && keys().all(|k| RESULT_KEYS.contains(&k) || matches!(k, "smpVersion" | "id" | "labels"))
    {
        return Shape::Proto(Kind::PerformanceTestResult);
    }
    if is_wrapper::<T>(m) {
        return Shape::Wrapper;
    }
    if has("runnerResults") || has("mesheryId") {
        return Shape::Other("a Meshery result record");
    }
    if keys().any(|k| k.eq_ignore_ascii_case("durationHistogram")) {
        return Shape::Other("a bare fortio result payload");
    }
    if has("loadGenerators") || has("concurrentRequest") || (has("endpoints") && has("qps")) {
        return Shape::Other("a Meshery performance profile");
    }
    if m.get("client").is_some_and(|c| c.as_object().is_some()) || has("env") || has("metrics") {
        return Shape::Other("the legacy BenchmarkSpec export");
    }
    if ["page", "pageSize", "totalCount"].iter().any(|k| has(k))
        && (has("results") || has("profiles"))
    {
        return Shape::Other("a Meshery page of records");
    }
    let score = |set: &[&str]| keys().filter(|k| set.contains(k)).count();
    let mut best: Option<(Kind, usize)> = None;
    for (kind, set) in [
        (Kind::PerformanceTestConfig, CONFIG_KEYS),
        (Kind::PerformanceTestResult, RESULT_KEYS),
        (Kind::ServiceMeshConfig, MESH_CONFIG_KEYS),
        (Kind::EnvironmentConfig, ENVIRONMENT_KEYS),
    ] {
        let s = score(set);
        if s > 0 && best.is_none_or(|(_, b)| s > b) {
            best = Some((kind, s));
        }
    }
    // Legacy root aliases count too.
    if best.is_none() && has("kubernetes") {
        best = Some((Kind::EnvironmentConfig, 1));
    }
    if best.is_none() && has("sidecars") {
        best = Some((Kind::ServiceMeshConfig, 1));
    }
    if let Some((kind, _)) = best {
        return Shape::Proto(kind);
    }
    let len = keys().count();
    if len > 0 && (has("type") || has("version")) && keys().all(|k| SERVICE_MESH_KEYS.contains(&k))
    {
        return Shape::Proto(Kind::ServiceMesh);
    }
    if len == 0 {
        return Shape::Unknown("it is an empty object".into());
    }
    let mut names: Vec<&str> = keys().take(8).collect();
    if len > names.len() {
        names.push("...");
    }
    Shape::Unknown(format!(
        "none of its keys ({}) belongs to a known SMP document; give the kind explicitly",
        names.join(", ")
    ))
}
