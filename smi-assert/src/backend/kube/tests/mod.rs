//! [`KubeCluster`] and [`KubeTraffic`] against a fake API server on 127.0.0.1: a small hyper
//! server that answers discovery, CRUD and the pod proxy / log endpoints for the few resources
//! used, simulates learn-layer5 sample apps behind the pod proxy, and records every request so
//! the tests can check exactly what was sent.
//!
//! The tests that need a real cluster are at the end, marked `#[ignore = "needs a cluster"]`.
//!
//! One file per job: the fake server (`fake.rs`), the cluster backend's tests (`cluster.rs`),
//! the traffic backend's tests (`traffic.rs`), the exec-based GAMMA traffic backend's tests
//! (`echo_traffic.rs`) and the real-cluster tests (`real_cluster.rs`).

mod cluster;
mod echo_traffic;
mod fake;
mod real_cluster;
mod traffic;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ::kube::{Client, Config};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{ApiError, FIELD_MANAGER, KubeCluster, KubeTraffic};
use crate::backend::{
    ClusterBackend, Error, ObjectRef, Outcome, TrafficBackend, TrafficRequest, merge_patch,
};

/// The [`ApiError`] an error of these backends carries as its `source`; panics (failing the test)
/// when the source is missing or of another type.
fn api_cause(e: &Error) -> &ApiError {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<ApiError>())
        .unwrap_or_else(|| panic!("no ApiError source in {e:?}"))
}

/// Fails the test when `secret` is in the message of `e`, of any of its sources, or in its
/// `Debug` form.
fn assert_not_quoted(e: &Error, secret: &str) {
    let debug = format!("{e:?}");
    assert!(!debug.contains(secret), "{debug}");
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(layer) = cur {
        let text = layer.to_string();
        assert!(!text.contains(secret), "{text}");
        cur = layer.source();
    }
}
