//! Criterion benchmarks of `smps-load` per protocol against the in-process servers on
//! loopback: HTTP/2 multiplexed (2 connections × 8 streams), gRPC health checks over the same
//! multiplexing, TCP and UDP echo (4 connections), and a minimal blocking TCP/UDP echo client
//! in the same group as the floor. The servers share the runtime and the CPU with the
//! client, so these track regressions; peer comparisons (h2load, the blocking floor on its
//! own core, client CPU per request, RSS over 10M requests) are in `protocols-bench.sh`.
//!
//! `cargo bench -p benches --bench protocols`

use std::io::{Read, Write};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use smps_load::reference::{EchoServer, ReferenceServer};
use smps_load::{Engine, HttpVersion};

const REQUESTS: u64 = 5_000;

fn protocols(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (http, tcp, udp) = rt.block_on(async {
        (
            ReferenceServer::builder()
                .start()
                .await
                .expect("reference server"),
            EchoServer::tcp().start().await.expect("tcp echo"),
            EchoServer::udp().start().await.expect("udp echo"),
        )
    });
    let mut group = c.benchmark_group("protocols/closed_loop");
    group.throughput(Throughput::Elements(REQUESTS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    let engines = [
        (
            "http2_c2_m8",
            Engine::builder()
                .url(http.url("/hello"))
                .http_version(HttpVersion::Http2)
                .connections(2)
                .streams_per_connection(8),
        ),
        (
            "grpc_health_c2_m8",
            Engine::builder()
                .url(format!("grpc://{}", http.addr()))
                .connections(2)
                .streams_per_connection(8),
        ),
        (
            "tcp_echo_c4",
            Engine::builder().url(tcp.url()).connections(4),
        ),
        (
            "udp_echo_c4",
            Engine::builder().url(udp.url()).connections(4),
        ),
        (
            "tcp_echo_c1",
            Engine::builder().url(tcp.url()).connections(1),
        ),
        (
            "udp_echo_c1",
            Engine::builder().url(udp.url()).connections(1),
        ),
    ];
    for (name, builder) in engines {
        let engine = builder.max_requests(REQUESTS).build().expect("engine");
        group.bench_with_input(BenchmarkId::new("smps-load", name), &engine, |b, engine| {
            b.iter(|| {
                let r = rt.block_on(engine.run()).expect("run");
                assert_eq!(r.measured.ok(), REQUESTS, "{:?}", r.measured.errors);
                r
            })
        });
    }
    // The floor: one blocking socket, one write and one read per round trip.
    let tcp_addr = tcp.addr();
    group.bench_function(BenchmarkId::new("blocking", "tcp_echo_c1"), |b| {
        b.iter(|| {
            let mut s = std::net::TcpStream::connect(tcp_addr).expect("connect");
            s.set_nodelay(true).expect("nodelay");
            let mut out = [0u8; 24];
            let mut back = [0u8; 24];
            for i in 0..REQUESTS {
                out[..8].copy_from_slice(&i.to_le_bytes());
                s.write_all(&out).expect("write");
                s.read_exact(&mut back).expect("read");
                assert_eq!(back, out);
            }
        })
    });
    let udp_addr = udp.addr();
    group.bench_function(BenchmarkId::new("blocking", "udp_echo_c1"), |b| {
        b.iter(|| {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
            s.connect(udp_addr).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(1)))
                .expect("timeout");
            let mut out = [0u8; 24];
            let mut back = [0u8; 64];
            for i in 0..REQUESTS {
                out[..8].copy_from_slice(&i.to_le_bytes());
                s.send(&out).expect("send");
                let n = s.recv(&mut back).expect("recv");
                assert_eq!(&back[..n], &out);
            }
        })
    });
    group.finish();
    rt.block_on(async {
        http.shutdown().await;
        tcp.shutdown().await;
        udp.shutdown().await;
    });
}

criterion_group!(benches, protocols);
criterion_main!(benches);
