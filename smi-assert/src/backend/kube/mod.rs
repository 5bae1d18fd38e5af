//! A Kubernetes backend on [kube-rs](https://kube.rs): [`KubeCluster`] applies, reads and deletes
//! objects through the API server, [`KubeTraffic`] sends requests from inside a source workload.
//!
//! Needs the `kube` feature. Both types are built from a [`kube::Client`], so an
//! application can pass its own (any TLS stack, auth or middleware); [`connect`] and the
//! `try_default` constructors read the kubeconfig (or the in-cluster config) as `kubectl` does.
//!
//! # Cluster ([`KubeCluster`])
//!
//! - `apiVersion` + `kind` are resolved to a resource (plural, scope) with API discovery of that
//!   one group version (`GET /apis/{group}/{version}` or `/api/v1`), cached per client. A kind the
//!   server does not serve under that `apiVersion` is *not found* (`get` gives `Ok(None)`, `list`
//!   an empty list, `delete` `Ok(false)`); applying it is an error naming the kind.
//! - `apply` creates the object (`POST`, field manager `smi-assert`) and, if it already exists
//!   (`409 AlreadyExists`), updates it with a JSON merge patch (`PATCH`,
//!   `application/merge-patch+json`, field manager `smi-assert`), the semantics of the
//!   [backend contract](super#contract) and of kuttl. Namespaced objects without
//!   `metadata.namespace` go to the runner's namespace; cluster-scoped objects lose any namespace.
//! - Deletes use `propagationPolicy: Background` and return once the server accepted them (the
//!   runner's `absent` operation waits for objects to go).
//! - `create_namespace` is idempotent: an existing namespace gets the labels and annotations
//!   merged in; one that is still terminating (from an earlier run) is an error.
//! - The read-only `metrics.smi-spec.io` API is read as the [contract](super#contract) says, with
//!   the REST paths of the SMI spec: the plural of the measured kind (`Deployment` →
//!   `/apis/metrics.smi-spec.io/v1alpha1/namespaces/{ns}/deployments/{name}[/edges]`; `Namespace`
//!   and `Node` are cluster-scoped). A 404 (no such resource, or no metrics API installed) is not
//!   found; `apply` and `delete` of that group are errors.
//! - Every failed request is an [`Error`] naming the object and the failed step (`create`,
//!   `merge patch`, `get`, ...); its [`source`](std::error::Error::source) is an [`ApiError`]
//!   with the server's answer (`HTTP 500 InternalError: ...`) or the transport problem.
//!
//! # Traffic ([`KubeTraffic`])
//!
//! Traffic is sent the way the upstream SMI conformance suite (layer5io/learn-layer5
//! `smi-conformance`) sends it: the source workload runs the learn-layer5 sample app
//! (`layer5/learn-layer5`, port 9091, env `SERVICE_NAME`), and its `POST /call` endpoint makes the
//! request *from inside the source pod*, so the source's sidecar and identity apply. The runner
//! reaches `/call` through the API server's **pod proxy**:
//!
//! ```text
//! POST /api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/call
//! {"url": "http://app-b:9091/echo", "method": "GET", "headers": {"x-request-id": "smi-assert-…"}, "body": ""}
//! ```
//!
//! The pod proxy (not the service proxy) is used because everything else the sample app tells
//! lives in one process: a Service with several endpoints could answer `/call` from one pod and
//! `/metrics` from another. The source (a Deployment or Service name) is resolved to its first
//! running, ready pod by label selector.
//!
//! The sample app's answer does not carry the target's status (it answers 200 for any HTTP
//! response and 500 for any transport error), so the outcome is read from the app's own record:
//! it logs every `/call` at debug level (`request body: {...}` with our unique `x-request-id`, then
//! `Call response: &{403 Forbidden 403 HTTP/1.1 ...}` or `Error completing the request Get "...":
//! EOF`). [`KubeTraffic`] reads the tail of the source container's log and classifies:
//!
//! | the app logged | outcome |
//! |---|---|
//! | `Call response: &{NNN ...` | [`Outcome::Http`](super::Outcome::Http) with status NNN |
//! | a Go transport error ending in `connection reset by peer` | [`Outcome::Reset`](super::Outcome::Reset) |
//! | ... `EOF` / `unexpected EOF` | [`Outcome::Eof`](super::Outcome::Eof) |
//! | ... `connection refused` | [`Outcome::Refused`](super::Outcome::Refused) |
//! | ... `timeout` / `deadline exceeded` | [`Outcome::Timeout`](super::Outcome::Timeout) |
//! | any other transport error (e.g. DNS) | [`Outcome::Other`](super::Outcome::Other) with the error text |
//! | nothing within the request timeout, and the log shows the app got the request | [`Outcome::Timeout`](super::Outcome::Timeout) (the app's own client never times out) |
//!
//! **Which backend answered** comes from the sample apps' `GET /metrics` (`ReqReceived`, the
//! callers of every `/call` and `/echo`): before and after the request, the apps in the target
//! namespace are read through the pod proxy, and the one that recorded exactly one new request from
//! the source's `SERVICE_NAME` is the one that served it; its `SERVICE_NAME` is reported. Paths
//! the app does not count (e.g. `/metrics`) therefore have no `served_by`. Requests are
//! serialised per [`KubeTraffic`] so that the counters and log lines belong to one request.
//!
//! Errors ([`Error::Send`]), never outcomes: a `udp://` target (the sample app makes HTTP
//! requests only), the source has no running pod,
//! the API server cannot proxy to it (its `Status` answer is the [`ApiError`] source) or did not deliver `/call`
//! within the request timeout, or the app's log has no record of the request (the source is not
//! the learn-layer5 sample app).
//!
//! Limits, shared with the upstream suite: the API server reaches the source pod from outside
//! the mesh, so a mesh that rejects unauthenticated inbound traffic (e.g. Istio STRICT mTLS, or a
//! default-deny policy for port 9091) blocks `/call` itself; this shows up as an error, never as a
//! denial. Each request costs several API calls (source lookup, log, two `/metrics` reads per app
//! pod in the target namespace).
//!
//! # Examples
//!
//! ```no_run
//! use std::sync::Arc;
//! use smi_assert::backend::kube::{KubeCluster, KubeTraffic};
//! use smi_assert::runner::Runner;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let client = smi_assert::backend::kube::connect(None).await?;
//! let runner = Runner::with_backends(
//!     Arc::new(KubeCluster::new(client.clone())),
//!     Arc::new(KubeTraffic::new(client)),
//! )
//! .namespace_label("istio-injection", "enabled")
//! .build()?;
//! let report = runner.run(&smi_assert::conformance::suite()?).await?;
//! assert_eq!(report.statistics().errors, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(()) })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Runtime
//!
//! Needs a Tokio runtime with the `net` and `time` drivers (kube's client spawns its connection
//! tasks). Dropping a future cancels the request in flight; an `apply` dropped between its create
//! and its patch may have created the object.

mod cluster;
mod echo_traffic;
mod error;
mod traffic;

#[cfg(test)]
mod tests;

pub use cluster::KubeCluster;
pub use echo_traffic::KubeEchoTraffic;
pub use error::ApiError;
pub(crate) use error::{Failure, client_cause};
pub use traffic::KubeTraffic;

use ::kube::config::KubeConfigOptions;
use ::kube::{Client, Config};

use super::Error;

/// The field manager recorded on every object this backend creates or patches.
pub const FIELD_MANAGER: &str = "smi-assert";

/// Connects to a cluster: reads the kubeconfig (`KUBECONFIG` or `~/.kube/config`, with
/// `context` or the current context), or the in-cluster config when there is no kubeconfig and no
/// `context` was asked for, then checks that the API server answers (`GET /version`).
///
/// # Errors
///
/// [`Error::Start`] naming the problem: no usable kubeconfig (the source says which file and
/// what is wrong with it), an unknown context, or an API server that cannot be reached or does
/// not answer (the reason names its URL; the source is an [`ApiError`]). No message or source
/// quotes a credential: see [`ApiError`].
pub async fn connect(context: Option<&str>) -> Result<Client, Error> {
    let config = match context {
        Some(ctx) => {
            let options = KubeConfigOptions {
                context: Some(ctx.to_string()),
                ..KubeConfigOptions::default()
            };
            Config::from_kubeconfig(&options)
                .await
                .map_err(|e| Error::Start {
                    reason: format!("cannot use kubeconfig context `{ctx}`"),
                    source: Some(client_cause(e)),
                })?
        }
        None => Config::infer().await.map_err(|e| Error::Start {
            reason: "no usable Kubernetes configuration".into(),
            source: Some(client_cause(e)),
        })?,
    };
    // The URL goes into messages: without the user information a kubeconfig may put in it.
    let url = smps_model::redact::url(&config.cluster_url.to_string()).into_owned();
    let client = Client::try_from(config).map_err(|e| Error::Start {
        reason: format!("cannot build a client for {url}"),
        source: Some(client_cause(e)),
    })?;
    client.apiserver_version().await.map_err(|e| Error::Start {
        reason: format!("cannot reach the API server at {url}"),
        source: Some(Box::new(ApiError::new(e))),
    })?;
    Ok(client)
}

/// A client from the default configuration (kubeconfig or in-cluster), without contacting the
/// API server.
async fn default_client() -> Result<Client, Error> {
    Client::try_default().await.map_err(|e| Error::Start {
        reason: "no usable Kubernetes configuration".into(),
        source: Some(client_cause(e)),
    })
}

/// Whether a kube error is the server saying 404.
pub(crate) fn is_not_found(e: &::kube::Error) -> bool {
    matches!(e, ::kube::Error::Api(s) if s.code == 404)
}
