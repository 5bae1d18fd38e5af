//! `smi_assert`: declarative SMI conformance assertions.
pub mod backend;
pub mod conformance;
pub mod features;
pub mod kuttl;
pub mod matcher;
pub mod report;
pub mod runner;
pub mod smi;
pub mod stats;
pub mod suite;
pub mod validate;
