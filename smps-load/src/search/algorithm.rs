//! The search: exponential growth (or shrinking) from the start rate until the verdict
//! changes, then binary search between the last passing and the first failing rate until they
//! are within the precision; borderline trials repeated; a confirmation run at the end.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::judge::{Verdict, judge};
use super::{SearchOutcome, SearchReport, SearchSettings, Trial};
use crate::error::Result;
use crate::report::Report;

/// Where trials come from: the engine, or a model of a target in the unit tests.
pub(crate) trait TrialSource {
    /// Runs an open-loop trial at `rps` for `length`.
    fn run(&mut self, rps: f64, length: Duration) -> impl Future<Output = Result<Report>>;
}

/// The time the search has used: the wall clock, or the planned time of its trials and
/// cooldowns when that is longer (trials end a little after their planned length, but a
/// model of a target takes no time at all).
struct Clock {
    started: Instant,
    planned: Duration,
    deadline: Duration,
}

impl Clock {
    fn used(&self) -> Duration {
        self.started.elapsed().max(self.planned)
    }

    fn has_room_for(&self, d: Duration) -> bool {
        self.used() + d <= self.deadline
    }
}

pub(crate) async fn search<S: TrialSource>(
    source: &mut S,
    settings: &SearchSettings,
    mut observe: impl FnMut(&Trial),
) -> Result<SearchReport> {
    let mut clock = Clock {
        started: Instant::now(),
        planned: Duration::ZERO,
        deadline: settings.deadline,
    };
    let mut trials: Vec<Trial> = Vec::new();
    let (mut lo, mut hi): (Option<f64>, Option<f64>) = (None, None);
    let min_rps = settings.min_rps.unwrap_or(settings.start_rps / 1000.0);
    let mut rate = settings.start_rps;
    let outcome = loop {
        let Some(verdict) = verdict_at(
            source,
            settings,
            &mut clock,
            &mut trials,
            &mut observe,
            rate,
        )
        .await?
        else {
            break SearchOutcome::Deadline;
        };
        match verdict {
            Verdict::Pass => lo = Some(rate),
            Verdict::Fail => hi = Some(rate),
            Verdict::GeneratorLimited => break SearchOutcome::GeneratorLimited,
        }
        rate = match (lo, hi) {
            (Some(l), None) if l >= settings.max_rps => break SearchOutcome::ReachedMax,
            (Some(l), None) => (l * settings.growth).min(settings.max_rps),
            (Some(l), Some(h)) if (h - l) / h <= settings.precision => {
                break SearchOutcome::Converged;
            }
            (Some(l), Some(h)) => (l + h) / 2.0,
            // Only a fail so far (the verdict above set one of the two).
            (None, h) => {
                let h = h.unwrap_or(rate);
                if h <= min_rps {
                    break SearchOutcome::NothingPassed;
                }
                (h / settings.growth).max(min_rps)
            }
        };
    };
    let mut confirmation = None;
    let mut confirmation_verdict = None;
    if let (Some(rps), Some(length)) = (lo, settings.confirm) {
        if clock.has_room_for(length) {
            let report = source.run(rps, length).await?;
            clock.planned += length;
            let t = judge(&report, rps, length, &settings.slo, settings.noise_margin);
            observe(&t);
            confirmation_verdict = Some(t);
            confirmation = Some(report);
        }
    }
    Ok(SearchReport {
        rate: lo,
        failed_at: hi,
        outcome,
        trials,
        confirmation,
        confirmation_verdict,
        settings: settings.clone(),
    })
}

/// The verdict of a rate: one trial when it is clear; when it is borderline or the generator
/// fell behind, more trials (up to the setting) and the majority of the conclusive ones, a tie
/// counting as a fail. `None` when the deadline leaves no room for a trial.
async fn verdict_at<S: TrialSource>(
    source: &mut S,
    settings: &SearchSettings,
    clock: &mut Clock,
    trials: &mut Vec<Trial>,
    observe: &mut impl FnMut(&Trial),
    rps: f64,
) -> Result<Option<Verdict>> {
    let (mut passes, mut fails, mut ran) = (0u32, 0u32, 0u32);
    let max = settings.max_trials_per_rate;
    while ran < max {
        if !clock.has_room_for(settings.trial + settings.cooldown) {
            if ran == 0 {
                return Ok(None);
            }
            break;
        }
        let report = source.run(rps, settings.trial).await?;
        let t = judge(
            &report,
            rps,
            settings.trial,
            &settings.slo,
            settings.noise_margin,
        );
        ran += 1;
        match t.verdict {
            Verdict::Pass => passes += 1,
            Verdict::Fail => fails += 1,
            Verdict::GeneratorLimited => {}
        }
        let clear = ran == 1 && !t.borderline;
        observe(&t);
        trials.push(t);
        clock.planned += settings.trial + settings.cooldown;
        if !settings.cooldown.is_zero() {
            tokio::time::sleep(settings.cooldown).await;
        }
        if clear || passes * 2 > max || fails * 2 >= max {
            break;
        }
    }
    Ok(Some(if passes + fails == 0 {
        Verdict::GeneratorLimited
    } else if passes > fails {
        Verdict::Pass
    } else {
        Verdict::Fail
    }))
}
