//! The sidecar's GAMMA path: a request a route rule matched gets the rule's filters
//! (`RequestRedirect` answers at once; `RequestHeaderModifier`, `URLRewrite` and
//! `ResponseHeaderModifier` change what is sent and returned), a weighted backendRef with its own
//! filters, an endpoint of that Service, and is forwarded.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use hyper::body::Incoming;

use super::config::Fault;
use super::gamma::{Backend, modify_headers, modify_path, redirect};
use super::server::{Denied, RespBody, full};
use super::sidecar::{Outbound, forward, proxy_error};
use super::workload::{Inner, Workload};
use crate::gateway::Filter;

/// What the matched rule asks for.
pub(super) struct Plan {
    pub(super) filters: Vec<Filter>,
    pub(super) backends: Vec<(Backend, u32)>,
    /// The matched `PathPrefix` value, for `ReplacePrefixMatch`.
    pub(super) prefix: Option<String>,
    /// The request's host, without port (for redirects).
    pub(super) host: String,
    /// The Service port the client addressed.
    pub(super) port: u16,
    /// `namespace/route rule`, reported in [`ROUTE_HEADER`] as evidence.
    pub(super) route: String,
}

/// The response header naming the route rule that handled a request (evidence in reports).
pub(super) const ROUTE_HEADER: &str = "x-smi-assert-route";

fn pick_backend(inner: &Inner, backends: &[(Backend, u32)]) -> Option<Backend> {
    if inner.config.faults.contains(&Fault::IgnoreWeights) {
        if backends.is_empty() {
            return None;
        }
        return Some(backends[inner.pick(backends.len())].0.clone());
    }
    let total: u64 = backends.iter().map(|(_, w)| u64::from(*w)).sum();
    if total == 0 {
        return None;
    }
    let mut r = inner.pick(usize::try_from(total).unwrap_or(usize::MAX)) as u64;
    for (b, w) in backends {
        let w = u64::from(*w);
        if r < w {
            return Some(b.clone());
        }
        r -= w;
    }
    None
}

pub(super) async fn handle(
    inner: &Arc<Inner>,
    me: &Arc<Workload>,
    parts: Parts,
    body: Incoming,
    received: Instant,
    plan: Plan,
) -> Result<Response<RespBody>, Denied> {
    let skip = inner.config.faults.contains(&Fault::SkipFilters);
    let mut out = Outbound::new(&parts, plan.port);
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(String::from);
    let mut new_path = path.clone();
    out.response_modifiers.push(crate::gateway::HeaderModifier {
        set: vec![crate::gateway::HttpHeader {
            name: ROUTE_HEADER.into(),
            value: plan.route.clone(),
        }],
        ..Default::default()
    });
    let filters: &[Filter] = if skip { &[] } else { &plan.filters };
    for f in filters {
        match f.kind.as_str() {
            "RequestRedirect" => {
                let Some(r) = &f.request_redirect else {
                    continue;
                };
                let (status, location) = redirect(
                    r,
                    &plan.host,
                    plan.port,
                    &path,
                    query.as_deref(),
                    plan.prefix.as_deref(),
                );
                let mut resp = Response::new(full(Bytes::new()));
                *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND);
                if let Ok(v) = HeaderValue::from_str(&location) {
                    resp.headers_mut().insert("location", v);
                }
                if let Ok(v) = HeaderValue::from_str(&plan.route) {
                    resp.headers_mut().insert(ROUTE_HEADER, v);
                }
                return Ok(resp);
            }
            "RequestHeaderModifier" => {
                if let Some(m) = &f.request_header_modifier {
                    modify_headers(&mut out.headers, m);
                }
            }
            "ResponseHeaderModifier" => {
                if let Some(m) = &f.response_header_modifier {
                    out.response_modifiers.push(m.clone());
                }
            }
            "URLRewrite" => {
                if let Some(u) = &f.url_rewrite {
                    if let Some(p) = &u.path {
                        new_path = modify_path(&path, p, plan.prefix.as_deref());
                    }
                    if let Some(h) = &u.hostname
                        && let Ok(v) = HeaderValue::from_str(h)
                    {
                        out.headers.insert("host", v);
                    }
                }
            }
            _ => {}
        }
    }
    out.path_and_query = match &query {
        Some(q) => format!("{new_path}?{q}"),
        None => new_path,
    };
    let Some(backend) = pick_backend(inner, &plan.backends) else {
        return Ok(proxy_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the matched rule has no backend with a weight",
        ));
    };
    if !skip {
        for f in &backend.filters {
            if f.kind == "RequestHeaderModifier"
                && let Some(m) = &f.request_header_modifier
            {
                modify_headers(&mut out.headers, m);
            }
        }
    }
    let Some(info) = inner.service(&backend.namespace, &backend.service) else {
        return Ok(proxy_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the backendRef names no Service",
        ));
    };
    if backend.port.is_some_and(|p| !info.ports.contains(&p)) {
        return Ok(proxy_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the backendRef's Service has no such port",
        ));
    }
    let eps = inner.endpoints(&backend.namespace, &info);
    if eps.is_empty() {
        return Ok(proxy_error(StatusCode::SERVICE_UNAVAILABLE, "no endpoints"));
    }
    let dst = eps[inner.pick(eps.len())].clone();
    forward(inner, me, &dst, out, body, received).await
}
