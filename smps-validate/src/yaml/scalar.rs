//! Plain YAML scalars: which characters may start one, and what a scalar resolves to with the
//! YAML 1.2 core schema as serde_yaml (smps-model's parser) resolves it.

use std::borrow::Cow;

use saphyr_parser::{ScalarStyle, Tag};
use serde_json::{Number, Value};

/// Whether a plain scalar starts with a character YAML reserves there (see [`check_plain`]).
pub(crate) fn starts_with_indicator(text: &str) -> bool {
    let mut chars = text.chars();
    match chars.next() {
        Some(
            ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
            | '@' | '`',
        ) => true,
        // libyaml takes `?x` and `:x` as plain scalars only outside flow collections; we do not
        // track the context here, so both are refused everywhere (stricter, never looser).
        Some('?' | ':') => true,
        Some('-') => chars.next().is_none_or(char::is_whitespace),
        _ => false,
    }
}

/// Resolves an untagged plain scalar (for the fast path's reader, `crate::yaml_plain`).
pub(crate) fn resolve_plain(text: &str) -> Value {
    resolve(Cow::Borrowed(text), ScalarStyle::Plain, None)
}

/// Resolves a scalar with the YAML 1.2 core schema. Values JSON cannot hold (`.nan`, `.inf`)
/// become the proto3 JSON strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub(super) fn resolve(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.into_owned());
    }
    if let Some(tag) = tag {
        if tag.is_yaml_core_schema() {
            match tag.suffix.as_str() {
                "str" => return Value::String(text.into_owned()),
                "null" => return Value::Null,
                "bool" => {
                    if let Some(v) = bool_of(&text) {
                        return Value::Bool(v);
                    }
                    return Value::String(text.into_owned());
                }
                _ => {}
            }
        }
    }
    let s: &str = &text;
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(v) = bool_of(s) {
        return Value::Bool(v);
    }
    if let Some(v) = int_of(s) {
        return v;
    }
    if let Some(f) = float_of(s) {
        return match Number::from_f64(f) {
            Some(n) => Value::Number(n),
            None if f.is_nan() => Value::String("NaN".into()),
            None if f > 0.0 => Value::String("Infinity".into()),
            None => Value::String("-Infinity".into()),
        };
    }
    Value::String(text.into_owned())
}

fn bool_of(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Leading zeros followed by digits (`0123`) are a string, not a number (as serde_yaml reads).
fn digits_but_not_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Integers the way smps-model's YAML reader (serde_yaml) resolves them: decimal, `0x`, `0o`,
/// `0b`, optional sign; 64-bit range (larger magnitudes fall through to floats).
fn int_of(s: &str) -> Option<Value> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = body.strip_prefix(prefix) {
            if digits.is_empty() || digits.starts_with(['+', '-']) {
                return None;
            }
            let magnitude = u64::from_str_radix(digits, radix).ok()?;
            return if neg {
                0i64.checked_sub_unsigned(magnitude).map(Value::from)
            } else {
                Some(Value::from(magnitude))
            };
        }
    }
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit()) || digits_but_not_number(s) {
        return None;
    }
    if neg {
        s.parse::<i64>().ok().map(Value::from)
    } else {
        body.parse::<u64>().ok().map(Value::from)
    }
}

/// Floats the way serde_yaml resolves them: `.inf`/`.nan` spellings, or anything Rust parses
/// as a finite `f64` (so `1e400` stays a string).
fn float_of(s: &str) -> Option<f64> {
    let unsigned = match s.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => s,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    match s {
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    if digits_but_not_number(s) {
        return None;
    }
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

// ---------------------------------------------------------------------------------------------
// Locator
// ---------------------------------------------------------------------------------------------
