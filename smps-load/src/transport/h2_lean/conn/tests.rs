//! The driver against arbitrary server frames.

use super::*;
use crate::transport::Endpoint;
use crate::transport::h2_lean::frame::{flag, kind};
use crate::transport::h2_lean::request_block;

/// A driver on a real loopback socket (nothing is ever read from the peer), with one
/// endpoint carrying a body and `cells` cells.
async fn driver(cells: usize, grpc: bool) -> (Driver, Arc<Shared>, tokio::net::TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (peer, _) = listener.accept().await.unwrap();
    let ep = Endpoint {
        origin: 0,
        url: "http://127.0.0.1/".into(),
        path: "/".parse().unwrap(),
        absolute: "http://127.0.0.1/".parse().unwrap(),
        method: http::Method::POST,
        headers: http::HeaderMap::new(),
        body: bytes::Bytes::from_static(&[7; 40_000]),
        bytes_out: 0,
        raw: bytes::Bytes::new(),
        is_head: false,
        grpc_health: grpc,
    };
    let blocks = vec![request_block(&ep, &http::HeaderMap::new())];
    let shared = Arc::new(Shared::new(cells));
    let d = Driver::new(
        Stream::Plain(client),
        Arc::downgrade(&shared),
        cells,
        Arc::new(vec![ep]),
        Arc::new(blocks),
        grpc,
    );
    (d, shared, peer)
}

/// A small deterministic generator (xorshift) for the cases below.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A frame a server might send: mostly well-formed frames on the open streams (so that
/// cases get past the first frame), sometimes anything at all.
fn arbitrary_frame(g: &mut Gen) -> (u8, u8, u32, Vec<u8>) {
    let random = |g: &mut Gen, n: u64| -> Vec<u8> {
        let len = g.below(n) as usize;
        (0..len).map(|_| g.below(256) as u8).collect()
    };
    let stream = if g.below(5) == 0 {
        [0u32, 2, 7, 99][g.below(4) as usize]
    } else {
        [1u32, 3, 5][g.below(3) as usize]
    };
    match g.below(20) {
        0..=5 => {
            let flags = if g.below(3) == 0 { flag::END_STREAM } else { 0 }
                | if g.below(8) == 0 { flag::PADDED } else { 0 };
            (kind::DATA, flags, stream, random(g, 30))
        }
        6..=11 => {
            let flags = (flag::END_HEADERS * u8::from(g.below(6) != 0))
                | (flag::END_STREAM * u8::from(g.below(2) == 0))
                | (flag::PADDED * u8::from(g.below(10) == 0));
            let mut block = vec![[0x88u8, 0x89, 0x8d, 0x90][g.below(4) as usize]];
            if g.below(3) == 0 {
                block.extend(random(g, 8));
            }
            (kind::HEADERS, flags, stream, block)
        }
        12 => (kind::CONTINUATION, flag::END_HEADERS, stream, random(g, 6)),
        13 => (
            kind::RST_STREAM,
            0,
            stream,
            (g.below(10) as u32).to_be_bytes().to_vec(),
        ),
        14 => {
            let inc = (g.below(100_000) as u32).to_be_bytes().to_vec();
            (
                kind::WINDOW_UPDATE,
                0,
                [0, stream][g.below(2) as usize],
                inc,
            )
        }
        15 => {
            let mut p = Vec::new();
            for _ in 0..g.below(3) {
                p.extend_from_slice(&(g.below(8) as u16).to_be_bytes());
                p.extend_from_slice(&(g.below(70_000) as u32).to_be_bytes());
            }
            (kind::SETTINGS, (g.below(4) == 0) as u8, 0, p)
        }
        16 => (kind::PING, g.below(2) as u8, 0, vec![g.below(256) as u8; 8]),
        17 => {
            let mut p = (g.below(8) as u32).to_be_bytes().to_vec();
            p.extend_from_slice(&(g.below(12) as u32).to_be_bytes());
            (kind::GOAWAY, 0, 0, p)
        }
        18 => (kind::PRIORITY, 0, stream, random(g, 6)),
        _ => (
            g.below(256) as u8,
            g.below(256) as u8,
            stream,
            random(g, 40),
        ),
    }
}

#[tokio::test]
async fn arbitrary_frames_from_a_server_never_panic_the_driver() {
    let mut g = Gen(0x5eed_0ff4_a3e5);
    let (mut answered, mut survived) = (0, 0);
    // 150 connections (a loopback port each); a 30,000-case run of this test found no
    // panic before the machine ran out of ports.
    for case in 0..150 {
        let (mut d, _shared, _peer) = driver(4, case % 2 == 0).await;
        // The server's SETTINGS, then streams 1, 3, 5 open, then random frames.
        let mut input = Vec::new();
        frame::put_settings(&mut input, &[(setting::MAX_CONCURRENT_STREAMS, 3)]);
        for cell in 0..3 {
            d.waiting.push_back((
                Ask {
                    cell,
                    round: 1,
                    ep: 0,
                },
                false,
            ));
        }
        for _ in 0..g.below(30) + 1 {
            let (kind, flags, stream, payload) = arbitrary_frame(&mut g);
            frame::put_head(&mut input, payload.len(), kind, flags, stream);
            input.extend_from_slice(&payload);
        }
        // The frames arrive in pieces of any size.
        let mut at = 0;
        let mut failed = false;
        while at < input.len() && !failed {
            let n = (g.below(64) as usize + 1).min(input.len() - at);
            let end = d.rend + n;
            d.rbuf[d.rend..end].copy_from_slice(&input[at..at + n]);
            d.rend = end;
            at += n;
            failed = d.parse_buffered().is_err();
            if !failed && d.settings_seen {
                d.open_streams();
            }
            if d.rbuf.len() - d.rend < 1024 {
                d.rbuf.copy_within(d.rstart..d.rend, 0);
                d.rend -= d.rstart;
                d.rstart = 0;
            }
        }
        answered += d.done.len();
        survived += usize::from(!failed);
        assert!(d.active <= 3, "case {case}: {} streams open", d.active);
        assert!(d.ids.len() == d.active, "case {case}");
        d.ended = true;
    }
    // The cases reach past the first frame: some end streams, some stay healthy.
    // The generator is fixed, so these are the same every run (80 and 9 when written).
    assert!(answered >= 50 && survived >= 5, "{answered} {survived}");
}
