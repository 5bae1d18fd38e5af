//! The crate's one error type, [`Error`], and [`Result`].
//!
//! `Err` means an operation could not happen: a suite or kuttl directory could not be read or is
//! inconsistent, a bundled CRD is corrupt, a manifest is not the SMI resource it claims to be, or
//! a backend could not do what it was asked. A mesh that fails a conformance check is **not** an
//! error: that is a result in the [`Report`](crate::report::Report).
//!
//! Each variant names the operation that failed and carries its context; the cause, where there
//! is one, is the [`source`](std::error::Error::source) and not part of the message. The backend
//! variants (`Apply`, `ReadObject`, `Delete`, `Namespace`, `Send`, `Start`) take an optional
//! [`BoxError`] cause, so backends outside this crate can chain their own errors.

use std::fmt;
use std::path::PathBuf;

use crate::input::InputSize;

/// Any error, as a backend's cause: the `source` of the backend variants of [`Error`], so a
/// backend written outside this crate can chain its own client's errors.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an operation of this crate could not happen.
///
/// # Examples
///
/// ```
/// use smi_assert::{Error, Suite};
///
/// let e = Suite::from_yaml("name: s\ntests: [{name: t, steps: [], bogus: 1}]\n").unwrap_err();
/// assert!(matches!(e, Error::ParseSuite { .. }));
/// assert_eq!(e.to_string(), "failed to parse suite <string>");
/// // The YAML error, with its line and column, is the source.
/// let cause = std::error::Error::source(&e).unwrap().to_string();
/// assert!(cause.contains("bogus"), "{cause}");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a file failed.
    #[error("failed to read {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Listing a directory failed.
    #[error("failed to read directory {}", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is larger than the limit ([`DEFAULT_MAX_FILE_BYTES`](crate::suite::DEFAULT_MAX_FILE_BYTES)
    /// or the one given).
    #[error("failed to read {}: it holds {size}, over the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (the real size of a regular file; a lower bound for a stream).
        size: InputSize,
        /// The limit.
        limit: u64,
    },
    /// A file is not UTF-8 text.
    #[error(
        "failed to read {}: not UTF-8 text (invalid byte at line {line}, column {column})",
        path.display()
    )]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column (in characters) of the first invalid byte.
        column: usize,
    },
    /// A suite's YAML is malformed or does not fit the suite format.
    #[error("failed to parse suite {origin}")]
    ParseSuite {
        /// File name or `<string>`.
        origin: String,
        /// The cause, with line and column.
        #[source]
        source: YamlError,
    },
    /// A suite is well-formed but inconsistent.
    #[error("invalid suite at {location}: {message}")]
    InvalidSuite {
        /// `test/step/operation` path.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A suite could not be written as YAML.
    #[error("failed to write the suite as YAML")]
    WriteSuite {
        /// The cause.
        #[source]
        source: YamlError,
    },
    /// A YAML document of a kuttl directory is malformed.
    #[error("failed to parse YAML document {document} of {}", path.display())]
    ParseKuttl {
        /// The file.
        path: PathBuf,
        /// 1-based document index.
        document: usize,
        /// The cause, with line and column.
        #[source]
        source: YamlError,
    },
    /// A kuttl feature the loader does not support.
    #[error("failed to load {}: {what} is not supported", path.display())]
    UnsupportedKuttl {
        /// The file.
        path: PathBuf,
        /// What.
        what: String,
    },
    /// A bundled CRD file is not valid YAML (only possible if the crate was corrupted).
    #[error("failed to parse bundled CRD {file}")]
    ParseCrd {
        /// The file.
        file: &'static str,
        /// The cause.
        #[source]
        source: YamlError,
    },
    /// A bundled CRD version schema did not compile (only possible if the crate was corrupted).
    #[error("failed to compile the schema of {kind} {version} from bundled CRD {file}: {message}")]
    CompileSchema {
        /// The file.
        file: &'static str,
        /// The kind.
        kind: String,
        /// The version.
        version: String,
        /// The compiler's message.
        message: String,
    },
    /// A manifest could not be read as a typed SMI resource ([`crate::smi`]).
    #[error("invalid SMI manifest at {pointer}: {message}")]
    ParseResource {
        /// JSON Pointer (RFC 6901) of the offending value inside the manifest.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// A backend failed to apply an object.
    #[error("failed to apply {object}: {reason}")]
    Apply {
        /// `kind/namespace/name`.
        object: String,
        /// Why.
        reason: String,
        /// The underlying error, if there is one (a client or I/O error of the backend).
        #[source]
        source: Option<BoxError>,
    },
    /// A backend failed to read or list objects.
    #[error("failed to read {object}: {reason}")]
    ReadObject {
        /// What was read.
        object: String,
        /// Why.
        reason: String,
        /// The underlying error, if there is one (a client or I/O error of the backend).
        #[source]
        source: Option<BoxError>,
    },
    /// A backend failed to delete an object.
    #[error("failed to delete {object}: {reason}")]
    Delete {
        /// What was deleted.
        object: String,
        /// Why.
        reason: String,
        /// The underlying error, if there is one (a client or I/O error of the backend).
        #[source]
        source: Option<BoxError>,
    },
    /// A backend failed to create, delete or list a namespace.
    #[error("failed to manage namespace {namespace}: {reason}")]
    Namespace {
        /// The namespace.
        namespace: String,
        /// Why.
        reason: String,
        /// The underlying error, if there is one (a client or I/O error of the backend).
        #[source]
        source: Option<BoxError>,
    },
    /// A backend could not send a request from a source workload before it reached the mesh
    /// (e.g. the source workload does not exist). Denials are *outcomes*, not this error.
    #[error("failed to send traffic from {source_workload}: {reason}")]
    Send {
        /// `namespace/workload`.
        source_workload: String,
        /// Why.
        reason: String,
        /// The underlying error, if there is one (a client or I/O error of the backend).
        #[source]
        source: Option<BoxError>,
    },
    /// A Gateway API ConformanceReport could not be built, read or written: a required field
    /// is missing or the document breaks the report's rules.
    #[error("invalid ConformanceReport: {field}: {message}")]
    InvalidReport {
        /// The field, e.g. `implementation.url`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A Gateway API ConformanceReport (or its implementation block) is not valid YAML or JSON of
    /// that shape.
    #[error("failed to parse {what}")]
    ParseReport {
        /// What was read, e.g. `the implementation file`.
        what: String,
        /// The cause, with line and column.
        #[source]
        source: YamlError,
    },
    /// A backend could not start or connect.
    #[error("failed to start backend: {reason}")]
    Start {
        /// Why.
        reason: String,
        /// The underlying error, if there is one (a client or I/O error of the backend).
        #[source]
        source: Option<BoxError>,
    },
}

/// A YAML syntax or shape error, with its location: the cause of [`Error::ParseSuite`],
/// [`Error::ParseKuttl`], [`Error::ParseCrd`] and [`Error::WriteSuite`].
///
/// It keeps the YAML library out of this crate's API: read the message through `Display` and the
/// position through [`line`](Self::line) and [`column`](Self::column).
pub struct YamlError(serde_yaml::Error);

impl YamlError {
    pub(crate) fn new(e: serde_yaml::Error) -> Self {
        Self(e)
    }

    /// 1-based line of the error, when known.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        self.0.location().map(|l| l.line())
    }

    /// 1-based column of the error, when known.
    #[must_use]
    pub fn column(&self) -> Option<usize> {
        self.0.location().map(|l| l.column())
    }
}

impl fmt::Debug for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for YamlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

/// The error and its sources as one line (`a: b: c`), leaving out a source whose text a layer
/// above already holds: the message of a backend error in a report.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}
