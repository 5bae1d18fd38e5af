//! Decoding a recognised JSON tree into the typed model, with the JSON Pointer of every
//! field error and every ignored field.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::*;
use crate::error::{Error, Result};
use crate::meshery::{self};
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
            if let Some(key) = is_envelope(&obj) {
                let key = key.to_owned();
                let mut obj = obj;
                if let Some(Value::Array(items)) = obj.remove(&key) {
                    for (i, item) in items.into_iter().enumerate() {
                        decode_value(item, index, format!("{pointer}/{key}/{i}"), options, out)?;
                    }
                }
                return Ok(());
            }
            let shape = match (classify(&obj), options.kind) {
                (Ok(shape), Some(kind)) if shape_fits(shape, kind) => shape,
                (_, Some(kind)) => Shape::Proto(kind),
                (Ok(shape), None) => shape,
                (Err(reason), None) => {
                    return Err(Error::UnknownKind {
                        document: index,
                        reason,
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

/// Decoding context: where we are, for error pointers and unknown-field reports.
pub(crate) struct Ctx<'a> {
    pub(crate) index: usize,
    pub(crate) pointer: &'a str,
    pub(crate) unknown: Option<&'a mut Vec<UnknownField>>,
}

impl Ctx<'_> {
    /// An [`Error::InvalidField`] at `sub` (a pointer relative to the context).
    pub(crate) fn field_error(&self, sub: &str, message: impl Into<String>) -> Error {
        Error::InvalidField {
            document: self.index,
            pointer: format!("{}{sub}", self.pointer),
            message: message.into(),
        }
    }
}

/// Decodes `value` into `T`, with field errors located by JSON Pointer and unknown fields
/// recorded (relative to `sub` inside the context's document).
pub(crate) fn decode_typed<T: DeserializeOwned>(
    value: &Value,
    ctx: &mut Ctx<'_>,
    sub: &str,
) -> Result<T> {
    let mut ignored: Vec<String> = Vec::new();
    let mut callback = |path: serde_ignored::Path<'_>| ignored.push(ignored_pointer(&path));
    let de = serde_ignored::Deserializer::new(value, &mut callback);
    let result: std::result::Result<T, _> = serde_path_to_error::deserialize(de);
    match result {
        Ok(t) => {
            if let Some(unknown) = ctx.unknown.as_deref_mut() {
                for p in ignored {
                    unknown.push(UnknownField {
                        value: value.pointer(&p).cloned().unwrap_or(Value::Null),
                        pointer: format!("{}{sub}{p}", ctx.pointer),
                    });
                }
            }
            Ok(t)
        }
        Err(e) => {
            let mut p = String::from(sub);
            for seg in e.path().iter() {
                match seg {
                    serde_path_to_error::Segment::Seq { index } => {
                        p.push('/');
                        p.push_str(&index.to_string());
                    }
                    serde_path_to_error::Segment::Map { key } => {
                        p.push('/');
                        p.push_str(&escape_token(key));
                    }
                    serde_path_to_error::Segment::Enum { .. }
                    | serde_path_to_error::Segment::Unknown => {}
                }
            }
            Err(ctx.field_error(&p, e.into_inner().to_string()))
        }
    }
}

pub(super) fn ignored_pointer(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}/{index}", ignored_pointer(parent)),
        Path::Map { parent, key } => format!("{}/{}", ignored_pointer(parent), escape_token(key)),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_pointer(parent),
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
        Shape::Wrapper => (
            Body::TestConfig(decode_wrapper(&value, &mut ctx)?),
            Origin::MesheryWrapper,
        ),
        Shape::Proto(Kind::PerformanceTestConfig) => (
            Body::TestConfig(TestConfig::new(decode_typed(&value, &mut ctx, "")?)),
            Origin::Smp,
        ),
        Shape::Proto(Kind::PerformanceTestResult) => {
            let mut result: PerformanceTestResult = decode_typed(&value, &mut ctx, "")?;
            if result.smp_version == meshery::PERFORMANCE_SPEC_VERSION_MARKER {
                meshery::normalise_performance_spec(&mut result, options.legacy_latency_unit);
                (Body::TestResult(result), Origin::MesheryPerformanceSpec)
            } else {
                (Body::TestResult(result), Origin::Smp)
            }
        }
        Shape::Proto(Kind::ServiceMeshConfig) => (
            Body::MeshConfig(decode_typed(&value, &mut ctx, "")?),
            Origin::Smp,
        ),
        Shape::Proto(Kind::EnvironmentConfig) => (
            Body::Environment(decode_typed(&value, &mut ctx, "")?),
            Origin::Smp,
        ),
        Shape::Proto(Kind::ServiceMesh) => (
            Body::ServiceMesh(decode_typed(&value, &mut ctx, "")?),
            Origin::Smp,
        ),
        Shape::Profile => {
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
        Shape::Fortio => {
            ctx.unknown = None;
            let (result, generator) = meshery::fortio_to_result(&value, &mut ctx, "")?;
            (
                Body::TestResult(result),
                Origin::FortioPayload { generator },
            )
        }
        Shape::BenchmarkSpec => {
            ctx.unknown = None;
            let result =
                meshery::benchmark_spec_to_result(&value, &mut ctx, options.legacy_latency_unit)?;
            (Body::TestResult(result), Origin::LegacyBenchmarkSpec)
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

/// Finds a key by folded name.
pub(crate) fn get_folded<'v>(
    obj: &'v Map<String, Value>,
    folded: &str,
) -> Option<(&'v str, &'v Value)> {
    obj.iter()
        .find(|(k, _)| fold(k) == folded)
        .map(|(k, v)| (k.as_str(), v))
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
        Shape::Wrapper => {
            if let Some((key, test)) = child(value, "test") {
                config(test, &format!("/{}", escape_token(&key)))?;
            }
            mesh_under(value, "mesh")?;
        }
        Shape::Proto(Kind::PerformanceTestConfig) => config(value, "")?,
        Shape::Proto(Kind::ServiceMesh) => {
            rewrite_field(value, "type", "", ctx, mesh, "ServiceMesh.Type")?;
        }
        Shape::Proto(Kind::ServiceMeshConfig) => {
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
