//! `smps validate`: smps-validate over files, rendered by the shared example output module.

use clap::ValueEnum;
use examples::validate_output::{self, check_files};
use smps_validate::{Kind, Validator};

use crate::{Failure, Outcome};

/// Arguments of `smps validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Files to validate (`-` for standard input).
    #[arg(required = true)]
    files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Validate every document as this kind instead of recognising it
    /// (config, result, mesh-config, environment, mesh).
    #[arg(long, value_parser = crate::convert::parse_kind)]
    kind: Option<Kind>,
    /// Count warnings as failures too.
    #[arg(long)]
    strict: bool,
    /// Largest input accepted, in bytes.
    #[arg(long, default_value_t = smps_validate::DEFAULT_MAX_INPUT_BYTES)]
    max_bytes: u64,
    /// Most findings listed per document; the rest are counted ("N more findings not shown").
    #[arg(long, default_value_t = smps_validate::DEFAULT_MAX_FINDINGS)]
    max_findings: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// `file:line:col: severity[rule]: message` with the source line and a caret.
    Text,
    /// One JSON report per file.
    Json,
    /// JUnit XML, one test case per file.
    Junit,
}

pub(crate) fn run(args: &Args) -> Outcome {
    let validator = Validator::builder()
        .max_input_bytes(args.max_bytes)
        .max_findings(args.max_findings)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the validator: {e}"))?;
    let outcomes = check_files(&validator, &args.files, args.kind, args.max_bytes);
    // Written as rendered, finding by finding.
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        ReportFormat::Text => validate_output::write_text(&mut out, &outcomes, args.strict),
        ReportFormat::Json => validate_output::write_json(&mut out, &outcomes),
        ReportFormat::Junit => validate_output::write_junit(&mut out, &outcomes, args.strict),
    };
    written
        .and_then(|()| std::io::Write::flush(&mut out))
        .map_err(|e| anyhow::anyhow!("cannot write the report: {e}"))?;
    match validate_output::exit_code(&outcomes, args.strict) {
        0 => Ok(()),
        1 => Err(Failure::Findings),
        _ => Err(Failure::Unusable(anyhow::anyhow!(
            "some inputs could not be read (see above)"
        ))),
    }
}
