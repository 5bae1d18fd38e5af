//! Parts of a distributed run (execution segments, synchronised start) run side by side in
//! one process: together they send exactly the whole run's load, and their results merge.

use std::time::{Duration, SystemTime};

use smps_load::reference::ReferenceServer;
use smps_load::{ArrivalPlan, Engine, EngineBuilder, ExecutionPart, LoadModel, Report, merge};

use crate::RunToEnd;

fn parts(n: u64) -> Vec<ExecutionPart> {
    (0..n).map(|i| ExecutionPart::nth(i, n).unwrap()).collect()
}

/// Runs every builder at once and returns their reports, in order.
async fn run_all(builders: Vec<EngineBuilder>) -> Vec<Report> {
    let runs = builders
        .into_iter()
        .map(|b| async move { b.run_to_end().await });
    futures_util::future::join_all(runs).await
}

/// The merged result of every report.
fn merge_all(reports: &[Report]) -> Report {
    let portable: Vec<_> = reports.iter().map(|r| r.to_portable().unwrap()).collect();
    merge(&portable).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_parts_started_together_send_exactly_the_planned_requests() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let whole = || {
        Engine::builder()
            .url(server.url("/"))
            .connections(8)
            .workers(2)
            .rate(300.0)
            .duration(Duration::from_secs(1))
            .dispatch_lag_limit(Duration::from_secs(1))
    };
    let at = SystemTime::now() + Duration::from_millis(300);
    let reports = run_all(
        parts(3)
            .into_iter()
            .map(|p| whole().segment(p).start_at(at))
            .collect(),
    )
    .await;
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.parts.len(), 1);
        let p = &r.parts[0];
        assert_eq!(
            p.segment.as_deref(),
            Some(
                ExecutionPart::nth(i as u64, 3)
                    .unwrap()
                    .segment()
                    .to_string()
                    .as_str()
            )
        );
        assert_eq!(p.sequence.as_deref(), Some("0,1/3,2/3,1"));
        // Started at the instant (within a busy machine's timer slack), and says how late.
        let late = r.start_late().unwrap();
        assert!(
            late < Duration::from_millis(250),
            "part {i} late by {late:?}"
        );
        assert_eq!(r.settings.requested_rps, Some(100.0));
        // 300 arrivals of 1 s, dealt 100 to each part.
        assert_eq!(r.measured.requests(), 100, "part {i}");
        // The progress series plans the part's share (100), not the whole run's (300); the
        // intervals end when the run stops, a little before the plan's end.
        let planned: f64 = r.intervals.iter().filter_map(|s| s.planned).sum();
        assert!(
            (90.0..=100.0 + 1e-9).contains(&planned),
            "part {i} planned {planned}"
        );
    }
    let portable: Vec<_> = reports.iter().map(|r| r.to_portable().unwrap()).collect();
    let merged = merge(&portable).unwrap();
    assert_eq!(merged.measured.requests(), 300);
    assert_eq!(merged.measured.ok(), 300);
    assert_eq!(merged.settings.connections, 8);
    assert_eq!(merged.settings.requested_rps, Some(300.0));
    let one = whole().run_to_end().await;
    assert_eq!(one.measured.requests(), merged.measured.requests());
    // Two of the three parts are not the whole run.
    let e = merge(&portable[..2]).unwrap_err().to_string();
    assert!(e.contains("segment 2/3:1 is missing"), "{e}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_parts_split_connections_and_the_request_budget_exactly() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let reports = run_all(
        parts(3)
            .into_iter()
            .map(|p| {
                Engine::builder()
                    .url(server.url("/"))
                    .connections(5)
                    .max_requests(101)
                    .segment(p)
            })
            .collect(),
    )
    .await;
    let conns: Vec<usize> = reports.iter().map(|r| r.settings.connections).collect();
    assert_eq!(conns, [2, 2, 1]);
    let reqs: Vec<u64> = reports.iter().map(|r| r.measured.requests()).collect();
    assert_eq!(reqs, [34, 34, 33]);
    let merged = merge_all(&reports);
    assert_eq!(merged.measured.requests(), 101);
    assert_eq!(merged.settings.connections, 5);
    server.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_part_with_no_share_and_a_start_too_far_ahead_are_refused() {
    let e = Engine::builder()
        .url("http://127.0.0.1:9/")
        .connections(2)
        .max_requests(10)
        .segment(ExecutionPart::nth(2, 3).unwrap())
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`segment`") && e.contains("2/3:1 gets none of the 2 connections"),
        "{e}"
    );
    let engine = Engine::builder()
        .url("http://127.0.0.1:9/")
        .max_requests(1)
        .start_at(SystemTime::now() + Duration::from_secs(2 * 86_400))
        .build()
        .unwrap();
    let e = engine.start().await.unwrap_err().to_string();
    assert!(
        e.contains("`start_at`") && e.contains("at most a day"),
        "{e}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_part_that_starts_after_its_instant_says_by_how_much() {
    let server = ReferenceServer::builder().start().await.unwrap();
    let at = SystemTime::now() - Duration::from_millis(1500);
    let r = Engine::builder()
        .url(server.url("/"))
        .load_model(LoadModel::Open {
            plan: ArrivalPlan::constant(100.0).unwrap(),
            backlog: Default::default(),
        })
        .duration(Duration::from_millis(100))
        .start_at(at)
        .run_to_end()
        .await;
    let late = r.start_late().unwrap();
    assert!(late >= Duration::from_millis(1500), "{late:?}");
    let labels = r.to_smp_result().labels;
    let ms: f64 = labels[smps_load::LABEL_START_LATE_MS].parse().unwrap();
    assert!(ms >= 1500.0, "{ms}");
    // Not a segment: merging it with another run of the whole load is fine.
    assert!(r.parts[0].segment.is_none());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_split_tcp_and_udp_echo_loads_as_exactly_as_http() {
    let _serial = crate::serial().await;
    use smps_load::reference::EchoServer;
    for server in [
        EchoServer::tcp().start().await.unwrap(),
        EchoServer::udp().start().await.unwrap(),
    ] {
        let reports = run_all(
            parts(3)
                .into_iter()
                .map(|p| {
                    Engine::builder()
                        .url(server.url())
                        .connections(3)
                        .max_requests(50)
                        .segment(p)
                })
                .collect(),
        )
        .await;
        let reqs: Vec<u64> = reports.iter().map(|r| r.measured.requests()).collect();
        assert_eq!(reqs, [17, 17, 16], "{}", server.url());
        let merged = merge_all(&reports);
        assert_eq!(merged.measured.ok(), 50, "{}", server.url());
        assert_eq!(server.echoed(), 50);
        server.shutdown().await;
    }
}
