//! JSON front end: one serde_json pass straight into a canonical-key `Value`, and a locator that
//! re-scans the text to turn a canonical pointer into the user's pointer and a line:column.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use smps_model::spelling;

use crate::doc::{Parsed, Pointer, Target};
use crate::locate::{Found, NodeId, Paths, Trie, found};
use crate::{Error, Format, Location, Result};

/// serde_json's own nesting limit; deeper input fails with "recursion limit exceeded".
pub(crate) const JSON_DEPTH_LIMIT: usize = 128;

/// Parses one JSON document into a `Value` whose keys are canonical.
pub(crate) fn parse(text: &str, max_depth: usize) -> Result<Parsed> {
    let dups = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = ValueSeed {
        path: &PathNode::Root,
        raw: false,
        depth: 0,
        max_depth,
        dups: &dups,
    };
    let value = seed
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| syntax(text, &e, max_depth))?;
    Ok(Parsed {
        value,
        duplicates: dups.into_inner(),
        non_finite: Vec::new(),
    })
}

fn syntax(text: &str, e: &serde_json::Error, max_depth: usize) -> Error {
    let location = line_byte_column(text, e.line(), e.column());
    let message = e.to_string();
    if message.starts_with("recursion limit exceeded") || message.starts_with(DEPTH_MESSAGE) {
        return Error::TooDeep {
            limit: max_depth.min(JSON_DEPTH_LIMIT),
            location,
        };
    }
    // serde_json appends " at line L column C"; we report the location separately.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    Error::Syntax {
        format: Format::Json,
        location,
        message,
    }
}

const DEPTH_MESSAGE: &str = "nesting limit exceeded";

/// serde_json reports 1-based lines and 1-based byte columns; turn the column into characters.
fn line_byte_column(text: &str, line: usize, column: usize) -> Location {
    let start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    Location::of_offset(text, start + column.saturating_sub(1))
}

/// Where a value sits, as a linked list up to the root (built only when a duplicate is found).
enum PathNode<'a> {
    Root,
    Key(&'a PathNode<'a>, &'a str),
    Index(&'a PathNode<'a>, usize),
}

impl PathNode<'_> {
    fn to_pointer(&self) -> Pointer {
        let mut segs = Vec::new();
        let mut node = self;
        loop {
            match node {
                PathNode::Root => break,
                PathNode::Key(parent, k) => {
                    segs.push((*k).to_owned());
                    node = parent;
                }
                PathNode::Index(parent, i) => {
                    segs.push(i.to_string());
                    node = parent;
                }
            }
        }
        segs.reverse();
        Pointer(segs)
    }
}

struct ValueSeed<'a> {
    path: &'a PathNode<'a>,
    /// Inside a user map: keys are data and stay as written.
    raw: bool,
    depth: usize,
    max_depth: usize,
    dups: &'a RefCell<Vec<Pointer>>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= self.max_depth {
            return Err(serde::de::Error::custom(DEPTH_MESSAGE));
        }
        let mut out = Vec::new();
        loop {
            let path = PathNode::Index(self.path, out.len());
            let seed = ValueSeed {
                path: &path,
                raw: self.raw,
                depth: self.depth + 1,
                max_depth: self.max_depth,
                dups: self.dups,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= self.max_depth {
            return Err(serde::de::Error::custom(DEPTH_MESSAGE));
        }
        let mut out = Map::new();
        while let Some(raw_key) = map.next_key_seed(KeySeed)? {
            let key: String = if self.raw {
                raw_key.to_string()
            } else {
                spelling::canonical_key(&raw_key).into_owned()
            };
            let value = {
                let path = PathNode::Key(self.path, &key);
                let seed = ValueSeed {
                    path: &path,
                    raw: self.raw || spelling::is_user_map(&key),
                    depth: self.depth + 1,
                    max_depth: self.max_depth,
                    dups: self.dups,
                };
                map.next_value_seed(seed)?
            };
            // proto3 JSON: a null field means "default", i.e. absent.
            if value.is_null() && !self.raw {
                if out.contains_key(&key) {
                    self.dups
                        .borrow_mut()
                        .push(PathNode::Key(self.path, &key).to_pointer());
                }
                continue;
            }
            // One hash per key: `insert` tells whether the key was there already.
            if out.insert(key, value).is_some() {
                let key: String = if self.raw {
                    raw_key.into_owned()
                } else {
                    spelling::canonical_key(&raw_key).into_owned()
                };
                self.dups
                    .borrow_mut()
                    .push(PathNode::Key(self.path, &key).to_pointer());
            }
        }
        Ok(Value::Object(out))
    }
}

/// Keys borrowed from the input when they have no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

// ---------------------------------------------------------------------------------------------
// Locator
// ---------------------------------------------------------------------------------------------

/// Resolves every target (canonical pointers into the document) against the JSON text, in one
/// walk over it.
///
/// The walk follows only the members and elements some target needs and skips the rest
/// without recursion; for each mapping the *last* key whose canonical form matches wins (as
/// the parser's "last wins"). A target whose last segments are absent is answered by the
/// deepest node found on its way, so there is always an answer. Linear in the text plus the
/// targets (see [`crate::locate`]).
pub(crate) fn locate(text: &str, targets: &[&Target]) -> (Vec<Found>, Paths) {
    let mut trie: Trie<usize> = Trie::new(targets.iter().map(|t| (0, *t)));
    if let Some(root) = trie.root(0) {
        let mut walk = Walk {
            b: text.as_bytes(),
            text,
            trie: &mut trie,
        };
        let start = skip_ws(walk.b, 0);
        walk.value(root, None, start, None, false);
    }
    let answers: Vec<_> = targets.iter().map(|t| trie.answer(0, t)).collect();
    let offsets: Vec<usize> = answers
        .iter()
        .map(|a| a.as_ref().map_or(0, |(_, _, at)| *at))
        .collect();
    let mut places = crate::locate::locations(text, &offsets).into_iter();
    let found = answers
        .into_iter()
        .map(|a| {
            let place = places.next();
            found(a, |_| place.unwrap_or(Location::new(1, 1)))
        })
        .collect();
    (found, trie.into_paths())
}

/// The state of one locating walk.
struct Walk<'a, 't> {
    b: &'a [u8],
    text: &'a str,
    trie: &'t mut Trie<usize>,
}

impl Walk<'_, '_> {
    /// Visits the value at `pos` (trie node `node`) and the parts of it some target needs;
    /// returns the offset just past the value. Recursion follows the targets' pointers only,
    /// so it is bounded by their length (and they by the parser's depth limit).
    fn value(
        &mut self,
        node: NodeId,
        written: Option<&str>,
        pos: usize,
        key_at: Option<usize>,
        raw: bool,
    ) -> Option<usize> {
        self.trie.visit(node, written, pos, key_at);
        if !self.trie.has_children(node) {
            return skip_value(self.b, pos);
        }
        match self.b.get(pos) {
            Some(b'{') => self.object(node, pos, raw),
            Some(b'[') => self.array(node, pos, raw),
            _ => skip_value(self.b, pos),
        }
    }

    fn object(&mut self, node: NodeId, pos: usize, raw: bool) -> Option<usize> {
        let b = self.b;
        let mut p = skip_ws(b, pos + 1);
        if b.get(p) == Some(&b'}') {
            return Some(p + 1);
        }
        loop {
            if b.get(p) != Some(&b'"') {
                return None;
            }
            let kstart = p;
            let kend = string_end(b, p)?;
            let key_text = unescape(&self.text[kstart..kend]);
            let canonical = if raw {
                Cow::Borrowed(key_text.as_ref())
            } else {
                spelling::canonical_key(&key_text)
            };
            let child = self.trie.key_child(node, &canonical);
            let child_raw = raw || spelling::is_user_map(&canonical);
            p = skip_ws(b, kend);
            if b.get(p) != Some(&b':') {
                return None;
            }
            let vstart = skip_ws(b, p + 1);
            let vend = match child {
                Some(child) => {
                    self.value(child, Some(&key_text), vstart, Some(kstart), child_raw)?
                }
                None => skip_value(b, vstart)?,
            };
            p = skip_ws(b, vend);
            match b.get(p) {
                Some(b',') => p = skip_ws(b, p + 1),
                Some(b'}') => return Some(p + 1),
                _ => return None,
            }
        }
    }

    fn array(&mut self, node: NodeId, pos: usize, raw: bool) -> Option<usize> {
        let b = self.b;
        let mut p = skip_ws(b, pos + 1);
        if b.get(p) == Some(&b']') {
            return Some(p + 1);
        }
        let last = self.trie.max_index(node);
        let mut index = 0usize;
        loop {
            let child = if last.is_some_and(|l| index <= l) {
                self.trie.index_child(node, index)
            } else {
                None
            };
            let vend = match child {
                Some(child) => self.value(child, None, p, None, raw)?,
                None => skip_value(b, p)?,
            };
            p = skip_ws(b, vend);
            match b.get(p) {
                Some(b',') => p = skip_ws(b, p + 1),
                Some(b']') => return Some(p + 1),
                _ => return None,
            }
            index += 1;
        }
    }
}

fn skip_ws(b: &[u8], mut p: usize) -> usize {
    while let Some(c) = b.get(p) {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            p += 1;
        } else {
            break;
        }
    }
    p
}

/// `p` is at an opening quote; returns the offset just past the closing quote.
fn string_end(b: &[u8], p: usize) -> Option<usize> {
    let mut i = p + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Skips one value starting at `p` (no recursion: brackets are counted).
fn skip_value(b: &[u8], p: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = p;
    loop {
        let c = *b.get(i)?;
        match c {
            b'"' => {
                i = string_end(b, i)?;
                if depth == 0 {
                    return Some(i);
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b',' if depth == 0 => return Some(i),
            b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return Some(i),
            _ => {}
        }
        i += 1;
    }
}

/// The text of a quoted key, borrowed when it has no escapes.
fn unescape(quoted: &str) -> Cow<'_, str> {
    if quoted.contains('\\') {
        Cow::Owned(serde_json::from_str::<String>(quoted).unwrap_or_else(|_| quoted.to_owned()))
    } else {
        Cow::Borrowed(&quoted[1..quoted.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the locator found for `target`: the pointer as written, the location and how
    /// many segments are missing.
    fn locate_one(text: &str, target: &Target) -> Located {
        let (mut found, paths) = locate(text, &[target]);
        let f = found.remove(0);
        Located {
            written: f.node.map(|n| paths.written(n)).unwrap_or_default(),
            location: f.location,
            missing: f.missing,
        }
    }

    struct Located {
        written: Vec<String>,
        location: Option<Location>,
        missing: usize,
    }

    fn target(p: &[&str], at_key: bool) -> Target {
        Target {
            pointer: Pointer(p.iter().map(|s| (*s).to_owned()).collect()),
            at_key,
            root: None,
        }
    }

    #[test]
    fn keys_are_canonicalised_except_in_user_maps() {
        let p = parse(
            r#"{"latencies_ms": {"p99": 1}, "labels": {"my_label": "x"}}"#,
            64,
        )
        .unwrap();
        assert_eq!(
            p.value,
            json!({"latenciesMs": {"p99": 1}, "labels": {"my_label": "x"}})
        );
        assert!(p.duplicates.is_empty());
    }

    #[test]
    fn duplicate_keys_after_canonicalisation_are_recorded() {
        let p = parse(r#"{"a": [{"start_time": 1, "startTime": 2}]}"#, 64).unwrap();
        assert_eq!(
            p.duplicates,
            vec![Pointer(vec!["a".into(), "0".into(), "startTime".into()])]
        );
        assert_eq!(p.value["a"][0]["startTime"], 2);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(200_000);
        assert!(matches!(
            parse(&deep, 64),
            Err(Error::TooDeep { limit: 64, .. })
        ));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(matches!(
            parse(&deep, 1000),
            Err(Error::TooDeep { limit: 128, .. })
        ));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        match parse("{\n  \"a\": 1,\n  \"b\" 2\n}", 64) {
            Err(Error::Syntax { location, .. }) => assert_eq!(location, Location::new(3, 7)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn locator_follows_written_keys_and_counts_characters() {
        let text = "{\n  \"labels\": {\"é\": \"x\"},\n  \"latencies_ms\": {\"min\": 1, \"p99\": \"bad\"},\n  \"clients\": [ {}, {\"endpoint_url\": 5} ]\n}";
        let f = locate_one(text, &target(&["latenciesMs", "p99"], false));
        assert_eq!(f.written, vec!["latencies_ms", "p99"]);
        assert_eq!(f.location, Some(Location::new(3, 37)));
        let f = locate_one(text, &target(&["latenciesMs", "p99"], true));
        assert_eq!(f.location, Some(Location::new(3, 30)));
        let f = locate_one(text, &target(&["clients", "1", "endpointUrls"], true));
        assert_eq!(f.written, vec!["clients", "1", "endpoint_url"]);
        assert_eq!(f.location, Some(Location::new(4, 21)));
        let f = locate_one(text, &target(&["labels", "é"], false));
        assert_eq!(f.location, Some(Location::new(2, 19)));
        let f = locate_one(text, &target(&["latenciesMs", "p50"], false));
        assert_eq!(f.missing, 1);
        assert_eq!(f.location, Some(Location::new(3, 19)));
    }

    #[test]
    fn locator_takes_the_last_duplicate() {
        let text = r#"{"a": 1, "a": 2}"#;
        let f = locate_one(text, &target(&["a"], true));
        assert_eq!(f.location, Some(Location::new(1, 10)));
    }
}
