//! A lean HTTP/1.1 client connection for the hot path: the request is encoded once per
//! endpoint, the response head is parsed in place with `httparse`, and the body is counted and
//! discarded without being kept. One request in flight per connection (no pipelining).

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::ErrorKind;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;

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

enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
    Empty,
}

/// One HTTP/1.1 connection.
pub(crate) struct RawConn<S> {
    io: S,
    buf: BytesMut,
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
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    async fn fill(&mut self) -> Result<usize, ErrorKind> {
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
            let parsed = {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut resp = httparse::Response::new(&mut headers);
                match resp.parse(&self.buf) {
                    Ok(httparse::Status::Complete(n)) => {
                        let status = resp.code.unwrap_or(0);
                        let http10 = resp.version == Some(0);
                        let mut length = None;
                        let mut chunked = false;
                        let mut close = http10;
                        for h in resp.headers.iter() {
                            if h.name.eq_ignore_ascii_case("content-length") {
                                let v = std::str::from_utf8(h.value)
                                    .ok()
                                    .and_then(|v| v.trim().parse::<u64>().ok())
                                    .ok_or(ErrorKind::Protocol)?;
                                length = Some(v);
                            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                                chunked = h.value.rsplit(|b| *b == b',').next().is_some_and(|v| {
                                    v.trim_ascii().eq_ignore_ascii_case(b"chunked")
                                });
                            } else if h.name.eq_ignore_ascii_case("connection") {
                                if h.value.eq_ignore_ascii_case(b"close") {
                                    close = true;
                                } else if h.value.eq_ignore_ascii_case(b"keep-alive") {
                                    close = false;
                                }
                            }
                        }
                        Some((n, status, length, chunked, close))
                    }
                    Ok(httparse::Status::Partial) => None,
                    Err(_) => return Err(ErrorKind::Protocol),
                }
            };
            match parsed {
                Some((n, status, length, chunked, close)) => {
                    self.buf.advance(n);
                    received += n as u64;
                    if (100..200).contains(&status) && status != 101 {
                        // Informational (100 Continue, 103 Early Hints): the real head follows.
                        continue;
                    }
                    let framing = if is_head || status == 204 || status == 304 || status == 101 {
                        Framing::Empty
                    } else if chunked {
                        Framing::Chunked
                    } else if let Some(n) = length {
                        Framing::Length(n)
                    } else {
                        Framing::UntilClose
                    };
                    let keep = !close && status != 101 && !matches!(framing, Framing::UntilClose);
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

    #[test]
    fn requests_are_encoded_once_with_their_headers_and_body() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::HOST, http::HeaderValue::from_static("a:1"));
        let r = encode_request(&http::Method::POST, "/p?q=1", &h, b"xy");
        assert_eq!(&r[..], b"POST /p?q=1 HTTP/1.1\r\nhost: a:1\r\n\r\nxy");
    }
}
