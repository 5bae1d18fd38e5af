//! HTTP/1.1 exchanges: the lean client (`raw.rs`) or hyper's client connection; and the byte
//! count of a response head, which HTTP/2 shares.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::FutureExt;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use super::classify::classify_hyper;
use super::stream::Stream;
use super::{Endpoint, Outcome};
use crate::ErrorKind;

type Body = Full<Bytes>;

/// hyper's HTTP/1.1 client connection.
pub(crate) struct HyperH1 {
    sender: http1::SendRequest<Body>,
    /// The connection state machine, polled by whoever is using the connection (no task
    /// per connection). Dropped as soon as it completes.
    driver: Pin<Box<http1::Connection<TokioIo<Stream>, Body>>>,
}

impl HyperH1 {
    /// Handshakes over an open stream.
    pub(crate) async fn handshake(stream: Stream) -> Result<Self, ErrorKind> {
        let (sender, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| classify_hyper(&e))?;
        Ok(HyperH1 {
            sender,
            driver: Box::pin(driver),
        })
    }

    /// Whether the connection may carry another request: it lets the connection notice a
    /// close by the server before it is reused.
    pub(crate) fn alive(&mut self) -> bool {
        !self.sender.is_closed() && self.driver.as_mut().now_or_never().is_none()
    }

    /// One request and its whole response.
    pub(crate) async fn exchange(&mut self, ep: &Endpoint) -> Outcome {
        let req = request(ep);
        let sent_at = Instant::now();
        let sender = &mut self.sender;
        let fut = async {
            sender.ready().await.map_err(|e| classify_hyper(&e))?;
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| classify_hyper(&e))?;
            read_response(resp).await
        };
        let mut fut = Box::pin(fut);
        let result = tokio::select! {
            biased;
            r = &mut fut => r,
            d = self.driver.as_mut() => match d {
                Err(e) => Err(classify_hyper(&e)),
                // The connection ended and handed its error (if any) to the pending
                // request, which now resolves at once.
                Ok(()) => fut.await,
            },
        };
        Outcome {
            sent_at,
            result: result.map(|(status, bytes_in)| (status, bytes_in, ep.bytes_out)),
            reusable: true,
        }
    }
}

/// The hyper request of an endpoint (origin-form target).
fn request(ep: &Endpoint) -> Request<Body> {
    let mut req = Request::new(Full::new(ep.body.clone()));
    *req.method_mut() = ep.method.clone();
    *req.uri_mut() = ep.path.clone();
    *req.headers_mut() = ep.headers.clone();
    req
}

/// Bytes of the status line and header fields as HTTP/1.1 text.
pub(crate) fn head_bytes(resp_headers: &http::HeaderMap) -> u64 {
    let mut bytes = 17u64; // "HTTP/1.1 200 OK\r\n"
    for (name, value) in resp_headers {
        bytes += (name.as_str().len() + value.len() + 4) as u64;
    }
    bytes + 2
}

/// Reads the whole body, counting bytes without keeping them. Returns the status and the
/// bytes received (status line and header fields as HTTP/1.1 text, plus body).
async fn read_response(
    resp: http::Response<hyper::body::Incoming>,
) -> Result<(u16, u64), ErrorKind> {
    let status = resp.status().as_u16();
    let mut bytes = head_bytes(resp.headers());
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| match classify_hyper(&e) {
            ErrorKind::Other => ErrorKind::BodyRead,
            k => k,
        })?;
        if let Some(d) = frame.data_ref() {
            bytes += d.len() as u64;
        }
    }
    Ok((status, bytes))
}
