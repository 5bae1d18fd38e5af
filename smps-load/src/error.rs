//! Errors of the engine itself ([`Error`]) and the stable taxonomy of request failures
//! ([`ErrorKind`]).

use std::fmt;

/// Errors returned when building or running an engine, or when decoding or merging results.
///
/// Request failures during a run are **not** errors of this type: they are outcomes, counted
/// per [`ErrorKind`] in the [`Report`](crate::Report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting given to the builder (or read from a `PerformanceTestConfig`) is invalid.
    #[error("invalid setting `{field}`: {reason}")]
    InvalidSetting {
        /// Where the value came from, e.g. `clients[0].rps` or `connections`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An endpoint URL could not be parsed or is not usable.
    #[error("invalid endpoint URL `{url}` at `{field}`: {reason}")]
    InvalidEndpoint {
        /// The URL as given, with user information and secret query values hidden
        /// ([`smps_model::redact::url`]).
        url: String,
        /// Where it came from, e.g. `clients[0].endpoint_urls[1]`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header name or value could not be used in an HTTP request.
    #[error("invalid header `{name}` at `{field}`")]
    InvalidHeader {
        /// The header name as given.
        name: String,
        /// Where it came from, e.g. `clients[0].headers`.
        field: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The extra trusted CA certificate could not be read.
    #[error("could not read the trusted CA certificate at `{field}`: {reason}")]
    LoadCertificate {
        /// Where it came from, e.g. `clients[0].ssl_certificate`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration asks for something this engine does not do.
    #[error("unsupported configuration at `{field}`: {reason}")]
    Unsupported {
        /// The offending field.
        field: String,
        /// Why it is not supported.
        reason: String,
    },
    /// [`Engine::start`](crate::Engine::start) was called outside a Tokio runtime.
    #[error("starting a run needs a Tokio runtime, and none is running on this thread")]
    NoRuntime,
    /// An endpoint's host name could not be resolved when the run started.
    #[error("could not resolve `{host}`")]
    Resolve {
        /// Host and port that were looked up.
        host: String,
        /// The cause, when there is one.
        #[source]
        source: Option<std::io::Error>,
    },
    /// A worker task of the run ended abnormally (panicked or was aborted).
    #[error("a worker of the run ended abnormally")]
    Worker {
        /// The cause.
        #[source]
        source: tokio::task::JoinError,
    },
    /// A serialized histogram could not be decoded.
    #[error("could not decode the `{metric}` histogram")]
    DecodeHistogram {
        /// Which histogram (`latency`, `service_time`, `dispatch_lag`).
        metric: &'static str,
        /// The cause (base64 or HdrHistogram V2 format).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A histogram could not be encoded.
    #[error("could not encode the `{metric}` histogram")]
    EncodeHistogram {
        /// Which histogram.
        metric: &'static str,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The reference server could not bind its socket.
    #[cfg(feature = "reference-server")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reference-server")))]
    #[error("could not bind the reference server to {addr}")]
    BindServer {
        /// The address asked for.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The run needs more file descriptors than the process may open.
    #[error(
        "{connections} connections need about {needed} file descriptors, but this process may open only {limit} (raise it with `ulimit -n {needed}`, or use fewer connections)"
    )]
    FileDescriptors {
        /// Connections the run may open (the backlog policy's cap included).
        connections: u64,
        /// File descriptors the run needs, with a reserve for the runtime.
        needed: u64,
        /// The process's current (soft) limit.
        limit: u64,
    },
    /// Two results could not be merged.
    #[error("could not merge results: {reason}")]
    Merge {
        /// Why not.
        reason: String,
    },
    /// Two results to merge hold the same run (the same file given twice, or a merged result
    /// merged again with one of its parts): merging would count its requests twice.
    #[error("could not merge results: run `{run_id}` is in both")]
    DuplicateRun {
        /// The run id found in both ([`RunId`](crate::RunId)).
        run_id: String,
    },
    /// A counter would exceed `u64::MAX` (or a count of connections or workers `usize::MAX`)
    /// when results are merged; the merge is refused rather than giving a wrapped number.
    #[error("could not merge results: the `{counter}` counter overflows")]
    CounterOverflow {
        /// Which counter, e.g. `measured.status_codes[200]` or `measured.bytes_in`.
        counter: String,
    },
    /// A portable report is inconsistent (for example a phase that ends before it starts).
    #[error("invalid portable report: `{field}` {reason}")]
    InvalidPortable {
        /// The offending field, e.g. `measured.end_unix_ns`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The parts of a distributed run given to [`merge`](crate::merge) do not cover their
    /// segment sequence exactly once (a gap, an overlap, two sequences or two start instants).
    #[error("the parts do not cover the segment sequence exactly once: {reason}")]
    SegmentCoverage {
        /// The missing and overlapping segments, by name and run id.
        reason: String,
    },
    /// A trial of an adaptive [`Search`](crate::Search) could not be run.
    #[error("the search trial at {rps} requests per second could not run")]
    SearchTrial {
        /// The trial's planned rate.
        rps: f64,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// One of several results given to [`merge`](crate::merge) could not be decoded or
    /// merged.
    #[error("could not merge part {index} of the results")]
    MergePart {
        /// 0-based index of the part in the list given to [`merge`](crate::merge).
        index: usize,
        /// Why.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// The reason alone, for re-wrapping an error under the name of the setting the user
    /// called (the message of other variants).
    pub(crate) fn reason(&self) -> String {
        match self {
            Error::InvalidSetting { reason, .. }
            | Error::Unsupported { reason, .. }
            | Error::InvalidPortable { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a request failed, in a stable taxonomy.
///
/// Each kind has a stable numeric [`code`](ErrorKind::code) and a stable snake_case
/// [`name`](ErrorKind::name); neither ever changes meaning. New kinds may be added.
/// A failure is counted and, for connection-level kinds, followed by a reconnect: the engine
/// never stops or panics because a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u16)]
pub enum ErrorKind {
    /// The host name could not be resolved.
    Resolve = 1100,
    /// The TCP connection could not be established for a reason other than those below.
    Connect = 1200,
    /// No socket could be opened: the process or the system ran out of file descriptors
    /// (`EMFILE`/`ENFILE`; raise `ulimit -n` or use fewer connections).
    TooManyOpenFiles = 1201,
    /// The TCP connection attempt took longer than the connect timeout.
    ConnectTimeout = 1211,
    /// The peer refused the TCP connection (nothing listening).
    ConnectRefused = 1212,
    /// The connection was reset by the peer (RST, broken pipe).
    ConnectionReset = 1220,
    /// The peer closed the connection before the response was complete.
    ConnectionClosed = 1221,
    /// The TLS handshake failed (including certificate verification).
    Tls = 1300,
    /// The request did not complete within the per-request timeout.
    RequestTimeout = 1050,
    /// The peer broke the protocol (unparsable HTTP response, HTTP/2 protocol error, a
    /// malformed gRPC message or a gRPC response without `grpc-status`).
    Protocol = 1650,
    /// HTTP/2: the peer's GOAWAY ended the connection before the stream completed.
    Http2GoAway = 1610,
    /// HTTP/2: the peer reset the stream (RST_STREAM with a reason other than
    /// REFUSED_STREAM).
    Http2StreamReset = 1630,
    /// HTTP/2: the peer refused the stream (RST_STREAM with REFUSED_STREAM: not processed,
    /// safe to retry).
    Http2RefusedStream = 1631,
    /// Reading the response body failed.
    BodyRead = 1700,
    /// TCP or UDP echo: the bytes that came back are not the bytes sent.
    EchoMismatch = 1710,
    /// UDP echo: no echo within twice the UDP timeout.
    EchoLost = 1720,
    /// UDP echo: the echo came after the UDP timeout (but within twice it).
    EchoLate = 1721,
    /// gRPC status 1 `CANCELLED`.
    GrpcCancelled = 1801,
    /// gRPC status 2 `UNKNOWN` (also any status number above 16).
    GrpcUnknown = 1802,
    /// gRPC status 3 `INVALID_ARGUMENT`.
    GrpcInvalidArgument = 1803,
    /// gRPC status 4 `DEADLINE_EXCEEDED` (the `grpc-timeout` deadline passed).
    GrpcDeadlineExceeded = 1804,
    /// gRPC status 5 `NOT_FOUND`.
    GrpcNotFound = 1805,
    /// gRPC status 6 `ALREADY_EXISTS`.
    GrpcAlreadyExists = 1806,
    /// gRPC status 7 `PERMISSION_DENIED`.
    GrpcPermissionDenied = 1807,
    /// gRPC status 8 `RESOURCE_EXHAUSTED`.
    GrpcResourceExhausted = 1808,
    /// gRPC status 9 `FAILED_PRECONDITION`.
    GrpcFailedPrecondition = 1809,
    /// gRPC status 10 `ABORTED`.
    GrpcAborted = 1810,
    /// gRPC status 11 `OUT_OF_RANGE`.
    GrpcOutOfRange = 1811,
    /// gRPC status 12 `UNIMPLEMENTED`.
    GrpcUnimplemented = 1812,
    /// gRPC status 13 `INTERNAL`.
    GrpcInternal = 1813,
    /// gRPC status 14 `UNAVAILABLE`.
    GrpcUnavailable = 1814,
    /// gRPC status 15 `DATA_LOSS`.
    GrpcDataLoss = 1815,
    /// gRPC status 16 `UNAUTHENTICATED`.
    GrpcUnauthenticated = 1816,
    /// gRPC health check: status OK, but the service is not `SERVING`.
    GrpcNotServing = 1820,
    /// Any other failure.
    Other = 1999,
}

impl ErrorKind {
    /// Every kind: the first twelve in their original order, later additions after them
    /// (for tables; the order is not the code order).
    pub const ALL: [ErrorKind; 35] = [
        ErrorKind::Resolve,
        ErrorKind::Connect,
        ErrorKind::TooManyOpenFiles,
        ErrorKind::ConnectTimeout,
        ErrorKind::ConnectRefused,
        ErrorKind::ConnectionReset,
        ErrorKind::ConnectionClosed,
        ErrorKind::Tls,
        ErrorKind::RequestTimeout,
        ErrorKind::Protocol,
        ErrorKind::BodyRead,
        ErrorKind::Other,
        ErrorKind::Http2GoAway,
        ErrorKind::Http2StreamReset,
        ErrorKind::Http2RefusedStream,
        ErrorKind::EchoMismatch,
        ErrorKind::EchoLost,
        ErrorKind::EchoLate,
        ErrorKind::GrpcCancelled,
        ErrorKind::GrpcUnknown,
        ErrorKind::GrpcInvalidArgument,
        ErrorKind::GrpcDeadlineExceeded,
        ErrorKind::GrpcNotFound,
        ErrorKind::GrpcAlreadyExists,
        ErrorKind::GrpcPermissionDenied,
        ErrorKind::GrpcResourceExhausted,
        ErrorKind::GrpcFailedPrecondition,
        ErrorKind::GrpcAborted,
        ErrorKind::GrpcOutOfRange,
        ErrorKind::GrpcUnimplemented,
        ErrorKind::GrpcInternal,
        ErrorKind::GrpcUnavailable,
        ErrorKind::GrpcDataLoss,
        ErrorKind::GrpcUnauthenticated,
        ErrorKind::GrpcNotServing,
    ];

    /// The stable numeric code of this kind.
    ///
    /// ```
    /// assert_eq!(smps_load::ErrorKind::ConnectRefused.code(), 1212);
    /// ```
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The stable snake_case name of this kind (`connect_refused`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Resolve => "resolve",
            ErrorKind::Connect => "connect",
            ErrorKind::TooManyOpenFiles => "too_many_open_files",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::ConnectRefused => "connect_refused",
            ErrorKind::ConnectionReset => "connection_reset",
            ErrorKind::ConnectionClosed => "connection_closed",
            ErrorKind::Tls => "tls",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::Protocol => "protocol",
            ErrorKind::BodyRead => "body_read",
            ErrorKind::Other => "other",
            ErrorKind::Http2GoAway => "http2_go_away",
            ErrorKind::Http2StreamReset => "http2_stream_reset",
            ErrorKind::Http2RefusedStream => "http2_refused_stream",
            ErrorKind::EchoMismatch => "echo_mismatch",
            ErrorKind::EchoLost => "echo_lost",
            ErrorKind::EchoLate => "echo_late",
            ErrorKind::GrpcCancelled => "grpc_cancelled",
            ErrorKind::GrpcUnknown => "grpc_unknown",
            ErrorKind::GrpcInvalidArgument => "grpc_invalid_argument",
            ErrorKind::GrpcDeadlineExceeded => "grpc_deadline_exceeded",
            ErrorKind::GrpcNotFound => "grpc_not_found",
            ErrorKind::GrpcAlreadyExists => "grpc_already_exists",
            ErrorKind::GrpcPermissionDenied => "grpc_permission_denied",
            ErrorKind::GrpcResourceExhausted => "grpc_resource_exhausted",
            ErrorKind::GrpcFailedPrecondition => "grpc_failed_precondition",
            ErrorKind::GrpcAborted => "grpc_aborted",
            ErrorKind::GrpcOutOfRange => "grpc_out_of_range",
            ErrorKind::GrpcUnimplemented => "grpc_unimplemented",
            ErrorKind::GrpcInternal => "grpc_internal",
            ErrorKind::GrpcUnavailable => "grpc_unavailable",
            ErrorKind::GrpcDataLoss => "grpc_data_loss",
            ErrorKind::GrpcUnauthenticated => "grpc_unauthenticated",
            ErrorKind::GrpcNotServing => "grpc_not_serving",
        }
    }

    /// The kind of a non-OK gRPC status code (`None` for 0, `OK`); codes above 16 are
    /// [`ErrorKind::GrpcUnknown`], as gRPC itself treats them.
    ///
    /// ```
    /// use smps_load::ErrorKind;
    /// assert_eq!(ErrorKind::from_grpc_status(14), Some(ErrorKind::GrpcUnavailable));
    /// assert_eq!(ErrorKind::from_grpc_status(0), None);
    /// ```
    pub fn from_grpc_status(code: u32) -> Option<Self> {
        Some(match code {
            0 => return None,
            1 => ErrorKind::GrpcCancelled,
            3 => ErrorKind::GrpcInvalidArgument,
            4 => ErrorKind::GrpcDeadlineExceeded,
            5 => ErrorKind::GrpcNotFound,
            6 => ErrorKind::GrpcAlreadyExists,
            7 => ErrorKind::GrpcPermissionDenied,
            8 => ErrorKind::GrpcResourceExhausted,
            9 => ErrorKind::GrpcFailedPrecondition,
            10 => ErrorKind::GrpcAborted,
            11 => ErrorKind::GrpcOutOfRange,
            12 => ErrorKind::GrpcUnimplemented,
            13 => ErrorKind::GrpcInternal,
            14 => ErrorKind::GrpcUnavailable,
            15 => ErrorKind::GrpcDataLoss,
            16 => ErrorKind::GrpcUnauthenticated,
            _ => ErrorKind::GrpcUnknown,
        })
    }

    /// The gRPC code name of a gRPC kind (`UNAVAILABLE`), as gRPC and fortio write it.
    pub fn grpc_code_name(self) -> Option<&'static str> {
        Some(match self {
            ErrorKind::GrpcCancelled => "CANCELLED",
            ErrorKind::GrpcUnknown => "UNKNOWN",
            ErrorKind::GrpcInvalidArgument => "INVALID_ARGUMENT",
            ErrorKind::GrpcDeadlineExceeded => "DEADLINE_EXCEEDED",
            ErrorKind::GrpcNotFound => "NOT_FOUND",
            ErrorKind::GrpcAlreadyExists => "ALREADY_EXISTS",
            ErrorKind::GrpcPermissionDenied => "PERMISSION_DENIED",
            ErrorKind::GrpcResourceExhausted => "RESOURCE_EXHAUSTED",
            ErrorKind::GrpcFailedPrecondition => "FAILED_PRECONDITION",
            ErrorKind::GrpcAborted => "ABORTED",
            ErrorKind::GrpcOutOfRange => "OUT_OF_RANGE",
            ErrorKind::GrpcUnimplemented => "UNIMPLEMENTED",
            ErrorKind::GrpcInternal => "INTERNAL",
            ErrorKind::GrpcUnavailable => "UNAVAILABLE",
            ErrorKind::GrpcDataLoss => "DATA_LOSS",
            ErrorKind::GrpcUnauthenticated => "UNAUTHENTICATED",
            ErrorKind::GrpcNotServing => "NOT_SERVING",
            _ => return None,
        })
    }

    /// The kind with this [`name`](ErrorKind::name), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    pub(crate) fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(Self::ALL.len() - 1)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_codes_are_unique() {
        let mut codes: Vec<u16> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(ErrorKind::from_name(k.name()), Some(*k));
            assert_eq!(k.index(), i);
        }
        for code in 1..=16 {
            let k = ErrorKind::from_grpc_status(code).unwrap();
            assert_eq!(k.code(), 1800 + code as u16);
            assert!(k.grpc_code_name().is_some());
        }
        assert_eq!(
            ErrorKind::from_grpc_status(99),
            Some(ErrorKind::GrpcUnknown)
        );
        assert_eq!(ErrorKind::Protocol.grpc_code_name(), None);
    }
}
