//! JSON Schemas for every document kind (feature `schema`).
//!
//! The schemas describe the canonical proto3 JSON form that [`crate::Dialect::Canonical`]
//! writes: lowerCamelCase keys, enums by name (numbers allowed), int64 as a decimal string or
//! number, doubles as numbers or `"NaN"` / `"Infinity"`. The generated files are committed under
//! `smps-model/schema/` and a test fails when they drift.

use schemars::{Schema, SchemaGenerator, json_schema};

use crate::Kind;

/// Schema for int64 fields: a number or a decimal string, as proto3 JSON allows.
pub(crate) fn int64(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A 64-bit integer: a number, or a decimal string (proto3 JSON writes a string).",
        "anyOf": [
            { "type": "integer", "minimum": -9_223_372_036_854_775_808_i64, "maximum": 9_223_372_036_854_775_807_i64 },
            { "type": "string", "pattern": "^[-+]?[0-9]{1,19}$" }
        ]
    })
}

/// Schema for double fields: a number, or one of proto3 JSON's special strings.
pub(crate) fn double(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A number; proto3 JSON also allows \"NaN\", \"Infinity\" and \"-Infinity\".",
        "anyOf": [
            { "type": "number" },
            { "type": "string", "enum": ["NaN", "Infinity", "-Infinity"] }
        ]
    })
}

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
