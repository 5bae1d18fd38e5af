//! Every file of the upstream corpus (tests/fixtures/upstream, sources in SOURCES.md), read
//! with its values checked.

use smps_model::meshery::FortioResult;
use smps_model::{
    Error, Kind, MeshType, Origin, Protocol, ReadOptions, Timestamp, labels, read, read_all,
};

use crate::{close, fixture};

fn opts() -> ReadOptions {
    ReadOptions::default()
}

#[test]
fn smp_action_load_test_is_a_wrapper_with_istio_and_one_minute() {
    let doc = read(&fixture("upstream/smp-action-load-test.yaml"), &opts()).unwrap();
    assert_eq!(doc.origin, Origin::MesheryWrapper);
    let test = doc.as_test_config().unwrap();
    assert_eq!(test.config.smp_version, "v0.0.1");
    assert_eq!(test.config.name, "Load Test");
    assert!(test.config.labels.is_empty());
    let c = &test.config.clients[0];
    assert_eq!(c.protocol, Protocol::Http);
    assert_eq!(c.load_generator, "fortio");
    assert_eq!((c.connections, c.rps), (2, 10));
    assert!(!c.internal);
    assert_eq!(c.endpoint_urls, ["https://smp-spec.io"]);
    assert_eq!(
        test.config.duration.as_ref().unwrap().as_nanos(),
        60_000_000_000
    );
    assert_eq!(test.mesh.as_ref().unwrap().mesh_type, MeshType::Istio);
    assert!(doc.unknown_fields().is_empty());
}

#[test]
fn blog_flat_config_has_null_id_and_thirty_minutes() {
    let doc = read(
        &fixture("upstream/smps-blog-flat-test-config.yaml"),
        &opts(),
    )
    .unwrap();
    assert_eq!(doc.origin, Origin::Smp);
    let test = doc.as_test_config().unwrap();
    assert!(test.mesh.is_none());
    assert_eq!(test.config.id, "");
    assert_eq!(test.config.name, "Istio Performance Test");
    assert_eq!(
        test.config.duration.as_ref().unwrap().as_nanos(),
        30 * 60 * 1_000_000_000
    );
    assert_eq!(test.config.duration.as_ref().unwrap().as_str(), "30m");
    assert_eq!(
        test.config.clients[0].endpoint_urls,
        ["http://localhost:2323/productpage"]
    );
}

#[test]
fn action_config_2021_runs_six_seconds_at_five_rps() {
    let doc = read(
        &fixture("upstream/smp-action-test-config-2021.yaml"),
        &opts(),
    )
    .unwrap();
    let test = doc.as_test_config().unwrap();
    assert_eq!(test.config.name, "istio-test");
    assert_eq!(
        test.config.duration.as_ref().unwrap().as_nanos(),
        6_000_000_000
    );
    assert_eq!(test.config.clients[0].rps, 5);
    assert_eq!(test.mesh.as_ref().unwrap().mesh_type, MeshType::Istio);
}

#[test]
fn legacy_benchmark_spec_converts_seconds_to_milliseconds() {
    let doc = read(
        &fixture("upstream/smps-docs-sample-result-legacy.yaml"),
        &opts(),
    )
    .unwrap();
    assert_eq!(doc.origin, Origin::LegacyBenchmarkSpec);
    let r = doc.as_test_result().unwrap();
    assert_eq!(r.id, "a0b57497-12f1-40a5-ae78-3fd3414c4a48");
    assert_eq!(
        r.start_time.unwrap().to_string(),
        "2020-03-17T14:53:05.499893378Z"
    );
    assert_eq!(r.end_time.unwrap().subsec_nanos(), 530_905_194);
    close(r.actual_qps, 0.999_997_128_543_800_9);
    let l = r.latencies_ms.unwrap();
    close(l.min, 12.007_082);
    close(l.average, 23.581_708_206_018_594);
    close(l.p99, 55.0);
    close(l.max, 350.472_228);
    assert_eq!(r.labels[labels::SOURCE_LATENCY_UNIT], "s");
    assert_eq!(r.labels[labels::URL], "http://192.168.1.15/productpage");
    assert_eq!(r.labels[labels::KUBERNETES_VERSION], "v1.15.5");
    assert_eq!(r.labels[labels::CONNECTIONS], "1");
}

#[test]
fn legacy_benchmark_spec_unit_is_an_explicit_option() {
    let options = opts().with_legacy_latency_unit(smps_model::meshery::LatencyUnit::Milliseconds);
    let doc = read(
        &fixture("upstream/smps-docs-sample-result-legacy.yaml"),
        &options,
    )
    .unwrap();
    let l = doc.as_test_result().unwrap().latencies_ms.unwrap();
    close(l.max, 0.350_472_228);
}

#[test]
fn meshery_fortio_records_become_three_results() {
    let docs = read_all(
        &fixture("upstream/smps-docs-test-results-meshery-fortio.json"),
        &opts(),
    )
    .unwrap();
    assert_eq!(docs.len(), 3);
    assert!(docs.iter().all(|d| d.origin
        == Origin::MesheryResult {
            generator: "fortio".into()
        }));
    assert_eq!(docs[1].pointer, "/1");

    let first = docs[0].as_test_result().unwrap();
    assert_eq!(first.id, "f9ccd668-9d26-4f70-8a51-47de5af3c502");
    assert!(
        !first.labels.contains_key(labels::MESHERY_MESH),
        "mesh null"
    );
    assert_eq!(first.labels[labels::REQUESTED_QPS], "max");
    assert_eq!(first.labels[labels::STATUS_CODES], "200:78");
    assert_eq!(first.labels[labels::REQUESTS], "78");
    assert_eq!(first.labels[labels::KUBERNETES_VERSION], "v1.22.5");
    let l = first.latencies_ms.unwrap();
    close(l.min, 334.9775);
    close(l.average, 386.632_898_564_102_6);
    close(l.p50, 383.333_333_333_333_36);
    close(l.p90, 437.368_421_052_631_6);
    close(l.p99, 502.171_024_24);
    close(l.max, 509.868_292);
    close(first.actual_qps, 2.583_809_979_476_433_8);
    // StartTime carries +05:30; SMP wants UTC, and the end is start + ActualDuration.
    let start = first.start_time.unwrap();
    assert_eq!(start.to_string(), "2022-04-26T14:26:40.358118Z");
    assert_eq!(
        first.end_time.unwrap().unix_nanos() - start.unix_nanos(),
        30_187_978_458
    );

    let second = docs[1].as_test_result().unwrap();
    assert_eq!(second.labels[labels::MESHERY_MESH], "linkerd");
    assert_eq!(second.labels[labels::STATUS_CODES], "-1:300");
    assert_eq!(second.labels[labels::REQUESTED_QPS], "10");
    assert_eq!(second.labels[labels::CONNECTIONS], "100");
    assert_eq!(second.test_id, "", "test_id absent");
    close(second.latencies_ms.unwrap().p99, 5.0);
}

#[test]
fn meshery_results_page_yields_four_results_with_consistent_histograms() {
    let text = fixture("upstream/meshery-mesheryctl-results-page-snake_case.json");
    let docs = read_all(&text, &opts()).unwrap();
    assert_eq!(docs.len(), 4);
    assert_eq!(docs[3].pointer, "/results/3");
    let r = docs[0].as_test_result().unwrap();
    assert_eq!(r.id, "a0415c24-d2ec-4899-8edc-5413f7282a0b");
    assert_eq!(r.labels[labels::MESHERY_MESH], "app mesh");
    let start = r.start_time.unwrap();
    let secs = (r.end_time.unwrap().unix_nanos() - start.unix_nanos()) as f64 / 1e9;
    assert!((secs - 30.29).abs() < 0.01, "{secs}");

    // The raw payloads: bucket counts add up to Count.
    let page: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (i, record) in page["results"].as_array().unwrap().iter().enumerate() {
        let payload: FortioResult =
            serde_json::from_value(record["runner_results"].clone()).unwrap();
        let h = payload.duration_histogram.unwrap();
        let sum: i64 = h.data.iter().map(|b| b.count).sum();
        assert_eq!(sum, h.count, "record {i}");
        assert_eq!(
            docs[i].as_test_result().unwrap().labels[labels::REQUESTS],
            h.count.to_string()
        );
    }
}

#[test]
fn snake_and_mixed_case_profile_pages_normalise_identically() {
    let snake = read_all(
        &fixture("upstream/meshery-mesheryctl-profile-page-snake_case.json"),
        &opts(),
    )
    .unwrap();
    let mixed = read_all(
        &fixture("upstream/meshery-mesheryctl-profile-page-mixedcase.json"),
        &opts(),
    )
    .unwrap();
    assert_eq!(snake.len(), 1);
    assert_eq!(snake[0].body, mixed[0].body);
    assert_eq!(snake[0].origin, Origin::MesheryProfile);
    assert!(
        snake[0].unknown_fields().is_empty(),
        "{:?}",
        snake[0].unknown_fields()
    );
    assert!(
        mixed[0].unknown_fields().is_empty(),
        "{:?}",
        mixed[0].unknown_fields()
    );
    let test = snake[0].as_test_config().unwrap();
    assert_eq!(test.config.name, "Abhishek");
    let c = &test.config.clients[0];
    assert_eq!((c.connections, c.rps), (10, 2));
    assert_eq!(c.load_generator, "fortio");
    assert_eq!(c.endpoint_urls, ["https://twitter.com/layer5"]);
    assert_eq!(test.mesh.as_ref().unwrap().mesh_type, MeshType::Consul);
    assert_eq!(
        test.config.labels[labels::MESHERY_LAST_RUN],
        "2021-08-29T16:43:38.599411Z"
    );
}

#[test]
fn profile_templates_read_in_yaml_and_json() {
    for file in [
        "upstream/meshery-schemas-performance-profile-template.yaml",
        "upstream/meshery-schemas-performance-profile-template.json",
    ] {
        let doc = read(&fixture(file), &opts()).unwrap();
        assert_eq!(doc.origin, Origin::MesheryProfile, "{file}");
        let test = doc.as_test_config().unwrap();
        assert_eq!(test.config.name, "Sample performance profile");
        assert_eq!(
            test.config.duration.as_ref().unwrap().as_nanos(),
            30_000_000_000
        );
        assert_eq!(
            test.config.clients[0].endpoint_urls,
            ["http://localhost:8080/"]
        );
        assert_eq!(test.config.clients[0].connections, 1);
        assert!(test.mesh.is_none(), "empty serviceMesh is mesh-agnostic");
        assert!(
            doc.unknown_fields().is_empty(),
            "{file}: {:?}",
            doc.unknown_fields()
        );
    }
}

/// Every property of Meshery's v1beta3 profile schema is a field the profile reader knows.
#[test]
fn profile_schema_properties_are_all_known_to_the_reader() {
    let schema: serde_json::Value = serde_yaml::from_str(&fixture(
        "upstream/meshery-schemas-performance-profile.schema.yaml",
    ))
    .unwrap();
    let props = schema["properties"].as_object().unwrap();
    assert!(props.len() >= 15, "{}", props.len());
    let mut doc = serde_json::Map::new();
    for name in props.keys() {
        doc.insert(name.clone(), serde_json::Value::Null);
    }
    doc.insert("loadGenerators".into(), serde_json::json!(["fortio"]));
    let read = read(&serde_json::Value::Object(doc).to_string(), &opts()).unwrap();
    assert_eq!(read.origin, Origin::MesheryProfile);
    assert!(
        read.unknown_fields().is_empty(),
        "{:?}",
        read.unknown_fields()
    );
}

/// Every property of Meshery's 2026 PerformanceTestConfig / PerformanceTestClient (the
/// OpenAPI in api.yml) is a field of our PerformanceTestConfig / Client.
#[test]
fn meshery_v1beta3_test_config_fields_are_all_known() {
    let api: serde_json::Value = serde_yaml::from_str(&fixture(
        "upstream/meshery-schemas-v1beta3-performance-profile-api.yml",
    ))
    .unwrap();
    let schemas = &api["components"]["schemas"];
    let config_props = schemas["PerformanceTestConfig"]["properties"]
        .as_object()
        .unwrap();
    let client_props = schemas["PerformanceTestClient"]["properties"]
        .as_object()
        .unwrap();
    assert!(client_props.len() >= 10);
    let client: serde_json::Map<_, _> = client_props
        .keys()
        .map(|k| (k.clone(), serde_json::Value::Null))
        .collect();
    let mut config: serde_json::Map<_, _> = config_props
        .keys()
        .map(|k| (k.clone(), serde_json::Value::Null))
        .collect();
    config.insert("clients".into(), serde_json::json!([client]));
    let doc = read(&serde_json::Value::Object(config).to_string(), &opts()).unwrap();
    assert_eq!(doc.kind(), Kind::PerformanceTestConfig);
    assert!(
        doc.unknown_fields().is_empty(),
        "{:?}",
        doc.unknown_fields()
    );
}

#[test]
fn invalid_v0_1_0_draft_gives_a_yaml_error_with_line_and_column() {
    let err = read(&fixture("upstream/smps-v0.1.0-draft-invalid.yaml"), &opts()).unwrap_err();
    let Error::ParseYaml { line, column, .. } = &err else {
        panic!("expected a YAML error, got {err}");
    };
    // The mis-indented `node:` under `env.node_count` (line 39 of the file).
    assert_eq!(*line, 39, "{err}");
    assert!(*column > 1, "{err}");
    assert!(err.to_string().contains("line 39"), "{err}");
}

#[test]
fn go_zero_time_in_templates_is_kept_as_such() {
    let t: Timestamp = "0001-01-01T00:00:00Z".parse().unwrap();
    assert!(t.is_go_zero());
}

/// §9 case 8: Meshery's YAML template satisfies Meshery's own profile schema; the JSON
/// template does not (`userId` is not allowed and `owner` is missing), though both read.
#[test]
fn meshery_profile_templates_against_meshery_schema() {
    let mut schema: serde_json::Value = serde_yaml::from_str(&fixture(
        "upstream/meshery-schemas-performance-profile.schema.yaml",
    ))
    .unwrap();
    honour_openapi_nullable(&mut schema);
    let validator = jsonschema::options()
        .with_retriever(MesheryCoreStandIn)
        .build(&schema)
        .unwrap();
    let yaml: serde_json::Value = serde_yaml::from_str(&fixture(
        "upstream/meshery-schemas-performance-profile-template.yaml",
    ))
    .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&yaml)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let json: serde_json::Value = serde_json::from_str(&fixture(
        "upstream/meshery-schemas-performance-profile-template.json",
    ))
    .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.iter().any(|e| e.contains("owner")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("userId")), "{errors:?}");
}

/// The profile schema `$ref`s Meshery's core `api.yml` (not in the corpus) for four small
/// definitions. These stand-ins give them their documented meaning: a UUID string, a nullable
/// RFC 3339 time, and RFC 3339 creation/update times.
struct MesheryCoreStandIn;

impl jsonschema::Retrieve for MesheryCoreStandIn {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        if !uri.as_str().ends_with("/v1alpha1/core/api.yml") {
            return Err(format!("no stand-in for {uri}").into());
        }
        Ok(serde_json::json!({"components": {"schemas": {
            "uuid": {"type": "string", "format": "uuid"},
            "nullTime": {"type": ["string", "null"], "format": "date-time"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"}
        }}}))
    }
}

/// The schema is written for oapi-codegen, which honours OpenAPI's `nullable: true`; JSON
/// Schema spells that `anyOf: [<schema>, {type: null}]`.
fn honour_openapi_nullable(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(obj) => {
            for v in obj.values_mut() {
                honour_openapi_nullable(v);
            }
            if obj.remove("nullable") == Some(serde_json::Value::Bool(true)) {
                let inner = serde_json::Value::Object(std::mem::take(obj));
                obj.insert("anyOf".into(), serde_json::json!([inner, {"type": "null"}]));
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(honour_openapi_nullable),
        _ => {}
    }
}
