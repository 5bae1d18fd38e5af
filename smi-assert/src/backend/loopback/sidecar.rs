//! The HTTP sidecar: the outbound proxy that resolves the Service, applies splits, picks an endpoint, authorises and forwards, recording traffic metrics.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::json;

use super::config::Fault;
use super::metrics;
use super::net::parse_host;
use super::policy::{Decision, Protocol, RequestView, authorize};
use super::server::{Denied, json_response};
use super::workload::{Inner, Workload};

pub(super) fn proxy_error(status: StatusCode, msg: &str) -> Response<Full<Bytes>> {
    let mut r = json_response(status, &json!({"error": msg}), "");
    r.headers_mut().remove("x-served-by");
    if let Ok(v) = HeaderValue::from_str(msg) {
        r.headers_mut().insert("x-smi-proxy-error", v);
    }
    r
}

pub(super) async fn sidecar_handle(
    inner: Arc<Inner>,
    me: Arc<Workload>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Denied> {
    let received = Instant::now();
    let (mut parts, body) = req.into_parts();
    if inner.config.faults.contains(&Fault::DropHeaders) {
        let keep: HeaderMap = parts
            .headers
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "host" | "content-length" | "content-type"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        parts.headers = keep;
    }
    let host = parts
        .headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Some((svc, ns, port)) = parse_host(&host, &me.namespace) else {
        return Ok(proxy_error(StatusCode::BAD_GATEWAY, "invalid host"));
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
    let path = parts.uri.path().to_string();
    let view = RequestView {
        protocol: Protocol::Http,
        method: parts.method.as_str(),
        path: &path,
        headers: &parts.headers,
        port,
    };
    let policy = inner.current_policy();
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
    let record = |class| inner.record(&me, &dst, class, received.elapsed());
    match authorize(
        &policy,
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
    let pq = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let mut fwd = Request::builder()
        .method(parts.method.clone())
        .uri(format!("http://{}{pq}", dst.app_addr));
    for (k, v) in &parts.headers {
        if k != "connection" {
            fwd = fwd.header(k, v);
        }
    }
    let Ok(fwd) = fwd.body(Full::new(body)) else {
        return Ok(proxy_error(StatusCode::BAD_REQUEST, "cannot build request"));
    };
    match inner.client.request(fwd).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            match body.collect().await {
                Ok(b) => {
                    record(if parts.status.is_server_error() {
                        metrics::Class::Failure
                    } else {
                        metrics::Class::Success
                    });
                    Ok(Response::from_parts(parts, Full::new(b.to_bytes())))
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
