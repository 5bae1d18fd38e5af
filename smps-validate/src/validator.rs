//! The [`Validator`]: compiled once, used for any number of inputs.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::{Map, Value};
use smps_model::Kind;

use crate::canon;
use crate::doc::{Found, Parsed, Pointer, Target, format_pointer};
use crate::locate::Paths;
use crate::rules::{self, Sink};
use crate::schema::{CompiledSchema, KINDS, RawFinding, kind_index};
use crate::source::sniff;
use crate::tree::{Node, Object, Tree};
use crate::violation::{Rule, Severity, Violation, ViolationKind};
use crate::{Error, Format, Result, Source};

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

/// Validates SMP documents: schema of the kind, semantic rules, and the typed reader of
/// smps-model, with the line and column of every finding.
///
/// Build it once (compiling the schemas takes about a millisecond) and share it: it is
/// `Send + Sync` and holds no per-input state.
///
/// Three tiers, from cheapest to most detailed:
/// * [`Validator::is_valid`]: `true` when the input is readable and has no error (warnings
///   allowed);
/// * [`Validator::validate`]: the first error, located;
/// * [`Validator::report`]: every finding, located, in a serialisable [`Report`].
///
/// # Examples
///
/// ```
/// use smps_validate::{Source, Validator};
///
/// let validator = Validator::new()?;
/// let text = "smp_version: v0.0.1\nlatencies_ms:\n  p50: 12\n  p90: 9\n";
/// assert!(!validator.is_valid(&Source::text(text)));
/// let first = validator.validate(&Source::text(text))?.unwrap();
/// assert_eq!(first.to_string(), "4:8: error[latency-order]: `/latencies_ms/p90`: expected p50 (12) <= p90 (9)");
/// # Ok::<(), smps_validate::Error>(())
/// ```
#[derive(Debug)]
pub struct Validator {
    schemas: Vec<CompiledSchema>,
    max_input_bytes: u64,
    max_depth: usize,
    max_nodes: usize,
    max_findings: usize,
    disabled: HashSet<Rule>,
    reader_check: ReaderCheck,
    fast_path: bool,
}

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
    /// ([`ValidatorBuilder::max_findings`]).
    pub omitted: usize,
}

fn ser_kind<S: serde::Serializer>(k: &Option<Kind>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match k {
        Some(k) => s.serialize_some(k.name()),
        None => s.serialize_none(),
    }
}

/// Every finding for one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    name: String,
    format: Format,
    valid: bool,
    documents: Vec<DocumentSummary>,
    violations: Vec<Violation>,
    omitted: usize,
}

impl Report {
    /// The input's name ([`Source::with_name`], the path, or `<text>`).
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
    /// than [`ValidatorBuilder::max_findings`]; 0 when the report is complete.
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

/// How much work a call needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Any error is enough; nothing is located.
    Any,
    /// The first error, located.
    First,
    /// Everything, located.
    All,
}

/// A document to check: a YAML document, a JSON document, or an element of a root array.
struct Unit {
    document: usize,
    base: Pointer,
    value: Value,
    duplicates: Vec<Pointer>,
}

/// What the fast path made of an input.
enum Fast<'t> {
    /// One plain document of this kind with no finding at all: the whole report.
    Valid(Kind),
    /// One plain document with some doubt; the full path decides, starting from this tree.
    Plain {
        node: Node<'t>,
        /// Whether the compiled schema refused it (the document very likely has a schema
        /// error).
        schema_rejected: bool,
    },
    /// Not a plain document.
    Other,
}

/// A finding with its absolute canonical pointer, before locating.
struct Pending {
    unit: usize,
    rule: Rule,
    target: Target,
    kind: ViolationKind,
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

    /// The strict JSON Schema (draft 2020-12) this validator applies to documents of `kind`:
    /// smps-model's schema with `additionalProperties: false` on every message, int32 bounds, and
    /// the legacy singular `endpoint_url` allowed. Useful to run other validators on the same
    /// rules (see `benches/validate-compare.sh`).
    ///
    /// # Examples
    ///
    /// ```
    /// use smps_validate::{Kind, Validator};
    /// let v = Validator::new()?;
    /// assert_eq!(v.schema(Kind::PerformanceTestResult)["additionalProperties"], false);
    /// # Ok::<(), smps_validate::Error>(())
    /// ```
    #[must_use]
    pub fn schema(&self, kind: Kind) -> &Value {
        &self.schemas[kind_index(kind)].schema
    }

    /// Whether the input is readable and free of errors (warnings are allowed). Unusable input
    /// (see [`Error`]) is not valid.
    #[must_use]
    pub fn is_valid(&self, source: &Source<'_>) -> bool {
        matches!(self.run(source, Mode::Any), Ok(r) if r.valid)
    }

    /// [`Validator::is_valid`] for text.
    #[must_use]
    pub fn is_valid_str(&self, text: &str) -> bool {
        self.is_valid(&Source::text(text))
    }

    /// The first error of the input, located, or `None` when it has none.
    ///
    /// # Errors
    ///
    /// When the input cannot be validated at all (see [`Error`]).
    pub fn validate(&self, source: &Source<'_>) -> Result<Option<Violation>> {
        let r = self.run(source, Mode::First)?;
        Ok(r.violations.into_iter().find(Violation::is_error))
    }

    /// Every finding of the input, located.
    ///
    /// # Errors
    ///
    /// When the input cannot be validated at all (see [`Error`]).
    pub fn report(&self, source: &Source<'_>) -> Result<Report> {
        self.run(source, Mode::All)
    }

    /// [`Validator::report`] for text.
    ///
    /// # Errors
    ///
    /// As [`Validator::report`].
    pub fn report_str(&self, text: &str) -> Result<Report> {
        self.report(&Source::text(text))
    }

    fn run(&self, source: &Source<'_>, mode: Mode) -> Result<Report> {
        let loaded = source.load(self.max_input_bytes)?;
        let text = loaded.body();
        if text.trim_start().is_empty() {
            return Err(Error::Empty);
        }
        let sniffed = loaded.format.unwrap_or_else(|| sniff(text));
        let forced = source.forced_kind();
        // Only the plain JSON reader is known to refuse NUL bytes, so only a text it gets
        // may put the check off (see below).
        let defer_nul_check = !loaded.nul_checked && self.fast_path && sniffed == Format::Json;
        if !loaded.nul_checked && !defer_nul_check {
            crate::source::check_text(&loaded.text)?;
        }
        let mut plain = None;
        if self.fast_path {
            match self.fast(text, sniffed, forced) {
                Fast::Valid(kind) => {
                    return Ok(Report {
                        name: source.name().into_owned(),
                        format: sniffed,
                        valid: true,
                        documents: vec![DocumentSummary {
                            index: 0,
                            pointer: String::new(),
                            kind: Some(kind),
                            valid: true,
                            omitted: 0,
                        }],
                        violations: Vec::new(),
                        omitted: 0,
                    });
                }
                // The plain reader's tree is the tree serde_json's pass would build (canonical
                // keys, no repeats, no `null` members, the same numbers), so it is reused
                // rather than parsed again.
                Fast::Plain {
                    node,
                    schema_rejected,
                } if sniffed == Format::Json => {
                    plain = Some((node, schema_rejected));
                }
                Fast::Plain { .. } | Fast::Other => {}
            }
        }
        // The plain JSON reader refuses every byte below 0x20 outside whitespace, so a text it
        // read (a valid answer above, or `plain`) has no NUL byte; any other text is checked
        // now, before the full path.
        if defer_nul_check && plain.is_none() {
            crate::source::check_text(&loaded.text)?;
        }
        let likely_invalid = plain
            .as_ref()
            .is_some_and(|(_, schema_rejected)| *schema_rejected);
        // `fixed`: the text the YAML parser read, when it had to fix it (see `yaml::parse`).
        let (format, units, fixed) = match plain {
            Some((node, _)) => {
                let parsed = Parsed {
                    value: node.to_value(),
                    duplicates: Vec::new(),
                };
                (Format::Json, split_units(0, parsed), None)
            }
            None => self.parse(sniffed, text)?,
        };
        if units.is_empty() {
            return Err(Error::Empty);
        }
        let mut pending: Vec<Pending> = Vec::new();
        let mut documents = Vec::with_capacity(units.len());
        for (ui, unit) in units.iter().enumerate() {
            let mut raw = Vec::new();
            let kind = self.check_unit(unit, forced, likely_invalid, &mut raw);
            let mut valid = true;
            for f in raw {
                if self.disabled.contains(&f.rule) {
                    continue;
                }
                valid &= f.rule.severity() != Severity::Error;
                pending.push(Pending {
                    unit: ui,
                    rule: f.rule,
                    target: Target {
                        pointer: f.pointer.under(&unit.base),
                        at_key: f.at_key,
                        root: kind.map(|k| (k, unit.base.0.len())),
                    },
                    kind: f.kind,
                });
            }
            documents.push(DocumentSummary {
                index: unit.document,
                pointer: unit.base.to_string(),
                kind,
                valid,
                omitted: 0,
            });
            if mode == Mode::Any && !valid {
                break;
            }
        }
        if self.reader_check != ReaderCheck::Typed
            && format == Format::Yaml
            && !self.disabled.contains(&Rule::ModelRead)
            && documents.iter().all(|d| d.valid)
        {
            let gate = if self.reader_check == ReaderCheck::Syntax {
                yaml_syntax_gate(text, &units)
            } else {
                reader_gate(text, format, forced, &units)
            };
            if let Some(mut p) = gate {
                if let Some(d) = documents.get_mut(p.unit) {
                    d.valid = false;
                    // The same root as the unit's other findings, so one locating pass
                    // reads the document's keys one way (root aliases included).
                    let depth = units[p.unit].base.0.len();
                    if let Some(kind) = d.kind {
                        p.target.root = Some((kind, depth));
                        if let Some(seg) = p.target.pointer.0.get_mut(depth) {
                            if let Some(alias) = canon::root_alias(kind, seg) {
                                *seg = alias.to_owned();
                            }
                        }
                    }
                }
                pending.push(p);
            }
        }
        let valid = documents.iter().all(|d| d.valid);
        if mode == Mode::First {
            if let Some(i) = pending
                .iter()
                .position(|p| p.rule.severity() == Severity::Error)
            {
                let p = pending.swap_remove(i);
                pending = vec![p];
            } else {
                pending.clear();
            }
        }
        let violations = if mode == Mode::Any {
            Vec::new()
        } else {
            let parsed_text = fixed.as_deref().unwrap_or(text);
            let (violations, omitted) =
                locate_all(parsed_text, format, &units, pending, self.max_findings);
            for (d, n) in documents.iter_mut().zip(omitted) {
                d.omitted = n;
            }
            violations
        };
        Ok(Report {
            name: source.name().into_owned(),
            format,
            valid,
            omitted: documents.iter().map(|d| d.omitted).sum(),
            documents,
            violations,
        })
    }

    /// The fast path (see [`ValidatorBuilder::fast_path`]): `Some(kind)` when `text` is one
    /// plainly canonical JSON or plain block YAML document of `kind` with no finding at all;
    /// `None` means "take the full path", never "invalid".
    #[cfg(test)]
    fn fast_valid(&self, text: &str, format: Format, forced: Option<Kind>) -> Option<Kind> {
        match self.fast(text, format, forced) {
            Fast::Valid(kind) => Some(kind),
            _ => None,
        }
    }

    /// The fast path's answer for `text`; see [`Fast`].
    fn fast<'t>(&self, text: &'t str, format: Format, forced: Option<Kind>) -> Fast<'t> {
        let node = match format {
            Format::Json => crate::json_plain::read_plain_json(
                text,
                self.max_depth.min(crate::json::JSON_DEPTH_LIMIT),
            ),
            #[cfg(feature = "yaml")]
            Format::Yaml => crate::yaml_plain::read_plain_yaml(text, self.max_depth),
            #[cfg(not(feature = "yaml"))]
            Format::Yaml => None,
        };
        let Some(node) = node else {
            return Fast::Other;
        };
        match self.fast_check(&node, forced) {
            Ok(kind) => Fast::Valid(kind),
            Err(schema_rejected) => Fast::Plain {
                node,
                schema_rejected,
            },
        }
    }

    /// The checks of the fast path on a plain tree: `Ok(kind)` when there is no finding at
    /// all; `Err(true)` when the compiled schema refused the document, `Err(false)` for any
    /// other doubt.
    fn fast_check(&self, node: &Node<'_>, forced: Option<Kind>) -> std::result::Result<Kind, bool> {
        let map = node.as_object().ok_or(false)?;
        let kind = match forced {
            Some(Kind::PerformanceTestConfig) if is_wrapper::<Node<'_>>(map) => return Err(false),
            Some(k) => k,
            None => match classify::<Node<'_>>(map) {
                Shape::Proto(k) => k,
                _ => return Err(false),
            },
        };
        if !KINDS.contains(&kind) || map.keys().any(|k| canon::root_alias(kind, k).is_some()) {
            return Err(false);
        }
        if !self.schemas[kind_index(kind)].plan.accepts(node) {
            return Err(true);
        }
        let mut findings = Vec::new();
        rules::check::<Node<'_>>(kind, map, &mut Sink { out: &mut findings });
        if !findings.is_empty() {
            return Err(false);
        }
        // No typed read here: a tree the compiled schema accepts with no rule finding is one
        // smps-model's types read. The schema is generated from those types, and every value
        // they parse beyond its JSON type (timestamps, durations, enums, int64 strings) has a
        // rule that parses it the same way. The full path still makes the typed read, so the
        // differential tests (`tests/fast_path.rs`, every edge value at every leaf) would see
        // any gap as two different reports. Skipping it saves about a quarter of the work on
        // a valid document.
        Ok(kind)
    }

    /// The units of the text, and the text the parser read when it had to fix it.
    fn parse(&self, format: Format, text: &str) -> Result<(Format, Vec<Unit>, Option<String>)> {
        match format {
            // Text that starts with `{` or `[` is JSON, as for smps-model's reader; a YAML flow
            // document (`{a: 1}`) needs an explicit `Format::Yaml` (or a `.yaml` path).
            Format::Json => Ok((
                Format::Json,
                split_units(0, crate::json::parse(text, self.max_depth)?),
                None,
            )),
            Format::Yaml => {
                let (units, fixed) = self.parse_yaml(text)?;
                Ok((Format::Yaml, units, fixed))
            }
        }
    }

    #[cfg(feature = "yaml")]
    fn parse_yaml(&self, text: &str) -> Result<(Vec<Unit>, Option<String>)> {
        let (docs, fixed) = crate::yaml::parse(
            text,
            crate::yaml::Limits {
                max_depth: self.max_depth,
                max_nodes: self.max_nodes,
            },
        )?;
        let units = docs
            .into_iter()
            .filter(|d| !d.empty)
            .flat_map(|d| split_units(d.index, d.parsed))
            .collect();
        Ok((units, fixed))
    }

    #[cfg(not(feature = "yaml"))]
    fn parse_yaml(&self, _text: &str) -> Result<(Vec<Unit>, Option<String>)> {
        let _ = self.max_nodes;
        Err(Error::YamlDisabled)
    }

    /// Runs every check on one unit; returns the kind it was checked as.
    fn check_unit(
        &self,
        unit: &Unit,
        forced: Option<Kind>,
        likely_invalid: bool,
        out: &mut Vec<RawFinding>,
    ) -> Option<Kind> {
        for d in &unit.duplicates {
            let rel = Pointer(d.0[unit.base.0.len().min(d.0.len())..].to_vec());
            out.push(RawFinding {
                rule: Rule::DuplicateKey,
                kind: ViolationKind::DuplicateKey {
                    field: rel.last().unwrap_or_default().to_owned(),
                },
                pointer: rel,
                at_key: true,
            });
        }
        let Value::Object(map) = &unit.value else {
            out.push(RawFinding {
                rule: Rule::Schema,
                pointer: Pointer::root(),
                at_key: false,
                kind: ViolationKind::Schema {
                    keyword: "type".into(),
                    expected: "an object (an SMP document)".into(),
                    actual: unit.value.clone(),
                },
            });
            return forced;
        };
        let shape = match forced {
            Some(Kind::PerformanceTestConfig) if is_wrapper::<Value>(map) => Shape::Wrapper,
            Some(k) => Shape::Proto(k),
            None => classify::<Value>(map),
        };
        match shape {
            Shape::Proto(kind) => {
                self.check_kind(kind, &unit.value, likely_invalid, out);
                Some(kind)
            }
            Shape::Wrapper => {
                self.check_wrapper(map, out);
                Some(Kind::PerformanceTestConfig)
            }
            Shape::Other(description) => {
                self.check_converted(&unit.value, forced, description, out)
            }
            Shape::Unknown(reason) => {
                out.push(RawFinding {
                    rule: Rule::UnknownKind,
                    pointer: Pointer::root(),
                    at_key: false,
                    kind: ViolationKind::UnknownKind { reason },
                });
                None
            }
        }
    }

    /// Schema, rules and reader check of one document of `kind`. `likely_invalid` is a hint
    /// (the fast path's schema check refused this document): the schema's errors are then
    /// collected without asking whether there are any first. Findings are the same either way.
    fn check_kind(
        &self,
        kind: Kind,
        value: &Value,
        likely_invalid: bool,
        out: &mut Vec<RawFinding>,
    ) {
        let renamed;
        let value = match root_renamed(kind, value) {
            Some(v) => {
                renamed = v;
                &renamed
            }
            None => value,
        };
        let start = out.len();
        self.schemas[kind_index(kind)].check(value, likely_invalid, out);
        let schema_errors: HashSet<Pointer> = out[start..]
            .iter()
            .filter(|f| f.rule.severity() == Severity::Error)
            .map(|f| f.pointer.clone())
            .collect();
        let Value::Object(map) = value else { return };
        let mut semantic = Vec::new();
        rules::check::<Value>(kind, map, &mut Sink { out: &mut semantic });
        // A value the schema already rejected gets no second finding.
        semantic.retain(|f| !schema_errors.contains(&f.pointer));
        out.extend(semantic);
        if !out.iter().any(|f| f.rule.severity() == Severity::Error) {
            if let Some(f) = model_read(kind, value) {
                out.push(f);
            }
        }
    }

    fn check_wrapper(&self, map: &Map<String, Value>, out: &mut Vec<RawFinding>) {
        for (part, kind) in [
            ("test", Kind::PerformanceTestConfig),
            ("mesh", Kind::ServiceMesh),
        ] {
            match map.get(part) {
                None | Some(Value::Null) => out.push(RawFinding {
                    rule: Rule::WrapperIncomplete,
                    pointer: Pointer::root(),
                    at_key: false,
                    kind: ViolationKind::Missing { field: part.into() },
                }),
                Some(v) => {
                    let mut inner = Vec::new();
                    self.check_kind(kind, v, false, &mut inner);
                    let prefix = Pointer::root().child(part);
                    for mut f in inner {
                        f.pointer = f.pointer.under(&prefix);
                        out.push(f);
                    }
                }
            }
        }
    }

    /// Documents in Meshery or legacy shapes: read them with smps-model, then check the
    /// canonical form. Findings point at the document itself.
    fn check_converted(
        &self,
        value: &Value,
        forced: Option<Kind>,
        description: &'static str,
        out: &mut Vec<RawFinding>,
    ) -> Option<Kind> {
        let text = value.to_string();
        let mut options = smps_model::ReadOptions::default().with_format(smps_model::Format::Json);
        if let Some(k) = forced {
            options = options.with_kind(k);
        }
        let docs = match smps_model::read_all(&text, &options) {
            Ok(d) => d,
            Err(e) => {
                let pointer = match &e {
                    smps_model::Error::InvalidField { pointer, .. } => Pointer::parse(pointer),
                    _ => Pointer::root(),
                };
                out.push(RawFinding {
                    rule: Rule::ModelRead,
                    pointer,
                    at_key: false,
                    kind: ViolationKind::Unreadable {
                        message: e.to_string(),
                    },
                });
                return forced;
            }
        };
        out.push(RawFinding {
            rule: Rule::ConvertedShape,
            pointer: Pointer::root(),
            at_key: false,
            kind: ViolationKind::Converted {
                shape: description.to_owned(),
            },
        });
        let mut kind = forced;
        for d in docs {
            kind = Some(d.kind());
            let Ok(canonical) =
                smps_model::write(&d, smps_model::Dialect::Canonical, smps_model::Format::Json)
            else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(&canonical) else {
                continue;
            };
            let mut inner = Vec::new();
            if let Some(t) = d.as_test_config() {
                let _ = t;
                let wrapped = v
                    .as_object()
                    .map(|m| m.contains_key("test"))
                    .unwrap_or(false);
                if wrapped {
                    if let Value::Object(m) = &v {
                        self.check_wrapper(m, &mut inner);
                    }
                } else {
                    self.check_kind(d.kind(), &v, false, &mut inner);
                }
            } else {
                self.check_kind(d.kind(), &v, false, &mut inner);
            }
            let base = Pointer::parse(&d.pointer);
            for mut f in inner {
                // Positions of converted documents are the document's (or record's) own.
                f.kind = with_converted_path(f.kind, &f.pointer);
                f.pointer = base.clone();
                f.at_key = false;
                out.push(f);
            }
        }
        kind
    }
}

fn with_converted_path(kind: ViolationKind, pointer: &Pointer) -> ViolationKind {
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
fn yaml_syntax_gate(text: &str, units: &[Unit]) -> Option<Pending> {
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
fn yaml_syntax_gate(_text: &str, _units: &[Unit]) -> Option<Pending> {
    None
}

/// Runs smps-model's own reader over the whole input; its first error becomes a finding.
fn reader_gate(
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
            .map(|s| canon::key(s).into_owned())
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
fn root_renamed(kind: Kind, value: &Value) -> Option<Value> {
    let Value::Object(m) = value else { return None };
    if !m.keys().any(|k| canon::root_alias(kind, k).is_some()) {
        return None;
    }
    let mut out = Map::new();
    for (k, v) in m {
        let key = canon::root_alias(kind, k).map_or_else(|| k.clone(), str::to_owned);
        out.insert(key, v.clone());
    }
    Some(Value::Object(out))
}

/// Reads the document with smps-model's serde types; a failure is a finding.
fn model_read(kind: Kind, value: &Value) -> Option<RawFinding> {
    fn try_read<T: serde::de::DeserializeOwned>(value: &Value) -> Option<RawFinding> {
        // Fast path without path tracking; re-run with it only to name the failing field.
        if T::deserialize(value).is_ok() {
            return None;
        }
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(_) => None,
            Err(e) => {
                let mut segs = Vec::new();
                for seg in e.path().iter() {
                    match seg {
                        serde_path_to_error::Segment::Seq { index } => segs.push(index.to_string()),
                        serde_path_to_error::Segment::Map { key } => segs.push(key.clone()),
                        _ => {}
                    }
                }
                Some(RawFinding {
                    rule: Rule::ModelRead,
                    pointer: Pointer(segs),
                    at_key: false,
                    kind: ViolationKind::Unreadable {
                        message: e.into_inner().to_string(),
                    },
                })
            }
        }
    }
    match kind {
        Kind::PerformanceTestConfig => try_read::<smps_model::PerformanceTestConfig>(value),
        Kind::PerformanceTestResult => try_read::<smps_model::PerformanceTestResult>(value),
        Kind::ServiceMeshConfig => try_read::<smps_model::ServiceMeshConfig>(value),
        Kind::EnvironmentConfig => try_read::<smps_model::EnvironmentConfig>(value),
        Kind::ServiceMesh => try_read::<smps_model::ServiceMesh>(value),
        _ => None,
    }
}

/// Splits a root array into one unit per element (as smps-model's `read_all` does).
fn split_units(document: usize, parsed: Parsed) -> Vec<Unit> {
    match parsed.value {
        Value::Array(items) => {
            // Each element's duplicates, in one pass over them.
            let mut dups: HashMap<String, Vec<Pointer>> = HashMap::new();
            for p in parsed.duplicates {
                if let Some(first) = p.0.first() {
                    dups.entry(first.clone()).or_default().push(p);
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
        }],
    }
}

enum Shape {
    Wrapper,
    Proto(Kind),
    Other(&'static str),
    Unknown(String),
}

fn is_wrapper<T: Tree>(m: &T::Map) -> bool {
    let has = |k: &str| m.get(k).is_some();
    let len = m.members().count();
    (has("test") && m.members().all(|(k, _)| k == "test" || k == "mesh"))
        || (len == 1 && has("mesh"))
}

const CONFIG_KEYS: &[&str] = &["clients", "duration"];
const RESULT_KEYS: &[&str] = &[
    "latenciesMs",
    "actualQps",
    "startTime",
    "endTime",
    "detailsUri",
    "testId",
    "meshConfigId",
    "envId",
];
const MESH_CONFIG_KEYS: &[&str] = &[
    "ingressGateway",
    "sidecar",
    "meshTelemetry",
    "meshPolicy",
    "meshControlPlane",
    "meshPolicyEnabled",
    "meshTelemetryEnabled",
    "mtlsEnabled",
    "proxyConcurrency",
    "meshBuild",
    "proxyBuild",
    "expGroupUuid",
    "expUuid",
    "profile",
    "meshType",
    "applicationMetadata",
];
const ENVIRONMENT_KEYS: &[&str] = &[
    "kubernetesVersion",
    "nodes",
    "individualWorkloads",
    "trafficMetadata",
];
const SERVICE_MESH_KEYS: &[&str] = &["type", "version", "labels", "annotations"];

/// Recognises a document from its (canonical) keys, mirroring smps-model's reader.
fn classify<T: Tree>(m: &T::Map) -> Shape {
    let keys = || m.members().map(|(k, _)| k);
    let has = |k: &str| m.get(k).is_some();
    // Fast path, same answer as below: only result fields (and the common ones) present.
    if has("latenciesMs")
        && keys().all(|k| RESULT_KEYS.contains(&k) || matches!(k, "smpVersion" | "id" | "labels"))
    {
        return Shape::Proto(Kind::PerformanceTestResult);
    }
    if is_wrapper::<T>(m) {
        return Shape::Wrapper;
    }
    if has("runnerResults") || has("mesheryId") {
        return Shape::Other("a Meshery result record");
    }
    if keys().any(|k| k.eq_ignore_ascii_case("durationHistogram")) {
        return Shape::Other("a bare fortio result payload");
    }
    if has("loadGenerators") || has("concurrentRequest") || (has("endpoints") && has("qps")) {
        return Shape::Other("a Meshery performance profile");
    }
    if m.get("client").is_some_and(|c| c.as_object().is_some()) || has("env") || has("metrics") {
        return Shape::Other("the legacy BenchmarkSpec export");
    }
    if ["page", "pageSize", "totalCount"].iter().any(|k| has(k))
        && (has("results") || has("profiles"))
    {
        return Shape::Other("a Meshery page of records");
    }
    let score = |set: &[&str]| keys().filter(|k| set.contains(k)).count();
    let mut best: Option<(Kind, usize)> = None;
    for (kind, set) in [
        (Kind::PerformanceTestConfig, CONFIG_KEYS),
        (Kind::PerformanceTestResult, RESULT_KEYS),
        (Kind::ServiceMeshConfig, MESH_CONFIG_KEYS),
        (Kind::EnvironmentConfig, ENVIRONMENT_KEYS),
    ] {
        let s = score(set);
        if s > 0 && best.is_none_or(|(_, b)| s > b) {
            best = Some((kind, s));
        }
    }
    // Legacy root aliases count too.
    if best.is_none() && has("kubernetes") {
        best = Some((Kind::EnvironmentConfig, 1));
    }
    if best.is_none() && has("sidecars") {
        best = Some((Kind::ServiceMeshConfig, 1));
    }
    if let Some((kind, _)) = best {
        return Shape::Proto(kind);
    }
    let len = keys().count();
    if len > 0 && (has("type") || has("version")) && keys().all(|k| SERVICE_MESH_KEYS.contains(&k))
    {
        return Shape::Proto(Kind::ServiceMesh);
    }
    if len == 0 {
        return Shape::Unknown("it is an empty object".into());
    }
    let mut names: Vec<&str> = keys().take(8).collect();
    if len > names.len() {
        names.push("...");
    }
    Shape::Unknown(format!(
        "none of its keys ({}) belongs to a known SMP document; give the kind explicitly",
        names.join(", ")
    ))
}

/// Locates every pending finding, keeps at most `max_per_document` of them per document, and
/// turns those into [`Violation`]s; also returns how many findings each unit had left out.
///
/// All findings are located (one pass over the text), then sorted by document and position.
/// Where a document has more than the cap, its errors are kept before its warnings, each in
/// order of position; only the kept findings get their pointer strings built.
fn locate_all(
    text: &str,
    format: Format,
    units: &[Unit],
    pending: Vec<Pending>,
    max_per_document: usize,
) -> (Vec<Violation>, Vec<usize>) {
    let mut omitted = vec![0usize; units.len()];
    if pending.is_empty() {
        return (Vec::new(), omitted);
    }
    let (found, paths): (Vec<Found>, Paths) = match format {
        Format::Json => {
            let targets: Vec<&Target> = pending.iter().map(|p| &p.target).collect();
            crate::json::locate(text, &targets)
        }
        #[cfg(feature = "yaml")]
        Format::Yaml => {
            let requests: Vec<crate::yaml::Request<'_>> = pending
                .iter()
                .map(|p| crate::yaml::Request {
                    doc: units[p.unit].document,
                    target: &p.target,
                })
                .collect();
            crate::yaml::locate(text, &requests)
        }
        #[cfg(not(feature = "yaml"))]
        Format::Yaml => (
            pending
                .iter()
                .map(|_| Found {
                    node: None,
                    location: None,
                    missing: usize::MAX,
                })
                .collect(),
            Paths::default(),
        ),
    };
    let document = |p: &Pending| units[p.unit].document;
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by_key(|&i| (document(&pending[i]), found[i].location, pending[i].rule));
    let mut keep = vec![true; pending.len()];
    for group in order.chunk_by(|&a, &b| document(&pending[a]) == document(&pending[b])) {
        if group.len() <= max_per_document {
            continue;
        }
        let is_error = |i: usize| pending[i].rule.severity() == Severity::Error;
        let errors = group.iter().filter(|&&i| is_error(i)).count();
        let mut errors_left = max_per_document;
        let mut warnings_left = max_per_document.saturating_sub(errors);
        for &i in group {
            let budget = if is_error(i) {
                &mut errors_left
            } else {
                &mut warnings_left
            };
            if *budget == 0 {
                keep[i] = false;
                omitted[pending[i].unit] += 1;
            } else {
                *budget -= 1;
            }
        }
    }
    // Rank of each kept finding in the output; the rest are dropped unbuilt.
    let mut rank = vec![usize::MAX; pending.len()];
    for (r, &i) in order.iter().filter(|&&i| keep[i]).enumerate() {
        rank[i] = r;
    }
    drop(order);
    let mut out: Vec<(usize, Violation)> = pending
        .into_iter()
        .zip(found)
        .enumerate()
        .filter(|(i, _)| keep[*i])
        .map(|(i, (p, f))| {
            let segs = &p.target.pointer.0;
            let mut written = f.node.map(|n| paths.written(n)).unwrap_or_default();
            let known = segs.len().saturating_sub(f.missing.min(segs.len()));
            written.truncate(known);
            written.extend(segs[known..].iter().cloned());
            let v = Violation {
                rule: p.rule,
                severity: p.rule.severity(),
                document: units[p.unit].document,
                instance_path: format_pointer(&written),
                canonical_path: p.target.pointer.to_string(),
                location: f.location,
                kind: p.kind.redacted(segs),
            };
            (rank[i], v)
        })
        .collect();
    out.sort_unstable_by_key(|(r, _)| *r);
    let out = out.into_iter().map(|(_, v)| v).collect();
    (out, omitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Validator>();
        assert_send_sync::<Report>();
        assert_send_sync::<Violation>();
        assert_send_sync::<Error>();
    }

    #[test]
    fn classification_mirrors_the_reader() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        assert!(matches!(
            classify::<Value>(&obj(serde_json::json!({"latenciesMs": {}}))),
            Shape::Proto(Kind::PerformanceTestResult)
        ));
        assert!(matches!(
            classify::<Value>(&obj(serde_json::json!({"test": {}, "mesh": {}}))),
            Shape::Wrapper
        ));
        assert!(matches!(
            classify::<Value>(&obj(serde_json::json!({"type": "ISTIO"}))),
            Shape::Proto(Kind::ServiceMesh)
        ));
        assert!(matches!(
            classify::<Value>(&obj(serde_json::json!({"hello": 1}))),
            Shape::Unknown(_)
        ));
    }

    #[test]
    fn canonical_json_of_every_kind_takes_the_fast_path() {
        let v = Validator::new().unwrap();
        let docs = [
            (
                Kind::PerformanceTestResult,
                r#"{"smpVersion": "v0.6.1", "startTime": "2024-05-01T10:00:00Z", "endTime": "2024-05-01T10:00:30Z", "latenciesMs": {"min": 1, "p50": 2.5, "p90": 3, "p99": 4, "max": 5, "average": 2.6}, "actualQps": 99.5, "labels": {"a": "b"}}"#,
            ),
            (
                Kind::PerformanceTestConfig,
                r#"{"name": "t", "duration": "30s", "clients": [{"protocol": "PROTOCOL_HTTP", "connections": 2, "rps": "10", "endpointUrls": ["http://127.0.0.1:1/"]}]}"#,
            ),
            (
                Kind::EnvironmentConfig,
                r#"{"kubernetesVersion": "v1.29.3", "nodes": [{"cores": 4, "memMb": "4096"}]}"#,
            ),
            (Kind::ServiceMesh, r#"{"type": "ISTIO", "version": "1.20"}"#),
            (
                Kind::ServiceMeshConfig,
                r#"{"ingressGateway": {"count": 1}, "meshType": {"type": "LINKERD"}}"#,
            ),
        ];
        for (kind, text) in docs {
            assert_eq!(v.fast_valid(text, Format::Json, None), Some(kind), "{text}");
            // The fast path makes no typed read: what it accepts, the full path's typed read
            // (smps-model's types) accepts too.
            let node = crate::json_plain::read_plain_json(text, 64).unwrap();
            assert!(model_read(kind, &node.to_value()).is_none(), "{text}");
        }
        #[cfg(feature = "yaml")]
        {
            let yaml = "# a result\nsmpVersion: v0.6.1\nstartTime: \"2024-05-01T10:00:00Z\"\nlatenciesMs:\n  p50: 2.5\n  p99: 4\nlabels: {a: b}\n";
            assert_eq!(
                v.fast_valid(yaml, Format::Yaml, None),
                Some(Kind::PerformanceTestResult)
            );
            assert_eq!(
                v.fast_valid("latencies_ms: {p50: 1}\n", Format::Yaml, None),
                None
            );
        }
        // Findings, other spellings and other shapes go the full path.
        for text in [
            r#"{"latenciesMs": {"p50": 3, "p90": 2}}"#,
            r#"{"latencies_ms": {"p50": 1}}"#,
            r#"{"latenciesMs": {"p50": 1}, "colour": "blue"}"#,
            r#"{"latenciesMs": {"p50": 1}, "id": null}"#,
            r#"{"test": {"duration": "1s"}, "mesh": {"type": "ISTIO"}}"#,
            r#"[{"latenciesMs": {"p50": 1}}]"#,
        ] {
            assert_eq!(v.fast_valid(text, Format::Json, None), None, "{text}");
        }
    }
}
