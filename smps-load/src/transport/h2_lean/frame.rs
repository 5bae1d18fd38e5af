//! HTTP/2 frames (RFC 9113, section 4 and 6): the 9-byte frame header, the frame types and
//! flags the client uses, error codes, and the writers for the frames a client sends.

/// Length of a frame header.
pub(crate) const HEADER_LEN: usize = 9;

/// The client connection preface (RFC 9113, section 3.4).
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The largest frame payload before SETTINGS_MAX_FRAME_SIZE changes it, and the smallest
/// value a peer may set.
pub(crate) const DEFAULT_MAX_FRAME: usize = 16_384;
/// The largest SETTINGS_MAX_FRAME_SIZE a peer may set.
pub(crate) const LARGEST_MAX_FRAME: u32 = (1 << 24) - 1;
/// The initial flow-control window of streams and connections.
pub(crate) const DEFAULT_WINDOW: i64 = 65_535;
/// The largest flow-control window.
pub(crate) const MAX_WINDOW: i64 = (1 << 31) - 1;

/// Frame types (RFC 9113, section 6).
pub(crate) mod kind {
    /// DATA.
    pub(crate) const DATA: u8 = 0;
    /// HEADERS.
    pub(crate) const HEADERS: u8 = 1;
    /// PRIORITY (deprecated; ignored).
    pub(crate) const PRIORITY: u8 = 2;
    /// RST_STREAM.
    pub(crate) const RST_STREAM: u8 = 3;
    /// SETTINGS.
    pub(crate) const SETTINGS: u8 = 4;
    /// PUSH_PROMISE (refused: the client disables push).
    pub(crate) const PUSH_PROMISE: u8 = 5;
    /// PING.
    pub(crate) const PING: u8 = 6;
    /// GOAWAY.
    pub(crate) const GOAWAY: u8 = 7;
    /// WINDOW_UPDATE.
    pub(crate) const WINDOW_UPDATE: u8 = 8;
    /// CONTINUATION.
    pub(crate) const CONTINUATION: u8 = 9;
}

/// Frame flags.
pub(crate) mod flag {
    /// END_STREAM (DATA, HEADERS).
    pub(crate) const END_STREAM: u8 = 0x1;
    /// ACK (SETTINGS, PING).
    pub(crate) const ACK: u8 = 0x1;
    /// END_HEADERS (HEADERS, CONTINUATION).
    pub(crate) const END_HEADERS: u8 = 0x4;
    /// PADDED (DATA, HEADERS).
    pub(crate) const PADDED: u8 = 0x8;
    /// PRIORITY (HEADERS).
    pub(crate) const PRIORITY: u8 = 0x20;
}

/// Error codes (RFC 9113, section 7).
pub(crate) mod code {
    /// NO_ERROR.
    pub(crate) const NO_ERROR: u32 = 0;
    /// PROTOCOL_ERROR.
    pub(crate) const PROTOCOL_ERROR: u32 = 1;
    /// FLOW_CONTROL_ERROR.
    pub(crate) const FLOW_CONTROL_ERROR: u32 = 3;
    /// FRAME_SIZE_ERROR.
    pub(crate) const FRAME_SIZE_ERROR: u32 = 6;
    /// REFUSED_STREAM.
    pub(crate) const REFUSED_STREAM: u32 = 7;
    /// CANCEL.
    pub(crate) const CANCEL: u32 = 8;
    /// COMPRESSION_ERROR.
    pub(crate) const COMPRESSION_ERROR: u32 = 9;
}

/// The name of an error code, for failure reasons.
pub(crate) fn code_name(code: u32) -> &'static str {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("unknown error code")
}

/// SETTINGS identifiers.
pub(crate) mod setting {
    /// SETTINGS_ENABLE_PUSH.
    pub(crate) const ENABLE_PUSH: u16 = 2;
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub(crate) const MAX_CONCURRENT_STREAMS: u16 = 3;
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    pub(crate) const INITIAL_WINDOW_SIZE: u16 = 4;
    /// SETTINGS_MAX_FRAME_SIZE.
    pub(crate) const MAX_FRAME_SIZE: u16 = 5;
    /// SETTINGS_MAX_HEADER_LIST_SIZE.
    pub(crate) const MAX_HEADER_LIST_SIZE: u16 = 6;
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    /// Payload length.
    pub(crate) len: usize,
    /// Frame type.
    pub(crate) kind: u8,
    /// Flags.
    pub(crate) flags: u8,
    /// Stream identifier (the reserved bit cleared).
    pub(crate) stream: u32,
}

impl Head {
    /// Parses the 9 bytes of a frame header.
    pub(crate) fn parse(b: &[u8; HEADER_LEN]) -> Self {
        Head {
            len: usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    /// Whether `f` is set.
    pub(crate) fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
}

/// Appends a frame header.
pub(crate) fn put_head(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    let len = len as u32;
    out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags]);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
}

/// Appends a SETTINGS frame with `values`.
pub(crate) fn put_settings(out: &mut Vec<u8>, values: &[(u16, u32)]) {
    put_head(out, values.len() * 6, kind::SETTINGS, 0, 0);
    for (id, v) in values {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Appends a SETTINGS acknowledgement.
pub(crate) fn put_settings_ack(out: &mut Vec<u8>) {
    put_head(out, 0, kind::SETTINGS, flag::ACK, 0);
}

/// Appends a WINDOW_UPDATE of `increment` (1 ..= 2^31-1) for `stream` (0: the connection).
pub(crate) fn put_window_update(out: &mut Vec<u8>, stream: u32, increment: u32) {
    put_head(out, 4, kind::WINDOW_UPDATE, 0, stream);
    out.extend_from_slice(&(increment & 0x7fff_ffff).to_be_bytes());
}

/// Appends an RST_STREAM.
pub(crate) fn put_rst_stream(out: &mut Vec<u8>, stream: u32, code: u32) {
    put_head(out, 4, kind::RST_STREAM, 0, stream);
    out.extend_from_slice(&code.to_be_bytes());
}

/// Appends a PING acknowledgement echoing `payload`.
pub(crate) fn put_ping_ack(out: &mut Vec<u8>, payload: &[u8]) {
    put_head(out, payload.len(), kind::PING, flag::ACK, 0);
    out.extend_from_slice(payload);
}

/// Appends a GOAWAY (a client accepts no streams, so the last stream id is 0).
pub(crate) fn put_goaway(out: &mut Vec<u8>, code: u32) {
    put_head(out, 8, kind::GOAWAY, 0, 0);
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&code.to_be_bytes());
}

/// Appends a request's header block as a HEADERS frame and as many CONTINUATION frames as
/// `max_frame` needs.
pub(crate) fn put_headers(
    out: &mut Vec<u8>,
    stream: u32,
    block: &[u8],
    end_stream: bool,
    max_frame: usize,
) {
    let mut chunks = block.chunks(max_frame.max(1));
    let first = chunks.next().unwrap_or(&[]);
    let rest = chunks.len();
    let mut flags = if end_stream { flag::END_STREAM } else { 0 };
    if rest == 0 {
        flags |= flag::END_HEADERS;
    }
    put_head(out, first.len(), kind::HEADERS, flags, stream);
    out.extend_from_slice(first);
    for (i, chunk) in chunks.enumerate() {
        let flags = if i + 1 == rest { flag::END_HEADERS } else { 0 };
        put_head(out, chunk.len(), kind::CONTINUATION, flags, stream);
        out.extend_from_slice(chunk);
    }
}

/// The payload of a DATA or HEADERS frame without its padding (and, for HEADERS, without
/// the priority fields); `None` when the padding is longer than the frame.
pub(crate) fn unpadded<'a>(head: &Head, payload: &'a [u8]) -> Option<&'a [u8]> {
    let mut p = payload;
    let mut pad = 0;
    if head.has(flag::PADDED) {
        pad = usize::from(*p.first()?);
        p = &p[1..];
    }
    if head.kind == kind::HEADERS && head.has(flag::PRIORITY) {
        p = p.get(5..)?;
    }
    p.get(..p.len().checked_sub(pad)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_split_into_continuations_at_the_frame_limit() {
        let block: Vec<u8> = (0..10).collect();
        let mut out = Vec::new();
        put_headers(&mut out, 3, &block, true, 4);
        let mut frames = Vec::new();
        let mut rest = &out[..];
        while !rest.is_empty() {
            let head = Head::parse(rest[..HEADER_LEN].try_into().unwrap());
            frames.push((head, rest[HEADER_LEN..HEADER_LEN + head.len].to_vec()));
            rest = &rest[HEADER_LEN + head.len..];
        }
        let kinds: Vec<_> = frames
            .iter()
            .map(|(h, _)| (h.kind, h.flags, h.len))
            .collect();
        assert_eq!(
            kinds,
            [
                (kind::HEADERS, flag::END_STREAM, 4),
                (kind::CONTINUATION, 0, 4),
                (kind::CONTINUATION, flag::END_HEADERS, 2)
            ]
        );
        let joined: Vec<u8> = frames.into_iter().flat_map(|(_, p)| p).collect();
        assert_eq!(joined, block);
        assert!(out.chunks(1).count() > 0);
        let mut one = Vec::new();
        put_headers(&mut one, 1, &block, false, 16_384);
        let head = Head::parse(one[..HEADER_LEN].try_into().unwrap());
        assert_eq!(
            (head.kind, head.flags, head.stream, head.len),
            (1, flag::END_HEADERS, 1, 10)
        );
    }

    #[test]
    fn padding_and_priority_are_stripped_and_bad_padding_refused() {
        let head = |kind, flags| Head {
            len: 0,
            kind,
            flags,
            stream: 1,
        };
        assert_eq!(
            unpadded(&head(kind::DATA, flag::PADDED), &[2, b'a', 0, 0]),
            Some(&b"a"[..])
        );
        assert_eq!(
            unpadded(&head(kind::DATA, flag::PADDED), &[4, b'a', 0, 0]),
            None
        );
        assert_eq!(unpadded(&head(kind::DATA, flag::PADDED), &[]), None);
        assert_eq!(
            unpadded(&head(kind::HEADERS, flag::PRIORITY), &[0, 0, 0, 0, 9, b'h']),
            Some(&b"h"[..])
        );
        assert_eq!(
            unpadded(&head(kind::DATA, flag::PRIORITY), &[7]),
            Some(&[7u8][..])
        );
        assert_eq!(code_name(7), "REFUSED_STREAM");
        assert_eq!(code_name(99), "unknown error code");
    }
}
