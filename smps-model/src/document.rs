//! What reading gives: [`Document`], its [`Kind`] and [`Body`], the [`Format`] read, the
//! [`ReadOptions`] (with the [`LatencyUnit`] of legacy exports), and the [`SmpDocument`] types
//! `read_as` accepts.

use serde_json::Value;

use crate::kind::Kind;
use crate::{
    EnvironmentConfig, PerformanceTestConfig, PerformanceTestResult, ServiceMesh, ServiceMeshConfig,
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
/// types and [`TestConfig`]. Used by [`crate::read_as`] and [`crate::write_value`].
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

/// The unit of latency figures in a document that does not state one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum LatencyUnit {
    /// Seconds (what fortio, and so Meshery's exports, use).
    #[default]
    Seconds,
    /// Milliseconds (what the SMP spec promises, and what wrk2 reports).
    Milliseconds,
}

impl LatencyUnit {
    /// The factor that turns a figure in this unit into milliseconds.
    pub fn to_ms_factor(self) -> f64 {
        match self {
            LatencyUnit::Seconds => 1000.0,
            LatencyUnit::Milliseconds => 1.0,
        }
    }

    /// `s` or `ms`.
    pub fn symbol(self) -> &'static str {
        match self {
            LatencyUnit::Seconds => "s",
            LatencyUnit::Milliseconds => "ms",
        }
    }
}
