//! The server's frames: parsed from the read buffer and applied to the connection and its
//! streams (response heads and trailers, bodies, resets, settings, windows, PING, GOAWAY);
//! what breaks the protocol ends the connection.

use super::{CONNECTION_WINDOW, Driver, MAX_BLOCK, MAX_STREAM_ID, STREAM_WINDOW};
use crate::ErrorKind;
use crate::transport::grpc::decode_message;
use crate::transport::h2_lean::frame::{self, Head, code, flag, kind, setting};
use crate::transport::h2_lean::{Ask, Failure, Why};

/// What one header block said.
#[derive(Default)]
struct Fields {
    status: Option<u16>,
    /// Header fields as HTTP/1.1 text (`name: value\r\n`).
    bytes: u64,
    grpc_status: Option<u32>,
    grpc_message: Option<String>,
}

impl Fields {
    fn take(&mut self, name: &[u8], value: &[u8], grpc: bool) {
        if name.first() == Some(&b':') {
            if name == b":status" {
                self.status = parse_status(value);
            }
            return;
        }
        self.bytes += (name.len() + value.len() + 4) as u64;
        if grpc {
            if name == b"grpc-status" {
                self.grpc_status = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok());
            } else if name == b"grpc-message" {
                self.grpc_message = Some(decode_message(value));
            }
        }
    }
}

/// A three-digit status code.
fn parse_status(v: &[u8]) -> Option<u16> {
    match v {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

impl Driver {
    /// A connection error of the server's making.
    pub(super) fn broken(&mut self, code: u32, what: &'static str) -> Failure {
        self.error_code = code;
        Failure {
            kind: ErrorKind::Protocol,
            unsent: false,
            why: Why::Broken(what),
        }
    }

    /// Handles every complete frame in the read buffer.
    pub(super) fn parse_buffered(&mut self) -> Result<(), Failure> {
        while self.rend - self.rstart >= frame::HEADER_LEN {
            let at = self.rstart;
            let mut head_bytes = [0u8; frame::HEADER_LEN];
            head_bytes.copy_from_slice(&self.rbuf[at..at + frame::HEADER_LEN]);
            let head = Head::parse(&head_bytes);
            if head.len > frame::DEFAULT_MAX_FRAME {
                return Err(self.broken(
                    code::FRAME_SIZE_ERROR,
                    "a frame larger than SETTINGS_MAX_FRAME_SIZE",
                ));
            }
            let end = at + frame::HEADER_LEN + head.len;
            if end > self.rend {
                break;
            }
            self.rstart = end;
            let buf = std::mem::take(&mut self.rbuf);
            let r = self.on_frame(head, &buf[at + frame::HEADER_LEN..end]);
            self.rbuf = buf;
            r?;
        }
        Ok(())
    }

    pub(super) fn on_frame(&mut self, head: Head, payload: &[u8]) -> Result<(), Failure> {
        if let Some((stream, _)) = self.continuation {
            if head.kind != kind::CONTINUATION || head.stream != stream {
                return Err(self.broken(
                    code::PROTOCOL_ERROR,
                    "a header block interrupted by another frame",
                ));
            }
        }
        if !self.settings_seen && (head.kind != kind::SETTINGS || head.has(flag::ACK)) {
            return Err(self.broken(
                code::PROTOCOL_ERROR,
                "the server's first frame was not SETTINGS",
            ));
        }
        match head.kind {
            kind::DATA => self.on_data(&head, payload),
            kind::HEADERS => {
                if head.stream == 0 {
                    return Err(self.broken(code::PROTOCOL_ERROR, "HEADERS on stream 0"));
                }
                let Some(fragment) = frame::unpadded(&head, payload) else {
                    return Err(self.broken(code::PROTOCOL_ERROR, "padding longer than its frame"));
                };
                let end_stream = head.has(flag::END_STREAM);
                if head.has(flag::END_HEADERS) {
                    self.on_block(head.stream, end_stream, fragment)
                } else {
                    self.block.clear();
                    self.block.extend_from_slice(fragment);
                    self.continuation = Some((head.stream, end_stream));
                    Ok(())
                }
            }
            kind::CONTINUATION => {
                let Some((stream, end_stream)) = self.continuation else {
                    return Err(
                        self.broken(code::PROTOCOL_ERROR, "CONTINUATION without a header block")
                    );
                };
                if self.block.len() + payload.len() > MAX_BLOCK {
                    return Err(
                        self.broken(code::PROTOCOL_ERROR, "a response header block over 256 KiB")
                    );
                }
                self.block.extend_from_slice(payload);
                if !head.has(flag::END_HEADERS) {
                    return Ok(());
                }
                self.continuation = None;
                let block = std::mem::take(&mut self.block);
                let r = self.on_block(stream, end_stream, &block);
                self.block = block;
                r
            }
            kind::RST_STREAM => {
                if head.len != 4 {
                    return Err(self.broken(code::FRAME_SIZE_ERROR, "RST_STREAM of a wrong size"));
                }
                if head.stream == 0 {
                    return Err(self.broken(code::PROTOCOL_ERROR, "RST_STREAM on stream 0"));
                }
                let c = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                self.on_reset(head.stream, c)
            }
            kind::SETTINGS => self.on_settings(&head, payload),
            kind::PUSH_PROMISE => Err(self.broken(
                code::PROTOCOL_ERROR,
                "PUSH_PROMISE although push is disabled",
            )),
            kind::PING => {
                if head.len != 8 || head.stream != 0 {
                    return Err(self.broken(code::FRAME_SIZE_ERROR, "a malformed PING"));
                }
                if !head.has(flag::ACK) {
                    frame::put_ping_ack(&mut self.out, payload);
                }
                Ok(())
            }
            kind::GOAWAY => {
                if head.len < 8 || head.stream != 0 {
                    return Err(self.broken(code::FRAME_SIZE_ERROR, "a malformed GOAWAY"));
                }
                let last = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]])
                    & MAX_STREAM_ID;
                let c = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
                self.stop_new(
                    last,
                    Failure {
                        kind: ErrorKind::Http2GoAway,
                        unsent: true,
                        why: Why::GoAway(c),
                    },
                );
                Ok(())
            }
            kind::WINDOW_UPDATE => {
                if head.len != 4 {
                    return Err(
                        self.broken(code::FRAME_SIZE_ERROR, "WINDOW_UPDATE of a wrong size")
                    );
                }
                let inc = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]])
                    & MAX_STREAM_ID;
                self.on_window(head.stream, inc)
            }
            // PRIORITY is deprecated; unknown frame types are ignored (RFC 9113, 5.5).
            kind::PRIORITY => Ok(()),
            _ => Ok(()),
        }
    }

    /// The cell of a stream the server names, `None` for one already closed (its frames
    /// are ignored); an error for one we never opened.
    pub(super) fn cell_of(
        &mut self,
        stream: u32,
        what: &'static str,
    ) -> Result<Option<u32>, Failure> {
        if let Some(&cell) = self.ids.get(&stream) {
            return Ok(Some(cell));
        }
        if stream % 2 == 0 || stream >= self.next_id {
            return Err(self.broken(code::PROTOCOL_ERROR, what));
        }
        Ok(None)
    }

    pub(super) fn on_data(&mut self, head: &Head, payload: &[u8]) -> Result<(), Failure> {
        if head.stream == 0 {
            return Err(self.broken(code::PROTOCOL_ERROR, "DATA on stream 0"));
        }
        let len = head.len as u32;
        if u64::from(self.recv_unacked) + u64::from(len) > u64::from(CONNECTION_WINDOW) {
            return Err(self.broken(
                code::FLOW_CONTROL_ERROR,
                "more DATA than the connection window",
            ));
        }
        self.recv_unacked += len;
        if self.recv_unacked >= CONNECTION_WINDOW / 2 {
            frame::put_window_update(&mut self.out, 0, self.recv_unacked);
            self.recv_unacked = 0;
        }
        let Some(data) = frame::unpadded(head, payload) else {
            return Err(self.broken(code::PROTOCOL_ERROR, "padding longer than its frame"));
        };
        let Some(cell) = self.cell_of(head.stream, "DATA on a stream the client never opened")?
        else {
            return Ok(());
        };
        let Some(s) = self.streams[cell as usize].as_mut() else {
            return Ok(());
        };
        let end_stream = head.has(flag::END_STREAM);
        if s.status == 0 {
            self.stream_error(
                cell,
                code::PROTOCOL_ERROR,
                protocol("DATA before the response head"),
            );
            return Ok(());
        }
        s.bytes_in += data.len() as u64;
        s.recv_unacked += len;
        if s.recv_unacked > STREAM_WINDOW {
            self.stream_error(
                cell,
                code::FLOW_CONTROL_ERROR,
                protocol("more DATA than the stream window"),
            );
            return Ok(());
        }
        if let Some(g) = &mut s.grpc {
            if g.messages.feed(data).is_err() {
                self.stream_error(
                    cell,
                    code::CANCEL,
                    protocol("a gRPC message with an unknown compression flag"),
                );
                return Ok(());
            }
        }
        if end_stream {
            self.complete(cell);
        } else if s.recv_unacked >= STREAM_WINDOW / 2 {
            frame::put_window_update(&mut self.out, s.id, s.recv_unacked);
            s.recv_unacked = 0;
        }
        Ok(())
    }

    pub(super) fn on_block(
        &mut self,
        stream: u32,
        end_stream: bool,
        block: &[u8],
    ) -> Result<(), Failure> {
        let grpc = self.grpc;
        let mut f = Fields::default();
        // Every block is decoded, also for closed streams: the HPACK table depends on it.
        if let Err(e) = self.hpack.decode(block, |n, v| f.take(n, v, grpc)) {
            self.error_code = code::COMPRESSION_ERROR;
            return Err(Failure {
                kind: ErrorKind::Protocol,
                unsent: false,
                why: Why::Hpack(e),
            });
        }
        let Some(cell) = self.cell_of(stream, "HEADERS on a stream the client never opened")?
        else {
            return Ok(());
        };
        let Some(s) = self.streams[cell as usize].as_mut() else {
            return Ok(());
        };
        if s.status == 0 {
            let Some(status) = f.status else {
                self.stream_error(
                    cell,
                    code::PROTOCOL_ERROR,
                    protocol("a response without a valid :status"),
                );
                return Ok(());
            };
            if status < 200 {
                // Informational: the real response follows.
                if end_stream {
                    self.stream_error(
                        cell,
                        code::PROTOCOL_ERROR,
                        protocol("an informational response that ends the stream"),
                    );
                }
                return Ok(());
            }
            s.status = status;
            // "HTTP/1.1 200 OK\r\n" and the blank line, as HTTP/1.1 would count them.
            s.bytes_in += 19 + f.bytes;
        } else {
            if !end_stream {
                self.stream_error(
                    cell,
                    code::PROTOCOL_ERROR,
                    protocol("trailers that do not end the stream"),
                );
                return Ok(());
            }
            s.bytes_in += f.bytes;
        }
        if let Some(g) = &mut s.grpc {
            g.status = f.grpc_status;
            g.message = f.grpc_message;
        }
        if end_stream {
            self.complete(cell);
        }
        Ok(())
    }

    pub(super) fn on_reset(&mut self, stream: u32, c: u32) -> Result<(), Failure> {
        let Some(cell) = self.cell_of(stream, "RST_STREAM on a stream the client never opened")?
        else {
            return Ok(());
        };
        let Some(s) = self.remove(cell) else {
            return Ok(());
        };
        if c == code::REFUSED_STREAM && !s.refused {
            // Not processed (RFC 9113, section 8.7): sent once more.
            let ask = Ask {
                cell,
                round: s.round,
                ep: s.ep,
            };
            self.waiting.push_front((ask, true));
            return Ok(());
        }
        let kind = if c == code::REFUSED_STREAM {
            ErrorKind::Http2RefusedStream
        } else {
            ErrorKind::Http2StreamReset
        };
        self.done.push((
            cell,
            s.round,
            Err(Failure {
                kind,
                unsent: false,
                why: Why::Reset(c),
            }),
        ));
        Ok(())
    }

    pub(super) fn on_settings(&mut self, head: &Head, payload: &[u8]) -> Result<(), Failure> {
        if head.stream != 0 {
            return Err(self.broken(code::PROTOCOL_ERROR, "SETTINGS on a stream"));
        }
        if head.has(flag::ACK) {
            if head.len != 0 {
                return Err(self.broken(code::FRAME_SIZE_ERROR, "a SETTINGS ACK with a payload"));
            }
            return Ok(());
        }
        if head.len % 6 != 0 {
            return Err(self.broken(code::FRAME_SIZE_ERROR, "SETTINGS of a wrong size"));
        }
        let mut windows_grew = false;
        for s in payload.chunks_exact(6) {
            let id = u16::from_be_bytes([s[0], s[1]]);
            let v = u32::from_be_bytes([s[2], s[3], s[4], s[5]]);
            match id {
                setting::MAX_CONCURRENT_STREAMS => self.peer_max_streams = v as usize,
                setting::INITIAL_WINDOW_SIZE => {
                    if i64::from(v) > frame::MAX_WINDOW {
                        return Err(self.broken(
                            code::FLOW_CONTROL_ERROR,
                            "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
                        ));
                    }
                    let delta = i64::from(v) - self.peer_window;
                    self.peer_window = i64::from(v);
                    for s in self.streams.iter_mut().flatten() {
                        s.send_window += delta;
                    }
                    if self
                        .streams
                        .iter()
                        .flatten()
                        .any(|s| s.send_window > frame::MAX_WINDOW)
                    {
                        return Err(
                            self.broken(code::FLOW_CONTROL_ERROR, "a stream window above 2^31-1")
                        );
                    }
                    windows_grew |= delta > 0;
                }
                setting::MAX_FRAME_SIZE => {
                    if !(frame::DEFAULT_MAX_FRAME as u32..=frame::LARGEST_MAX_FRAME).contains(&v) {
                        return Err(self
                            .broken(code::PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range"));
                    }
                    self.peer_max_frame = v as usize;
                }
                setting::ENABLE_PUSH if v > 1 => {
                    return Err(self.broken(code::PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH above 1"));
                }
                // Our header blocks use no dynamic table, so its size does not matter;
                // other settings are advisory or unknown.
                _ => {}
            }
        }
        frame::put_settings_ack(&mut self.out);
        self.settings_seen = true;
        if windows_grew {
            self.send_blocked();
        }
        Ok(())
    }

    pub(super) fn on_window(&mut self, stream: u32, inc: u32) -> Result<(), Failure> {
        if stream == 0 {
            if inc == 0 {
                return Err(self.broken(code::PROTOCOL_ERROR, "a WINDOW_UPDATE of 0"));
            }
            self.send_window += i64::from(inc);
            if self.send_window > frame::MAX_WINDOW {
                return Err(
                    self.broken(code::FLOW_CONTROL_ERROR, "a connection window above 2^31-1")
                );
            }
        } else {
            let Some(cell) =
                self.cell_of(stream, "WINDOW_UPDATE on a stream the client never opened")?
            else {
                return Ok(());
            };
            let Some(s) = self.streams[cell as usize].as_mut() else {
                return Ok(());
            };
            s.send_window += i64::from(inc);
            if inc == 0 || s.send_window > frame::MAX_WINDOW {
                self.stream_error(
                    cell,
                    code::FLOW_CONTROL_ERROR,
                    protocol("a bad WINDOW_UPDATE on a stream"),
                );
                return Ok(());
            }
        }
        self.send_blocked();
        Ok(())
    }
}

/// A stream-level protocol failure.
fn protocol(what: &'static str) -> Failure {
    Failure {
        kind: ErrorKind::Protocol,
        unsent: false,
        why: Why::Broken(what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn statuses_are_three_digits() {
        assert_eq!(parse_status(b"200"), Some(200));
        assert_eq!(parse_status(b"503"), Some(503));
        assert_eq!(parse_status(b"099"), None);
        assert_eq!(parse_status(b"20"), None);
        assert_eq!(parse_status(b"2000"), None);
        assert_eq!(parse_status(b"2x0"), None);
    }

    #[test]
    pub(super) fn header_fields_count_as_http1_text_and_grpc_fields_are_read() {
        let mut f = Fields::default();
        f.take(b":status", b"200", true);
        f.take(b"content-type", b"application/grpc", true);
        f.take(b"grpc-status", b" 5 ", true);
        f.take(b"grpc-message", b"not%20found", true);
        assert_eq!(f.status, Some(200));
        assert_eq!(f.grpc_status, Some(5));
        assert_eq!(f.grpc_message.as_deref(), Some("not found"));
        assert_eq!(f.bytes, (12 + 16 + 4) + (11 + 3 + 4) + (12 + 11 + 4));
        let mut plain = Fields::default();
        plain.take(b"grpc-status", b"5", false);
        assert_eq!(plain.grpc_status, None);
    }
}
