//! Internal document representation shared by the front ends, the checks and the locators.

use std::fmt::Write as _;

use serde_json::Value;

/// A JSON pointer as segments (unescaped).
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash, PartialOrd, Ord)]
pub(crate) struct Pointer(pub(crate) Vec<String>);

impl Pointer {
    pub(crate) fn root() -> Self {
        Pointer(Vec::new())
    }

    /// Parses an RFC 6901 pointer (`/a/b~1c`).
    pub(crate) fn parse(s: &str) -> Self {
        if s.is_empty() {
            return Pointer::root();
        }
        Pointer(
            s.trim_start_matches('/')
                .split('/')
                .map(|seg| {
                    if seg.contains('~') {
                        seg.replace("~1", "/").replace("~0", "~")
                    } else {
                        seg.to_owned()
                    }
                })
                .collect(),
        )
    }

    pub(crate) fn child(&self, seg: impl Into<String>) -> Self {
        let mut v = self.0.clone();
        v.push(seg.into());
        Pointer(v)
    }

    /// `prefix` followed by this pointer's segments.
    pub(crate) fn under(&self, prefix: &Pointer) -> Self {
        let mut v = prefix.0.clone();
        v.extend(self.0.iter().cloned());
        Pointer(v)
    }

    pub(crate) fn last(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }
}

/// Formats segments as an RFC 6901 pointer.
pub(crate) fn format_pointer<S: AsRef<str>>(segs: &[S]) -> String {
    let mut out = String::new();
    for s in segs {
        out.push('/');
        for c in s.as_ref().chars() {
            match c {
                '~' => out.push_str("~0"),
                '/' => out.push_str("~1"),
                c => out.push(c),
            }
        }
    }
    out
}

impl std::fmt::Display for Pointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_pointer(&self.0))
    }
}

/// A parsed document: canonical-key tree plus what the parser noticed on the way.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) value: Value,
    /// Keys that occurred twice in one mapping (after canonicalisation), canonical pointers.
    pub(crate) duplicates: Vec<Pointer>,
    /// YAML numbers JSON cannot hold (`.inf`, `.nan`), now proto3 JSON's strings
    /// (`"Infinity"`, `"NaN"`): canonical pointers and the scalars as written.
    pub(crate) non_finite: Vec<(Pointer, String)>,
}

/// What to locate: a node, or the key that introduces it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Target {
    pub(crate) pointer: Pointer,
    pub(crate) at_key: bool,
    /// The kind checked at depth `.1` of the pointer, whose root aliases apply there.
    pub(crate) root: Option<(smps_model::Kind, usize)>,
}

/// Looks up a canonical pointer in a value.
pub(crate) fn get<'v>(value: &'v Value, pointer: &Pointer) -> Option<&'v Value> {
    let mut v = value;
    for seg in &pointer.0 {
        v = match v {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// A short rendering of a value for messages (strings quoted, long values cut).
pub(crate) fn show(value: &Value) -> String {
    let mut s = match value {
        Value::String(s) => format!("{s:?}"),
        Value::Object(m) => format!("an object with {} keys", m.len()),
        Value::Array(a) => format!("an array of {} items", a.len()),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        s.clear();
        let _ = write!(s, "{cut}...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_round_trip_with_escapes() {
        let p = Pointer::parse("/a~1b/c~0d/0");
        assert_eq!(p.0, vec!["a/b", "c~d", "0"]);
        assert_eq!(p.to_string(), "/a~1b/c~0d/0");
        assert_eq!(Pointer::parse("").to_string(), "");
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let v = Value::String("x".repeat(200));
        assert!(show(&v).ends_with("..."));
        assert_eq!(show(&serde_json::json!(1.5)), "1.5");
    }
}
