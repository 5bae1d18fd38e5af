//! The HTTP sidecar: the outbound proxy that resolves the frontend the client addressed (a
//! Service name, a Service's cluster IP or a pod IP), routes by the GAMMA routes attached to a
//! Service (see `gamma_proxy`) or else applies SMI splits, picks an endpoint, authorises and
//! forwards, recording traffic metrics.

use std::sync::Arc;
use std::time::Instant;

use http::request::Parts;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::json;

use super::config::Fault;
use super::echo_app::{CALL_HEADER, PORT_HEADER};
use super::gamma::{GammaRequest, Routed, route};
use super::metrics;
use super::net::parse_host;
use super::policy::{Decision, Protocol, RequestView, authorize};
use super::server::{Denied, RespBody, full, json_response, with_trailers};
use super::workload::{Inner, Workload};

/// The original destination (`host:port`) of the client's connection, as a real sidecar reads
/// it from the socket; the sample apps send it with every request and the sidecar strips it.
pub(super) const DST_HEADER: &str = "x-smi-assert-dst";

pub(super) fn proxy_error(status: StatusCode, msg: &str) -> Response<RespBody> {
    let mut r = json_response(status, &json!({"error": msg}), "");
    r.headers_mut().remove("x-served-by");
    if let Ok(v) = HeaderValue::from_str(msg) {
        r.headers_mut().insert("x-smi-proxy-error", v);
    }
    r
}

/// Where the client's connection goes.
enum Frontend {
    /// A Service: (name, namespace, port).
    Service(String, String, u16),
    /// A pod address: the workload, bypassing Service routing.
    Pod(Arc<Workload>, u16),
}

fn resolve(inner: &Inner, target: &str, own_ns: &str) -> Option<Frontend> {
    let (addr, port) = match target.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (target, 80),
    };
    if let Some(w) = inner.workload_by_ip(addr) {
        return Some(Frontend::Pod(w, port));
    }
    if let Some((ns, svc)) = inner.service_by_ip(addr) {
        return Some(Frontend::Service(svc, ns, port));
    }
    parse_host(target, own_ns).map(|(svc, ns, port)| Frontend::Service(svc, ns, port))
}

pub(super) async fn sidecar_handle(
    inner: Arc<Inner>,
    me: Arc<Workload>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, Denied> {
    let received = Instant::now();
    let (mut parts, body) = req.into_parts();
    let original_dst = parts
        .headers
        .remove(DST_HEADER)
        .and_then(|v| v.to_str().ok().map(String::from));
    parts.headers.remove(CALL_HEADER);
    parts.headers.remove(PORT_HEADER);
    if inner.config.faults.contains(&Fault::DropHeaders) {
        let keep: HeaderMap = parts
            .headers
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "host" | "content-length" | "content-type"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        parts.headers = keep;
    }
    // HTTP/2 carries the host as the request's authority.
    let host = parts
        .headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let target = match original_dst {
        Some(d) if !inner.config.faults.contains(&Fault::RouteByHost) => d,
        _ => host.clone(),
    };
    let Some(frontend) = resolve(&inner, &target, &me.namespace) else {
        return Ok(proxy_error(StatusCode::BAD_GATEWAY, "invalid host"));
    };
    let (svc, ns, port) = match frontend {
        Frontend::Pod(dst, port) => {
            let out = Outbound::new(&parts, port);
            return forward(&inner, &me, &dst, out, body, received).await;
        }
        Frontend::Service(svc, ns, port) => (svc, ns, port),
    };
    let Some(root) = inner.service(&ns, &svc) else {
        return Ok(proxy_error(StatusCode::BAD_GATEWAY, "unknown service"));
    };
    if !root.ports.contains(&port) {
        return Ok(proxy_error(
            StatusCode::BAD_GATEWAY,
            "service has no such port",
        ));
    }
    let policy = inner.current_policy();
    if !policy.routes.is_empty() {
        let grpc = super::grpc::is_grpc(&parts.headers);
        let path = parts.uri.path().to_string();
        let greq = GammaRequest {
            client_namespace: &me.namespace,
            service: (&ns, &svc, port),
            grpc,
            method: parts.method.as_str(),
            path: &path,
            query: parts.uri.query(),
            headers: &parts.headers,
        };
        match route(&policy.routes, &greq, &inner.config.faults) {
            Routed::Unrouted => {}
            Routed::NoMatch => {
                return Ok(proxy_error(
                    StatusCode::NOT_FOUND,
                    "no rule of the routes attached to the service matches",
                ));
            }
            Routed::Rule {
                route,
                rule,
                filters,
                backends,
                prefix,
            } => {
                let host_only = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
                let plan = super::gamma_proxy::Plan {
                    filters,
                    backends,
                    prefix,
                    host: host_only.to_string(),
                    port,
                    route: format!("{route} {rule}"),
                };
                return super::gamma_proxy::handle(&inner, &me, parts, body, received, plan).await;
            }
        }
    }
    let path = parts.uri.path().to_string();
    let view = RequestView {
        protocol: Protocol::Http,
        method: parts.method.as_str(),
        path: &path,
        headers: &parts.headers,
        port,
    };
    let backend = inner.choose_backend(&policy, &ns, &svc, &root, &view);
    let info = if backend == svc {
        root.clone()
    } else {
        match inner.service(&ns, &backend) {
            Some(i) => i,
            None => {
                return Ok(proxy_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "backend service missing",
                ));
            }
        }
    };
    let eps = inner.endpoints(&ns, &info);
    if eps.is_empty() {
        return Ok(proxy_error(StatusCode::SERVICE_UNAVAILABLE, "no endpoints"));
    }
    let dst = eps[inner.pick(eps.len())].clone();
    let out = Outbound::new(&parts, port);
    forward(&inner, &me, &dst, out, body, received).await
}

/// The request to send to the chosen pod, after routing and filters.
pub(super) struct Outbound {
    pub(super) method: http::Method,
    /// Path and query.
    pub(super) path_and_query: String,
    pub(super) headers: HeaderMap,
    /// The Service port the client addressed (reported by the echo app).
    pub(super) port: u16,
    /// Response header modifiers to apply.
    pub(super) response_modifiers: Vec<crate::gateway::HeaderModifier>,
}

impl Outbound {
    pub(super) fn new(parts: &Parts, port: u16) -> Self {
        Self {
            method: parts.method.clone(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string(),
            headers: parts.headers.clone(),
            port,
            response_modifiers: Vec::new(),
        }
    }
}

/// Authorises (SMI access policy) and forwards `out` to `dst`'s app, recording metrics.
pub(super) async fn forward(
    inner: &Arc<Inner>,
    me: &Arc<Workload>,
    dst: &Arc<Workload>,
    out: Outbound,
    body: Incoming,
    received: Instant,
) -> Result<Response<RespBody>, Denied> {
    let record = |class| inner.record(me, dst, class, received.elapsed());
    let path = out
        .path_and_query
        .split_once('?')
        .map_or(out.path_and_query.as_str(), |(p, _)| p)
        .to_string();
    let policy = inner.current_policy();
    let view = RequestView {
        protocol: Protocol::Http,
        method: out.method.as_str(),
        path: &path,
        headers: &out.headers,
        port: out.port,
    };
    match authorize(
        &policy,
        inner.config.access,
        &inner.config.faults,
        (&me.namespace, &me.service_account),
        (&dst.namespace, &dst.service_account),
        &view,
    ) {
        Decision::Allow => {}
        Decision::DenyHttp => {
            record(metrics::Class::Failure);
            return Ok(proxy_error(
                StatusCode::FORBIDDEN,
                "denied by SMI access policy",
            ));
        }
        Decision::DenyConnection => {
            record(metrics::Class::Failure);
            return Err(Denied);
        }
    }
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut fwd = Request::builder()
        .method(out.method.clone())
        .uri(format!("http://{}{}", dst.app_addr, out.path_and_query));
    for (k, v) in &out.headers {
        if k != "connection" {
            fwd = fwd.header(k, v);
        }
    }
    if dst.echo {
        fwd = fwd.header(PORT_HEADER, out.port.to_string());
    }
    let Ok(fwd) = fwd.body(Full::new(body)) else {
        return Ok(proxy_error(StatusCode::BAD_REQUEST, "cannot build request"));
    };
    let client = if super::grpc::is_grpc(&out.headers) {
        &inner.h2_client
    } else {
        &inner.client
    };
    match client.request(fwd).await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            match body.collect().await {
                Ok(b) => {
                    record(if parts.status.is_server_error() {
                        metrics::Class::Failure
                    } else {
                        metrics::Class::Success
                    });
                    for m in &out.response_modifiers {
                        super::gamma::modify_headers(&mut parts.headers, m);
                    }
                    let body = match b.trailers().cloned() {
                        Some(t) => with_trailers(b.to_bytes(), t),
                        None => full(b.to_bytes()),
                    };
                    Ok(Response::from_parts(parts, body))
                }
                Err(_) => {
                    record(metrics::Class::Failure);
                    Ok(proxy_error(StatusCode::BAD_GATEWAY, "upstream error"))
                }
            }
        }
        Err(_) => {
            record(metrics::Class::Failure);
            Ok(proxy_error(StatusCode::BAD_GATEWAY, "upstream error"))
        }
    }
}
