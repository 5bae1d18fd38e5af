//! `run`: the main job of smps-rs, and how to embed the load engine in a program of your own.
//!
//! It reads an SMP performance-test config (`examples/data/load-test.yaml` by default), starts
//! smps-load's loopback reference server (with a small random delay, a periodic stall and a few
//! 503s, so that the results show something), builds the engine from the config, runs it with
//! a progress line on standard error fed by `Run::next_snapshot`, stops it early on Ctrl-C or
//! after `--stop-after` seconds with its `StopHandle` (what was measured until then is kept),
//! and prints the SMP `PerformanceTestResult` as YAML and a percentile table on standard
//! output. No cluster and no internet: every endpoint must be the reference server or loopback.
//!
//! ```text
//! cargo run --release -p examples --example run
//! cargo run --release -p examples --example run -- --config my-test.yaml --stop-after 3
//! ```
//!
//! The command line over all of it, with every option, is `smps run`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use examples::run_support::{
    PLACEHOLDER_HOST, is_loopback_host, percentile_table, point_at_reference_server, progress_bar,
    show_progress, url_host,
};
use smps_load::EngineBuilder;
use smps_load::reference::{Delay, ReferenceServer, Stall};
use smps_model::{Dialect, Format, PerformanceTestConfig};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Run an SMP performance test against the loopback reference server")]
struct Args {
    /// The SMP performance-test config (YAML or JSON).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/load-test.yaml"))]
    config: PathBuf,
    /// Stop the run after this many seconds (warm-up included), as Ctrl-C does.
    #[arg(long)]
    stop_after: Option<f64>,
}

/// Reads the config and makes sure it only sends to this machine.
fn load(path: &Path) -> anyhow::Result<PerformanceTestConfig> {
    let text = examples::input::read_text(path, examples::input::DEFAULT_MAX_BYTES)?;
    let config: PerformanceTestConfig = smps_model::read_as(&text, &Default::default())
        .with_context(|| path.display().to_string())?;
    for url in config.clients.iter().flat_map(|c| &c.endpoint_urls) {
        let host = url_host(url);
        if host != PLACEHOLDER_HOST && !is_loopback_host(host) {
            bail!(
                "{}: `{url}` is not loopback; use http://{PLACEHOLDER_HOST}/... or 127.0.0.1",
                path.display()
            );
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = load(&args.config)?;

    // The target: smps-load's reference server on 127.0.0.1, with some faults to measure.
    let server = ReferenceServer::builder()
        .delay(Delay::Uniform {
            min: Duration::from_micros(100),
            max: Duration::from_micros(1500),
        })
        .status_mix(vec![(200, 199), (503, 1)])
        .stall(Stall::new(
            Duration::from_millis(100),
            Duration::from_secs(5),
        ))
        .seed(7)
        .start()
        .await?;
    point_at_reference_server(&mut config, &server.url(""));

    // The engine: built from the SMP config (the builder checks every setting), then started.
    let warmup = Duration::from_secs(1);
    let engine = EngineBuilder::from_config(&config)?
        .warmup(warmup)
        .build()
        .with_context(|| args.config.display().to_string())?;
    let total = config
        .duration
        .as_ref()
        .and_then(|d| d.to_std())
        .unwrap_or_default()
        + warmup;
    eprintln!(
        "running `{}` against the reference server at {} for {:.1} s (warm-up {:.1} s)",
        config.name,
        server.addr(),
        total.as_secs_f64(),
        warmup.as_secs_f64()
    );
    let mut run = engine.start().await?;

    // Stop: the handle ends the run from anywhere; in-flight requests finish, and the report
    // covers what was measured until then.
    let stop = run.stop_handle();
    let stop_after = args.stop_after.map(Duration::from_secs_f64);
    tokio::spawn(async move {
        match stop_after {
            Some(after) => tokio::select! {
                _ = tokio::time::sleep(after) => eprintln!("\nstopping after {after:?}"),
                _ = tokio::signal::ctrl_c() => eprintln!("\nstopping (Ctrl-C)"),
            },
            None => {
                let _ = tokio::signal::ctrl_c().await;
                eprintln!("\nstopping (Ctrl-C)");
            }
        }
        stop.stop();
    });

    // Progress: one snapshot a second until the run ends.
    let bar = progress_bar(total, false);
    while let Some(snapshot) = run.next_snapshot().await {
        show_progress(&bar, &snapshot);
    }
    bar.finish();
    let report = run.finish().await?;
    server.shutdown().await;

    let mut result = report.to_smp_result();
    result.test_id = config.id.clone();
    println!("# SMP PerformanceTestResult");
    print!(
        "{}",
        smps_model::write_value(&result, Dialect::Canonical, Format::Yaml)?
    );
    println!();
    print!("{}", percentile_table(&report));
    Ok(())
}
