//! Which parts of an SMP document are secrets, and how they are hidden when written out.
//!
//! A test config may carry credentials: user information in an endpoint URL
//! (`https://user:pass@host/`), a token in a query (`?access_token=...`), an `Authorization`
//! or `Cookie` header, cookies. Results, reports, progress lines and error messages written by
//! the family's crates pass such values through these functions, so none of them ever holds a
//! password, token or `Authorization` value. What is hidden is replaced by [`REDACTED`].
//!
//! ```
//! use smps_model::redact;
//!
//! assert_eq!(
//!     redact::url("https://admin:hunter2@mesh.example/api?access_token=abc&page=2"),
//!     "https://***@mesh.example/api?access_token=***&page=2",
//! );
//! assert!(redact::is_sensitive_header("Authorization"));
//! assert_eq!(redact::header_value("x-api-key", "s3cr3t"), "***");
//! assert_eq!(redact::header_value("accept", "text/plain"), "text/plain");
//! ```

use std::borrow::Cow;

/// What replaces a hidden value.
pub const REDACTED: &str = "***";

/// Header names whose values are secrets, compared without case.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-access-token",
    "x-amz-security-token",
];

/// Parts of header or query names that mark a secret, compared without case.
const SENSITIVE_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "api_key",
    "api-key",
    "signature",
    "credential",
    "session",
    "auth",
];

/// Query names that are secrets although no word above is part of them.
const SENSITIVE_QUERY_NAMES: &[&str] = &["key", "sig", "code", "pass", "pwd"];

fn contains_word(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SENSITIVE_WORDS.iter().any(|w| lower.contains(w))
}

/// Whether a header's value is a secret (`Authorization`, `Cookie`, `X-Api-Key`, or a name
/// with `token`, `secret`, `password`, `auth`, `session`, ... in it).
pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name.trim()))
        || contains_word(name)
}

/// Whether a URL query parameter's value is a secret (`access_token`, `api_key`, `key`,
/// `sig`, `X-Amz-Signature`, `password`, ...).
pub fn is_sensitive_query_key(name: &str) -> bool {
    SENSITIVE_QUERY_NAMES
        .iter()
        .any(|q| q.eq_ignore_ascii_case(name))
        || contains_word(name)
}

/// A header value fit to be written out: [`REDACTED`] for a sensitive header, else the value.
pub fn header_value<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if is_sensitive_header(name) {
        Cow::Borrowed(REDACTED)
    } else {
        Cow::Borrowed(value)
    }
}

/// A URL fit to be written out: user information becomes [`REDACTED`] and the values of
/// sensitive query parameters too; everything else is kept as written. Text that is not a
/// URL is returned unchanged.
pub fn url(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://") else {
        return Cow::Borrowed(url);
    };
    let auth_start = scheme_end + 3;
    let rest = &url[auth_start..];
    let auth_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_len];
    let mut out = String::new();
    let mut changed = false;
    out.push_str(&url[..auth_start]);
    match authority.rfind('@') {
        Some(at) => {
            changed = true;
            out.push_str(REDACTED);
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let tail = &rest[auth_len..];
    match tail.find('?') {
        Some(q) => {
            out.push_str(&tail[..=q]);
            let query_and_fragment = &tail[q + 1..];
            let (query, fragment) = match query_and_fragment.find('#') {
                Some(h) => query_and_fragment.split_at(h),
                None => (query_and_fragment, ""),
            };
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((k, v)) if !v.is_empty() && is_sensitive_query_key(k) => {
                        changed = true;
                        out.push_str(k);
                        out.push('=');
                        out.push_str(REDACTED);
                    }
                    _ => out.push_str(pair),
                }
            }
            out.push_str(fragment);
        }
        None => out.push_str(tail),
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(url)
    }
}

/// Free text (an error message, a log line) with every URL in it passed through [`url`].
///
/// A URL is taken to run from its scheme to the next space, quote, backtick or angle bracket.
pub fn text(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let is_end = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>');
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        // The scheme: the letters, digits, `+`, `-` and `.` just before `://`.
        let start = rest[..sep]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = rest[sep..].find(is_end).map_or(rest.len(), |i| sep + i);
        out.push_str(&rest[..start]);
        let redacted = url(&rest[start..end]);
        changed |= matches!(redacted, Cow::Owned(_));
        out.push_str(&redacted);
        rest = &rest[end..];
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_and_secret_query_values_are_hidden() {
        assert_eq!(url("http://u:p@h:8080/x"), "http://***@h:8080/x");
        assert_eq!(url("http://u@h/"), "http://***@h/");
        assert_eq!(
            url("http://h/x?a=1&token=t&X-Amz-Signature=s#frag"),
            "http://h/x?a=1&token=***&X-Amz-Signature=***#frag"
        );
        assert_eq!(
            url("http://h/p@x"),
            "http://h/p@x",
            "an @ in the path is not userinfo"
        );
        assert!(matches!(url("http://h:1/ok?page=2"), Cow::Borrowed(_)));
        assert_eq!(url("not a url"), "not a url");
    }

    #[test]
    fn urls_inside_text_are_hidden_and_the_rest_is_kept() {
        assert_eq!(
            text("endpoint `https://a:b@h/` refused; see \"http://x/?key=k\" and ftp:// later"),
            "endpoint `https://***@h/` refused; see \"http://x/?key=***\" and ftp:// later"
        );
        assert!(matches!(text("no url here"), Cow::Borrowed(_)));
    }

    #[test]
    fn sensitive_headers_are_recognised_without_case() {
        for h in [
            "Authorization",
            "COOKIE",
            "X-Auth-Token",
            "x-my-secret",
            "Api-Key",
        ] {
            assert!(is_sensitive_header(h), "{h}");
        }
        for h in ["accept", "content-type", "user-agent", "x-request-id"] {
            assert!(!is_sensitive_header(h), "{h}");
        }
    }
}
