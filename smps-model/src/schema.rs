//! JSON Schemas for every document kind (feature `schema`).
//!
//! The schemas of the lenient field types (int64, double) live with their deserialisers in
//! `de.rs`.
//!
//! The schemas describe the canonical proto3 JSON form that [`crate::Dialect::Canonical`]
//! writes: lowerCamelCase keys, enums by name (numbers allowed), int64 as a decimal string or
//! number, doubles as numbers or `"NaN"` / `"Infinity"`. The generated files are committed under
//! `smps-model/schema/` and a test fails when they drift.

use crate::Kind;

/// The JSON Schema (draft 2020-12) of one document kind.
///
/// # Examples
///
/// ```
/// use smps_model::{Kind, schema_for};
///
/// let schema = schema_for(Kind::PerformanceTestConfig);
/// assert_eq!(schema["title"], "PerformanceTestConfig");
/// assert!(schema["properties"]["clients"].is_object());
/// ```
pub fn schema_for(kind: Kind) -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = match kind {
        Kind::PerformanceTestConfig => {
            generator.into_root_schema_for::<crate::PerformanceTestConfig>()
        }
        Kind::PerformanceTestResult => {
            generator.into_root_schema_for::<crate::PerformanceTestResult>()
        }
        Kind::ServiceMeshConfig => generator.into_root_schema_for::<crate::ServiceMeshConfig>(),
        Kind::EnvironmentConfig => generator.into_root_schema_for::<crate::EnvironmentConfig>(),
        Kind::ServiceMesh => generator.into_root_schema_for::<crate::ServiceMesh>(),
    };
    schema.to_value()
}
