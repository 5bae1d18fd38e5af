//! Parse and serialise an SMP config and result, JSON and YAML, canonical and Meshery.
//!
//! `cargo bench -p benches --bench model_serde`
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use smps_model::{Dialect, Format, ReadOptions};
use std::hint::black_box;

const CONFIG_YAML: &str =
    include_str!("../smps-model/tests/fixtures/upstream/smp-action-load-test.yaml");
const RESULT_JSON: &str = r#"{"smpVersion": "v0.6.1", "id": "r1", "labels": {"smps.io/load-generator": "smps-load"},
 "startTime": "2026-11-22T10:00:00.123456Z", "endTime": "2026-11-22T10:00:30.123456Z",
 "latenciesMs": {"min": 0.12, "average": 1.5, "p50": 1.2, "p90": 2.5, "p99": 7.75, "max": 31.0},
 "actualQps": 9998.7, "testId": "t1", "meshConfigId": "m1", "envId": "e1"}"#;

fn inputs() -> Vec<(&'static str, String)> {
    let options = ReadOptions::default();
    let config = smps_model::read(CONFIG_YAML, &options).unwrap();
    let result = smps_model::read(RESULT_JSON, &options).unwrap();
    vec![
        ("config.yaml", CONFIG_YAML.to_owned()),
        (
            "config.json",
            smps_model::write(&config, Dialect::Canonical, Format::Json).unwrap(),
        ),
        ("result.json", RESULT_JSON.to_owned()),
        (
            "result.yaml",
            smps_model::write(&result, Dialect::Canonical, Format::Yaml).unwrap(),
        ),
    ]
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("model_serde/read");
    let options = ReadOptions::default();
    for (name, text) in inputs() {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &text, |b, text| {
            b.iter(|| smps_model::read(black_box(text), &options).unwrap());
        });
    }
    group.finish();
}

fn serialize(c: &mut Criterion) {
    let mut group = c.benchmark_group("model_serde/write");
    let options = ReadOptions::default();
    // One document per kind: the same value is written whatever format it was read from.
    for (name, text) in inputs()
        .into_iter()
        .filter(|(n, _)| matches!(*n, "config.yaml" | "result.json"))
    {
        let doc = smps_model::read(&text, &options).unwrap();
        for (dialect, dname) in [
            (Dialect::Canonical, "canonical"),
            (Dialect::Meshery, "meshery"),
        ] {
            for (format, fname) in [(Format::Json, "json"), (Format::Yaml, "yaml")] {
                let kind = name.split('.').next().unwrap();
                let id = format!("{kind}/{dname}.{fname}");
                group.bench_function(BenchmarkId::from_parameter(id), |b| {
                    b.iter(|| smps_model::write(black_box(&doc), dialect, format).unwrap());
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, parse, serialize);
criterion_main!(benches);
