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
//! target of `/call` (and of [`TrafficBackend::send`](crate::backend::TrafficBackend::send)) sends one datagram through the sidecar,
//! which resolves a `protocol: UDP` port of the Service and forwards it only if a TrafficTarget
//! rule of kind `UDPRoute` covers the source and the port (TCPRoute and HTTPRouteGroup rules never
//! cover UDP; UDPRoute rules never cover HTTP). A denied datagram is dropped, so the source sees a
//! timeout. UDP is not split and not counted in metrics.
//!
//! **Traffic metrics**: the sidecar records every HTTP request it routed to a destination pod
//! (denied ones included) with its latency from arrival to the end of the answer, and the mesh
//! serves them as the read-only `metrics.smi-spec.io/v1alpha1` API through
//! [`ClusterBackend::get`](crate::backend::ClusterBackend::get)/
//! [`ClusterBackend::list`](crate::backend::ClusterBackend::list) (see the [backend contract](super)):
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
//!
//! # Layout
//!
//! One job per file: `config` (configuration and faults), `policy` (the SMI policy snapshot and
//! the authorisation decision), `workload` (running replicas and the mesh's shared state), `app`
//! (the sample service), `sidecar` (the HTTP outbound proxy), `udp` (UDP echo and sidecar),
//! `server` (the accept loop), `net` (Host resolution, transport-error classes), `metrics` (the
//! TrafficMetrics recorder), `cluster` and `traffic` (the backend trait impls), `sync`
//! (poison-tolerant locks); this file holds [`LoopbackMesh`] and its lifecycle.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;

mod app;
mod cluster;
mod config;
mod echo_app;
mod gamma;
mod gamma_proxy;
mod grpc;
mod metrics;
mod net;
mod policy;
mod server;
mod sidecar;
mod sync;
mod traffic;
mod udp;
mod workload;

pub use config::{AccessDefault, Fault, LoopbackConfig, LoopbackConfigBuilder};

use crate::backend::ObjectRef;
use crate::backend::memory::InMemoryCluster;
use crate::error::Error;
use app::app_handle;
use server::{Denied, serve};
use sidecar::sidecar_handle;
use sync::lock;
use workload::{AppMetrics, Inner, Workload};

/// The loopback mesh backend. Implements both [`ClusterBackend`](crate::backend::ClusterBackend)
/// and [`TrafficBackend`](crate::backend::TrafficBackend).
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
            .build(connector.clone());
        let h2_client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .http2_only(true)
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
                h2_client,
                next_id: AtomicU64::new(1),
                next_pod: AtomicU64::new(1),
                next_ip: AtomicU64::new(1),
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
        let mut stopped = Vec::new();
        lock(&self.inner.workloads).retain(|w| {
            let stop = pred(w);
            if stop {
                stopped.push(w.clone());
            }
            !stop
        });
        for w in stopped {
            self.inner.cluster.delete_sync(&ObjectRef::new(
                "v1",
                "Pod",
                Some(w.namespace.clone()),
                w.pod.clone(),
            ));
        }
    }

    /// A fresh virtual address in `10.<block>.x.y`.
    fn next_address(&self, block: u8) -> String {
        let n = self.inner.next_ip.fetch_add(1, Ordering::Relaxed);
        format!("10.{block}.{}.{}", (n >> 8) & 0xff, n & 0xff)
    }

    /// Gives a new object `metadata.creationTimestamp` (now, whole seconds; route precedence
    /// ties go to the oldest route), keeping the stored one of an existing object.
    fn with_creation_time(&self, manifest: &Value, namespace: &str) -> Value {
        let mut m = manifest.clone();
        let mut r = ObjectRef::of(manifest);
        if r.namespace.is_none() {
            r.namespace = Some(namespace.to_string());
        }
        let created = self
            .inner
            .cluster
            .get_sync(&r)
            .and_then(|o| {
                o["metadata"]["creationTimestamp"]
                    .as_str()
                    .map(String::from)
            })
            .unwrap_or_else(|| {
                crate::report::whole_seconds(std::time::SystemTime::now()).to_string()
            });
        if let Some(md) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            md.insert("creationTimestamp".into(), Value::String(created));
        }
        m
    }

    /// Gives a Service manifest a virtual `spec.clusterIP` (`10.96.x.y`) unless it or the stored
    /// Service has one.
    fn with_cluster_ip(&self, manifest: &Value, namespace: &str) -> Value {
        let mut m = manifest.clone();
        if m["spec"]["clusterIP"].is_string() || m["spec"]["type"] == "ExternalName" {
            return m;
        }
        let mut r = ObjectRef::of(manifest);
        if r.namespace.is_none() {
            r.namespace = Some(namespace.to_string());
        }
        let ip = self
            .inner
            .cluster
            .get_sync(&r)
            .and_then(|s| s["spec"]["clusterIP"].as_str().map(String::from))
            .unwrap_or_else(|| self.next_address(96));
        if let Some(spec) = m.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("clusterIP".into(), Value::String(ip));
        }
        m
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
        let echo = template["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["name"] == "echo");
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
                    (template_key.clone(), echo),
                )
                .await?;
            let pod = json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": w.pod, "namespace": ns, "labels": labels},
                "spec": {"serviceAccountName": sa},
                "status": {"phase": "Running", "podIP": w.pod_ip}});
            self.inner.cluster.apply_sync(&pod, &ns)?;
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
        (template, echo): (String, bool),
    ) -> Result<Arc<Workload>, Error> {
        let bind = || async {
            TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| Error::Apply {
                    object: format!("Deployment {ns}/{deployment}"),
                    reason: format!("cannot bind a loopback port: {e}"),
                    source: None,
                })
        };
        let bind_udp = || async {
            UdpSocket::bind("127.0.0.1:0")
                .await
                .map_err(|e| Error::Apply {
                    object: format!("Deployment {ns}/{deployment}"),
                    reason: format!("cannot bind a loopback UDP port: {e}"),
                    source: None,
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
                source: None,
            })
        };
        let (stop, stop_rx) = watch::channel(());
        let n = self.inner.next_pod.fetch_add(1, Ordering::Relaxed);
        let w = Arc::new(Workload {
            namespace: ns.into(),
            deployment: deployment.into(),
            pod: format!("{deployment}-{n:05x}"),
            pod_ip: self.next_address(244),
            echo,
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
                        (Some(w), Some(i)) if w.echo => Ok(echo_app::echo_handle(i, w, req).await),
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
    /// [`Error::ReadObject`] if the workload does not exist.
    pub fn app_metrics(&self, namespace: &str, workload: &str) -> Result<Value, Error> {
        let w = self
            .source_workload(namespace, workload)
            .ok_or_else(|| Error::ReadObject {
                object: format!("workload {namespace}/{workload}"),
                reason: "no such running workload".into(),
                source: None,
            })?;
        let m = lock(&w.metrics).clone();
        Ok(serde_json::to_value(m).unwrap_or(Value::Null))
    }
}
