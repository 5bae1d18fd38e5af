//! Adaptive search for the highest sustainable rate: open-loop trials at chosen rates, each
//! judged by a service-level objective, exponential growth and then binary search between the
//! last passing and the first failing rate (as Nighthawk's adaptive load controller does), with
//! borderline trials repeated before a verdict (as MLRsearch does).
//!
//! * `mod.rs`: the settings ([`Slo`], [`SearchSettings`]), the results ([`SearchReport`],
//!   [`Trial`]) and [`Search`];
//! * `judge.rs`: what a trial measured and its verdict;
//! * `algorithm.rs`: the search itself, over any source of trials (the engine, or a model in
//!   the unit tests).

mod algorithm;
mod judge;
#[cfg(test)]
mod tests;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::builder::EngineBuilder;
use crate::error::{Error, Result};
use crate::report::Report;

pub use self::judge::Verdict;

/// The objective a trial must meet for its rate to count as sustainable.
///
/// A trial passes when the coordinated-omission-corrected latency at
/// [`percentile`](Slo::percentile) is at most [`latency`](Slo::latency), the share of planned
/// requests that got a 2xx/3xx response is at least [`min_success`](Slo::min_success), and
/// the generator itself kept up: it issued all but [`send_tolerance`](Slo::send_tolerance) of
/// the planned requests, and (when no request had to wait for a connection) its dispatch lag
/// p99 stayed under the engine's [dispatch-lag limit](crate::EngineBuilder::dispatch_lag_limit).
/// A trial where the generator fell behind is neither a pass nor a fail: it says nothing about
/// the target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Slo {
    /// The latency percentile judged (0–100), default 99.
    pub percentile: f64,
    /// The bound on that percentile (corrected latency).
    pub latency: Duration,
    /// Least share (0–1) of planned requests answered with 2xx/3xx, default 0.999.
    pub min_success: f64,
    /// Largest share (0–1) of planned requests the generator may fail to issue, default
    /// 0.001 (0.1 %).
    pub send_tolerance: f64,
}

impl Slo {
    /// Percentile `percentile` of the corrected latency at most `latency`, 99.9 % success,
    /// 0.1 % send tolerance.
    pub fn new(percentile: f64, latency: Duration) -> Self {
        Slo {
            percentile,
            latency,
            min_success: 0.999,
            send_tolerance: 0.001,
        }
    }

    /// The least share of planned requests answered with 2xx/3xx.
    #[must_use]
    pub fn min_success(mut self, share: f64) -> Self {
        self.min_success = share;
        self
    }

    /// The largest share of planned requests the generator may fail to issue.
    #[must_use]
    pub fn send_tolerance(mut self, share: f64) -> Self {
        self.send_tolerance = share;
        self
    }

    fn check(&self) -> Result<()> {
        let bad = |field: &str, reason: String| Error::InvalidSetting {
            field: format!("slo.{field}"),
            reason,
        };
        if !(self.percentile > 0.0 && self.percentile <= 100.0) {
            return Err(bad(
                "percentile",
                format!("must be above 0 and at most 100, got {}", self.percentile),
            ));
        }
        if self.latency.is_zero() {
            return Err(bad("latency", "must be longer than zero".into()));
        }
        for (name, v) in [
            ("min_success", self.min_success),
            ("send_tolerance", self.send_tolerance),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(
                    name,
                    format!("must be a share between 0 and 1, got {v}"),
                ));
            }
        }
        Ok(())
    }
}

/// How the search proceeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchSettings {
    /// The objective each trial is judged by.
    pub slo: Slo,
    /// Rate of the first trial (requests per second), default 100.
    pub start_rps: f64,
    /// The search never tries more than this, default 1,000,000.
    pub max_rps: f64,
    /// Below this the search gives up (nothing passed), default `start_rps / 1000`.
    pub min_rps: Option<f64>,
    /// Factor of the exponential phase, default 2.
    pub growth: f64,
    /// Converged when `(first fail − last pass) / first fail` is at most this, default 0.01.
    pub precision: f64,
    /// Length of one trial, default 10 s.
    pub trial: Duration,
    /// Pause after each trial, so that queues drain, default 1 s.
    pub cooldown: Duration,
    /// The whole search (confirmation included) ends by this, default 5 min.
    pub deadline: Duration,
    /// Most trials at one rate when the first is borderline or generator-limited, default 3.
    pub max_trials_per_rate: u32,
    /// A trial within this share of a bound is borderline and repeated, default 0.1.
    pub noise_margin: f64,
    /// Length of the confirmation run at the found rate (`None`: no confirmation), default
    /// three trials.
    pub confirm: Option<Duration>,
}

impl SearchSettings {
    /// The defaults with this objective.
    pub fn new(slo: Slo) -> Self {
        SearchSettings {
            slo,
            start_rps: 100.0,
            max_rps: 1_000_000.0,
            min_rps: None,
            growth: 2.0,
            precision: 0.01,
            trial: Duration::from_secs(10),
            cooldown: Duration::from_secs(1),
            deadline: Duration::from_secs(300),
            max_trials_per_rate: 3,
            noise_margin: 0.1,
            confirm: Some(Duration::from_secs(30)),
        }
    }

    /// Rate of the first trial.
    #[must_use]
    pub fn start_rps(mut self, rps: f64) -> Self {
        self.start_rps = rps;
        self
    }

    /// Highest rate tried.
    #[must_use]
    pub fn max_rps(mut self, rps: f64) -> Self {
        self.max_rps = rps;
        self
    }

    /// Lowest rate tried before giving up.
    #[must_use]
    pub fn min_rps(mut self, rps: f64) -> Self {
        self.min_rps = Some(rps);
        self
    }

    /// Factor of the exponential phase.
    #[must_use]
    pub fn growth(mut self, factor: f64) -> Self {
        self.growth = factor;
        self
    }

    /// Relative precision of the result.
    #[must_use]
    pub fn precision(mut self, share: f64) -> Self {
        self.precision = share;
        self
    }

    /// Length of each trial.
    #[must_use]
    pub fn trial(mut self, length: Duration) -> Self {
        self.trial = length;
        self
    }

    /// Pause after each trial.
    #[must_use]
    pub fn cooldown(mut self, pause: Duration) -> Self {
        self.cooldown = pause;
        self
    }

    /// Bound on the whole search.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Most trials at one rate.
    #[must_use]
    pub fn max_trials_per_rate(mut self, trials: u32) -> Self {
        self.max_trials_per_rate = trials;
        self
    }

    /// Share of a bound within which a trial is borderline.
    #[must_use]
    pub fn noise_margin(mut self, share: f64) -> Self {
        self.noise_margin = share;
        self
    }

    /// Length of the confirmation run (`None` for none).
    #[must_use]
    pub fn confirm(mut self, length: Option<Duration>) -> Self {
        self.confirm = length;
        self
    }

    fn check(&self) -> Result<()> {
        self.slo.check()?;
        let bad = |field: &str, reason: String| Error::InvalidSetting {
            field: format!("search.{field}"),
            reason,
        };
        for (name, v) in [("start_rps", self.start_rps), ("max_rps", self.max_rps)] {
            smps_model::limits::check_rate(v).map_err(|r| bad(name, r))?;
            if v <= 0.0 {
                return Err(bad(name, "must be above zero".into()));
            }
        }
        if self.max_rps < self.start_rps {
            return Err(bad(
                "max_rps",
                format!("({}) is below start_rps ({})", self.max_rps, self.start_rps),
            ));
        }
        if let Some(m) = self.min_rps {
            if !(m > 0.0 && m <= self.start_rps) {
                return Err(bad(
                    "min_rps",
                    format!("must be above zero and at most start_rps, got {m}"),
                ));
            }
        }
        if !(self.growth > 1.0 && self.growth <= 100.0) {
            return Err(bad(
                "growth",
                format!("must be above 1 and at most 100, got {}", self.growth),
            ));
        }
        if !(self.precision > 0.0 && self.precision < 1.0) {
            return Err(bad(
                "precision",
                format!(
                    "must be a share above 0 and below 1, got {}",
                    self.precision
                ),
            ));
        }
        if self.trial.is_zero() {
            return Err(bad("trial", "must be longer than zero".into()));
        }
        if self.max_trials_per_rate == 0 {
            return Err(bad("max_trials_per_rate", "must be at least 1".into()));
        }
        if !(0.0..1.0).contains(&self.noise_margin) {
            return Err(bad(
                "noise_margin",
                format!(
                    "must be a share from 0 to below 1, got {}",
                    self.noise_margin
                ),
            ));
        }
        if self.deadline < self.trial + self.cooldown {
            return Err(bad(
                "deadline",
                "is shorter than one trial and its cooldown".into(),
            ));
        }
        Ok(())
    }
}

/// One trial of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Trial {
    /// The planned rate (requests per second).
    pub rps: f64,
    /// The trial's own verdict.
    pub verdict: Verdict,
    /// Whether it was close enough to a bound to be repeated.
    pub borderline: bool,
    /// Corrected latency at the objective's percentile, ms.
    pub latency_ms: f64,
    /// Service time at the objective's percentile, ms.
    pub service_ms: f64,
    /// Share of planned requests answered with 2xx/3xx.
    pub success: f64,
    /// Requests the generator issued per planned request.
    pub issued: f64,
    /// Dispatch lag p99, ms.
    pub dispatch_lag_p99_ms: f64,
    /// Requests that waited for a free connection.
    pub queued: u64,
    /// Requests completed.
    pub requests: u64,
    /// Completed requests per second.
    pub achieved_rps: f64,
    /// Why it did not pass (empty when it passed).
    pub reasons: Vec<String>,
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SearchOutcome {
    /// The last passing and first failing rates are within the precision.
    Converged,
    /// Even the highest rate allowed passed: the capacity is at least that.
    ReachedMax,
    /// Nothing passed down to the lowest rate allowed.
    NothingPassed,
    /// The generator could not keep up at some rate, so nothing above it can be judged: the
    /// result is a lower bound. Use more generators (execution segments) or a bigger machine.
    GeneratorLimited,
    /// The deadline came first; the result is the best rate known to pass.
    Deadline,
}

impl SearchOutcome {
    /// Stable name: `converged`, `reached_max`, `nothing_passed`, `generator_limited`,
    /// `deadline`.
    pub fn name(self) -> &'static str {
        match self {
            SearchOutcome::Converged => "converged",
            SearchOutcome::ReachedMax => "reached_max",
            SearchOutcome::NothingPassed => "nothing_passed",
            SearchOutcome::GeneratorLimited => "generator_limited",
            SearchOutcome::Deadline => "deadline",
        }
    }
}

/// The result of a search.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SearchReport {
    /// The highest rate that passed (requests per second), if any did.
    pub rate: Option<f64>,
    /// The lowest rate that failed, if any did.
    pub failed_at: Option<f64>,
    /// How the search ended.
    pub outcome: SearchOutcome,
    /// Every trial, in order.
    pub trials: Vec<Trial>,
    /// The confirmation run at [`rate`](SearchReport::rate), when one was asked for and there
    /// was time.
    pub confirmation: Option<Report>,
    /// The confirmation run's verdict.
    pub confirmation_verdict: Option<Trial>,
    /// The settings the search ran with.
    pub settings: SearchSettings,
}

/// A search for the highest rate an engine's target sustains under an objective.
///
/// Every trial is the given builder's test as an open loop at a constant rate for
/// [`SearchSettings::trial`] (uniform spacing, or Poisson with the builder's seed when its plan
/// was Poisson; its backlog policy, connections, protocol and endpoints), so a search works
/// on whatever the engine can run.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use smps_load::{Engine, Search, SearchSettings, Slo};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), smps_load::Error> {
/// let base = Engine::builder().url("http://127.0.0.1:8080/").connections(64);
/// let settings = SearchSettings::new(Slo::new(99.0, Duration::from_millis(50)))
///     .start_rps(500.0)
///     .trial(Duration::from_secs(5));
/// let report = Search::new(base, settings)?.run().await?;
/// println!("{:?} req/s ({})", report.rate, report.outcome.name());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Search {
    base: EngineBuilder,
    settings: SearchSettings,
}

impl Search {
    /// A search of `base`'s target with `settings`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] naming a setting out of range (`slo.*`, `search.*`), or
    /// anything [`EngineBuilder::build`] refuses in a trial's engine.
    pub fn new(base: EngineBuilder, settings: SearchSettings) -> Result<Self> {
        settings.check()?;
        base.trial(settings.start_rps, settings.trial)?.build()?;
        Ok(Search { base, settings })
    }

    /// Runs the search (trials one after another on the caller's runtime), then the
    /// confirmation run.
    ///
    /// # Errors
    ///
    /// [`Error::SearchTrial`] naming the rate of a trial whose engine could not be built or
    /// started.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the running trial.
    pub async fn run(&self) -> Result<SearchReport> {
        self.run_observed(|_| {}).await
    }

    /// As [`Search::run`], calling `observe` with each trial as it ends (for progress).
    ///
    /// # Errors
    ///
    /// As [`Search::run`].
    pub async fn run_observed(&self, observe: impl FnMut(&Trial)) -> Result<SearchReport> {
        let mut source = EngineTrials { base: &self.base };
        algorithm::search(&mut source, &self.settings, observe).await
    }
}

/// Trials run by the engine.
struct EngineTrials<'a> {
    base: &'a EngineBuilder,
}

impl algorithm::TrialSource for EngineTrials<'_> {
    async fn run(&mut self, rps: f64, length: Duration) -> Result<Report> {
        let wrap = |e: Error| Error::SearchTrial {
            rps,
            source: Box::new(e),
        };
        let engine = self
            .base
            .trial(rps, length)
            .and_then(|b| b.build())
            .map_err(wrap)?;
        engine.run().await.map_err(wrap)
    }
}
