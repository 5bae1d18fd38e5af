//! `smps run`: an SMP config in, an SMP result out, through smps-validate and smps-load.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use examples::run_support::{self, PLACEHOLDER_HOST};
use futures_util::StreamExt as _;
use smps_load::EngineBuilder;
use smps_load::reference::ReferenceServer;
use smps_model::{Dialect, ReadOptions};

use crate::convert::DataFormat;
use crate::{Failure, Outcome, read_text, write_file};

/// Arguments of `smps run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SMP performance-test config (YAML or JSON, any dialect).
    config: PathBuf,
    /// Start the embedded loopback reference server and send `http://reference-server/...`
    /// endpoints to it (default: only when the config names that host).
    #[arg(long, value_enum, default_value_t = Target::Auto)]
    target: Target,
    /// Warm-up before the measured phase, as a duration (`1s`); reported, not counted.
    #[arg(long, default_value = "0s")]
    warmup: String,
    /// Progress display on standard error.
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    progress: Progress,
    /// Format of the SMP result on standard output.
    #[arg(long, value_enum, default_value_t = DataFormat::Yaml)]
    format: DataFormat,
    /// Also print the percentile table after the result.
    #[arg(long)]
    table: bool,
    /// Write the lossless, mergeable result (for `smps merge` and `smps chart`) here.
    #[arg(long)]
    portable: Option<PathBuf>,
    /// Write the fortio-compatible JSON result (what Meshery ingests) here.
    #[arg(long)]
    fortio: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    /// The reference server when an endpoint names `reference-server`.
    Auto,
    /// Always start the reference server.
    Reference,
    /// Never start it: the endpoints must be reachable as written.
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Progress {
    /// On a terminal, and not when the `CI` variable is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

pub(crate) fn run(args: &Args) -> Outcome {
    let text = read_text(&args.config)?;
    let name = args.config.display().to_string();
    // The same checks as `smps validate`: a config with errors is not run.
    let validator = smps_validate::Validator::new()
        .map_err(|e| anyhow::anyhow!("cannot build the validator: {e}"))?;
    let source = smps_validate::Source::text(text.as_str()).with_name(name.clone());
    let report = validator
        .report(&source)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    if !report.is_valid() {
        let findings: Vec<String> = report
            .iter_errors()
            .map(|v| format!("{name}:{v}"))
            .collect();
        return Err(Failure::Unusable(anyhow::anyhow!(
            "{name} is not a valid config:\n  {}",
            findings.join("\n  ")
        )));
    }
    let doc = smps_model::read(&text, &ReadOptions::default())
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let Some(test) = doc.as_test_config() else {
        return Err(Failure::Unusable(anyhow::anyhow!(
            "{name}: expected a performance test config, found a {}",
            doc.kind()
        )));
    };
    let warmup = smps_model::GoDuration::parse(&args.warmup)
        .ok()
        .and_then(|d| d.to_std())
        .ok_or_else(|| anyhow::anyhow!("--warmup: expected a duration such as `1s`"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(run_async(args, test.config.clone(), warmup, &name))
}

async fn run_async(
    args: &Args,
    mut config: smps_model::PerformanceTestConfig,
    warmup: Duration,
    name: &str,
) -> Outcome {
    let names_placeholder = config.clients.iter().any(|c| {
        c.endpoint_urls
            .iter()
            .any(|u| run_support::url_host(u) == PLACEHOLDER_HOST)
    });
    let server = match (args.target, names_placeholder) {
        (Target::Reference, _) | (Target::Auto, true) => Some(
            ReferenceServer::builder()
                .start()
                .await
                .map_err(|e| anyhow::anyhow!("cannot start the reference server: {e}"))?,
        ),
        _ => None,
    };
    if let Some(s) = &server {
        run_support::point_at_reference_server(&mut config, &s.url(""));
    } else if names_placeholder {
        return Err(Failure::Unusable(anyhow::anyhow!(
            "{name}: endpoints name `{PLACEHOLDER_HOST}` but --target config was given"
        )));
    }
    let engine = EngineBuilder::from_config(&config)
        .and_then(|b| b.warmup(warmup).build())
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let total = config
        .duration
        .as_ref()
        .and_then(|d| d.to_std())
        .unwrap_or_default()
        + warmup;
    let show = match args.progress {
        Progress::Always => true,
        Progress::Never => false,
        Progress::Auto => std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
    };
    let mut run = engine
        .start()
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the test: {e}"))?;
    let mut stderr = std::io::stderr();
    while let Some(s) = run.next().await {
        if show {
            let _ = write!(
                stderr,
                "{}",
                run_support::progress_line(&s, total.as_secs_f64())
            );
            let _ = stderr.flush();
        }
    }
    if show {
        let _ = writeln!(stderr);
    }
    let report = run
        .finish()
        .await
        .map_err(|e| anyhow::anyhow!("the test failed: {e}"))?;
    if let Some(s) = server {
        s.shutdown().await;
    }
    let mut result = report.to_smp_result();
    result.test_id = config.id.clone();
    let mut out = smps_model::write_value(&result, Dialect::Canonical, args.format.model())
        .map_err(anyhow::Error::from)?;
    if args.table {
        out.push('\n');
        out.push_str(&run_support::percentile_table(&report));
    }
    if let Some(p) = &args.portable {
        let portable = report.to_portable().map_err(anyhow::Error::from)?;
        let json = serde_json::to_string_pretty(&portable).map_err(anyhow::Error::from)?;
        write_file(p, json.as_bytes())?;
    }
    if let Some(p) = &args.fortio {
        let json =
            serde_json::to_string_pretty(&report.to_fortio_json()).map_err(anyhow::Error::from)?;
        write_file(p, json.as_bytes())?;
    }
    print!("{out}");
    Ok(())
}
