//! `validate`: smps-validate embedded in a tool of your own.
//!
//! A tool that takes SMP test configs from its users checks each one before using it: it builds
//! one [`Validator`] (compiling the schemas once), asks it for a [`Report`] of every finding
//! with its line and column, refuses a config that has errors (warnings are shown, not fatal),
//! and reads the accepted ones with smps-model. Here the "use" is printing what would run.
//!
//! ```text
//! cargo run -p examples --example validate                 # the configs shipped in examples/data
//! cargo run -p examples --example validate -- my-test.yaml other.json
//! ```
//!
//! Exit code 0 when every config was accepted, 1 otherwise. The command line with every output
//! format (text with excerpts, JSON, JUnit XML) is `smps validate`.
//!
//! [`Validator`]: smps_validate::Validator
//! [`Report`]: smps_validate::Report
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use smps_model::{PerformanceTestConfig, ReadOptions};
use smps_validate::{Kind, Source, Validator};

/// Why a config was refused: the lines to show its author.
type Refusal = Vec<String>;

/// Validates one config file and, when it has no error, reads it.
fn accept(validator: &Validator, path: &Path) -> Result<PerformanceTestConfig, Refusal> {
    let source = Source::path(path).kind(Kind::PerformanceTestConfig);
    let report = validator.report(&source).map_err(|e| vec![e.to_string()])?;
    for warning in report.violations().iter().filter(|v| !v.is_error()) {
        eprintln!("{}:{warning}", path.display());
    }
    if !report.is_valid() {
        return Err(report
            .iter_errors()
            .map(|v| format!("{}:{v}", path.display()))
            .collect());
    }
    // Valid means smps-model reads it: the validator ran the same reader.
    let text = std::fs::read_to_string(path).map_err(|e| vec![e.to_string()])?;
    smps_model::read_as(&text, &ReadOptions::default()).map_err(|e| vec![e.to_string()])
}

fn main() -> ExitCode {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
        paths = vec![
            data.join("load-test.yaml"),
            data.join("meshery-wrapper.yaml"),
        ];
    }
    let validator = match Validator::builder().max_input_bytes(1 << 20).build() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("validate: {e}");
            return ExitCode::from(2);
        }
    };
    let mut refused = 0;
    for path in &paths {
        match accept(&validator, path) {
            Ok(config) => println!(
                "accepted {}: `{}`, {} client(s), duration {}",
                path.display(),
                config.name,
                config.clients.len(),
                config.duration.as_ref().map_or("unset", |d| d.as_str())
            ),
            Err(lines) => {
                refused += 1;
                println!("refused {}:", path.display());
                for line in lines {
                    println!("  {line}");
                }
            }
        }
    }
    if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
