//! The fast path's JSON reader: plainly canonical JSON straight into a [`Node`] tree.
//!
//! A single pass over the bytes, strings borrowed from the input. It accepts RFC 8259 JSON
//! with two restrictions and gives up (`None`) outside them, leaving the document to the full
//! path (serde_json), which reports whatever is wrong: strings have no escapes, and integers
//! fit 64 bits. Numbers with a fraction or an exponent are parsed by Rust's correctly rounded
//! `f64` parser, as serde_json's `float_roundtrip` parser does, so both paths see the same
//! value. The member rules are the fast path's ([`plain_member`]): canonical keys outside user
//! maps, no repeats, no `null` members outside user maps.

use std::borrow::Cow;

use crate::canon;
use crate::tree::{Members, Node, Tree, plain_member};

/// Reads `text` if it is plainly canonical JSON within `max_depth`; `None` otherwise.
pub(crate) fn read_plain_json(text: &str, max_depth: usize) -> Option<Node<'_>> {
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        at: 0,
        max_depth,
    };
    let root = r.value(0, false)?;
    r.skip_ws();
    (r.at == r.b.len()).then_some(root)
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    at: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.at) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.skip_ws();
        (self.b.get(self.at) == Some(&c)).then(|| self.at += 1)
    }

    fn value(&mut self, depth: usize, raw: bool) -> Option<Node<'a>> {
        self.skip_ws();
        match *self.b.get(self.at)? {
            b'{' => self.object(depth, raw),
            b'[' => self.array(depth, raw),
            b'"' => self.string().map(|s| Node::Str(Cow::Borrowed(s))),
            b't' => self.word("true", Node::Bool(true)),
            b'f' => self.word("false", Node::Bool(false)),
            b'n' => self.word("null", Node::Null),
            _ => self.number(),
        }
    }

    fn word(&mut self, w: &str, node: Node<'a>) -> Option<Node<'a>> {
        self.b[self.at..].starts_with(w.as_bytes()).then(|| {
            self.at += w.len();
            node
        })
    }

    /// A string without escapes or control characters, borrowed.
    fn string(&mut self) -> Option<&'a str> {
        self.at += 1; // the opening quote
        let start = self.at;
        loop {
            match *self.b.get(self.at)? {
                b'"' => break,
                b'\\' => return None,
                c if c < 0x20 => return None,
                _ => self.at += 1,
            }
        }
        let s = &self.text[start..self.at];
        self.at += 1;
        Some(s)
    }

    fn number(&mut self) -> Option<Node<'a>> {
        let start = self.at;
        let b = self.b;
        if b.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let digits = |at: &mut usize| {
            let from = *at;
            while b.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at - from
        };
        let int_start = self.at;
        let n = digits(&mut self.at);
        if n == 0 || (n > 1 && b[int_start] == b'0') {
            return None;
        }
        let mut float = false;
        if b.get(self.at) == Some(&b'.') {
            self.at += 1;
            if digits(&mut self.at) == 0 {
                return None;
            }
            float = true;
        }
        if let Some(b'e' | b'E') = b.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = b.get(self.at) {
                self.at += 1;
            }
            if digits(&mut self.at) == 0 {
                return None;
            }
            float = true;
        }
        let s = &self.text[start..self.at];
        if float {
            s.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Node::Float)
        } else if s == "-0" {
            Some(Node::Float(-0.0)) // as serde_json reads it
        } else if s.starts_with('-') {
            s.parse::<i64>().ok().map(Node::Int)
        } else {
            s.parse::<u64>().ok().map(Node::UInt)
        }
    }

    fn array(&mut self, depth: usize, raw: bool) -> Option<Node<'a>> {
        if depth >= self.max_depth {
            return None;
        }
        self.at += 1;
        let mut items = Vec::new();
        if self.eat(b']').is_some() {
            return Some(Node::Arr(items));
        }
        loop {
            items.push(self.value(depth + 1, raw)?);
            if self.eat(b',').is_some() {
                continue;
            }
            self.eat(b']')?;
            return Some(Node::Arr(items));
        }
    }

    fn object(&mut self, depth: usize, raw: bool) -> Option<Node<'a>> {
        if depth >= self.max_depth {
            return None;
        }
        self.at += 1;
        let mut members: Vec<(Cow<'a, str>, Node<'a>)> = Vec::with_capacity(8);
        if self.eat(b'}').is_some() {
            return Some(Node::Obj(Members(members)));
        }
        loop {
            self.skip_ws();
            if self.b.get(self.at) != Some(&b'"') {
                return None;
            }
            let key = self.string()?;
            if !plain_member(&members, key, raw) {
                return None;
            }
            self.eat(b':')?;
            let value = self.value(depth + 1, raw || canon::is_user_map(key))?;
            if value.is_null() && !raw {
                return None;
            }
            members.push((Cow::Borrowed(key), value));
            if self.eat(b',').is_some() {
                continue;
            }
            self.eat(b'}')?;
            return Some(Node::Obj(Members(members)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_documents_are_read_like_serde_json_reads_them() {
        for text in [
            r#"{"a": 1, "labels": {"x_y": null}, "b": [true, false, -0, 0.1, 1e3, -2.5E-3, 18446744073709551615, -9223372036854775808], "c": "é ✓", "d": {}, "e": []}"#,
            " \n\t{\"latenciesMs\":{\"p50\":3.161,\"p99\":60.203}} \r\n",
            "[1, {\"a\": \"b\"}]",
            "\"just a string\"",
        ] {
            let ours = read_plain_json(text, 64).unwrap().to_value();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn everything_else_is_left_to_the_full_path() {
        for text in [
            r#"{"start_time": "x"}"#,
            r#"{"a": null, "a": 1}"#,
            r#"{"a": null}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": [[[1]]]}"#,
            r#"{"a": 1"#,
            r#"{"a": 1,}"#,
            r#"{"a": [1,]}"#,
            r#"{"a": "tab\there"}"#,
            r#"{"a": "esc\"aped"}"#,
            r#"{"a": 01}"#,
            r#"{"a": 1.}"#,
            r#"{"a": .5}"#,
            r#"{"a": 1e}"#,
            r#"{"a": 1e999}"#,
            r#"{"a": 18446744073709551616}"#,
            r#"{"a": -9223372036854775809}"#,
            r#"{"a": tru}"#,
            r#"{a: 1}"#,
            r#"{"a": 1} x"#,
            "",
        ] {
            assert!(read_plain_json(text, 3).is_none(), "{text}");
        }
    }
}
