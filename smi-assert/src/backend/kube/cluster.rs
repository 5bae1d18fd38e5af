//! [`KubeCluster`]: the [`ClusterBackend`] on a Kubernetes API server.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use ::kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use ::kube::core::GroupVersionKind;
use ::kube::discovery::{self, ApiResource, Scope};
use ::kube::error::DiscoveryError;
use ::kube::{Client, ResourceExt};
use async_trait::async_trait;
use k8s_openapi::api::core::v1::Namespace;
use serde_json::{Value, json};

use super::{FIELD_MANAGER, Failure, is_not_found};
use crate::backend::{ClusterBackend, Error, ObjectRef};

/// A resolved `apiVersion` + `kind`.
#[derive(Debug, Clone)]
struct Resolved {
    resource: ApiResource,
    namespaced: bool,
}

/// The [`ClusterBackend`] on a Kubernetes cluster, through the API server (see the
/// [module docs](super) for the request semantics). Cloning gives another handle sharing the
/// client and the discovery cache.
///
/// # Examples
///
/// ```no_run
/// use smi_assert::backend::ClusterBackend;
/// use smi_assert::backend::kube::KubeCluster;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let cluster = KubeCluster::try_default().await?;
/// let sa = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}});
/// cluster.create_namespace("smi-demo", &Default::default(), &Default::default()).await?;
/// cluster.apply(&sa, "smi-demo").await?;
/// cluster.delete_namespace("smi-demo").await?;
/// # Ok::<(), Box<dyn std::error::Error>>(()) })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct KubeCluster {
    client: Client,
    resolved: Arc<Mutex<HashMap<(String, String), Resolved>>>,
}

impl fmt::Debug for KubeCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeCluster")
            .field("default_namespace", &self.client.default_namespace())
            .finish_non_exhaustive()
    }
}

impl KubeCluster {
    /// A backend on `client`. Nothing is sent until the first operation.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self {
            client,
            resolved: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A backend on the default client configuration: the kubeconfig (`KUBECONFIG` or
    /// `~/.kube/config`, current context) or the in-cluster config. Unlike
    /// [`connect`](super::connect) it does not contact the API server.
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

    /// Resolves `apiVersion` + `kind` with discovery of that group version. `Ok(None)` if the
    /// server does not serve it.
    async fn resolve(&self, api_version: &str, kind: &str) -> Result<Option<Resolved>, Failure> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(r) = self.lock().get(&key) {
            return Ok(Some(r.clone()));
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        match discovery::pinned_kind(&self.client, &gvk).await {
            Ok((resource, caps)) => {
                let r = Resolved {
                    resource,
                    namespaced: caps.scope == Scope::Namespaced,
                };
                self.lock().insert(key, r.clone());
                Ok(Some(r))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(::kube::Error::Discovery(DiscoveryError::MissingKind(_))) => Ok(None),
            Err(e) => Err(Failure::api(
                format!("cannot discover {kind} in {api_version}"),
                e,
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Resolved>> {
        // The map holds only complete entries, so a poisoned lock is still consistent.
        self.resolved.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn api(&self, r: &Resolved, namespace: Option<&str>) -> Api<DynamicObject> {
        match (r.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &r.resource),
            (true, None) => Api::default_namespaced_with(self.client.clone(), &r.resource),
            (false, _) => Api::all_with(self.client.clone(), &r.resource),
        }
    }

    /// `GET` of a metrics path; `Ok(None)` on 404 (unknown resource, or no metrics API).
    async fn metrics_read(&self, path: &str) -> Result<Option<Value>, Failure> {
        let req = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| Failure::caused(format!("cannot build the request for {path}"), e))?;
        match self.client.request::<Value>(req).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(Failure::api(format!("GET {path}"), e)),
        }
    }

    fn namespaces_api(&self) -> Api<Namespace> {
        Api::all(self.client.clone())
    }
}

/// The read-only SMI metrics API group (an aggregated API, not CRDs).
const METRICS_GROUP: &str = "metrics.smi-spec.io";

/// Measured kinds that are cluster-scoped in the metrics API's REST paths.
const CLUSTER_SCOPED_MEASURED: [&str; 2] = ["Namespace", "Node"];

fn is_metrics(api_version: &str) -> bool {
    api_version.split('/').next() == Some(METRICS_GROUP)
}

/// The REST path of the metrics of a measured resource (`kind` is the measured kind, e.g.
/// `Deployment` → `deployments`); `name` may end in `/edges`.
fn metrics_path(
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> String {
    let mut path = format!("/apis/{api_version}");
    if let Some(ns) = namespace.filter(|_| !CLUSTER_SCOPED_MEASURED.contains(&kind)) {
        path.push_str("/namespaces/");
        path.push_str(ns);
    }
    path.push('/');
    path.push_str(&kind.to_ascii_lowercase());
    path.push('s');
    if let Some(n) = name {
        path.push('/');
        path.push_str(n);
    }
    path
}

/// The object as JSON, with `apiVersion` and `kind` (list items come without them).
fn to_value(obj: &DynamicObject, r: &Resolved) -> Result<Value, Failure> {
    let mut v =
        serde_json::to_value(obj).map_err(|e| Failure::caused("cannot encode the object", e))?;
    if let Value::Object(m) = &mut v {
        m.entry("apiVersion")
            .or_insert_with(|| Value::String(r.resource.api_version.clone()));
        m.entry("kind")
            .or_insert_with(|| Value::String(r.resource.kind.clone()));
    }
    Ok(v)
}

fn post_params() -> PostParams {
    PostParams {
        dry_run: false,
        field_manager: Some(FIELD_MANAGER.to_string()),
    }
}

fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    }
}

#[async_trait]
impl ClusterBackend for KubeCluster {
    async fn apply(&self, manifest: &Value, namespace: &str) -> Result<Value, Error> {
        let mut r = ObjectRef::of(manifest);
        if is_metrics(&r.api_version) {
            return Err(Failure::new(
                "metrics.smi-spec.io is a read-only API: TrafficMetrics are computed by the mesh \
                 and cannot be applied",
            )
            .apply(r.to_string()));
        }
        if r.api_version.is_empty() || r.kind.is_empty() {
            return Err(Failure::new("apiVersion and kind are required").apply(r.to_string()));
        }
        if r.name.is_empty() {
            return Err(Failure::new("metadata.name is required").apply(r.to_string()));
        }
        let resolved = self
            .resolve(&r.api_version, &r.kind)
            .await
            .map_err(|f| f.apply(r.to_string()))?
            .ok_or_else(|| {
                Failure::new(format!(
                    "the cluster does not serve kind {} in {} (is its CRD installed?)",
                    r.kind, r.api_version
                ))
                .apply(r.to_string())
            })?;
        let mut obj = manifest.clone();
        if resolved.namespaced {
            let ns = r.namespace.clone().unwrap_or_else(|| namespace.to_string());
            obj["metadata"]["namespace"] = Value::String(ns.clone());
            r.namespace = Some(ns);
        } else {
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("namespace");
            }
            r.namespace = None;
        }
        let object = r.to_string();
        let fail = |f: Failure| f.apply(object.clone());
        let dynamic: DynamicObject = serde_json::from_value(obj.clone())
            .map_err(|e| fail(Failure::caused("not a Kubernetes object", e)))?;
        let api = self.api(&resolved, r.namespace.as_deref());
        let stored = match api.create(&post_params(), &dynamic).await {
            Ok(o) => o,
            Err(::kube::Error::Api(s)) if s.is_already_exists() => api
                .patch(&r.name, &patch_params(), &Patch::Merge(&obj))
                .await
                .map_err(|e| fail(Failure::api("merge patch", e)))?,
            Err(e) => return Err(fail(Failure::api("create", e))),
        };
        to_value(&stored, &resolved).map_err(fail)
    }

    async fn get(&self, object: &ObjectRef) -> Result<Option<Value>, Error> {
        let fail = |f: Failure| f.read(object.to_string());
        if is_metrics(&object.api_version) {
            let ns = object
                .namespace
                .as_deref()
                .unwrap_or(self.client.default_namespace());
            let path = metrics_path(
                &object.api_version,
                &object.kind,
                Some(ns),
                Some(&object.name),
            );
            return self.metrics_read(&path).await.map_err(fail);
        }
        let Some(resolved) = self
            .resolve(&object.api_version, &object.kind)
            .await
            .map_err(fail)?
        else {
            return Ok(None);
        };
        let api = self.api(&resolved, object.namespace.as_deref());
        match api.get_opt(&object.name).await {
            Ok(Some(o)) => to_value(&o, &resolved).map(Some).map_err(fail),
            Ok(None) => Ok(None),
            Err(e) => Err(fail(Failure::api("get", e))),
        }
    }

    async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
        let what = match namespace {
            Some(ns) => format!("{kind} list in {ns}"),
            None => format!("{kind} list"),
        };
        let fail = |f: Failure| f.read(what.clone());
        if is_metrics(api_version) {
            let path = metrics_path(api_version, kind, namespace, None);
            let list = self.metrics_read(&path).await.map_err(fail)?;
            return Ok(list
                .and_then(|mut l| match l["items"].take() {
                    Value::Array(items) => Some(items),
                    _ => None,
                })
                .unwrap_or_default());
        }
        let Some(resolved) = self.resolve(api_version, kind).await.map_err(fail)? else {
            return Ok(Vec::new());
        };
        let api = match namespace {
            Some(ns) if resolved.namespaced => {
                Api::namespaced_with(self.client.clone(), ns, &resolved.resource)
            }
            _ => Api::all_with(self.client.clone(), &resolved.resource),
        };
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| fail(Failure::api("list", e)))?;
        list.items
            .iter()
            .map(|o| to_value(o, &resolved).map_err(fail))
            .collect()
    }

    async fn delete(&self, object: &ObjectRef) -> Result<bool, Error> {
        let fail = |f: Failure| f.delete(object.to_string());
        if is_metrics(&object.api_version) {
            return Err(fail(Failure::new("metrics.smi-spec.io is a read-only API")));
        }
        let Some(resolved) = self
            .resolve(&object.api_version, &object.kind)
            .await
            .map_err(fail)?
        else {
            return Ok(false);
        };
        let api = self.api(&resolved, object.namespace.as_deref());
        match api.delete(&object.name, &DeleteParams::background()).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(fail(Failure::api("delete", e))),
        }
    }

    async fn create_namespace(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let fail = |f: Failure| f.namespace(name);
        let api = self.namespaces_api();
        let ns: Namespace = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels, "annotations": annotations},
        }))
        .map_err(|e| fail(Failure::caused("invalid namespace", e)))?;
        match api.create(&post_params(), &ns).await {
            Ok(_) => return Ok(()),
            Err(::kube::Error::Api(s)) if s.is_already_exists() => {}
            Err(e) => return Err(fail(Failure::api("create", e))),
        }
        let existing = api
            .get(name)
            .await
            .map_err(|e| fail(Failure::api("read existing", e)))?;
        let terminating = existing.metadata.deletion_timestamp.is_some()
            || existing
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .is_some_and(|p| p == "Terminating");
        if terminating {
            return Err(fail(Failure::new(
                "the namespace exists and is being deleted (from an earlier run?); wait for it \
                 to go or use another namespace prefix",
            )));
        }
        let missing = labels
            .iter()
            .any(|(k, v)| existing.labels().get(k) != Some(v))
            || annotations
                .iter()
                .any(|(k, v)| existing.annotations().get(k) != Some(v));
        if missing {
            let patch = json!({"metadata": {"labels": labels, "annotations": annotations}});
            api.patch(name, &patch_params(), &Patch::Merge(&patch))
                .await
                .map_err(|e| fail(Failure::api("merge patch", e)))?;
        }
        Ok(())
    }

    async fn delete_namespace(&self, name: &str) -> Result<bool, Error> {
        match self
            .namespaces_api()
            .delete(name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(Failure::api("delete", e).namespace(name)),
        }
    }

    async fn namespaces(&self) -> Result<Vec<String>, Error> {
        let list = self
            .namespaces_api()
            .list(&ListParams::default())
            .await
            .map_err(|e| Failure::api("list", e).read("Namespace list"))?;
        Ok(list.items.iter().map(ResourceExt::name_any).collect())
    }
}
