//! Servers that break the protocol on purpose: resets, refused streams, GOAWAY, malformed
//! frames, echoes that never come or come back wrong. Every failure is counted in the
//! taxonomy and every run ends on time.

use std::time::Duration;

use smps_load::{Engine, ErrorKind, PhaseReport};
#[cfg(feature = "http2")]
use smps_load::{EngineBuilder, Http2Client, HttpVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
#[cfg(feature = "http2")]
use tokio::net::TcpStream;
use tokio::net::UdpSocket;

use crate::{BadServer, run_within};

/// An HTTP/2 server (prior knowledge) that answers every stream with `answer`.
#[cfg(feature = "http2")]
async fn h2_server(answer: fn(&mut h2::server::SendResponse<bytes::Bytes>)) -> BadServer {
    BadServer::start(move |s| async move {
        let Ok(mut conn) = h2::server::handshake(s).await else {
            return;
        };
        while let Some(Ok((_req, mut respond))) = conn.accept().await {
            answer(&mut respond);
        }
    })
    .await
}

/// Raw HTTP/2: when the first request's HEADERS arrive, answers GOAWAY with last stream id
/// 0 (nothing processed) and keeps the connection open a while.
#[cfg(feature = "http2")]
async fn goaway_before_any_stream(mut s: TcpStream) {
    let mut buf = vec![0u8; 24];
    if s.read_exact(&mut buf).await.is_err() {
        return;
    }
    // SETTINGS (empty), SETTINGS ACK.
    let _ = s
        .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0])
        .await;
    loop {
        let mut head = [0u8; 9];
        if s.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
        let mut payload = vec![0u8; len];
        if s.read_exact(&mut payload).await.is_err() {
            return;
        }
        if head[3] == 1 {
            // GOAWAY: last stream id 0, NO_ERROR.
            let _ = s
                .write_all(&[0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
                .await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            return;
        }
    }
}

fn only(m: &PhaseReport, kind: ErrorKind) -> u64 {
    assert_eq!(m.responses(), 0, "{:?}", m.status_codes);
    assert_eq!(
        m.errors.keys().copied().collect::<Vec<_>>(),
        vec![kind],
        "{:?}",
        m.errors
    );
    m.errors[&kind]
}

/// Both HTTP/2 clients: the fault tests run on each.
#[cfg(feature = "http2")]
const CLIENTS: [Http2Client; 2] = [Http2Client::Lean, Http2Client::H2];

#[cfg(feature = "http2")]
fn h2(url: String, client: Http2Client) -> EngineBuilder {
    Engine::builder()
        .url(url)
        .http_version(HttpVersion::Http2)
        .http2_client(client)
        .streams_per_connection(2)
        .connections(2)
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_refused_and_goaway_streams_are_told_apart() {
    let _serial = crate::serial().await;
    let reset = h2_server(|r| r.send_reset(h2::Reason::INTERNAL_ERROR)).await;
    let refuse = h2_server(|r| r.send_reset(h2::Reason::REFUSED_STREAM)).await;
    let goaway = BadServer::start(goaway_before_any_stream).await;
    for client in CLIENTS {
        let report = run_within(
            h2(format!("http://{}/", reset.addr), client).max_requests(20),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(
            only(&report.measured, ErrorKind::Http2StreamReset),
            20,
            "{client:?}"
        );

        let report = run_within(
            h2(format!("http://{}/", refuse.addr), client).max_requests(20),
            Duration::from_secs(5),
        )
        .await;
        // Each refused stream was sent twice (a refusal is retried once), then counted.
        assert_eq!(
            only(&report.measured, ErrorKind::Http2RefusedStream),
            20,
            "{client:?}"
        );

        let report = run_within(
            h2(format!("http://{}/", goaway.addr), client).max_requests(20),
            Duration::from_secs(5),
        )
        .await;
        // A stream that races the GOAWAY (its slot found the shared connection open, the
        // connection closed before the stream was opened, and so did the new connection it
        // was retried on) is counted as the connection closing under it.
        let m = &report.measured;
        assert_eq!(m.responses(), 0, "{client:?}: {:?}", m.status_codes);
        assert_eq!(m.error_count(), 20, "{client:?}: {:?}", m.errors);
        let goaways = m.errors.get(&ErrorKind::Http2GoAway).copied().unwrap_or(0);
        let closed = m
            .errors
            .get(&ErrorKind::ConnectionClosed)
            .copied()
            .unwrap_or(0);
        assert_eq!(goaways + closed, 20, "{client:?}: {:?}", m.errors);
        assert!(goaways >= 15, "{client:?}: {:?}", m.errors);
        assert!(report.measured.connections_opened >= 2, "{client:?}");
    }
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http2_frames_are_protocol_errors() {
    let _serial = crate::serial().await;
    let server = BadServer::start(|mut s| async move {
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await;
        // A frame header claiming a 16 MiB SETTINGS frame: far above the default limit.
        let _ = s.write_all(&[0xff, 0xff, 0xff, 0x04, 0, 0, 0, 0, 0]).await;
        let _ = s.write_all(&[0u8; 64]).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    })
    .await;
    for client in CLIENTS {
        let report = run_within(
            h2(format!("http://{}/", server.addr), client).max_requests(8),
            Duration::from_secs(5),
        )
        .await;
        let m = &report.measured;
        assert_eq!(m.error_count(), 8, "{client:?}: {:?}", m.errors);
        assert!(
            m.errors.keys().all(|k| matches!(
                k,
                ErrorKind::Protocol | ErrorKind::ConnectionClosed | ErrorKind::ConnectionReset
            )),
            "{client:?}: {:?}",
            m.errors
        );
        assert!(
            m.errors.contains_key(&ErrorKind::Protocol),
            "{client:?}: {:?}",
            m.errors
        );
    }
}

#[cfg(feature = "http2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_sends_its_settings_times_the_handshake_out() {
    let _serial = crate::serial().await;
    let silent = BadServer::start(|mut s| async move {
        let mut buf = [0u8; 1024];
        while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
    // The engine's own client waits for the server's SETTINGS before its first stream; the
    // `h2` crate's handshake does not, so there a silent server is a request timeout instead.
    let report = run_within(
        h2(format!("http://{}/", silent.addr), Http2Client::Lean)
            .connect_timeout(Duration::from_millis(150))
            .duration(Duration::from_millis(500)),
        Duration::from_secs(3),
    )
    .await;
    assert!(only(&report.measured, ErrorKind::ConnectTimeout) >= 2);
    let reason = &report.error_reasons[&ErrorKind::ConnectTimeout];
    assert!(
        reason.contains("HTTP/2 handshake") && reason.contains("connect timeout"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_echoes_that_never_come_or_come_back_wrong_are_counted_and_the_run_ends_on_time() {
    let _serial = crate::serial().await;
    let silent = BadServer::start(|mut s| async move {
        let mut buf = [0u8; 1024];
        while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
    let report = run_within(
        Engine::builder()
            .url(format!("tcp://{}", silent.addr))
            .connections(2)
            .request_timeout(Duration::from_millis(200))
            .duration(Duration::from_millis(300)),
        Duration::from_millis(1500),
    )
    .await;
    assert!(only(&report.measured, ErrorKind::RequestTimeout) >= 2);

    let wrong = BadServer::start(|mut s| async move {
        let mut buf = [0u8; 1024];
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
            buf[n - 1] ^= 0xff;
            if s.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    })
    .await;
    let report = run_within(
        Engine::builder()
            .url(format!("tcp://{}", wrong.addr))
            .rate(200.0)
            .duration(Duration::from_millis(300)),
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(only(&report.measured, ErrorKind::EchoMismatch), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_echoes_that_never_come_or_come_back_wrong_are_counted_and_the_run_ends_on_time() {
    let _serial = crate::serial().await;
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let report = run_within(
        Engine::builder()
            .url(format!("udp://{}", silent.local_addr().unwrap()))
            .connections(4)
            .rate(100.0)
            .udp_timeout(Duration::from_millis(20))
            .duration(Duration::from_millis(300)),
        Duration::from_secs(3),
    )
    .await;
    let m = &report.measured;
    assert_eq!(only(m, ErrorKind::EchoLost) + m.dropped, 30);

    let wrong = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = wrong.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = wrong.recv_from(&mut buf).await {
            buf[n - 1] ^= 0xff;
            let _ = wrong.send_to(&buf[..n], from).await;
        }
    });
    let report = run_within(
        Engine::builder()
            .url(format!("udp://{addr}"))
            .max_requests(10),
        Duration::from_secs(3),
    )
    .await;
    task.abort();
    assert_eq!(only(&report.measured, ErrorKind::EchoMismatch), 10);
}
