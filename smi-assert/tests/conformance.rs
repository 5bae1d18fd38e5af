//! The bundled conformance suite against a conformant loopback mesh.

use smi_assert::features::Profile;
use smi_assert::report::{Capability, Status};

use crate::{mesh_with, runner};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loopback_mesh_is_fully_conformant() {
    let suite = smi_assert::conformance::suite().unwrap();
    let mesh = mesh_with(&[]).await;
    let report = runner(&mesh).build().unwrap().run(&suite).await.unwrap();
    for t in &report.tests {
        assert_eq!(t.status, Status::Passed, "{}: {}", t.name, t.message);
    }
    for p in Profile::SMI {
        assert_eq!(
            report.profile(p).unwrap().capability,
            Capability::Full,
            "{p}"
        );
    }
    let access = report.profile(Profile::Access).unwrap();
    assert_eq!(access.api_version, "v1alpha3");
    assert_eq!(access.core.statistics.passed, 4);
    assert_eq!(access.extended.statistics.passed, 2);
    let specs = report.profile(Profile::Specs).unwrap();
    assert_eq!(specs.extended.statistics.passed, 3);
    let metrics = report.profile(Profile::Metrics).unwrap();
    assert_eq!(metrics.api_version, "v1alpha1");
    assert_eq!(metrics.core.statistics.passed, 3);
    assert_eq!(metrics.extended.statistics.passed, 1);
    assert_eq!(
        report
            .profile(Profile::Split)
            .unwrap()
            .extended
            .statistics
            .passed,
        2
    );
    assert!(
        mesh.workload_addresses().is_empty(),
        "every test cleaned up"
    );
}

#[test]
fn the_suite_round_trips_through_yaml() {
    let suite = smi_assert::conformance::suite().unwrap();
    let yaml = suite.to_yaml().unwrap();
    let back = smi_assert::suite::Suite::from_yaml(&yaml).unwrap();
    assert_eq!(back, suite);
}

#[test]
fn unknown_keys_in_a_suite_are_errors_with_a_location() {
    let bad = "name: s\ntests:\n- name: t\n  steps:\n  - name: x\n    operations:\n    - traffic: {from: a, to: b, expect: allowed, consecutiv: 3}\n";
    let e = smi_assert::suite::Suite::from_yaml(bad).unwrap_err();
    let text = format!(
        "{e}: {}",
        std::error::Error::source(&e)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(
        text.contains("consecutiv") && text.contains("line 7"),
        "{text}"
    );
    let two = "name: s\ntests:\n- name: t\n  steps:\n  - name: x\n    operations:\n    - {sleep: {duration: 1s}, custom: {name: c}}\n";
    assert!(smi_assert::suite::Suite::from_yaml(two).is_err());
    let feat = "name: s\ntests:\n- name: t\n  features: [split.wieghts]\n  steps: []\n";
    assert!(
        smi_assert::suite::Suite::from_yaml(feat)
            .unwrap_err()
            .to_string()
            .contains("split.wieghts")
    );
}

#[cfg(feature = "schema")]
#[test]
fn the_checked_in_json_schema_is_current_and_accepts_the_bundled_suite() {
    let schema = smi_assert::suite::Suite::json_schema();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/suite.schema.json");
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("SMI_ASSERT_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let checked_in: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("schema/suite.schema.json exists"),
    )
    .expect("checked-in schema is JSON");
    // Compared as values: key order depends on serde_json's `preserve_order` feature.
    assert_eq!(
        checked_in, schema,
        "regenerate with SMI_ASSERT_UPDATE_SCHEMA=1"
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    for text in [
        smi_assert::conformance::SUITE_YAML,
        smi_assert::gamma_suite::SUITE_YAML,
    ] {
        let suite: serde_json::Value = serde_yaml::from_str(text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&suite)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}
