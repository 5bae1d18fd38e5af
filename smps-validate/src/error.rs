//! Why an input could not be validated at all.

use std::path::PathBuf;

use crate::Location;

/// An input that could not be validated at all: unreadable, not text, not YAML/JSON, too big or
/// too deep.
///
/// Problems *inside* a readable document are not errors but [`crate::Violation`]s in a
/// [`crate::Report`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The input is larger than the configured limit.
    #[error("input of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input in bytes (of a regular file: its size on disk, which is not read).
        size: u64,
        /// The configured limit ([`crate::ValidatorBuilder::max_input_bytes`]).
        limit: u64,
    },
    /// A stream (a pipe, standard input, a device) holds more than the configured limit. It is
    /// not read beyond the limit, so its size is unknown.
    #[error("input holds more than {limit} bytes, the limit (read no further)")]
    StreamTooLarge {
        /// The configured limit ([`crate::ValidatorBuilder::max_input_bytes`]).
        limit: u64,
    },
    /// The input holds no document (empty, or only whitespace and comments).
    #[error("input holds no document")]
    Empty,
    /// The bytes are not UTF-8 text.
    #[error("input is not UTF-8 text: invalid byte at {location} (byte offset {offset})")]
    NotUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// Line and column of that byte (columns count characters).
        location: Location,
    },
    /// The input looks like binary data (it contains a NUL byte) or uses an unsupported encoding.
    #[error("input is not text: {reason} at {location}")]
    NotText {
        /// What gave it away.
        reason: &'static str,
        /// Where.
        location: Location,
    },
    /// The text is not well-formed YAML or JSON.
    #[error("cannot parse {format} at {location}: {message}")]
    Syntax {
        /// The format the text was parsed as.
        format: crate::Format,
        /// Where the parser stopped.
        location: Location,
        /// The parser's message.
        message: String,
    },
    /// A document nests deeper than the configured limit.
    #[error("document nests deeper than {limit} levels at {location}")]
    TooDeep {
        /// The configured limit ([`crate::ValidatorBuilder::max_depth`]).
        limit: usize,
        /// Where the limit was crossed.
        location: Location,
    },
    /// A YAML document has more nodes than the configured limit, counting each use of an
    /// alias as a copy of its anchor's nodes (so an alias bomb hits it early).
    #[error(
        "document {} more than {limit} nodes at {location}",
        if *through_aliases { "expands through YAML aliases to" } else { "has" }
    )]
    TooManyNodes {
        /// The configured limit ([`crate::ValidatorBuilder::max_nodes`]).
        limit: usize,
        /// Where the limit was crossed.
        location: Location,
        /// Whether the document uses aliases before that point (so their expansion counts).
        through_aliases: bool,
    },
    /// YAML input was given but the crate was built without the `yaml` feature.
    #[error("YAML input needs the `yaml` feature of smps-validate")]
    YamlDisabled,
    /// The schema of a document kind did not compile (a bug in smps-model or this crate).
    #[error("cannot compile the JSON Schema of {kind:?}: {message}")]
    CompileSchema {
        /// The kind whose schema failed.
        kind: smps_model::Kind,
        /// What jsonschema said.
        message: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_operation_and_place() {
        let e = Error::Syntax {
            format: crate::Format::Yaml,
            location: Location::new(3, 7),
            message: "mapping values are not allowed".into(),
        };
        assert_eq!(
            e.to_string(),
            "cannot parse YAML at 3:7: mapping values are not allowed"
        );
        let e = Error::TooLarge {
            size: 11,
            limit: 10,
        };
        assert_eq!(
            e.to_string(),
            "input of 11 bytes exceeds the limit of 10 bytes"
        );
        let e = Error::StreamTooLarge { limit: 10 };
        assert_eq!(
            e.to_string(),
            "input holds more than 10 bytes, the limit (read no further)"
        );
    }

    #[test]
    fn the_node_limit_names_aliases_only_when_there_are_some() {
        let at = Location::new(2, 1);
        let plain = Error::TooManyNodes {
            limit: 5,
            location: at,
            through_aliases: false,
        };
        assert_eq!(plain.to_string(), "document has more than 5 nodes at 2:1");
        let bomb = Error::TooManyNodes {
            limit: 5,
            location: at,
            through_aliases: true,
        };
        assert_eq!(
            bomb.to_string(),
            "document expands through YAML aliases to more than 5 nodes at 2:1"
        );
    }
}
