//! The SMI policy snapshot and the authorisation decision: compiled route matches, TrafficTargets, TrafficSplits and HTTPRouteGroups, and [`authorize`] (default deny).

use std::collections::{BTreeSet, HashMap};

use http::HeaderMap;
use regex::Regex;
use serde_json::Value;

use super::config::Fault;
use crate::backend::memory::InMemoryCluster;
use crate::smi::{SmiResource, TrafficSplit, TrafficTarget, Version};

#[derive(Debug)]
pub(super) struct CompiledMatch {
    pub(super) name: String,
    pub(super) path: Option<Regex>,
    pub(super) methods: Option<Vec<String>>,
    pub(super) headers: Vec<(String, Regex)>,
    pub(super) invalid: bool,
}

impl CompiledMatch {
    pub(super) fn matches(&self, method: &str, path: &str, headers: &HeaderMap) -> bool {
        if self.invalid {
            return false;
        }
        let path_ok = self.path.as_ref().is_none_or(|r| r.is_match(path));
        let method_ok = self.methods.as_ref().is_none_or(|ms| {
            ms.iter()
                .any(|m| m == "*" || m.eq_ignore_ascii_case(method))
        });
        let headers_ok = self.headers.iter().all(|(name, re)| {
            headers
                .get_all(name.as_str())
                .iter()
                .any(|v| v.to_str().is_ok_and(|s| re.is_match(s)))
        });
        path_ok && method_ok && headers_ok
    }
}

#[derive(Debug, Default)]
pub(super) struct SmiPolicy {
    pub(super) targets: Vec<(String, TrafficTarget)>,
    pub(super) groups: HashMap<(String, String), Vec<CompiledMatch>>,
    pub(super) tcp: HashMap<(String, String), crate::smi::TcpRoute>,
    pub(super) udp: HashMap<(String, String), crate::smi::UdpRoute>,
    pub(super) splits: Vec<(String, TrafficSplit)>,
    /// Gateway API routes (GAMMA).
    pub(super) routes: Vec<super::gamma::CompiledRoute>,
}

impl SmiPolicy {
    pub(super) fn build(cluster: &InMemoryCluster) -> Self {
        let mut p = Self::default();
        let read = |kind: &str, group: &str| cluster.objects_of_kind(group, kind);
        let ns_of = |v: &Value| {
            v["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        for o in read("HTTPRouteGroup", "specs.smi-spec.io") {
            if let Ok(Some(SmiResource::HttpRouteGroup(g))) = SmiResource::from_manifest(&o) {
                let compiled = g
                    .matches
                    .iter()
                    .map(|m| {
                        let path = m
                            .path_regex
                            .as_ref()
                            .map(|r| Regex::new(&format!("^(?:{r})")));
                        let headers: Vec<_> = m
                            .headers
                            .iter()
                            .flat_map(|h| h.entries.iter())
                            .map(|(k, v)| (k.to_ascii_lowercase(), Regex::new(v)))
                            .collect();
                        let invalid =
                            matches!(path, Some(Err(_))) || headers.iter().any(|(_, r)| r.is_err());
                        CompiledMatch {
                            name: m.name.clone(),
                            path: path.and_then(Result::ok),
                            methods: m.methods.clone(),
                            headers: headers
                                .into_iter()
                                .filter_map(|(k, r)| r.ok().map(|r| (k, r)))
                                .collect(),
                            invalid,
                        }
                    })
                    .collect();
                p.groups
                    .insert((ns_of(&o), g.metadata.name.clone()), compiled);
            }
        }
        for o in read("TCPRoute", "specs.smi-spec.io") {
            if let Ok(Some(SmiResource::TcpRoute(r))) = SmiResource::from_manifest(&o) {
                p.tcp.insert((ns_of(&o), r.metadata.name.clone()), r);
            }
        }
        for o in read("UDPRoute", "specs.smi-spec.io") {
            if let Ok(Some(SmiResource::UdpRoute(r))) = SmiResource::from_manifest(&o) {
                p.udp.insert((ns_of(&o), r.metadata.name.clone()), r);
            }
        }
        for o in read("TrafficTarget", "access.smi-spec.io") {
            if let Ok(Some(SmiResource::TrafficTarget(t))) = SmiResource::from_manifest(&o) {
                p.targets.push((ns_of(&o), t));
            }
        }
        for o in read("TrafficSplit", "split.smi-spec.io") {
            if let Ok(Some(SmiResource::TrafficSplit(s))) = SmiResource::from_manifest(&o) {
                p.splits.push((ns_of(&o), s));
            }
        }
        p.routes = super::gamma::compile_routes(cluster);
        p
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    Allow,
    DenyHttp,
    DenyConnection,
}

/// The transport of a request: HTTP (over TCP) or UDP datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocol {
    Http,
    Udp,
}

pub(super) struct RequestView<'a> {
    pub(super) protocol: Protocol,
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) headers: &'a HeaderMap,
    pub(super) port: u16,
}

pub(super) fn authorize(
    p: &SmiPolicy,
    access: super::config::AccessDefault,
    faults: &BTreeSet<Fault>,
    src: (&str, &str),
    dst: (&str, &str),
    req: &RequestView<'_>,
) -> Decision {
    if faults.contains(&Fault::AllowAll) {
        return Decision::Allow;
    }
    if access == super::config::AccessDefault::Allow
        && !p.targets.iter().any(|(tns, t)| {
            let d = &t.spec.destination;
            d.kind == "ServiceAccount"
                && d.name == dst.1
                && d.namespace.as_deref().unwrap_or(tns) == dst.0
        })
    {
        return Decision::Allow;
    }
    let ignore = faults.contains(&Fault::IgnoreRouteMatches);
    let mut governed_by_http = false;
    for (tns, t) in &p.targets {
        let d = &t.spec.destination;
        let dns = d.namespace.as_deref().unwrap_or(tns);
        if d.kind != "ServiceAccount" || d.name != dst.1 || dns != dst.0 {
            continue;
        }
        if t.spec.rules.iter().any(|r| r.kind == "HTTPRouteGroup") {
            governed_by_http = true;
        }
        if t.version != Version::V1alpha3
            && let Some(port) = d.port
            && port != req.port
            && !ignore
        {
            continue;
        }
        let source_ok = t.spec.sources.iter().any(|s| {
            s.kind == "ServiceAccount"
                && s.name == src.1
                && s.namespace.as_deref().unwrap_or(tns) == src.0
        });
        if !source_ok {
            continue;
        }
        let http = req.protocol == Protocol::Http;
        let rule_ok = t.spec.rules.iter().any(|r| match r.kind.as_str() {
            "HTTPRouteGroup" => {
                if !http && !ignore {
                    return false;
                }
                let Some(ms) = p.groups.get(&(tns.clone(), r.name.clone())) else {
                    return false;
                };
                ms.iter()
                    .filter(|m| {
                        r.matches
                            .as_ref()
                            .is_none_or(|names| names.contains(&m.name))
                    })
                    .any(|m| ignore || m.matches(req.method, req.path, req.headers))
            }
            // HTTP runs over TCP, so a TCPRoute covers it; only a UDPRoute covers UDP.
            "TCPRoute" => p
                .tcp
                .get(&(tns.clone(), r.name.clone()))
                .is_some_and(|route| ignore || (http && route.covers_port(req.port))),
            "UDPRoute" => p
                .udp
                .get(&(tns.clone(), r.name.clone()))
                .is_some_and(|route| ignore || (!http && route.covers_port(req.port))),
            _ => ignore,
        });
        if rule_ok {
            return Decision::Allow;
        }
    }
    if governed_by_http {
        Decision::DenyHttp
    } else {
        Decision::DenyConnection
    }
}
