//! `smps run`: an SMP config in, an SMP result out, through smps-validate and smps-load.

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use examples::run_support::{self, PLACEHOLDER_HOST};
use smps_load::EngineBuilder;
use smps_load::reference::{EchoServer, ReferenceServer};
use smps_model::{Dialect, ReadOptions};

use crate::convert::DataFormat;
use crate::{Failure, InputLimit, Outcome, model_error, write_file};

/// Arguments of `smps run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SMP performance-test config (YAML or JSON, any dialect).
    config: PathBuf,
    #[command(flatten)]
    limit: InputLimit,
    /// Start the embedded loopback reference server and send `http://reference-server/...`
    /// (and `grpc://reference-server/...`) endpoints to it; `tcp://reference-server` and
    /// `udp://reference-server` endpoints go to embedded echo servers (default: only when the
    /// config names that host).
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
    /// Write the lossless, mergeable result (for `smps merge` and `smps chart`) here; `-`
    /// prints it on standard output as one line of JSON instead of the SMP result (what the
    /// pods of `smps distribute` do).
    #[arg(long)]
    portable: Option<PathBuf>,
    /// Write the fortio-compatible JSON result (what Meshery ingests) here.
    #[arg(long)]
    fortio: Option<PathBuf>,
    /// Exit with code 1 when more than this share of the requests failed (no response, or a
    /// status outside 2xx-3xx), as a percentage (`10%`) or a fraction (`0.1`). The result
    /// is written either way.
    #[arg(long, default_value = "10%", value_parser = parse_share)]
    max_failed: f64,
    /// Per-request timeout (connect included), as a duration (`2s`); overrides the config's
    /// `additional_options` (default 10s).
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Connect timeout (TCP and TLS handshakes), as a duration (`500ms`); overrides the
    /// config's `additional_options` (default 5s).
    #[arg(long, value_parser = parse_duration)]
    connect_timeout: Option<Duration>,
    /// Open loop: warn (in the result and on stderr) when the dispatch lag p99 (intended ->
    /// actual send) is above this, as a duration (`100us`).
    #[arg(long, default_value = "100us", value_parser = parse_duration)]
    dispatch_lag_limit: Duration,
    /// Open loop: how to wait for each request's time. `precise` (a high-resolution timer,
    /// requests leave within tens of microseconds) or `coarse` (1 ms timer, less CPU).
    #[arg(long, value_enum, default_value_t = PacingArg::Precise)]
    pacing: PacingArg,
    #[command(flatten)]
    part: crate::part::PartArgs,
}

/// `--pacing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PacingArg {
    /// High-resolution timer.
    Precise,
    /// Tokio's 1 ms timer.
    Coarse,
}

impl From<PacingArg> for smps_load::Pacing {
    fn from(p: PacingArg) -> Self {
        match p {
            PacingArg::Precise => smps_load::Pacing::Precise,
            PacingArg::Coarse => smps_load::Pacing::Coarse,
        }
    }
}

/// A share given as `10%` or `0.1`.
pub(crate) fn parse_share(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(p) => (p, 100.0),
        None => (text.trim(), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(v) if (0.0..=scale).contains(&v) => Ok(v / scale),
        _ => Err(format!(
            "expected a share between 0% and 100% (`10%` or `0.1`), got `{text}`"
        )),
    }
}

/// A Go-style duration longer than zero (`2s`, `1m30s`, `500ms`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    smps_model::GoDuration::parse(text)
        .ok()
        .and_then(|d| d.to_std())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("expected a duration longer than zero such as `2s`, got `{text}`"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Target {
    /// The reference server when an endpoint names `reference-server`.
    Auto,
    /// Always start the reference server.
    Reference,
    /// Never start it: the endpoints must be reachable as written.
    Config,
}

/// The loopback servers `--target` starts for a config's `reference-server` endpoints: the
/// reference server for `http`, `https` and `grpc` ones, an echo server for `tcp` and one for
/// `udp` ones. They serve until [`LocalTargets::shutdown`] (or until dropped).
pub(crate) struct LocalTargets {
    reference: Option<ReferenceServer>,
    _echo: Vec<EchoServer>,
}

impl LocalTargets {
    /// Starts what `target` asks for and points the config's placeholder endpoints at it; a
    /// config that names the placeholder with `--target config` is unusable.
    pub(crate) async fn start(
        target: Target,
        config: &mut smps_model::PerformanceTestConfig,
        name: &str,
    ) -> Result<Self, Failure> {
        let names_placeholder = config.clients.iter().any(|c| {
            c.endpoint_urls
                .iter()
                .any(|u| run_support::url_host(u) == PLACEHOLDER_HOST)
        });
        let reference = match (target, names_placeholder) {
            (Target::Reference, _) | (Target::Auto, true) => {
                Some(ReferenceServer::builder().start().await.map_err(|e| {
                    anyhow::Error::from(e).context("cannot start the reference server")
                })?)
            }
            _ => None,
        };
        let mut echo = Vec::new();
        if let Some(s) = &reference {
            run_support::point_at_reference_server(config, &s.url(""));
            for (scheme, builder) in [("tcp", EchoServer::tcp()), ("udp", EchoServer::udp())] {
                if run_support::names_placeholder(config, scheme) {
                    let server = builder.start().await.map_err(|e| {
                        anyhow::Error::from(e).context("cannot start the echo server")
                    })?;
                    run_support::point_placeholder(config, scheme, &server.url());
                    echo.push(server);
                }
            }
        } else if names_placeholder {
            return Err(Failure::Unusable(anyhow::anyhow!(
                "{name}: endpoints name `{PLACEHOLDER_HOST}` but --target config was given"
            )));
        }
        Ok(Self {
            reference,
            _echo: echo,
        })
    }

    /// Stops the reference server gracefully (the echo servers stop when dropped).
    pub(crate) async fn shutdown(self) {
        if let Some(s) = self.reference {
            s.shutdown().await;
        }
    }
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
    let (test, name) = read_config(&args.config, args.limit)?;
    let warmup = smps_model::GoDuration::parse(&args.warmup)
        .ok()
        .and_then(|d| d.to_std())
        .ok_or_else(|| anyhow::anyhow!("--warmup: expected a duration such as `1s`"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(run_async(args, test, warmup, &name))
}

/// Reads a performance-test config as `smps run` does: the same checks as `smps validate` (a
/// config with errors is not run), then the model. Returns the config and its display name.
pub(crate) fn read_config(
    path: &std::path::Path,
    limit: InputLimit,
) -> Result<(smps_model::PerformanceTestConfig, String), Failure> {
    let text = limit.read_text(path)?;
    let name = path.display().to_string();
    let validator = smps_validate::Validator::builder()
        .max_input_bytes(limit.max_bytes)
        .build()
        .map_err(|e| anyhow::Error::from(e).context("cannot build the validator"))?;
    let source = smps_validate::Source::text(text.as_str()).with_name(name.clone());
    let report = validator
        .report(&source)
        .map_err(|e| anyhow::Error::from(e).context(name.clone()))?;
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
    let doc = smps_model::read(&text, &ReadOptions::default()).map_err(|e| match e {
        smps_model::Error::UnknownKind { reason, .. } => {
            anyhow::anyhow!("{name}: not a performance test config ({reason})")
        }
        other => model_error(path, other),
    })?;
    let Some(test) = doc.as_test_config() else {
        return Err(Failure::Unusable(anyhow::anyhow!(
            "{name}: expected a performance test config, found a {}",
            doc.kind()
        )));
    };
    Ok((test.config.clone(), name))
}

async fn run_async(
    args: &Args,
    mut config: smps_model::PerformanceTestConfig,
    warmup: Duration,
    name: &str,
) -> Outcome {
    // They serve until the run ends.
    let targets = LocalTargets::start(args.target, &mut config, name).await?;
    let builder = EngineBuilder::from_config(&config)
        .map_err(|e| anyhow::anyhow!("{name}: {}", cli_message(&e)))?;
    let builder = args.part.apply(builder)?;
    let engine = Ok(builder)
        .and_then(|mut b: EngineBuilder| {
            if let Some(t) = args.timeout {
                b = b.request_timeout(t);
            }
            if let Some(t) = args.connect_timeout {
                b = b.connect_timeout(t);
            }
            b.warmup(warmup)
                .dispatch_lag_limit(args.dispatch_lag_limit)
                .pacing(args.pacing.into())
                .build()
        })
        .map_err(|e| anyhow::anyhow!("{name}: {}", cli_message(&e)))?;
    raise_descriptor_limit();
    let total = config
        .duration
        .as_ref()
        .and_then(|d| d.to_std())
        .unwrap_or_default()
        + warmup;
    let bar = match args.progress {
        Progress::Always => run_support::progress_bar(total, true),
        Progress::Never => indicatif::ProgressBar::hidden(),
        Progress::Auto if std::env::var_os("CI").is_some() => indicatif::ProgressBar::hidden(),
        // Hidden by indicatif when standard error is not a terminal.
        Progress::Auto => run_support::progress_bar(total, false),
    };
    let mut run = engine
        .start()
        .await
        .map_err(|e| anyhow::Error::from(e).context("cannot start the test"))?;
    // Ctrl-C or SIGTERM: stop sending, let what is in flight finish (one request timeout at
    // most), and write the result of what was measured.
    let stop = run.stop_handle();
    let stopped_by = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = std::sync::Arc::clone(&stopped_by);
    let signal = tokio::spawn(async move {
        let first = termination().await;
        if let Ok(mut s) = seen.lock() {
            *s = Some(first);
        }
        stop.stop();
        eprintln!("\n{first}: stopping; again to quit at once");
        // A second signal while in-flight requests finish: quit now, as users expect.
        let second = termination().await;
        std::process::exit(i32::from(second.exit_code()));
    });
    while let Some(s) = run.next_snapshot().await {
        run_support::show_progress(&bar, &s);
    }
    bar.finish();
    let report = run
        .finish()
        .await
        .map_err(|e| anyhow::Error::from(e).context("the test failed"))?;
    let interrupted = stopped_by.lock().ok().and_then(|s| *s);
    signal.abort();
    if let Some(sig) = interrupted {
        eprintln!("stopped by {sig}: the result covers what was measured until then");
    }
    targets.shutdown().await;
    let mut result = report.to_smp_result();
    result.test_id = config.id.clone();
    let mut out = smps_model::write_value(&result, Dialect::Canonical, args.format.model())
        .map_err(anyhow::Error::from)?;
    if args.table {
        out.push('\n');
        out.push_str(&run_support::percentile_table(&report));
    }
    let portable_stdout = args.portable.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(p) = &args.portable {
        let portable = report.to_portable().map_err(anyhow::Error::from)?;
        if portable_stdout {
            let json = serde_json::to_string(&portable).map_err(anyhow::Error::from)?;
            out = format!("{json}\n");
        } else {
            let json = serde_json::to_string_pretty(&portable).map_err(anyhow::Error::from)?;
            write_file(p, json.as_bytes())?;
        }
    }
    if let Some(p) = &args.fortio {
        let json =
            serde_json::to_string_pretty(&report.to_fortio_json()).map_err(anyhow::Error::from)?;
        write_file(p, json.as_bytes())?;
    }
    print!("{out}");
    if let Some(w) = report.lag_warning() {
        eprintln!("warning: {w}");
    }
    if let Some(sig) = interrupted {
        return Err(Failure::Interrupted(sig));
    }
    judge_failures(&report, args.max_failed)
}

/// Says on stderr how many requests failed and why; more than `max_failed` of them is exit 1.
pub(crate) fn judge_failures(report: &smps_load::Report, max_failed: f64) -> Outcome {
    let m = &report.measured;
    if m.failed() == 0 {
        return Ok(());
    }
    let mut why: Vec<String> = m
        .errors
        .iter()
        .map(|(k, n)| match report.error_reasons.get(k) {
            Some(reason) => format!("{k} {n} ({reason})"),
            None => format!("{k} {n}"),
        })
        .collect();
    let bad_status: u64 = m
        .status_codes
        .iter()
        .filter(|(c, _)| !(200..400).contains(*c))
        .map(|(_, n)| n)
        .sum();
    if bad_status > 0 {
        why.push(format!("status outside 2xx-3xx {bad_status}"));
    }
    let share = m.failed_share();
    let summary = format!(
        "{} of {} requests failed ({:.1}%): {}",
        m.failed(),
        m.requests(),
        share * 100.0,
        why.join(", ")
    );
    if share > max_failed {
        eprintln!(
            "error: {summary}; more than --max-failed {:.1}%",
            max_failed * 100.0
        );
        return Err(Failure::Findings);
    }
    eprintln!("warning: {summary}");
    Ok(())
}

/// Waits for Ctrl-C or (on Unix) SIGTERM and says which came.
pub(crate) async fn termination() -> Signal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => Signal::Interrupt,
                _ = term.recv() => Signal::Terminate,
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                Signal::Interrupt
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Interrupt
    }
}

/// A signal that ends a run early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Ctrl-C (SIGINT): exit code 130.
    Interrupt,
    /// SIGTERM: exit code 143.
    Terminate,
}

impl Signal {
    /// The shell's exit code for a process ended by this signal.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "Ctrl-C",
            Signal::Terminate => "SIGTERM",
        })
    }
}

/// The engine's error, phrased for someone at the command line rather than for a programmer.
pub(crate) fn cli_message(e: &smps_load::Error) -> String {
    match e {
        smps_load::Error::Unsupported { field, .. } if field == "clients" => {
            "`smps run` runs a test with exactly one client; put each client in a config of its own, run each, and combine the results with `smps merge`".into()
        }
        other => other.to_string(),
    }
}

/// Raises this process's soft limit on open files to its hard limit, as Go programs do at
/// start, so that runs with many connections are not refused for a limit the user may raise
/// anyway. The engine still checks the result before it starts.
pub(crate) fn raise_descriptor_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            limit.current = limit.maximum;
            // Best effort: when it fails, the engine's check names the limit.
            let _ = setrlimit(Resource::Nofile, limit);
        }
    }
}
