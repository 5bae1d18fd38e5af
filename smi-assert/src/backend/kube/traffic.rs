//! [`KubeTraffic`]: the [`TrafficBackend`] that drives the learn-layer5 sample app's `/call`
//! through the API server's pod proxy (protocol and classification in the [module docs](super)).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ::kube::api::{Api, ListParams, LogParams};
use ::kube::client::Body;
use ::kube::{Client, ResourceExt};
use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Pod, Service};
use serde_json::{Value, json};

use super::{ApiError, Failure};
use crate::backend::{Error, Outcome, RequestRecord, TrafficBackend, TrafficRequest};

/// Port of the learn-layer5 sample app when the pod spec names none.
const DEFAULT_APP_PORT: u16 = 9091;
/// `SERVICE_NAME` of the sample app when the pod spec sets none (the app's own default).
const DEFAULT_SERVICE_NAME: &str = "Default";
/// Log lines read back per request (a `/call` logs about four).
const LOG_TAIL_LINES: i64 = 400;
/// How long to wait for the app's log record of a request that has been answered.
const LOG_WAIT: Duration = Duration::from_secs(3);
/// Poll interval while waiting for the log record.
const LOG_POLL: Duration = Duration::from_millis(100);
/// Timeout of each auxiliary API call (lookups, `/metrics`, log).
const AUX_TIMEOUT: Duration = Duration::from_secs(10);

/// The [`TrafficBackend`] on a Kubernetes cluster whose workloads run the learn-layer5 sample app.
/// See the [module docs](super) for how requests are sent and classified.
///
/// # Examples
///
/// ```no_run
/// use smi_assert::backend::{TrafficBackend, TrafficRequest};
/// use smi_assert::backend::kube::KubeTraffic;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let traffic = KubeTraffic::try_default().await?;
/// let record = traffic
///     .send(&TrafficRequest::get("smi-demo", "app-a", "http://app-b:9091/echo"))
///     .await?;
/// println!("{} (served by {:?})", record.outcome, record.served_by);
/// # Ok::<(), Box<dyn std::error::Error>>(()) })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KubeTraffic {
    client: Client,
    serial: tokio::sync::Mutex<()>,
    next_id: AtomicU64,
    nonce: u64,
}

impl fmt::Debug for KubeTraffic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeTraffic")
            .field("default_namespace", &self.client.default_namespace())
            .field("next_id", &self.next_id.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A pod running the sample app, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AppPod {
    namespace: String,
    name: String,
    container: String,
    port: u16,
    service_name: String,
}

impl AppPod {
    /// The sample-app container of `pod`: the one with `SERVICE_NAME`, else the first.
    fn of(pod: &Pod) -> Option<Self> {
        let spec = pod.spec.as_ref()?;
        let has_name = |c: &&Container| c.env.iter().flatten().any(|e| e.name == "SERVICE_NAME");
        let c = spec
            .containers
            .iter()
            .find(has_name)
            .or_else(|| spec.containers.first())?;
        let env = |name: &str| {
            c.env
                .iter()
                .flatten()
                .find(|e| e.name == name)
                .and_then(|e| e.value.clone())
        };
        let ports = c.ports.iter().flatten();
        let port = ports
            .clone()
            .find(|p| p.name.as_deref() == Some("http"))
            .or_else(|| ports.clone().next())
            .and_then(|p| u16::try_from(p.container_port).ok())
            .or_else(|| env("PORT").and_then(|p| p.parse().ok()))
            .unwrap_or(DEFAULT_APP_PORT);
        Some(Self {
            namespace: pod.namespace().unwrap_or_default(),
            name: pod.name_any(),
            container: c.name.clone(),
            port,
            service_name: env("SERVICE_NAME").unwrap_or_else(|| DEFAULT_SERVICE_NAME.into()),
        })
    }

    fn proxy_path(&self, path: &str) -> String {
        format!(
            "/api/v1/namespaces/{}/pods/{}:{}/proxy/{path}",
            self.namespace, self.name, self.port
        )
    }

    fn has_service_name(pod: &Pod) -> bool {
        pod.spec.as_ref().is_some_and(|s| {
            s.containers
                .iter()
                .any(|c| c.env.iter().flatten().any(|e| e.name == "SERVICE_NAME"))
        })
    }
}

fn is_running_and_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod.status.as_ref().is_some_and(|s| {
            s.phase.as_deref() == Some("Running")
                && s.conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

fn label_selector(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// What the sample app logged about one `/call`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CallRecord {
    /// `Call response: &{NNN ...`: an HTTP response with this status.
    Response(u16),
    /// `Error completing the request ...`: a transport error (Go's text).
    TransportError(String),
    /// `Error creating request ...`: the app could not build the request (bad URL or method).
    BadRequest(String),
}

/// The `msg` of a logrus text-format line (`time=... level=... msg="..."`), unquoted; the whole
/// line if it is not in that format.
fn log_message(line: &str) -> String {
    let Some(i) = line.find("msg=") else {
        return line.to_string();
    };
    let rest = &line[i + 4..];
    let Some(quoted) = rest.strip_prefix('"') else {
        return rest.split(' ').next().unwrap_or("").to_string();
    };
    let mut out = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    out
}

/// Finds what the app logged about the request whose body carried `token`.
fn find_call_record(log: &str, token: &str) -> Option<CallRecord> {
    let lines: Vec<&str> = log.lines().collect();
    // The token also shows up later, in `Response body:` when the target echoes the request.
    let start = lines
        .iter()
        .position(|l| l.contains(token) && log_message(l).starts_with("request body:"))?;
    for line in &lines[start + 1..] {
        let msg = log_message(line);
        if let Some(rest) = msg.strip_prefix("Call response: &{") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            return digits.parse().ok().map(CallRecord::Response);
        }
        if let Some(rest) = msg.strip_prefix("Error completing the request") {
            return Some(CallRecord::TransportError(rest.trim().to_string()));
        }
        if let Some(rest) = msg.strip_prefix("Error creating request") {
            return Some(CallRecord::BadRequest(rest.trim().to_string()));
        }
        if msg.starts_with("request body:") {
            // The next request began; ours left no record.
            return None;
        }
    }
    None
}

/// Classifies the text of a Go `net/http` client error.
fn classify_go_error(text: &str) -> Outcome {
    let l = text.to_ascii_lowercase();
    if l.contains("connection reset by peer") || l.contains("broken pipe") {
        Outcome::Reset
    } else if l.contains("connection refused") {
        Outcome::Refused
    } else if l.contains("timeout") || l.contains("deadline exceeded") {
        Outcome::Timeout
    } else if l.ends_with("eof") || l.contains(": eof") || l.contains("unexpected eof") {
        Outcome::Eof
    } else {
        Outcome::Other {
            message: text.to_string(),
        }
    }
}

/// The namespace of the Service a URL's host names: `svc` → `default_ns`; `svc.ns`,
/// `svc.ns.svc.cluster.local` and other `svc.ns.<domain>` forms → `ns`.
fn target_namespace(url: &str, default_ns: &str) -> String {
    let host = url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_default();
    let host = host.strip_suffix('.').unwrap_or(&host);
    let labels: Vec<&str> = host.split('.').collect();
    match labels.as_slice() {
        [_, ns, ..] if !ns.is_empty() && host.parse::<std::net::IpAddr>().is_err() => {
            (*ns).to_string()
        }
        _ => default_ns.to_string(),
    }
}

/// The Kubernetes `Status` in an API server error answer, if the body is one.
fn api_status(status: StatusCode, body: &[u8]) -> Option<ApiError> {
    if status.is_success() {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    if v["kind"] != "Status" {
        return None;
    }
    Some(ApiError::status(
        status.as_u16(),
        v["reason"].as_str().unwrap_or_default(),
        v["message"].as_str().unwrap_or_default(),
    ))
}

/// The backend that served a request: the one app pod whose `ReqReceived` gained exactly one entry
/// from `caller`, none gaining any other.
fn served_by(
    candidates: &[AppPod],
    before: &[Option<Vec<String>>],
    after: &[Option<Vec<String>>],
    caller: &str,
) -> Option<String> {
    let mut hits = Vec::new();
    for ((pod, b), a) in candidates.iter().zip(before).zip(after) {
        let (Some(b), Some(a)) = (b, a) else { continue };
        if a.len() < b.len() || a[..b.len()] != b[..] {
            // The app restarted or cleared its counters: its share is unknown.
            continue;
        }
        let new = a[b.len()..].iter().filter(|c| *c == caller).count();
        if new > 0 {
            hits.push((pod, new));
        }
    }
    match hits.as_slice() {
        [(pod, 1)] => Some(pod.service_name.clone()),
        _ => None,
    }
}

impl KubeTraffic {
    /// A backend on `client`. Nothing is sent until the first request.
    #[must_use]
    pub fn new(client: Client) -> Self {
        let nonce = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        Self {
            client,
            serial: tokio::sync::Mutex::new(()),
            next_id: AtomicU64::new(1),
            nonce,
        }
    }

    /// A backend on the default client configuration (kubeconfig or in-cluster), like
    /// [`KubeCluster::try_default`](super::KubeCluster::try_default).
    ///
    /// # Errors
    ///
    /// [`Error::Start`] if there is no usable configuration.
    pub async fn try_default() -> Result<Self, Error> {
        Ok(Self::new(super::default_client().await?))
    }

    /// The client this backend uses.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The pod that plays `source`: a Deployment's or Service's first running, ready pod.
    async fn source_pod(&self, ns: &str, source: &str) -> Result<AppPod, Failure> {
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), ns);
        let selector = match aux(
            format!("get Deployment {source}"),
            deployments.get_opt(source),
        )
        .await?
        {
            Some(d) => {
                let sel = d.spec.selector;
                if sel
                    .match_expressions
                    .as_ref()
                    .is_some_and(|e| !e.is_empty())
                {
                    return Err(Failure::new(format!(
                        "Deployment {source} selects pods with matchExpressions, which is not \
                         supported; use matchLabels"
                    )));
                }
                sel.match_labels.unwrap_or_default()
            }
            None => {
                let services: Api<Service> = Api::namespaced(self.client.clone(), ns);
                match aux(format!("get Service {source}"), services.get_opt(source)).await? {
                    Some(s) => s.spec.and_then(|s| s.selector).unwrap_or_default(),
                    None => {
                        return Err(Failure::new(format!(
                            "no Deployment or Service named {source}"
                        )));
                    }
                }
            }
        };
        if selector.is_empty() {
            return Err(Failure::new(format!("{source} has no label selector")));
        }
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let lp = ListParams::default().labels(&label_selector(&selector));
        let mut list = aux(format!("list the pods of {source}"), pods.list(&lp))
            .await?
            .items;
        list.retain(is_running_and_ready);
        list.sort_by_key(ResourceExt::name_any);
        list.first()
            .and_then(AppPod::of)
            .ok_or_else(|| Failure::new(format!("{source} has no running and ready pod")))
    }

    /// The sample-app pods of a namespace (running, with `SERVICE_NAME`).
    async fn app_pods(&self, ns: &str) -> Result<Vec<AppPod>, Failure> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let mut list = aux(
            format!("list the pods of {ns}"),
            pods.list(&ListParams::default()),
        )
        .await?
        .items;
        list.retain(|p| is_running_and_ready(p) && AppPod::has_service_name(p));
        list.sort_by_key(ResourceExt::name_any);
        Ok(list.iter().filter_map(AppPod::of).collect())
    }

    /// A raw request to a pod's sample app through the API server's pod proxy.
    async fn proxy(
        &self,
        pod: &AppPod,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Bytes), Failure> {
        let builder = Request::builder().method(method).uri(pod.proxy_path(path));
        let req = match body {
            Some(b) => builder
                .header("content-type", "application/json")
                .body(Body::from(b.to_string().into_bytes())),
            None => builder.body(Body::from(Vec::new())),
        }
        .map_err(|e| Failure::caused("cannot build the proxy request", e))?;
        // The caller names the step.
        let resp = self
            .client
            .send(req)
            .await
            .map_err(|e| Failure::api("", e))?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| Failure::caused("cannot read the proxied answer", e))?
            .to_bytes();
        Ok((status, bytes))
    }

    /// `ReqReceived` of each app pod (`None` where it cannot be read).
    async fn received(&self, pods: &[AppPod]) -> Vec<Option<Vec<String>>> {
        let mut out = Vec::with_capacity(pods.len());
        for pod in pods {
            let r = match aux("GET /metrics", self.proxy(pod, "GET", "metrics", None)).await {
                Ok((status, body)) if status.is_success() => {
                    serde_json::from_slice::<Value>(&body).ok().map(|v| {
                        v["ReqReceived"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|c| c.as_str().map(String::from))
                            .collect()
                    })
                }
                _ => None,
            };
            out.push(r);
        }
        out
    }

    /// Reads the source container's log until `find` finds something in it or `wait` passed.
    async fn wait_log<T>(
        &self,
        pod: &AppPod,
        wait: Duration,
        find: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, Failure> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &pod.namespace);
        let lp = LogParams {
            container: Some(pod.container.clone()),
            tail_lines: Some(LOG_TAIL_LINES),
            ..LogParams::default()
        };
        let deadline = Instant::now() + wait;
        loop {
            // The caller names the step.
            let log = aux("", pods.logs(&pod.name, &lp)).await?;
            if let Some(r) = find(&log) {
                return Ok(Some(r));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(LOG_POLL).await;
        }
    }
}

/// Runs the auxiliary API call `what` with [`AUX_TIMEOUT`].
async fn aux<T, E: AuxError>(
    what: impl Into<String>,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(AUX_TIMEOUT, fut).await {
        Ok(r) => r.map_err(|e| e.failure(what.into())),
        Err(_) => Err(Failure::new(format!(
            "the API server did not answer within {AUX_TIMEOUT:?}"
        ))
        .within(what.into())),
    }
}

/// Errors [`aux`] can turn into a [`Failure`] of the step `what`.
trait AuxError {
    fn failure(self, what: String) -> Failure;
}

impl AuxError for ::kube::Error {
    fn failure(self, what: String) -> Failure {
        Failure::api(what, self)
    }
}

impl AuxError for Failure {
    fn failure(self, what: String) -> Failure {
        self.within(what)
    }
}

#[async_trait]
impl TrafficBackend for KubeTraffic {
    async fn send(&self, request: &TrafficRequest) -> Result<RequestRecord, Error> {
        let fail = |f: Failure| f.send(format!("{}/{}", request.namespace, request.source));
        let scheme = request
            .url
            .split_once("://")
            .map_or("", |(scheme, _)| scheme);
        if !matches!(scheme, "http" | "https") {
            return Err(fail(Failure::new(format!(
                "cannot send {}: the learn-layer5 sample app makes HTTP requests only",
                request.url
            ))));
        }
        // One request at a time: the apps' counters and logs are per process.
        let _serial = self.serial.lock().await;
        let source = self
            .source_pod(&request.namespace, &request.source)
            .await
            .map_err(&fail)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let token = format!("smi-assert-{:016x}-{id:012}", self.nonce);
        let target_ns = target_namespace(&request.url, &request.namespace);
        // Which backend answers is best effort: without the counters it stays unknown.
        let candidates = self.app_pods(&target_ns).await.unwrap_or_default();
        let before = self.received(&candidates).await;
        let mut headers: BTreeMap<String, String> = request.headers.iter().cloned().collect();
        headers.insert("x-request-id".into(), token.clone());
        // The app reads every field as a string (a missing `body` makes it panic).
        let body = json!({"url": request.url, "method": request.method,
                          "headers": headers, "body": ""});
        let started = Instant::now();
        let answer = tokio::time::timeout(
            request.timeout,
            self.proxy(&source, "POST", "call", Some(&body)),
        )
        .await;
        let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let outcome = match answer {
            Err(_) => {
                // Timed out: a timeout of the mesh if the app got the request, else the proxy's.
                let reached = self
                    .wait_log(&source, LOG_WAIT, |log| log.contains(&token).then_some(()))
                    .await
                    .map_err(|f| {
                        fail(f.within(format_args!("cannot read the log of pod {}", source.name)))
                    })?;
                if reached.is_none() {
                    return Err(fail(Failure::new(format!(
                        "/call did not reach the sample app of pod {} within {:?}: the API \
                         server did not deliver it",
                        source.name, request.timeout
                    ))));
                }
                Outcome::Timeout
            }
            Ok(Err(f)) => {
                return Err(fail(f.within(format_args!(
                    "cannot reach the sample app of pod {}",
                    source.name
                ))));
            }
            Ok(Ok((status, bytes))) => {
                if let Some(s) = api_status(status, &bytes) {
                    return Err(fail(Failure::caused(
                        format!(
                            "the API server cannot proxy to pod {} port {}",
                            source.name, source.port
                        ),
                        s,
                    )));
                }
                let record = self
                    .wait_log(&source, LOG_WAIT, |log| find_call_record(log, &token))
                    .await
                    .map_err(|f| {
                        fail(f.within(format_args!("cannot read the log of pod {}", source.name)))
                    })?;
                match record {
                    Some(CallRecord::Response(status)) => Outcome::Http { status },
                    Some(CallRecord::TransportError(text)) => classify_go_error(&text),
                    Some(CallRecord::BadRequest(text)) => {
                        return Err(fail(Failure::new(format!(
                            "the sample app cannot make the request {} {}: {text}",
                            request.method, request.url
                        ))));
                    }
                    None => {
                        return Err(fail(Failure::new(format!(
                            "/call answered HTTP {} but the log of pod {} (container {}) has no \
                             record of request {token}; the source must run the learn-layer5 \
                             sample app, which logs each call at debug level",
                            status.as_u16(),
                            source.name,
                            source.container
                        ))));
                    }
                }
            }
        };
        let served = if matches!(outcome, Outcome::Http { .. }) {
            let after = self.received(&candidates).await;
            served_by(&candidates, &before, &after, &source.service_name)
        } else {
            None
        };
        Ok(RequestRecord {
            id,
            method: request.method.clone(),
            url: request.url.clone(),
            outcome,
            served_by: served,
            latency_us,
            response: None,
        })
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn logrus_messages_are_unquoted() {
        let line = r#"time="2024-05-01T10:00:00Z" level=error msg="Error completing the request Get \"http://app-b:9091/echo\": EOF""#;
        assert_eq!(
            log_message(line),
            r#"Error completing the request Get "http://app-b:9091/echo": EOF"#
        );
        assert_eq!(log_message("plain line"), "plain line");
        assert_eq!(log_message("level=info msg=started"), "started");
    }

    #[test]
    fn the_record_after_the_token_line_is_found() {
        let log = [
            r#"time="t" level=debug msg="request body: {\"headers\":{\"x-request-id\":\"tok-1\"}}""#,
            r#"time="t" level=debug msg="Call response: &{200 OK 200 HTTP/1.1 1 1 map[] 0xc0 -1 [] false false map[] 0xc1 <nil>}""#,
            r#"time="t" level=debug msg="Response body: GET /echo HTTP/1.1\r\nHost: app-b:9091\r\nX-Request-Id: tok-1\r\n\r\n""#,
            r#"time="t" level=debug msg="request body: {\"headers\":{\"x-request-id\":\"tok-2\"}}""#,
            r#"time="t" level=debug msg="Call response: &{403 Forbidden 403 HTTP/1.1 1 1 map[] 0xc0 19 [] false false map[] 0xc1 <nil>}""#,
            r#"time="t" level=debug msg="request body: {\"headers\":{\"x-request-id\":\"tok-3\"}}""#,
            r#"time="t" level=error msg="Error completing the request Get \"http://app-b:9091/echo\": read tcp 10.0.0.1:3->10.0.0.2:9091: read: connection reset by peer""#,
            r#"time="t" level=debug msg="request body: {\"headers\":{\"x-request-id\":\"tok-4\"}}""#,
            r#"time="t" level=debug msg="request body: {\"headers\":{\"x-request-id\":\"tok-5\"}}""#,
        ]
        .join("\n");
        assert_eq!(
            find_call_record(&log, "tok-1"),
            Some(CallRecord::Response(200))
        );
        assert_eq!(
            find_call_record(&log, "tok-2"),
            Some(CallRecord::Response(403))
        );
        assert!(matches!(
            find_call_record(&log, "tok-3"),
            Some(CallRecord::TransportError(t)) if t.ends_with("connection reset by peer")
        ));
        assert_eq!(find_call_record(&log, "tok-4"), None);
        assert_eq!(find_call_record(&log, "tok-5"), None);
        assert_eq!(find_call_record(&log, "tok-9"), None);
    }

    #[test]
    fn go_transport_errors_map_to_outcome_classes() {
        let cases = [
            (
                r#"Get "http://b:9091/echo": read tcp 1.2.3.4:5->1.2.3.5:9091: read: connection reset by peer"#,
                Outcome::Reset,
            ),
            // As in smps-load and the loopback mesh, a broken pipe is a reset (issue 13).
            (
                r#"Post "http://b:9091/echo": write tcp 1.2.3.4:5->1.2.3.5:9091: write: broken pipe"#,
                Outcome::Reset,
            ),
            (r#"Get "http://b:9091/echo": EOF"#, Outcome::Eof),
            (r#"Post "http://b:9091/echo": unexpected EOF"#, Outcome::Eof),
            (
                r#"Get "http://b:9091/echo": dial tcp 10.96.0.1:9091: connect: connection refused"#,
                Outcome::Refused,
            ),
            (
                r#"Get "http://b:9091/echo": dial tcp 10.96.0.1:9091: i/o timeout"#,
                Outcome::Timeout,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(classify_go_error(text), want, "{text}");
        }
        let dns =
            r#"Get "http://nope:9091/": dial tcp: lookup nope on 10.96.0.10:53: no such host"#;
        assert_eq!(
            classify_go_error(dns),
            Outcome::Other {
                message: dns.into()
            }
        );
    }

    #[test]
    fn target_namespace_follows_kubernetes_dns_names() {
        assert_eq!(target_namespace("http://app-b:9091/echo", "t"), "t");
        assert_eq!(target_namespace("http://app-b.x:9091/echo", "t"), "x");
        assert_eq!(
            target_namespace("http://app-b.x.svc.cluster.local.:9091/echo", "t"),
            "x"
        );
        assert_eq!(target_namespace("http://app-b.x.maesh:9091/", "t"), "x");
        assert_eq!(target_namespace("http://10.0.0.7:9091/", "t"), "t");
        assert_eq!(target_namespace("not a url", "t"), "t");
    }

    fn app(name: &str, service: &str) -> AppPod {
        AppPod {
            namespace: "t".into(),
            name: name.into(),
            container: "app".into(),
            port: 9091,
            service_name: service.into(),
        }
    }

    #[test]
    fn served_by_needs_exactly_one_new_request_from_the_caller() {
        let pods = [
            app("b-1", "app-b"),
            app("c-1", "app-c"),
            app("a-1", "app-a"),
        ];
        let v = |xs: &[&str]| Some(xs.iter().map(|s| (*s).to_string()).collect::<Vec<_>>());
        let before = [v(&["app-a"]), v(&[]), v(&[])];
        // The source itself records the un-named /call from the API server.
        let after = [v(&["app-a"]), v(&["app-a"]), v(&["Unidentified"])];
        assert_eq!(
            served_by(&pods, &before, &after, "app-a"),
            Some("app-c".into())
        );
        let both = [v(&["app-a", "app-a"]), v(&["app-a"]), v(&[])];
        assert_eq!(served_by(&pods, &before, &both, "app-a"), None);
        let none = [v(&["app-a"]), v(&[]), v(&[])];
        assert_eq!(served_by(&pods, &before, &none, "app-a"), None);
        let reset = [v(&[]), v(&[]), v(&[])];
        assert_eq!(served_by(&pods, &before, &reset, "app-a"), None);
        let unreadable = [None, v(&["app-a"]), None];
        assert_eq!(
            served_by(&pods, &before, &unreadable, "app-a"),
            Some("app-c".into())
        );
    }

    #[test]
    fn only_kubernetes_status_bodies_are_api_server_errors() {
        let status = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"error trying to reach service: dial tcp 10.1.0.5:9091: connect: connection refused","reason":"ServiceUnavailable","code":503}"#;
        assert_eq!(
            api_status(StatusCode::SERVICE_UNAVAILABLE, status).map(|e| (e.code(), e.to_string())),
            Some((
                Some(503),
                "HTTP 503 ServiceUnavailable: error trying to reach service: dial tcp \
                 10.1.0.5:9091: connect: connection refused"
                    .to_string()
            ))
        );
        assert!(
            api_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                b"Error completing the request\n"
            )
            .is_none()
        );
        assert!(api_status(StatusCode::OK, status).is_none());
    }
}
