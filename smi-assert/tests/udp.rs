//! UDP through the loopback mesh: datagrams are echoed when a UDPRoute allows them and dropped
//! (a timeout at the source) otherwise.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use smi_assert::backend::loopback::LoopbackMesh;
use smi_assert::backend::{ClusterBackend, Outcome, TrafficBackend, TrafficRequest};
use smi_assert::report::Status;
use smi_assert::suite::{DenialClass, Expect, Operation, Suite, Test, TrafficOp};

use crate::{mesh_with, runner};

fn udp_app() -> Vec<Value> {
    smi_assert::conformance::suite().unwrap().fixtures["udp-app"].clone()
}

fn target(rule_kind: &str, rule: &str) -> Value {
    json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget",
           "metadata": {"name": format!("to-b-{}", rule_kind.to_lowercase())},
           "spec": {"destination": {"kind": "ServiceAccount", "name": "service-b"},
                    "sources": [{"kind": "ServiceAccount", "name": "service-a"}],
                    "rules": [{"kind": rule_kind, "name": rule}]}})
}

fn route(kind: &str, name: &str, ports: &[u16]) -> Value {
    json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": kind,
           "metadata": {"name": name}, "spec": {"matches": {"ports": ports}}})
}

async fn send(mesh: &Arc<LoopbackMesh>, from: &str, to: &str) -> (Outcome, Option<String>) {
    let mut req = TrafficRequest::get("u", from, to);
    req.timeout = Duration::from_millis(200);
    let r = mesh.send(&req).await.unwrap();
    (r.outcome, r.served_by)
}

#[tokio::test]
async fn udp_is_echoed_only_when_a_udp_route_allows_that_source_and_port() {
    let mesh = mesh_with(&[]).await;
    mesh.create_namespace("u", &BTreeMap::new(), &BTreeMap::new())
        .await
        .unwrap();
    for o in udp_app() {
        mesh.apply(&o, "u").await.unwrap();
    }
    let b = "udp://app-b:9092";
    assert_eq!(
        send(&mesh, "app-a", b).await.0,
        Outcome::Timeout,
        "default deny"
    );
    // A TCPRoute allows HTTP (over TCP), never UDP.
    mesh.apply(&route("TCPRoute", "tcp", &[]), "u")
        .await
        .unwrap();
    mesh.apply(&target("TCPRoute", "tcp"), "u").await.unwrap();
    assert_eq!(send(&mesh, "app-a", b).await.0, Outcome::Timeout);
    assert!(
        send(&mesh, "app-a", "http://app-b:9091/echo")
            .await
            .0
            .is_served()
    );
    mesh.apply(&route("UDPRoute", "udp", &[9092]), "u")
        .await
        .unwrap();
    mesh.apply(&target("UDPRoute", "udp"), "u").await.unwrap();
    assert_eq!(
        send(&mesh, "app-a", b).await,
        (Outcome::Datagram, Some("app-b".into()))
    );
    assert_eq!(
        send(&mesh, "app-c", b).await.0,
        Outcome::Timeout,
        "not a source"
    );
    assert_eq!(
        send(&mesh, "app-a", "udp://app-b:9093").await.0,
        Outcome::Timeout,
        "port not in the route"
    );
    assert_eq!(
        send(&mesh, "app-a", "udp://app-b:9091").await.0,
        Outcome::Timeout,
        "9091 is a TCP port of the Service"
    );
    assert_eq!(
        send(&mesh, "app-a", "udp://app-b.u.svc.cluster.local:9092")
            .await
            .0,
        Outcome::Datagram
    );
    let w = mesh
        .workload_addresses()
        .into_iter()
        .find(|w| w.deployment == "app-b-deployment")
        .unwrap();
    assert!(w.udp_echo.ip().is_loopback() && w.udp_sidecar.ip().is_loopback());
    mesh.delete_namespace("u").await.unwrap();
}

#[tokio::test]
async fn a_udp_traffic_operation_passes_and_fails_for_the_right_reason() {
    let mesh = mesh_with(&[]).await;
    let op = |from: &str, expect: Expect| {
        let mut t = TrafficOp::new(from, "udp://app-b:9092", expect);
        t.request_timeout = Some(smi_assert::GoDuration::parse("150ms").unwrap());
        Operation::Traffic(t)
    };
    let run = |steps: Vec<Operation>| {
        let mesh = mesh.clone();
        async move {
            let suite = Suite::builder("udp")
                .test(
                    Test::builder("t")
                        .step("install", vec![Operation::apply(udp_app())])
                        .step("check", steps)
                        .build(),
                )
                .build()
                .unwrap();
            let report = runner(&mesh).build().unwrap().run(&suite).await.unwrap();
            report.tests.into_iter().next().unwrap()
        }
    };
    let policy = Operation::apply(vec![
        route("UDPRoute", "udp", &[]),
        target("UDPRoute", "udp"),
    ]);
    let r = run(vec![op("app-a", Expect::Denied)]).await;
    assert_eq!(r.status, Status::Passed, "{}", r.message);
    let ev = &r.steps[1].operations[0].evidence;
    assert_eq!(ev["outcomes"]["timeout"], 3, "{ev}");
    let r = run(vec![op("app-a", Expect::Allowed)]).await;
    assert_eq!(r.status, Status::Failed);
    assert!(r.message.contains("got timeout ×"), "{}", r.message);
    let r = run(vec![policy.clone(), op("app-a", Expect::Allowed)]).await;
    assert_eq!(r.status, Status::Passed, "{}", r.message);
    let r = run(vec![policy.clone(), op("app-a", Expect::Denied)]).await;
    assert_eq!(r.status, Status::Failed);
    assert!(r.message.contains("UDP answer from app-b"), "{}", r.message);
    // Only timeouts are UDP denials by default; other classes can be asked for explicitly.
    let mut refused_only = TrafficOp::new("app-a", "udp://app-b:9092", Expect::Denied);
    refused_only.denied_when = Some(vec![DenialClass::Refused]);
    refused_only.request_timeout = Some(smi_assert::GoDuration::parse("150ms").unwrap());
    let r = run(vec![Operation::Traffic(refused_only)]).await;
    assert_eq!(
        r.status,
        Status::Failed,
        "a drop is a timeout, not a refusal"
    );
}
