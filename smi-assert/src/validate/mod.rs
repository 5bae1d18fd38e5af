//! Manifest validation: the bundled SMI and Gateway API CRD schemas plus the specs' non-schema
//! rules.
//!
//! A [`Validator`] is compiled once from the five CRDs of `servicemeshinterface/smi-sdk-go` and the
//! standard-channel HTTPRoute and GRPCRoute CRDs of `kubernetes-sigs/gateway-api` (bundled with the
//! crate) and reused. It offers the three usual tiers: [`Validator::is_valid`],
//! [`Validator::validate`] (first error) and [`Validator::report`] (all findings). Findings are
//! [`Violation`]s, not errors.
//!
//! What it checks, per manifest:
//! - the OpenAPI v3 schema of the CRD version (types, required fields, enums);
//! - **unknown fields** (the CRDs are structural, so an API server would silently prune them; a test
//!   manifest with a misplaced field is always a bug, e.g. a top-level `matches` on a v1alpha4
//!   HTTPRouteGroup or `destination.port` on a v1alpha3 TrafficTarget);
//! - the kind exists in that group/version;
//! - the rules of research §1.6 that the schema cannot express: a v1alpha3 TrafficTarget needs a rule
//!   and a source; methods are in the enum; `pathRegex` and header regexes compile; weights are
//!   whole and non-negative (v1alpha2+; Quantity weights of v1alpha1 are normalised to milli-units);
//!   a backend should not be the root service.
//!
//! For Gateway API routes (`gateway.networking.k8s.io`), the schema and unknown-field checks apply
//! as above; the CRDs' CEL rules are not evaluated, and these rules stand in for the ones a mesh
//! route relies on (rule ids `gamma.*`): a `Service` parentRef has group `""`; path values of
//! `Exact` and `PathPrefix` matches start with `/`; `RegularExpression` path, header and query
//! matches compile; a rule with a `RequestRedirect` has no `backendRefs`; `RequestRedirect` and
//! `URLRewrite` are not both in one rule; a `ReplacePrefixMatch` path modifier needs exactly one
//! `PathPrefix` match per match of its rule; a rule name is unique in its route.
//!
//! [`Validator::report_set`] adds the cross-object rules: matches named by a TrafficTarget rule
//! exist in the HTTPRouteGroup, and every TrafficSplit backend Service shares a port with the root
//! Service (a backend without one receives no traffic).
//!
//! Header filters are accepted in both encodings (map and list of single-key maps): the map form is
//! normalised before the schema (which wants the list) is applied.
//!
//! # Examples
//!
//! ```
//! use smi_assert::validate::Validator;
//! let v = Validator::new()?;
//! let bad: serde_json::Value = serde_yaml::from_str(
//!     "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: rg}\n\
//!      matches: [{name: m, pathRegex: /metrics}]\n",
//! )?;
//! let findings = v.report(&bad);
//! assert!(findings.iter().any(|f| f.instance_path() == "/matches"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::YamlError;
use crate::error::{Error, Result};
use crate::smi::{Group, SmiResource, Version, Weight};

mod gamma;

const CRDS: [(&str, &str); 7] = [
    ("access.yaml", include_str!("../../crds/access.yaml")),
    (
        "httproutegroup.yaml",
        include_str!("../../crds/httproutegroup.yaml"),
    ),
    ("split.yaml", include_str!("../../crds/split.yaml")),
    ("tcproute.yaml", include_str!("../../crds/tcproute.yaml")),
    ("udproute.yaml", include_str!("../../crds/udproute.yaml")),
    (
        "gateway/gateway.networking.k8s.io_httproutes.yaml",
        include_str!("../../crds/gateway/gateway.networking.k8s.io_httproutes.yaml"),
    ),
    (
        "gateway/gateway.networking.k8s.io_grpcroutes.yaml",
        include_str!("../../crds/gateway/gateway.networking.k8s.io_grpcroutes.yaml"),
    ),
];

/// The bundled CRD files as `(file name, YAML text)`.
#[must_use]
pub fn bundled_crds() -> &'static [(&'static str, &'static str)] {
    &CRDS
}

/// The HTTP methods allowed in an HTTPRouteGroup match.
pub const METHODS: [&str; 10] = [
    "*", "GET", "HEAD", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// How serious a [`Violation`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Discouraged by the spec or likely a mistake; the manifest can still be applied.
    Warning,
    /// The manifest is invalid; the runner refuses to apply it.
    Error,
}

/// What kind of finding a [`Violation`] is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ViolationKind {
    /// The CRD's OpenAPI schema rejected the value.
    Schema {
        /// JSON Pointer into the CRD version's `openAPIV3Schema`.
        schema_path: String,
    },
    /// A field the CRD version does not define.
    UnknownField {
        /// The field name.
        field: String,
    },
    /// The manifest could not be read as its kind/version at all.
    Parse,
    /// A rule from the SMI spec text (research §1.6), or a Gateway API CEL rule (`gamma.*`).
    Rule {
        /// Rule id, e.g. `access.rules-required`.
        rule: String,
    },
}

/// One validation finding, located by a JSON Pointer into the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Violation {
    /// `kind/name` of the manifest, for messages.
    pub object: String,
    /// JSON Pointer (RFC 6901) of the offending value.
    pub instance_path: String,
    /// What kind of finding.
    pub kind: ViolationKind,
    /// Error or warning.
    pub severity: Severity,
    /// Human-readable message.
    pub message: String,
}

impl Violation {
    /// JSON Pointer of the offending value.
    #[must_use]
    pub fn instance_path(&self) -> &str {
        &self.instance_path
    }

    /// Whether this finding blocks applying the manifest.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub(crate) fn rule(
        object: &str,
        path: impl Into<String>,
        rule: &str,
        sev: Severity,
        msg: String,
    ) -> Self {
        Self {
            object: object.to_string(),
            instance_path: path.into(),
            kind: ViolationKind::Rule { rule: rule.into() },
            severity: sev,
            message: msg,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let path = if self.instance_path.is_empty() {
            "/"
        } else {
            &self.instance_path
        };
        write!(f, "{sev}: {} at {path}: {}", self.object, self.message)
    }
}

struct Compiled {
    raw: Value,
    validator: jsonschema::Validator,
}

impl fmt::Debug for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compiled").finish_non_exhaustive()
    }
}

/// A compiled validator for SMI manifests. Cheap to share (`&self` methods, `Send + Sync`).
#[derive(Debug)]
pub struct Validator {
    schemas: BTreeMap<(String, String, String), Compiled>,
}

impl Validator {
    /// Compiles the bundled CRD schemas.
    ///
    /// # Errors
    ///
    /// [`Error::ParseCrd`] or [`Error::CompileSchema`], only if a bundled CRD is corrupt.
    pub fn new() -> Result<Self> {
        let mut schemas = BTreeMap::new();
        for (file, text) in CRDS {
            let crd: Value = serde_yaml::from_str(text).map_err(|source| Error::ParseCrd {
                file,
                source: YamlError::new(source),
            })?;
            let group = crd["spec"]["group"].as_str().unwrap_or("").to_string();
            let kind = crd["spec"]["names"]["kind"]
                .as_str()
                .unwrap_or("")
                .to_string();
            for v in crd["spec"]["versions"].as_array().into_iter().flatten() {
                let name = v["name"].as_str().unwrap_or("").to_string();
                let mut schema = v["schema"]["openAPIV3Schema"].clone();
                if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
                    props.insert("apiVersion".into(), json!({"type": "string"}));
                    props.insert("kind".into(), json!({"type": "string"}));
                    props.insert("metadata".into(), json!({"type": "object"}));
                    props.insert("status".into(), json!({"type": "object"}));
                }
                let validator =
                    jsonschema::validator_for(&schema).map_err(|e| Error::CompileSchema {
                        file,
                        kind: kind.clone(),
                        version: name.clone(),
                        message: e.to_string(),
                    })?;
                schemas.insert(
                    (group.clone(), name, kind.clone()),
                    Compiled {
                        raw: schema,
                        validator,
                    },
                );
            }
        }
        Ok(Self { schemas })
    }

    /// Whether the manifest has no error-level finding.
    #[must_use]
    pub fn is_valid(&self, manifest: &Value) -> bool {
        !self.report(manifest).iter().any(Violation::is_error)
    }

    /// The first error-level finding, if any.
    ///
    /// # Errors
    ///
    /// Returns the first error-level [`Violation`].
    pub fn validate(&self, manifest: &Value) -> Result<(), Violation> {
        match self.report(manifest).into_iter().find(Violation::is_error) {
            Some(v) => Err(v),
            None => Ok(()),
        }
    }

    /// All findings for one manifest. Non-SMI manifests (Services, Deployments…) yield nothing.
    #[must_use]
    pub fn report(&self, manifest: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        let av = manifest
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (group, version) = av.split_once('/').unwrap_or((av, ""));
        let gateway = group == crate::gateway::GROUP;
        if Group::parse(group).is_none() && !gateway {
            return out;
        }
        let kind = manifest.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = manifest
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        let object = format!("{kind}/{name}");
        let normalised = if gateway {
            manifest.clone()
        } else {
            normalise_headers(manifest)
        };
        if let Some(c) =
            self.schemas
                .get(&(group.to_string(), version.to_string(), kind.to_string()))
        {
            for e in c.validator.iter_errors(&normalised) {
                out.push(Violation {
                    object: object.clone(),
                    instance_path: e.instance_path().as_str().to_string(),
                    kind: ViolationKind::Schema {
                        schema_path: e.schema_path().as_str().to_string(),
                    },
                    severity: Severity::Error,
                    message: e.to_string(),
                });
            }
            unknown_fields(&c.raw, &normalised, String::new(), &object, &mut out);
        } else if gateway {
            out.push(Violation {
                object: object.clone(),
                instance_path: String::new(),
                kind: ViolationKind::Parse,
                severity: Severity::Error,
                message: format!(
                    "`{kind}` of `{av}` is not a bundled standard-channel kind (HTTPRoute and \
                     GRPCRoute of gateway.networking.k8s.io/v1 are)"
                ),
            });
            return out;
        }
        if gateway {
            gamma::rules(manifest, &object, &mut out);
            return out;
        }
        match SmiResource::from_manifest(manifest) {
            Err(e) => {
                let (pointer, message) = match e {
                    Error::ParseResource { pointer, message } => (pointer, message),
                    other => (String::new(), other.to_string()),
                };
                if !out.iter().any(|v| v.instance_path.starts_with(&pointer)) {
                    out.push(Violation {
                        object,
                        instance_path: pointer,
                        kind: ViolationKind::Parse,
                        severity: Severity::Error,
                        message,
                    });
                }
            }
            Ok(Some(r)) => rules(&r, &object, &mut out),
            Ok(None) => {}
        }
        out
    }

    /// All findings for a set of manifests applied together: each manifest's own findings plus the
    /// cross-object rules. Objects are matched within a namespace (`default_namespace` for those
    /// without one).
    #[must_use]
    pub fn report_set(&self, manifests: &[Value], default_namespace: &str) -> Vec<Violation> {
        let mut out: Vec<Violation> = manifests.iter().flat_map(|m| self.report(m)).collect();
        let ns_of = |m: &Value| {
            m.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or(default_namespace)
                .to_string()
        };
        let mut groups: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        let mut services: BTreeMap<(String, String), BTreeSet<u64>> = BTreeMap::new();
        let mut targets = Vec::new();
        let mut splits = Vec::new();
        for m in manifests {
            let ns = ns_of(m);
            if m.get("kind").and_then(Value::as_str) == Some("Service")
                && m.get("apiVersion").and_then(Value::as_str) == Some("v1")
            {
                let name = m
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let ports = m
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("port").and_then(Value::as_u64))
                    .collect();
                services.insert((ns, name.to_string()), ports);
                continue;
            }
            match SmiResource::from_manifest(m) {
                Ok(Some(SmiResource::HttpRouteGroup(g))) => {
                    groups.insert(
                        (ns, g.metadata.name.clone()),
                        g.matches.iter().map(|m| m.name.clone()).collect(),
                    );
                }
                Ok(Some(SmiResource::TrafficTarget(t))) => targets.push((ns, t)),
                Ok(Some(SmiResource::TrafficSplit(s))) => splits.push((ns, s)),
                _ => {}
            }
        }
        for (ns, t) in &targets {
            let object = format!("TrafficTarget/{}", t.metadata.name);
            let base = if t.version == Version::V1alpha1 {
                "/specs"
            } else {
                "/spec/rules"
            };
            for (i, rule) in t.spec.rules.iter().enumerate() {
                let (Some(names), Some(defined)) = (
                    rule.matches.as_ref(),
                    groups.get(&(ns.clone(), rule.name.clone())),
                ) else {
                    continue;
                };
                if rule.kind != "HTTPRouteGroup" {
                    continue;
                }
                for (j, n) in names.iter().enumerate() {
                    if !defined.contains(n) {
                        out.push(Violation::rule(
                            &object,
                            format!("{base}/{i}/matches/{j}"),
                            "access.match-exists",
                            Severity::Error,
                            format!(
                                "match `{n}` is not defined in HTTPRouteGroup `{}`",
                                rule.name
                            ),
                        ));
                    }
                }
            }
        }
        for (ns, s) in &splits {
            let object = format!("TrafficSplit/{}", s.metadata.name);
            let Some(root) = services.get(&(ns.clone(), s.spec.service.clone())) else {
                continue;
            };
            for (i, b) in s.spec.backends.iter().enumerate() {
                if let Some(ports) = services.get(&(ns.clone(), b.service.clone()))
                    && ports.is_disjoint(root)
                {
                    out.push(Violation::rule(
                        &object,
                        format!("/spec/backends/{i}/service"),
                        "split.port-match",
                        Severity::Warning,
                        format!(
                            "backend Service `{}` has no port in common with root Service `{}`; \
                             it will receive no traffic",
                            b.service, s.spec.service
                        ),
                    ));
                }
            }
        }
        out
    }
}

/// Rewrites map-encoded `headers` to the list encoding the CRD schema expects.
fn normalise_headers(manifest: &Value) -> Value {
    let mut m = manifest.clone();
    let list = if m.get("spec").is_some() {
        m.pointer_mut("/spec/matches")
    } else {
        m.pointer_mut("/matches")
    };
    if let Some(Value::Array(matches)) = list {
        for mm in matches {
            if let Some(h) = mm.get_mut("headers")
                && let Value::Object(map) = h
            {
                let as_list: Vec<Value> = map
                    .iter()
                    .map(|(k, v)| json!({ k.clone(): v.clone() }))
                    .collect();
                *h = Value::Array(as_list);
            }
        }
    }
    m
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn unknown_fields(
    schema: &Value,
    instance: &Value,
    path: String,
    object: &str,
    out: &mut Vec<Violation>,
) {
    match instance {
        Value::Object(map) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            if schema.get("additionalProperties").is_some() {
                return;
            }
            for (k, v) in map {
                let p = format!("{path}/{}", escape(k));
                match props.get(k) {
                    Some(sub) => {
                        if k != "metadata" && k != "status" {
                            unknown_fields(sub, v, p, object, out);
                        }
                    }
                    None => out.push(Violation {
                        object: object.to_string(),
                        instance_path: p,
                        kind: ViolationKind::UnknownField { field: k.clone() },
                        severity: Severity::Error,
                        message: format!("unknown field `{k}` (the CRD would prune it silently)"),
                    }),
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    unknown_fields(sub, v, format!("{path}/{i}"), object, out);
                }
            }
        }
        _ => {}
    }
}

fn rules(r: &SmiResource, object: &str, out: &mut Vec<Violation>) {
    match r {
        SmiResource::TrafficTarget(t) => {
            let base = if t.version == Version::V1alpha1 {
                ""
            } else {
                "/spec"
            };
            if t.version == Version::V1alpha3 {
                if t.spec.rules.is_empty() {
                    out.push(Violation::rule(
                        object,
                        format!("{base}/rules"),
                        "access.rules-required",
                        Severity::Error,
                        "a v1alpha3 TrafficTarget must specify at least one rule".into(),
                    ));
                }
                if t.spec.sources.is_empty() {
                    out.push(Violation::rule(
                        object,
                        format!("{base}/sources"),
                        "access.sources-required",
                        Severity::Error,
                        "a v1alpha3 TrafficTarget must specify at least one source".into(),
                    ));
                }
            }
        }
        SmiResource::HttpRouteGroup(g) => {
            let base = if g.version <= Version::V1alpha2 {
                "/matches"
            } else {
                "/spec/matches"
            };
            for (i, m) in g.matches.iter().enumerate() {
                if let Some(re) = &m.path_regex
                    && let Err(e) = regex::Regex::new(re)
                {
                    out.push(Violation::rule(
                        object,
                        format!("{base}/{i}/pathRegex"),
                        "specs.path-regex",
                        Severity::Error,
                        format!("pathRegex does not compile: {e}"),
                    ));
                }
                for (j, meth) in m.methods.iter().flatten().enumerate() {
                    if !METHODS.contains(&meth.as_str()) {
                        out.push(Violation::rule(
                            object,
                            format!("{base}/{i}/methods/{j}"),
                            "specs.method-enum",
                            Severity::Error,
                            format!("`{meth}` is not one of {}", METHODS.join(", ")),
                        ));
                    }
                }
                if let Some(h) = &m.headers {
                    if g.version == Version::V1alpha1 {
                        out.push(Violation::rule(
                            object,
                            format!("{base}/{i}/headers"),
                            "specs.headers-version",
                            Severity::Error,
                            "header matches need specs.smi-spec.io/v1alpha2 or later".into(),
                        ));
                    }
                    for (name, re) in &h.entries {
                        if let Err(e) = regex::Regex::new(re) {
                            out.push(Violation::rule(
                                object,
                                format!("{base}/{i}/headers"),
                                "specs.header-regex",
                                Severity::Error,
                                format!("regex for header `{name}` does not compile: {e}"),
                            ));
                        }
                    }
                }
            }
        }
        SmiResource::TrafficSplit(s) => {
            for (i, b) in s.spec.backends.iter().enumerate() {
                let path = format!("/spec/backends/{i}/weight");
                let bad = match &b.weight {
                    Weight::Integer(w) => (*w < 0).then(|| format!("weight {w} is negative")),
                    Weight::Number(f) => Some(format!("weight {f} is not a whole number")),
                    Weight::Quantity(q) => {
                        if s.version != Version::V1alpha1 {
                            Some(format!(
                                "quantity weight `{}` is only allowed in v1alpha1",
                                q.text
                            ))
                        } else if q.milli < 0 {
                            Some(format!("weight `{}` is negative", q.text))
                        } else {
                            None
                        }
                    }
                };
                if let Some(msg) = bad {
                    out.push(Violation::rule(
                        object,
                        path,
                        "split.weight",
                        Severity::Error,
                        msg,
                    ));
                }
                if b.service == s.spec.service {
                    out.push(Violation::rule(
                        object,
                        format!("/spec/backends/{i}/service"),
                        "split.self-reference",
                        Severity::Warning,
                        format!(
                            "backend `{}` is the root service itself (discouraged by the spec)",
                            b.service
                        ),
                    ));
                }
            }
            if !s.spec.matches.is_empty() && s.version < Version::V1alpha3 {
                out.push(Violation::rule(
                    object,
                    "/spec/matches",
                    "split.matches-version",
                    Severity::Error,
                    "spec.matches needs split.smi-spec.io/v1alpha3 or later".into(),
                ));
            }
        }
        _ => {}
    }
}
