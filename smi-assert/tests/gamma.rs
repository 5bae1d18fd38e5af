//! The GAMMA suite against the loopback mesh: every test passes on a conformant mesh, the
//! report's mesh profiles succeed, and bad routes are refused before anything is applied.

use std::sync::Arc;
use std::time::Duration;

use smi_assert::backend::loopback::{AccessDefault, Fault, LoopbackConfig, LoopbackMesh};
use smi_assert::features::{Implementation, Profile};
use smi_assert::gateway_report::{ConformanceReport, GatewayResult, ReportImplementation};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gamma_test_passes_on_the_loopback_mesh() {
    // All 23, the two gRPC ones included (the sidecars proxy h2c): the fault tests below rely
    // on each victim passing here, so that the fault is what makes it fail there.
    let r = run_gamma(&[], None).await;
    assert_eq!(r.tests.len(), 23);
    assert!(not_passed(&r).is_empty(), "{:#?}", not_passed(&r));
    for profile in [Profile::MeshHttp, Profile::MeshGrpc] {
        let pr = r.profile(profile).unwrap();
        assert_eq!(pr.core.result, LevelOutcome::Success, "{profile:?} core");
    }
    let http = r.profile(Profile::MeshHttp).unwrap();
    assert_eq!(http.extended.result, LevelOutcome::Success);
    for grpc_test in ["MeshGRPCRouteWeight", "MeshGRPCRouteRequestHeaderModifier"] {
        let t = r.test(grpc_test).unwrap();
        assert!(t.in_profile(Profile::MeshGrpc), "{grpc_test}");
        assert!(!t.in_profile(Profile::MeshHttp), "{grpc_test}");
    }
    // MeshBasic counts in both profiles.
    assert!(r.test("MeshBasic").unwrap().in_profile(Profile::MeshGrpc));
    assert!(r.test("MeshBasic").unwrap().in_profile(Profile::MeshHttp));
    assert!(r.profile(Profile::Access).is_none());
}

fn implementation() -> ReportImplementation {
    ReportImplementation::new(
        "smps-rs",
        "smi-assert loopback mesh",
        "https://example.org/smps-rs",
        "v0",
        vec!["https://example.org/smps-rs/issues".into()],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_report_of_a_run_round_trips_and_follows_the_rules() {
    let r = run_gamma(
        &[],
        Some(&[
            "MeshBasic",
            "MeshHTTPRouteMatching",
            "MeshHTTPRoute303Redirect",
        ]),
    )
    .await;
    let g = ConformanceReport::from_report(&r, implementation()).unwrap();
    let yaml = g.to_yaml().unwrap();
    assert!(
        yaml.contains("apiVersion: gateway.networking.k8s.io/v1"),
        "{yaml}"
    );
    let back = ConformanceReport::from_yaml(&yaml).unwrap();
    assert_eq!(back, g);
    let http = g.profiles.iter().find(|p| p.name == "MESH-HTTP").unwrap();
    assert_eq!(http.core.result, GatewayResult::Success);
    assert_eq!(http.core.statistics.passed, 2);
    assert_eq!(
        g.succeeded_provisional_tests,
        vec!["MeshHTTPRoute303Redirect".to_string()]
    );
    let grpc = g.profiles.iter().find(|p| p.name == "MESH-GRPC").unwrap();
    assert_eq!(
        grpc.core.statistics.passed, 1,
        "MeshBasic counts in MESH-GRPC"
    );
    let mut missing = implementation();
    missing.url.clear();
    let e = ConformanceReport::from_report(&r, missing).unwrap_err();
    assert!(e.to_string().contains("implementation.url"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeclared_extended_feature_skips_its_test_and_makes_the_level_partial() {
    let mesh = gamma_mesh(&[]).await;
    let mut suite = smi_assert::gamma_suite::suite().unwrap();
    suite.tests.retain(|t| {
        ["MeshHTTPRouteMatching", "MeshConsumerRoute", "MeshPorts"].contains(&t.name.as_str())
    });
    let r = gamma_runner(&mesh)
        .implementation(
            Implementation::new("test", "loopback", "0")
                .supports("HTTPRouteParentRefPort")
                .supports("HTTPRouteResponseHeaderModification"),
        )
        .profiles([Profile::MeshHttp])
        .build()
        .unwrap()
        .run(&suite)
        .await
        .unwrap();
    mesh.shutdown();
    assert_eq!(r.test("MeshConsumerRoute").unwrap().status, Status::Skipped);
    assert_eq!(r.test("MeshPorts").unwrap().status, Status::Passed);
    let g = ConformanceReport::from_report(&r, implementation()).unwrap();
    assert_eq!(g.profiles.len(), 1, "only the selected profile");
    let ext = g.profiles[0].extended.as_ref().unwrap();
    assert_eq!(ext.status.result, GatewayResult::Partial);
    assert_eq!(
        ext.status.skipped_tests,
        vec!["MeshConsumerRoute".to_string()]
    );
    assert!(
        ext.unsupported_features
            .contains(&"MeshConsumerRoute".to_string())
    );
}

/// Runs `victim` (with MeshBasic) under `fault`: the victim fails, MeshBasic passes, and the
/// ConformanceReport's MESH-HTTP result at the victim's level is failure naming it.
async fn fault_fails(fault: Fault, victim: &str) {
    let r = run_gamma(&[fault], Some(&["MeshBasic", victim])).await;
    let t = r.test(victim).unwrap();
    assert_eq!(
        t.status,
        Status::Failed,
        "{fault:?} {victim}: {}",
        t.message
    );
    assert_eq!(r.test("MeshBasic").unwrap().status, Status::Passed);
    let g = ConformanceReport::from_report(&r, implementation()).unwrap();
    let http = g.profiles.iter().find(|p| p.name == "MESH-HTTP").unwrap();
    let level = if t.level == Some(smi_assert::Level::Extended) {
        &http.extended.as_ref().unwrap().status
    } else {
        &http.core
    };
    assert_eq!(level.result, GatewayResult::Failure, "{fault:?}");
    assert_eq!(level.failed_tests, vec![victim.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignoring_weights_fails_the_weight_test() {
    fault_fails(Fault::IgnoreWeights, "MeshHTTPRouteWeight").await;
    let r = run_gamma(&[Fault::IgnoreWeights], Some(&["MeshGRPCRouteWeight"])).await;
    assert_eq!(
        r.test("MeshGRPCRouteWeight").unwrap().status,
        Status::Failed
    );
    let g = ConformanceReport::from_report(&r, implementation()).unwrap();
    let grpc = g.profiles.iter().find(|p| p.name == "MESH-GRPC").unwrap();
    assert_eq!(grpc.core.result, GatewayResult::Failure);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignoring_header_matches_fails_the_matching_tests() {
    fault_fails(Fault::IgnoreHeaderMatches, "MeshHTTPRouteMatching").await;
    fault_fails(
        Fault::IgnoreHeaderMatches,
        "MeshHTTPRouteQueryParamMatching",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignoring_consumer_routes_fails_the_consumer_route_test() {
    fault_fails(Fault::IgnoreConsumerRoutes, "MeshConsumerRoute").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_filters_fails_the_filter_tests() {
    fault_fails(Fault::SkipFilters, "MeshHTTPRouteRequestHeaderModifier").await;
    fault_fails(Fault::SkipFilters, "MeshHTTPRouteRedirectHostAndStatus").await;
    fault_fails(Fault::SkipFilters, "MeshHTTPRouteRewritePath").await;
    let r = run_gamma(
        &[Fault::SkipFilters],
        Some(&["MeshGRPCRouteRequestHeaderModifier"]),
    )
    .await;
    assert_eq!(
        r.test("MeshGRPCRouteRequestHeaderModifier").unwrap().status,
        Status::Failed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_by_host_fails_the_frontend_hostname_test() {
    fault_fails(Fault::RouteByHost, "MeshFrontendHostname").await;
}

#[tokio::test]
async fn a_bad_route_is_refused_with_a_located_finding_and_nothing_is_applied() {
    let mesh = gamma_mesh(&[]).await;
    let suite = smi_assert::Suite::from_yaml(
        r#"
name: bad-route
tests:
- name: bad
  features: [Mesh, HTTPRoute]
  steps:
  - name: apply
    operations:
    - apply:
        objects:
        - {apiVersion: v1, kind: ConfigMap, metadata: {name: before}, data: {k: v}}
        - apiVersion: gateway.networking.k8s.io/v1
          kind: HTTPRoute
          metadata: {name: r}
          spec:
            parentRefs: [{kind: Service, name: echo}]
            rules:
            - matches: [{path: {type: PathPrefix, value: nope}}]
              filters: [{type: RequestRedirect, requestRedirect: {hostname: example.org}}]
              backendRefs: [{name: echo, port: 80}]
"#,
    )
    .unwrap();
    let r = gamma_runner(&mesh)
        .build()
        .unwrap()
        .run(&suite)
        .await
        .unwrap();
    let t = &r.tests[0];
    assert_eq!(t.status, Status::Error);
    let op = &t.steps[0].operations[0];
    let text = op.evidence.to_string();
    for want in [
        "/spec/parentRefs/0/group",
        "/spec/rules/0/matches/0/path/value",
        "/spec/rules/0/filters/0",
        "gamma.redirect-without-backends",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    assert!(
        op.evidence["violations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["object"] == "HTTPRoute/r"),
        "{text}"
    );
    assert_eq!(
        t.cleanup.last().unwrap().message.split(' ').nth(1),
        Some("0"),
        "nothing applied"
    );
    mesh.shutdown();
}

#[tokio::test]
async fn namespaces_a_test_creates_get_the_runners_labels() {
    let mesh = gamma_mesh(&[]).await;
    let mut suite = smi_assert::gamma_suite::suite().unwrap();
    suite.tests.retain(|t| t.name == "MeshConsumerRoute");
    suite.tests[0].steps[0]
        .operations
        .push(smi_assert::Operation::assert(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "$NAMESPACE-consumer", "labels": {"istio-injection": "enabled"}}
        })));
    let r = gamma_runner(&mesh)
        .namespace_label("istio-injection", "enabled")
        .build()
        .unwrap()
        .run(&suite)
        .await
        .unwrap();
    assert!(not_passed(&r).is_empty(), "{:#?}", not_passed(&r));
    // Cleanup deleted the consumer namespace with the test's other objects.
    assert_eq!(mesh.workload_addresses().len(), 0);
    mesh.shutdown();
}
