//! Label keys this crate family writes into [`crate::PerformanceTestResult::labels`] and
//! [`crate::PerformanceTestConfig::labels`].
//!
//! SMP results have no fields for how a figure was measured, so converters and the load engine
//! record it in labels under the `smps.io/` prefix; Meshery's own metadata goes under
//! `meshery.io/`.

/// The load generator that produced the result (`fortio`, `wrk2`, `nighthawk`, `smps-load`).
pub const LOAD_GENERATOR: &str = "smps.io/load-generator";
/// What latency is measured from: [`LATENCY_BASIS_INTENDED`] or [`LATENCY_BASIS_ACTUAL`].
pub const LATENCY_BASIS: &str = "smps.io/latency-basis";
/// Latency counted from each request's intended send time (corrected for coordinated omission).
pub const LATENCY_BASIS_INTENDED: &str = "intended-send";
/// Latency counted from the actual send time (service time; not corrected).
pub const LATENCY_BASIS_ACTUAL: &str = "actual-send";
/// The unit the source document used for latencies before conversion to ms (`s` or `ms`).
pub const SOURCE_LATENCY_UNIT: &str = "smps.io/source-latency-unit";
/// The target URL.
pub const URL: &str = "smps.io/url";
/// The requested rate (`max` or a number).
pub const REQUESTED_QPS: &str = "smps.io/requested-qps";
/// The number of connections (fortio `NumThreads`).
pub const CONNECTIONS: &str = "smps.io/connections";
/// The number of requests recorded.
pub const REQUESTS: &str = "smps.io/requests";
/// Response status counts, `code:count` pairs joined by commas (`-1` = socket error).
pub const STATUS_CODES: &str = "smps.io/status-codes";
/// Requests that failed: no response, or a status outside 2xx–3xx (as a decimal count).
pub const FAILED_REQUESTS: &str = "smps.io/failed-requests";
/// Requests that got no response, by kind: `kind:count` pairs joined by commas
/// (`connect_refused:40,request_timeout:3`).
pub const ERRORS: &str = "smps.io/errors";
/// One reason per error kind, as the transport reported it (`tls: invalid peer certificate:
/// UnknownIssuer`), joined by `; `.
pub const ERROR_REASONS: &str = "smps.io/error-reasons";
/// Dispatch lag of an open-loop run (intended → actual send), in milliseconds:
/// `p50=…,p99=…,max=…`. Small when the generator kept to its plan.
pub const DISPATCH_LAG_MS: &str = "smps.io/dispatch-lag-ms";
/// A warning about how far the result can be trusted (for example a dispatch lag above the
/// generator's limit), as a sentence.
pub const WARNING: &str = "smps.io/warning";
/// Planned requests never sent (open loop: no free connection, or still waiting at the end).
pub const DROPPED: &str = "smps.io/dropped";
/// Requests sent but given up one request timeout after the run ended.
pub const ABANDONED: &str = "smps.io/abandoned";
/// The run type reported by the generator (`HTTP`, `GRPC`, `TCP`).
pub const RUN_TYPE: &str = "smps.io/run-type";
/// The Kubernetes version the result was recorded against.
pub const KUBERNETES_VERSION: &str = "smps.io/kubernetes-version";
/// Meshery's name of the result or profile.
pub const MESHERY_NAME: &str = "meshery.io/name";
/// Meshery's mesh name, verbatim (`app mesh`, `ISTIO`).
pub const MESHERY_MESH: &str = "meshery.io/mesh";
/// The Meshery performance profile id a result belongs to.
pub const MESHERY_PROFILE: &str = "meshery.io/performance-profile";
/// The owner (user id) of a Meshery record.
pub const MESHERY_OWNER: &str = "meshery.io/owner";
/// When a Meshery profile last ran.
pub const MESHERY_LAST_RUN: &str = "meshery.io/last-run";
/// All load generators named by a Meshery profile, comma-separated.
pub const MESHERY_LOAD_GENERATORS: &str = "meshery.io/load-generators";
