//! Against a real cluster (KUBECONFIG with an SMI mesh installed); see the README.

use super::*;

#[tokio::test]
#[ignore = "needs a cluster"]
async fn cluster_objects_round_trip_through_a_real_api_server() {
    let client = super::super::connect(None).await.unwrap();
    let cluster = KubeCluster::new(client);
    let ns = format!(
        "smi-assert-it-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    );
    let labels = BTreeMap::from([("smi-assert/test".to_string(), "roundtrip".to_string())]);
    cluster
        .create_namespace(&ns, &labels, &BTreeMap::new())
        .await
        .unwrap();
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "service-a", "labels": {"v": "1"}}});
    cluster.apply(&sa, &ns).await.unwrap();
    let mut sa2 = sa.clone();
    sa2["metadata"]["labels"] = json!({"w": "2"});
    let stored = cluster.apply(&sa2, &ns).await.unwrap();
    // Merge patch: both labels.
    assert_eq!(stored["metadata"]["labels"], json!({"v": "1", "w": "2"}));
    let r = ObjectRef::new("v1", "ServiceAccount", Some(ns.clone()), "service-a");
    assert!(cluster.get(&r).await.unwrap().is_some());
    assert!(cluster.delete(&r).await.unwrap());
    assert!(cluster.namespaces().await.unwrap().contains(&ns));
    assert!(cluster.delete_namespace(&ns).await.unwrap());
}

#[tokio::test]
#[ignore = "needs a cluster"]
async fn the_bundled_suite_runs_on_a_real_cluster_without_infrastructure_errors() {
    let client = super::super::connect(None).await.unwrap();
    let mut builder = crate::runner::Runner::with_backends(
        Arc::new(KubeCluster::new(client.clone())),
        Arc::new(KubeTraffic::new(client)),
    )
    .namespace_prefix("smi-assert-it-")
    // Deployments pull images; every request costs several API calls.
    .timeouts(crate::suite::Timeouts {
        assert: Some(crate::GoDuration::from_std(Duration::from_secs(180)).unwrap()),
        distribution: Some(crate::GoDuration::from_std(Duration::from_secs(600)).unwrap()),
        ..crate::suite::Timeouts::default()
    });
    // Sidecar injection of the mesh under test, e.g. `istio-injection=enabled`.
    for (var, label) in [
        ("SMI_ASSERT_NAMESPACE_LABELS", true),
        ("SMI_ASSERT_NAMESPACE_ANNOTATIONS", false),
    ] {
        let value = std::env::var(var).unwrap_or_default();
        for (k, v) in value.split(',').filter_map(|kv| kv.split_once('=')) {
            builder = if label {
                builder.namespace_label(k, v)
            } else {
                builder.namespace_annotation(k, v)
            };
        }
    }
    let runner = builder.build().unwrap();
    let suite = crate::conformance::suite().unwrap();
    let report = runner.run(&suite).await.unwrap();
    let stats = report.statistics();
    assert_eq!(stats.errors, 0, "{}", report.summary());
}

/// The GAMMA suite through exec into the echo pods (a cluster with a mesh and the Gateway API
/// standard-channel CRDs installed; the echo-advanced image pullable); see the README.
#[tokio::test]
#[ignore = "needs a cluster"]
async fn the_gamma_suite_runs_on_a_real_cluster_without_infrastructure_errors() {
    let client = super::super::connect(None).await.unwrap();
    let mut builder = crate::runner::Runner::with_backends(
        Arc::new(KubeCluster::new(client.clone())),
        Arc::new(crate::backend::kube::KubeEchoTraffic::new(client)),
    )
    .namespace_prefix("smi-assert-it-")
    .implementation(
        crate::features::Implementation::new("test", "mesh", "0")
            .supports_all_extended(&crate::features::Profile::GAMMA),
    )
    .timeouts(crate::suite::Timeouts {
        assert: Some(crate::GoDuration::from_std(Duration::from_secs(180)).unwrap()),
        distribution: Some(crate::GoDuration::from_std(Duration::from_secs(600)).unwrap()),
        ..crate::suite::Timeouts::default()
    });
    let labels = std::env::var("SMI_ASSERT_NAMESPACE_LABELS").unwrap_or_default();
    for (k, v) in labels.split(',').filter_map(|kv| kv.split_once('=')) {
        builder = builder.namespace_label(k, v);
    }
    let annotations = std::env::var("SMI_ASSERT_NAMESPACE_ANNOTATIONS").unwrap_or_default();
    for (k, v) in annotations.split(',').filter_map(|kv| kv.split_once('=')) {
        builder = builder.namespace_annotation(k, v);
    }
    let report = builder
        .build()
        .unwrap()
        .run(&crate::gamma_suite::suite().unwrap())
        .await
        .unwrap();
    assert_eq!(report.statistics().errors, 0, "{}", report.summary());
}
