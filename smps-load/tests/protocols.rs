//! Every protocol from an SMP config, on the closed and the open loop, against the
//! reference servers; and the settings a protocol cannot carry, named.

use std::time::Duration;

use smps_load::reference::EchoServer;
#[cfg(feature = "http2")]
use smps_load::reference::ReferenceServer;
use smps_load::{EngineBuilder, Error, ErrorKind, Protocol, Report};

use crate::{RunToEnd, config};

/// Runs one SMP client (`client` is the YAML flow mapping of its fields) and checks that
/// the run ended within `bound`.
pub(crate) async fn run_client(client: &str, duration: &str, bound: Duration) -> Report {
    let yaml = format!("test: {{name: p, clients: [{client}], duration: {duration}}}");
    crate::run_within(EngineBuilder::from_config(&config(&yaml)).unwrap(), bound).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_echo_runs_closed_and_open_from_an_smp_config_on_reused_connections() {
    let _serial = crate::serial().await;
    let server = EchoServer::tcp().start().await.unwrap();
    let url = server.url();
    let closed = run_client(
        &format!("{{protocol: tcp, connections: 2, endpoint_urls: ['{url}'], additional_options: '{{\"payload_size\": 100}}'}}"),
        "300ms",
        Duration::from_secs(3),
    )
    .await;
    let m = &closed.measured;
    assert!(m.ok() > 50, "{:?} {:?}", m.status_codes, m.errors);
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    assert_eq!(m.connections_opened, 2, "connections are reused");
    assert_eq!(closed.settings.protocol, Protocol::Tcp);
    assert_eq!(m.bytes_out, m.bytes_in);
    assert_eq!(m.bytes_out, 100 * m.requests());
    let open = run_client(
        // SMP writes TCP endpoints as bare `host:port`.
        &format!(
            "{{protocol: PROTOCOL_TCP, connections: 2, rps: 200, endpoint_urls: ['{}']}}",
            server.addr()
        ),
        "500ms",
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(open.measured.ok(), 100, "{:?}", open.measured.errors);
    let fortio = open.to_fortio_json();
    assert_eq!(fortio["RunType"], "TCP");
    assert_eq!(fortio["RetCodes"]["OK"], 100);
    assert_eq!(fortio["Destination"], server.addr().to_string());
    assert_eq!(fortio["BytesSent"], 24 * 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_echo_counts_lost_datagrams_apart_and_ends_on_time() {
    let _serial = crate::serial().await;
    let server = EchoServer::udp()
        .drop_rate(0.25)
        .seed(7)
        .start()
        .await
        .unwrap();
    let url = server.url();
    let report = run_client(
        &format!("{{protocol: 3, connections: 4, rps: 400, endpoint_urls: ['{url}'], additional_options: '{{\"udp_timeout\": \"20ms\", \"request_timeout\": \"1s\"}}'}}"),
        "500ms",
        Duration::from_secs(4),
    )
    .await;
    let m = &report.measured;
    let lost = m.errors.get(&ErrorKind::EchoLost).copied().unwrap_or(0);
    let requests = m.requests() + m.dropped;
    assert_eq!(requests, 200, "{m:?}");
    // 25 % of the datagrams are dropped by the server (seeded): counted as lost, not late
    // or mismatched; a lost datagram keeps its slot busy 40 ms, so none is dropped here.
    assert_eq!(m.ok() + lost, m.requests(), "{:?}", m.errors);
    let share = lost as f64 / m.requests() as f64;
    assert!((0.12..0.38).contains(&share), "lost share {share}");
    let fortio = report.to_fortio_json();
    assert_eq!(fortio["RunType"], "UDP");
    assert_eq!(fortio["RetCodes"]["echo_lost"], lost);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_echoes_after_the_timeout_are_late_not_lost() {
    let _serial = crate::serial().await;
    let server = EchoServer::udp()
        .delay(Duration::from_millis(30))
        .start()
        .await
        .unwrap();
    let report = EngineBuilder::default()
        .url(server.url())
        .udp_timeout(Duration::from_millis(20))
        .max_requests(6)
        .run_to_end()
        .await;
    let m = &report.measured;
    assert_eq!(
        m.errors.get(&ErrorKind::EchoLate),
        Some(&6),
        "{:?}",
        m.errors
    );
    assert_eq!(m.responses(), 0);
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_multiplexes_streams_over_few_connections_under_the_server_limit() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder()
        .max_concurrent_streams(4)
        .delay(smps_load::reference::Delay::Fixed(Duration::from_millis(2)))
        .start()
        .await
        .unwrap();
    let url = server.url("/");
    let options = r#"{\"http_version\": \"2\", \"streams_per_connection\": 8}"#;
    let closed = run_client(
        &format!("{{protocol: http, connections: 2, endpoint_urls: ['{url}'], additional_options: '{}'}}", options.replace('\\', "")),
        "300ms",
        Duration::from_secs(3),
    )
    .await;
    let m = &closed.measured;
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    assert!(m.ok() > 100, "{:?}", m.status_codes);
    assert_eq!(m.connections_opened, 2, "16 streams share 2 connections");
    assert_eq!(closed.settings.streams_per_connection, 8);
    let open = run_client(
        &format!("{{protocol: 1, connections: 2, rps: 1000, endpoint_urls: ['{url}'], additional_options: '{}'}}", options.replace('\\', "")),
        "300ms",
        Duration::from_secs(3),
    )
    .await;
    let m = &open.measured;
    assert_eq!(
        m.ok(),
        300,
        "{:?} {:?} dropped {}",
        m.status_codes,
        m.errors,
        m.dropped
    );
    assert_eq!(m.connections_opened, 2);
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_health_checks_and_echo_calls_run_from_an_smp_config() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder().start().await.unwrap();
    let addr = server.addr();
    let health = run_client(
        &format!("{{protocol: GRPC, connections: 2, endpoint_urls: ['grpc://{addr}'], additional_options: '{{\"streams\": 4}}'}}"),
        "300ms",
        Duration::from_secs(3),
    )
    .await;
    let m = &health.measured;
    assert!(
        m.ok() > 50,
        "{:?} {:?} {:?}",
        m.status_codes,
        m.errors,
        health.error_reasons
    );
    assert!(
        m.errors.is_empty(),
        "{:?} {:?}",
        m.errors,
        health.error_reasons
    );
    assert_eq!(m.connections_opened, 2);
    let fortio = health.to_fortio_json();
    assert_eq!(fortio["RunType"], "GRPC Health");
    assert_eq!(fortio["RetCodes"]["SERVING"], m.ok());
    assert_eq!(fortio["Streams"], 4);
    // Any method, with the request message as base64 protobuf bytes; open loop.
    let echo = run_client(
        &format!("{{protocol: 4, connections: 1, rps: 200, endpoint_urls: ['dns:///{addr}/smps.Echo/Say'], additional_options: '{{\"message_base64\": \"CgVoZWxsbw==\"}}'}}"),
        "500ms",
        Duration::from_secs(3),
    )
    .await;
    let m = &echo.measured;
    assert_eq!(m.ok(), 100, "{:?} {:?}", m.errors, echo.error_reasons);
    // Request and response carry the same 7-byte message plus the 5-byte prefix.
    assert!(m.bytes_in > 12 * 100);
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_statuses_are_counted_by_code_name_with_their_message() {
    let _serial = crate::serial().await;
    let server = ReferenceServer::builder()
        .grpc_status_mix(vec![(0, 1), (14, 1)])
        .start()
        .await
        .unwrap();
    let report = EngineBuilder::default()
        .url(format!("grpc://{}/smps.Echo/Say", server.addr()))
        .max_requests(20)
        .run_to_end()
        .await;
    let m = &report.measured;
    assert_eq!(m.ok(), 10, "{:?}", m.errors);
    assert_eq!(m.errors.get(&ErrorKind::GrpcUnavailable), Some(&10));
    let reason = &report.error_reasons[&ErrorKind::GrpcUnavailable];
    assert!(
        reason.contains("injected by the reference server"),
        "{reason}"
    );
    assert_eq!(report.to_fortio_json()["RetCodes"]["UNAVAILABLE"], 10);

    let not_serving = ReferenceServer::builder()
        .grpc_serving(false)
        .start()
        .await
        .unwrap();
    let report = EngineBuilder::default()
        .url(format!("grpc://{}", not_serving.addr()))
        .max_requests(3)
        .run_to_end()
        .await;
    assert_eq!(
        report.measured.errors.get(&ErrorKind::GrpcNotServing),
        Some(&3)
    );
}

#[test]
fn settings_a_protocol_cannot_carry_are_named() {
    let e = EngineBuilder::from_config(&config(
        "test: {clients: [{protocol: tcp, connections: 1, endpoint_urls: ['http://127.0.0.1/']}], duration: 1s}",
    ))
    .unwrap_err();
    assert!(
        matches!(e, Error::Unsupported { ref field, .. } if field == "clients[0].protocol"),
        "{e}"
    );
    let e = EngineBuilder::from_config(&config(
        "test: {clients: [{protocol: tcp, connections: 1, headers: {x: y}, endpoint_urls: ['tcp://127.0.0.1:9']}], duration: 1s}",
    ))
    .unwrap()
    .build()
    .unwrap_err();
    assert!(
        matches!(e, Error::Unsupported { ref field, .. } if field == "clients[0].headers"),
        "{e}"
    );
    let e = EngineBuilder::from_config(&config(
        "test: {clients: [{protocol: udp, connections: 1, endpoint_urls: ['udp://127.0.0.1:9'], additional_options: '{\"udp_timeout\": \"6s\"}'}], duration: 1s}",
    ))
    .unwrap()
    .build()
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("clients[0].additional_options.udp_timeout"),
        "{e}"
    );
    let e = EngineBuilder::default()
        .url("http://127.0.0.1:9/")
        .streams_per_connection(4)
        .max_requests(1)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("streams_per_connection"), "{e}");
    let e = EngineBuilder::default()
        .url("tcp://127.0.0.1:9")
        .url("udp://127.0.0.1:9")
        .max_requests(1)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("url[1]"), "{e}");
    let e = EngineBuilder::default()
        .url("tcp://127.0.0.1")
        .max_requests(1)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("needs a port"), "{e}");
    let e = EngineBuilder::default()
        .url("grpc://127.0.0.1:9/NoService")
        .max_requests(1)
        .build()
        .unwrap_err();
    #[cfg(feature = "http2")]
    assert!(e.to_string().contains("not a gRPC method"), "{e}");
    // Without HTTP/2 the protocol itself is refused first.
    #[cfg(not(feature = "http2"))]
    assert!(e.to_string().contains("`http2` feature"), "{e}");
    let e = EngineBuilder::default()
        .url("tcp://127.0.0.1:9")
        .payload_size(8)
        .max_requests(1)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("payload_size"), "{e}");
}

#[cfg(all(feature = "http2", feature = "rustls"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_and_grpc_multiplex_over_tls_with_alpn() {
    let _serial = crate::serial().await;
    let (ca, cert, key) = crate::errors::test_pki();
    let server = ReferenceServer::builder()
        .tls(cert, key)
        .start()
        .await
        .unwrap();
    for url in [server.url("/hello"), format!("grpcs://{}", server.addr())] {
        let report = EngineBuilder::default()
            .url(&url)
            .http_version(smps_load::HttpVersion::Http2)
            .connections(1)
            .streams_per_connection(4)
            .trust_pem(ca.clone())
            .max_requests(40)
            .run_to_end()
            .await;
        let m = &report.measured;
        assert_eq!(
            m.ok(),
            40,
            "{url}: {:?} {:?}",
            m.errors,
            report.error_reasons
        );
        assert_eq!(
            m.connections_opened, 1,
            "{url}: 4 streams share one TLS connection"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_and_grpc_run_on_stages_poisson_growth_and_warm_up() {
    use smps_load::{ArrivalPlan, BacklogPolicy, LoadModel, Stage};
    let _serial = crate::serial().await;
    let tcp = EchoServer::tcp().start().await.unwrap();
    let udp = EchoServer::udp().start().await.unwrap();
    #[cfg(feature = "http2")]
    let http = ReferenceServer::builder().start().await.unwrap();
    let models = [
        LoadModel::Open {
            plan: ArrivalPlan::stages(0.0, vec![Stage::new(400.0, Duration::from_millis(500))])
                .unwrap(),
            backlog: BacklogPolicy::Drop,
        },
        LoadModel::Open {
            plan: ArrivalPlan::poisson(300.0, 3).unwrap(),
            backlog: BacklogPolicy::Grow {
                max_connections: 8,
                max_queued: 100,
            },
        },
    ];
    for url in [
        tcp.url(),
        udp.url(),
        #[cfg(feature = "http2")]
        format!("grpc://{}", http.addr()),
    ] {
        for model in models.clone() {
            let report = EngineBuilder::default()
                .url(&url)
                .connections(2)
                .load_model(model.clone())
                .warmup(Duration::from_millis(100))
                .duration(Duration::from_millis(400))
                .run_to_end()
                .await;
            let m = &report.measured;
            assert!(
                m.ok() > 40,
                "{url} {model:?}: {:?} {:?}",
                m.status_codes,
                m.errors
            );
            assert!(m.errors.is_empty(), "{url} {model:?}: {:?}", m.errors);
            assert!(report.warmup.as_ref().is_some_and(|w| w.ok() > 0), "{url}");
        }
    }
}

/// A gRPC server (h2 crate) that answers OK only when the call carries gRPC's header fields,
/// the `grpc-timeout` deadline and the metadata `x-tenant: blue`; otherwise status 3 with a
/// message saying what was missing.
#[cfg(feature = "http2")]
async fn strict_grpc_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(s).await else {
                    return;
                };
                while let Some(Ok((req, mut respond))) = conn.accept().await {
                    let h = req.headers();
                    let has = |k: &str, v: &str| h.get(k).is_some_and(|x| x == v);
                    let mut missing = Vec::new();
                    if req.method() != http::Method::POST || req.uri().path() != "/smps.Echo/Say" {
                        missing.push("POST /smps.Echo/Say");
                    }
                    if !has("content-type", "application/grpc") {
                        missing.push("content-type");
                    }
                    if !has("te", "trailers") {
                        missing.push("te");
                    }
                    if !has("grpc-timeout", "1500m") {
                        missing.push("grpc-timeout");
                    }
                    if !has("x-tenant", "blue") {
                        missing.push("metadata");
                    }
                    let resp = http::Response::builder()
                        .header("content-type", "application/grpc")
                        .body(())
                        .unwrap();
                    let Ok(mut stream) = respond.send_response(resp, false) else {
                        continue;
                    };
                    let mut trailers = http::HeaderMap::new();
                    if missing.is_empty() {
                        let _ =
                            stream.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 0]), false);
                        trailers.insert("grpc-status", "0".parse().unwrap());
                    } else {
                        trailers.insert("grpc-status", "3".parse().unwrap());
                        let msg = format!("missing%20{}", missing.join(","));
                        trailers.insert("grpc-message", msg.parse().unwrap());
                    }
                    let _ = stream.send_trailers(trailers);
                }
            });
        }
    });
    (addr, task)
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_calls_carry_their_header_fields_deadline_and_metadata() {
    let _serial = crate::serial().await;
    let (addr, task) = strict_grpc_server().await;
    let run = |metadata: bool| {
        let mut b = EngineBuilder::default()
            .url(format!("grpc://{addr}/smps.Echo/Say"))
            .request_timeout(Duration::from_millis(1500))
            .max_requests(5);
        if metadata {
            b = b.header("x-tenant", "blue");
        }
        async move { b.run_to_end().await }
    };
    let ok = run(true).await;
    assert_eq!(
        ok.measured.ok(),
        5,
        "{:?} {:?}",
        ok.measured.errors,
        ok.error_reasons
    );
    let without = run(false).await;
    assert_eq!(
        without.measured.errors.get(&ErrorKind::GrpcInvalidArgument),
        Some(&5)
    );
    let reason = &without.error_reasons[&ErrorKind::GrpcInvalidArgument];
    assert!(reason.contains("missing metadata"), "{reason}");
    task.abort();
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_http2_bodies_flow_both_ways_past_the_flow_control_windows() {
    let _serial = crate::serial().await;
    // Responses of 6 MiB, above the 4 MiB stream window: each completes only if the
    // capacity of the bytes received is handed back while the body is read.
    let big = vec![b'x'; 6 << 20];
    let server = ReferenceServer::builder()
        .body(big.clone())
        .start()
        .await
        .unwrap();
    let report = EngineBuilder::default()
        .url(server.url("/big"))
        .http_version(smps_load::HttpVersion::Http2)
        .connections(1)
        .streams_per_connection(4)
        .max_requests(12)
        .request_timeout(Duration::from_secs(5))
        .run_to_end()
        .await;
    let m = &report.measured;
    assert_eq!(m.ok(), 12, "{:?} {:?}", m.errors, report.error_reasons);
    assert!(m.bytes_in >= 12 * (6 << 20), "{}", m.bytes_in);
    // gRPC echo of a 1 MiB message: the request body is larger than the server's 64 KiB
    // initial window and comes back whole.
    let report = EngineBuilder::default()
        .url(format!("grpc://{}/smps.Echo/Say", server.addr()))
        .body(vec![7u8; 1 << 20])
        .connections(1)
        .streams_per_connection(2)
        .max_requests(8)
        .run_to_end()
        .await;
    let m = &report.measured;
    assert_eq!(m.ok(), 8, "{:?} {:?}", m.errors, report.error_reasons);
    assert!(m.bytes_in >= 8 * (1 << 20), "{}", m.bytes_in);
    assert!(m.bytes_out >= 8 * (1 << 20), "{}", m.bytes_out);
}
