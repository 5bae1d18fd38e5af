//! Findings carry the pointer as written and the exact line:column, in YAML and JSON alike.

use smps_validate::{Format, Kind, Rule, Severity, Source};

use crate::{summary, validator};

const YAML: &str = "\
smp_version: v0.0.1
id: r-1
start_time: 2024-05-01T10:00:00Z
end_time: \"2024-05-01T10:05:00Z\"
latencies_ms:
  min: 1.5
  average: 4
  p50: 3.9
  p90: \"16.945ms\"
  p99: 12.8
  max: 40
actual_qps: 99.5
labels:
  my_label: 7
colour: blue
";

const JSON: &str = r#"{
  "smpVersion": "v0.0.1",
  "id": "r-1",
  "startTime": "2024-05-01T10:00:00Z",
  "endTime": "2024-05-01T10:05:00Z",
  "latenciesMs": {"min": 1.5, "average": 4, "p50": 3.9, "p90": "16.945ms", "p99": 12.8, "max": 40},
  "actualQps": 99.5,
  "labels": {"my_label": 7},
  "colour": "blue"
}"#;

#[test]
fn yaml_findings_point_at_the_values_and_keys_written() {
    let r = validator().report_str(YAML).unwrap();
    assert_eq!(
        summary(&r),
        [
            "schema@9:8 /latencies_ms/p90",
            "read-as-text@14:13 /labels/my_label",
            "unknown-field@15:1 /colour",
        ]
    );
    let v = &r.violations()[0];
    assert_eq!(v.canonical_path(), "/latenciesMs/p90");
    assert_eq!(v.severity(), Severity::Error);
    assert!(
        v.message().contains("`/latencies_ms/p90`") && v.message().contains("\"16.945ms\""),
        "{}",
        v.message()
    );
    assert_eq!(r.violations()[2].severity(), Severity::Warning);
}

#[test]
fn json_findings_have_the_same_rules_and_their_own_positions() {
    let r = validator().report_str(JSON).unwrap();
    assert_eq!(r.format(), Format::Json);
    assert_eq!(
        summary(&r),
        [
            "schema@6:64 /latenciesMs/p90",
            "read-as-text@8:26 /labels/my_label",
            "unknown-field@9:3 /colour",
        ]
    );
}

#[test]
fn multi_document_streams_name_the_document() {
    let text = "latencies_ms: {p50: 1, p90: 2}\n---\n# second\nlatencies_ms: {p50: 3, p90: 2}\n---\nclients: []\nduration: 1s\n";
    let r = validator().report_str(text).unwrap();
    assert_eq!(r.documents().len(), 3);
    assert!(r.documents()[0].valid);
    assert!(!r.documents()[1].valid);
    let docs: Vec<(usize, String)> = r
        .violations()
        .iter()
        .map(|v| (v.document(), crate::short(v)))
        .collect();
    assert_eq!(
        docs,
        [
            (1, "latency-order@4:29 /latencies_ms/p90".to_owned()),
            (2, "endpoint-missing@6:10 /clients".to_owned()),
        ]
    );
}

#[test]
fn mixed_case_keys_and_legacy_aliases_are_traced_back() {
    let text = "test:\n  smpsVersion: v1\n  clients:\n    - protocol: tcp\n      endpoint_url: \"http://x\"\n  duration: 10s\nmesh:\n  type: 99\n";
    let r = validator().report_str(text).unwrap();
    assert_eq!(
        summary(&r),
        [
            "endpoint@5:21 /test/clients/0/endpoint_url",
            "schema@8:9 /mesh/type",
        ]
    );
    assert_eq!(
        r.violations()[0].canonical_path(),
        "/test/clients/0/endpointUrls"
    );
}

#[test]
fn unknown_and_duplicate_keys_point_at_the_key() {
    let text = "latencies_ms:\n  p50: 1\n  p55: 2\nstart_time: 2024-01-01T00:00:00Z\nstartTime: 2024-01-01T00:00:01Z\n";
    let r = validator().report_str(text).unwrap();
    assert_eq!(
        summary(&r),
        [
            "unknown-field@3:3 /latencies_ms/p55",
            "duplicate-key@5:1 /startTime",
        ]
    );
    assert_eq!(r.violations()[1].rule(), Rule::DuplicateKey);
}

#[test]
fn root_arrays_are_split_into_documents_with_pointers() {
    let text = r#"[{"latenciesMs": {"p50": 1}}, {"latencies_ms": {"p50": "x"}}]"#;
    let r = validator().report_str(text).unwrap();
    assert_eq!(summary(&r), ["schema@1:56 /1/latencies_ms/p50"]);
    assert_eq!(r.documents()[1].pointer, "/1");
}

#[test]
fn a_given_kind_overrides_detection() {
    let src = Source::text("name: x\n").kind(Kind::ServiceMesh);
    let r = validator().report(&src).unwrap();
    assert_eq!(summary(&r), ["unknown-field@1:1 /name"]);
    assert_eq!(r.documents()[0].kind, Some(Kind::ServiceMesh));
}

#[test]
fn the_report_serialises_to_json() {
    let r = validator().report_str(YAML).unwrap();
    let j = r.to_json();
    assert_eq!(j["valid"], false);
    assert_eq!(j["format"], "yaml");
    assert_eq!(j["documents"][0]["kind"], "PerformanceTestResult");
    let v = &j["violations"][0];
    assert_eq!(v["rule"], "schema");
    assert_eq!(v["severity"], "error");
    assert_eq!(v["instance_path"], "/latencies_ms/p90");
    assert_eq!(v["line"], 9);
    assert_eq!(v["column"], 8);
    assert_eq!(v["details"]["type"], "schema");
    assert_eq!(v["details"]["keyword"], "anyOf");
}

#[test]
fn validate_returns_the_first_error_only() {
    let first = validator()
        .validate(&Source::text(YAML))
        .unwrap()
        .expect("an error");
    assert_eq!(first.rule(), Rule::Schema);
    assert!(first.location().is_some());
    assert!(
        validator()
            .validate(&Source::text("latencies_ms: {p50: 1}\n"))
            .unwrap()
            .is_none()
    );
}
