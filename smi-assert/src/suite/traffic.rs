//! The traffic operations: [`TrafficOp`] (with [`Expect`] and [`DenialClass`]) and [`DistributionOp`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use smps_model::GoDuration;

/// Expected result of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Expect {
    /// A 2xx/3xx response (for `udp://`, an answer echoing the datagram).
    Allowed,
    /// An outcome in `deniedWhen`.
    Denied,
}

/// A class of outcome that counts as a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum DenialClass {
    /// HTTP 403.
    Http403,
    /// Any HTTP 4xx.
    Http4xx,
    /// Any HTTP 5xx.
    Http5xx,
    /// Connection reset.
    Reset,
    /// Connection closed without a response.
    Eof,
    /// No answer in time.
    Timeout,
    /// Connection refused.
    Refused,
}

impl DenialClass {
    /// Default denial classes: HTTP 403, reset, EOF (Istio's protocol-aware "forbidden").
    pub const DEFAULT: [DenialClass; 3] =
        [DenialClass::Http403, DenialClass::Reset, DenialClass::Eof];

    /// Default denial classes for `udp://` targets: a timeout, since a mesh can only drop a
    /// datagram (pair a UDP denial check with an allowed one, so a broken path cannot pass it).
    pub const DEFAULT_UDP: [DenialClass; 1] = [DenialClass::Timeout];

    /// Whether `outcome` is in this class.
    #[must_use]
    pub fn covers(self, outcome: &crate::backend::Outcome) -> bool {
        use crate::backend::Outcome as O;
        match (self, outcome) {
            (Self::Http403, O::Http { status }) => *status == 403,
            (Self::Http4xx, O::Http { status }) => (400..500).contains(status),
            (Self::Http5xx, O::Http { status }) => (500..600).contains(status),
            (Self::Reset, O::Reset) | (Self::Eof, O::Eof) | (Self::Timeout, O::Timeout) => true,
            (Self::Refused, O::Refused) => true,
            _ => false,
        }
    }
}

/// `traffic`: send requests from a source workload until `consecutive` outcomes in a row are as
/// expected, within the timeout (convergence; never a fixed sleep).
///
/// A `udp://svc:port` target sends one UDP datagram per request instead of an HTTP request
/// (`method` and `headers` are unused): *allowed* means an answer echoing it arrived, *denied*
/// defaults to no answer within `requestTimeout` ([`DenialClass::DEFAULT_UDP`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct TrafficOp {
    /// Source workload (Deployment or Service name), in the test namespace or, written
    /// `namespace/name`, in another one.
    pub from: String,
    /// Target URL, e.g. `http://app-b:9091/echo` or `udp://app-b:9092`.
    pub to: String,
    /// Method (default GET).
    #[serde(default = "get")]
    pub method: String,
    /// Headers. A `Host` header replaces the URL's host in the request while the connection
    /// still goes to the URL's host (GAMMA's frontend vs Host checks).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Expected result (default `allowed`).
    #[serde(default = "allowed")]
    pub expect: Expect,
    /// With `expect: allowed`, what the response must show (status codes, headers, the request
    /// the echo backend saw, a redirect's `Location`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseExpect>,
    /// Outcomes that count as denied (default: http403, reset, eof; timeout for `udp://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_when: Option<Vec<DenialClass>>,
    /// Consecutive expected outcomes required (N, default 3); `count` is accepted as an alias.
    #[serde(default = "three", alias = "count")]
    pub consecutive: u32,
    /// If set, allowed responses must come from this backend (its reported name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_by: Option<String>,
    /// Per-request timeout (default 2s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<GoDuration>,
    /// Convergence timeout T (inherits `timeouts.traffic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

fn get() -> String {
    "GET".into()
}

fn allowed() -> Expect {
    Expect::Allowed
}

/// What an allowed response must show. Header names are case-insensitive; several values of one
/// header are compared joined by `,` (as Gateway API's conformance suite does).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ResponseExpect {
    /// Acceptable status codes (default: any 2xx or 3xx). With it, e.g. `[404]`, the status
    /// decides instead of "allowed".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<u16>,
    /// Response headers and their values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Response headers that must be absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent_headers: Vec<String>,
    /// What the echo backend must report having received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<SeenRequest>,
    /// What the `Location` of a redirect must say (parts left out are not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectExpect>,
}

/// The request an echo backend saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SeenRequest {
    /// Path (without the query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Protocol, e.g. `HTTP/1.1` or `HTTP/2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Headers and their values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Headers that must be absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent_headers: Vec<String>,
}

/// The parts of a redirect's `Location` to check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct RedirectExpect {
    /// Scheme, e.g. `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Host name (without port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Port; `default` requires none in the `Location` (the scheme's well-known port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn three() -> u32 {
    3
}

impl TrafficOp {
    /// A GET expecting `expect`, N = 3.
    #[must_use]
    pub fn new(from: impl Into<String>, to: impl Into<String>, expect: Expect) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
            method: get(),
            headers: BTreeMap::new(),
            expect,
            response: None,
            denied_when: None,
            consecutive: 3,
            served_by: None,
            request_timeout: None,
            timeout: None,
        }
    }
}

/// `distribution`: send `requests` requests and judge the backend shares with a χ² test
/// (see [`crate::stats`] for the false-fail rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct DistributionOp {
    /// Source workload.
    pub from: String,
    /// Target URL (the root/apex service).
    pub to: String,
    /// Method (default GET).
    #[serde(default = "get")]
    pub method: String,
    /// Headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Backend (as it reports itself, `x-served-by`) → relative weight. Weight 0 means none.
    pub weights: BTreeMap<String, u64>,
    /// Requests per attempt (default 400).
    #[serde(default = "four_hundred")]
    pub requests: u32,
    /// Significance level α (default 0.001).
    #[serde(default = "alpha")]
    pub alpha: f64,
    /// Independent attempts before failing (default 2): false-fail rate ≈ α^attempts.
    #[serde(default = "two")]
    pub attempts: u32,
    /// Per-request timeout (default 2s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<GoDuration>,
    /// Timeout of one attempt (inherits `timeouts.distribution`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

fn four_hundred() -> u32 {
    400
}

fn alpha() -> f64 {
    0.001
}

fn two() -> u32 {
    2
}

impl DistributionOp {
    /// A distribution check with the defaults (400 requests, α = 0.001, 2 attempts).
    #[must_use]
    pub fn new(
        from: impl Into<String>,
        to: impl Into<String>,
        weights: impl IntoIterator<Item = (String, u64)>,
    ) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
            method: get(),
            headers: BTreeMap::new(),
            weights: weights.into_iter().collect(),
            requests: 400,
            alpha: 0.001,
            attempts: 2,
            request_timeout: None,
            timeout: None,
        }
    }
}
