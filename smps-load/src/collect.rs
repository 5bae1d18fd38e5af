//! The collector: merges the workers' interval shares into snapshots, in order, and their
//! totals into the [`Report`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::plan::ArrivalPlan;
use crate::recorder::Stats;
use crate::report::{LatencySummary, Phase, PhaseReport, Report, RunSettings, Snapshot};
use crate::transport::Transport;
use crate::worker::{WorkerFinal, WorkerMsg};

pub(crate) struct CollectorCtx {
    pub(crate) t0: Instant,
    /// Offset after which the plan sends nothing (warm-up + duration).
    pub(crate) plan_end: Option<Duration>,
    pub(crate) start_time: SystemTime,
    pub(crate) warmup: Duration,
    pub(crate) interval: Duration,
    pub(crate) plan: Option<ArrivalPlan>,
    /// This run's share of the plan (1, or the segment's length for a part).
    pub(crate) plan_share: f64,
    pub(crate) settings: RunSettings,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) preopened: u64,
    pub(crate) transport: Arc<Transport>,
    /// The part of a distributed run, when the run is one or was given a start instant.
    pub(crate) part: Option<PartSpec>,
}

/// What the report says about the part of a distributed run it is.
pub(crate) struct PartSpec {
    /// Segment and sequence, as text.
    pub(crate) segment: Option<(String, String)>,
    pub(crate) start_at: Option<SystemTime>,
    pub(crate) start_late: Option<Duration>,
}

struct PendingInterval {
    stats: Stats,
    in_flight: u64,
    end: Instant,
}

pub(crate) async fn collect(
    mut rx: mpsc::UnboundedReceiver<WorkerMsg>,
    joins: Vec<JoinHandle<Box<WorkerFinal>>>,
    snap_tx: mpsc::UnboundedSender<Snapshot>,
    ctx: CollectorCtx,
) -> Result<Report> {
    let n = joins.len();
    let mut pending: BTreeMap<u64, PendingInterval> = BTreeMap::new();
    let mut reported: Vec<Option<u64>> = vec![None; n];
    let mut done = vec![false; n];
    let mut next_emit = 0u64;
    let mut intervals = Vec::new();
    let mut cumulative = 0u64;
    let emit =
        |index: u64, p: PendingInterval, cumulative: &mut u64, intervals: &mut Vec<Snapshot>| {
            let start = ctx
                .interval
                .saturating_mul(index.min(u64::from(u32::MAX)) as u32);
            let end = p.end.saturating_duration_since(ctx.t0).max(start);
            let responses = p.stats.responses();
            let errors = p.stats.error_total();
            *cumulative += responses + errors;
            let secs = (end - start).as_secs_f64();
            let snap = Snapshot {
                index,
                phase: if start < ctx.warmup {
                    Phase::WarmUp
                } else {
                    Phase::Measure
                },
                start,
                end,
                responses,
                errors,
                dropped: p.stats.dropped,
                queued: p.stats.queued,
                planned: ctx.plan.as_ref().map(|pl| {
                    let cap = |d: Duration| ctx.plan_end.map_or(d, |e| d.min(e));
                    (pl.expected_by(cap(end)) - pl.expected_by(cap(start))) * ctx.plan_share
                }),
                rate: if secs > 0.0 {
                    (responses + errors) as f64 / secs
                } else {
                    0.0
                },
                latency: LatencySummary::of(&p.stats.latency),
                service_time: LatencySummary::of(&p.stats.service),
                in_flight: p.in_flight,
                total_requests: *cumulative,
            };
            let _ = snap_tx.send(snap.clone());
            intervals.push(snap);
        };
    while let Some(msg) = rx.recv().await {
        match msg {
            WorkerMsg::Interval {
                worker,
                index,
                end,
                in_flight,
                stats,
            } => {
                let e = pending.entry(index).or_insert_with(|| PendingInterval {
                    stats: Stats::default(),
                    in_flight: 0,
                    end,
                });
                e.stats.add(&stats);
                e.in_flight += in_flight;
                e.end = e.end.max(end);
                reported[worker] = Some(index);
            }
            WorkerMsg::Done { worker } => done[worker] = true,
        }
        loop {
            let k = next_emit;
            let ready = (0..n).all(|w| done[w] || reported[w].is_some_and(|r| r >= k));
            if !ready {
                break;
            }
            let Some(p) = pending.remove(&k) else { break };
            emit(k, p, &mut cumulative, &mut intervals);
            next_emit += 1;
        }
    }
    for (k, p) in std::mem::take(&mut pending) {
        emit(k, p, &mut cumulative, &mut intervals);
    }

    let mut measured = Stats::default();
    let mut warm: Option<Stats> = None;
    let mut last_done: Option<Instant> = None;
    let mut stopped_at = ctx.t0;
    for j in joins {
        let f = j.await.map_err(|source| Error::Worker { source })?;
        measured.add(&f.measured);
        if let Some(w) = &f.warmup {
            warm.get_or_insert_with(Stats::default).add(w);
        }
        last_done = match (last_done, f.last_done) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        stopped_at = stopped_at.max(f.stopped_at);
    }
    measured.connections_opened += ctx.preopened;
    let run_id = crate::RunId::generate();
    let unix_ns = |t: SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    };
    let to_system = |i: Instant| ctx.start_time + i.saturating_duration_since(ctx.t0);
    let measure_start = ctx.t0 + ctx.warmup;
    let measure_end = last_done.unwrap_or(stopped_at).max(measure_start);
    let warmup =
        warm.map(|w| PhaseReport::from_stats(&w, ctx.start_time, to_system(measure_start)));
    Ok(Report {
        start_time: ctx.start_time,
        end_time: to_system(stopped_at),
        measured: PhaseReport::from_stats(
            &measured,
            to_system(measure_start),
            to_system(measure_end),
        ),
        warmup,
        intervals,
        settings: ctx.settings,
        labels: ctx.labels,
        error_reasons: ctx.transport.reasons(),
        parts: ctx
            .part
            .map(|p| {
                let (segment, sequence) = p.segment.unzip();
                crate::report::PartRecord {
                    run_id: run_id.clone(),
                    segment,
                    sequence,
                    start_at_unix_ns: p.start_at.map(unix_ns),
                    start_late_ns: p
                        .start_late
                        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
                }
            })
            .into_iter()
            .collect(),
        run_ids: vec![run_id],
    })
}
