//! An in-memory, namespaced object store with Kubernetes-like semantics.
//!
//! Objects are keyed by API group, kind, namespace and name; `get` only finds an object under the
//! exact `apiVersion` it was stored with (like an API server that serves one version, so e.g.
//! `apiextensions.k8s.io/v1beta1` is not found). Applying an existing object merge-patches it.
//! The SMI CRDs (`apiextensions.k8s.io/v1`, with `status.acceptedNames`) are pre-installed by
//! [`InMemoryCluster::new`].
//!
//! # Examples
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! use smi_assert::backend::{ClusterBackend, ObjectRef, memory::InMemoryCluster};
//! let c = InMemoryCluster::new();
//! c.create_namespace("t", &Default::default(), &Default::default()).await?;
//! let sa = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}});
//! c.apply(&sa, "t").await?;
//! assert!(c.get(&ObjectRef::new("v1", "ServiceAccount", Some("t".into()), "a")).await?.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(()) })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{ClusterBackend, Error, ObjectRef, merge_patch};

type Key = (String, String, String, String); // group, kind, namespace ("" = cluster), name

#[derive(Debug, Default)]
struct State {
    namespaces: BTreeMap<String, Value>,
    objects: BTreeMap<Key, Value>,
}

/// An in-memory cluster. Cheap to clone handles are not provided; share it in an `Arc`.
#[derive(Debug, Default)]
pub struct InMemoryCluster {
    state: Mutex<State>,
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

const CLUSTER_SCOPED: [&str; 2] = ["CustomResourceDefinition", "Namespace"];

impl InMemoryCluster {
    /// An empty cluster with the five SMI CRDs installed.
    #[must_use]
    pub fn new() -> Self {
        let c = Self::empty();
        {
            let mut st = c.lock();
            for (_, text) in crate::validate::bundled_crds() {
                let Ok(mut crd) = serde_yaml::from_str::<Value>(text) else {
                    continue;
                };
                let names = crd["spec"]["names"].clone();
                crd["status"] = json!({ "acceptedNames": names, "conditions": [
                    {"type": "Established", "status": "True"}] });
                let name = crd["metadata"]["name"].as_str().unwrap_or("").to_string();
                st.objects.insert(
                    (
                        "apiextensions.k8s.io".into(),
                        "CustomResourceDefinition".into(),
                        String::new(),
                        name,
                    ),
                    crd,
                );
            }
        }
        c
    }

    /// An empty cluster without CRDs.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the map half-updated in a way that matters
        // here, so recover from poisoning.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn key(r: &ObjectRef) -> Key {
        let ns = if CLUSTER_SCOPED.contains(&r.kind.as_str()) {
            String::new()
        } else {
            r.namespace.clone().unwrap_or_default()
        };
        (
            group_of(&r.api_version).to_string(),
            r.kind.clone(),
            ns,
            r.name.clone(),
        )
    }

    /// Applies synchronously (what [`ClusterBackend::apply`] does).
    ///
    /// # Errors
    ///
    /// [`Error::Apply`] if the manifest lacks `apiVersion`, `kind` or `metadata.name`, or its
    /// namespace does not exist.
    pub fn apply_sync(&self, manifest: &Value, namespace: &str) -> Result<Value, Error> {
        let mut r = ObjectRef::of(manifest);
        let err = |reason: &str| Error::Apply {
            object: format!("{r}"),
            reason: reason.into(),
            source: None,
        };
        if r.api_version.is_empty() || r.kind.is_empty() {
            return Err(err("apiVersion and kind are required"));
        }
        if r.name.is_empty() {
            return Err(err("metadata.name is required"));
        }
        let mut obj = manifest.clone();
        let mut st = self.lock();
        if r.kind == "Namespace" && r.api_version == "v1" {
            let e = st.namespaces.entry(r.name.clone()).or_insert(Value::Null);
            merge_patch(e, &obj);
            return Ok(e.clone());
        }
        if !CLUSTER_SCOPED.contains(&r.kind.as_str()) {
            let ns = r.namespace.clone().unwrap_or_else(|| namespace.to_string());
            if !st.namespaces.contains_key(&ns) {
                return Err(Error::Apply {
                    object: format!("{r}"),
                    reason: format!("namespace `{ns}` does not exist"),
                    source: None,
                });
            }
            obj["metadata"]["namespace"] = Value::String(ns.clone());
            r.namespace = Some(ns);
        }
        let key = Self::key(&r);
        let stored = match st.objects.get_mut(&key) {
            Some(existing) => {
                merge_patch(existing, &obj);
                existing.clone()
            }
            None => {
                st.objects.insert(key, obj.clone());
                obj
            }
        };
        Ok(stored)
    }

    /// Reads synchronously.
    #[must_use]
    pub fn get_sync(&self, r: &ObjectRef) -> Option<Value> {
        let st = self.lock();
        if r.kind == "Namespace" && r.api_version == "v1" {
            return st.namespaces.get(&r.name).cloned();
        }
        st.objects
            .get(&Self::key(r))
            .filter(|o| o["apiVersion"].as_str() == Some(r.api_version.as_str()))
            .cloned()
    }

    /// Lists synchronously (exact `apiVersion` match).
    #[must_use]
    pub fn list_sync(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        let st = self.lock();
        st.objects
            .iter()
            .filter(|((g, k, ns, _), o)| {
                g == group_of(api_version)
                    && k == kind
                    && namespace.is_none_or(|n| n == ns || ns.is_empty())
                    && o["apiVersion"].as_str() == Some(api_version)
            })
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// Every namespaced object in `namespace`, any kind or version.
    #[must_use]
    pub fn objects_in(&self, namespace: &str) -> Vec<Value> {
        let st = self.lock();
        st.objects
            .iter()
            .filter(|((_, _, ns, _), _)| ns == namespace)
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// Every namespaced object of `kind` (any version) in all namespaces.
    #[must_use]
    pub fn objects_of_kind(&self, group: &str, kind: &str) -> Vec<Value> {
        let st = self.lock();
        st.objects
            .iter()
            .filter(|((g, k, _, _), _)| g == group && k == kind)
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// Sets `status` of a stored object (used by backends to report readiness).
    pub fn set_status(&self, r: &ObjectRef, status: Value) {
        let mut st = self.lock();
        if let Some(o) = st.objects.get_mut(&Self::key(r)) {
            o["status"] = status;
        }
    }

    /// Deletes synchronously; `false` if absent.
    pub fn delete_sync(&self, r: &ObjectRef) -> bool {
        let mut st = self.lock();
        let key = Self::key(r);
        let matches = st
            .objects
            .get(&key)
            .is_some_and(|o| o["apiVersion"].as_str() == Some(r.api_version.as_str()));
        if matches {
            st.objects.remove(&key);
        }
        matches
    }

    /// Creates a namespace synchronously.
    pub fn create_namespace_sync(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) {
        let mut st = self.lock();
        st.namespaces.entry(name.to_string()).or_insert_with(|| {
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": name, "labels": labels, "annotations": annotations}})
        });
    }

    /// Deletes a namespace and its objects synchronously; `false` if absent.
    pub fn delete_namespace_sync(&self, name: &str) -> bool {
        let mut st = self.lock();
        st.objects.retain(|(_, _, ns, _), _| ns != name);
        st.namespaces.remove(name).is_some()
    }

    /// Namespace names.
    #[must_use]
    pub fn namespace_names(&self) -> Vec<String> {
        self.lock().namespaces.keys().cloned().collect()
    }
}

#[async_trait]
impl ClusterBackend for InMemoryCluster {
    async fn apply(&self, manifest: &Value, namespace: &str) -> Result<Value, Error> {
        self.apply_sync(manifest, namespace)
    }

    async fn get(&self, object: &ObjectRef) -> Result<Option<Value>, Error> {
        Ok(self.get_sync(object))
    }

    async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
        Ok(self.list_sync(api_version, kind, namespace))
    }

    async fn delete(&self, object: &ObjectRef) -> Result<bool, Error> {
        Ok(self.delete_sync(object))
    }

    async fn create_namespace(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        self.create_namespace_sync(name, labels, annotations);
        Ok(())
    }

    async fn delete_namespace(&self, name: &str) -> Result<bool, Error> {
        Ok(self.delete_namespace_sync(name))
    }

    async fn namespaces(&self) -> Result<Vec<String>, Error> {
        Ok(self.namespace_names())
    }
}
