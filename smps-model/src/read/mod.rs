//! Reading SMP documents in every dialect met in the wild.
//!
//! The text is parsed once into a JSON tree (YAML is converted, keeping every document of a
//! stream), each document's kind is recognised from its keys unless the caller names it, and the
//! tree is decoded into the typed model with lenient value rules (see `de.rs`). Field errors
//! carry the JSON Pointer of the offending value as the user wrote it.
//!
//! One file per job: the entry points here; decoding a tree into documents in `decode.rs`.
//! The document types live in `crate::document`, recognising a document's shape in
//! `crate::shape`, typed decoding in `crate::typed`.

mod decode;

use serde_json::Value;

use crate::document::{Document, Format, ReadOptions, SmpDocument};
use crate::error::{Error, Result};

use self::decode::decode_value;

/// Reads exactly one document.
///
/// # Errors
///
/// Syntax errors (with line and column), an unrecognised kind, a field of the wrong type (with
/// its JSON Pointer), or [`Error::DocumentCount`] when the input holds no or several documents.
///
/// # Examples
///
/// ```
/// use smps_model::{ReadOptions, Kind};
/// let doc = smps_model::read("smp_version: v0.0.1\nclients: []\nduration: 30m\n", &ReadOptions::default())?;
/// assert_eq!(doc.kind(), Kind::PerformanceTestConfig);
/// # Ok::<(), smps_model::Error>(())
/// ```
pub fn read(text: &str, options: &ReadOptions) -> Result<Document> {
    let mut docs = read_all(text, options)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        found => Err(Error::DocumentCount { found }),
    }
}

/// Reads exactly one document of type `T`.
///
/// # Errors
///
/// As [`read`], plus [`Error::WrongKind`] when the document is of another kind.
///
/// # Examples
///
/// ```
/// use smps_model::{PerformanceTestResult, ReadOptions};
/// let r: PerformanceTestResult = smps_model::read_as(
///     r#"{"latenciesMs": {"p50": 2.5}, "actualQps": "NaN"}"#,
///     &ReadOptions::default(),
/// )?;
/// assert_eq!(r.latencies_ms.unwrap().p50, 2.5);
/// assert!(r.actual_qps.is_nan());
/// # Ok::<(), smps_model::Error>(())
/// ```
pub fn read_as<T: SmpDocument>(text: &str, options: &ReadOptions) -> Result<T> {
    let options = options.clone().with_kind(T::KIND);
    let doc = read(text, &options)?;
    let found = doc.kind();
    T::from_body(doc.body).ok_or(Error::WrongKind {
        expected: T::KIND.name(),
        found: found.name(),
    })
}

/// Reads every document of the input: each document of a YAML stream, each element of a JSON
/// array, and each record of a Meshery page (`results` / `profiles`).
///
/// # Errors
///
/// The first error met, as for [`read`]; an input with no document gives [`Error::Empty`].
pub fn read_all(text: &str, options: &ReadOptions) -> Result<Vec<Document>> {
    let format = options.format.unwrap_or_else(|| Format::detect(text));
    let values = parse_values(text, format)?;
    let mut out = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        decode_value(value, index, String::new(), options, &mut out)?;
    }
    if out.is_empty() {
        return Err(Error::Empty);
    }
    Ok(out)
}

/// Reads every document of an already parsed tree, as [`read_all`] reads one parsed document
/// (a root list and a Meshery page give one document per element, all with index 0).
/// `options.format` is not used.
///
/// # Errors
///
/// As [`read_all`]: an unrecognised kind, or [`Error::InvalidField`] with the JSON Pointer of
/// the value that cannot be read; [`Error::Empty`] when the tree holds no document (`null`,
/// an empty list).
///
/// # Examples
///
/// ```
/// use smps_model::{Kind, ReadOptions};
/// let tree = serde_json::json!({"kubernetes": "v1.29.3", "nodes": [{"cores": 4}]});
/// let docs = smps_model::read_value(tree, &ReadOptions::default())?;
/// assert_eq!(docs[0].kind(), Kind::EnvironmentConfig);
/// assert_eq!(docs[0].as_environment().unwrap().kubernetes_version, "v1.29.3");
/// # Ok::<(), smps_model::Error>(())
/// ```
pub fn read_value(value: Value, options: &ReadOptions) -> Result<Vec<Document>> {
    let mut out = Vec::new();
    decode_value(value, 0, String::new(), options, &mut out)?;
    if out.is_empty() {
        return Err(Error::Empty);
    }
    Ok(out)
}

/// Parses the text into one JSON tree per document (YAML streams and JSON value streams).
///
/// # Errors
///
/// [`Error::ParseYaml`] or [`Error::ParseJson`] with the line and column of the problem.
pub fn parse_values(text: &str, format: Format) -> Result<Vec<Value>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Json => {
            let mut out = Vec::new();
            for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
                out.push(value.map_err(|e| json_error(&e))?);
            }
            Ok(out)
        }
        Format::Yaml => crate::yaml::parse(text),
    }
}

fn json_error(e: &serde_json::Error) -> Error {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full.clone(),
    };
    Error::ParseJson {
        line: e.line().max(1),
        column: e.column().max(1),
        message,
        source: full.into(),
    }
}
