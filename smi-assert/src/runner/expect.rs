//! Checking a response against a `traffic` operation's [`ResponseExpect`]: status codes,
//! response headers, the request the echo backend saw, and a redirect's `Location`.

use crate::backend::{Outcome, RequestRecord};
use crate::suite::{RedirectExpect, ResponseExpect};

/// `Ok` if the record shows what `exp` asks; otherwise why not.
pub(super) fn check(exp: &ResponseExpect, rec: &RequestRecord) -> Result<(), String> {
    let status = match &rec.outcome {
        Outcome::Http { status } => *status,
        other => return Err(format!("no HTTP response ({other})")),
    };
    if exp.status.is_empty() {
        if !(200..400).contains(&status) {
            return Err(format!("status {status} is not 2xx or 3xx"));
        }
    } else if !exp.status.contains(&status) {
        return Err(format!("status {status}, expected one of {:?}", exp.status));
    }
    let details = rec.response.clone().unwrap_or_default();
    for (name, want) in &exp.headers {
        match details.header(name) {
            Some(got) if &got == want => {}
            Some(got) => {
                return Err(format!(
                    "response header {name} is `{got}`, expected `{want}`"
                ));
            }
            None => {
                return Err(format!(
                    "response header {name} is missing, expected `{want}`"
                ));
            }
        }
    }
    for name in &exp.absent_headers {
        if let Some(got) = details.header(name) {
            return Err(format!(
                "response header {name} is `{got}`, expected it absent"
            ));
        }
    }
    if let Some(seen) = &exp.request {
        let Some(echo) = &details.echo else {
            return Err("the backend sent no echo report of the request it saw".into());
        };
        let same = |what: &str, want: &Option<String>, got: Option<&str>| match want {
            Some(w) if Some(w.as_str()) != got => Err(format!(
                "the backend saw {what} `{}`, expected `{w}`",
                got.unwrap_or("")
            )),
            _ => Ok(()),
        };
        same("path", &seen.path, echo.path())?;
        same("method", &seen.method, echo.method.as_deref())?;
        same("protocol", &seen.protocol, echo.proto.as_deref())?;
        for (name, want) in &seen.headers {
            match echo.request_header(name) {
                Some(got) if &got == want => {}
                Some(got) => {
                    return Err(format!(
                        "the backend saw header {name} `{got}`, expected `{want}`"
                    ));
                }
                None => {
                    return Err(format!(
                        "the backend did not see header {name}, expected `{want}`"
                    ));
                }
            }
        }
        for name in &seen.absent_headers {
            if let Some(got) = echo.request_header(name) {
                return Err(format!(
                    "the backend saw header {name} `{got}`, expected it absent"
                ));
            }
        }
    }
    if let Some(r) = &exp.redirect {
        let Some(location) = details.header("location") else {
            return Err("no Location header".into());
        };
        check_location(r, &location)?;
    }
    Ok(())
}

fn check_location(r: &RedirectExpect, location: &str) -> Result<(), String> {
    let uri: http::Uri = location
        .parse()
        .map_err(|e| format!("Location `{location}` is not a URL: {e}"))?;
    let bad = |what: &str, got: &str, want: &str| {
        Err(format!(
            "Location `{location}` has {what} `{got}`, expected `{want}`"
        ))
    };
    if let Some(s) = &r.scheme
        && uri.scheme_str() != Some(s.as_str())
    {
        return bad("scheme", uri.scheme_str().unwrap_or(""), s);
    }
    if let Some(h) = &r.hostname
        && uri.host() != Some(h.as_str())
    {
        return bad("host", uri.host().unwrap_or(""), h);
    }
    if let Some(p) = &r.port {
        let got = uri.port_u16().map(|p| p.to_string());
        let ok = if p == "default" {
            got.is_none()
        } else {
            got.as_deref() == Some(p.as_str())
        };
        if !ok {
            return bad("port", got.as_deref().unwrap_or("(none)"), p);
        }
    }
    if let Some(p) = &r.path
        && uri.path() != p
    {
        return bad("path", uri.path(), p);
    }
    Ok(())
}
