//! [`KubeEchoTraffic`] against the fake API server: the exec request it makes (pod, container,
//! the echo client's command line), how it reads the client's output, and its errors.

use super::fake::{Fake, Recorded};
use super::*;
use crate::backend::kube::KubeEchoTraffic;
use crate::backend::kube::echo_traffic::{classify_failure, client_args, deployment_of};

fn running_pod(fake: &Fake, ns: &str, name: &str, labels: Value) {
    fake.put(
        &format!("/api/v1/namespaces/{ns}/pods/{name}"),
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns, "labels": labels},
               "spec": {"containers": [{"name": "echo", "image": "echo"}]},
               "status": {"phase": "Running", "podIP": "10.0.0.7"}}),
    );
}

fn echo_deployment(fake: &Fake, ns: &str) {
    fake.put(
        &format!("/apis/apps/v1/namespaces/{ns}/deployments/echo-v1"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "echo-v1", "namespace": ns},
               "spec": {"selector": {"matchLabels": {"app": "echo", "version": "v1"}},
                        "template": {"metadata": {"labels": {"app": "echo", "version": "v1"}},
                                     "spec": {"containers": [{"name": "echo", "image": "echo"}]}}}}),
    );
    running_pod(
        fake,
        ns,
        "echo-v1-7f9c8d6b5-abcde",
        json!({"app": "echo", "version": "v1"}),
    );
}

#[tokio::test]
async fn a_request_execs_the_echo_client_in_the_source_pod_and_reads_its_report() {
    let fake = Fake::start().await;
    echo_deployment(&fake, "mesh");
    let traffic = KubeEchoTraffic::new(fake.client());
    let mut req = TrafficRequest::get("mesh", "echo-v1", "http://echo-v2/v2/x?y=1");
    req.headers = vec![
        ("Host".into(), "echo-v1".into()),
        ("x-a".into(), "b".into()),
    ];
    req.timeout = Duration::from_millis(1500);
    let rec = traffic.send(&req).await.unwrap();
    assert_eq!(rec.outcome, Outcome::Http { status: 200 });
    assert_eq!(rec.served_by.as_deref(), Some("echo-v2"));
    let details = rec.response.unwrap();
    assert_eq!(details.header("x-echo").as_deref(), Some("yes"));
    let echo = details.echo.unwrap();
    assert_eq!(echo.path(), Some("/v2/x"));
    assert_eq!(echo.method.as_deref(), Some("GET"));
    assert_eq!(echo.request_header("x-a").as_deref(), Some("b"));
    let execs: Vec<Recorded> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/exec"))
        .collect();
    assert_eq!(execs.len(), 1);
    assert_eq!(
        execs[0].path,
        "/api/v1/namespaces/mesh/pods/echo-v1-7f9c8d6b5-abcde/exec"
    );
    assert_eq!(
        execs[0].query.get("container").map(String::as_str),
        Some("echo")
    );
    assert_eq!(
        execs[0].body["command"],
        json!([
            "client",
            "http://echo-v2/v2/x?y=1",
            "--method=GET",
            "-H",
            "Host:echo-v1",
            "-H",
            "x-a:b",
            "--timeout=1500ms"
        ])
    );
}

#[tokio::test]
async fn a_failed_client_run_is_classified_from_its_error_output() {
    let fake = Fake::start().await;
    echo_deployment(&fake, "mesh");
    fake.lock().exec = Some(Arc::new(|_: &str, _: &[String]| {
        (
            String::new(),
            "Error: dial tcp 10.96.0.9:80: connect: connection refused\n".into(),
        )
    }));
    let traffic = KubeEchoTraffic::new(fake.client());
    let rec = traffic
        .send(&TrafficRequest::get("mesh", "echo-v1", "http://echo/"))
        .await
        .unwrap();
    assert_eq!(rec.outcome, Outcome::Refused);
    assert!(rec.served_by.is_none());
}

#[tokio::test]
async fn a_missing_source_is_an_error_naming_it() {
    let fake = Fake::start().await;
    let traffic = KubeEchoTraffic::new(fake.client());
    let e = traffic
        .send(&TrafficRequest::get("mesh", "nope", "http://echo/"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Send { .. }), "{e:?}");
    assert!(e.to_string().contains("mesh/nope"), "{e}");
}

#[tokio::test]
async fn a_failed_source_lookup_chains_the_servers_answer() {
    let fake = Fake::start().await;
    fake.set_override(
        "GET",
        "/apis/apps/v1/namespaces/mesh/deployments/src",
        500,
        super::fake::status_body(500, "InternalError", "etcd is on fire"),
        Duration::ZERO,
    );
    let traffic = KubeEchoTraffic::new(fake.client());
    let e = traffic
        .send(&TrafficRequest::get("mesh", "src", "http://echo/"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Send { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "failed to send traffic from mesh/src: get Deployment"
    );
    let cause = api_cause(&e);
    assert_eq!(cause.code(), Some(500));
    assert_eq!(cause.to_string(), "HTTP 500 InternalError: etcd is on fire");
}

#[test]
fn grpc_targets_take_no_method_and_pods_map_to_their_deployment() {
    let mut req = TrafficRequest::get("ns", "echo-v1", "grpc://echo:7070");
    req.timeout = Duration::from_secs(2);
    assert_eq!(
        client_args(&req),
        vec!["client", "grpc://echo:7070", "--timeout=2000ms"]
    );
    assert_eq!(deployment_of("echo-v1-7f9c8d6b5-abcde"), "echo-v1");
    assert_eq!(deployment_of("standalone"), "standalone");
    assert_eq!(
        classify_failure("read: connection reset by peer"),
        Outcome::Reset
    );
    assert_eq!(
        classify_failure("context deadline exceeded"),
        Outcome::Timeout
    );
    assert_eq!(classify_failure("unexpected EOF"), Outcome::Eof);
}

#[tokio::test]
async fn a_batch_is_one_exec_with_count_and_each_answer_is_a_record() {
    let fake = Fake::start().await;
    echo_deployment(&fake, "mesh");
    // Four of five answers, as the echo client prints them with `--count`: every line of
    // answer i prefixed `[i]`; the fifth request timed out.
    fake.lock().exec = Some(Arc::new(|_: &str, args: &[String]| {
        assert_eq!(args.last().map(String::as_str), Some("--count=5"));
        let mut out = String::new();
        for i in 0..4 {
            let pod = if i % 2 == 0 {
                "echo-v1-7f9c8d6b5-abcde"
            } else {
                "echo-v2-5d8f9c7b4-x2x7q"
            };
            out.push_str(&format!(
                "[{i}] StatusCode=200\n[{i}] Hostname={pod}\n[{i}] URL=/\n\n"
            ));
        }
        (out, "Error: context deadline exceeded\n".into())
    }));
    let traffic = KubeEchoTraffic::new(fake.client());
    let req = TrafficRequest::get("mesh", "echo-v1", "http://echo/");
    let mut records = Vec::new();
    traffic.send_batch(&req, 5, &mut records).await.unwrap();
    assert_eq!(records.len(), 5);
    let served: Vec<Option<&str>> = records.iter().map(|r| r.served_by.as_deref()).collect();
    assert_eq!(
        served,
        [
            Some("echo-v1"),
            Some("echo-v2"),
            Some("echo-v1"),
            Some("echo-v2"),
            None
        ]
    );
    for r in &records[..4] {
        assert_eq!(r.outcome, Outcome::Http { status: 200 });
    }
    match &records[4].outcome {
        Outcome::Other { message } => assert_eq!(
            message,
            "the client printed 4 of 5 answers: Error: context deadline exceeded"
        ),
        o => panic!("{o:?}"),
    }
    let execs = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/exec"))
        .count();
    assert_eq!(execs, 1, "one exec for the whole batch");
}
