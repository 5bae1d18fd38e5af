//! The reader checks: a document the schema and rules accept must also be readable by
//! smps-model (and, for YAML, by libyaml-compatible readers).

use serde_json::{Map, Value};
use smps_model::Kind;
use smps_model::spelling;

use super::unit::{Pending, Unit};
use crate::Format;
use crate::doc::{Pointer, Target};
use crate::schema::RawFinding;
use crate::violation::{Rule, ViolationKind};

pub(super) fn with_converted_path(kind: ViolationKind, pointer: &Pointer) -> ViolationKind {
    match kind {
        ViolationKind::Unreadable { message } => ViolationKind::Unreadable {
            message: format!("{message} (converted field {pointer})"),
        },
        other => other,
    }
}

/// Runs serde_yaml's parser (no values built) over the input; its first error becomes a
/// finding on the document it stopped in.
#[cfg(feature = "yaml")]
pub(super) fn yaml_syntax_gate(text: &str, units: &[Unit]) -> Option<Pending> {
    use serde::Deserialize as _;
    for (index, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        if let Err(e) = serde::de::IgnoredAny::deserialize(doc) {
            let unit = units.iter().position(|u| u.document == index).unwrap_or(0);
            return Some(Pending {
                unit,
                rule: Rule::ModelRead,
                target: Target {
                    pointer: units.get(unit).map(|u| u.base.clone()).unwrap_or_default(),
                    at_key: false,
                    root: None,
                },
                kind: ViolationKind::Unreadable {
                    message: format!("smps-model's YAML parser rejects the document: {e}"),
                },
            });
        }
    }
    None
}

#[cfg(not(feature = "yaml"))]
pub(super) fn yaml_syntax_gate(_text: &str, _units: &[Unit]) -> Option<Pending> {
    None
}

/// Runs smps-model's own reader over the whole input; its first error becomes a finding.
pub(super) fn reader_gate(
    text: &str,
    format: Format,
    forced: Option<Kind>,
    units: &[Unit],
) -> Option<Pending> {
    let mut options = smps_model::ReadOptions::default().with_format(match format {
        Format::Json => smps_model::Format::Json,
        Format::Yaml => smps_model::Format::Yaml,
    });
    if let Some(k) = forced {
        options = options.with_kind(k);
    }
    let e = smps_model::read_all(text, &options).err()?;
    let (document, pointer) = match &e {
        smps_model::Error::InvalidField {
            document, pointer, ..
        } => (*document, Pointer::parse(pointer)),
        smps_model::Error::UnknownKind { document, .. } => (*document, Pointer::root()),
        _ => (units.first().map_or(0, |u| u.document), Pointer::root()),
    };
    let unit = units
        .iter()
        .position(|u| u.document == document)
        .unwrap_or(0);
    // The model names fields as written; the locator matches canonical names.
    let canonical = Pointer(
        pointer
            .0
            .iter()
            .map(|s| spelling::canonical_key(s).into_owned())
            .collect(),
    );
    let mut message = e.to_string();
    if let smps_model::Error::ParseYaml { line, column, .. }
    | smps_model::Error::ParseJson { line, column, .. } = &e
    {
        message = format!("{message} (smps-model's parser, at {line}:{column})");
    }
    Some(Pending {
        unit,
        rule: Rule::ModelRead,
        target: Target {
            pointer: canonical.under(&units.get(unit).map(|u| u.base.clone()).unwrap_or_default()),
            at_key: false,
            root: None,
        },
        kind: ViolationKind::Unreadable { message },
    })
}

/// Applies kind-specific root aliases (`sidecars` → `sidecar`, `kubernetes` →
/// `kubernetesVersion`); `None` when nothing changes.
pub(super) fn root_renamed(kind: Kind, value: &Value) -> Option<Value> {
    let Value::Object(m) = value else { return None };
    if !m.keys().any(|k| spelling::root_alias(kind, k).is_some()) {
        return None;
    }
    let mut out = Map::new();
    for (k, v) in m {
        let key = spelling::root_alias(kind, k).map_or_else(|| k.clone(), str::to_owned);
        out.insert(key, v.clone());
    }
    Some(Value::Object(out))
}

/// Reads the document with smps-model's typed reader; a failure is a finding.
pub(super) fn model_read(kind: Kind, value: &Value) -> Option<RawFinding> {
    let e = smps_model::from_value(kind, value).err()?;
    let pointer = e.pointer().map_or_else(Pointer::root, Pointer::parse);
    let message = match e {
        smps_model::Error::InvalidField { message, .. } => message,
        other => other.to_string(),
    };
    Some(RawFinding {
        rule: Rule::ModelRead,
        pointer,
        at_key: false,
        kind: ViolationKind::Unreadable { message },
    })
}
