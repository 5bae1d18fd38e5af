//! Key canonicalisation: the spellings real files use → the proto3 JSON (lowerCamelCase) names
//! the schemas describe.
//!
//! Parsers call [`key`] on every mapping key outside user maps, so the tree handed to the schema
//! validator has canonical keys; the locators call the same function while walking the source,
//! so a finding on a canonical pointer is traced back to the key the user wrote.

use std::borrow::Cow;

use smps_model::Kind;

/// Legacy or alternative names (after snake→camel conversion) and their canonical names.
/// Context-free: each left side is unambiguous wherever it appears.
const ALIASES: &[(&str, &str)] = &[
    ("smpsVersion", "smpVersion"),
    ("endpointUrl", "endpointUrls"),
    ("actualQPS", "actualQps"),
    ("cpuMCores", "cpuMcores"),
    ("calicoHostendpoint", "hostEndpoint"),
    ("avg", "average"),
    ("mean", "average"),
];

fn alias(camel: &str) -> Option<&'static str> {
    // Cheap pre-filter: every alias starts with one of these letters.
    if !matches!(
        camel.as_bytes().first(),
        Some(b's' | b'e' | b'a' | b'c' | b'm')
    ) {
        return None;
    }
    ALIASES
        .iter()
        .find(|(from, _)| *from == camel)
        .map(|(_, to)| *to)
}

/// The canonical form of a mapping key written outside a user map.
pub(crate) fn key(raw: &str) -> Cow<'_, str> {
    let camel: Cow<'_, str> = if raw.contains('_') {
        let mut out = String::with_capacity(raw.len());
        let mut upper = false;
        for c in raw.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(raw)
    };
    match alias(&camel) {
        Some(to) => Cow::Borrowed(to),
        None => camel,
    }
}

/// Whether a key without `_` is one of the legacy names (so [`key`] renames it). With no `_`,
/// `key(raw) == raw` exactly when this is `false`.
#[inline]
pub(crate) fn is_alias(raw: &str) -> bool {
    // Every alias is 3, 4, 9, 11 or 18 bytes long (the test below checks every alias).
    matches!(raw.len(), 3 | 4 | 9 | 11 | 18) && alias(raw).is_some()
}

/// Whether the (canonical) field holds a user map whose keys are data, not field names.
pub(crate) fn is_user_map(canonical: &str) -> bool {
    matches!(canonical, "labels" | "headers" | "cookies" | "annotations")
}

/// Root-level aliases that only hold for one kind (`sidecars` is also a real field deeper down).
pub(crate) fn root_alias(kind: Kind, canonical: &str) -> Option<&'static str> {
    match (kind, canonical) {
        (Kind::ServiceMeshConfig, "sidecars") => Some("sidecar"),
        (Kind::EnvironmentConfig, "kubernetes") => Some("kubernetesVersion"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_becomes_lower_camel_case() {
        assert_eq!(key("latencies_ms"), "latenciesMs");
        assert_eq!(key("k8s_version_supported"), "k8sVersionSupported");
        assert_eq!(key("latenciesMs"), "latenciesMs");
        assert_eq!(key("p99"), "p99");
    }

    #[test]
    fn legacy_aliases_map_to_canonical_names() {
        assert_eq!(key("smps_version"), "smpVersion");
        assert_eq!(key("smpsVersion"), "smpVersion");
        assert_eq!(key("cpu_mCores"), "cpuMcores");
        assert_eq!(key("cpu_mcores"), "cpuMcores");
        assert_eq!(key("endpoint_url"), "endpointUrls");
        assert_eq!(key("endpointUrl"), "endpointUrls");
        assert_eq!(key("actual_QPS"), "actualQps");
        assert_eq!(key("avg"), "average");
    }

    #[test]
    fn is_alias_is_what_key_renames() {
        for k in [
            "smpsVersion",
            "endpointUrl",
            "actualQPS",
            "cpuMCores",
            "calicoHostendpoint",
            "avg",
            "mean",
            "smpVersion",
            "average",
            "p99",
            "",
            "m",
        ] {
            assert_eq!(is_alias(k), key(k) != k, "{k}");
        }
    }

    #[test]
    fn root_aliases_depend_on_the_kind() {
        assert_eq!(
            root_alias(Kind::ServiceMeshConfig, "sidecars"),
            Some("sidecar")
        );
        assert_eq!(root_alias(Kind::PerformanceTestResult, "sidecars"), None);
        assert_eq!(
            root_alias(Kind::EnvironmentConfig, "kubernetes"),
            Some("kubernetesVersion")
        );
    }
}
