//! A lean HTTP/1.1 client connection for the hot path: the request is encoded once per
//! endpoint, the response head is parsed in place (only the fields that frame the message are
//! looked at), and the body is counted and discarded without being kept. One request in
//! flight per connection (no pipelining).

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::ErrorKind;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Encodes a request once: request line, header fields, blank line, body.
pub(crate) fn encode_request(
    method: &http::Method,
    target: &str,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Bytes {
    let mut out = Vec::with_capacity(64 + target.len() + body.len() + headers.len() * 32);
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Bytes::from(out)
}

/// What the response head says about the message that follows.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    /// Bytes of the head, blank line included.
    len: usize,
    status: u16,
    /// `Content-Length`, when given.
    length: Option<u64>,
    /// The last transfer coding is `chunked`.
    chunked: bool,
    /// The server closes the connection after this response.
    close: bool,
}

/// Parses the response head at the start of `buf`; `Ok(None)` while it is incomplete.
///
/// Strict where framing depends on it, in the spirit of RFC 9112: the status line must be
/// `HTTP/1.0` or `HTTP/1.1` with a three-digit code; every field line needs a name of
/// visible ASCII (no space, control or non-ASCII byte, so `Content-Length : 5` is refused)
/// and a colon; obsolete line folding is refused; `Content-Length` must be digits (repeated
/// only with the same value). Lines may end in CRLF or a bare LF. Names are not checked
/// against the full `token` grammar (a `(` in a name passes), and the values of fields other
/// than `Content-Length`, `Transfer-Encoding` and `Connection` are not inspected: neither
/// changes how the message is framed.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, ErrorKind> {
    let Some(nl) = find_lf(buf) else {
        return Ok(None);
    };
    let line = strip_cr(&buf[..nl]);
    let (version, rest) = line.split_at_checked(8).ok_or(ErrorKind::Protocol)?;
    let http10 = match version {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        _ => return Err(ErrorKind::Protocol),
    };
    let status = match rest {
        [b' ', a, b, c, tail @ ..]
            if a.is_ascii_digit()
                && b.is_ascii_digit()
                && c.is_ascii_digit()
                && (tail.is_empty() || tail[0] == b' ') =>
        {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(ErrorKind::Protocol),
    };
    let mut head = Head {
        len: 0,
        status,
        length: None,
        chunked: false,
        close: false,
    };
    let (mut close, mut keep_alive) = (false, false);
    let mut i = nl + 1;
    loop {
        // The field name: visible ASCII up to the colon. A line that starts with a space
        // (obsolete line folding) has no name and is refused.
        let start = i;
        i += name_end(&buf[i..]);
        let Some(&stop) = buf.get(i) else {
            return Ok(None);
        };
        if i == start && (stop == b'\n' || stop == b'\r') {
            // The blank line that ends the head: LF or CRLF.
            i += match buf.get(i..i + 2) {
                Some(b"\r\n") => 2,
                _ if stop == b'\n' => 1,
                None => return Ok(None),
                Some(_) => return Err(ErrorKind::Protocol),
            };
            head.len = i;
            // HTTP/1.1 persists unless told to close; HTTP/1.0 closes unless told to persist.
            head.close = close || (http10 && !keep_alive);
            return Ok(Some(head));
        }
        if stop != b':' || i == start {
            return Err(ErrorKind::Protocol);
        }
        let name = &buf[start..i];
        let Some(n) = find_lf(&buf[i + 1..]) else {
            return Ok(None);
        };
        let raw_value = &buf[i + 1..i + 1 + n];
        i += n + 2;
        let value = || strip_cr(raw_value).trim_ascii();
        match name.len() {
            14 if eq_lower(name, b"content-length") => {
                let n = parse_length(value())?;
                if head.length.is_some_and(|m| m != n) {
                    return Err(ErrorKind::Protocol);
                }
                head.length = Some(n);
            }
            17 if eq_lower(name, b"transfer-encoding") => {
                head.chunked = value()
                    .rsplit(|b| *b == b',')
                    .next()
                    .is_some_and(|v| eq_lower(v.trim_ascii(), b"chunked"));
            }
            10 if eq_lower(name, b"connection") => {
                for option in value().split(|b| *b == b',').map(<[u8]>::trim_ascii) {
                    if eq_lower(option, b"close") {
                        close = true;
                    } else if eq_lower(option, b"keep-alive") {
                        keep_alive = true;
                    }
                }
            }
            _ => {}
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of every zero byte of `w`, and possibly of bytes above the first one (a
/// borrow): the lowest set bit is always exact.
#[inline(always)]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// Index of the first byte of `s` for which `stop` holds, eight bytes at a time. `flags` gives
/// a word whose lowest set high bit marks the first such byte of the (little-endian) word,
/// or zero when there is none; the last few bytes are tested with `stop` itself.
#[inline(always)]
fn scan(s: &[u8], flags: impl Fn(u64) -> u64, stop: impl Fn(u8) -> bool) -> Option<usize> {
    let mut chunks = s.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        if let Ok(bytes) = <[u8; 8]>::try_from(chunk) {
            let found = flags(u64::from_le_bytes(bytes));
            if found != 0 {
                return Some(base + (found.trailing_zeros() / 8) as usize);
            }
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|b| stop(*b))
        .map(|i| base + i)
}

/// Index of the first byte of `s` that cannot continue a field name (a colon, or anything
/// but visible ASCII), or `s.len()`.
fn name_end(s: &[u8]) -> usize {
    let flags = |w: u64| {
        // `:`, DEL, below `!` (space, controls), above 0x7f: in each term the lowest flagged
        // byte is exact, so the lowest of all is the first stop.
        zero_bytes(w ^ (ONES * u64::from(b':')))
            | zero_bytes(w ^ (ONES * 0x7f))
            | (w.wrapping_sub(ONES * 0x21) & !w & HIGHS)
            | (w & HIGHS)
    };
    scan(s, flags, |b| b == b':' || !b.is_ascii_graphic()).unwrap_or(s.len())
}

/// Index of the first `\n` in `s` (field lines are short, so eight bytes at a time beats a
/// vectorised search with its setup cost).
fn find_lf(s: &[u8]) -> Option<usize> {
    scan(
        s,
        |w| zero_bytes(w ^ (ONES * u64::from(b'\n'))),
        |b| b == b'\n',
    )
}

/// `text` equals `lower` (lower-case letters and `-`) ignoring ASCII case. Setting bit 5
/// folds upper- to lower-case letters and leaves `-` alone; the only other byte it maps onto
/// one of these is CR (onto `-`), which a field name cannot hold and a value holds only when
/// malformed.
fn eq_lower(text: &[u8], lower: &[u8]) -> bool {
    text.len() == lower.len() && text.iter().zip(lower).all(|(t, l)| t | 0x20 == *l)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A `Content-Length` value: one to nineteen ASCII digits.
fn parse_length(value: &[u8]) -> Result<u64, ErrorKind> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(ErrorKind::Protocol);
    }
    Ok(value.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
    Empty,
}

/// Reads between two yields to the runtime (see [`RawConn::fill`]).
const YIELD_EVERY: u32 = 64;

/// One HTTP/1.1 connection.
pub(crate) struct RawConn<S> {
    io: S,
    buf: BytesMut,
    /// Reads so far (wrapping), for [`YIELD_EVERY`].
    reads: u32,
}

fn io_kind(e: &std::io::Error) -> ErrorKind {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => ErrorKind::ConnectionReset,
        K::UnexpectedEof => ErrorKind::ConnectionClosed,
        K::TimedOut => ErrorKind::RequestTimeout,
        _ => ErrorKind::Other,
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawConn<S> {
    pub(crate) fn new(io: S) -> Self {
        RawConn {
            io,
            buf: BytesMut::with_capacity(8 * 1024),
            reads: 0,
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    ///
    /// Every [`YIELD_EVERY`] reads it first yields to the runtime, so that a connection
    /// whose data keeps arriving (a long body) cannot hold its task for the whole body.
    async fn fill(&mut self) -> Result<usize, ErrorKind> {
        self.reads = self.reads.wrapping_add(1);
        if self.reads % YIELD_EVERY == 0 {
            tokio::task::yield_now().await;
        }
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(8 * 1024);
        }
        self.io
            .read_buf(&mut self.buf)
            .await
            .map_err(|e| io_kind(&e))
    }

    /// Sends `request` and reads the whole response. Returns the status, the bytes received
    /// (head and body as on the wire) and whether the connection can be reused.
    ///
    /// Cancel safety: dropping the future leaves the connection in an unknown state; the
    /// caller must discard it.
    pub(crate) async fn exchange(
        &mut self,
        request: &[u8],
        is_head: bool,
    ) -> Result<(u16, u64, bool), ErrorKind> {
        // Bytes left from a previous response mean the server sent more than it framed.
        if !self.buf.is_empty() {
            return Err(ErrorKind::Protocol);
        }
        self.io.write_all(request).await.map_err(|e| io_kind(&e))?;
        let mut received = 0u64;
        let (status, framing, keep_alive) = loop {
            match parse_head(&self.buf)? {
                Some(head) => {
                    self.buf.advance(head.len);
                    received += head.len as u64;
                    let status = head.status;
                    if (100..200).contains(&status) && status != 101 {
                        // Informational (100 Continue, 103 Early Hints): the real head follows.
                        continue;
                    }
                    let framing = if is_head || status == 204 || status == 304 || status == 101 {
                        Framing::Empty
                    } else if head.chunked {
                        Framing::Chunked
                    } else if let Some(n) = head.length {
                        Framing::Length(n)
                    } else {
                        Framing::UntilClose
                    };
                    let keep =
                        !head.close && status != 101 && !matches!(framing, Framing::UntilClose);
                    break (status, framing, keep);
                }
                None => {
                    if self.buf.len() > MAX_HEAD {
                        return Err(ErrorKind::Protocol);
                    }
                    if self.fill().await? == 0 {
                        return Err(ErrorKind::ConnectionClosed);
                    }
                }
            }
        };
        match framing {
            Framing::Empty => {}
            Framing::Length(n) => received += self.skip(n).await?,
            Framing::UntilClose => loop {
                received += self.buf.len() as u64;
                self.buf.clear();
                if self.fill().await? == 0 {
                    break;
                }
            },
            Framing::Chunked => received += self.read_chunked().await?,
        }
        Ok((status, received, keep_alive))
    }

    /// Consumes exactly `n` body bytes, filling as needed; returns `n`.
    async fn skip(&mut self, n: u64) -> Result<u64, ErrorKind> {
        let mut left = n;
        loop {
            let take = (self.buf.len() as u64).min(left);
            self.buf.advance(take as usize);
            left -= take;
            if left == 0 {
                return Ok(n);
            }
            if self.fill().await? == 0 {
                return Err(ErrorKind::ConnectionClosed);
            }
        }
    }

    /// Reads one CRLF-terminated line (without the CRLF) from the buffer, filling as needed;
    /// returns its length including the CRLF.
    async fn line(&mut self) -> Result<(usize, usize), ErrorKind> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                return Ok((i, i + 2));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ErrorKind::Protocol);
            }
            if self.fill().await? == 0 {
                return Err(ErrorKind::ConnectionClosed);
            }
        }
    }

    async fn read_chunked(&mut self) -> Result<u64, ErrorKind> {
        let mut received = 0u64;
        loop {
            let (len, total) = self.line().await?;
            let text = &self.buf[..len];
            let size_text = text.split(|b| *b == b';').next().unwrap_or(&[]);
            let size = std::str::from_utf8(size_text)
                .ok()
                .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
                .ok_or(ErrorKind::Protocol)?;
            self.buf.advance(total);
            received += total as u64;
            if size == 0 {
                // Trailer fields, then an empty line.
                loop {
                    let (len, total) = self.line().await?;
                    self.buf.advance(total);
                    received += total as u64;
                    if len == 0 {
                        return Ok(received);
                    }
                }
            }
            received += self.skip(size + 2).await?; // data and its CRLF
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    async fn respond(wire: &'static [u8], is_head: bool) -> Result<(u16, u64, bool), ErrorKind> {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let task = tokio::spawn(async move {
            let mut req = [0u8; 256];
            let _ = server.read(&mut req).await;
            // Dribble the response in small pieces to exercise partial parsing.
            for piece in wire.chunks(7) {
                server.write_all(piece).await.unwrap();
            }
            // Closing ends bodies framed by the end of the stream.
            drop(server);
        });
        let mut conn = RawConn::new(client);
        let r = conn
            .exchange(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", is_head)
            .await;
        task.await.unwrap();
        r
    }

    #[tokio::test]
    async fn content_length_chunked_and_head_responses_are_framed() {
        let wire = b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nhello\n";
        assert_eq!(
            respond(wire, false).await,
            Ok((200, wire.len() as u64, true))
        );
        let wire = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nt: 1\r\n\r\n";
        assert_eq!(
            respond(wire, false).await,
            Ok((201, wire.len() as u64, true))
        );
        let wire =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n";
        assert_eq!(
            respond(wire, false).await,
            Ok((204, wire.len() as u64, false))
        );
        let wire = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n";
        assert_eq!(
            respond(wire, true).await,
            Ok((200, wire.len() as u64, true))
        );
    }

    #[tokio::test]
    async fn broken_responses_are_protocol_errors_or_closed_connections() {
        assert_eq!(
            respond(b"NOT HTTP\r\n\r\n", false).await,
            Err(ErrorKind::Protocol)
        );
        assert_eq!(
            respond(b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", false).await,
            Err(ErrorKind::Protocol)
        );
        assert_eq!(
            respond(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort", false).await,
            Err(ErrorKind::ConnectionClosed)
        );
        assert_eq!(
            respond(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
                false
            )
            .await,
            Err(ErrorKind::Protocol)
        );
        // No framing: the body runs until the server closes.
        let wire = b"HTTP/1.0 200 OK\r\n\r\nbody until close";
        assert_eq!(
            respond(wire, false).await,
            Ok((200, wire.len() as u64, false))
        );
    }

    fn head(wire: &[u8]) -> Result<Option<Head>, ErrorKind> {
        parse_head(wire)
    }

    #[test]
    fn heads_give_status_framing_and_persistence() {
        let wire = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 6\r\n\r\nhello\n";
        assert_eq!(
            head(wire),
            Ok(Some(Head {
                len: wire.len() - 6,
                status: 200,
                length: Some(6),
                chunked: false,
                close: false,
            }))
        );
        // Bare LF line ends, no reason phrase, a list-valued Connection field.
        let h =
            head(b"HTTP/1.1 503\nconnection: Upgrade, Close\ntransfer-encoding: gzip, chunked\n\n")
                .unwrap()
                .unwrap();
        assert_eq!(
            (h.status, h.chunked, h.close, h.length),
            (503, true, true, None)
        );
        // HTTP/1.0 closes unless asked to keep alive; close wins over keep-alive.
        assert!(head(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap().close);
        assert!(
            !head(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n")
                .unwrap()
                .unwrap()
                .close
        );
        assert!(
            head(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")
                .unwrap()
                .unwrap()
                .close
        );
        // The same length twice is fine.
        let h = head(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length:3\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.length, Some(3));
    }

    #[test]
    fn incomplete_heads_wait_for_more_bytes() {
        let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n";
        for cut in 0..wire.len() {
            assert_eq!(head(&wire[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(head(wire).unwrap().is_some());
    }

    #[test]
    fn malformed_heads_are_protocol_errors() {
        for wire in [
            &b"HTTP/2.0 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1  200 OK\r\n\r\n",
            b"HTTP/1.1\r\n\r\n",
            b"ICY 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nx: a\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        ] {
            assert_eq!(
                head(wire),
                Err(ErrorKind::Protocol),
                "{}",
                String::from_utf8_lossy(wire)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_heads_stay_in_bounds(wire in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Ok(Some(h)) = parse_head(&wire) {
                proptest::prop_assert!(h.len <= wire.len());
            }
        }

        #[test]
        fn name_end_agrees_with_a_plain_scan(s in proptest::collection::vec(proptest::sample::select(vec![b'a', b'Z', b'-', b':', b' ', b'\t', 0x7f, 0x80, 0xff, b'!', b'~', 0x00, b'\r']), 0..40)) {
            let plain = s.iter().position(|b| *b == b':' || !b.is_ascii_graphic()).unwrap_or(s.len());
            proptest::prop_assert_eq!(name_end(&s), plain);
        }

        #[test]
        fn find_lf_agrees_with_a_plain_search(s in proptest::collection::vec(proptest::sample::select(vec![b'a', b'\n', b'\r', 0x8a, 0x0b, 0x09]), 0..40)) {
            proptest::prop_assert_eq!(find_lf(&s), s.iter().position(|b| *b == b'\n'));
        }

        #[test]
        fn head_like_text_never_panics_and_complete_heads_end_at_a_blank_line(
            wire in "HTTP/1\\.[01] [0-9]{3}( [ -~]{0,8})?\r?\n([ -~]{0,24}\r?\n){0,5}(\r?\n)?"
        ) {
            if let Ok(Some(h)) = parse_head(wire.as_bytes()) {
                proptest::prop_assert!(wire.as_bytes()[..h.len].ends_with(b"\n\n") || wire.as_bytes()[..h.len].ends_with(b"\n\r\n"));
            }
        }
    }

    #[test]
    fn requests_are_encoded_once_with_their_headers_and_body() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::HOST, http::HeaderValue::from_static("a:1"));
        let r = encode_request(&http::Method::POST, "/p?q=1", &h, b"xy");
        assert_eq!(&r[..], b"POST /p?q=1 HTTP/1.1\r\nhost: a:1\r\n\r\nxy");
    }
}
