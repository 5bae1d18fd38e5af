//! gRPC unary calls, framed by hand over the HTTP/2 transport (no code generation, no
//! tonic): the request message is given as protobuf bytes and encoded once per endpoint
//! with gRPC's 5-byte prefix (compression flag, big-endian length); the response messages
//! are checked for framing and counted without being kept; the call's status comes from
//! `grpc-status` in the trailers (or the headers of a trailers-only response).
//!
//! `grpc.health.v1.Health/Check` is built in: its response must say `SERVING`
//! ([`ErrorKind::GrpcNotServing`] otherwise).

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::h2::{Handle, body_error, read_body};
use super::http1::head_bytes;
use super::{Endpoint, Outcome, Transport};
use crate::ErrorKind;

/// The path of the built-in health check.
pub(crate) const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

/// Most bytes of the first response message kept (to read a health check's status).
const KEEP_FIRST: usize = 64;

/// A message with gRPC's length prefix (uncompressed).
pub(crate) fn frame(message: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(5 + message.len());
    out.push(0);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    Bytes::from(out)
}

/// The `grpc-timeout` value of a deadline: at most 8 digits and a unit.
pub(crate) fn timeout_value(d: Duration) -> String {
    let ms = d.as_millis();
    if ms <= 99_999_999 {
        format!("{}m", ms.max(1))
    } else {
        format!("{}S", d.as_secs().min(99_999_999))
    }
}

/// A `HealthCheckRequest` asking about `service` (empty: the whole server).
pub(crate) fn health_request(service: &str) -> Vec<u8> {
    if service.is_empty() {
        return Vec::new();
    }
    let mut m = vec![0x0a];
    put_varint(&mut m, service.len() as u64);
    m.extend_from_slice(service.as_bytes());
    m
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The `status` field (1) of a `HealthCheckResponse`; 0 (`UNKNOWN`) when absent, `None`
/// when the message is not valid protobuf.
pub(crate) fn health_status(msg: &[u8]) -> Option<u64> {
    let mut at = 0;
    let mut status = 0;
    while at < msg.len() {
        let tag = varint(msg, &mut at)?;
        match tag & 7 {
            0 => {
                let v = varint(msg, &mut at)?;
                if tag >> 3 == 1 {
                    status = v;
                }
            }
            1 => at = at.checked_add(8)?,
            2 => {
                let len = usize::try_from(varint(msg, &mut at)?).ok()?;
                at = at.checked_add(len)?;
            }
            5 => at = at.checked_add(4)?,
            _ => return None,
        }
        if at > msg.len() {
            return None;
        }
    }
    Some(status)
}

/// Reads gRPC's length-prefixed messages from body chunks without keeping them (only the
/// first bytes of the first message, for a health check's status).
#[derive(Debug)]
pub(crate) struct Deframer {
    head: [u8; 5],
    head_len: usize,
    /// Bytes of the current message still to come.
    remaining: u64,
    messages: u32,
    first: [u8; KEEP_FIRST],
    first_len: usize,
}

impl Default for Deframer {
    fn default() -> Self {
        Deframer {
            head: [0; 5],
            head_len: 0,
            remaining: 0,
            messages: 0,
            first: [0; KEEP_FIRST],
            first_len: 0,
        }
    }
}

impl Deframer {
    /// Takes the next chunk of the body; an error for a message with an unknown
    /// compression flag.
    pub(crate) fn feed(&mut self, mut data: &[u8]) -> Result<(), ErrorKind> {
        while !data.is_empty() {
            if self.remaining == 0 {
                let take = (5 - self.head_len).min(data.len());
                self.head[self.head_len..self.head_len + take].copy_from_slice(&data[..take]);
                self.head_len += take;
                data = &data[take..];
                if self.head_len == 5 {
                    if self.head[0] > 1 {
                        return Err(ErrorKind::Protocol);
                    }
                    self.remaining = u64::from(u32::from_be_bytes([
                        self.head[1],
                        self.head[2],
                        self.head[3],
                        self.head[4],
                    ]));
                    self.messages += 1;
                    self.head_len = 0;
                }
            } else {
                let take = (self.remaining.min(data.len() as u64)) as usize;
                if self.messages == 1 && self.first_len < KEEP_FIRST {
                    let keep = take.min(KEEP_FIRST - self.first_len);
                    self.first[self.first_len..self.first_len + keep]
                        .copy_from_slice(&data[..keep]);
                    self.first_len += keep;
                }
                self.remaining -= take as u64;
                data = &data[take..];
            }
        }
        Ok(())
    }

    /// Whether the body ended between messages.
    fn complete(&self) -> bool {
        self.head_len == 0 && self.remaining == 0
    }

    /// The kept start of the first message.
    fn first(&self) -> &[u8] {
        &self.first[..self.first_len]
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Decodes `grpc-message` (percent-encoded UTF-8).
pub(crate) fn decode_message(v: &[u8]) -> String {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%' && i + 2 < v.len() {
            if let (Some(h), Some(l)) = (hex(v[i + 1]), hex(v[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(v[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Transport {
    /// One unary call on a stream of `h`; `fields` are the endpoint's HTTP/2 header fields.
    pub(crate) async fn grpc_exchange(
        &self,
        h: &mut Handle,
        ep: &Endpoint,
        fields: &http::HeaderMap,
    ) -> Outcome {
        let sent_at = Instant::now();
        let result = Box::pin(async {
            let resp = h.send(ep, fields).await?;
            let status = resp.status().as_u16();
            let mut bytes = head_bytes(resp.headers());
            let (parts, mut body) = resp.into_parts();
            let mut deframer = Deframer::default();
            read_body(&mut body, |d| {
                bytes += d.len() as u64;
                deframer.feed(d)
            })
            .await?;
            let trailers = body.trailers().await.map_err(|e| body_error(&e))?;
            if let Some(t) = &trailers {
                bytes += head_bytes(t).saturating_sub(19);
            }
            let fields = trailers.as_ref().unwrap_or(&parts.headers);
            let code = fields
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u32>().ok());
            let message = || {
                fields
                    .get("grpc-message")
                    .map(|v| decode_message(v.as_bytes()))
                    .unwrap_or_default()
            };
            let status = self.grpc_verdict(ep, status, code, message, &deframer)?;
            Ok((status, bytes))
        })
        .await;
        Outcome {
            sent_at,
            result: result.map(|(status, bytes_in)| (status, bytes_in, ep.bytes_out)),
            reusable: true,
        }
    }
}

impl Transport {
    /// What a finished gRPC call counts as: its HTTP status when that is not 200 (not a
    /// gRPC answer), else 200 for `grpc-status` 0 with whole messages (and, for the health
    /// check, `SERVING`), else the status's kind.
    pub(crate) fn grpc_verdict(
        &self,
        ep: &Endpoint,
        status: u16,
        code: Option<u32>,
        message: impl FnOnce() -> String,
        deframer: &Deframer,
    ) -> Result<u16, ErrorKind> {
        if status != 200 {
            return Ok(status);
        }
        let code = code.ok_or_else(|| {
            self.failed(ErrorKind::Protocol, || {
                "a gRPC response without a valid grpc-status".into()
            })
        })?;
        if let Some(kind) = ErrorKind::from_grpc_status(code) {
            return Err(self.failed(kind, || format!("grpc-status {code}: {}", message())));
        }
        if !deframer.complete() {
            return Err(self.failed(ErrorKind::Protocol, || {
                "a gRPC response message was cut short".into()
            }));
        }
        if ep.grpc_health {
            let serving = deframer.messages == 1 && health_status(deframer.first()) == Some(1);
            if !serving {
                return Err(ErrorKind::GrpcNotServing);
            }
        }
        Ok(200)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_the_deframer_in_any_chunking() {
        let mut body = frame(b"\x08\x01").to_vec();
        body.extend_from_slice(&frame(b""));
        for split in 0..body.len() {
            let mut d = Deframer::default();
            d.feed(&body[..split]).unwrap();
            d.feed(&body[split..]).unwrap();
            assert!(d.complete());
            assert_eq!(d.messages, 2);
            assert_eq!(health_status(d.first()), Some(1));
        }
        let mut d = Deframer::default();
        d.feed(&body[..4]).unwrap();
        assert!(!d.complete());
        assert_eq!(
            Deframer::default().feed(&[7, 0, 0, 0, 0]),
            Err(ErrorKind::Protocol)
        );
    }

    #[test]
    fn health_messages_encode_and_decode() {
        assert_eq!(health_request(""), Vec::<u8>::new());
        assert_eq!(health_request("a"), vec![0x0a, 1, b'a']);
        assert_eq!(health_status(&[]), Some(0));
        assert_eq!(health_status(&[0x08, 0x02]), Some(2));
        assert_eq!(health_status(&[0x0a, 0x01, b'x', 0x08, 0x01]), Some(1));
        assert_eq!(health_status(&[0x0a, 0x05]), None);
        assert_eq!(health_status(&[0x08]), None);
    }

    #[test]
    fn timeouts_and_messages_use_grpc_forms() {
        assert_eq!(timeout_value(Duration::from_secs(2)), "2000m");
        assert_eq!(timeout_value(Duration::from_micros(10)), "1m");
        assert_eq!(timeout_value(Duration::from_secs(200_000)), "200000S");
        assert_eq!(decode_message(b"not%20found%"), "not found%");
    }
}
