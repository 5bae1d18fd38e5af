//! The synthetic cases of smps-formats.md §9 (10–22) and the reader's error contract.

use smps_model::{
    Dialect, EnvironmentConfig, Error, Format, Kind, MeshType, Origin, PerformanceTestConfig,
    PerformanceTestResult, Protocol, ReadOptions, ServiceMesh, ServiceMeshConfig, labels, read,
    read_all, read_as, write,
};

use crate::close;

fn opts() -> ReadOptions {
    ReadOptions::default()
}

fn config(text: &str) -> PerformanceTestConfig {
    read_as::<PerformanceTestConfig>(text, &opts()).unwrap()
}

fn config_err(text: &str) -> Error {
    read_as::<PerformanceTestConfig>(text, &opts()).unwrap_err()
}

// 10. Same config in snake_case, lowerCamelCase and mixed → equal values.
#[test]
fn snake_camel_and_mixed_keys_give_equal_configs() {
    let snake = r#"{"smp_version":"v1","clients":[{"load_generator":"fortio","content_type":"text/plain",
        "endpoint_urls":["http://a/"],"ssl_certificate":"pem","additional_options":"-x"}],"duration":"5s"}"#;
    let camel = r#"{"smpVersion":"v1","clients":[{"loadGenerator":"fortio","contentType":"text/plain",
        "endpointUrls":["http://a/"],"sslCertificate":"pem","additionalOptions":"-x"}],"duration":"5s"}"#;
    let mixed = r#"{"smp_version":"v1","clients":[{"loadGenerator":"fortio","content_type":"text/plain",
        "endpointUrls":["http://a/"],"ssl_certificate":"pem","additionalOptions":"-x"}],"duration":"5s"}"#;
    let a = config(snake);
    assert_eq!(a, config(camel));
    assert_eq!(a, config(mixed));
    assert_eq!(a.clients[0].ssl_certificate, "pem");
    assert_eq!(a.clients[0].additional_options, "-x");
}

#[test]
fn legacy_key_spellings_are_read() {
    let c = config("smpsVersion: 'v0.1'\nclients:\n- endpointUrl: http://x/\n  protocol: http\n");
    assert_eq!(c.smp_version, "v0.1");
    assert_eq!(c.clients[0].endpoint_urls, ["http://x/"]);
    let c = config("smps_version: smps/v0.1.0\nclients: []\n");
    assert_eq!(c.smp_version, "smps/v0.1.0");
    let m: ServiceMeshConfig = read_as(
        "ingress_gateway: {count: 5, cpu_mCores: 2010, mem_mb: 350}",
        &opts(),
    )
    .unwrap();
    assert_eq!(m.ingress_gateway.unwrap().cpu_mcores, 2010);
}

// 11. protocol spellings, unknown values, legacy numbering.
#[test]
fn protocol_reads_numbers_names_and_numeric_strings() {
    for p in ["1", "\"1\"", "\"PROTOCOL_HTTP\"", "\"http\"", "\"HTTP\""] {
        let c = config(&format!(r#"{{"clients":[{{"protocol":{p}}}]}}"#));
        assert_eq!(c.clients[0].protocol, Protocol::Http, "{p}");
    }
    assert_eq!(
        config(r#"{"clients":[{"protocol":0}]}"#).clients[0].protocol,
        Protocol::Invalid
    );
    let err = config_err(r#"{"clients":[{"protocol":99}]}"#);
    assert_eq!(err.pointer(), Some("/clients/0/protocol"), "{err}");
    let text = err.to_string();
    assert!(text.contains("unknown Protocol value `99`"), "{text}");
    assert!(text.contains("PROTOCOL_HTTP (1)"), "{text}");
}

#[test]
fn legacy_numbering_is_an_explicit_option() {
    let legacy = opts().with_legacy_enum_numbers(true);
    let doc = read(
        "test: {clients: [{protocol: 1}]}\nmesh: {type: 2}\n",
        &legacy,
    )
    .unwrap();
    let t = doc.as_test_config().unwrap();
    assert_eq!(t.config.clients[0].protocol, Protocol::Tcp);
    assert_eq!(t.mesh.as_ref().unwrap().mesh_type, MeshType::Istio);
    // Names are not renumbered.
    let doc = read(
        "test: {clients: [{protocol: http}]}\nmesh: {type: ISTIO}\n",
        &legacy,
    )
    .unwrap();
    assert_eq!(
        doc.as_test_config().unwrap().config.clients[0].protocol,
        Protocol::Http
    );
    // Without the option the same numbers mean the current values.
    let doc = read(
        "test: {clients: [{protocol: 1}]}\nmesh: {type: 2}\n",
        &opts(),
    )
    .unwrap();
    let t = doc.as_test_config().unwrap();
    assert_eq!(t.config.clients[0].protocol, Protocol::Http);
    assert_eq!(t.mesh.as_ref().unwrap().mesh_type, MeshType::Consul);
    let err = read("test: {clients: [{protocol: 4}]}", &legacy).unwrap_err();
    assert_eq!(err.pointer(), Some("/test/clients/0/protocol"), "{err}");
}

// 12. mesh.type spellings.
#[test]
fn mesh_type_reads_numbers_names_and_history() {
    for t in ["3", "ISTIO", "istio"] {
        let m: ServiceMesh = read_as(&format!("type: {t}"), &opts()).unwrap();
        assert_eq!(m.mesh_type, MeshType::Istio, "{t}");
    }
    for t in ["TRAEFIK_MESH", "MAESH", "maesh"] {
        let m: ServiceMesh = read_as(&format!("type: {t}"), &opts()).unwrap();
        assert_eq!(m.mesh_type, MeshType::TraefikMesh, "{t}");
    }
    let doc = read("test: {clients: []}\nmesh: linkerd\n", &opts()).unwrap();
    assert_eq!(
        doc.as_test_config()
            .unwrap()
            .mesh
            .as_ref()
            .unwrap()
            .mesh_type,
        MeshType::Linkerd
    );
    let doc = read("test: {clients: []}\nmesh: my-own-mesh\n", &opts()).unwrap();
    let mesh = doc.as_test_config().unwrap().mesh.clone().unwrap();
    assert_eq!(mesh.mesh_type, MeshType::Invalid);
    assert_eq!(
        mesh.annotations[smps_model::MESH_NAME_ANNOTATION],
        "my-own-mesh"
    );
}

// 13. rps as int64.
#[test]
fn rps_reads_int64_in_every_form_and_rejects_overflow() {
    let rps = |v: &str| config(&format!(r#"{{"clients":[{{"rps":{v}}}]}}"#)).clients[0].rps;
    assert_eq!(rps("10"), 10);
    assert_eq!(rps("\"10\""), 10);
    assert_eq!(rps("10.0"), 10);
    assert_eq!(rps("-1"), -1);
    assert_eq!(rps("9223372036854775807"), i64::MAX);
    let err = config_err(r#"{"clients":[{"rps":"9223372036854775808"}]}"#);
    assert_eq!(err.pointer(), Some("/clients/0/rps"));
    assert!(err.to_string().contains("overflows"), "{err}");
    let err = config_err(r#"{"clients":[{"rps":9223372036854775808}]}"#);
    assert_eq!(err.pointer(), Some("/clients/0/rps"));
    let err = config_err(r#"{"clients":[{"connections":2.5}]}"#);
    assert_eq!(err.pointer(), Some("/clients/0/connections"));
}

// 14. durations.
#[test]
fn durations_parse_go_syntax_and_name_the_field_on_errors() {
    let d = |v: &str| {
        config(&format!("clients: []\nduration: {v}\n"))
            .duration
            .unwrap()
    };
    assert_eq!(d("30s").as_nanos(), 30_000_000_000);
    assert_eq!(d("\"30m\"").as_nanos(), 1_800_000_000_000);
    assert_eq!(d("1h30m").as_nanos(), 5_400_000_000_000);
    assert_eq!(d("500ms").as_nanos(), 500_000_000);
    assert_eq!(d("1.5h").as_nanos(), 5_400_000_000_000);
    assert_eq!(d("0s").as_nanos(), 0);
    assert_eq!(d("-5s").as_nanos(), -5_000_000_000);
    assert_eq!(d("10µs").as_nanos(), 10_000);
    for bad in ["30", "\"abc\""] {
        let err = config_err(&format!("clients: []\nduration: {bad}\n"));
        assert_eq!(err.pointer(), Some("/duration"), "{bad}: {err}");
    }
    assert!(
        config_err("clients: []\nduration: 30\n")
            .to_string()
            .contains("30s")
    );
    // Writing gives back the same spelling.
    let c = config("clients: []\nduration: 1h30m\n");
    let out = smps_model::write_value(&c, Dialect::Canonical, Format::Yaml).unwrap();
    assert!(out.contains("duration: 1h30m"), "{out}");
}

// 15. timestamps.
#[test]
fn timestamps_accept_offsets_and_fractions_and_write_utc() {
    let r = |v: &str| read_as::<PerformanceTestResult>(&format!("startTime: {v}"), &opts());
    for (input, utc) in [
        ("2020-03-17T14:53:05Z", "2020-03-17T14:53:05Z"),
        ("2020-03-17T20:23:05+05:30", "2020-03-17T14:53:05Z"),
        (
            "2020-03-17T14:53:05.123456789Z",
            "2020-03-17T14:53:05.123456789Z",
        ),
        ("'0001-01-01T00:00:00Z'", "0001-01-01T00:00:00Z"),
    ] {
        assert_eq!(
            r(input).unwrap().start_time.unwrap().to_string(),
            utc,
            "{input}"
        );
    }
    let err = r("yesterday").unwrap_err();
    assert_eq!(err.pointer(), Some("/startTime"));
}

// 16. canonical vs Meshery-compatible output.
#[test]
fn canonical_and_meshery_outputs_differ_as_specified() {
    let doc = read(
        "test:\n  smp_version: v0.0.1\n  clients:\n  - protocol: 1\n    rps: 10\n    connections: 2\n    headers: {X-Trace_Id: a}\n  duration: 60s\nmesh:\n  type: 3\n",
        &opts(),
    )
    .unwrap();
    let canonical: serde_json::Value =
        serde_json::from_str(&write(&doc, Dialect::Canonical, Format::Json).unwrap()).unwrap();
    assert_eq!(
        canonical,
        serde_json::json!({
            "test": {"smpVersion": "v0.0.1", "clients": [{"protocol": "PROTOCOL_HTTP", "connections": 2,
                "rps": "10", "headers": {"X-Trace_Id": "a"}}], "duration": "60s"},
            "mesh": {"type": "ISTIO"}
        })
    );
    let meshery: serde_json::Value =
        serde_json::from_str(&write(&doc, Dialect::Meshery, Format::Json).unwrap()).unwrap();
    assert_eq!(
        meshery,
        serde_json::json!({
            "test": {"smp_version": "v0.0.1", "clients": [{"protocol": 1, "connections": 2,
                "rps": 10, "headers": {"X-Trace_Id": "a"}}], "duration": "60s"},
            "mesh": {"type": 3}
        })
    );
    // A flat config with no mesh stays flat in canonical form, wrapped for Meshery.
    let flat = read("clients: [{rps: 1}]", &opts()).unwrap();
    let c: serde_json::Value =
        serde_json::from_str(&write(&flat, Dialect::Canonical, Format::Json).unwrap()).unwrap();
    assert_eq!(c, serde_json::json!({"clients": [{"rps": "1"}]}));
    let m: serde_json::Value =
        serde_json::from_str(&write(&flat, Dialect::Meshery, Format::Json).unwrap()).unwrap();
    assert_eq!(m, serde_json::json!({"test": {"clients": [{"rps": 1}]}}));
}

#[test]
fn meshery_output_matches_the_action_corpus_file() {
    let text = crate::fixture("upstream/smp-action-test-config-2021.yaml");
    let doc = read(&text, &opts()).unwrap();
    let ours: serde_json::Value =
        serde_json::from_str(&write(&doc, Dialect::Meshery, Format::Json).unwrap()).unwrap();
    // The corpus file with its default-valued fields dropped, as proto3 writers do.
    let expected = serde_json::json!({
        "test": {"smp_version": "v0.0.1", "name": "istio-test",
            "clients": [{"load_generator": "fortio", "protocol": 1, "connections": 2, "rps": 5,
                "endpoint_urls": ["https://meshery.io"]}],
            "duration": "6s"},
        "mesh": {"type": 3}
    });
    assert_eq!(ours, expected);
}

#[test]
fn environment_int64_and_mesh_config_enums_use_the_dialect_forms() {
    let env: EnvironmentConfig = read_as(
        "kubernetes_version: v1.29.0\nnodes: [{type: n1, cores: 8, mem_mb: '32768'}]\nlabels: {zöne: ëu}",
        &opts(),
    )
    .unwrap();
    assert_eq!(env.nodes[0].mem_mb, 32768);
    assert_eq!(env.labels["zöne"], "ëu");
    let doc = smps_model::Document::new(smps_model::Body::Environment(env));
    let c = write(&doc, Dialect::Canonical, Format::Json).unwrap();
    assert!(c.contains("\"memMb\": \"32768\""), "{c}");
    let m = write(&doc, Dialect::Meshery, Format::Json).unwrap();
    assert!(m.contains("\"mem_mb\": 32768"), "{m}");
    assert!(m.contains("\"kubernetes_version\""), "{m}");

    let mc: ServiceMeshConfig = read_as(
        "mesh_type: {type: 5, version: '2.14'}\napplication_metadata: {application_protocol: 2, k8s_version_supported: '1.29'}\nmtls_enabled: true",
        &opts(),
    )
    .unwrap();
    assert_eq!(mc.mesh_type.as_ref().unwrap().mesh_type, MeshType::Linkerd);
    let doc = smps_model::Document::new(smps_model::Body::MeshConfig(mc));
    let m = write(&doc, Dialect::Meshery, Format::Json).unwrap();
    assert!(m.contains("\"application_protocol\": 2"), "{m}");
    assert!(m.contains("\"k8s_version_supported\": \"1.29\""), "{m}");
    assert!(m.contains("\"type\": 5"), "{m}");
}

// 17. the shapes a validator tells apart are read without loss.
#[test]
fn wrapper_without_mesh_or_test_and_empty_lists_are_read() {
    let doc = read("test: {clients: []}", &opts()).unwrap();
    assert_eq!(doc.origin, Origin::MesheryWrapper);
    assert!(doc.as_test_config().unwrap().mesh.is_none());
    let doc = read("mesh: {type: 3}", &opts()).unwrap();
    assert_eq!(doc.origin, Origin::MesheryWrapper);
    assert!(doc.as_test_config().unwrap().config.clients.is_empty());
    let c = config("clients: [{endpoint_urls: [], protocol: http}]");
    assert!(c.clients[0].endpoint_urls.is_empty());
    let c = config("clients: [{endpoint_urls: [relative/path]}]");
    assert_eq!(c.clients[0].endpoint_urls, ["relative/path"]);
}

// 18. unknown fields and nulls.
#[test]
fn unknown_fields_are_ignored_but_reported_with_pointers() {
    let doc = read(
        "clients:\n- protocol: http\n  retries: 3\nduration: 1s\nowner: me\n",
        &opts(),
    )
    .unwrap();
    let unknown: Vec<_> = doc
        .unknown_fields()
        .iter()
        .map(|u| (u.pointer.as_str(), u.value.clone()))
        .collect();
    assert_eq!(
        unknown,
        [
            ("/clients/0/retries", serde_json::json!(3)),
            ("/owner", serde_json::json!("me"))
        ]
    );
}

#[test]
fn nulls_mean_not_set() {
    let c = config(
        "id: null\nlabels: null\nclients:\n- headers: null\n  endpoint_urls: null\n  rps: null\n  protocol: null\nduration: null\n",
    );
    assert_eq!(c, {
        let mut c = PerformanceTestConfig::default();
        c.clients.push(Default::default());
        c
    });
    let m: ServiceMeshConfig = read_as("ingressGateway: null\nsidecar: {}", &opts()).unwrap();
    assert!(m.ingress_gateway.is_none());
    assert_eq!(m.sidecar, Some(Default::default()));
}

// 19. fortio payload variants.
#[test]
fn fortio_payload_variants_convert_with_the_right_units() {
    // Percentiles null, RunType missing.
    let r: PerformanceTestResult = read_as(
        r#"{"DurationHistogram": {"Count": 3, "Min": 0.001, "Avg": 0.002, "Max": 0.003, "Percentiles": null}, "ActualQPS": 3}"#,
        &opts(),
    )
    .unwrap();
    let l = r.latencies_ms.unwrap();
    close(l.max, 3.0);
    assert_eq!(l.p50, 0.0, "no percentile means unset");
    assert_eq!(r.labels[labels::LOAD_GENERATOR], "fortio");
    // gRPC run type.
    let doc = read(
        r#"{"RunType": "GRPC", "DurationHistogram": {"Count": 1, "Max": 0.5}}"#,
        &opts(),
    )
    .unwrap();
    assert_eq!(
        doc.as_test_result().unwrap().labels[labels::RUN_TYPE],
        "GRPC"
    );
    // nighthawk shape: integer RequestedQPS, counts as strings, seconds.
    let doc = read(
        r#"{"RequestedQPS": 10, "StartTime": "2024-01-01T00:00:00Z", "ActualDuration": 30.0,
            "DurationHistogram": {"Count": "100", "Max": 0.25, "Percentiles": [{"Percentile": 99, "Value": 0.2}]},
            "RetCodes": {"200": "300"}}"#,
        &opts(),
    )
    .unwrap();
    assert_eq!(
        doc.origin,
        Origin::FortioPayload {
            generator: "nighthawk".into()
        }
    );
    let r = doc.as_test_result().unwrap();
    close(r.latencies_ms.unwrap().p99, 200.0);
    assert_eq!(r.labels[labels::STATUS_CODES], "200:300");
    assert_eq!(r.end_time.unwrap().to_string(), "2024-01-01T00:00:30Z");
    // wrk2 shape: ms, 99.99/99.999 percentiles, no RetCodes.
    let doc = read(
        r#"{"RunType": "HTTP", "DurationHistogram": {"Count": 10, "Avg": 15.2, "Max": 40,
            "Percentiles": [{"Percentile": 50, "Value": 15.9}, {"Percentile": 99.99, "Value": 39}, {"Percentile": 99.999, "Value": 40}]}}"#,
        &opts(),
    )
    .unwrap();
    assert_eq!(
        doc.origin,
        Origin::FortioPayload {
            generator: "wrk2".into()
        }
    );
    let r = doc.as_test_result().unwrap();
    close(r.latencies_ms.unwrap().p50, 15.9);
    assert_eq!(
        r.labels[labels::LATENCY_BASIS],
        labels::LATENCY_BASIS_INTENDED
    );
    assert_eq!(r.labels[labels::SOURCE_LATENCY_UNIT], "ms");
}

// 20. result conversion details.
#[test]
fn meshery_record_with_runner_results_object_converts() {
    let doc = read(
        r#"{"mesheryId": "m1", "name": "x", "mesh": "ISTIO", "testId": "t1",
            "runnerResults": {"load-generator": "fortio", "StartTime": "2021-06-09T14:18:03.353026454Z",
              "ActualDuration": 1000000000, "ActualQPS": 12.5,
              "DurationHistogram": {"Count": 1, "Min": 0.1, "Avg": 0.1, "Max": 0.1,
                 "Percentiles": [{"Percentile": 50, "Value": 0.1}, {"Percentile": 99, "Value": 0.1}]}}}"#,
        &opts(),
    )
    .unwrap();
    let r = doc.as_test_result().unwrap();
    assert_eq!((r.id.as_str(), r.test_id.as_str()), ("m1", "t1"));
    close(r.actual_qps, 12.5);
    close(r.latencies_ms.unwrap().p50, 100.0);
    assert_eq!(r.latencies_ms.unwrap().p90, 0.0, "p90 absent stays unset");
    assert_eq!(
        r.end_time.unwrap().to_string(),
        "2021-06-09T14:18:04.353026454Z"
    );
}

#[test]
fn performance_spec_export_is_recognised_and_scaled() {
    let doc = read(
        "smp_version: test_smp_version\nlatencies_ms: {min: 0.001, p99: 0.05}\nactual_qps: 9.5\ndetails_uri: test_details\n",
        &opts(),
    )
    .unwrap();
    assert_eq!(doc.origin, Origin::MesheryPerformanceSpec);
    let r = doc.as_test_result().unwrap();
    close(r.latencies_ms.unwrap().p99, 50.0);
    assert_eq!(r.smp_version, "test_smp_version");
}

// 22. smp_version is exposed verbatim and never used to reject.
#[test]
fn smp_version_values_are_kept_verbatim() {
    for v in [
        "v0.0.1",
        "smps/v0.1.0",
        "'v0.1'",
        "test_smp_version",
        "banana",
    ] {
        let c = config(&format!("smp_version: {v}\nclients: []"));
        assert_eq!(c.smp_version, v.trim_matches('\''));
    }
    assert_eq!(config("clients: []").smp_version, "");
}

#[test]
fn streams_arrays_and_detection_work_together() {
    let docs = read_all(
        "# a stream\nclients: []\n---\nlatencies_ms: {p50: 1}\n---\nkubernetes_version: v1\n---\ntype: KUMA\n---\ningress_gateway: {count: 1}\n",
        &opts(),
    )
    .unwrap();
    let kinds: Vec<_> = docs.iter().map(|d| d.kind()).collect();
    assert_eq!(
        kinds,
        [
            Kind::PerformanceTestConfig,
            Kind::PerformanceTestResult,
            Kind::EnvironmentConfig,
            Kind::ServiceMesh,
            Kind::ServiceMeshConfig
        ]
    );
    assert_eq!(docs[3].index, 3);
    let docs = read_all(r#"[{"clients": []}, {"type": "ISTIO"}]"#, &opts()).unwrap();
    assert_eq!(docs.len(), 2);
    assert!(matches!(
        read("a: 1\n---\nb: 2", &opts()),
        Err(Error::UnknownKind { .. })
    ));
    assert!(matches!(
        read("clients: []\n---\nclients: []", &opts()),
        Err(Error::DocumentCount { found: 2 })
    ));
}

#[test]
fn naming_the_kind_overrides_detection() {
    let o = opts().with_kind(Kind::ServiceMesh);
    let doc = read("version: '1.2'", &o).unwrap();
    assert_eq!(doc.kind(), Kind::ServiceMesh);
    // Read as a config, a mesh's `type` is just an unknown field.
    let doc = read(
        "type: ISTIO",
        &opts().with_kind(Kind::PerformanceTestConfig),
    )
    .unwrap();
    assert_eq!(doc.kind(), Kind::PerformanceTestConfig);
    assert_eq!(doc.unknown_fields()[0].pointer, "/type");
}

#[test]
fn bad_input_gets_clear_errors_not_panics() {
    let cases = [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("{\"clients\": [", "JSON"),
        ("clients: [\n", "YAML"),
        ("42", "number"),
        ("- just\n- a list of strings\n", "string"),
        ("{}", "empty object"),
        ("clients: {a: 1}", "clients"),
    ];
    for (text, needle) in cases {
        let err = read(text, &opts()).unwrap_err();
        assert!(err.to_string().contains(needle), "{text:?}: {err}");
    }
    let err = read("{\"clients\": [}", &opts()).unwrap_err();
    assert_eq!(err.line_column(), Some((1, 14)), "{err}");
}

#[test]
fn deep_nesting_is_refused_without_a_stack_overflow() {
    let opts = opts;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(read(&deep, &opts()).is_err());
    let deep_yaml = format!("a: {}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = read(&deep_yaml, &opts()).unwrap_err();
    assert!(err.to_string().contains("nest deeper"), "{err}");
    let block = format!("{}x", "- ".repeat(100_000));
    assert!(read(&block, &opts()).is_err());
}

#[test]
fn yaml_alias_bombs_are_refused() {
    let opts = opts;
    let bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n";
    assert!(read(bomb, &opts()).is_err());
}
