//! `run`: the main job of smps-rs in one command. Reads an SMP performance-test config
//! (`examples/data/load-test.yaml` by default), checks it, starts the loopback reference server
//! (with a small random delay, a periodic stall and a few 503s, so that the results show
//! something), runs the test with a progress line on stderr, and prints the SMP
//! `PerformanceTestResult` as YAML and a percentile table on stdout.
//!
//! ```text
//! cargo run --release -p examples --example run
//! cargo run --release -p examples --example run -- --config my-test.yaml --no-faults
//! ```
//!
//! Only loopback traffic: endpoint hosts must be `reference-server` (replaced by the reference
//! server's address), `127.0.0.1`, `localhost` or `[::1]`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use examples::run_support::{
    PLACEHOLDER_HOST, is_loopback_host, percentile_table, point_at_reference_server, progress_line,
    url_host,
};
use smps_load::EngineBuilder;
use smps_load::reference::{Delay, ReferenceServer, Stall};
use smps_model::{Dialect, Format, PerformanceTestConfig, Protocol, ReadOptions};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Run an SMP performance test against the loopback reference server")]
struct Args {
    /// The SMP performance-test config (YAML or JSON).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/load-test.yaml"))]
    config: PathBuf,
    /// Warm-up before the measured phase, in seconds (reported, not counted).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Serve without injected delay, stall or errors.
    #[arg(long)]
    no_faults: bool,
    /// Stall the server for this many ms at the start of every `--stall-every` seconds.
    #[arg(long, default_value_t = 100)]
    stall_ms: u64,
    /// Period of the stalls, in seconds.
    #[arg(long, default_value_t = 5)]
    stall_every: u64,
    /// Also write the fortio-compatible JSON result to this file.
    #[arg(long)]
    fortio_json: Option<PathBuf>,
    /// Also write the lossless, mergeable result (HdrHistogram V2) as JSON to this file.
    #[arg(long)]
    portable_json: Option<PathBuf>,
    /// Largest config file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = examples::input::DEFAULT_MAX_BYTES)]
    max_bytes: u64,
}

const MAX_DURATION: Duration = Duration::from_secs(600);

/// The checks this example needs before it starts anything. Each problem names its field.
fn check(config: &PerformanceTestConfig) -> Vec<String> {
    let mut problems = Vec::new();
    match config.clients.len() {
        1 => {}
        0 => problems.push("clients: at least one client is needed".to_string()),
        n => problems.push(format!(
            "clients: this example runs one client, the config has {n}"
        )),
    }
    for (i, c) in config.clients.iter().enumerate() {
        let at = |f: &str| format!("clients[{i}].{f}");
        if c.protocol != Protocol::Http {
            problems.push(format!(
                "{}: only PROTOCOL_HTTP can run here, got {}",
                at("protocol"),
                c.protocol.name()
            ));
        }
        if !(1..=10_000).contains(&c.connections) {
            problems.push(format!(
                "{}: must be between 1 and 10000, got {}",
                at("connections"),
                c.connections
            ));
        }
        if !(0..=1_000_000).contains(&c.rps) {
            problems.push(format!(
                "{}: must be between 0 (closed loop) and 1000000, got {}",
                at("rps"),
                c.rps
            ));
        }
        if c.endpoint_urls.is_empty() {
            problems.push(format!(
                "{}: at least one URL is needed",
                at("endpoint_urls")
            ));
        }
        for (j, url) in c.endpoint_urls.iter().enumerate() {
            let host = url_host(url);
            if host != PLACEHOLDER_HOST && !is_loopback_host(host) {
                problems.push(format!(
                    "{}: `{url}` is not loopback; use http://{PLACEHOLDER_HOST}/... or 127.0.0.1",
                    at(&format!("endpoint_urls[{j}]"))
                ));
            }
        }
    }
    match config.duration.as_ref().map(|d| (d, d.to_std())) {
        None => problems.push("duration: needed (e.g. `10s`)".into()),
        Some((d, None)) => problems.push(format!("duration: `{}` is negative", d.as_str())),
        Some((d, Some(std))) if std.is_zero() || std > MAX_DURATION => problems.push(format!(
            "duration: must be above 0 and at most {}s for this example, got `{}`",
            MAX_DURATION.as_secs(),
            d.as_str()
        )),
        Some(_) => {}
    }
    problems
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let text = examples::input::read_text(&args.config, args.max_bytes)?;
    let doc = smps_model::read(&text, &ReadOptions::default())
        .with_context(|| format!("parsing {}", args.config.display()))?;
    let Some(test) = doc.as_test_config() else {
        bail!(
            "{}: expected a performance test config, found a {}",
            args.config.display(),
            doc.kind().name()
        );
    };
    let mut config = test.config.clone();
    let problems = check(&config);
    if !problems.is_empty() {
        bail!(
            "{} is not runnable:\n  - {}",
            args.config.display(),
            problems.join("\n  - ")
        );
    }
    if !(args.warmup >= 0.0 && args.warmup <= 60.0) {
        bail!("--warmup must be between 0 and 60 seconds");
    }

    let mut server = ReferenceServer::builder();
    if !args.no_faults {
        server = server
            .delay(Delay::Uniform {
                min: Duration::from_micros(100),
                max: Duration::from_micros(1500),
            })
            .status_mix(vec![(200, 199), (503, 1)])
            .seed(7);
        if args.stall_ms > 0 {
            server = server.stall(Stall::new(
                Duration::from_millis(args.stall_ms),
                Duration::from_secs(args.stall_every.max(1)),
            ));
        }
    }
    let server = server.start().await?;
    point_at_reference_server(&mut config, &server.url(""));

    let engine = EngineBuilder::from_config(&config)
        .with_context(|| format!("{}", args.config.display()))?
        .warmup(Duration::from_secs_f64(args.warmup))
        .build()
        .with_context(|| format!("{}", args.config.display()))?;
    let total = config
        .duration
        .as_ref()
        .and_then(|d| d.to_std())
        .unwrap_or_default()
        + Duration::from_secs_f64(args.warmup);
    eprintln!(
        "running `{}` against the reference server at {} for {:.1} s (warm-up {:.1} s)",
        config.name,
        server.addr(),
        total.as_secs_f64(),
        args.warmup
    );
    let mut run = engine.start().await?;
    let stop = run.stop_handle();
    let mut stderr = std::io::stderr();
    loop {
        tokio::select! {
            s = run.next_snapshot() => {
                let Some(s) = s else { break };
                let _ = write!(stderr, "{}", progress_line(&s, total.as_secs_f64()));
                let _ = stderr.flush();
            }
            _ = tokio::signal::ctrl_c() => {
                eprintln!("\nstopping (Ctrl-C)...");
                stop.stop();
            }
        }
    }
    eprintln!();
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
    if let Some(p) = &args.fortio_json {
        std::fs::write(p, serde_json::to_string_pretty(&report.to_fortio_json())?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = &args.portable_json {
        std::fs::write(p, serde_json::to_string_pretty(&report.to_portable()?)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}
