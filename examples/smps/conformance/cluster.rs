//! `smps conformance --cluster`: the suite against a Kubernetes cluster through smi-assert's
//! `kube` backend (GAMMA suites send traffic by exec into the echo pods). Without the examples crate's `kube` feature, `--cluster` exits with code 2 and
//! says how to rebuild.

use smi_assert::report::Report;
use smi_assert::suite::Suite;

use super::Args;
use crate::Failure;

/// Connects (kubeconfig, `--context`), then runs `suite` with [`KubeCluster`] and [`KubeTraffic`].
///
/// Timeouts are sized for a real cluster: traffic convergence 30 s (or `--traffic-timeout`),
/// object asserts 180 s (the upstream suite's kuttl timeout; Deployments pull images), one
/// distribution attempt 600 s (every request costs several API calls).
///
/// [`KubeCluster`]: smi_assert::backend::kube::KubeCluster
/// [`KubeTraffic`]: smi_assert::backend::kube::KubeTraffic
#[cfg(feature = "kube")]
pub(super) async fn run(args: &Args, suite: &Suite) -> Result<Report, Failure> {
    use std::sync::Arc;
    use std::time::Duration;

    use smi_assert::GoDuration;
    use smi_assert::backend::TrafficBackend;
    use smi_assert::backend::kube::{KubeCluster, KubeEchoTraffic, KubeTraffic, connect};
    use smi_assert::features::{Implementation, Profile};
    use smi_assert::runner::Runner;
    use smi_assert::suite::Timeouts;

    let client = connect(args.context.as_deref())
        .await
        .map_err(|e| anyhow::Error::from(e).context("cannot use the Kubernetes cluster"))?;
    let context = args.context.as_deref().unwrap_or("current context");
    let implementation = Implementation::new(
        "unknown",
        format!("service mesh on Kubernetes ({context})"),
        "unknown",
    )
    .supports_all_extended(&Profile::ALL);
    let mut timeouts = Timeouts::default();
    timeouts.traffic = Some(super::traffic_timeout(args, "30s")?);
    timeouts.assert =
        Some(GoDuration::from_std(Duration::from_secs(180)).map_err(anyhow::Error::from)?);
    timeouts.distribution =
        Some(GoDuration::from_std(Duration::from_secs(600)).map_err(anyhow::Error::from)?);
    // GAMMA suites send traffic by exec into the echo pods, as Gateway API's mesh suite does.
    let traffic: Arc<dyn TrafficBackend> = if super::is_gamma(suite) {
        Arc::new(KubeEchoTraffic::new(client.clone()))
    } else {
        Arc::new(KubeTraffic::new(client.clone()))
    };
    let mut builder = Runner::with_backends(Arc::new(KubeCluster::new(client)), traffic)
        .implementation(implementation)
        .timeouts(timeouts)
        .mode(format!("cluster: {context}"));
    if !args.profiles.is_empty() {
        builder = builder.profiles(args.profiles.iter().copied());
    }
    if let Some(prefix) = &args.namespace_prefix {
        builder = builder.namespace_prefix(prefix.as_str());
    }
    for (k, v) in &args.namespace_labels {
        builder = builder.namespace_label(k.as_str(), v.as_str());
    }
    for (k, v) in &args.namespace_annotations {
        builder = builder.namespace_annotation(k.as_str(), v.as_str());
    }
    let builder = smi_assert::conformance::register_upstream_checks(builder);
    super::run_suite(builder, suite).await
}

/// Without the `kube` feature: exit code 2 with the rebuild command.
#[cfg(not(feature = "kube"))]
pub(super) async fn run(_args: &Args, _suite: &Suite) -> Result<Report, Failure> {
    Err(Failure::Unusable(anyhow::anyhow!(
        "--cluster needs Kubernetes support, which this smps was built without; rebuild with \
         `--features kube`: cargo run --release -p examples --features kube --example smps -- \
         conformance --cluster"
    )))
}
