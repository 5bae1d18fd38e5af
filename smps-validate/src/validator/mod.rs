//! The [`Validator`]: compiled once, used for any number of inputs.
//!
//! One file per job: the builder and limits (`builder.rs`), the report (`report.rs`), the
//! orchestration and fast path (here), the reader checks (`reader.rs`) and locating the
//! findings (`locating.rs`). Which kind a document is comes from smps-model's classifier
//! ([`smps_model::classify`]), the one the reader uses.

mod builder;
mod locating;
mod reader;
mod report;
mod settings;
mod unit;

use std::collections::HashSet;

use serde_json::{Map, Value};
use smps_model::Kind;
use smps_model::spelling;

use crate::doc::{Parsed, Pointer, Target};
use crate::rules::{self, Sink};
use crate::schema::{CompiledSchema, KINDS, RawFinding, kind_index};
use crate::source::sniff;
use crate::tree::{Node, Object, Tree};
use crate::violation::{Rule, Severity, Violation, ViolationKind};
use crate::{Error, Format, Result, Source};

pub use self::builder::ValidatorBuilder;
use self::locating::*;
use self::reader::*;
pub use self::report::*;
pub use self::settings::*;
use self::unit::*;

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

/// What a document is, in the validator's terms.
enum Shape {
    Wrapper,
    Proto(Kind),
    /// Another shape smps-model reads (in words: `a Meshery performance profile`).
    Other(&'static str),
    Unknown(String),
}

/// Recognises a document from its (canonical) keys with smps-model's classifier.
fn shape_of<T: Tree>(m: &T::Map) -> Shape {
    match smps_model::classify(m.members().map(|(k, v)| (k, v.value_kind()))) {
        Ok(smps_model::Shape::Smp(kind)) => Shape::Proto(kind),
        Ok(smps_model::Shape::MesheryWrapper) => Shape::Wrapper,
        Ok(other) => Shape::Other(other.description()),
        Err(unknown) => Shape::Unknown(format!("{unknown}; give the kind explicitly")),
    }
}

/// Whether a document is Meshery's `{test, mesh}` wrapper.
fn is_wrapper<T: Tree>(m: &T::Map) -> bool {
    matches!(shape_of::<T>(m), Shape::Wrapper)
}

impl Validator {
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
                    non_finite: Vec::new(),
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
                            if let Some(alias) = spelling::root_alias(kind, seg) {
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
            None => match shape_of::<Node<'_>>(map) {
                Shape::Proto(k) => k,
                _ => return Err(false),
            },
        };
        if !KINDS.contains(&kind) || map.keys().any(|k| spelling::root_alias(kind, k).is_some()) {
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
            None => shape_of::<Value>(map),
        };
        match shape {
            Shape::Proto(kind) => {
                self.check_kind(kind, &unit.value, likely_invalid, out);
                self.non_finite_text(unit, &[(kind, 0)], out);
                Some(kind)
            }
            Shape::Wrapper => {
                self.check_wrapper(map, out);
                let parts = [(Kind::PerformanceTestConfig, 1), (Kind::ServiceMesh, 1)];
                self.non_finite_text(unit, &parts, out);
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

    /// `read-as-text` warnings for YAML's `.inf` / `.nan` in text fields: the parser made them
    /// proto3 JSON's strings (`"Infinity"`), so the schema cannot see a number there. `parts`:
    /// the kind of the document (depth 0), or of the wrapper's `test` and `mesh` (depth 1).
    fn non_finite_text(&self, unit: &Unit, parts: &[(Kind, usize)], out: &mut Vec<RawFinding>) {
        let base = unit.base.0.len();
        for (pointer, written) in &unit.non_finite {
            let rel = Pointer(pointer.0[base.min(pointer.0.len())..].to_vec());
            let part = match parts {
                [(kind, 0)] => Some((*kind, &rel.0[..])),
                _ => rel
                    .0
                    .split_first()
                    .and_then(|(head, rest)| match head.as_str() {
                        "test" => Some((parts[0].0, rest)),
                        "mesh" => parts.get(1).map(|p| (p.0, rest)),
                        _ => None,
                    }),
            };
            let Some((kind, inner)) = part else { continue };
            if !self.schemas[kind_index(kind)].wants_text_at(kind, inner) {
                continue;
            }
            let Some(text) = crate::doc::get(&unit.value, &rel).and_then(Value::as_str) else {
                continue;
            };
            out.push(RawFinding {
                rule: Rule::ReadAsText,
                pointer: rel.clone(),
                at_key: false,
                kind: ViolationKind::ReadAsText {
                    actual: Value::String(written.clone()),
                    text: text.to_owned(),
                },
            });
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
        // Values the schema refuses but smps-model reads (`cores: "4"`, `mtlsEnabled: "true"`,
        // `p50: "2.5"`) are lenient spellings, not errors: when the typed read of the whole
        // document succeeds, its schema errors become `non-canonical` warnings.
        let mut read_finding = None;
        if out[start..].iter().any(|f| f.rule == Rule::Schema) {
            read_finding = Some(model_read(kind, value));
            if read_finding.as_ref().is_some_and(Option::is_none) {
                for f in &mut out[start..] {
                    if f.rule == Rule::Schema {
                        f.rule = Rule::NonCanonical;
                    }
                }
            }
        }
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
            if let Some(f) = read_finding.unwrap_or_else(|| model_read(kind, value)) {
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
        let mut options = smps_model::ReadOptions::default();
        if let Some(k) = forced {
            options = options.with_kind(k);
        }
        let docs = match smps_model::read_value(value.clone(), &options) {
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
            shape_of::<Value>(&obj(serde_json::json!({"latenciesMs": {}}))),
            Shape::Proto(Kind::PerformanceTestResult)
        ));
        assert!(matches!(
            shape_of::<Value>(&obj(serde_json::json!({"test": {}, "mesh": {}}))),
            Shape::Wrapper
        ));
        assert!(matches!(
            shape_of::<Value>(&obj(serde_json::json!({"type": "ISTIO"}))),
            Shape::Proto(Kind::ServiceMesh)
        ));
        assert!(matches!(
            shape_of::<Value>(&obj(serde_json::json!({"hello": 1}))),
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
