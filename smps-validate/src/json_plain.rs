//! The fast path's JSON reader: plainly canonical JSON straight into a [`Node`] tree.
//!
//! A single pass over the bytes, strings borrowed from the input. It accepts RFC 8259 JSON
//! with two restrictions and gives up (`None`) outside them, leaving the document to the full
//! path (serde_json), which reports whatever is wrong: strings have no escapes, and integers
//! fit 64 bits. Numbers with a fraction or an exponent get the correctly rounded `f64` that
//! serde_json's `float_roundtrip` parser gives: exactly, with one IEEE multiplication or
//! division, when the digits and the power of ten are both exact in `f64` (Clinger's fast
//! path), otherwise from Rust's correctly rounded parser. The member rules are the fast
//! path's (as [`crate::tree::plain_member`]): canonical keys outside user maps, no repeats,
//! at most 64 members, no `null` members outside user maps.
//!
//! Strings are scanned eight bytes at a time; members and items are gathered on two stacks
//! owned by the call, so each object or array costs one exact allocation.

use std::borrow::Cow;

use smps_model::spelling;

use crate::tree::{Members, Node};

/// Reads `text` if it is plainly canonical JSON within `max_depth`; `None` otherwise.
pub(crate) fn read_plain_json(text: &str, max_depth: usize) -> Option<Node<'_>> {
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        at: 0,
        max_depth,
        members: Vec::with_capacity(32),
        items: Vec::new(),
    };
    let root = r.value(0, false)?;
    r.skip_ws();
    (r.at == r.b.len()).then_some(root)
}

/// Objects with this many members are left to the full path (the repeat check is linear).
const MAX_MEMBERS: usize = 64;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of every zero byte of `w` set, and possibly of bytes above the first zero
/// byte (a borrow); zero exactly when no byte is zero, and the lowest set bit is always exact.
#[inline]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// As [`zero_bytes`], for the bytes below 0x20.
#[inline]
fn control_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES * 0x20) & !w & HIGHS
}

/// Powers of ten that are exact in `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A cheap summary of a key (length, first and last byte): equal keys have equal prints.
#[inline]
fn print(key: &str) -> u32 {
    let b = key.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => ((b.len() as u32) << 16) | (u32::from(f) << 8) | u32::from(l),
        _ => 0,
    }
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    at: usize,
    max_depth: usize,
    /// Members of the objects being read, innermost last.
    members: Vec<(Cow<'a, str>, Node<'a>)>,
    /// Items of the arrays being read, innermost last.
    items: Vec<Node<'a>>,
}

impl<'a> Reader<'a> {
    #[inline]
    fn skip_ws(&mut self) {
        let mut at = self.at;
        while let Some(&c) = self.b.get(at) {
            if c > b' ' || !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            at += 1;
        }
        self.at = at;
    }

    #[inline]
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.b.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize, raw: bool) -> Option<Node<'a>> {
        self.skip_ws();
        match *self.b.get(self.at)? {
            b'{' => self.object(depth, raw),
            b'[' => self.array(depth, raw),
            b'"' => self.string().map(|(s, _)| Node::Str(Cow::Borrowed(s))),
            b't' => self.word(b"true", Node::Bool(true)),
            b'f' => self.word(b"false", Node::Bool(false)),
            b'n' => self.word(b"null", Node::Null),
            _ => self.number(),
        }
    }

    fn word(&mut self, w: &[u8], node: Node<'a>) -> Option<Node<'a>> {
        self.b[self.at..].starts_with(w).then(|| {
            self.at += w.len();
            node
        })
    }

    /// A string without escapes or control characters, borrowed, and whether it has a `_`.
    /// `self.at` is at the opening quote.
    #[inline(always)] // measured: about 1,000 instructions fewer per result document
    fn string(&mut self) -> Option<(&'a str, bool)> {
        let b = self.b;
        let start = self.at + 1;
        let mut i = start;
        let mut underscore = false;
        // Eight bytes at a time. Each mask flags the bytes equal to (or below) something; the
        // lowest flag of a mask is always exact (borrows only run upwards), which is all this
        // uses.
        while let Some(chunk) = b.get(i..i + 8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(chunk);
            let w = u64::from_le_bytes(bytes);
            let stop = zero_bytes(w ^ (ONES * u64::from(b'"')))
                | zero_bytes(w ^ (ONES * u64::from(b'\\')))
                | control_bytes(w);
            let under = zero_bytes(w ^ (ONES * u64::from(b'_')));
            if stop == 0 {
                underscore |= under != 0;
                i += 8;
                continue;
            }
            let bit = stop.trailing_zeros(); // 7, 15, ..., 63: the high bit of the byte
            underscore |= under & ((1u64 << bit) - 1) != 0;
            let end = i + (bit / 8) as usize;
            if b[end] != b'"' {
                return None; // an escape or a control character
            }
            self.at = end + 1;
            return Some((self.text.get(start..end)?, underscore));
        }
        // The last few bytes of the input.
        while let Some(&c) = b.get(i) {
            match c {
                b'"' => {
                    self.at = i + 1;
                    return Some((self.text.get(start..i)?, underscore));
                }
                b'\\' => return None,
                c if c < 0x20 => return None,
                b'_' => underscore = true,
                _ => {}
            }
            i += 1;
        }
        None
    }

    fn number(&mut self) -> Option<Node<'a>> {
        let b = self.b;
        let start = self.at;
        let mut i = start;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        // The digits of the integer and fraction parts as one integer (exact up to 19 digits).
        let mut mantissa: u64 = 0;
        let int_start = i;
        while let Some(d) = b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9) {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        let int_digits = i - int_start;
        if int_digits == 0 || (int_digits > 1 && b[int_start] == b'0') {
            return None;
        }
        let mut float = false;
        let mut frac_digits = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let frac_start = i;
            while let Some(d) = b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9) {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
                i += 1;
            }
            frac_digits = i - frac_start;
            if frac_digits == 0 {
                return None;
            }
            float = true;
        }
        let mut exponent: i64 = 0;
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            let exp_negative = b.get(i) == Some(&b'-');
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let exp_start = i;
            while let Some(d) = b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9) {
                if exponent < 1_000_000 {
                    exponent = exponent * 10 + i64::from(d);
                }
                i += 1;
            }
            if i == exp_start {
                return None;
            }
            if exp_negative {
                exponent = -exponent;
            }
            float = true;
        }
        self.at = i;
        let exact = int_digits + frac_digits <= 19;
        if !float {
            return match (exact, negative) {
                (true, false) => Some(Node::UInt(mantissa)),
                (true, true) if mantissa == 0 => Some(Node::Float(-0.0)), // as serde_json
                (true, true) => {
                    // -(2^63) is the smallest i64; 0 - mantissa wraps to it exactly.
                    (mantissa <= 1 << 63).then(|| Node::Int(0i64.wrapping_sub_unsigned(mantissa)))
                }
                (false, false) => self.text[start..i].parse::<u64>().ok().map(Node::UInt),
                (false, true) => self.text[start..i].parse::<i64>().ok().map(Node::Int),
            };
        }
        #[allow(clippy::cast_possible_wrap)] // at most 19 fraction digits here
        let power = exponent - frac_digits as i64;
        if exact && mantissa < (1 << 53) && (-22..=22).contains(&power) {
            #[allow(clippy::cast_precision_loss)] // exact: below 2^53
            let m = mantissa as f64;
            let f = if power >= 0 {
                m * POW10[power.unsigned_abs() as usize]
            } else {
                m / POW10[power.unsigned_abs() as usize]
            };
            return Some(Node::Float(if negative { -f } else { f }));
        }
        self.text[start..i]
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Node::Float)
    }

    fn array(&mut self, depth: usize, raw: bool) -> Option<Node<'a>> {
        if depth >= self.max_depth {
            return None;
        }
        self.at += 1;
        if self.eat(b']') {
            return Some(Node::Arr(Vec::new()));
        }
        let base = self.items.len();
        loop {
            let item = self.value(depth + 1, raw)?;
            self.items.push(item);
            if self.eat(b',') {
                continue;
            }
            if !self.eat(b']') {
                return None;
            }
            return Some(Node::Arr(self.items.split_off(base)));
        }
    }

    fn object(&mut self, depth: usize, raw: bool) -> Option<Node<'a>> {
        if depth >= self.max_depth {
            return None;
        }
        self.at += 1;
        if self.eat(b'}') {
            return Some(Node::Obj(Members(Vec::new())));
        }
        let base = self.members.len();
        loop {
            self.skip_ws();
            if self.b.get(self.at) != Some(&b'"') {
                return None;
            }
            let (key, underscore) = self.string()?;
            if !raw && (underscore || spelling::is_alias(key)) {
                return None; // not the canonical spelling
            }
            let p = print(key);
            let count = self.members.len() - base;
            if count >= MAX_MEMBERS
                || self.members[base..]
                    .iter()
                    .any(|(k, _)| print(k) == p && k == key)
            {
                return None;
            }
            if !self.eat(b':') {
                return None;
            }
            // Strings and numbers, most members, are read here without a call to `value`.
            self.skip_ws();
            let value = match self.b.get(self.at) {
                Some(b'"') => Node::Str(Cow::Borrowed(self.string()?.0)),
                Some(b'-' | b'0'..=b'9') => self.number()?,
                _ => self.value(depth + 1, raw || spelling::is_user_map(key))?,
            };
            if !raw && matches!(value, Node::Null) {
                return None;
            }
            self.members.push((Cow::Borrowed(key), value));
            if self.eat(b',') {
                continue;
            }
            if !self.eat(b'}') {
                return None;
            }
            return Some(Node::Obj(Members(self.members.split_off(base))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Tree;
    use proptest::prelude::*;

    /// What the reader must say about `text`: serde_json's value when the text is plain, and
    /// nothing otherwise (`plain` says which).
    fn check(text: &str, plain: bool) {
        let ours = read_plain_json(text, 64).map(|n| n.to_value());
        if plain {
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, Some(theirs), "{text:?}");
        } else {
            assert_eq!(ours, None, "{text:?}");
        }
    }

    #[test]
    fn strings_of_every_length_with_a_special_byte_anywhere() {
        for len in 0..40 {
            let base: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            check(&format!("\"{base}\""), true);
            check(&format!("{{\"{base}\": 1}}"), true);
            for at in 0..len {
                let with = |c: &str| format!("{}{c}{}", &base[..at], &base[at + 1..]);
                check(&format!("\"{}\"", with("\\\"")), false);
                check(&format!("\"{}\"", with("\\n")), false);
                check(&format!("\"{}\"", with("\t")), false);
                check(&format!("\"{}\"", with("\u{1f}")), false);
                check(&format!("\"{}\"", with("\u{7f}")), true);
                check(&format!("\"{}\"", with("é")), true);
                check(&format!("\"{}\"", with("_")), true);
                // A `_` makes a key non-canonical, except in user maps.
                check(&format!("{{\"{}\": 1}}", with("_")), false);
                check(&format!("{{\"labels\": {{\"{}\": 1}}}}", with("_")), true);
                // Unterminated, at every length.
                check(&format!("\"{}", &base[..at]), false);
            }
        }
    }

    #[test]
    fn repeated_and_aliased_keys_are_refused() {
        check(r#"{"p50": 1, "p90": 2, "p99": 3}"#, true);
        check(r#"{"p50": 1, "p90": 2, "p50": 3}"#, false);
        check(r#"{"ab": 1, "ab": 2}"#, false);
        check(r#"{"labels": {"ab": "1", "ab": "2"}}"#, false);
        check(r#"{"avg": 1}"#, false);
        check(r#"{"labels": {"avg": "1"}}"#, true);
        let wide: Vec<String> = (0..65).map(|i| format!("\"k{i}\": {i}")).collect();
        check(&format!("{{{}}}", wide[..64].join(", ")), true);
        check(&format!("{{{}}}", wide.join(", ")), false);
    }

    #[test]
    fn numbers_at_the_edges_of_the_exact_path() {
        for text in [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1e22",
            "1e23",
            "1e-22",
            "1e-23",
            "9007199254740991.5",
            "9007199254740992",
            "9007199254740993",
            "0.1",
            "0.30000000000000004",
            "123456789012345678",
            "1234567890123456789",
            "12345678901234567890",
            "-9223372036854775808",
            "18446744073709551615",
            "1.7976931348623157e308",
            "5e-324",
            "2.2250738585072014e-308",
            "0.000000000000000000000000001",
            "1E+2",
            "1e-0",
            "-1.5e3",
            "3.14159265358979323846264338327950288",
            "100000000000000000000000e-3",
        ] {
            check(text, true);
        }
        for text in [
            "-9223372036854775809",
            "18446744073709551616",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "-01",
            "1e999",
            "-1e999",
            "+1",
            "0x1",
        ] {
            check(text, false);
        }
    }

    fn frac_exp_free(text: &str) -> bool {
        !text.contains(['.', 'e', 'E'])
    }

    proptest! {
        #[test]
        fn decimal_numbers_read_as_serde_json_reads_them(
            negative: bool,
            int in "(0|[1-9][0-9]{0,24})",
            frac in proptest::option::of("[0-9]{1,24}"),
            exp in proptest::option::of((proptest::sample::select(vec!["e", "E", "e+", "e-", "E-"]), 0u32..400)),
        ) {
            let mut text = String::new();
            if negative {
                text.push('-');
            }
            text.push_str(&int);
            if let Some(f) = frac {
                text.push('.');
                text.push_str(&f);
            }
            if let Some((e, n)) = exp {
                text.push_str(e);
                text.push_str(&n.to_string());
            }
            let theirs = serde_json::from_str::<serde_json::Value>(&text).ok();
            let ours = read_plain_json(&text, 64).map(|n| n.to_value());
            match (ours, theirs) {
                (Some(v), Some(t)) => prop_assert_eq!(v, t, "{}", text),
                (Some(_), None) => prop_assert!(false, "{} read, serde_json refuses it", text),
                // Only integers beyond 64 bits (a double for serde_json) are left to it.
                (None, Some(t)) => prop_assert!(t.is_f64() && frac_exp_free(&text), "{}", text),
                (None, None) => {}
            }
        }

        #[test]
        fn whatever_it_reads_serde_json_reads_the_same(text in r#"[{}\[\],:" \n0-9a-z_\\.eE+-]{0,40}"#) {
            if let Some(node) = read_plain_json(&text, 64) {
                let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
                prop_assert_eq!(node.to_value(), theirs);
            }
        }
    }

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
