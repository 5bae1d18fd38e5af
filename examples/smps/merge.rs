//! `smps merge`: lossless merge of portable results (HdrHistogram V2) from several runs.

use std::path::PathBuf;

use smps_load::PortableReport;
use smps_model::Dialect;

use crate::convert::DataFormat;
use crate::{InputLimit, Outcome, write_file};

/// Arguments of `smps merge`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Portable result files (written by `smps run --portable`), two or more.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    /// Format of the merged SMP result on standard output.
    #[arg(long, value_enum, default_value_t = DataFormat::Yaml)]
    format: DataFormat,
    /// Also write the merged portable result here (it can be merged again).
    #[arg(long)]
    portable: Option<PathBuf>,
    /// Also print the percentile table.
    #[arg(long)]
    table: bool,
    #[command(flatten)]
    limit: InputLimit,
}

pub(crate) fn run(args: &Args) -> Outcome {
    let mut parts = Vec::with_capacity(args.inputs.len());
    for path in &args.inputs {
        let text = args.limit.read_text(path)?;
        let part: PortableReport = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}:{}: not a portable result: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
        parts.push(part);
    }
    let merged = smps_load::merge(&parts).map_err(|e| merge_error(e, &args.inputs, &parts))?;
    let mut out = smps_model::write_value(
        &merged.to_smp_result(),
        Dialect::Canonical,
        args.format.model(),
    )
    .map_err(anyhow::Error::from)?;
    if args.table {
        out.push('\n');
        out.push_str(&examples::run_support::percentile_table(&merged));
    }
    if let Some(p) = &args.portable {
        let portable = merged.to_portable().map_err(anyhow::Error::from)?;
        let json = serde_json::to_string_pretty(&portable).map_err(anyhow::Error::from)?;
        write_file(p, json.as_bytes())?;
    }
    print!("{out}");
    Ok(())
}

/// Names the file (or, for a run given twice, both files) a merge failed on.
fn merge_error(e: smps_load::Error, inputs: &[PathBuf], parts: &[PortableReport]) -> anyhow::Error {
    let smps_load::Error::MergePart { index, source } = e else {
        return anyhow::anyhow!("cannot merge: {e}");
    };
    let file = inputs[index].display();
    if let smps_load::Error::DuplicateRun { run_id } = source.as_ref()
        && let Some(earlier) = parts[..index]
            .iter()
            .position(|p| p.runs().iter().any(|r| r.as_str() == run_id))
    {
        return anyhow::anyhow!(
            "{} and {file} hold the same run ({run_id}), which would be counted twice; \
             give each run once",
            inputs[earlier].display()
        );
    }
    anyhow::Error::from(*source).context(format!("{file}: cannot merge it"))
}
