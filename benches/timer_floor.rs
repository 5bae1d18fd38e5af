//! The cost floor of precise pacing on this machine: how late, and at what CPU cost, a bare
//! high-resolution timer wakes a thread that has nothing else to do.
//!
//! For each gap, the thread arms a `timerfd` (`CLOCK_MONOTONIC`, relative, no slack) for
//! `now + gap`, blocks in `read` until it fires, and notes how late it woke. CPU is the
//! thread's on-CPU time from `/proc/thread-self/schedstat` (nanoseconds, user + system) over
//! the wake-ups. No runtime, no sockets: a load generator that wakes once per arrival can do
//! no better than this, so `loadbench-smps-load.sh pacing` runs it beside the tools.
//!
//! Usage: `timer-floor [SECONDS_PER_GAP] [GAP_US...]` (defaults: 2 s; 1000 200 100 50 20 µs).

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("timer-floor measures a Linux timerfd; this is not Linux");
    std::process::exit(2);
}

#[cfg(target_os = "linux")]
fn main() -> anyhow::Result<()> {
    linux::main()
}

#[cfg(target_os = "linux")]
mod linux {
    use std::time::{Duration, Instant};

    use anyhow::{Context, Result};
    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };

    pub(crate) fn main() -> Result<()> {
        let mut args = std::env::args().skip(1);
        let secs: f64 = args
            .next()
            .map_or(Ok(2.0), |s| s.parse())
            .context("SECONDS_PER_GAP")?;
        let gaps: Vec<u64> = args
            .map(|s| s.parse().context("GAP_US"))
            .collect::<Result<_>>()?;
        let gaps = if gaps.is_empty() {
            vec![1000, 200, 100, 50, 20]
        } else {
            gaps
        };
        println!("gap_us\twakes\tlag_p50_us\tlag_p99_us\tcpu_us_per_wake\tbusy_pct");
        for gap in gaps {
            let r = measure(Duration::from_micros(gap), Duration::from_secs_f64(secs))?;
            println!(
                "{gap}\t{}\t{:.1}\t{:.1}\t{:.1}\t{:.0}",
                r.wakes, r.lag_p50_us, r.lag_p99_us, r.cpu_us_per_wake, r.busy_pct
            );
        }
        Ok(())
    }

    struct Floor {
        wakes: usize,
        lag_p50_us: f64,
        lag_p99_us: f64,
        cpu_us_per_wake: f64,
        busy_pct: f64,
    }

    fn measure(gap: Duration, length: Duration) -> Result<Floor> {
        let fd = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::CLOEXEC)
            .context("timerfd_create")?;
        let value = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: gap.as_secs().try_into()?,
                tv_nsec: gap.subsec_nanos().into(),
            },
        };
        let mut lags = Vec::new();
        let cpu0 = on_cpu_ns()?;
        let start = Instant::now();
        while start.elapsed() < length {
            let target = Instant::now() + gap;
            timerfd_settime(&fd, TimerfdTimerFlags::empty(), &value).context("timerfd_settime")?;
            let mut count = [0u8; 8];
            rustix::io::read(&fd, &mut count).context("read timerfd")?;
            lags.push(Instant::now().saturating_duration_since(target));
        }
        let wall = start.elapsed();
        let cpu = Duration::from_nanos(on_cpu_ns()? - cpu0);
        lags.sort_unstable();
        let q = |p: f64| lags[((lags.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
        Ok(Floor {
            wakes: lags.len(),
            lag_p50_us: q(0.5),
            lag_p99_us: q(0.99),
            cpu_us_per_wake: cpu.as_secs_f64() * 1e6 / lags.len() as f64,
            busy_pct: cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
        })
    }

    /// This thread's time on a CPU so far, in nanoseconds (first field of its schedstat).
    fn on_cpu_ns() -> Result<u64> {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat")
            .context("read /proc/thread-self/schedstat")?;
        s.split_whitespace()
            .next()
            .context("empty schedstat")?
            .parse()
            .context("schedstat's first field")
    }
}
