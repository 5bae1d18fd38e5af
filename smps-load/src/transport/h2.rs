//! HTTP/2 multiplexing: N connections × M streams, driving the `h2` crate directly.
//!
//! This is [`Http2Client::H2`](crate::Http2Client); the default is the engine's own client
//! (`h2_lean`). Each concurrency slot is a *stream handle* on a connection shared with
//! other slots (`pool.rs`), with at most one stream in flight.
//!
//! Each connection is driven by its own task; a slot opens its stream with
//! `h2::client::SendRequest` itself (no dispatch channel and no oneshot per request, as
//! hyper's client has: `benches/protocols_h2.rs` measures the difference). `h2` enforces the
//! server's `SETTINGS_MAX_CONCURRENT_STREAMS` (a stream beyond the limit waits in `ready`
//! until one closes; that wait is part of its service time) and flow control: the windows
//! are raised to 4 MiB per stream and 16 MiB per connection, so large bodies do not stall
//! on the 64 KiB defaults, and the capacity of every received chunk is released at once.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ::h2::RecvStream;
use ::h2::client::SendRequest;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, header};
use tokio::time::Instant;

use super::classify::classify_h2;
use super::http1::head_bytes;
use super::pool::Joined;
use super::stream::Stream;
use super::{Endpoint, Outcome, Transport};
use crate::ErrorKind;

/// Initial stream window (bytes).
const STREAM_WINDOW: u32 = 4 << 20;
/// Initial connection window (bytes).
const CONNECTION_WINDOW: u32 = 16 << 20;
/// Largest response header block accepted (bytes, as HPACK counts them).
const MAX_HEADER_LIST: u32 = 64 << 10;
/// Most request body bytes buffered per stream ahead of the peer's window.
const MAX_SEND_BUFFER: usize = 400 << 10;

/// An open connection: the sender streams are opened with, and whether the connection has
/// ended (set by its driving task, or by a slot that saw it fail).
#[derive(Clone)]
pub(crate) struct Shared {
    sender: SendRequest<Bytes>,
    closed: Arc<AtomicBool>,
}

/// A slot's stream handle on a shared connection.
pub(crate) struct Handle {
    conn: Shared,
    /// The last request failed before its stream was opened (the connection had gone
    /// away underneath), so it may be sent again on a new connection.
    pub(crate) unsent: bool,
}

/// Whether an error means the whole connection is gone.
fn connection_gone(e: &::h2::Error) -> bool {
    e.is_io() || e.is_go_away()
}

/// Removes the header fields HTTP/2 forbids (RFC 9113, section 8.2.2) and `Host` (the
/// `:authority` pseudo-header carries it).
fn strip_connection_fields(h: &mut HeaderMap) {
    for name in [
        header::HOST,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        h.remove(name);
    }
    h.remove("keep-alive");
    h.remove("proxy-connection");
    if h.get(header::TE).is_some_and(|v| v != "trailers") {
        h.remove(header::TE);
    }
}

/// The header fields of `ep` as HTTP/2 sends them: without the fields HTTP/2 forbids, with
/// `content-length` when there is a body or the method defines one. Made once per endpoint.
pub(crate) fn head_fields(ep: &Endpoint) -> HeaderMap {
    let mut headers = ep.headers.clone();
    strip_connection_fields(&mut headers);
    let payload_method = !matches!(
        ep.method,
        Method::GET | Method::HEAD | Method::DELETE | Method::CONNECT
    );
    if (!ep.body.is_empty() || payload_method) && !headers.contains_key(header::CONTENT_LENGTH) {
        headers.insert(header::CONTENT_LENGTH, ep.body.len().into());
    }
    headers
}

/// The request head for a new stream (absolute URI for the pseudo-headers).
fn request(ep: &Endpoint, fields: &HeaderMap) -> Request<()> {
    let mut req = Request::new(());
    *req.method_mut() = ep.method.clone();
    *req.uri_mut() = ep.absolute.clone();
    *req.headers_mut() = fields.clone();
    req
}

/// Reads a body to its end, releasing flow-control capacity as chunks arrive; `each` sees
/// every chunk. A failure is classified ([`ErrorKind::BodyRead`] when nothing more precise
/// is known).
pub(crate) async fn read_body(
    body: &mut RecvStream,
    mut each: impl FnMut(&[u8]) -> Result<(), ErrorKind>,
) -> Result<(), ErrorKind> {
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| body_error(&e))?;
        // The window is refilled as soon as the bytes are counted.
        let _ = body.flow_control().release_capacity(chunk.len());
        each(&chunk)?;
    }
    Ok(())
}

/// The kind of a failure while a body or trailers were read.
pub(crate) fn body_error(e: &::h2::Error) -> ErrorKind {
    match classify_h2(e) {
        ErrorKind::Other => ErrorKind::BodyRead,
        k => k,
    }
}

impl Handle {
    /// Whether the connection still takes new streams.
    pub(crate) fn alive(&self) -> bool {
        !self.conn.closed.load(Ordering::Acquire)
    }

    /// Sends one request on a new stream and reads the whole response; `fields` are the
    /// endpoint's [`head_fields`].
    pub(crate) async fn exchange(&mut self, ep: &Endpoint, fields: &HeaderMap) -> Outcome {
        let sent_at = Instant::now();
        let result = Box::pin(async {
            let resp = self.send(ep, fields).await?;
            let status = resp.status().as_u16();
            let mut bytes = head_bytes(resp.headers());
            let mut body = resp.into_body();
            read_body(&mut body, |d| {
                bytes += d.len() as u64;
                Ok(())
            })
            .await?;
            // Trailers count as header fields (without a status line and blank line).
            if let Some(t) = body.trailers().await.map_err(|e| body_error(&e))? {
                bytes += head_bytes(&t).saturating_sub(19);
            }
            Ok((status, bytes))
        })
        .await;
        Outcome {
            sent_at,
            result: result.map(|(status, bytes_in)| (status, bytes_in, ep.bytes_out)),
            reusable: true,
        }
    }

    /// Opens a stream for the request of `ep` (header fields `fields`), sends it, and waits
    /// for the response head.
    /// When it fails before the stream was opened, [`Handle::unsent`] is set.
    ///
    /// A stream the server refuses (RST_STREAM with REFUSED_STREAM) was not processed, so
    /// it is sent once more (RFC 9113, section 8.7): this covers the start of a connection,
    /// before the server's SETTINGS (and its stream limit) have arrived. A second refusal
    /// is counted as [`ErrorKind::Http2RefusedStream`].
    pub(crate) async fn send(
        &mut self,
        ep: &Endpoint,
        fields: &HeaderMap,
    ) -> Result<Response<RecvStream>, ErrorKind> {
        let mut refused = false;
        self.unsent = false;
        loop {
            let opened = match poll_fn(|cx| self.conn.sender.poll_ready(cx)).await {
                Ok(()) => self
                    .conn
                    .sender
                    .send_request(request(ep, fields), ep.body.is_empty()),
                Err(e) => Err(e),
            };
            let (response, mut send) = match opened {
                Ok(s) => s,
                Err(e) => {
                    if connection_gone(&e) {
                        self.conn.closed.store(true, Ordering::Release);
                        self.unsent = true;
                    }
                    return Err(classify_h2(&e));
                }
            };
            if !ep.body.is_empty() {
                // Buffered by h2 and written as the peer's windows allow.
                if let Err(e) = send.send_data(ep.body.clone(), true) {
                    return Err(classify_h2(&e));
                }
            }
            match response.await {
                Ok(resp) => return Ok(resp),
                Err(e) => match classify_h2(&e) {
                    ErrorKind::Http2RefusedStream if !refused => refused = true,
                    kind => {
                        if connection_gone(&e) {
                            self.conn.closed.store(true, Ordering::Release);
                        }
                        return Err(kind);
                    }
                },
            }
        }
    }
}

impl Transport {
    /// A stream handle for slot `slot_id` on its connection to origin `origin`, opening
    /// the connection if it is missing or closed.
    pub(crate) async fn h2_handle(
        &self,
        origin: usize,
        slot_id: usize,
    ) -> Result<Joined<Handle>, ErrorKind> {
        let joined = self
            .join_shared(
                &self.h2_pools[origin],
                origin,
                slot_id,
                |c: &Shared| !c.closed.load(Ordering::Acquire),
                |stream| self.h2_handshake(stream),
            )
            .await?;
        Ok(joined.map(|conn| Handle {
            conn,
            unsent: false,
        }))
    }

    async fn h2_handshake(&self, stream: Stream) -> Result<Shared, ErrorKind> {
        let handshake = ::h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_header_list_size(MAX_HEADER_LIST)
            .max_send_buffer_size(MAX_SEND_BUFFER)
            .enable_push(false)
            .handshake::<_, Bytes>(stream);
        let (sender, conn) = handshake
            .await
            .map_err(|e| self.failed(classify_h2(&e), || format!("HTTP/2 handshake: {e}")))?;
        let closed = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&closed);
        tokio::spawn(async move {
            // The connection's end is what its streams see; its error reaches them too.
            let _ = conn.await;
            flag.store(true, Ordering::Release);
        });
        Ok(Shared { sender, closed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_fields_are_stripped_and_te_trailers_kept() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "a".parse().unwrap());
        h.insert(header::CONNECTION, "close".parse().unwrap());
        h.insert("keep-alive", "5".parse().unwrap());
        h.insert(header::TE, "trailers".parse().unwrap());
        h.insert("x-a", "1".parse().unwrap());
        strip_connection_fields(&mut h);
        let mut names: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["te", "x-a"]);
        h.insert(header::TE, "gzip".parse().unwrap());
        strip_connection_fields(&mut h);
        assert!(!h.contains_key(header::TE));
    }
}
