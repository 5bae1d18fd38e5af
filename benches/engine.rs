//! Criterion benchmarks of the `smps-load` engine against the in-process reference server on
//! loopback: closed-loop throughput (HTTP/1.1 and HTTP/2) and arrival-plan generation.
//!
//! `cargo bench -p benches --bench engine`. The server shares the runtime (and the CPU) with the
//! engine, so these numbers track regressions; peer comparisons use `benches/loadbench.sh`
//! against nginx on a separate core.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use smps_load::reference::ReferenceServer;
use smps_load::{ArrivalPlan, Engine, HttpVersion, Stage};

const REQUESTS: u64 = 5_000;

fn closed_loop(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt
        .block_on(ReferenceServer::builder().start())
        .expect("reference server");
    let mut group = c.benchmark_group("engine/closed_loop");
    group.throughput(Throughput::Elements(REQUESTS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for (name, version) in [("http1", HttpVersion::Http1), ("http2", HttpVersion::Http2)] {
        for conns in [1usize, 16] {
            let engine = Engine::builder()
                .url(server.url("/hello"))
                .connections(conns)
                .http_version(version)
                .max_requests(REQUESTS)
                .build()
                .expect("engine");
            group.bench_with_input(
                BenchmarkId::new(name, format!("c{conns}")),
                &engine,
                |b, engine| {
                    b.iter(|| {
                        let r = rt.block_on(engine.run()).expect("run");
                        assert_eq!(r.measured.ok(), REQUESTS);
                        r
                    })
                },
            );
        }
    }
    group.finish();
    rt.block_on(server.shutdown());
}

fn plans(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine/plan");
    const N: usize = 100_000;
    group.throughput(Throughput::Elements(N as u64));
    let constant = ArrivalPlan::constant(50_000.0).expect("plan");
    let poisson = ArrivalPlan::poisson(50_000.0, 1).expect("plan");
    let stages = ArrivalPlan::stages(
        0.0,
        vec![
            Stage::new(50_000.0, Duration::from_secs(2)),
            Stage::new(50_000.0, Duration::from_secs(10)),
        ],
    )
    .expect("plan");
    for (name, plan) in [
        ("constant", &constant),
        ("poisson", &poisson),
        ("stages", &stages),
    ] {
        group.bench_with_input(BenchmarkId::new("arrivals", name), plan, |b, plan| {
            b.iter(|| plan.stripe(0, 1).take(N).last())
        });
    }
    group.finish();
}

criterion_group!(benches, closed_loop, plans);
criterion_main!(benches);
