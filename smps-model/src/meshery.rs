//! Meshery's own shapes and their conversion to SMP.
//!
//! Meshery, the canonical SMP implementation, stores and exports documents that are not SMP
//! messages: performance profiles, result records wrapping a load generator's raw payload, and
//! two historical result exports. The readers in this module turn each into the SMP type it
//! stands for, with units made explicit:
//!
//! | shape | becomes | latency unit in the source |
//! |---|---|---|
//! | profile (snake_case, camelCase, v1beta3) | [`crate::PerformanceTestConfig`] + mesh | – |
//! | result record with a fortio payload | [`crate::PerformanceTestResult`] | seconds (×1000) |
//! | result record with a wrk2-shaped payload | [`crate::PerformanceTestResult`] | milliseconds |
//! | result record with a nighthawk-shaped payload | [`crate::PerformanceTestResult`] | seconds (×1000) |
//! | legacy `BenchmarkSpec` / `PerformanceSpec` export | [`crate::PerformanceTestResult`] | [`LatencyUnit`] option (seconds by default) |
//!
//! How the latency was measured and the source unit are recorded in [`crate::labels`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::de;
pub use crate::document::LatencyUnit;
use crate::document::TestConfig;
use crate::error::Result;
use crate::fold::escape_token;
use crate::labels;
use crate::typed::{Ctx, decode_typed, get_folded};
use crate::{
    Client, GoDuration, Latency, PerformanceTestConfig, PerformanceTestResult, Protocol,
    ServiceMesh, Timestamp,
};

/// The `smp_version` Meshery hard-codes in its `PerformanceSpec` export.
pub const PERFORMANCE_SPEC_VERSION_MARKER: &str = "test_smp_version";

/// Scales a Meshery `PerformanceSpec` export's latencies to ms and records the source unit.
pub(crate) fn normalise_performance_spec(result: &mut PerformanceTestResult, unit: LatencyUnit) {
    if let Some(l) = result.latencies_ms.take() {
        result.latencies_ms = Some(l.scaled(unit.to_ms_factor()));
    }
    result.labels.insert(
        labels::SOURCE_LATENCY_UNIT.to_owned(),
        unit.symbol().to_owned(),
    );
}

/// A fortio `HTTPRunnerResults` / `GRPCRunnerResults` payload, as Meshery stores it, or a
/// wrk2- or nighthawk-produced payload in the same shape. Only the fields SMP needs are typed.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct FortioResult {
    /// `HTTP`, `GRPC`, `TCP`, ...
    #[serde(default, rename = "RunType", deserialize_with = "de::string")]
    pub run_type: String,
    /// Free-form labels; Meshery writes `<name> -_- <url>`.
    #[serde(default, rename = "Labels", deserialize_with = "de::string")]
    pub labels: String,
    /// When the run started (Go writes the host's local offset).
    #[serde(default, rename = "StartTime")]
    pub start_time: Option<Timestamp>,
    /// The requested rate: `max` or a number (nighthawk writes an integer).
    #[serde(default, rename = "RequestedQPS", deserialize_with = "de::string")]
    pub requested_qps: String,
    /// The requested duration as written (`30s`).
    #[serde(default, rename = "RequestedDuration", deserialize_with = "de::string")]
    pub requested_duration: String,
    /// Achieved requests per second.
    #[serde(default, rename = "ActualQPS", deserialize_with = "de::double")]
    pub actual_qps: f64,
    /// Achieved duration: nanoseconds for fortio and wrk2; nighthawk writes a double.
    #[serde(default, rename = "ActualDuration", deserialize_with = "de::double")]
    pub actual_duration: f64,
    /// Connections.
    #[serde(default, rename = "NumThreads", deserialize_with = "de::int64")]
    pub num_threads: i64,
    /// The generator's version.
    #[serde(default, rename = "Version", deserialize_with = "de::string")]
    pub version: String,
    /// The latency histogram (seconds for fortio and nighthawk, ms for wrk2).
    #[serde(default, rename = "DurationHistogram")]
    pub duration_histogram: Option<Histogram>,
    /// Response status counts; `-1` counts socket errors. Nighthawk writes the counts as
    /// strings.
    #[serde(default, rename = "RetCodes", deserialize_with = "int64_map")]
    pub ret_codes: BTreeMap<String, i64>,
    /// The target URL.
    #[serde(default, rename = "URL", deserialize_with = "de::string")]
    pub url: String,
    /// Meshery's note of the generator (`fortio`, `wrk2`, `nighthawk`).
    #[serde(default, rename = "load-generator", deserialize_with = "de::string")]
    pub load_generator: String,
    /// Meshery's note of the cluster (`server_version`).
    #[serde(default)]
    pub kubernetes: Option<KubernetesInfo>,
}

/// Meshery's `kubernetes` note inside a result payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
pub struct KubernetesInfo {
    /// The API server version.
    #[serde(default, alias = "serverVersion", deserialize_with = "de::string")]
    pub server_version: String,
}

/// A fortio histogram.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct Histogram {
    /// Number of samples (a string in nighthawk's output).
    #[serde(default, rename = "Count", deserialize_with = "de::int64")]
    pub count: i64,
    /// Smallest sample.
    #[serde(default, rename = "Min", deserialize_with = "de::double")]
    pub min: f64,
    /// Largest sample.
    #[serde(default, rename = "Max", deserialize_with = "de::double")]
    pub max: f64,
    /// Sum of samples.
    #[serde(default, rename = "Sum", deserialize_with = "de::double")]
    pub sum: f64,
    /// Mean.
    #[serde(default, rename = "Avg", deserialize_with = "de::double")]
    pub avg: f64,
    /// Standard deviation.
    #[serde(default, rename = "StdDev", deserialize_with = "de::double")]
    pub std_dev: f64,
    /// Buckets.
    #[serde(default, rename = "Data", deserialize_with = "de::vec")]
    pub data: Vec<Bucket>,
    /// Percentiles (`null` when none were requested).
    #[serde(default, rename = "Percentiles", deserialize_with = "de::vec")]
    pub percentiles: Vec<PercentileValue>,
}

impl Histogram {
    /// The value at `percentile` (for example 99.0), if the histogram lists it.
    pub fn percentile(&self, percentile: f64) -> Option<f64> {
        self.percentiles
            .iter()
            .find(|p| (p.percentile - percentile).abs() < 1e-9)
            .map(|p| p.value)
    }
}

/// One fortio histogram bucket.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct Bucket {
    /// Lower bound.
    #[serde(default, rename = "Start", deserialize_with = "de::double")]
    pub start: f64,
    /// Upper bound.
    #[serde(default, rename = "End", deserialize_with = "de::double")]
    pub end: f64,
    /// Cumulative percent of samples up to this bucket.
    #[serde(default, rename = "Percent", deserialize_with = "de::double")]
    pub percent: f64,
    /// Samples in this bucket.
    #[serde(default, rename = "Count", deserialize_with = "de::int64")]
    pub count: i64,
}

/// One fortio percentile entry.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct PercentileValue {
    /// The percentile (50, 99.9, ...).
    #[serde(default, rename = "Percentile", deserialize_with = "de::double")]
    pub percentile: f64,
    /// Its value.
    #[serde(default, rename = "Value", deserialize_with = "de::double")]
    pub value: f64,
}

fn int64_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, i64>, D::Error> {
    let m: Option<BTreeMap<String, de::Int64>> = Option::deserialize(d)?;
    Ok(m.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect())
}

/// The load generator behind a payload: Meshery's `load-generator` note, or else the
/// payload's fingerprint (wrk2 via gowrk2 lists 99.99/99.999 percentiles and no status codes;
/// nighthawk writes counts as strings and an integer `RequestedQPS`).
fn detect_generator(payload: &FortioResult, raw: &Value) -> String {
    let named = payload.load_generator.trim().to_lowercase();
    if !named.is_empty() {
        return named;
    }
    let hist = payload.duration_histogram.as_ref();
    let wrk2_percentiles =
        hist.is_some_and(|h| h.percentile(99.99).is_some() || h.percentile(99.999).is_some());
    if wrk2_percentiles && payload.ret_codes.is_empty() {
        return "wrk2".to_owned();
    }
    let count_is_string = raw
        .pointer("/DurationHistogram/Count")
        .is_some_and(Value::is_string);
    let qps_is_number = raw.get("RequestedQPS").is_some_and(Value::is_number);
    if count_is_string || qps_is_number {
        return "nighthawk".to_owned();
    }
    "fortio".to_owned()
}

/// Converts a fortio-shaped payload at `sub` (relative to the context) into a result.
pub(crate) fn fortio_to_result(
    raw: &Value,
    ctx: &mut Ctx<'_>,
    sub: &str,
) -> Result<(PerformanceTestResult, String)> {
    let payload: FortioResult = decode_typed(raw, ctx, sub)?;
    let generator = detect_generator(&payload, raw);
    let unit = if generator == "wrk2" {
        LatencyUnit::Milliseconds
    } else {
        LatencyUnit::Seconds
    };
    let mut result = PerformanceTestResult::default();
    if let Some(h) = &payload.duration_histogram {
        let latency = Latency {
            min: h.min,
            average: h.avg,
            p50: h.percentile(50.0).unwrap_or(0.0),
            p90: h.percentile(90.0).unwrap_or(0.0),
            p99: h.percentile(99.0).unwrap_or(0.0),
            max: h.max,
        };
        result.latencies_ms = Some(latency.scaled(unit.to_ms_factor()));
        result
            .labels
            .insert(labels::REQUESTS.to_owned(), h.count.to_string());
    }
    result.actual_qps = payload.actual_qps;
    result.start_time = payload.start_time.filter(|t| !t.is_go_zero());
    if let Some(start) = result.start_time {
        // fortio and wrk2 write integer nanoseconds; nighthawk a double that is seconds in
        // some versions and nanoseconds in others: below 1e6 it can only be seconds.
        let nanos = if generator == "nighthawk" && payload.actual_duration.abs() < 1e6 {
            payload.actual_duration * 1e9
        } else {
            payload.actual_duration
        };
        if nanos.is_finite() && nanos > 0.0 {
            result.end_time = start.checked_add_nanos(nanos.round() as i128).ok();
        }
    }
    let l = &mut result.labels;
    l.insert(labels::LOAD_GENERATOR.to_owned(), generator.clone());
    let basis = if generator == "wrk2" {
        labels::LATENCY_BASIS_INTENDED
    } else {
        labels::LATENCY_BASIS_ACTUAL
    };
    l.insert(labels::LATENCY_BASIS.to_owned(), basis.to_owned());
    l.insert(
        labels::SOURCE_LATENCY_UNIT.to_owned(),
        unit.symbol().to_owned(),
    );
    for (key, value) in [
        (labels::URL, &payload.url),
        (labels::REQUESTED_QPS, &payload.requested_qps),
        (labels::RUN_TYPE, &payload.run_type),
    ] {
        if !value.is_empty() {
            l.insert(key.to_owned(), value.clone());
        }
    }
    if payload.num_threads > 0 {
        l.insert(
            labels::CONNECTIONS.to_owned(),
            payload.num_threads.to_string(),
        );
    }
    if !payload.ret_codes.is_empty() {
        let codes = payload
            .ret_codes
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(",");
        l.insert(labels::STATUS_CODES.to_owned(), codes);
    }
    if let Some(k) = &payload.kubernetes {
        if !k.server_version.is_empty() {
            l.insert(
                labels::KUBERNETES_VERSION.to_owned(),
                k.server_version.clone(),
            );
        }
    }
    Ok((result, generator))
}

/// A Meshery result record (`MesheryResult`): snake_case (2020–2022), camelCase (later) or
/// the 2026 schema, with `runner_results` as an object or a one-element array.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct MesheryResult {
    /// The record's id.
    #[serde(
        default,
        alias = "mesheryId",
        alias = "mesheryid",
        deserialize_with = "de::string"
    )]
    pub meshery_id: String,
    /// Display name (`istio_1623248282375`).
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Mesh name, free-form (`app mesh`, `LINKERD`, `""`, `null`).
    #[serde(default, deserialize_with = "de::string")]
    pub mesh: String,
    /// The performance profile the run belongs to.
    #[serde(
        default,
        alias = "performanceProfile",
        alias = "performanceprofile",
        deserialize_with = "de::string"
    )]
    pub performance_profile: String,
    /// The test id.
    #[serde(default, alias = "testId", deserialize_with = "de::string")]
    pub test_id: String,
    /// Owner (`user_id`, `userId`, `UserID` or `owner`).
    #[serde(
        default,
        alias = "userId",
        alias = "UserID",
        alias = "owner",
        deserialize_with = "de::string"
    )]
    pub user_id: String,
}

/// Converts a Meshery result record into a result.
pub(crate) fn record_to_result(
    raw: &Value,
    ctx: &mut Ctx<'_>,
) -> Result<(PerformanceTestResult, String)> {
    let record: MesheryResult = decode_typed(raw, ctx, "")?;
    let obj = raw.as_object().cloned().unwrap_or_default();
    let (payload, sub) = match get_folded(&obj, "runnerresults") {
        Some((key, Value::Array(items))) => match items.as_slice() {
            [] => (None, String::new()),
            [one] => (Some(one.clone()), format!("/{}/0", escape_token(key))),
            _ => {
                return Err(ctx.field_error(
                    &format!("/{}", escape_token(key)),
                    format!(
                        "expected one runner result, found {}; Meshery records hold one run each",
                        items.len()
                    ),
                ));
            }
        },
        Some((key, v @ Value::Object(_))) => (Some(v.clone()), format!("/{}", escape_token(key))),
        Some((_, Value::Null)) | None => (None, String::new()),
        Some((key, other)) => {
            return Err(ctx.field_error(
                &format!("/{}", escape_token(key)),
                format!("expected an object or a list, found {other}"),
            ));
        }
    };
    let (mut result, generator) = match payload {
        Some(p) => fortio_to_result(&p, ctx, &sub)?,
        None => (PerformanceTestResult::default(), String::new()),
    };
    result.id = record.meshery_id;
    result.test_id = record.test_id;
    let l = &mut result.labels;
    for (key, value) in [
        (labels::MESHERY_NAME, record.name),
        (labels::MESHERY_MESH, record.mesh),
        (labels::MESHERY_PROFILE, record.performance_profile),
        (labels::MESHERY_OWNER, record.user_id),
    ] {
        if !value.is_empty() {
            l.insert(key.to_owned(), value);
        }
    }
    Ok((result, generator))
}

/// A Meshery performance profile, in any of its casings (see smps-formats.md §4d).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// Profile id.
    #[serde(default, deserialize_with = "de::string")]
    pub id: String,
    /// Profile name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Owner (`user_id`, `userId` or `owner`).
    #[serde(
        default,
        alias = "userId",
        alias = "owner",
        deserialize_with = "de::string"
    )]
    pub user_id: String,
    /// Load generators (Meshery runs the first).
    #[serde(
        default,
        alias = "loadGenerators",
        deserialize_with = "de::string_or_seq"
    )]
    pub load_generators: Vec<String>,
    /// Target URLs.
    #[serde(default, deserialize_with = "de::string_or_seq")]
    pub endpoints: Vec<String>,
    /// Mesh name, free-form (`""` = mesh-agnostic).
    #[serde(default, alias = "serviceMesh", deserialize_with = "de::string")]
    pub service_mesh: String,
    /// Concurrent connections.
    #[serde(default, alias = "concurrentRequest", deserialize_with = "de::int32")]
    pub concurrent_request: i32,
    /// Requests per second (0 = as fast as possible).
    #[serde(default, deserialize_with = "de::int64")]
    pub qps: i64,
    /// Test duration.
    #[serde(default)]
    pub duration: Option<GoDuration>,
    /// Headers: a map, or a JSON-encoded object in a string.
    #[serde(default, alias = "requestHeaders")]
    pub request_headers: Option<Value>,
    /// Cookies: a map, or a JSON-encoded object in a string.
    #[serde(default, alias = "requestCookies")]
    pub request_cookies: Option<Value>,
    /// Request body.
    #[serde(default, alias = "requestBody", deserialize_with = "de::string")]
    pub request_body: String,
    /// Content type of the body.
    #[serde(default, alias = "contentType", deserialize_with = "de::string")]
    pub content_type: String,
    /// Free-form metadata (`additional_options`, `ca_certificate{name, file}`).
    #[serde(default)]
    pub metadata: Option<Value>,
    /// When the profile last ran.
    #[serde(default, alias = "lastRun")]
    pub last_run: Option<Timestamp>,
    /// Schedule id, if the profile runs on a schedule.
    #[serde(default, deserialize_with = "de::string")]
    pub schedule: String,
    /// How many results the profile has.
    #[serde(default, alias = "totalResults", deserialize_with = "de::int64")]
    pub total_results: i64,
    /// When the profile was created.
    #[serde(default, alias = "createdAt")]
    pub created_at: Option<Timestamp>,
    /// When the profile was last updated.
    #[serde(default, alias = "updatedAt")]
    pub updated_at: Option<Timestamp>,
}

fn string_map_value(
    value: Option<&Value>,
    ctx: &Ctx<'_>,
    pointer: &str,
) -> Result<BTreeMap<String, String>> {
    let parse_obj = |v: &Value| -> Option<BTreeMap<String, String>> {
        let obj = v.as_object()?;
        Some(
            obj.iter()
                .map(|(k, v)| {
                    let s = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), s)
                })
                .collect(),
        )
    };
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(BTreeMap::new()),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .ok()
            .as_ref()
            .and_then(parse_obj)
            .ok_or_else(|| {
                ctx.field_error(
                    pointer,
                    format!("expected a JSON-encoded object of strings, found \"{s}\""),
                )
            }),
        Some(v) => parse_obj(v).ok_or_else(|| {
            ctx.field_error(pointer, format!("expected an object of strings, found {v}"))
        }),
    }
}

/// Converts a Meshery profile into a test configuration with its mesh.
pub(crate) fn profile_to_config(raw: &Value, ctx: &mut Ctx<'_>) -> Result<TestConfig> {
    let profile: Profile = decode_typed(raw, ctx, "")?;
    let obj = raw.as_object().cloned().unwrap_or_default();
    let key_of = |folded: &str, default: &str| {
        get_folded(&obj, folded).map_or_else(|| default.to_owned(), |(k, _)| escape_token(k))
    };
    let mut client = Client {
        load_generator: profile.load_generators.first().cloned().unwrap_or_default(),
        protocol: Protocol::Http,
        connections: profile.concurrent_request,
        rps: profile.qps,
        body: profile.request_body,
        content_type: profile.content_type,
        endpoint_urls: profile.endpoints,
        ..Client::default()
    };
    client.headers = string_map_value(
        profile.request_headers.as_ref(),
        ctx,
        &format!("/{}", key_of("requestheaders", "request_headers")),
    )?;
    client.cookies = string_map_value(
        profile.request_cookies.as_ref(),
        ctx,
        &format!("/{}", key_of("requestcookies", "request_cookies")),
    )?;
    if let Some(Value::Object(meta)) = &profile.metadata {
        if let Some((_, Value::String(opts))) = get_folded(meta, "additionaloptions") {
            client.additional_options = opts.clone();
        }
        if let Some((_, Value::Object(ca))) = get_folded(meta, "cacertificate") {
            if let Some((_, Value::String(file))) = get_folded(ca, "file") {
                client.ssl_certificate = file.clone();
            }
        }
    }
    let mut config = PerformanceTestConfig {
        id: profile.id,
        name: profile.name,
        duration: profile.duration,
        ..PerformanceTestConfig::default()
    };
    if profile.load_generators.len() > 1 {
        config.labels.insert(
            labels::MESHERY_LOAD_GENERATORS.to_owned(),
            profile.load_generators.join(","),
        );
    }
    if !profile.user_id.is_empty() {
        config
            .labels
            .insert(labels::MESHERY_OWNER.to_owned(), profile.user_id);
    }
    if let Some(t) = profile.last_run {
        config
            .labels
            .insert(labels::MESHERY_LAST_RUN.to_owned(), t.to_string());
    }
    config.clients.push(client);
    Ok(TestConfig {
        config,
        mesh: ServiceMesh::from_name(&profile.service_mesh),
    })
}

/// The legacy `BenchmarkSpec` result export (SMPS sample result, Meshery 2020).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct BenchmarkSpec {
    /// Spec version (`smps_version` in the draft).
    #[serde(
        default,
        alias = "smps_version",
        alias = "smpVersion",
        alias = "smpsVersion",
        deserialize_with = "de::string"
    )]
    pub smp_version: String,
    /// Start of the run.
    #[serde(default, alias = "startTime")]
    pub start_time: Option<Timestamp>,
    /// End of the run.
    #[serde(default, alias = "endTime")]
    pub end_time: Option<Timestamp>,
    /// Experiment id.
    #[serde(default, alias = "expUuid", deserialize_with = "de::string")]
    pub exp_uuid: String,
    /// The tested URL.
    #[serde(default, alias = "endpointUrl", deserialize_with = "de::string")]
    pub endpoint_url: String,
    /// Where detailed results live.
    #[serde(default, alias = "detailsUri", deserialize_with = "de::string")]
    pub details_uri: String,
    /// Labels.
    #[serde(default, deserialize_with = "de::string_map")]
    pub labels: BTreeMap<String, String>,
    /// Environment summary.
    #[serde(default)]
    pub env: Option<BenchmarkEnv>,
    /// Client summary with the latencies.
    #[serde(default)]
    pub client: Option<BenchmarkClient>,
}

/// `env` of a [`BenchmarkSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
pub struct BenchmarkEnv {
    /// Kubernetes version.
    #[serde(default, deserialize_with = "de::string")]
    pub kubernetes: String,
}

/// `client` of a [`BenchmarkSpec`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct BenchmarkClient {
    /// Connections.
    #[serde(default, deserialize_with = "de::int64")]
    pub connections: i64,
    /// Achieved requests per second (a float).
    #[serde(default, deserialize_with = "de::double")]
    pub rps: f64,
    /// Latencies, in the unit of [`LatencyUnit`].
    #[serde(default, alias = "latenciesMs")]
    pub latencies_ms: Option<Latency>,
}

/// Converts a legacy `BenchmarkSpec` into a result, scaling latencies from `unit` to ms.
pub(crate) fn benchmark_spec_to_result(
    raw: &Value,
    ctx: &mut Ctx<'_>,
    unit: LatencyUnit,
) -> Result<PerformanceTestResult> {
    let spec: BenchmarkSpec = decode_typed(raw, ctx, "")?;
    let mut result = PerformanceTestResult {
        smp_version: spec.smp_version,
        id: spec.exp_uuid,
        labels: spec.labels,
        start_time: spec.start_time,
        end_time: spec.end_time,
        details_uri: spec.details_uri,
        ..PerformanceTestResult::default()
    };
    if let Some(client) = spec.client {
        result.actual_qps = client.rps;
        result.latencies_ms = client.latencies_ms.map(|l| l.scaled(unit.to_ms_factor()));
        if client.connections > 0 {
            result.labels.insert(
                labels::CONNECTIONS.to_owned(),
                client.connections.to_string(),
            );
        }
    }
    result.labels.insert(
        labels::SOURCE_LATENCY_UNIT.to_owned(),
        unit.symbol().to_owned(),
    );
    if !spec.endpoint_url.is_empty() {
        result
            .labels
            .insert(labels::URL.to_owned(), spec.endpoint_url);
    }
    if let Some(env) = spec.env {
        if !env.kubernetes.is_empty() {
            result
                .labels
                .insert(labels::KUBERNETES_VERSION.to_owned(), env.kubernetes);
        }
    }
    Ok(result)
}
