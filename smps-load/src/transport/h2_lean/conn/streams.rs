//! The streams in flight: opening them for waiting requests as the server's limit allows,
//! sending request bodies as the windows allow, and ending them (answered, reset, refused,
//! or turned away by GOAWAY).

use std::hash::Hasher;

use super::{Driver, MAX_STREAM_ID, WRITE_HIGH};
use crate::ErrorKind;
use crate::transport::h2_lean::frame::{self, code, flag, kind};
use crate::transport::h2_lean::{Answer, Failure, GrpcEnd, Why};

/// A stream in flight.
pub(super) struct Open {
    /// The stream identifier.
    pub(super) id: u32,
    /// The round of the cell that asked.
    pub(super) round: u32,
    /// The endpoint index.
    pub(super) ep: u32,
    /// The response status; 0 until the response head arrived.
    pub(super) status: u16,
    /// Bytes received so far, as HTTP/1.1 would count them.
    pub(super) bytes_in: u64,
    /// Request body bytes sent.
    pub(super) body_sent: usize,
    /// The server's window for this stream.
    pub(super) send_window: i64,
    /// Body bytes received and not yet given back by WINDOW_UPDATE.
    pub(super) recv_unacked: u32,
    /// gRPC: what the response said so far.
    pub(super) grpc: Option<GrpcEnd>,
    /// The server refused this request once already.
    pub(super) refused: bool,
}

/// Hashes stream identifiers (small odd integers) for the id → cell map.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b) ^ (self.0 as u32));
        }
    }

    fn write_u32(&mut self, v: u32) {
        let h = u64::from(v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 29);
    }
}

impl Driver {
    /// Opens streams for waiting requests while the server's limit and the write buffer
    /// allow.
    pub(super) fn open_streams(&mut self) {
        while self.closing.is_none()
            && self.active < self.peer_max_streams
            && self.out.len() - self.out_at < WRITE_HIGH
        {
            let Some((ask, refused)) = self.waiting.pop_front() else {
                break;
            };
            if self.next_id > MAX_STREAM_ID {
                // Every stream id is used: new requests go to a new connection.
                self.waiting.push_front((ask, refused));
                self.stop_new(
                    self.next_id - 2,
                    Failure {
                        kind: ErrorKind::ConnectionClosed,
                        unsent: true,
                        why: Why::Closed,
                    },
                );
                break;
            }
            let cell = ask.cell as usize;
            if self.streams[cell].is_some() {
                // The slot abandoned its last request and its cancel is still on the way.
                self.reset(ask.cell, code::CANCEL);
            }
            let id = self.next_id;
            self.next_id += 2;
            let ep = &self.endpoints[ask.ep as usize];
            frame::put_headers(
                &mut self.out,
                id,
                &self.blocks[ask.ep as usize],
                ep.body.is_empty(),
                self.peer_max_frame,
            );
            let has_body = !ep.body.is_empty();
            self.streams[cell] = Some(Open {
                id,
                round: ask.round,
                ep: ask.ep,
                status: 0,
                bytes_in: 0,
                body_sent: 0,
                send_window: self.peer_window,
                recv_unacked: 0,
                grpc: self.grpc.then(GrpcEnd::default),
                refused,
            });
            self.ids.insert(id, ask.cell);
            self.active += 1;
            if has_body {
                self.send_body(ask.cell);
            }
        }
    }

    /// Sends as much of a stream's request body as the windows allow.
    pub(super) fn send_body(&mut self, cell: u32) {
        let Some(s) = self.streams[cell as usize].as_mut() else {
            return;
        };
        let body = &self.endpoints[s.ep as usize].body;
        while s.body_sent < body.len() {
            let room = s
                .send_window
                .min(self.send_window)
                .min(self.peer_max_frame as i64);
            if room <= 0 {
                self.blocked.push((cell, s.id));
                return;
            }
            let n = (body.len() - s.body_sent).min(room as usize);
            let last = s.body_sent + n == body.len();
            let flags = if last { flag::END_STREAM } else { 0 };
            frame::put_head(&mut self.out, n, kind::DATA, flags, s.id);
            self.out
                .extend_from_slice(&body[s.body_sent..s.body_sent + n]);
            s.body_sent += n;
            s.send_window -= n as i64;
            self.send_window -= n as i64;
        }
    }

    /// Sends what windows now allow of the bodies that waited.
    pub(super) fn send_blocked(&mut self) {
        let mut blocked = std::mem::take(&mut self.blocked);
        for (cell, id) in blocked.drain(..) {
            if self.streams[cell as usize]
                .as_ref()
                .is_some_and(|s| s.id == id)
            {
                self.send_body(cell);
            }
        }
        if self.blocked.is_empty() {
            self.blocked = blocked;
        }
    }

    /// Takes a stream out of the table.
    pub(super) fn remove(&mut self, cell: u32) -> Option<Open> {
        let s = self.streams[cell as usize].take()?;
        self.ids.remove(&s.id);
        self.active -= 1;
        Some(s)
    }

    /// Resets a stream of ours (its slot gets nothing).
    pub(super) fn reset(&mut self, cell: u32, code: u32) {
        if let Some(s) = self.remove(cell) {
            frame::put_rst_stream(&mut self.out, s.id, code);
        }
    }

    /// A stream ended in error: reset it and tell its slot.
    pub(super) fn stream_error(&mut self, cell: u32, code: u32, failure: Failure) {
        if let Some(s) = self.remove(cell) {
            frame::put_rst_stream(&mut self.out, s.id, code);
            self.done.push((cell, s.round, Err(failure)));
        }
    }

    /// The response of a stream is complete.
    pub(super) fn complete(&mut self, cell: u32) {
        let Some(s) = self.remove(cell) else { return };
        if s.body_sent < self.endpoints[s.ep as usize].body.len() {
            // Answered before the request body was all sent: stop sending it.
            frame::put_rst_stream(&mut self.out, s.id, code::NO_ERROR);
        }
        self.done.push((
            cell,
            s.round,
            Ok(Answer {
                status: s.status,
                bytes_in: s.bytes_in,
                grpc: s.grpc,
            }),
        ));
    }

    /// No new streams: those above `last` and the waiting requests get `failure`.
    pub(super) fn stop_new(&mut self, last: u32, failure: Failure) {
        self.closing.get_or_insert(failure);
        for cell in 0..self.streams.len() as u32 {
            if self.streams[cell as usize]
                .as_ref()
                .is_some_and(|s| s.id > last)
            {
                if let Some(s) = self.remove(cell) {
                    self.done.push((cell, s.round, Err(failure)));
                }
            }
        }
        for (ask, _) in self.waiting.drain(..) {
            self.done.push((ask.cell, ask.round, Err(failure)));
        }
    }
}
