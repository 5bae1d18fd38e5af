//! Every run ends by `warm-up + duration + one request timeout`, whatever the server does,
//! and every planned request is accounted for: answered, failed, dropped (never sent) or
//! abandoned (sent, given up). Nothing is sent after the run's end.

use std::time::{Duration, Instant};

use smps_load::reference::ReferenceServer;
use smps_load::{Engine, EngineBuilder, ErrorKind, PhaseReport, Report};

/// Slack for a busy 2-core CI machine on top of the bound the engine promises.
const SLACK: Duration = Duration::from_millis(1500);

/// Runs the engine and checks it ended within `bound` (+ [`SLACK`]); a run that overruns
/// fails the test at the bound instead of hanging it.
async fn run_within(builder: EngineBuilder, bound: Duration) -> Report {
    crate::run_within(builder, bound + SLACK).await
}

/// Planned requests, each counted exactly once.
fn accounted(m: &PhaseReport) -> u64 {
    m.responses() + m.error_count() + m.dropped + m.abandoned
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_against_a_silent_server_ends_one_timeout_after_its_duration() {
    let _serial = crate::serial().await;
    let server = crate::BadServer::silent().await;
    let report = run_within(
        Engine::builder()
            .url(&server.url)
            .connections(4)
            .rate(10.0)
            .duration(Duration::from_secs(2))
            .request_timeout(Duration::from_secs(1)),
        Duration::from_secs(3),
    )
    .await;
    let m = &report.measured;
    // 10 req/s for 2 s: arrivals at 0.0, 0.1, ..., 1.9 s.
    assert_eq!(accounted(m), 20, "{m:?}");
    assert_eq!(m.responses(), 0);
    assert!(
        m.errors
            .get(&ErrorKind::RequestTimeout)
            .is_some_and(|n| *n >= 4),
        "{:?}",
        m.errors
    );
    assert!(
        m.dropped > 0,
        "requests still queued at the end are dropped, not sent late"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_against_a_closed_port_ends_on_time() {
    let _serial = crate::serial().await;
    let report = run_within(
        Engine::builder()
            .url(crate::closed_port_url().await)
            .connections(4)
            .rate(200.0)
            .duration(Duration::from_secs(2))
            .request_timeout(Duration::from_secs(1)),
        Duration::from_secs(3),
    )
    .await;
    let m = &report.measured;
    assert_eq!(accounted(m), 400, "{m:?}");
    assert!(
        m.errors
            .get(&ErrorKind::ConnectRefused)
            .is_some_and(|n| *n > 0),
        "{:?}",
        m.errors
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_against_a_resetting_server_ends_on_time() {
    let _serial = crate::serial().await;
    let server = crate::BadServer::resetting().await;
    let report = run_within(
        Engine::builder()
            .url(&server.url)
            .connections(4)
            .rate(500.0)
            .duration(Duration::from_secs(2))
            .request_timeout(Duration::from_secs(1)),
        Duration::from_secs(3),
    )
    .await;
    drop(server);
    let m = &report.measured;
    assert_eq!(accounted(m), 1000, "{m:?}");
    assert_eq!(m.responses(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_far_above_what_the_machine_sends_ends_on_time_and_counts_the_rest_as_dropped() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let report = run_within(
        Engine::builder()
            .url(server.url("/"))
            .connections(8)
            .rate(1_000_000.0)
            .duration(Duration::from_secs(1))
            .request_timeout(Duration::from_secs(1)),
        Duration::from_secs(2),
    )
    .await;
    server.shutdown().await;
    let m = &report.measured;
    assert_eq!(accounted(m), 1_000_000, "{m:?}");
    assert!(m.dropped > 0, "{m:?}");
    assert!(m.ok() > 0, "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_against_a_silent_server_ends_one_timeout_after_its_duration() {
    let _serial = crate::serial().await;
    let server = crate::BadServer::silent().await;
    let report = run_within(
        Engine::builder()
            .url(&server.url)
            .connections(4)
            .duration(Duration::from_secs(1))
            .request_timeout(Duration::from_secs(5)),
        Duration::from_secs(6),
    )
    .await;
    let m = &report.measured;
    assert_eq!(m.responses(), 0);
    assert_eq!(accounted(m), 4, "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_open_loop_drops_what_is_queued_instead_of_sending_it() {
    let _serial = crate::serial().await;
    let server = crate::BadServer::silent().await;
    let mut run = Engine::builder()
        .url(&server.url)
        .connections(2)
        .rate(100.0)
        .duration(Duration::from_secs(3600))
        .request_timeout(Duration::from_millis(500))
        .interval(Duration::from_millis(100))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let stop = run.stop_handle();
    for _ in 0..5 {
        let _ = futures_util::StreamExt::next(&mut run).await;
    }
    let stopped_at = Instant::now();
    stop.stop();
    let report = tokio::time::timeout(Duration::from_millis(500) + SLACK, run.finish())
        .await
        .expect("a stop ends the run within one request timeout")
        .unwrap();
    assert!(stopped_at.elapsed() <= Duration::from_millis(500) + SLACK);
    let m = &report.measured;
    assert!(m.dropped > 0, "{m:?}");
    assert_eq!(m.responses(), 0);
}

#[test]
fn rates_no_machine_can_send_are_refused_naming_the_setting_the_user_gave() {
    let e = Engine::builder()
        .url("http://127.0.0.1:9/")
        .rate(9_223_372_036_854_775_807.0)
        .duration(Duration::from_secs(1))
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("`rate`") && e.contains("10000000"), "{e}");
    assert!(
        !e.contains("`rps`"),
        "the message names the builder's setting: {e}"
    );

    let config: smps_model::PerformanceTestConfig = smps_model::read_as(
        "clients:\n- protocol: 1\n  connections: 4\n  rps: 9223372036854775807\n  endpoint_urls: ['http://127.0.0.1:9/']\nduration: 3s\n",
        &smps_model::ReadOptions::default(),
    )
    .unwrap();
    let e = EngineBuilder::from_config(&config)
        .and_then(EngineBuilder::build)
        .unwrap_err()
        .to_string();
    assert!(e.contains("clients[0].rps"), "{e}");

    // Within the rate bound, but a plan too long to count exactly.
    let e = Engine::builder()
        .url("http://127.0.0.1:9/")
        .rate(10_000_000.0)
        .duration(Duration::from_secs(1 << 40))
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("`duration`") && e.contains("more than"), "{e}");
}
