//! Semantic rules: what JSON Schema cannot say about SMP documents.
//!
//! The rules read the same canonical tree the schema saw and interpret values the way
//! smps-model's lenient reader does (numbers as numbers or strings, `"NaN"`/`"Infinity"`,
//! enums as numbers or names, `null` as "not set").

use serde_json::Value;
use smps_model::{GoDuration, Kind, MeshType, Protocol, Timestamp, limits, redact};

use crate::doc::Pointer;
use crate::schema::RawFinding;
use crate::tree::{Object, Tree};
use crate::violation::{Rule, ViolationKind};

/// Collects findings with pointers relative to the checked value.
///
/// Every rule is generic over the [`Tree`] it reads: the full path runs them on
/// `serde_json::Value`, the fast path on its borrowed tree, so there is one set of rules.
pub(crate) struct Sink<'a> {
    pub(crate) out: &'a mut Vec<RawFinding>,
}

impl Sink<'_> {
    fn push(&mut self, rule: Rule, pointer: Pointer, kind: ViolationKind) {
        self.out.push(RawFinding {
            rule,
            pointer,
            at_key: false,
            kind,
        });
    }
}

/// A number as the lenient reader sees it: JSON numbers, numeric strings, proto3's special
/// strings. `None` for anything else (the schema reports those).
fn number<T: Tree>(v: &T) -> Option<f64> {
    if v.is_number() {
        return v.as_f64();
    }
    match v.as_str()?.trim() {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        t => t.parse::<f64>().ok(),
    }
}

fn obj<T: Tree>(v: Option<&T>) -> Option<&T::Map> {
    v.and_then(T::as_object)
}

/// A present, non-null field.
fn field<'v, T: Tree>(m: &'v T::Map, key: &str) -> Option<&'v T> {
    m.get(key).filter(|v| !v.is_null())
}

/// A copy of member `key` (present when this is called), for a finding.
fn copy<T: Tree>(m: &T::Map, key: &str) -> Value {
    m.get(key).map_or(Value::Null, T::to_value)
}

/// Runs the rules of `kind` on a document of that kind.
pub(crate) fn check<T: Tree>(kind: Kind, m: &T::Map, sink: &mut Sink<'_>) {
    match kind {
        Kind::PerformanceTestResult => check_result::<T>(m, sink),
        Kind::PerformanceTestConfig => check_config::<T>(m, sink),
        Kind::ServiceMesh => check_service_mesh::<T>(m, sink),
        Kind::EnvironmentConfig => check_environment::<T>(m, sink),
        Kind::ServiceMeshConfig => check_mesh_config::<T>(m, sink),
        _ => {}
    }
}

const LATENCY_FIELDS: [&str; 6] = ["min", "p50", "p90", "p99", "max", "average"];

pub(crate) fn check_result<T: Tree>(r: &T::Map, sink: &mut Sink<'_>) {
    let root = Pointer::root();
    if let Some(lat) = obj(field::<T>(r, "latenciesMs")) {
        let base = || Pointer::root().child("latenciesMs");
        // At most one entry per latency field: no allocation.
        let mut slots = [("", 0.0_f64); LATENCY_FIELDS.len()];
        let mut count = 0;
        for name in LATENCY_FIELDS {
            let Some(raw) = field::<T>(lat, name) else {
                continue;
            };
            let Some(x) = number(raw) else { continue };
            if !x.is_finite() || x < 0.0 {
                sink.push(
                    Rule::LatencyValue,
                    base().child(name),
                    ViolationKind::OutOfRange {
                        expected: "a finite, non-negative number of milliseconds".into(),
                        actual: raw.to_value(),
                    },
                );
            } else {
                slots[count] = (name, x);
                count += 1;
            }
        }
        let present = &slots[..count];
        let mut ordered = present.iter().copied().filter(|(n, _)| *n != "average");
        let mut previous = ordered.next();
        for (hi_name, hi) in ordered {
            let Some((lo_name, lo)) = previous.replace((hi_name, hi)) else {
                continue;
            };
            if lo > hi {
                sink.push(
                    Rule::LatencyOrder,
                    base().child(hi_name),
                    ViolationKind::Order {
                        lower_field: lo_name.into(),
                        lower: copy::<T>(lat, lo_name),
                        upper_field: hi_name.into(),
                        upper: copy::<T>(lat, hi_name),
                    },
                );
            }
        }
        let get = |n: &str| present.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        if let (Some(avg), Some(min), Some(max)) = (get("average"), get("min"), get("max")) {
            if min <= max && (avg < min || avg > max) {
                sink.push(
                    Rule::LatencyAverage,
                    base().child("average"),
                    ViolationKind::OutOfRange {
                        expected: format!("within [min, max] = [{min}, {max}]"),
                        actual: copy::<T>(lat, "average"),
                    },
                );
            }
        }
        let max = present.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
        if !present.is_empty() && max > 0.0 && max < 1.0 {
            sink.push(
                Rule::LatencyUnit,
                base(),
                ViolationKind::LikelySeconds { max },
            );
        }
    }
    let start = timestamp::<T>(r, "startTime", sink);
    let end = timestamp::<T>(r, "endTime", sink);
    if let (Some(s), Some(e)) = (start, end) {
        if e.unix_nanos() < s.unix_nanos() {
            sink.push(
                Rule::TimeOrder,
                root.child("endTime"),
                ViolationKind::Order {
                    lower_field: "startTime".into(),
                    lower: copy::<T>(r, "startTime"),
                    upper_field: "endTime".into(),
                    upper: copy::<T>(r, "endTime"),
                },
            );
        }
    }
    if let Some(raw) = field::<T>(r, "actualQps") {
        if let Some(q) = number(raw) {
            if !q.is_finite() || q < 0.0 {
                sink.push(
                    Rule::Rate,
                    root.child("actualQps"),
                    ViolationKind::OutOfRange {
                        expected: "a finite, non-negative rate".into(),
                        actual: raw.to_value(),
                    },
                );
            }
        }
    }
}

fn timestamp<T: Tree>(m: &T::Map, key: &str, sink: &mut Sink<'_>) -> Option<Timestamp> {
    let raw = field::<T>(m, key)?;
    let s = raw.as_str()?;
    match Timestamp::parse(s) {
        Ok(t) => Some(t),
        Err(e) => {
            sink.push(
                Rule::Timestamp,
                Pointer::root().child(key),
                ViolationKind::Malformed {
                    expected: "an RFC 3339 timestamp".into(),
                    actual: raw.to_value(),
                    reason: e.to_string(),
                },
            );
            None
        }
    }
}

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

fn check_client<T: Tree>(
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
fn split_authority(url: &str) -> (&str, &str, &str) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (&url[..start], &rest[..end], &rest[end..])
}

/// Whether the authority of `url` (or of `host:port`) carries user information
/// (`user:password@`).
fn has_user_info(url: &str) -> bool {
    split_authority(url).1.contains('@')
}

/// `url` with its user information replaced by `***`; `None` when it has none.
fn without_user_info(url: &str) -> Option<String> {
    let (scheme, authority, rest) = split_authority(url);
    let (_, host) = authority.rsplit_once('@')?;
    Some(format!("{scheme}{}@{host}{rest}", redact::REDACTED))
}

/// A rate the load engine can run: at most [`limits::MAX_RPS`], and with the test's duration
/// at most [`limits::MAX_PLANNED_ARRIVALS`] arrivals (smps-load refuses the same).
fn runnable_rate<T: Tree>(
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

enum EnumIn<'a> {
    Number(i64),
    Name(&'a str),
}

/// Checks an enum field; returns the value when it is known.
fn check_enum<N: Tree, T>(
    raw: &N,
    at: &Pointer,
    name: &str,
    sink: &mut Sink<'_>,
    lookup: impl Fn(EnumIn<'_>) -> Option<(T, bool)>,
) -> Option<T> {
    let found = if raw.is_number() {
        raw.as_i64().and_then(|i| lookup(EnumIn::Number(i)))
    } else if let Some(s) = raw.as_str() {
        lookup(EnumIn::Name(s))
    } else {
        return None;
    };
    match found {
        Some((v, false)) => Some(v),
        Some((_, true)) => {
            sink.push(
                Rule::EnumUnset,
                at.clone(),
                ViolationKind::OutOfRange {
                    expected: format!("a {name} other than 0 / INVALID"),
                    actual: raw.to_value(),
                },
            );
            None
        }
        None => {
            sink.push(
                Rule::EnumUnknown,
                at.clone(),
                ViolationKind::OutOfRange {
                    expected: format!("a known {name} name or number"),
                    actual: raw.to_value(),
                },
            );
            None
        }
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
fn host_port(s: &str, port_required: bool) -> Result<(), String> {
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

/// Reports an int64 string that does not fit; returns whether it did not.
fn int64_overflow<T: Tree>(raw: &T, at: &Pointer, sink: &mut Sink<'_>) -> bool {
    if let Some(s) = raw.as_str() {
        let t = s.trim();
        let digits = t.trim_start_matches(['-', '+']);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && t.parse::<i64>().is_err()
        {
            sink.push(
                Rule::IntegerOverflow,
                at.clone(),
                ViolationKind::OutOfRange {
                    expected: "a 64-bit signed integer".into(),
                    actual: raw.to_value(),
                },
            );
            return true;
        }
    }
    false
}

pub(crate) fn check_service_mesh<T: Tree>(m: &T::Map, sink: &mut Sink<'_>) {
    if let Some(raw) = field::<T>(m, "type") {
        check_enum(
            raw,
            &Pointer::root().child("type"),
            "mesh type",
            sink,
            |v| match v {
                EnumIn::Number(n) => MeshType::from_number(n).map(|t| (t, t == MeshType::Invalid)),
                EnumIn::Name(s) => MeshType::parse(s).ok().map(|t| (t, t == MeshType::Invalid)),
            },
        );
    }
}

/// Resource figures that cannot be negative, wherever they appear.
const RESOURCE_FIELDS: &[&str] = &[
    "count",
    "cores",
    "cpuMcores",
    "memMb",
    "rps",
    "bps",
    "sidecars",
    "endpoints",
    "services",
    "virtualServices",
    "destinationRules",
    "ldsLatencyMs",
    "cdsLatencyMs",
    "cacheHitRate",
    "proxyConcurrency",
];

fn negative_resources<T: Tree>(m: &T::Map, at: &Pointer, sink: &mut Sink<'_>, depth: usize) {
    if depth > 8 {
        return;
    }
    for (k, child) in m.members() {
        if smps_model::spelling::is_user_map(k) {
            continue;
        }
        let p = at.child(k);
        if RESOURCE_FIELDS.contains(&k) {
            if k == "memMb" || k == "rps" {
                int64_overflow(child, &p, sink);
            }
            if number(child).is_some_and(|n| n < 0.0) {
                sink.push(
                    Rule::NegativeResource,
                    p.clone(),
                    ViolationKind::OutOfRange {
                        expected: format!("a non-negative {k}"),
                        actual: child.to_value(),
                    },
                );
            }
        }
        negative_resources_in(child, &p, sink, depth + 1);
    }
}

fn negative_resources_in<T: Tree>(v: &T, at: &Pointer, sink: &mut Sink<'_>, depth: usize) {
    if depth > 8 {
        return;
    }
    if let Some(m) = v.as_object() {
        negative_resources::<T>(m, at, sink, depth);
    } else if let Some(items) = v.as_array() {
        for (i, child) in items.iter().enumerate() {
            negative_resources_in(child, &at.child(i.to_string()), sink, depth + 1);
        }
    }
}

pub(crate) fn check_environment<T: Tree>(e: &T::Map, sink: &mut Sink<'_>) {
    if let Some(raw) = field::<T>(e, "kubernetesVersion") {
        if let Some(s) = raw.as_str() {
            if !s.is_empty() && !is_kubernetes_version(s) {
                sink.push(
                    Rule::KubernetesVersion,
                    Pointer::root().child("kubernetesVersion"),
                    ViolationKind::Malformed {
                        expected: "a Kubernetes version such as `v1.29.3` or `gke-1.10.5`".into(),
                        actual: raw.to_value(),
                        reason:
                            "it is not MAJOR.MINOR[.PATCH] with an optional `v` or vendor prefix"
                                .into(),
                    },
                );
            }
        }
    }
    negative_resources::<T>(e, &Pointer::root(), sink, 0);
}

pub(crate) fn check_mesh_config<T: Tree>(m: &T::Map, sink: &mut Sink<'_>) {
    if let Some(mesh) = obj(field::<T>(m, "meshType")) {
        let mut inner = Vec::new();
        check_service_mesh::<T>(mesh, &mut Sink { out: &mut inner });
        for mut f in inner {
            f.pointer = f.pointer.under(&Pointer::root().child("meshType"));
            sink.out.push(f);
        }
    }
    negative_resources::<T>(m, &Pointer::root(), sink, 0);
}

/// `v1.29.3`, `1.15`, `v1.15.5-gke.1`, `gke-1.10.5`, `v1.28.2+k3s1`.
pub(crate) fn is_kubernetes_version(s: &str) -> bool {
    let s = match s.find(|c: char| c.is_ascii_digit()) {
        Some(0) => s,
        Some(i) => {
            let prefix = &s[..i];
            let ok = prefix == "v"
                || (prefix.ends_with('-')
                    && prefix[..prefix.len() - 1]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric())
                    && prefix.len() > 1)
                || (prefix.ends_with("-v")
                    && prefix[..prefix.len() - 2]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric()));
            if !ok {
                return false;
            }
            &s[i..]
        }
        None => return false,
    };
    let (core, suffix) = match s.find(['-', '+']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit());
    if !(2..=3).contains(&parts.len()) || !parts.iter().all(numeric) {
        return false;
    }
    suffix.is_none_or(|x| {
        !x.is_empty()
            && x.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn run(f: fn(&Map<String, Value>, &mut Sink<'_>), v: Value) -> Vec<(Rule, String)> {
        let mut out = Vec::new();
        f(v.as_object().unwrap(), &mut Sink { out: &mut out });
        out.into_iter()
            .map(|f| (f.rule, f.pointer.to_string()))
            .collect()
    }

    #[test]
    fn latency_order_average_and_values() {
        let got = run(
            check_result::<Value>,
            json!({"latenciesMs": {"min": 1, "p50": 5, "p90": 3, "p99": 9, "max": 8, "average": 20}}),
        );
        assert_eq!(
            got,
            vec![
                (Rule::LatencyOrder, "/latenciesMs/p90".into()),
                (Rule::LatencyOrder, "/latenciesMs/max".into()),
                (Rule::LatencyAverage, "/latenciesMs/average".into()),
            ]
        );
        let got = run(
            check_result::<Value>,
            json!({"latenciesMs": {"min": "NaN", "p50": -1, "max": "Infinity"}}),
        );
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|(r, _)| *r == Rule::LatencyValue));
    }

    #[test]
    fn seconds_in_milliseconds_fields_warn() {
        let got = run(
            check_result::<Value>,
            json!({"latenciesMs": {"min": 0.001, "p50": 0.01, "max": 0.3}}),
        );
        assert_eq!(got, vec![(Rule::LatencyUnit, "/latenciesMs".into())]);
        assert!(
            run(
                check_result::<Value>,
                json!({"latenciesMs": {"min": 1, "max": 30}})
            )
            .is_empty()
        );
    }

    #[test]
    fn end_before_start_and_bad_timestamps() {
        let got = run(
            check_result::<Value>,
            json!({"startTime": "2024-01-01T00:00:10Z", "endTime": "2024-01-01T00:00:09+00:00"}),
        );
        assert_eq!(got, vec![(Rule::TimeOrder, "/endTime".into())]);
        let got = run(check_result::<Value>, json!({"startTime": "yesterday"}));
        assert_eq!(got, vec![(Rule::Timestamp, "/startTime".into())]);
    }

    #[test]
    fn config_rules() {
        let got = run(
            check_config::<Value>,
            json!({"duration": "0s", "clients": [
                {"protocol": "http", "connections": 0, "rps": -1, "endpointUrls": ["/relative"]},
                {"protocol": 0, "endpointUrls": []},
                {"protocol": "PROTOCOL_TCP", "endpointUrls": ["db:5432", "http://x"]},
                {"protocol": "carrier pigeon", "rps": "9223372036854775808", "endpointUrls": ["http://ok"]}
            ]}),
        );
        let rules: Vec<Rule> = got.iter().map(|(r, _)| *r).collect();
        assert_eq!(
            rules,
            vec![
                Rule::Duration,
                Rule::Connections,
                Rule::Rate,
                Rule::Endpoint,
                Rule::EnumUnset,
                Rule::EndpointMissing,
                Rule::Endpoint,
                Rule::IntegerOverflow,
                Rule::EnumUnknown,
            ],
            "{got:?}"
        );
        assert_eq!(got[6].1, "/clients/2/endpointUrls/1");
    }

    #[test]
    fn endpoints_match_protocols() {
        assert!(check_endpoint("https://meshery.io/x?y", Some(Protocol::Http)).is_ok());
        assert!(check_endpoint("http://[::1]:8080/", None).is_ok());
        assert!(check_endpoint("ftp://x", Some(Protocol::Http)).is_err());
        assert!(check_endpoint("http://:80", Some(Protocol::Http)).is_err());
        assert!(check_endpoint("10.0.0.1:9000", Some(Protocol::Udp)).is_ok());
        assert!(check_endpoint("10.0.0.1", Some(Protocol::Tcp)).is_err());
        assert!(check_endpoint("dns:///svc.ns:50051", Some(Protocol::Grpc)).is_ok());
        assert!(check_endpoint("svc:99999", Some(Protocol::Grpc)).is_err());
    }

    #[test]
    fn kubernetes_versions() {
        for ok in [
            "v1.29.3",
            "1.15",
            "v1.15.5-gke.1",
            "gke-1.10.5",
            "v1.28.2+k3s1",
        ] {
            assert!(is_kubernetes_version(ok), "{ok}");
        }
        for bad in ["latest", "v1", "1.2.3.4", "vv1.2", "v1.2-", "1.x"] {
            assert!(!is_kubernetes_version(bad), "{bad}");
        }
    }

    #[test]
    fn negative_resources_are_found_at_any_depth() {
        let got = run(
            check_environment::<Value>,
            json!({"nodes": [{"cores": -2, "memMb": "99999999999999999999"}], "labels": {"count": "-1"}}),
        );
        assert_eq!(
            got,
            vec![
                (Rule::NegativeResource, "/nodes/0/cores".into()),
                (Rule::IntegerOverflow, "/nodes/0/memMb".into()),
            ]
        );
    }
}
