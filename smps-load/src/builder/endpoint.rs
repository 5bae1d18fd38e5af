//! Endpoint URLs: parsed once, at build time, into an origin and the request target.

use http::Uri;

use crate::engine::OriginSpec;
use crate::error::{Error, Result};
use crate::transport::Protocol;

/// A parsed endpoint URL.
pub(crate) struct ParsedUrl {
    pub(crate) origin: OriginSpec,
    /// Origin-form target (`/path?query`).
    pub(crate) path: Uri,
    /// Absolute `http(s)://` form (HTTP/2 and gRPC).
    pub(crate) absolute: Uri,
    /// `host:port` as written.
    pub(crate) authority: String,
    /// The protocol the scheme stands for.
    pub(crate) protocol: Protocol,
    /// The scheme, lower-case.
    pub(crate) scheme: String,
}

/// The URL with a scheme: SMP configs give TCP, UDP and gRPC endpoints as bare `host:port`
/// (and gRPC also as `dns:///host:port`), so when the protocol is known such a target gets
/// its protocol's scheme. Anything else is returned as given.
pub(crate) fn with_scheme(url: &str, protocol: Option<Protocol>) -> std::borrow::Cow<'_, str> {
    let t = url.trim();
    let scheme = match protocol {
        Some(Protocol::Tcp) => "tcp",
        Some(Protocol::Udp) => "udp",
        Some(Protocol::Grpc) => {
            if let Some(rest) = t.strip_prefix("dns:///") {
                return format!("grpc://{rest}").into();
            }
            "grpc"
        }
        _ => return url.into(),
    };
    if t.contains("://") || t.is_empty() {
        return url.into();
    }
    format!("{scheme}://{t}").into()
}

/// Parses an absolute URL of any scheme the engine speaks (`http`, `https`, `tcp`, `udp`,
/// `grpc`, `grpcs`).
pub(crate) fn parse_url(url: &str, field: &str) -> Result<ParsedUrl> {
    let bad = |reason: &str| Error::InvalidEndpoint {
        url: smps_model::redact::url(url).into_owned(),
        field: field.to_string(),
        reason: reason.to_string(),
    };
    let uri: Uri = url
        .trim()
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    let scheme = match uri.scheme_str() {
        Some(s) => s.to_ascii_lowercase(),
        None => {
            return Err(bad(
                "an absolute URL is needed (http://, https://, tcp://, udp://, grpc:// or grpcs://)",
            ));
        }
    };
    let Some(protocol) = Protocol::from_scheme(&scheme) else {
        return Err(bad(&format!(
            "scheme `{scheme}` is not one of http, https, tcp, udp, grpc, grpcs"
        )));
    };
    let https = scheme == "https" || scheme == "grpcs";
    let authority = uri.authority().ok_or_else(|| bad("the URL has no host"))?;
    if authority.as_str().contains('@') {
        return Err(bad("user information in URLs is not supported"));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if host.is_empty() {
        return Err(bad("the URL has no host"));
    }
    let port = match (authority.port_u16(), protocol) {
        (Some(p), _) => p,
        (None, Protocol::Tcp | Protocol::Udp) => {
            return Err(bad(&format!("a {scheme}:// URL needs a port")));
        }
        (None, _) => {
            if https {
                443
            } else {
                80
            }
        }
    };
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let pq = if pq.is_empty() { "/" } else { pq };
    let path: Uri = pq
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    let absolute: Uri = format!(
        "{}://{}{}",
        if https { "https" } else { "http" },
        authority.as_str(),
        pq
    )
    .parse()
    .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    Ok(ParsedUrl {
        origin: OriginSpec { https, host, port },
        path,
        absolute,
        authority: authority.as_str().to_string(),
        protocol,
        scheme,
    })
}
