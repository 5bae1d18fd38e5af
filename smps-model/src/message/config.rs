//! `PerformanceTestConfig`: how a performance test is to be run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::de;
use crate::{GoDuration, Protocol};

/// A performance test configuration (`smp.PerformanceTestConfig`).
///
/// # Examples
///
/// ```
/// use smps_model::{Client, GoDuration, PerformanceTestConfig, Protocol};
///
/// let mut client = Client::default();
/// client.protocol = Protocol::Http;
/// client.connections = 2;
/// client.rps = 10;
/// client.endpoint_urls = vec!["http://127.0.0.1:8080/".into()];
///
/// let mut config = PerformanceTestConfig::default();
/// config.name = "smoke".into();
/// config.duration = Some("30s".parse::<GoDuration>()?);
/// config.clients.push(client);
/// assert_eq!(config.clients[0].protocol.name(), "PROTOCOL_HTTP");
/// # Ok::<(), smps_model::DurationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PerformanceTestConfig {
    /// Version of the SMP spec the document claims (free text: `v0.0.1`, `smps/v0.1.0`, ...).
    /// Also read from the legacy keys `smps_version` and `smpsVersion`.
    #[serde(
        default,
        alias = "smp_version",
        alias = "smps_version",
        alias = "smpsVersion",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub smp_version: String,
    /// Identifier of this configuration (often a UUID; may be empty).
    #[serde(
        default,
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub id: String,
    /// Human-readable name of the test.
    #[serde(
        default,
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// Free-form labels for grouping tests.
    #[serde(
        default,
        deserialize_with = "de::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// The load-generating clients (Meshery uses only the first).
    #[serde(
        default,
        deserialize_with = "de::vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub clients: Vec<Client>,
    /// How long the test runs, as a Go duration (`30s`, `1h30m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<GoDuration>,
}

/// One load-generating client of a test (`smp.PerformanceTestConfig.Client`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Client {
    /// Whether the client runs inside the mesh (and so bypasses the ingress gateway).
    #[serde(
        default,
        deserialize_with = "de::boolean",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub internal: bool,
    /// Name of the load generator (free text: `fortio`, `wrk2`, `nighthawk`, `smps-load`).
    #[serde(
        default,
        alias = "load_generator",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub load_generator: String,
    /// The protocol spoken to the endpoints.
    #[serde(default, skip_serializing_if = "de::is_default")]
    pub protocol: Protocol,
    /// Number of concurrent connections.
    #[serde(
        default,
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub connections: i32,
    /// Requested requests per second in total; 0 means as fast as possible (int64).
    #[serde(
        default,
        deserialize_with = "de::int64",
        serialize_with = "de::ser_int64",
        skip_serializing_if = "de::is_default"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_int64"))]
    pub rps: i64,
    /// Request headers.
    #[serde(
        default,
        deserialize_with = "de::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub headers: BTreeMap<String, String>,
    /// Request cookies.
    #[serde(
        default,
        deserialize_with = "de::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub cookies: BTreeMap<String, String>,
    /// Request body.
    #[serde(
        default,
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub body: String,
    /// `Content-Type` of the body.
    #[serde(
        default,
        alias = "content_type",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub content_type: String,
    /// Target URLs, used in rotation. Also read from the singular legacy keys
    /// `endpoint_url` / `endpointUrl`.
    #[serde(
        default,
        alias = "endpoint_urls",
        alias = "endpoint_url",
        alias = "endpointUrl",
        deserialize_with = "de::string_or_seq",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub endpoint_urls: Vec<String>,
    /// A PEM certificate to trust in addition to the system roots (v0.6.1+).
    #[serde(
        default,
        alias = "ssl_certificate",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub ssl_certificate: String,
    /// Generator-specific options, passed through verbatim (v0.6.1+).
    #[serde(
        default,
        alias = "additional_options",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub additional_options: String,
}
