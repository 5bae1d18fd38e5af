//! Typed [Service Mesh Performance](https://smp-spec.io) (SMP) documents.
//!
//! `smps-model` reads every SMP document met in the wild and writes it back in either of the
//! two forms tools consume:
//!
//! * **Reading** ([`read`], [`read_as`], [`read_all`]) accepts YAML and JSON; snake_case,
//!   lowerCamelCase and mixed keys; enums as numbers, names or short names; int64 as numbers or
//!   strings; RFC 3339 timestamps in any offset; Go durations; `null` for "not set"; Meshery's
//!   `{test, mesh}` wrapper, profiles and result records with fortio, wrk2- and
//!   nighthawk-shaped payloads; the legacy `BenchmarkSpec` and `PerformanceSpec` exports; and
//!   multi-document YAML. Unknown fields are ignored but reported in [`Document::unknown_fields`].
//! * **Writing** ([`write()`]) gives canonical proto3 JSON ([`Dialect::Canonical`]: camelCase,
//!   enum names, int64 as strings, defaults omitted) or the Meshery-compatible form
//!   ([`Dialect::Meshery`]: snake_case, enum numbers, int64 numbers, `{test, mesh}` wrapper for
//!   configs), each as YAML or JSON.
//!
//! The crate does no I/O and needs no runtime. Validation beyond "can it be read" lives in
//! `smps-validate`; running tests lives in `smps-load`.
//!
//! # Example
//!
//! ```
//! use smps_model::{Dialect, Format, Kind, Protocol, ReadOptions};
//!
//! let yaml = "
//! test:
//!   smp_version: v0.0.1
//!   name: istio-test
//!   clients:
//!     - protocol: 1
//!       connections: 2
//!       rps: 5
//!       endpoint_urls: ['https://meshery.io']
//!   duration: 6s
//! mesh:
//!   type: 3
//! ";
//! let doc = smps_model::read(yaml, &ReadOptions::default())?;
//! assert_eq!(doc.kind(), Kind::PerformanceTestConfig);
//! let test = doc.as_test_config().unwrap();
//! assert_eq!(test.config.clients[0].protocol, Protocol::Http);
//! assert_eq!(test.config.duration.as_ref().unwrap().as_nanos(), 6_000_000_000);
//!
//! let json = smps_model::write(&doc, Dialect::Canonical, Format::Json)?;
//! assert!(json.contains("\"protocol\": \"PROTOCOL_HTTP\""));
//! # Ok::<(), smps_model::Error>(())
//! ```
//!
//! # Main types
//!
//! | SMP message | type |
//! |---|---|
//! | `PerformanceTestConfig` (+`Client`, `Protocol`) | [`PerformanceTestConfig`], [`Client`], [`Protocol`] |
//! | `PerformanceTestResult` (+`Latency`, `CPU`, `Memory`, `Swap`) | [`PerformanceTestResult`], [`Latency`], [`Cpu`], [`Memory`], [`Swap`] |
//! | `ServiceMeshConfig` (+gateways, sidecar, telemetry, policy, control plane) | [`ServiceMeshConfig`], [`IngressGateway`], [`EgressGateway`], [`Sidecar`], [`MeshTelemetry`], [`MeshPolicy`], [`MeshControlPlane`] |
//! | `EnvironmentConfig` (+`Node`, `IndividualWorkload`) | [`EnvironmentConfig`], [`Node`], [`IndividualWorkload`] |
//! | `ServiceMesh` (+`Type`) | [`ServiceMesh`], [`MeshType`] |
//! | `ApplicationMetadata` (+`ApplicationProtocol`), `TrafficMetadata` | [`ApplicationMetadata`], [`ApplicationProtocol`], [`TrafficMetadata`] |
//!
//! Values that SMP writes as strings have their own types: [`GoDuration`] and [`Timestamp`].
//! Meshery's own shapes (profiles, result records, fortio payloads) live in [`meshery`].
//!
//! # Features
//!
//! | feature | default? | what it adds |
//! |---|---|---|
//! | `schema` | no | `schema_for` and `JsonSchema` impls (schemars) for every type |
//!
//! # Stability
//!
//! Message structs and enums are `#[non_exhaustive]`: new spec fields and values are not
//! breaking changes. Build structs with `Default` and field assignment.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod de;
mod document;
mod duration;
mod enums;
mod error;
mod fold;
mod kind;
pub mod labels;
pub mod limits;
pub mod meshery;
mod message;
mod read;
pub mod redact;
#[cfg(feature = "schema")]
mod schema;
mod shape;
pub mod spelling;
mod timestamp;
mod typed;
mod write;
mod yaml;

pub use document::{
    Body, Document, Format, Origin, ReadOptions, SmpDocument, TestConfig, UnknownField,
};
pub use duration::{DurationError, GoDuration};
pub use enums::{ApplicationProtocol, MeshType, Protocol, UnknownEnumValue};
pub use error::{Error, Result};
pub use kind::Kind;
pub use message::config::{Client, PerformanceTestConfig};
pub use message::environment::{EnvironmentConfig, IndividualWorkload, Node};
pub use message::mesh_config::{
    EgressGateway, IngressGateway, MeshControlPlane, MeshPolicy, MeshTelemetry, ProxyResources,
    ServiceMeshConfig, Sidecar,
};
pub use message::metadata::{ApplicationMetadata, TrafficMetadata};
pub use message::result::{Cpu, Latency, Memory, PerformanceTestResult, Swap};
pub use message::service_mesh::{MESH_NAME_ANNOTATION, ServiceMesh};
pub use read::{parse_values, read, read_all, read_as, read_value};
#[cfg(feature = "schema")]
#[cfg_attr(docsrs, doc(cfg(feature = "schema")))]
pub use schema::schema_for;
pub use shape::{Shape, UnknownShape, ValueKind, classify, classify_object};
pub use timestamp::{Timestamp, TimestampError};
pub use typed::from_value;
pub use write::{Dialect, to_value, write, write_all, write_value};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
