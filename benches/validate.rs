//! Criterion benchmarks of smps-validate over a generated corpus of 10,000
//! `PerformanceTestResult` documents (10 % invalid), in JSON and in YAML, end to end:
//! text → parse → schema → semantic rules → reader check → located findings.
//!
//! ```text
//! cargo bench -p benches --bench validate
//! ```
//! Ids: `validate/<tier>/<format>` with tier `report` (every finding, located),
//! `is_valid`, `report_syntax` and `report_typed` (`report` with
//! [`smps_validate::ReaderCheck::Syntax`] / `Typed` instead of the default `Full`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smps_validate::{Format, ReaderCheck, Source, Validator};

#[path = "validate_corpus.rs"]
mod corpus;

const N: usize = 10_000;

fn bench(c: &mut Criterion) {
    let docs = corpus::corpus(N);
    let full = Validator::new().expect("schemas compile");
    let typed = Validator::builder()
        .reader_check(ReaderCheck::Typed)
        .build()
        .expect("schemas compile");
    let syntax = Validator::builder()
        .reader_check(ReaderCheck::Syntax)
        .build()
        .expect("schemas compile");
    let mut group = c.benchmark_group("validate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N as u64));
    for format in [Format::Json, Format::Yaml] {
        let texts: Vec<&str> = docs
            .iter()
            .map(|d| match format {
                Format::Json => d.json.as_str(),
                _ => d.yaml.as_str(),
            })
            .collect();
        // Equal work: the expected number of invalid documents is found.
        let invalid = texts
            .iter()
            .filter(|t| !full.is_valid(&Source::text(**t).format(format)))
            .count();
        assert_eq!(invalid, docs.iter().filter(|d| d.invalid).count());
        let name = match format {
            Format::Json => "json",
            _ => "yaml",
        };
        for (tier, validator) in [
            ("report", &full),
            ("report_syntax", &syntax),
            ("report_typed", &typed),
        ] {
            group.bench_function(format!("{tier}/{name}"), |b| {
                b.iter(|| {
                    let mut findings = 0usize;
                    for t in &texts {
                        let r = validator
                            .report(&Source::text(*t).format(format))
                            .expect("readable");
                        findings += r.violations().len();
                    }
                    black_box(findings)
                });
            });
        }
        group.bench_function(format!("is_valid/{name}"), |b| {
            b.iter(|| {
                texts
                    .iter()
                    .filter(|t| full.is_valid(&Source::text(**t).format(format)))
                    .count()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
