//! [`TrafficBackend`] for the loopback mesh: a request is sent from the source workload's sidecar, as `/call` would.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::LoopbackMesh;
use crate::backend::{Outcome, RequestRecord, ResponseDetails, TrafficBackend, TrafficRequest};
use crate::error::Error;

#[async_trait]
impl TrafficBackend for LoopbackMesh {
    async fn send(&self, request: &TrafficRequest) -> Result<RequestRecord, Error> {
        let src = format!("{}/{}", request.namespace, request.source);
        let w = self
            .source_workload(&request.namespace, &request.source)
            .ok_or_else(|| Error::Send {
                source_workload: src.clone(),
                reason: "no running workload with that Deployment or Service name".into(),
                source: None,
            })?;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut headers: BTreeMap<String, String> = request.headers.iter().cloned().collect();
        headers.insert("x-request-id".into(), id.to_string());
        let timeout_ms = u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX);
        let body = json!({"url": request.url, "method": request.method, "headers": headers,
                          "timeoutMs": timeout_ms});
        let req = Request::builder()
            .method("POST")
            .uri(format!("http://{}/call", w.app_addr))
            .header("content-type", "application/json")
            .header(super::echo_app::CALL_HEADER, "1")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| Error::Send {
                source_workload: src.clone(),
                reason: e.to_string(),
                source: None,
            })?;
        let started = Instant::now();
        let outer = request.timeout + Duration::from_secs(2);
        let resp = tokio::time::timeout(outer, self.inner.client.request(req))
            .await
            .map_err(|_| Error::Send {
                source_workload: src.clone(),
                reason: "the source workload did not answer /call".into(),
                source: None,
            })?
            .map_err(|e| Error::Send {
                source_workload: src.clone(),
                reason: format!("cannot reach the source workload: {e}"),
                source: None,
            })?;
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| Error::Send {
                source_workload: src.clone(),
                reason: format!("cannot read /call answer: {e}"),
                source: None,
            })?
            .to_bytes();
        let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Send {
            source_workload: src.clone(),
            reason: format!("bad /call answer: {e}"),
            source: None,
        })?;
        let outcome: Outcome =
            serde_json::from_value(v["outcome"].clone()).map_err(|e| Error::Send {
                source_workload: src.clone(),
                reason: format!("bad /call outcome: {e}"),
                source: None,
            })?;
        let response = v.get("headers").map(|h| {
            let headers: BTreeMap<String, Vec<String>> =
                serde_json::from_value(h.clone()).unwrap_or_default();
            let body = v["body"].as_str().unwrap_or("");
            let echo = super::grpc::echo_in(body);
            ResponseDetails::new(headers, echo)
        });
        Ok(RequestRecord {
            id,
            method: request.method.clone(),
            url: request.url.clone(),
            outcome,
            served_by: v["servedBy"].as_str().map(String::from),
            latency_us,
            response,
        })
    }
}
