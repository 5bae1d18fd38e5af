//! `smps search`: the highest rate a target sustains under a latency and success objective
//! (smps-load's adaptive search), with every trial in a table, a latency-vs-rate chart, and
//! the SMP result of a confirmation run at the found rate.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use smps_load::{EngineBuilder, Search, SearchOutcome, SearchReport, SearchSettings, Slo, Trial};
use smps_model::Dialect;

use crate::convert::DataFormat;
use crate::run::{LocalTargets, PacingArg, Target, parse_duration, parse_share};
use crate::{Failure, InputLimit, Outcome, write_file};

/// Arguments of `smps search`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SMP performance-test config (its client's endpoints, connections, headers, body,
    /// protocol; its rate and duration are replaced by the trials').
    config: PathBuf,
    #[command(flatten)]
    limit: InputLimit,
    /// The latency bound of the objective: the corrected latency at `--percentile` must stay
    /// at or under it (`50ms`).
    #[arg(long, value_parser = parse_duration)]
    max_latency: Duration,
    /// The latency percentile the bound applies to.
    #[arg(long, default_value_t = 99.0)]
    percentile: f64,
    /// Least share of planned requests answered with 2xx/3xx (`99.9%` or `0.999`).
    #[arg(long, default_value = "99.9%", value_parser = parse_share)]
    min_success: f64,
    /// Rate of the first trial (default: the config's rps, or 100 when it has none).
    #[arg(long)]
    start_rps: Option<f64>,
    /// Highest rate tried.
    #[arg(long, default_value_t = 1_000_000.0)]
    max_rps: f64,
    /// Relative precision of the result (`1%`).
    #[arg(long, default_value = "1%", value_parser = parse_share)]
    precision: f64,
    /// Length of each trial.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    trial: Duration,
    /// Pause after each trial.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    cooldown: Duration,
    /// The whole search, confirmation included, ends by this.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    deadline: Duration,
    /// Length of the confirmation run at the found rate (`0s` for none).
    #[arg(long, default_value = "30s")]
    confirm: String,
    /// Most trials at one rate when the first is borderline or the generator fell behind.
    #[arg(long, default_value_t = 3)]
    max_trials_per_rate: u32,
    /// Start the embedded loopback reference server for `http://reference-server/...` (and
    /// `grpc://`) endpoints, and echo servers for `tcp://` and `udp://reference-server`
    /// (default: only when the config names that host).
    #[arg(long, value_enum, default_value_t = Target::Auto)]
    target: Target,
    /// The generator's self-check: a trial whose dispatch lag p99 is above this (with no
    /// request waiting for a connection) says nothing about the target and is repeated.
    #[arg(long, default_value = "1ms", value_parser = parse_duration)]
    dispatch_lag_limit: Duration,
    /// How to wait for each request's time (see `smps run --pacing`).
    #[arg(long, value_enum, default_value_t = PacingArg::Precise)]
    pacing: PacingArg,
    /// Per-request timeout (default 10s, or the config's `additional_options`).
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Format of the confirmation's SMP result on standard output.
    #[arg(long, value_enum, default_value_t = DataFormat::Yaml)]
    format: DataFormat,
    /// Write the latency-vs-rate chart (SVG) here.
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Write the search (outcome, settings, every trial) as JSON here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write the confirmation run's portable result here.
    #[arg(long)]
    portable: Option<PathBuf>,
}

/// Label key of the found rate in the confirmation's SMP result.
const LABEL_SEARCH_RATE: &str = "smps-load/search-rate";
/// Label key of the search's outcome.
const LABEL_SEARCH_OUTCOME: &str = "smps-load/search-outcome";

pub(crate) fn run(args: &Args) -> Outcome {
    let (config, name) = crate::run::read_config(&args.config, args.limit)?;
    let confirm = match args.confirm.trim() {
        "0" | "0s" | "none" => None,
        text => Some(parse_duration(text).map_err(|e| anyhow::anyhow!("--confirm: {e}"))?),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(search(args, config, confirm, &name))
}

async fn search(
    args: &Args,
    mut config: smps_model::PerformanceTestConfig,
    confirm: Option<Duration>,
    name: &str,
) -> Outcome {
    let targets = LocalTargets::start(args.target, &mut config, name).await?;
    let config_rps = config.clients.first().map_or(0, |c| c.rps);
    let mut base = EngineBuilder::from_config(&config)
        .map_err(|e| anyhow::anyhow!("{name}: {}", crate::run::cli_message(&e)))?
        .dispatch_lag_limit(args.dispatch_lag_limit)
        .pacing(args.pacing.into());
    if let Some(t) = args.timeout {
        base = base.request_timeout(t);
    }
    let slo = Slo::new(args.percentile, args.max_latency).min_success(args.min_success);
    let start = args.start_rps.unwrap_or(if config_rps > 0 {
        config_rps as f64
    } else {
        100.0
    });
    let settings = SearchSettings::new(slo)
        .start_rps(start)
        .max_rps(args.max_rps)
        .precision(args.precision)
        .trial(args.trial)
        .cooldown(args.cooldown)
        .deadline(args.deadline)
        .max_trials_per_rate(args.max_trials_per_rate)
        .confirm(confirm);
    let search = Search::new(base, settings)
        .map_err(|e| anyhow::anyhow!("{name}: {}", crate::run::cli_message(&e)))?;
    crate::run::raise_descriptor_limit();
    eprintln!(
        "searching: p{} <= {} ms, success >= {:.3} %, trials of {} s, precision {:.2} %",
        args.percentile,
        args.max_latency.as_secs_f64() * 1000.0,
        args.min_success * 100.0,
        args.trial.as_secs_f64(),
        args.precision * 100.0
    );
    let mut seen: Vec<Trial> = Vec::new();
    let outcome = {
        let running = search.run_observed(|t| {
            eprintln!("{}", trial_line(t, args.percentile));
            seen.push(t.clone());
        });
        tokio::select! {
            r = running => Ok(r),
            sig = crate::run::termination() => {
                eprintln!("{sig}: the search stopped");
                Err(sig)
            }
        }
    };
    targets.shutdown().await;
    let result = match outcome {
        Ok(r) => r,
        Err(sig) => {
            eprint!("{}", table(&seen, args.percentile));
            return Err(Failure::Interrupted(sig));
        }
    };
    let report = result.map_err(|e| anyhow::Error::from(e).context("the search failed"))?;
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{}", table(&report.trials, args.percentile));
    let _ = writeln!(stderr, "{}", summary(&report));
    if let Some(p) = &args.report {
        let json =
            serde_json::to_string_pretty(&report_json(&report)).map_err(anyhow::Error::from)?;
        write_file(p, json.as_bytes())?;
    }
    if let Some(p) = &args.chart {
        let svg = crate::search_chart::draw(&report, args.percentile, args.max_latency)?;
        write_file(p, svg.as_bytes())?;
    }
    if let Some(c) = &report.confirmation {
        if let Some(p) = &args.portable {
            let portable = c.to_portable().map_err(anyhow::Error::from)?;
            let json = serde_json::to_string_pretty(&portable).map_err(anyhow::Error::from)?;
            write_file(p, json.as_bytes())?;
        }
        let mut result = c.to_smp_result();
        result.test_id = config.id.clone();
        if let Some(rate) = report.rate {
            result
                .labels
                .insert(LABEL_SEARCH_RATE.into(), format!("{rate:.3}"));
        }
        result
            .labels
            .insert(LABEL_SEARCH_OUTCOME.into(), report.outcome.name().into());
        let out = smps_model::write_value(&result, Dialect::Canonical, args.format.model())
            .map_err(anyhow::Error::from)?;
        print!("{out}");
    }
    if report.rate.is_none() {
        return Err(Failure::Findings);
    }
    Ok(())
}

fn trial_line(t: &Trial, percentile: f64) -> String {
    format!(
        "  {:>12.3} req/s  {:<17}  p{} latency {:>9.3} ms  success {:>7.3} %  issued {:>7.3} %  lag p99 {:>7.3} ms{}",
        t.rps,
        t.verdict.name(),
        percentile,
        t.latency_ms,
        t.success * 100.0,
        t.issued * 100.0,
        t.dispatch_lag_p99_ms,
        if t.reasons.is_empty() {
            String::new()
        } else {
            format!("  ({})", t.reasons.join("; "))
        }
    )
}

/// Every trial, as a Markdown table.
fn table(trials: &[Trial], percentile: f64) -> String {
    let mut out = format!(
        "\n| # | rate (req/s) | verdict | p{percentile} latency (ms) | p{percentile} service (ms) | success | issued | lag p99 (ms) | achieved (req/s) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for (i, t) in trials.iter().enumerate() {
        out.push_str(&format!(
            "| {} | {:.3} | {}{} | {:.3} | {:.3} | {:.3} % | {:.3} % | {:.3} | {:.1} |\n",
            i + 1,
            t.rps,
            t.verdict.name(),
            if t.borderline { " (borderline)" } else { "" },
            t.latency_ms,
            t.service_ms,
            t.success * 100.0,
            t.issued * 100.0,
            t.dispatch_lag_p99_ms,
            t.achieved_rps
        ));
    }
    out
}

fn summary(r: &SearchReport) -> String {
    let rate = r
        .rate
        .map_or("none".to_string(), |v| format!("{v:.3} req/s"));
    let bracket = match (r.rate, r.failed_at) {
        (Some(l), Some(h)) => format!(
            " (passes at {l:.3}, fails at {h:.3}: within {:.2} %)",
            (h - l) / h * 100.0
        ),
        _ => String::new(),
    };
    let what = match r.outcome {
        SearchOutcome::Converged => "converged",
        SearchOutcome::ReachedMax => {
            "every rate up to --max-rps passed; the capacity is at least that"
        }
        SearchOutcome::NothingPassed => "nothing passed, down to the lowest rate tried",
        SearchOutcome::GeneratorLimited if r.rate.is_some() => {
            "the generator could not keep up above it, so the rate is a lower bound (split the load with --segment over more generators, or raise --dispatch-lag-limit on a busy machine)"
        }
        SearchOutcome::GeneratorLimited => {
            "the generator could not keep up even at the first rate, so nothing could be judged (start lower with --start-rps, or raise --dispatch-lag-limit on a busy machine)"
        }
        SearchOutcome::Deadline => "the deadline came first; the rate is the best known to pass",
        _ => "ended",
    };
    let confirmed = r.confirmation_verdict.as_ref().map_or(String::new(), |c| {
        format!("; confirmation run: {}", c.verdict.name())
    });
    format!(
        "highest sustainable rate: {rate}{bracket}; {what}; {} trials{confirmed}",
        r.trials.len()
    )
}

fn report_json(r: &SearchReport) -> serde_json::Value {
    serde_json::json!({
        "rate": r.rate,
        "failed_at": r.failed_at,
        "outcome": r.outcome,
        "settings": r.settings,
        "trials": r.trials,
        "confirmation": r.confirmation_verdict,
    })
}
