//! [`ValidatorBuilder`] and the limits it sets.

use std::collections::HashSet;

use super::*;
use crate::Result;
use crate::schema::{CompiledSchema, KINDS};
use crate::violation::Rule;

/// Default size limit: 64 MiB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;
/// Default nesting limit. SMP documents nest fewer than 10 levels.
pub const DEFAULT_MAX_DEPTH: usize = 64;
/// Default node limit per YAML document, alias expansions included.
pub const DEFAULT_MAX_NODES: usize = 1_000_000;
/// Default cap on the findings a report lists per document (the rest are counted).
pub const DEFAULT_MAX_FINDINGS: usize = 100;

/// How far the validator goes to guarantee that a document it calls valid is one smps-model's
/// reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReaderCheck {
    /// Also run [`smps_model::read_all`] on every YAML input that has no error. This catches
    /// the rare inputs saphyr-parser accepts and smps-model's parser (serde_yaml, libyaml) does
    /// not, or reads differently, at the cost of a second parse of valid YAML inputs. JSON
    /// inputs go through serde_json on both sides, so the typed check below suffices. The
    /// default.
    #[default]
    Full,
    /// Run only smps-model's YAML *parser* (serde_yaml, without building values) over YAML
    /// inputs with no error: catches the grammar differences between saphyr-parser and libyaml
    /// at about half the cost of [`ReaderCheck::Full`]. Scalars are resolved as serde_yaml does
    /// in every mode, so the remaining gap is small, but it is not empty: the two parsers read
    /// some malformed flow collections with different keys (`{type":E x", "version": 1}`),
    /// which only [`ReaderCheck::Full`] catches.
    Syntax,
    /// Only deserialise smps-model's types from our own parse (done in both modes). Faster
    /// for YAML; edge cases that saphyr-parser and serde_yaml read differently may slip through.
    Typed,
}

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
    /// Inputs larger than this are rejected with [`Error::TooLarge`] (files are never read
    /// beyond it). Default [`DEFAULT_MAX_INPUT_BYTES`].
    pub fn max_input_bytes(mut self, bytes: u64) -> Self {
        self.max_input_bytes = bytes;
        self
    }

    /// Documents nesting deeper are rejected with [`Error::TooDeep`]. Default
    /// [`DEFAULT_MAX_DEPTH`]; JSON input is further capped at 128 by serde_json.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth.max(1);
        self
    }

    /// YAML documents with more nodes (alias expansions included) are rejected with
    /// [`Error::TooManyNodes`]. Default [`DEFAULT_MAX_NODES`].
    pub fn max_nodes(mut self, nodes: usize) -> Self {
        self.max_nodes = nodes.max(1);
        self
    }

    /// Reports list at most this many findings per document; the others are counted
    /// ([`Report::omitted`], [`DocumentSummary::omitted`]) but not located or listed. Default
    /// [`DEFAULT_MAX_FINDINGS`]; `usize::MAX` lists everything. At least 1.
    ///
    /// When a document has more findings than this, its errors are listed before its
    /// warnings, each in order of position, so a capped report still shows why the document
    /// is invalid. Validity ([`Report::is_valid`], [`DocumentSummary::valid`]) always counts
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
    /// [`Error::CompileSchema`] if a schema from smps-model does not compile (a bug).
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
