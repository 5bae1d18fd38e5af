//! `smps`: the smps-rs command line. One thin program over the libraries:
//!
//! ```text
//! smps validate FILE...            schema + semantic findings with file:line:col
//! smps convert FILE                any SMP dialect -> canonical or Meshery, YAML or JSON
//! smps schema KIND                 the JSON Schema of a document kind
//! smps run CONFIG                  SMP config -> SMP result (optionally against a loopback target;
//!                                  --segment i/N runs one part of a distributed run)
//! smps merge FILE...               lossless merge of portable results from several runs
//!                                  (the parts of a distributed run must cover it exactly once)
//! smps search CONFIG --max-latency D  the highest rate the target sustains under an objective
//! smps distribute CONFIG --parallelism N --image IMG
//!                                  N pods of an Indexed Job, merged (--features kube; --emit
//!                                  prints the manifests)
//! smps chart FILE... -o OUT.svg    latency-by-percentile chart, several results overlaid
//! smps conformance                 the SMI conformance suite against the loopback mesh
//!                                  (or a cluster: --cluster, built with --features kube;
//!                                  or your suite: --suite FILE|DIR, YAML or kuttl)
//! ```
//!
//! Run it without installing: `cargo run --release -p examples --example smps -- <command> ...`.
//!
//! Inputs (files and standard input) are read within a size limit, 64 MiB by default, so
//! `/dev/zero` or a runaway pipe ends in an error giving the size instead of exhausting memory;
//! `--max-bytes` raises it for `validate`, `convert`, `merge` and `chart`.
//!
//! Output goes to stdout, diagnostics to stderr. Exit codes: **0** success; **1** findings
//! (`validate`), failed assertions (`conformance`), more failed requests than
//! `--max-failed` allows (`run`, after writing the result), or no rate that passed (`search`); **2** unusable input or
//! environment (unreadable file, bad arguments, a port that cannot be bound, a test that
//! cannot run); **130** / **143** `run` stopped by Ctrl-C / SIGTERM (the result of what was
//! measured is written first).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod chart;
mod conformance;
mod convert;
mod distribute;
mod merge;
mod part;
mod run;
mod search;
mod search_chart;
mod validate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Service Mesh Performance and SMI conformance from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "smps",
    version,
    about = "Service Mesh Performance and SMI conformance from the command line",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate SMP documents (schema and semantic rules) with file:line:col findings.
    Validate(validate::Args),
    /// Convert an SMP document between dialects (canonical, Meshery) and formats.
    Convert(convert::Args),
    /// Print the JSON Schema of a document kind.
    Schema(convert::SchemaArgs),
    /// Run an SMP performance test and print the SMP result.
    Run(run::Args),
    /// Merge portable results of several runs into one, losslessly.
    Merge(merge::Args),
    /// Find the highest rate the target sustains under a latency and success objective.
    Search(search::Args),
    /// Run a load test as N pods of a Kubernetes Indexed Job, started together, merged into
    /// one result (or print the manifests with --emit; needs a build with --features kube).
    Distribute(distribute::Args),
    /// Draw an SVG latency chart from one or more result files.
    Chart(chart::Args),
    /// Run the SMI conformance suite (or your own with --suite FILE|DIR) against the embedded
    /// loopback mesh, or a cluster with --cluster (needs a build with --features kube).
    Conformance(conformance::Args),
}

/// How a command ended, mapped to the documented exit codes.
#[derive(Debug)]
enum Failure {
    /// Findings or failed assertions: exit 1.
    Findings,
    /// Unusable input or environment: exit 2.
    Unusable(anyhow::Error),
    /// Stopped by a signal after writing what was measured: exit 130 (Ctrl-C) or 143
    /// (SIGTERM).
    Interrupted(run::Signal),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Unusable(e)
    }
}

type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let outcome = match cli.command {
        Command::Validate(a) => validate::run(&a),
        Command::Convert(a) => convert::run(&a),
        Command::Schema(a) => convert::schema(&a),
        Command::Run(a) => run::run(&a),
        Command::Merge(a) => merge::run(&a),
        Command::Search(a) => search::run(&a),
        Command::Distribute(a) => distribute::run(&a),
        Command::Chart(a) => chart::run(&a),
        Command::Conformance(a) => conformance::run(&a),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Findings) => ExitCode::from(1),
        Err(Failure::Interrupted(signal)) => ExitCode::from(signal.exit_code()),
        Err(Failure::Unusable(e)) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, skipping a cause whose text an outer layer already
/// printed (some libraries, kube's among them, repeat their cause in their own message).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// The input size limit of the subcommands that read files, `--max-bytes` as in
/// `smps validate`: a file (or standard input) larger than this is refused with its size
/// instead of being read into memory.
#[derive(Debug, Clone, Copy, clap::Args)]
struct InputLimit {
    /// Largest input accepted, in bytes (each file, and standard input).
    #[arg(long = "max-bytes", value_name = "BYTES", default_value_t = examples::input::DEFAULT_MAX_BYTES)]
    max_bytes: u64,
}

impl InputLimit {
    /// Reads a file (or standard input for `-`) as text within the limit, naming the file
    /// (and the flag that raises the limit) on failure.
    fn read_text(self, path: &Path) -> anyhow::Result<String> {
        examples::input::read_text(path, self.max_bytes).map_err(|e| match e {
            examples::input::Error::TooLarge { .. } => {
                anyhow::anyhow!("{e}; raise the limit with --max-bytes")
            }
            other => other.into(),
        })
    }
}

/// A smps-model read error in command-line terms, after the file name. The library's advice
/// for the errors that name an API (`ReadOptions::kind`, `read_all`) becomes what to do on the
/// command line.
fn model_error(path: &Path, e: smps_model::Error) -> anyhow::Error {
    let name = examples::input::display_name(path);
    match e {
        smps_model::Error::UnknownKind { document, reason } => anyhow::anyhow!(
            "{name}: cannot tell which kind of SMP document {} is ({reason}); name it with \
             --kind config, result, mesh-config, environment or mesh",
            if document == 0 {
                "the first document".to_owned()
            } else {
                format!("document {} (counting from 1)", document + 1)
            }
        ),
        smps_model::Error::DocumentCount { found } => anyhow::anyhow!(
            "{name}: holds {found} documents where one is expected; put each document in a file \
             of its own"
        ),
        other => anyhow::anyhow!("{name}: {other}"),
    }
}

/// Writes `text` to `path` (or stdout for `-` / no path).
fn write_out(path: Option<&PathBuf>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(p) if p.as_os_str() != "-" => write_file(p, text.as_bytes()),
        _ => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Writes a whole file atomically (temporary file + rename), so that a failure never leaves a
/// half-written output behind.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("cannot write {}: not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            anyhow::anyhow!("cannot write {}: {e}", path.display())
        })
}
