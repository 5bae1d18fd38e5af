//! [`KubeTraffic`](super::KubeTraffic) against the fake API server and its sample apps.

use super::fake::*;
use super::*;

/// Namespace `t` with app-a (source, Deployment app-a-deployment), app-b, and a split root
/// `app-svc` over app-b and app-c, like the bundled suite's fixtures.
async fn mesh_fixture() -> (Fake, KubeTraffic) {
    let fake = Fake::start().await;
    fake.app_pod("t", "app-a-7d9-x1", "app-a", json!({"app": "app-a"}));
    fake.app_pod(
        "t",
        "app-b-5c4-y2",
        "app-b",
        json!({"app": "app", "version": "b"}),
    );
    fake.app_pod(
        "t",
        "app-c-6f8-z3",
        "app-c",
        json!({"app": "app", "version": "c"}),
    );
    fake.app_pod("other", "app-z-1", "app-z", json!({"app": "app-z"}));
    fake.deployment("t", "app-a-deployment", json!({"app": "app-a"}));
    fake.service("t", "app-a", json!({"app": "app-a"}));
    fake.service("t", "app-svc", json!({"app": "app"}));
    let traffic = KubeTraffic::new(fake.client());
    (fake, traffic)
}

fn echo_from_a(url: &str) -> TrafficRequest {
    TrafficRequest::get("t", "app-a-deployment", url)
}

#[tokio::test]
async fn an_allowed_request_reports_the_status_and_the_backend_that_served_it() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|caller, url, method| {
        assert_eq!(
            (caller, url, method),
            ("app-a", "http://app-b:9091/echo", "GET")
        );
        Route::Serve {
            backend: "app-b".into(),
            status: 200,
        }
    });
    let mut req = echo_from_a("http://app-b:9091/echo");
    req.headers.push(("x-user".into(), "alice".into()));
    let rec = traffic.send(&req).await.unwrap();
    assert_eq!(rec.outcome, Outcome::Http { status: 200 });
    assert_eq!(rec.served_by.as_deref(), Some("app-b"));
    assert_eq!(rec.url, "http://app-b:9091/echo");
    let reqs = fake.requests();
    let call: Vec<&Recorded> = reqs
        .iter()
        .filter(|r| r.path.ends_with("/proxy/call"))
        .collect();
    assert_eq!(call.len(), 1, "{reqs:#?}");
    let call = call[0];
    assert_eq!(call.method, "POST");
    assert_eq!(
        call.path,
        "/api/v1/namespaces/t/pods/app-a-7d9-x1:9091/proxy/call"
    );
    assert_eq!(call.content_type.as_deref(), Some("application/json"));
    let token = call.body["headers"]["x-request-id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(token.starts_with("smi-assert-"), "{token}");
    assert_eq!(
        call.body,
        json!({"url": "http://app-b:9091/echo", "method": "GET", "body": "",
               "headers": {"x-user": "alice", "x-request-id": token}})
    );
    let log = reqs.iter().find(|r| r.path.ends_with("/log")).unwrap();
    assert_eq!(log.path, "/api/v1/namespaces/t/pods/app-a-7d9-x1/log");
    assert_eq!(log.query.get("container").map(String::as_str), Some("app"));
    assert_eq!(log.query.get("tailLines").map(String::as_str), Some("400"));
    // The source was found through its Deployment's selector.
    assert!(reqs.iter().any(|r| r.path == "/api/v1/namespaces/t/pods"
        && r.query.get("labelSelector").map(String::as_str) == Some("app=app-a")));
    // Counters of the apps in the target namespace only.
    assert!(reqs.iter().all(|r| !r.path.contains("app-z-1")));
    // A second request gets a new id.
    let rec2 = traffic.send(&req).await.unwrap();
    assert_eq!(rec2.id, rec.id + 1);
}

#[tokio::test]
async fn a_denial_by_http_status_is_an_http_outcome_without_a_backend() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|_, _, _| Route::Serve {
        backend: "app-b".into(),
        status: 403,
    });
    let rec = traffic
        .send(&echo_from_a("http://app-b.t.svc.cluster.local:9091/echo"))
        .await
        .unwrap();
    assert_eq!(rec.outcome, Outcome::Http { status: 403 });
    assert_eq!(rec.served_by, None);
}

#[tokio::test]
async fn transport_errors_are_classified_from_the_sample_apps_log() {
    let (fake, traffic) = mesh_fixture().await;
    let cases = [
        ("EOF", Outcome::Eof),
        (
            "read tcp 10.244.0.5:40312->10.96.12.1:9091: read: connection reset by peer",
            Outcome::Reset,
        ),
        (
            "dial tcp 10.96.12.1:9091: connect: connection refused",
            Outcome::Refused,
        ),
        (
            "dial tcp: lookup app-q on 10.96.0.10:53: no such host",
            Outcome::Other {
                message: "GET \"http://app-b:9091/echo\": dial tcp: lookup app-q on \
                          10.96.0.10:53: no such host"
                    .into(),
            },
        ),
    ];
    for (err, want) in cases {
        let err = err.to_string();
        fake.set_mesh(move |_, _, _| Route::Transport(err.clone()));
        let rec = traffic
            .send(&echo_from_a("http://app-b:9091/echo"))
            .await
            .unwrap();
        assert_eq!(rec.outcome, want);
        assert_eq!(rec.served_by, None);
    }
}

#[tokio::test]
async fn split_traffic_names_the_backend_that_answered() {
    let (fake, traffic) = mesh_fixture().await;
    let n = Arc::new(Mutex::new(0u32));
    fake.set_mesh(move |_, _, _| {
        let mut n = n.lock().unwrap();
        *n += 1;
        Route::Serve {
            backend: if *n % 3 == 0 { "app-b" } else { "app-c" }.into(),
            status: 200,
        }
    });
    let mut served = Vec::new();
    for _ in 0..6 {
        let rec = traffic
            .send(&echo_from_a("http://app-svc.t.svc.cluster.local:9091/echo"))
            .await
            .unwrap();
        served.push(rec.served_by.unwrap());
    }
    assert_eq!(
        served,
        ["app-c", "app-c", "app-b", "app-c", "app-c", "app-b"]
    );
}

#[tokio::test]
async fn a_source_named_by_its_service_uses_that_services_pods() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|caller, _, _| {
        assert_eq!(caller, "app-a");
        Route::Serve {
            backend: "app-b".into(),
            status: 200,
        }
    });
    let rec = traffic
        .send(&TrafficRequest::get("t", "app-a", "http://app-b:9091/echo"))
        .await
        .unwrap();
    assert_eq!(rec.outcome, Outcome::Http { status: 200 });
}

#[tokio::test]
async fn a_missing_or_unready_source_is_a_send_error() {
    let (fake, traffic) = mesh_fixture().await;
    let err = traffic
        .send(&TrafficRequest::get(
            "t",
            "nobody",
            "http://app-b:9091/echo",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        Error::Send {
            source_workload: "t/nobody".into(),
            reason: "no Deployment or Service named nobody".into(),
            source: None,
        }
        .to_string()
    );
    let mut pod = fake
        .object("/api/v1/namespaces/t/pods/app-a-7d9-x1")
        .unwrap();
    pod["status"]["conditions"][0]["status"] = json!("False");
    fake.put("/api/v1/namespaces/t/pods/app-a-7d9-x1", pod);
    let err = traffic
        .send(&echo_from_a("http://app-b:9091/echo"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Send { reason, .. } if reason == "app-a-deployment has no running and ready pod"),
        "{err:?}"
    );
    assert!(fake.requests().iter().all(|r| !r.path.ends_with("/call")));
}

#[tokio::test]
async fn udp_traffic_is_a_send_error_because_the_sample_app_speaks_http_only() {
    let (fake, traffic) = mesh_fixture().await;
    let err = traffic
        .send(&echo_from_a("udp://app-b:9092"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        Error::Send {
            source_workload: "t/app-a-deployment".into(),
            reason: "cannot send udp://app-b:9092: the learn-layer5 sample app makes HTTP \
                     requests only"
                .into(),
            source: None,
        }
        .to_string()
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn an_api_server_that_cannot_proxy_is_a_send_error_not_a_denial() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_override(
        "POST",
        "/api/v1/namespaces/t/pods/app-a-7d9-x1:9091/proxy/call",
        502,
        status_body(
            502,
            "BadGateway",
            "error trying to reach service: read: connection reset by peer",
        ),
        Duration::ZERO,
    );
    let err = traffic
        .send(&echo_from_a("http://app-b:9091/echo"))
        .await
        .unwrap_err();
    let Error::Send { reason, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        reason,
        "the API server cannot proxy to pod app-a-7d9-x1 port 9091"
    );
    let cause = api_cause(&err);
    assert_eq!(cause.code(), Some(502));
    assert_eq!(
        cause.to_string(),
        "HTTP 502 BadGateway: error trying to reach service: read: connection reset by peer"
    );
}

#[tokio::test]
async fn a_source_that_does_not_log_its_calls_is_a_send_error() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|_, _, _| Route::Unlogged);
    let err = traffic
        .send(&echo_from_a("http://app-b:9091/echo"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Send { reason, .. } if reason.contains("has no record of request smi-assert-") && reason.contains("learn-layer5")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_request_the_mesh_holds_past_the_timeout_is_a_timeout() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_mesh(|_, _, _| Route::Hang(Duration::from_secs(2), "app-b".into()));
    let mut req = echo_from_a("http://app-b:9091/echo");
    req.timeout = Duration::from_millis(300);
    let rec = traffic.send(&req).await.unwrap();
    assert_eq!(rec.outcome, Outcome::Timeout);
    assert!(rec.latency_us >= 300_000, "{}", rec.latency_us);
    assert_eq!(rec.served_by, None);
}

#[tokio::test]
async fn a_call_the_api_server_never_delivers_is_a_send_error_not_a_timeout() {
    let (fake, traffic) = mesh_fixture().await;
    fake.set_override(
        "POST",
        "/api/v1/namespaces/t/pods/app-a-7d9-x1:9091/proxy/call",
        200,
        json!({}),
        Duration::from_secs(10),
    );
    let mut req = echo_from_a("http://app-b:9091/echo");
    req.timeout = Duration::from_millis(200);
    let err = traffic.send(&req).await.unwrap_err();
    assert!(
        matches!(&err, Error::Send { reason, .. } if reason.contains("did not reach the sample app of pod app-a-7d9-x1")),
        "{err:?}"
    );
}

#[tokio::test]
async fn failed_api_calls_name_the_step_and_chain_the_servers_answer() {
    let (fake, traffic) = mesh_fixture().await;
    let boom = status_body(500, "InternalError", "etcd is on fire");
    let deployment = "/apis/apps/v1/namespaces/t/deployments/app-a-deployment";
    fake.set_override("GET", deployment, 500, boom.clone(), Duration::ZERO);
    let err = traffic
        .send(&echo_from_a("http://app-b:9091/echo"))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Send { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "failed to send traffic from t/app-a-deployment: get Deployment app-a-deployment"
    );
    assert_eq!(
        api_cause(&err).to_string(),
        "HTTP 500 InternalError: etcd is on fire"
    );

    // The source is found, but its log cannot be read.
    let (fake, traffic) = mesh_fixture().await;
    let log = "/api/v1/namespaces/t/pods/app-a-7d9-x1/log";
    fake.set_override("GET", log, 500, boom, Duration::ZERO);
    let err = traffic
        .send(&echo_from_a("http://app-b:9091/echo"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to send traffic from t/app-a-deployment: cannot read the log of pod app-a-7d9-x1"
    );
    assert_eq!(api_cause(&err).code(), Some(500));
}
