//! The search against models of a target (no network): a server of known capacity, a
//! generator that falls behind, a noisy target, a deadline.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::algorithm::{TrialSource, search};
use super::*;
use crate::recorder::Stats;
use crate::report::{LatencyBasis, PhaseReport, RunSettings};
use crate::transport::HttpVersion;

/// A target that serves `capacity` requests per second with a 5 ms service time: below it
/// every request takes 5 ms; above it the queue grows, and the last request of a trial waits
/// for the whole excess. A generator that cannot issue more than `generator` per second.
struct Model {
    capacity: f64,
    generator: f64,
    /// Extra latency (ms) added to every other trial, to make trials near the bound noisy.
    jitter_ms: f64,
    runs: u32,
}

impl Model {
    fn new(capacity: f64) -> Self {
        Model {
            capacity,
            generator: f64::INFINITY,
            jitter_ms: 0.0,
            runs: 0,
        }
    }
}

fn report(stats: &Stats, length: Duration) -> Report {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    Report {
        start_time: start,
        end_time: start + length,
        measured: PhaseReport::from_stats(stats, start, start + length),
        warmup: None,
        intervals: Vec::new(),
        settings: RunSettings {
            endpoints: vec!["http://127.0.0.1/".into()],
            connections: 1,
            workers: 1,
            requested_rps: None,
            duration: Some(length),
            max_requests: None,
            warmup: Duration::ZERO,
            http_version: HttpVersion::Http1,
            protocol: crate::transport::Protocol::Http,
            streams_per_connection: 1,
            latency_basis: LatencyBasis::IntendedSend,
            load_model: "open".into(),
            dispatch_lag_limit: Duration::from_millis(1),
        },
        labels: BTreeMap::new(),
        error_reasons: BTreeMap::new(),
        run_ids: vec![crate::RunId::generate()],
        parts: Vec::new(),
    }
}

impl TrialSource for Model {
    async fn run(&mut self, rps: f64, length: Duration) -> Result<Report> {
        self.runs += 1;
        let secs = length.as_secs_f64();
        let issued = (rps.min(self.generator) * secs).ceil() as u64;
        let jitter = if self.runs % 2 == 0 {
            self.jitter_ms
        } else {
            0.0
        };
        let mut s = Stats::default();
        for i in 0..issued {
            let t = i as f64 / rps;
            // Backlog at t: (rps - capacity) * t requests, each 1/capacity s of work.
            let wait = ((rps - self.capacity).max(0.0) * t / self.capacity) * 1000.0;
            let latency_ms = 5.0 + wait + jitter;
            let us = (latency_ms * 1000.0) as u64;
            // The target queues; the generator sends on time (20 µs of dispatch lag).
            s.record_response(200, us, us - 20, 20);
        }
        Ok(report(&s, length))
    }
}

fn settings() -> SearchSettings {
    SearchSettings::new(Slo::new(99.0, Duration::from_millis(50)))
        .trial(Duration::from_secs(10))
        .cooldown(Duration::from_secs(1))
        .deadline(Duration::from_secs(3600))
        .confirm(None)
}

#[tokio::test(start_paused = true)]
async fn finds_a_known_capacity_within_the_precision_growing_then_halving() {
    let mut m = Model::new(1000.0);
    let r = search(&mut m, &settings(), |_| {}).await.unwrap();
    assert_eq!(r.outcome, SearchOutcome::Converged);
    // With 10 s trials and 45 ms of slack over the 5 ms service time, rates up to 1.0045 × the
    // capacity pass: the answer is the capacity within 1 %.
    let rate = r.rate.unwrap();
    assert!((990.0..=1004.5).contains(&rate), "{rate}");
    let hi = r.failed_at.unwrap();
    assert!((hi - rate) / hi <= 0.01, "{rate} {hi}");
    let rates: Vec<f64> = r.trials.iter().map(|t| t.rps).collect();
    assert_eq!(rates[..5], [100.0, 200.0, 400.0, 800.0, 1600.0]);
    assert_eq!(rates[5], 1200.0);
    assert!(
        r.trials
            .iter()
            .all(|t| t.verdict != Verdict::GeneratorLimited)
    );
    let failed = r
        .trials
        .iter()
        .find(|t| t.verdict == Verdict::Fail)
        .unwrap();
    assert!(
        failed.reasons[0].contains("p99 latency"),
        "{:?}",
        failed.reasons
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_start_rate_shrinks_until_something_passes() {
    let mut m = Model::new(30.0);
    let r = search(&mut m, &settings(), |_| {}).await.unwrap();
    assert_eq!(r.outcome, SearchOutcome::Converged);
    let rate = r.rate.unwrap();
    assert!((29.7..=30.2).contains(&rate), "{rate}");
    assert_eq!(r.trials[1].rps, 50.0);
    assert_eq!(r.trials[2].rps, 25.0);
}

#[tokio::test(start_paused = true)]
async fn the_ends_of_the_range_and_a_slow_generator_are_reported_as_such() {
    let mut m = Model::new(1e9);
    let r = search(&mut m, &settings().max_rps(1000.0), |_| {})
        .await
        .unwrap();
    assert_eq!(r.outcome, SearchOutcome::ReachedMax);
    assert_eq!(r.rate, Some(1000.0));

    let mut m = Model::new(0.001);
    let r = search(&mut m, &settings().min_rps(10.0), |_| {})
        .await
        .unwrap();
    assert_eq!(r.outcome, SearchOutcome::NothingPassed);
    assert_eq!(r.rate, None);
    assert_eq!(r.trials.last().unwrap().rps, 10.0);

    // The generator tops out at 500/s on a target that could take 1000/s: 800/s is not a
    // failure of the target; it is tried three times, and the search stops with 400/s as a
    // lower bound.
    let mut m = Model::new(1000.0);
    m.generator = 500.0;
    let r = search(&mut m, &settings(), |_| {}).await.unwrap();
    assert_eq!(r.outcome, SearchOutcome::GeneratorLimited);
    assert_eq!(r.rate, Some(400.0));
    let last: Vec<&Trial> = r.trials.iter().filter(|t| t.rps == 800.0).collect();
    assert_eq!(last.len(), 3);
    assert!(
        last[0].reasons[0].contains("issued 5000 of 8000"),
        "{:?}",
        last[0].reasons
    );
}

#[tokio::test(start_paused = true)]
async fn borderline_trials_are_repeated_and_the_majority_decides() {
    // Every other trial is 44 ms slower: near the 50 ms bound, trials disagree.
    let mut m = Model::new(1000.0);
    m.jitter_ms = 44.0;
    let r = search(&mut m, &settings(), |_| {}).await.unwrap();
    let mut per_rate: BTreeMap<u64, u32> = BTreeMap::new();
    for t in &r.trials {
        *per_rate.entry(t.rps as u64).or_default() += 1;
    }
    assert!(per_rate.values().any(|n| *n > 1), "{per_rate:?}");
    assert!(r.trials.iter().any(|t| t.borderline));
    assert_eq!(r.outcome, SearchOutcome::Converged);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_the_search_with_the_best_rate_known() {
    let mut m = Model::new(1000.0);
    // Room for four trials of 10 s with their 1 s cooldowns, then the confirmation does
    // not fit either.
    let s = settings()
        .deadline(Duration::from_secs(45))
        .confirm(Some(Duration::from_secs(30)));
    let r = search(&mut m, &s, |_| {}).await.unwrap();
    assert_eq!(r.outcome, SearchOutcome::Deadline);
    assert_eq!(r.trials.len(), 4);
    assert_eq!(r.rate, Some(800.0));
    assert!(r.confirmation.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_confirmation_run_follows_at_the_found_rate() {
    let mut m = Model::new(1000.0);
    let mut seen = 0;
    let s = settings().confirm(Some(Duration::from_secs(30)));
    let r = search(&mut m, &s, |_| seen += 1).await.unwrap();
    let c = r.confirmation_verdict.as_ref().unwrap();
    assert_eq!(c.rps, r.rate.unwrap());
    assert_eq!(c.verdict, Verdict::Pass);
    assert!(r.confirmation.is_some());
    assert_eq!(seen, r.trials.len() + 1);
}

#[test]
fn settings_out_of_range_are_refused_naming_them() {
    let base = crate::Engine::builder().url("http://127.0.0.1:9/");
    let cases = [
        (settings().precision(0.0), "search.precision"),
        (settings().growth(1.0), "search.growth"),
        (settings().start_rps(-1.0), "search.start_rps"),
        (settings().start_rps(10.0).max_rps(5.0), "search.max_rps"),
        (settings().trial(Duration::ZERO), "search.trial"),
        (
            settings().max_trials_per_rate(0),
            "search.max_trials_per_rate",
        ),
        (
            settings().deadline(Duration::from_secs(1)),
            "search.deadline",
        ),
        (
            SearchSettings::new(Slo::new(101.0, Duration::from_millis(1))),
            "slo.percentile",
        ),
        (
            SearchSettings::new(Slo::new(99.0, Duration::from_millis(1)).min_success(2.0)),
            "slo.min_success",
        ),
    ];
    for (s, field) in cases {
        let e = Search::new(base.clone(), s).unwrap_err().to_string();
        assert!(e.contains(&format!("`{field}`")), "{field}: {e}");
    }
    let e = Search::new(crate::Engine::builder(), settings())
        .unwrap_err()
        .to_string();
    assert!(e.contains("endpoint"), "{e}");
}
