//! Open-loop latency measures the target, not the generator's timer: against a server of
//! known service time at a low rate, the corrected latency stays close to the service time.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use smps_load::Engine;

use crate::RunToEnd;

/// A blocking HTTP/1.1 keep-alive server on 127.0.0.1 that answers every request after
/// `service` (a thread per connection; `thread::sleep` is precise to tens of microseconds).
fn fixed_service_time_server(service: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { break };
            let _ = conn.set_nodelay(true);
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = conn.read(&mut chunk) else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        std::thread::sleep(service);
                        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                        if conn.write_all(reply).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}/")
}

/// Runs 200 req/s for 2 s against a 500 µs server; returns the p50s (µs) of the corrected
/// latency, the service time and the dispatch lag.
async fn p50s_at_a_low_rate() -> (u64, u64, u64) {
    let url = fixed_service_time_server(Duration::from_micros(500));
    let report = Engine::builder()
        .url(url)
        .connections(4)
        .rate(200.0)
        .duration(Duration::from_secs(2))
        .run_to_end()
        .await;
    let m = &report.measured;
    assert_eq!(m.ok(), 400, "{m:?}");
    let p50 = |h: &smps_load::hdrhistogram::Histogram<u64>| h.value_at_quantile(0.5);
    let service = p50(&m.service_time);
    assert!(
        service >= 500,
        "the server's service time is at least 500 µs, got {service} µs"
    );
    (p50(&m.latency), service, p50(&m.dispatch_lag))
}

// A 1 ms timer adds about half a millisecond or more at the median (0.8 ms with a
// current-thread runtime and 1.5 ms with a multi-thread one, measured before the precise
// pacer). The precise pacer arms its timer ahead of each arrival by the wake-up delay it has
// learned and spins the rest, so a request leaves within microseconds of its time (dispatch
// lag p50 25–30 µs in these tests on the 2-vCPU VM, with other tests running; up to ~220 µs
// was seen on an idle VM before the pacer learned the delay). The bounds leave room for a busy
// CI machine and still fail at a millisecond timer: a 0.5 ms service time must not read as
// more than 0.75 ms.

#[tokio::test(flavor = "current_thread")]
async fn at_a_low_rate_corrected_latency_is_the_service_time_plus_microseconds() {
    let _serial = crate::serial().await;
    let (latency, service, lag) = p50s_at_a_low_rate().await;
    assert!(
        latency <= service + 250,
        "corrected p50 {latency} µs vs service-time p50 {service} µs (dispatch lag p50 {lag} µs)"
    );
    assert!(lag <= 200, "dispatch lag p50 {lag} µs");
}

/// On a multi-thread runtime a wake-up may have to reach a parked worker thread first (a
/// further ~150-200 µs on the 2-vCPU VM these tests were written on): the learned lead covers
/// that too, so the bounds are the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime_the_lag_stays_well_under_a_millisecond() {
    let _serial = crate::serial().await;
    let (latency, service, lag) = p50s_at_a_low_rate().await;
    assert!(
        latency <= service + 250,
        "corrected p50 {latency} µs vs service-time p50 {service} µs (dispatch lag p50 {lag} µs)"
    );
    assert!(lag <= 200, "dispatch lag p50 {lag} µs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coarse_pacing_sends_the_same_plan_and_says_so_in_the_load_model() {
    let _serial = crate::serial().await;
    let url = fixed_service_time_server(Duration::from_micros(100));
    let report = Engine::builder()
        .url(url)
        .connections(4)
        .rate(500.0)
        .duration(Duration::from_secs(1))
        .pacing(smps_load::Pacing::Coarse)
        .run_to_end()
        .await;
    let m = &report.measured;
    assert_eq!(m.ok() + m.dropped, 500, "{m:?}");
    assert!(
        report.settings.load_model.ends_with("/coarse"),
        "{}",
        report.settings.load_model
    );
}
