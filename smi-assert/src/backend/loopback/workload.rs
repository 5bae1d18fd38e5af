//! Workloads and the mesh's shared state: running replicas with their sample-app counters, Service lookups, the policy history (for the policy delay) and TrafficSplit backend choice.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use super::config::{Fault, LoopbackConfig};
use super::metrics;
use super::policy::{RequestView, SmiPolicy};
use super::sync::lock;
use crate::backend::ObjectRef;
use crate::backend::memory::InMemoryCluster;

#[derive(Debug, Default, Clone, Serialize)]
pub(super) struct AppMetrics {
    #[serde(rename = "ReqReceived")]
    pub(super) req_received: Vec<String>,
    #[serde(rename = "RespSucceeded")]
    pub(super) resp_succeeded: Vec<Value>,
    #[serde(rename = "RespFailed")]
    pub(super) resp_failed: Vec<Value>,
    #[serde(rename = "RespErrored")]
    pub(super) resp_errored: Vec<Value>,
}

#[derive(Debug)]
pub(super) struct Workload {
    pub(super) namespace: String,
    pub(super) deployment: String,
    pub(super) pod: String,
    /// The pod's virtual address (`10.244.x.y`), as its Pod object's `status.podIP` says.
    pub(super) pod_ip: String,
    /// Runs the echo app (a container named `echo`) instead of the learn-layer5 app.
    pub(super) echo: bool,
    pub(super) service_name: String,
    pub(super) service_account: String,
    pub(super) labels: BTreeMap<String, String>,
    pub(super) template: String,
    pub(super) app_addr: SocketAddr,
    pub(super) sidecar_addr: SocketAddr,
    pub(super) udp_echo_addr: SocketAddr,
    pub(super) udp_sidecar_addr: SocketAddr,
    pub(super) metrics: Mutex<AppMetrics>,
    pub(super) _stop: watch::Sender<()>,
}

impl Workload {
    pub(super) fn peer(&self) -> metrics::Peer {
        metrics::Peer {
            namespace: self.namespace.clone(),
            deployment: self.deployment.clone(),
            pod: self.pod.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct ServiceInfo {
    pub(super) selector: BTreeMap<String, String>,
    /// TCP ports (`protocol` absent or `TCP`).
    pub(super) ports: Vec<u16>,
    /// `protocol: UDP` ports.
    pub(super) udp_ports: Vec<u16>,
}

pub(super) type HttpClient = Client<HttpConnector, Full<Bytes>>;

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) cluster: InMemoryCluster,
    pub(super) config: LoopbackConfig,
    pub(super) workloads: Mutex<Vec<Arc<Workload>>>,
    pub(super) policy: Mutex<VecDeque<(Instant, Arc<SmiPolicy>)>>,
    pub(super) rng: Mutex<fastrand::Rng>,
    pub(super) client: HttpClient,
    /// HTTP/2 with prior knowledge (h2c), for gRPC.
    pub(super) h2_client: HttpClient,
    pub(super) next_id: AtomicU64,
    pub(super) next_pod: AtomicU64,
    /// Counter of virtual addresses (pod IPs and cluster IPs).
    pub(super) next_ip: AtomicU64,
    pub(super) recorder: metrics::Recorder,
    /// With [`Fault::StaleMetrics`]: the first answer of each metrics query.
    pub(super) stale: Mutex<HashMap<String, Option<Value>>>,
}

impl Inner {
    /// A uniform index below `n` (0 when `n` is 0) from the mesh's seeded generator.
    pub(super) fn pick(&self, n: usize) -> usize {
        lock(&self.rng).usize(..n.max(1))
    }

    pub(super) fn current_policy(&self) -> Arc<SmiPolicy> {
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
    pub(super) fn record(
        &self,
        src: &Workload,
        dst: &Workload,
        class: metrics::Class,
        latency: Duration,
    ) {
        if !self.config.faults.contains(&Fault::DropMetrics) {
            self.recorder
                .record(&src.peer(), &dst.peer(), class, latency);
        }
    }

    pub(super) fn refresh_policy(&self) {
        let p = Arc::new(SmiPolicy::build(&self.cluster));
        let at = Instant::now() + self.config.policy_delay;
        lock(&self.policy).push_back((at, p));
    }

    pub(super) fn service(&self, ns: &str, name: &str) -> Option<ServiceInfo> {
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

    /// The running workload with this virtual pod address.
    pub(super) fn workload_by_ip(&self, ip: &str) -> Option<Arc<Workload>> {
        lock(&self.workloads)
            .iter()
            .find(|w| w.pod_ip == ip)
            .cloned()
    }

    /// The (namespace, name) of the Service with this `spec.clusterIP`.
    pub(super) fn service_by_ip(&self, ip: &str) -> Option<(String, String)> {
        self.cluster
            .list_sync("v1", "Service", None)
            .iter()
            .find(|s| s["spec"]["clusterIP"].as_str() == Some(ip))
            .map(|s| {
                (
                    s["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    s["metadata"]["name"].as_str().unwrap_or("").to_string(),
                )
            })
    }

    pub(super) fn endpoints(&self, ns: &str, svc: &ServiceInfo) -> Vec<Arc<Workload>> {
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

    pub(super) fn choose_backend(
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
