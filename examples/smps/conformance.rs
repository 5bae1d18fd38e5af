//! `smps conformance`: the SMI suite of smi-assert (`--suite smi`, the default), its Gateway API
//! mesh (GAMMA) suite (`--suite gamma`), or a user's suite (`--suite FILE|DIR`: a YAML suite or
//! kuttl test directories) against the embedded loopback mesh, or with `--cluster` against a
//! Kubernetes cluster (needs the examples crate's `kube` feature).

mod cluster;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use smi_assert::GoDuration;
use smi_assert::backend::loopback::{AccessDefault, Fault, LoopbackConfig, LoopbackMesh};
use smi_assert::features::{Implementation, Profile};
use smi_assert::gateway_report::{ConformanceReport, ReportImplementation};
use smi_assert::report::Report;
use smi_assert::runner::{Runner, RunnerBuilder};
use smi_assert::suite::{Suite, Timeouts};

use crate::{Failure, Outcome};

/// Arguments of `smps conformance`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The suite: `smi` (the bundled SMI conformance suite, the default), `gamma` (the bundled
    /// Gateway API mesh conformance suite, profiles MESH-HTTP and MESH-GRPC), a YAML suite file
    /// (the format of smi-assert's schema/suite.schema.json), a kuttl test directory (NN-*.yaml
    /// steps), or a directory of kuttl test directories. kuttl marker steps of the upstream SMI
    /// suite run as smi-assert's upstream checks.
    #[arg(long, value_name = "smi|gamma|FILE|DIR")]
    suite: Option<PathBuf>,
    /// Run only the tests of this profile (repeatable), e.g. MESH-HTTP, MESH-GRPC, SMI-SPLIT;
    /// the report then holds exactly these profiles.
    #[arg(long = "profile", value_name = "NAME", value_parser = parse_profile)]
    profiles: Vec<Profile>,
    /// The implementation block of `--format gateway-report`: a YAML or JSON file with
    /// organization, project, url, version and contact (a list). Without it the loopback mesh
    /// describes itself.
    #[arg(long, value_name = "FILE")]
    implementation: Option<PathBuf>,
    /// Make the loopback mesh non-conformant (repeatable): allow-all, ignore-weights,
    /// ignore-route-matches, drop-headers, drop-metrics, stale-metrics (SMI), and
    /// ignore-header-matches, ignore-consumer-routes, skip-filters, route-by-host (GAMMA). Shows
    /// the suite catching it.
    #[arg(long = "fault", value_parser = parse_fault, conflicts_with = "cluster")]
    faults: Vec<Fault>,
    /// Run against the Kubernetes cluster of the kubeconfig (KUBECONFIG or ~/.kube/config) instead
    /// of the loopback mesh: the mesh under test must be installed there, and the sample app image
    /// layer5/learn-layer5 pullable. Needs smps built with `--features kube`; without it this
    /// exits with code 2.
    #[arg(long)]
    cluster: bool,
    /// With --cluster: the kubeconfig context (default: the current context).
    #[arg(long, requires = "cluster")]
    #[cfg_attr(not(feature = "kube"), allow(dead_code))]
    context: Option<String>,
    /// With --cluster: prefix of the test namespaces (default `smi-`).
    #[arg(long, requires = "cluster")]
    #[cfg_attr(not(feature = "kube"), allow(dead_code))]
    namespace_prefix: Option<String>,
    /// With --cluster: a label for the test namespaces, KEY=VALUE (repeatable), e.g.
    /// istio-injection=enabled for sidecar injection.
    #[arg(long = "namespace-label", requires = "cluster", value_parser = parse_key_value)]
    #[cfg_attr(not(feature = "kube"), allow(dead_code))]
    namespace_labels: Vec<(String, String)>,
    /// With --cluster: an annotation for the test namespaces, KEY=VALUE (repeatable), e.g.
    /// linkerd.io/inject=enabled.
    #[arg(long = "namespace-annotation", requires = "cluster", value_parser = parse_key_value)]
    #[cfg_attr(not(feature = "kube"), allow(dead_code))]
    namespace_annotations: Vec<(String, String)>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ConformanceFormat::Text)]
    format: ConformanceFormat,
    /// Seed of the mesh's traffic-split RNG.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Convergence timeout of traffic checks, as a duration (default `2s` on the loopback mesh,
    /// `30s` with --cluster).
    #[arg(long)]
    traffic_timeout: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ConformanceFormat {
    /// Readable summary.
    Text,
    /// Native JSON report (Gateway API ConformanceReport style).
    Json,
    /// JUnit XML.
    Junit,
    /// Meshery-compatible conformance response.
    Meshery,
    /// Gateway API ConformanceReport (gateway.networking.k8s.io/v1) as YAML, for the mesh
    /// profiles of a GAMMA run.
    GatewayReport,
}

fn parse_fault(name: &str) -> Result<Fault, String> {
    Fault::parse(name).ok_or_else(|| {
        format!(
            "unknown fault `{name}`: use allow-all, ignore-weights, ignore-route-matches, \
             drop-headers, drop-metrics or stale-metrics (SMI), or ignore-header-matches, \
             ignore-consumer-routes, skip-filters or route-by-host (GAMMA)"
        )
    })
}

fn parse_profile(name: &str) -> Result<Profile, String> {
    Profile::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Profile::ALL.iter().map(|p| p.as_str()).collect();
        format!("unknown profile `{name}`: use one of {}", names.join(", "))
    })
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// `--traffic-timeout`, or `default`.
fn traffic_timeout(args: &Args, default: &str) -> Result<GoDuration, Failure> {
    let text = args.traffic_timeout.as_deref().unwrap_or(default);
    text.parse()
        .map_err(|e| Failure::Unusable(anyhow::anyhow!("--traffic-timeout: {e}")))
}

pub(crate) fn run(args: &Args) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &Args) -> Outcome {
    // Read the implementation block first: a missing field is an error before any test runs.
    let implementation = match &args.implementation {
        Some(path) => Some(read_implementation(path)?),
        None => None,
    };
    let suite = match args.suite.as_deref().and_then(Path::to_str) {
        None | Some("smi") => smi_assert::conformance::suite()
            .map_err(|e| anyhow::Error::from(e).context("cannot load the conformance suite"))?,
        Some("gamma") => smi_assert::gamma_suite::suite().map_err(|e| {
            anyhow::Error::from(e).context("cannot load the GAMMA conformance suite")
        })?,
        Some(_) => load_suite(args.suite.as_deref().unwrap_or(Path::new("")))?,
    };
    let report = if args.cluster {
        cluster::run(args, &suite).await?
    } else {
        loopback(args, &suite).await?
    };
    print_report(args, &report, implementation)
}

/// `--implementation FILE`: the ConformanceReport's implementation block.
fn read_implementation(path: &Path) -> Result<ReportImplementation, Failure> {
    let text = smps_read(path)?;
    ReportImplementation::from_text(&text).map_err(|e| {
        Failure::Unusable(anyhow::Error::from(e).context(format!(
            "the implementation file {} is unusable",
            path.display()
        )))
    })
}

/// Reads a small text file (at most 1 MiB).
fn smps_read(path: &Path) -> Result<String, Failure> {
    use std::io::Read as _;
    let unusable = |e: std::io::Error| {
        Failure::Unusable(anyhow::anyhow!("cannot read {}: {e}", path.display()))
    };
    let file = std::fs::File::open(path).map_err(unusable)?;
    let mut text = String::new();
    file.take((1 << 20) + 1)
        .read_to_string(&mut text)
        .map_err(unusable)?;
    if text.len() > 1 << 20 {
        return Err(Failure::Unusable(anyhow::anyhow!(
            "{} is larger than 1 MiB",
            path.display()
        )));
    }
    Ok(text)
}

/// Whether every test of the suite counts in a GAMMA profile (such suites expect a mesh that
/// allows traffic no policy speaks about).
fn is_gamma(suite: &Suite) -> bool {
    !suite.tests.is_empty()
        && suite.tests.iter().all(|t| {
            smi_assert::features::test_profiles(t.features.iter().map(String::as_str))
                .iter()
                .any(|p| p.is_gamma())
        })
}

/// `--suite`: a YAML suite file, a kuttl test directory, or a directory of them.
fn load_suite(path: &Path) -> Result<Suite, Failure> {
    let cannot = |e: smi_assert::Error| {
        Failure::Unusable(
            anyhow::Error::from(e).context(format!("cannot load the suite {}", path.display())),
        )
    };
    if !path.is_dir() {
        return Suite::from_file(path).map_err(cannot);
    }
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let dirs = kuttl_test_dirs(path).map_err(|e| {
        Failure::Unusable(anyhow::anyhow!(
            "cannot read the directory {}: {e}",
            path.display()
        ))
    })?;
    if dirs.is_empty() {
        return Err(Failure::Unusable(anyhow::anyhow!(
            "{} holds no kuttl test: no NN-*.yaml step files, and no directory holding them",
            path.display()
        )));
    }
    smi_assert::kuttl::load_suite(&name, &dirs).map_err(cannot)
}

/// The kuttl test directories of `dir`: `dir` itself if it holds steps (`NN-*` entries), else
/// its subdirectories that do, in name order.
fn kuttl_test_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    fn holds_steps(dir: &Path) -> std::io::Result<bool> {
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            let b = name.as_bytes();
            if b.len() > 3 && b[0].is_ascii_digit() && b[1].is_ascii_digit() && b[2] == b'-' {
                return Ok(true);
            }
        }
        Ok(false)
    }
    if holds_steps(dir)? {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() && holds_steps(&p)? {
            dirs.push(p);
        }
    }
    dirs.sort();
    Ok(dirs)
}

async fn loopback(args: &Args, suite: &Suite) -> Result<Report, Failure> {
    let mut config = LoopbackConfig::builder().seed(args.seed);
    if is_gamma(suite) {
        config = config.access_default(AccessDefault::Allow);
    }
    for fault in &args.faults {
        config = config.fault(*fault);
    }
    let mesh = Arc::new(
        LoopbackMesh::start(config.build())
            .await
            .map_err(|e| anyhow::Error::from(e).context("cannot start the loopback mesh"))?,
    );
    let implementation = Implementation::new(
        "smps-rs",
        "smi-assert loopback mesh",
        env!("CARGO_PKG_VERSION"),
    )
    .supports_all_extended(&Profile::ALL);
    let traffic = traffic_timeout(args, "2s")?;
    let mut timeouts = Timeouts::default();
    timeouts.traffic = Some(traffic);
    timeouts.assert =
        Some(GoDuration::from_std(Duration::from_secs(5)).map_err(anyhow::Error::from)?);
    let mode = if args.faults.is_empty() {
        "default".to_owned()
    } else {
        let names: Vec<&str> = args.faults.iter().map(|f| f.as_str()).collect();
        format!("faults: {}", names.join(","))
    };
    let mut builder = Runner::builder(mesh.clone())
        .implementation(implementation)
        .timeouts(timeouts)
        .mode(mode);
    if !args.profiles.is_empty() {
        builder = builder.profiles(args.profiles.iter().copied());
    }
    let builder = smi_assert::conformance::register_upstream_checks(builder);
    let report = run_suite(builder, suite).await?;
    mesh.shutdown();
    Ok(report)
}

/// Builds the runner and runs `suite`, naming which of the two failed.
async fn run_suite(builder: RunnerBuilder, suite: &Suite) -> Result<Report, Failure> {
    let runner = builder
        .build()
        .map_err(|e| anyhow::Error::from(e).context("cannot set up the runner"))?;
    Ok(runner
        .run(suite)
        .await
        .map_err(|e| anyhow::Error::from(e).context("cannot run the suite"))?)
}

fn print_report(
    args: &Args,
    report: &Report,
    implementation: Option<ReportImplementation>,
) -> Outcome {
    let out = match args.format {
        ConformanceFormat::GatewayReport => {
            let implementation = implementation.unwrap_or_else(|| {
                ReportImplementation::new(
                    "smps-rs",
                    report.implementation.project.clone(),
                    "https://github.com/smps-rs/smps-rs",
                    report.implementation.version.clone(),
                    vec!["https://github.com/smps-rs/smps-rs/issues".into()],
                )
            });
            ConformanceReport::from_report(report, implementation)
                .and_then(|g| g.to_yaml())
                .map_err(|e| {
                    Failure::Unusable(
                        anyhow::Error::from(e).context("cannot write the ConformanceReport"),
                    )
                })?
        }
        ConformanceFormat::Text => report.summary(),
        ConformanceFormat::Json => {
            serde_json::to_string_pretty(&report.to_json()).map_err(anyhow::Error::from)? + "\n"
        }
        ConformanceFormat::Junit => report.to_junit_xml(),
        ConformanceFormat::Meshery => {
            serde_json::to_string_pretty(&report.to_meshery_response())
                .map_err(anyhow::Error::from)?
                + "\n"
        }
    };
    print!("{out}");
    let stats = report.statistics();
    if stats.failed > 0 {
        Err(Failure::Findings)
    } else if stats.errors > 0 {
        Err(Failure::Unusable(anyhow::anyhow!(
            "{} test(s) could not run (infrastructure errors; see the report)",
            stats.errors
        )))
    } else {
        Ok(())
    }
}
