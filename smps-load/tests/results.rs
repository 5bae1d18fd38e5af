//! Result projections and lossless merging of real runs.

use smps_load::reference::ReferenceServer;
use smps_load::{Engine, PortableReport, Report, merge};

use crate::RunToEnd;

async fn run(server: &ReferenceServer, n: u64) -> Report {
    Engine::builder()
        .url(server.url("/"))
        .connections(2)
        .max_requests(n)
        .run_to_end()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portable_reports_round_trip_through_json_and_merge_losslessly() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let a = run(&server, 300).await;
    let b = run(&server, 200).await;
    let pa = a.to_portable().unwrap();
    let json = serde_json::to_string(&pa).unwrap();
    let back: PortableReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, pa);
    let ra = Report::from_portable(&back).unwrap();
    assert_eq!(ra.measured.latency, a.measured.latency);
    assert_eq!(ra.measured.status_codes, a.measured.status_codes);

    let merged = merge(&[pa, b.to_portable().unwrap()]).unwrap();
    let mut expected = a.measured.latency.clone();
    expected.add(&b.measured.latency).unwrap();
    assert_eq!(merged.measured.latency, expected);
    assert_eq!(merged.measured.requests(), 500);
    assert_eq!(
        merged.measured.start,
        a.measured.start.min(b.measured.start)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smp_and_fortio_projections_agree_with_the_histogram() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let r = run(&server, 500).await;
    let h = &r.measured.latency;
    let smp = r.to_smp_result();
    let lat = smp.latencies_ms.unwrap();
    assert_eq!(lat.p99, h.value_at_quantile(0.99) as f64 / 1000.0);
    assert_eq!(lat.max, h.max() as f64 / 1000.0);
    let f = r.to_fortio_json();
    let data = f["DurationHistogram"]["Data"].as_array().unwrap();
    let count: u64 = data.iter().map(|d| d["Count"].as_u64().unwrap()).sum();
    assert_eq!(count, 500);
    let last = data.last().unwrap()["Percent"].as_f64().unwrap();
    assert!((last - 100.0).abs() < 1e-9);
    assert_eq!(f["RetCodes"]["200"], 500);
    assert_eq!(f["RequestedQPS"], "max");
    assert!(f["ActualQPS"].as_f64().unwrap() > 0.0);
}
