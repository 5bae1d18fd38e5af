//! Reads any SMP document (every dialect smps-model knows: flat or wrapped configs, Meshery
//! profiles and result records, fortio payloads, legacy exports; YAML or JSON, multi-document)
//! and prints it in the chosen dialect and format.
//!
//! ```text
//! cargo run --example convert -- examples/data/meshery-wrapper.yaml --dialect canonical --format json
//! cargo run --example convert -- results.json --dialect meshery --format yaml
//! ```
//!
//! Exit codes: 0 on success, 2 when the input cannot be read (the error names the field or the
//! line and column).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use smps_model::{Dialect, Format, Kind, ReadOptions};

#[derive(Parser, Debug)]
#[command(about = "Convert an SMP document between dialects and formats")]
struct Args {
    /// The document to read (`-` for standard input).
    input: PathBuf,
    /// The dialect to write.
    #[arg(long, value_enum, default_value_t = DialectArg::Canonical)]
    dialect: DialectArg,
    /// The format to write.
    #[arg(long, value_enum, default_value_t = FormatArg::Yaml)]
    format: FormatArg,
    /// The document kind, when it cannot be recognised from its keys
    /// (config, result, mesh-config, environment, mesh).
    #[arg(long)]
    kind: Option<String>,
    /// Read enum numbers with the pre-v0.3.0 numbering (protocol 1 = TCP).
    #[arg(long)]
    legacy_enum_numbers: bool,
    /// Largest input accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = examples::input::DEFAULT_MAX_BYTES)]
    max_bytes: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DialectArg {
    /// Canonical proto3 JSON mapping (camelCase, enum names, int64 strings).
    Canonical,
    /// Meshery-compatible (snake_case, enum numbers, `{test, mesh}` wrapper).
    Meshery,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Yaml,
    Json,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<String> {
    let text = examples::input::read_text(&args.input, args.max_bytes)?;
    let mut options = ReadOptions::default().with_legacy_enum_numbers(args.legacy_enum_numbers);
    if let Some(name) = &args.kind {
        let kind = Kind::from_name(name).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown kind `{name}`: use config, result, mesh-config, environment or mesh"
            )
        })?;
        options = options.with_kind(kind);
    }
    let docs = smps_model::read_all(&text, &options)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.input.display()))?;
    let dialect = match args.dialect {
        DialectArg::Canonical => Dialect::Canonical,
        DialectArg::Meshery => Dialect::Meshery,
    };
    let format = match args.format {
        FormatArg::Yaml => Format::Yaml,
        FormatArg::Json => Format::Json,
    };
    Ok(if docs.len() == 1 {
        smps_model::write(&docs[0], dialect, format)?
    } else {
        smps_model::write_all(&docs, dialect, format)?
    })
}
