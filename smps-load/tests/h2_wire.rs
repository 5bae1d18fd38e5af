//! The engine's own HTTP/2 client ([`Http2Client::Lean`]) against servers written frame by
//! frame: every frame a server may send around a response, HPACK with Huffman strings and
//! the dynamic table, GOAWAY, cancelled streams, the server's stream limit, flow control of
//! request bodies, and servers that break the protocol. Last, the same runs on both HTTP/2
//! clients (against the reference server, and a server sending trailers) must count the
//! same.
//!
//! The servers here keep no HTTP/2 library between the test and the wire: frames are built
//! byte by byte, response header blocks are hand-encoded HPACK (RFC 7541), and whatever the
//! server finds wrong in what the client sent is written down in a [`Tally`] the test
//! checks (a panic in a server task would go unnoticed).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use smps_load::reference::ReferenceServer;
use smps_load::{Engine, EngineBuilder, ErrorKind, Http2Client, HttpVersion, PhaseReport, Report};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{BadServer, run_within};

/// The client connection preface (RFC 9113, section 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Frame types (RFC 9113, section 6).
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const PRIORITY: u8 = 0x2;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PUSH_PROMISE: u8 = 0x5;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const CONTINUATION: u8 = 0x9;
/// A frame type no specification defines: a client must ignore it.
const UNKNOWN: u8 = 0xfa;

// Flags.
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;

// SETTINGS identifiers.
const MAX_CONCURRENT_STREAMS: u16 = 0x3;
const INITIAL_WINDOW_SIZE: u16 = 0x4;
const MAX_FRAME_SIZE: u16 = 0x5;

// Error codes.
const PROTOCOL_ERROR: u32 = 0x1;
const CANCEL: u32 = 0x8;
const COMPRESSION_ERROR: u32 = 0x9;

/// HPACK: `:status: 200`, static table index 8, indexed (RFC 7541, 6.1).
const STATUS_200: u8 = 0x88;

/// Appends one frame: the 9-byte header, then the payload.
fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    assert!(
        payload.len() < 1 << 24,
        "a frame payload of {} bytes",
        payload.len()
    );
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// A SETTINGS payload.
fn settings(values: &[(u16, u32)]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|(id, v)| id.to_be_bytes().into_iter().chain(v.to_be_bytes()))
        .collect()
}

/// A WINDOW_UPDATE frame.
fn window_update(out: &mut Vec<u8>, stream: u32, increment: u32) {
    frame(out, WINDOW_UPDATE, 0, stream, &increment.to_be_bytes());
}

/// HPACK: an integer with a `prefix`-bit prefix, the first octet OR-ed with `flags`
/// (RFC 7541, 5.1).
fn hpack_int(out: &mut Vec<u8>, flags: u8, prefix: u32, value: usize) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        out.push(0x80 | (rest % 128) as u8);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// HPACK: a literal header field without indexing, with a literal name; both strings raw
/// (RFC 7541, 6.2.2 and 5.2).
fn literal(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(0x00);
    for s in [name, value] {
        hpack_int(out, 0, 7, s.len());
        out.extend_from_slice(s.as_bytes());
    }
}

/// Hex digits (spaces allowed) as bytes.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|d| u8::from_str_radix(std::str::from_utf8(d).unwrap(), 16).unwrap())
        .collect()
}

/// What a response counts in `bytes_in`, as the report documents it: the status line and
/// header fields as HTTP/1.1 text, the blank line, and the body.
fn http1_len(fields: &[(&str, &str)], body: usize) -> u64 {
    let mut text = String::from("HTTP/1.1 200 OK\r\n");
    for (name, value) in fields {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    (text.len() + body) as u64
}

/// A response of status 200 with an empty header list otherwise and `body` (none: the
/// HEADERS frame ends the stream).
fn ok(out: &mut Vec<u8>, stream: u32, body: &[u8]) {
    let end = if body.is_empty() { END_STREAM } else { 0 };
    frame(out, HEADERS, END_HEADERS | end, stream, &[STATUS_200]);
    if !body.is_empty() {
        frame(out, DATA, END_STREAM, stream, body);
    }
}

/// What the servers of a test saw, across their connections.
#[derive(Debug, Default)]
struct Tally {
    /// Connections accepted (the preface arrived).
    connections: usize,
    /// Connections whose server side ended (the client closed, or the server gave up).
    closed: usize,
    /// Per connection, in order: the stream of each request HEADERS, and each RST_STREAM
    /// (stream, error code) the client sent.
    events: Vec<Vec<Event>>,
    /// Error codes of the client's GOAWAY frames.
    goaways: Vec<u32>,
    /// Responses the servers wrote.
    answered: usize,
    /// What the servers found wrong in what the client sent.
    problems: Vec<String>,
    /// Test-specific counters.
    ping_acks: usize,
    settings_acks: usize,
    large_data_frames: usize,
    data_frames: usize,
    bodies_intact: usize,
    most_open: usize,
    first_blocks: usize,
    later_blocks: usize,
}

/// A request stream opened or reset by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Opened(u32),
    Reset(u32, u32),
}

impl Tally {
    /// Writes down a problem (the first few; one is enough to fail the test).
    fn note(&mut self, what: String) {
        if self.problems.len() < 8 {
            self.problems.push(what);
        }
    }

    fn streams(&self) -> usize {
        self.events
            .iter()
            .flatten()
            .filter(|e| matches!(e, Event::Opened(_)))
            .count()
    }
}

/// A test's tally, and a signal for each connection that ends.
#[derive(Default)]
struct Record {
    tally: Mutex<Tally>,
    ended: tokio::sync::watch::Sender<()>,
}

type Shared = Arc<Record>;

fn lock(r: &Record) -> MutexGuard<'_, Tally> {
    r.tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The server's end of one connection.
struct Peer {
    s: TcpStream,
    record: Shared,
    /// This connection's number, in the order the preface arrived.
    index: usize,
    /// Request bodies still arriving, by stream.
    bodies: HashMap<u32, Vec<u8>>,
}

impl Peer {
    /// Reads the client preface and sends `values` as the server's SETTINGS. `None` if the
    /// preface did not arrive whole and right (a problem is noted).
    async fn accept(s: TcpStream, tally: &Shared, values: &[(u16, u32)]) -> Option<Peer> {
        let mut p = Peer::without_settings(s, tally).await?;
        let mut out = Vec::new();
        frame(&mut out, SETTINGS, 0, 0, &settings(values));
        p.send(&out).await;
        Some(p)
    }

    /// Reads the client preface; the server's first frame is the caller's to send.
    async fn without_settings(mut s: TcpStream, tally: &Shared) -> Option<Peer> {
        s.set_nodelay(true).unwrap();
        let mut preface = [0u8; 24];
        let read = s.read_exact(&mut preface).await.is_ok();
        let mut t = lock(tally);
        if !read || preface != PREFACE {
            t.note(format!("a bad client preface: {preface:?}"));
            return None;
        }
        t.connections += 1;
        t.events.push(Vec::new());
        let index = t.connections - 1;
        drop(t);
        Some(Peer {
            s,
            record: Arc::clone(tally),
            index,
            bodies: HashMap::new(),
        })
    }

    fn tally(&self) -> MutexGuard<'_, Tally> {
        lock(&self.record)
    }

    fn problem(&self, what: String) {
        self.tally().note(what);
    }

    /// Writes `bytes` whole; a client that went away is not an error here.
    async fn send(&mut self, bytes: &[u8]) {
        let _ = self.s.write_all(bytes).await;
    }

    /// Writes `bytes` one octet per write, so the client reads frames in pieces.
    async fn send_byte_by_byte(&mut self, bytes: &[u8]) {
        for b in bytes {
            if self.s.write_all(std::slice::from_ref(b)).await.is_err() {
                return;
            }
        }
    }

    /// The next frame from the client (`None` once the connection ended). SETTINGS are
    /// acknowledged here; request HEADERS, RST_STREAM and GOAWAY are written down.
    async fn next(&mut self) -> Option<Frame> {
        let mut head = [0u8; 9];
        self.s.read_exact(&mut head).await.ok()?;
        let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
        let mut payload = vec![0u8; len];
        self.s.read_exact(&mut payload).await.ok()?;
        let f = Frame {
            kind: head[3],
            flags: head[4],
            stream: u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff,
            payload,
        };
        match f.kind {
            SETTINGS if f.has(ACK) => self.tally().settings_acks += 1,
            SETTINGS => {
                let mut ack = Vec::new();
                frame(&mut ack, SETTINGS, ACK, 0, &[]);
                self.send(&ack).await;
            }
            HEADERS => {
                if !f.has(END_HEADERS) {
                    self.problem(format!("request HEADERS without END_HEADERS: {f:?}"));
                }
                let index = self.index;
                self.tally().events[index].push(Event::Opened(f.stream));
                self.bodies.insert(f.stream, Vec::new());
            }
            DATA => match self.bodies.get_mut(&f.stream) {
                Some(b) => b.extend_from_slice(&f.payload),
                None => self.problem(format!("DATA on stream {} with no request", f.stream)),
            },
            RST_STREAM => {
                let index = self.index;
                let code = f.u32_at(0);
                self.tally().events[index].push(Event::Reset(f.stream, code));
                self.bodies.remove(&f.stream);
            }
            GOAWAY => {
                let code = f.u32_at(4);
                self.tally().goaways.push(code);
            }
            _ => {}
        }
        Some(f)
    }

    /// The request `f` completed, if it did: its stream and body.
    fn finished(&mut self, f: &Frame) -> Option<(u32, Vec<u8>)> {
        if matches!(f.kind, HEADERS | DATA) && f.has(END_STREAM) {
            return self.bodies.remove(&f.stream).map(|b| (f.stream, b));
        }
        None
    }

    /// Request body bytes received so far on `stream`.
    fn body_len(&self, stream: u32) -> usize {
        self.bodies.get(&stream).map_or(0, Vec::len)
    }

    /// Reads until the client closes the connection (its frames are still written down).
    async fn drain(&mut self) {
        while self.next().await.is_some() {}
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.tally().closed += 1;
        self.record.ended.send_replace(());
    }
}

/// One frame from the client.
#[derive(Debug)]
struct Frame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

impl Frame {
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    fn u32_at(&self, at: usize) -> u32 {
        self.payload
            .get(at..at + 4)
            .map_or(u32::MAX, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// A server running `serve` for each connection, and its tally.
async fn server<F, Fut>(serve: F) -> (BadServer, Shared)
where
    F: Fn(TcpStream, Shared) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let tally = Shared::default();
    let t = Arc::clone(&tally);
    let server = BadServer::start(move |s| serve(s, Arc::clone(&t))).await;
    (server, tally)
}

/// Waits (up to a second) until the server side of every connection ended, and returns
/// the tally; fails the test if the client left a connection open.
async fn settled(record: &Record) -> MutexGuard<'_, Tally> {
    let mut ended = record.ended.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        {
            let t = lock(record);
            if t.closed >= t.connections {
                return t;
            }
        }
        if tokio::time::timeout_at(deadline, ended.changed())
            .await
            .is_err()
        {
            panic!(
                "connections still open a second after the run: {:?}",
                lock(record)
            );
        }
    }
}

/// HTTP/2 with prior knowledge on the engine's own client.
fn lean(url: &str) -> EngineBuilder {
    Engine::builder()
        .url(url)
        .http_version(HttpVersion::Http2)
        .http2_client(Http2Client::Lean)
}

/// The only errors of a phase, by kind.
/// Runs `n` requests (1 s request timeout, within 3 s) and checks every one was a 200.
async fn all_ok(builder: EngineBuilder, n: u64) -> Report {
    let report = run_within(
        builder
            .request_timeout(Duration::from_secs(1))
            .max_requests(n),
        Duration::from_secs(3),
    )
    .await;
    let m = &report.measured;
    assert_eq!(errors(m), [], "{:?}", report.error_reasons);
    assert_eq!(m.status_codes.get(&200), Some(&n), "{:?}", m.status_codes);
    report
}

fn errors(m: &PhaseReport) -> Vec<(ErrorKind, u64)> {
    m.errors.iter().map(|(k, n)| (*k, *n)).collect()
}

/// Byte `i` of the request bodies the servers check.
fn body_byte(i: usize) -> u8 {
    (i * 7 % 251) as u8
}

fn request_body(len: usize) -> Vec<u8> {
    (0..len).map(body_byte).collect()
}

/// (a) Each response comes after a PING the client must echo, between PRIORITY and
/// unknown frames, as an interim 103 response, then a padded HEADERS with priority fields
/// continued by two CONTINUATION frames (fields split mid-string) and padded DATA, written
/// one byte per write. The request bodies wait for a mid-connection SETTINGS that raises
/// the initial window of open streams and the largest frame size, which later bodies use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_frame_a_server_may_send_around_a_response_is_understood() {
    const BODY: usize = 40_000;
    const FIRST_WINDOW: u32 = 16_384;
    const RAISED_WINDOW: u32 = 100_000;
    const RAISED_FRAME: u32 = 32_768;
    let fields = [("x-wire", "frames"), ("x-padded", "yes")];
    let (_server, tally) = server(move |s, tally| async move {
        let Some(mut peer) = Peer::accept(s, &tally, &[(INITIAL_WINDOW_SIZE, FIRST_WINDOW)]).await
        else {
            return;
        };
        let mut initial = i64::from(FIRST_WINDOW);
        let mut windows: HashMap<u32, i64> = HashMap::new();
        let mut connection_window: i64 = 65_535;
        let mut max_frame = 16_384;
        let mut raised = false;
        let mut pings: HashMap<[u8; 8], u32> = HashMap::new();
        while let Some(f) = peer.next().await {
            let done = peer.finished(&f);
            match f.kind {
                HEADERS => {
                    windows.insert(f.stream, initial);
                }
                DATA => {
                    let n = f.payload.len();
                    let w = windows.entry(f.stream).or_insert(initial);
                    *w -= n as i64;
                    connection_window -= n as i64;
                    {
                        let mut t = peer.tally();
                        t.data_frames += 1;
                        if n > 16_384 {
                            t.large_data_frames += 1;
                        }
                        if n > max_frame {
                            t.note(format!("DATA of {n} bytes, limit {max_frame}"));
                        }
                        if *w < 0 || connection_window < 0 {
                            t.note(format!(
                            "DATA past the windows: stream {} {w}, connection {connection_window}",
                            f.stream
                        ));
                        }
                    }
                    if n > 0 {
                        let mut out = Vec::new();
                        window_update(&mut out, 0, n as u32);
                        connection_window += n as i64;
                        peer.send(&out).await;
                    }
                    if !raised && done.is_none() && peer.body_len(f.stream) == FIRST_WINDOW as usize
                    {
                        // The stream's window is spent: raise it, and the frame size.
                        raised = true;
                        let mut out = Vec::new();
                        let values = [
                            (MAX_FRAME_SIZE, RAISED_FRAME),
                            (INITIAL_WINDOW_SIZE, RAISED_WINDOW),
                        ];
                        frame(&mut out, SETTINGS, 0, 0, &settings(&values));
                        peer.send(&out).await;
                        max_frame = RAISED_FRAME as usize;
                        let delta = i64::from(RAISED_WINDOW) - initial;
                        windows.values_mut().for_each(|w| *w += delta);
                        initial = i64::from(RAISED_WINDOW);
                    }
                }
                PING if f.has(ACK) => {
                    let Some(stream) = <[u8; 8]>::try_from(&f.payload[..])
                        .ok()
                        .and_then(|p| pings.remove(&p))
                    else {
                        peer.problem(format!("a PING ACK the server did not ask for: {f:?}"));
                        continue;
                    };
                    peer.tally().ping_acks += 1;
                    let mut block = vec![STATUS_200];
                    for (name, value) in fields {
                        literal(&mut block, name, value);
                    }
                    let mut out = Vec::new();
                    frame(&mut out, PRIORITY, 0, stream, &[0, 0, 0, 0, 15]);
                    frame(&mut out, UNKNOWN, 0xff, stream, b"ignore me");
                    // An interim response first: `:status: 103`, a literal without
                    // indexing whose name is static index 8.
                    frame(&mut out, HEADERS, END_HEADERS, stream, b"\x08\x03103");
                    // Pad length 4, then the priority fields (exclusive bit and stream
                    // dependency 0, weight 16), the first fragment, the padding.
                    let mut first = vec![4, 0, 0, 0, 0, 15];
                    first.extend_from_slice(&block[..3]);
                    first.extend_from_slice(&[0; 4]);
                    frame(&mut out, HEADERS, PADDED | PRIORITY_FLAG, stream, &first);
                    frame(&mut out, CONTINUATION, 0, stream, &block[3..9]);
                    frame(&mut out, CONTINUATION, END_HEADERS, stream, &block[9..]);
                    frame(&mut out, UNKNOWN, 0, 0, &[1, 2, 3]);
                    frame(&mut out, DATA, PADDED, stream, b"\x07hello \0\0\0\0\0\0\0");
                    frame(&mut out, DATA, PADDED | END_STREAM, stream, b"\x00world");
                    peer.send_byte_by_byte(&out).await;
                    peer.tally().answered += 1;
                }
                _ => {}
            }
            if let Some((stream, body)) = done {
                if body == request_body(BODY) {
                    peer.tally().bodies_intact += 1;
                } else {
                    peer.problem(format!("stream {stream}: a body of {} bytes", body.len()));
                }
                let mut payload = *b"ping\0\0\0\0";
                payload[4..].copy_from_slice(&stream.to_be_bytes());
                pings.insert(payload, stream);
                let mut out = Vec::new();
                frame(&mut out, PING, 0, 0, &payload);
                peer.send(&out).await;
            }
        }
    })
    .await;
    let url = format!("http://{}/", _server.addr);
    let report = all_ok(
        lean(&url)
            .body(request_body(BODY))
            .connections(1)
            .streams_per_connection(2),
        10,
    )
    .await;
    let m = &report.measured;
    assert_eq!(m.bytes_in, 10 * http1_len(&fields, 11));
    assert_eq!(m.connections_opened, 1);
    let t = settled(&tally).await;
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!((t.connections, t.streams(), t.answered), (1, 10, 10));
    assert_eq!(t.ping_acks, 10, "every PING was echoed byte for byte");
    assert_eq!(t.bodies_intact, 10);
    // The initial SETTINGS and the raise were both acknowledged, and later bodies went out
    // in frames above the old limit.
    assert_eq!(t.settings_acks, 2);
    assert!(t.large_data_frames > 0, "{t:?}");
}

/// (b) Response header blocks in HPACK's compressed forms, from RFC 7541 Appendix C: the
/// first block on a connection opens with a dynamic table size update and adds its fields
/// to the dynamic table as Huffman-coded literals (C.6.1's fields after its `:status`, then
/// C.4.3's `custom-key` with a Huffman-coded name); later blocks name them by index.
/// `bytes_in` counts the decoded fields as HTTP/1.1 text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huffman_literals_and_the_dynamic_table_decode_and_count_as_http1_text() {
    let first_block = {
        let mut b = hex("3fe11f"); // Dynamic table size update: 4096.
        b.push(STATUS_200);
        b.extend(hex("5885 aec3 771a 4b \
             6196 d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff \
             6e91 9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3 \
             4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"));
        b
    };
    // Dynamic table, newest first: custom-key (62), location (63), date (64),
    // cache-control (65).
    let later_block = vec![STATUS_200, 0x80 | 65, 0x80 | 64, 0x80 | 63, 0x80 | 62];
    let (srv, tally) = server(move |s, tally| {
        let (first_block, later_block) = (first_block.clone(), later_block.clone());
        async move {
            let Some(mut peer) = Peer::accept(s, &tally, &[]).await else {
                return;
            };
            let mut first = true;
            while let Some(f) = peer.next().await {
                let Some((stream, _)) = peer.finished(&f) else {
                    continue;
                };
                let block = if first { &first_block } else { &later_block };
                let mut out = Vec::new();
                frame(&mut out, HEADERS, END_HEADERS, stream, block);
                frame(&mut out, DATA, END_STREAM, stream, b"abc");
                peer.send(&out).await;
                let mut t = peer.tally();
                t.answered += 1;
                if first {
                    t.first_blocks += 1;
                } else {
                    t.later_blocks += 1;
                }
                first = false;
            }
        }
    })
    .await;
    let report = all_ok(lean(&srv.url).connections(2).streams_per_connection(2), 12).await;
    let m = &report.measured;
    let fields = [
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
        ("custom-key", "custom-value"),
    ];
    assert_eq!(http1_len(&fields, 3), 144);
    assert_eq!(m.bytes_in, 12 * 144);
    let t = settled(&tally).await;
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(t.answered, 12);
    assert_eq!(t.first_blocks as u64, m.connections_opened);
    assert!(t.later_blocks >= 10, "{t:?}");
}

/// (c) GOAWAY with last stream id 3 once four streams are open: streams 1 and 3 are still
/// answered on the old connection, streams 5 and 7 are sent again on a new one, and no
/// new stream goes to the old connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_above_the_goaway_last_id_are_sent_again_on_a_new_connection() {
    let (srv, tally) = server(|s, tally| async move {
        let Some(mut peer) = Peer::accept(s, &tally, &[]).await else {
            return;
        };
        let mut waiting = Vec::new();
        let mut went_away = false;
        while let Some(f) = peer.next().await {
            let Some((stream, _)) = peer.finished(&f) else {
                continue;
            };
            let mut out = Vec::new();
            if peer.index > 0 {
                ok(&mut out, stream, b"fine");
                peer.send(&out).await;
                peer.tally().answered += 1;
                continue;
            }
            if went_away {
                peer.problem(format!("stream {stream} opened after GOAWAY"));
                continue;
            }
            waiting.push(stream);
            if waiting.len() < 4 {
                continue;
            }
            went_away = true;
            // GOAWAY: last stream id 3, NO_ERROR; then answer streams 1 and 3 only.
            let mut payload = 3u32.to_be_bytes().to_vec();
            payload.extend_from_slice(&0u32.to_be_bytes());
            frame(&mut out, GOAWAY, 0, 0, &payload);
            for &s in waiting.iter().filter(|&&s| s <= 3) {
                ok(&mut out, s, b"fine");
            }
            peer.send(&out).await;
            peer.tally().answered += 2;
        }
    })
    .await;
    let report = all_ok(lean(&srv.url).connections(1).streams_per_connection(4), 12).await;
    let m = &report.measured;
    assert_eq!(m.bytes_in, 12 * (19 + 4));
    // The resent streams succeeded, so the GOAWAY that sent them away is no failure reason.
    assert!(
        report.error_reasons.is_empty(),
        "{:?}",
        report.error_reasons
    );
    assert!(m.connections_opened >= 2, "{}", m.connections_opened);
    let t = settled(&tally).await;
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(
        t.events[0],
        [1, 3, 5, 7].map(Event::Opened),
        "the first connection"
    );
    assert_eq!(t.answered, 12);
    // The 12 requests plus the two sent again.
    assert_eq!(t.streams(), 14, "{:?}", t.events);
    assert_eq!(t.connections as u64, m.connections_opened);
}

/// (d) A server that reads everything and answers nothing: requests time out, their
/// streams are reset with CANCEL, and new streams keep going to the same connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_streams_are_cancelled_and_the_connection_keeps_serving() {
    let _serial = crate::serial().await;
    let (srv, tally) = server(|s, tally| async move {
        if let Some(mut peer) = Peer::accept(s, &tally, &[]).await {
            peer.drain().await;
        }
    })
    .await;
    let report = run_within(
        lean(&srv.url)
            .connections(1)
            .streams_per_connection(2)
            .request_timeout(Duration::from_millis(200))
            .duration(Duration::from_millis(600)),
        Duration::from_millis(1500),
    )
    .await;
    let m = &report.measured;
    assert_eq!(m.responses(), 0);
    let timeouts = m
        .errors
        .get(&ErrorKind::RequestTimeout)
        .copied()
        .unwrap_or(0);
    assert_eq!(m.error_count(), timeouts, "{:?}", m.errors);
    // Two slots, each timing out at 200 and 400 ms at least.
    assert!(timeouts >= 4, "{:?}", m.errors);
    assert_eq!(m.connections_opened, 1);
    let t = settled(&tally).await;
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(t.connections, 1);
    let events = &t.events[0];
    let opened: HashSet<u32> = events
        .iter()
        .filter_map(|e| match e {
            Event::Opened(s) => Some(*s),
            Event::Reset(..) => None,
        })
        .collect();
    let resets: Vec<(u32, u32)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Reset(s, c) => Some((*s, *c)),
            Event::Opened(_) => None,
        })
        .collect();
    assert!(opened.len() as u64 >= timeouts, "{events:?}");
    assert!(
        resets
            .iter()
            .all(|(s, c)| *c == CANCEL && opened.contains(s)),
        "{events:?}"
    );
    // Every stream but the last of each slot was reset before its slot's next request.
    assert!(resets.len() + 2 >= opened.len(), "{events:?}");
    let first_reset = events.iter().position(|e| matches!(e, Event::Reset(..)));
    assert!(
        first_reset.is_some_and(|i| events[i..].iter().any(|e| matches!(e, Event::Opened(_)))),
        "no stream was opened after a cancel: {events:?}"
    );
}

/// A response that comes after the client cancelled its stream still carries dynamic
/// table entries: the server answers stream 1 only once it is reset, adding a field to the
/// table, and names that field by index in every later response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_answers_to_cancelled_streams_still_feed_the_dynamic_table() {
    let (srv, tally) = server(|s, tally| async move {
        let Some(mut peer) = Peer::accept(s, &tally, &[]).await else {
            return;
        };
        while let Some(f) = peer.next().await {
            let mut out = Vec::new();
            if f.kind == RST_STREAM && f.stream == 1 {
                // Literal with incremental indexing, new name (RFC 7541, 6.2.1).
                let mut block = vec![STATUS_200, 0x40];
                for part in ["x-late", "yes"] {
                    hpack_int(&mut block, 0, 7, part.len());
                    block.extend_from_slice(part.as_bytes());
                }
                frame(&mut out, HEADERS, END_HEADERS | END_STREAM, 1, &block);
            } else if let Some((stream, _)) = peer.finished(&f) {
                if stream == 1 {
                    continue;
                }
                frame(
                    &mut out,
                    HEADERS,
                    END_HEADERS | END_STREAM,
                    stream,
                    &[STATUS_200, 0xbe],
                );
            } else {
                continue;
            }
            peer.send(&out).await;
            peer.tally().answered += 1;
        }
    })
    .await;
    let report = run_within(
        lean(&srv.url)
            .connections(1)
            .request_timeout(Duration::from_millis(100))
            .max_requests(5),
        Duration::from_secs(2),
    )
    .await;
    let m = &report.measured;
    assert_eq!(
        errors(m),
        [(ErrorKind::RequestTimeout, 1)],
        "{:?}",
        report.error_reasons
    );
    assert_eq!(m.status_codes.get(&200), Some(&4), "{:?}", m.status_codes);
    assert_eq!(m.bytes_in, 4 * http1_len(&[("x-late", "yes")], 0));
    assert_eq!(m.connections_opened, 1);
    let t = settled(&tally).await;
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(
        t.events[0][..2],
        [Event::Opened(1), Event::Reset(1, CANCEL)]
    );
    assert_eq!((t.streams(), t.answered), (5, 5));
}

/// (e) SETTINGS_MAX_CONCURRENT_STREAMS = 1 with four slots on one connection: the server
/// holds each response a few milliseconds while it watches for a second stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_stream_limit_of_one_is_never_exceeded() {
    let (srv, tally) = server(|s, tally| async move {
        let Some(mut peer) = Peer::accept(s, &tally, &[(MAX_CONCURRENT_STREAMS, 1)]).await else {
            return;
        };
        let mut open = HashSet::new();
        let mut ready = Vec::new();
        loop {
            // Whatever arrives within 3 ms of the last frame counts before anything is
            // answered.
            let f = if ready.is_empty() {
                peer.next().await
            } else {
                match tokio::time::timeout(Duration::from_millis(3), peer.next()).await {
                    Ok(f) => f,
                    Err(_) => {
                        let mut out = Vec::new();
                        for stream in ready.drain(..) {
                            ok(&mut out, stream, b"");
                            open.remove(&stream);
                            peer.tally().answered += 1;
                        }
                        peer.send(&out).await;
                        continue;
                    }
                }
            };
            let Some(f) = f else { return };
            match f.kind {
                HEADERS => {
                    open.insert(f.stream);
                    let mut t = peer.tally();
                    t.most_open = t.most_open.max(open.len());
                }
                RST_STREAM => {
                    open.remove(&f.stream);
                }
                _ => {}
            }
            if let Some((stream, _)) = peer.finished(&f) {
                ready.push(stream);
            }
        }
    })
    .await;
    let report = all_ok(lean(&srv.url).connections(1).streams_per_connection(4), 20).await;
    let m = &report.measured;
    assert_eq!(m.connections_opened, 1);
    let t = settled(&tally).await;
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(t.most_open, 1, "{:?}", t.events);
    assert_eq!((t.connections, t.streams(), t.answered), (1, 20, 20));
}

/// (f) Request bodies of 100 000 bytes against a server whose stream windows start at
/// 1000 bytes (and whose connection window is the default 65 535): it checks every DATA
/// frame against both windows, gives the bytes back as it reads them, and compares every
/// body byte. Once a body is under way it lowers the initial window to 500 bytes, which
/// shrinks the windows of open streams (RFC 9113, 6.9.2) from the client's acknowledgement
/// on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_larger_than_the_servers_windows_arrive_intact() {
    const BODY: usize = 100_000;
    let (srv, tally) = server(|s, tally| async move {
        let Some(mut peer) = Peer::accept(s, &tally, &[(INITIAL_WINDOW_SIZE, 1000)]).await else {
            return;
        };
        let mut initial: i64 = 1000;
        let mut windows: HashMap<u32, i64> = HashMap::new();
        let mut connection_window: i64 = 65_535;
        let (mut lowered, mut acks) = (false, 0);
        while let Some(f) = peer.next().await {
            let done = peer.finished(&f);
            if f.kind == SETTINGS && f.has(ACK) {
                acks += 1;
                if acks == 2 {
                    // The client applies the lower window from here on.
                    windows.values_mut().for_each(|w| *w -= 500);
                    initial = 500;
                }
            }
            if f.kind == HEADERS {
                windows.insert(f.stream, initial);
            }
            if f.kind == DATA && !lowered && done.is_none() && peer.body_len(f.stream) >= 5000 {
                lowered = true;
                let mut out = Vec::new();
                frame(
                    &mut out,
                    SETTINGS,
                    0,
                    0,
                    &settings(&[(INITIAL_WINDOW_SIZE, 500)]),
                );
                peer.send(&out).await;
            }
            if f.kind == DATA {
                let n = f.payload.len();
                let w = windows.entry(f.stream).or_insert(initial);
                *w -= n as i64;
                connection_window -= n as i64;
                {
                    let mut t = peer.tally();
                    t.data_frames += 1;
                    if *w < 0 || connection_window < 0 || n > 16_384 {
                        t.note(format!(
                            "DATA of {n} on stream {}: windows {w} and {connection_window}",
                            f.stream
                        ));
                    }
                }
                if n > 0 {
                    let mut out = Vec::new();
                    window_update(&mut out, 0, n as u32);
                    connection_window += n as i64;
                    if done.is_none() {
                        window_update(&mut out, f.stream, n as u32);
                        *w += n as i64;
                    }
                    peer.send(&out).await;
                }
            }
            if let Some((stream, body)) = done {
                if body == request_body(BODY) {
                    peer.tally().bodies_intact += 1;
                } else {
                    peer.problem(format!("stream {stream}: a body of {} bytes", body.len()));
                }
                let mut out = Vec::new();
                ok(&mut out, stream, b"");
                peer.send(&out).await;
                peer.tally().answered += 1;
            }
        }
    })
    .await;
    let report = all_ok(
        lean(&srv.url)
            .body(request_body(BODY))
            .connections(1)
            .streams_per_connection(2),
        6,
    )
    .await;
    let m = &report.measured;
    assert!(
        (6 * BODY as u64..6 * (BODY as u64 + 1000)).contains(&m.bytes_out),
        "{}",
        m.bytes_out
    );
    let t = settled(&tally).await;
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(t.bodies_intact, 6);
    assert_eq!(t.answered, 6);
    assert_eq!(t.settings_acks, 2, "the lower window was acknowledged");
    // No frame was larger than a stream window of 1000 bytes.
    assert!(t.data_frames >= 6 * BODY / 1000, "{}", t.data_frames);
}

/// A way to break the protocol, sent in answer to the first complete request of each
/// connection (or, with `skip_settings`, instead of the server's SETTINGS).
struct Breach {
    what: &'static str,
    skip_settings: bool,
    answer: fn(u32) -> Vec<u8>,
    /// The error code of the client's GOAWAY, when it sends one.
    goaway: Option<u32>,
}

/// (g) Servers that break the protocol: every request fails as a protocol error, the
/// client ends the connection with GOAWAY naming the error, and the run ends on time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_that_break_the_protocol_fail_requests_as_protocol_errors() {
    let breaches = [
        Breach {
            what: "DATA on a stream the client never opened",
            skip_settings: false,
            answer: |s| {
                let mut out = Vec::new();
                frame(&mut out, DATA, END_STREAM, s + 100, b"stray");
                out
            },
            goaway: Some(PROTOCOL_ERROR),
        },
        Breach {
            what: "a header block with HPACK index 0",
            skip_settings: false,
            answer: |s| {
                let mut out = Vec::new();
                frame(&mut out, HEADERS, END_HEADERS | END_STREAM, s, &[0x80]);
                out
            },
            goaway: Some(COMPRESSION_ERROR),
        },
        Breach {
            what: "HEADERS padding longer than the frame",
            skip_settings: false,
            answer: |s| {
                let mut out = Vec::new();
                frame(
                    &mut out,
                    HEADERS,
                    PADDED | END_HEADERS,
                    s,
                    &[10, STATUS_200],
                );
                out
            },
            goaway: Some(PROTOCOL_ERROR),
        },
        Breach {
            what: "DATA padding longer than the frame",
            skip_settings: false,
            answer: |s| {
                let mut out = Vec::new();
                frame(&mut out, HEADERS, END_HEADERS, s, &[STATUS_200]);
                frame(&mut out, DATA, PADDED | END_STREAM, s, &[9, b'x']);
                out
            },
            goaway: Some(PROTOCOL_ERROR),
        },
        Breach {
            what: "a first frame that is not SETTINGS",
            skip_settings: true,
            answer: |_| {
                let mut out = Vec::new();
                frame(&mut out, PING, 0, 0, b"notsets!");
                out
            },
            goaway: None,
        },
        Breach {
            what: "PUSH_PROMISE",
            skip_settings: false,
            answer: |s| {
                let mut out = Vec::new();
                // Promised stream 2: GET http://.../
                frame(
                    &mut out,
                    PUSH_PROMISE,
                    END_HEADERS,
                    s,
                    &[0, 0, 0, 2, 0x82, 0x86, 0x84],
                );
                out
            },
            goaway: Some(PROTOCOL_ERROR),
        },
    ];
    for breach in breaches {
        let Breach {
            what,
            skip_settings,
            answer,
            goaway,
        } = breach;
        let (srv, tally) = server(move |s, tally| async move {
            if skip_settings {
                let Some(mut peer) = Peer::without_settings(s, &tally).await else {
                    return;
                };
                peer.send(&answer(0)).await;
                peer.drain().await;
                return;
            }
            let Some(mut peer) = Peer::accept(s, &tally, &[]).await else {
                return;
            };
            while let Some(f) = peer.next().await {
                if let Some((stream, _)) = peer.finished(&f) {
                    peer.send(&answer(stream)).await;
                    break;
                }
            }
            peer.drain().await;
        })
        .await;
        let report = run_within(
            lean(&srv.url)
                .connections(1)
                .streams_per_connection(2)
                .request_timeout(Duration::from_secs(1))
                .max_requests(6),
            Duration::from_secs(2),
        )
        .await;
        let m = &report.measured;
        assert_eq!(m.responses(), 0, "{what}: {:?}", m.status_codes);
        assert_eq!(
            errors(m),
            [(ErrorKind::Protocol, 6)],
            "{what}: {:?}",
            report.error_reasons
        );
        let t = settled(&tally).await;
        assert!(t.problems.is_empty(), "{what}: {:?}", t.problems);
        assert!(t.connections >= 1, "{what}");
        match goaway {
            Some(code) => {
                assert!(!t.goaways.is_empty(), "{what}: no GOAWAY");
                assert!(
                    t.goaways.iter().all(|c| *c == code),
                    "{what}: {:?}",
                    t.goaways
                );
            }
            None => assert_eq!(t.streams(), 0, "{what}: {:?}", t.events),
        }
    }
}

/// The counts of an HTTP/2 or gRPC run on `client`.
async fn counts(builder: EngineBuilder, client: Http2Client) -> PhaseReport {
    let report = run_within(builder.http2_client(client), Duration::from_secs(5)).await;
    let m = report.measured;
    assert_eq!(errors(&m), [], "{client:?}: {:?}", report.error_reasons);
    m
}

/// (h) The same runs on both HTTP/2 clients against the reference server count the same
/// statuses and bytes both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_http2_clients_count_the_same_statuses_and_bytes() {
    let server = ReferenceServer::builder().start().await.unwrap();
    let runs = [
        (
            "HTTP/2 GET",
            Engine::builder()
                .url(server.url("/hello"))
                .http_version(HttpVersion::Http2),
        ),
        (
            "HTTP/2 POST",
            Engine::builder()
                .url(server.url("/echo"))
                .http_version(HttpVersion::Http2)
                .body(request_body(70_000)),
        ),
        (
            "gRPC health",
            Engine::builder().url(format!("grpc://{}", server.addr())),
        ),
        (
            "gRPC echo",
            Engine::builder()
                .url(format!("grpc://{}/smps.Echo/Say", server.addr()))
                .body(request_body(1000)),
        ),
    ];
    for (what, builder) in runs {
        let builder = builder
            .connections(2)
            .streams_per_connection(2)
            .max_requests(20);
        let lean = counts(builder.clone(), Http2Client::Lean).await;
        let h2 = counts(builder, Http2Client::H2).await;
        assert_eq!(lean.requests(), 20, "{what}");
        assert_eq!(lean.status_codes, h2.status_codes, "{what}");
        assert_eq!(lean.bytes_in, h2.bytes_in, "{what}: bytes in, Lean vs H2");
        assert_eq!(
            lean.bytes_out, h2.bytes_out,
            "{what}: bytes out, Lean vs H2"
        );
        assert!(lean.bytes_in > 20 * 19, "{what}: {}", lean.bytes_in);
    }
}

/// Trailers on a plain HTTP/2 response (HEADERS, DATA, HEADERS ending the stream), from a
/// server written frame by frame: both clients count the same bytes, and the same response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_http2_clients_count_trailers_the_same() {
    let (srv, tally) = server(|s, tally| async move {
        let Some(mut peer) = Peer::accept(s, &tally, &[]).await else {
            return;
        };
        while let Some(f) = peer.next().await {
            let Some((stream, _)) = peer.finished(&f) else {
                continue;
            };
            let mut out = Vec::new();
            frame(&mut out, HEADERS, END_HEADERS, stream, &[STATUS_200]);
            frame(&mut out, DATA, 0, stream, b"abc");
            let mut trailers = Vec::new();
            literal(&mut trailers, "x-checksum", "abc");
            frame(
                &mut out,
                HEADERS,
                END_HEADERS | END_STREAM,
                stream,
                &trailers,
            );
            peer.send(&out).await;
            peer.tally().answered += 1;
        }
    })
    .await;
    let mut bytes_in = Vec::new();
    for client in [Http2Client::Lean, Http2Client::H2] {
        let builder = Engine::builder()
            .url(&srv.url)
            .http_version(HttpVersion::Http2)
            .connections(1)
            .streams_per_connection(2)
            .request_timeout(Duration::from_secs(1))
            .max_requests(4);
        let m = counts(builder, client).await;
        assert_eq!(m.status_codes.get(&200), Some(&4), "{client:?}");
        bytes_in.push((client, m.bytes_in));
    }
    let t = settled(&tally).await;
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(t.answered, 8);
    // The head and the body; the trailer field, as HTTP/1.1 chunked text would carry it.
    let expected = http1_len(&[], 3) + "x-checksum: abc\r\n".len() as u64;
    assert_eq!(
        bytes_in,
        [
            (Http2Client::Lean, 4 * expected),
            (Http2Client::H2, 4 * expected)
        ]
    );
}
