//! Building an engine from an SMP `PerformanceTestConfig`.

use smps_load::reference::ReferenceServer;
use smps_load::{EngineBuilder, Error, LABEL_GENERATOR, LABEL_LATENCY_BASIS};

use crate::{RunToEnd, config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smp_config_runs_and_yields_an_smp_result() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let yaml = format!(
        "
test:
  name: smoke
  labels: {{team: perf}}
  clients:
    - protocol: 1
      connections: 2
      rps: 400
      headers: {{x-test: yes}}
      cookies: {{session: abc}}
      body: 'ping'
      content_type: text/plain
      endpoint_urls: ['{}', '{}']
  duration: 500ms
",
        server.url("/a"),
        server.url("/b")
    );
    let report = EngineBuilder::from_config(&config(&yaml))
        .unwrap()
        .run_to_end()
        .await;
    assert_eq!(report.measured.ok(), 200);
    let smp = report.to_smp_result();
    assert_eq!(smp.labels.get("team").map(String::as_str), Some("perf"));
    assert_eq!(
        smp.labels.get(LABEL_LATENCY_BASIS).map(String::as_str),
        Some("intended-send")
    );
    assert!(smp.labels[LABEL_GENERATOR].starts_with("smps-load"));
    let lat = smp.latencies_ms.unwrap();
    assert!(lat.min <= lat.p50 && lat.p50 <= lat.p99 && lat.p99 <= lat.max);
    assert!((smp.actual_qps - 400.0).abs() < 20.0, "{}", smp.actual_qps);
    assert!(smp.start_time.is_some() && smp.end_time.is_some());
}

#[test]
fn unsupported_or_invalid_client_fields_are_named() {
    let e = EngineBuilder::from_config(&config(
        "test: {clients: [{protocol: 2, connections: 1, endpoint_urls: ['http://127.0.0.1/']}], duration: 1s}",
    ))
    .unwrap_err();
    assert!(
        matches!(e, Error::Unsupported { ref field, .. } if field == "clients[0].protocol"),
        "{e}"
    );
    let e = EngineBuilder::from_config(&config(
        "test: {clients: [{protocol: 1, connections: 0, endpoint_urls: ['http://127.0.0.1/']}], duration: 1s}",
    ))
    .unwrap()
    .build()
    .unwrap_err();
    assert!(e.to_string().contains("clients[0].connections"), "{e}");
    let e = EngineBuilder::from_config(&config(
        "test: {clients: [{protocol: 1, connections: 1, rps: -1, endpoint_urls: ['http://127.0.0.1/']}], duration: 1s}",
    ))
    .unwrap_err();
    assert!(e.to_string().contains("clients[0].rps"), "{e}");
    let e = EngineBuilder::from_config(&config(
        "test: {clients: [{protocol: 1, connections: 1, endpoint_urls: ['nope']}], duration: 1s}",
    ))
    .unwrap()
    .build()
    .unwrap_err();
    assert!(e.to_string().contains("clients[0].endpoint_urls[0]"), "{e}");
    let e = EngineBuilder::from_config(&config("test: {name: x, duration: 1s}")).unwrap_err();
    assert!(e.to_string().contains("clients"), "{e}");
}
