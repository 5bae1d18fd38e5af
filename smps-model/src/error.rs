//! The crate's error type.

/// Boxed cause of an [`Error`], kept opaque so that parser crates stay out of the public API.
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a document could not be read or written.
///
/// Every variant names the operation that failed and where: the document's index in a
/// multi-document stream, a line and column for syntax errors, and a JSON Pointer
/// (RFC 6901) for a field that holds a value of the wrong kind.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input holds no document (empty, or only comments and whitespace).
    #[error("cannot read an empty document: the input holds no YAML or JSON value")]
    Empty,
    /// The YAML text is malformed.
    #[error("cannot parse YAML at line {line}, column {column}: {message}")]
    ParseYaml {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the parser reported, without its location.
        message: String,
        /// The parser's error.
        #[source]
        source: Cause,
    },
    /// The JSON text is malformed.
    #[error("cannot parse JSON at line {line}, column {column}: {message}")]
    ParseJson {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the parser reported, without its location.
        message: String,
        /// The parser's error.
        #[source]
        source: Cause,
    },
    /// The document's kind could not be recognised from its keys.
    #[error(
        "cannot tell which SMP document document {document} is ({reason}); name the kind with ReadOptions::kind"
    )]
    UnknownKind {
        /// 0-based index of the document in the input.
        document: usize,
        /// What was found instead.
        reason: String,
    },
    /// A field holds a value that cannot be read as its declared type.
    #[error("cannot read field `{pointer}` of document {document}: {message}")]
    InvalidField {
        /// 0-based index of the document in the input.
        document: usize,
        /// JSON Pointer to the field, as written in the input (`/clients/0/protocol`).
        pointer: String,
        /// What was expected and what was found.
        message: String,
    },
    /// The input holds a different number of documents than the caller asked for.
    #[error("expected exactly one document, found {found}; use read_all for streams")]
    DocumentCount {
        /// How many documents the input holds.
        found: usize,
    },
    /// The document read is not of the kind requested.
    #[error("expected a {expected} document, found a {found} document")]
    WrongKind {
        /// The kind requested.
        expected: &'static str,
        /// The kind found.
        found: &'static str,
    },
    /// Serialising a document failed.
    #[error("cannot write the document as {format}")]
    Write {
        /// The output format (`JSON` or `YAML`).
        format: &'static str,
        /// The serialiser's error.
        #[source]
        source: Cause,
    },
}

impl Error {
    /// The JSON Pointer of the offending field, for field errors.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Error::InvalidField { pointer, .. } => Some(pointer),
            _ => None,
        }
    }

    /// The 1-based line and column, for syntax errors.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        match self {
            Error::ParseYaml { line, column, .. } | Error::ParseJson { line, column, .. } => {
                Some((*line, *column))
            }
            _ => None,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
