//! HTTP/2 multiplexing: N connections × M streams.
//!
//! Each concurrency slot is a *stream handle* on a connection shared with other slots:
//! slot `s` uses connection `s / M` of its origin, so M slots share each connection and
//! every slot has at most one stream in flight. The connections live in a pool per origin;
//! the first slot that finds its connection missing or closed opens it (the others wait
//! for it on the entry's lock, so a lost connection causes one reconnect, not M).
//!
//! hyper's HTTP/2 client (the `h2` crate) drives each connection on its own task and
//! enforces the server's `SETTINGS_MAX_CONCURRENT_STREAMS` (a stream beyond the limit waits
//! until one closes; that wait is part of its service time) and flow control (windows
//! raised to 4 MiB per stream and 16 MiB per connection, so large bodies do not stall on
//! the 64 KiB defaults).

use std::sync::{Arc, Mutex, PoisonError};

use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::time::Instant;

use super::classify::classify_hyper;
use super::http1::{Body, read_response, request};
use super::stream::Stream;
use super::{Endpoint, Origin, Outcome, Transport};
use crate::ErrorKind;

/// Initial stream window (bytes).
const STREAM_WINDOW: u32 = 4 << 20;
/// Initial connection window (bytes).
const CONNECTION_WINDOW: u32 = 16 << 20;

/// One pooled connection: the current sender, replaced when the connection is lost.
#[derive(Default)]
pub(crate) struct Entry {
    current: tokio::sync::Mutex<Option<SendRequest<Body>>>,
}

/// The connections to one origin.
#[derive(Default)]
pub(crate) struct Pool {
    entries: Mutex<Vec<Arc<Entry>>>,
}

impl Pool {
    fn entry(&self, index: usize) -> Arc<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        while entries.len() <= index {
            entries.push(Arc::new(Entry::default()));
        }
        Arc::clone(&entries[index])
    }
}

/// A slot's stream handle on a shared connection.
pub(crate) struct Handle {
    sender: SendRequest<Body>,
    /// The last request failed before its stream was opened (the connection had gone
    /// away underneath), so it may be sent again on a new connection.
    pub(crate) unsent: bool,
}

impl Handle {
    /// Whether the connection still takes new streams.
    pub(crate) fn alive(&self) -> bool {
        !self.sender.is_closed()
    }

    /// Sends one request on a new stream and reads the whole response.
    pub(crate) async fn exchange(&mut self, ep: &Endpoint) -> Outcome {
        let sent_at = Instant::now();
        let result = Box::pin(async {
            let resp = self.send(ep).await?;
            read_response(resp).await
        })
        .await;
        Outcome {
            sent_at,
            result: result.map(|(status, bytes_in)| (status, bytes_in, ep.bytes_out)),
            reusable: true,
        }
    }

    /// Sends the request of `ep` on a new stream and waits for the response head. When it
    /// fails before the stream was opened, [`Handle::unsent`] is set.
    ///
    /// A stream the server refuses (RST_STREAM with REFUSED_STREAM) was not processed, so
    /// it is sent once more (RFC 9113, section 8.7): this covers the start of a connection,
    /// before the server's SETTINGS (and its stream limit) have arrived. A second refusal
    /// is counted as [`ErrorKind::Http2RefusedStream`].
    pub(crate) async fn send(
        &mut self,
        ep: &Endpoint,
    ) -> Result<http::Response<hyper::body::Incoming>, ErrorKind> {
        let mut refused = false;
        loop {
            self.sender.ready().await.map_err(|e| classify_hyper(&e))?;
            match self.sender.send_request(request(ep, true)).await {
                Ok(resp) => return Ok(resp),
                Err(e) => match classify_hyper(&e) {
                    ErrorKind::Http2RefusedStream if !refused => refused = true,
                    kind => return Err(kind),
                },
            }
        }
    }
}

/// What a slot gets when it asks for an HTTP/2 stream handle.
pub(crate) enum Got {
    /// A handle on a pooled connection; `true` if this call opened the connection.
    Handle(Handle, bool),
    /// TLS agreed on HTTP/1.1 only: the slot speaks HTTP/1.1 on this stream of its own.
    Http1(Stream),
}

impl Transport {
    /// The HTTP/2 connection index of slot `slot_id`.
    fn h2_connection_of(&self, slot_id: usize) -> usize {
        slot_id / self.streams_per_connection.max(1)
    }

    /// A stream handle for slot `slot_id` on its connection to origin `origin`, opening
    /// the connection if it is missing or closed.
    pub(crate) async fn h2_handle(&self, origin: usize, slot_id: usize) -> Result<Got, ErrorKind> {
        let entry = self.h2_pools[origin].entry(self.h2_connection_of(slot_id));
        let mut current = entry.current.lock().await;
        if let Some(s) = current.as_ref() {
            if !s.is_closed() {
                return Ok(Got::Handle(
                    Handle {
                        sender: s.clone(),
                        unsent: false,
                    },
                    false,
                ));
            }
        }
        *current = None;
        let (stream, alpn_h2) = self.connect_stream(&self.origins[origin]).await?;
        if self.origins[origin].https && !alpn_h2 {
            if self.protocol == super::Protocol::Grpc {
                return Err(self.failed(ErrorKind::Protocol, || {
                    format!(
                        "{} did not agree on HTTP/2 by ALPN, which gRPC needs",
                        self.origins[origin].host
                    )
                }));
            }
            return Ok(Got::Http1(stream));
        }
        let sender = self.h2_handshake(&self.origins[origin], stream).await?;
        *current = Some(sender.clone());
        Ok(Got::Handle(
            Handle {
                sender,
                unsent: false,
            },
            true,
        ))
    }

    async fn h2_handshake(
        &self,
        origin: &Origin,
        stream: Stream,
    ) -> Result<SendRequest<Body>, ErrorKind> {
        let mut builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
        builder
            .initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW);
        let handshake = builder.handshake(TokioIo::new(stream));
        let (sender, conn) = tokio::time::timeout(self.connect_timeout, handshake)
            .await
            .map_err(|_| {
                self.failed(ErrorKind::ConnectTimeout, || {
                    format!(
                        "the HTTP/2 handshake with {} did not finish within the connect timeout ({:?})",
                        origin.host, self.connect_timeout
                    )
                })
            })?
            .map_err(|e| self.failed(classify_hyper(&e), || format!("HTTP/2 handshake: {e}")))?;
        tokio::spawn(async move {
            // The connection's end is observed by its senders; its error is not needed.
            let _ = conn.await;
        });
        Ok(sender)
    }
}
