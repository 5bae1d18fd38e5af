//! Reading SMP documents in every dialect met in the wild.
//!
//! The text is parsed once into a JSON tree (YAML is converted, keeping every document of a
//! stream), each document's kind is recognised from its keys unless the caller names it, and the
//! tree is decoded into the typed model with lenient value rules (see `de.rs`). Field errors
//! carry the JSON Pointer of the offending value as the user wrote it.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::meshery::{self, LatencyUnit};
use crate::{
    EnvironmentConfig, MeshType, PerformanceTestConfig, PerformanceTestResult, Protocol,
    ServiceMesh, ServiceMeshConfig,
};

/// Text format of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// JSON (RFC 8259); a stream of concatenated values is also accepted.
    Json,
    /// YAML 1.2, including multi-document streams and comments.
    Yaml,
}

impl Format {
    /// Guesses the format from the first significant character: `{` or `[` means JSON,
    /// anything else YAML. One leading byte-order mark is skipped, as the readers skip it; a
    /// second one is content.
    ///
    /// ```
    /// use smps_model::Format;
    /// assert_eq!(Format::detect("  {\"a\": 1}"), Format::Json);
    /// assert_eq!(Format::detect("\u{feff}{\"a\": 1}"), Format::Json);
    /// assert_eq!(Format::detect("\u{feff}\u{feff}{\"a\": 1}"), Format::Yaml);
    /// assert_eq!(Format::detect("# comment\na: 1"), Format::Yaml);
    /// ```
    pub fn detect(text: &str) -> Format {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            Format::Json
        } else {
            Format::Yaml
        }
    }

    /// `"JSON"` or `"YAML"`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        }
    }
}

/// The kinds of SMP document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// [`PerformanceTestConfig`] (also Meshery's `{test, mesh}` wrapper and profiles).
    PerformanceTestConfig,
    /// [`PerformanceTestResult`] (also legacy and Meshery result exports).
    PerformanceTestResult,
    /// [`ServiceMeshConfig`].
    ServiceMeshConfig,
    /// [`EnvironmentConfig`].
    EnvironmentConfig,
    /// [`ServiceMesh`].
    ServiceMesh,
}

impl Kind {
    /// Every kind.
    pub const ALL: &'static [Kind] = &[
        Kind::PerformanceTestConfig,
        Kind::PerformanceTestResult,
        Kind::ServiceMeshConfig,
        Kind::EnvironmentConfig,
        Kind::ServiceMesh,
    ];

    /// The SMP message name (`PerformanceTestConfig`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::PerformanceTestConfig => "PerformanceTestConfig",
            Kind::PerformanceTestResult => "PerformanceTestResult",
            Kind::ServiceMeshConfig => "ServiceMeshConfig",
            Kind::EnvironmentConfig => "EnvironmentConfig",
            Kind::ServiceMesh => "ServiceMesh",
        }
    }

    /// Finds a kind by message name, case-insensitively (`performancetestconfig`, `config`,
    /// `result`, `mesh-config`, `environment`, `mesh` are accepted too).
    pub fn from_name(name: &str) -> Option<Kind> {
        let folded = fold(name);
        Some(match folded.as_str() {
            "performancetestconfig" | "config" | "testconfig" | "test" => {
                Kind::PerformanceTestConfig
            }
            "performancetestresult" | "result" | "testresult" => Kind::PerformanceTestResult,
            "servicemeshconfig" | "meshconfig" => Kind::ServiceMeshConfig,
            "environmentconfig" | "environment" | "env" => Kind::EnvironmentConfig,
            "servicemesh" | "mesh" => Kind::ServiceMesh,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How to read a document.
///
/// ```
/// use smps_model::{Kind, ReadOptions};
/// let options = ReadOptions::default()
///     .with_kind(Kind::PerformanceTestConfig)
///     .with_legacy_enum_numbers(true);
/// assert_eq!(options.kind, Some(Kind::PerformanceTestConfig));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// The document kind, or `None` to recognise it from the keys.
    pub kind: Option<Kind>,
    /// The text format, or `None` to detect it ([`Format::detect`]).
    pub format: Option<Format>,
    /// Read enum numbers with the pre-v0.3.0 numbering (no `INVALID` value, so `protocol: 1`
    /// is TCP and mesh `type: 2` is Istio). Names are unaffected. Off by default: files carry
    /// no reliable version, so this is never guessed.
    pub legacy_enum_numbers: bool,
    /// The unit of the latency figures in Meshery's legacy `BenchmarkSpec` and
    /// `PerformanceSpec` exports, which carry no unit of their own. Meshery filled them with
    /// fortio's seconds, hence the default [`LatencyUnit::Seconds`].
    pub legacy_latency_unit: LatencyUnit,
}

impl ReadOptions {
    /// Names the document kind instead of recognising it.
    #[must_use]
    pub fn with_kind(mut self, kind: Kind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Names the text format instead of detecting it.
    #[must_use]
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Chooses the pre-v0.3.0 enum numbering (see the field docs).
    #[must_use]
    pub fn with_legacy_enum_numbers(mut self, legacy: bool) -> Self {
        self.legacy_enum_numbers = legacy;
        self
    }

    /// Sets the unit of legacy Meshery exports' latency figures.
    #[must_use]
    pub fn with_legacy_latency_unit(mut self, unit: LatencyUnit) -> Self {
        self.legacy_latency_unit = unit;
        self
    }
}

/// Where a document came from: the shape it was read in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// An SMP message at the document root.
    Smp,
    /// Meshery's `{test, mesh}` test-configuration wrapper.
    MesheryWrapper,
    /// A Meshery performance profile (snake_case, camelCase or v1beta3).
    MesheryProfile,
    /// A Meshery result record; `generator` names the payload's load generator.
    MesheryResult {
        /// `fortio`, `wrk2` or `nighthawk`.
        generator: String,
    },
    /// A bare fortio (or fortio-shaped) result payload.
    FortioPayload {
        /// `fortio`, `wrk2` or `nighthawk`.
        generator: String,
    },
    /// The legacy `BenchmarkSpec` export (SMPS sample result, 2020).
    LegacyBenchmarkSpec,
    /// Meshery's `PerformanceSpec` export (`smp_version: test_smp_version`).
    MesheryPerformanceSpec,
}

/// A test configuration and, when the document named one, the mesh under test.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct TestConfig {
    /// The configuration.
    pub config: PerformanceTestConfig,
    /// The mesh under test (Meshery's wrapper and profiles carry one; flat files do not).
    pub mesh: Option<ServiceMesh>,
}

impl TestConfig {
    /// A configuration with no mesh.
    pub fn new(config: PerformanceTestConfig) -> Self {
        TestConfig { config, mesh: None }
    }
}

/// A field the reader did not recognise; kept so that validators can warn about it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownField {
    /// JSON Pointer to the field, as written in the input.
    pub pointer: String,
    /// The field's value.
    pub value: Value,
}

/// The typed content of a document.
// Documents are read a handful at a time, so the size spread between variants costs little;
// boxing would make every match on a body clumsier for users.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// A test configuration, with the mesh when one was given.
    TestConfig(TestConfig),
    /// A test result.
    TestResult(PerformanceTestResult),
    /// A service mesh configuration.
    MeshConfig(ServiceMeshConfig),
    /// An environment description.
    Environment(EnvironmentConfig),
    /// A service mesh.
    ServiceMesh(ServiceMesh),
}

impl Body {
    /// The document kind.
    pub fn kind(&self) -> Kind {
        match self {
            Body::TestConfig(_) => Kind::PerformanceTestConfig,
            Body::TestResult(_) => Kind::PerformanceTestResult,
            Body::MeshConfig(_) => Kind::ServiceMeshConfig,
            Body::Environment(_) => Kind::EnvironmentConfig,
            Body::ServiceMesh(_) => Kind::ServiceMesh,
        }
    }
}

/// One document read from the input.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Document {
    /// The typed content.
    pub body: Body,
    /// The shape it was read in.
    pub origin: Origin,
    /// 0-based index of the document in a multi-document input (elements of a JSON array or
    /// of a Meshery page share their container's index; see `pointer`).
    pub index: usize,
    /// JSON Pointer of this document inside its input document (`""` for the root,
    /// `/results/2` for the third record of a Meshery page).
    pub pointer: String,
    /// Fields the reader did not recognise.
    pub unknown_fields: Vec<UnknownField>,
}

impl Document {
    /// Wraps a body as an SMP-shaped document at index 0.
    pub fn new(body: Body) -> Self {
        Document {
            body,
            origin: Origin::Smp,
            index: 0,
            pointer: String::new(),
            unknown_fields: Vec::new(),
        }
    }

    /// The document kind.
    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// Fields the reader did not recognise.
    pub fn unknown_fields(&self) -> &[UnknownField] {
        &self.unknown_fields
    }

    /// The test configuration, if this is one.
    pub fn as_test_config(&self) -> Option<&TestConfig> {
        match &self.body {
            Body::TestConfig(t) => Some(t),
            _ => None,
        }
    }

    /// The test result, if this is one.
    pub fn as_test_result(&self) -> Option<&PerformanceTestResult> {
        match &self.body {
            Body::TestResult(r) => Some(r),
            _ => None,
        }
    }

    /// The mesh configuration, if this is one.
    pub fn as_mesh_config(&self) -> Option<&ServiceMeshConfig> {
        match &self.body {
            Body::MeshConfig(m) => Some(m),
            _ => None,
        }
    }

    /// The environment, if this is one.
    pub fn as_environment(&self) -> Option<&EnvironmentConfig> {
        match &self.body {
            Body::Environment(e) => Some(e),
            _ => None,
        }
    }

    /// The service mesh, if this is one.
    pub fn as_service_mesh(&self) -> Option<&ServiceMesh> {
        match &self.body {
            Body::ServiceMesh(m) => Some(m),
            _ => None,
        }
    }
}

/// The SMP messages that can stand alone as a document; implemented for the five message
/// types and [`TestConfig`]. Used by [`read_as`] and [`crate::write_value`].
pub trait SmpDocument: Sized + sealed::Sealed {
    /// The document kind.
    const KIND: Kind;
    /// Wraps the value as a document body.
    fn into_body(self) -> Body;
    /// Takes the value out of a body of the right kind.
    fn from_body(body: Body) -> Option<Self>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! smp_document {
    ($ty:ty, $kind:ident, $variant:ident, |$b:ident| $into:expr, |$v:ident| $from:expr) => {
        impl sealed::Sealed for $ty {}
        impl SmpDocument for $ty {
            const KIND: Kind = Kind::$kind;
            fn into_body(self) -> Body {
                let $b = self;
                $into
            }
            fn from_body(body: Body) -> Option<Self> {
                match body {
                    Body::$variant($v) => Some($from),
                    _ => None,
                }
            }
        }
    };
}

smp_document!(
    TestConfig,
    PerformanceTestConfig,
    TestConfig,
    |b| Body::TestConfig(b),
    |v| v
);
smp_document!(
    PerformanceTestConfig,
    PerformanceTestConfig,
    TestConfig,
    |b| Body::TestConfig(TestConfig::new(b)),
    |v| v.config
);
smp_document!(
    PerformanceTestResult,
    PerformanceTestResult,
    TestResult,
    |b| Body::TestResult(b),
    |v| v
);
smp_document!(
    ServiceMeshConfig,
    ServiceMeshConfig,
    MeshConfig,
    |b| Body::MeshConfig(b),
    |v| v
);
smp_document!(
    EnvironmentConfig,
    EnvironmentConfig,
    Environment,
    |b| Body::Environment(b),
    |v| v
);
smp_document!(
    ServiceMesh,
    ServiceMesh,
    ServiceMesh,
    |b| Body::ServiceMesh(b),
    |v| v
);

/// Reads exactly one document.
///
/// # Errors
///
/// Syntax errors (with line and column), an unrecognised kind, a field of the wrong type (with
/// its JSON Pointer), or [`Error::DocumentCount`] when the input holds no or several documents.
///
/// # Examples
///
/// ```
/// use smps_model::{ReadOptions, Kind};
/// let doc = smps_model::read("smp_version: v0.0.1\nclients: []\nduration: 30m\n", &ReadOptions::default())?;
/// assert_eq!(doc.kind(), Kind::PerformanceTestConfig);
/// # Ok::<(), smps_model::Error>(())
/// ```
pub fn read(text: &str, options: &ReadOptions) -> Result<Document> {
    let mut docs = read_all(text, options)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        found => Err(Error::DocumentCount { found }),
    }
}

/// Reads exactly one document of type `T`.
///
/// # Errors
///
/// As [`read`], plus [`Error::WrongKind`] when the document is of another kind.
///
/// # Examples
///
/// ```
/// use smps_model::{PerformanceTestResult, ReadOptions};
/// let r: PerformanceTestResult = smps_model::read_as(
///     r#"{"latenciesMs": {"p50": 2.5}, "actualQps": "NaN"}"#,
///     &ReadOptions::default(),
/// )?;
/// assert_eq!(r.latencies_ms.unwrap().p50, 2.5);
/// assert!(r.actual_qps.is_nan());
/// # Ok::<(), smps_model::Error>(())
/// ```
pub fn read_as<T: SmpDocument>(text: &str, options: &ReadOptions) -> Result<T> {
    let options = options.clone().with_kind(T::KIND);
    let doc = read(text, &options)?;
    let found = doc.kind();
    T::from_body(doc.body).ok_or(Error::WrongKind {
        expected: T::KIND.name(),
        found: found.name(),
    })
}

/// Reads every document of the input: each document of a YAML stream, each element of a JSON
/// array, and each record of a Meshery page (`results` / `profiles`).
///
/// # Errors
///
/// The first error met, as for [`read`]; an input with no document gives [`Error::Empty`].
pub fn read_all(text: &str, options: &ReadOptions) -> Result<Vec<Document>> {
    let format = options.format.unwrap_or_else(|| Format::detect(text));
    let values = parse_values(text, format)?;
    let mut out = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        decode_value(value, index, String::new(), options, &mut out)?;
    }
    if out.is_empty() {
        return Err(Error::Empty);
    }
    Ok(out)
}

/// Parses the text into one JSON tree per document (YAML streams and JSON value streams).
///
/// # Errors
///
/// [`Error::ParseYaml`] or [`Error::ParseJson`] with the line and column of the problem.
pub fn parse_values(text: &str, format: Format) -> Result<Vec<Value>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Json => {
            let mut out = Vec::new();
            for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
                out.push(value.map_err(|e| json_error(&e))?);
            }
            Ok(out)
        }
        Format::Yaml => crate::yaml::parse(text),
    }
}

fn json_error(e: &serde_json::Error) -> Error {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full.clone(),
    };
    Error::ParseJson {
        line: e.line().max(1),
        column: e.column().max(1),
        message,
        source: full.into(),
    }
}

/// Lower-cases and drops `_` and `-`, for matching keys across casings.
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Escapes one JSON Pointer reference token (RFC 6901).
pub(crate) fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The shape of a document, recognised from its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Wrapper,
    Profile,
    MesheryResult,
    Fortio,
    BenchmarkSpec,
    Proto(Kind),
}

const CONFIG_KEYS: &[&str] = &["clients", "duration"];
const RESULT_KEYS: &[&str] = &[
    "latenciesms",
    "actualqps",
    "starttime",
    "endtime",
    "detailsuri",
    "testid",
    "meshconfigid",
    "envid",
];
const MESH_CONFIG_KEYS: &[&str] = &[
    "ingressgateway",
    "sidecar",
    "meshtelemetry",
    "meshpolicy",
    "meshcontrolplane",
    "meshpolicyenabled",
    "meshtelemetryenabled",
    "mtlsenabled",
    "proxyconcurrency",
    "meshbuild",
    "proxybuild",
    "expgroupuuid",
    "expuuid",
    "profile",
    "meshtype",
    "applicationmetadata",
];
const ENVIRONMENT_KEYS: &[&str] = &[
    "kubernetesversion",
    "nodes",
    "individualworkloads",
    "trafficmetadata",
];
const SERVICE_MESH_KEYS: &[&str] = &["type", "version", "labels", "annotations"];

fn classify(obj: &Map<String, Value>) -> std::result::Result<Shape, String> {
    let keys: Vec<String> = obj.keys().map(|k| fold(k)).collect();
    let has = |k: &str| keys.iter().any(|x| x == k);
    if has("test") && keys.iter().all(|k| k == "test" || k == "mesh") {
        return Ok(Shape::Wrapper);
    }
    if keys.len() == 1 && has("mesh") {
        return Ok(Shape::Wrapper);
    }
    if has("runnerresults") || has("mesheryid") {
        return Ok(Shape::MesheryResult);
    }
    if has("durationhistogram") {
        return Ok(Shape::Fortio);
    }
    if has("loadgenerators") || has("concurrentrequest") || (has("endpoints") && has("qps")) {
        return Ok(Shape::Profile);
    }
    if get_folded(obj, "client").is_some_and(|(_, v)| v.is_object())
        || has("endpointurl")
        || has("env")
        || has("metrics")
    {
        return Ok(Shape::BenchmarkSpec);
    }
    let score = |set: &[&str]| keys.iter().filter(|k| set.contains(&k.as_str())).count();
    let mut best: Option<(Kind, usize)> = None;
    for (kind, set) in [
        (Kind::PerformanceTestConfig, CONFIG_KEYS),
        (Kind::PerformanceTestResult, RESULT_KEYS),
        (Kind::ServiceMeshConfig, MESH_CONFIG_KEYS),
        (Kind::EnvironmentConfig, ENVIRONMENT_KEYS),
    ] {
        let s = score(set);
        if s > 0 && best.is_none_or(|(_, b)| s > b) {
            best = Some((kind, s));
        }
    }
    if let Some((kind, _)) = best {
        return Ok(Shape::Proto(kind));
    }
    if !keys.is_empty()
        && (has("type") || has("version"))
        && keys.iter().all(|k| SERVICE_MESH_KEYS.contains(&k.as_str()))
    {
        return Ok(Shape::Proto(Kind::ServiceMesh));
    }
    let mut names: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
    if names.is_empty() {
        return Err("it is an empty object".to_owned());
    }
    if obj.len() > names.len() {
        names.push("...");
    }
    Err(format!(
        "none of its keys ({}) belongs to a known SMP document",
        names.join(", ")
    ))
}

/// Whether a special shape may stand for the requested kind.
fn shape_fits(shape: Shape, kind: Kind) -> bool {
    match shape {
        Shape::Wrapper | Shape::Profile => kind == Kind::PerformanceTestConfig,
        Shape::MesheryResult | Shape::Fortio | Shape::BenchmarkSpec => {
            kind == Kind::PerformanceTestResult
        }
        Shape::Proto(k) => k == kind,
    }
}

fn is_envelope(obj: &Map<String, Value>) -> Option<&str> {
    let paging = obj
        .keys()
        .any(|k| matches!(fold(k).as_str(), "page" | "pagesize" | "totalcount"));
    if !paging {
        return None;
    }
    ["results", "profiles"]
        .into_iter()
        .find(|k| obj.get(*k).is_some_and(|v| v.is_array() || v.is_null()))
}

fn decode_value(
    value: Value,
    index: usize,
    pointer: String,
    options: &ReadOptions,
    out: &mut Vec<Document>,
) -> Result<()> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                decode_value(item, index, format!("{pointer}/{i}"), options, out)?;
            }
            Ok(())
        }
        Value::Object(obj) => {
            if let Some(key) = is_envelope(&obj) {
                let key = key.to_owned();
                let mut obj = obj;
                if let Some(Value::Array(items)) = obj.remove(&key) {
                    for (i, item) in items.into_iter().enumerate() {
                        decode_value(item, index, format!("{pointer}/{key}/{i}"), options, out)?;
                    }
                }
                return Ok(());
            }
            let shape = match (classify(&obj), options.kind) {
                (Ok(shape), Some(kind)) if shape_fits(shape, kind) => shape,
                (_, Some(kind)) => Shape::Proto(kind),
                (Ok(shape), None) => shape,
                (Err(reason), None) => {
                    return Err(Error::UnknownKind {
                        document: index,
                        reason,
                    });
                }
            };
            let doc = decode_object(Value::Object(obj), shape, index, &pointer, options)?;
            out.push(doc);
            Ok(())
        }
        other => Err(Error::UnknownKind {
            document: index,
            reason: format!("it is {}, not a mapping", describe(&other)),
        }),
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Decoding context: where we are, for error pointers and unknown-field reports.
pub(crate) struct Ctx<'a> {
    pub(crate) index: usize,
    pub(crate) pointer: &'a str,
    pub(crate) unknown: Option<&'a mut Vec<UnknownField>>,
}

impl Ctx<'_> {
    /// An [`Error::InvalidField`] at `sub` (a pointer relative to the context).
    pub(crate) fn field_error(&self, sub: &str, message: impl Into<String>) -> Error {
        Error::InvalidField {
            document: self.index,
            pointer: format!("{}{sub}", self.pointer),
            message: message.into(),
        }
    }
}

/// Decodes `value` into `T`, with field errors located by JSON Pointer and unknown fields
/// recorded (relative to `sub` inside the context's document).
pub(crate) fn decode_typed<T: DeserializeOwned>(
    value: &Value,
    ctx: &mut Ctx<'_>,
    sub: &str,
) -> Result<T> {
    let mut ignored: Vec<String> = Vec::new();
    let mut callback = |path: serde_ignored::Path<'_>| ignored.push(ignored_pointer(&path));
    let de = serde_ignored::Deserializer::new(value, &mut callback);
    let result: std::result::Result<T, _> = serde_path_to_error::deserialize(de);
    match result {
        Ok(t) => {
            if let Some(unknown) = ctx.unknown.as_deref_mut() {
                for p in ignored {
                    unknown.push(UnknownField {
                        value: value.pointer(&p).cloned().unwrap_or(Value::Null),
                        pointer: format!("{}{sub}{p}", ctx.pointer),
                    });
                }
            }
            Ok(t)
        }
        Err(e) => {
            let mut p = String::from(sub);
            for seg in e.path().iter() {
                match seg {
                    serde_path_to_error::Segment::Seq { index } => {
                        p.push('/');
                        p.push_str(&index.to_string());
                    }
                    serde_path_to_error::Segment::Map { key } => {
                        p.push('/');
                        p.push_str(&escape_token(key));
                    }
                    serde_path_to_error::Segment::Enum { .. }
                    | serde_path_to_error::Segment::Unknown => {}
                }
            }
            Err(ctx.field_error(&p, e.into_inner().to_string()))
        }
    }
}

fn ignored_pointer(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}/{index}", ignored_pointer(parent)),
        Path::Map { parent, key } => format!("{}/{}", ignored_pointer(parent), escape_token(key)),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_pointer(parent),
    }
}

fn decode_object(
    mut value: Value,
    shape: Shape,
    index: usize,
    pointer: &str,
    options: &ReadOptions,
) -> Result<Document> {
    let mut unknown = Vec::new();
    let mut ctx = Ctx {
        index,
        pointer,
        unknown: Some(&mut unknown),
    };
    if options.legacy_enum_numbers {
        rewrite_legacy_numbers(&mut value, shape, &ctx)?;
    }
    let (body, origin) = match shape {
        Shape::Wrapper => (
            Body::TestConfig(decode_wrapper(&value, &mut ctx)?),
            Origin::MesheryWrapper,
        ),
        Shape::Proto(Kind::PerformanceTestConfig) => (
            Body::TestConfig(TestConfig::new(decode_typed(&value, &mut ctx, "")?)),
            Origin::Smp,
        ),
        Shape::Proto(Kind::PerformanceTestResult) => {
            let mut result: PerformanceTestResult = decode_typed(&value, &mut ctx, "")?;
            if result.smp_version == meshery::PERFORMANCE_SPEC_VERSION_MARKER {
                meshery::normalise_performance_spec(&mut result, options.legacy_latency_unit);
                (Body::TestResult(result), Origin::MesheryPerformanceSpec)
            } else {
                (Body::TestResult(result), Origin::Smp)
            }
        }
        Shape::Proto(Kind::ServiceMeshConfig) => (
            Body::MeshConfig(decode_typed(&value, &mut ctx, "")?),
            Origin::Smp,
        ),
        Shape::Proto(Kind::EnvironmentConfig) => (
            Body::Environment(decode_typed(&value, &mut ctx, "")?),
            Origin::Smp,
        ),
        Shape::Proto(Kind::ServiceMesh) => (
            Body::ServiceMesh(decode_typed(&value, &mut ctx, "")?),
            Origin::Smp,
        ),
        Shape::Profile => {
            let test = meshery::profile_to_config(&value, &mut ctx)?;
            (Body::TestConfig(test), Origin::MesheryProfile)
        }
        Shape::MesheryResult => {
            ctx.unknown = None;
            let (result, generator) = meshery::record_to_result(&value, &mut ctx)?;
            (
                Body::TestResult(result),
                Origin::MesheryResult { generator },
            )
        }
        Shape::Fortio => {
            ctx.unknown = None;
            let (result, generator) = meshery::fortio_to_result(&value, &mut ctx, "")?;
            (
                Body::TestResult(result),
                Origin::FortioPayload { generator },
            )
        }
        Shape::BenchmarkSpec => {
            ctx.unknown = None;
            let result =
                meshery::benchmark_spec_to_result(&value, &mut ctx, options.legacy_latency_unit)?;
            (Body::TestResult(result), Origin::LegacyBenchmarkSpec)
        }
    };
    Ok(Document {
        body,
        origin,
        index,
        pointer: pointer.to_owned(),
        unknown_fields: unknown,
    })
}

/// Finds a key by folded name.
pub(crate) fn get_folded<'v>(
    obj: &'v Map<String, Value>,
    folded: &str,
) -> Option<(&'v str, &'v Value)> {
    obj.iter()
        .find(|(k, _)| fold(k) == folded)
        .map(|(k, v)| (k.as_str(), v))
}

fn decode_wrapper(value: &Value, ctx: &mut Ctx<'_>) -> Result<TestConfig> {
    let obj = value.as_object().map(|o| o as &Map<String, Value>);
    let empty = Map::new();
    let obj = obj.unwrap_or(&empty);
    let config = match get_folded(obj, "test") {
        Some((key, v)) if !v.is_null() => decode_typed(v, ctx, &format!("/{}", escape_token(key)))?,
        _ => PerformanceTestConfig::default(),
    };
    let mesh = match get_folded(obj, "mesh") {
        Some((_, Value::String(name))) => ServiceMesh::from_name(name),
        Some((_, Value::Null)) | None => None,
        Some((key, v)) => Some(decode_typed(v, ctx, &format!("/{}", escape_token(key)))?),
    };
    Ok(TestConfig { config, mesh })
}

/// Rewrites enum numbers of the pre-v0.3.0 protos into names, in place.
fn rewrite_legacy_numbers(value: &mut Value, shape: Shape, ctx: &Ctx<'_>) -> Result<()> {
    fn number_of(v: &Value) -> Option<i64> {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    fn rewrite_field(
        obj: &mut Value,
        folded: &str,
        ptr: &str,
        ctx: &Ctx<'_>,
        map: fn(i64) -> Option<&'static str>,
        enum_name: &str,
    ) -> Result<()> {
        let Some(o) = obj.as_object_mut() else {
            return Ok(());
        };
        let Some(key) = o.keys().find(|k| fold(k) == folded).cloned() else {
            return Ok(());
        };
        let Some(v) = o.get_mut(&key) else {
            return Ok(());
        };
        if let Some(n) = number_of(v) {
            let name = map(n).ok_or_else(|| {
                ctx.field_error(
                    &format!("{ptr}/{}", escape_token(&key)),
                    format!("unknown legacy (pre-v0.3.0) {enum_name} number {n}"),
                )
            })?;
            *v = Value::String(name.to_owned());
        }
        Ok(())
    }
    fn child<'v>(v: &'v mut Value, folded: &str) -> Option<(String, &'v mut Value)> {
        let o = v.as_object_mut()?;
        let key = o.keys().find(|k| fold(k) == folded)?.clone();
        let c = o.get_mut(&key)?;
        Some((key, c))
    }
    let protocol = |n| Protocol::from_legacy_number(n).map(Protocol::name);
    let mesh = |n| MeshType::from_legacy_number(n).map(MeshType::name);
    let app =
        |n| crate::ApplicationProtocol::from_legacy_number(n).map(crate::ApplicationProtocol::name);
    let config = |v: &mut Value, base: &str| -> Result<()> {
        if let Some((key, Value::Array(clients))) = child(v, "clients") {
            for (i, c) in clients.iter_mut().enumerate() {
                let ptr = format!("{base}/{}/{i}", escape_token(&key));
                rewrite_field(c, "protocol", &ptr, ctx, protocol, "Protocol")?;
            }
        }
        Ok(())
    };
    // `type` of the ServiceMesh found under `parent` (the wrapper's `mesh`, a mesh config's
    // `meshType`).
    let mesh_under = |value: &mut Value, parent: &str| -> Result<()> {
        match child(value, parent) {
            Some((key, m)) => {
                let ptr = format!("/{}", escape_token(&key));
                rewrite_field(m, "type", &ptr, ctx, mesh, "ServiceMesh.Type")
            }
            None => Ok(()),
        }
    };
    match shape {
        Shape::Wrapper => {
            if let Some((key, test)) = child(value, "test") {
                config(test, &format!("/{}", escape_token(&key)))?;
            }
            mesh_under(value, "mesh")?;
        }
        Shape::Proto(Kind::PerformanceTestConfig) => config(value, "")?,
        Shape::Proto(Kind::ServiceMesh) => {
            rewrite_field(value, "type", "", ctx, mesh, "ServiceMesh.Type")?;
        }
        Shape::Proto(Kind::ServiceMeshConfig) => {
            mesh_under(value, "meshtype")?;
            if let Some((key, a)) = child(value, "applicationmetadata") {
                let ptr = format!("/{}", escape_token(&key));
                rewrite_field(
                    a,
                    "applicationprotocol",
                    &ptr,
                    ctx,
                    app,
                    "ApplicationProtocol",
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}
