//! [`ValidatorBuilder`] (limits and rule selection) and the constructors `Validator::new` and
//! `Validator::builder`.

use std::collections::HashSet;

use super::Validator;
use super::settings::*;
use crate::Result;
use crate::schema::{CompiledSchema, KINDS};
use crate::violation::Rule;

/// Builds a [`Validator`].
///
/// # Examples
///
/// ```
/// use smps_validate::{Rule, Validator};
///
/// let validator = Validator::builder()
///     .max_input_bytes(1 << 20)
///     .disable(Rule::LatencyUnit)
///     .build()?;
/// assert!(validator.is_valid_str("latencies_ms: {p50: 0.1, p90: 0.2}"));
/// # Ok::<(), smps_validate::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ValidatorBuilder {
    max_input_bytes: u64,
    max_depth: usize,
    max_nodes: usize,
    max_findings: usize,
    disabled: HashSet<Rule>,
    reader_check: ReaderCheck,
    fast_path: bool,
}

impl Default for ValidatorBuilder {
    fn default() -> Self {
        ValidatorBuilder {
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
            max_nodes: DEFAULT_MAX_NODES,
            max_findings: DEFAULT_MAX_FINDINGS,
            disabled: HashSet::new(),
            reader_check: ReaderCheck::Full,
            fast_path: true,
        }
    }
}

impl ValidatorBuilder {
    /// Inputs larger than this are rejected with [`crate::Error::TooLarge`] (files are never read
    /// beyond it). Default [`DEFAULT_MAX_INPUT_BYTES`].
    pub fn max_input_bytes(mut self, bytes: u64) -> Self {
        self.max_input_bytes = bytes;
        self
    }

    /// Documents nesting deeper are rejected with [`crate::Error::TooDeep`]. Default
    /// [`DEFAULT_MAX_DEPTH`]; JSON input is further capped at 128 by serde_json.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth.max(1);
        self
    }

    /// YAML documents with more nodes (alias expansions included) are rejected with
    /// [`crate::Error::TooManyNodes`]. Default [`DEFAULT_MAX_NODES`].
    pub fn max_nodes(mut self, nodes: usize) -> Self {
        self.max_nodes = nodes.max(1);
        self
    }

    /// Reports list at most this many findings per document; the others are counted
    /// ([`crate::Report::omitted`], [`crate::DocumentSummary::omitted`]) but not located or listed. Default
    /// [`DEFAULT_MAX_FINDINGS`]; `usize::MAX` lists everything. At least 1.
    ///
    /// When a document has more findings than this, its errors are listed before its
    /// warnings, each in order of position, so a capped report still shows why the document
    /// is invalid. Validity ([`crate::Report::is_valid`], [`crate::DocumentSummary::valid`]) always counts
    /// every finding.
    ///
    /// # Examples
    ///
    /// ```
    /// use smps_validate::Validator;
    ///
    /// let validator = Validator::builder().max_findings(2).build()?;
    /// let text = "latencies_ms: {min: 9, p50: 8, p90: 7, p99: 6, max: 5}\n";
    /// let report = validator.report_str(text)?;
    /// assert_eq!(report.violations().len(), 2);
    /// assert_eq!(report.omitted(), 2);
    /// assert_eq!(report.documents()[0].omitted, 2);
    /// # Ok::<(), smps_validate::Error>(())
    /// ```
    pub fn max_findings(mut self, findings: usize) -> Self {
        self.max_findings = findings.max(1);
        self
    }

    /// Drops findings of `rule` from every report.
    pub fn disable(mut self, rule: Rule) -> Self {
        self.disabled.insert(rule);
        self
    }

    /// How to make sure valid documents are readable by smps-model. Default
    /// [`ReaderCheck::Full`].
    pub fn reader_check(mut self, check: ReaderCheck) -> Self {
        self.reader_check = check;
        self
    }

    /// Whether plainly canonical JSON documents may take the fast path. Default `true`.
    ///
    /// The fast path reads a JSON document into a borrowed tree, checks it against the strict
    /// schema compiled into a direct checker, runs the same semantic rules, and answers
    /// "valid" only when every check passes with no finding at all. It skips the typed read
    /// the full path makes, which those checks imply (see the crate docs).
    /// Everything else (any finding, snake_case keys, `null` fields, YAML, arrays of
    /// documents, a schema construct the checker does not know) goes the full path, which
    /// uses the jsonschema crate and locates findings. Reports are identical either way; turn
    /// it off to compare the two or to measure the full path.
    pub fn fast_path(mut self, enabled: bool) -> Self {
        self.fast_path = enabled;
        self
    }

    /// Compiles the schemas of every kind.
    ///
    /// # Errors
    ///
    /// [`crate::Error::CompileSchema`] if a schema from smps-model does not compile (a bug).
    pub fn build(self) -> Result<Validator> {
        let schemas = KINDS
            .iter()
            .map(|k| CompiledSchema::new(*k))
            .collect::<Result<Vec<_>>>()?;
        Ok(Validator {
            schemas,
            max_input_bytes: self.max_input_bytes,
            max_depth: self.max_depth,
            max_nodes: self.max_nodes,
            max_findings: self.max_findings,
            disabled: self.disabled,
            reader_check: self.reader_check,
            fast_path: self.fast_path,
        })
    }
}

impl Validator {
    /// A validator with default limits and every rule enabled.
    ///
    /// # Errors
    ///
    /// As [`ValidatorBuilder::build`].
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// A builder for limits and rule selection.
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder::default()
    }
}
