//! read(write(x)) == x for every type, dialect and format.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

use smps_model::{
    ApplicationMetadata, ApplicationProtocol, Body, Client, Dialect, Document, EnvironmentConfig,
    Format, GoDuration, IndividualWorkload, Latency, MeshControlPlane, MeshPolicy, MeshTelemetry,
    MeshType, Node, PerformanceTestConfig, PerformanceTestResult, Protocol, ProxyResources,
    ReadOptions, ServiceMesh, ServiceMeshConfig, TestConfig, Timestamp, TrafficMetadata, read,
    write,
};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._:/-]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(10).collect()),
        Just("true".to_owned()),
        Just("1.0".to_owned()),
        Just("null".to_owned()),
        Just("~".to_owned()),
        Just("0x10".to_owned()),
        Just("- a".to_owned()),
    ]
}

fn map() -> impl Strategy<Value = std::collections::BTreeMap<String, String>> {
    btree_map(text(), text(), 0..3)
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        -1e9f64..1e9,
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
    ]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000_000)
        .prop_map(|(s, n)| Timestamp::from_unix(s, n).unwrap())
}

fn protocol() -> impl Strategy<Value = Protocol> {
    proptest::sample::select(Protocol::ALL)
}

prop_compose! {
    fn client()(internal in any::<bool>(), load_generator in text(), protocol in protocol(),
        connections in any::<i32>(), rps in any::<i64>(), headers in map(), cookies in map(),
        body in text(), content_type in text(), endpoint_urls in vec(text(), 0..3),
        ssl_certificate in text(), additional_options in text()) -> Client {
        let mut c = Client::default();
        c.internal = internal; c.load_generator = load_generator; c.protocol = protocol;
        c.connections = connections; c.rps = rps; c.headers = headers; c.cookies = cookies;
        c.body = body; c.content_type = content_type; c.endpoint_urls = endpoint_urls;
        c.ssl_certificate = ssl_certificate; c.additional_options = additional_options;
        c
    }
}

prop_compose! {
    fn service_mesh()(t in proptest::sample::select(MeshType::ALL), version in text(),
        labels in map(), annotations in map()) -> ServiceMesh {
        let mut m = ServiceMesh::new(t);
        m.version = version; m.labels = labels; m.annotations = annotations;
        m
    }
}

prop_compose! {
    fn config()(smp_version in text(), id in text(), name in text(), labels in map(),
        clients in vec(client(), 0..3), duration in option::of(any::<i64>())) -> PerformanceTestConfig {
        let mut c = PerformanceTestConfig::default();
        c.smp_version = smp_version; c.id = id; c.name = name; c.labels = labels;
        c.clients = clients; c.duration = duration.map(GoDuration::from_nanos);
        c
    }
}

prop_compose! {
    fn latency()(v in [finite(), finite(), finite(), finite(), finite(), finite()]) -> Latency {
        let mut l = Latency::default();
        l.min = v[0]; l.average = v[1]; l.p50 = v[2]; l.p90 = v[3]; l.p99 = v[4]; l.max = v[5];
        l
    }
}

prop_compose! {
    fn result()(smp_version in text(), id in text(), labels in map(),
        start in option::of(timestamp()), end in option::of(timestamp()),
        latencies in option::of(latency()), qps in finite(), ids in [text(), text(), text(), text()])
        -> PerformanceTestResult {
        let mut r = PerformanceTestResult::default();
        r.smp_version = smp_version; r.id = id; r.labels = labels; r.start_time = start;
        r.end_time = end; r.latencies_ms = latencies; r.actual_qps = qps;
        r.details_uri = ids[0].clone(); r.test_id = ids[1].clone();
        r.mesh_config_id = ids[2].clone(); r.env_id = ids[3].clone();
        r
    }
}

prop_compose! {
    fn proxy()(v in [any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>()]) -> ProxyResources {
        let mut p = ProxyResources::default();
        p.count = v[0]; p.cpu_mcores = v[1]; p.mem_mb = v[2]; p.rps = v[3]; p.bps = v[4];
        p
    }
}

prop_compose! {
    fn mesh_config()(smp_version in text(), id in text(), labels in map(),
        ingress in option::of(proxy()), sidecar in option::of(proxy()),
        ints in [any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>()],
        flags in [any::<bool>(), any::<bool>(), any::<bool>()],
        strings in [text(), text(), text(), text(), text()],
        mesh in option::of(service_mesh()),
        app in option::of((text(), text(), proptest::sample::select(ApplicationProtocol::ALL))),
        present in [any::<bool>(), any::<bool>(), any::<bool>()]) -> ServiceMeshConfig {
        let mut m = ServiceMeshConfig::default();
        m.smp_version = smp_version; m.id = id; m.labels = labels;
        m.ingress_gateway = ingress; m.sidecar = sidecar;
        if present[0] {
            let mut t = MeshTelemetry::default();
            t.count = ints[0]; t.cpu_mcores = ints[1]; t.mem_mb = ints[2]; t.rps = ints[3];
            m.mesh_telemetry = Some(t);
        }
        if present[1] {
            let mut p = MeshPolicy::default();
            p.count = ints[4]; p.cache_hit_rate = ints[5];
            m.mesh_policy = Some(p);
        }
        if present[2] {
            let mut c = MeshControlPlane::default();
            c.count = ints[6]; c.virtual_services = ints[7]; c.lds_latency_ms = ints[8];
            c.cds_latency_ms = ints[9];
            m.mesh_control_plane = Some(c);
        }
        m.mesh_policy_enabled = flags[0]; m.mesh_telemetry_enabled = flags[1];
        m.mtls_enabled = flags[2]; m.proxy_concurrency = ints[0];
        m.mesh_build = strings[0].clone(); m.proxy_build = strings[1].clone();
        m.exp_group_uuid = strings[2].clone(); m.exp_uuid = strings[3].clone();
        m.profile = strings[4].clone(); m.mesh_type = mesh;
        m.application_metadata = app.map(|(name, k8s, proto)| {
            let mut a = ApplicationMetadata::default();
            a.application_name = name; a.k8s_version_supported = k8s;
            a.application_protocol = proto;
            a
        });
        m
    }
}

prop_compose! {
    fn environment()(smp_version in text(), id in text(), labels in map(), k8s in text(),
        nodes in vec((text(), any::<i32>(), any::<i64>()), 0..3),
        workloads in vec((text(), any::<i32>(), any::<i32>(), any::<i32>()), 0..3),
        traffic in option::of([text(), text(), text(), text(), text(), text(), text()]))
        -> EnvironmentConfig {
        let mut e = EnvironmentConfig::default();
        e.smp_version = smp_version; e.id = id; e.labels = labels; e.kubernetes_version = k8s;
        e.nodes = nodes.into_iter().map(|(t, c, m)| {
            let mut n = Node::default(); n.node_type = t; n.cores = c; n.mem_mb = m; n
        }).collect();
        e.individual_workloads = workloads.into_iter().map(|(name, count, cpu, mem)| {
            let mut w = IndividualWorkload::default();
            w.name = name; w.count = count; w.cpu_mcores = cpu; w.mem_mb = mem; w
        }).collect();
        e.traffic_metadata = traffic.map(|t| {
            let mut m = TrafficMetadata::default();
            m.load_balance_name = t[0].clone(); m.load_balance_ip = t[1].clone();
            m.host_endpoint = t[2].clone(); m.prometheus_url = t[3].clone();
            m.http_headers = t[4].clone(); m.user_agent = t[5].clone();
            m.ping_health_endpoint = t[6].clone();
            m
        });
        e
    }
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (config(), option::of(service_mesh())).prop_map(|(c, m)| {
            let mut t = TestConfig::new(c);
            t.mesh = m;
            Body::TestConfig(t)
        }),
        result().prop_map(Body::TestResult),
        mesh_config().prop_map(Body::MeshConfig),
        environment().prop_map(Body::Environment),
        service_mesh().prop_map(Body::ServiceMesh),
    ]
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![Just(Dialect::Canonical), Just(Dialect::Meshery)]
}

fn format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::Json), Just(Format::Yaml)]
}

/// The strategies' value trees are deep; run on a thread with room for them in debug builds.
#[test]
fn every_document_reads_back_equal() {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut runner =
                proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(512));
            runner
                .run(&(body(), dialect(), format()), |(body, dialect, format)| {
                    let doc = Document::new(body);
                    let text = write(&doc, dialect, format).unwrap();
                    let options = ReadOptions::default().with_kind(doc.kind());
                    let back = read(&text, &options).unwrap_or_else(|e| panic!("{e}\n{text}"));
                    prop_assert_eq!(&back.body, &doc.body, "{}", text);
                    prop_assert!(
                        back.unknown_fields().is_empty(),
                        "{:?}",
                        back.unknown_fields()
                    );
                    Ok(())
                })
                .unwrap();
        })
        .unwrap()
        .join()
        .unwrap();
}

proptest! {

    #[test]
    fn reading_arbitrary_text_never_panics(text in any::<String>()) {
        let _ = read(&text, &ReadOptions::default());
    }
}

#[test]
fn non_finite_doubles_round_trip_as_proto3_strings() {
    let mut r = PerformanceTestResult::default();
    r.actual_qps = f64::NAN;
    let mut l = Latency::default();
    l.max = f64::INFINITY;
    l.min = f64::NEG_INFINITY;
    r.latencies_ms = Some(l);
    for format in [Format::Json, Format::Yaml] {
        let text = smps_model::write_value(&r, Dialect::Canonical, format).unwrap();
        assert!(text.contains("NaN") && text.contains("-Infinity"), "{text}");
        let back: PerformanceTestResult =
            smps_model::read_as(&text, &ReadOptions::default()).unwrap();
        assert!(back.actual_qps.is_nan());
        assert_eq!(back.latencies_ms.unwrap().max, f64::INFINITY);
        assert_eq!(back.latencies_ms.unwrap().min, f64::NEG_INFINITY);
    }
}
