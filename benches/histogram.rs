//! Criterion benchmarks of `smps-load` results: recording into an HdrHistogram with the
//! engine's bounds (1 µs–1 h, 3 significant digits), and encoding, decoding and merging the
//! lossless portable report.
//!
//! `cargo bench -p benches --bench histogram`.
#![allow(clippy::print_stderr)]

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use smps_load::hdrhistogram::Histogram;
use smps_load::reference::{Delay, ReferenceServer};
use smps_load::{Engine, Report, RunId, merge};

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram/record");
    const N: u64 = 100_000;
    group.throughput(Throughput::Elements(N));
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("bounds");
    group.bench_function("us_1us_1h_sigfig3", |b| {
        b.iter(|| {
            for i in 0..N {
                h.saturating_record(black_box(20 + (i * 7919) % 5_000));
            }
        })
    });
    group.finish();
}

/// A report with real data: 20,000 requests with a random 0.1–2 ms delay.
fn sample_report() -> Report {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = ReferenceServer::builder()
            .delay(Delay::Uniform {
                min: std::time::Duration::from_micros(100),
                max: std::time::Duration::from_millis(2),
            })
            .start()
            .await
            .expect("server");
        let r = Engine::builder()
            .url(server.url("/"))
            .connections(32)
            .max_requests(20_000)
            .build()
            .expect("engine")
            .run()
            .await
            .expect("run");
        server.shutdown().await;
        r
    })
}

fn portable(c: &mut Criterion) {
    let report = sample_report();
    let p = report.to_portable().expect("encode");
    let json = serde_json::to_string(&p).expect("json");
    let mut group = c.benchmark_group("histogram/portable");
    group.bench_function("encode_v2_deflate_base64", |b| {
        b.iter(|| report.to_portable().expect("encode"))
    });
    group.bench_function("decode", |b| {
        b.iter(|| Report::from_portable(black_box(&p)).expect("decode"))
    });
    for parts in [2usize, 8] {
        // Copies of one run, each with its own run id (merge refuses a run given twice).
        let many: Vec<_> = (0..parts)
            .map(|_| {
                let mut q = p.clone();
                q.run_ids = vec![RunId::generate()];
                q
            })
            .collect();
        group.bench_with_input(BenchmarkId::new("merge", parts), &many, |b, many| {
            b.iter_batched(
                || many.clone(),
                |m| merge(&m).expect("merge"),
                BatchSize::SmallInput,
            )
        });
    }
    group.bench_function("fortio_json", |b| b.iter(|| report.to_fortio_json()));
    group.bench_function("smp_result", |b| b.iter(|| report.to_smp_result()));
    group.finish();
    eprintln!(
        "portable report: {} bytes of JSON for {} requests",
        json.len(),
        report.measured.requests()
    );
}

criterion_group!(benches, record, portable);
criterion_main!(benches);
