//! Object matching for `assert` and `absent`: kuttl subset semantics plus explicit list modes.
//!
//! - **Maps**: every expected key must exist in the actual object and match; extra actual keys are
//!   ignored. An expected `null` means "this field must be absent" (kuttl #455).
//! - **Lists**, by [`ListMode`]:
//!   - `ordered` (kuttl's default): same length, element *i* matches element *i* as a subset;
//!   - `exact`: deep equality;
//!   - `contains`: every expected element matches a distinct actual element, in any order;
//!   - `keyed:<field>`: every expected element matches the actual element with the same `<field>`.
//! - **Scalars**: equality (numbers compare by value, so `1` equals `1.0`).
//!
//! Every mismatch is reported with its JSON Pointer path, not just the first.
//!
//! # Examples
//!
//! ```
//! use smi_assert::matcher::{ListMode, ListModes, compare};
//! use serde_json::json;
//! let expected = json!({"status": {"acceptedNames": {"shortNames": ["tt"]}}});
//! let actual = json!({"status": {"acceptedNames": {"shortNames": ["tt", "trafftarget"]}}});
//! assert_eq!(compare(&expected, &actual, &ListModes::new(ListMode::Ordered)).len(), 1);
//! assert!(compare(&expected, &actual, &ListModes::new(ListMode::Contains)).is_empty());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How lists are compared.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ListMode {
    /// Deep equality.
    Exact,
    /// Same length, element-wise subset (kuttl).
    #[default]
    Ordered,
    /// Each expected element matches a distinct actual element, any order.
    Contains,
    /// Elements are paired by the value of this field.
    Keyed(String),
}

impl fmt::Display for ListMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact => f.write_str("exact"),
            Self::Ordered => f.write_str("ordered"),
            Self::Contains => f.write_str("contains"),
            Self::Keyed(k) => write!(f, "keyed:{k}"),
        }
    }
}

impl FromStr for ListMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "exact" => Ok(Self::Exact),
            "ordered" => Ok(Self::Ordered),
            "contains" => Ok(Self::Contains),
            _ => match s.strip_prefix("keyed:") {
                Some(k) if !k.is_empty() => Ok(Self::Keyed(k.to_string())),
                _ => Err(format!(
                    "unknown list mode `{s}` (expected exact, ordered, contains or keyed:<field>)"
                )),
            },
        }
    }
}

impl Serialize for ListMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ListMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for ListMode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ListMode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(exact|ordered|contains|keyed:.+)$",
            "description": "exact, ordered, contains or keyed:<field>"
        })
    }
}

/// A default list mode plus per-path overrides.
///
/// Override keys are JSON Pointers of list fields in the expected object, with `*` standing for
/// any list index, e.g. `/spec/backends` or `/spec/rules/*/matches`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListModes {
    /// Mode for lists without an override.
    pub default: ListMode,
    /// Overrides by path pattern.
    pub overrides: BTreeMap<String, ListMode>,
}

impl ListModes {
    /// Modes with a default and no overrides.
    #[must_use]
    pub fn new(default: ListMode) -> Self {
        Self {
            default,
            overrides: BTreeMap::new(),
        }
    }

    /// Adds an override.
    #[must_use]
    pub fn with(mut self, path: impl Into<String>, mode: ListMode) -> Self {
        self.overrides.insert(path.into(), mode);
        self
    }

    fn for_path(&self, pattern: &str) -> &ListMode {
        self.overrides.get(pattern).unwrap_or(&self.default)
    }
}

/// One difference between the expected and the actual object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Mismatch {
    /// JSON Pointer in the expected object.
    pub path: String,
    /// What differs.
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{p}: {}", self.message)
    }
}

/// Compares `expected` against `actual`; an empty result means it matches.
#[must_use]
pub fn compare(expected: &Value, actual: &Value, modes: &ListModes) -> Vec<Mismatch> {
    let mut out = Vec::new();
    walk(
        expected,
        actual,
        modes,
        &mut String::new(),
        &mut String::new(),
        &mut out,
    );
    out
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn brief(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(77).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

fn walk(
    expected: &Value,
    actual: &Value,
    modes: &ListModes,
    path: &mut String,
    pattern: &mut String,
    out: &mut Vec<Mismatch>,
) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let (plen, qlen) = (path.len(), pattern.len());
                path.push('/');
                path.push_str(&escape(k));
                pattern.push('/');
                pattern.push_str(&escape(k));
                match (ev, a.get(k)) {
                    (Value::Null, None | Some(Value::Null)) => {}
                    (Value::Null, Some(av)) => out.push(Mismatch {
                        path: path.clone(),
                        message: format!("expected the field to be absent, found {}", brief(av)),
                    }),
                    (_, None) => out.push(Mismatch {
                        path: path.clone(),
                        message: "field is missing".into(),
                    }),
                    (_, Some(av)) => walk(ev, av, modes, path, pattern, out),
                }
                path.truncate(plen);
                pattern.truncate(qlen);
            }
        }
        (Value::Array(e), Value::Array(a)) => compare_lists(e, a, modes, path, pattern, out),
        (Value::Number(e), Value::Number(a)) => {
            if e != a && e.as_f64() != a.as_f64() {
                out.push(Mismatch {
                    path: path.clone(),
                    message: format!("expected {e}, found {a}"),
                });
            }
        }
        (e, a) if std::mem::discriminant(e) != std::mem::discriminant(a) => out.push(Mismatch {
            path: path.clone(),
            message: format!(
                "expected a {} ({}), found a {} ({})",
                type_name(e),
                brief(e),
                type_name(a),
                brief(a)
            ),
        }),
        (e, a) => {
            if e != a {
                out.push(Mismatch {
                    path: path.clone(),
                    message: format!("expected {}, found {}", brief(e), brief(a)),
                });
            }
        }
    }
}

fn compare_lists(
    e: &[Value],
    a: &[Value],
    modes: &ListModes,
    path: &mut String,
    pattern: &mut String,
    out: &mut Vec<Mismatch>,
) {
    let mode = modes.for_path(pattern).clone();
    let sub = |i: usize, ev: &Value, av: &Value, path: &mut String, pattern: &mut String| {
        let (plen, qlen) = (path.len(), pattern.len());
        path.push_str(&format!("/{i}"));
        pattern.push_str("/*");
        let mut m = Vec::new();
        walk(ev, av, modes, path, pattern, &mut m);
        path.truncate(plen);
        pattern.truncate(qlen);
        m
    };
    match mode {
        ListMode::Exact => {
            if e != a {
                out.push(Mismatch {
                    path: path.clone(),
                    message: format!(
                        "expected exactly {}, found {}",
                        brief(&Value::from(e.to_vec())),
                        brief(&Value::from(a.to_vec()))
                    ),
                });
            }
        }
        ListMode::Ordered => {
            if e.len() != a.len() {
                out.push(Mismatch {
                    path: path.clone(),
                    message: format!("expected {} elements, found {}", e.len(), a.len()),
                });
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                out.extend(sub(i, ev, av, path, pattern));
            }
        }
        ListMode::Contains => {
            let mut used = vec![false; a.len()];
            for (i, ev) in e.iter().enumerate() {
                let found = a
                    .iter()
                    .enumerate()
                    .find(|(j, av)| !used[*j] && sub(i, ev, av, path, pattern).is_empty());
                match found {
                    Some((j, _)) => used[j] = true,
                    None => out.push(Mismatch {
                        path: format!("{path}/{i}"),
                        message: format!("no element of the actual list matches {}", brief(ev)),
                    }),
                }
            }
        }
        ListMode::Keyed(key) => {
            for (i, ev) in e.iter().enumerate() {
                let Some(k) = ev.get(&key) else {
                    out.push(Mismatch {
                        path: format!("{path}/{i}"),
                        message: format!("expected element has no key field `{key}`"),
                    });
                    continue;
                };
                match a.iter().find(|av| av.get(&key) == Some(k)) {
                    Some(av) => out.extend(sub(i, ev, av, path, pattern)),
                    None => out.push(Mismatch {
                        path: format!("{path}/{i}"),
                        message: format!("no element with {key} = {}", brief(k)),
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_modes_parse_and_print() {
        for s in ["exact", "ordered", "contains", "keyed:name"] {
            assert_eq!(
                s.parse::<ListMode>().map(|m| m.to_string()),
                Ok(s.to_string())
            );
        }
        assert!("keyed:".parse::<ListMode>().is_err());
        assert!("any".parse::<ListMode>().is_err());
    }

    #[test]
    fn every_mismatch_is_reported_with_its_path() {
        let e = json!({"a": 1, "b": {"c": "x", "d": [1, 2]}, "gone": null});
        let a = json!({"a": 2, "b": {"c": "y", "d": [1]}, "gone": 3});
        let m = compare(&e, &a, &ListModes::default());
        let paths: Vec<_> = m.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/b/c", "/b/d", "/gone"]);
    }

    #[test]
    fn keyed_lists_pair_by_field_and_overrides_apply_by_pattern() {
        let e = json!({"spec": {"backends": [{"service": "c", "weight": 25}, {"service": "b", "weight": 75}]}});
        let a = json!({"spec": {"backends": [{"service": "b", "weight": 75}, {"service": "c", "weight": 20}]}});
        let modes = ListModes::default().with("/spec/backends", ListMode::Keyed("service".into()));
        let m = compare(&e, &a, &modes);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].path, "/spec/backends/0/weight");
        assert_eq!(compare(&e, &a, &ListModes::new(ListMode::Exact)).len(), 1);
    }
}
