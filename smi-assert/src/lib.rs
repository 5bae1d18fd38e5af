//! `smi_assert`: declarative, statistically sound mesh conformance tests: Gateway API mesh
//! conformance (GAMMA) and SMI (Service Mesh Interface).
//!
//! Write conformance suites that compose like kuttl or chainsaw, with Gateway-API-grade rigour,
//! and run them against any mesh through two object-safe backend traits. The crate ships the
//! GAMMA mesh conformance suite and the SMI conformance suite as data, and an embedded **loopback
//! mesh**: a real L7 proxy on 127.0.0.1 that routes by HTTPRoutes and GRPCRoutes attached to
//! Services (HTTP/1.1 and gRPC over h2c), enforces SMI (HTTP and UDP) and serves TrafficMetrics
//! computed from the traffic it handled, so suites (and this crate) are testable without a
//! cluster.
//!
//! A Kubernetes backend (`kube` feature, `backend::kube`) runs the same suites against a real
//! cluster through kube-rs. Non-goals: it does not install meshes or sample apps on a cluster,
//! and it does not run kuttl `commands` or scripts.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "loopback")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use smi_assert::suite::{Expect, TrafficOp};
//! use smi_assert::{LoopbackConfig, LoopbackMesh, Operation, Runner, Status, Suite, Test};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let mesh = Arc::new(LoopbackMesh::start(LoopbackConfig::default()).await?);
//! let app = smi_assert::conformance::suite()?.fixtures["access-app"].clone();
//! let suite = Suite::builder("demo")
//!     .test(
//!         Test::builder("default-deny")
//!             .feature("access.default-deny")
//!             .precondition("install", vec![Operation::apply(app)])
//!             .step("denied", vec![Operation::Traffic(TrafficOp::new(
//!                 "app-a", "http://app-b:9091/echo", Expect::Denied,
//!             ))])
//!             .build(),
//!     )
//!     .build()?;
//! let report = Runner::builder(mesh.clone()).build()?.run(&suite).await?;
//! assert_eq!(report.tests[0].status, Status::Passed);
//! mesh.shutdown();
//! # Ok::<(), smi_assert::Error>(()) })?;
//! # Ok(()) }
//! # #[cfg(not(feature = "loopback"))]
//! # fn main() {}
//! ```
//!
//! # Main types
//!
//! - [`gateway`]: Gateway API `HTTPRoute` and `GRPCRoute` types for mesh use (Service
//!   `parentRefs`); [`gamma_suite`]: the GAMMA suite (profiles `MESH-HTTP`, `MESH-GRPC`);
//!   [`gateway_report`]: Gateway API's `ConformanceReport`; [`echo`]: the echo backend's
//!   `Key=Value` report of the request it saw.
//! - [`smi`]: SMI resource types for access v1alpha1–3, specs v1alpha1–4, split v1alpha1–4 and
//!   metrics, in each version's layout, with Quantity weights normalised to milli-units.
//! - [`validate::Validator`]: manifest validation against the bundled CRD schemas (SMI, and the
//!   standard-channel HTTPRoute and GRPCRoute), unknown fields and the specs' non-schema rules,
//!   located by JSON Pointer.
//! - [`suite::Suite`] → [`suite::Test`] → [`suite::Step`] → [`suite::Operation`] (`apply`,
//!   `delete`, `assert`, `absent`, `traffic`, `distribution`, `metrics`, `custom`, `sleep`); YAML
//!   or builders. Durations are the family's [`GoDuration`] (Go syntax: `500ms`, `1h30m`) and the
//!   report's date a [`Timestamp`], both owned by smps-model and re-exported here.
//! - [`runner::Runner`]: runs suites; [`Runner::builder`] takes one mesh that is both backends,
//!   [`Runner::with_backends`] two; [`runner::CustomCheck`] is the hook for custom operations.
//! - [`backend::ClusterBackend`] and [`backend::TrafficBackend`]: where objects go and how traffic
//!   is sent; [`backend::memory::InMemoryCluster`] and `backend::loopback::LoopbackMesh` ship.
//!   Backends outside this crate build [`RequestRecord`]s with [`RequestRecord::new`] and report
//!   [`Error`]s with the backend variants (`Apply`, `ReadObject`, `Delete`, `Namespace`, `Send`,
//!   `Start`).
//! - [`Error`] and [`Result`]: the crate's one error type; `Err` means an operation could not
//!   happen, never that a mesh failed a check.
//! - [`features`]: features, Core/Extended levels, profiles, the implementation under test.
//! - [`report::Report`]: native JSON (ConformanceReport-like), JUnit XML, Meshery `Response` and
//!   adapter JSON, and a readable summary; capability Full/Partial/None per spec.
//! - [`conformance`]: the SMI conformance suite; [`kuttl`]: a loader for kuttl directories.
//! - [`features`]: SMI and GAMMA features (upstream names for GAMMA), levels and profiles.
//! - [`matcher`], [`stats`]: assertion semantics and the χ² test, usable on their own.
//!
//! # Features
//!
//! | feature | default? | what |
//! |---|---|---|
//! | `loopback` | yes | `backend::loopback`: the embedded loopback mesh (`LoopbackMesh`, re-exported at the root), on hyper |
//! | `schema` | no | `Suite::json_schema()` (schemars) for editor support |
//! | `kube` | no | `backend::kube`: `KubeCluster` and `KubeTraffic` on a real cluster (kube-rs, rustls with ring; needs Rust 1.89, kube 5's minimum, where the crate otherwise needs 1.85); tests that need a cluster are `#[ignore = "needs a cluster"]` |
//!
//! # Runtime
//!
//! Async entry points need a Tokio runtime with the `net` and `time` drivers, current-thread or
//! multi-threaded. The library never creates a runtime, never prints and installs no global state;
//! it emits `tracing` events.
//!
//! # Stability
//!
//! Pre-1.0. Public enums and structs are `#[non_exhaustive]`. The YAML suite format follows the
//! checked-in JSON Schema (`schema/suite.schema.json`); changes to it are noted in the CHANGELOG.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backend;
pub mod conformance;
pub mod echo;
mod error;
pub mod features;
pub mod gamma_suite;
pub mod gateway;
pub mod gateway_report;
mod input;
pub mod kuttl;
pub mod matcher;
pub mod report;
pub mod runner;
pub mod smi;
pub mod stats;
pub mod suite;
pub mod validate;

pub use error::{BoxError, Error, Result, YamlError};

#[cfg(feature = "loopback")]
#[cfg_attr(docsrs, doc(cfg(feature = "loopback")))]
pub use backend::loopback::{Fault, LoopbackConfig, LoopbackMesh};
pub use backend::memory::InMemoryCluster;
pub use backend::{
    ClusterBackend, ObjectRef, Outcome, RequestRecord, TrafficBackend, TrafficRequest,
};
pub use features::{Implementation, Level, Profile};
pub use report::{Report, Status};
pub use runner::{CheckContext, CheckOutcome, CustomCheck, Runner, RunnerBuilder};
pub use suite::{Operation, Step, Suite, SuiteBuilder, Test, Timeouts};
pub use validate::Validator;

/// Re-export of `serde_json::Value`, which appears in manifests and evidence.
pub use serde_json::Value;
/// Re-export of the family's duration type ([`smps_model::GoDuration`]), used for every timeout
/// of a suite.
pub use smps_model::GoDuration;
/// Re-export of the family's RFC 3339 timestamp ([`smps_model::Timestamp`]), the report's date.
pub use smps_model::Timestamp;

/// The README's examples, compiled and run as doc tests.
#[cfg(all(doctest, feature = "loopback"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
