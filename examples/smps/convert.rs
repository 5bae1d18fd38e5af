//! `smps convert` and `smps schema`: thin wrappers over smps-model.

use std::path::PathBuf;

use clap::ValueEnum;
use smps_model::{Dialect, Format, Kind, ReadOptions};

use crate::{InputLimit, Outcome, model_error, write_out};

/// Arguments of `smps convert`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The document to read (`-` for standard input); every SMP dialect is accepted.
    input: PathBuf,
    /// Dialect to write.
    #[arg(long, value_enum, default_value_t = DialectArg::Canonical)]
    dialect: DialectArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DataFormat::Yaml)]
    format: DataFormat,
    /// Document kind, when it cannot be recognised from its keys
    /// (config, result, mesh-config, environment, mesh).
    #[arg(long, value_parser = parse_kind)]
    kind: Option<Kind>,
    /// Read enum numbers with the pre-v0.3.0 numbering (protocol 1 = TCP, mesh 2 = Istio).
    #[arg(long)]
    legacy_enum_numbers: bool,
    /// Write here instead of standard output (written whole or not at all).
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    limit: InputLimit,
}

/// Arguments of `smps schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct SchemaArgs {
    /// Document kind: config, result, mesh-config, environment or mesh.
    #[arg(value_parser = parse_kind)]
    kind: Kind,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DataFormat::Json)]
    format: DataFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DialectArg {
    /// proto3 JSON mapping: camelCase, enum names, int64 as strings.
    Canonical,
    /// Meshery-compatible: snake_case, enum numbers, `{test, mesh}` wrapper.
    Meshery,
}

/// YAML or JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DataFormat {
    /// YAML.
    Yaml,
    /// JSON.
    Json,
}

impl DataFormat {
    pub(crate) fn model(self) -> Format {
        match self {
            DataFormat::Yaml => Format::Yaml,
            DataFormat::Json => Format::Json,
        }
    }
}

pub(crate) fn parse_kind(name: &str) -> Result<Kind, String> {
    Kind::from_name(name).ok_or_else(|| {
        format!("unknown kind `{name}`: use config, result, mesh-config, environment or mesh")
    })
}

pub(crate) fn run(args: &Args) -> Outcome {
    let text = args.limit.read_text(&args.input)?;
    let mut options = ReadOptions::default().with_legacy_enum_numbers(args.legacy_enum_numbers);
    if let Some(kind) = args.kind {
        options = options.with_kind(kind);
    }
    let docs = smps_model::read_all(&text, &options).map_err(|e| model_error(&args.input, e))?;
    let dialect = match args.dialect {
        DialectArg::Canonical => Dialect::Canonical,
        DialectArg::Meshery => Dialect::Meshery,
    };
    let out = if let [one] = docs.as_slice() {
        smps_model::write(one, dialect, args.format.model())
    } else {
        smps_model::write_all(&docs, dialect, args.format.model())
    }
    .map_err(anyhow::Error::from)?;
    write_out(args.output.as_ref(), &out)?;
    Ok(())
}

pub(crate) fn schema(args: &SchemaArgs) -> Outcome {
    let schema = smps_model::schema_for(args.kind);
    let out = match args.format {
        DataFormat::Json => {
            serde_json::to_string_pretty(&schema).map_err(anyhow::Error::from)? + "\n"
        }
        DataFormat::Yaml => serde_yaml::to_string(&schema).map_err(anyhow::Error::from)?,
    };
    write_out(None, &out)?;
    Ok(())
}
