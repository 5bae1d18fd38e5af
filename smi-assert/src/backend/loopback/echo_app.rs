//! The echo app of workloads whose container is named `echo` (the Gateway API conformance
//! fixtures' app): every request the mesh delivers is answered 200 with an
//! [`EchoReport`](crate::echo::EchoReport) of what arrived (pod, version, namespace, Host,
//! method, protocol, path and query, request headers). `POST /call` from the traffic backend
//! (marked by [`CALL_HEADER`], which the sidecar never forwards) makes a request from this
//! workload, as the echo image's `client` command does.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::app::{CallBody, app_call};
use super::server::{RespBody, full, json_response};
use super::workload::{Inner, Workload};
use crate::echo::EchoReport;

/// Marks the traffic backend's control requests to a workload's app.
pub(super) const CALL_HEADER: &str = "x-smi-assert-call";

/// The port the sidecar delivered the request for (the Service port the client addressed).
pub(super) const PORT_HEADER: &str = "x-smi-assert-port";

pub(super) fn version_of(w: &Workload) -> Option<String> {
    w.labels.get("version").cloned()
}

/// The echo report of a request `w` received.
pub(super) fn report<B>(w: &Workload, req: &Request<B>, proto: &str) -> EchoReport {
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in req.headers() {
        if k.as_str() == PORT_HEADER {
            continue;
        }
        headers
            .entry(k.as_str().to_string())
            .or_default()
            .push(v.to_str().unwrap_or("").to_string());
    }
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    EchoReport {
        status_code: Some(200),
        hostname: Some(w.pod.clone()),
        service_version: version_of(w),
        service_port: req
            .headers()
            .get(PORT_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(String::from),
        namespace: Some(w.namespace.clone()),
        host,
        method: Some(req.method().to_string()),
        proto: Some(proto.to_string()),
        url: Some(
            req.uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string(),
        ),
        request_headers: headers,
        response_headers: BTreeMap::new(),
    }
}

pub(super) async fn echo_handle(
    inner: Arc<Inner>,
    me: Arc<Workload>,
    req: Request<Incoming>,
) -> Response<RespBody> {
    if req.method() == http::Method::POST
        && req.uri().path() == "/call"
        && req.headers().contains_key(CALL_HEADER)
    {
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        return match serde_json::from_slice::<CallBody>(&body) {
            Ok(call) => {
                let v = app_call(&inner, &me, call).await;
                json_response(StatusCode::OK, &v, &me.service_name)
            }
            Err(e) => json_response(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"error": format!("bad /call body: {e}")}),
                &me.service_name,
            ),
        };
    }
    if super::grpc::is_grpc(req.headers()) {
        return super::grpc::echo(&me, &req);
    }
    let proto = format!("{:?}", req.version());
    let text = report(&me, &req, &proto).to_text();
    let mut r = Response::new(full(text));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    if let Ok(v) = HeaderValue::from_str(&me.service_name) {
        r.headers_mut().insert("x-served-by", v);
    }
    r
}
