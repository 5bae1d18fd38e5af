//! The rules of a `PerformanceTestConfig`: duration, clients, connections, rates within the
//! engine's limits, enums, and endpoints that fit their protocol and carry no credentials.

use serde_json::Value;
use smps_model::{GoDuration, Protocol, limits, redact};

use crate::doc::Pointer;
use crate::tree::Tree;
use crate::violation::{Rule, ViolationKind};

use super::common::*;

pub(crate) fn check_config<T: Tree>(c: &T::Map, sink: &mut Sink<'_>) {
    let root = Pointer::root();
    // The test's length, for the planned-arrivals bound of each client's rate.
    let mut length = None;
    match field::<T>(c, "duration") {
        None => sink.push(
            Rule::Duration,
            root.clone(),
            ViolationKind::Missing {
                field: "duration".into(),
            },
        ),
        Some(raw) => {
            if let Some(s) = raw.as_str() {
                match GoDuration::parse(s) {
                    Ok(d) if d.is_negative() || d.is_zero() => sink.push(
                        Rule::Duration,
                        root.child("duration"),
                        ViolationKind::OutOfRange {
                            expected: "a duration greater than zero".into(),
                            actual: raw.to_value(),
                        },
                    ),
                    Ok(d) => length = d.to_std(),
                    Err(e) => sink.push(
                        Rule::Duration,
                        root.child("duration"),
                        ViolationKind::Malformed {
                            expected: "a Go duration such as `30s` or `1h30m`".into(),
                            actual: raw.to_value(),
                            reason: e.to_string(),
                        },
                    ),
                }
            }
        }
    }
    let clients = field::<T>(c, "clients").and_then(T::as_array);
    match clients {
        None => sink.push(
            Rule::EndpointMissing,
            root.clone(),
            ViolationKind::Missing {
                field: "clients".into(),
            },
        ),
        Some([]) => sink.push(
            Rule::EndpointMissing,
            root.child("clients"),
            ViolationKind::OutOfRange {
                expected: "at least one client".into(),
                actual: Value::Array(Vec::new()),
            },
        ),
        Some(list) => {
            for (i, client) in list.iter().enumerate() {
                if let Some(m) = client.as_object() {
                    let at = root.child("clients").child(i.to_string());
                    check_client::<T>(m, &at, length, sink);
                }
            }
        }
    }
}

pub(super) fn check_client<T: Tree>(
    m: &T::Map,
    at: &Pointer,
    length: Option<std::time::Duration>,
    sink: &mut Sink<'_>,
) {
    if let Some(raw) = field::<T>(m, "connections") {
        match number(raw) {
            Some(n) if n < 1.0 => sink.push(
                Rule::Connections,
                at.child("connections"),
                ViolationKind::OutOfRange {
                    expected: "at least 1 connection".into(),
                    actual: raw.to_value(),
                },
            ),
            Some(n) if n > limits::MAX_CONNECTIONS as f64 => sink.push(
                Rule::Limit,
                at.child("connections"),
                ViolationKind::OutOfRange {
                    expected: format!(
                        "at most {} connections (smps_model::limits::MAX_CONNECTIONS)",
                        limits::MAX_CONNECTIONS
                    ),
                    actual: raw.to_value(),
                },
            ),
            _ => {}
        }
    }
    if let Some(raw) = field::<T>(m, "rps") {
        let overflow = int64_overflow(raw, &at.child("rps"), sink);
        match number(raw) {
            Some(n) if n < 0.0 => sink.push(
                Rule::Rate,
                at.child("rps"),
                ViolationKind::OutOfRange {
                    expected: "a rate of 0 (as fast as possible) or more".into(),
                    actual: raw.to_value(),
                },
            ),
            Some(n) if !overflow => runnable_rate(raw, n, length, &at.child("rps"), sink),
            Some(_) => {}
            None => {}
        }
    }
    let protocol = field::<T>(m, "protocol").and_then(|raw| {
        check_enum(raw, &at.child("protocol"), "Protocol", sink, |v| match v {
            EnumIn::Number(n) => Protocol::from_number(n).map(|p| (p, p == Protocol::Invalid)),
            EnumIn::Name(s) => Protocol::parse(s).ok().map(|p| (p, p == Protocol::Invalid)),
        })
    });
    let urls = field::<T>(m, "endpointUrls");
    // A list, or the legacy single string (index `usize::MAX`).
    let list: Vec<(usize, &T)> = match urls.map(|v| (v, v.as_array())) {
        Some((_, Some(items))) => items.iter().enumerate().collect(),
        Some((v, None)) if v.as_str().is_some() => vec![(usize::MAX, v)],
        _ => Vec::new(),
    };
    if list.is_empty() {
        sink.push(
            Rule::EndpointMissing,
            if urls.is_some() {
                at.child("endpointUrls")
            } else {
                at.clone()
            },
            ViolationKind::Missing {
                field: "endpoint_urls".into(),
            },
        );
    }
    for (i, raw) in list {
        let Some(url) = raw.as_str() else { continue };
        let p = if i == usize::MAX {
            at.child("endpointUrls")
        } else {
            at.child("endpointUrls").child(i.to_string())
        };
        if let Err(reason) = check_endpoint(url, protocol) {
            // `redact` (at reporting) hides user information after a scheme; a bare
            // `user:password@host:port` is hidden here.
            let actual = match without_user_info(url) {
                Some(hidden) => Value::String(hidden),
                None => raw.to_value(),
            };
            sink.push(
                Rule::Endpoint,
                p,
                ViolationKind::Malformed {
                    expected: match protocol {
                        Some(Protocol::Tcp | Protocol::Udp) => "`host:port`".into(),
                        Some(Protocol::Grpc) => {
                            "a gRPC target (`host:port`, `dns:///host:port`)".into()
                        }
                        _ => "an absolute http:// or https:// URL".into(),
                    },
                    actual,
                    reason,
                },
            );
        } else if matches!(redact::url(url), std::borrow::Cow::Owned(_)) {
            sink.push(
                Rule::SecretInUrl,
                p,
                ViolationKind::OutOfRange {
                    expected: "no secret in the query (a token or key there ends up in access logs and in other tools' results; send it in a header)".into(),
                    actual: raw.to_value(),
                },
            );
        }
    }
}

/// The scheme (with `://`, possibly empty), the authority and the rest of `url`.
pub(super) fn split_authority(url: &str) -> (&str, &str, &str) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (&url[..start], &rest[..end], &rest[end..])
}

/// Whether the authority of `url` (or of `host:port`) carries user information
/// (`user:password@`).
pub(super) fn has_user_info(url: &str) -> bool {
    split_authority(url).1.contains('@')
}

/// `url` with its user information replaced by `***`; `None` when it has none.
pub(super) fn without_user_info(url: &str) -> Option<String> {
    let (scheme, authority, rest) = split_authority(url);
    let (_, host) = authority.rsplit_once('@')?;
    Some(format!("{scheme}{}@{host}{rest}", redact::REDACTED))
}

/// A rate the load engine can run: at most [`limits::MAX_RPS`], and with the test's duration
/// at most [`limits::MAX_PLANNED_ARRIVALS`] arrivals (smps-load refuses the same).
pub(super) fn runnable_rate<T: Tree>(
    raw: &T,
    rps: f64,
    length: Option<std::time::Duration>,
    at: &Pointer,
    sink: &mut Sink<'_>,
) {
    let refused = limits::check_rate(rps)
        .err()
        .or_else(|| length.and_then(|d| limits::check_planned(rps, d).err()));
    if let Some(reason) = refused {
        sink.push(
            Rule::Limit,
            at.clone(),
            ViolationKind::Malformed {
                expected: format!(
                    "a runnable rate: at most {} requests per second and {} requests over the test's duration (smps_model::limits)",
                    limits::MAX_RPS,
                    limits::MAX_PLANNED_ARRIVALS
                ),
                actual: raw.to_value(),
                reason,
            },
        );
    }
}

/// Whether `url` is an endpoint `protocol` can use.
pub(crate) fn check_endpoint(url: &str, protocol: Option<Protocol>) -> Result<(), String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("it is empty".into());
    }
    if has_user_info(url) {
        return Err(
            "it carries user information (`user:password@`), which smps-load refuses; send credentials in a header"
                .into(),
        );
    }
    match protocol {
        Some(Protocol::Tcp | Protocol::Udp) => {
            let rest = url
                .strip_prefix("tcp://")
                .or_else(|| url.strip_prefix("udp://"))
                .unwrap_or(url);
            host_port(rest, true).map(|_| ())
        }
        Some(Protocol::Grpc) => {
            let rest = if let Some(r) = url.strip_prefix("dns:///") {
                r
            } else if let Some(r) = url.strip_prefix("grpc://") {
                r
            } else if let Some((_, r)) = url.split_once("://") {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err("the scheme is not grpc, dns, http or https".into());
                }
                r
            } else {
                url
            };
            let authority = rest.split('/').next().unwrap_or("");
            host_port(authority, true).map(|_| ())
        }
        _ => {
            let Some((scheme, rest)) = url.split_once("://") else {
                return Err(if url.starts_with('/') {
                    "it is a relative URL".into()
                } else {
                    "it has no scheme (http:// or https://)".into()
                });
            };
            if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                return Err(format!("the scheme `{scheme}` is not http or https"));
            }
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let authority = authority.rsplit('@').next().unwrap_or(authority);
            host_port(authority, false).map(|_| ())
        }
    }
}

/// Splits `host[:port]`, checking both parts.
pub(super) fn host_port(s: &str, port_required: bool) -> Result<(), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else {
            return Err("unclosed `[` in an IPv6 address".into());
        };
        (h, after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err("it has no host".into());
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '/' | '?' | '#' | '<' | '>' | '"'))
    {
        return Err(format!("the host `{host}` is not a host name"));
    }
    match port {
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(()),
            _ => Err(format!("the port `{p}` is not a number in 1..=65535")),
        },
        None if port_required => Err("it has no port".into()),
        None => Ok(()),
    }
}
