//! What a [`crate::Validator`] can be set to: the default limits and the [`ReaderCheck`].

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
    /// some malformed flow collections differently, which only [`ReaderCheck::Full`] would
    /// catch.
    Syntax,
    /// Only deserialise smps-model's types from our own parse (done in both modes). Faster
    /// for YAML; edge cases that saphyr-parser and serde_yaml read differently may slip through.
    Typed,
}
