//! Issue 13, "One family": the validator and smps-model give the same verdict, because the
//! validator uses smps-model's classifier, spellings and typed reader.

use smps_model::{Kind, ReadOptions};
use smps_validate::{Format, Rule, Source, Validator};

use crate::validator;

/// The validator's verdict and kind, and smps-model's, for one text in one format.
fn verdicts(
    v: &Validator,
    text: &str,
    format: Format,
) -> (bool, Option<Kind>, Result<Kind, String>) {
    let report = v
        .report(&Source::text(text).format(format))
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    let model_format = match format {
        Format::Json => smps_model::Format::Json,
        _ => smps_model::Format::Yaml,
    };
    let read = smps_model::read(text, &ReadOptions::default().with_format(model_format))
        .map(|d| d.kind())
        .map_err(|e| e.to_string());
    (report.is_valid(), report.documents()[0].kind, read)
}

#[test]
fn a_legacy_kubernetes_key_is_an_environment_in_json_and_yaml_and_for_the_model() {
    let v = validator();
    for (text, format) in [
        (r#"{"kubernetes":"v1.2.3"}"#, Format::Json),
        ("kubernetes: v1.2.3\n", Format::Yaml),
    ] {
        assert_eq!(
            verdicts(&v, text, format),
            (
                true,
                Some(Kind::EnvironmentConfig),
                Ok(Kind::EnvironmentConfig)
            ),
            "{text}"
        );
    }
    let doc = smps_model::read("kubernetes: v1.2.3\n", &ReadOptions::default()).unwrap();
    assert_eq!(doc.as_environment().unwrap().kubernetes_version, "v1.2.3");
    // The same for the mesh configuration's legacy `sidecars`.
    for (text, format) in [
        (r#"{"sidecars": {"count": 2}}"#, Format::Json),
        ("sidecars: {count: 2}\n", Format::Yaml),
    ] {
        assert_eq!(
            verdicts(&v, text, format),
            (
                true,
                Some(Kind::ServiceMeshConfig),
                Ok(Kind::ServiceMeshConfig)
            ),
            "{text}"
        );
    }
}

/// A valid configuration with `name` written as given.
fn config_named(name: &str) -> String {
    format!(
        "name: {name}\nduration: 30s\nclients:\n  - protocol: PROTOCOL_HTTP\n    connections: 2\n    rps: 10\n    endpoint_urls: [\"http://127.0.0.1:1/\"]\n"
    )
}

#[test]
fn numbers_in_text_fields_are_read_as_their_text_by_both_crates() {
    let v = validator();
    for (written, text, warned) in [
        ("1e3", "1000", true),
        ("1.20", "1.2", true),
        ("true", "true", true),
        // YAML's infinity has no JSON number: both parsers spell it as proto3 JSON does.
        (".inf", "Infinity", true),
        (".nan", "NaN", true),
        ("'1e3'", "1e3", false),
        ("'.inf'", ".inf", false),
    ] {
        let doc = config_named(written);
        let report = v.report_str(&doc).unwrap();
        assert!(report.is_valid(), "{written}: {:?}", report.violations());
        let rules: Vec<Rule> = report.violations().iter().map(|f| f.rule()).collect();
        assert_eq!(
            rules.contains(&Rule::ReadAsText),
            warned,
            "{written}: {rules:?}"
        );
        if warned {
            let w = &report.violations()[0];
            assert_eq!(w.instance_path(), "/name");
            assert!(
                w.message().contains(&format!("the text \"{text}\"")),
                "{}",
                w.message()
            );
        }
        let model = smps_model::read(&doc, &ReadOptions::default()).unwrap();
        assert_eq!(
            model.as_test_config().unwrap().config.name,
            text,
            "{written}"
        );
    }
    // JSON: the same rule and the same text.
    let json = r#"{"name": 1e3, "duration": "30s", "clients": [{"protocol": "PROTOCOL_HTTP", "connections": 2, "rps": 10, "endpointUrls": ["http://127.0.0.1:1/"]}]}"#;
    let report = v.report_str(json).unwrap();
    assert!(report.is_valid());
    assert_eq!(report.violations()[0].rule(), Rule::ReadAsText);
    // In a number field `.inf` is a number: no warning (an infinite rate is an error of its own).
    let report = v
        .report_str("latencies_ms: {p50: 1, p99: 2}\nactual_qps: .inf\nlabels: {a: .inf}\n")
        .unwrap();
    let found: Vec<(Rule, &str)> = report
        .violations()
        .iter()
        .map(|f| (f.rule(), f.instance_path()))
        .collect();
    assert_eq!(
        found,
        [(Rule::Rate, "/actual_qps"), (Rule::ReadAsText, "/labels/a")],
        "{:?}",
        report.violations()
    );
    // Inside Meshery's wrapper too.
    let wrapped = "test:\n  name: .inf\n  duration: 30s\n  clients:\n    - protocol: PROTOCOL_HTTP\n      connections: 1\n      endpoint_urls: [\"http://127.0.0.1:1/\"]\nmesh:\n  type: ISTIO\n  version: .nan\n";
    let report = v.report_str(wrapped).unwrap();
    let found: Vec<(Rule, &str)> = report
        .violations()
        .iter()
        .map(|f| (f.rule(), f.instance_path()))
        .collect();
    assert_eq!(
        found,
        [
            (Rule::ReadAsText, "/test/name"),
            (Rule::ReadAsText, "/mesh/version")
        ]
    );
    // Timestamps and durations are not free text: a number there is an error in both.
    let bad = "duration: 30\nclients: []\n";
    assert!(!v.is_valid_str(bad));
    assert!(smps_model::read(bad, &ReadOptions::default()).is_err());
}

#[test]
fn a_document_the_reader_cannot_place_is_unknown_for_both() {
    let v = validator();
    for (text, format) in [
        (r#"{"colour":"blue"}"#, Format::Json),
        ("colour: blue\n", Format::Yaml),
    ] {
        let (valid, kind, read) = verdicts(&v, text, format);
        assert!(!valid && kind.is_none() && read.is_err(), "{text}");
    }
}

#[test]
fn lenient_spellings_the_model_reads_are_warnings_and_the_rest_stay_errors() {
    let v = validator();
    for (text, at) in [
        ("nodes: [{cores: \"4\"}]\n", "/nodes/0/cores"),
        (
            "sidecar: {count: 1}\nmtls_enabled: \"true\"\n",
            "/mtls_enabled",
        ),
        (
            "latencies_ms: {p50: \"2.5\"}\nstart_time: 2024-05-01 10:00:00Z\n",
            "/latencies_ms/p50",
        ),
    ] {
        let report = v.report_str(text).unwrap();
        assert!(report.is_valid(), "{text}: {:?}", report.violations());
        let first = &report.violations()[0];
        assert_eq!(
            (first.rule(), first.instance_path()),
            (Rule::NonCanonical, at),
            "{text}"
        );
        assert!(
            smps_model::read(text, &ReadOptions::default()).is_ok(),
            "{text}"
        );
    }
    // What the model cannot read stays a schema error, for every value of the document.
    let text = "nodes: [{cores: \"4\", type: n1}, {cores: \"x\"}]\n";
    let report = v.report_str(text).unwrap();
    let errors: Vec<(Rule, &str)> = report
        .iter_errors()
        .map(|f| (f.rule(), f.instance_path()))
        .collect();
    assert_eq!(
        errors,
        [
            (Rule::Schema, "/nodes/0/cores"),
            (Rule::Schema, "/nodes/1/cores")
        ]
    );
    assert!(smps_model::read(text, &ReadOptions::default()).is_err());
}
