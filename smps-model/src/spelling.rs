//! How SMP keys and values are spelled: the rules every reader of this family shares.
//!
//! Real files write the same field as `latencies_ms`, `latenciesMs` or (legacy) under another
//! name (`smps_version`, `endpoint_url`, `actual_QPS`, `cpu_mCores`). The model's serde types
//! accept each spelling; this module states the same rules as data, for tools that walk a tree
//! themselves (`smps-validate` canonicalises every key with [`canonical_key`]):
//!
//! * [`canonical_key`]: snake_case → lowerCamelCase, then the context-free [`ALIASES`];
//! * [`root_alias`]: aliases that hold only at the root of one kind (`kubernetes` →
//!   `kubernetesVersion` in an `EnvironmentConfig`);
//! * [`is_user_map`]: fields whose keys are data (`labels`, `headers`, ...), never renamed;
//! * [`scalar_text`]: the text a number or boolean becomes in a text field.
//!
//! # Numbers where the model wants text
//!
//! A text field written as a number or a boolean (`name: 1e3`, `version: 1.20`, `name: true`,
//! `name: .inf`) is read as that value's text: `"1000"`, `"1.2"`, `"true"`, `"Infinity"`. The
//! text is the number's shortest form, not the characters written, so `1.20` loses its `0`;
//! YAML's `.inf` / `.nan` have no JSON number, and become proto3 JSON's spelling (`"Infinity"`,
//! `"NaN"`) while the text is parsed, like every non-finite number. `smps-validate` reads them
//! all the same way, calls such a document valid, and warns (`read-as-text`) at each number or
//! boolean in a text field, naming the text readers take; quote the value to keep it as written.
//!
//! ```
//! use smps_model::spelling::{canonical_key, root_alias, scalar_text};
//! use smps_model::Kind;
//!
//! assert_eq!(canonical_key("latencies_ms"), "latenciesMs");
//! assert_eq!(canonical_key("smps_version"), "smpVersion");
//! assert_eq!(root_alias(Kind::EnvironmentConfig, "kubernetes"), Some("kubernetesVersion"));
//! assert_eq!(scalar_text(&serde_json::json!(1e3)).as_deref(), Some("1000"));
//! ```

use std::borrow::Cow;

use serde_json::Value;

use crate::fold::folded_eq;
use crate::kind::Kind;

/// Legacy or alternative names (after snake_case → lowerCamelCase) and their canonical names.
/// Context-free: each left side is unambiguous wherever it appears.
pub const ALIASES: &[(&str, &str)] = &[
    ("smpsVersion", "smpVersion"),
    ("endpointUrl", "endpointUrls"),
    ("actualQPS", "actualQps"),
    ("cpuMCores", "cpuMcores"),
    ("calicoHostendpoint", "hostEndpoint"),
    ("avg", "average"),
    ("mean", "average"),
];

/// Aliases that hold only at the root of one kind (`sidecars` is also a real field deeper
/// down): `(kind, alias, canonical)`.
pub const ROOT_ALIASES: &[(Kind, &str, &str)] = &[
    (Kind::ServiceMeshConfig, "sidecars", "sidecar"),
    (Kind::EnvironmentConfig, "kubernetes", "kubernetesVersion"),
];

/// The canonical name of an alias (already in lowerCamelCase), if it is one.
#[must_use]
pub fn alias(camel: &str) -> Option<&'static str> {
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

/// The canonical (proto3 JSON, lowerCamelCase) form of a key written outside a user map:
/// snake_case becomes lowerCamelCase, then [`ALIASES`] apply. Borrowed when nothing changes.
///
/// ```
/// use smps_model::spelling::canonical_key;
/// assert_eq!(canonical_key("k8s_version_supported"), "k8sVersionSupported");
/// assert_eq!(canonical_key("actual_QPS"), "actualQps");
/// assert_eq!(canonical_key("p99"), "p99");
/// ```
#[must_use]
pub fn canonical_key(raw: &str) -> Cow<'_, str> {
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

/// Whether a key without `_` is one of the legacy names (so [`canonical_key`] renames it).
/// With no `_`, `canonical_key(raw) == raw` exactly when this is `false`.
#[inline]
#[must_use]
pub fn is_alias(raw: &str) -> bool {
    // Every alias is 3, 4, 9, 11 or 18 bytes long (a test checks every alias).
    matches!(raw.len(), 3 | 4 | 9 | 11 | 18) && alias(raw).is_some()
}

/// The canonical name of a root key that is an alias only at the root of `kind`.
#[must_use]
pub fn root_alias(kind: Kind, canonical: &str) -> Option<&'static str> {
    ROOT_ALIASES
        .iter()
        .find(|(k, from, _)| *k == kind && *from == canonical)
        .map(|(_, _, to)| *to)
}

/// Whether the field (canonical name, or any casing) holds a user map whose keys are data,
/// not field names.
#[must_use]
pub fn is_user_map(key: &str) -> bool {
    // Parsers ask this of every key: the canonical names answer without folding, and no other
    // spelling of them is shorter than six bytes or starts with another letter.
    matches!(key, "labels" | "headers" | "cookies" | "annotations")
        || (key.len() >= 6
            && matches!(
                key.as_bytes()[0].to_ascii_lowercase(),
                b'l' | b'h' | b'c' | b'a'
            )
            && ["labels", "headers", "cookies", "annotations"]
                .iter()
                .any(|m| folded_eq(key, m)))
}

/// The text a scalar becomes in a text field (see the module docs): strings as they are,
/// numbers in their shortest form, booleans as `true` / `false`; `None` for `null`, lists and
/// mappings.
#[must_use]
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number_text(n)),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A number's text as the model's text fields read it.
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_becomes_lower_camel_case() {
        assert_eq!(canonical_key("latencies_ms"), "latenciesMs");
        assert_eq!(
            canonical_key("k8s_version_supported"),
            "k8sVersionSupported"
        );
        assert_eq!(canonical_key("latenciesMs"), "latenciesMs");
        assert_eq!(canonical_key("p99"), "p99");
    }

    #[test]
    fn legacy_aliases_map_to_canonical_names() {
        assert_eq!(canonical_key("smps_version"), "smpVersion");
        assert_eq!(canonical_key("smpsVersion"), "smpVersion");
        assert_eq!(canonical_key("cpu_mCores"), "cpuMcores");
        assert_eq!(canonical_key("cpu_mcores"), "cpuMcores");
        assert_eq!(canonical_key("endpoint_url"), "endpointUrls");
        assert_eq!(canonical_key("endpointUrl"), "endpointUrls");
        assert_eq!(canonical_key("actual_QPS"), "actualQps");
        assert_eq!(canonical_key("avg"), "average");
    }

    #[test]
    fn is_alias_is_what_canonical_key_renames() {
        for (from, _) in ALIASES {
            assert!(is_alias(from), "{from}");
        }
        for k in [
            "smpVersion",
            "average",
            "p99",
            "",
            "m",
            "sidecars",
            "kubernetes",
        ] {
            assert_eq!(is_alias(k), canonical_key(k) != k, "{k}");
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

    #[test]
    fn user_maps_in_any_casing() {
        assert!(is_user_map("labels"));
        assert!(is_user_map("Labels"));
        assert!(is_user_map("annotations"));
        assert!(!is_user_map("label"));
        assert!(!is_user_map("clients"));
    }

    #[test]
    fn scalars_become_text() {
        use serde_json::json;
        assert_eq!(scalar_text(&json!(1e3)).as_deref(), Some("1000"));
        assert_eq!(scalar_text(&json!(1.20)).as_deref(), Some("1.2"));
        assert_eq!(scalar_text(&json!(-7)).as_deref(), Some("-7"));
        assert_eq!(scalar_text(&json!(true)).as_deref(), Some("true"));
        assert_eq!(scalar_text(&json!("x")).as_deref(), Some("x"));
        assert_eq!(scalar_text(&json!(null)), None);
        assert_eq!(scalar_text(&json!([1])), None);
    }
}
