//! The learn-layer5-style sample service of each workload (`/call`, `/echo`, `/metrics`) and the classification of transport errors into outcome classes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Value, json};

use super::net::classify;
use super::server::{RespBody, json_response};
use super::sync::lock;
use super::udp;
use super::workload::{AppMetrics, Inner, Workload};
use crate::backend::Outcome;

#[derive(Debug, Deserialize)]
pub(super) struct CallBody {
    pub(super) url: String,
    #[serde(default = "default_method")]
    pub(super) method: String,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) body: Option<String>,
    #[serde(default, rename = "timeoutMs")]
    pub(super) timeout_ms: Option<u64>,
}

pub(super) fn default_method() -> String {
    "GET".into()
}

pub(super) async fn app_handle(
    inner: Arc<Inner>,
    me: Arc<Workload>,
    req: Request<Incoming>,
) -> Response<RespBody> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if path == "/call" || path == "/echo" {
        let caller = req
            .headers()
            .get("servicename")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("Unidentified")
            .to_string();
        lock(&me.metrics).req_received.push(caller);
    }
    match (method.as_str(), path.as_str()) {
        ("GET", "/metrics") => {
            let m = lock(&me.metrics).clone();
            json_response(
                StatusCode::OK,
                &serde_json::to_value(m).unwrap_or(Value::Null),
                &me.service_name,
            )
        }
        ("DELETE", "/metrics") => {
            *lock(&me.metrics) = AppMetrics::default();
            json_response(StatusCode::OK, &json!({}), &me.service_name)
        }
        ("POST", "/call") => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            match serde_json::from_slice::<CallBody>(&body) {
                Ok(call) => {
                    let v = app_call(&inner, &me, call).await;
                    json_response(StatusCode::OK, &v, &me.service_name)
                }
                Err(e) => json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({"error": format!("bad /call body: {e}")}),
                    &me.service_name,
                ),
            }
        }
        (_, p) if p.starts_with("/echo") || p.starts_with("/metrics") || p == "/" => {
            // Anything else the mesh lets through is echoed, so path/method policies are testable.
            let headers: BTreeMap<String, String> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            json_response(
                StatusCode::OK,
                &json!({"service": me.service_name, "method": method.as_str(), "path": p, "headers": headers}),
                &me.service_name,
            )
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": "not found"}),
            &me.service_name,
        ),
    }
}

pub(super) async fn app_call(inner: &Arc<Inner>, me: &Arc<Workload>, call: CallBody) -> Value {
    let record = json!({"URL": call.url, "Method": call.method, "Headers": call.headers});
    let err = |outcome: Outcome| {
        lock(&me.metrics).resp_errored.push(record.clone());
        json!({"outcome": outcome})
    };
    let timeout = Duration::from_millis(call.timeout_ms.unwrap_or(5000));
    if let Some(rest) = call.url.strip_prefix("udp://") {
        let authority = rest.split('/').next().unwrap_or_default();
        let payload = call.body.clone().unwrap_or_else(|| {
            let id = call.headers.get("x-request-id").map_or("", String::as_str);
            format!("smi-assert probe {id}")
        });
        let (outcome, served_by) =
            udp::call(me.udp_sidecar_addr, authority, payload.as_bytes(), timeout).await;
        if outcome == Outcome::Datagram {
            lock(&me.metrics).resp_succeeded.push(record);
        } else {
            lock(&me.metrics).resp_errored.push(record);
        }
        return json!({"outcome": outcome, "servedBy": served_by});
    }
    if let Some(rest) = call.url.strip_prefix("grpc://") {
        let authority = rest.split('/').next().unwrap_or_default();
        let v = super::grpc::call(inner, me, authority, &call.headers, timeout).await;
        let ok = v["outcome"]["class"] == "http" && v["outcome"]["status"] == 200;
        if ok {
            lock(&me.metrics).resp_succeeded.push(record);
        } else {
            lock(&me.metrics).resp_errored.push(record);
        }
        return v;
    }
    let uri: http::Uri = match call.url.parse() {
        Ok(u) => u,
        Err(e) => {
            return err(Outcome::Other {
                message: format!("bad url: {e}"),
            });
        }
    };
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let pq = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let target = format!("http://{}{pq}", me.sidecar_addr);
    // The Host header is the URL's authority unless the caller sets one; the authority itself
    // travels as the connection's original destination (what a real sidecar reads from the
    // socket), so routing can tell the frontend from the Host header.
    let host = call
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or(authority.clone(), |(_, v)| v.clone());
    let mut builder = Request::builder()
        .method(call.method.as_str())
        .uri(target)
        .header("host", host)
        .header(super::sidecar::DST_HEADER, authority)
        .header("servicename", me.service_name.as_str());
    for (k, v) in &call.headers {
        if !k.eq_ignore_ascii_case("host") {
            builder = builder.header(k.as_str(), v.as_str());
        }
    }
    let req = match builder.body(Full::new(Bytes::from(call.body.unwrap_or_default()))) {
        Ok(r) => r,
        Err(e) => {
            return err(Outcome::Other {
                message: format!("bad request: {e}"),
            });
        }
    };
    let resp = match tokio::time::timeout(timeout, inner.client.request(req)).await {
        Err(_) => return err(Outcome::Timeout),
        Ok(Err(e)) => return err(classify(&e)),
        Ok(Ok(r)) => r,
    };
    let status = resp.status().as_u16();
    let served_by = resp
        .headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in resp.headers() {
        headers
            .entry(k.as_str().to_string())
            .or_default()
            .push(v.to_str().unwrap_or("").to_string());
    }
    let body = match tokio::time::timeout(timeout, resp.into_body().collect()).await {
        Err(_) => return err(Outcome::Timeout),
        Ok(Err(e)) => return err(classify(&e)),
        Ok(Ok(b)) => b.to_bytes(),
    };
    if (200..400).contains(&status) {
        lock(&me.metrics).resp_succeeded.push(record);
    } else {
        lock(&me.metrics).resp_failed.push(record);
    }
    json!({"outcome": Outcome::Http { status }, "servedBy": served_by, "headers": headers,
           "body": String::from_utf8_lossy(&body)})
}
