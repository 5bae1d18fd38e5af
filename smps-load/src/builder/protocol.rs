//! The protocol of a test: which one the URLs and the `protocol` setting select, which
//! other settings it allows (a setting a protocol cannot carry is an error naming it, never
//! silently ignored), and the protocol-specific limits.

use std::time::Duration;

use bytes::Bytes;

use super::EngineBuilder;
use super::endpoint::ParsedUrl;
use super::field::Setting;
use crate::error::{Error, Result};
use crate::transport::{HttpVersion, MIN_PAYLOAD, Protocol};

/// Default TCP/UDP payload: fortio's 24 bytes.
pub(crate) const DEFAULT_PAYLOAD: usize = 24;
/// Default UDP timeout: fortio's 750 ms.
pub(crate) const DEFAULT_UDP_TIMEOUT: Duration = Duration::from_millis(750);
/// Largest TCP payload (the echo is read into a buffer of this size).
const MAX_TCP_PAYLOAD: usize = 1 << 20;
/// Largest UDP payload (an IPv4 datagram's).
const MAX_UDP_PAYLOAD: usize = 65_507;
/// Most streams per HTTP/2 connection.
const MAX_STREAMS: usize = 10_000;

fn unsupported(field: String, reason: impl Into<String>) -> Error {
    Error::Unsupported {
        field,
        reason: reason.into(),
    }
}

impl EngineBuilder {
    /// The name of a setting that SMP may give in `additional_options`.
    pub(super) fn option_field(&self, builder_name: &'static str) -> String {
        self.option_fields
            .get(builder_name)
            .cloned()
            .unwrap_or_else(|| builder_name.to_string())
    }

    /// The protocol of the run: the one set, or the first URL's. Every URL must fit it.
    pub(super) fn resolve_protocol(&self, urls: &[(ParsedUrl, &String)]) -> Result<Protocol> {
        let chosen = self
            .protocol
            .or_else(|| urls.first().map(|(p, _)| p.protocol))
            .unwrap_or_default();
        for (p, field) in urls {
            let fits = match chosen {
                Protocol::Http => p.protocol == Protocol::Http,
                // gRPC runs over HTTP/2: http(s):// URLs name the same servers.
                Protocol::Grpc => matches!(p.protocol, Protocol::Grpc | Protocol::Http),
                Protocol::Tcp | Protocol::Udp => p.protocol == chosen,
            };
            if fits {
                continue;
            }
            if self.protocol.is_some() {
                return Err(unsupported(
                    self.source.name(Setting::Protocol),
                    format!(
                        "{} needs {} endpoint URLs, but `{field}` is a {}:// URL",
                        chosen.name(),
                        match chosen {
                            Protocol::Http => "http:// or https://",
                            Protocol::Grpc => "grpc://, grpcs://, http:// or https://",
                            Protocol::Tcp => "tcp://",
                            Protocol::Udp => "udp://",
                        },
                        p.scheme
                    ),
                ));
            }
            return Err(Error::InvalidEndpoint {
                url: String::new(),
                field: (*field).clone(),
                reason: format!(
                    "a {}:// URL in a {} test: all endpoint URLs must speak one protocol",
                    p.scheme,
                    chosen.name()
                ),
            });
        }
        Ok(chosen)
    }

    /// Checks the settings against the protocol.
    pub(super) fn check_protocol_settings(
        &self,
        protocol: Protocol,
        urls: &[(ParsedUrl, &String)],
    ) -> Result<()> {
        let streams_field = self.option_field("streams_per_connection");
        if self.streams_per_connection == 0 || self.streams_per_connection > MAX_STREAMS {
            return Err(super::invalid(
                &streams_field,
                format!(
                    "must be between 1 and {MAX_STREAMS}, got {}",
                    self.streams_per_connection
                ),
            ));
        }
        #[cfg(feature = "http2")]
        let h2 = self.version == HttpVersion::Http2 || protocol == Protocol::Grpc;
        #[cfg(not(feature = "http2"))]
        let h2 = false;
        if self.streams_per_connection > 1 && !h2 {
            return Err(unsupported(
                streams_field,
                "several streams per connection need HTTP/2 (http_version Http2, or gRPC)",
            ));
        }
        match protocol {
            Protocol::Http => Ok(()),
            Protocol::Grpc => self.check_grpc(),
            Protocol::Tcp | Protocol::Udp => self.check_echo(protocol, urls),
        }
    }

    fn check_grpc(&self) -> Result<()> {
        #[cfg(not(feature = "http2"))]
        {
            Err(unsupported(
                self.source.name(Setting::Protocol),
                "gRPC needs the `http2` feature",
            ))
        }
        #[cfg(feature = "http2")]
        {
            if let Some(m) = &self.method {
                if *m != http::Method::POST {
                    return Err(unsupported(
                        "method".into(),
                        format!("gRPC calls are POST requests, got {m}"),
                    ));
                }
            }
            if self.content_type.is_some() {
                return Err(unsupported(
                    self.source.name(Setting::ContentType),
                    "gRPC sets its own content type (application/grpc)",
                ));
            }
            Ok(())
        }
    }

    fn check_echo(&self, protocol: Protocol, urls: &[(ParsedUrl, &String)]) -> Result<()> {
        let what = protocol.name().to_uppercase();
        let no = |setting: Setting, given: bool| -> Result<()> {
            if given {
                return Err(unsupported(
                    self.source.name(setting),
                    format!("{what} echo requests carry only a generated payload"),
                ));
            }
            Ok(())
        };
        no(Setting::Header, !self.headers.is_empty())?;
        no(Setting::Cookie, !self.cookies.is_empty())?;
        no(Setting::ContentType, self.content_type.is_some())?;
        no(Setting::Body, !self.body.is_empty())?;
        if self.method.is_some() {
            return Err(unsupported(
                "method".into(),
                format!("{what} echo has no request method"),
            ));
        }
        if self.version != HttpVersion::Http1 {
            return Err(unsupported(
                "http_version".into(),
                format!("{what} echo is not HTTP"),
            ));
        }
        for (p, field) in urls {
            let pq = p.path.path_and_query().map(|x| x.as_str()).unwrap_or("/");
            if pq != "/" {
                return Err(Error::InvalidEndpoint {
                    url: String::new(),
                    field: (*field).clone(),
                    reason: format!("a {}:// URL has no path or query", p.scheme),
                });
            }
        }
        let max = if protocol == Protocol::Udp {
            MAX_UDP_PAYLOAD
        } else {
            MAX_TCP_PAYLOAD
        };
        if !(MIN_PAYLOAD..=max).contains(&self.payload_size) {
            return Err(super::invalid(
                &self.option_field("payload_size"),
                format!(
                    "must be between {MIN_PAYLOAD} and {max} bytes for {what}, got {}",
                    self.payload_size
                ),
            ));
        }
        if protocol == Protocol::Udp {
            let field = self.option_field("udp_timeout");
            if self.udp_timeout.is_zero() {
                return Err(super::invalid(&field, "must be longer than zero"));
            }
            if self.udp_timeout.saturating_mul(2) >= self.request_timeout {
                return Err(super::invalid(
                    &field,
                    format!(
                        "twice the UDP timeout ({:?}) must be shorter than the request timeout ({:?}): a late echo is awaited that long",
                        self.udp_timeout, self.request_timeout
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// What one endpoint sends: origin-form and absolute targets, method, body, and whether it
/// is the gRPC health check.
pub(super) type CallParts = (http::Uri, http::Uri, http::Method, Bytes, bool);

impl EngineBuilder {
    /// The request of one endpoint: as given, or (gRPC) the call's path, `POST`, the
    /// framed message and gRPC's header fields added to `headers`.
    pub(super) fn call_parts(
        &self,
        protocol: Protocol,
        path: http::Uri,
        absolute: http::Uri,
        method: &http::Method,
        headers: &mut http::HeaderMap,
        field: &str,
    ) -> Result<CallParts> {
        #[cfg(feature = "http2")]
        if protocol == Protocol::Grpc {
            use http::HeaderValue;
            let (path, absolute, health) = self.grpc_target(&path, &absolute, field)?;
            let message = if self.body.is_empty() && health {
                Bytes::from(crate::transport::health_request(&self.grpc_health_service))
            } else {
                self.body.clone()
            };
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
            headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
            let timeout = crate::transport::timeout_value(self.request_timeout);
            headers.insert(
                "grpc-timeout",
                HeaderValue::from_str(&timeout).map_err(|e| Error::InvalidHeader {
                    name: "grpc-timeout".into(),
                    field: "request_timeout".into(),
                    source: Box::new(e),
                })?,
            );
            let body = crate::transport::grpc_frame(&message);
            return Ok((path, absolute, http::Method::POST, body, health));
        }
        let _ = (protocol, &headers, field);
        Ok((path, absolute, method.clone(), self.body.clone(), false))
    }
}

#[cfg(feature = "http2")]
impl EngineBuilder {
    /// The gRPC call of a URL: its path names `/pkg.Service/Method` (none: the health
    /// check). Returns the origin-form and absolute targets and whether it is the health
    /// check.
    pub(super) fn grpc_target(
        &self,
        path: &http::Uri,
        absolute: &http::Uri,
        field: &str,
    ) -> Result<(http::Uri, http::Uri, bool)> {
        use crate::transport::HEALTH_CHECK;
        let bad = |reason: String| Error::InvalidEndpoint {
            url: smps_model::redact::url(&absolute.to_string()).into_owned(),
            field: field.to_string(),
            reason,
        };
        if path.query().is_some() {
            return Err(bad("a gRPC URL has no query".into()));
        }
        let p = path.path();
        let p = if p.is_empty() || p == "/" {
            HEALTH_CHECK
        } else {
            p
        };
        let parts: Vec<&str> = p.trim_start_matches('/').split('/').collect();
        if parts.len() != 2 || parts.iter().any(|s| s.is_empty()) {
            return Err(bad(format!(
                "the path `{p}` is not a gRPC method (`/package.Service/Method`)"
            )));
        }
        let scheme = absolute.scheme_str().unwrap_or("http");
        let scheme = if scheme == "grpcs" || scheme == "https" {
            "https"
        } else {
            "http"
        };
        let authority = absolute.authority().map(|a| a.as_str()).unwrap_or_default();
        let abs: http::Uri = format!("{scheme}://{authority}{p}")
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(e.to_string()))?;
        let origin_form: http::Uri = p
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(e.to_string()))?;
        Ok((origin_form, abs, p == HEALTH_CHECK))
    }
}
