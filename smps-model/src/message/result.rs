//! `PerformanceTestResult`: what a performance test measured.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::de;

/// The outcome of one performance test (`smp.PerformanceTestResult`).
///
/// Latencies are in milliseconds, as the spec says. Meshery's exports put fortio's seconds in
/// this field; the converters in [`crate::meshery`] scale them, and `smps-validate` warns when
/// values look like seconds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PerformanceTestResult {
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
    /// Identifier of this result.
    #[serde(
        default,
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub id: String,
    /// Free-form labels (this crate family records the latency basis and generator here).
    #[serde(
        default,
        deserialize_with = "de::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// When the test started (UTC).
    #[serde(default, alias = "start_time", skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// When the test ended (UTC).
    #[serde(default, alias = "end_time", skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Latency summary in milliseconds.
    #[serde(
        default,
        alias = "latencies_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub latencies_ms: Option<Latency>,
    /// Achieved requests per second.
    #[serde(
        default,
        alias = "actual_qps",
        alias = "actual_QPS",
        alias = "actualQPS",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub actual_qps: f64,
    /// Where the detailed results live.
    #[serde(
        default,
        alias = "details_uri",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub details_uri: String,
    /// Id of the [`crate::PerformanceTestConfig`] that was run.
    #[serde(
        default,
        alias = "test_id",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub test_id: String,
    /// Id of the [`crate::ServiceMeshConfig`] under test.
    #[serde(
        default,
        alias = "mesh_config_id",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub mesh_config_id: String,
    /// Id of the [`crate::EnvironmentConfig`] the test ran in.
    #[serde(
        default,
        alias = "env_id",
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub env_id: String,
}

/// Latency statistics in milliseconds (`smp.PerformanceTestResult.Latency`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Latency {
    /// Fastest request.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub min: f64,
    /// Arithmetic mean.
    #[serde(
        default,
        alias = "avg",
        alias = "mean",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub average: f64,
    /// Median.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub p50: f64,
    /// 90th percentile.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub p90: f64,
    /// 99th percentile.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub p99: f64,
    /// Slowest request.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub max: f64,
}

impl Latency {
    /// Multiplies every figure by `factor` (for example 1000 to turn seconds into ms).
    #[must_use]
    pub fn scaled(self, factor: f64) -> Self {
        Latency {
            min: self.min * factor,
            average: self.average * factor,
            p50: self.p50 * factor,
            p90: self.p90 * factor,
            p99: self.p99 * factor,
            max: self.max * factor,
        }
    }
}

/// CPU usage figures (`smp.PerformanceTestResult.CPU`).
///
/// Declared by the v0.6 protos but referenced by no field; provided for completeness.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Cpu {
    /// CPU in millicores.
    #[serde(
        default,
        alias = "cpu_mcores",
        alias = "cpu_mCores",
        deserialize_with = "de::int32",
        skip_serializing_if = "de::is_default"
    )]
    pub cpu_mcores: i32,
    /// Share of time in user mode.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub user: f64,
    /// Share of time in user mode at low priority.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub nice: f64,
    /// Share of time in kernel mode.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub system: f64,
    /// Share of time idle.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub idle: f64,
    /// Share of time waiting for I/O.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub iowait: f64,
    /// Share of time serving hardware interrupts.
    #[serde(
        default,
        alias = "hardware_interrupt",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub hardware_interrupt: f64,
    /// Share of time serving software interrupts.
    #[serde(
        default,
        alias = "software_interrupt",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub software_interrupt: f64,
    /// Share of time stolen by the hypervisor.
    #[serde(
        default,
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub steal: f64,
}

/// Memory figures in MB (`smp.PerformanceTestResult.Memory`); declared, unreferenced.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Memory {
    /// Total memory.
    #[serde(
        default,
        alias = "mem_total_mb",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub mem_total_mb: f64,
    /// Free memory.
    #[serde(
        default,
        alias = "mem_free_mb",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub mem_free_mb: f64,
    /// Used memory.
    #[serde(
        default,
        alias = "mem_used_mb",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub mem_used_mb: f64,
}

/// Swap figures in MB (`smp.PerformanceTestResult.Swap`); declared, unreferenced.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Swap {
    /// Total swap.
    #[serde(
        default,
        alias = "swap_total_mb",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub swap_total_mb: f64,
    /// Free swap.
    #[serde(
        default,
        alias = "swap_free_mb",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub swap_free_mb: f64,
    /// Used swap.
    #[serde(
        default,
        alias = "swap_used_mb",
        deserialize_with = "de::double",
        serialize_with = "de::ser_double",
        skip_serializing_if = "de::is_zero_f64"
    )]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema_double"))]
    pub swap_used_mb: f64,
}
