//! [`KubeCluster`](super::KubeCluster) against the fake API server.

use super::fake::*;
use super::*;

fn tt(name: &str) -> Value {
    json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget",
           "metadata": {"name": name},
           "spec": {"destination": {"kind": "ServiceAccount", "name": "service-b"},
                    "sources": [{"kind": "ServiceAccount", "name": "service-a"}],
                    "rules": [{"kind": "TCPRoute", "name": "all"}]}})
}

fn tt_ref(ns: &str, name: &str) -> ObjectRef {
    ObjectRef::new(
        "access.smi-spec.io/v1alpha3",
        "TrafficTarget",
        Some(ns.into()),
        name,
    )
}

#[tokio::test]
async fn apply_creates_namespaced_objects_with_the_smi_assert_field_manager() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let stored = cluster.apply(&tt("t1"), "test-ns").await.unwrap();
    assert_eq!(stored["metadata"]["namespace"], "test-ns");
    assert_eq!(stored["apiVersion"], "access.smi-spec.io/v1alpha3");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("GET", "/apis/access.smi-spec.io/v1alpha3")
    );
    let post = &reqs[1];
    assert_eq!(post.method, "POST");
    assert_eq!(
        post.path,
        "/apis/access.smi-spec.io/v1alpha3/namespaces/test-ns/traffictargets"
    );
    assert_eq!(
        post.query.get("fieldManager").map(String::as_str),
        Some(FIELD_MANAGER)
    );
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(post.body["metadata"]["namespace"], "test-ns");
    assert_eq!(post.body["spec"]["destination"]["name"], "service-b");
    assert!(
        fake.object("/apis/access.smi-spec.io/v1alpha3/namespaces/test-ns/traffictargets/t1")
            .is_some()
    );
}

#[tokio::test]
async fn applying_an_existing_object_sends_a_json_merge_patch_and_discovery_is_cached() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    cluster.apply(&tt("t1"), "ns").await.unwrap();
    fake.clear_requests();
    let mut changed = tt("t1");
    changed["spec"]["sources"] = json!([{"kind": "ServiceAccount", "name": "service-c"}]);
    let stored = cluster.apply(&changed, "ns").await.unwrap();
    assert_eq!(stored["spec"]["sources"][0]["name"], "service-c");
    let reqs = fake.requests();
    let shape: Vec<(&str, &str)> = reqs
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            (
                "POST",
                "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets"
            ),
            (
                "PATCH",
                "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets/t1"
            ),
        ]
    );
    let patch = &reqs[1];
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(
        patch.query.get("fieldManager").map(String::as_str),
        Some(FIELD_MANAGER)
    );
    assert_eq!(patch.body["spec"]["sources"][0]["name"], "service-c");
    // Still one object (idempotent apply).
    assert_eq!(
        cluster
            .list("access.smi-spec.io/v1alpha3", "TrafficTarget", Some("ns"))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn kinds_the_server_does_not_serve_are_not_found_and_cannot_be_applied() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let old_crd = ObjectRef::new(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        None,
        "traffictargets.access.smi-spec.io",
    );
    assert_eq!(cluster.get(&old_crd).await.unwrap(), None);
    assert!(!cluster.delete(&old_crd).await.unwrap());
    let unknown_kind = ObjectRef::new("v1", "Gadget", Some("ns".into()), "g");
    assert_eq!(cluster.get(&unknown_kind).await.unwrap(), None);
    assert!(
        cluster
            .list("udp.example.io/v1", "Thing", None)
            .await
            .unwrap()
            .is_empty()
    );
    let err = cluster
        .apply(
            &json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "UDPRoute",
                    "metadata": {"name": "u"}}),
            "ns",
        )
        .await
        .unwrap_err();
    let Error::Apply {
        object,
        reason,
        source: None,
    } = &err
    else {
        panic!("{err:?}")
    };
    // The scope of an unserved kind is unknown, so the namespace is not named.
    assert_eq!(object, "UDPRoute u");
    assert!(reason.contains("does not serve kind UDPRoute"), "{reason}");
    // Only discovery requests were made.
    assert!(fake.requests().iter().all(|r| r.method == "GET"
        && (r.path.starts_with("/apis/") || r.path == "/api/v1")
        && r.path.matches('/').count() <= 3));
}

#[tokio::test]
async fn missing_objects_are_none_on_get_and_false_on_delete() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    assert_eq!(cluster.get(&tt_ref("ns", "nope")).await.unwrap(), None);
    assert!(!cluster.delete(&tt_ref("ns", "nope")).await.unwrap());
    cluster.apply(&tt("t1"), "ns").await.unwrap();
    let got = cluster.get(&tt_ref("ns", "t1")).await.unwrap().unwrap();
    assert_eq!(got["metadata"]["name"], "t1");
    fake.clear_requests();
    assert!(cluster.delete(&tt_ref("ns", "t1")).await.unwrap());
    let del = &fake.requests()[0];
    assert_eq!(del.method, "DELETE");
    assert_eq!(
        del.path,
        "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets/t1"
    );
    assert_eq!(del.body["propagationPolicy"], "Background");
    assert_eq!(cluster.get(&tt_ref("ns", "t1")).await.unwrap(), None);
}

#[tokio::test]
async fn list_items_get_their_api_version_and_kind_back() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    cluster.apply(&tt("t1"), "a").await.unwrap();
    cluster.apply(&tt("t2"), "b").await.unwrap();
    let in_a = cluster
        .list("access.smi-spec.io/v1alpha3", "TrafficTarget", Some("a"))
        .await
        .unwrap();
    assert_eq!(in_a.len(), 1);
    assert_eq!(in_a[0]["kind"], "TrafficTarget");
    assert_eq!(in_a[0]["apiVersion"], "access.smi-spec.io/v1alpha3");
    assert_eq!(in_a[0]["metadata"]["name"], "t1");
    let last = fake.requests().pop().unwrap();
    assert_eq!(
        last.path,
        "/apis/access.smi-spec.io/v1alpha3/namespaces/a/traffictargets"
    );
}

#[tokio::test]
async fn cluster_scoped_objects_are_applied_without_a_namespace() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                     "metadata": {"name": "things.example.io", "namespace": "ignored"},
                     "spec": {"group": "example.io"}});
    let stored = cluster.apply(&crd, "ns").await.unwrap();
    assert!(stored["metadata"].get("namespace").is_none(), "{stored}");
    let post = fake.requests().pop().unwrap();
    assert_eq!(
        post.path,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    );
    let got = cluster
        .get(&ObjectRef::new(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            Some("ns".into()),
            "things.example.io",
        ))
        .await
        .unwrap();
    assert_eq!(got.unwrap()["spec"]["group"], "example.io");
}

#[tokio::test]
async fn server_errors_name_the_object_and_the_servers_answer() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    cluster.apply(&tt("t1"), "ns").await.unwrap();
    let obj = "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets/t1";
    let boom = status_body(500, "InternalError", "etcd is on fire");
    fake.set_override("GET", obj, 500, boom.clone(), Duration::ZERO);
    fake.set_override("DELETE", obj, 500, boom.clone(), Duration::ZERO);
    // The message names the object and the failed step; the server's answer is the source.
    let err = cluster.get(&tt_ref("ns", "t1")).await.unwrap_err();
    assert!(matches!(&err, Error::ReadObject { .. }), "{err:?}");
    assert_eq!(err.to_string(), "failed to read TrafficTarget ns/t1: get");
    let cause = api_cause(&err);
    assert_eq!(cause.code(), Some(500));
    assert_eq!(cause.to_string(), "HTTP 500 InternalError: etcd is on fire");
    assert!(std::error::Error::source(cause).is_none());
    let err = cluster.delete(&tt_ref("ns", "t1")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Delete { object, reason, .. } if object == "TrafficTarget ns/t1" && reason == "delete"),
        "{err:?}"
    );
    assert_eq!(
        api_cause(&err).to_string(),
        "HTTP 500 InternalError: etcd is on fire"
    );
    // The report's one-line form keeps the server's answer.
    assert_eq!(
        crate::error::chain(&err),
        "failed to delete TrafficTarget ns/t1: delete: HTTP 500 InternalError: etcd is on fire"
    );
    // A conflict other than AlreadyExists is an error, not a patch.
    let coll = "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets";
    fake.set_override(
        "POST",
        coll,
        409,
        status_body(409, "Conflict", "the object has been modified"),
        Duration::ZERO,
    );
    let err = cluster.apply(&tt("t2"), "ns").await.unwrap_err();
    assert!(matches!(&err, Error::Apply { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "failed to apply TrafficTarget ns/t2: create"
    );
    assert_eq!(
        api_cause(&err).to_string(),
        "HTTP 409 Conflict: the object has been modified"
    );
    fake.set_override("GET", coll, 500, boom.clone(), Duration::ZERO);
    let err = cluster
        .list("access.smi-spec.io/v1alpha3", "TrafficTarget", Some("ns"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ReadObject { object, reason, .. } if object == "TrafficTarget list in ns" && reason == "list"),
        "{err:?}"
    );
    assert_eq!(api_cause(&err).code(), Some(500));
    // Discovery failing is an error too (not "not found").
    fake.set_override("GET", "/apis/apps/v1", 500, boom, Duration::ZERO);
    let err = cluster
        .get(&ObjectRef::new(
            "apps/v1",
            "Deployment",
            Some("ns".into()),
            "d",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ReadObject { reason, .. } if reason == "cannot discover Deployment in apps/v1"),
        "{err:?}"
    );
    assert_eq!(api_cause(&err).code(), Some(500));
}

#[tokio::test]
async fn traffic_metrics_are_read_from_the_metrics_api_paths_and_never_written() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let tm = json!({"kind": "TrafficMetrics", "apiVersion": "metrics.smi-spec.io/v1alpha1",
                    "resource": {"kind": "Deployment", "namespace": "t", "name": "app-b"},
                    "edge": {"direction": "from", "resource": {}},
                    "metrics": [{"name": "success_count", "value": "3"}]});
    let edges = json!({"kind": "TrafficMetricsList", "apiVersion": "metrics.smi-spec.io/v1alpha1",
                       "items": [tm.clone()]});
    let base = "/apis/metrics.smi-spec.io/v1alpha1";
    fake.set_override(
        "GET",
        &format!("{base}/namespaces/t/deployments/app-b"),
        200,
        tm.clone(),
        Duration::ZERO,
    );
    fake.set_override(
        "GET",
        &format!("{base}/namespaces/t/deployments/app-b/edges"),
        200,
        edges.clone(),
        Duration::ZERO,
    );
    fake.set_override(
        "GET",
        &format!("{base}/namespaces/t/pods"),
        200,
        edges,
        Duration::ZERO,
    );
    fake.set_override(
        "GET",
        &format!("{base}/namespaces/t"),
        200,
        tm.clone(),
        Duration::ZERO,
    );
    let m = |kind: &str, ns: Option<&str>, name: &str| {
        ObjectRef::new(
            "metrics.smi-spec.io/v1alpha1",
            kind,
            ns.map(String::from),
            name,
        )
    };
    assert_eq!(
        cluster
            .get(&m("Deployment", Some("t"), "app-b"))
            .await
            .unwrap(),
        Some(tm.clone())
    );
    let e = cluster
        .get(&m("Deployment", Some("t"), "app-b/edges"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e["kind"], "TrafficMetricsList");
    // Namespaces are cluster-scoped: the namespace of the reference is not in the path.
    assert_eq!(
        cluster.get(&m("Namespace", Some("x"), "t")).await.unwrap(),
        Some(tm.clone())
    );
    assert_eq!(
        cluster.get(&m("Pod", Some("t"), "gone")).await.unwrap(),
        None
    );
    let items = cluster
        .list("metrics.smi-spec.io/v1alpha1", "Pod", Some("t"))
        .await
        .unwrap();
    assert_eq!(items, vec![tm]);
    let paths: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            format!("{base}/namespaces/t/deployments/app-b"),
            format!("{base}/namespaces/t/deployments/app-b/edges"),
            format!("{base}/namespaces/t"),
            format!("{base}/namespaces/t/pods/gone"),
            format!("{base}/namespaces/t/pods"),
        ]
    );
    let err = cluster
        .apply(
            &json!({"apiVersion": "metrics.smi-spec.io/v1alpha1", "kind": "TrafficMetrics",
                                    "metadata": {"name": "x"}}),
            "t",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Apply { reason, .. } if reason.contains("read-only")),
        "{err:?}"
    );
    let err = cluster.delete(&m("Pod", Some("t"), "p")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Delete { reason, .. } if reason.contains("read-only")),
        "{err:?}"
    );
    assert_eq!(
        fake.requests().len(),
        5,
        "nothing was sent for apply or delete"
    );
}

#[tokio::test]
async fn namespaces_are_created_with_labels_and_annotations_idempotently() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    let labels = BTreeMap::from([("istio-injection".to_string(), "enabled".to_string())]);
    let annotations = BTreeMap::from([("linkerd.io/inject".to_string(), "enabled".to_string())]);
    cluster
        .create_namespace("smi-x", &labels, &annotations)
        .await
        .unwrap();
    let post = fake.requests().pop().unwrap();
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", "/api/v1/namespaces")
    );
    assert_eq!(
        post.body["metadata"]["labels"]["istio-injection"],
        "enabled"
    );
    assert_eq!(
        post.body["metadata"]["annotations"]["linkerd.io/inject"],
        "enabled"
    );
    // Again with the same labels: nothing to patch.
    fake.clear_requests();
    cluster
        .create_namespace("smi-x", &labels, &annotations)
        .await
        .unwrap();
    let methods: Vec<String> = fake.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "GET"]);
    // An existing namespace without the injection label gets it merged in.
    fake.put(
        "/api/v1/namespaces/old",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "old", "labels": {"team": "a"}},
               "status": {"phase": "Active"}}),
    );
    fake.clear_requests();
    cluster
        .create_namespace("old", &labels, &BTreeMap::new())
        .await
        .unwrap();
    let patch = fake.requests().pop().unwrap();
    assert_eq!(
        (patch.method.as_str(), patch.path.as_str()),
        ("PATCH", "/api/v1/namespaces/old")
    );
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    let stored = fake.object("/api/v1/namespaces/old").unwrap();
    assert_eq!(
        stored["metadata"]["labels"],
        json!({"team": "a", "istio-injection": "enabled"})
    );
    let mut names = cluster.namespaces().await.unwrap();
    names.sort();
    assert_eq!(names, ["old", "smi-x"]);
}

#[tokio::test]
async fn a_namespace_still_terminating_cannot_be_created_again() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    fake.put(
        "/api/v1/namespaces/smi-old",
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "smi-old", "deletionTimestamp": "2024-05-01T10:00:00Z"},
               "status": {"phase": "Terminating"}}),
    );
    let err = cluster
        .create_namespace("smi-old", &BTreeMap::new(), &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Namespace { namespace, reason, source: None } if namespace == "smi-old" && reason.contains("being deleted")),
        "{err:?}"
    );
}

#[tokio::test]
async fn delete_namespace_reports_whether_it_existed() {
    let fake = Fake::start().await;
    let cluster = KubeCluster::new(fake.client());
    cluster
        .create_namespace("gone", &BTreeMap::new(), &BTreeMap::new())
        .await
        .unwrap();
    assert!(cluster.delete_namespace("gone").await.unwrap());
    let del = fake.requests().pop().unwrap();
    assert_eq!(
        (del.method.as_str(), del.path.as_str()),
        ("DELETE", "/api/v1/namespaces/gone")
    );
    assert!(!cluster.delete_namespace("gone").await.unwrap());
    fake.set_override(
        "DELETE",
        "/api/v1/namespaces/kube-system",
        403,
        status_body(403, "Forbidden", "namespaces \"kube-system\" is forbidden"),
        Duration::ZERO,
    );
    let err = cluster.delete_namespace("kube-system").await.unwrap_err();
    assert!(matches!(&err, Error::Namespace { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "failed to manage namespace kube-system: delete"
    );
    let cause = api_cause(&err);
    assert_eq!(cause.code(), Some(403));
    assert_eq!(
        cause.to_string(),
        "HTTP 403 Forbidden: namespaces \"kube-system\" is forbidden"
    );
}

#[tokio::test]
async fn an_unreachable_api_server_is_an_error_not_a_missing_object() {
    // Bind and drop a listener: nothing listens on that port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    let cluster = KubeCluster::new(Client::try_from(config).unwrap());
    let err = cluster.get(&tt_ref("ns", "t1")).await.unwrap_err();
    let Error::ReadObject { object, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(object, "TrafficTarget ns/t1");
    // The transport problem is in the source chain, not the message.
    assert!(!err.to_string().contains("refused"), "{err}");
    let cause = api_cause(&err);
    assert_eq!(cause.code(), None);
    assert_eq!(cause.to_string(), "cannot talk to the API server");
    let mut client_errors = Vec::new();
    let mut cur = std::error::Error::source(cause);
    while let Some(e) = cur {
        client_errors.push(e.to_string());
        cur = e.source();
    }
    assert!(
        client_errors
            .iter()
            .any(|t| t.to_lowercase().contains("refused")),
        "{client_errors:?}"
    );
}

#[tokio::test]
async fn no_error_quotes_the_bearer_token_the_client_sends() {
    const TOKEN: &str = "s3cr3t-bearer-token";
    let fake = Fake::start().await;
    let mut config = Config::new(format!("http://{}", fake.addr).parse().unwrap());
    config.auth_info.token = Some(TOKEN.to_string().into());
    let cluster = KubeCluster::new(Client::try_from(config).unwrap());
    cluster.apply(&tt("t1"), "ns").await.unwrap();
    let obj = "/apis/access.smi-spec.io/v1alpha3/namespaces/ns/traffictargets/t1";
    fake.set_override(
        "GET",
        obj,
        401,
        status_body(401, "Unauthorized", "Unauthorized"),
        Duration::ZERO,
    );
    let err = cluster.get(&tt_ref("ns", "t1")).await.unwrap_err();
    assert_eq!(err.to_string(), "failed to read TrafficTarget ns/t1: get");
    assert_eq!(api_cause(&err).code(), Some(401));
    assert_eq!(
        api_cause(&err).to_string(),
        "HTTP 401 Unauthorized: Unauthorized"
    );
    // The token was in play: the client sent it with the failed request.
    let sent = fake.requests();
    let get = sent
        .iter()
        .rfind(|r| r.method == "GET" && r.path == obj)
        .expect("the GET reached the server");
    assert_eq!(
        get.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_not_quoted(&err, TOKEN);
}

// The plugin is a `sh` script.
#[cfg(unix)]
#[tokio::test]
async fn a_failed_credential_plugin_is_an_auth_error_that_quotes_no_credential() {
    let fake = Fake::start().await;
    let dir = std::env::temp_dir().join(format!(
        "smi-assert-exec-{}-{}",
        std::process::id(),
        fake.addr.port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("ran");
    // The first run (when the client is built) hands out a token that has expired, so the first
    // request runs the plugin again; that run prints a credential and fails. Its command line
    // (the script), its environment and its output each hold a secret.
    let script = format!(
        r#"if [ -e '{m}' ]; then echo '{{"token":"s3cr3t-output"}}'; echo 's3cr3t-stderr' >&2; exit 3; fi
touch '{m}'
echo '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"s3cr3t-first","expirationTimestamp":"2000-01-01T00:00:00Z"}}}}'
# s3cr3t-script"#,
        m = marker.display()
    );
    let mut config = Config::new(format!("http://{}", fake.addr).parse().unwrap());
    config.auth_info.exec = Some(::kube::config::ExecConfig {
        api_version: Some("client.authentication.k8s.io/v1".into()),
        command: Some("sh".into()),
        args: Some(vec!["-c".into(), script]),
        env: Some(vec![
            [
                ("name".to_string(), "PLUGIN_KEY".to_string()),
                ("value".to_string(), "s3cr3t-env".to_string()),
            ]
            .into_iter()
            .collect(),
        ]),
        interactive_mode: Some(::kube::config::ExecInteractiveMode::Never),
        ..Default::default()
    });
    let client = Client::try_from(config).unwrap();
    let err = KubeCluster::new(client)
        .get(&tt_ref("ns", "t1"))
        .await
        .unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(&err, Error::ReadObject { .. }), "{err:?}");
    let cause = api_cause(&err);
    assert_eq!(cause.code(), None);
    assert_eq!(cause.to_string(), "cannot authenticate to the API server");
    let plugin = std::error::Error::source(cause)
        .expect("what failed")
        .to_string();
    assert!(
        plugin.starts_with("the credential plugin (exec) failed with exit status: 3;"),
        "{plugin}"
    );
    assert_not_quoted(&err, "s3cr3t");
    // Nothing was sent without credentials.
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}
