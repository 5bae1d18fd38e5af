//! What every rule shares: the [`Sink`] findings go to, and reading values the way smps-model's
//! lenient reader does (numbers as numbers or strings, enums as numbers or names, int64 bounds).

use serde_json::Value;

use crate::doc::Pointer;
use crate::schema::RawFinding;
use crate::tree::{Object, Tree};
use crate::violation::{Rule, ViolationKind};

/// Collects findings with pointers relative to the checked value.
///
/// Every rule is generic over the [`Tree`] it reads: the full path runs them on
/// `serde_json::Value`, the fast path on its borrowed tree, so there is one set of rules.
pub(crate) struct Sink<'a> {
    pub(crate) out: &'a mut Vec<RawFinding>,
}

impl Sink<'_> {
    pub(super) fn push(&mut self, rule: Rule, pointer: Pointer, kind: ViolationKind) {
        self.out.push(RawFinding {
            rule,
            pointer,
            at_key: false,
            kind,
        });
    }
}

/// A number as the lenient reader sees it: JSON numbers, numeric strings, proto3's special
/// strings. `None` for anything else (the schema reports those).
pub(super) fn number<T: Tree>(v: &T) -> Option<f64> {
    if v.is_number() {
        return v.as_f64();
    }
    match v.as_str()?.trim() {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        t => t.parse::<f64>().ok(),
    }
}

pub(super) fn obj<T: Tree>(v: Option<&T>) -> Option<&T::Map> {
    v.and_then(T::as_object)
}

/// A present, non-null field.
pub(super) fn field<'v, T: Tree>(m: &'v T::Map, key: &str) -> Option<&'v T> {
    m.get(key).filter(|v| !v.is_null())
}

/// A copy of member `key` (present when this is called), for a finding.
pub(super) fn copy<T: Tree>(m: &T::Map, key: &str) -> Value {
    m.get(key).map_or(Value::Null, T::to_value)
}

/// Checks an enum field; returns the value when it is known.
pub(super) fn check_enum<N: Tree, T>(
    raw: &N,
    at: &Pointer,
    name: &str,
    sink: &mut Sink<'_>,
    lookup: impl Fn(EnumIn<'_>) -> Option<(T, bool)>,
) -> Option<T> {
    let found = if raw.is_number() {
        raw.as_i64().and_then(|i| lookup(EnumIn::Number(i)))
    } else if let Some(s) = raw.as_str() {
        lookup(EnumIn::Name(s))
    } else {
        return None;
    };
    match found {
        Some((v, false)) => Some(v),
        Some((_, true)) => {
            sink.push(
                Rule::EnumUnset,
                at.clone(),
                ViolationKind::OutOfRange {
                    expected: format!("a {name} other than 0 / INVALID"),
                    actual: raw.to_value(),
                },
            );
            None
        }
        None => {
            sink.push(
                Rule::EnumUnknown,
                at.clone(),
                ViolationKind::OutOfRange {
                    expected: format!("a known {name} name or number"),
                    actual: raw.to_value(),
                },
            );
            None
        }
    }
}

/// Reports an int64 string that does not fit; returns whether it did not.
pub(super) fn int64_overflow<T: Tree>(raw: &T, at: &Pointer, sink: &mut Sink<'_>) -> bool {
    if let Some(s) = raw.as_str() {
        let t = s.trim();
        let digits = t.trim_start_matches(['-', '+']);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && t.parse::<i64>().is_err()
        {
            sink.push(
                Rule::IntegerOverflow,
                at.clone(),
                ViolationKind::OutOfRange {
                    expected: "a 64-bit signed integer".into(),
                    actual: raw.to_value(),
                },
            );
            return true;
        }
    }
    false
}

/// An enum value as written: a number or a name.
pub(super) enum EnumIn<'a> {
    Number(i64),
    Name(&'a str),
}
