//! `smi_assert`: declarative SMI conformance assertions.
pub mod backend;
pub mod smi;
pub mod validate;
