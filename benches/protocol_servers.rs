//! The peers of the protocol benchmarks, in one process: the reference server (HTTP/1.1,
//! h2c with a stream limit, gRPC health and echo) and the TCP and UDP echo servers, on
//! 127.0.0.1. `benches/protocols-bench.sh` starts it pinned to CPU 0 and reads the lines it
//! prints:
//!
//! ```text
//! http 127.0.0.1:PORT
//! tcp 127.0.0.1:PORT
//! udp 127.0.0.1:PORT
//! ```
//!
//! It serves until its standard input closes. `--max-streams N` sets the HTTP/2 stream limit
//! (default 256); `--threads N` the runtime threads (default 1).
#![allow(clippy::print_stdout)]

use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use smps_load::reference::{EchoServer, ReferenceServer};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut max_streams, mut threads) = (256u32, 1usize);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--max-streams" => max_streams = it.next().context("a number")?.parse()?,
            "--threads" => threads = it.next().context("a number")?.parse()?,
            other => bail!("usage: protocol-servers [--max-streams N] [--threads N] (got {other})"),
        }
    }
    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    let (http, tcp, udp) = rt.block_on(async {
        let http = ReferenceServer::builder()
            .max_concurrent_streams(max_streams)
            .start()
            .await?;
        let tcp = EchoServer::tcp().start().await?;
        let udp = EchoServer::udp().start().await?;
        Ok::<_, smps_load::Error>((http, tcp, udp))
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "http {}", http.addr())?;
    writeln!(out, "tcp {}", tcp.addr())?;
    writeln!(out, "udp {}", udp.addr())?;
    out.flush()?;
    drop(out);
    // Serve (the servers run on the runtime's threads, or on this one while it blocks below
    // for a current-thread runtime) until stdin closes.
    rt.block_on(async {
        tokio::task::spawn_blocking(|| {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                if line.is_err() {
                    break;
                }
            }
        })
        .await
    })?;
    drop((http, tcp, udp));
    Ok(())
}
