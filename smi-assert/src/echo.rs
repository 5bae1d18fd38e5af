//! What an echo backend reports about a request it served, in the `Key=Value` line format of the
//! Gateway API conformance echo app (`client URL` prints it; the loopback mesh's echo app answers
//! it as its body).
//!
//! Keys read: `StatusCode`, `Hostname` (the pod that answered), `ServiceVersion`, `ServicePort`,
//! `Namespace`, `Host`, `Method`, `Proto`, `URL` (path and query the backend saw),
//! `RequestHeader=name:value` and `ResponseHeader=name:value` (repeatable). Lines may carry a
//! `[N]` request index prefix (as `client --count` prints); unknown keys are ignored.
//!
//! # Examples
//!
//! ```
//! use smi_assert::echo::EchoReport;
//! let r = EchoReport::parse("StatusCode=200\nHostname=echo-v1-00001\nURL=/v2?x=1\n\
//!                            RequestHeader=X-Add:a\nRequestHeader=x-add:b\n");
//! assert_eq!(r.status_code, Some(200));
//! assert_eq!(r.path(), Some("/v2"));
//! assert_eq!(r.request_header("x-add").as_deref(), Some("a,b"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// One echo report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EchoReport {
    /// HTTP status the client saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// The pod that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The backend's version label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_version: Option<String>,
    /// The port the backend was reached on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_port: Option<String>,
    /// The backend's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The Host (authority) the backend saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The method the backend saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The protocol the backend saw (`HTTP/1.1`, `HTTP/2.0`, `GRPC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<String>,
    /// Path and query the backend saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Request headers the backend saw, by lowercase name, values in order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_headers: BTreeMap<String, Vec<String>>,
    /// Response headers the client saw, by lowercase name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_headers: BTreeMap<String, Vec<String>>,
}

impl EchoReport {
    /// Parses `Key=Value` lines (the first report if there are several).
    #[must_use]
    pub fn parse(text: &str) -> EchoReport {
        Self::parse_all(text).into_iter().next().unwrap_or_default()
    }

    /// Parses every report of `client --count` output: lines prefixed `[N]` belong to request N;
    /// unprefixed lines form one report.
    #[must_use]
    pub fn parse_all(text: &str) -> Vec<EchoReport> {
        let mut by_index: BTreeMap<u64, EchoReport> = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim();
            let (index, rest) = match line.strip_prefix('[').and_then(|l| l.split_once(']')) {
                // `[3]` or `[3 body]`, as the echo client prints them.
                Some((n, rest)) => (
                    n.split_whitespace()
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                    rest.trim_start(),
                ),
                None => (0, line),
            };
            let Some((key, value)) = rest.split_once('=') else {
                continue;
            };
            let r = by_index.entry(index).or_default();
            let value = value.to_string();
            let header = |v: &str| {
                v.split_once(':')
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim_start().to_string()))
            };
            match key {
                "StatusCode" => r.status_code = value.trim().parse().ok(),
                "Hostname" => r.hostname = Some(value),
                "ServiceVersion" => r.service_version = Some(value),
                "ServicePort" => r.service_port = Some(value),
                "Namespace" => r.namespace = Some(value),
                "Host" => r.host = Some(value),
                "Method" => r.method = Some(value),
                "Proto" => r.proto = Some(value),
                "URL" => r.url = Some(value),
                "RequestHeader" => {
                    if let Some((k, v)) = header(&value) {
                        r.request_headers.entry(k).or_default().push(v);
                    }
                }
                "ResponseHeader" => {
                    if let Some((k, v)) = header(&value) {
                        r.response_headers.entry(k).or_default().push(v);
                    }
                }
                _ => {}
            }
        }
        by_index.into_values().collect()
    }

    /// The report as `Key=Value` lines.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let mut line = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                let _ = writeln!(s, "{k}={v}");
            }
        };
        line("StatusCode", &self.status_code.map(|c| c.to_string()));
        line("Hostname", &self.hostname);
        line("ServiceVersion", &self.service_version);
        line("ServicePort", &self.service_port);
        line("Namespace", &self.namespace);
        line("Host", &self.host);
        line("Method", &self.method);
        line("Proto", &self.proto);
        line("URL", &self.url);
        for (k, vs) in &self.request_headers {
            for v in vs {
                let _ = writeln!(s, "RequestHeader={k}:{v}");
            }
        }
        for (k, vs) in &self.response_headers {
            for v in vs {
                let _ = writeln!(s, "ResponseHeader={k}:{v}");
            }
        }
        s
    }

    /// The path the backend saw (the URL without its query).
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        self.url
            .as_deref()
            .map(|u| u.split_once('?').map_or(u, |(p, _)| p))
    }

    /// A request header's values joined by `,` (as upstream compares them), by any-case name.
    #[must_use]
    pub fn request_header(&self, name: &str) -> Option<String> {
        self.request_headers
            .get(&name.to_ascii_lowercase())
            .map(|v| v.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip_through_text() {
        let mut r = EchoReport {
            status_code: Some(200),
            hostname: Some("echo-v2-0000a".into()),
            url: Some("/one?x=y".into()),
            ..EchoReport::default()
        };
        r.request_headers
            .insert("x-a".into(), vec!["1".into(), "2".into()]);
        assert_eq!(EchoReport::parse(&r.to_text()), r);
    }

    #[test]
    fn counted_output_splits_per_request() {
        let all =
            EchoReport::parse_all("[0] Hostname=a\n[1 body] Hostname=b\n[1] StatusCode=200\n");
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].hostname.as_deref(), Some("b"));
        assert_eq!(all[1].status_code, Some(200));
    }
}
