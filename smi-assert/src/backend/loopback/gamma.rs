//! GAMMA routing in the loopback mesh: HTTPRoutes and GRPCRoutes attached to Services, compiled
//! from the cluster, and the routing decision for one request (attachment, producer and consumer
//! routes, match precedence, filters, redirects, rewrites and weighted backends).

use std::collections::BTreeSet;

use http::HeaderMap;
use regex::Regex;
use serde_json::Value;

use super::config::Fault;
use crate::backend::memory::InMemoryCluster;
use crate::gateway::{
    BackendRef, Filter, GrpcRoute, HttpRoute, PathMatchType, PathModifier, Route, ValueMatch,
    ValueMatchType,
};

#[derive(Debug)]
enum Cond {
    Exact(String),
    Regex(Regex),
}

impl Cond {
    fn new(kind: ValueMatchType, value: &str, anchored: bool) -> Option<Cond> {
        match kind {
            ValueMatchType::RegularExpression => {
                let re = if anchored {
                    format!("^(?:{value})$")
                } else {
                    value.to_string()
                };
                Regex::new(&re).ok().map(Cond::Regex)
            }
            _ => Some(Cond::Exact(value.to_string())),
        }
    }

    fn test(&self, v: &str) -> bool {
        match self {
            Self::Exact(e) => e == v,
            Self::Regex(r) => r.is_match(v),
        }
    }
}

#[derive(Debug)]
enum PathCond {
    Exact(String),
    Prefix(String),
    Regex(Regex),
}

#[derive(Debug)]
struct CompiledMatch {
    path: PathCond,
    method: Option<String>,
    headers: Vec<(String, Cond)>,
    query: Vec<(String, Cond)>,
    /// gRPC: service and method conditions.
    grpc_service: Option<Cond>,
    grpc_method: Option<Cond>,
}

#[derive(Debug)]
struct CompiledRule {
    index: usize,
    name: Option<String>,
    matches: Vec<CompiledMatch>,
    filters: Vec<Filter>,
    backends: Vec<BackendRef>,
}

#[derive(Debug)]
pub(super) struct CompiledRoute {
    /// `metadata.creationTimestamp` (RFC 3339 UTC, so text order is time order).
    created: String,
    namespace: String,
    name: String,
    grpc: bool,
    /// (namespace, Service, port) of each Service parent.
    parents: Vec<(String, String, Option<u16>)>,
    rules: Vec<CompiledRule>,
}

fn value_conds(ms: &[ValueMatch], lower: bool) -> Option<Vec<(String, Cond)>> {
    ms.iter()
        .map(|m| {
            let name = if lower {
                m.name.to_ascii_lowercase()
            } else {
                m.name.clone()
            };
            Cond::new(m.kind, &m.value, true).map(|c| (name, c))
        })
        .collect()
}

/// One route's rules, compiled with `compile_match` for its kind's matches; a rule without
/// matches gets the kind's default match. `None` if a match does not compile.
fn compile_route<'a, M: Default + 'a>(
    ns: &str,
    metadata: &crate::gateway::Metadata,
    parent_refs: &[crate::gateway::ParentRef],
    grpc: bool,
    rules: impl Iterator<Item = (&'a Option<String>, &'a [M], &'a [Filter], &'a [BackendRef])>,
    compile_match: impl Fn(&M) -> Option<CompiledMatch>,
) -> Option<CompiledRoute> {
    let mut compiled = Vec::new();
    for (index, (name, matches, filters, backends)) in rules.enumerate() {
        let defaults = [M::default()];
        let list = if matches.is_empty() {
            &defaults[..]
        } else {
            matches
        };
        compiled.push(CompiledRule {
            index,
            name: name.clone(),
            matches: list.iter().map(&compile_match).collect::<Option<_>>()?,
            filters: filters.to_vec(),
            backends: backends.to_vec(),
        });
    }
    Some(CompiledRoute {
        created: metadata.creation_timestamp.clone().unwrap_or_default(),
        namespace: ns.to_string(),
        name: metadata.name.clone(),
        grpc,
        parents: parents(ns, parent_refs),
        rules: compiled,
    })
}

fn compile_http(ns: &str, r: &HttpRoute) -> Option<CompiledRoute> {
    let rules = r.spec.rules.iter().map(|rule| {
        (
            &rule.name,
            &rule.matches[..],
            &rule.filters[..],
            &rule.backend_refs[..],
        )
    });
    compile_route(ns, &r.metadata, &r.spec.parent_refs, false, rules, |m| {
        let path = match &m.path {
            None => PathCond::Prefix("/".into()),
            Some(p) => match p.kind {
                PathMatchType::Exact => PathCond::Exact(p.value.clone()),
                PathMatchType::RegularExpression => {
                    PathCond::Regex(Regex::new(&format!("^(?:{})$", p.value)).ok()?)
                }
                _ => PathCond::Prefix(p.value.clone()),
            },
        };
        Some(CompiledMatch {
            path,
            method: m.method.clone(),
            headers: value_conds(&m.headers, true)?,
            query: value_conds(&m.query_params, false)?,
            grpc_service: None,
            grpc_method: None,
        })
    })
}

fn compile_grpc(ns: &str, r: &GrpcRoute) -> Option<CompiledRoute> {
    let rules = r.spec.rules.iter().map(|rule| {
        (
            &rule.name,
            &rule.matches[..],
            &rule.filters[..],
            &rule.backend_refs[..],
        )
    });
    compile_route(ns, &r.metadata, &r.spec.parent_refs, true, rules, |m| {
        let cond = |s: &Option<String>, kind| match s {
            Some(s) => Cond::new(kind, s, true).map(Some),
            None => Some(None),
        };
        let (svc, meth) = match &m.method {
            None => (None, None),
            Some(mm) => (cond(&mm.service, mm.kind)?, cond(&mm.method, mm.kind)?),
        };
        Some(CompiledMatch {
            path: PathCond::Prefix("/".into()),
            method: None,
            headers: value_conds(&m.headers, true)?,
            query: Vec::new(),
            grpc_service: svc,
            grpc_method: meth,
        })
    })
}

fn parents(ns: &str, refs: &[crate::gateway::ParentRef]) -> Vec<(String, String, Option<u16>)> {
    refs.iter()
        .filter(|p| p.is_service())
        .map(|p| {
            (
                p.namespace.clone().unwrap_or_else(|| ns.to_string()),
                p.name.clone(),
                p.port,
            )
        })
        .collect()
}

/// Compiles every HTTPRoute and GRPCRoute of the cluster (routes whose regexes do not compile are
/// left out; validation refuses them before they are applied).
pub(super) fn compile_routes(cluster: &InMemoryCluster) -> Vec<CompiledRoute> {
    let mut out = Vec::new();
    for kind in ["HTTPRoute", "GRPCRoute"] {
        for o in cluster.objects_of_kind(crate::gateway::GROUP, kind) {
            let ns = o["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            match Route::from_manifest(&o) {
                Ok(Some(Route::Http(r))) => out.extend(compile_http(&ns, &r)),
                Ok(Some(Route::Grpc(r))) => out.extend(compile_grpc(&ns, &r)),
                _ => {}
            }
        }
    }
    // Gateway API's tie-break between routes: the oldest first, then by namespace/name.
    out.sort_by(|a, b| {
        (&a.created, &a.namespace, &a.name).cmp(&(&b.created, &b.namespace, &b.name))
    });
    out
}

/// The request as routing sees it.
pub(super) struct GammaRequest<'a> {
    /// Namespace of the client workload.
    pub(super) client_namespace: &'a str,
    /// The frontend: the Service the client addressed, its namespace and port.
    pub(super) service: (&'a str, &'a str, u16),
    pub(super) grpc: bool,
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) query: Option<&'a str>,
    pub(super) headers: &'a HeaderMap,
}

/// A backend chosen by a route.
#[derive(Debug, Clone)]
pub(super) struct Backend {
    pub(super) namespace: String,
    pub(super) service: String,
    pub(super) port: Option<u16>,
    pub(super) filters: Vec<Filter>,
}

/// What the routes say about a request.
#[derive(Debug)]
pub(super) enum Routed {
    /// No route is attached: the Service's own endpoints serve it.
    Unrouted,
    /// Routes are attached but no rule matches: 404.
    NoMatch,
    /// A rule matched. `backends` are (backend, weight); `prefix` is the matched path prefix (for
    /// `ReplacePrefixMatch`).
    Rule {
        route: String,
        rule: String,
        filters: Vec<Filter>,
        backends: Vec<(Backend, u32)>,
        prefix: Option<String>,
    },
}

fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.to_string(), String::new()),
        })
        .collect()
}

fn prefix_matches(prefix: &str, path: &str) -> bool {
    let p = prefix.trim_end_matches('/');
    if p.is_empty() {
        return true;
    }
    path == p || path.starts_with(&format!("{p}/"))
}

/// The precedence key of a match (higher wins), Gateway API order: exact path, longest prefix,
/// method, number of header matches, number of query matches (gRPC: exact method, service
/// characters, method characters, headers).
type Key = (u8, usize, u8, usize, usize);

fn key(m: &CompiledMatch) -> Key {
    if m.grpc_service.is_some() || m.grpc_method.is_some() {
        let len = |c: &Option<Cond>| match c {
            Some(Cond::Exact(s)) => s.len(),
            _ => 0,
        };
        let exact = u8::from(
            matches!(m.grpc_service, Some(Cond::Exact(_)))
                && matches!(m.grpc_method, Some(Cond::Exact(_))),
        );
        return (
            exact,
            len(&m.grpc_service),
            u8::from(m.grpc_method.is_some()),
            m.headers.len(),
            0,
        );
    }
    let (class, len) = match &m.path {
        PathCond::Exact(s) => (3, s.len()),
        PathCond::Prefix(s) => (2, s.trim_end_matches('/').len()),
        PathCond::Regex(_) => (1, 0),
    };
    (
        class,
        len,
        u8::from(m.method.is_some()),
        m.headers.len(),
        m.query.len(),
    )
}

fn matches(m: &CompiledMatch, req: &GammaRequest<'_>, faults: &BTreeSet<Fault>) -> bool {
    let path_ok = match &m.path {
        PathCond::Exact(s) => req.path == s,
        PathCond::Prefix(s) => prefix_matches(s, req.path),
        PathCond::Regex(r) => r.is_match(req.path),
    };
    if !path_ok {
        return false;
    }
    if let Some(meth) = &m.method
        && !meth.eq_ignore_ascii_case(req.method)
    {
        return false;
    }
    if req.grpc {
        let mut parts = req.path.trim_start_matches('/').splitn(2, '/');
        let svc = parts.next().unwrap_or("");
        let meth = parts.next().unwrap_or("");
        if m.grpc_service.as_ref().is_some_and(|c| !c.test(svc))
            || m.grpc_method.as_ref().is_some_and(|c| !c.test(meth))
        {
            return false;
        }
    }
    if faults.contains(&Fault::IgnoreHeaderMatches) {
        return true;
    }
    let headers_ok = m.headers.iter().all(|(name, c)| {
        let values: Vec<&str> = req
            .headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        !values.is_empty() && c.test(&values.join(","))
    });
    let pairs = query_pairs(req.query);
    let query_ok = m.query.iter().all(|(name, c)| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .is_some_and(|(_, v)| c.test(v))
    });
    headers_ok && query_ok
}

/// Routes `req` by the routes attached to its frontend.
pub(super) fn route(
    routes: &[CompiledRoute],
    req: &GammaRequest<'_>,
    faults: &BTreeSet<Fault>,
) -> Routed {
    let (svc_ns, svc, port) = req.service;
    let attached: Vec<&CompiledRoute> = routes
        .iter()
        .filter(|r| r.grpc == req.grpc)
        .filter(|r| {
            r.parents
                .iter()
                .any(|(ns, name, p)| ns == svc_ns && name == svc && p.is_none_or(|p| p == port))
        })
        .collect();
    let consumer: Vec<&CompiledRoute> = if faults.contains(&Fault::IgnoreConsumerRoutes) {
        Vec::new()
    } else {
        attached
            .iter()
            .copied()
            .filter(|r| r.namespace == req.client_namespace && r.namespace != svc_ns)
            .collect()
    };
    let in_effect: Vec<&CompiledRoute> = if consumer.is_empty() {
        attached
            .into_iter()
            .filter(|r| r.namespace == svc_ns)
            .collect()
    } else {
        consumer
    };
    if in_effect.is_empty() {
        return Routed::Unrouted;
    }
    let mut best: Option<(Key, &CompiledRoute, &CompiledRule, &CompiledMatch)> = None;
    // `in_effect` is sorted by age and namespace/name, rules by index: the first of equal keys
    // wins.
    for r in &in_effect {
        for rule in &r.rules {
            for m in &rule.matches {
                if !matches(m, req, faults) {
                    continue;
                }
                let k = key(m);
                if best.as_ref().is_none_or(|(bk, ..)| k > *bk) {
                    best = Some((k, r, rule, m));
                }
            }
        }
    }
    let Some((_, r, rule, m)) = best else {
        return Routed::NoMatch;
    };
    let backends = rule
        .backends
        .iter()
        .map(|b| {
            (
                Backend {
                    namespace: b.namespace.clone().unwrap_or_else(|| r.namespace.clone()),
                    service: b.name.clone(),
                    port: b.port,
                    filters: b.filters.clone(),
                },
                b.weight(),
            )
        })
        .collect();
    Routed::Rule {
        route: format!("{}/{}", r.namespace, r.name),
        rule: rule
            .name
            .clone()
            .unwrap_or_else(|| format!("rule {}", rule.index)),
        filters: rule.filters.clone(),
        backends,
        prefix: match &m.path {
            PathCond::Prefix(p) => Some(p.clone()),
            _ => None,
        },
    }
}

/// Applies a header modifier to `headers`.
pub(super) fn modify_headers(headers: &mut HeaderMap, m: &crate::gateway::HeaderModifier) {
    use http::header::{HeaderName, HeaderValue};
    for h in &m.set {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(h.name.to_ascii_lowercase().as_bytes()),
            HeaderValue::from_str(&h.value),
        ) {
            headers.insert(n, v);
        }
    }
    for h in &m.add {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(h.name.to_ascii_lowercase().as_bytes()),
            HeaderValue::from_str(&h.value),
        ) {
            headers.append(n, v);
        }
    }
    for name in &m.remove {
        headers.remove(name.to_ascii_lowercase().as_str());
    }
}

/// The path after a path modifier: `prefix` is the matched `PathPrefix` value.
pub(super) fn modify_path(path: &str, m: &PathModifier, prefix: Option<&str>) -> String {
    match m.kind.as_str() {
        "ReplaceFullPath" => m.replace_full_path.clone().unwrap_or_else(|| path.into()),
        "ReplacePrefixMatch" => {
            let replacement = m.replace_prefix_match.clone().unwrap_or_default();
            let prefix = prefix.unwrap_or("/").trim_end_matches('/');
            let rest = path.strip_prefix(prefix).unwrap_or(path);
            let joined = match (replacement.ends_with('/'), rest.starts_with('/')) {
                (true, true) => format!("{}{rest}", replacement.trim_end_matches('/')),
                (false, false) if !rest.is_empty() => format!("{replacement}/{rest}"),
                _ => format!("{replacement}{rest}"),
            };
            if joined.is_empty() {
                "/".into()
            } else {
                joined
            }
        }
        _ => path.to_string(),
    }
}

/// The `Location` and status of a `RequestRedirect`: `host` is the request's host (without
/// port), `port` the Service port the client addressed.
pub(super) fn redirect(
    r: &crate::gateway::RequestRedirect,
    host: &str,
    port: u16,
    path: &str,
    query: Option<&str>,
    prefix: Option<&str>,
) -> (u16, String) {
    let scheme = r.scheme.clone().unwrap_or_else(|| "http".into());
    let hostname = r.hostname.clone().unwrap_or_else(|| host.to_string());
    let port = match (r.port, &r.scheme) {
        (Some(p), _) => Some(p),
        (None, Some(_)) => None,
        (None, None) => Some(port),
    };
    let well_known = |p: u16| (scheme == "http" && p == 80) || (scheme == "https" && p == 443);
    let authority = match port {
        Some(p) if !well_known(p) => format!("{hostname}:{p}"),
        _ => hostname,
    };
    let new_path = r
        .path
        .as_ref()
        .map_or_else(|| path.to_string(), |m| modify_path(path, m, prefix));
    let q = query.map(|q| format!("?{q}")).unwrap_or_default();
    (
        r.status_code.unwrap_or(302),
        format!("{scheme}://{authority}{new_path}{q}"),
    )
}

/// Whether a manifest belongs to the Gateway API group (a route change refreshes the policy).
pub(super) fn is_gateway(manifest: &Value) -> bool {
    manifest["apiVersion"]
        .as_str()
        .is_some_and(|a| a.starts_with("gateway.networking.k8s.io/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(manifests: &[serde_json::Value]) -> Vec<CompiledRoute> {
        let cluster = InMemoryCluster::new();
        for ns in ["p", "c"] {
            cluster.create_namespace_sync(ns, &Default::default(), &Default::default());
        }
        for m in manifests {
            cluster.apply_sync(m, "p").unwrap();
        }
        compile_routes(&cluster)
    }

    fn http_route(
        name: &str,
        ns: &str,
        created: &str,
        rules: serde_json::Value,
    ) -> serde_json::Value {
        serde_json::json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": created},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "echo", "namespace": "p"}],
                     "rules": rules}})
    }

    fn backend(r: &Routed) -> String {
        match r {
            Routed::Rule { backends, .. } => backends[0].0.service.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn precedence_follows_gateway_api_across_routes() {
        let rs = routes(&[
            http_route(
                "b-old",
                "p",
                "2026-01-01T00:00:00Z",
                serde_json::json!([
                    {"matches": [{"path": {"type": "PathPrefix", "value": "/a"}}], "backendRefs": [{"name": "old-prefix"}]},
                    {"matches": [{"path": {"type": "PathPrefix", "value": "/a"}, "method": "POST"}], "backendRefs": [{"name": "method"}]}
                ]),
            ),
            http_route(
                "a-new",
                "p",
                "2026-02-01T00:00:00Z",
                serde_json::json!([
                    {"matches": [{"path": {"type": "PathPrefix", "value": "/a"}}], "backendRefs": [{"name": "new-prefix"}]},
                    {"matches": [{"path": {"type": "Exact", "value": "/a/b"}}], "backendRefs": [{"name": "exact"}]},
                    {"matches": [{"path": {"type": "PathPrefix", "value": "/a/b"}}], "backendRefs": [{"name": "longer"}]},
                    {"matches": [{"path": {"type": "PathPrefix", "value": "/a"}, "headers": [{"name": "x", "value": "1"}]}], "backendRefs": [{"name": "header"}]}
                ]),
            ),
            http_route(
                "consumer",
                "c",
                "2026-03-01T00:00:00Z",
                serde_json::json!([
                    {"backendRefs": [{"name": "consumer"}]}
                ]),
            ),
        ]);
        let headers = HeaderMap::new();
        let mut with_x = HeaderMap::new();
        with_x.insert("x", http::HeaderValue::from_static("1"));
        let faults = BTreeSet::new();
        let go = |ns: &str, method: &str, path: &str, h: &HeaderMap| {
            backend(&route(
                &rs,
                &GammaRequest {
                    client_namespace: ns,
                    service: ("p", "echo", 80),
                    grpc: false,
                    method,
                    path,
                    query: None,
                    headers: h,
                },
                &faults,
            ))
        };
        assert_eq!(go("p", "GET", "/a/b", &headers), "exact");
        assert_eq!(go("p", "GET", "/a/b/c", &headers), "longer");
        assert_eq!(
            go("p", "POST", "/a/x", &with_x),
            "method",
            "method before headers"
        );
        assert_eq!(go("p", "GET", "/a/x", &with_x), "header");
        assert_eq!(
            go("p", "GET", "/a/x", &headers),
            "old-prefix",
            "the older route wins a tie"
        );
        assert_eq!(go("p", "GET", "/z", &headers), "NoMatch");
        assert_eq!(
            go("c", "GET", "/a/b", &headers),
            "consumer",
            "consumer routes replace producer routes"
        );
        assert_eq!(go("other", "GET", "/a/b", &headers), "exact");
    }

    fn pm(kind: &str, full: Option<&str>, prefix: Option<&str>) -> PathModifier {
        serde_json::from_value(serde_json::json!({
            "type": kind, "replaceFullPath": full, "replacePrefixMatch": prefix
        }))
        .unwrap()
    }

    #[test]
    fn prefix_rewrites_follow_the_gateway_api_examples() {
        let m = pm("ReplacePrefixMatch", None, Some("/one"));
        assert_eq!(
            modify_path("/prefix/one/two", &m, Some("/prefix/one")),
            "/one/two"
        );
        let strip = pm("ReplacePrefixMatch", None, Some("/"));
        assert_eq!(
            modify_path("/strip-prefix/three", &strip, Some("/strip-prefix")),
            "/three"
        );
        assert_eq!(
            modify_path("/strip-prefix", &strip, Some("/strip-prefix")),
            "/"
        );
        let full = pm("ReplaceFullPath", Some("/one"), None);
        assert_eq!(
            modify_path("/full/one/two", &full, Some("/full/one")),
            "/one"
        );
        let p = pm("ReplacePrefixMatch", None, Some("/replacement-prefix"));
        assert_eq!(
            modify_path("/original-prefix/lemon", &p, Some("/original-prefix")),
            "/replacement-prefix/lemon"
        );
        assert_eq!(
            modify_path("/path-and-host", &p, Some("/path-and-host")),
            "/replacement-prefix"
        );
    }

    #[test]
    fn prefixes_match_whole_path_elements() {
        assert!(prefix_matches("/v2", "/v2"));
        assert!(prefix_matches("/v2", "/v2/"));
        assert!(prefix_matches("/v2/", "/v2/example"));
        assert!(!prefix_matches("/v2", "/v2example"));
        assert!(prefix_matches("/", "/anything"));
    }

    #[test]
    fn redirects_keep_what_they_do_not_change() {
        let r: crate::gateway::RequestRedirect =
            serde_json::from_value(serde_json::json!({"hostname": "example.org"})).unwrap();
        assert_eq!(
            redirect(&r, "echo", 80, "/x", Some("a=b"), None),
            (302, "http://example.org/x?a=b".into())
        );
        let r: crate::gateway::RequestRedirect =
            serde_json::from_value(serde_json::json!({"scheme": "https", "statusCode": 301}))
                .unwrap();
        assert_eq!(
            redirect(&r, "echo", 80, "/s", None, None),
            (301, "https://echo/s".into())
        );
        let r: crate::gateway::RequestRedirect =
            serde_json::from_value(serde_json::json!({"port": 8083})).unwrap();
        assert_eq!(
            redirect(&r, "echo", 80, "/p", None, None).1,
            "http://echo:8083/p"
        );
    }
}
