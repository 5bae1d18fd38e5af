//! Every operation passes and fails for the right reason.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use smi_assert::backend::loopback::{LoopbackConfig, LoopbackMesh};
use smi_assert::backend::{ClusterBackend, ObjectRef, Outcome, TrafficRequest};
use smi_assert::matcher::ListMode;
use smi_assert::report::{Status, TestResult};
use smi_assert::runner::{CheckContext, CheckOutcome, CustomCheck, Runner};
use smi_assert::suite::{
    AssertOp, DenialClass, DistributionOp, Expect, Operation, Suite, Test, TrafficOp,
};

use crate::{access_app, mesh_with, runner, split_app, tcp_policy};

async fn run_one(mesh: &Arc<LoopbackMesh>, test: Test) -> TestResult {
    let suite = Suite::builder("ops")
        .test(test)
        .build()
        .expect("valid suite");
    let report = runner(mesh).build().unwrap().run(&suite).await.unwrap();
    report.tests.into_iter().next().unwrap()
}

fn last_op(t: &TestResult) -> &smi_assert::report::OperationResult {
    t.steps
        .iter()
        .rev()
        .find_map(|s| s.operations.last())
        .expect("an operation ran")
}

fn traffic(from: &str, path: &str, expect: Expect) -> Operation {
    Operation::Traffic(TrafficOp::new(
        from,
        format!("http://app-b:9091{path}"),
        expect,
    ))
}

#[tokio::test]
async fn apply_and_assert_pass_on_a_matching_object() {
    let mesh = mesh_with(&[]).await;
    let t = Test::builder("ok")
        .step(
            "s",
            vec![
                Operation::apply(access_app()),
                Operation::assert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "app-b-deployment"}, "status": {"readyReplicas": 1}})),
            ],
        )
        .build();
    let r = run_one(&mesh, t).await;
    assert_eq!(r.status, Status::Passed, "{r:?}");
    assert!(r.namespace.starts_with("smi-ok-"));
}

#[tokio::test]
async fn an_invalid_manifest_is_an_error_not_a_failure() {
    let mesh = mesh_with(&[]).await;
    let bad = json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup",
                     "metadata": {"name": "g"}, "matches": [{"name": "m"}]});
    let r = run_one(
        &mesh,
        Test::builder("bad")
            .step("s", vec![Operation::apply(vec![bad])])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Error);
    let op = last_op(&r);
    assert!(op.message.contains("/matches"), "{}", op.message);
    assert!(op.evidence["violations"].is_array());
}

#[tokio::test]
async fn assert_fails_with_every_mismatch_path_and_absent_or_missing_objects_are_named() {
    let mesh = mesh_with(&[]).await;
    let mut wrong = AssertOp::new(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "app-b"},
        "spec": {"selector": {"app": "nope"}, "ports": [{"port": 1}]}}),
    );
    wrong.lists = ListMode::Ordered;
    let r = run_one(
        &mesh,
        Test::builder("mismatch")
            .step(
                "s",
                vec![Operation::apply(access_app()), Operation::Assert(wrong)],
            )
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed);
    let op = last_op(&r);
    let mut paths: Vec<&str> = op.evidence["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/spec/ports/0/port", "/spec/selector/app"]);
    assert!(
        op.message.contains("within 600ms"),
        "timeout inherited from the runner: {}",
        op.message
    );

    let r = run_one(
        &mesh,
        Test::builder("missing")
            .step(
                "s",
                vec![Operation::assert(
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ghost"}}),
                )],
            )
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed);
    assert!(last_op(&r).message.contains("not found"));
}

#[tokio::test]
async fn list_modes_decide_whether_an_assert_matches() {
    let mesh = mesh_with(&[]).await;
    let split = json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
        "metadata": {"name": "s"},
        "spec": {"service": "app-svc", "backends": [{"service": "app-b", "weight": 75}, {"service": "app-c", "weight": 25}]}});
    let expected = json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
        "metadata": {"name": "s"}, "spec": {"backends": [{"service": "app-c", "weight": 25}]}});
    let mut keyed = AssertOp::new(expected.clone());
    keyed.list_modes = BTreeMap::from([(
        "/spec/backends".to_string(),
        ListMode::Keyed("service".into()),
    )]);
    let mut contains = AssertOp::new(expected.clone());
    contains.lists = ListMode::Contains;
    let r = run_one(
        &mesh,
        Test::builder("lists")
            .step(
                "s",
                vec![
                    Operation::apply(vec![split]),
                    Operation::Assert(keyed),
                    Operation::Assert(contains),
                ],
            )
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Passed, "{r:?}");
    let r = run_one(
        &mesh,
        Test::builder("ordered")
            .step("s", vec![Operation::apply(vec![json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
                "metadata": {"name": "s"},
                "spec": {"service": "app-svc", "backends": [{"service": "app-b", "weight": 75}, {"service": "app-c", "weight": 25}]}})]),
                Operation::assert(expected)])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed, "ordered lists need equal length");
}

#[tokio::test]
async fn delete_then_absent_pass_and_absent_fails_while_the_object_exists() {
    let mesh = mesh_with(&[]).await;
    let tt = json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget", "metadata": {"name": "a-to-b"}});
    let r = run_one(
        &mesh,
        Test::builder("del")
            .step(
                "s",
                vec![
                    Operation::apply(tcp_policy()),
                    Operation::delete(vec![ObjectRef::new(
                        "access.smi-spec.io/v1alpha3",
                        "TrafficTarget",
                        None,
                        "a-to-b",
                    )]),
                    Operation::absent(tt.clone()),
                ],
            )
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Passed, "{r:?}");
    let r = run_one(
        &mesh,
        Test::builder("still-there")
            .step(
                "s",
                vec![Operation::apply(tcp_policy()), Operation::absent(tt)],
            )
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed);
    assert!(last_op(&r).message.contains("still exists"));
}

#[tokio::test]
async fn traffic_denied_by_default_allowed_by_policy_and_each_fails_when_wrong() {
    let mesh = mesh_with(&[]).await;
    let r = run_one(
        &mesh,
        Test::builder("deny")
            .step("install", vec![Operation::apply(access_app())])
            .step("denied", vec![traffic("app-a", "/echo", Expect::Denied)])
            .step(
                "allowed",
                vec![
                    Operation::apply(tcp_policy()),
                    traffic("app-a", "/echo", Expect::Allowed),
                ],
            )
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Passed, "{r:?}");
    let denied = &r.steps[1].operations[0];
    assert_eq!(
        denied.evidence["outcomes"]["EOF"], 3,
        "default deny closes the connection: {denied:?}"
    );

    let r = run_one(
        &mesh,
        Test::builder("expect-allowed")
            .step("install", vec![Operation::apply(access_app())])
            .step("t", vec![traffic("app-a", "/echo", Expect::Allowed)])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed);
    assert!(
        last_op(&r).message.contains("EOF"),
        "{}",
        last_op(&r).message
    );

    let r = run_one(
        &mesh,
        Test::builder("expect-denied")
            .step(
                "install",
                vec![
                    Operation::apply(access_app()),
                    Operation::apply(tcp_policy()),
                ],
            )
            .step("t", vec![traffic("app-a", "/echo", Expect::Denied)])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed);
    assert!(
        last_op(&r).message.contains("HTTP 200 from app-b"),
        "{}",
        last_op(&r).message
    );
}

#[tokio::test]
async fn denial_classes_are_protocol_aware() {
    let mesh = mesh_with(&[]).await;
    let mut only_403 = TrafficOp::new("app-a", "http://app-b:9091/echo", Expect::Denied);
    only_403.denied_when = Some(vec![DenialClass::Http403]);
    let r = run_one(
        &mesh,
        Test::builder("eof-is-not-403")
            .step("install", vec![Operation::apply(access_app())])
            .step("t", vec![Operation::Traffic(only_403)])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed, "an EOF denial is not an HTTP 403");

    let hrg = json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup",
        "metadata": {"name": "g"}, "spec": {"matches": [{"name": "m", "pathRegex": "/metrics"}]}});
    let tt = json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget", "metadata": {"name": "t"},
        "spec": {"destination": {"kind": "ServiceAccount", "name": "service-b"},
                 "sources": [{"kind": "ServiceAccount", "name": "service-a"}],
                 "rules": [{"kind": "HTTPRouteGroup", "name": "g"}]}});
    let mut http_403 = TrafficOp::new("app-a", "http://app-b:9091/echo", Expect::Denied);
    http_403.denied_when = Some(vec![DenialClass::Http403]);
    let r = run_one(
        &mesh,
        Test::builder("l7-403")
            .step(
                "install",
                vec![
                    Operation::apply(access_app()),
                    Operation::apply(vec![hrg, tt]),
                ],
            )
            .step("t", vec![Operation::Traffic(http_403)])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Passed, "L7 denial is HTTP 403: {r:?}");
}

#[tokio::test]
async fn traffic_converges_when_policy_propagates_late_without_sleeping() {
    let mesh = Arc::new(
        LoopbackMesh::start(
            LoopbackConfig::builder()
                .seed(1)
                .policy_delay(Duration::from_millis(800))
                .build(),
        )
        .await
        .unwrap(),
    );
    let mut op = TrafficOp::new("app-a", "http://app-b:9091/echo", Expect::Allowed);
    op.timeout = Some(smi_assert::GoDuration::parse("10s").unwrap());
    let r = run_one(
        &mesh,
        Test::builder("converge")
            .step(
                "s",
                vec![
                    Operation::apply(access_app()),
                    Operation::apply(tcp_policy()),
                    Operation::Traffic(op),
                ],
            )
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Passed, "{r:?}");
    let ev = &last_op(&r).evidence;
    assert!(
        ev["sent"].as_u64().unwrap() > 3,
        "early requests were denied: {ev}"
    );
    assert_eq!(ev["outcomes"]["HTTP 200 from app-b"], 3);
}

#[tokio::test]
async fn served_by_must_match_and_a_missing_source_is_an_error() {
    let mesh = mesh_with(&[]).await;
    let mut wrong = TrafficOp::new("app-a", "http://app-b:9091/echo", Expect::Allowed);
    wrong.served_by = Some("app-c".into());
    let r = run_one(
        &mesh,
        Test::builder("served-by")
            .step(
                "s",
                vec![
                    Operation::apply(access_app()),
                    Operation::apply(tcp_policy()),
                    Operation::Traffic(wrong),
                ],
            )
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed);
    let r = run_one(
        &mesh,
        Test::builder("no-source")
            .step("s", vec![traffic("nobody", "/echo", Expect::Denied)])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Error);
    assert!(last_op(&r).message.contains("nobody"));
}

fn split(b: u64, c: u64) -> Value {
    json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit", "metadata": {"name": "s"},
           "spec": {"service": "app-svc", "backends": [{"service": "app-b", "weight": b}, {"service": "app-c", "weight": c}]}})
}

fn dist(b: u64, c: u64, n: u32) -> Operation {
    let mut d = DistributionOp::new(
        "app-a",
        "http://app-svc:9091/echo",
        [("app-b".to_string(), b), ("app-c".to_string(), c)],
    );
    d.requests = n;
    Operation::Distribution(d)
}

#[tokio::test]
async fn distribution_passes_on_the_configured_split_and_fails_on_another() {
    let mesh = mesh_with(&[]).await;
    let r = run_one(
        &mesh,
        Test::builder("dist")
            .step(
                "install",
                vec![
                    Operation::apply(split_app()),
                    Operation::apply(vec![split(75, 25)]),
                ],
            )
            .step("right", vec![dist(75, 25, 400)])
            .step("wrong", vec![dist(50, 50, 400)])
            .build(),
    )
    .await;
    assert_eq!(r.steps[1].status, Status::Passed, "{:?}", r.steps[1]);
    let ev = &r.steps[1].operations[0].evidence;
    assert!(ev["chiSquare"]["p_value"].as_f64().unwrap() >= 0.001);
    assert_eq!(r.steps[2].status, Status::Failed);
    let msg = &r.steps[2].operations[0].message;
    assert!(msg.contains("in all 2 attempt(s)"), "{msg}");
    assert_eq!(
        r.steps[2].operations[0].evidence["attempts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_single_request_to_a_zero_weight_backend_fails_the_check() {
    let mesh = mesh_with(&[]).await;
    let r = run_one(
        &mesh,
        Test::builder("zero")
            .step(
                "install",
                vec![
                    Operation::apply(split_app()),
                    Operation::apply(vec![split(1, 1)]),
                ],
            )
            .step("claim-zero", vec![dist(1, 0, 50)])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed);
    assert!(
        last_op(&r)
            .message
            .contains("app-c has weight 0 but served"),
        "{}",
        last_op(&r).message
    );
}

#[test]
fn distributions_too_small_for_the_chi_square_test_are_rejected() {
    let t = Test::builder("tiny")
        .step("s", vec![dist(99, 1, 100)])
        .build();
    let e = Suite::builder("x").test(t).build().unwrap_err();
    assert!(e.to_string().contains("at least 5"), "{e}");
}

#[derive(Debug)]
struct EchoReachable;

#[async_trait]
impl CustomCheck for EchoReachable {
    async fn check(&self, ctx: &CheckContext<'_>, args: &Value) -> CheckOutcome {
        let to = args["to"].as_str().unwrap_or("");
        let req = TrafficRequest::get(ctx.namespace(), "app-a", to);
        match ctx.traffic().send(&req).await {
            Ok(r) if matches!(r.outcome, Outcome::Http { status: 200 }) => {
                CheckOutcome::passed("reachable", json!({"servedBy": r.served_by}))
            }
            Ok(r) => CheckOutcome::failed(format!("got {}", r.outcome), Value::Null),
            Err(e) => CheckOutcome::error(e.to_string()),
        }
    }
}

#[derive(Debug)]
struct Nested;

#[async_trait]
impl CustomCheck for Nested {
    async fn check(&self, ctx: &CheckContext<'_>, _: &Value) -> CheckOutcome {
        let r = ctx.run(&Operation::custom("reach", Value::Null)).await;
        r.into()
    }
}

#[tokio::test]
async fn custom_checks_pass_fail_and_missing_ones_are_errors() {
    let mesh = mesh_with(&[]).await;
    let suite = Suite::builder("custom")
        .test(
            Test::builder("reach")
                .step(
                    "install",
                    vec![
                        Operation::apply(access_app()),
                        Operation::apply(tcp_policy()),
                    ],
                )
                .step(
                    "ok",
                    vec![Operation::custom(
                        "reach",
                        json!({"to": "http://app-b:9091/echo"}),
                    )],
                )
                .step(
                    "denied",
                    vec![Operation::custom(
                        "reach",
                        json!({"to": "http://app-c:9091/echo"}),
                    )],
                )
                .build(),
        )
        .test(
            Test::builder("missing")
                .step("s", vec![Operation::custom("nope", Value::Null)])
                .build(),
        )
        .test(
            Test::builder("nested")
                .step("s", vec![Operation::custom("nested", Value::Null)])
                .build(),
        )
        .build()
        .unwrap();
    let report = runner(&mesh)
        .custom("reach", Arc::new(EchoReachable))
        .custom("nested", Arc::new(Nested))
        .build()
        .unwrap()
        .run(&suite)
        .await
        .unwrap();
    let reach = report.test("reach").unwrap();
    assert_eq!(reach.steps[1].status, Status::Passed);
    assert_eq!(reach.steps[2].status, Status::Failed);
    assert!(reach.steps[2].operations[0].message.contains("EOF"));
    assert_eq!(report.test("missing").unwrap().status, Status::Error);
    let nested = report.test("nested").unwrap();
    assert_eq!(nested.status, Status::Error);
    assert!(nested.message.contains("cannot be nested"));
}

#[tokio::test]
async fn cleanup_always_runs_and_later_steps_are_skipped() {
    let mesh = mesh_with(&[]).await;
    let t = Test::builder("cleanup")
        .step("install", vec![Operation::apply(access_app())])
        .step(
            "fails",
            vec![Operation::assert(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ghost"}}),
            )],
        )
        .step("never", vec![Operation::sleep(Duration::from_millis(1))])
        .finally(Operation::sleep(Duration::from_millis(1)))
        .build();
    let r = run_one(&mesh, t).await;
    assert_eq!(r.status, Status::Failed);
    assert_eq!(r.steps[2].status, Status::Skipped);
    assert_eq!(r.cleanup[0].kind, "sleep");
    assert_eq!(r.cleanup.last().unwrap().status, Status::Passed);
    assert!(mesh.namespaces().await.unwrap().is_empty());
    assert!(
        mesh.workload_addresses().is_empty(),
        "workloads stopped with the namespace"
    );
}

#[tokio::test]
async fn precondition_failures_are_errors_and_unsupported_features_are_skipped() {
    let mesh = mesh_with(&[]).await;
    let t = Test::builder("pre")
        .precondition(
            "setup",
            vec![Operation::assert(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ghost"}}),
            )],
        )
        .build();
    let r = run_one(&mesh, t).await;
    assert_eq!(r.status, Status::Error);
    assert!(r.message.contains("precondition"));

    let suite = Suite::builder("skip")
        .test(
            Test::builder("ext")
                .feature("split.matches")
                .step("s", vec![Operation::sleep(Duration::ZERO)])
                .build(),
        )
        .build()
        .unwrap();
    let report = Runner::builder(mesh.clone())
        .build()
        .unwrap()
        .run(&suite)
        .await
        .unwrap();
    assert_eq!(report.tests[0].status, Status::Skipped);
    assert!(report.tests[0].message.contains("split.matches"));
}

#[tokio::test]
async fn the_in_memory_cluster_follows_the_backend_contract() {
    let c = smi_assert::backend::memory::InMemoryCluster::new();
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}});
    assert!(
        c.apply(&sa, "nowhere").await.is_err(),
        "namespace must exist"
    );
    c.create_namespace("ns", &BTreeMap::new(), &BTreeMap::new())
        .await
        .unwrap();
    c.apply(&sa, "ns").await.unwrap();
    c.apply(&json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a", "labels": {"x": "1"}}}), "ns")
        .await
        .unwrap();
    let r = ObjectRef::new("v1", "ServiceAccount", Some("ns".into()), "a");
    let got = c.get(&r).await.unwrap().unwrap();
    assert_eq!(got["metadata"]["labels"]["x"], "1", "apply merge-patches");
    assert_eq!(
        c.list("v1", "ServiceAccount", Some("ns"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(c.delete(&r).await.unwrap());
    assert!(!c.delete(&r).await.unwrap(), "not found is not an error");
    let crd = ObjectRef::new(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        None,
        "traffictargets.access.smi-spec.io",
    );
    assert!(
        c.get(&crd).await.unwrap().is_none(),
        "v1beta1 is not served"
    );
    assert!(c.delete_namespace("ns").await.unwrap());
}

#[tokio::test]
async fn an_unnamed_assert_lists_by_kind_and_labels_including_slashed_keys() {
    let mesh = mesh_with(&[]).await;
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}}});
    let by_label = |v: &str| {
        Operation::assert(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"labels": {"app.kubernetes.io/name": v}}}))
    };
    let r = run_one(
        &mesh,
        Test::builder("labels")
            .step("s", vec![Operation::apply(vec![sa.clone()]), by_label("x")])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Passed, "{r:?}");
    let r = run_one(
        &mesh,
        Test::builder("labels-miss")
            .step("s", vec![Operation::apply(vec![sa]), by_label("y")])
            .build(),
    )
    .await;
    assert_eq!(r.status, Status::Failed);
    assert!(
        last_op(&r).message.contains("not found"),
        "{}",
        last_op(&r).message
    );
}
