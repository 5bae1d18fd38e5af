//! Typed decoding of a JSON tree into the model's types, with the JSON Pointer of every field
//! error and of every ignored field; and [`from_value`], the same for callers holding a tree.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::document::{Body, TestConfig, UnknownField};
use crate::error::{Error, Result};
use crate::fold::{escape_token, fold};
use crate::kind::Kind;
use crate::{
    EnvironmentConfig, PerformanceTestConfig, PerformanceTestResult, ServiceMesh, ServiceMeshConfig,
};

/// Reads the SMP message of `kind` at the root of `value` with the model's value rules
/// (lenient numbers, strings, enums, durations and timestamps; see [`crate::spelling`] for
/// numbers in text fields). Unknown fields are ignored; no shape is recognised: the value is
/// the message itself, its keys in any of the spellings the model reads.
///
/// # Errors
///
/// [`Error::InvalidField`] (document 0) with the JSON Pointer of the first value that cannot
/// be read, in the keys as written.
///
/// # Examples
///
/// ```
/// use smps_model::{Body, Kind, from_value};
/// let value = serde_json::json!({"latencies_ms": {"p50": "2.5"}});
/// let Body::TestResult(r) = from_value(Kind::PerformanceTestResult, &value)? else { unreachable!() };
/// assert_eq!(r.latencies_ms.unwrap().p50, 2.5);
///
/// let bad = serde_json::json!({"clients": [{"connections": "many"}]});
/// let e = from_value(Kind::PerformanceTestConfig, &bad).unwrap_err();
/// assert_eq!(e.pointer(), Some("/clients/0/connections"));
/// # Ok::<(), smps_model::Error>(())
/// ```
pub fn from_value(kind: Kind, value: &Value) -> Result<Body> {
    fn read<T: DeserializeOwned>(value: &Value) -> Result<T> {
        // Without path tracking first; again with it only to name the failing field.
        if let Ok(t) = T::deserialize(value) {
            return Ok(t);
        }
        let mut ctx = Ctx {
            index: 0,
            pointer: "",
            unknown: None,
        };
        decode_typed(value, &mut ctx, "")
    }
    Ok(match kind {
        Kind::PerformanceTestConfig => {
            Body::TestConfig(TestConfig::new(read::<PerformanceTestConfig>(value)?))
        }
        Kind::PerformanceTestResult => Body::TestResult(read::<PerformanceTestResult>(value)?),
        Kind::ServiceMeshConfig => Body::MeshConfig(read::<ServiceMeshConfig>(value)?),
        Kind::EnvironmentConfig => Body::Environment(read::<EnvironmentConfig>(value)?),
        Kind::ServiceMesh => Body::ServiceMesh(read::<ServiceMesh>(value)?),
    })
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

fn ignored_pointer(path: &serde_ignored::Path<'_>) -> String {
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

/// Finds a key by folded name.
pub(crate) fn get_folded<'v>(
    obj: &'v Map<String, Value>,
    folded: &str,
) -> Option<(&'v str, &'v Value)> {
    obj.iter()
        .find(|(k, _)| fold(k) == folded)
        .map(|(k, v)| (k.as_str(), v))
}
