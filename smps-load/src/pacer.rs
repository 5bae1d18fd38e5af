//! Precise wake-ups for open-loop arrivals.
//!
//! Tokio's timer has a resolution of one millisecond: a sleep until an arrival's intended
//! time ends anywhere up to a millisecond (more when the runtime parks) after it, and that lag
//! would be counted as latency. On Linux the pacer arms a `timerfd` (a kernel high-resolution
//! timer without timer slack) registered with the runtime's I/O driver, so a wake-up comes
//! within microseconds of the intended time without spinning. Elsewhere, or if the timer
//! cannot be created, it falls back to Tokio's timer.
//!
//! Wake-ups are coalesced: the next one is never armed less than [`COALESCE`] after the
//! previous one. At high rates each wake-up then sends the arrivals due by then (a bounded
//! lag of at most [`COALESCE`]) instead of paying a wake-up per request.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

/// The least time between two wake-ups (see the module docs).
pub(crate) const COALESCE: Duration = Duration::from_micros(40);

/// A re-armable timer for the next arrival.
pub(crate) struct Pacer {
    #[cfg(target_os = "linux")]
    precise: Option<linux::TimerFd>,
    coarse: Pin<Box<tokio::time::Sleep>>,
    /// When the armed wake-up is due (`None`: disarmed).
    due: Option<Instant>,
    /// When the last wake-up was delivered.
    last_wake: Option<Instant>,
}

impl Pacer {
    /// A disarmed pacer; `precise` asks for the high-resolution timer (where there is one).
    /// Must be called within a Tokio runtime with the I/O driver enabled.
    pub(crate) fn new(precise: bool) -> Self {
        let _ = precise;
        Pacer {
            #[cfg(target_os = "linux")]
            precise: if precise { linux::TimerFd::new() } else { None },
            coarse: Box::pin(tokio::time::sleep_until(far_future())),
            due: None,
            last_wake: None,
        }
    }

    /// Whether wake-ups come from the high-resolution timer.
    pub(crate) fn is_precise(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.precise.is_some()
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }

    /// Arms the pacer to wake at `at` (or [`COALESCE`] after the last wake-up, if later).
    pub(crate) fn arm(&mut self, at: Instant) {
        let at = match self.last_wake {
            Some(last) => at.max(last + COALESCE),
            None => at,
        };
        if self.due == Some(at) {
            return;
        }
        self.due = Some(at);
        #[cfg(target_os = "linux")]
        if let Some(t) = &mut self.precise {
            if t.arm(at) {
                return;
            }
            // The kernel refused: from here on, the coarse timer.
            self.precise = None;
        }
        self.coarse.as_mut().reset(at);
    }

    /// Waits for the armed wake-up; never ready while disarmed.
    pub(crate) fn poll_wake(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(due) = self.due else {
            return Poll::Pending;
        };
        #[cfg(target_os = "linux")]
        if let Some(t) = &mut self.precise {
            match t.poll_expired(cx) {
                Poll::Ready(true) => {}
                Poll::Ready(false) => {
                    self.precise = None;
                    self.coarse.as_mut().reset(due);
                    return self.poll_wake(cx);
                }
                Poll::Pending => return Poll::Pending,
            }
            return self.woke(due, cx);
        }
        match self.coarse.as_mut().poll(cx) {
            Poll::Ready(()) => self.woke(due, cx),
            Poll::Pending => Poll::Pending,
        }
    }

    /// A wake-up arrived: done unless it came early (then armed again for `due`).
    fn woke(&mut self, due: Instant, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        if now < due {
            self.due = None;
            self.arm(due);
            return self.poll_wake(cx);
        }
        self.due = None;
        self.last_wake = Some(now);
        Poll::Ready(())
    }

    /// A future that completes at the armed wake-up.
    pub(crate) fn wake(&mut self) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| self.poll_wake(cx))
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("precise", &self.is_precise())
            .field("due", &self.due)
            .finish()
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::fd::OwnedFd;
    use std::task::{Context, Poll};

    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };
    use tokio::io::unix::AsyncFd;
    use tokio::time::Instant;

    /// A non-blocking `CLOCK_MONOTONIC` timerfd registered with the runtime.
    pub(super) struct TimerFd {
        fd: AsyncFd<OwnedFd>,
    }

    impl TimerFd {
        pub(super) fn new() -> Option<Self> {
            let fd = timerfd_create(
                TimerfdClockId::Monotonic,
                TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
            )
            .ok()?;
            // `AsyncFd::new` is deprecated because a generic `T` could return a different
            // descriptor over time; an `OwnedFd` returns the one it owns until dropped,
            // which is the invariant the replacement (`unsafe fn register`) asks callers to
            // uphold, so the safe constructor is sound here and the crate stays free of
            // `unsafe`.
            #[allow(deprecated)]
            let fd = AsyncFd::new(fd).ok()?;
            Some(TimerFd { fd })
        }

        /// Arms the timer for `at` (relative to now: the clock is the same one `Instant`
        /// reads). Returns whether the kernel took it.
        pub(super) fn arm(&mut self, at: Instant) -> bool {
            let d = at.saturating_duration_since(Instant::now());
            // A zero value would disarm the timer; one nanosecond fires at once.
            let d = d.max(std::time::Duration::from_nanos(1));
            let value = Itimerspec {
                it_interval: Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: Timespec {
                    tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
                    tv_nsec: d.subsec_nanos().into(),
                },
            };
            timerfd_settime(self.fd.get_ref(), TimerfdTimerFlags::empty(), &value).is_ok()
        }

        /// `Ready(true)` once the timer expired; `Ready(false)` if the timer broke.
        pub(super) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
            loop {
                let mut guard = match self.fd.poll_read_ready(cx) {
                    Poll::Ready(Ok(g)) => g,
                    Poll::Ready(Err(_)) => return Poll::Ready(false),
                    Poll::Pending => return Poll::Pending,
                };
                let mut expirations = [0u8; 8];
                match rustix::io::read(self.fd.get_ref(), &mut expirations) {
                    Ok(_) => {
                        // One read drains the timer: it is not readable until it fires again.
                        guard.clear_ready();
                        return Poll::Ready(true);
                    }
                    Err(rustix::io::Errno::AGAIN) => guard.clear_ready(),
                    Err(_) => return Poll::Ready(false),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_wake_up_comes_at_its_time_never_before() {
        let mut p = Pacer::new(true);
        for _ in 0..20 {
            let at = Instant::now() + Duration::from_micros(300);
            p.arm(at);
            p.wake().await;
            assert!(Instant::now() >= at);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn wake_ups_are_at_least_the_coalescing_gap_apart() {
        let mut p = Pacer::new(true);
        p.arm(Instant::now());
        p.wake().await;
        let first = Instant::now();
        p.arm(Instant::now());
        p.wake().await;
        assert!(Instant::now() >= first + COALESCE - Duration::from_micros(5));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn on_linux_the_timer_is_the_precise_one() {
        assert!(Pacer::new(true).is_precise());
        assert!(!Pacer::new(false).is_precise());
    }
}
