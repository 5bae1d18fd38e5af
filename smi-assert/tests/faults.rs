//! Each fault switch of the loopback mesh is caught by the conformance suite, by the checks meant
//! to catch it.

use smi_assert::backend::loopback::Fault;
use smi_assert::features::Profile;
use smi_assert::report::{Capability, Report, Status};

use crate::{mesh_with, runner};

async fn run(faults: &[Fault], tests: &[&str]) -> Report {
    let mut suite = smi_assert::conformance::suite().unwrap();
    suite.tests.retain(|t| tests.contains(&t.name.as_str()));
    assert_eq!(suite.tests.len(), tests.len());
    let mesh = mesh_with(faults).await;
    runner(&mesh).build().unwrap().run(&suite).await.unwrap()
}

fn status(r: &Report, test: &str) -> Status {
    r.test(test).unwrap().status
}

fn failing_message(r: &Report, test: &str) -> String {
    r.test(test)
        .unwrap()
        .steps
        .iter()
        .flat_map(|s| &s.operations)
        .find(|o| o.status == Status::Failed)
        .map(|o| o.message.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn allow_all_is_caught_by_the_deny_checks() {
    let r = run(
        &[Fault::AllowAll],
        &[
            "access-default-deny",
            "access-source-identity",
            "access-tcp-route",
        ],
    )
    .await;
    assert_eq!(status(&r, "access-default-deny"), Status::Failed);
    assert_eq!(status(&r, "access-source-identity"), Status::Failed);
    assert_eq!(status(&r, "access-tcp-route"), Status::Passed);
    assert!(failing_message(&r, "access-default-deny").contains("HTTP 200 from app-b"));
    assert_eq!(
        r.profile(Profile::Access).unwrap().capability,
        Capability::Partial
    );
}

#[tokio::test]
async fn ignore_weights_is_caught_by_zero_weight_and_chi_square_checks() {
    let r = run(
        &[Fault::IgnoreWeights],
        &["split-zero-weight", "split-weights"],
    )
    .await;
    assert_eq!(status(&r, "split-zero-weight"), Status::Failed);
    assert!(failing_message(&r, "split-zero-weight").contains("has weight 0 but served"));
    assert_eq!(status(&r, "split-weights"), Status::Failed);
    assert!(failing_message(&r, "split-weights").contains("χ²"));
    assert_eq!(
        r.profile(Profile::Split).unwrap().capability,
        Capability::None
    );
}

#[tokio::test]
async fn ignore_route_matches_is_caught_by_path_and_method_checks() {
    let r = run(
        &[Fault::IgnoreRouteMatches],
        &["spec-http-path", "spec-http-methods", "access-tcp-route"],
    )
    .await;
    assert_eq!(status(&r, "spec-http-path"), Status::Failed);
    assert!(failing_message(&r, "spec-http-path").contains("GET http://app-b:9091/echo"));
    assert_eq!(status(&r, "spec-http-methods"), Status::Failed);
    assert!(failing_message(&r, "spec-http-methods").starts_with("POST"));
    assert_eq!(
        r.profile(Profile::Specs).unwrap().capability,
        Capability::None
    );
    assert_eq!(
        r.profile(Profile::Access).unwrap().capability,
        Capability::Full
    );
}

#[tokio::test]
async fn drop_headers_is_caught_by_header_and_ab_checks() {
    let r = run(
        &[Fault::DropHeaders],
        &["spec-http-headers", "spec-http-methods", "split-matches"],
    )
    .await;
    assert_eq!(status(&r, "spec-http-headers"), Status::Failed);
    assert!(failing_message(&r, "spec-http-headers").contains("HTTP 403"));
    assert_eq!(status(&r, "spec-http-methods"), Status::Passed);
    assert_eq!(status(&r, "split-matches"), Status::Failed);
    assert_eq!(
        r.profile(Profile::Specs).unwrap().capability,
        Capability::Partial
    );
}

#[tokio::test]
async fn drop_metrics_is_caught_by_every_count_check_and_only_there() {
    let r = run(
        &[Fault::DropMetrics],
        &[
            "metrics-resource",
            "metrics-edges",
            "metrics-aggregation",
            "metrics-failure-count",
            "access-tcp-route",
        ],
    )
    .await;
    for t in [
        "metrics-resource",
        "metrics-edges",
        "metrics-aggregation",
        "metrics-failure-count",
    ] {
        assert_eq!(status(&r, t), Status::Failed, "{t}");
    }
    // The checks before any traffic pass; the counts after it do not.
    let res = r.test("metrics-resource").unwrap();
    assert_eq!(res.steps[2].status, Status::Passed, "before-traffic");
    assert!(
        failing_message(&r, "metrics-resource").contains("success_count is 0, expected ≥ 20"),
        "{}",
        failing_message(&r, "metrics-resource")
    );
    assert!(
        failing_message(&r, "metrics-edges").contains("no such edge is listed"),
        "{}",
        failing_message(&r, "metrics-edges")
    );
    assert_eq!(status(&r, "access-tcp-route"), Status::Passed);
    assert_eq!(
        r.profile(Profile::Metrics).unwrap().capability,
        Capability::None
    );
    assert_eq!(
        r.profile(Profile::Access).unwrap().capability,
        Capability::Full
    );
}

#[tokio::test]
async fn stale_metrics_are_caught_by_the_before_and_after_checks() {
    let r = run(
        &[Fault::StaleMetrics],
        &["metrics-resource", "metrics-edges", "metrics-aggregation"],
    )
    .await;
    assert_eq!(status(&r, "metrics-resource"), Status::Failed);
    assert!(failing_message(&r, "metrics-resource").contains("success_count is 0"));
    assert_eq!(status(&r, "metrics-edges"), Status::Failed);
    assert!(failing_message(&r, "metrics-edges").contains("no such edge is listed"));
    // Without a read before the traffic, a cache that never refreshes is not visible.
    assert_eq!(status(&r, "metrics-aggregation"), Status::Passed);
    assert_eq!(
        r.profile(Profile::Metrics).unwrap().capability,
        Capability::Partial
    );
}

#[tokio::test]
async fn allow_all_and_ignored_route_matches_are_caught_by_the_udp_checks() {
    let r = run(
        &[Fault::AllowAll],
        &["access-udp-route", "spec-udp-route-ports"],
    )
    .await;
    assert_eq!(status(&r, "access-udp-route"), Status::Failed);
    assert!(
        failing_message(&r, "access-udp-route").contains("UDP answer from app-b"),
        "{}",
        failing_message(&r, "access-udp-route")
    );
    assert_eq!(status(&r, "spec-udp-route-ports"), Status::Failed);
    let r = run(
        &[Fault::IgnoreRouteMatches],
        &["access-udp-route", "spec-udp-route-ports"],
    )
    .await;
    // A UDPRoute rule treated as matching everything also lets HTTP through, and ignores ports.
    assert_eq!(status(&r, "access-udp-route"), Status::Failed);
    assert!(failing_message(&r, "access-udp-route").starts_with("GET http://app-b:9091/echo"));
    assert_eq!(status(&r, "spec-udp-route-ports"), Status::Failed);
    assert!(failing_message(&r, "spec-udp-route-ports").starts_with("UDP udp://app-b:9093"));
}
