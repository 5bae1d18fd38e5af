//! The reference server's gRPC side: `grpc.health.v1.Health/Check` answers `SERVING` (or
//! `NOT_SERVING`), any other method echoes its request message; an injected status mix
//! answers some calls with a non-OK `grpc-status` (trailers-only, as gRPC servers do).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use hyper::body::Frame;

/// The path of the health check.
pub(super) const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

/// A gRPC response body: one data frame (optional), then the trailers.
#[derive(Debug)]
pub struct GrpcBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl hyper::body::Body for GrpcBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(d) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

/// Whether a request is a gRPC call.
pub(super) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

fn grpc_response(status: u32, message: &str, data: Option<Bytes>) -> Response<GrpcBody> {
    let mut fields = HeaderMap::new();
    fields.insert("grpc-status", HeaderValue::from(status));
    if let Ok(v) = HeaderValue::from_str(message) {
        if !message.is_empty() {
            fields.insert("grpc-message", v);
        }
    }
    let mut resp = if data.is_none() {
        // Trailers-only: the status travels in the headers.
        let mut r = Response::new(GrpcBody {
            data: None,
            trailers: None,
        });
        *r.headers_mut() = fields;
        r
    } else {
        Response::new(GrpcBody {
            data,
            trailers: Some(fields),
        })
    };
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    resp
}

/// Answers one call: `status` (0 = OK) chosen by the server's mix; `serving` for the
/// health check; the request body as received (length-prefixed messages).
pub(super) fn answer(path: &str, body: &[u8], status: u32, serving: bool) -> Response<GrpcBody> {
    if status != 0 {
        return grpc_response(status, "injected by the reference server", None);
    }
    if path == HEALTH_CHECK {
        // HealthCheckResponse { status: SERVING (1) | NOT_SERVING (2) }.
        let msg: &[u8] = if serving {
            &[0x08, 0x01]
        } else {
            &[0x08, 0x02]
        };
        return grpc_response(0, "", Some(frame(msg)));
    }
    // Echo: the request's messages, re-framed as they came (checked for framing).
    match well_framed(body) {
        true => grpc_response(0, "", Some(Bytes::copy_from_slice(body))),
        false => grpc_response(3, "request message is not length-prefixed", None),
    }
}

fn frame(msg: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(5 + msg.len());
    out.push(0);
    out.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    out.extend_from_slice(msg);
    Bytes::from(out)
}

/// Whether `body` is a sequence of whole length-prefixed messages.
fn well_framed(mut body: &[u8]) -> bool {
    while !body.is_empty() {
        let Some(head) = body.get(..5) else {
            return false;
        };
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if head[0] > 1 || body.len() < 5 + len {
            return false;
        }
        body = &body[5 + len..];
    }
    true
}
