//! SMI features, support levels, profiles and the implementation under test.
//!
//! Tests declare the features they exercise. Each feature belongs to one profile (`SMI-ACCESS`,
//! `SMI-SPECS`, `SMI-SPLIT`, `SMI-METRICS`) at a **Core** or **Extended** level. Core features are
//! always tested; Extended features only when the [`Implementation`] declares them. A test that
//! needs an undeclared feature is *skipped*, never failed.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A conformance profile: one per SMI API group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Profile {
    /// `access.smi-spec.io` (TrafficTarget).
    #[serde(rename = "SMI-ACCESS")]
    Access,
    /// `specs.smi-spec.io` (HTTPRouteGroup, TCPRoute, UDPRoute).
    #[serde(rename = "SMI-SPECS")]
    Specs,
    /// `split.smi-spec.io` (TrafficSplit).
    #[serde(rename = "SMI-SPLIT")]
    Split,
    /// `metrics.smi-spec.io` (TrafficMetrics).
    #[serde(rename = "SMI-METRICS")]
    Metrics,
}

impl Profile {
    /// All profiles in report order.
    pub const ALL: [Profile; 4] = [
        Profile::Access,
        Profile::Specs,
        Profile::Split,
        Profile::Metrics,
    ];

    /// The profile name, e.g. `SMI-ACCESS`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "SMI-ACCESS",
            Self::Specs => "SMI-SPECS",
            Self::Split => "SMI-SPLIT",
            Self::Metrics => "SMI-METRICS",
        }
    }

    /// The spec name Meshery uses (`traffic-access`, …).
    #[must_use]
    pub fn meshery_name(self) -> &'static str {
        match self {
            Self::Access => "traffic-access",
            Self::Specs => "traffic-spec",
            Self::Split => "traffic-split",
            Self::Metrics => "traffic-metrics",
        }
    }

    /// The latest stable API version of the profile's group (SMI v0.6.0).
    #[must_use]
    pub fn latest_version(self) -> &'static str {
        match self {
            Self::Access => "v1alpha3",
            Self::Specs | Self::Split => "v1alpha4",
            Self::Metrics => "v1alpha1",
        }
    }

    /// The API group.
    #[must_use]
    pub fn group(self) -> crate::smi::Group {
        match self {
            Self::Access => crate::smi::Group::Access,
            Self::Specs => crate::smi::Group::Specs,
            Self::Split => crate::smi::Group::Split,
            Self::Metrics => crate::smi::Group::Metrics,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Support level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Level {
    /// Every implementation must support it.
    Core,
    /// Optional; tested only when declared.
    Extended,
}

/// One SMI feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Feature {
    /// Id, e.g. `access.default-deny`.
    pub id: &'static str,
    /// Profile.
    pub profile: Profile,
    /// Level.
    pub level: Level,
    /// What it means.
    pub description: &'static str,
}

const fn f(id: &'static str, profile: Profile, level: Level, description: &'static str) -> Feature {
    Feature {
        id,
        profile,
        level,
        description,
    }
}

/// The known features.
pub const FEATURES: &[Feature] = &[
    f(
        "access.default-deny",
        Profile::Access,
        Level::Core,
        "traffic without a TrafficTarget is denied",
    ),
    f(
        "access.tcp-route",
        Profile::Access,
        Level::Core,
        "a TrafficTarget with a TCPRoute rule allows its sources",
    ),
    f(
        "access.source-identity",
        Profile::Access,
        Level::Core,
        "identities not listed in sources are denied",
    ),
    f(
        "access.revocation",
        Profile::Access,
        Level::Core,
        "deleting a TrafficTarget denies traffic again",
    ),
    f(
        "access.sources-multiple",
        Profile::Access,
        Level::Extended,
        "several sources in one TrafficTarget",
    ),
    f(
        "access.udp-route",
        Profile::Access,
        Level::Extended,
        "a TrafficTarget with a UDPRoute rule allows UDP from its sources, and only UDP",
    ),
    f(
        "specs.http-route-path",
        Profile::Specs,
        Level::Core,
        "HTTPRouteGroup pathRegex, anchored at the start",
    ),
    f(
        "specs.http-route-methods",
        Profile::Specs,
        Level::Core,
        "HTTPRouteGroup methods",
    ),
    f(
        "specs.http-route-headers",
        Profile::Specs,
        Level::Extended,
        "HTTPRouteGroup header regexes (AND)",
    ),
    f(
        "specs.tcp-route-ports",
        Profile::Specs,
        Level::Extended,
        "TCPRoute matches.ports",
    ),
    f(
        "specs.udp-route-ports",
        Profile::Specs,
        Level::Extended,
        "UDPRoute matches.ports",
    ),
    f(
        "split.weights",
        Profile::Split,
        Level::Core,
        "TrafficSplit weights give proportional shares",
    ),
    f(
        "split.zero-weight",
        Profile::Split,
        Level::Core,
        "a weight-0 backend receives no traffic",
    ),
    f(
        "split.normalisation",
        Profile::Split,
        Level::Extended,
        "weights are relative (1:3 = 25:75)",
    ),
    f(
        "split.matches",
        Profile::Split,
        Level::Extended,
        "TrafficSplit matches (A/B) route only matching requests",
    ),
    f(
        "metrics.resource",
        Profile::Metrics,
        Level::Core,
        "a Deployment's TrafficMetrics count the requests it served, with a window, a timestamp \
         and ordered latency percentiles",
    ),
    f(
        "metrics.edges",
        Profile::Metrics,
        Level::Core,
        "a resource's edges list exactly the peers it exchanged traffic with (`from` at the \
         server, `to` at the client)",
    ),
    f(
        "metrics.aggregation",
        Profile::Metrics,
        Level::Core,
        "Pod and Namespace TrafficMetrics; a Namespace aggregates its pods",
    ),
    f(
        "metrics.failure-count",
        Profile::Metrics,
        Level::Extended,
        "requests refused by access policy count as failures, never as successes",
    ),
];

/// Looks up a feature by id.
#[must_use]
pub fn feature(id: &str) -> Option<&'static Feature> {
    FEATURES.iter().find(|f| f.id == id)
}

/// The implementation under test (Gateway API ConformanceReport style metadata).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Implementation {
    /// Organisation.
    pub organization: String,
    /// Project.
    pub project: String,
    /// URL.
    pub url: String,
    /// Version.
    pub version: String,
    /// Contacts.
    #[serde(default)]
    pub contact: Vec<String>,
    /// Extended features the implementation declares (Core features are always tested).
    #[serde(default)]
    pub supported_features: BTreeSet<String>,
}

impl Implementation {
    /// An implementation with organisation, project and version.
    #[must_use]
    pub fn new(
        organization: impl Into<String>,
        project: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            organization: organization.into(),
            project: project.into(),
            version: version.into(),
            ..Self::default()
        }
    }

    /// Declares support for an extended feature.
    #[must_use]
    pub fn supports(mut self, feature: impl Into<String>) -> Self {
        self.supported_features.insert(feature.into());
        self
    }

    /// Declares every known Extended feature in `profiles`.
    #[must_use]
    pub fn supports_all_extended(mut self, profiles: &[Profile]) -> Self {
        for f in FEATURES {
            if f.level == Level::Extended && profiles.contains(&f.profile) {
                self.supported_features.insert(f.id.to_string());
            }
        }
        self
    }

    /// Whether a feature will be tested: Core always, Extended when declared, unknown never.
    #[must_use]
    pub fn is_supported(&self, id: &str) -> bool {
        match feature(id) {
            Some(f) if f.level == Level::Core => true,
            Some(_) => self.supported_features.contains(id),
            None => false,
        }
    }
}
