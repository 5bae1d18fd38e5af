//! Backend traits: where objects are applied ([`ClusterBackend`]) and how traffic is sent
//! ([`TrafficBackend`]).
//!
//! Both traits are object-safe (`Arc<dyn ClusterBackend>`), `Send + Sync`, and use `async-trait`.
//! Three implementations ship in this crate:
//! - [`memory::InMemoryCluster`]: a namespaced object store with Kubernetes-like apply semantics,
//!   no traffic;
//! - [`loopback::LoopbackMesh`]: the embedded default, an in-memory cluster plus a real L7 proxy on
//!   127.0.0.1 that enforces SMI policy in front of learn-layer5-style sample services;
//! - `kube::KubeCluster` and `kube::KubeTraffic` (feature `kube`): a real cluster through
//!   kube-rs, traffic sent from inside the source workload via the learn-layer5 app's `/call`.
//!
//! # Contract
//!
//! - `apply` is idempotent: applying the same manifest twice leaves one object. An existing object is
//!   updated with a JSON merge patch (as kuttl does). Objects without `metadata.namespace` land in
//!   the namespace given by the caller (the runner always sets one).
//! - "Not found" is not an error: `get` returns `Ok(None)`, `delete` returns `Ok(false)`.
//! - Errors ([`Error`], the backend variants `Apply`, `ReadObject`, `Delete`,
//!   `Namespace`, `Send` and `Start`) mean the backend could not do the operation (infrastructure trouble). They
//!   are reported as *errors*, never as conformance failures.
//! - Backends impose no timeouts of their own beyond what a request needs; the runner wraps every
//!   call in the operation's timeout.
//! - The read-only **`metrics.smi-spec.io`** API is read through `get` and `list` with the REST
//!   paths of the spec: [`ObjectRef::kind`] names the *measured* resource (`Pod`, `Deployment`,
//!   `Namespace`, ...), so `get` of `metrics.smi-spec.io/v1alpha1` `Deployment` `ns/app` is
//!   `/apis/metrics.smi-spec.io/v1alpha1/namespaces/ns/deployments/app` and answers a
//!   `TrafficMetrics`; a name ending in `/edges` (`app/edges`) reads the edges sub-resource and
//!   answers a `TrafficMetricsList`; `list` answers the items of the kind's `TrafficMetricsList`.
//!   `apply` and `delete` of that group are errors.

#[cfg(feature = "kube")]
#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
pub mod kube;
#[cfg(feature = "loopback")]
#[cfg_attr(docsrs, doc(cfg(feature = "loopback")))]
pub mod loopback;
pub mod memory;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;

/// A reference to one object (or, with `name: None`, all objects of a kind).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ObjectRef {
    /// `group/version` or `v1`.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace; `None` means the test namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// A reference.
    #[must_use]
    pub fn new(
        api_version: impl Into<String>,
        kind: impl Into<String>,
        namespace: Option<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace,
            name: name.into(),
        }
    }

    /// The reference of a manifest (`apiVersion`, `kind`, `metadata.{namespace,name}`).
    #[must_use]
    pub fn of(manifest: &Value) -> Self {
        let s = |p: &str| {
            manifest
                .pointer(p)
                .and_then(Value::as_str)
                .map(String::from)
        };
        Self {
            api_version: s("/apiVersion").unwrap_or_default(),
            kind: s("/kind").unwrap_or_default(),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name").unwrap_or_default(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Object storage and lifecycle.
///
/// See the [module docs](self) for the contract.
#[async_trait]
pub trait ClusterBackend: Send + Sync + fmt::Debug {
    /// Creates or merge-patches `manifest` into `namespace` (unless the manifest names its own).
    /// Returns the stored object.
    async fn apply(&self, manifest: &Value, namespace: &str) -> Result<Value, Error>;
    /// Reads one object; `Ok(None)` if it does not exist.
    async fn get(&self, object: &ObjectRef) -> Result<Option<Value>, Error>;
    /// Lists objects of `api_version`/`kind`, in one namespace or all (`None`).
    async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, Error>;
    /// Deletes one object; `Ok(false)` if it did not exist.
    async fn delete(&self, object: &ObjectRef) -> Result<bool, Error>;
    /// Creates a namespace with labels and annotations (idempotent).
    async fn create_namespace(
        &self,
        name: &str,
        labels: &std::collections::BTreeMap<String, String>,
        annotations: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), Error>;
    /// Deletes a namespace and everything in it; `Ok(false)` if it did not exist.
    async fn delete_namespace(&self, name: &str) -> Result<bool, Error>;
    /// Existing namespaces.
    async fn namespaces(&self) -> Result<Vec<String>, Error>;
}

/// One request to send through the mesh, from inside a source workload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrafficRequest {
    /// Namespace of the source workload.
    pub namespace: String,
    /// Source workload: a Deployment name, or a Service name selecting one.
    pub source: String,
    /// Target URL, e.g. `http://app-b:9091/echo` (host is a Service, optionally `svc.ns[...]`),
    /// or `udp://app-b:9092` for one UDP datagram that the destination echoes.
    pub url: String,
    /// HTTP method (unused for `udp://`).
    pub method: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// How long the source waits for an answer before classing the request as a timeout.
    pub timeout: Duration,
}

impl TrafficRequest {
    /// A GET with a 5 s timeout.
    #[must_use]
    pub fn get(
        namespace: impl Into<String>,
        source: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        Self {
            namespace: namespace.into(),
            source: source.into(),
            url: url.into(),
            method: "GET".into(),
            headers: Vec::new(),
            timeout: Duration::from_secs(5),
        }
    }
}

/// What happened to one request, protocol-aware.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Outcome {
    /// An HTTP response arrived.
    Http {
        /// Status code.
        status: u16,
    },
    /// The connection was reset.
    Reset,
    /// The connection closed before a response (EOF).
    Eof,
    /// No answer within the request timeout.
    Timeout,
    /// The connection was refused.
    Refused,
    /// A UDP answer arrived that echoes the datagram sent.
    Datagram,
    /// Any other transport error.
    Other {
        /// Description.
        message: String,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http { status } => write!(f, "HTTP {status}"),
            Self::Reset => f.write_str("connection reset"),
            Self::Eof => f.write_str("EOF"),
            Self::Timeout => f.write_str("timeout"),
            Self::Refused => f.write_str("connection refused"),
            Self::Datagram => f.write_str("UDP answer"),
            Self::Other { message } => write!(f, "error: {message}"),
        }
    }
}

impl Outcome {
    /// Whether the destination served the request: an HTTP 2xx/3xx response or a UDP echo.
    #[must_use]
    pub fn is_served(&self) -> bool {
        match self {
            Self::Http { status } => (200..400).contains(status),
            Self::Datagram => true,
            _ => false,
        }
    }
}

/// The record of one request: outcome, who answered, how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RequestRecord {
    /// Request id (unique per backend), sent as `x-request-id`.
    pub id: u64,
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// What happened.
    pub outcome: Outcome,
    /// The workload that served the request, if one answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_by: Option<String>,
    /// Latency in microseconds, measured at the source.
    pub latency_us: u64,
    /// What the response said beyond its status, when the backend reports it: response
    /// headers and the echo backend's report of the request it saw (GAMMA checks need them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseDetails>,
}

/// Response headers and, from an echo backend, the request it saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResponseDetails {
    /// Response headers by lowercase name, values in order.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, Vec<String>>,
    /// The echo backend's report (path, method, protocol and headers it saw), if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<crate::echo::EchoReport>,
}

impl ResponseDetails {
    /// Details with these response headers and echo report.
    #[must_use]
    pub fn new(
        headers: std::collections::BTreeMap<String, Vec<String>>,
        echo: Option<crate::echo::EchoReport>,
    ) -> Self {
        Self { headers, echo }
    }

    /// A response header's values joined by `,`, by any-case name.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(|v| v.join(","))
    }
}

impl RequestRecord {
    /// The record of request `id`: its method, URL, outcome and latency at the source. Nobody
    /// served it until [`served_by`](Self::served_by) says who did.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use smi_assert::backend::{Outcome, RequestRecord};
    ///
    /// let r = RequestRecord::new(7, "GET", "http://app-b:9091/echo", Outcome::Http { status: 200 })
    ///     .latency(Duration::from_micros(1500))
    ///     .served_by("app-b-v1");
    /// assert_eq!(r.latency_us, 1500);
    /// assert_eq!(r.served_by.as_deref(), Some("app-b-v1"));
    /// ```
    #[must_use]
    pub fn new(
        id: u64,
        method: impl Into<String>,
        url: impl Into<String>,
        outcome: Outcome,
    ) -> Self {
        Self {
            id,
            method: method.into(),
            url: url.into(),
            outcome,
            served_by: None,
            latency_us: 0,
            response: None,
        }
    }

    /// The record with response details (headers, echo report).
    #[must_use]
    pub fn response(mut self, details: ResponseDetails) -> Self {
        self.response = Some(details);
        self
    }

    /// The record with the workload that served the request.
    #[must_use]
    pub fn served_by(mut self, workload: impl Into<String>) -> Self {
        self.served_by = Some(workload.into());
        self
    }

    /// The record with the latency measured at the source (whole microseconds, saturating).
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self
    }
}

/// Sends traffic from a source workload through the mesh.
#[async_trait]
pub trait TrafficBackend: Send + Sync + fmt::Debug {
    /// Sends one request and reports its outcome. A denial is an `Ok` outcome; `Err` means the
    /// request could not be attempted.
    async fn send(&self, request: &TrafficRequest) -> Result<RequestRecord, Error>;

    /// Sends `count` copies of `request` (the sample of a `distribution` operation) and
    /// appends each outcome to `records`, in order; `Err` as for [`TrafficBackend::send`].
    ///
    /// The records are the caller's, so when the caller gives up on the batch (its timeout)
    /// the outcomes appended so far are still there to report. The default sends the
    /// requests one after another with [`TrafficBackend::send`], appending each as it
    /// comes; a backend with a cheaper batch form overrides it (the Kubernetes echo backend
    /// runs the echo client once with `--count`, so it appends all of them at the end).
    async fn send_batch(
        &self,
        request: &TrafficRequest,
        count: u32,
        records: &mut Vec<RequestRecord>,
    ) -> Result<(), Error> {
        for _ in 0..count {
            records.push(self.send(request).await?);
        }
        Ok(())
    }
}

/// JSON merge patch (RFC 7386) of `patch` onto `target`.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    if let Value::Object(p) = patch {
        if !target.is_object() {
            *target = Value::Object(serde_json::Map::new());
        }
        if let Value::Object(t) = target {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
    } else {
        *target = patch.clone();
    }
}
