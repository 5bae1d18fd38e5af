//! The load models: how an engine paces requests, and what an open loop does when no
//! connection is free.

use crate::plan::ArrivalPlan;
#[cfg(doc)]
use crate::report::PhaseReport;

/// How requests are paced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LoadModel {
    /// Closed loop: every connection sends its next request as soon as the previous response
    /// is complete ("as fast as possible"). Latency is measured from the actual send, so it
    /// equals service time plus the engine's own turnaround; it is **not** corrected for
    /// coordinated omission.
    Closed,
    /// Open loop: requests are sent at the intended times of an [`ArrivalPlan`], whatever the
    /// server does. Latency is measured from the intended send time (coordinated-omission
    /// corrected); service time is kept separately.
    Open {
        /// When requests are meant to be sent.
        plan: ArrivalPlan,
        /// What happens when no connection is free at an intended send time.
        backlog: BacklogPolicy,
    },
}

/// What an open-loop run does when a request is due and no connection is free.
///
/// Whatever the policy, latency is still measured from the intended send time, and every
/// outcome is counted ([`PhaseReport::queued`], [`PhaseReport::dropped`],
/// [`PhaseReport::connections_opened`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BacklogPolicy {
    /// Wait for a connection (first come, first served); beyond `max_queued` waiting
    /// requests (per worker), further ones are dropped.
    Queue {
        /// Most requests waiting at once, per worker.
        max_queued: usize,
    },
    /// Open another connection, up to `max_connections` in total; beyond that, queue as
    /// [`BacklogPolicy::Queue`] does.
    Grow {
        /// Cap on connections (all workers together).
        max_connections: usize,
        /// Most requests waiting at once, per worker, once the cap is reached.
        max_queued: usize,
    },
    /// Do not send the request; count it as dropped.
    Drop,
}

impl BacklogPolicy {
    /// The stable text of this policy in the `smps-load/load-model` label:
    /// `queue(max_queued=N)`, `grow(max_connections=N,max_queued=N)` or `drop`.
    pub fn label(&self) -> String {
        match self {
            BacklogPolicy::Queue { max_queued } => format!("queue(max_queued={max_queued})"),
            BacklogPolicy::Grow {
                max_connections,
                max_queued,
            } => format!("grow(max_connections={max_connections},max_queued={max_queued})"),
            BacklogPolicy::Drop => "drop".into(),
        }
    }
}

impl Default for BacklogPolicy {
    fn default() -> Self {
        BacklogPolicy::Queue {
            max_queued: DEFAULT_MAX_QUEUED,
        }
    }
}

const DEFAULT_MAX_QUEUED: usize = 100_000;

/// How an open loop waits for each request's intended send time.
///
/// Latency in an open loop counts from the intended send time, so a request that leaves late
/// reads as slow: the wait is part of what is measured. [`Pacing::Precise`] (the default) keeps
/// that error to tens of microseconds; [`Pacing::Coarse`] costs less CPU per request at high
/// rates but lets requests leave up to about a millisecond late. The dispatch lag of either is
/// in the report (`PhaseReport::dispatch_lag`, and a warning above
/// `EngineBuilder::dispatch_lag_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Pacing {
    /// A high-resolution timer (`timerfd` on Linux; elsewhere the same as `Coarse`), armed
    /// ahead of each arrival by the wake-up delay the worker has learned, then a spin of a few
    /// microseconds: requests leave within microseconds to tens of microseconds of their time.
    /// Every wake-up is a timer interrupt, which on virtual machines costs more CPU per
    /// request than `Coarse` at 10,000 req/s and more (see `benches/README.md`).
    #[default]
    Precise,
    /// Tokio's timer (1 ms resolution): requests due within the same millisecond leave
    /// together, up to about a millisecond late, at the least CPU per request.
    Coarse,
}

impl Pacing {
    /// The stable name: `precise` or `coarse`.
    pub fn name(self) -> &'static str {
        match self {
            Pacing::Precise => "precise",
            Pacing::Coarse => "coarse",
        }
    }
}
