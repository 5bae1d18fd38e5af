//! gRPC on the loopback mesh: the echo app's gRPC service and the client side of `grpc://`
//! targets, over h2c (HTTP/2 with prior knowledge) through the sidecar.
//!
//! Any method is answered (the client calls [`ECHO_METHOD`], upstream's echo method name): the
//! request message is an `EchoRequest { string message = 1; }`, the answer an
//! `EchoResponse { string message = 1; }` whose message is the [`EchoReport`] text, with
//! `grpc-status: 0` in the trailers. Both messages have one length-delimited field, so the
//! protobuf wire format is written here directly: tag byte `0x0a` (field 1, wire type 2), a
//! varint length, the UTF-8 bytes; each message is framed as gRPC prescribes (a compression byte
//! 0 and a big-endian u32 length).

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::net::classify;
use super::server::{RespBody, with_trailers};
use super::workload::{Inner, Workload};
use crate::backend::Outcome;
use crate::echo::EchoReport;

/// The method `grpc://` targets call (the path of the request).
pub(super) const ECHO_METHOD: &str = "/proto.EchoTestService/Echo";

/// Whether a request is gRPC (by its content type).
pub(super) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/grpc"))
}

/// One framed message holding one string field 1.
pub(super) fn frame(message: &str) -> Bytes {
    let mut pb = BytesMut::new();
    pb.put_u8(0x0a);
    let mut n = message.len() as u64;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            pb.put_u8(b);
            break;
        }
        pb.put_u8(b | 0x80);
    }
    pb.put_slice(message.as_bytes());
    let mut out = BytesMut::with_capacity(pb.len() + 5);
    out.put_u8(0);
    out.put_u32(u32::try_from(pb.len()).unwrap_or(u32::MAX));
    out.put_slice(&pb);
    out.freeze()
}

/// The string field 1 of the first framed message, if the bytes hold one.
pub(super) fn unframe(data: &[u8]) -> Option<String> {
    let len = usize::try_from(u32::from_be_bytes(data.get(1..5)?.try_into().ok()?)).ok()?;
    let pb = data.get(5..5 + len)?;
    let mut i = 0;
    while i < pb.len() {
        let tag = pb[i];
        i += 1;
        let mut n: u64 = 0;
        let mut shift = 0;
        loop {
            let b = *pb.get(i)?;
            i += 1;
            n |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 || shift > 63 {
                break;
            }
        }
        match tag & 0x07 {
            2 => {
                let end = i.checked_add(usize::try_from(n).ok()?)?;
                let bytes = pb.get(i..end)?;
                if tag >> 3 == 1 {
                    return String::from_utf8(bytes.to_vec()).ok();
                }
                i = end;
            }
            0 => {}
            _ => return None,
        }
    }
    Some(String::new())
}

/// The echo app's answer to a gRPC request.
pub(super) fn echo(w: &Workload, req: &Request<Incoming>) -> Response<RespBody> {
    let text = super::echo_app::report(w, req, "GRPC").to_text();
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let mut r = Response::new(with_trailers(frame(&text), trailers));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/grpc"));
    if let Ok(v) = HeaderValue::from_str(&w.service_name) {
        r.headers_mut().insert("x-served-by", v);
    }
    r
}

/// A `grpc://authority` call from `me` through its sidecar: the `/call` answer
/// (`outcome`, `servedBy`, `headers`, `body`). A gRPC status other than 0 is reported as HTTP
/// 500 with the status in the headers (`grpc-status`).
pub(super) async fn call(
    inner: &Inner,
    me: &Workload,
    authority: &str,
    headers: &BTreeMap<String, String>,
    timeout: Duration,
) -> Value {
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or(authority.to_string(), |(_, v)| v.clone());
    let mut b = Request::builder()
        .method("POST")
        .uri(format!("http://{}{ECHO_METHOD}", me.sidecar_addr))
        .header("host", host)
        .header(super::sidecar::DST_HEADER, authority)
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("host") {
            b = b.header(k.as_str(), v.as_str());
        }
    }
    let req = match b.body(Full::new(frame("smi-assert"))) {
        Ok(r) => r,
        Err(e) => {
            return json!({"outcome": Outcome::Other { message: format!("bad request: {e}") }});
        }
    };
    let resp = match tokio::time::timeout(timeout, inner.h2_client.request(req)).await {
        Err(_) => return json!({"outcome": Outcome::Timeout}),
        Ok(Err(e)) => return json!({"outcome": classify(&e)}),
        Ok(Ok(r)) => r,
    };
    let (parts, body) = resp.into_parts();
    let collected = match tokio::time::timeout(timeout, body.collect()).await {
        Err(_) => return json!({"outcome": Outcome::Timeout}),
        Ok(Err(e)) => return json!({"outcome": classify(&e)}),
        Ok(Ok(c)) => c,
    };
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    for (k, v) in parts.headers.iter().chain(trailers.iter()) {
        all.entry(k.as_str().to_string())
            .or_default()
            .push(v.to_str().unwrap_or("").to_string());
    }
    let grpc_status = all
        .get("grpc-status")
        .and_then(|v| v.first())
        .map(String::as_str);
    let status = match (parts.status.as_u16(), grpc_status) {
        (200, Some("0")) => 200,
        (200, _) => 500,
        (s, _) => s,
    };
    let served_by = parts
        .headers
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let data = collected.to_bytes();
    let body = if is_grpc(&parts.headers) {
        unframe(&data).unwrap_or_default()
    } else {
        String::from_utf8_lossy(&data).into_owned()
    };
    json!({"outcome": Outcome::Http { status }, "servedBy": served_by, "headers": all,
           "body": body})
}

/// The echo report in a `/call` answer's body, if the backend sent one.
pub(super) fn echo_in(body: &str) -> Option<EchoReport> {
    body.lines()
        .any(|l| l.starts_with("Hostname="))
        .then(|| EchoReport::parse(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_the_wire_format() {
        for text in ["", "a", &"x".repeat(300), "StatusCode=200\nHostname=é\n"] {
            assert_eq!(unframe(&frame(text)).as_deref(), Some(text));
        }
        assert_eq!(unframe(&[0, 0, 0]), None);
        assert_eq!(unframe(&[0, 0, 0, 0, 9, 0x0a]), None);
    }
}
