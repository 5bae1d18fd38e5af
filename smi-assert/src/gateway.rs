//! Gateway API route types for mesh use (GAMMA): `HTTPRoute` and `GRPCRoute` of
//! `gateway.networking.k8s.io/v1` with Service `parentRefs`.
//!
//! The types cover what a mesh route uses: parent references (group `""`, kind `Service`,
//! optional `namespace` and `port`), named rules, matches (path `Exact` / `PathPrefix` /
//! `RegularExpression`, headers, query parameters, method; gRPC service/method and headers),
//! filters (`RequestHeaderModifier`, `ResponseHeaderModifier`, `RequestRedirect`, `URLRewrite`,
//! and `RequestHeaderModifier` on a backendRef) and weighted `backendRefs`. Fields the mesh does
//! not use are accepted and ignored here; [`crate::validate::Validator`] checks manifests against
//! the bundled standard-channel CRDs, unknown fields included.
//!
//! # Examples
//!
//! ```
//! use smi_assert::gateway::{HttpRoute, PathMatchType};
//! let route: HttpRoute = serde_yaml::from_str(r#"
//! apiVersion: gateway.networking.k8s.io/v1
//! kind: HTTPRoute
//! metadata: {name: split}
//! spec:
//!   parentRefs: [{group: "", kind: Service, name: echo, port: 80}]
//!   rules:
//!   - matches: [{path: {type: Exact, value: /v1}}]
//!     backendRefs: [{name: echo-v1, port: 8080, weight: 70}]
//! "#)?;
//! assert!(route.spec.parent_refs[0].is_service());
//! let m = &route.spec.rules[0].matches[0];
//! assert_eq!(m.path.as_ref().unwrap().kind, PathMatchType::Exact);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

/// The Gateway API group.
pub const GROUP: &str = "gateway.networking.k8s.io";

/// The API version this module models.
pub const API_VERSION: &str = "gateway.networking.k8s.io/v1";

/// `metadata` as routes use it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Metadata {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Namespace (the applying namespace when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Creation time (RFC 3339), used for precedence ties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
}

/// A reference to the route's parent: a Service for mesh use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ParentRef {
    /// Group (`""` for a Service; the CRD defaults it to the Gateway group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind (`Service` for mesh use; the CRD defaults it to `Gateway`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the parent (the route's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// The Service port the route attaches to (all ports when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Section name (unused by mesh routes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

impl ParentRef {
    /// Whether the parent is a core Service (group `""`, kind `Service`): a mesh route.
    #[must_use]
    pub fn is_service(&self) -> bool {
        self.group.as_deref() == Some("") && self.kind.as_deref() == Some("Service")
    }
}

/// How a path is matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PathMatchType {
    /// The whole path, case-sensitive.
    Exact,
    /// Element-wise prefix (`/v2` matches `/v2` and `/v2/x`, not `/v2x`); the default.
    #[default]
    PathPrefix,
    /// A regular expression over the whole path.
    RegularExpression,
}

/// A path match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PathMatch {
    /// Type (default `PathPrefix`).
    #[serde(default, rename = "type")]
    pub kind: PathMatchType,
    /// Value (default `/`).
    #[serde(default = "slash")]
    pub value: String,
}

fn slash() -> String {
    "/".into()
}

/// How a header, query parameter or gRPC method is matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ValueMatchType {
    /// Exact value (the default).
    #[default]
    Exact,
    /// A regular expression.
    RegularExpression,
}

/// A header or query parameter match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValueMatch {
    /// Type (default `Exact`).
    #[serde(default, rename = "type")]
    pub kind: ValueMatchType,
    /// Header name (case-insensitive) or query parameter name (exact).
    pub name: String,
    /// Value.
    pub value: String,
}

/// One HTTPRoute match: every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HttpRouteMatch {
    /// Path (default `PathPrefix /`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
    /// Headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<ValueMatch>,
    /// Query parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_params: Vec<ValueMatch>,
    /// Method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// A header to set or add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HttpHeader {
    /// Name (case-insensitive).
    pub name: String,
    /// Value.
    pub value: String,
}

/// `RequestHeaderModifier` / `ResponseHeaderModifier`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HeaderModifier {
    /// Replace the header's values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<HttpHeader>,
    /// Append a value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<HttpHeader>,
    /// Remove the headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// A path modifier of a redirect or rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PathModifier {
    /// `ReplaceFullPath` or `ReplacePrefixMatch`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `ReplaceFullPath`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_full_path: Option<String>,
    /// For `ReplacePrefixMatch` (needs a `PathPrefix` match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_prefix_match: Option<String>,
}

/// `RequestRedirect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RequestRedirect {
    /// `http` or `https` (default: the request's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Host name (default: the request's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifier>,
    /// Port (default: the scheme's well-known port when the scheme changes, else the request's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// 301, 302 (default), 303, 307 or 308.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

/// `URLRewrite`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UrlRewrite {
    /// Host name to put in the Host header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifier>,
}

/// A route or backendRef filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Filter {
    /// Type: `RequestHeaderModifier`, `ResponseHeaderModifier`, `RequestRedirect`, `URLRewrite`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// For `RequestHeaderModifier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HeaderModifier>,
    /// For `ResponseHeaderModifier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_header_modifier: Option<HeaderModifier>,
    /// For `RequestRedirect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_redirect: Option<RequestRedirect>,
    /// For `URLRewrite`.
    #[serde(
        default,
        rename = "urlRewrite",
        skip_serializing_if = "Option::is_none"
    )]
    pub url_rewrite: Option<UrlRewrite>,
}

/// A weighted backend reference (a Service).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BackendRef {
    /// Group (`""` for a Service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind (default `Service`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name.
    pub name: String,
    /// Namespace (the route's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Service port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Relative weight (default 1; 0 means no traffic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// Filters applied to requests sent to this backend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
}

impl BackendRef {
    /// The weight, 1 when unset.
    #[must_use]
    pub fn weight(&self) -> u32 {
        self.weight.unwrap_or(1)
    }
}

/// One route rule, `M` being the route kind's match ([`HttpRouteMatch`] or
/// [`GrpcRouteMatch`]): HTTPRoute and GRPCRoute rules have the same shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RouteRule<M> {
    /// Optional rule name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Matches, ORed. None: an HTTPRoute rule matches every path (one `PathPrefix /`
    /// match), a GRPCRoute rule every call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<M>,
    /// Filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Backends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<BackendRef>,
}

/// `spec` of a route, `M` being the route kind's match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RouteSpec<M> {
    /// Parents.
    #[serde(default)]
    pub parent_refs: Vec<ParentRef>,
    /// Host names (not used by mesh routes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// Rules.
    #[serde(default)]
    pub rules: Vec<RouteRule<M>>,
}

/// A route resource (metadata and spec), `M` being the route kind's match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RouteResource<M> {
    /// Metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// Spec.
    #[serde(default)]
    pub spec: RouteSpec<M>,
}

/// One HTTPRoute rule.
pub type HttpRouteRule = RouteRule<HttpRouteMatch>;
/// `spec` of an HTTPRoute.
pub type HttpRouteSpec = RouteSpec<HttpRouteMatch>;
/// An HTTPRoute.
pub type HttpRoute = RouteResource<HttpRouteMatch>;

/// A gRPC method match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GrpcMethodMatch {
    /// Type (default `Exact`).
    #[serde(default, rename = "type")]
    pub kind: ValueMatchType,
    /// Fully qualified service, e.g. `smi_assert.echo.Echo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Method, e.g. `Echo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// One GRPCRoute match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GrpcRouteMatch {
    /// Method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<GrpcMethodMatch>,
    /// Headers (metadata).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<ValueMatch>,
}

/// One GRPCRoute rule.
pub type GrpcRouteRule = RouteRule<GrpcRouteMatch>;
/// `spec` of a GRPCRoute.
pub type GrpcRouteSpec = RouteSpec<GrpcRouteMatch>;
/// A GRPCRoute.
pub type GrpcRoute = RouteResource<GrpcRouteMatch>;

/// A route of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// An HTTPRoute.
    Http(HttpRoute),
    /// A GRPCRoute.
    Grpc(GrpcRoute),
}

impl Route {
    /// Reads a `gateway.networking.k8s.io/v1` HTTPRoute or GRPCRoute; `Ok(None)` for any other
    /// manifest.
    ///
    /// # Errors
    ///
    /// [`crate::Error::ParseResource`] with the JSON Pointer serde reports, when the manifest is
    /// a route of this group/version but its shape is wrong.
    pub fn from_manifest(manifest: &serde_json::Value) -> crate::error::Result<Option<Route>> {
        if manifest.get("apiVersion").and_then(|v| v.as_str()) != Some(API_VERSION) {
            return Ok(None);
        }
        let parse_err = |e: serde_json::Error| crate::error::Error::ParseResource {
            pointer: String::new(),
            message: e.to_string(),
        };
        match manifest.get("kind").and_then(|v| v.as_str()) {
            Some("HTTPRoute") => serde_json::from_value(manifest.clone())
                .map(|r| Some(Route::Http(r)))
                .map_err(parse_err),
            Some("GRPCRoute") => serde_json::from_value(manifest.clone())
                .map(|r| Some(Route::Grpc(r)))
                .map_err(parse_err),
            _ => Ok(None),
        }
    }
}
