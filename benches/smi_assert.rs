//! Criterion benchmarks for `smi-assert`: manifest validation and the χ² judgement.
//!
//! Inputs are the manifests of the bundled SMI conformance suite (fixtures and apply operations),
//! so the numbers are for realistic SMI objects. Run with
//! `cargo bench -p benches --bench smi_assert`. The end-to-end time of the whole suite against the
//! loopback mesh is measured by `cargo run --release -p examples --example conformance` instead.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use smi_assert::Value;
use smi_assert::suite::Operation;
use smi_assert::validate::Validator;

fn manifests() -> Vec<Value> {
    let suite = smi_assert::conformance::suite().expect("bundled suite parses");
    let mut out: Vec<Value> = suite.fixtures.values().flatten().cloned().collect();
    for t in &suite.tests {
        for s in &t.steps {
            for op in &s.operations {
                if let Operation::Apply(a) = op {
                    out.extend(a.objects.iter().cloned());
                }
            }
        }
    }
    out.iter()
        .map(|m| smi_assert::runner::substitute(m, "bench"))
        .collect()
}

fn validate(c: &mut Criterion) {
    let validator = Validator::new().expect("bundled CRDs compile");
    let all = manifests();
    let smi: Vec<Value> = all
        .iter()
        .filter(|m| {
            m["apiVersion"]
                .as_str()
                .is_some_and(|a| a.contains("smi-spec.io"))
        })
        .cloned()
        .collect();
    let mut g = c.benchmark_group("smi_validate");
    g.throughput(Throughput::Elements(smi.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("report", "suite-smi-manifests"),
        &smi,
        |b, ms| {
            b.iter(|| {
                for m in ms {
                    black_box(validator.report(black_box(m)));
                }
            });
        },
    );
    g.throughput(Throughput::Elements(all.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("report_set", "suite-all-manifests"),
        &all,
        |b, ms| {
            b.iter(|| black_box(validator.report_set(black_box(ms), "bench")));
        },
    );
    g.finish();
    c.bench_function("smi_validate/compile/bundled-crds", |b| {
        b.iter(|| black_box(Validator::new().expect("compiles")));
    });
}

fn chi_square(c: &mut Criterion) {
    c.bench_function("smi_stats/chi_square/4-backends", |b| {
        b.iter(|| {
            black_box(smi_assert::stats::chi_square(
                black_box(&[98, 102, 205, 395]),
                black_box(&[0.125, 0.125, 0.25, 0.5]),
            ))
        });
    });
}

criterion_group!(benches, validate, chi_square);
criterion_main!(benches);
