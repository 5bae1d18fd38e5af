//! Load models, accuracy and progress against the reference server.

use std::time::Duration;

use futures_util::StreamExt;
use smps_load::reference::{ReferenceServer, Stall};
use smps_load::{
    ArrivalPlan, BacklogPolicy, Engine, EngineBuilder, LatencyBasis, LoadModel, Phase, Report,
    Snapshot, Stage,
};

use crate::RunToEnd;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_constant_rate_sends_exactly_the_planned_requests_at_the_planned_rate() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let report = Engine::builder()
        .url(server.url("/hello"))
        .connections(8)
        .rate(1000.0)
        .duration(Duration::from_millis(1500))
        .run_to_end()
        .await;
    let m = &report.measured;
    // Uniform spacing: arrivals i/1000 s for i < 1500, all within the 1.5 s window. Each is
    // sent, or (on a machine too busy to send it before the end) counted as dropped.
    assert_eq!(m.requests() + m.dropped, 1500, "{m:?}");
    assert_eq!(m.status_codes.get(&200), Some(&m.requests()));
    assert!(m.dropped <= 15, "{m:?}");
    let rate = m.requests_per_second();
    assert!(
        (rate - 1000.0).abs() / 1000.0 < 0.02,
        "achieved {rate} req/s"
    );
    assert_eq!(report.settings.latency_basis, LatencyBasis::IntendedSend);
    assert_eq!(server.requests_served(), m.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrected_p99_matches_the_analytic_value_under_a_known_stall_while_service_time_stays_low()
{
    let _serial = crate::serial().await;
    // The server pauses 400 ms at the start of every second. At a constant rate, a request
    // planned at phase x < 400 ms cannot complete before the pause ends, so corrected latency
    // L has P(L > t) = (400 - t) / 1000 for t < 400 ms: p99 = 400 - 0.01 * 1000 = 390 ms.
    // With 4 connections only 4 requests per pause wait inside the server: at most 12 of
    // 2000 (0.6% < 1%), as a 2 s window can touch three pauses. The others wait in the
    // client's queue, so their service time is short. This is the
    // coordinated-omission trap: a tool timing from the actual send would report that.
    let server = ReferenceServer::builder()
        .stall(Stall::new(
            Duration::from_millis(400),
            Duration::from_secs(1),
        ))
        .start()
        .await
        .unwrap();
    let report = Engine::builder()
        .url(server.url("/"))
        .connections(4)
        .load_model(LoadModel::Open {
            plan: ArrivalPlan::constant(1000.0).unwrap(),
            backlog: BacklogPolicy::Queue { max_queued: 10_000 },
        })
        // Two whole periods, so the share of stalled arrivals is exact whatever the phase.
        .duration(Duration::from_secs(2))
        .run_to_end()
        .await;
    let m = &report.measured;
    // The server's pauses are timed from its own start, a few milliseconds before the run's:
    // on a busy machine the last arrivals can meet the next pause, and what still waits for a
    // connection at the end is dropped (never sent late), and what is in flight past the grace
    // period is abandoned. Everything planned is accounted for.
    assert_eq!(m.requests() + m.dropped + m.abandoned, 2000, "{m:?}");
    assert!(m.dropped + m.abandoned <= 20, "{m:?}");
    let p99 = m.latency_ms(99.0);
    // Tolerance ±5% (±19.5 ms): the requests at the p99 point are the first ones queued in
    // each pause, served a round trip or two after it ends; timer granularity adds 1 ms,
    // and a loaded (or debug-build) machine stretches round trips.
    assert!((p99 - 390.0).abs() <= 19.5, "corrected p99 = {p99} ms");
    let service_p99 = m.service_time_summary().p99;
    assert!(
        service_p99 < 390.0 / 4.0,
        "service-time p99 = {service_p99} ms should be far below the corrected p99"
    );
    assert!(
        m.queued > 0,
        "requests should have queued during the pauses"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_keeps_every_connection_busy_and_respects_the_request_count() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let report = Engine::builder()
        .url(server.url("/a"))
        .url(server.url("/b"))
        .connections(4)
        .max_requests(1000)
        .run_to_end()
        .await;
    assert_eq!(report.measured.requests(), 1000);
    assert_eq!(report.measured.ok(), 1000);
    assert_eq!(report.settings.latency_basis, LatencyBasis::ActualSend);
    assert_eq!(report.measured.connections_opened, 4);
    assert!(report.measured.bytes_in > 1000 * 6);
    assert!(report.measured.bytes_out > 1000 * 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_mix_is_counted_per_code() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder()
        .status_mix(vec![(200, 3), (503, 1)])
        .start()
        .await
        .unwrap();
    let report = Engine::builder()
        .url(server.url("/"))
        .connections(2)
        .max_requests(400)
        .run_to_end()
        .await;
    let m = &report.measured;
    assert_eq!(m.status_codes.get(&200), Some(&300));
    assert_eq!(m.status_codes.get(&503), Some(&100));
    assert_eq!(m.ok(), 300);
    let fortio = report.to_fortio_json();
    assert_eq!(fortio["RetCodes"]["503"], 100);
    assert_eq!(fortio["DurationHistogram"]["Count"], 400);
}

/// Runs `builder`'s test to its end, collecting every progress snapshot.
async fn run_with_snapshots(builder: EngineBuilder) -> (Vec<Snapshot>, Report) {
    let mut run = builder.build().unwrap().start().await.unwrap();
    let mut snaps = Vec::new();
    while let Some(s) = run.next().await {
        snaps.push(s);
    }
    (snaps, run.finish().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_up_is_reported_separately_and_kept_out_of_the_totals() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let (snaps, report) = run_with_snapshots(
        Engine::builder()
            .url(server.url("/"))
            .connections(2)
            .rate(1000.0)
            .warmup(Duration::from_millis(300))
            .duration(Duration::from_millis(600))
            .interval(Duration::from_millis(300)),
    )
    .await;
    let warm = report.warmup.as_ref().expect("warm-up phase");
    // Every planned request is sent or, on a machine too busy to send it before the end,
    // dropped (never sent late).
    assert_eq!(warm.requests() + warm.dropped, 300);
    let m = &report.measured;
    assert_eq!(m.requests() + m.dropped, 600);
    assert!(warm.dropped + m.dropped <= 9, "{warm:?} {m:?}");
    assert!(snaps.len() >= 3, "{snaps:?}");
    assert_eq!(snaps[0].phase, Phase::WarmUp);
    assert_eq!(snaps[1].phase, Phase::Measure);
    let from_snaps: u64 = snaps
        .iter()
        .map(|s| s.responses + s.errors + s.dropped)
        .sum();
    assert_eq!(from_snaps, 900);
    assert_eq!(snaps, report.intervals);
    let planned: f64 = snaps.iter().filter_map(|s| s.planned).sum();
    assert!((planned - 900.0).abs() < 2.0, "planned {planned}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_warm_up_and_intervals_account_for_every_request_once() {
    let _serial = crate::serial().await;
    let server = crate::server_with_delay(Duration::from_millis(1)).await;
    let (snaps, report) = run_with_snapshots(
        Engine::builder()
            .url(server.url("/"))
            .connections(3)
            .workers(2)
            .warmup(Duration::from_millis(200))
            .duration(Duration::from_millis(400))
            .interval(Duration::from_millis(100)),
    )
    .await;
    let warm = report.warmup.as_ref().expect("warm-up phase");
    assert!(warm.ok() > 0 && report.measured.ok() > 0, "{report:?}");
    assert_eq!(warm.error_count() + report.measured.error_count(), 0);
    // Every request is in exactly one phase and exactly one interval.
    let from_snaps: u64 = snaps.iter().map(|s| s.responses + s.errors).sum();
    assert_eq!(from_snaps, warm.requests() + report.measured.requests());
    assert_eq!(snaps, report.intervals);
    assert!(snaps.len() >= 6, "{snaps:?}");
    assert_eq!(snaps[0].phase, Phase::WarmUp);
    assert_eq!(snaps.last().map(|s| s.phase), Some(Phase::Measure));
    // Each connection sends one request at a time, so about 3 per millisecond at most.
    assert!(
        report.measured.requests() < 3 * 400,
        "{:?}",
        report.measured
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_handle_ends_an_endless_run_gracefully() {
    let _serial = crate::serial().await;
    let server = crate::server_with_delay(Duration::from_millis(1)).await;
    let mut run = Engine::builder()
        .url(server.url("/"))
        .connections(4)
        .duration(Duration::from_secs(3600))
        .interval(Duration::from_millis(100))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let stop = run.stop_handle();
    // Stop after the first progress snapshot: no sleeping, the stream drives the test.
    let first = run.next().await.expect("a snapshot");
    assert!(first.responses > 0);
    stop.stop();
    assert!(stop.is_stopped());
    let report = tokio::time::timeout(Duration::from_secs(5), run.finish())
        .await
        .expect("stops promptly")
        .unwrap();
    assert!(report.measured.ok() > 0);
    assert_eq!(report.measured.error_count(), 0);
    assert_eq!(report.measured.abandoned, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piecewise_linear_stages_send_the_integral_of_the_rate() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    // 0 -> 2000 rps over 0.5 s, then 2000 rps for 0.5 s: 500 + 1000 arrivals.
    let plan = ArrivalPlan::stages(
        0.0,
        vec![
            Stage::new(2000.0, Duration::from_millis(500)),
            Stage::new(2000.0, Duration::from_millis(500)),
        ],
    )
    .unwrap();
    let report = Engine::builder()
        .url(server.url("/"))
        .connections(4)
        .load_model(LoadModel::Open {
            plan,
            backlog: BacklogPolicy::default(),
        })
        .run_to_end()
        .await;
    let m = &report.measured;
    // What a busy machine could not send before the plan ended is dropped, never sent late.
    assert_eq!(m.requests() + m.dropped, 1500, "{m:?}");
    assert!(m.dropped <= 15, "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_poisson_sends_about_the_planned_number() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let report = Engine::builder()
        .url(server.url("/"))
        .connections(4)
        .load_model(LoadModel::Open {
            plan: ArrivalPlan::poisson(2000.0, 42).unwrap(),
            backlog: BacklogPolicy::default(),
        })
        .duration(Duration::from_secs(1))
        .run_to_end()
        .await;
    let n = (report.measured.requests() + report.measured.dropped) as f64;
    // Poisson(2000): sd ≈ 45; allow 5 sd.
    assert!((n - 2000.0).abs() < 225.0, "n = {n}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_policy_counts_requests_that_find_no_free_connection() {
    let _serial = crate::serial().await;
    let server = crate::server_with_delay(Duration::from_millis(20)).await;
    // One connection serves at most 50 req/s with a 20 ms delay; 500 req/s are planned.
    let report = Engine::builder()
        .url(server.url("/"))
        .connections(1)
        .workers(1)
        .load_model(LoadModel::Open {
            plan: ArrivalPlan::constant(500.0).unwrap(),
            backlog: BacklogPolicy::Drop,
        })
        .duration(Duration::from_millis(400))
        .run_to_end()
        .await;
    let m = &report.measured;
    assert_eq!(
        m.requests() + m.dropped,
        200,
        "{:?} {:?}",
        m.status_codes,
        m.errors
    );
    assert!(m.dropped > 150, "dropped {}", m.dropped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grow_policy_opens_connections_up_to_its_cap() {
    let _serial = crate::serial().await;
    let server = crate::server_with_delay(Duration::from_millis(20)).await;
    let report = Engine::builder()
        .url(server.url("/"))
        .connections(1)
        .workers(1)
        .load_model(LoadModel::Open {
            plan: ArrivalPlan::constant(500.0).unwrap(),
            backlog: BacklogPolicy::Grow {
                max_connections: 8,
                max_queued: 10_000,
            },
        })
        .duration(Duration::from_millis(400))
        .run_to_end()
        .await;
    let m = &report.measured;
    // 8 connections serve at most 400 of the 500 req/s planned: the backlog grows, and what
    // still waits at the end of the run is dropped, never sent late.
    assert_eq!(m.requests() + m.dropped, 200, "{m:?}");
    assert!(m.dropped > 0, "{m:?}");
    assert_eq!(m.abandoned, 0);
    assert_eq!(m.connections_opened, 8);
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_works_against_the_reference_server() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let report = Engine::builder()
        .url(server.url("/"))
        .connections(2)
        .http_version(smps_load::HttpVersion::Http2)
        .max_requests(200)
        .run_to_end()
        .await;
    assert_eq!(report.measured.ok(), 200, "{:?}", report.measured.errors);
}

#[tokio::test(flavor = "current_thread")]
async fn runs_on_a_current_thread_runtime() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let report = Engine::builder()
        .url(server.url("/"))
        .connections(2)
        .max_requests(100)
        .run_to_end()
        .await;
    assert_eq!(report.measured.ok(), 100);
    assert_eq!(report.settings.workers, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hyper_http1_client_gives_the_same_counts_as_the_lean_one() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder()
        .status_mix(vec![(200, 1), (404, 1)])
        .start()
        .await
        .unwrap();
    for client in [smps_load::Http1Client::Lean, smps_load::Http1Client::Hyper] {
        let report = Engine::builder()
            .url(server.url("/"))
            .connections(2)
            .http1_client(client)
            .max_requests(200)
            .run_to_end()
            .await;
        let m = &report.measured;
        assert_eq!(m.status_codes.get(&200), Some(&100), "{client:?}");
        assert_eq!(m.status_codes.get(&404), Some(&100), "{client:?}");
        assert_eq!(m.connections_opened, 2, "{client:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_snapshot_gives_the_stream_items_without_an_extension_trait() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let mut run = Engine::builder()
        .url(server.url("/"))
        .max_requests(200)
        .interval(Duration::from_millis(20))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(s) = run.next_snapshot().await {
        seen.push(s);
    }
    let report = run.finish().await.unwrap();
    assert!(!seen.is_empty());
    assert_eq!(seen, report.intervals);
}
