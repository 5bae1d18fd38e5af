//! Public types and futures are `Send + Sync` (guards against regressions).

use smi_assert::backend::loopback::LoopbackMesh;
use smi_assert::backend::memory::InMemoryCluster;
use smi_assert::backend::{ClusterBackend, TrafficBackend};
use smi_assert::report::Report;
use smi_assert::runner::Runner;
use smi_assert::suite::Suite;
use smi_assert::validate::Validator;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Runner>();
    send_sync::<LoopbackMesh>();
    send_sync::<InMemoryCluster>();
    send_sync::<Validator>();
    send_sync::<Suite>();
    send_sync::<Report>();
    send_sync::<smi_assert::suite::MetricsOp>();
    send_sync::<smi_assert::suite::CountRange>();
    send_sync::<smi_assert::suite::EdgeDirection>();
    send_sync::<smi_assert::backend::Outcome>();
    send_sync::<std::sync::Arc<dyn ClusterBackend>>();
    send_sync::<std::sync::Arc<dyn TrafficBackend>>();
    send_sync::<smi_assert::Error>();
    send_sync::<smi_assert::YamlError>();
}

#[test]
fn the_run_future_is_send() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mesh = std::sync::Arc::new(LoopbackMesh::start(Default::default()).await.unwrap());
        let runner = Runner::builder(mesh.clone()).build().unwrap();
        let suite = Suite::default();
        let fut = runner.run(&suite);
        send(&fut);
        let report = fut.await.unwrap();
        assert!(report.tests.is_empty());
    });
}
