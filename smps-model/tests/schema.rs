//! The committed JSON Schemas (smps-model/schema/*.json) match the generated ones.
//! Regenerate with `SMPS_BLESS=1 cargo test -p smps-model --all-features schema`.

use smps_model::{Kind, schema_for};

#[test]
fn committed_schemas_match_the_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    let bless = std::env::var_os("SMPS_BLESS").is_some();
    let mut drifted = Vec::new();
    for kind in Kind::ALL {
        let generated = serde_json::to_string_pretty(&schema_for(*kind)).unwrap() + "\n";
        let path = dir.join(format!("{}.schema.json", kind.name()));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            drifted.push(path.display().to_string());
        }
    }
    assert!(
        drifted.is_empty(),
        "schemas drifted from the types: {drifted:?}; regenerate with SMPS_BLESS=1"
    );
}

#[test]
fn schemas_describe_the_canonical_form() {
    let config = schema_for(Kind::PerformanceTestConfig);
    let text = config.to_string();
    assert!(text.contains("endpointUrls"), "{text}");
    assert!(text.contains("PROTOCOL_HTTP"), "{text}");
    let result = schema_for(Kind::PerformanceTestResult);
    assert!(result.to_string().contains("latenciesMs"));
}
