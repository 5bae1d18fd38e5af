//! The fast path's YAML reader: plain block YAML straight into a [`Node`] tree.
//!
//! SMP documents are almost always written in a small, regular part of YAML: block mappings
//! and sequences, one scalar per line, the odd one-level flow collection (`{p50: 1, p99: 2}`),
//! comments. This reader accepts exactly that part and gives up (`None`) on everything else:
//! tabs, carriage returns, anchors, aliases, tags, block and multi-line scalars, escapes in
//! quoted scalars, directives, several documents, keys that are not plain names, plain
//! scalars that could read differently in YAML 1.1 and 1.2 parsers. On what it accepts,
//! saphyr-parser (the full path) and libyaml (smps-model's reader) build the same tree, which
//! is what lets the fast path skip both; `tests/fast_path.rs` compares the reports of both
//! paths on generated and mutated documents.
//!
//! Scalars are resolved by the full path's own functions (`crate::yaml`), so a number is a
//! number on both paths by construction.

use std::borrow::Cow;

use crate::tree::{Members, Node, Tree, plain_member};

/// One content line: indentation (spaces) and the text after it, comment and trailing
/// spaces removed.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    body: &'a str,
}

/// Reads `text` if it is plain block YAML (see the module docs); `None` otherwise.
pub(crate) fn read_plain_yaml(text: &str, max_depth: usize) -> Option<Node<'_>> {
    if !is_plain_text(text) {
        return None;
    }
    let mut lines = Vec::with_capacity(32);
    let mut first = true;
    for raw in text.split('\n') {
        let body = raw.trim_start_matches(' ');
        let indent = raw.len() - body.len();
        let body = strip_comment(body)?;
        if body.is_empty() {
            continue;
        }
        if indent == 0 && (body.starts_with("---") || body.starts_with("...")) {
            // One leading `---` is fine; anything else means several documents.
            if first && body == "---" {
                first = false;
                continue;
            }
            return None;
        }
        first = false;
        lines.push(Line { indent, body });
    }
    let indent = lines.first()?.indent;
    let mut p = Reader {
        lines,
        at: 0,
        max_depth,
    };
    let root = p.block(indent, 0, false)?;
    (p.at == p.lines.len()).then_some(root)
}

/// Whether every character of `text` is one this reader takes: line feeds and YAML's
/// printable characters, without tabs, carriage returns or a byte-order mark. libyaml
/// (smps-model's reader) refuses the rest of the C0 and C1 controls, DEL and the
/// non-characters U+FFFE/U+FFFF, so a text with one of them goes the full path, which says so.
fn is_plain_text(text: &str) -> bool {
    // No early exit, so the byte test compiles to a vector loop.
    let refused = text.bytes().fold(false, |acc, b| {
        acc | ((b < b' ' && b != b'\n') | (b == 0x7f))
    });
    !refused
        && (text.is_ascii()
            || !text.chars().any(|c| {
                matches!(
                    c,
                    '\u{80}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                )
            }))
}

/// The line without its comment (` #...`) and trailing spaces. A line that has both a quote
/// and ` #` is ambiguous to a line-based reader: `None`.
fn strip_comment(body: &str) -> Option<&str> {
    let b = body.as_bytes();
    if b.first() == Some(&b'#') {
        return Some("");
    }
    if !b.contains(&b'#') {
        return Some(body.trim_end_matches(' '));
    }
    match b.windows(2).position(|w| w == b" #") {
        Some(_) if b.iter().any(|&c| c == b'"' || c == b'\'') => None,
        Some(i) => Some(body[..i].trim_end_matches(' ')),
        None => Some(body.trim_end_matches(' ')),
    }
}

fn is_item(body: &str) -> bool {
    body == "-" || body.starts_with("- ")
}

/// `name: rest` or `name:` with a plain name (letters, digits, `_ . / -`) that every YAML
/// reader takes for a string (see [`key_reads_as_string`]). `None` for anything else.
fn split_key(body: &str) -> Option<(&str, &str)> {
    // One pass finds the colon and checks the name's bytes on the way.
    let b = body.as_bytes();
    let colon = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-')))?;
    if colon == 0 || b[colon] != b':' {
        return None;
    }
    let (key, after) = (&body[..colon], &body[colon + 1..]);
    if !key_reads_as_string(key) {
        return None;
    }
    key_and_rest(key, after)
}

/// `key` with what follows its colon: nothing, or a space and then the value.
fn key_and_rest<'a>(key: &'a str, after: &'a str) -> Option<(&'a str, &'a str)> {
    if after.is_empty() {
        return Some((key, ""));
    }
    after
        .strip_prefix(' ')
        .map(|rest| (key, rest.trim_start_matches(' ')))
}

/// Whether a plain key is a string to every YAML reader: it starts with a letter, `_` or `/`
/// and is not a YAML 1.1 or 1.2 boolean or null. libyaml (smps-model's reader) resolves `123`,
/// `.5` or `true` as keys of other types, and fails on integers beyond 64 bits (found by the
/// fuzz target: a 33-digit label key), so such keys go the full path.
fn key_reads_as_string(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && !is_yaml11_bool(key)
        && !["true", "false", "null"]
            .iter()
            .any(|w| w.eq_ignore_ascii_case(key))
}

/// A YAML 1.1 boolean word (`y`, `No`, `ON`, ...): a string to YAML 1.2 parsers, but not to
/// every reader out there.
fn is_yaml11_bool(s: &str) -> bool {
    s.len() <= 3
        && ["y", "n", "yes", "no", "on", "off"]
            .iter()
            .any(|w| w.eq_ignore_ascii_case(s))
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    /// A block collection whose first line is the current one, at `indent`.
    fn block(&mut self, indent: usize, depth: usize, raw: bool) -> Option<Node<'a>> {
        if depth >= self.max_depth {
            return None;
        }
        let line = self.lines.get(self.at)?;
        if line.indent != indent {
            return None;
        }
        if is_item(line.body) {
            self.sequence(indent, depth, raw)
        } else {
            self.mapping(indent, depth, raw)
        }
    }

    fn sequence(&mut self, indent: usize, depth: usize, raw: bool) -> Option<Node<'a>> {
        let mut items = Vec::new();
        while let Some(&line) = self.lines.get(self.at) {
            if line.indent != indent || !is_item(line.body) {
                break;
            }
            let rest = line.body[1..].trim_start_matches(' ');
            if rest.is_empty() {
                self.at += 1;
                let next = self.lines.get(self.at)?;
                if next.indent <= indent {
                    return None; // an empty item
                }
                items.push(self.block(next.indent, depth + 1, raw)?);
            } else if split_key(rest).is_some() {
                // `- key: value`: a mapping whose lines line up with `key`.
                let inner = indent + (line.body.len() - rest.len());
                self.lines[self.at] = Line {
                    indent: inner,
                    body: rest,
                };
                items.push(self.mapping(inner, depth + 1, raw)?);
            } else {
                items.push(scalar(rest, depth + 1, self.max_depth, raw)?);
                self.at += 1;
            }
        }
        Some(Node::Arr(items))
    }

    fn mapping(&mut self, indent: usize, depth: usize, raw: bool) -> Option<Node<'a>> {
        let mut members: Vec<(Cow<'a, str>, Node<'a>)> = Vec::with_capacity(8);
        while let Some(&line) = self.lines.get(self.at) {
            if line.indent != indent || is_item(line.body) {
                break;
            }
            let (key, rest) = split_key(line.body)?;
            if !plain_member(&members, key, raw) {
                return None;
            }
            let child_raw = raw || smps_model::spelling::is_user_map(key);
            self.at += 1;
            let value = if rest.is_empty() {
                match self.lines.get(self.at) {
                    Some(next) if next.indent > indent => {
                        self.block(next.indent, depth + 1, child_raw)?
                    }
                    Some(next) if next.indent == indent && is_item(next.body) => {
                        self.sequence(indent, depth + 1, child_raw)?
                    }
                    _ => Node::Null,
                }
            } else {
                scalar(rest, depth + 1, self.max_depth, child_raw)?
            };
            if value.is_null() && !raw {
                return None;
            }
            members.push((Cow::Borrowed(key), value));
        }
        Some(Node::Obj(Members(members)))
    }
}

/// A scalar or a one-level flow collection written after `key: ` or `- `.
fn scalar(s: &str, depth: usize, max_depth: usize, raw: bool) -> Option<Node<'_>> {
    if depth >= max_depth {
        return None;
    }
    match s.as_bytes().first()? {
        b'"' => quoted(s, '"'),
        b'\'' => quoted(s, '\''),
        b'[' => {
            let inner = s.strip_prefix('[')?.strip_suffix(']')?;
            let items = flow_items(inner)?;
            items
                .into_iter()
                .map(plain)
                .collect::<Option<Vec<_>>>()
                .map(Node::Arr)
        }
        b'{' => {
            let inner = s.strip_prefix('{')?.strip_suffix('}')?;
            let mut members: Vec<(Cow<'_, str>, Node<'_>)> = Vec::new();
            for item in flow_items(inner)? {
                let (key, value) = split_key(item)?;
                if value.is_empty() || !plain_member(&members, key, raw) {
                    return None;
                }
                let value = plain(value)?;
                if value.is_null() && !raw {
                    return None;
                }
                members.push((Cow::Borrowed(key), value));
            }
            Some(Node::Obj(Members(members)))
        }
        _ => plain(s),
    }
}

/// A quoted scalar with no escapes and no inner quote.
fn quoted(s: &str, q: char) -> Option<Node<'_>> {
    let inner = s.strip_prefix(q)?.strip_suffix(q)?;
    if inner.contains([q, '\\']) {
        return None;
    }
    Some(Node::Str(Cow::Borrowed(inner)))
}

/// The items of a flow collection, trimmed; `None` when it holds anything but plain scalars.
fn flow_items(inner: &str) -> Option<Vec<&str>> {
    if inner.contains(['"', '\'', '[', ']', '{', '}', '#']) {
        return None;
    }
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    let items: Vec<&str> = inner.split(',').map(|i| i.trim_matches(' ')).collect();
    if items.iter().any(|i| i.is_empty()) {
        return None;
    }
    Some(items)
}

/// A plain scalar, resolved as the full path resolves it; `None` for forms the two YAML
/// parsers might read differently.
fn plain(s: &str) -> Option<Node<'_>> {
    let first = s.chars().next()?;
    // Indicators, and the starts of YAML 1.1-only forms (`.5`, `+1`, `~`, `-x`), unless a
    // plain negative number.
    if crate::yaml::starts_with_indicator(s)
        || (matches!(first, '-' | '.' | '+' | '~') && !looks_signed_number(s))
    {
        return None;
    }
    if is_yaml11_bool(s) {
        return None;
    }
    let b = s.as_bytes();
    let awkward = b.iter().enumerate().any(|(i, &c)| match c {
        b'[' | b']' | b'{' | b'}' => true,
        b':' => b.get(i + 1).is_none_or(|&n| n == b' '),
        b'#' => i > 0 && b[i - 1] == b' ',
        _ => false,
    });
    if awkward {
        return None;
    }
    // Only what could be a null, a boolean or a number needs resolving.
    let maybe_not_string = first.is_ascii_digit()
        || matches!(first, '-' | '+' | '.' | '~')
        || matches!(
            s,
            "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        );
    if !maybe_not_string {
        return Some(Node::Str(Cow::Borrowed(s)));
    }
    if let Some(n) = simple_number(s) {
        return Some(n);
    }
    resolved(s)
}

/// An unsigned integer or decimal in its plainest spelling (`0`, `42`, `3.25`; no sign, no
/// leading zero, no exponent, at most 15 digits on each side of the point): what the full
/// path's resolver makes of it, without its general machinery. A proptest holds it to
/// [`resolved`].
fn simple_number(s: &str) -> Option<Node<'_>> {
    let b = s.as_bytes();
    let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if int_len == 0 || int_len > 15 || (int_len > 1 && b[0] == b'0') {
        return None;
    }
    match b.get(int_len) {
        None => s.parse::<u64>().ok().map(Node::UInt),
        Some(b'.') => {
            let frac = &b[int_len + 1..];
            if frac.is_empty() || frac.len() > 15 || !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
            s.parse::<f64>().ok().map(Node::Float)
        }
        Some(_) => None,
    }
}

/// A plain scalar that may be a null, a boolean or a number, resolved by the full path's
/// resolver; `None` for spellings parsers read differently.
fn resolved(s: &str) -> Option<Node<'_>> {
    let first = s.chars().next()?;
    let value = crate::yaml::resolve_plain(s);
    let node = match value {
        serde_json::Value::Null => Node::Null,
        serde_json::Value::Bool(b) => Node::Bool(b),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Node::UInt(u)
            } else if let Some(i) = n.as_i64() {
                Node::Int(i)
            } else {
                Node::Float(n.as_f64()?)
            }
        }
        // A number-like string (`1e400`, `0x`, `012`, `.5e`): parsers disagree at the edges.
        serde_json::Value::String(_) if first.is_ascii_digit() && number_like(s) => return None,
        serde_json::Value::String(_) => Node::Str(Cow::Borrowed(s)),
        _ => return None,
    };
    match node {
        // Only plain decimal spellings: `0x10`, `0o7`, `+1` read alike in every parser we
        // know, but keep the fast path to the forms nobody disputes.
        Node::Int(_) | Node::UInt(_) | Node::Float(_) if !decimal(s) => None,
        Node::Bool(_) if !matches!(s, "true" | "false") => None,
        Node::Null if s != "null" => None,
        n => Some(n),
    }
}

/// `-1`, `-0.5`: a leading `-` that starts a number, not an indicator.
fn looks_signed_number(s: &str) -> bool {
    s.strip_prefix('-')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// `-?digits(.digits)?([eE][-+]?digits)?`.
fn decimal(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// Made only of characters that occur in numbers.
fn number_like(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b'-' | b'+' | b'_' | b'x' | b'o'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// `split_key` as first written: find the colon, then check the name (the part after the
    /// colon is shared; the one-pass rewrite did not touch it).
    fn split_key_reference(body: &str) -> Option<(&str, &str)> {
        let colon = body.find(':')?;
        let (key, after) = (&body[..colon], &body[colon + 1..]);
        let name_ok = !key.is_empty()
            && !key.starts_with('-')
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
            && key_reads_as_string(key);
        if !name_ok {
            return None;
        }
        key_and_rest(key, after)
    }

    proptest! {
        #[test]
        fn simple_numbers_resolve_as_the_full_path_resolves_them(s in "[0-9]{1,17}(\\.[0-9]{0,17})?[e.]?") {
            if let Some(fast) = simple_number(&s) {
                let slow = resolved(&s);
                prop_assert_eq!(Some(fast.to_value()), slow.map(|n| n.to_value()), "{}", s);
            }
        }

        #[test]
        fn split_key_matches_its_reference(body in "[-a-zA-Z0-9_./: #'\"{é]{0,12}") {
            prop_assert_eq!(split_key(&body), split_key_reference(&body));
        }
    }

    fn read(text: &str) -> Option<serde_json::Value> {
        read_plain_yaml(text, 64).map(|n| n.to_value())
    }

    #[test]
    fn plain_block_yaml_is_read() {
        let text = "---\n# a result\nsmpVersion: v0.6.1\nlabels:\n  smps.io/generator: fortio # who\n  run: r1\nlatenciesMs: {min: 1.5, p50: 3, max: -0.5e1}\nid: \"x: y\"\nname: 'plain'\nclients:\n- protocol: PROTOCOL_HTTP\n  endpointUrls:\n    - http://127.0.0.1:8080/a#frag\n  connections: 2\n- {protocol: 1}\nflags: [true, false]\n";
        assert_eq!(
            read(text),
            Some(json!({
                "smpVersion": "v0.6.1",
                "labels": {"smps.io/generator": "fortio", "run": "r1"},
                "latenciesMs": {"min": 1.5, "p50": 3, "max": -5.0},
                "id": "x: y",
                "name": "plain",
                "clients": [
                    {"protocol": "PROTOCOL_HTTP", "endpointUrls": ["http://127.0.0.1:8080/a#frag"], "connections": 2},
                    {"protocol": 1}
                ],
                "flags": [true, false]
            }))
        );
    }

    #[test]
    fn everything_else_is_left_to_the_full_path() {
        for text in [
            "a:\tb\n",
            "a: b\r\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: first\n  second\n",
            "a: \"esc\\n\"\n",
            "a: 'it''s'\n",
            "a: 1\n---\nb: 2\n",
            "%YAML 1.2\n---\na: 1\n",
            "\"quoted key\": 1\n",
            "a: 1\na: 2\n",
            "start_time: x\n",
            "a: null\n",
            "a:\n",
            "a: ~\n",
            "a: yes\n",
            "a: 0x10\n",
            "a: 012\n",
            "a: 1e400\n",
            "a: .inf\n",
            "a: 1_000\n",
            "a: [1, [2]]\n",
            "a: [1, ]\n",
            "a: {b: 1, c}\n",
            "a: 'x' # note\n",
            "- a\n- b\nc: 1\n",
            "",
            "# only a comment\n",
            // Keys YAML readers resolve as numbers, booleans or null (found by the fuzz target).
            "labels:\n  666666666666666666666666666666666: x\n",
            "labels:\n  8080: x\n",
            "labels:\n  .5: x\n",
            "labels:\n  yes: x\n",
            "labels:\n  Null: x\n",
            "labels: {1: x}\n",
            // Characters libyaml refuses (found by the fuzz target).
            "a: x\u{11}y\n",
            "a: x\u{0}y\n",
            "a: x\u{7f}\n",
            "a: x\u{85}\n",
            "a: x\u{9f}\n",
            "\u{feff}a: 1\n",
            "a: \u{fffe}\n",
        ] {
            assert_eq!(read(text), None, "{text:?}");
        }
        // Printable non-ASCII stays on the fast path.
        assert_eq!(
            read("a: caf\u{e9} \u{a0}\u{2603}\n"),
            Some(json!({"a": "caf\u{e9} \u{a0}\u{2603}"}))
        );
    }
}
