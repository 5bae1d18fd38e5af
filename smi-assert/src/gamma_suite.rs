//! The Gateway API mesh conformance suite (GAMMA), shipped as data
//! (`suites/gamma-conformance.yaml`).
//!
//! One test per upstream mesh conformance test of `kubernetes-sigs/gateway-api`
//! (`conformance/tests/mesh/`), named by its upstream ShortName, declaring its upstream features
//! and applying its routes. Profiles: `MESH-HTTP` (core `Mesh` + `HTTPRoute`) and `MESH-GRPC`
//! (core `Mesh` + `GRPCRoute`); `MeshBasic` counts in both. A test needing an Extended feature
//! (a `Mesh*` extended feature, or an HTTPRoute feature it is gated on) is Extended.
//!
//! | test | features beyond Mesh | level | provisional |
//! |---|---|---|---|
//! | MeshBasic | — | Core (both profiles) | |
//! | MeshFrontend | HTTPRoute, HTTPRouteResponseHeaderModification | Extended | |
//! | MeshFrontendHostname | HTTPRoute, MeshClusterIPMatching, HTTPRouteResponseHeaderModification | Extended | |
//! | MeshPorts | HTTPRoute, HTTPRouteParentRefPort, HTTPRouteResponseHeaderModification | Extended | |
//! | MeshTrafficSplit | HTTPRoute | Core | |
//! | MeshConsumerRoute | HTTPRoute, MeshConsumerRoute, HTTPRouteResponseHeaderModification | Extended | |
//! | MeshHTTPRouteSimpleSameNamespace | HTTPRoute | Core | |
//! | MeshHTTPRouteMatching | HTTPRoute | Core | |
//! | MeshHTTPRouteQueryParamMatching | HTTPRoute, MeshHTTPRouteQueryParamMatching | Extended | |
//! | MeshHTTPRouteRequestHeaderModifier | HTTPRoute | Core | |
//! | MeshHTTPRouteBackendRequestHeaderModifier | HTTPRoute, MeshHTTPRouteBackendRequestHeaderModification | Extended | |
//! | MeshHTTPRouteRedirectHostAndStatus | HTTPRoute | Core | |
//! | MeshHTTPRouteSchemeRedirect | HTTPRoute, MeshHTTPRouteSchemeRedirect | Extended | |
//! | MeshHTTPRouteRedirectPort | HTTPRoute, MeshHTTPRouteRedirectPort | Extended | |
//! | MeshHTTPRouteRedirectPath | HTTPRoute, MeshHTTPRouteRedirectPath | Extended | |
//! | MeshHTTPRouteRewritePath | HTTPRoute, MeshHTTPRouteRewritePath | Extended | |
//! | MeshHTTPRoute303Redirect / 307 / 308 | HTTPRoute, HTTPRoute303/307/308RedirectStatusCode | Extended | yes |
//! | MeshHTTPRouteNamedRule | HTTPRoute, MeshHTTPRouteNamedRouteRule | Extended | yes |
//! | MeshHTTPRouteWeight | HTTPRoute | Core | |
//! | MeshGRPCRouteWeight | GRPCRoute | Core | |
//! | MeshGRPCRouteRequestHeaderModifier | GRPCRoute | Core | |
//!
//! What this suite checks differently from upstream:
//! - each test runs in its own namespace (`$NAMESPACE` stands for `gateway-conformance-mesh`,
//!   `$NAMESPACE-consumer` for `gateway-conformance-mesh-consumer`) and installs its own echo
//!   fixtures, so tests cannot leak routes into each other;
//! - redirects also check the `Location` (scheme, host, port, path) that upstream's mesh client
//!   comparison leaves unchecked; rewrites and named rules check the path the backend saw (upstream
//!   compares status, headers and backend only, and its named-rule case expects `/named` for an
//!   `/unnamed` request);
//! - weights are judged by the χ² test ([`crate::stats`]) at α = 0.001 with two attempts of 1,000
//!   requests instead of 500 requests within ±5 % and ten retries: a correct mesh fails with
//!   probability ≈ 10⁻⁶, a mesh that splits 70/30 as 80/20 passes with ≈ 5·10⁻⁵ (upstream's
//!   band: ≈ 3 %). On a cluster each attempt is one exec of the echo client with `--count`
//!   ([`TrafficBackend::send_batch`](crate::backend::TrafficBackend::send_batch));
//! - MeshFrontendHostname also addresses the Service by its cluster IP (`${clusterIP:echo-v2}`);
//! - every check converges to 3 consecutive expected answers (upstream: a threshold of
//!   consecutive successes within the timeout), never a fixed sleep.
//!
//! Run it against a mesh whose unrelated traffic is allowed: on the loopback mesh, start it with
//! [`AccessDefault::Allow`](crate::backend::loopback::AccessDefault) (SMI's default deny would
//! refuse every request).
//!
//! # Examples
//!
//! ```
//! let suite = smi_assert::gamma_suite::suite()?;
//! assert_eq!(suite.tests.len(), 23);
//! assert!(suite.tests.iter().any(|t| t.name == "MeshConsumerRoute"));
//! # Ok::<(), smi_assert::Error>(())
//! ```

use crate::error::Result;
use crate::suite::Suite;

/// The suite's YAML text.
pub const SUITE_YAML: &str = include_str!("../suites/gamma-conformance.yaml");

/// The parsed GAMMA conformance suite.
///
/// # Errors
///
/// Only if the bundled YAML were broken (a test guards against that).
pub fn suite() -> Result<Suite> {
    Suite::from_yaml(SUITE_YAML)
}
