//! Endpoint URLs: parsed once, at build time, into an origin and the request target.

use http::Uri;

use crate::engine::OriginSpec;
use crate::error::{Error, Result};

pub(crate) fn parse_url(url: &str, field: &str) -> Result<(OriginSpec, Uri, Uri, String)> {
    let bad = |reason: &str| Error::InvalidEndpoint {
        url: smps_model::redact::url(url).into_owned(),
        field: field.to_string(),
        reason: reason.to_string(),
    };
    let uri: Uri = url
        .trim()
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        Some(other) => return Err(bad(&format!("scheme `{other}` is not http or https"))),
        None => return Err(bad("an absolute URL with http:// or https:// is needed")),
    };
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
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
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
    Ok((
        OriginSpec { https, host, port },
        path,
        absolute,
        authority.as_str().to_string(),
    ))
}
