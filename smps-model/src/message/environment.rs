//! `EnvironmentConfig`: the cluster a test ran in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::TrafficMetadata;
use crate::de;

/// The environment of a test: Kubernetes version, nodes and workloads (`smp.EnvironmentConfig`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnvironmentConfig {
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
    /// Identifier of this environment.
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
    /// Kubernetes version (`v1.15.5`, `gke-1.10.5`). Also read from legacy `kubernetes`.
    #[serde(
        default,
        alias = "kubernetes_version",
        alias = "kubernetes",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub kubernetes_version: String,
    /// The cluster's nodes.
    #[serde(
        default,
        deserialize_with = "de::vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub nodes: Vec<Node>,
    /// Workloads measured one by one.
    #[serde(
        default,
        alias = "individual_workloads",
        deserialize_with = "de::vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub individual_workloads: Vec<IndividualWorkload>,
    /// How traffic reaches the cluster.
    #[serde(
        default,
        alias = "traffic_metadata",
        skip_serializing_if = "Option::is_none"
    )]
    pub traffic_metadata: Option<TrafficMetadata>,
}

/// One cluster node (`smp.EnvironmentConfig.Node`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Node {
    /// Machine type (`n1-standard-8`).
    #[serde(
        default,
        rename = "type",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub node_type: String,
    /// CPU cores.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub cores: i32,
    /// Memory in MB (int64).
    #[serde(
        default,
        alias = "mem_mb",
        deserialize_with = "de::int64",
        serialize_with = "de::ser_int64",
        skip_serializing_if = "de::is_default"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_int64"))]
    pub mem_mb: i64,
}

/// A workload measured on its own (`smp.EnvironmentConfig.IndividualWorkload`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IndividualWorkload {
    /// Workload name.
    #[serde(
        default,
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// Replicas.
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
}
