//! Writing documents in canonical proto3 JSON or Meshery's dialect, as YAML or JSON.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::document::{Body, Document, Format, SmpDocument, TestConfig};
use crate::error::{Error, Result};
use crate::kind::Kind;
use crate::spelling::is_user_map;
use crate::{ApplicationProtocol, MeshType, Protocol};

/// The dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Dialect {
    /// Canonical proto3 JSON mapping: lowerCamelCase keys, enum names, int64 as strings,
    /// default values omitted, timestamps in UTC. A test configuration that carries a mesh is
    /// written as `{test, mesh}` so the mesh is not lost; one without is written flat.
    #[default]
    Canonical,
    /// What Meshery and its Go tools read (`encoding/json` on the generated Go types):
    /// snake_case keys, enum numbers, int64 as numbers, defaults omitted; test configurations
    /// in the `{test, mesh}` wrapper that `mesheryctl perf apply -f` requires.
    Meshery,
}

impl Dialect {
    /// Finds a dialect by name: `canonical` (or `proto`, `smp`) and `meshery`.
    pub fn from_name(name: &str) -> Option<Dialect> {
        match name.trim().to_ascii_lowercase().as_str() {
            "canonical" | "proto" | "proto3" | "smp" => Some(Dialect::Canonical),
            "meshery" => Some(Dialect::Meshery),
            _ => None,
        }
    }
}

/// Writes a document in `dialect` as `format` text.
///
/// # Errors
///
/// [`Error::Write`] if serialisation fails (it does not for values built by this crate).
///
/// # Examples
///
/// ```
/// use smps_model::{Dialect, Format, ReadOptions};
///
/// let doc = smps_model::read(r#"{"clients": [{"protocol": "http", "rps": "10"}]}"#, &ReadOptions::default())?;
/// let meshery = smps_model::write(&doc, Dialect::Meshery, Format::Json)?;
/// assert!(meshery.contains("\"protocol\": 1"));
/// assert!(meshery.contains("\"rps\": 10"));
/// # Ok::<(), smps_model::Error>(())
/// ```
pub fn write(document: &Document, dialect: Dialect, format: Format) -> Result<String> {
    let value = body_to_value(&document.body, dialect)?;
    render(&value, format)
}

/// Writes several documents: a YAML stream (`---` between documents) or a JSON array.
///
/// # Errors
///
/// As [`write()`].
pub fn write_all(documents: &[Document], dialect: Dialect, format: Format) -> Result<String> {
    match format {
        Format::Json => {
            let values = documents
                .iter()
                .map(|d| body_to_value(&d.body, dialect))
                .collect::<Result<Vec<_>>>()?;
            render(&Value::Array(values), format)
        }
        Format::Yaml => {
            let mut out = String::new();
            for d in documents {
                out.push_str("---\n");
                out.push_str(&render(&body_to_value(&d.body, dialect)?, format)?);
            }
            Ok(out)
        }
    }
}

/// Writes one SMP value (a message type or a [`TestConfig`]).
///
/// # Errors
///
/// As [`write()`].
///
/// # Examples
///
/// ```
/// use smps_model::{Dialect, Format, ServiceMesh, MeshType};
/// let yaml = smps_model::write_value(&ServiceMesh::new(MeshType::Istio), Dialect::Canonical, Format::Yaml)?;
/// assert_eq!(yaml, "type: ISTIO\n");
/// # Ok::<(), smps_model::Error>(())
/// ```
pub fn write_value<T: SmpDocument + Clone>(
    value: &T,
    dialect: Dialect,
    format: Format,
) -> Result<String> {
    let body = value.clone().into_body();
    render(&body_to_value(&body, dialect)?, format)
}

/// The JSON tree of a body in a dialect.
///
/// # Errors
///
/// [`Error::Write`] if serialisation fails.
pub fn to_value(body: &Body, dialect: Dialect) -> Result<Value> {
    body_to_value(body, dialect)
}

fn json<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Write {
        format: "JSON",
        source: Box::new(e),
    })
}

fn body_to_value(body: &Body, dialect: Dialect) -> Result<Value> {
    let kind = body.kind();
    let value = match body {
        Body::TestConfig(TestConfig { config, mesh }) => {
            let test = json(config)?;
            match (dialect, mesh) {
                (Dialect::Canonical, None) => test,
                (_, mesh) => {
                    let mut wrapper = Map::new();
                    wrapper.insert("test".to_owned(), test);
                    if let Some(m) = mesh {
                        wrapper.insert("mesh".to_owned(), json(m)?);
                    }
                    Value::Object(wrapper)
                }
            }
        }
        Body::TestResult(r) => json(r)?,
        Body::MeshConfig(m) => json(m)?,
        Body::Environment(e) => json(e)?,
        Body::ServiceMesh(m) => json(m)?,
    };
    Ok(match dialect {
        Dialect::Canonical => value,
        Dialect::Meshery => to_meshery(kind, value),
    })
}

fn render(value: &Value, format: Format) -> Result<String> {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(value).map_err(|e| Error::Write {
                format: "JSON",
                source: Box::new(e),
            })?;
            s.push('\n');
            Ok(s)
        }
        Format::Yaml => serde_yaml::to_string(value).map_err(|e| Error::Write {
            format: "YAML",
            source: Box::new(e),
        }),
    }
}

/// Replaces an enum name by its number, in place.
fn enum_number(obj: &mut Value, key: &str, number: fn(&str) -> Option<i32>) {
    if let Some(v) = obj.get_mut(key) {
        if let Some(n) = v.as_str().and_then(number) {
            *v = Value::from(n);
        }
    }
}

/// Replaces a decimal-string int64 by a JSON number, in place.
fn int64_number(obj: &mut Value, key: &str) {
    if let Some(v) = obj.get_mut(key) {
        if let Some(n) = v.as_str().and_then(|s| s.parse::<i64>().ok()) {
            *v = Value::from(n);
        }
    }
}

fn children<'a>(value: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    value
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// Canonical tree → Meshery dialect: enum numbers, int64 numbers, snake_case keys.
fn to_meshery(kind: Kind, mut value: Value) -> Value {
    let protocol = |s: &str| Protocol::parse(s).ok().map(Protocol::number);
    let mesh = |s: &str| MeshType::parse(s).ok().map(MeshType::number);
    let app = |s: &str| {
        ApplicationProtocol::parse(s)
            .ok()
            .map(ApplicationProtocol::number)
    };
    match kind {
        Kind::PerformanceTestConfig => {
            let test = if value.get("test").is_some() {
                value.get_mut("test")
            } else {
                Some(&mut value)
            };
            if let Some(test) = test {
                for client in children(test, "clients") {
                    enum_number(client, "protocol", protocol);
                    int64_number(client, "rps");
                }
            }
            if let Some(m) = value.get_mut("mesh") {
                enum_number(m, "type", mesh);
            }
        }
        Kind::ServiceMesh => enum_number(&mut value, "type", mesh),
        Kind::ServiceMeshConfig => {
            if let Some(m) = value.get_mut("meshType") {
                enum_number(m, "type", mesh);
            }
            if let Some(a) = value.get_mut("applicationMetadata") {
                enum_number(a, "applicationProtocol", app);
            }
        }
        Kind::EnvironmentConfig => {
            for node in children(&mut value, "nodes") {
                int64_number(node, "memMb");
            }
        }
        Kind::PerformanceTestResult => {}
    }
    snake_keys(value)
}

/// `cpuMcores` → `cpu_mcores`, `k8sVersionSupported` → `k8s_version_supported`.
pub(crate) fn camel_to_snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn snake_keys(value: Value) -> Value {
    match value {
        Value::Object(obj) => Value::Object(
            obj.into_iter()
                .map(|(k, v)| {
                    let v = if is_user_map(&k) { v } else { snake_keys(v) };
                    (camel_to_snake(&k), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(snake_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_keys_become_proto_field_names() {
        for (camel, snake) in [
            ("smpVersion", "smp_version"),
            ("cpuMcores", "cpu_mcores"),
            ("k8sVersionSupported", "k8s_version_supported"),
            ("loadBalanceIp", "load_balance_ip"),
            ("latenciesMs", "latencies_ms"),
            ("ldsLatencyMs", "lds_latency_ms"),
            ("id", "id"),
        ] {
            assert_eq!(camel_to_snake(camel), snake);
        }
    }
}
