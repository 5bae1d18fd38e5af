//! Precise wake-ups for open-loop arrivals.
//!
//! Tokio's timer has a resolution of one millisecond: a sleep until an arrival's intended
//! time ends anywhere up to a millisecond (more when the runtime parks) after it, and that lag
//! would be counted as latency. On Linux the pacer arms a `timerfd` (a kernel high-resolution
//! timer without timer slack) registered with the runtime's I/O driver. Elsewhere, or if the
//! timer cannot be created, it falls back to Tokio's timer.
//!
//! A high-resolution timer still wakes the task late: the kernel has to deliver the interrupt,
//! wake an idle CPU (on a virtual machine, through the hypervisor) and the runtime has to poll
//! the task — 25–75 µs on the reference VM, more on a multi-thread runtime. The pacer learns
//! that **wake-up delay** from the wake-ups it sees (a smoothed mean plus twice the smoothed
//! deviation, as TCP estimates a round trip) and arms the timer that much *before* the
//! intended time; a wake-up that comes early then spins for the remaining few microseconds.
//! The lead is capped by an eighth of the time left until the arrival ([`LEAD_SHARE`]), so
//! spinning takes at most that share of a worker's time however busy it is (at 50,000 req/s a
//! larger share left a CPU-starved worker too little time to keep up), and by [`MAX_LEAD`].
//!
//! Wake-ups are coalesced: the next one is never intended less than [`COALESCE`] after the
//! previous one. At high rates each wake-up then sends the arrivals due by then (a bounded
//! lag of at most [`COALESCE`]) instead of paying a wake-up per request.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

/// The least time between two intended wake-ups (see the module docs).
pub(crate) const COALESCE: Duration = Duration::from_micros(40);

/// The most the timer is armed ahead of an arrival (see the module docs).
pub(crate) const MAX_LEAD: Duration = Duration::from_micros(250);

/// The lead is at most the time until the arrival divided by this (see the module docs).
pub(crate) const LEAD_SHARE: u32 = 8;

/// A re-armable timer for the next arrival.
pub(crate) struct Pacer {
    #[cfg(target_os = "linux")]
    precise: Option<linux::TimerFd>,
    coarse: Pin<Box<tokio::time::Sleep>>,
    /// When the armed wake-up is intended (`None`: disarmed).
    due: Option<Instant>,
    /// When the precise timer is set to fire: `due` less the lead.
    fire_at: Option<Instant>,
    /// When the last wake-up was delivered.
    last_wake: Option<Instant>,
    /// How late wake-ups come, learned from the ones seen.
    delay: WakeDelay,
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
            fire_at: None,
            last_wake: None,
            delay: WakeDelay::default(),
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
    ///
    /// The high-resolution timer is set in the kernel only when the wake-up is waited for
    /// ([`Pacer::poll_wake`]): a busy worker sends most arrivals when another event wakes it,
    /// re-arming after each, and a timer set per arrival would be a system call (and, on a
    /// virtual machine, a hypervisor exit) per request for wake-ups that are never needed.
    pub(crate) fn arm(&mut self, at: Instant) {
        let at = match self.last_wake {
            Some(last) => at.max(last + COALESCE),
            None => at,
        };
        if self.due == Some(at) {
            return;
        }
        self.due = Some(at);
        // Not set in the kernel yet (see above).
        self.fire_at = None;
        if !self.is_precise() {
            self.coarse.as_mut().reset(at);
        }
    }

    /// Sets the high-resolution timer for `due`, ahead by the lead; `None` if the kernel
    /// refused (the pacer falls back to Tokio's timer).
    #[cfg(target_os = "linux")]
    fn set_timer(t: &mut linux::TimerFd, delay: &WakeDelay, due: Instant) -> Option<Instant> {
        let now = Instant::now();
        let lead = delay
            .lead()
            .min(due.saturating_duration_since(now) / LEAD_SHARE);
        let fire_at = due - lead;
        t.arm(fire_at.saturating_duration_since(now))
            .then_some(fire_at)
    }

    /// Waits for the armed wake-up; never ready while disarmed.
    pub(crate) fn poll_wake(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(due) = self.due else {
            return Poll::Pending;
        };
        #[cfg(target_os = "linux")]
        if let Some(t) = &mut self.precise {
            let fire_at = match self.fire_at {
                Some(f) => f,
                None => match Self::set_timer(t, &self.delay, due) {
                    Some(f) => {
                        self.fire_at = Some(f);
                        f
                    }
                    None => {
                        // The kernel refused: from here on, the coarse timer.
                        self.precise = None;
                        self.coarse.as_mut().reset(due);
                        return self.poll_wake(cx);
                    }
                },
            };
            loop {
                match t.poll_expired(cx) {
                    Poll::Ready(true) => {}
                    Poll::Ready(false) => {
                        self.precise = None;
                        self.fire_at = None;
                        self.coarse.as_mut().reset(due);
                        return self.poll_wake(cx);
                    }
                    Poll::Pending => return Poll::Pending,
                }
                let now = Instant::now();
                // A readiness event left from before the timer was last armed: the timer is
                // still set, so wait for its own event.
                if now < fire_at {
                    continue;
                }
                self.delay.sample(now - fire_at);
                // Early by design: spin for the few microseconds left (at most the lead).
                let mut now = now;
                while now < due {
                    std::hint::spin_loop();
                    now = Instant::now();
                }
                self.woke(now);
                return Poll::Ready(());
            }
        }
        match self.coarse.as_mut().poll(cx) {
            Poll::Ready(()) => {
                let now = Instant::now();
                if now < due {
                    // Tokio's timer never fires early, but be safe: wait again.
                    self.coarse.as_mut().reset(due);
                    return self.poll_wake(cx);
                }
                self.woke(now);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// A wake-up was delivered at `now`: the pacer is disarmed until armed again.
    fn woke(&mut self, now: Instant) {
        self.due = None;
        self.fire_at = None;
        self.last_wake = Some(now);
    }

    /// A future that completes at the armed wake-up.
    pub(crate) fn wake(&mut self) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| self.poll_wake(cx))
    }

    /// How far ahead of an arrival the timer is armed now (before the per-arrival cap).
    #[cfg(test)]
    pub(crate) fn lead(&self) -> Duration {
        self.delay.lead()
    }
}

/// A running estimate of how late timer wake-ups reach the task: a smoothed mean and a
/// smoothed mean deviation (gains 1/8 and 1/4), in nanoseconds.
#[derive(Debug, Default, Clone, Copy)]
struct WakeDelay {
    mean: u64,
    dev: u64,
    seen: bool,
}

impl WakeDelay {
    /// Adds one observed delay.
    fn sample(&mut self, d: Duration) {
        let s = u64::try_from(d.as_nanos())
            .unwrap_or(u64::MAX)
            .min(10_000_000);
        if !self.seen {
            self.seen = true;
            self.mean = s;
            self.dev = s / 2;
            return;
        }
        let err = self.mean.abs_diff(s);
        self.dev = self.dev - self.dev / 4 + err / 4;
        self.mean = self.mean - self.mean / 8 + s / 8;
    }

    /// How far ahead to arm: the mean plus twice the deviation, at most [`MAX_LEAD`].
    fn lead(&self) -> Duration {
        Duration::from_nanos(self.mean.saturating_add(self.dev.saturating_mul(2))).min(MAX_LEAD)
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
            .field("lead", &self.delay.lead())
            .finish()
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::fd::OwnedFd;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };
    use tokio::io::unix::AsyncFd;

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

        /// Arms the timer to fire `after` from now (a zero would disarm it, so it is at least
        /// a nanosecond). Arming also resets the expiration count, so the timer needs no
        /// read between expirations. Returns whether the kernel took it.
        pub(super) fn arm(&mut self, after: Duration) -> bool {
            let d = after.max(Duration::from_nanos(1));
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

        /// `Ready(true)` when the timer fired (or a readiness event from an earlier arming is
        /// still pending: the caller checks the clock); `Ready(false)` if the timer broke.
        ///
        /// Each expiration wakes the descriptor's waiters, which the runtime's edge-triggered
        /// registration reports as a new event, so clearing the readiness without reading the
        /// count is enough (a read would be one more system call per arrival).
        pub(super) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
            match self.fd.poll_read_ready(cx) {
                Poll::Ready(Ok(mut guard)) => {
                    guard.clear_ready();
                    Poll::Ready(true)
                }
                Poll::Ready(Err(_)) => Poll::Ready(false),
                Poll::Pending => Poll::Pending,
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
        for _ in 0..50 {
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

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn the_lead_is_learned_and_bounded() {
        let mut p = Pacer::new(true);
        assert_eq!(p.lead(), Duration::ZERO, "nothing learned yet");
        for _ in 0..20 {
            p.arm(Instant::now() + Duration::from_millis(1));
            p.wake().await;
        }
        // Every real wake-up comes some time after the timer fires.
        assert!(p.lead() > Duration::ZERO);
        assert!(p.lead() <= MAX_LEAD);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_disarmed_pacer_never_wakes() {
        let mut p = Pacer::new(true);
        let woke = tokio::time::timeout(Duration::from_millis(20), p.wake()).await;
        assert!(woke.is_err());
    }

    #[test]
    fn the_delay_estimate_follows_its_samples() {
        let mut d = WakeDelay::default();
        for _ in 0..100 {
            d.sample(Duration::from_micros(30));
        }
        let lead = d.lead();
        assert!(
            lead >= Duration::from_micros(29) && lead <= Duration::from_micros(32),
            "{lead:?}"
        );
        // One huge outlier raises the lead, but never past the cap.
        d.sample(Duration::from_secs(1));
        assert!(d.lead() > lead && d.lead() <= MAX_LEAD);
    }
}
