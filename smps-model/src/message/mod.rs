//! The SMP v0.6.1 messages, one module per proto area.

pub(crate) mod config;
pub(crate) mod environment;
pub(crate) mod mesh_config;
pub(crate) mod metadata;
pub(crate) mod result;
pub(crate) mod service_mesh;
