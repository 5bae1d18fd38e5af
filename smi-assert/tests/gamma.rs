//! The GAMMA suite against the loopback mesh: every test passes on a conformant mesh, the
//! report's mesh profiles succeed, and bad routes are refused before anything is applied.

use std::sync::Arc;
use std::time::Duration;

use smi_assert::backend::loopback::{AccessDefault, Fault, LoopbackConfig, LoopbackMesh};
use smi_assert::features::{Implementation, Profile};
use smi_assert::report::{LevelOutcome, Report, Status};
use smi_assert::runner::{Runner, RunnerBuilder};

use crate::short_timeouts;

pub(crate) async fn gamma_mesh(faults: &[Fault]) -> Arc<LoopbackMesh> {
    let mut c = LoopbackConfig::builder()
        .seed(42)
        .access_default(AccessDefault::Allow);
    for f in faults {
        c = c.fault(*f);
    }
    Arc::new(LoopbackMesh::start(c.build()).await.expect("mesh starts"))
}

pub(crate) fn gamma_runner(mesh: &Arc<LoopbackMesh>) -> RunnerBuilder {
    Runner::builder(mesh.clone())
        .implementation(
            Implementation::new("test", "loopback", "0").supports_all_extended(&Profile::GAMMA),
        )
        .timeouts(short_timeouts())
        .poll_interval(Duration::from_millis(20))
}

pub(crate) async fn run_gamma(faults: &[Fault], only: Option<&[&str]>) -> Report {
    let mesh = gamma_mesh(faults).await;
    let mut suite = smi_assert::gamma_suite::suite().unwrap();
    if let Some(names) = only {
        suite.tests.retain(|t| names.contains(&t.name.as_str()));
    }
    let report = gamma_runner(&mesh)
        .build()
        .unwrap()
        .run(&suite)
        .await
        .unwrap();
    mesh.shutdown();
    report
}

fn not_passed(r: &Report) -> Vec<String> {
    r.tests
        .iter()
        .filter(|t| t.status != Status::Passed)
        .map(|t| format!("{} {:?}: {}", t.name, t.status, t.message))
        .collect()
}

/// The gRPC tests of the suite (the loopback mesh does not proxy gRPC yet).
pub(crate) const GRPC_TESTS: [&str; 2] =
    ["MeshGRPCRouteWeight", "MeshGRPCRouteRequestHeaderModifier"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_http_gamma_test_passes_on_the_loopback_mesh() {
    let suite = smi_assert::gamma_suite::suite().unwrap();
    let http: Vec<&str> = suite
        .tests
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| !GRPC_TESTS.contains(n))
        .collect();
    let r = run_gamma(&[], Some(&http)).await;
    assert_eq!(r.tests.len(), 21);
    assert!(not_passed(&r).is_empty(), "{:#?}", not_passed(&r));
    let pr = r.profile(Profile::MeshHttp).unwrap();
    assert_eq!(pr.core.result, LevelOutcome::Success);
    let http = r.profile(Profile::MeshHttp).unwrap();
    assert_eq!(http.extended.result, LevelOutcome::Success);
    // MeshBasic counts in both profiles.
    assert!(r.test("MeshBasic").unwrap().in_profile(Profile::MeshGrpc));
    assert!(r.test("MeshBasic").unwrap().in_profile(Profile::MeshHttp));
    assert!(r.profile(Profile::Access).is_none());
}
