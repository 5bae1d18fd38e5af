//! A backend written outside this crate, as a user of another mesh would: it builds its
//! `RequestRecord`s with the public constructor and reports `Error`s with the backend variants
//! (issue 13: `RequestRecord` was non-exhaustive with no constructor, so nobody could).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use smi_assert::suite::{DistributionOp, Expect, TrafficOp};
use smi_assert::{
    Error, GoDuration, InMemoryCluster, Operation, Outcome, RequestRecord, Runner, Status, Suite,
    Test, TrafficBackend, TrafficRequest,
};

/// Answers every request to `app-b` with HTTP 200 from `app-b-v1` and resets everything else.
#[derive(Debug, Default)]
struct FixedMesh {
    next: AtomicU64,
}

#[async_trait]
impl TrafficBackend for FixedMesh {
    async fn send(&self, request: &TrafficRequest) -> smi_assert::Result<RequestRecord> {
        if request.source != "app-a" {
            return Err(Error::Send {
                source_workload: format!("{}/{}", request.namespace, request.source),
                reason: "no such workload".into(),
                // A backend chains its own client's error as the cause.
                source: Some(Box::new(std::io::Error::other("lookup refused"))),
            });
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let record = if request.url.contains("app-b") {
            RequestRecord::new(
                id,
                &request.method,
                &request.url,
                Outcome::Http { status: 200 },
            )
            .served_by("app-b-v1")
            .latency(Duration::from_micros(250))
        } else {
            RequestRecord::new(id, &request.method, &request.url, Outcome::Reset)
        };
        Ok(record)
    }
}

#[tokio::test]
async fn a_traffic_backend_from_outside_the_crate_runs_suites() {
    let mut served = TrafficOp::new("app-a", "http://app-b:9091/echo", Expect::Allowed);
    served.served_by = Some("app-b-v1".into());
    let suite = Suite::builder("outside")
        .test(
            Test::builder("served-and-reset")
                .step("b-serves", vec![Operation::Traffic(served)])
                .step(
                    "c-is-reset",
                    vec![Operation::Traffic(TrafficOp::new(
                        "app-a",
                        "http://app-c:9091/echo",
                        Expect::Denied,
                    ))],
                )
                .build(),
        )
        .test(
            Test::builder("unknown-source")
                .step(
                    "send",
                    vec![Operation::Traffic(TrafficOp::new(
                        "nobody",
                        "http://app-b:9091/echo",
                        Expect::Allowed,
                    ))],
                )
                .build(),
        )
        .build()
        .unwrap();
    let report = Runner::with_backends(
        Arc::new(InMemoryCluster::new()),
        Arc::new(FixedMesh::default()),
    )
    .build()
    .unwrap()
    .run(&suite)
    .await
    .unwrap();
    assert_eq!(
        report.tests[0].status,
        Status::Passed,
        "{}",
        report.tests[0].message
    );
    // A backend error is infrastructure trouble: an error, not a conformance failure.
    assert_eq!(report.tests[1].status, Status::Error);
    // The report's message is the error with its causes.
    assert!(
        report.tests[1]
            .message
            .ends_with("/nobody: no such workload: lookup refused"),
        "{}",
        report.tests[1].message
    );
    let e = FixedMesh::default()
        .send(&TrafficRequest::get("ns", "nobody", "http://app-b:9091/"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "failed to send traffic from ns/nobody: no such workload"
    );
    let cause = std::error::Error::source(&e).expect("the backend's cause is chained");
    assert_eq!(cause.to_string(), "lookup refused");
}

/// Answers the first `answer` requests at once, alternating `v1` and `v2`, and never
/// answers the ones after.
#[derive(Debug)]
struct StallsAfter {
    answer: u64,
    next: AtomicU64,
}

#[async_trait]
impl TrafficBackend for StallsAfter {
    async fn send(&self, request: &TrafficRequest) -> smi_assert::Result<RequestRecord> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if id >= self.answer {
            std::future::pending::<()>().await;
        }
        let backend = if id % 2 == 0 { "v1" } else { "v2" };
        Ok(RequestRecord::new(
            id,
            &request.method,
            &request.url,
            Outcome::Http { status: 200 },
        )
        .served_by(backend))
    }
}

/// Runs a suite of one test with one step of one operation, `mesh` carrying its traffic.
async fn run_one(op: Operation, mesh: impl TrafficBackend + 'static) -> smi_assert::Report {
    let suite = Suite::builder("one")
        .test(Test::builder("one").step("op", vec![op]).build())
        .build()
        .unwrap();
    Runner::with_backends(Arc::new(InMemoryCluster::new()), Arc::new(mesh))
        .build()
        .unwrap()
        .run(&suite)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_distribution_attempt_that_times_out_reports_what_was_answered() {
    let mut op = DistributionOp::new(
        "app-a",
        "http://app-b:9091/",
        [("v1".to_owned(), 1), ("v2".to_owned(), 1)],
    );
    op.requests = 20;
    op.timeout = Some(GoDuration::parse("200ms").unwrap());
    let mesh = StallsAfter {
        answer: 7,
        next: AtomicU64::new(0),
    };
    let report = run_one(Operation::Distribution(op), mesh).await;
    let test = &report.tests[0];
    assert_eq!(test.status, Status::Failed, "{}", test.message);
    let op = &test.steps[0].operations[0];
    assert!(
        op.message
            .ends_with("did not finish 20 requests within 200ms (7 answered)"),
        "{}",
        op.message
    );
    let unfinished = &op.evidence["unfinished"];
    assert_eq!(unfinished["attempt"], 1, "{}", op.evidence);
    assert_eq!(unfinished["served"]["v1"], 4, "{}", op.evidence);
    assert_eq!(unfinished["served"]["v2"], 3, "{}", op.evidence);
}

#[tokio::test]
async fn credentials_in_requests_never_reach_a_report() {
    let mut op = TrafficOp::new(
        "app-a",
        "http://admin:hunter2@app-c:9091/echo?access_token=t0k3n&page=2",
        Expect::Allowed,
    );
    op.headers
        .insert("Authorization".into(), "Bearer s3kr1t-bearer".into());
    op.timeout = Some(GoDuration::parse("300ms").unwrap());
    let report = run_one(Operation::Traffic(op), FixedMesh::default()).await;
    assert_eq!(
        report.tests[0].status,
        Status::Failed,
        "{:?}",
        report.tests[0]
    );
    let outputs = [
        report.to_json().to_string(),
        report.to_junit_xml(),
        report.to_meshery_response().to_string(),
        report.to_meshery_adapter_json().to_string(),
        report.summary(),
        format!("{report:?}"),
    ];
    for out in &outputs {
        for secret in ["hunter2", "t0k3n", "s3kr1t-bearer"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
    }
    // The request is still named, with what is hidden marked.
    assert!(
        outputs[0].contains("http://***@app-c:9091/echo?access_token=***&page=2"),
        "{}",
        outputs[0]
    );
}
