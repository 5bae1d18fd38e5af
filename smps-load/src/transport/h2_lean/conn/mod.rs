//! The driver of one HTTP/2 connection: a task that owns the socket, takes the slots'
//! requests in batches, writes their frames, reads and parses the server's frames in one
//! buffer, and hands each slot its answer.
//!
//! Each round of [`Driver::poll_drive`] meets the slots once (answers out, requests in,
//! under one lock), opens streams as the server's limit allows, reads until the socket has
//! nothing more, and writes everything produced in one go.
//!
//! One file per part: this one drives the connection (the loop, meeting the slots, socket
//! reads and writes, the end); `inbound.rs` handles the server's frames; `streams.rs` keeps
//! the table of streams in flight and sends requests and their bodies.

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::hash::BuildHasherDefault;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use self::streams::{IdHasher, Open};
use super::frame::{self, code, setting};
use super::{Answer, Ask, Failure, Shared, State, Why};
use crate::ErrorKind;
use crate::transport::Endpoint;
use crate::transport::classify::classify_io;
use crate::transport::hpack::Decoder;
use crate::transport::stream::Stream;

mod inbound;
mod streams;
#[cfg(test)]
mod tests;

/// Initial stream window we grant (bytes).
const STREAM_WINDOW: u32 = 4 << 20;
/// Connection window we grant (bytes).
const CONNECTION_WINDOW: u32 = 16 << 20;
/// Largest response header list accepted (bytes, as HPACK counts them).
const MAX_HEADER_LIST: u32 = 64 << 10;
/// The HPACK dynamic table size we allow the server (the protocol's default).
const HEADER_TABLE: u32 = 4096;
/// Most bytes of one compressed header block (all its fragments).
const MAX_BLOCK: usize = 256 << 10;
/// The read buffer: room for several frames of the largest size we accept.
const READ_BUFFER: usize = 64 << 10;
/// Bytes waiting to be written above which no new streams are opened until they drain.
const WRITE_HIGH: usize = 256 << 10;
/// Write-buffer capacity kept after a burst (large request bodies).
const WRITE_KEEP: usize = 1 << 20;
/// Rounds of work in one poll before the driver yields to other tasks.
const BUDGET: usize = 16;
/// Socket reads in one round.
const READS_PER_ROUND: usize = 8;
/// The largest stream identifier.
const MAX_STREAM_ID: u32 = (1 << 31) - 1;

/// An answer for a slot: its cell, the cell's round it asked in, and the answer.
type Done = (u32, u32, Result<Answer, Failure>);

/// The connection's driver (see the module docs).
pub(crate) struct Driver {
    io: Stream,
    shared: Weak<Shared>,
    endpoints: Arc<Vec<Endpoint>>,
    /// Request header blocks, by endpoint.
    blocks: Arc<Vec<Vec<u8>>>,
    grpc: bool,
    hpack: Decoder,
    rbuf: Box<[u8]>,
    rstart: usize,
    rend: usize,
    out: Vec<u8>,
    out_at: usize,
    /// Bytes were written since the last flush (TLS buffers).
    unflushed: bool,
    settings_seen: bool,
    peer_max_streams: usize,
    peer_max_frame: usize,
    peer_window: i64,
    /// The server's connection window.
    send_window: i64,
    /// DATA bytes received on the connection and not yet given back.
    recv_unacked: u32,
    next_id: u32,
    /// Set when the connection takes no new streams (the server's GOAWAY, or every stream
    /// id used): what new requests get.
    closing: Option<Failure>,
    /// Streams in flight, by cell.
    streams: Vec<Option<Open>>,
    ids: HashMap<u32, u32, BuildHasherDefault<IdHasher>>,
    active: usize,
    /// Requests waiting for a stream (the flag: refused once already).
    waiting: VecDeque<(Ask, bool)>,
    /// Streams whose body waits for window (cell, stream id).
    blocked: Vec<(u32, u32)>,
    /// The header block being assembled from CONTINUATION frames.
    block: Vec<u8>,
    /// The stream of the block being assembled, and whether its HEADERS ended the stream.
    continuation: Option<(u32, bool)>,
    /// Answers for the slots.
    done: Vec<Done>,
    asks: Vec<Ask>,
    cancels: Vec<(u32, u32)>,
    wakers: Vec<Waker>,
    /// The error code our GOAWAY carries when we end the connection for an error.
    error_code: u32,
    ended: bool,
}

impl Driver {
    /// A driver for a new connection on `io`; the preface and our SETTINGS are queued.
    pub(crate) fn new(
        io: Stream,
        shared: Weak<Shared>,
        cells: usize,
        endpoints: Arc<Vec<Endpoint>>,
        blocks: Arc<Vec<Vec<u8>>>,
        grpc: bool,
    ) -> Self {
        let mut out = Vec::with_capacity(16 << 10);
        out.extend_from_slice(frame::PREFACE);
        frame::put_settings(
            &mut out,
            &[
                (setting::ENABLE_PUSH, 0),
                (setting::INITIAL_WINDOW_SIZE, STREAM_WINDOW),
                (setting::MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST),
            ],
        );
        frame::put_window_update(
            &mut out,
            0,
            CONNECTION_WINDOW - frame::DEFAULT_WINDOW as u32,
        );
        Driver {
            io,
            shared,
            endpoints,
            blocks,
            grpc,
            hpack: Decoder::new(HEADER_TABLE as usize, MAX_HEADER_LIST as usize),
            rbuf: vec![0; READ_BUFFER].into_boxed_slice(),
            rstart: 0,
            rend: 0,
            out,
            out_at: 0,
            unflushed: false,
            settings_seen: false,
            peer_max_streams: usize::MAX,
            peer_max_frame: frame::DEFAULT_MAX_FRAME,
            peer_window: frame::DEFAULT_WINDOW,
            send_window: frame::DEFAULT_WINDOW,
            recv_unacked: 0,
            next_id: 1,
            closing: None,
            streams: (0..cells).map(|_| None).collect(),
            ids: HashMap::default(),
            active: 0,
            waiting: VecDeque::new(),
            blocked: Vec::new(),
            block: Vec::new(),
            continuation: None,
            done: Vec::new(),
            asks: Vec::new(),
            cancels: Vec::new(),
            wakers: Vec::new(),
            error_code: code::NO_ERROR,
            ended: false,
        }
    }

    /// Writes the preface and reads until the server's SETTINGS arrived.
    pub(crate) fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        loop {
            if let Err(f) = self.poll_write(cx) {
                return Poll::Ready(Err(f));
            }
            let progress = match self.read_frames(cx) {
                Ok(p) => p,
                Err(f) => {
                    self.say_goaway(cx);
                    return Poll::Ready(Err(f));
                }
            };
            if self.settings_seen {
                return Poll::Ready(Ok(()));
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }

    /// Drives the connection until it ends.
    pub(crate) async fn run(mut self) {
        poll_fn(|cx| self.poll_drive(cx)).await;
    }

    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        for _ in 0..BUDGET {
            let Some(shared) = self.shared.upgrade() else {
                // Every slot and the pool let go: nobody waits for anything.
                self.ended = true;
                return Poll::Ready(());
            };
            let mut progress = self.meet(&shared, cx);
            drop(shared);
            for w in self.wakers.drain(..) {
                w.wake();
            }
            self.take_work();
            match self.read_frames(cx) {
                Ok(p) => progress |= p,
                Err(f) => {
                    self.fail_connection(cx, f);
                    return Poll::Ready(());
                }
            }
            self.open_streams();
            if let Err(f) = self.poll_write(cx) {
                self.end(f);
                return Poll::Ready(());
            }
            if self.closing.is_some() && self.active == 0 && self.out_at == self.out.len() {
                self.end(Failure {
                    kind: ErrorKind::ConnectionClosed,
                    unsent: true,
                    why: Why::Closed,
                });
                return Poll::Ready(());
            }
            if !progress && self.done.is_empty() {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Meets the slots: hands over answers, takes new requests and cancels, says whether
    /// the connection takes new streams, and leaves the driver's waker for the next
    /// request. Returns whether there is new work.
    fn meet(&mut self, shared: &Shared, cx: &mut Context<'_>) -> bool {
        let mut guard = shared.lock();
        let st = &mut *guard;
        deliver(st, &mut self.done, &mut self.wakers);
        std::mem::swap(&mut st.asks, &mut self.asks);
        std::mem::swap(&mut st.cancels, &mut self.cancels);
        if let Some(f) = self.closing {
            st.closed = Some(f);
            shared.closed.store(true, Ordering::Release);
        }
        match &st.driver {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.driver = Some(cx.waker().clone()),
        }
        st.driver_idle = true;
        !self.asks.is_empty() || !self.cancels.is_empty()
    }

    /// Applies cancels and queues new requests.
    fn take_work(&mut self) {
        let mut cancels = std::mem::take(&mut self.cancels);
        for (cell, round) in cancels.drain(..) {
            if self.streams[cell as usize]
                .as_ref()
                .is_some_and(|s| s.round == round)
            {
                self.reset(cell, code::CANCEL);
            }
            self.waiting
                .retain(|(a, _)| !(a.cell == cell && a.round == round));
        }
        self.cancels = cancels;
        let mut asks = std::mem::take(&mut self.asks);
        for ask in asks.drain(..) {
            match self.closing {
                Some(f) => self.done.push((ask.cell, ask.round, Err(f))),
                None => self.waiting.push_back((ask, false)),
            }
        }
        self.asks = asks;
    }

    /// Reads what the socket has and handles every complete frame. Returns whether
    /// anything was read.
    fn read_frames(&mut self, cx: &mut Context<'_>) -> Result<bool, Failure> {
        let mut progress = false;
        for _ in 0..READS_PER_ROUND {
            self.parse_buffered()?;
            if self.rbuf.len() - self.rend < frame::DEFAULT_MAX_FRAME + frame::HEADER_LEN {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            }
            let mut rb = ReadBuf::new(&mut self.rbuf[self.rend..]);
            match Pin::new(&mut self.io).poll_read(cx, &mut rb) {
                Poll::Pending => return Ok(progress),
                Poll::Ready(Err(e)) => {
                    return Err(Failure {
                        kind: classify_io(&e),
                        unsent: false,
                        why: Why::Io(e.kind()),
                    });
                }
                Poll::Ready(Ok(())) => {
                    let n = rb.filled().len();
                    if n == 0 {
                        return Err(Failure {
                            kind: ErrorKind::ConnectionClosed,
                            unsent: false,
                            why: Why::Closed,
                        });
                    }
                    self.rend += n;
                    progress = true;
                }
            }
        }
        self.parse_buffered()?;
        Ok(progress)
    }

    /// Writes what is buffered, as far as the socket takes it.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Result<(), Failure> {
        let io_failure = |e: std::io::Error| Failure {
            kind: classify_io(&e),
            unsent: false,
            why: Why::Io(e.kind()),
        };
        while self.out_at < self.out.len() {
            match Pin::new(&mut self.io).poll_write(cx, &self.out[self.out_at..]) {
                Poll::Pending => return Ok(()),
                Poll::Ready(Ok(0)) => {
                    return Err(Failure {
                        kind: ErrorKind::ConnectionClosed,
                        unsent: false,
                        why: Why::Closed,
                    });
                }
                Poll::Ready(Ok(n)) => {
                    self.out_at += n;
                    self.unflushed = true;
                }
                Poll::Ready(Err(e)) => return Err(io_failure(e)),
            }
        }
        self.out.clear();
        self.out_at = 0;
        if self.out.capacity() > WRITE_KEEP {
            self.out.shrink_to(WRITE_KEEP);
        }
        if self.unflushed {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(e)) => return Err(io_failure(e)),
                Poll::Pending => {}
            }
        }
        Ok(())
    }

    /// Ends the connection for an error: GOAWAY (best effort), then every stream fails.
    fn fail_connection(&mut self, cx: &mut Context<'_>, f: Failure) {
        self.say_goaway(cx);
        self.end(f);
    }

    /// After a connection error of the server's making, tells it with GOAWAY (best
    /// effort: what the socket takes now).
    fn say_goaway(&mut self, cx: &mut Context<'_>) {
        if self.error_code != code::NO_ERROR {
            frame::put_goaway(&mut self.out, self.error_code);
            let _ = self.poll_write(cx);
        }
    }

    /// Ends the connection: streams in flight get `f`, waiting and later requests get it
    /// as unsent (they may go to a new connection).
    fn end(&mut self, f: Failure) {
        self.ended = true;
        let unsent = self.closing.unwrap_or(f.unsent());
        for cell in 0..self.streams.len() as u32 {
            if let Some(s) = self.remove(cell) {
                self.done.push((cell, s.round, Err(f)));
            }
        }
        for (ask, _) in self.waiting.drain(..) {
            self.done.push((ask.cell, ask.round, Err(unsent)));
        }
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        {
            let mut guard = shared.lock();
            let st = &mut *guard;
            st.closed = Some(unsent);
            shared.closed.store(true, Ordering::Release);
            for ask in st.asks.drain(..) {
                self.done.push((ask.cell, ask.round, Err(unsent)));
            }
            deliver(st, &mut self.done, &mut self.wakers);
            st.driver = None;
        }
        drop(shared);
        for w in self.wakers.drain(..) {
            w.wake();
        }
    }
}

impl Drop for Driver {
    /// A driver dropped before its connection ended (the runtime shut down, or the
    /// handshake timed out) still answers every slot.
    fn drop(&mut self) {
        if !self.ended {
            self.end(Failure {
                kind: ErrorKind::ConnectionClosed,
                unsent: false,
                why: Why::Closed,
            });
        }
    }
}

/// Hands answers to their cells (an answer to an abandoned request is dropped) and collects
/// the wakers of the slots to wake once the lock is released.
fn deliver(st: &mut State, done: &mut Vec<Done>, wakers: &mut Vec<Waker>) {
    for (cell, round, r) in done.drain(..) {
        let c = &mut st.cells[cell as usize];
        if c.round == round {
            c.done = Some(r);
            if let Some(w) = c.waker.take() {
                wakers.push(w);
            }
        }
    }
}
