//! Configuration of the loopback mesh: [`LoopbackConfig`], its builder and the [`Fault`] switches.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A deliberate conformance fault of the loopback mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Fault {
    /// Authorise every request (no default deny, no TrafficTarget enforcement).
    AllowAll,
    /// Spread traffic uniformly over all split backends, including weight 0.
    IgnoreWeights,
    /// Treat every TrafficTarget rule as matching (path, method, header, port filters ignored).
    IgnoreRouteMatches,
    /// Strip request headers before policy evaluation and forwarding.
    DropHeaders,
    /// Record no traffic metrics: every TrafficMetrics object reports zero requests and no edges.
    DropMetrics,
    /// Serve the first answer of each TrafficMetrics query forever (a cache that never refreshes).
    StaleMetrics,
    /// GAMMA: ignore the header and query-parameter conditions of route matches (paths, methods
    /// and gRPC methods still count).
    IgnoreHeaderMatches,
    /// GAMMA: ignore consumer routes (routes in the client's namespace attached to a Service in
    /// another namespace); producer routes apply to every client.
    IgnoreConsumerRoutes,
    /// GAMMA: skip every route and backendRef filter (header modifiers, redirects, rewrites); a
    /// redirect rule, having no backends, then answers 500.
    SkipFilters,
    /// GAMMA: pick routes by the request's Host header instead of the Service address the
    /// client connected to (its frontend).
    RouteByHost,
}

impl Fault {
    /// All faults.
    pub const ALL: [Fault; 10] = [
        Fault::AllowAll,
        Fault::IgnoreWeights,
        Fault::IgnoreRouteMatches,
        Fault::DropHeaders,
        Fault::DropMetrics,
        Fault::StaleMetrics,
        Fault::IgnoreHeaderMatches,
        Fault::IgnoreConsumerRoutes,
        Fault::SkipFilters,
        Fault::RouteByHost,
    ];

    /// The kebab-case name, e.g. `allow-all`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllowAll => "allow-all",
            Self::IgnoreWeights => "ignore-weights",
            Self::IgnoreRouteMatches => "ignore-route-matches",
            Self::DropHeaders => "drop-headers",
            Self::DropMetrics => "drop-metrics",
            Self::StaleMetrics => "stale-metrics",
            Self::IgnoreHeaderMatches => "ignore-header-matches",
            Self::IgnoreConsumerRoutes => "ignore-consumer-routes",
            Self::SkipFilters => "skip-filters",
            Self::RouteByHost => "route-by-host",
        }
    }

    /// Parses a kebab-case name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// What the mesh does with traffic no access policy speaks about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AccessDefault {
    /// SMI's default deny: traffic needs a TrafficTarget (the default).
    #[default]
    Deny,
    /// Allow traffic to destinations no TrafficTarget names (as meshes do without SMI access
    /// policy; what Gateway API mesh conformance expects). Destinations a TrafficTarget names are
    /// still enforced.
    Allow,
}

/// Configuration of a [`LoopbackMesh`](super::LoopbackMesh).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoopbackConfig {
    pub(super) seed: u64,
    pub(super) access: AccessDefault,
    pub(super) policy_delay: Duration,
    pub(super) metrics_window: Duration,
    pub(super) faults: BTreeSet<Fault>,
}

impl LoopbackConfig {
    /// A builder with seed 0, no policy delay, a 30 s metrics window and no faults.
    pub fn builder() -> LoopbackConfigBuilder {
        LoopbackConfigBuilder {
            config: Self::default(),
        }
    }
}

impl Default for LoopbackConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            access: AccessDefault::Deny,
            policy_delay: Duration::ZERO,
            metrics_window: Duration::from_secs(30),
            faults: BTreeSet::new(),
        }
    }
}

/// Builder for [`LoopbackConfig`].
#[derive(Debug, Clone)]
#[must_use]
pub struct LoopbackConfigBuilder {
    pub(super) config: LoopbackConfig,
}

impl LoopbackConfigBuilder {
    /// Seed of the RNG used for split and endpoint choice (deterministic for sequential traffic).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// What happens to traffic no TrafficTarget speaks about (default [`AccessDefault::Deny`],
    /// SMI's default deny; GAMMA suites need [`AccessDefault::Allow`]).
    pub fn access_default(mut self, access: AccessDefault) -> Self {
        self.config.access = access;
        self
    }

    /// Delay before an SMI policy change takes effect in the proxy.
    pub fn policy_delay(mut self, delay: Duration) -> Self {
        self.config.policy_delay = delay;
        self
    }

    /// The window TrafficMetrics cover (default 30 s, the SMI SDK's default; whole seconds, at
    /// least 1 s).
    pub fn metrics_window(mut self, window: Duration) -> Self {
        self.config.metrics_window = window;
        self
    }

    /// Enables a fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.config.faults.insert(fault);
        self
    }

    /// Finishes the configuration.
    #[must_use]
    pub fn build(self) -> LoopbackConfig {
        self.config
    }
}
