//! `smps distribute`: one load test split over N pods of a Kubernetes Indexed Job, started
//! together, merged into one SMP result.
//!
//! * `manifests.rs`: the ConfigMap and the Indexed Job (pod `k` runs segment `k/N`);
//! * `cluster.rs`: create, follow, collect the results from the pods' logs, clean up.
//!
//! Needs the examples crate's `kube` feature; without it the command exits with code 2 and
//! says how to rebuild.

#[cfg(feature = "kube")]
mod cluster;
#[cfg(feature = "kube")]
mod manifests;

use std::path::PathBuf;
use std::time::Duration;

use crate::InputLimit;
use crate::convert::DataFormat;
use crate::run::{parse_duration, parse_share};

/// What mesh sidecars may do to the pods (see `--sidecars`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SidecarsArg {
    /// Ask Istio and Linkerd not to inject a proxy: the generators stay outside the mesh and
    /// the Job can complete.
    Skip,
    /// Let the mesh inject its proxy as a native sidecar (Kubernetes 1.29+), which ends with
    /// the pod, so the Job completes with the generators inside the mesh.
    Native,
    /// Add nothing (a classic injected sidecar keeps the Job from completing).
    AsIs,
}

/// Arguments of `smps distribute`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SMP performance-test config (one client; its endpoints must be reachable from the
    /// pods).
    config: PathBuf,
    #[command(flatten)]
    limit: InputLimit,
    /// Number of parts: pods of the Indexed Job, each running segment k/N of the load.
    #[arg(long)]
    parallelism: u32,
    /// Container image whose entrypoint is the `smps` program (the pods run `smps run`).
    #[arg(long)]
    image: String,
    /// Namespace of the ConfigMap and the Job.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// Kubeconfig context (default: the current one).
    #[arg(long)]
    context: Option<String>,
    /// Name of the Job and ConfigMap (default: `smps-<config name>-<random>`).
    #[arg(long)]
    name: Option<String>,
    /// When the parts start, from now: time enough to schedule the pods and pull the image.
    /// The parts start at that instant by their node's clock (keep the nodes in NTP sync); a
    /// part that starts late says by how much (`smps-load/start-late-ms`).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    start_delay: Duration,
    /// At most one part per node (required pod anti-affinity on the host name).
    #[arg(long)]
    separate: bool,
    /// Mesh sidecars: `skip` injection (default), `native` sidecars, or leave `as-is`.
    #[arg(long, value_enum, default_value_t = SidecarsArg::Skip)]
    sidecars: SidecarsArg,
    /// Print the manifests as YAML (with the commands to apply them, collect the parts'
    /// results and merge them with `smps merge`) instead of running them.
    #[arg(long)]
    emit: bool,
    /// Leave the Job and ConfigMap in the cluster after the run.
    #[arg(long)]
    keep: bool,
    /// Exit with code 1 when more than this share of the merged requests failed.
    #[arg(long, default_value = "10%", value_parser = parse_share)]
    max_failed: f64,
    /// Format of the merged SMP result on standard output.
    #[arg(long, value_enum, default_value_t = DataFormat::Yaml)]
    format: DataFormat,
    /// Also write the merged portable result here.
    #[arg(long)]
    portable: Option<PathBuf>,
    /// Warm-up of each part (`smps run --warmup`).
    #[arg(long, default_value = "0s")]
    warmup: String,
    /// Per-request timeout of each part (`smps run --timeout`, default 10s).
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Dispatch-lag limit of each part (`smps run --dispatch-lag-limit`).
    #[arg(long, default_value = "100us", value_parser = parse_duration)]
    dispatch_lag_limit: Duration,
    /// The Job is watched; the watch is renewed (and the Job read again) this often.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    poll: Duration,
}

#[cfg(not(feature = "kube"))]
pub(crate) fn run(_args: &Args) -> crate::Outcome {
    Err(crate::Failure::Unusable(anyhow::anyhow!(
        "distribute needs Kubernetes support, which this smps was built without; rebuild with \
         `--features kube`: cargo run --release -p examples --features kube --example smps -- \
         distribute CONFIG --parallelism N --image IMAGE"
    )))
}

#[cfg(feature = "kube")]
pub(crate) use self::with_kube::run;

#[cfg(feature = "kube")]
mod with_kube {
    use std::time::{Duration, SystemTime};

    use smps_load::{EngineBuilder, ExecutionPart};
    use smps_model::{Dialect, Format};

    use super::cluster::Deployed;
    use super::manifests::{Plan, Sidecars};
    use super::{Args, SidecarsArg};
    use crate::{Failure, Outcome, write_file};

    pub(crate) fn run(args: &Args) -> Outcome {
        let (config, name) = crate::run::read_config(&args.config, args.limit)?;
        let plan = plan(args, &config, &name)?;
        if args.emit {
            print!("{}", plan.yaml()?);
            return Ok(());
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
        runtime.block_on(distribute(args, plan))
    }

    /// Checks the config and the split, and makes the manifests.
    fn plan(
        args: &Args,
        config: &smps_model::PerformanceTestConfig,
        name: &str,
    ) -> Result<Plan, Failure> {
        let n = args.parallelism;
        if n == 0 {
            return Err(anyhow::anyhow!("--parallelism must be at least 1").into());
        }
        if config.clients.iter().any(|c| {
            c.endpoint_urls.iter().any(|u| {
                examples::run_support::url_host(u) == examples::run_support::PLACEHOLDER_HOST
            })
        }) {
            return Err(anyhow::anyhow!(
                "{name}: endpoints name `{}`, the embedded server of `smps run`, which the pods cannot reach; give the target's address in the cluster",
                examples::run_support::PLACEHOLDER_HOST
            )
            .into());
        }
        let Some(duration) = config.duration.as_ref().and_then(|d| d.to_std()) else {
            return Err(anyhow::anyhow!("{name}: a distributed run needs a `duration`").into());
        };
        // Every part must be runnable: each gets at least one connection, and so on.
        for k in 0..u64::from(n) {
            let part = ExecutionPart::nth(k, u64::from(n)).map_err(anyhow::Error::from)?;
            EngineBuilder::from_config(config)
                .and_then(|b| b.segment(part).build())
                .map_err(|e| {
                    anyhow::anyhow!("{name}: part {k}/{n}: {}", crate::run::cli_message(&e))
                })?;
        }
        let warmup = smps_model::GoDuration::parse(&args.warmup)
            .ok()
            .and_then(|d| d.to_std())
            .ok_or_else(|| anyhow::anyhow!("--warmup: expected a duration such as `1s`"))?;
        let request_timeout = args.timeout.unwrap_or(Duration::from_secs(10));
        let deadline =
            args.start_delay + warmup + duration + request_timeout + Duration::from_secs(120);
        let start_at = SystemTime::now() + args.start_delay;
        let start_at = smps_model::Timestamp::from_system_time(start_at)
            .map_err(|e| anyhow::anyhow!("cannot write the start instant: {e}"))?
            .to_string();
        let mut run_args = vec![
            "--warmup".to_string(),
            args.warmup.clone(),
            "--dispatch-lag-limit".into(),
            format!("{}us", args.dispatch_lag_limit.as_micros()),
        ];
        if let Some(t) = args.timeout {
            run_args.extend(["--timeout".into(), format!("{}ms", t.as_millis())]);
        }
        let text = smps_model::write_value(config, Dialect::Canonical, Format::Yaml)
            .map_err(anyhow::Error::from)?;
        Ok(Plan {
            name: args.name.clone().unwrap_or_else(|| job_name(&config.name)),
            namespace: args.namespace.clone(),
            image: args.image.clone(),
            parallelism: n,
            config: text,
            start_at,
            run_args,
            separate: args.separate,
            sidecars: match args.sidecars {
                SidecarsArg::Skip => Sidecars::Skip,
                SidecarsArg::Native => Sidecars::Native,
                SidecarsArg::AsIs => Sidecars::AsIs,
            },
            deadline_secs: deadline.as_secs() as i64,
        })
    }

    /// `smps-<config name as a DNS label>-<6 hex digits>`, at most 52 characters (a Job's
    /// pods append their own suffix to it).
    fn job_name(config_name: &str) -> String {
        let mut slug: String = config_name
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        slug = slug.trim_matches('-').chars().take(38).collect();
        let slug = slug.trim_end_matches('-');
        let id = smps_load::RunId::generate();
        let hex: String = id.as_str().chars().rev().take(6).collect();
        if slug.is_empty() {
            format!("smps-{hex}")
        } else {
            format!("smps-{slug}-{hex}")
        }
    }

    async fn distribute(args: &Args, plan: Plan) -> Outcome {
        let client = smi_assert::backend::kube::connect(args.context.as_deref())
            .await
            .map_err(|e| anyhow::Error::from(e).context("cannot use the Kubernetes cluster"))?;
        let timeout = Duration::from_secs(plan.deadline_secs as u64);
        let (ns, job) = (plan.namespace.clone(), plan.name.clone());
        eprintln!(
            "creating configmap and job {ns}/{job}: {} parts starting at {}",
            plan.parallelism, plan.start_at
        );
        let deployed = Deployed::create(client, plan)
            .await
            .map_err(|e| anyhow::Error::from(e).context("cannot start the distributed run"))?;
        let outcome = tokio::select! {
            r = deployed.wait(args.poll, timeout, |line| eprintln!("{line}")) => Ok(r),
            sig = crate::run::termination() => {
                eprintln!("{sig}: deleting job {ns}/{job}");
                Err(sig)
            }
        };
        let collected = match outcome {
            Ok(Ok(())) => Ok(deployed.results().await),
            Ok(Err(e)) => Ok(Err(e)),
            Err(sig) => Err(sig),
        };
        if args.keep {
            eprintln!("keeping job {ns}/{job} and its configmap (--keep)");
        } else {
            for problem in deployed.delete().await {
                eprintln!("warning: {problem}");
            }
        }
        let collected = collected.map_err(Failure::Interrupted)?;
        let parts =
            collected.map_err(|e| anyhow::Error::from(e).context("the distributed run failed"))?;
        let merged = smps_load::merge(&parts)
            .map_err(|e| anyhow::Error::from(e).context("cannot merge the parts' results"))?;
        if let Some(late) = merged.start_late() {
            eprintln!(
                "{} parts merged; the latest started {:.3} ms after the planned instant",
                parts.len(),
                late.as_secs_f64() * 1000.0
            );
        }
        if let Some(p) = &args.portable {
            let portable = merged.to_portable().map_err(anyhow::Error::from)?;
            let json = serde_json::to_string_pretty(&portable).map_err(anyhow::Error::from)?;
            write_file(p, json.as_bytes())?;
        }
        let out = smps_model::write_value(
            &merged.to_smp_result(),
            Dialect::Canonical,
            args.format.model(),
        )
        .map_err(anyhow::Error::from)?;
        print!("{out}");
        crate::run::judge_failures(&merged, args.max_failed)
    }
}
