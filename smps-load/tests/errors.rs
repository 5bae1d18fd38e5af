//! Failures are classified, counted and followed by reconnects; bad settings are errors
//! that name the setting.

use std::time::Duration;

use smps_load::reference::ReferenceServer;
use smps_load::{Engine, Error, ErrorKind};

use crate::RunToEnd;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_gives_connect_refused_for_every_request() {
    let _serial = crate::serial().await;
    let report = Engine::builder()
        .url(crate::closed_port_url().await)
        .connections(4)
        .max_requests(12)
        .run_to_end()
        .await;
    let m = &report.measured;
    assert_eq!(
        m.errors.get(&ErrorKind::ConnectRefused),
        Some(&12),
        "{:?} {:?}",
        m.status_codes,
        m.errors
    );
    assert_eq!(m.responses(), 0);
    assert!(m.latency.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_resets_connections_is_counted_and_reconnected_to() {
    let _serial = crate::serial().await;
    let server = crate::BadServer::resetting().await;
    let report = Engine::builder()
        .url(&server.url)
        .connections(2)
        .max_requests(20)
        .run_to_end()
        .await;
    drop(server);
    let m = &report.measured;
    assert_eq!(m.error_count(), 20, "{:?} {:?}", m.status_codes, m.errors);
    let resets = m
        .errors
        .get(&ErrorKind::ConnectionReset)
        .copied()
        .unwrap_or(0);
    let closed = m
        .errors
        .get(&ErrorKind::ConnectionClosed)
        .copied()
        .unwrap_or(0);
    assert_eq!(resets + closed, 20, "{:?}", m.errors);
    assert!(resets > 0, "{:?}", m.errors);
    // Every request after a reset needed a new connection.
    assert!(m.connections_opened >= 20, "{}", m.connections_opened);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_responses_end_in_request_timeouts() {
    let _serial = crate::serial().await;
    let server = crate::server_with_delay(Duration::from_secs(2)).await;
    let report = Engine::builder()
        .url(server.url("/"))
        .connections(2)
        .max_requests(4)
        .request_timeout(Duration::from_millis(50))
        .run_to_end()
        .await;
    assert_eq!(
        report.measured.errors.get(&ErrorKind::RequestTimeout),
        Some(&4)
    );
}

#[cfg(feature = "rustls")]
pub(crate) fn test_pki() -> (String, String, String) {
    use std::net::{IpAddr, Ipv4Addr};

    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names = vec![SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST))];
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

#[cfg(feature = "rustls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_an_extra_trusted_ca_works_in_http1_and_http2() {
    let _serial = crate::serial().await;
    let (ca, cert, key) = test_pki();
    let server = ReferenceServer::builder()
        .tls(cert, key)
        .start()
        .await
        .unwrap();
    assert!(server.url("/").starts_with("https://"));
    for version in [
        smps_load::HttpVersion::Http1,
        #[cfg(feature = "http2")]
        smps_load::HttpVersion::Http2,
    ] {
        let report = Engine::builder()
            .url(server.url("/"))
            .connections(2)
            .max_requests(50)
            .http_version(version)
            .trust_pem(ca.clone())
            .run_to_end()
            .await;
        assert_eq!(
            report.measured.ok(),
            50,
            "{version:?}: {:?}",
            report.measured.errors
        );
    }
}

#[cfg(feature = "rustls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_a_tls_error() {
    let _serial = crate::serial().await;
    let (_ca, cert, key) = test_pki();
    let server = ReferenceServer::builder()
        .tls(cert, key)
        .start()
        .await
        .unwrap();
    let report = Engine::builder()
        .url(server.url("/"))
        .max_requests(2)
        .run_to_end()
        .await;
    assert_eq!(report.measured.errors.get(&ErrorKind::Tls), Some(&2));
}

#[test]
fn bad_settings_are_errors_naming_the_setting() {
    let msg = |r: Result<Engine, Error>| r.unwrap_err().to_string();
    // Every message names the builder method the user called, never an SMP field name.
    let e = msg(Engine::builder().max_requests(1).build());
    assert!(e.contains("endpoint") && e.contains("`url`"), "{e}");
    assert!(!e.contains("endpoint_urls"), "{e}");
    let e = msg(Engine::builder().url("ftp://x/").max_requests(1).build());
    assert!(e.contains("url[0]") && e.contains("ftp"), "{e}");
    let e = msg(Engine::builder().url("http://127.0.0.1/").build());
    assert!(e.contains("needs a limit"), "{e}");
    let e = msg(Engine::builder()
        .url("http://127.0.0.1/")
        .max_requests(1)
        .connections(0)
        .build());
    assert!(e.contains("`connections`"), "{e}");
    let e = msg(Engine::builder()
        .url("http://127.0.0.1/")
        .max_requests(1)
        .rate(-5.0)
        .build());
    assert!(e.contains("`rate`") && !e.contains("`rps`"), "{e}");
    let e = msg(Engine::builder()
        .url("http://127.0.0.1/")
        .max_requests(1)
        .header("bad header", "x")
        .build());
    assert!(
        e.contains("bad header") && e.contains("`header.bad header`"),
        "{e}"
    );
    let e = msg(Engine::builder()
        .url("https://127.0.0.1/")
        .max_requests(1)
        .trust_pem("not a pem")
        .build());
    #[cfg(feature = "rustls")]
    assert!(e.contains("trust_pem"), "{e}");
    // Without TLS support the https URL itself is refused first.
    #[cfg(not(feature = "rustls"))]
    assert!(e.contains("url[0]") && e.contains("rustls"), "{e}");
}

#[test]
fn starting_outside_a_runtime_is_an_error_not_a_panic() {
    let engine = Engine::builder()
        .url("http://127.0.0.1:9/")
        .max_requests(1)
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Poll the future on a runtime without the handle entered: Handle::try_current fails.
    let fut = engine.start();
    let r = futures_util::FutureExt::now_or_never(fut);
    drop(rt);
    assert!(matches!(r, Some(Err(Error::NoRuntime))), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_where_every_request_failed_says_so_in_the_smp_result() {
    let _serial = crate::serial().await;
    let report = Engine::builder()
        .url(crate::closed_port_url().await)
        .connections(2)
        .max_requests(10)
        .run_to_end()
        .await;
    assert_eq!(report.measured.failed(), 10);
    assert_eq!(report.measured.failed_share(), 1.0);
    let labels = report.to_smp_result().labels;
    let get = |k: &str| labels.get(k).map(String::as_str);
    assert_eq!(get(smps_model::labels::REQUESTS), Some("10"));
    assert_eq!(get(smps_model::labels::FAILED_REQUESTS), Some("10"));
    assert_eq!(get(smps_model::labels::STATUS_CODES), Some("-1:10"));
    assert_eq!(get(smps_model::labels::ERRORS), Some("connect_refused:10"));
    let reasons = get(smps_model::labels::ERROR_REASONS).unwrap_or_default();
    assert!(
        reasons.starts_with("connect_refused: connect to 127.0.0.1:"),
        "{reasons}"
    );
}

#[cfg(feature = "rustls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_port_gives_the_tls_reason() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let url = server.url("/").replacen("http://", "https://", 1);
    let report = Engine::builder()
        .url(url)
        .connections(1)
        .max_requests(2)
        .connect_timeout(Duration::from_secs(2))
        .run_to_end()
        .await;
    server.shutdown().await;
    let m = &report.measured;
    assert_eq!(m.failed(), 2, "{:?}", m.errors);
    let (kind, reason) = report
        .error_reasons
        .iter()
        .next()
        .expect("a reason for the failure");
    assert!(
        matches!(kind, ErrorKind::Tls | ErrorKind::ConnectTimeout),
        "{kind}: {reason}"
    );
    assert!(reason.contains("TLS handshake"), "{reason}");
    assert!(reason.contains("plain"), "{reason}");
}

#[test]
fn user_information_in_a_url_is_refused_without_repeating_the_password() {
    let e = Engine::builder()
        .url("http://admin:hunter2@127.0.0.1:9/?access_token=abc")
        .max_requests(1)
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("user information"), "{e}");
    assert!(!e.contains("hunter2") && !e.contains("abc"), "{e}");
    assert!(
        e.contains("http://***@127.0.0.1:9/?access_token=***"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_query_values_never_reach_a_result() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let report = Engine::builder()
        .url(server.url("/?token=s3cr3t&page=1"))
        .max_requests(1)
        .run_to_end()
        .await;
    server.shutdown().await;
    let smp = serde_json::to_string(&report.to_smp_result()).unwrap();
    let fortio = report.to_fortio_json().to_string();
    let portable = serde_json::to_string(&report.to_portable().unwrap()).unwrap();
    for text in [&smp, &fortio, &portable] {
        assert!(!text.contains("s3cr3t"), "{text}");
    }
    assert!(smp.contains("token=***&page=1"), "{smp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_come_from_the_configs_additional_options() {
    let _serial = crate::serial().await;
    let server = crate::server_with_delay(Duration::from_secs(3)).await;
    let yaml = format!(
        "clients:\n- protocol: 1\n  connections: 1\n  endpoint_urls: ['{}']\n  additional_options: '{{\"request_timeout\": \"200ms\", \"connect_timeout\": 1}}'\n",
        server.url("/")
    );
    let config: smps_model::PerformanceTestConfig =
        smps_model::read_as(&yaml, &smps_model::ReadOptions::default()).unwrap();
    let report = smps_load::EngineBuilder::from_config(&config)
        .unwrap()
        .max_requests(2)
        .run_to_end()
        .await;
    assert_eq!(
        report.measured.errors.get(&ErrorKind::RequestTimeout),
        Some(&2)
    );

    let bad = yaml.replace("200ms", "soon");
    let config: smps_model::PerformanceTestConfig =
        smps_model::read_as(&bad, &smps_model::ReadOptions::default()).unwrap();
    let e = smps_load::EngineBuilder::from_config(&config)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("clients[0].additional_options.request_timeout"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_connections_than_file_descriptors_is_refused_up_front() {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    let Some(limit) = limit.filter(|l| *l <= 1_000_000) else {
        // No limit, or one above what a builder accepts: nothing to exceed here.
        return;
    };
    let e = Engine::builder()
        .url("http://127.0.0.1:9/")
        .connections(limit as usize)
        .max_requests(1)
        .build()
        .unwrap()
        .start()
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, Error::FileDescriptors { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains(&format!("only {limit}")), "{text}");
    assert!(text.contains("ulimit -n"), "{text}");
}
