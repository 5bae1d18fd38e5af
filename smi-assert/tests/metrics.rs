//! The TrafficMetrics API of the loopback mesh and the `metrics` operation: counts come from the
//! traffic the proxy handled, the API is read-only, and every check fails for its own reason.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use smi_assert::backend::loopback::LoopbackMesh;
use smi_assert::backend::{ClusterBackend, ObjectRef, Outcome, TrafficBackend, TrafficRequest};
use smi_assert::report::{Status, TestResult};
use smi_assert::suite::{
    CountRange, EdgeDirection, Expect, MetricsEdge, MetricsOp, MetricsResource, Operation, Suite,
    Test, TrafficOp,
};
use smi_assert::{Error, GoDuration};

use crate::{access_app, mesh_with, runner, tcp_policy};

const V1ALPHA1: &str = "metrics.smi-spec.io/v1alpha1";

/// The value of one metric in milli-units.
fn metric(obj: &Value, name: &str) -> i64 {
    let m = obj["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {obj}"));
    smi_assert::smi::Quantity::parse(m["value"].as_str().unwrap())
        .unwrap()
        .milli
}

async fn installed(mesh: &Arc<LoopbackMesh>, ns: &str) {
    mesh.create_namespace(ns, &BTreeMap::new(), &BTreeMap::new())
        .await
        .unwrap();
    for o in access_app().iter().chain(tcp_policy().iter()) {
        mesh.apply(o, ns).await.unwrap();
    }
}

fn deployment(ns: &str, name: &str) -> ObjectRef {
    ObjectRef::new(V1ALPHA1, "Deployment", Some(ns.into()), name)
}

#[tokio::test]
async fn metrics_count_the_requests_the_proxy_handled_and_classify_them() {
    let mesh = mesh_with(&[]).await;
    installed(&mesh, "m").await;
    let b = deployment("m", "app-b-deployment");
    let before = mesh.get(&b).await.unwrap().expect("the deployment exists");
    assert_eq!(before["kind"], "TrafficMetrics");
    assert_eq!(metric(&before, "success_count"), 0);
    assert_eq!(before["window"], "30s");
    // 7 answered by the app (5× 200, 2× 404: a client error is still served, as Linkerd counts),
    // 3 refused by policy at the destination (c is not a source): failures.
    let send =
        |from: &str, path: &str| TrafficRequest::get("m", from, format!("http://app-b:9091{path}"));
    for _ in 0..5 {
        let r = mesh.send(&send("app-a", "/echo")).await.unwrap();
        assert_eq!(r.outcome, Outcome::Http { status: 200 });
    }
    for _ in 0..2 {
        let r = mesh.send(&send("app-a", "/nope")).await.unwrap();
        assert_eq!(r.outcome, Outcome::Http { status: 404 });
    }
    for _ in 0..3 {
        let r = mesh.send(&send("app-c", "/echo")).await.unwrap();
        assert_eq!(r.outcome, Outcome::Eof);
    }
    let after = mesh.get(&b).await.unwrap().unwrap();
    assert_eq!(metric(&after, "success_count"), 7_000);
    assert_eq!(metric(&after, "failure_count"), 3_000);
    let (p50, p90, p99) = (
        metric(&after, "p50_response_latency"),
        metric(&after, "p90_response_latency"),
        metric(&after, "p99_response_latency"),
    );
    assert!(0 < p50 && p50 <= p90 && p90 <= p99, "{p50} {p90} {p99}");
    assert!(p99 < 2_000_000, "p99 {p99} µs on loopback");
    assert_eq!(after["resource"]["kind"], "Deployment");
    assert_eq!(after["edge"]["direction"], "from");
    assert_eq!(
        after["metadata"]["selfLink"],
        "/apis/metrics.smi-spec.io/v1alpha1/namespaces/m/deployments/app-b-deployment"
    );

    let edges = mesh
        .get(&deployment("m", "app-b-deployment/edges"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(edges["kind"], "TrafficMetricsList");
    let items = edges["items"].as_array().unwrap();
    let peers: Vec<(&str, &str, i64, i64)> = items
        .iter()
        .map(|i| {
            (
                i["edge"]["direction"].as_str().unwrap(),
                i["edge"]["resource"]["name"].as_str().unwrap(),
                metric(i, "success_count") / 1000,
                metric(i, "failure_count") / 1000,
            )
        })
        .collect();
    assert_eq!(
        peers,
        [
            ("from", "app-a-deployment", 7, 0),
            ("from", "app-c-deployment", 0, 3)
        ]
    );
    let a_edges = mesh
        .get(&deployment("m", "app-a-deployment/edges"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a_edges["items"][0]["edge"]["direction"], "to");
    assert_eq!(a_edges["items"][0]["edge"]["side"], "client");

    let pods = mesh.list(V1ALPHA1, "Pod", Some("m")).await.unwrap();
    assert_eq!(pods.len(), 3, "one item per running pod");
    let b_pod = mesh
        .workload_addresses()
        .into_iter()
        .find(|w| w.deployment == "app-b-deployment")
        .unwrap()
        .pod;
    let pod = mesh
        .get(&ObjectRef::new(V1ALPHA1, "Pod", Some("m".into()), b_pod))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(metric(&pod, "success_count"), 7_000);
    let ns = mesh
        .get(&ObjectRef::new(V1ALPHA1, "Namespace", None, "m"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(metric(&ns, "failure_count"), 3_000);
    assert!(ns["resource"].get("namespace").is_none());

    mesh.delete_namespace("m").await.unwrap();
    assert!(
        mesh.get(&b).await.unwrap().is_none(),
        "gone with its namespace"
    );
}

#[tokio::test]
async fn the_metrics_api_is_read_only_and_answers_only_what_it_serves() {
    let mesh = mesh_with(&[]).await;
    installed(&mesh, "ro").await;
    let tm = json!({"apiVersion": V1ALPHA1, "kind": "TrafficMetrics",
                    "metadata": {"name": "app-b-deployment"},
                    "resource": {"kind": "Deployment", "name": "app-b-deployment"},
                    "metrics": [{"name": "success_count", "value": "1000"}]});
    let e = mesh.apply(&tm, "ro").await.unwrap_err();
    assert!(matches!(e, Error::Apply { .. }), "{e:?}");
    assert!(e.to_string().contains("read-only"), "{e}");
    let e = mesh
        .delete(&deployment("ro", "app-b-deployment"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Delete { .. }), "{e:?}");
    // Unserved version, unknown resource, kinds the mesh never runs: not found / empty.
    let v2 = ObjectRef::new(
        "metrics.smi-spec.io/v1alpha2",
        "Deployment",
        Some("ro".into()),
        "app-b-deployment",
    );
    assert!(mesh.get(&v2).await.unwrap().is_none());
    assert!(
        mesh.get(&deployment("ro", "ghost"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        mesh.get(&deployment("ro", "ghost/edges"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        mesh.list(V1ALPHA1, "StatefulSet", Some("ro"))
            .await
            .unwrap()
            .is_empty()
    );
    // A kind the API does not aggregate over is an error naming the kinds it does.
    let e = mesh
        .list(V1ALPHA1, "Service", Some("ro"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Deployment"), "{e}");
    let e = mesh
        .get(&ObjectRef::new(
            V1ALPHA1,
            "TrafficMetrics",
            Some("ro".into()),
            "x",
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ReadObject { .. }), "{e:?}");
    let deployments = mesh.list(V1ALPHA1, "Deployment", Some("ro")).await.unwrap();
    let mut names: Vec<&str> = deployments
        .iter()
        .map(|d| d["resource"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["app-a-deployment", "app-b-deployment", "app-c-deployment"]
    );
}

async fn run_one(mesh: &Arc<LoopbackMesh>, test: Test) -> TestResult {
    let suite = Suite::builder("metrics").test(test).build().unwrap();
    let report = runner(mesh).build().unwrap().run(&suite).await.unwrap();
    report.tests.into_iter().next().unwrap()
}

fn b_metrics() -> MetricsOp {
    MetricsOp::new(MetricsResource::new("Deployment", "app-b-deployment"))
}

fn edge_from_a() -> MetricsEdge {
    MetricsEdge::new(
        EdgeDirection::From,
        MetricsResource::new("Deployment", "app-a-deployment"),
    )
}

#[tokio::test]
async fn metrics_operations_pass_on_real_counts_and_fail_for_the_right_reason() {
    let mesh = mesh_with(&[]).await;
    let mut five = TrafficOp::new("app-a", "http://app-b:9091/echo", Expect::Allowed);
    five.consecutive = 5;
    let mut at_least_5 = b_metrics();
    at_least_5.edge = Some(edge_from_a());
    at_least_5.success_count = Some(CountRange::at_least(5));
    at_least_5.failure_count = Some(CountRange::at_most(0));
    at_least_5.max_latency = Some(GoDuration::parse("2s").unwrap());
    let mut too_many = b_metrics();
    too_many.success_count = Some(CountRange::at_least(6));
    let mut too_slow = b_metrics();
    too_slow.max_latency = Some(GoDuration::parse("1ns").unwrap());
    let mut listed = b_metrics();
    listed.edge = Some(edge_from_a());
    listed.absent = true;
    let ghost = MetricsOp::new(MetricsResource::new("Deployment", "ghost"));
    let service = MetricsOp::new(MetricsResource::new("Service", "app-b"));
    let any_pod = {
        let mut m = MetricsOp::new(MetricsResource::new("Pod", "unused"));
        m.resource.name = None;
        m.success_count = Some(CountRange::at_least(5));
        m
    };
    let cases: Vec<(&str, MetricsOp, Status, &str)> = vec![
        ("edge-ok", at_least_5, Status::Passed, "success_count 5"),
        (
            "any-pod",
            any_pod,
            Status::Passed,
            "any Pod: success_count 5",
        ),
        (
            "too-many",
            too_many,
            Status::Failed,
            "success_count is 5, expected ≥ 6",
        ),
        (
            "too-slow",
            too_slow,
            Status::Failed,
            "p99_response_latency is",
        ),
        ("listed", listed, Status::Failed, "still listed"),
        ("ghost", ghost, Status::Failed, "not found"),
        ("service", service, Status::Error, "measured resource"),
    ];
    for (name, op, want, text) in cases {
        let r = run_one(
            &mesh,
            Test::builder(name)
                .step(
                    "install",
                    vec![
                        Operation::apply(access_app()),
                        Operation::apply(tcp_policy()),
                    ],
                )
                .step("traffic", vec![Operation::Traffic(five.clone())])
                .step("check", vec![Operation::Metrics(op)])
                .build(),
        )
        .await;
        let op = &r.steps[2].operations[0];
        assert_eq!(op.status, want, "{name}: {}", op.message);
        assert!(op.message.contains(text), "{name}: {}", op.message);
        if want == Status::Failed {
            assert!(
                op.message.contains("after 600ms"),
                "{name} polls until the assert timeout: {}",
                op.message
            );
        }
    }
}

#[test]
fn inconsistent_metrics_operations_are_rejected() {
    let suite = |op: MetricsOp| {
        Suite::builder("s")
            .test(
                Test::builder("t")
                    .step("s", vec![Operation::Metrics(op)])
                    .build(),
            )
            .build()
    };
    let mut absent_without_edge = b_metrics();
    absent_without_edge.absent = true;
    let mut absent_with_range = b_metrics();
    absent_with_range.edge = Some(edge_from_a());
    absent_with_range.absent = true;
    absent_with_range.success_count = Some(CountRange::at_least(1));
    let mut reversed = b_metrics();
    let mut range = CountRange::at_most(2);
    range.min = Some(3);
    reversed.failure_count = Some(range);
    let mut unnamed_peer = b_metrics();
    let mut peer = MetricsResource::new("Deployment", "x");
    peer.name = None;
    unnamed_peer.edge = Some(MetricsEdge::new(EdgeDirection::To, peer));
    for (op, text) in [
        (absent_without_edge, "absent needs an edge"),
        (absent_with_range, "absent needs an edge"),
        (reversed, "min 3 is above max 2"),
        (unnamed_peer, "edge.resource needs a name"),
    ] {
        let e = suite(op).unwrap_err();
        assert!(e.to_string().contains(text), "{e}");
    }
    assert!(suite(b_metrics()).is_ok());
    let yaml = "name: s\ntests:\n- name: t\n  steps:\n  - name: x\n    operations:\n    - metrics: {resource: {kind: Deployment, name: b}, successCount: {mni: 1}}\n";
    assert!(Suite::from_yaml(yaml).is_err(), "unknown keys are errors");
}

#[tokio::test]
async fn applying_traffic_metrics_in_a_suite_is_an_error_naming_the_read_only_api() {
    let mesh = mesh_with(&[]).await;
    let tm = json!({"apiVersion": V1ALPHA1, "kind": "TrafficMetrics",
                    "metadata": {"name": "app-b-deployment"},
                    "resource": {"kind": "Deployment", "name": "app-b-deployment"},
                    "timestamp": "2019-04-08T22:25:55Z", "window": "30s",
                    "metrics": [{"name": "success_count", "value": "1000"}]});
    let r = run_one(
        &mesh,
        Test::builder("apply-metrics")
            .step("s", vec![Operation::apply(vec![tm])])
            .build(),
    )
    .await;
    assert_eq!(
        r.status,
        Status::Error,
        "infrastructure refusal, not a failure"
    );
    let op = &r.steps[0].operations[0];
    assert!(op.message.contains("read-only"), "{}", op.message);
}
