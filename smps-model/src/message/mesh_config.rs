//! `ServiceMeshConfig`: how the mesh under test is configured and what it consumes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::de;
use crate::{ApplicationMetadata, ServiceMesh};

/// Configuration and resource figures of the service mesh under test (`smp.ServiceMeshConfig`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceMeshConfig {
    /// Version of the SMP spec the document claims (free text).
    #[serde(
        default,
        alias = "smp_version",
        alias = "smps_version",
        alias = "smpsVersion",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub smp_version: String,
    /// Identifier of this mesh configuration.
    #[serde(
        default,
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub id: String,
    /// Free-form labels.
    #[serde(
        default,
        deserialize_with = "de::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Ingress gateway resources.
    #[serde(
        default,
        alias = "ingress_gateway",
        skip_serializing_if = "Option::is_none"
    )]
    pub ingress_gateway: Option<IngressGateway>,
    /// Sidecar resources, all sidecars together.
    #[serde(default, alias = "sidecars", skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<Sidecar>,
    /// Telemetry component resources.
    #[serde(
        default,
        alias = "mesh_telemetry",
        skip_serializing_if = "Option::is_none"
    )]
    pub mesh_telemetry: Option<MeshTelemetry>,
    /// Policy component resources.
    #[serde(
        default,
        alias = "mesh_policy",
        skip_serializing_if = "Option::is_none"
    )]
    pub mesh_policy: Option<MeshPolicy>,
    /// Control plane resources.
    #[serde(
        default,
        alias = "mesh_control_plane",
        skip_serializing_if = "Option::is_none"
    )]
    pub mesh_control_plane: Option<MeshControlPlane>,
    /// Whether mesh policy enforcement is on.
    #[serde(
        default,
        alias = "mesh_policy_enabled",
        deserialize_with = "de::boolean",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub mesh_policy_enabled: bool,
    /// Whether mesh telemetry is on.
    #[serde(
        default,
        alias = "mesh_telemetry_enabled",
        deserialize_with = "de::boolean",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub mesh_telemetry_enabled: bool,
    /// Whether mutual TLS is on.
    #[serde(
        default,
        alias = "mtls_enabled",
        deserialize_with = "de::boolean",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub mtls_enabled: bool,
    /// Proxy worker threads (0 = proxy default).
    #[serde(
        default,
        alias = "proxy_concurrency",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub proxy_concurrency: i32,
    /// Build/version of the mesh.
    #[serde(
        default,
        alias = "mesh_build",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub mesh_build: String,
    /// Build/version of the proxy.
    #[serde(
        default,
        alias = "proxy_build",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub proxy_build: String,
    /// Experiment group id (results of the same configuration share it).
    #[serde(
        default,
        alias = "exp_group_uuid",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub exp_group_uuid: String,
    /// Experiment id.
    #[serde(
        default,
        alias = "exp_uuid",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub exp_uuid: String,
    /// Mesh profile (`full`, `ingress_only`, `telemetry`, ...).
    #[serde(
        default,
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub profile: String,
    /// Which mesh this is.
    #[serde(default, alias = "mesh_type", skip_serializing_if = "Option::is_none")]
    pub mesh_type: Option<ServiceMesh>,
    /// The application deployed on the mesh.
    #[serde(
        default,
        alias = "application_metadata",
        skip_serializing_if = "Option::is_none"
    )]
    pub application_metadata: Option<ApplicationMetadata>,
}

/// Resources of a proxy tier: the shared shape of `IngressGateway`, `EgressGateway` and
/// `Sidecar` in `smp.ServiceMeshConfig`, which declare identical fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProxyResources {
    /// Number of proxy instances.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub count: i32,
    /// CPU in millicores, all instances together. Also read from legacy `cpu_mCores`.
    #[serde(
        default,
        alias = "cpu_mcores",
        alias = "cpu_mCores",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub cpu_mcores: i32,
    /// Memory in MB.
    #[serde(
        default,
        alias = "mem_mb",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub mem_mb: i32,
    /// Requests per second through the tier.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub rps: i32,
    /// Bytes per second through the tier.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub bps: i32,
}

/// `smp.ServiceMeshConfig.IngressGateway`.
pub type IngressGateway = ProxyResources;
/// `smp.ServiceMeshConfig.EgressGateway` (declared by the protos, referenced by no field).
pub type EgressGateway = ProxyResources;
/// `smp.ServiceMeshConfig.Sidecar`.
pub type Sidecar = ProxyResources;

/// Resources of the telemetry component (`smp.ServiceMeshConfig.MeshTelemetry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MeshTelemetry {
    /// Number of instances.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub count: i32,
    /// CPU in millicores. Also read from legacy `cpu_mCores`.
    #[serde(
        default,
        alias = "cpu_mcores",
        alias = "cpu_mCores",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub cpu_mcores: i32,
    /// Memory in MB.
    #[serde(
        default,
        alias = "mem_mb",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub mem_mb: i32,
    /// Requests per second handled.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub rps: i32,
}

/// Resources of the policy component (`smp.ServiceMeshConfig.MeshPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MeshPolicy {
    /// Number of instances.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub count: i32,
    /// CPU in millicores. Also read from legacy `cpu_mCores`.
    #[serde(
        default,
        alias = "cpu_mcores",
        alias = "cpu_mCores",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub cpu_mcores: i32,
    /// Memory in MB.
    #[serde(
        default,
        alias = "mem_mb",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub mem_mb: i32,
    /// Requests per second handled.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub rps: i32,
    /// Policy cache hit rate, percent.
    #[serde(
        default,
        alias = "cache_hit_rate",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub cache_hit_rate: i32,
}

/// Resources and load of the control plane (`smp.ServiceMeshConfig.MeshControlPlane`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MeshControlPlane {
    /// Number of instances.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub count: i32,
    /// CPU in millicores. Also read from legacy `cpu_mCores`.
    #[serde(
        default,
        alias = "cpu_mcores",
        alias = "cpu_mCores",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub cpu_mcores: i32,
    /// Memory in MB.
    #[serde(
        default,
        alias = "mem_mb",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub mem_mb: i32,
    /// Endpoints known to the control plane.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub endpoints: i32,
    /// Services (including service entries).
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub services: i32,
    /// Sidecars connected.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub sidecars: i32,
    /// Virtual services.
    #[serde(
        default,
        alias = "virtual_services",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub virtual_services: i32,
    /// Destination rules.
    #[serde(
        default,
        alias = "destination_rules",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub destination_rules: i32,
    /// Time for a listener change to reach 90 % of proxies, ms.
    #[serde(
        default,
        alias = "lds_latency_ms",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub lds_latency_ms: i32,
    /// Time for a cluster change to reach 90 % of proxies, ms.
    #[serde(
        default,
        alias = "cds_latency_ms",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub cds_latency_ms: i32,
}
