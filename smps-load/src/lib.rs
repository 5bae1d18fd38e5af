//! An embeddable load engine for HTTP/1.1, HTTP/2, gRPC, TCP and UDP that measures right,
//! stays flat in memory, and reports in Service Mesh Performance (SMP) terms.
//!
//! `smps-load` runs a performance test described by an SMP `PerformanceTestConfig` (or set
//! up with a builder) on the caller's Tokio runtime, and returns a [`Report`] that projects
//! to an SMP `PerformanceTestResult`, to fortio-compatible JSON (what Meshery ingests), and
//! to a lossless, mergeable [`PortableReport`] (HdrHistogram V2, base64).
//!
//! * **Load models** ([`LoadModel`]): closed loop (N connections as fast as possible) and
//!   open loop driven by an [`ArrivalPlan`]: constant rate, seeded Poisson, piecewise-linear
//!   [`Stage`]s. In an open loop, latency counts from each request's *intended* send time
//!   (coordinated-omission corrected) and service time (actual send → last byte) is kept as
//!   a second histogram, with dispatch lag (intended → actual send) as a third. When no
//!   connection is free a [`BacklogPolicy`] applies, and every outcome is counted.
//! * **Protocols** ([`Protocol`], chosen by the URL scheme or the SMP client's `protocol`):
//!   HTTP/1.1 keep-alive; HTTP/2 multiplexed, N connections × M streams
//!   ([`EngineBuilder::streams_per_connection`]; h2c prior knowledge, TLS with ALPN through
//!   rustls) through the engine's own HTTP/2 client ([`Http2Client`]); gRPC unary calls over
//!   HTTP/2; TCP and UDP echo with unique payloads checked
//!   byte for byte. Per-request and connect timeouts; failures classified in the stable
//!   [`ErrorKind`] taxonomy (HTTP/2 GOAWAY, RST_STREAM and refused streams, gRPC statuses by
//!   code name, lost, late and mismatched echoes) and followed by reconnects.
//! * **Recorder**: per-worker HdrHistograms (µs, 1 µs–1 h, 3 significant digits) and fixed
//!   counters, merged at the end; per-interval [`Snapshot`]s. Memory does not grow with the
//!   number of requests.
//! * **Distributed runs** ([`ExecutionPart`]): one load split into segments of a sequence, one
//!   per generator, with no coordinator (k6-style striping: the parts' shares add up to the
//!   whole exactly), started together at a wall-clock instant; [`merge`] checks that the parts
//!   cover the sequence exactly once.
//! * **Adaptive search** ([`Search`]): the highest rate a target sustains under an [`Slo`]
//!   (corrected percentile, success share, generator self-check), by exponential then binary
//!   search over open-loop trials.
//!
//! Non-goals for now: HTTP/3, gRPC streaming calls, gRPC requests built from JSON with a
//! descriptor set.
//!
//! # Endpoint URLs
//!
//! | URL | protocol | what one request is |
//! |---|---|---|
//! | `http://host:port/path`, `https://…` | [`Protocol::Http`] | one HTTP request ([`HttpVersion`] 1.1 or 2) |
//! | `grpc://host:port/pkg.Service/Method` | [`Protocol::Grpc`] | one unary call over h2c (prior knowledge) |
//! | `grpcs://host:port/pkg.Service/Method` | [`Protocol::Grpc`] | one unary call over TLS (ALPN `h2`) |
//! | `grpc://host:port` (no method) | [`Protocol::Grpc`] | `grpc.health.v1.Health/Check`; the answer must be `SERVING` |
//! | `tcp://host:port` | [`Protocol::Tcp`] | write a unique payload, read the whole echo, compare |
//! | `udp://host:port` | [`Protocol::Udp`] | send a unique datagram, wait for its echo |
//!
//! gRPC: the request message is given as protobuf bytes ([`EngineBuilder::body`]; in an SMP
//! config `body`, or `additional_options.message_base64` for binary), framed by the engine;
//! header fields ([`EngineBuilder::header`]) travel as metadata; the request timeout is sent
//! as `grpc-timeout`. A call counts as a success (status 200 in the report) when
//! `grpc-status` is 0; other statuses count as [`ErrorKind`]s named after the code
//! (`grpc_unavailable`, …), with the first `grpc-message` of each in
//! [`Report::error_reasons`]. With `protocol` set to gRPC, `http(s)://` URLs, SMP's bare
//! `host:port` and `dns:///host:port` name gRPC servers too; for TCP and UDP, bare
//! `host:port`. A successful echo also counts as status 200.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use smps_load::Engine;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), smps_load::Error> {
//! let engine = Engine::builder()
//!     .url("http://127.0.0.1:8080/hello")
//!     .connections(16)
//!     .rate(2000.0) // open loop, 2,000 req/s in total
//!     .warmup(Duration::from_secs(1))
//!     .duration(Duration::from_secs(10))
//!     .build()?;
//! let mut run = engine.start().await?;
//! while let Some(s) = run.next_snapshot().await {
//!     // One snapshot per second: s.rate, s.latency.p99, ...
//!     let _ = s;
//! }
//! let report = run.finish().await?;
//! let smp = report.to_smp_result();
//! assert!(smp.latencies_ms.is_some());
//! # Ok(()) }
//! ```
//!
//! # Main types
//!
//! | type | role |
//! |---|---|
//! | [`Engine`], [`EngineBuilder`] | a configured test; [`EngineBuilder::from_config`] maps an SMP config |
//! | [`Run`], [`StopHandle`], [`Snapshot`] | a run in progress: progress stream and graceful stop |
//! | [`LoadModel`], [`ArrivalPlan`], [`Stage`], [`BacklogPolicy`] | how requests are paced |
//! | [`Report`], [`PhaseReport`], [`PortableReport`], [`merge`] | results and their projections |
//! | [`ExecutionPart`], [`ExecutionSegment`], [`SegmentSequence`], [`PartRecord`] | parts of a distributed run |
//! | [`Search`], [`SearchSettings`], [`Slo`], [`SearchReport`] | the highest sustainable rate |
//! | [`ErrorKind`] | stable request-failure taxonomy; [`Error`] is for the engine itself |
//!
//! # Features
//!
//! | feature | default? | what it adds |
//! |---|---|---|
//! | `http2` | yes | [`HttpVersion::Http2`] (h2c prior knowledge, `h2` by ALPN over TLS, streams per connection) and [`Protocol::Grpc`] |
//! | `rustls` | yes | `https://` endpoints (rustls, ring provider, webpki roots + extra CAs) |
//! | `reference-server` | no | the `reference` module: the loopback HTTP/HTTP/2/gRPC server and the TCP/UDP echo servers used by tests, examples, benches |
//!
//! # Runtime
//!
//! Everything runs on the caller's Tokio runtime (time and I/O drivers enabled); the crate
//! never creates one. On a multi-thread runtime the workers run in parallel (one per runtime
//! thread by default); on a current-thread runtime they share the thread. See [`Engine`].
//!
//! # Stability
//!
//! Public enums and structs are `#[non_exhaustive]`. [`ErrorKind`] codes and names, the
//! label keys and the portable format tag (`smps-load/v1`) are stable.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod builder;
mod collect;
mod engine;
mod error;
mod limits;
mod model;
mod pacer;
mod plan;
mod recorder;
#[cfg(feature = "reference-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "reference-server")))]
pub mod reference;
mod report;
mod rng;
mod search;
mod segment;
mod transport;
mod worker;

pub use builder::EngineBuilder;
pub use engine::{Engine, Run, StopHandle};
pub use error::{Error, ErrorKind, Result};
pub use hdrhistogram;
/// The `http` crate, whose [`Method`](http::Method) [`EngineBuilder::method`] takes.
pub use http;
pub use model::{BacklogPolicy, LoadModel, Pacing};
pub use plan::{ArrivalPlan, Arrivals, Spacing, Stage};
pub use report::{
    DEFAULT_DISPATCH_LAG_LIMIT, GENERATOR, LABEL_GENERATOR, LABEL_HISTOGRAM, LABEL_LATENCY_BASIS,
    LABEL_LOAD_MODEL, LABEL_RUN_ID, LABEL_SEGMENT, LABEL_SEGMENT_SEQUENCE, LABEL_START_LATE_MS,
    LatencyBasis, LatencySummary, PartRecord, Phase, PhaseReport, PortablePhase, PortableReport,
    Report, RunId, RunSettings, Snapshot, merge,
};
pub use search::{Search, SearchOutcome, SearchReport, SearchSettings, Slo, Trial, Verdict};
pub use segment::{
    ExecutionPart, ExecutionSegment, Fraction, MAX_SEGMENT_DENOMINATOR, SegmentSequence,
};
#[cfg(feature = "http2")]
pub use transport::Http2Client;
pub use transport::{Http1Client, HttpVersion, Protocol};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
