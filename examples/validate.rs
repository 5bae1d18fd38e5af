//! `validate`: check SMP documents (YAML or JSON) from the command line, CI-style.
//!
//! ```text
//! cargo run -p examples --example validate -- [--format text|json|junit] [--kind KIND] [--strict] [--max-findings N] FILE...
//! ```
//!
//! * `text` (default) prints `file:line:col: error[rule]: message`, the source line and a caret;
//! * `json` prints one report object per file (`{"reports": [...], "errors": [...]}`);
//! * `junit` prints a JUnit XML test suite with one test case per file.
//!
//! `-` reads standard input. Exit code 0 when every file is valid (warnings allowed unless
//! `--strict`), 1 when some file has findings that make it invalid, 2 when some input could not
//! be validated at all (unreadable, not UTF-8, syntax error, too large, too deep).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use examples::validate_output::{self, check_files};
use smps_validate::{Kind, Validator};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
    Junit,
}

/// Validate Service Mesh Performance documents.
#[derive(Debug, Parser)]
#[command(name = "validate")]
struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// Validate every document as this kind instead of detecting it
    /// (PerformanceTestConfig, PerformanceTestResult, ServiceMeshConfig, EnvironmentConfig, ServiceMesh).
    #[arg(long, value_parser = parse_kind)]
    kind: Option<Kind>,
    /// Treat warnings as failures too.
    #[arg(long)]
    strict: bool,
    /// Largest input accepted, in bytes.
    #[arg(long, default_value_t = smps_validate::DEFAULT_MAX_INPUT_BYTES)]
    max_bytes: u64,
    /// Most findings listed per document; the rest are counted ("N more findings not shown").
    #[arg(long, default_value_t = smps_validate::DEFAULT_MAX_FINDINGS)]
    max_findings: usize,
    /// Files to validate (`-` for standard input).
    #[arg(required = true)]
    files: Vec<String>,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::from_name(s).ok_or_else(|| format!("unknown kind `{s}`"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let validator = match Validator::builder()
        .max_input_bytes(args.max_bytes)
        .max_findings(args.max_findings)
        .build()
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("validate: {e}");
            return ExitCode::from(2);
        }
    };
    let outcomes = check_files(&validator, &args.files, args.kind, args.max_bytes);
    // Written as rendered, finding by finding.
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        OutputFormat::Text => validate_output::write_text(&mut out, &outcomes, args.strict),
        OutputFormat::Json => validate_output::write_json(&mut out, &outcomes),
        OutputFormat::Junit => validate_output::write_junit(&mut out, &outcomes, args.strict),
    };
    if let Err(e) = written.and_then(|()| std::io::Write::flush(&mut out)) {
        eprintln!("validate: cannot write the report: {e}");
        return ExitCode::from(2);
    }
    ExitCode::from(validate_output::exit_code(&outcomes, args.strict))
}
