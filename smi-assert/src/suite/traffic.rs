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
    /// Source workload (Deployment or Service name).
    pub from: String,
    /// Target URL, e.g. `http://app-b:9091/echo` or `udp://app-b:9092`.
    pub to: String,
    /// Method (default GET).
    #[serde(default = "get")]
    pub method: String,
    /// Headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Expected result.
    pub expect: Expect,
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
