//! [`Report`]: every finding of one input, with a summary per document.

use serde::Serialize;
use serde_json::Value;
use smps_model::Kind;

use crate::Format;
use crate::violation::Violation;

/// One validated document of an input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DocumentSummary {
    /// 0-based index in the input.
    pub index: usize,
    /// JSON Pointer of the document inside its input document (`/2` for an element of a JSON
    /// array; empty for a whole document).
    pub pointer: String,
    /// The kind it was checked as (`None` when it could not be recognised).
    #[serde(serialize_with = "ser_kind")]
    pub kind: Option<Kind>,
    /// Whether it has no error.
    pub valid: bool,
    /// How many of its findings the report leaves out
    /// ([`ValidatorBuilder::max_findings`](crate::ValidatorBuilder::max_findings)).
    pub omitted: usize,
}

pub(super) fn ser_kind<S: serde::Serializer>(
    k: &Option<Kind>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match k {
        Some(k) => s.serialize_some(k.name()),
        None => s.serialize_none(),
    }
}

/// Every finding for one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub(super) name: String,
    pub(super) format: Format,
    pub(super) valid: bool,
    pub(super) documents: Vec<DocumentSummary>,
    pub(super) violations: Vec<Violation>,
    pub(super) omitted: usize,
}

impl Report {
    /// The input's name ([`Source::with_name`](crate::Source::with_name), the path, or `<text>`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The format the input was parsed as.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// `true` when no finding is an error.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// The documents found in the input.
    #[must_use]
    pub fn documents(&self) -> &[DocumentSummary] {
        &self.documents
    }

    /// Every finding, in document order, then by position.
    #[must_use]
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// How many findings are left out of [`Report::violations`] because a document had more
    /// than [`ValidatorBuilder::max_findings`](crate::ValidatorBuilder::max_findings); 0 when the report is complete.
    #[must_use]
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// The error findings.
    pub fn iter_errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.is_error())
    }

    /// The warning findings.
    pub fn iter_warnings(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| !v.is_error())
    }

    /// The report as a JSON value (`name`, `format`, `valid`, `documents`, `violations`,
    /// `omitted`).
    #[must_use]
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
