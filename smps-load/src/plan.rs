//! Arrival plans for open-loop runs: when each request is *meant* to be sent.
//!
//! A plan is a pure, deterministic function of its settings (and seed): the intended send
//! offsets from the start of the run. Latency is measured from these intended times, so a
//! stall of the server or of the generator shows up in the results instead of being hidden
//! (coordinated omission).
//!
//! A plan has a **rate profile** (constant, or piecewise-linear stages) and a **spacing**
//! (uniform, or Poisson with a seed). With cumulative expected arrivals `Λ(t)`, uniform spacing
//! puts arrival `i` at `Λ⁻¹(i)`, and Poisson spacing puts the arrivals of a unit-rate Poisson
//! process through `Λ⁻¹` (time rescaling), which gives a Poisson process with the profile's
//! varying rate. Rates are always **global** (requests per second across all workers).

use std::time::Duration;

use crate::error::{Error, Result};
use crate::rng::SplitMix64;
use crate::segment::ExecutionPart;

/// One stage of a piecewise-linear rate profile: the rate moves linearly from the previous
/// stage's target (or the start rate) to `target_rps` over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Stage {
    /// Rate (requests per second, global) reached at the end of the stage.
    pub target_rps: f64,
    /// How long the stage lasts.
    pub duration: Duration,
}

impl Stage {
    /// A stage that ramps to `target_rps` over `duration`.
    pub fn new(target_rps: f64, duration: Duration) -> Self {
        Stage {
            target_rps,
            duration,
        }
    }
}

/// How arrivals are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Spacing {
    /// Evenly spaced: arrival `i` is sent when `i` arrivals are expected.
    Uniform,
    /// A Poisson process of the profile's rate, reproducible from `seed`.
    Poisson {
        /// Seed of the random stream; the same seed gives the same arrival times.
        seed: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    start: f64,
    len: f64,
    r0: f64,
    r1: f64,
    /// Expected arrivals before the segment.
    c0: f64,
}

impl Segment {
    fn area(&self) -> f64 {
        0.5 * (self.r0 + self.r1) * self.len
    }

    /// Seconds into the segment at which `x` arrivals (from its start) are expected.
    fn invert(&self, x: f64) -> f64 {
        let a = (self.r1 - self.r0) / (2.0 * self.len);
        let b = self.r0;
        // Stable root of a s² + b s - x = 0.
        let disc = (b * b + 4.0 * a * x).max(0.0);
        let den = b + disc.sqrt();
        if den <= 0.0 { 0.0 } else { 2.0 * x / den }
    }

    fn cumulative(&self, s: f64) -> f64 {
        let s = s.clamp(0.0, self.len);
        self.c0 + self.r0 * s + (self.r1 - self.r0) / (2.0 * self.len) * s * s
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Profile {
    Constant(f64),
    Stages(Vec<Segment>),
}

/// An open-loop arrival plan: a rate profile plus a spacing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use smps_load::{ArrivalPlan, Stage};
///
/// // 1,000 req/s, evenly spaced.
/// let plan = ArrivalPlan::constant(1000.0)?;
/// assert_eq!(plan.expected_by(Duration::from_secs(2)), 2000.0);
///
/// // Ramp from 0 to 100 req/s in 10 s, hold for 10 s, as a seeded Poisson process.
/// let plan = ArrivalPlan::stages(0.0, vec![
///     Stage::new(100.0, Duration::from_secs(10)),
///     Stage::new(100.0, Duration::from_secs(10)),
/// ])?.with_poisson(42);
/// assert_eq!(plan.expected_by(Duration::from_secs(20)), 1500.0);
/// assert_eq!(plan.length(), Some(Duration::from_secs(20)));
/// # Ok::<(), smps_load::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ArrivalPlan {
    profile: Profile,
    spacing: Spacing,
}

/// A rate must be finite, not negative, and at most [`smps_model::limits::MAX_RPS`]: the same
/// bound `smps-validate` checks, so what validates also runs.
fn check_rate(field: &str, rps: f64) -> Result<()> {
    smps_model::limits::check_rate(rps).map_err(|reason| Error::InvalidSetting {
        field: field.to_string(),
        reason,
    })
}

impl ArrivalPlan {
    /// A constant rate of `rps` requests per second (global), evenly spaced, without end.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] if `rps` is not a finite number greater than zero, or is
    /// above [`smps_model::limits::MAX_RPS`].
    pub fn constant(rps: f64) -> Result<Self> {
        check_rate("rps", rps)?;
        if rps == 0.0 {
            return Err(Error::InvalidSetting {
                field: "rps".into(),
                reason: "a constant-rate plan needs a rate > 0 (use the closed-loop model for \"as fast as possible\")".into(),
            });
        }
        Ok(ArrivalPlan {
            profile: Profile::Constant(rps),
            spacing: Spacing::Uniform,
        })
    }

    /// A Poisson process of constant rate `rps`, reproducible from `seed`.
    ///
    /// # Errors
    ///
    /// As [`ArrivalPlan::constant`].
    pub fn poisson(rps: f64, seed: u64) -> Result<Self> {
        Ok(Self::constant(rps)?.with_poisson(seed))
    }

    /// A piecewise-linear profile starting at `start_rps`; the plan ends after the last stage.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] if there is no stage, a rate is negative, not finite or above
    /// [`smps_model::limits::MAX_RPS`], a stage has zero length, or the profile would never
    /// send a request or would plan more than [`smps_model::limits::MAX_PLANNED_ARRIVALS`].
    pub fn stages(start_rps: f64, stages: Vec<Stage>) -> Result<Self> {
        check_rate("stages.start_rps", start_rps)?;
        if stages.is_empty() {
            return Err(Error::InvalidSetting {
                field: "stages".into(),
                reason: "at least one stage is needed".into(),
            });
        }
        let mut segments = Vec::with_capacity(stages.len());
        let (mut start, mut c0, mut r0) = (0.0, 0.0, start_rps);
        for (i, st) in stages.iter().enumerate() {
            check_rate(&format!("stages[{i}].target_rps"), st.target_rps)?;
            let len = st.duration.as_secs_f64();
            if len <= 0.0 {
                return Err(Error::InvalidSetting {
                    field: format!("stages[{i}].duration"),
                    reason: "a stage must last longer than zero".into(),
                });
            }
            let seg = Segment {
                start,
                len,
                r0,
                r1: st.target_rps,
                c0,
            };
            c0 += seg.area();
            start += len;
            r0 = st.target_rps;
            segments.push(seg);
        }
        if c0 <= 0.0 {
            return Err(Error::InvalidSetting {
                field: "stages".into(),
                reason: "every rate is zero, so the plan would never send".into(),
            });
        }
        if c0 > smps_model::limits::MAX_PLANNED_ARRIVALS as f64 {
            return Err(Error::InvalidSetting {
                field: "stages".into(),
                reason: format!(
                    "the stages plan {c0:.3e} requests, more than the {} a plan may hold",
                    smps_model::limits::MAX_PLANNED_ARRIVALS
                ),
            });
        }
        Ok(ArrivalPlan {
            profile: Profile::Stages(segments),
            spacing: Spacing::Uniform,
        })
    }

    /// The same profile, spaced as a Poisson process seeded with `seed`.
    #[must_use]
    pub fn with_poisson(mut self, seed: u64) -> Self {
        self.spacing = Spacing::Poisson { seed };
        self
    }

    /// The spacing of this plan.
    pub fn spacing(&self) -> Spacing {
        self.spacing
    }

    /// The length of the plan (`None` for constant plans, which never end by themselves).
    pub fn length(&self) -> Option<Duration> {
        match &self.profile {
            Profile::Constant(_) => None,
            Profile::Stages(s) => s.last().map(|l| Duration::from_secs_f64(l.start + l.len)),
        }
    }

    /// The rate (global, per second) at offset `t`; zero after the plan ends.
    pub fn rate_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        match &self.profile {
            Profile::Constant(r) => *r,
            Profile::Stages(segs) => segs
                .iter()
                .find(|s| t >= s.start && t < s.start + s.len)
                .map(|s| s.r0 + (s.r1 - s.r0) * (t - s.start) / s.len)
                .unwrap_or(0.0),
        }
    }

    /// Expected arrivals in `[0, t)` for the whole plan (all workers).
    pub fn expected_by(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        match &self.profile {
            Profile::Constant(r) => r * t,
            Profile::Stages(segs) => {
                let mut c = 0.0;
                for s in segs {
                    if t <= s.start {
                        break;
                    }
                    c = s.cumulative(t - s.start);
                }
                c
            }
        }
    }

    /// The offset (seconds) at which `c` arrivals are expected, or `None` past the plan's end.
    fn invert(&self, c: f64, cursor: &mut usize) -> Option<f64> {
        match &self.profile {
            Profile::Constant(r) => Some(c / r),
            Profile::Stages(segs) => {
                while let Some(s) = segs.get(*cursor) {
                    let x = c - s.c0;
                    if x < s.area() {
                        return Some(s.start + s.invert(x.max(0.0)));
                    }
                    *cursor += 1;
                }
                None
            }
        }
    }

    /// The intended send offsets owned by stripe `index` of `count` stripes.
    ///
    /// The stripes of one plan together make up the whole plan: with uniform spacing stripe `k`
    /// takes arrivals `k, k + count, k + 2·count, ...`; with Poisson spacing each stripe is an
    /// independent Poisson process of `1/count` of the rate (with a seed derived from the
    /// plan's seed and `index`), and their superposition is a Poisson process of the full rate.
    ///
    /// `count` of zero is treated as one.
    pub fn stripe(&self, index: usize, count: usize) -> Arrivals {
        self.stripe_in(None, index, count)
    }

    /// The intended send offsets of stripe `index` of `count` stripes of one part of a
    /// distributed run (see [`ExecutionPart`]).
    ///
    /// With uniform spacing the part owns the plan's arrivals whose index it owns in the
    /// striping cycle ([`ExecutionPart::share`]), and its stripes deal those out in turn: the
    /// stripes of all the parts together are exactly the plan's arrivals. With Poisson spacing
    /// the part runs a Poisson process of its segment's share of the rate, seeded from the
    /// plan's seed and the segment, and its stripes split that as [`ArrivalPlan::stripe`] does.
    pub fn part_stripe(&self, part: &ExecutionPart, index: usize, count: usize) -> Arrivals {
        self.stripe_in(Some(part), index, count)
    }

    pub(crate) fn stripe_in(
        &self,
        part: Option<&ExecutionPart>,
        index: usize,
        count: usize,
    ) -> Arrivals {
        let count = count.max(1);
        let rng = match self.spacing {
            Spacing::Uniform => None,
            Spacing::Poisson { seed } => {
                let seed = part.map_or(seed, |p| p.seed(seed));
                Some(SplitMix64::new(
                    seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                ))
            }
        };
        Arrivals {
            plan: self.clone(),
            part: part.cloned(),
            next_index: index as u64,
            step: count as u64,
            scale: count as f64 / part.map_or(1.0, ExecutionPart::fraction),
            cumulative: 0.0,
            rng,
            cursor: 0,
        }
    }
}

/// Iterator over the intended send offsets of one stripe of an [`ArrivalPlan`], in
/// increasing order. It ends when the plan ends (never, for constant plans).
#[derive(Debug, Clone)]
pub struct Arrivals {
    plan: ArrivalPlan,
    /// The part of a distributed run whose arrivals these are, if any.
    part: Option<ExecutionPart>,
    /// The next of the owned arrivals (uniform spacing).
    next_index: u64,
    step: u64,
    /// Mean spacing, in expected arrivals of the whole plan, of this stripe's Poisson process.
    scale: f64,
    cumulative: f64,
    rng: Option<SplitMix64>,
    cursor: usize,
}

impl Arrivals {
    /// The length of the plan these arrivals belong to (`None` for constant plans).
    pub(crate) fn plan_length(&self) -> Option<Duration> {
        self.plan.length()
    }
}

impl Iterator for Arrivals {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let c = match &mut self.rng {
            None => {
                let n = self.next_index;
                self.next_index += self.step;
                match &self.part {
                    Some(p) => p.nth_item(n) as f64,
                    None => n as f64,
                }
            }
            Some(rng) => {
                self.cumulative += rng.exp1() * self.scale;
                self.cumulative
            }
        };
        let secs = self.plan.invert(c, &mut self.cursor)?;
        Some(Duration::from_secs_f64(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn constant_plan_spaces_arrivals_evenly_across_stripes() {
        let plan = ArrivalPlan::constant(1000.0).unwrap();
        let a: Vec<_> = plan.stripe(1, 4).take(3).collect();
        assert_eq!(
            a,
            vec![
                Duration::from_millis(1),
                Duration::from_millis(5),
                Duration::from_millis(9)
            ]
        );
    }

    #[test]
    fn stages_ramp_matches_the_analytic_inverse() {
        // 0 -> 100 rps over 10 s: Λ(t) = 5 t², so arrival 500 (the last one) is at 10 s and
        // arrival 125 at 5 s.
        let plan =
            ArrivalPlan::stages(0.0, vec![Stage::new(100.0, Duration::from_secs(10))]).unwrap();
        let all: Vec<_> = plan.stripe(0, 1).collect();
        assert_eq!(all.len(), 500);
        assert!((all[125].as_secs_f64() - 5.0).abs() < 1e-9);
        assert!((plan.expected_by(Duration::from_secs(5)) - 125.0).abs() < 1e-9);
        assert_eq!(plan.rate_at(Duration::from_secs(5)), 50.0);
        assert_eq!(plan.rate_at(Duration::from_secs(11)), 0.0);
    }

    #[test]
    fn poisson_is_reproducible_from_its_seed_and_has_the_planned_rate() {
        let plan = ArrivalPlan::poisson(10_000.0, 7).unwrap();
        let a: Vec<_> = plan.stripe(0, 2).take(1000).collect();
        let b: Vec<_> = plan.stripe(0, 2).take(1000).collect();
        assert_eq!(a, b);
        let c: Vec<_> = plan.stripe(1, 2).take(1000).collect();
        assert_ne!(a, c);
        // 200k arrivals over both stripes in [0, 10 s): mean 100k, sd ~316; allow 5 sd.
        let n: usize = (0..2)
            .map(|k| {
                plan.stripe(k, 2)
                    .take_while(|t| *t < Duration::from_secs(10))
                    .count()
            })
            .sum();
        assert!((n as f64 - 100_000.0).abs() < 5.0 * 316.3, "n = {n}");
    }

    #[test]
    fn invalid_rates_and_stages_are_rejected_with_the_field_named() {
        let e = ArrivalPlan::constant(-1.0).unwrap_err().to_string();
        assert!(e.contains("`rps`"), "{e}");
        let e = ArrivalPlan::stages(0.0, vec![Stage::new(f64::NAN, Duration::from_secs(1))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("stages[0].target_rps"), "{e}");
        let e = ArrivalPlan::stages(1.0, vec![Stage::new(2.0, Duration::ZERO)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("stages[0].duration"), "{e}");
        assert!(ArrivalPlan::stages(0.0, vec![Stage::new(0.0, Duration::from_secs(1))]).is_err());
    }

    proptest! {
        #[test]
        fn stage_arrivals_are_increasing_and_their_count_matches_the_integral(
            start in 0.0f64..500.0,
            rates in proptest::collection::vec((0.0f64..500.0, 1u64..3000), 1..5),
            stripes in 1usize..5,
            poisson in proptest::option::of(any::<u64>()),
        ) {
            let stages: Vec<_> = rates.iter().map(|(r, ms)| Stage::new(*r, Duration::from_millis(*ms))).collect();
            let Ok(mut plan) = ArrivalPlan::stages(start, stages) else { return Ok(()) };
            if let Some(seed) = poisson { plan = plan.with_poisson(seed); }
            let total = plan.expected_by(plan.length().unwrap());
            let mut n = 0usize;
            for k in 0..stripes {
                let v: Vec<_> = plan.stripe(k, stripes).collect();
                prop_assert!(v.windows(2).all(|w| w[0] <= w[1]));
                prop_assert!(v.last().is_none_or(|t| *t <= plan.length().unwrap()));
                n += v.len();
            }
            if poisson.is_none() {
                // Uniform spacing: exactly the arrivals i = 0, 1, ... with i < Λ(end).
                prop_assert!((n as f64 - total.ceil()).abs() <= 1.0, "n={} total={}", n, total);
            }
        }
    }
}
