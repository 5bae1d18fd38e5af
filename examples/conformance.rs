//! Runs the SMI conformance suite of `smi-assert` against the embedded loopback mesh and prints the
//! report.
//!
//! ```text
//! cargo run --release -p examples --example conformance
//! cargo run --release -p examples --example conformance -- --fault allow-all
//! cargo run --release -p examples --example conformance -- --fault ignore-weights --format meshery
//! ```
//!
//! The loopback mesh is a real HTTP proxy on 127.0.0.1 enforcing the applied TrafficTargets,
//! route groups and TrafficSplits in front of learn-layer5-style sample services (HTTP and UDP),
//! and serving TrafficMetrics computed from the requests it handled. Without faults every profile
//! (SMI-ACCESS, SMI-SPECS, SMI-SPLIT, SMI-METRICS) is Full. Each `--fault` makes the mesh
//! non-conformant in one way (`allow-all`, `ignore-weights`, `ignore-route-matches`,
//! `drop-headers`, `drop-metrics`, `stale-metrics`) and the affected specs drop to Partial or None,
//! with the evidence printed.
//!
//! Timing (release build, 2-core machine shared with other builds, load average about 5-6): the
//! full suite (20 tests, about 2,250 HTTP requests and UDP datagrams through the proxy) took
//! 2.1-2.6 s over four runs. About 1.8 s of that is the nine UDP denial checks, each waiting out
//! three 200 ms request timeouts, since a dropped datagram shows only as silence. A faulty run
//! takes longer because every failing convergence check waits its full timeout
//! (`--traffic-timeout`, 1 s by default here) and every failing metrics check polls for the assert
//! timeout (5 s here).
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use smi_assert::GoDuration;
use smi_assert::backend::loopback::{Fault, LoopbackConfig, LoopbackMesh};
use smi_assert::features::{Implementation, Profile};
use smi_assert::runner::Runner;
use smi_assert::suite::Timeouts;

#[derive(Debug, Parser)]
struct Args {
    /// Fault switch to enable (repeatable): allow-all, ignore-weights, ignore-route-matches,
    /// drop-headers, drop-metrics, stale-metrics.
    #[arg(long = "fault")]
    faults: Vec<String>,
    /// Output: summary, json, junit, meshery or meshery-adapter.
    #[arg(long, default_value = "summary")]
    format: String,
    /// Seed of the mesh's RNG.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Convergence timeout for traffic checks (policy changes are instant on the loopback mesh).
    #[arg(long, default_value = "1s")]
    traffic_timeout: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = LoopbackConfig::builder().seed(args.seed);
    let mut mode = Vec::new();
    for f in &args.faults {
        let Some(fault) = Fault::parse(f) else {
            bail!(
                "unknown fault `{f}`; expected one of allow-all, ignore-weights, ignore-route-matches, drop-headers, drop-metrics, stale-metrics"
            );
        };
        config = config.fault(fault);
        mode.push(fault.as_str());
    }
    let mesh = Arc::new(LoopbackMesh::start(config.build()).await?);
    let implementation = Implementation::new(
        "smps-rs",
        "smi-assert loopback mesh",
        env!("CARGO_PKG_VERSION"),
    )
    .supports_all_extended(&Profile::ALL);
    let traffic: GoDuration = args.traffic_timeout.parse()?;
    let suite = smi_assert::conformance::suite()?;
    let mut timeouts = Timeouts::default();
    timeouts.traffic = Some(traffic);
    timeouts.assert = Some("5s".parse()?);
    let runner = Runner::builder(mesh.clone())
        .implementation(implementation)
        .timeouts(timeouts)
        .mode(if mode.is_empty() {
            "default".to_string()
        } else {
            format!("faults: {}", mode.join(","))
        })
        .build()?;
    let started = Instant::now();
    let report = runner.run(&suite).await.context("running the suite")?;
    let elapsed = started.elapsed();
    match args.format.as_str() {
        "summary" => print!("{}", report.summary()),
        "json" => println!("{}", serde_json::to_string_pretty(&report.to_json())?),
        "junit" => print!("{}", report.to_junit_xml()),
        "meshery" => println!(
            "{}",
            serde_json::to_string_pretty(&report.to_meshery_response())?
        ),
        "meshery-adapter" => println!(
            "{}",
            serde_json::to_string_pretty(&report.to_meshery_adapter_json())?
        ),
        other => bail!("unknown format `{other}`"),
    }
    if args.format == "summary" {
        println!("\nwall time: {:.2} s", elapsed.as_secs_f64());
    }
    mesh.shutdown();
    Ok(())
}
