//! Decoding a JSON tree into documents: pages split into records, each record's shape
//! recognised (or the caller's kind taken), and each shape decoded into the typed model.

use serde_json::{Map, Value};

use crate::document::{Body, Document, Origin, ReadOptions, TestConfig};
use crate::error::{Error, Result};
use crate::fold::{escape_token, fold};
use crate::kind::Kind;
use crate::meshery;
use crate::shape::{Shape, classify_object, page_records};
use crate::typed::{Ctx, decode_typed, get_folded};
use crate::{MeshType, PerformanceTestConfig, PerformanceTestResult, Protocol, ServiceMesh};

pub(super) fn decode_value(
    value: Value,
    index: usize,
    pointer: String,
    options: &ReadOptions,
    out: &mut Vec<Document>,
) -> Result<()> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                decode_value(item, index, format!("{pointer}/{i}"), options, out)?;
            }
            Ok(())
        }
        Value::Object(obj) => {
            let classified = classify_object(&obj);
            if classified == Ok(Shape::MesheryPage) {
                let key = page_records(&obj).unwrap_or_default().to_owned();
                let mut obj = obj;
                if let Some(Value::Array(items)) = obj.remove(&key) {
                    let token = escape_token(&key);
                    for (i, item) in items.into_iter().enumerate() {
                        decode_value(item, index, format!("{pointer}/{token}/{i}"), options, out)?;
                    }
                }
                return Ok(());
            }
            let shape = match (classified, options.kind) {
                (Ok(shape), Some(kind)) if shape.fits(kind) => shape,
                (_, Some(kind)) => Shape::Smp(kind),
                (Ok(shape), None) => shape,
                (Err(unknown), None) => {
                    return Err(Error::UnknownKind {
                        document: index,
                        reason: unknown.reason().to_owned(),
                    });
                }
            };
            let doc = decode_object(Value::Object(obj), shape, index, &pointer, options)?;
            out.push(doc);
            Ok(())
        }
        other => Err(Error::UnknownKind {
            document: index,
            reason: format!("it is {}, not a mapping", describe(&other)),
        }),
    }
}

pub(super) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

pub(super) fn decode_object(
    mut value: Value,
    shape: Shape,
    index: usize,
    pointer: &str,
    options: &ReadOptions,
) -> Result<Document> {
    let mut unknown = Vec::new();
    let mut ctx = Ctx {
        index,
        pointer,
        unknown: Some(&mut unknown),
    };
    if options.legacy_enum_numbers {
        rewrite_legacy_numbers(&mut value, shape, &ctx)?;
    }
    let (body, origin) = match shape {
        Shape::MesheryWrapper => (
            Body::TestConfig(decode_wrapper(&value, &mut ctx)?),
            Origin::MesheryWrapper,
        ),
        Shape::Smp(Kind::PerformanceTestConfig) => (
            Body::TestConfig(TestConfig::new(decode_typed(&value, &mut ctx, "")?)),
            Origin::Smp,
        ),
        Shape::Smp(Kind::PerformanceTestResult) => {
            let mut result: PerformanceTestResult = decode_typed(&value, &mut ctx, "")?;
            if result.smp_version == meshery::PERFORMANCE_SPEC_VERSION_MARKER {
                meshery::normalise_performance_spec(&mut result, options.legacy_latency_unit);
                (Body::TestResult(result), Origin::MesheryPerformanceSpec)
            } else {
                (Body::TestResult(result), Origin::Smp)
            }
        }
        Shape::Smp(Kind::ServiceMeshConfig) => (
            Body::MeshConfig(decode_typed(&value, &mut ctx, "")?),
            Origin::Smp,
        ),
        Shape::Smp(Kind::EnvironmentConfig) => (
            Body::Environment(decode_typed(&value, &mut ctx, "")?),
            Origin::Smp,
        ),
        Shape::Smp(Kind::ServiceMesh) => (
            Body::ServiceMesh(decode_typed(&value, &mut ctx, "")?),
            Origin::Smp,
        ),
        Shape::MesheryProfile => {
            let test = meshery::profile_to_config(&value, &mut ctx)?;
            (Body::TestConfig(test), Origin::MesheryProfile)
        }
        Shape::MesheryResult => {
            ctx.unknown = None;
            let (result, generator) = meshery::record_to_result(&value, &mut ctx)?;
            (
                Body::TestResult(result),
                Origin::MesheryResult { generator },
            )
        }
        Shape::FortioPayload => {
            ctx.unknown = None;
            let (result, generator) = meshery::fortio_to_result(&value, &mut ctx, "")?;
            (
                Body::TestResult(result),
                Origin::FortioPayload { generator },
            )
        }
        Shape::LegacyBenchmarkSpec => {
            ctx.unknown = None;
            let result =
                meshery::benchmark_spec_to_result(&value, &mut ctx, options.legacy_latency_unit)?;
            (Body::TestResult(result), Origin::LegacyBenchmarkSpec)
        }
        // `decode_value` splits pages into their records before this point.
        Shape::MesheryPage => {
            return Err(Error::UnknownKind {
                document: index,
                reason: "a Meshery page of records holds documents, it is not one".to_owned(),
            });
        }
    };
    Ok(Document {
        body,
        origin,
        index,
        pointer: pointer.to_owned(),
        unknown_fields: unknown,
    })
}

pub(super) fn decode_wrapper(value: &Value, ctx: &mut Ctx<'_>) -> Result<TestConfig> {
    let obj = value.as_object().map(|o| o as &Map<String, Value>);
    let empty = Map::new();
    let obj = obj.unwrap_or(&empty);
    let config = match get_folded(obj, "test") {
        Some((key, v)) if !v.is_null() => decode_typed(v, ctx, &format!("/{}", escape_token(key)))?,
        _ => PerformanceTestConfig::default(),
    };
    let mesh = match get_folded(obj, "mesh") {
        Some((_, Value::String(name))) => ServiceMesh::from_name(name),
        Some((_, Value::Null)) | None => None,
        Some((key, v)) => Some(decode_typed(v, ctx, &format!("/{}", escape_token(key)))?),
    };
    Ok(TestConfig { config, mesh })
}

/// Rewrites enum numbers of the pre-v0.3.0 protos into names, in place.
pub(super) fn rewrite_legacy_numbers(value: &mut Value, shape: Shape, ctx: &Ctx<'_>) -> Result<()> {
    fn number_of(v: &Value) -> Option<i64> {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    fn rewrite_field(
        obj: &mut Value,
        folded: &str,
        ptr: &str,
        ctx: &Ctx<'_>,
        map: fn(i64) -> Option<&'static str>,
        enum_name: &str,
    ) -> Result<()> {
        let Some(o) = obj.as_object_mut() else {
            return Ok(());
        };
        let Some(key) = o.keys().find(|k| fold(k) == folded).cloned() else {
            return Ok(());
        };
        let Some(v) = o.get_mut(&key) else {
            return Ok(());
        };
        if let Some(n) = number_of(v) {
            let name = map(n).ok_or_else(|| {
                ctx.field_error(
                    &format!("{ptr}/{}", escape_token(&key)),
                    format!("unknown legacy (pre-v0.3.0) {enum_name} number {n}"),
                )
            })?;
            *v = Value::String(name.to_owned());
        }
        Ok(())
    }
    fn child<'v>(v: &'v mut Value, folded: &str) -> Option<(String, &'v mut Value)> {
        let o = v.as_object_mut()?;
        let key = o.keys().find(|k| fold(k) == folded)?.clone();
        let c = o.get_mut(&key)?;
        Some((key, c))
    }
    let protocol = |n| Protocol::from_legacy_number(n).map(Protocol::name);
    let mesh = |n| MeshType::from_legacy_number(n).map(MeshType::name);
    let app =
        |n| crate::ApplicationProtocol::from_legacy_number(n).map(crate::ApplicationProtocol::name);
    let config = |v: &mut Value, base: &str| -> Result<()> {
        if let Some((key, Value::Array(clients))) = child(v, "clients") {
            for (i, c) in clients.iter_mut().enumerate() {
                let ptr = format!("{base}/{}/{i}", escape_token(&key));
                rewrite_field(c, "protocol", &ptr, ctx, protocol, "Protocol")?;
            }
        }
        Ok(())
    };
    // `type` of the ServiceMesh found under `parent` (the wrapper's `mesh`, a mesh config's
    // `meshType`).
    let mesh_under = |value: &mut Value, parent: &str| -> Result<()> {
        match child(value, parent) {
            Some((key, m)) => {
                let ptr = format!("/{}", escape_token(&key));
                rewrite_field(m, "type", &ptr, ctx, mesh, "ServiceMesh.Type")
            }
            None => Ok(()),
        }
    };
    match shape {
        Shape::MesheryWrapper => {
            if let Some((key, test)) = child(value, "test") {
                config(test, &format!("/{}", escape_token(&key)))?;
            }
            mesh_under(value, "mesh")?;
        }
        Shape::Smp(Kind::PerformanceTestConfig) => config(value, "")?,
        Shape::Smp(Kind::ServiceMesh) => {
            rewrite_field(value, "type", "", ctx, mesh, "ServiceMesh.Type")?;
        }
        Shape::Smp(Kind::ServiceMeshConfig) => {
            mesh_under(value, "meshtype")?;
            if let Some((key, a)) = child(value, "applicationmetadata") {
                let ptr = format!("/{}", escape_token(&key));
                rewrite_field(
                    a,
                    "applicationprotocol",
                    &ptr,
                    ctx,
                    app,
                    "ApplicationProtocol",
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}
