//! An [`EngineBuilder`] from an SMP `PerformanceTestConfig` or one of its clients.

use std::time::Duration;

use bytes::Bytes;

use super::field::{Setting, Source};
use super::{EngineBuilder, invalid};
use crate::error::{Error, Result};
use crate::model::{BacklogPolicy, LoadModel};
use crate::plan::ArrivalPlan;

impl EngineBuilder {
    /// A builder set up from one SMP client and the test's duration and labels.
    ///
    /// Mapping: `protocol` (HTTP, TCP, UDP or GRPC, by name or number in any dialect
    /// smps-model reads; not set: the endpoint URLs' scheme decides) selects the
    /// [`Protocol`](crate::Protocol), and every endpoint URL must fit it; `connections` ≥ 1; `rps` 0 means closed loop and
    /// a positive value an open loop at that constant rate (global); `headers`, `cookies`, `body` (the
    /// method is `POST` when a body is given), `content_type`; `endpoint_urls` are used in
    /// rotation; `ssl_certificate` is PEM text trusted in addition to the webpki roots;
    /// the test's `duration` bounds the run. SMP has no timeout fields: when
    /// `additional_options` holds a JSON object, its `request_timeout` (or `timeout`) and
    /// `connect_timeout` keys set the timeouts, as Go durations (`"2s"`) or seconds
    /// (`{"request_timeout": "2s", "connect_timeout": 0.5}`); other keys and other text are
    /// ignored. More `additional_options` keys: `streams_per_connection` (or `streams`:
    /// HTTP/2 and gRPC streams per connection), `http_version` (`"1.1"` or `"2"`),
    /// `payload_size` (TCP/UDP bytes), `udp_timeout` (a duration), `grpc_health_service`
    /// (the service a gRPC health check asks about) and `message_base64` (a gRPC request
    /// message as base64 protobuf bytes, instead of `body`). `internal` and
    /// `load_generator` do not change what the engine does.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] when `clients` has no entry or more than one (build one engine
    /// per client and [`Report::merge`](crate::Report::merge) the results), or a setting the
    /// protocol cannot carry (named: `clients[0].protocol` when an endpoint URL is of
    /// another protocol, `clients[0].headers` for a TCP test, ...);
    /// [`Error::InvalidSetting`] for a negative rate or duration. Other fields are checked
    /// by [`EngineBuilder::build`], with the field named as `clients[0].<field>`.
    pub fn from_config(config: &smps_model::PerformanceTestConfig) -> Result<Self> {
        let client = match config.clients.as_slice() {
            [c] => c,
            [] => {
                return Err(Error::Unsupported {
                    field: "clients".into(),
                    reason: "the test has no client".into(),
                });
            }
            _ => {
                return Err(Error::Unsupported {
                    field: "clients".into(),
                    reason: format!(
                        "{} clients given; build one engine per client (EngineBuilder::from_client) and merge the reports",
                        config.clients.len()
                    ),
                });
            }
        };
        let mut b = Self::from_client(client, "clients[0]")?;
        if let Some(d) = &config.duration {
            match d.to_std() {
                Some(d) => b.duration = Some(d),
                None => {
                    return Err(Error::InvalidSetting {
                        field: "duration".into(),
                        reason: format!("must not be negative, got `{}`", d.as_str()),
                    });
                }
            }
        }
        for (k, v) in &config.labels {
            b.labels.insert(k.clone(), v.clone());
        }
        Ok(b)
    }

    /// A builder set up from one SMP client; `field` names it in error messages
    /// (e.g. `clients[0]`). See [`EngineBuilder::from_config`] for the mapping.
    ///
    /// # Errors
    ///
    /// As [`EngineBuilder::from_config`].
    pub fn from_client(client: &smps_model::Client, field: &str) -> Result<Self> {
        let source = Source::Client(field.to_string());
        let mut b = EngineBuilder {
            connections: i64::from(client.connections),
            source: source.clone(),
            protocol: crate::Protocol::from_smp(client.protocol),
            ..EngineBuilder::default()
        };
        if client.rps < 0 {
            return Err(invalid(
                &source.name(Setting::Rate),
                format!("must be >= 0 (0 = as fast as possible), got {}", client.rps),
            ));
        }
        if client.rps > 0 {
            let plan = ArrivalPlan::constant(client.rps as f64)
                .map_err(|e| invalid(&source.name(Setting::Rate), e.reason()))?;
            b = b.load_model(LoadModel::Open {
                plan,
                backlog: BacklogPolicy::default(),
            });
        }
        b.headers = client
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        b.cookies = client
            .cookies
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !client.body.is_empty() {
            b.body = Bytes::from(client.body.clone());
        }
        if !client.content_type.is_empty() {
            b.content_type = Some(client.content_type.clone());
        }
        b.urls = client
            .endpoint_urls
            .iter()
            .enumerate()
            .map(|(i, u)| (u.clone(), source.item(Setting::Url, i)))
            .collect();
        if b.protocol.is_some() {
            // A URL of another protocol is the protocol field's error, found here already;
            // unparsable URLs are left to `build`, which names them.
            let parsed: Vec<_> = b
                .urls
                .iter()
                .filter_map(|(u, f)| {
                    let u = super::endpoint::with_scheme(u, b.protocol);
                    super::endpoint::parse_url(&u, f).ok().map(|p| (p, f))
                })
                .collect();
            b.resolve_protocol(&parsed)?;
        }
        read_additional_options(&mut b, &client.additional_options, field)?;
        if !client.ssl_certificate.trim().is_empty() {
            b.extra_ca_pem.push((
                client.ssl_certificate.clone(),
                source.name(Setting::TrustPem),
            ));
        }
        Ok(b)
    }
}

/// Reads the settings a client's `additional_options` may carry (SMP has no field for them):
/// a JSON object with `request_timeout` (or `timeout`) and `connect_timeout`, each a Go
/// duration (`"2s"`, `"1m30s"`) or a number of seconds. Text that is not a JSON object is
/// left alone, as are other keys.
fn read_additional_options(b: &mut EngineBuilder, options: &str, field: &str) -> Result<()> {
    use base64::Engine as _;
    let text = options.trim();
    if !text.starts_with('{') {
        return Ok(());
    }
    let at = |key: &str| format!("{field}.additional_options.{key}");
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| {
            invalid(
                &format!("{field}.additional_options"),
                format!("not a JSON object: {e}"),
            )
        })?;
    let duration = |key: &str, v: &serde_json::Value| -> Result<Duration> {
        let d = match v {
            serde_json::Value::String(s) => smps_model::GoDuration::parse(s)
                .ok()
                .and_then(|d| d.to_std()),
            serde_json::Value::Number(n) => n
                .as_f64()
                .and_then(|secs| Duration::try_from_secs_f64(secs).ok()),
            _ => None,
        };
        match d {
            Some(d) if !d.is_zero() => Ok(d),
            _ => Err(invalid(
                &at(key),
                format!("expected a duration longer than zero such as \"2s\", got {v}"),
            )),
        }
    };
    let count = |key: &str, v: &serde_json::Value| -> Result<usize> {
        v.as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| invalid(&at(key), format!("expected a whole number, got {v}")))
    };
    for (key, v) in &object {
        match key.as_str() {
            "request_timeout" | "requestTimeout" | "timeout" => {
                b.request_timeout = duration(key, v)?;
            }
            "connect_timeout" | "connectTimeout" => b.connect_timeout = duration(key, v)?,
            "udp_timeout" | "udpTimeout" => {
                b.udp_timeout = duration(key, v)?;
                b.option_fields.insert("udp_timeout", at(key));
            }
            "streams_per_connection" | "streamsPerConnection" | "streams" => {
                b.streams_per_connection = count(key, v)?;
                b.option_fields.insert("streams_per_connection", at(key));
            }
            "payload_size" | "payloadSize" => {
                b.payload_size = count(key, v)?;
                b.option_fields.insert("payload_size", at(key));
            }
            "http_version" | "httpVersion" => {
                b.version = match v.as_str().map(str::trim) {
                    Some("1.1" | "http/1.1" | "HTTP/1.1") => crate::HttpVersion::Http1,
                    #[cfg(feature = "http2")]
                    Some("2" | "h2" | "h2c" | "http/2" | "HTTP/2") => crate::HttpVersion::Http2,
                    _ => {
                        return Err(invalid(
                            &at(key),
                            format!("expected \"1.1\" or \"2\" (with the http2 feature), got {v}"),
                        ));
                    }
                };
            }
            "grpc_health_service" | "grpcHealthService" => match v.as_str() {
                Some(s) => b.grpc_health_service = s.to_string(),
                None => return Err(invalid(&at(key), format!("expected a string, got {v}"))),
            },
            "message_base64" | "messageBase64" => {
                let bytes = v
                    .as_str()
                    .and_then(|s| {
                        base64::engine::general_purpose::STANDARD
                            .decode(s.trim())
                            .ok()
                    })
                    .ok_or_else(|| {
                        invalid(&at(key), "expected protobuf bytes in standard base64")
                    })?;
                b.body = Bytes::from(bytes);
            }
            _ => {}
        }
    }
    Ok(())
}
