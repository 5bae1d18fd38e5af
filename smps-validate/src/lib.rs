//! Schema and semantic validation of [Service Mesh Performance](https://smp-spec.io) (SMP)
//! documents, with the line and column of every finding.
//!
//! `smps-validate` checks YAML and JSON documents of every SMP kind against the JSON Schemas
//! that [`smps_model`] generates (made strict: unknown fields are reported), then against rules
//! a schema cannot express (latency percentiles in order, end after start, durations, endpoints
//! that fit the protocol, ...), and finally reads them with smps-model's typed reader, so a
//! document it calls valid is one the model can read. Every finding carries a severity, a
//! stable rule id, the JSON Pointer *as the user wrote the keys* (snake_case, camelCase or
//! mixed), and the line:column in the source text.
//!
//! Non-goals: fixing documents, converting between dialects (that is smps-model's `write`),
//! fetching schemas over the network.
//!
//! # Example
//!
//! ```
//! use smps_validate::{Rule, Source, Validator};
//!
//! let validator = Validator::new()?; // compile once, reuse
//! let yaml = "\
//! smp_version: v0.0.1
//! start_time: 2024-05-01T10:00:00Z
//! end_time: 2024-05-01T09:59:00Z
//! latencies_ms: {min: 1.5, average: 4, p50: 3.9, p90: 7.2, p99: 12.8, max: 40}
//! actual_qps: 99.5
//! colour: blue
//! ";
//! let report = validator.report(&Source::text(yaml))?;
//! assert!(!report.is_valid());
//! let found: Vec<String> = report.violations().iter().map(|v| v.to_string()).collect();
//! assert_eq!(found, [
//!     "3:11: error[time-order]: `/end_time`: expected startTime (\"2024-05-01T10:00:00Z\") <= endTime (\"2024-05-01T09:59:00Z\")",
//!     "6:1: warning[unknown-field]: `/colour`: unknown field `colour` (ignored by readers)",
//! ]);
//! assert_eq!(report.violations()[0].rule(), Rule::TimeOrder);
//! # Ok::<(), smps_validate::Error>(())
//! ```
//!
//! # Main types
//!
//! | type | what |
//! |---|---|
//! | [`Validator`], [`ValidatorBuilder`] | compiled schemas + limits; `is_valid` / `validate` / `report` |
//! | [`Source`], [`Format`] | an input: text, bytes or a path; YAML or JSON (detected or given); kind (detected or given) |
//! | [`Report`], [`DocumentSummary`] | all findings of an input, serialisable to JSON |
//! | [`Violation`], [`ViolationKind`], [`Rule`], [`Severity`], [`Location`] | one finding |
//! | [`Error`] | an input that cannot be validated at all (unreadable, not UTF-8, syntax error, too big, too deep, alias bomb, empty) |
//!
//! # Positions
//!
//! Parsing builds the canonical tree directly (serde_json for JSON, saphyr-parser's event
//! stream for YAML) without recording positions, so valid documents cost no more than a plain
//! parse. When there are findings, a locator replays the source once (a bracket-counting
//! scanner for JSON, the YAML event stream for YAML) and follows each canonical pointer through
//! the keys as written, giving the exact line and column of the value, or of the key for
//! unknown and duplicate keys. Columns count characters, both 1-based.
//!
//! # Fast path
//!
//! Most documents in CI are valid and written plainly. For those the validator never builds a
//! `serde_json::Value`: a plainly canonical JSON document, or plain block YAML (one scalar per
//! line, no anchors, tags or multi-line scalars), is read into a tree that borrows from the
//! input, checked against the same strict schema compiled into a direct checker, run through
//! the same semantic rules (they are generic over the tree). It makes no typed read: the
//! schema is generated from smps-model's types, and every value those types parse beyond its
//! JSON type (timestamps, durations, enums, int64 strings) has a rule that parses it the same
//! way. Only a document that passes all of that with no finding is answered from the fast path;
//! anything else, including every invalid document, goes the full path (jsonschema crate,
//! locators), so reports are identical either way (checked by differential property tests).
//! [`ValidatorBuilder::fast_path`] turns it off.
//!
//! # Features
//!
//! | feature | default? | what it adds |
//! |---|---|---|
//! | `yaml` | yes | YAML input (saphyr-parser). Without it only JSON is accepted ([`Error::YamlDisabled`]). |
//!
//! # Limits
//!
//! Inputs over [`ValidatorBuilder::max_input_bytes`], nesting deeper than
//! [`ValidatorBuilder::max_depth`], and YAML documents expanding to more than
//! [`ValidatorBuilder::max_nodes`] nodes (alias bombs) give one [`Error`] each; nothing in this
//! crate recurses on the input's depth beyond those limits.
//!
//! However many findings an input has, locating them is one pass over it, and a report lists
//! at most [`ValidatorBuilder::max_findings`] per document (default
//! [`DEFAULT_MAX_FINDINGS`]), counting the rest ([`Report::omitted`]).
//!
//! # Secrets
//!
//! Findings never quote a password or token: values pass through `smps_model::redact` (user
//! information and secret query values of URLs, sensitive headers, cookies). Endpoint URLs with
//! user information are errors (`endpoint`), as smps-load refuses them; secret query values
//! are a warning (`secret-in-url`).
//!
//! # Stability
//!
//! Rule ids ([`Rule::id`]) are stable. [`Rule`], [`ViolationKind`], [`Error`] and [`Format`]
//! are `#[non_exhaustive]`. Message wording may change.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod doc;
mod error;
mod format;
mod json;
mod json_plain;
mod locate;
mod location;
mod plan;
mod rules;
mod schema;
mod source;
mod tree;
mod validator;
mod violation;
#[cfg(feature = "yaml")]
mod yaml;
#[cfg(feature = "yaml")]
mod yaml_plain;

pub use error::{Error, Result};
pub use format::Format;
pub use location::Location;
pub use source::Source;
pub use validator::{
    DEFAULT_MAX_DEPTH, DEFAULT_MAX_FINDINGS, DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_NODES,
    DocumentSummary, ReaderCheck, Report, Validator, ValidatorBuilder,
};
pub use violation::{Rule, Severity, Violation, ViolationKind};

/// Re-exported so callers can name kinds without depending on smps-model directly.
pub use smps_model::Kind;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
