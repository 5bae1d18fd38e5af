//! [`ClusterBackend`] for the loopback mesh: objects go to the in-memory cluster (Deployments become workloads), and the read-only `metrics.smi-spec.io` API is answered from the recorder.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde_json::Value;

use super::LoopbackMesh;
use super::config::Fault;
use super::metrics;
use super::sync::lock;
use crate::backend::{ClusterBackend, ObjectRef};
use crate::error::Error;

pub(super) fn is_smi(manifest: &Value) -> bool {
    manifest["apiVersion"]
        .as_str()
        .is_some_and(|a| a.contains(".smi-spec.io/"))
}

pub(super) fn is_metrics(api_version: &str) -> bool {
    api_version.split('/').next() == Some("metrics.smi-spec.io")
}

/// Kinds the metrics API knows but the loopback mesh never runs (always empty).
pub(super) const EMPTY_METRICS_KINDS: [&str; 2] = ["DaemonSet", "StatefulSet"];

pub(super) const METRICS_KINDS: &str =
    "Pod, Deployment, Namespace (DaemonSet and StatefulSet are always empty)";

impl LoopbackMesh {
    /// With [`Fault::StaleMetrics`], the first answer to `key` is served forever.
    pub(super) fn maybe_stale(
        &self,
        key: String,
        fresh: impl FnOnce() -> Option<Value>,
    ) -> Option<Value> {
        if !self.inner.config.faults.contains(&Fault::StaleMetrics) {
            return fresh();
        }
        lock(&self.inner.stale)
            .entry(key)
            .or_insert_with(fresh)
            .clone()
    }

    pub(super) fn metrics_kind(
        &self,
        what: &str,
        kind: &str,
    ) -> Result<Option<metrics::ResourceKind>, Error> {
        match metrics::ResourceKind::parse(kind) {
            Some(k) => Ok(Some(k)),
            None if EMPTY_METRICS_KINDS.contains(&kind) => Ok(None),
            None => Err(Error::ReadObject {
                object: what.to_string(),
                reason: format!(
                    "metrics.smi-spec.io is read by the kind of the measured resource: {METRICS_KINDS}"
                ),
                source: None,
            }),
        }
    }

    pub(super) fn resource_exists(&self, r: &metrics::Resource) -> bool {
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

    pub(super) fn metrics_get(&self, object: &ObjectRef) -> Result<Option<Value>, Error> {
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

    pub(super) fn metrics_list(
        &self,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
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
                source: None,
            });
        }
        let manifest = if manifest["kind"] == "Service" && manifest["apiVersion"] == "v1" {
            &self.with_cluster_ip(manifest, namespace)
        } else if super::gamma::is_gateway(manifest) {
            &self.with_creation_time(manifest, namespace)
        } else {
            manifest
        };
        let stored = self.inner.cluster.apply_sync(manifest, namespace)?;
        if stored["kind"] == "Deployment" && stored["apiVersion"] == "apps/v1" {
            self.reconcile_deployment(&stored).await?;
            let r = ObjectRef::of(&stored);
            return Ok(self.inner.cluster.get_sync(&r).unwrap_or(stored));
        }
        if is_smi(&stored) || super::gamma::is_gateway(&stored) {
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
                source: None,
            });
        }
        if object.kind == "Namespace" && object.api_version == "v1" {
            return self.delete_namespace(&object.name).await;
        }
        let existed = self.inner.cluster.delete_sync(object);
        if existed {
            if object.kind == "Deployment" {
                let ns = object.namespace.clone().unwrap_or_default();
                self.stop_workloads(|w| w.namespace == ns && w.deployment == object.name);
            }
            if object.api_version.contains(".smi-spec.io/")
                || object.api_version.starts_with("gateway.networking.k8s.io/")
            {
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
