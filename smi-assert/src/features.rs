//! Features, support levels, profiles and the implementation under test, for SMI and for Gateway
//! API mesh conformance (GAMMA).
//!
//! Tests declare the features they exercise. Each feature belongs to one or more profiles
//! (`SMI-ACCESS`, `SMI-SPECS`, `SMI-SPLIT`, `SMI-METRICS`; `MESH-HTTP`, `MESH-GRPC`) at a **Core**
//! or **Extended** level. Core features are always tested; Extended features only when the
//! [`Implementation`] declares them. A test that needs an undeclared feature is *skipped*, never
//! failed.
//!
//! A test belongs to the profiles every one of its features belongs to: Gateway API's `Mesh`
//! feature is Core in both mesh profiles, so a test declaring only `Mesh` (MeshBasic) counts in
//! both, while `Mesh` + `HTTPRoute` counts in `MESH-HTTP` only ([`test_profiles`]). The GAMMA
//! feature names are upstream's (`pkg/features/mesh.go` of Gateway API), including the HTTPRoute
//! features some mesh tests are gated on (`HTTPRouteResponseHeaderModification`, …).

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
    /// Gateway API mesh conformance with HTTPRoute (core: `Mesh`, `HTTPRoute`).
    #[serde(rename = "MESH-HTTP")]
    MeshHttp,
    /// Gateway API mesh conformance with GRPCRoute (core: `Mesh`, `GRPCRoute`).
    #[serde(rename = "MESH-GRPC")]
    MeshGrpc,
}

impl Profile {
    /// All profiles: the SMI ones, then the GAMMA ones.
    pub const ALL: [Profile; 6] = [
        Profile::Access,
        Profile::Specs,
        Profile::Split,
        Profile::Metrics,
        Profile::MeshHttp,
        Profile::MeshGrpc,
    ];

    /// The SMI profiles in report order.
    pub const SMI: [Profile; 4] = [
        Profile::Access,
        Profile::Specs,
        Profile::Split,
        Profile::Metrics,
    ];

    /// The Gateway API mesh (GAMMA) profiles in report order.
    pub const GAMMA: [Profile; 2] = [Profile::MeshHttp, Profile::MeshGrpc];

    /// Whether this is a Gateway API mesh profile.
    #[must_use]
    pub fn is_gamma(self) -> bool {
        matches!(self, Self::MeshHttp | Self::MeshGrpc)
    }

    /// Parses a profile name (`SMI-ACCESS`, `MESH-HTTP`, …; ASCII case-insensitive).
    #[must_use]
    pub fn parse(name: &str) -> Option<Profile> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }

    /// The profile name, e.g. `SMI-ACCESS`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "SMI-ACCESS",
            Self::Specs => "SMI-SPECS",
            Self::Split => "SMI-SPLIT",
            Self::Metrics => "SMI-METRICS",
            Self::MeshHttp => "MESH-HTTP",
            Self::MeshGrpc => "MESH-GRPC",
        }
    }

    /// The spec name Meshery uses (`traffic-access`, …; `mesh-http` and `mesh-grpc`, which
    /// Meshery does not know, for the GAMMA profiles).
    #[must_use]
    pub fn meshery_name(self) -> &'static str {
        match self {
            Self::Access => "traffic-access",
            Self::Specs => "traffic-spec",
            Self::Split => "traffic-split",
            Self::Metrics => "traffic-metrics",
            Self::MeshHttp => "mesh-http",
            Self::MeshGrpc => "mesh-grpc",
        }
    }

    /// The latest stable API version of the profile's group (SMI v0.6.0; `v1` for Gateway API).
    #[must_use]
    pub fn latest_version(self) -> &'static str {
        match self {
            Self::Access => "v1alpha3",
            Self::Specs | Self::Split => "v1alpha4",
            Self::Metrics => "v1alpha1",
            Self::MeshHttp | Self::MeshGrpc => "v1",
        }
    }

    /// The API group (`gateway.networking.k8s.io` for the GAMMA profiles).
    #[must_use]
    pub fn group_name(self) -> &'static str {
        match self {
            Self::Access => crate::smi::Group::Access.as_str(),
            Self::Specs => crate::smi::Group::Specs.as_str(),
            Self::Split => crate::smi::Group::Split.as_str(),
            Self::Metrics => crate::smi::Group::Metrics.as_str(),
            Self::MeshHttp | Self::MeshGrpc => crate::gateway::GROUP,
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

/// One feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Feature {
    /// Id, e.g. `access.default-deny` or `MeshConsumerRoute`.
    pub id: &'static str,
    /// The (first) profile.
    pub profile: Profile,
    /// Every profile the feature belongs to (`profile` first).
    pub profiles: &'static [Profile],
    /// Level.
    pub level: Level,
    /// What it means.
    pub description: &'static str,
}

const fn f(id: &'static str, profile: Profile, level: Level, description: &'static str) -> Feature {
    let profiles: &'static [Profile] = match profile {
        Profile::Access => &[Profile::Access],
        Profile::Specs => &[Profile::Specs],
        Profile::Split => &[Profile::Split],
        Profile::Metrics => &[Profile::Metrics],
        Profile::MeshHttp => &[Profile::MeshHttp],
        Profile::MeshGrpc => &[Profile::MeshGrpc],
    };
    Feature {
        id,
        profile,
        profiles,
        level,
        description,
    }
}

/// A feature of both mesh profiles.
const fn mesh(id: &'static str, level: Level, description: &'static str) -> Feature {
    Feature {
        id,
        profile: Profile::MeshHttp,
        profiles: &Profile::GAMMA,
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
    mesh(
        "Mesh",
        Level::Core,
        "a mesh client reaches a Service through the mesh; routes attach to Services",
    ),
    f(
        "HTTPRoute",
        Profile::MeshHttp,
        Level::Core,
        "HTTPRoute with a Service parentRef: matches, weights, header filters, redirects",
    ),
    f(
        "GRPCRoute",
        Profile::MeshGrpc,
        Level::Core,
        "GRPCRoute with a Service parentRef: weights and header filters on gRPC traffic",
    ),
    mesh(
        "MeshClusterIPMatching",
        Level::Extended,
        "a route's parentRef matches the Service address the client connected to, not the Host header",
    ),
    mesh(
        "MeshConsumerRoute",
        Level::Extended,
        "a route in the client's namespace (consumer route) affects only that namespace's clients",
    ),
    mesh(
        "MeshHTTPRouteRewritePath",
        Level::Extended,
        "URLRewrite path (ReplaceFullPath, ReplacePrefixMatch)",
    ),
    mesh(
        "MeshHTTPRouteSchemeRedirect",
        Level::Extended,
        "RequestRedirect scheme",
    ),
    mesh(
        "MeshHTTPRouteRedirectPort",
        Level::Extended,
        "RequestRedirect port",
    ),
    mesh(
        "MeshHTTPRouteRedirectPath",
        Level::Extended,
        "RequestRedirect path (ReplaceFullPath, ReplacePrefixMatch)",
    ),
    mesh(
        "MeshHTTPRouteBackendRequestHeaderModification",
        Level::Extended,
        "RequestHeaderModifier on a backendRef",
    ),
    mesh(
        "MeshHTTPRouteQueryParamMatching",
        Level::Extended,
        "query parameter matches",
    ),
    mesh(
        "MeshHTTPRouteNamedRouteRule",
        Level::Extended,
        "named route rules",
    ),
    f(
        "HTTPRouteResponseHeaderModification",
        Profile::MeshHttp,
        Level::Extended,
        "ResponseHeaderModifier (an HTTPRoute feature some mesh tests need)",
    ),
    f(
        "HTTPRouteParentRefPort",
        Profile::MeshHttp,
        Level::Extended,
        "`port` in a parentRef (an HTTPRoute feature MeshPorts needs)",
    ),
    f(
        "HTTPRoute303RedirectStatusCode",
        Profile::MeshHttp,
        Level::Extended,
        "RequestRedirect statusCode 303",
    ),
    f(
        "HTTPRoute307RedirectStatusCode",
        Profile::MeshHttp,
        Level::Extended,
        "RequestRedirect statusCode 307",
    ),
    f(
        "HTTPRoute308RedirectStatusCode",
        Profile::MeshHttp,
        Level::Extended,
        "RequestRedirect statusCode 308",
    ),
];

/// The profiles a test with these features belongs to: those every known feature belongs to
/// (unknown features are ignored; no features, no profile).
#[must_use]
pub fn test_profiles<'a>(features: impl IntoIterator<Item = &'a str>) -> Vec<Profile> {
    let mut out: Option<Vec<Profile>> = None;
    for f in features.into_iter().filter_map(feature) {
        out = Some(match out {
            None => f.profiles.to_vec(),
            Some(prev) => prev
                .into_iter()
                .filter(|p| f.profiles.contains(p))
                .collect(),
        });
    }
    out.unwrap_or_default()
}

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
            if f.level == Level::Extended && f.profiles.iter().any(|p| profiles.contains(p)) {
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
