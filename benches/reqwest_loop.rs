//! Closed-loop HTTP/1.1 load carried by reqwest, the measuring stick for the transport choice
//! in smps-load (issue: "measure both, keep the faster"). `benches/loadbench-smps-load.sh
//! transport` runs it beside wrk and smps-load's own transports, pinned like every other tool.
//!
//! ```text
//! cargo run --release -p benches --example reqwest-loop -- -c 16 -d 10 http://127.0.0.1:18080/hello
//! ```
//! It prints wrk-style `Requests/sec: N` so loadbench.sh can read it. Loopback URLs only.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut connections, mut seconds, mut url) = (16usize, 10u64, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" => connections = it.next().context("-c needs a value")?.parse()?,
            "-d" => seconds = it.next().context("-d needs a value")?.parse()?,
            u if u.starts_with("http://127.0.0.1") || u.starts_with("http://localhost") => {
                url = Some(u.to_owned());
            }
            other => bail!(
                "usage: reqwest-loop [-c N] [-d SECS] http://127.0.0.1:PORT/PATH (got {other})"
            ),
        }
    }
    let url = url.context("a loopback URL is required")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (count, errors, elapsed) = runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .no_proxy()
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..connections {
            let (client, url) = (client.clone(), url.clone());
            tasks.spawn(async move {
                let (mut ok, mut failed) = (0u64, 0u64);
                while Instant::now() < deadline {
                    match client.get(&url).send().await {
                        Ok(r) => match r.bytes().await {
                            Ok(_) => ok += 1,
                            Err(_) => failed += 1,
                        },
                        Err(_) => failed += 1,
                    }
                }
                (ok, failed)
            });
        }
        let (mut ok, mut failed) = (0u64, 0u64);
        while let Some(r) = tasks.join_next().await {
            let (o, f) = r?;
            ok += o;
            failed += f;
        }
        anyhow::Ok((ok, failed, start.elapsed()))
    })?;
    println!(
        "{count} requests in {:.3}s, {errors} errors",
        elapsed.as_secs_f64()
    );
    println!("Requests/sec: {:.2}", count as f64 / elapsed.as_secs_f64());
    if count == 0 {
        bail!("no request succeeded");
    }
    Ok(())
}
