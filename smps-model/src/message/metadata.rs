//! `ApplicationMetadata` and `TrafficMetadata`.

use serde::{Deserialize, Serialize};

use crate::ApplicationProtocol;
use crate::de;

/// The application deployed on the mesh (`smp.ApplicationMetadata`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApplicationMetadata {
    /// Application name.
    #[serde(
        default,
        alias = "application_name",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub application_name: String,
    /// Application version.
    #[serde(
        default,
        alias = "application_version",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub application_version: String,
    /// Helm chart name.
    #[serde(
        default,
        alias = "helmchart_name",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub helmchart_name: String,
    /// Helm chart version.
    #[serde(
        default,
        alias = "helmchart_version",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub helmchart_version: String,
    /// CNAB spec version.
    #[serde(
        default,
        alias = "cnabspec_version",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub cnabspec_version: String,
    /// Docker Compose version.
    #[serde(
        default,
        alias = "compose_version",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub compose_version: String,
    /// Cluster name.
    #[serde(
        default,
        alias = "cluster_name",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster_name: String,
    /// Kubernetes versions the application supports.
    #[serde(
        default,
        alias = "k8s_version_supported",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub k8s_version_supported: String,
    /// Protocol the application serves.
    #[serde(
        default,
        alias = "application_protocol",
        skip_serializing_if = "crate::de::is_default"
    )]
    pub application_protocol: ApplicationProtocol,
}

/// How traffic reaches the environment (`smp.TrafficMetadata`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrafficMetadata {
    /// Load balancer name.
    #[serde(
        default,
        alias = "load_balance_name",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub load_balance_name: String,
    /// Load balancer IP.
    #[serde(
        default,
        alias = "load_balance_ip",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub load_balance_ip: String,
    /// Host endpoint (formerly `calico_hostendpoint`).
    #[serde(
        default,
        alias = "host_endpoint",
        alias = "calico_hostendpoint",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub host_endpoint: String,
    /// Prometheus URL.
    #[serde(
        default,
        alias = "prometheus_url",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub prometheus_url: String,
    /// HTTP headers, as one string (the protos declare a string here, not a map).
    #[serde(
        default,
        alias = "http_headers",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub http_headers: String,
    /// User agent.
    #[serde(
        default,
        alias = "user_agent",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub user_agent: String,
    /// Health-check endpoint.
    #[serde(
        default,
        alias = "ping_health_endpoint",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub ping_health_endpoint: String,
}
