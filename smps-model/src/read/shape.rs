//! Which SMP document an object is, recognised from its keys in any casing.

use serde_json::{Map, Value};

use super::*;

/// The shape of a document, recognised from its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Wrapper,
    Profile,
    MesheryResult,
    Fortio,
    BenchmarkSpec,
    Proto(Kind),
}

pub(super) const CONFIG_KEYS: &[&str] = &["clients", "duration"];
pub(super) const RESULT_KEYS: &[&str] = &[
    "latenciesms",
    "actualqps",
    "starttime",
    "endtime",
    "detailsuri",
    "testid",
    "meshconfigid",
    "envid",
];
pub(super) const MESH_CONFIG_KEYS: &[&str] = &[
    "ingressgateway",
    "sidecar",
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
pub(super) const ENVIRONMENT_KEYS: &[&str] = &[
    "kubernetesversion",
    "nodes",
    "individualworkloads",
    "trafficmetadata",
];
pub(super) const SERVICE_MESH_KEYS: &[&str] = &["type", "version", "labels", "annotations"];

pub(super) fn classify(obj: &Map<String, Value>) -> std::result::Result<Shape, String> {
    let keys: Vec<String> = obj.keys().map(|k| fold(k)).collect();
    let has = |k: &str| keys.iter().any(|x| x == k);
    if has("test") && keys.iter().all(|k| k == "test" || k == "mesh") {
        return Ok(Shape::Wrapper);
    }
    if keys.len() == 1 && has("mesh") {
        return Ok(Shape::Wrapper);
    }
    if has("runnerresults") || has("mesheryid") {
        return Ok(Shape::MesheryResult);
    }
    if has("durationhistogram") {
        return Ok(Shape::Fortio);
    }
    if has("loadgenerators") || has("concurrentrequest") || (has("endpoints") && has("qps")) {
        return Ok(Shape::Profile);
    }
    if get_folded(obj, "client").is_some_and(|(_, v)| v.is_object())
        || has("endpointurl")
        || has("env")
        || has("metrics")
    {
        return Ok(Shape::BenchmarkSpec);
    }
    let score = |set: &[&str]| keys.iter().filter(|k| set.contains(&k.as_str())).count();
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
    if let Some((kind, _)) = best {
        return Ok(Shape::Proto(kind));
    }
    if !keys.is_empty()
        && (has("type") || has("version"))
        && keys.iter().all(|k| SERVICE_MESH_KEYS.contains(&k.as_str()))
    {
        return Ok(Shape::Proto(Kind::ServiceMesh));
    }
    let mut names: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
    if names.is_empty() {
        return Err("it is an empty object".to_owned());
    }
    if obj.len() > names.len() {
        names.push("...");
    }
    Err(format!(
        "none of its keys ({}) belongs to a known SMP document",
        names.join(", ")
    ))
}

/// Whether a special shape may stand for the requested kind.
pub(super) fn shape_fits(shape: Shape, kind: Kind) -> bool {
    match shape {
        Shape::Wrapper | Shape::Profile => kind == Kind::PerformanceTestConfig,
        Shape::MesheryResult | Shape::Fortio | Shape::BenchmarkSpec => {
            kind == Kind::PerformanceTestResult
        }
        Shape::Proto(k) => k == kind,
    }
}

pub(super) fn is_envelope(obj: &Map<String, Value>) -> Option<&str> {
    let paging = obj
        .keys()
        .any(|k| matches!(fold(k).as_str(), "page" | "pagesize" | "totalcount"));
    if !paging {
        return None;
    }
    ["results", "profiles"]
        .into_iter()
        .find(|k| obj.get(*k).is_some_and(|v| v.is_array() || v.is_null()))
}
