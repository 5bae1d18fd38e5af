//! [`KubeEchoTraffic`]: the [`TrafficBackend`] for Gateway API mesh (GAMMA) suites on a cluster.
//! It sends each request the way Gateway API's mesh conformance suite does: it execs into a pod
//! of the source Deployment, in its `echo` container (the echo-advanced image of the conformance
//! fixtures), runs `client URL [--method=M] [-H name:value]... --timeout=Nms`, and reads the
//! `Key=Value` lines the client prints ([`EchoReport`]).
//!
//! - The source pod is the first running pod the source Deployment's `spec.selector.matchLabels`
//!   select (or, when no Deployment has that name, the pod of that name).
//! - The outcome is `HTTP <StatusCode>`; without a `StatusCode` line the client failed, and its
//!   standard error decides: `connection refused`, `connection reset`, `EOF`, a deadline or
//!   timeout, anything else as *other*.
//! - `served_by` is the Deployment of the pod that answered (`Hostname` without its ReplicaSet
//!   hash and pod suffix, `echo-v1-5d8f9c7b4-x2x7q` → `echo-v1`), the name upstream compares by
//!   prefix.
//! - A batch ([`TrafficBackend::send_batch`], the `distribution` operation's sample) is one exec
//!   of `client … --count=N`, as upstream's weight tests do; the client prefixes each answer's
//!   lines with `[i]` ([`EchoReport::parse_all`]). Answers it did not print are failures saying
//!   how many it printed.
//! - Standard output is read up to 1 MiB (16 KiB per request for a batch); the whole exec ends
//!   by the request's timeout (times the batch size) plus 10 s.
//!
//! Exec goes over a WebSocket (`v5.channel.k8s.io` or `v4.channel.k8s.io`) through kube-rs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ::kube::api::{Api, AttachParams, ListParams};
use ::kube::{Client, ResourceExt};
use async_trait::async_trait;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use tokio::io::AsyncReadExt;

use super::Failure;
use crate::backend::{
    Error, Outcome, RequestRecord, ResponseDetails, TrafficBackend, TrafficRequest,
};
use crate::echo::EchoReport;

/// The most standard output read from one exec of a single request (and of a batch's stderr).
const MAX_OUTPUT: u64 = 1 << 20;

/// The most standard output read per request of a `--count` batch (a report is under 2 KiB).
const MAX_OUTPUT_PER_REQUEST: u64 = 16 << 10;

/// Sends GAMMA traffic by exec into the source pod's echo container (see the module docs).
pub struct KubeEchoTraffic {
    client: Client,
    container: String,
    next_id: AtomicU64,
}

impl std::fmt::Debug for KubeEchoTraffic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeEchoTraffic")
            .field("container", &self.container)
            .finish_non_exhaustive()
    }
}

impl KubeEchoTraffic {
    /// A backend on `client`, exec-ing into containers named `echo`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self {
            client,
            container: "echo".into(),
            next_id: AtomicU64::new(1),
        }
    }

    /// Execs into containers of this name instead of `echo`.
    #[must_use]
    pub fn container(mut self, name: impl Into<String>) -> Self {
        self.container = name.into();
        self
    }

    /// The Kubernetes client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn source_pod(&self, request: &TrafficRequest) -> Result<String, Error> {
        let fail = |f: Failure| f.send(format!("{}/{}", request.namespace, request.source));
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), &request.namespace);
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &request.namespace);
        let deployment = deployments
            .get_opt(&request.source)
            .await
            .map_err(|e| fail(Failure::api("get Deployment", e)))?;
        let Some(d) = deployment else {
            return match pods.get_opt(&request.source).await {
                Ok(Some(p)) => Ok(p.name_any()),
                Ok(None) => Err(fail(Failure::new("no Deployment or Pod of that name"))),
                Err(e) => Err(fail(Failure::api("get Pod", e))),
            };
        };
        // Read through JSON: the shape of `spec` differs between Kubernetes versions of
        // k8s-openapi, and the application picks the version.
        let d = serde_json::to_value(&d).unwrap_or_default();
        let selector: Vec<String> = d
            .pointer("/spec/selector/matchLabels")
            .and_then(serde_json::Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        if selector.is_empty() {
            return Err(fail(Failure::new(
                "the Deployment has no matchLabels selector",
            )));
        }
        let list = pods
            .list(&ListParams::default().labels(&selector.join(",")))
            .await
            .map_err(|e| fail(Failure::api("list the Deployment's pods", e)))?;
        let running = |p: &Pod| {
            let v = serde_json::to_value(p).unwrap_or_default();
            v.pointer("/status/phase")
                .and_then(serde_json::Value::as_str)
                == Some("Running")
                && p.metadata.deletion_timestamp.is_none()
        };
        list.items
            .iter()
            .find(|p| running(p))
            .map(ResourceExt::name_any)
            .ok_or_else(|| fail(Failure::new("no running pod of the Deployment")))
    }
}

/// The echo client's command line for `request`, as upstream's mesh suite builds it.
pub(crate) fn client_args(request: &TrafficRequest) -> Vec<String> {
    let mut args = vec!["client".to_string(), request.url.clone()];
    if !request.url.starts_with("grpc://") {
        args.push(format!("--method={}", request.method));
    }
    for (k, v) in &request.headers {
        args.push("-H".into());
        args.push(format!("{k}:{v}"));
    }
    args.push(format!("--timeout={}ms", request.timeout.as_millis()));
    args
}

/// The Deployment of a pod name: `<deployment>-<replicaset hash>-<suffix>`.
pub(crate) fn deployment_of(pod: &str) -> String {
    let parts: Vec<&str> = pod.rsplitn(3, '-').collect();
    match parts.as_slice() {
        [_, _, deployment] if !deployment.is_empty() => (*deployment).to_string(),
        _ => pod.to_string(),
    }
}

/// The outcome of a client run that printed no status.
pub(crate) fn classify_failure(stderr: &str) -> Outcome {
    let s = stderr.to_ascii_lowercase();
    if s.contains("connection refused") {
        Outcome::Refused
    } else if s.contains("connection reset") {
        Outcome::Reset
    } else if s.contains("deadline exceeded") || s.contains("timeout") {
        Outcome::Timeout
    } else if s.contains("eof") {
        Outcome::Eof
    } else {
        Outcome::Other {
            message: stderr
                .lines()
                .next()
                .unwrap_or("no output")
                .trim()
                .to_string(),
        }
    }
}

#[async_trait]
impl TrafficBackend for KubeEchoTraffic {
    async fn send(&self, request: &TrafficRequest) -> Result<RequestRecord, Error> {
        let mut records = self.run_client(request, 1).await?;
        Ok(records.remove(0))
    }

    /// One exec of `client … --count=N` for the whole batch, as upstream's weight tests do
    /// (an exec per request would take minutes for a χ² sample).
    async fn send_batch(
        &self,
        request: &TrafficRequest,
        count: u32,
        records: &mut Vec<RequestRecord>,
    ) -> Result<(), Error> {
        if count > 0 {
            records.append(&mut self.run_client(request, count).await?);
        }
        Ok(())
    }
}

impl KubeEchoTraffic {
    /// Runs the echo client once for `count` requests (`--count` when more than one) and makes
    /// one record per request, in order.
    async fn run_client(
        &self,
        request: &TrafficRequest,
        count: u32,
    ) -> Result<Vec<RequestRecord>, Error> {
        let what = format!("{}/{}", request.namespace, request.source);
        let fail = |f: Failure| f.send(what.clone());
        let pod = self.source_pod(request).await?;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &request.namespace);
        let params = AttachParams::default()
            .container(self.container.as_str())
            .stdin(false)
            .stdout(true)
            .stderr(true);
        let mut args = client_args(request);
        if count > 1 {
            args.push(format!("--count={count}"));
        }
        let max_output = MAX_OUTPUT.max(u64::from(count) * MAX_OUTPUT_PER_REQUEST);
        let started = Instant::now();
        let run = async {
            let mut process = pods
                .exec(&pod, args, &params)
                .await
                .map_err(|e| fail(Failure::api(format!("cannot exec into pod {pod}"), e)))?;
            let mut out = Vec::new();
            let mut err = Vec::new();
            if let Some(stdout) = process.stdout() {
                stdout
                    .take(max_output)
                    .read_to_end(&mut out)
                    .await
                    .map_err(|e| fail(Failure::caused("cannot read the client's output", e)))?;
            }
            if let Some(stderr) = process.stderr() {
                // Best effort: the status line below says as much when it cannot be read.
                let _ = stderr.take(MAX_OUTPUT).read_to_end(&mut err).await;
            }
            let status = match process.take_status() {
                Some(s) => s.await,
                None => None,
            };
            let _ = process.join().await;
            Ok::<_, Error>((out, err, status))
        };
        let timeout = request.timeout.saturating_mul(count) + Duration::from_secs(10);
        let (out, err, status) = tokio::time::timeout(timeout, run).await.map_err(|_| {
            fail(Failure::new(format!(
                "the exec did not end within {timeout:?}"
            )))
        })??;
        let latency = started.elapsed() / count.max(1);
        let stdout = String::from_utf8_lossy(&out);
        let mut failure_text = String::from_utf8_lossy(&err).into_owned();
        if let Some(m) = status.as_ref().and_then(|s| s.message.clone()) {
            failure_text.push('\n');
            failure_text.push_str(&m);
        }
        let mut reports = if count > 1 {
            EchoReport::parse_all(&stdout)
        } else {
            vec![EchoReport::parse(&stdout)]
        };
        let printed = reports.len();
        reports.resize_with(count as usize, EchoReport::default);
        Ok(reports
            .into_iter()
            .enumerate()
            .map(|(i, report)| {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let outcome = match report.status_code {
                    Some(status) => Outcome::Http { status },
                    None if i >= printed => Outcome::Other {
                        message: format!(
                            "the client printed {printed} of {count} answers: {}",
                            first_line(&failure_text)
                        ),
                    },
                    None => classify_failure(&failure_text),
                };
                let mut record =
                    RequestRecord::new(id, request.method.clone(), request.url.clone(), outcome)
                        .latency(latency);
                if let Some(h) = &report.hostname {
                    record = record.served_by(deployment_of(h));
                }
                if report.status_code.is_some() {
                    let headers: BTreeMap<String, Vec<String>> = report.response_headers.clone();
                    record = record.response(ResponseDetails::new(headers, Some(report)));
                }
                record
            })
            .collect())
    }
}

/// The first line of a failure text, or `no output`.
fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no output")
}
