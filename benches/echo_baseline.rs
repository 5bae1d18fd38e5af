//! The physical floor of an echo round trip: a minimal blocking client that does one
//! `write` and one `read` system call per round trip (TCP: `read_exact`, one call when the
//! echo arrives whole; UDP: one `send` and one `recv`), checks the echo, and prints
//! wrk-style `Requests/sec: N`. `benches/protocols-bench.sh echo` runs it beside
//! `loadgen tcp://…` and `loadgen udp://…` on the same server.
//!
//! ```text
//! cargo run --release -p benches --example echo-baseline -- tcp 127.0.0.1:PORT -n 1000000 -s 24
//! ```
//! One connection (or socket), one thread. Loopback addresses only.
#![allow(clippy::print_stdout)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut requests, mut size) = (1_000_000u64, 24usize);
    let mut proto = None;
    let mut addr: Option<SocketAddr> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" => requests = it.next().context("-n needs a value")?.parse()?,
            "-s" => size = it.next().context("-s needs a value")?.parse()?,
            "tcp" | "udp" if proto.is_none() => proto = Some(a.clone()),
            other => match other.parse::<SocketAddr>() {
                Ok(a) if a.ip().is_loopback() => addr = Some(a),
                _ => bail!(
                    "usage: echo-baseline tcp|udp 127.0.0.1:PORT [-n N] [-s BYTES] (got {other})"
                ),
            },
        }
    }
    let proto = proto.context("tcp or udp is required")?;
    let addr = addr.context("a loopback address is required")?;
    ensure!(size >= 8, "-s must be at least 8 bytes");
    let mut out = vec![0u8; size];
    let mut back = vec![0u8; size + 1];
    let started = Instant::now();
    let mut errors = 0u64;
    if proto == "tcp" {
        let mut s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        for i in 0..requests {
            out[..8].copy_from_slice(&i.to_le_bytes());
            s.write_all(&out)?;
            s.read_exact(&mut back[..size])?;
            errors += u64::from(back[..size] != out[..]);
        }
    } else {
        let s = UdpSocket::bind("127.0.0.1:0")?;
        s.connect(addr)?;
        s.set_read_timeout(Some(Duration::from_millis(750)))?;
        for i in 0..requests {
            out[..8].copy_from_slice(&i.to_le_bytes());
            s.send(&out)?;
            match s.recv(&mut back) {
                Ok(n) => errors += u64::from(back[..n] != out[..]),
                Err(_) => errors += 1,
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{requests} requests in {secs:.3}s, {errors} errors");
    println!("Requests/sec: {:.2}", requests as f64 / secs);
    Ok(())
}
