//! Comparing keys across casings (`latencies_ms`, `latenciesMs`, `Latencies-Ms`) and escaping
//! them into JSON Pointers: the text helpers every reader module shares.

/// Lower-cases and drops `_`, `-` and spaces, for matching keys across casings.
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `key` folds (see [`fold`]) to `folded` (already folded, ASCII), without allocating.
pub(crate) fn folded_eq(key: &str, folded: &str) -> bool {
    let mut want = folded.bytes();
    for b in key.bytes() {
        if matches!(b, b'_' | b'-' | b' ') {
            continue;
        }
        if want.next() != Some(b.to_ascii_lowercase()) {
            return false;
        }
    }
    want.next().is_none()
}

/// Escapes one JSON Pointer reference token (RFC 6901).
pub(crate) fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_without_allocation_agrees_with_fold() {
        for (key, folded) in [
            ("latencies_ms", "latenciesms"),
            ("latenciesMs", "latenciesms"),
            ("Latencies-Ms", "latenciesms"),
            ("latencies", "latenciesms"),
            ("latenciesmsx", "latenciesms"),
            ("", ""),
        ] {
            assert_eq!(folded_eq(key, folded), fold(key) == folded, "{key}");
        }
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
    }
}
