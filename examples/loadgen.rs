//! `loadgen`: a minimal command-line driver of `smps-load`, used by the peer-comparison
//! scripts in `benches/` (it prints `Requests/sec: N` and wrk-style percentile lines, which
//! `../shared/tools/loadbench.sh` parses).
//!
//! ```text
//! cargo build --release -p examples --example loadgen
//! target/release/examples/loadgen -c 16 -d 10 http://127.0.0.1:18080/hello          # closed loop
//! target/release/examples/loadgen -c 64 -d 10 -q 20000 http://127.0.0.1:18080/hello # open loop
//! target/release/examples/loadgen -c 16 -m 10 --http2 http://127.0.0.1:18080/hello   # h2load -c 16 -m 10
//! target/release/examples/loadgen -c 16 -m 10 grpc://127.0.0.1:18080                 # gRPC health checks
//! target/release/examples/loadgen -c 16 tcp://127.0.0.1:18081                         # TCP echo
//! target/release/examples/loadgen -c 16 --udp-timeout-ms 100 udp://127.0.0.1:18082    # UDP echo
//! ```
//!
//! The protocol follows the URL's scheme (`http`, `https`, `grpc`, `grpcs`, `tcp`, `udp`).
//!
//! It runs on a current-thread Tokio runtime by default (`--threads 1`), so it uses one core,
//! like `wrk -t1` and `oha --worker-threads 1`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use smps_load::{
    ArrivalPlan, BacklogPolicy, Engine, Http1Client, Http2Client, HttpVersion, LoadModel,
};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Minimal HTTP/gRPC/TCP/UDP load generator on smps-load (for benchmarks)")]
struct Args {
    /// Connections.
    #[arg(short = 'c', long, default_value_t = 16)]
    connections: usize,
    /// Duration of the measured phase, in seconds.
    #[arg(short = 'd', long, default_value_t = 10.0)]
    duration: f64,
    /// Stop after this many requests instead (0 = no limit).
    #[arg(short = 'n', long, default_value_t = 0)]
    requests: u64,
    /// Open-loop rate in requests per second (0 = closed loop).
    #[arg(short = 'q', long, default_value_t = 0.0)]
    rate: f64,
    /// Runtime threads (1 = current-thread runtime).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Speak HTTP/2 (h2c prior knowledge).
    #[arg(long)]
    http2: bool,
    /// HTTP/2 and gRPC: concurrent streams per connection (h2load's `-m`).
    #[arg(short = 'm', long, default_value_t = 1)]
    streams: usize,
    /// TCP and UDP echo: payload bytes per request.
    #[arg(long, default_value_t = 24)]
    payload_size: usize,
    /// UDP echo: milliseconds an echo may take to be on time.
    #[arg(long, default_value_t = 750)]
    udp_timeout_ms: u64,
    /// Carry HTTP/1.1 with hyper's client instead of the engine's lean one.
    #[arg(long)]
    hyper: bool,
    /// Carry HTTP/2 and gRPC with the `h2` crate's client instead of the engine's own.
    #[arg(long)]
    h2_crate: bool,
    /// Open loop: wait for each request's time with Tokio's 1 ms timer (less CPU, up to ~1 ms
    /// late) instead of the precise timer.
    #[arg(long)]
    coarse_pacing: bool,
    /// Write the SMP result as YAML to this file.
    #[arg(long)]
    smp: Option<std::path::PathBuf>,
    /// Target URL (loopback only).
    url: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !examples::run_support::is_loopback_host(examples::run_support::url_host(&args.url)) {
        bail!("refusing non-loopback URL {}", args.url);
    }
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        bail!("--duration must be a positive number of seconds");
    }
    let rt = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    let mut b = Engine::builder()
        .url(&args.url)
        .connections(args.connections)
        .request_timeout(Duration::from_secs(30));
    b = if args.requests > 0 {
        b.max_requests(args.requests)
    } else {
        b.duration(Duration::from_secs_f64(args.duration))
    };
    if args.rate > 0.0 {
        b = b.load_model(LoadModel::Open {
            plan: ArrivalPlan::constant(args.rate)?,
            backlog: BacklogPolicy::Queue {
                max_queued: 1_000_000,
            },
        });
    }
    if args.http2 {
        b = b.http_version(HttpVersion::Http2);
    }
    if args.streams > 1 {
        b = b.streams_per_connection(args.streams);
    }
    if args.url.starts_with("tcp://") || args.url.starts_with("udp://") {
        b = b
            .payload_size(args.payload_size)
            .udp_timeout(Duration::from_millis(args.udp_timeout_ms));
    }
    if args.hyper {
        b = b.http1_client(Http1Client::Hyper);
    }
    if args.h2_crate {
        b = b.http2_client(Http2Client::H2);
    }
    if args.coarse_pacing {
        b = b.pacing(smps_load::Pacing::Coarse);
    }
    let engine = b.build()?;
    let report = rt.block_on(engine.run())?;
    let m = &report.measured;
    let lat = m.latency_summary();
    let svc = m.service_time_summary();
    println!(
        "{} requests in {:.3}s, {} errors, {} dropped, {} abandoned",
        m.requests(),
        m.elapsed().as_secs_f64(),
        m.error_count(),
        m.dropped,
        m.abandoned
    );
    println!("Latency basis: {}", report.settings.latency_basis.name());
    println!("Latency Distribution");
    for (p, v) in [
        (50, lat.p50),
        (75, m.latency_ms(75.0)),
        (90, lat.p90),
        (99, lat.p99),
    ] {
        println!("  {p:>3}% {v:.3}ms");
    }
    println!("  99.9% {:.3}ms  max {:.3}ms", lat.p999, lat.max);
    println!("Service time p50 {:.3}ms p99 {:.3}ms", svc.p50, svc.p99);
    let lag = smps_load::LatencySummary::of(&m.dispatch_lag);
    println!(
        "Dispatch lag p50 {:.3}ms p99 {:.3}ms max {:.3}ms",
        lag.p50, lag.p99, lag.max
    );
    if let Some(w) = report.lag_warning() {
        eprintln!("warning: {w}");
    }
    if !m.errors.is_empty() {
        println!("Errors: {:?}", m.errors);
    }
    println!("Status codes: {:?}", m.status_codes);
    println!("Requests/sec: {:.2}", m.requests_per_second());
    if let Some(path) = &args.smp {
        let yaml = smps_model::write_value(
            &report.to_smp_result(),
            smps_model::Dialect::Canonical,
            smps_model::Format::Yaml,
        )?;
        std::fs::write(path, yaml).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
