//! The units a validator checks (a document, or an element of a root array) and the findings
//! pending on them before they are located.

use std::collections::HashMap;

use serde_json::Value;

use crate::doc::{Parsed, Pointer, Target};
use crate::violation::{Rule, ViolationKind};

/// A document to check: a YAML document, a JSON document, or an element of a root array.
pub(super) struct Unit {
    pub(super) document: usize,
    pub(super) base: Pointer,
    pub(super) value: Value,
    pub(super) duplicates: Vec<Pointer>,
    /// YAML's non-finite numbers, read as strings (see [`Parsed::non_finite`]).
    pub(super) non_finite: Vec<(Pointer, String)>,
}

/// A finding with its absolute canonical pointer, before locating.
pub(super) struct Pending {
    pub(super) unit: usize,
    pub(super) rule: Rule,
    pub(super) target: Target,
    pub(super) kind: ViolationKind,
}

/// Splits a root array into one unit per element (as smps-model's `read_all` does).
pub(super) fn split_units(document: usize, parsed: Parsed) -> Vec<Unit> {
    match parsed.value {
        Value::Array(items) => {
            // Each element's duplicates, in one pass over them.
            let mut dups: HashMap<String, Vec<Pointer>> = HashMap::new();
            for p in parsed.duplicates {
                if let Some(first) = p.0.first() {
                    dups.entry(first.clone()).or_default().push(p);
                }
            }
            let mut non_finite: HashMap<String, Vec<(Pointer, String)>> = HashMap::new();
            for (p, written) in parsed.non_finite {
                if let Some(first) = p.0.first() {
                    non_finite
                        .entry(first.clone())
                        .or_default()
                        .push((p, written));
                }
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, value)| {
                    let idx = i.to_string();
                    Unit {
                        document,
                        duplicates: dups.remove(&idx).unwrap_or_default(),
                        non_finite: non_finite.remove(&idx).unwrap_or_default(),
                        base: Pointer(vec![idx]),
                        value,
                    }
                })
                .collect()
        }
        value => vec![Unit {
            document,
            base: Pointer::root(),
            value,
            duplicates: parsed.duplicates,
            non_finite: parsed.non_finite,
        }],
    }
}
