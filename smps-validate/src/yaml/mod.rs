//! YAML front end on saphyr-parser's event stream.
//!
//! [`parse`] builds each document straight into a canonical-key `serde_json::Value` (no
//! intermediate tree), with explicit limits: nesting depth, and total nodes including alias
//! expansions (alias bombs). The event loop keeps its own stack, so nothing recurses on input
//! depth. [`locate`] (in `locate.rs`) replays the event stream and follows canonical pointers
//! to the positions saphyr gives every node and key; scalar resolution is in `scalar.rs`.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError};
use serde_json::{Map, Value};
use smps_model::spelling;

use crate::doc::{Parsed, Pointer};
use crate::{Error, Format, Location, Result};

mod locate;
mod scalar;

use self::locate::location;
pub(crate) use self::locate::{Request, locate};
use self::scalar::resolve;
pub(crate) use self::scalar::{resolve_plain, starts_with_indicator};

/// Limits applied while parsing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_depth: usize,
    pub(crate) max_nodes: usize,
}

/// One document of a stream.
#[derive(Debug)]
pub(crate) struct YamlDoc {
    /// Index of the document in the stream (0-based, empty documents included).
    pub(crate) index: usize,
    pub(crate) parsed: Parsed,
    /// An empty document (no content at all).
    pub(crate) empty: bool,
}

fn syntax(e: &ScanError) -> Error {
    Error::Syntax {
        format: Format::Yaml,
        location: location(e.marker()),
        message: e.info().to_owned(),
    }
}

enum Container {
    Seq(Vec<Value>),
    Map {
        map: Map<String, Value>,
        key: Option<String>,
    },
}

struct Frame {
    container: Container,
    anchor: usize,
    nodes_at_start: usize,
    /// Inside a user map: keys stay as written.
    raw: bool,
}

struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    /// Whether an alias has been expanded in this document.
    aliased: bool,
    root: Option<Value>,
    duplicates: Vec<Pointer>,
    non_finite: Vec<(Pointer, String)>,
}

impl Builder {
    fn new(limits: Limits) -> Self {
        Builder {
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            aliased: false,
            root: None,
            duplicates: Vec::new(),
            non_finite: Vec::new(),
        }
    }

    fn count(&mut self, n: usize, at: &Marker) -> Result<()> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(Error::TooManyNodes {
                limit: self.limits.max_nodes,
                location: location(at),
                through_aliases: self.aliased,
            });
        }
        Ok(())
    }

    fn awaiting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                container: Container::Map { key: None, .. },
                ..
            })
        )
    }

    /// Whether a node opened now is inside a user map.
    fn child_raw(&self) -> bool {
        match self.stack.last() {
            None => false,
            Some(f) if f.raw => true,
            Some(Frame {
                container: Container::Map { key: Some(k), .. },
                ..
            }) => spelling::is_user_map(k),
            Some(_) => false,
        }
    }

    fn open(&mut self, container: Container, anchor: usize, at: &Marker) -> Result<()> {
        if self.awaiting_key() {
            return Err(Error::Syntax {
                format: Format::Yaml,
                location: location(at),
                message: "mapping keys must be scalars".into(),
            });
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(Error::TooDeep {
                limit: self.limits.max_depth,
                location: location(at),
            });
        }
        self.count(1, at)?;
        let raw = self.child_raw();
        self.stack.push(Frame {
            container,
            anchor,
            nodes_at_start: self.nodes,
            raw,
        });
        Ok(())
    }

    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let value = match frame.container {
            Container::Seq(v) => Value::Array(v),
            Container::Map { map, .. } => Value::Object(map),
        };
        if frame.anchor != 0 {
            let n = self.nodes - frame.nodes_at_start + 1;
            self.anchors.insert(frame.anchor, (value.clone(), n));
        }
        self.push(value);
    }

    fn key(&mut self, raw_key: &str) {
        let raw = self.stack.last().is_some_and(|f| f.raw);
        if let Some(Frame {
            container: Container::Map { key, .. },
            ..
        }) = self.stack.last_mut()
        {
            *key = Some(if raw {
                raw_key.to_owned()
            } else {
                spelling::canonical_key(raw_key).into_owned()
            });
        }
    }

    fn pointer_to_current(&self) -> Pointer {
        let mut segs = Vec::with_capacity(self.stack.len());
        for f in &self.stack {
            match &f.container {
                Container::Seq(v) => segs.push(v.len().to_string()),
                Container::Map { key, .. } => segs.push(key.clone().unwrap_or_default()),
            }
        }
        Pointer(segs)
    }

    fn push(&mut self, value: Value) {
        let dup = match self.stack.last() {
            Some(Frame {
                container: Container::Map { map, key: Some(k) },
                ..
            }) => map.contains_key(k),
            _ => false,
        };
        if dup {
            let p = self.pointer_to_current();
            self.duplicates.push(p);
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame {
                container: Container::Seq(v),
                ..
            }) => v.push(value),
            Some(Frame {
                container: Container::Map { map, key },
                raw,
                ..
            }) => {
                if let Some(k) = key.take() {
                    // proto3 JSON: a null field means "default", i.e. absent.
                    if !value.is_null() || *raw {
                        map.insert(k, value);
                    }
                }
            }
        }
    }
}

/// What saphyr-parser says about `key:<TAB>value`, which YAML allows (a tab is white space
/// there) and libyaml, so smps-model's reader, reads.
const TAB_AFTER_COLON: &str = "':' must be followed by a valid YAML whitespace";

/// How many single tab fixes [`parse`] tries after its one pass over the whole text.
const TAB_RETRIES: usize = 64;

/// Parses every document of a YAML stream. When the text has `key:<TAB>value`, which
/// saphyr-parser refuses, the parse runs on a copy with those tabs turned into spaces (same
/// bytes, same characters, so every position is unchanged); that copy is returned too, for the
/// locator to replay.
pub(crate) fn parse(text: &str, limits: Limits) -> Result<(Vec<YamlDoc>, Option<String>)> {
    match parse_events(text, limits) {
        Err(Error::Syntax { message, .. }) if message == TAB_AFTER_COLON => {}
        other => return other.map(|docs| (docs, None)),
    }
    let mut fixed = tabs_after_colons(text);
    let mut retries = 0;
    loop {
        match parse_events(&fixed, limits) {
            Err(Error::Syntax {
                message, location, ..
            }) if message == TAB_AFTER_COLON
                && retries < TAB_RETRIES
                && tab_before(&mut fixed, location) =>
            {
                retries += 1;
            }
            other => return other.map(|docs| (docs, Some(fixed))),
        }
    }
}

/// Turns the tabs just before `location` (where saphyr-parser stopped after a `:`) into
/// spaces; `false` when there are none.
fn tab_before(text: &mut String, location: Location) -> bool {
    let Some(line_start) = text
        .split_inclusive('\n')
        .take(location.line().saturating_sub(1))
        .map(str::len)
        .try_fold(0usize, usize::checked_add)
    else {
        return false;
    };
    let line = &text[line_start..];
    let Some(end) = line
        .char_indices()
        .nth(location.column().saturating_sub(1))
        .map(|(i, _)| line_start + i)
    else {
        return false;
    };
    let start = text[..end].trim_end_matches('\t').len();
    if start == end {
        return false;
    }
    text.replace_range(start..end, &" ".repeat(end - start));
    true
}

/// A copy of `text` in which the tabs between a mapping's `:` and a value on the same line
/// are spaces, found in one pass: outside quotes (on the line), comments and block scalars.
/// Positions do not change (a tab and a space are one byte and one character each).
fn tabs_after_colons(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Indentation of the line that opened a block scalar (`|`, `>`): deeper lines are content.
    let mut block: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let blank = line.trim().is_empty();
        if let Some(b) = block {
            if blank || indent > b {
                out.push_str(line);
                continue;
            }
            block = None;
        }
        let bytes = line.as_bytes();
        let mut quote: Option<u8> = None;
        let mut previous = b' ';
        let mut i = 0;
        let start = out.len();
        out.push_str(line);
        while i < bytes.len() {
            let c = bytes[i];
            match quote {
                Some(q) => {
                    if c == b'\\' && q == b'"' {
                        i += 1;
                    } else if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    b'"' | b'\''
                        if matches!(
                            previous,
                            b' ' | b'\t' | b':' | b'-' | b'[' | b'{' | b',' | b'?'
                        ) =>
                    {
                        quote = Some(c);
                    }
                    b'#' if matches!(previous, b' ' | b'\t') => break,
                    b':' if bytes.get(i + 1) == Some(&b'\t') => {
                        let mut j = i + 1;
                        while bytes.get(j) == Some(&b'\t') {
                            j += 1;
                        }
                        if !matches!(bytes.get(j), None | Some(b' ' | b'\n' | b'\r' | b'#')) {
                            out.replace_range(start + i + 1..start + j, &" ".repeat(j - i - 1));
                        }
                        i = j;
                        previous = b' ';
                        continue;
                    }
                    _ => {}
                },
            }
            previous = c;
            i += 1;
        }
        if quote.is_none() && opens_block_scalar(line) {
            block = Some(indent);
        }
    }
    out
}

/// Whether a line ends with a block scalar header (`key: |`, `- >-`, `key: |2 # note`).
fn opens_block_scalar(line: &str) -> bool {
    let code = line.split(" #").next().unwrap_or(line).trim_end();
    let Some(at) = code.rfind(['|', '>']) else {
        return false;
    };
    let before = code[..at].trim_end();
    let header_rest = &code[at + 1..];
    (before.ends_with(':') || before.ends_with('-') || before.is_empty())
        && header_rest
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
}

/// [`parse`] on text saphyr-parser takes as it is.
fn parse_events(text: &str, limits: Limits) -> Result<Vec<YamlDoc>> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut b = Builder::new(limits);
    let mut index = 0usize;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            // saphyr-parser has its own nesting guard; report it as the depth limit.
            if e.info().contains("recursion limit") {
                Error::TooDeep {
                    limit: limits.max_depth,
                    location: location(e.marker()),
                }
            } else {
                syntax(&e)
            }
        })?;
        let at = span.start;
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                b = Builder::new(limits);
            }
            Event::DocumentEnd => {
                let (value, empty) = match b.root.take() {
                    Some(v) => {
                        let empty = v.is_null() && b.nodes <= 1;
                        (v, empty)
                    }
                    None => (Value::Null, true),
                };
                docs.push(YamlDoc {
                    index,
                    parsed: Parsed {
                        value,
                        duplicates: std::mem::take(&mut b.duplicates),
                        non_finite: std::mem::take(&mut b.non_finite),
                    },
                    empty,
                });
                index += 1;
            }
            Event::Alias(id) => {
                let Some((value, n)) = b.anchors.get(&id).cloned() else {
                    return Err(Error::Syntax {
                        format: Format::Yaml,
                        location: location(&at),
                        message: "alias to an unknown anchor".into(),
                    });
                };
                b.aliased = true;
                b.count(n, &at)?;
                if b.awaiting_key() {
                    match value {
                        Value::String(s) => b.key(&s),
                        Value::Object(_) | Value::Array(_) => {
                            return Err(Error::Syntax {
                                format: Format::Yaml,
                                location: location(&at),
                                message: "mapping keys must be scalars".into(),
                            });
                        }
                        other => b.key(&other.to_string()),
                    }
                } else {
                    b.push(value);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                b.count(1, &at)?;
                if style == ScalarStyle::Plain {
                    check_plain(&text, &at)?;
                }
                if b.awaiting_key() {
                    if anchor != 0 {
                        b.anchors
                            .insert(anchor, (Value::String(text.to_string()), 1));
                    }
                    b.key(&text);
                } else {
                    // Every plain spelling of infinity or NaN is short and has an `n`: only those
                    // are kept, to record where a number became a string.
                    let written = (style == ScalarStyle::Plain
                        && text.len() <= 10
                        && text.bytes().any(|c| c.eq_ignore_ascii_case(&b'n')))
                    .then(|| text.to_string());
                    let value = resolve(text, style, tag.as_deref());
                    if let (Some(written), Value::String(s)) = (written, &value) {
                        if matches!(s.as_str(), "Infinity" | "-Infinity" | "NaN") && *s != written {
                            b.non_finite.push((b.pointer_to_current(), written));
                        }
                    }
                    if anchor != 0 {
                        b.anchors.insert(anchor, (value.clone(), 1));
                    }
                    b.push(value);
                }
            }
            Event::SequenceStart(anchor, _) => {
                b.open(Container::Seq(Vec::new()), anchor, &at)?;
            }
            Event::MappingStart(anchor, _) => {
                b.open(
                    Container::Map {
                        map: Map::new(),
                        key: None,
                    },
                    anchor,
                    &at,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => b.close(),
        }
    }
    Ok(docs)
}

/// YAML 1.2 (`ns-plain-first`): a plain scalar cannot start with an indicator character, and
/// `-`, `?`, `:` only when followed by a non-space. saphyr-parser lets some through (`|x` in a
/// flow mapping); libyaml, and so smps-model's reader, rejects them, so we do too.
fn check_plain(text: &str, at: &Marker) -> Result<()> {
    if starts_with_indicator(text) {
        let first = text.chars().next().unwrap_or_default();
        return Err(Error::Syntax {
            format: Format::Yaml,
            location: location(at),
            message: format!("a plain scalar cannot start with `{first}`"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: Limits = Limits {
        max_depth: 64,
        max_nodes: 10_000,
    };

    fn one(text: &str) -> Value {
        let mut docs = parse(text, LIMITS).unwrap().0;
        assert_eq!(docs.len(), 1);
        docs.remove(0).parsed.value
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let v = one(
            "a: 1\nb: -2.5\nc: true\nd: ~\ne: '1'\nf: .nan\ng: -.inf\nh: 0x1F\ni: 1e3\nj: 2024-01-01T00:00:00Z\nk: 18446744073709551616\nl: inf\nm: 0123\nn: 0b101\no: -0x1F\np: 1e400\n",
        );
        assert_eq!(
            v,
            json!({"a": 1, "b": -2.5, "c": true, "e": "1", "f": "NaN", "g": "-Infinity",
                   "h": 31, "i": 1000.0, "j": "2024-01-01T00:00:00Z", "k": 18_446_744_073_709_551_616.0_f64,
                   "l": "inf", "m": "0123", "n": 5, "o": -31, "p": "1e400"})
        );
    }

    #[test]
    fn keys_are_canonicalised_except_in_user_maps() {
        let v = one("latencies_ms:\n  p99: 1\nlabels:\n  my_key: x\n  nested_a: {b_c: 1}\n");
        assert_eq!(
            v,
            json!({"latenciesMs": {"p99": 1}, "labels": {"my_key": "x", "nested_a": {"b_c": 1}}})
        );
    }

    #[test]
    fn tabs_after_a_mapping_colon_become_spaces_but_not_in_content() {
        let text = "a:\tb\nq: \"x:\ty\" # c:\td\nblock: |\n  k:\tv\nflow: {k:\tv}\n- s:\tt\n";
        let fixed = tabs_after_colons(text);
        assert_eq!(fixed.len(), text.len());
        assert_eq!(
            fixed,
            "a: b\nq: \"x:\ty\" # c:\td\nblock: |\n  k:\tv\nflow: {k: v}\n- s: t\n"
        );
        // What the parser reads from the fixed text is what libyaml reads from the original.
        let v = one("a:\tb\nq: \"x:\ty\"\nblock: |\n  k:\tv\n");
        assert_eq!(v, json!({"a": "b", "q": "x:\ty", "block": "k:\tv\n"}));
    }

    #[test]
    fn multi_document_streams_keep_indices() {
        let docs = parse("a: 1\n---\n---\nb: 2\n", LIMITS).unwrap().0;
        assert_eq!(docs.len(), 3);
        assert!(docs[1].empty);
        assert_eq!(docs[2].index, 2);
        assert_eq!(docs[2].parsed.value, json!({"b": 2}));
    }

    #[test]
    fn alias_bombs_hit_the_node_limit() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        assert!(matches!(
            parse(&text, LIMITS),
            Err(Error::TooManyNodes { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let text = "[".repeat(200_000);
        let r = parse(&text, LIMITS);
        assert!(matches!(r, Err(Error::TooDeep { limit: 64, .. })), "{r:?}");
        let text = "- ".repeat(100) + "x";
        assert!(matches!(parse(&text, LIMITS), Err(Error::TooDeep { .. })));
    }

    #[test]
    fn syntax_errors_have_positions() {
        match parse("a: 1\n b: 2\n  - c\n", LIMITS) {
            Err(Error::Syntax { location, .. }) => assert_eq!(location.line(), 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn duplicates_are_recorded_with_canonical_pointers() {
        let docs = parse("x:\n  start_time: 1\n  startTime: 2\n", LIMITS)
            .unwrap()
            .0;
        assert_eq!(
            docs[0].parsed.duplicates,
            vec![Pointer(vec!["x".into(), "startTime".into()])]
        );
    }
}
