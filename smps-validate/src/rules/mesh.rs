//! The rules of a `ServiceMesh`, an `EnvironmentConfig` and a `ServiceMeshConfig`: mesh type,
//! Kubernetes versions, negative resources.

use smps_model::MeshType;

use crate::doc::Pointer;
use crate::tree::{Object, Tree};
use crate::violation::{Rule, ViolationKind};

use super::common::*;

pub(crate) fn check_service_mesh<T: Tree>(m: &T::Map, sink: &mut Sink<'_>) {
    if let Some(raw) = field::<T>(m, "type") {
        check_enum(
            raw,
            &Pointer::root().child("type"),
            "mesh type",
            sink,
            |v| match v {
                EnumIn::Number(n) => MeshType::from_number(n).map(|t| (t, t == MeshType::Invalid)),
                EnumIn::Name(s) => MeshType::parse(s).ok().map(|t| (t, t == MeshType::Invalid)),
            },
        );
    }
}

/// Resource figures that cannot be negative, wherever they appear.
pub(super) const RESOURCE_FIELDS: &[&str] = &[
    "count",
    "cores",
    "cpuMcores",
    "memMb",
    "rps",
    "bps",
    "sidecars",
    "endpoints",
    "services",
    "virtualServices",
    "destinationRules",
    "ldsLatencyMs",
    "cdsLatencyMs",
    "cacheHitRate",
    "proxyConcurrency",
];

pub(super) fn negative_resources<T: Tree>(
    m: &T::Map,
    at: &Pointer,
    sink: &mut Sink<'_>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    for (k, child) in m.members() {
        if smps_model::spelling::is_user_map(k) {
            continue;
        }
        let p = at.child(k);
        if RESOURCE_FIELDS.contains(&k) {
            if k == "memMb" || k == "rps" {
                int64_overflow(child, &p, sink);
            }
            if number(child).is_some_and(|n| n < 0.0) {
                sink.push(
                    Rule::NegativeResource,
                    p.clone(),
                    ViolationKind::OutOfRange {
                        expected: format!("a non-negative {k}"),
                        actual: child.to_value(),
                    },
                );
            }
        }
        negative_resources_in(child, &p, sink, depth + 1);
    }
}

pub(super) fn negative_resources_in<T: Tree>(
    v: &T,
    at: &Pointer,
    sink: &mut Sink<'_>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    if let Some(m) = v.as_object() {
        negative_resources::<T>(m, at, sink, depth);
    } else if let Some(items) = v.as_array() {
        for (i, child) in items.iter().enumerate() {
            negative_resources_in(child, &at.child(i.to_string()), sink, depth + 1);
        }
    }
}

pub(crate) fn check_environment<T: Tree>(e: &T::Map, sink: &mut Sink<'_>) {
    if let Some(raw) = field::<T>(e, "kubernetesVersion") {
        if let Some(s) = raw.as_str() {
            if !s.is_empty() && !is_kubernetes_version(s) {
                sink.push(
                    Rule::KubernetesVersion,
                    Pointer::root().child("kubernetesVersion"),
                    ViolationKind::Malformed {
                        expected: "a Kubernetes version such as `v1.29.3` or `gke-1.10.5`".into(),
                        actual: raw.to_value(),
                        reason:
                            "it is not MAJOR.MINOR[.PATCH] with an optional `v` or vendor prefix"
                                .into(),
                    },
                );
            }
        }
    }
    negative_resources::<T>(e, &Pointer::root(), sink, 0);
}

pub(crate) fn check_mesh_config<T: Tree>(m: &T::Map, sink: &mut Sink<'_>) {
    if let Some(mesh) = obj(field::<T>(m, "meshType")) {
        let mut inner = Vec::new();
        check_service_mesh::<T>(mesh, &mut Sink { out: &mut inner });
        for mut f in inner {
            f.pointer = f.pointer.under(&Pointer::root().child("meshType"));
            sink.out.push(f);
        }
    }
    negative_resources::<T>(m, &Pointer::root(), sink, 0);
}

/// `v1.29.3`, `1.15`, `v1.15.5-gke.1`, `gke-1.10.5`, `v1.28.2+k3s1`.
pub(crate) fn is_kubernetes_version(s: &str) -> bool {
    let s = match s.find(|c: char| c.is_ascii_digit()) {
        Some(0) => s,
        Some(i) => {
            let prefix = &s[..i];
            let ok = prefix == "v"
                || (prefix.ends_with('-')
                    && prefix[..prefix.len() - 1]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric())
                    && prefix.len() > 1)
                || (prefix.ends_with("-v")
                    && prefix[..prefix.len() - 2]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric()));
            if !ok {
                return false;
            }
            &s[i..]
        }
        None => return false,
    };
    let (core, suffix) = match s.find(['-', '+']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit());
    if !(2..=3).contains(&parts.len()) || !parts.iter().all(numeric) {
        return false;
    }
    suffix.is_none_or(|x| {
        !x.is_empty()
            && x.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
    })
}
