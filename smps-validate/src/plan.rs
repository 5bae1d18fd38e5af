//! The strict schemas compiled into a direct checker for the fast path.
//!
//! A [`Plan`] is built from the same strict schema document the jsonschema crate compiles, and
//! checks a [`Node`] tree without building a `serde_json::Value`. It is *conservative*: it
//! understands exactly the keywords smps-model's generated schemas use, and where it is unsure
//! (an unknown keyword, a `$ref` it cannot follow, `1.0` where an integer is expected, a
//! `date-time` outside the plain RFC 3339 shape) it answers "no". A "no" only sends the
//! document down the full path (jsonschema + locators), so the fast path can never call an
//! invalid document valid as long as every "yes" is also a yes for the jsonschema crate; the
//! differential tests in `tests/fast_path.rs` check that on generated and mutated documents.

use regex::Regex;
use serde_json::Value;

use crate::tree::Node;

/// A compiled schema node.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Something this checker does not understand: always "no".
    Unsupported,
    /// Accepts anything (a schema with no constraints).
    Any,
    /// All of the checks must pass.
    All(Vec<Plan>),
    /// At least one branch must pass.
    AnyOf(Vec<Plan>),
    /// `type`: one of these JSON types (a set of [`JsonType::bit`]s).
    Types(u8),
    /// `enum`: one of these strings or integers.
    Enum(Vec<Value>),
    /// `pattern` on strings.
    Pattern(Regex),
    /// `format: date-time` on strings.
    DateTime,
    /// `minimum` on numbers.
    Minimum(Bound),
    /// `maximum` on numbers.
    Maximum(Bound),
    /// `properties` + `additionalProperties` on objects.
    Properties {
        known: Vec<(String, Plan)>,
        /// `None`: unknown members are refused (`additionalProperties: false`).
        other: Option<Box<Plan>>,
    },
    /// `additionalProperties` without `properties` (a map) on objects.
    Values(Box<Plan>),
    /// `items` on arrays.
    Items(Box<Plan>),
}

/// A JSON type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonType {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

/// A numeric bound, exact for integers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    Int(i128),
    Float(f64),
}

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "$schema",
    "$defs",
    "default",
    "examples",
    "x-smps-integer-width",
];

impl Plan {
    /// Compiles `node`, resolving local `$ref`s against `root`.
    pub(crate) fn compile(root: &Value, node: &Value) -> Plan {
        Self::compile_at(root, node, 0)
    }

    fn compile_at(root: &Value, node: &Value, depth: usize) -> Plan {
        if depth > 32 {
            return Plan::Unsupported;
        }
        let obj = match node {
            Value::Bool(true) => return Plan::Any,
            Value::Object(o) => o,
            _ => return Plan::Unsupported,
        };
        let mut checks = Vec::new();
        for (keyword, arg) in obj {
            let check = match keyword.as_str() {
                k if ANNOTATIONS.contains(&k) => continue,
                "$ref" => match arg.as_str().and_then(|r| r.strip_prefix('#')) {
                    Some(p) => match root.pointer(p) {
                        Some(target) => Self::compile_at(root, target, depth + 1),
                        None => Plan::Unsupported,
                    },
                    None => Plan::Unsupported,
                },
                "type" => types(arg),
                "enum" => match arg {
                    Value::Array(options)
                        if options.iter().all(|o| o.is_string() || o.is_i64()) =>
                    {
                        Plan::Enum(options.clone())
                    }
                    _ => Plan::Unsupported,
                },
                "pattern" => match arg.as_str().map(Regex::new) {
                    Some(Ok(re)) => Plan::Pattern(re),
                    _ => Plan::Unsupported,
                },
                "format" => match arg.as_str() {
                    Some("date-time") => Plan::DateTime,
                    // Not a format the jsonschema crate checks; the strict schema bounds
                    // int32 fields with minimum/maximum instead.
                    Some("int32" | "int64" | "uint32" | "uint64" | "double" | "float") => {
                        continue;
                    }
                    _ => Plan::Unsupported,
                },
                "minimum" => bound(arg).map_or(Plan::Unsupported, Plan::Minimum),
                "maximum" => bound(arg).map_or(Plan::Unsupported, Plan::Maximum),
                "anyOf" => match arg {
                    Value::Array(branches) if !branches.is_empty() => Plan::AnyOf(
                        branches
                            .iter()
                            .map(|b| Self::compile_at(root, b, depth + 1))
                            .collect(),
                    ),
                    _ => Plan::Unsupported,
                },
                "items" => Plan::Items(Box::new(Self::compile_at(root, arg, depth + 1))),
                "properties" => {
                    let Value::Object(props) = arg else {
                        return Plan::Unsupported;
                    };
                    let known = props
                        .iter()
                        .map(|(k, v)| (k.clone(), Self::compile_at(root, v, depth + 1)))
                        .collect();
                    let other = match obj.get("additionalProperties") {
                        None | Some(Value::Bool(true)) => Some(Box::new(Plan::Any)),
                        Some(Value::Bool(false)) => None,
                        Some(s) => Some(Box::new(Self::compile_at(root, s, depth + 1))),
                    };
                    Plan::Properties { known, other }
                }
                "additionalProperties" => {
                    if obj.contains_key("properties") {
                        continue; // compiled with `properties`
                    }
                    Plan::Values(Box::new(Self::compile_at(root, arg, depth + 1)))
                }
                _ => Plan::Unsupported,
            };
            checks.push(check);
        }
        match checks.len() {
            0 => Plan::Any,
            1 => checks.pop().unwrap_or(Plan::Unsupported),
            _ => Plan::All(checks),
        }
    }

    /// Whether `node` certainly satisfies the schema.
    pub(crate) fn accepts(&self, node: &Node<'_>) -> bool {
        match self {
            Plan::Unsupported => false,
            Plan::Any => true,
            Plan::All(checks) => checks.iter().all(|c| c.accepts(node)),
            Plan::AnyOf(branches) => branches.iter().any(|b| b.accepts(node)),
            Plan::Types(types) => node_types(node) & types != 0,
            Plan::Enum(options) => options.iter().any(|o| match (o, node) {
                (Value::String(a), Node::Str(b)) => a == b,
                (Value::Number(a), Node::Int(b)) => a.as_i64() == Some(*b),
                (Value::Number(a), Node::UInt(b)) => a.as_u64() == Some(*b),
                _ => false,
            }),
            Plan::Pattern(re) => match node {
                Node::Str(s) => re.is_match(s),
                _ => true,
            },
            Plan::DateTime => match node {
                Node::Str(s) => is_plain_date_time(s),
                _ => true,
            },
            Plan::Minimum(b) => match number_cmp(node, *b) {
                Cmp::NotNumber => true,
                Cmp::Exact(o) => o.is_ge(),
                Cmp::Unsure => false,
            },
            Plan::Maximum(b) => match number_cmp(node, *b) {
                Cmp::NotNumber => true,
                Cmp::Exact(o) => o.is_le(),
                Cmp::Unsure => false,
            },
            Plan::Properties { known, other } => match node {
                Node::Obj(members) => {
                    // Documents usually list fields in schema order: look from just after the
                    // previous match first, so the common case is one comparison per member.
                    let mut hint = 0;
                    members.0.iter().all(|(k, v)| {
                        let found = if known.get(hint).is_some_and(|(name, _)| name == k) {
                            Some(hint)
                        } else {
                            known.iter().position(|(name, _)| name == k)
                        };
                        match found {
                            Some(i) => {
                                hint = i + 1;
                                known[i].1.accepts(v)
                            }
                            None => other.as_ref().is_some_and(|p| p.accepts(v)),
                        }
                    })
                }
                _ => true,
            },
            Plan::Values(plan) => match node {
                Node::Obj(members) => members.0.iter().all(|(_, v)| plan.accepts(v)),
                _ => true,
            },
            Plan::Items(plan) => match node {
                Node::Arr(items) => items.iter().all(|i| plan.accepts(i)),
                _ => true,
            },
        }
    }
}

fn types(arg: &Value) -> Plan {
    let one = |v: &Value| -> Option<JsonType> {
        Some(match v.as_str()? {
            "null" => JsonType::Null,
            "boolean" => JsonType::Boolean,
            "integer" => JsonType::Integer,
            "number" => JsonType::Number,
            "string" => JsonType::String,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            _ => return None,
        })
    };
    let list: Option<Vec<JsonType>> = match arg {
        Value::Array(items) => items.iter().map(one).collect(),
        v => one(v).map(|t| vec![t]),
    };
    list.map_or(Plan::Unsupported, |l| {
        Plan::Types(l.iter().fold(0, |set, t| set | t.bit()))
    })
}

fn bound(arg: &Value) -> Option<Bound> {
    if let Some(i) = arg.as_i64() {
        return Some(Bound::Int(i128::from(i)));
    }
    if let Some(u) = arg.as_u64() {
        return Some(Bound::Int(i128::from(u)));
    }
    arg.as_f64().filter(|f| f.is_finite()).map(Bound::Float)
}

impl JsonType {
    /// This type as one bit of a set.
    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The JSON types `node` has, as a set of [`JsonType::bit`]s. `1.0` is an integer for JSON
/// Schema; the fast path refuses it rather than reason about it (the full path accepts it).
fn node_types(node: &Node<'_>) -> u8 {
    match node {
        Node::Null => JsonType::Null.bit(),
        Node::Bool(_) => JsonType::Boolean.bit(),
        Node::Int(_) | Node::UInt(_) => JsonType::Integer.bit() | JsonType::Number.bit(),
        Node::Float(_) => JsonType::Number.bit(),
        Node::Str(_) => JsonType::String.bit(),
        Node::Arr(_) => JsonType::Array.bit(),
        Node::Obj(_) => JsonType::Object.bit(),
    }
}

/// `node` compared with a bound.
enum Cmp {
    /// Not a number: the bound does not apply.
    NotNumber,
    /// An exact comparison.
    Exact(std::cmp::Ordering),
    /// Floating point could get it wrong (or NaN): refuse, and let the full path decide.
    Unsure,
}

#[allow(clippy::cast_precision_loss)]
fn number_cmp(node: &Node<'_>, b: Bound) -> Cmp {
    let exact = |o: Option<std::cmp::Ordering>| o.map_or(Cmp::Unsure, Cmp::Exact);
    match (node, b) {
        (Node::Int(i), Bound::Int(b)) => Cmp::Exact(i128::from(*i).cmp(&b)),
        (Node::UInt(u), Bound::Int(b)) => Cmp::Exact(i128::from(*u).cmp(&b)),
        (Node::Float(f), Bound::Float(b)) => exact(f.partial_cmp(&b)),
        // Exact when both sides are well inside f64's integer range.
        (Node::Float(f), Bound::Int(b)) if b.unsigned_abs() < (1 << 52) && f.abs() < 4.0e15 => {
            exact(f.partial_cmp(&(b as f64)))
        }
        (Node::Int(_) | Node::UInt(_) | Node::Float(_), _) => Cmp::Unsure,
        _ => Cmp::NotNumber,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with every field in range (days per month,
/// leap years). Stricter than RFC 3339 (no lowercase `t`/`z`, no leap second), so every string
/// it accepts is also a `date-time` for the jsonschema crate.
pub(crate) fn is_plain_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = b.get(from..from + n)?;
        part.iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0, 4),
        digits(5, 2),
        digits(8, 2),
        digits(11, 2),
        digits(14, 2),
        digits(17, 2),
    ) else {
        return false;
    };
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let (Some(h), Some(m)) = (digits(i + 1, 2), digits(i + 4, 2)) else {
                return false;
            };
            b.get(i + 3) == Some(&b':') && h <= 23 && m <= 59 && i + 6 == b.len()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_plain::read_plain_json;
    use serde_json::json;

    fn plan(schema: Value) -> Plan {
        Plan::compile(&schema, &schema)
    }

    fn accepts(p: &Plan, doc: &str) -> bool {
        p.accepts(&read_plain_json(doc, 64).unwrap())
    }

    #[test]
    fn plain_date_times() {
        for ok in [
            "2024-05-01T10:00:00Z",
            "2024-02-29T23:59:59.123456789+05:30",
            "2000-02-29T00:00:00-00:00",
        ] {
            assert!(is_plain_date_time(ok), "{ok}");
        }
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-05-01t10:00:00z",
            "2024-05-01T10:00:60Z",
            "2024-05-01T10:00:00",
            "2024-05-01T10:00:00.Z",
            "2024-05-01 10:00:00Z",
            "2024-13-01T10:00:00Z",
            "2024-05-01T10:00:00+5:30",
            "2024-05-01T10:00:00Zjunk",
        ] {
            assert!(!is_plain_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn keywords_check_what_they_say() {
        let p = plan(json!({
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 1, "maximum": 10},
                "s": {"type": "string", "pattern": "^[a-z]+$"},
                "e": {"enum": ["A", "B", 3]},
                "labels": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
                "a": {"type": "array", "items": {"$ref": "#/$defs/T"}},
                "u": {"anyOf": [{"type": "number"}, {"type": "string", "enum": ["NaN"]}]}
            },
            "additionalProperties": false,
            "$defs": {"T": {"type": "string", "format": "date-time"}}
        }));
        assert!(accepts(
            &p,
            r#"{"n": 3, "s": "abc", "e": 3, "labels": {"k": null}, "a": ["2024-05-01T10:00:00Z"], "u": "NaN"}"#
        ));
        for bad in [
            r#"{"n": 0}"#,
            r#"{"n": 11}"#,
            r#"{"n": 3.0}"#,
            r#"{"s": "ABC"}"#,
            r#"{"e": "C"}"#,
            r#"{"labels": {"k": 1}}"#,
            r#"{"a": ["yesterday"]}"#,
            r#"{"u": "Inf"}"#,
            r#"{"other": 1}"#,
            r#"[]"#,
        ] {
            assert!(!accepts(&p, bad), "{bad}");
        }
    }

    #[test]
    fn unknown_keywords_refuse() {
        let p = plan(json!({"type": "string", "minLength": 2}));
        assert!(!accepts(&p, r#""abc""#));
    }
}
