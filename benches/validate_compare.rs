//! Helper of `benches/validate-compare.sh`: writes the shared corpus to disk and measures
//! smps-validate on it in process, the way the script measures Python `jsonschema` and `ajv`.
//!
//! ```text
//! cargo run --release -p benches --example validate-compare -- gen DIR
//! cargo run --release -p benches --example validate-compare -- run DIR ROUNDS [json|yaml]
//! cargo run --release -p benches --example validate-compare -- profile DIR json|yaml [all|valid|invalid|none]
//! cargo run --release -p benches --example validate-compare -- findings INPUT N [gen]
//! ```
//! `findings` reports one input of `validate_findings_inputs.rs` with `N` findings once (`gen`:
//! only generates it), for instruction counts per finding under callgrind.
//! `profile` reports every document (or only the valid or invalid ones) once with the default
//! validator and nothing else, for instruction counts under callgrind.
//! `run` prints one tab-separated line per measurement:
//! `tool  format  mode  best_seconds  docs_per_second  invalid_count`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use smps_validate::{Format, Kind, ReaderCheck, Source, Validator};

#[path = "validate_corpus.rs"]
mod corpus;
#[path = "validate_findings_inputs.rs"]
mod findings_inputs;

const N: usize = 10_000;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, dir] if cmd == "gen" => generate(Path::new(dir)),
        [cmd, dir, rounds] if cmd == "run" => run(Path::new(dir), rounds.parse()?, None),
        [cmd, dir, rounds, only] if cmd == "run" => {
            run(Path::new(dir), rounds.parse()?, Some(only.as_str()))
        }
        [cmd, dir, ext] if cmd == "profile" => profile(Path::new(dir), ext, "all"),
        [cmd, dir, ext, which] if cmd == "profile" => profile(Path::new(dir), ext, which),
        [cmd, input, n] if cmd == "findings" => findings(input, n.parse()?, true),
        [cmd, input, n, only] if cmd == "findings" && only == "gen" => {
            findings(input, n.parse()?, false)
        }
        _ => bail!(
            "usage: validate-compare gen DIR | run DIR ROUNDS [json|yaml] | profile DIR json|yaml [all|valid|invalid|none] | findings INPUT N [gen]"
        ),
    }
}

/// Generates one input of `benches/validate_findings_inputs.rs` with `n` findings and, unless
/// `validate` is false (to measure the generation alone), reports it once with the default
/// validator; prints the findings listed and left out.
fn findings(input: &str, n: usize, validate: bool) -> Result<()> {
    let Some((_, make, format)) = findings_inputs::INPUTS
        .iter()
        .find(|(name, _, _)| *name == input)
    else {
        bail!("findings: no input {input}");
    };
    let text = make(n);
    if !validate {
        println!("findings\t{input}\t{n}\t{}", text.len());
        return Ok(());
    }
    let report = Validator::new()?.report(&Source::text(text.as_str()).format(*format))?;
    println!(
        "findings\t{input}\t{n}\t{}\t{}",
        report.violations().len(),
        report.omitted()
    );
    Ok(())
}

fn generate(dir: &Path) -> Result<()> {
    let docs = corpus::corpus(N);
    std::fs::create_dir_all(dir.join("json"))?;
    std::fs::create_dir_all(dir.join("yaml"))?;
    for (i, d) in docs.iter().enumerate() {
        std::fs::write(dir.join(format!("json/{i:05}.json")), &d.json)?;
        std::fs::write(dir.join(format!("yaml/{i:05}.yaml")), &d.yaml)?;
    }
    let validator = Validator::new()?;
    let schema = validator.schema(Kind::PerformanceTestResult);
    std::fs::write(
        dir.join("schema.json"),
        serde_json::to_string_pretty(schema)?,
    )?;
    let invalid = docs.iter().filter(|d| d.invalid).count();
    std::fs::write(dir.join("expected-invalid.txt"), format!("{invalid}\n"))?;
    eprintln!(
        "wrote {N} JSON + {N} YAML documents ({invalid} invalid) to {}",
        dir.display()
    );
    Ok(())
}

fn load(dir: &Path, ext: &str) -> Result<Vec<String>> {
    (0..N)
        .map(|i| {
            let p = dir.join(format!("{ext}/{i:05}.{ext}"));
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
        })
        .collect()
}

/// One `report` per selected document (the generator makes document `i` invalid when
/// `i % 10 == 9`); prints how many were reported and how many were invalid.
fn profile(dir: &Path, ext: &str, which: &str) -> Result<()> {
    let format = match ext {
        "json" => Format::Json,
        "yaml" => Format::Yaml,
        _ => bail!("profile: format must be json or yaml, not {ext}"),
    };
    let keep = |i: usize| match which {
        "valid" => i % 10 != 9,
        "invalid" => i % 10 == 9,
        "none" => false, // the fixed cost (loading, building the validator), to subtract
        _ => true,
    };
    let texts = load(dir, ext)?;
    let validator = Validator::new()?;
    let (mut n, mut invalid) = (0usize, 0usize);
    for (i, t) in texts.iter().enumerate().filter(|(i, _)| keep(*i)) {
        let r = validator.report(&Source::text(t.as_str()).format(format))?;
        n += 1;
        invalid += usize::from(!r.is_valid());
        if (i % 10 == 9) == r.is_valid() {
            bail!("document {i}: unexpected validity {}", r.is_valid());
        }
    }
    println!("profile\t{ext}\t{which}\t{n}\t{invalid}");
    Ok(())
}

/// `only` restricts the run to one format (`json` or `yaml`), for profiling.
fn run(dir: &Path, rounds: usize, only: Option<&str>) -> Result<()> {
    let full = Validator::new()?;
    let typed = Validator::builder()
        .reader_check(ReaderCheck::Typed)
        .build()?;
    let syntax = Validator::builder()
        .reader_check(ReaderCheck::Syntax)
        .build()?;
    for (ext, format) in [("json", Format::Json), ("yaml", Format::Yaml)] {
        if only.is_some_and(|o| o != ext) {
            continue;
        }
        let texts = load(dir, ext)?;
        if format == Format::Json {
            // Calibration on this machine: a bare serde_json parse of every document.
            let mut best = f64::INFINITY;
            for _ in 0..rounds {
                let start = Instant::now();
                let mut n = 0usize;
                for t in &texts {
                    let v: serde_json::Value = serde_json::from_str(t)?;
                    n += usize::from(v.is_object());
                }
                std::hint::black_box(n);
                best = best.min(start.elapsed().as_secs_f64());
            }
            println!(
                "serde_json parse only\t{ext}\tparse\t{best:.4}\t{:.0}\t-",
                N as f64 / best
            );
        }
        for (mode, validator) in [
            ("report", &full),
            ("report_syntax", &syntax),
            ("report_typed", &typed),
        ] {
            let mut best = f64::INFINITY;
            let mut invalid = 0;
            for _ in 0..rounds {
                let start = Instant::now();
                invalid = 0;
                for t in &texts {
                    let r = validator.report(&Source::text(t.as_str()).format(format))?;
                    if !r.is_valid() {
                        invalid += 1;
                    }
                }
                best = best.min(start.elapsed().as_secs_f64());
            }
            println!(
                "smps-validate\t{ext}\t{mode}\t{best:.4}\t{:.0}\t{invalid}",
                N as f64 / best
            );
        }
    }
    Ok(())
}
