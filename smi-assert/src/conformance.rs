//! The SMI conformance suite, shipped as data (`suites/smi-conformance.yaml`).
//!
//! It is the upstream learn-layer5 suite (24 kuttl steps) corrected and made statistically sound,
//! plus extra checks; the YAML file's header lists the corrections. Tests and their features:
//!
//! | test | feature | level |
//! |---|---|---|
//! | access-default-deny | access.default-deny | Core |
//! | access-tcp-route | access.tcp-route | Core |
//! | access-source-identity | access.source-identity | Core |
//! | access-revocation | access.revocation | Core |
//! | access-sources-multiple | access.sources-multiple | Extended |
//! | spec-http-path, spec-http-path-anchoring | specs.http-route-path | Core |
//! | spec-http-methods | specs.http-route-methods | Core |
//! | spec-http-headers | specs.http-route-headers | Extended |
//! | spec-tcp-route-ports | specs.tcp-route-ports | Extended |
//! | split-zero-weight | split.zero-weight | Core |
//! | split-weights | split.weights | Core |
//! | split-normalisation | split.normalisation | Extended |
//! | split-matches | split.matches | Extended |
//!
//! Not covered (no test yet): UDPRoute, the TrafficMetrics API (`SMI-METRICS` therefore reports
//! capability None), the split port-mismatch exclusion as traffic (it is a validation warning).
//!
//! # Examples
//!
//! ```
//! let suite = smi_assert::conformance::suite()?;
//! assert_eq!(suite.tests.len(), 14);
//! # Ok::<(), smi_assert::suite::Error>(())
//! ```

use crate::suite::{Error, Suite};

/// The suite's YAML text.
pub const SUITE_YAML: &str = include_str!("../suites/smi-conformance.yaml");

/// The parsed conformance suite.
///
/// # Errors
///
/// Only if the bundled YAML were broken (a test guards against that).
pub fn suite() -> Result<Suite, Error> {
    Suite::from_yaml(SUITE_YAML)
}
