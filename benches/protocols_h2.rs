//! HTTP/2 client stacks side by side (issue 15): client CPU per request of hyper's HTTP/2
//! client connection (`hyper::client::conn::http2`: a dispatch channel and a oneshot per
//! request, the connection driven by its own task) against driving the `h2` crate directly
//! (`h2::client::SendRequest`: `ready`, `send_request`, the response's `RecvStream` read with
//! its flow-control capacity released), both as smps-load uses them: N connections × M
//! streams, each stream a loop of GET /hello with the endpoint's headers cloned per request,
//! the body counted and dropped.
//!
//! Two more lines run smps-load's engine itself (closed loop, HTTP/2, the same shape and
//! request count) on the same client runtime, once with its own HTTP/2 client
//! (`Http2Client::Lean`, the default) and once on the `h2` crate (`Http2Client::H2`), so
//! the whole engine (worker loop, recorder, classification) shows beside the bare stacks.
//!
//! The reference server (h2c, prior knowledge) runs on its own runtime thread; the client runs
//! on a current-thread runtime on the bench thread, so the time criterion reports is the
//! **client thread's CPU time** (`CLOCK_THREAD_CPUTIME_ID`) for the batch, not wall time:
//! the server's work and other processes on the machine are not counted. Compare the two
//! stacks' medians within one run; absolute numbers depend on the machine.
//!
//! `cargo bench -p benches --bench protocols_h2`

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use smps_load::reference::ReferenceServer;
use smps_load::{Engine, Http2Client, HttpVersion};
use tokio::net::TcpStream;

/// Requests per measured batch (spread over all streams).
const REQUESTS: usize = 16_000;
/// smps-load's windows: 4 MiB per stream, 16 MiB per connection.
const STREAM_WINDOW: u32 = 4 << 20;
const CONNECTION_WINDOW: u32 = 16 << 20;

/// The request every stream repeats.
#[derive(Clone)]
struct Target {
    uri: Uri,
    headers: HeaderMap,
}

/// CPU time of the calling thread.
#[cfg(target_os = "linux")]
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Elsewhere: wall time since the first call (the comparison then includes the server).
#[cfg(not(target_os = "linux"))]
fn thread_cpu() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// hyper's HTTP/2 client: `connections` × `streams` loops sharing `per_stream` requests each.
async fn run_hyper(addr: std::net::SocketAddr, t: &Target, connections: usize, streams: usize) {
    let per_stream = REQUESTS / (connections * streams);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let io = TcpStream::connect(addr).await.expect("connect");
        io.set_nodelay(true).expect("nodelay");
        let mut b = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
        b.initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW);
        let (sender, conn) = b.handshake(TokioIo::new(io)).await.expect("handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        for _ in 0..streams {
            let mut sender = sender.clone();
            let t = t.clone();
            tasks.spawn(async move {
                for _ in 0..per_stream {
                    let mut req = Request::new(Full::new(Bytes::new()));
                    *req.method_mut() = Method::GET;
                    *req.uri_mut() = t.uri.clone();
                    *req.headers_mut() = t.headers.clone();
                    *req.version_mut() = http::Version::HTTP_2;
                    sender.ready().await.expect("ready");
                    let resp = sender.send_request(req).await.expect("send");
                    assert_eq!(resp.status(), 200);
                    let mut body = resp.into_body();
                    let mut n = 0;
                    while let Some(f) = body.frame().await {
                        if let Some(d) = f.expect("body").data_ref() {
                            n += d.len();
                        }
                    }
                    assert!(n > 0);
                }
            });
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("stream task");
    }
}

/// The `h2` crate driven directly.
async fn run_h2(addr: std::net::SocketAddr, t: &Target, connections: usize, streams: usize) {
    let per_stream = REQUESTS / (connections * streams);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let io = TcpStream::connect(addr).await.expect("connect");
        io.set_nodelay(true).expect("nodelay");
        let (sender, conn) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .handshake::<_, Bytes>(io)
            .await
            .expect("handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        for _ in 0..streams {
            let mut sender = sender.clone();
            let t = t.clone();
            tasks.spawn(async move {
                for _ in 0..per_stream {
                    let mut req = Request::new(());
                    *req.method_mut() = Method::GET;
                    *req.uri_mut() = t.uri.clone();
                    *req.headers_mut() = t.headers.clone();
                    sender = sender.ready().await.expect("ready");
                    let (resp, _) = sender.send_request(req, true).expect("send");
                    let resp = resp.await.expect("response");
                    assert_eq!(resp.status(), 200);
                    let mut body = resp.into_body();
                    let mut n = 0;
                    while let Some(d) = body.data().await {
                        let d = d.expect("body");
                        n += d.len();
                        let _ = body.flow_control().release_capacity(d.len());
                    }
                    assert!(n > 0);
                }
            });
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("stream task");
    }
}

/// Client CPU time of `iters` batches.
fn cpu_of<F: Future<Output = ()>>(
    rt: &tokio::runtime::Runtime,
    iters: u64,
    mut f: impl FnMut() -> F,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = thread_cpu();
        rt.block_on(f());
        total += thread_cpu() - start;
    }
    total
}

fn stacks(c: &mut Criterion) {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let server = server_rt
        .block_on(
            ReferenceServer::builder()
                .max_concurrent_streams(256)
                .start(),
        )
        .expect("reference server");
    let addr = server.addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let mut headers = HeaderMap::new();
    headers.insert("user-agent", HeaderValue::from_static("smps-load"));
    headers.insert("accept", HeaderValue::from_static("*/*"));
    let target = Target {
        uri: server.url("/hello").parse().expect("uri"),
        headers,
    };

    let mut group = c.benchmark_group("protocols_h2/client_cpu");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    for (connections, streams) in [(1usize, 10usize), (4, 10), (16, 10)] {
        let shape = format!("c{connections}_m{streams}");
        // Interleaved per shape so both stacks meet the same machine load.
        group.bench_function(BenchmarkId::new("hyper", &shape), |b| {
            b.iter_custom(|iters| {
                cpu_of(&rt, iters, || {
                    run_hyper(addr, &target, connections, streams)
                })
            })
        });
        group.bench_function(BenchmarkId::new("h2", &shape), |b| {
            b.iter_custom(|iters| {
                cpu_of(&rt, iters, || run_h2(addr, &target, connections, streams))
            })
        });
        for (name, client) in [
            ("smps-load-lean", Http2Client::Lean),
            ("smps-load-h2", Http2Client::H2),
        ] {
            let engine = Engine::builder()
                .url(server.url("/hello"))
                .http_version(HttpVersion::Http2)
                .http2_client(client)
                .connections(connections)
                .streams_per_connection(streams)
                .max_requests(REQUESTS as u64)
                .build()
                .expect("engine");
            group.bench_function(BenchmarkId::new(name, &shape), |b| {
                b.iter_custom(|iters| {
                    cpu_of(&rt, iters, || async {
                        let r = engine.run().await.expect("run");
                        assert_eq!(r.measured.ok(), REQUESTS as u64, "{:?}", r.measured.errors);
                    })
                })
            });
        }
    }
    group.finish();
    server_rt.block_on(server.shutdown());
}

criterion_group!(benches, stacks);
criterion_main!(benches);
