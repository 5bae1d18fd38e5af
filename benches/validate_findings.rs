//! Criterion benchmark: smps-validate's time per finding stays flat as findings grow (issue 12:
//! locating used to rescan the input per finding, so 20,000 findings took 36 s).
//!
//! ```text
//! cargo bench -p benches --bench validate_findings -- --warm-up-time 1 --measurement-time 5
//! ```
//! Ids: `validate_findings/<cap>/<input>/<findings>` for 5,000, 20,000 and 80,000 findings, with
//! throughput in findings, so criterion prints time per finding. `<cap>` is `capped` (the default
//! 100 findings listed per document, the rest counted) or `all`
//! (`ValidatorBuilder::max_findings(usize::MAX)`: every finding located and listed). Inputs,
//! generated here:
//! * `results_array_json`: a JSON array of N results, one per line, each with one
//!   `latency-order` error (N documents in one input);
//! * `empty_clients_json` / `empty_clients_yaml`: one config whose `clients` list holds N empty
//!   clients (`{}` / `- {}`), one `endpoint-missing` error each (N findings in one document; the
//!   JSON one is a single line).
//!
//! Calibration, `validate_findings/serde_json_value/<input>/<findings>`: serde_json parsing the
//! same JSON text into a `Value` and dropping it, an algorithm linear in its input, to show how
//! much of the growth in time per finding at larger sizes is the memory hierarchy (the working
//! set leaving the caches) rather than the algorithm.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use smps_validate::{Format, Source, Validator};

const SIZES: [usize; 3] = [5_000, 20_000, 80_000];

fn results_array_json(n: usize) -> String {
    let mut text = String::from("[\n");
    for i in 0..n {
        let sep = if i + 1 < n { "," } else { "" };
        text.push_str(&format!(
            "{{\"smpVersion\": \"v0.6.1\", \"latenciesMs\": {{\"p50\": {}, \"p90\": 1}}, \"actualQps\": 10}}{sep}\n",
            i + 2
        ));
    }
    text.push(']');
    text
}

fn empty_clients_json(n: usize) -> String {
    let clients = vec!["{}"; n].join(", ");
    format!("{{\"duration\": \"1s\", \"clients\": [{clients}]}}")
}

fn empty_clients_yaml(n: usize) -> String {
    let mut text = String::from("duration: 1s\nclients:\n");
    for _ in 0..n {
        text.push_str("  - {}\n");
    }
    text
}

fn bench(c: &mut Criterion) {
    let capped = Validator::new().expect("schemas compile");
    let all = Validator::builder()
        .max_findings(usize::MAX)
        .build()
        .expect("schemas compile");
    let mut group = c.benchmark_group("validate_findings");
    group.sample_size(10);
    type Make = fn(usize) -> String;
    let inputs: [(&str, Make, Format); 3] = [
        ("results_array_json", results_array_json, Format::Json),
        ("empty_clients_json", empty_clients_json, Format::Json),
        ("empty_clients_yaml", empty_clients_yaml, Format::Yaml),
    ];
    for (name, make, format) in inputs {
        for n in SIZES {
            let text = make(n);
            // Equal work: every input has exactly n findings, all counted.
            let r = capped
                .report(&Source::text(text.as_str()).format(format))
                .expect("readable");
            assert_eq!(r.violations().len() + r.omitted(), n, "{name}/{n}");
            group.throughput(Throughput::Elements(n as u64));
            if format == Format::Json {
                group.bench_with_input(
                    BenchmarkId::new(format!("serde_json_value/{name}"), n),
                    &text,
                    |b, text| {
                        b.iter(|| {
                            serde_json::from_str::<serde_json::Value>(black_box(text))
                                .expect("JSON")
                        });
                    },
                );
            }
            for (cap, validator) in [("capped", &capped), ("all", &all)] {
                group.bench_with_input(
                    BenchmarkId::new(format!("{cap}/{name}"), n),
                    &text,
                    |b, text| {
                        b.iter_with_large_drop(|| {
                            validator
                                .report(&Source::text(black_box(text.as_str())).format(format))
                                .expect("readable")
                        });
                    },
                );
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
