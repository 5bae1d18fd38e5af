//! YAML text to JSON trees, one per document of a stream, with every error placed at its line
//! and column.
//!
//! Each document is deserialized straight into a `serde_json::Value`: scalar keys become
//! strings, tags are dropped, and non-finite floats become proto3 JSON's `"NaN"` /
//! `"Infinity"` strings. A duplicate key, or a key that is not a scalar, is refused while the
//! key itself is read, so the YAML parser places the error at that key rather than at the
//! start of the document. An alias expansion that exceeds the parser's repetition limit (a
//! "billion laughs" document) carries no position from the parser; it is placed at the first
//! alias of the document.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Deepest flow nesting (`[` / `{`) accepted in YAML. The YAML parser rejects more than 128
/// levels anyway, but finding that out costs time quadratic in the depth, so absurd inputs
/// (an attacker's 100,000 brackets) are refused up front.
const MAX_YAML_FLOW_DEPTH: usize = 1000;

/// The message serde_yaml gives, without a position, when aliases expand too far.
const REPETITION_LIMIT: &str = "repetition limit exceeded";

/// Parses every document of a YAML stream into a JSON tree.
pub(crate) fn parse(text: &str) -> Result<Vec<Value>> {
    check_flow_depth(text)?;
    let mut out = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        out.push(
            JsonFromYaml
                .deserialize(document)
                .map_err(|e| yaml_error(e, text, index))?,
        );
    }
    Ok(out)
}

fn yaml_error(e: serde_yaml::Error, text: &str, document: usize) -> Error {
    let full = e.to_string();
    let (location, message) = match e.location() {
        Some(l) => (Some((l.line(), l.column())), full.clone()),
        None if full == REPETITION_LIMIT => (
            first_alias(text, document),
            "aliases expand beyond the parser's repetition limit (a YAML alias bomb?); \
             the position is the document's first alias"
                .to_owned(),
        ),
        None => (None, full.clone()),
    };
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    let (line, column) = location.map_or((1, 1), |(l, c)| (l.max(1), c.max(1)));
    Error::ParseYaml {
        line,
        column,
        message,
        source: Box::new(e),
    }
}

/// Calls `f(offset, byte, line, column)` for every byte outside comments and quoted scalars
/// (columns are 1-based bytes), until it returns `Some`.
fn scan_code<T>(text: &str, mut f: impl FnMut(usize, u8, usize, usize) -> Option<T>) -> Option<T> {
    let (mut line, mut column) = (1usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut comment = false;
    let mut prev = b'\n';
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        column += 1;
        if b == b'\n' {
            line += 1;
            column = 0;
            comment = false;
        } else if comment {
        } else if let Some(q) = quote {
            if b == q {
                if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 1;
                    column += 1;
                } else {
                    quote = None;
                }
            } else if q == b'"' && b == b'\\' {
                i += 1;
                column += 1;
            }
        } else {
            match b {
                b'#' if prev.is_ascii_whitespace() => comment = true,
                b'"' | b'\'' => quote = Some(b),
                _ => {
                    if let Some(found) = f(i, b, line, column) {
                        return Some(found);
                    }
                }
            }
        }
        prev = b;
        i += 1;
    }
    None
}

/// Refuses YAML whose flow collections nest deeper than [`MAX_YAML_FLOW_DEPTH`]. Quoted
/// scalars and comments are skipped; the count is conservative elsewhere.
fn check_flow_depth(text: &str) -> Result<()> {
    let mut depth = 0usize;
    let too_deep = scan_code(text, |_, b, line, column| {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_YAML_FLOW_DEPTH {
                    return Some((line, column));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        None
    });
    match too_deep {
        Some((line, column)) => Err(Error::ParseYaml {
            line,
            column,
            message: format!("collections nest deeper than {MAX_YAML_FLOW_DEPTH} levels"),
            source: "nesting limit exceeded".into(),
        }),
        None => Ok(()),
    }
}

/// Line and column of the first alias (`*name`) of the 0-based `document` of a stream.
/// Documents are counted at `---` lines; the first one opens document 0 when nothing but
/// comments and directives comes before it.
fn first_alias(text: &str, document: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut current = 0usize;
    let mut content = false;
    scan_code(text, |i, b, line, column| {
        let at_line_start = column == 1;
        if at_line_start
            && bytes[i..].starts_with(b"---")
            && bytes.get(i + 3).is_none_or(u8::is_ascii_whitespace)
        {
            if content {
                current += 1;
            }
            content = true;
            return None;
        }
        if at_line_start && b == b'%' && !content {
            return None;
        }
        if !b.is_ascii_whitespace() {
            content = true;
        }
        let before = i.checked_sub(1).map_or(b'\n', |j| bytes[j]);
        let starts_token = before.is_ascii_whitespace() || matches!(before, b'[' | b'{' | b',');
        let named = bytes.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace());
        (current == document && b == b'*' && starts_token && named).then_some((line, column))
    })
}

/// Deserializes any YAML value into a JSON tree.
struct JsonFromYaml;

impl<'de> DeserializeSeed<'de> for JsonFromYaml {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or_else(
        || {
            Value::String(
                if f.is_nan() {
                    "NaN"
                } else if f > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                }
                .to_owned(),
            )
        },
        Value::Number,
    )
}

impl<'de> Visitor<'de> for JsonFromYaml {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(JsonFromYaml)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Key { seen: &out })? {
            let value = map.next_value_seed(JsonFromYaml)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }

    /// A tagged value (`!tag value`): the tag is dropped.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (_tag, contents): (String, _) = data.variant_seed(PhantomData)?;
        contents.newtype_variant_seed(JsonFromYaml)
    }
}

/// Reads a mapping key as a string and refuses one already in `seen`. The error is raised
/// inside the key's own deserialization, so the parser gives it the key's position.
struct Key<'a> {
    seen: &'a Map<String, Value>,
}

impl Key<'_> {
    fn unique<E: de::Error>(self, key: String) -> Result<String, E> {
        if self.seen.contains_key(&key) {
            Err(E::custom(format_args!("duplicate entry with key {key:?}")))
        } else {
            Ok(key)
        }
    }
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<String, E> {
        self.unique(b.to_string())
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<String, E> {
        self.unique(i.to_string())
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<String, E> {
        self.unique(u.to_string())
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<String, E> {
        self.unique(serde_yaml::Number::from(f).to_string())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<String, E> {
        self.unique(s.to_owned())
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<String, E> {
        self.unique(s)
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        self.unique("null".to_owned())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        self.unique("null".to_owned())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(de::Error::custom(
            "unsupported mapping key: keys must be scalars, found a sequence",
        ))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(de::Error::custom(
            "unsupported mapping key: keys must be scalars, found a mapping",
        ))
    }

    /// A tagged key (`!tag key`): the tag is dropped.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<String, A::Error> {
        let (_tag, contents): (String, _) = data.variant_seed(PhantomData)?;
        contents.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(text: &str) -> (usize, usize, String) {
        match parse(text).unwrap_err() {
            Error::ParseYaml {
                line,
                column,
                message,
                ..
            } => (line, column, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_duplicate_top_level_key_is_placed_at_its_second_occurrence() {
        let (line, column, message) = located("clients: []\nduration: 30m\nduration: 1m\n");
        assert_eq!((line, column), (3, 1), "{message}");
        assert!(
            message.contains("duplicate entry with key \"duration\""),
            "{message}"
        );
    }

    #[test]
    fn a_duplicate_nested_key_is_placed_at_the_key_not_its_mapping() {
        let (line, column, message) =
            located("smp_version: v1\nclients:\n  - connections: 1\n    connections: 2\n");
        assert_eq!((line, column), (4, 5), "{message}");
        let (line, column, _) = located("a: {b: 1, c: 2, b: 3}\n");
        assert_eq!((line, column), (1, 17));
    }

    #[test]
    fn a_duplicate_in_a_later_document_is_placed_in_that_document() {
        let (line, column, _) = located("a: 1\n---\nb: 1\nc: 2\nb: 3\n");
        assert_eq!((line, column), (5, 1));
    }

    #[test]
    fn keys_equal_only_as_text_are_duplicates_too() {
        // `1` and `"1"` are different YAML keys but the same JSON key.
        let (line, column, _) = located("1: a\n\"1\": b\n");
        assert_eq!((line, column), (2, 1));
    }

    #[test]
    fn a_non_scalar_key_is_placed_at_the_key() {
        let (line, column, message) = located("a: 1\n? [x]\n: 2\n");
        assert_eq!((line, column), (2, 3), "{message}");
        assert!(message.contains("keys must be scalars"), "{message}");
    }

    #[test]
    fn an_alias_bomb_is_placed_at_the_first_alias_of_its_document() {
        let mut text = String::from("ok: 1\n---\n# expands 9^7 times\na: &a [x, y]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h'] {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
            prev = name;
        }
        let (line, column, message) = located(&text);
        assert_eq!((line, column), (5, 8), "{message}");
        assert!(message.contains("repetition limit"), "{message}");
    }

    #[test]
    fn an_unknown_anchor_keeps_the_parsers_position() {
        let (line, column, message) = located("a: &x [1]\nb: *y\n");
        assert_eq!((line, column), (2, 4), "{message}");
    }

    #[test]
    fn values_convert_as_json_trees() {
        let v = parse("a: [1, -2, 1.5, .nan, .inf, -.inf, true, ~, !tag x]\n1.5: k\n").unwrap();
        assert_eq!(
            v,
            [serde_json::json!({
                "a": [1, -2, 1.5, "NaN", "Infinity", "-Infinity", true, null, "x"],
                "1.5": "k"
            })]
        );
    }
}
