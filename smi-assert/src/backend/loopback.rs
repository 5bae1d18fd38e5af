//! The loopback mesh: an in-memory cluster plus a real L7 proxy on 127.0.0.1 that enforces SMI.
//!
//! Every Deployment applied to the cluster becomes running workloads (one per replica), each with
//! two HTTP/1.1 servers bound to `127.0.0.1:0`:
//!
//! - the **sample service**, speaking the learn-layer5 protocol: `POST /call {url, method, headers,
//!   body}` makes a request *from this workload* through its sidecar; `/echo` echoes the request;
//!   `GET /metrics` returns `{ReqReceived, RespSucceeded, RespFailed, RespErrored}` and
//!   `DELETE /metrics` clears it. Unlike upstream, transport errors are recorded (`RespErrored`)
//!   and classified (reset, EOF, timeout, refused), and every response names the workload that
//!   served it (`x-served-by`).
//! - the **sidecar**, an outbound proxy. The workload's identity is the listener the connection
//!   arrived on (its ServiceAccount), never a self-declared header. For each request it:
//!   1. resolves the `Host` (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`, empty labels rejected);
//!   2. applies a TrafficSplit whose root is that Service (weights normalised; weight 0 gets
//!      nothing; backends sharing no port with the root are excluded; v1alpha3+ `matches` restrict
//!      the split to matching requests, others go to the root Service);
//!   3. picks an endpoint of the chosen Service by label selector;
//!   4. authorises at the destination (default deny): a TrafficTarget must name the destination
//!      ServiceAccount, the source ServiceAccount, and a rule that matches (HTTPRouteGroup path
//!      regex anchored at the start, methods, header regexes ANDed; TCPRoute ports; v1alpha1/2
//!      `destination.port`). Denial is protocol-aware: **HTTP 403** when the destination is governed
//!      by HTTP route rules, a **closed connection (EOF)** when it is only governed by L4 rules or by
//!      nothing (default deny);
//!   5. forwards to the destination's sample service.
//!
//! Each workload also runs a **UDP echo** sample service and a **UDP sidecar**: a `udp://svc:port`
//! target of `/call` (and of [`TrafficBackend::send`]) sends one datagram through the sidecar,
//! which resolves a `protocol: UDP` port of the Service and forwards it only if a TrafficTarget
//! rule of kind `UDPRoute` covers the source and the port (TCPRoute and HTTPRouteGroup rules never
//! cover UDP; UDPRoute rules never cover HTTP). A denied datagram is dropped, so the source sees a
//! timeout. UDP is not split and not counted in metrics.
//!
//! **Traffic metrics**: the sidecar records every HTTP request it routed to a destination pod
//! (denied ones included) with its latency from arrival to the end of the answer, and the mesh
//! serves them as the read-only `metrics.smi-spec.io/v1alpha1` API through
//! [`ClusterBackend::get`]/[`ClusterBackend::list`] (see the [backend contract](super)):
//! `TrafficMetrics` of Pods, Deployments and Namespaces (everything the resource received, edge
//! `from`/`server`/all peers) and `TrafficMetricsList` edges (`from` peers at the server side,
//! `to` peers at the client side, at the resource's granularity), over the last
//! [`LoopbackConfigBuilder::metrics_window`] (30 s). Latencies are p50/p90/p99 in `ms` with milli
//! precision (at most 6.25 % above the exact value); counts are whole. A request is a **failure**
//! when the answer is a 5xx, the upstream connection fails, or access policy refused it (403 or a
//! closed connection); any other answer, 4xx included, is a success. Applying or deleting
//! `metrics.smi-spec.io` objects is an error.
//!
//! Policy changes take effect after [`LoopbackConfigBuilder::policy_delay`] (default 0), which
//! lets tests exercise convergence. [`Fault`] switches make the mesh non-conformant on purpose.
//!
//! # Runtime
//!
//! Needs a Tokio runtime with the `net` and `time` drivers (current-thread or multi-threaded).
//! Servers stop when their Deployment or namespace is deleted, on [`LoopbackMesh::shutdown`], and
//! when the last handle to the mesh is dropped.
//!
//! # Examples
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! use smi_assert::backend::loopback::{LoopbackConfig, LoopbackMesh};
//! let mesh = LoopbackMesh::start(LoopbackConfig::builder().seed(7).build()).await?;
//! assert!(mesh.workload_addresses().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(()) })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;

mod metrics;
mod udp;

use super::memory::InMemoryCluster;
use super::{
    ClusterBackend, Error, ObjectRef, Outcome, RequestRecord, TrafficBackend, TrafficRequest,
};
use crate::smi::{SmiResource, TrafficSplit, TrafficTarget, Version};

/// A deliberate conformance fault of the loopback mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Fault {
    /// Authorise every request (no default deny, no TrafficTarget enforcement).
    AllowAll,
    /// Spread traffic uniformly over all split backends, including weight 0.
    IgnoreWeights,
    /// Treat every TrafficTarget rule as matching (path, method, header, port filters ignored).
    IgnoreRouteMatches,
    /// Strip request headers before policy evaluation and forwarding.
    DropHeaders,
    /// Record no traffic metrics: every TrafficMetrics object reports zero requests and no edges.
    DropMetrics,
    /// Serve the first answer of each TrafficMetrics query forever (a cache that never refreshes).
    StaleMetrics,
}

impl Fault {
    /// All faults.
    pub const ALL: [Fault; 6] = [
        Fault::AllowAll,
        Fault::IgnoreWeights,
        Fault::IgnoreRouteMatches,
        Fault::DropHeaders,
        Fault::DropMetrics,
        Fault::StaleMetrics,
    ];

    /// The kebab-case name, e.g. `allow-all`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllowAll => "allow-all",
            Self::IgnoreWeights => "ignore-weights",
            Self::IgnoreRouteMatches => "ignore-route-matches",
            Self::DropHeaders => "drop-headers",
            Self::DropMetrics => "drop-metrics",
            Self::StaleMetrics => "stale-metrics",
        }
    }

    /// Parses a kebab-case name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Configuration of a [`LoopbackMesh`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoopbackConfig {
    seed: u64,
    policy_delay: Duration,
    metrics_window: Duration,
    faults: BTreeSet<Fault>,
}

impl LoopbackConfig {
    /// A builder with seed 0, no policy delay, a 30 s metrics window and no faults.
    pub fn builder() -> LoopbackConfigBuilder {
        LoopbackConfigBuilder {
            config: Self::default(),
        }
    }
}

impl Default for LoopbackConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            policy_delay: Duration::ZERO,
            metrics_window: Duration::from_secs(30),
            faults: BTreeSet::new(),
        }
    }
}

/// Builder for [`LoopbackConfig`].
#[derive(Debug, Clone)]
#[must_use]
pub struct LoopbackConfigBuilder {
    config: LoopbackConfig,
}

impl LoopbackConfigBuilder {
    /// Seed of the RNG used for split and endpoint choice (deterministic for sequential traffic).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Delay before an SMI policy change takes effect in the proxy.
    pub fn policy_delay(mut self, delay: Duration) -> Self {
        self.config.policy_delay = delay;
        self
    }

    /// The window TrafficMetrics cover (default 30 s, the SMI SDK's default; whole seconds, at
    /// least 1 s).
    pub fn metrics_window(mut self, window: Duration) -> Self {
        self.config.metrics_window = window;
        self
    }

    /// Enables a fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.config.faults.insert(fault);
        self
    }

    /// Finishes the configuration.
    #[must_use]
    pub fn build(self) -> LoopbackConfig {
        self.config
    }
}

// ------------------------------------------------------------------------------------------------
// Policy snapshot

#[derive(Debug)]
struct CompiledMatch {
    name: String,
    path: Option<Regex>,
    methods: Option<Vec<String>>,
    headers: Vec<(String, Regex)>,
    invalid: bool,
}

impl CompiledMatch {
    fn matches(&self, method: &str, path: &str, headers: &HeaderMap) -> bool {
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
struct SmiPolicy {
    targets: Vec<(String, TrafficTarget)>,
    groups: HashMap<(String, String), Vec<CompiledMatch>>,
    tcp: HashMap<(String, String), crate::smi::TcpRoute>,
    udp: HashMap<(String, String), crate::smi::UdpRoute>,
    splits: Vec<(String, TrafficSplit)>,
}

impl SmiPolicy {
    fn build(cluster: &InMemoryCluster) -> Self {
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
        p
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Allow,
    DenyHttp,
    DenyConnection,
}

/// The transport of a request: HTTP (over TCP) or UDP datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http,
    Udp,
}

struct RequestView<'a> {
    protocol: Protocol,
    method: &'a str,
    path: &'a str,
    headers: &'a HeaderMap,
    port: u16,
}

fn authorize(
    p: &SmiPolicy,
    faults: &BTreeSet<Fault>,
    src: (&str, &str),
    dst: (&str, &str),
    req: &RequestView<'_>,
) -> Decision {
    if faults.contains(&Fault::AllowAll) {
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

// ------------------------------------------------------------------------------------------------
// Workloads

#[derive(Debug, Default, Clone, Serialize)]
struct AppMetrics {
    #[serde(rename = "ReqReceived")]
    req_received: Vec<String>,
    #[serde(rename = "RespSucceeded")]
    resp_succeeded: Vec<Value>,
    #[serde(rename = "RespFailed")]
    resp_failed: Vec<Value>,
    #[serde(rename = "RespErrored")]
    resp_errored: Vec<Value>,
}

#[derive(Debug)]
struct Workload {
    namespace: String,
    deployment: String,
    pod: String,
    service_name: String,
    service_account: String,
    labels: BTreeMap<String, String>,
    template: String,
    app_addr: SocketAddr,
    sidecar_addr: SocketAddr,
    udp_echo_addr: SocketAddr,
    udp_sidecar_addr: SocketAddr,
    metrics: Mutex<AppMetrics>,
    _stop: watch::Sender<()>,
}

impl Workload {
    fn peer(&self) -> metrics::Peer {
        metrics::Peer {
            namespace: self.namespace.clone(),
            deployment: self.deployment.clone(),
            pod: self.pod.clone(),
        }
    }
}

#[derive(Debug, Clone)]
struct ServiceInfo {
    selector: BTreeMap<String, String>,
    /// TCP ports (`protocol` absent or `TCP`).
    ports: Vec<u16>,
    /// `protocol: UDP` ports.
    udp_ports: Vec<u16>,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

#[derive(Debug)]
struct Inner {
    cluster: InMemoryCluster,
    config: LoopbackConfig,
    workloads: Mutex<Vec<Arc<Workload>>>,
    policy: Mutex<VecDeque<(Instant, Arc<SmiPolicy>)>>,
    rng: Mutex<fastrand::Rng>,
    client: HttpClient,
    next_id: AtomicU64,
    next_pod: AtomicU64,
    recorder: metrics::Recorder,
    /// With [`Fault::StaleMetrics`]: the first answer of each metrics query.
    stale: Mutex<HashMap<String, Option<Value>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    /// A uniform index below `n` (0 when `n` is 0) from the mesh's seeded generator.
    fn pick(&self, n: usize) -> usize {
        lock(&self.rng).usize(..n.max(1))
    }

    fn current_policy(&self) -> Arc<SmiPolicy> {
        let now = Instant::now();
        let mut h = lock(&self.policy);
        while h.len() > 1 && h[1].0 <= now {
            h.pop_front();
        }
        match h.front() {
            Some((at, p)) if *at <= now => p.clone(),
            _ => Arc::new(SmiPolicy::default()),
        }
    }

    /// Records one routed request in the traffic metrics (unless [`Fault::DropMetrics`]).
    fn record(&self, src: &Workload, dst: &Workload, class: metrics::Class, latency: Duration) {
        if !self.config.faults.contains(&Fault::DropMetrics) {
            self.recorder
                .record(&src.peer(), &dst.peer(), class, latency);
        }
    }

    fn refresh_policy(&self) {
        let p = Arc::new(SmiPolicy::build(&self.cluster));
        let at = Instant::now() + self.config.policy_delay;
        lock(&self.policy).push_back((at, p));
    }

    fn service(&self, ns: &str, name: &str) -> Option<ServiceInfo> {
        let svc = self
            .cluster
            .get_sync(&ObjectRef::new("v1", "Service", Some(ns.into()), name))?;
        let selector = serde_json::from_value(svc["spec"]["selector"].clone()).unwrap_or_default();
        let ports = |protocol: &str| -> Vec<u16> {
            svc["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["protocol"].as_str().unwrap_or("TCP") == protocol)
                .filter_map(|p| p["port"].as_u64().and_then(|p| u16::try_from(p).ok()))
                .collect()
        };
        Some(ServiceInfo {
            selector,
            ports: ports("TCP"),
            udp_ports: ports("UDP"),
        })
    }

    fn endpoints(&self, ns: &str, svc: &ServiceInfo) -> Vec<Arc<Workload>> {
        if svc.selector.is_empty() {
            return Vec::new();
        }
        lock(&self.workloads)
            .iter()
            .filter(|w| {
                w.namespace == ns && svc.selector.iter().all(|(k, v)| w.labels.get(k) == Some(v))
            })
            .cloned()
            .collect()
    }

    fn choose_backend(
        &self,
        p: &SmiPolicy,
        ns: &str,
        root: &str,
        root_info: &ServiceInfo,
        req: &RequestView<'_>,
    ) -> String {
        let Some((_, split)) = p
            .splits
            .iter()
            .rev()
            .find(|(sns, s)| sns == ns && s.spec.service == root)
        else {
            return root.to_string();
        };
        if !split.spec.matches.is_empty() {
            let matched = split.spec.matches.iter().any(|r| {
                p.groups
                    .get(&(ns.to_string(), r.name.clone()))
                    .is_some_and(|ms| {
                        ms.iter()
                            .any(|m| m.matches(req.method, req.path, req.headers))
                    })
            });
            if !matched {
                return root.to_string();
            }
        }
        let eligible: Vec<(String, i64)> = split
            .spec
            .backends
            .iter()
            .filter(|b| {
                self.service(ns, &b.service)
                    .is_some_and(|s| s.ports.iter().any(|p| root_info.ports.contains(p)))
            })
            .map(|b| (b.service.clone(), b.weight.to_milli().unwrap_or(0).max(0)))
            .collect();
        if self.config.faults.contains(&Fault::IgnoreWeights) {
            if eligible.is_empty() {
                return root.to_string();
            }
            return eligible[self.pick(eligible.len())].0.clone();
        }
        let total: i64 = eligible.iter().map(|(_, w)| w).sum();
        if total <= 0 {
            return root.to_string();
        }
        let mut r = lock(&self.rng).i64(0..total);
        for (s, w) in &eligible {
            if r < *w {
                return s.clone();
            }
            r -= w;
        }
        root.to_string()
    }
}

/// The loopback mesh backend. Implements both [`ClusterBackend`] and [`TrafficBackend`].
/// Cloning gives another handle to the same mesh.
#[derive(Debug, Clone)]
pub struct LoopbackMesh {
    inner: Arc<Inner>,
}

/// Address information about one running workload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkloadAddress {
    /// Namespace.
    pub namespace: String,
    /// Deployment name.
    pub deployment: String,
    /// Pod name (the name TrafficMetrics use for this replica).
    pub pod: String,
    /// `SERVICE_NAME` of the sample service.
    pub service_name: String,
    /// Sample service address.
    pub app: SocketAddr,
    /// Sidecar (outbound proxy) address.
    pub sidecar: SocketAddr,
    /// UDP echo sample service address.
    pub udp_echo: SocketAddr,
    /// UDP sidecar (outbound proxy) address.
    pub udp_sidecar: SocketAddr,
}

impl LoopbackMesh {
    /// Starts an empty mesh (no workloads yet; the SMI CRDs are installed).
    ///
    /// # Errors
    ///
    /// Currently infallible; returns [`Error::Start`] for future resource problems.
    pub async fn start(config: LoopbackConfig) -> Result<Self, Error> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        let seed = config.seed;
        let metrics_window = config.metrics_window;
        Ok(Self {
            inner: Arc::new(Inner {
                cluster: InMemoryCluster::new(),
                config,
                workloads: Mutex::new(Vec::new()),
                policy: Mutex::new(VecDeque::new()),
                rng: Mutex::new(fastrand::Rng::with_seed(seed)),
                client,
                next_id: AtomicU64::new(1),
                next_pod: AtomicU64::new(1),
                recorder: metrics::Recorder::new(metrics_window),
                stale: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The faults this mesh was started with.
    #[must_use]
    pub fn faults(&self) -> Vec<Fault> {
        self.inner.config.faults.iter().copied().collect()
    }

    /// Addresses of the running workloads.
    #[must_use]
    pub fn workload_addresses(&self) -> Vec<WorkloadAddress> {
        lock(&self.inner.workloads)
            .iter()
            .map(|w| WorkloadAddress {
                namespace: w.namespace.clone(),
                deployment: w.deployment.clone(),
                pod: w.pod.clone(),
                service_name: w.service_name.clone(),
                app: w.app_addr,
                sidecar: w.sidecar_addr,
                udp_echo: w.udp_echo_addr,
                udp_sidecar: w.udp_sidecar_addr,
            })
            .collect()
    }

    /// Stops every workload server.
    pub fn shutdown(&self) {
        lock(&self.inner.workloads).clear();
    }

    fn stop_workloads(&self, pred: impl Fn(&Workload) -> bool) {
        lock(&self.inner.workloads).retain(|w| !pred(w));
    }

    async fn reconcile_deployment(&self, stored: &Value) -> Result<(), Error> {
        let ns = stored["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = stored["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let template = stored["spec"]["template"].clone();
        let replicas = stored["spec"]["replicas"].as_u64().unwrap_or(1);
        let template_key = format!("{replicas}:{template}");
        let running = lock(&self.inner.workloads)
            .iter()
            .filter(|w| w.namespace == ns && w.deployment == name)
            .map(|w| w.template == template_key)
            .collect::<Vec<_>>();
        let r = ObjectRef::new("apps/v1", "Deployment", Some(ns.clone()), name.clone());
        if !running.is_empty() && running.iter().all(|same| *same) {
            return Ok(());
        }
        self.stop_workloads(|w| w.namespace == ns && w.deployment == name);
        let labels: BTreeMap<String, String> =
            serde_json::from_value(template["metadata"]["labels"].clone()).unwrap_or_default();
        let sa = template["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let service_name = template["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["env"].as_array().into_iter().flatten())
            .find(|e| e["name"] == "SERVICE_NAME")
            .and_then(|e| e["value"].as_str())
            .unwrap_or(&name)
            .to_string();
        for _ in 0..replicas {
            let w = self
                .spawn_workload(
                    &ns,
                    &name,
                    &service_name,
                    &sa,
                    labels.clone(),
                    template_key.clone(),
                )
                .await?;
            lock(&self.inner.workloads).push(w);
        }
        self.inner.cluster.set_status(
            &r,
            json!({"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}),
        );
        Ok(())
    }

    async fn spawn_workload(
        &self,
        ns: &str,
        deployment: &str,
        service_name: &str,
        sa: &str,
        labels: BTreeMap<String, String>,
        template: String,
    ) -> Result<Arc<Workload>, Error> {
        let bind = || async {
            TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| Error::Apply {
                    object: format!("Deployment {ns}/{deployment}"),
                    reason: format!("cannot bind a loopback port: {e}"),
                })
        };
        let bind_udp = || async {
            UdpSocket::bind("127.0.0.1:0")
                .await
                .map_err(|e| Error::Apply {
                    object: format!("Deployment {ns}/{deployment}"),
                    reason: format!("cannot bind a loopback UDP port: {e}"),
                })
        };
        let app = bind().await?;
        let sidecar = bind().await?;
        let udp_echo = bind_udp().await?;
        let udp_sidecar = bind_udp().await?;
        let addr = |a: std::io::Result<SocketAddr>| {
            a.map_err(|e| Error::Apply {
                object: format!("Deployment {ns}/{deployment}"),
                reason: format!("cannot read listener address: {e}"),
            })
        };
        let (stop, stop_rx) = watch::channel(());
        let n = self.inner.next_pod.fetch_add(1, Ordering::Relaxed);
        let w = Arc::new(Workload {
            namespace: ns.into(),
            deployment: deployment.into(),
            pod: format!("{deployment}-{n:05x}"),
            service_name: service_name.into(),
            service_account: sa.into(),
            labels,
            template,
            app_addr: addr(app.local_addr())?,
            sidecar_addr: addr(sidecar.local_addr())?,
            udp_echo_addr: addr(udp_echo.local_addr())?,
            udp_sidecar_addr: addr(udp_sidecar.local_addr())?,
            metrics: Mutex::new(AppMetrics::default()),
            _stop: stop,
        });
        let weak = Arc::downgrade(&w);
        let inner = Arc::downgrade(&self.inner);
        udp::serve_echo(udp_echo, service_name.to_string(), stop_rx.clone());
        udp::serve_sidecar(udp_sidecar, inner.clone(), weak.clone(), stop_rx.clone());
        serve(app, stop_rx.clone(), {
            let weak = weak.clone();
            let inner = inner.clone();
            move |req| {
                let weak = weak.clone();
                let inner = inner.clone();
                async move {
                    match (weak.upgrade(), inner.upgrade()) {
                        (Some(w), Some(i)) => Ok(app_handle(i, w, req).await),
                        _ => Err(Denied),
                    }
                }
            }
        });
        serve(sidecar, stop_rx, move |req| {
            let weak = weak.clone();
            let inner = inner.clone();
            async move {
                match (weak.upgrade(), inner.upgrade()) {
                    (Some(w), Some(i)) => sidecar_handle(i, w, req).await,
                    _ => Err(Denied),
                }
            }
        });
        Ok(w)
    }

    fn source_workload(&self, ns: &str, source: &str) -> Option<Arc<Workload>> {
        let ws = lock(&self.inner.workloads).clone();
        if let Some(w) = ws
            .iter()
            .find(|w| w.namespace == ns && (w.deployment == source))
        {
            return Some(w.clone());
        }
        let svc = self.inner.service(ns, source)?;
        self.inner.endpoints(ns, &svc).into_iter().next()
    }

    /// Reads the learn-layer5 `/metrics` document of a workload's first replica.
    ///
    /// # Errors
    ///
    /// [`Error::Read`] if the workload does not exist.
    pub fn app_metrics(&self, namespace: &str, workload: &str) -> Result<Value, Error> {
        let w = self
            .source_workload(namespace, workload)
            .ok_or_else(|| Error::ReadObject {
                object: format!("workload {namespace}/{workload}"),
                reason: "no such running workload".into(),
            })?;
        let m = lock(&w.metrics).clone();
        Ok(serde_json::to_value(m).unwrap_or(Value::Null))
    }
}

#[derive(Debug)]
struct Denied;

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by policy")
    }
}

impl std::error::Error for Denied {}

fn serve<F, Fut>(listener: TcpListener, mut stop: watch::Receiver<()>, handler: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response<Full<Bytes>>, Denied>> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = listener.accept() => {
                    let Ok((stream, _)) = r else { continue };
                    let _ = stream.set_nodelay(true);
                    let h = handler.clone();
                    let mut stop_conn = stop.clone();
                    tokio::spawn(async move {
                        let conn = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service_fn(h));
                        tokio::select! {
                            _ = conn => {}
                            _ = stop_conn.changed() => {}
                        }
                    });
                }
                _ = stop.changed() => break,
            }
        }
    });
}

fn json_response(status: StatusCode, body: &Value, served_by: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(served_by) {
        r.headers_mut().insert("x-served-by", v);
    }
    r
}

#[derive(Debug, Deserialize)]
struct CallBody {
    url: String,
    #[serde(default = "default_method")]
    method: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default, rename = "timeoutMs")]
    timeout_ms: Option<u64>,
}

fn default_method() -> String {
    "GET".into()
}

/// The outcome class of a transport error, as smps-load classes it: a reset, an aborted
/// connection and a broken pipe (a write to a connection the peer has closed) are all resets; a
/// connection closed before a whole response is EOF.
fn classify(e: &(dyn std::error::Error + 'static)) -> Outcome {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && h.is_incomplete_message()
        {
            return Outcome::Eof;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe => return Outcome::Reset,
                std::io::ErrorKind::ConnectionRefused => return Outcome::Refused,
                std::io::ErrorKind::UnexpectedEof => return Outcome::Eof,
                std::io::ErrorKind::TimedOut => return Outcome::Timeout,
                _ => {}
            }
        }
        cur = err.source();
    }
    Outcome::Other {
        message: e.to_string(),
    }
}

async fn app_handle(
    inner: Arc<Inner>,
    me: Arc<Workload>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
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

async fn app_call(inner: &Arc<Inner>, me: &Arc<Workload>, call: CallBody) -> Value {
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
    let mut builder = Request::builder()
        .method(call.method.as_str())
        .uri(target)
        .header("host", authority)
        .header("servicename", me.service_name.as_str());
    for (k, v) in &call.headers {
        builder = builder.header(k.as_str(), v.as_str());
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
    json!({"outcome": Outcome::Http { status }, "servedBy": served_by,
           "body": String::from_utf8_lossy(&body)})
}

fn proxy_error(status: StatusCode, msg: &str) -> Response<Full<Bytes>> {
    let mut r = json_response(status, &json!({"error": msg}), "");
    r.headers_mut().remove("x-served-by");
    if let Ok(v) = HeaderValue::from_str(msg) {
        r.headers_mut().insert("x-smi-proxy-error", v);
    }
    r
}

fn parse_host(host: &str, own_ns: &str) -> Option<(String, String, u16)> {
    let (name, port) = match host.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (host, 80),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    match labels.as_slice() {
        [svc] => Some(((*svc).into(), own_ns.into(), port)),
        [svc, ns] | [svc, ns, "svc"] | [svc, ns, "svc", "cluster", "local"] => {
            Some(((*svc).into(), (*ns).into(), port))
        }
        _ => None,
    }
}

async fn sidecar_handle(
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

fn is_smi(manifest: &Value) -> bool {
    manifest["apiVersion"]
        .as_str()
        .is_some_and(|a| a.contains(".smi-spec.io/"))
}

fn is_metrics(api_version: &str) -> bool {
    api_version.split('/').next() == Some("metrics.smi-spec.io")
}

/// Kinds the metrics API knows but the loopback mesh never runs (always empty).
const EMPTY_METRICS_KINDS: [&str; 2] = ["DaemonSet", "StatefulSet"];

const METRICS_KINDS: &str =
    "Pod, Deployment, Namespace (DaemonSet and StatefulSet are always empty)";

impl LoopbackMesh {
    /// With [`Fault::StaleMetrics`], the first answer to `key` is served forever.
    fn maybe_stale(&self, key: String, fresh: impl FnOnce() -> Option<Value>) -> Option<Value> {
        if !self.inner.config.faults.contains(&Fault::StaleMetrics) {
            return fresh();
        }
        lock(&self.inner.stale)
            .entry(key)
            .or_insert_with(fresh)
            .clone()
    }

    fn metrics_kind(&self, what: &str, kind: &str) -> Result<Option<metrics::ResourceKind>, Error> {
        match metrics::ResourceKind::parse(kind) {
            Some(k) => Ok(Some(k)),
            None if EMPTY_METRICS_KINDS.contains(&kind) => Ok(None),
            None => Err(Error::ReadObject {
                object: what.to_string(),
                reason: format!(
                    "metrics.smi-spec.io is read by the kind of the measured resource: {METRICS_KINDS}"
                ),
            }),
        }
    }

    fn resource_exists(&self, r: &metrics::Resource) -> bool {
        match r.kind {
            metrics::ResourceKind::Pod => lock(&self.inner.workloads)
                .iter()
                .any(|w| w.namespace == r.namespace && w.pod == r.name),
            metrics::ResourceKind::Deployment => self
                .inner
                .cluster
                .get_sync(&ObjectRef::new(
                    "apps/v1",
                    "Deployment",
                    Some(r.namespace.clone()),
                    r.name.clone(),
                ))
                .is_some(),
            metrics::ResourceKind::Namespace => {
                self.inner.cluster.namespace_names().contains(&r.name)
            }
        }
    }

    fn metrics_get(&self, object: &ObjectRef) -> Result<Option<Value>, Error> {
        if object.api_version != metrics::API_VERSION {
            return Ok(None);
        }
        let Some(kind) = self.metrics_kind(&object.to_string(), &object.kind)? else {
            return Ok(None);
        };
        let (name, edges) = match object.name.strip_suffix("/edges") {
            Some(n) => (n, true),
            None => (object.name.as_str(), false),
        };
        let r = metrics::Resource {
            kind,
            namespace: if kind == metrics::ResourceKind::Namespace {
                String::new()
            } else {
                object.namespace.clone().unwrap_or_default()
            },
            name: name.to_string(),
        };
        let key = format!("get {kind:?} {}/{}/{edges}", r.namespace, r.name);
        Ok(self.maybe_stale(key, || {
            if !self.resource_exists(&r) {
                return None;
            }
            Some(if edges {
                self.inner.recorder.edges(&r)
            } else {
                self.inner.recorder.resource_metrics(&r)
            })
        }))
    }

    fn metrics_list(&self, kind: &str, namespace: Option<&str>) -> Result<Vec<Value>, Error> {
        let what = format!(
            "{kind} metrics in {}",
            namespace.unwrap_or("all namespaces")
        );
        let Some(k) = self.metrics_kind(&what, kind)? else {
            return Ok(Vec::new());
        };
        let in_ns = |ns: &str| namespace.is_none_or(|want| want == ns);
        let resources: Vec<metrics::Resource> = match k {
            metrics::ResourceKind::Pod => lock(&self.inner.workloads)
                .iter()
                .filter(|w| in_ns(&w.namespace))
                .map(|w| (w.namespace.clone(), w.pod.clone()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|(namespace, name)| metrics::Resource {
                    kind: k,
                    namespace,
                    name,
                })
                .collect(),
            metrics::ResourceKind::Deployment => self
                .inner
                .cluster
                .list_sync("apps/v1", "Deployment", namespace)
                .iter()
                .map(|d| metrics::Resource {
                    kind: k,
                    namespace: d["metadata"]["namespace"].as_str().unwrap_or("").into(),
                    name: d["metadata"]["name"].as_str().unwrap_or("").into(),
                })
                .collect(),
            // Namespaces are cluster-scoped: every namespace, whatever `namespace` says.
            metrics::ResourceKind::Namespace => self
                .inner
                .cluster
                .namespace_names()
                .into_iter()
                .map(|name| metrics::Resource {
                    kind: k,
                    namespace: String::new(),
                    name,
                })
                .collect(),
        };
        let key = format!("list {k:?} {namespace:?}");
        let items = self.maybe_stale(key, || {
            Some(Value::Array(
                resources
                    .iter()
                    .map(|r| self.inner.recorder.resource_metrics(r))
                    .collect(),
            ))
        });
        Ok(match items {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        })
    }
}

#[async_trait]
impl ClusterBackend for LoopbackMesh {
    async fn apply(&self, manifest: &Value, namespace: &str) -> Result<Value, Error> {
        if is_metrics(manifest["apiVersion"].as_str().unwrap_or("")) {
            return Err(Error::Apply {
                object: ObjectRef::of(manifest).to_string(),
                reason: "metrics.smi-spec.io is a read-only API: TrafficMetrics are computed \
                         from the traffic the mesh handled and cannot be applied"
                    .into(),
            });
        }
        let stored = self.inner.cluster.apply_sync(manifest, namespace)?;
        if stored["kind"] == "Deployment" && stored["apiVersion"] == "apps/v1" {
            self.reconcile_deployment(&stored).await?;
            let r = ObjectRef::of(&stored);
            return Ok(self.inner.cluster.get_sync(&r).unwrap_or(stored));
        }
        if is_smi(&stored) {
            self.inner.refresh_policy();
        }
        Ok(stored)
    }

    async fn get(&self, object: &ObjectRef) -> Result<Option<Value>, Error> {
        if is_metrics(&object.api_version) {
            return self.metrics_get(object);
        }
        Ok(self.inner.cluster.get_sync(object))
    }

    async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
        if is_metrics(api_version) {
            if api_version != metrics::API_VERSION {
                return Ok(Vec::new());
            }
            return self.metrics_list(kind, namespace);
        }
        Ok(self.inner.cluster.list_sync(api_version, kind, namespace))
    }

    async fn delete(&self, object: &ObjectRef) -> Result<bool, Error> {
        if is_metrics(&object.api_version) {
            return Err(Error::Delete {
                object: object.to_string(),
                reason: "metrics.smi-spec.io is a read-only API".into(),
            });
        }
        let existed = self.inner.cluster.delete_sync(object);
        if existed {
            if object.kind == "Deployment" {
                let ns = object.namespace.clone().unwrap_or_default();
                self.stop_workloads(|w| w.namespace == ns && w.deployment == object.name);
            }
            if object.api_version.contains(".smi-spec.io/") {
                self.inner.refresh_policy();
            }
        }
        Ok(existed)
    }

    async fn create_namespace(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        self.inner
            .cluster
            .create_namespace_sync(name, labels, annotations);
        Ok(())
    }

    async fn delete_namespace(&self, name: &str) -> Result<bool, Error> {
        let existed = self.inner.cluster.delete_namespace_sync(name);
        self.stop_workloads(|w| w.namespace == name);
        self.inner.recorder.forget_namespace(name);
        self.inner.refresh_policy();
        Ok(existed)
    }

    async fn namespaces(&self) -> Result<Vec<String>, Error> {
        Ok(self.inner.cluster.namespace_names())
    }
}

#[async_trait]
impl TrafficBackend for LoopbackMesh {
    async fn send(&self, request: &TrafficRequest) -> Result<RequestRecord, Error> {
        let src = format!("{}/{}", request.namespace, request.source);
        let w = self
            .source_workload(&request.namespace, &request.source)
            .ok_or_else(|| Error::Send {
                source_workload: src.clone(),
                reason: "no running workload with that Deployment or Service name".into(),
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
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| Error::Send {
                source_workload: src.clone(),
                reason: e.to_string(),
            })?;
        let started = Instant::now();
        let outer = request.timeout + Duration::from_secs(2);
        let resp = tokio::time::timeout(outer, self.inner.client.request(req))
            .await
            .map_err(|_| Error::Send {
                source_workload: src.clone(),
                reason: "the source workload did not answer /call".into(),
            })?
            .map_err(|e| Error::Send {
                source_workload: src.clone(),
                reason: format!("cannot reach the source workload: {e}"),
            })?;
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| Error::Send {
                source_workload: src.clone(),
                reason: format!("cannot read /call answer: {e}"),
            })?
            .to_bytes();
        let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Send {
            source_workload: src.clone(),
            reason: format!("bad /call answer: {e}"),
        })?;
        let outcome: Outcome =
            serde_json::from_value(v["outcome"].clone()).map_err(|e| Error::Send {
                source_workload: src.clone(),
                reason: format!("bad /call outcome: {e}"),
            })?;
        Ok(RequestRecord {
            id,
            method: request.method.clone(),
            url: request.url.clone(),
            outcome,
            served_by: v["servedBy"].as_str().map(String::from),
            latency_us,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_with_and_without_namespace() {
        assert_eq!(
            parse_host("app-b:9091", "t"),
            Some(("app-b".into(), "t".into(), 9091))
        );
        assert_eq!(
            parse_host("app-b.x.svc.cluster.local.:9091", "t"),
            Some(("app-b".into(), "x".into(), 9091))
        );
        assert_eq!(parse_host("app-b.x..svc.cluster.local.:9091", "t"), None);
    }

    #[test]
    fn transport_errors_are_classed_as_smps_load_classes_them() {
        use std::io::{Error as IoError, ErrorKind};
        // Regression (issue 13): a broken pipe was EOF here and a reset in smps-load.
        for kind in [
            ErrorKind::BrokenPipe,
            ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted,
        ] {
            assert_eq!(classify(&IoError::from(kind)), Outcome::Reset, "{kind:?}");
        }
        assert_eq!(
            classify(&IoError::from(ErrorKind::UnexpectedEof)),
            Outcome::Eof
        );
        assert_eq!(
            classify(&IoError::from(ErrorKind::ConnectionRefused)),
            Outcome::Refused
        );
        assert_eq!(
            classify(&IoError::from(ErrorKind::TimedOut)),
            Outcome::Timeout
        );
        // Wrapped causes are found through the source chain.
        #[derive(Debug)]
        struct Wrapper(IoError);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("send failed")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let wrapped = Wrapper(IoError::from(ErrorKind::BrokenPipe));
        assert_eq!(classify(&wrapped), Outcome::Reset);
    }
}
