//! The semantic rules of the issue, each through the public API.

use smps_validate::{Rule, Severity, Validator};

use crate::{summary, validator};

fn rules_of(text: &str) -> Vec<String> {
    summary(&validator().report_str(text).unwrap())
}

#[test]
fn latency_percentiles_must_be_ordered_and_average_within_range() {
    assert_eq!(
        rules_of("latencies_ms: {min: 2, average: 50, p50: 3, p90: 4, p99: 3.5, max: 10}\n"),
        [
            "latency-average@1:33 /latencies_ms/average",
            "latency-order@1:58 /latencies_ms/p99",
        ]
    );
}

#[test]
fn latencies_must_be_finite_and_not_negative() {
    assert_eq!(
        rules_of("latencies_ms:\n  min: -1\n  p50: .nan\n  max: \"Infinity\"\n"),
        [
            "latency-value@2:8 /latencies_ms/min",
            "latency-value@3:8 /latencies_ms/p50",
            "latency-value@4:8 /latencies_ms/max",
        ]
    );
}

#[test]
fn latencies_that_look_like_seconds_warn() {
    let r = validator()
        .report_str("latencies_ms: {min: 0.0012, p50: 0.004, p90: 0.01, p99: 0.05, max: 0.2}\n")
        .unwrap();
    assert!(r.is_valid());
    assert_eq!(summary(&r), ["latency-unit@1:15 /latencies_ms"]);
    assert_eq!(r.violations()[0].severity(), Severity::Warning);
}

#[test]
fn end_time_must_not_precede_start_time() {
    assert_eq!(
        rules_of("start_time: 2024-01-01T10:00:00+02:00\nend_time: 2024-01-01T07:59:59Z\n"),
        ["time-order@2:11 /end_time"]
    );
    assert!(
        rules_of("start_time: 2024-01-01T10:00:00+02:00\nend_time: 2024-01-01T08:00:00Z\n")
            .is_empty()
    );
}

#[test]
fn malformed_timestamps_are_errors() {
    let found = rules_of("start_time: 2024-13-45 25:00\nlatencies_ms: {}\n");
    assert_eq!(found, ["schema@1:13 /start_time"]);
}

#[test]
fn durations_must_parse_and_be_positive() {
    let base = "clients: [{protocol: http, connections: 1, endpoint_urls: ['http://a']}]\n";
    assert_eq!(
        rules_of(&format!("{base}duration: 0s\n")),
        ["duration@2:11 /duration"]
    );
    assert_eq!(
        rules_of(&format!("{base}duration: -5s\n")),
        ["duration@2:11 /duration"]
    );
    assert_eq!(
        rules_of(&format!("{base}duration: abc\n")),
        ["schema@2:11 /duration"]
    );
    assert_eq!(rules_of(base), ["duration@1:1 "]);
    assert!(rules_of(&format!("{base}duration: 1h30m\n")).is_empty());
}

#[test]
fn client_rules_connections_rps_and_endpoints() {
    let text = "duration: 10s\nclients:\n  - protocol: http\n    connections: 0\n    rps: -3\n    endpoint_urls: [/productpage]\n  - protocol: PROTOCOL_TCP\n    endpoint_urls: [db.local]\n  - protocol: grpc\n    endpoint_urls: []\n";
    assert_eq!(
        rules_of(text),
        [
            "connections@4:18 /clients/0/connections",
            "rate@5:10 /clients/0/rps",
            "endpoint@6:21 /clients/0/endpoint_urls/0",
            "endpoint@8:21 /clients/1/endpoint_urls/0",
            "endpoint-missing@10:20 /clients/2/endpoint_urls",
        ]
    );
}

#[test]
fn enums_unset_or_unknown_are_errors() {
    let text = "duration: 1s\nclients:\n  - {protocol: 0, endpoint_urls: ['http://a']}\n  - {protocol: pigeon, endpoint_urls: ['http://a']}\n  - {protocol: 7, endpoint_urls: ['http://a']}\n";
    assert_eq!(
        rules_of(text),
        [
            "enum-unset@3:16 /clients/0/protocol",
            "enum-unknown@4:16 /clients/1/protocol",
            "schema@5:16 /clients/2/protocol",
        ]
    );
    assert_eq!(rules_of("type: INVALID_MESH\n"), ["enum-unset@1:7 /type"]);
}

#[test]
fn integer_overflow_is_reported_for_int32_and_int64() {
    let text = "duration: 1s\nclients:\n  - connections: 3000000000\n    rps: \"9223372036854775808\"\n    endpoint_urls: ['http://a']\n";
    assert_eq!(
        rules_of(text),
        [
            "integer-overflow@3:18 /clients/0/connections",
            "integer-overflow@4:10 /clients/0/rps",
        ]
    );
}

#[test]
fn negative_resources_and_bad_kubernetes_versions() {
    let text = "kubernetes_version: latest\nnodes:\n  - {type: n1, cores: -4, mem_mb: 1024}\n";
    assert_eq!(
        rules_of(text),
        [
            "kubernetes-version@1:21 /kubernetes_version",
            "negative-resource@3:23 /nodes/0/cores",
        ]
    );
    let mesh = "sidecar: {count: -1}\nmesh_control_plane: {cpu_mCores: -5}\n";
    assert_eq!(
        rules_of(mesh),
        [
            "negative-resource@1:18 /sidecar/count",
            "negative-resource@2:34 /mesh_control_plane/cpu_mCores",
        ]
    );
}

#[test]
fn meshery_wrapper_needs_test_and_mesh() {
    assert_eq!(
        rules_of("test:\n  duration: 1s\n  clients: [{endpoint_urls: ['http://a']}]\n"),
        ["wrapper-incomplete@1:1 "]
    );
    assert_eq!(
        rules_of("mesh: {type: ISTIO}\n"),
        ["wrapper-incomplete@1:1 "]
    );
}

#[test]
fn unrecognised_documents_are_errors() {
    assert_eq!(rules_of("hello: world\n"), ["unknown-kind@1:1 "]);
    assert_eq!(rules_of("- 1\n- 2\n"), ["schema@1:3 /0", "schema@2:3 /1"]);
}

#[test]
fn rules_can_be_disabled() {
    let v = Validator::builder()
        .disable(Rule::LatencyOrder)
        .build()
        .unwrap();
    assert!(v.is_valid_str("latencies_ms: {p50: 9, p90: 1}\n"));
}

#[test]
fn documents_the_typed_reader_rejects_are_never_valid() {
    // Schema-valid, rule-clean, but the model's i32 field overflows when written as a string.
    let v = validator();
    for text in [
        "latencies_ms: {p50: 1}\nactual_qps: \"fast\"\n",
        "{\"clients\": [{\"connections\": \"1e99\"}], \"duration\": \"1s\"}",
    ] {
        let valid = v.is_valid_str(text);
        let read = smps_model::read(text, &smps_model::ReadOptions::default());
        assert!(
            !(valid && read.is_err()),
            "{text}: valid but unreadable: {read:?}"
        );
    }
}
