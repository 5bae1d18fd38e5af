//! Public-behaviour tests of `smi-assert`: one binary, one module per area.
//!
//! Everything runs on 127.0.0.1 against the embedded loopback mesh; nothing sleeps to synchronise.

mod conformance;
mod faults;
mod gamma;
mod kuttl;
mod metrics;
mod operations;
mod outside_backend;
mod reports;
mod send_sync;
mod udp;
mod validation;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use smi_assert::GoDuration;
use smi_assert::backend::loopback::{Fault, LoopbackConfig, LoopbackMesh};
use smi_assert::features::{Implementation, Profile};
use smi_assert::runner::{Runner, RunnerBuilder};
use smi_assert::suite::Timeouts;

/// Path of a test fixture.
pub(crate) fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A loopback mesh with the given faults, seeded.
pub(crate) async fn mesh_with(faults: &[Fault]) -> Arc<LoopbackMesh> {
    let mut c = LoopbackConfig::builder().seed(42);
    for f in faults {
        c = c.fault(*f);
    }
    Arc::new(LoopbackMesh::start(c.build()).await.expect("mesh starts"))
}

/// Short timeouts: the loopback mesh converges instantly.
pub(crate) fn short_timeouts() -> Timeouts {
    let mut t = Timeouts::default();
    t.traffic = Some(GoDuration::parse("1s").unwrap());
    t.assert = Some(GoDuration::parse("600ms").unwrap());
    t.delete = Some(GoDuration::parse("2s").unwrap());
    t
}

/// A runner builder on a mesh, declaring every extended feature.
pub(crate) fn runner(mesh: &Arc<LoopbackMesh>) -> RunnerBuilder {
    Runner::builder(mesh.clone())
        .implementation(
            Implementation::new("test", "loopback", "0").supports_all_extended(&Profile::ALL),
        )
        .timeouts(short_timeouts())
        .poll_interval(Duration::from_millis(50))
}

/// The `access-app` fixture of the bundled suite (app-a/b/c with ServiceAccounts).
pub(crate) fn access_app() -> Vec<Value> {
    smi_assert::conformance::suite().expect("suite").fixtures["access-app"].clone()
}

/// A TCPRoute matching every port and a TrafficTarget letting service-a reach service-b over it.
pub(crate) fn tcp_policy() -> Vec<Value> {
    vec![
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "TCPRoute",
               "metadata": {"name": "all"}, "spec": {"matches": {"ports": []}}}),
        json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget",
               "metadata": {"name": "a-to-b"},
               "spec": {"destination": {"kind": "ServiceAccount", "name": "service-b"},
                        "sources": [{"kind": "ServiceAccount", "name": "service-a"}],
                        "rules": [{"kind": "TCPRoute", "name": "all"}]}}),
    ]
}

/// The `split-app` fixture of the bundled suite.
pub(crate) fn split_app() -> Vec<Value> {
    smi_assert::conformance::suite().expect("suite").fixtures["split-app"].clone()
}
