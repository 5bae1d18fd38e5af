//! The engine's own HTTP/2 client (the default, [`Http2Client::Lean`](crate::Http2Client)):
//! built for the load generator's hot path, as `raw.rs` is for HTTP/1.1.
//!
//! - Each connection is driven by one task (`conn/`) that owns the socket, one read
//!   buffer and one write buffer. It opens streams, writes frames in batches, parses
//!   responses in place and hands each slot its answer.
//! - A request's header block is HPACK-encoded once per endpoint (literals without
//!   indexing, so there is no encoder state); opening a stream copies it after a frame
//!   header. Responses are decoded with a full HPACK decoder (`transport/hpack`), and
//!   bodies are counted (and gRPC messages deframed) without being kept.
//! - Slots and the driver meet in a small locked [`State`]: a slot pushes its request and
//!   waits on its fixed cell (one per slot sharing the connection: no allocation, no
//!   channel per request); the driver takes every waiting request at once, and hands
//!   answers back in one lock per batch.
//!
//! What HTTP/2 asks of a client is all here: the preface and SETTINGS exchange (requests
//! wait for the server's SETTINGS, so its stream limit is known before the first stream),
//! `SETTINGS_MAX_CONCURRENT_STREAMS` (streams beyond it wait in the driver's queue, which
//! is part of their service time), flow control both ways (windows raised to 4 MiB per
//! stream and 16 MiB per connection; request bodies sent as the server's windows allow),
//! CONTINUATION, padding, PING, GOAWAY (streams above its last id are retried on a new
//! connection), RST_STREAM (a refused stream is sent once more, RFC 9113 section 8.7), and
//! connection errors answered with GOAWAY.

mod conn;
mod frame;

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use http::HeaderMap;

use super::grpc::Deframer;
use super::hpack::{HpackError, encode_field};
use super::stream::Stream;
use super::{Endpoint, Transport};
use crate::ErrorKind;

pub(crate) use self::frame::code_name;

/// What a finished stream produced.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The response status.
    pub(crate) status: u16,
    /// Bytes received: status line and header fields as HTTP/1.1 text, body, trailers.
    pub(crate) bytes_in: u64,
    /// gRPC: what the response said (`None` for plain HTTP requests).
    pub(crate) grpc: Option<GrpcEnd>,
}

/// The gRPC part of a response.
#[derive(Debug, Default)]
pub(crate) struct GrpcEnd {
    /// `grpc-status`, when present and a number (from the trailers when there are any).
    pub(crate) status: Option<u32>,
    /// `grpc-message`, percent-decoded.
    pub(crate) message: Option<String>,
    /// The response messages.
    pub(crate) messages: Deframer,
}

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    /// How it is counted.
    pub(crate) kind: ErrorKind,
    /// The request never reached the server (no stream was opened, or the server's GOAWAY
    /// said it was not processed): it may be sent again on a new connection.
    pub(crate) unsent: bool,
    /// What happened, for the report.
    pub(crate) why: Why,
}

/// What happened to a failed request, for the report's first reason of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// The server reset the stream with this error code.
    Reset(u32),
    /// The server sent GOAWAY with this error code.
    GoAway(u32),
    /// The server broke the protocol (or a limit) as described.
    Broken(&'static str),
    /// A response header block could not be decoded.
    Hpack(HpackError),
    /// Reading or writing the connection failed.
    Io(std::io::ErrorKind),
    /// The connection ended.
    Closed,
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Reset(c) => write!(f, "the server reset the stream ({})", code_name(*c)),
            Why::GoAway(c) => write!(f, "the server sent GOAWAY ({})", code_name(*c)),
            Why::Broken(what) => write!(f, "HTTP/2 protocol error: {what}"),
            Why::Hpack(e) => write!(f, "HTTP/2 header block: {e}"),
            Why::Io(k) => write!(f, "HTTP/2 connection: {k}"),
            Why::Closed => f.write_str("the HTTP/2 connection closed"),
        }
    }
}

impl Failure {
    /// A failure of a request that was not sent.
    fn unsent(self) -> Self {
        Failure {
            unsent: true,
            ..self
        }
    }
}

/// A request waiting for the driver.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ask {
    /// The cell of the slot that asked.
    pub(crate) cell: u32,
    /// The cell's generation when it asked (answers to older generations are dropped).
    pub(crate) round: u32,
    /// The endpoint index.
    pub(crate) ep: u32,
}

/// One slot's place on a connection.
#[derive(Default)]
pub(crate) struct Cell {
    /// Bumped for every request, so a late answer to an abandoned one is recognised.
    pub(crate) round: u32,
    /// The answer, once there is one.
    pub(crate) done: Option<Result<Answer, Failure>>,
    /// The slot's task, woken with the answer.
    pub(crate) waker: Option<Waker>,
}

/// What slots and the driver share, under one lock.
pub(crate) struct State {
    /// Requests the driver has not taken yet.
    pub(crate) asks: Vec<Ask>,
    /// Requests abandoned by their slot (cell, generation): the driver resets their streams.
    pub(crate) cancels: Vec<(u32, u32)>,
    /// One per slot sharing the connection.
    pub(crate) cells: Vec<Cell>,
    /// The driver's task.
    pub(crate) driver: Option<Waker>,
    /// The driver may be waiting: the next request wakes it (later ones need not).
    pub(crate) driver_idle: bool,
    /// Set when the connection takes no more streams: why.
    pub(crate) closed: Option<Failure>,
}

/// A connection as its slots see it.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    /// Whether the connection takes no more streams (read without the lock).
    pub(crate) closed: AtomicBool,
}

impl Shared {
    fn new(cells: usize) -> Self {
        Shared {
            state: Mutex::new(State {
                asks: Vec::new(),
                cancels: Vec::new(),
                cells: (0..cells).map(|_| Cell::default()).collect(),
                driver: None,
                driver_idle: false,
                closed: None,
            }),
            closed: AtomicBool::new(false),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Shared {
    /// The last slot and the pool let go of the connection: the driver closes it.
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = st.driver.take() {
            w.wake();
        }
    }
}

/// A slot's handle on a shared connection.
pub(crate) struct Handle {
    conn: Arc<Shared>,
    cell: u32,
    /// The last request failed without reaching the server, so it may be sent again on a
    /// new connection.
    pub(crate) unsent: bool,
}

impl Handle {
    /// Whether the connection still takes new streams.
    pub(crate) fn alive(&self) -> bool {
        !self.conn.closed.load(Ordering::Acquire)
    }

    /// Sends the request of endpoint `ep` on a new stream and waits for the whole answer.
    ///
    /// Cancel safety: dropping the future abandons the request (its stream is reset).
    pub(crate) async fn call(&mut self, ep: usize) -> Result<Answer, Failure> {
        self.unsent = false;
        let mut call = Call {
            conn: &self.conn,
            cell: self.cell,
            ep: ep as u32,
            round: None,
            finished: false,
        };
        let r = poll_fn(|cx| call.poll(cx)).await;
        if let Err(f) = &r {
            self.unsent = f.unsent;
        }
        r
    }
}

/// One request in flight, from a slot's side.
struct Call<'a> {
    conn: &'a Shared,
    cell: u32,
    ep: u32,
    /// The cell's generation once the request was handed over.
    round: Option<u32>,
    finished: bool,
}

impl Call<'_> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Answer, Failure>> {
        let mut st = self.conn.lock();
        let st = &mut *st;
        let cell = &mut st.cells[self.cell as usize];
        let Some(round) = self.round else {
            if let Some(f) = st.closed {
                self.finished = true;
                return Poll::Ready(Err(f.unsent()));
            }
            cell.round = cell.round.wrapping_add(1);
            cell.done = None;
            cell.waker = Some(cx.waker().clone());
            st.asks.push(Ask {
                cell: self.cell,
                round: cell.round,
                ep: self.ep,
            });
            self.round = Some(cell.round);
            wake_driver(st);
            return Poll::Pending;
        };
        debug_assert_eq!(cell.round, round);
        if let Some(r) = cell.done.take() {
            self.finished = true;
            return Poll::Ready(r);
        }
        match &cell.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => cell.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        let Some(round) = self.round else { return };
        if self.finished {
            return;
        }
        let mut st = self.conn.lock();
        let cell = &mut st.cells[self.cell as usize];
        if cell.round == round {
            cell.done = None;
            cell.waker = None;
        }
        st.cancels.push((self.cell, round));
        wake_driver(&mut st);
    }
}

/// Wakes the driver if it may be waiting for requests.
fn wake_driver(st: &mut State) {
    if st.driver_idle {
        st.driver_idle = false;
        if let Some(w) = &st.driver {
            w.wake_by_ref();
        }
    }
}

/// The header block of `ep`'s request, HPACK-encoded once: pseudo-header fields, then the
/// endpoint's HTTP/2 header fields `fields`.
pub(crate) fn request_block(ep: &Endpoint, fields: &HeaderMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    let uri = &ep.absolute;
    encode_field(&mut out, b":method", ep.method.as_str().as_bytes());
    encode_field(
        &mut out,
        b":scheme",
        uri.scheme_str().unwrap_or("http").as_bytes(),
    );
    if let Some(a) = uri.authority() {
        encode_field(&mut out, b":authority", a.as_str().as_bytes());
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    encode_field(
        &mut out,
        b":path",
        if path.is_empty() {
            b"/"
        } else {
            path.as_bytes()
        },
    );
    for (name, value) in fields {
        encode_field(&mut out, name.as_str().as_bytes(), value.as_bytes());
    }
    out
}

impl Transport {
    /// A stream handle for slot `slot_id` on its connection to `origin` (the connection is
    /// opened, or joined, through the shared pool).
    pub(crate) async fn lean_handle(
        &self,
        origin: usize,
        slot_id: usize,
    ) -> Result<super::pool::Joined<Handle>, ErrorKind> {
        let cell = (slot_id % self.streams_per_connection) as u32;
        let joined = self
            .join_shared(
                &self.lean_pools[origin],
                origin,
                slot_id,
                |c: &Arc<Shared>| !c.closed.load(Ordering::Acquire),
                |stream| self.lean_handshake(stream),
            )
            .await?;
        Ok(joined.map(|conn| Handle {
            conn,
            cell,
            unsent: false,
        }))
    }

    /// Starts HTTP/2 on `stream`: the preface and SETTINGS exchange (the pool bounds it by the
    /// connect timeout), then the connection's driver task.
    async fn lean_handshake(&self, stream: Stream) -> Result<Arc<Shared>, ErrorKind> {
        let shared = Arc::new(Shared::new(self.streams_per_connection));
        let mut driver = conn::Driver::new(
            stream,
            Arc::downgrade(&shared),
            self.streams_per_connection,
            Arc::clone(&self.endpoints),
            Arc::clone(&self.h2_blocks),
            self.protocol == super::Protocol::Grpc,
        );
        poll_fn(|cx| driver.poll_handshake(cx))
            .await
            .map_err(|f| self.failed(f.kind, || format!("HTTP/2 handshake: {}", f.why)))?;
        tokio::spawn(driver.run());
        Ok(shared)
    }
}
