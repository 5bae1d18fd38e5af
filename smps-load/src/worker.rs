//! Workers: each one drives its share of the connections on the caller's runtime (one task
//! per worker) and records into its own [`Sink`]; the collector in `engine` merges what the
//! workers send.
//!
//! * The **closed loop** runs one long-lived future per connection: claim a request, send it,
//!   record the outcome, claim the next. Each connection owns one timeout timer that is
//!   pushed later only when its deadline would fall short, so a request costs no timer
//!   registration, no allocation and no hand-over between futures.
//! * The **open loop** launches one future per request at its intended send time, because a
//!   request may have to wait for a free connection (or open one) under the backlog policy.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use futures_util::future::Either;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::ErrorKind;
use crate::model::BacklogPolicy;
use crate::pacer::Pacer;
use crate::plan::Arrivals;
use crate::recorder::Stats;
use crate::transport::{Exchange, Slot, Transport};

/// How one worker paces its requests.
pub(crate) enum WorkerModel {
    Closed,
    Open {
        arrivals: Arrivals,
        backlog: BacklogPolicy,
    },
}

/// Everything one worker needs.
pub(crate) struct WorkerCtx {
    pub(crate) index: usize,
    pub(crate) workers: usize,
    pub(crate) transport: Arc<Transport>,
    pub(crate) t0: Instant,
    pub(crate) measure_start: Instant,
    pub(crate) deadline: Option<Instant>,
    pub(crate) quota: Option<u64>,
    pub(crate) model: WorkerModel,
    pub(crate) interval: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) stop: CancellationToken,
    pub(crate) tx: mpsc::UnboundedSender<WorkerMsg>,
    pub(crate) warmup: bool,
    pub(crate) pacing: crate::model::Pacing,
}

impl WorkerCtx {
    /// The endpoint of this worker's `j`-th request: workers interleave over the rotation.
    fn endpoint_of(&self) -> impl Fn(u64) -> usize + Copy + use<> {
        let endpoints = self.transport.endpoints.len().max(1) as u64;
        let first = self.index as u64;
        let step = self.workers as u64;
        move |j: u64| ((first + j * step) % endpoints) as usize
    }

    /// A time so far ahead that a timer set to it never fires during a run.
    fn far(&self) -> Instant {
        self.t0 + Duration::from_secs(86_400 * 365)
    }
}

/// What a worker sends to the collector.
pub(crate) enum WorkerMsg {
    Interval {
        worker: usize,
        index: u64,
        end: Instant,
        in_flight: u64,
        stats: Box<Stats>,
    },
    Done {
        worker: usize,
    },
}

/// A worker's totals.
pub(crate) struct WorkerFinal {
    pub(crate) measured: Stats,
    pub(crate) warmup: Option<Stats>,
    pub(crate) last_done: Option<Instant>,
    pub(crate) stopped_at: Instant,
}

/// Runs one worker to its end.
///
/// The totals come boxed: the runtime moves a task's `Poll<Output>` around on every poll, so
/// a small output keeps each wake-up cheap.
pub(crate) async fn worker(ctx: WorkerCtx, slots: Vec<Slot>) -> Box<WorkerFinal> {
    Box::new(match ctx.model {
        WorkerModel::Closed => closed(ctx, slots).await,
        WorkerModel::Open { .. } => open(ctx, slots).await,
    })
}

/// Where one worker's outcomes go. Each outcome is recorded once, into the current
/// interval's stats of its phase; at every interval boundary those are added to the phase
/// totals and sent to the collector as the interval's share of this worker.
struct Sink {
    worker: usize,
    tx: mpsc::UnboundedSender<WorkerMsg>,
    measure_start: Instant,
    interval: Duration,
    next_boundary: Instant,
    index: u64,
    /// Measured-phase outcomes of the current interval.
    cur: Stats,
    /// Warm-up outcomes of the current interval, made at the first one (so intervals after
    /// the warm-up cost nothing extra).
    cur_warm: Option<Stats>,
    measured: Stats,
    /// Warm-up totals (`Some` when a warm-up is configured).
    warm: Option<Stats>,
    /// When the last measured request ended.
    last_done: Option<Instant>,
}

impl Sink {
    fn new(ctx: &WorkerCtx) -> Self {
        Sink {
            worker: ctx.index,
            tx: ctx.tx.clone(),
            measure_start: ctx.measure_start,
            interval: ctx.interval,
            next_boundary: ctx.t0 + ctx.interval,
            index: 0,
            cur: Stats::default(),
            cur_warm: None,
            measured: Stats::default(),
            warm: ctx.warmup.then(Stats::default),
            last_done: None,
        }
    }

    /// Whether a request intended for `at` belongs to the warm-up.
    fn is_warm(&self, at: Instant) -> bool {
        self.warm.is_some() && at < self.measure_start
    }

    /// The current interval's stats of the phase a request intended for `at` belongs to.
    fn phase(&mut self, at: Instant) -> &mut Stats {
        if self.is_warm(at) {
            self.cur_warm.get_or_insert_with(Stats::default)
        } else {
            &mut self.cur
        }
    }

    /// Closes every interval that ended at or before `now`.
    fn roll_to(&mut self, now: Instant, in_flight: u64) {
        while now >= self.next_boundary {
            self.rollover(self.next_boundary, in_flight);
        }
    }

    /// Closes the current interval at `end`: adds it to the phase totals and sends it.
    fn rollover(&mut self, end: Instant, in_flight: u64) {
        let mut stats = std::mem::take(&mut self.cur);
        self.measured.add(&stats);
        if let (Some(w), Some(warm)) = (self.cur_warm.take(), &mut self.warm) {
            warm.add(&w);
            stats.add(&w);
        }
        let _ = self.tx.send(WorkerMsg::Interval {
            worker: self.worker,
            index: self.index,
            end,
            in_flight,
            stats: Box::new(stats),
        });
        self.index += 1;
        self.next_boundary += self.interval;
    }

    /// Records one finished request intended for `intended`; `exchange` is `None` when it
    /// timed out at `timed_out_at`. Returns when it ended.
    fn record(
        &mut self,
        intended: Instant,
        exchange: Option<&Exchange>,
        timed_out_at: Instant,
        in_flight: u64,
    ) -> Instant {
        let end = exchange.map_or(timed_out_at, |e| e.done_at);
        self.roll_to(end, in_flight);
        let is_warm = self.is_warm(intended);
        let s = self.phase(intended);
        match exchange {
            Some(ex) => {
                match ex.outcome {
                    Ok(status) => {
                        // Two clock differences; their sum is the third, exactly.
                        let lag = ex.sent_at.saturating_duration_since(intended);
                        let service = ex.done_at.saturating_duration_since(ex.sent_at);
                        let latency = lag.saturating_add(service);
                        s.record_response(status, micros(latency), micros(service), micros(lag));
                    }
                    Err(kind) => s.record_error(kind),
                }
                s.bytes_in += ex.bytes_in;
                s.bytes_out += ex.bytes_out;
                s.connections_opened += u64::from(ex.connected);
            }
            None => s.record_error(ErrorKind::RequestTimeout),
        }
        if !is_warm {
            self.last_done = Some(self.last_done.map_or(end, |l| l.max(end)));
        }
        end
    }

    /// Closes the last interval and tells the collector this worker is done.
    fn finish(mut self, stopped_at: Instant, in_flight: u64) -> WorkerFinal {
        self.rollover(stopped_at.min(self.next_boundary), in_flight);
        tracing::debug!(worker = self.worker, intervals = self.index, "worker done");
        let _ = self.tx.send(WorkerMsg::Done {
            worker: self.worker,
        });
        WorkerFinal {
            measured: self.measured,
            warmup: self.warm,
            last_done: self.last_done,
            stopped_at,
        }
    }
}

/// Whole microseconds, saturating (without the 128-bit arithmetic of `as_micros`).
fn micros(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from(d.subsec_micros()))
}

/// Locks a worker's shared state. Only the worker's own task takes the lock, so it is never
/// contended; a panic while holding it cannot leave the counters half-updated in a way that
/// matters more than losing the run, so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The state a closed-loop worker's connections share.
struct ClosedShared {
    sink: Sink,
    issued: u64,
    quota: u64,
    /// Requests in flight.
    active: u64,
    /// No request is claimed any more.
    stopping: bool,
    deadline: Option<Instant>,
}

impl ClosedShared {
    /// Hands out the next request number, or `None` once stopping or the quota is spent.
    fn claim(&mut self) -> Option<u64> {
        if self.stopping || self.issued >= self.quota {
            return None;
        }
        let j = self.issued;
        self.issued += 1;
        self.active += 1;
        Some(j)
    }
}

/// How far past its due time a closed-loop request timeout may fire (see
/// [`connection_loop`]): a thousandth of the timeout, at least the timer's 1 ms resolution.
fn timer_slack(timeout: Duration) -> Duration {
    (timeout / 1000).max(Duration::from_millis(1))
}

/// One connection of the closed loop: request after request until the worker stops.
async fn connection_loop(
    shared: &Mutex<ClosedShared>,
    transport: &Transport,
    timeout: Duration,
    endpoint_of: impl Fn(u64) -> usize,
    mut slot: Slot,
) -> Ended {
    let Some(mut j) = lock(shared).claim() else {
        return Ended::Connection;
    };
    let slack = timer_slack(timeout);
    let timer = tokio::time::sleep(timeout);
    tokio::pin!(timer);
    loop {
        let ep = endpoint_of(j);
        let intended = Instant::now();
        // The timer is moved only when its deadline would come less than `timeout` after
        // this send, and then `slack` past that: a request never times out early, at most
        // `slack` late, and most requests leave the timer alone. Moving it later is an atomic
        // store while it is registered.
        if timer.deadline() < intended + timeout {
            timer.as_mut().reset(intended + timeout + slack);
        }
        let exchange = {
            let request = transport.exchange(&mut slot, ep);
            tokio::pin!(request);
            std::future::poll_fn(|cx| {
                if let Poll::Ready(ex) = request.as_mut().poll(cx) {
                    return Poll::Ready(Some(ex));
                }
                timer.as_mut().poll(cx).map(|()| None)
            })
            .await
        };
        let timed_out_at = match exchange {
            Some(_) => intended,
            None => {
                // The connection was left mid-request.
                slot.discard(transport.endpoints[ep].origin);
                Instant::now()
            }
        };
        let mut s = lock(shared);
        s.active -= 1;
        let in_flight = s.active;
        let end = s
            .sink
            .record(intended, exchange.as_ref(), timed_out_at, in_flight);
        if s.deadline.is_some_and(|d| end >= d) {
            s.stopping = true;
        }
        match s.claim() {
            Some(next) => j = next,
            None => return Ended::Connection,
        }
    }
}

/// How one part of a closed-loop worker ended.
enum Ended {
    /// A connection stopped claiming requests.
    Connection,
    /// The grace period after the stop ran out; what is still in flight is abandoned.
    GraceOver,
}

/// The closed loop: every connection sends its next request as soon as the previous one
/// is done.
///
/// The connections and the worker's clock ([`control`]) are polled side by side by one
/// `FuturesUnordered`, which polls only what was woken: a response wakes its connection
/// alone, and the clock and the stop signal cost nothing per request.
async fn closed(ctx: WorkerCtx, slots: Vec<Slot>) -> WorkerFinal {
    let shared = Mutex::new(ClosedShared {
        sink: Sink::new(&ctx),
        issued: 0,
        quota: ctx.quota.unwrap_or(u64::MAX),
        active: 0,
        stopping: false,
        deadline: ctx.deadline,
    });
    let endpoint_of = ctx.endpoint_of();
    let transport = &*ctx.transport;
    let mut live = slots.len();
    // Outside Tokio's cooperative budget: once a task's budget is spent, every further I/O
    // or timer poll returns `Pending`, so each connection that is ready in the same pass
    // would be polled once for nothing. Fairness comes from `FuturesUnordered`, which
    // yields after polling each connection once, and from the lean client, which yields
    // during long bodies.
    let mut parts: FuturesUnordered<_> = slots
        .into_iter()
        .map(|slot| {
            Either::Left(tokio::task::unconstrained(connection_loop(
                &shared,
                transport,
                ctx.request_timeout,
                endpoint_of,
                slot,
            )))
        })
        .collect();
    parts.push(Either::Right(control(
        &shared,
        &ctx.stop,
        ctx.request_timeout,
        ctx.far(),
    )));
    while live > 0 {
        match parts.next().await {
            Some(Ended::Connection) => live -= 1,
            Some(Ended::GraceOver) | None => break,
        }
    }
    // Requests still running after the grace period are abandoned with their connections.
    drop(parts);
    let s = shared.into_inner().unwrap_or_else(PoisonError::into_inner);
    let in_flight = s.active;
    s.sink.finish(Instant::now(), in_flight)
}

/// The clock of a closed-loop worker: closes intervals on time (also when no response
/// arrives), stops claiming at the deadline or on the stop signal, and ends the grace
/// period one request timeout after the stop.
async fn control(
    shared: &Mutex<ClosedShared>,
    stop: &CancellationToken,
    request_timeout: Duration,
    far: Instant,
) -> Ended {
    let cancelled = stop.cancelled();
    tokio::pin!(cancelled);
    let mut stop_seen = false;
    let mut grace: Option<Instant> = None;
    // One timer for the next interval boundary, the deadline and the end of the grace period.
    let wake_at = |s: &ClosedShared, grace: Option<Instant>| {
        let mut at = s.sink.next_boundary;
        if !s.stopping {
            at = at.min(s.deadline.unwrap_or(far));
        }
        grace.map_or(at, |g| at.min(g))
    };
    let tick = tokio::time::sleep_until(wake_at(&lock(shared), None));
    tokio::pin!(tick);
    loop {
        tokio::select! {
            biased;
            () = &mut tick => {
                let now = Instant::now();
                let mut s = lock(shared);
                let in_flight = s.active;
                s.sink.roll_to(now, in_flight);
                if s.deadline.is_some_and(|d| now >= d) {
                    s.stopping = true;
                }
                if grace.is_some_and(|g| now >= g) {
                    s.sink.cur.abandoned += in_flight;
                    return Ended::GraceOver;
                }
            }
            () = &mut cancelled, if !stop_seen => {
                stop_seen = true;
                lock(shared).stopping = true;
            }
        }
        let s = lock(shared);
        if s.stopping && grace.is_none() {
            grace = Some(Instant::now() + request_timeout);
        }
        let at = wake_at(&s, grace);
        if at != tick.deadline() {
            tick.as_mut().reset(at);
        }
    }
}

/// A request of the open loop, finished.
struct Completed {
    slot: Slot,
    intended: Instant,
    /// `None` when the request timed out.
    exchange: Option<Exchange>,
    timed_out_at: Instant,
}

type InFlight = Pin<Box<dyn Future<Output = Completed> + Send>>;

fn launch(
    transport: &Arc<Transport>,
    timeout: Duration,
    mut slot: Slot,
    intended: Instant,
    ep: usize,
) -> InFlight {
    let t = Arc::clone(transport);
    async move {
        let origin = t.endpoints[ep].origin;
        match tokio::time::timeout(timeout, t.exchange(&mut slot, ep)).await {
            Ok(ex) => Completed {
                slot,
                intended,
                exchange: Some(ex),
                timed_out_at: intended,
            },
            Err(_) => {
                slot.discard(origin);
                Completed {
                    slot,
                    intended,
                    exchange: None,
                    timed_out_at: Instant::now(),
                }
            }
        }
    }
    .boxed()
}

/// Most arrivals one wake of the open loop handles before it lets completions, interval
/// boundaries and the stop signal in: at very high rates (or after a stall) many arrivals
/// are due at once, and handling them all in one go would starve everything else.
const ARRIVAL_BATCH: usize = 256;

/// The open loop: requests are launched at their planned times; when no connection is free
/// the backlog policy decides.
///
/// The run's end bounds everything: nothing is sent after the **cut-off** (the deadline, the
/// end of a plan with a length, or the intended time of the last request of the quota, and
/// the stop signal). At the cut-off, requests still queued are counted as dropped (they were
/// never sent, and sending them late would run past the end), and requests in flight get one
/// request timeout to finish before they are counted as abandoned.
async fn open(mut ctx: WorkerCtx, initial: Vec<Slot>) -> WorkerFinal {
    let transport = Arc::clone(&ctx.transport);
    let origins = transport.origins.len();
    let endpoint_of = ctx.endpoint_of();
    let mut sink = Sink::new(&ctx);
    let mut idle = initial;
    let mut total_slots = idle.len();
    let mut inflight: FuturesUnordered<InFlight> = FuturesUnordered::new();
    let mut queue: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut issued = 0u64;
    // Past the cut-off: nothing more is sent, what is in flight has until `grace`.
    let mut ending = false;
    let mut cutoff: Option<Instant> = None;
    let mut grace: Option<Instant> = None;
    let quota = ctx.quota.unwrap_or(u64::MAX);
    let far = ctx.far();

    // No arrival is planned at or past the deadline.
    let next_planned = |ctx: &mut WorkerCtx, issued: u64| -> Option<Instant> {
        if issued >= quota {
            return None;
        }
        match &mut ctx.model {
            WorkerModel::Open { arrivals, .. } => {
                let at = ctx.t0 + arrivals.next()?;
                match ctx.deadline {
                    Some(d) if at >= d => None,
                    _ => Some(at),
                }
            }
            WorkerModel::Closed => None,
        }
    };
    // When the plan has run out: sending may go on until the deadline (or the plan's own
    // end), but not past it; a quota without either ends now.
    let cutoff_after_plan = |ctx: &WorkerCtx| -> Instant {
        let plan_end = match &ctx.model {
            WorkerModel::Open { arrivals, .. } => arrivals.plan_length().map(|l| ctx.t0 + l),
            WorkerModel::Closed => None,
        };
        match (ctx.deadline, plan_end) {
            (Some(d), Some(e)) => d.min(e),
            (Some(d), None) => d,
            (None, Some(e)) => e,
            (None, None) => Instant::now(),
        }
    };
    let backlog = match &ctx.model {
        WorkerModel::Open { backlog, .. } => *backlog,
        WorkerModel::Closed => BacklogPolicy::Drop,
    };
    let mut next_arrival = next_planned(&mut ctx, issued);
    if next_arrival.is_none() {
        cutoff = Some(cutoff_after_plan(&ctx));
    }

    let stop = ctx.stop.clone();
    let cancelled = stop.cancelled();
    tokio::pin!(cancelled);
    // Arrivals wake on the precise pacer; interval boundaries and the end on Tokio's timer.
    let mut pacer = Pacer::new(ctx.pacing == crate::model::Pacing::Precise);
    if let Some(at) = next_arrival {
        pacer.arm(at);
    }
    let boundary_sleep = tokio::time::sleep_until(sink.next_boundary);
    tokio::pin!(boundary_sleep);
    // The cut-off first, then the end of the grace period.
    let end_sleep = tokio::time::sleep_until(cutoff.unwrap_or(far));
    tokio::pin!(end_sleep);

    loop {
        if inflight.is_empty() && queue.is_empty() && (ending || next_arrival.is_none()) {
            break;
        }

        // Completions first and the pacer last: the pacer sets its kernel timer only when it
        // is polled, which this order limits to the moments nothing else is ready (the worker
        // is about to park); a busy worker sends its arrivals when completions wake it. The
        // other events only wake the worker: they are handled below from the clock and the
        // stop flag, so a steady stream of completions cannot starve them.
        tokio::select! {
            biased;
            Some(done) = inflight.next(), if !inflight.is_empty() => {
                let Completed { slot, intended, exchange, timed_out_at } = done;
                sink.record(intended, exchange.as_ref(), timed_out_at, inflight.len() as u64);
                match queue.pop_front() {
                    Some((at, ep)) if !ending => {
                        inflight.push(launch(&transport, ctx.request_timeout, slot, at, ep));
                    }
                    _ => idle.push(slot),
                }
            }
            _ = &mut cancelled, if !ending => {}
            _ = &mut boundary_sleep => {}
            _ = &mut end_sleep, if cutoff.is_some() || grace.is_some() => {}
            () = pacer.wake(), if !ending && next_arrival.is_some() => {}
        }
        let now = Instant::now();
        if !ending && stop.is_cancelled() {
            ending = true;
        }
        if now >= sink.next_boundary {
            sink.roll_to(now, inflight.len() as u64);
        }
        if (cutoff.is_some() || grace.is_some()) && now >= end_sleep.deadline() {
            if grace.is_some() {
                sink.cur.abandoned += inflight.len() as u64;
                break;
            }
            ending = true;
        }
        // Send what is due, whichever event woke the worker: under load a completion comes
        // before the pacer would, and the arrival leaves without a timer wake-up of its own.
        if !ending && next_arrival.is_some_and(|at| at <= now) {
            let mut handled = 0;
            while let Some(at) = next_arrival {
                if at > now || handled == ARRIVAL_BATCH {
                    break;
                }
                handled += 1;
                let ep = endpoint_of(issued);
                issued += 1;
                if let Some(slot) = idle.pop() {
                    inflight.push(launch(&transport, ctx.request_timeout, slot, at, ep));
                } else {
                    match backlog {
                        BacklogPolicy::Grow {
                            max_connections, ..
                        } if total_slots < max_connections => {
                            total_slots += 1;
                            inflight.push(launch(
                                &transport,
                                ctx.request_timeout,
                                Slot::new(origins),
                                at,
                                ep,
                            ));
                        }
                        BacklogPolicy::Queue { max_queued }
                        | BacklogPolicy::Grow { max_queued, .. } => {
                            if queue.len() < max_queued {
                                queue.push_back((at, ep));
                                sink.phase(at).queued += 1;
                            } else {
                                sink.phase(at).dropped += 1;
                            }
                        }
                        BacklogPolicy::Drop => {
                            sink.phase(at).dropped += 1;
                        }
                    }
                }
                next_arrival = next_planned(&mut ctx, issued);
            }
            match next_arrival {
                Some(at) => pacer.arm(at),
                None => {
                    let c = cutoff_after_plan(&ctx);
                    cutoff = Some(c);
                    end_sleep.as_mut().reset(c);
                }
            }
        }
        if ending && grace.is_none() {
            // Nothing is sent from here on: what still waits for a connection was never sent.
            for (at, _) in queue.drain(..) {
                sink.phase(at).dropped += 1;
            }
            let g = Instant::now() + ctx.request_timeout;
            grace = Some(g);
            end_sleep.as_mut().reset(g);
        }
        if sink.next_boundary > boundary_sleep.deadline() {
            boundary_sleep.as_mut().reset(sink.next_boundary);
        }
    }
    let in_flight = inflight.len() as u64;
    drop(inflight);
    sink.finish(Instant::now(), in_flight)
}
