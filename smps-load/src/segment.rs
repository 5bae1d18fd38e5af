//! Execution segments: one load split over several generators with no coordinator.
//!
//! A **segment sequence** cuts `[0, 1]` at rational boundaries (`0, 1/4, 1/2, 3/4, 1`); each
//! generator runs one **segment** of it (`1/4:1/2`) and computes its share of the load itself.
//! Shares are dealt by **striping**, as k6 does: the segment lengths are brought to their least
//! common denominator `D`, and the positions `0..D` of a repeating cycle are dealt to the
//! segments (segment `i` gets `nᵢ` of them, where its length is `nᵢ / D`), spread evenly by rank:
//! segment `i` wishes for its `k`-th position at `(k + ½)·D/nᵢ`, and the wishes take the
//! positions in order (the longest segment first on ties). Item `j` of any countable
//! quantity (arrival `j` of a uniform plan, connection `j`, request `j` of a request budget)
//! belongs to the owner of position `j mod D`. Every item has exactly one owner, so the parts'
//! shares always add up to the whole, exactly: no part rounds a share up or down on its own.
//!
//! Poisson plans are split by rate instead: the part of length `f` runs a Poisson process of
//! `f` times the plan's rate, seeded from the plan's seed and its segment, so the parts' seeds
//! differ and their superposition is a Poisson process of the plan's full rate.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Largest common denominator a sequence may need (the length of the striping cycle).
pub const MAX_SEGMENT_DENOMINATOR: u64 = 100_000;

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A rational number in `[0, 1]`, kept reduced (`2/4` is `1/2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fraction {
    num: u64,
    den: u64,
}

impl Fraction {
    /// `num / den`, reduced.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (field `segment`) if `den` is zero or above
    /// [`MAX_SEGMENT_DENOMINATOR`], or the value is above 1.
    pub fn new(num: u64, den: u64) -> Result<Self> {
        if den == 0 {
            return Err(bad(format!("{num}/{den} divides by zero")));
        }
        if num > den {
            return Err(bad(format!("{num}/{den} is above 1")));
        }
        let g = gcd(num, den).max(1);
        let (num, den) = (num / g, den / g);
        if den > MAX_SEGMENT_DENOMINATOR {
            return Err(bad(format!(
                "{num}/{den} has a denominator above {MAX_SEGMENT_DENOMINATOR}"
            )));
        }
        Ok(Fraction { num, den })
    }

    /// Zero.
    pub const ZERO: Fraction = Fraction { num: 0, den: 1 };
    /// One.
    pub const ONE: Fraction = Fraction { num: 1, den: 1 };

    /// Parses `a/b`, an integer (`0`, `1`) or a decimal (`0.25`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (field `segment`) naming the text.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let number = |s: &str| -> Result<u64> {
            s.trim()
                .parse::<u64>()
                .map_err(|_| bad(format!("`{text}` is not a fraction such as 1/4 or 0.25")))
        };
        if let Some((n, d)) = t.split_once('/') {
            return Fraction::new(number(n)?, number(d)?);
        }
        if let Some((whole, decimals)) = t.split_once('.') {
            if decimals.is_empty() || decimals.len() > 5 {
                return Err(bad(format!(
                    "`{text}`: give a decimal with 1 to 5 digits after the point, or a fraction"
                )));
            }
            let den = 10u64.pow(decimals.len() as u32);
            let whole = if whole.is_empty() { 0 } else { number(whole)? };
            let frac = number(decimals)?;
            return Fraction::new(whole.saturating_mul(den).saturating_add(frac), den);
        }
        Fraction::new(number(t)?, 1)
    }

    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// The numerator (reduced).
    pub fn numerator(self) -> u64 {
        self.num
    }

    /// The denominator (reduced).
    pub fn denominator(self) -> u64 {
        self.den
    }
}

impl PartialOrd for Fraction {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Fraction {
    fn cmp(&self, other: &Self) -> Ordering {
        (u128::from(self.num) * u128::from(other.den))
            .cmp(&(u128::from(other.num) * u128::from(self.den)))
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.num, self.den) {
            (n, 1) => write!(f, "{n}"),
            (n, d) => write!(f, "{n}/{d}"),
        }
    }
}

fn bad(reason: String) -> Error {
    Error::InvalidSetting {
        field: "segment".into(),
        reason,
    }
}

/// One segment `from:to` of `[0, 1]` (k6's `--execution-segment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExecutionSegment {
    from: Fraction,
    to: Fraction,
}

impl ExecutionSegment {
    /// The segment `from:to`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (field `segment`) if it is empty or reversed.
    pub fn new(from: Fraction, to: Fraction) -> Result<Self> {
        if from >= to {
            return Err(bad(format!(
                "{from}:{to} is empty or reversed (the start must be below the end)"
            )));
        }
        Ok(ExecutionSegment { from, to })
    }

    /// Segment `index` of `count` equal ones: `index/count:(index+1)/count`, `index` from 0.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (field `segment`) if `count` is zero or above
    /// [`MAX_SEGMENT_DENOMINATOR`], or `index >= count`.
    pub fn nth(index: u64, count: u64) -> Result<Self> {
        if count == 0 || index >= count {
            return Err(bad(format!(
                "part {index}/{count}: the part index counts from 0 and must be below the number of parts"
            )));
        }
        ExecutionSegment::new(
            Fraction::new(index, count)?,
            Fraction::new(index + 1, count)?,
        )
    }

    /// Parses `from:to` (`1/4:1/2`, `0:0.5`), or `i/N` for segment `i` (from 0) of `N` equal
    /// ones (`1/4` is `1/4:2/4`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (field `segment`) naming what is wrong.
    pub fn parse(text: &str) -> Result<Self> {
        match text.split_once(':') {
            Some((a, b)) => ExecutionSegment::new(Fraction::parse(a)?, Fraction::parse(b)?),
            None => {
                let (i, n) = text.trim().split_once('/').ok_or_else(|| {
                    bad(format!(
                        "`{text}` is neither `from:to` (1/4:1/2) nor `i/N` (part i of N, from 0)"
                    ))
                })?;
                let num = |s: &str| {
                    s.trim()
                        .parse::<u64>()
                        .map_err(|_| bad(format!("`{text}`: `{s}` is not a whole number")))
                };
                ExecutionSegment::nth(num(i)?, num(n)?)
            }
        }
    }

    /// Start of the segment.
    pub fn from(&self) -> Fraction {
        self.from
    }

    /// End of the segment.
    pub fn to(&self) -> Fraction {
        self.to
    }

    /// Length of the segment as a float (its share of rates).
    pub fn length(&self) -> f64 {
        self.to.as_f64() - self.from.as_f64()
    }
}

impl fmt::Display for ExecutionSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.from, self.to)
    }
}

/// The cut points of `[0, 1]` that all parts of one distributed run share (k6's
/// `--execution-segment-sequence`): strictly increasing, from 0 to 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentSequence {
    bounds: Vec<Fraction>,
}

impl SegmentSequence {
    /// A sequence from its cut points (0 and 1 are added when missing).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (field `segment_sequence`) if the points do not increase, or
    /// the common denominator of the segments exceeds [`MAX_SEGMENT_DENOMINATOR`].
    pub fn new(mut bounds: Vec<Fraction>) -> Result<Self> {
        if bounds.first() != Some(&Fraction::ZERO) {
            bounds.insert(0, Fraction::ZERO);
        }
        if bounds.last() != Some(&Fraction::ONE) {
            bounds.push(Fraction::ONE);
        }
        if let Some(w) = bounds.windows(2).find(|w| w[0] >= w[1]) {
            return Err(Error::InvalidSetting {
                field: "segment_sequence".into(),
                reason: format!("the cut points must increase, but {} >= {}", w[0], w[1]),
            });
        }
        let seq = SegmentSequence { bounds };
        seq.denominator()?;
        Ok(seq)
    }

    /// `count` equal segments (`0, 1/N, 2/N, ..., 1`).
    ///
    /// # Errors
    ///
    /// As [`SegmentSequence::new`]; `count` of zero is refused.
    pub fn equal(count: u64) -> Result<Self> {
        if count == 0 {
            return Err(bad("a sequence needs at least one part".into()));
        }
        SegmentSequence::new(
            (0..=count)
                .map(|i| Fraction::new(i, count))
                .collect::<Result<_>>()?,
        )
    }

    /// Parses comma-separated cut points (`0,1/4,1/2,1`).
    ///
    /// # Errors
    ///
    /// As [`Fraction::parse`] and [`SegmentSequence::new`].
    pub fn parse(text: &str) -> Result<Self> {
        SegmentSequence::new(
            text.split(',')
                .map(Fraction::parse)
                .collect::<Result<_>>()?,
        )
    }

    /// The default sequence of a lone segment: its own bounds with 0 and 1.
    pub fn around(segment: &ExecutionSegment) -> Self {
        let mut bounds = vec![Fraction::ZERO];
        for f in [segment.from, segment.to] {
            if bounds.last() != Some(&f) {
                bounds.push(f);
            }
        }
        if bounds.last() != Some(&Fraction::ONE) {
            bounds.push(Fraction::ONE);
        }
        SegmentSequence { bounds }
    }

    /// The segments of the sequence, in order.
    pub fn segments(&self) -> Vec<ExecutionSegment> {
        self.bounds
            .windows(2)
            .map(|w| ExecutionSegment {
                from: w[0],
                to: w[1],
            })
            .collect()
    }

    /// The cut points.
    pub fn bounds(&self) -> &[Fraction] {
        &self.bounds
    }

    /// The least common denominator of the cut points (the striping cycle's length).
    fn denominator(&self) -> Result<u64> {
        let mut d = 1u64;
        for f in &self.bounds {
            d = d / gcd(d, f.den) * f.den;
            if d > MAX_SEGMENT_DENOMINATOR {
                return Err(Error::InvalidSetting {
                    field: "segment_sequence".into(),
                    reason: format!(
                        "the segments' common denominator exceeds {MAX_SEGMENT_DENOMINATOR}; use simpler fractions"
                    ),
                });
            }
        }
        Ok(d)
    }
}

impl fmt::Display for SegmentSequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.bounds.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{b}")?;
        }
        Ok(())
    }
}

/// One part of a distributed run: a segment of a sequence, with the positions it owns in the
/// striping cycle. Build it with [`ExecutionPart::new`] and give it to
/// [`EngineBuilder::segment`](crate::EngineBuilder::segment).
///
/// # Examples
///
/// ```
/// use smps_load::{ExecutionPart, ExecutionSegment, SegmentSequence};
///
/// let seq = SegmentSequence::equal(3)?;
/// let parts: Vec<_> = seq
///     .segments()
///     .into_iter()
///     .map(|s| ExecutionPart::new(s, seq.clone()))
///     .collect::<Result<_, _>>()?;
/// // 100 connections over three parts: 34 + 33 + 33, never 33 * 3 or 34 * 3.
/// let shares: Vec<u64> = parts.iter().map(|p| p.share(100)).collect();
/// assert_eq!(shares.iter().sum::<u64>(), 100);
/// assert_eq!(parts[1].segment(), ExecutionSegment::parse("1/3:2/3")?);
/// # Ok::<(), smps_load::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionPart {
    segment: ExecutionSegment,
    sequence: SegmentSequence,
    /// Length of the striping cycle.
    cycle: u64,
    /// The positions of the cycle this part owns, increasing.
    offsets: Arc<[u64]>,
}

impl ExecutionPart {
    /// The part running `segment` of `sequence`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (field `segment`) if `segment` is not one of the sequence's
    /// segments.
    pub fn new(segment: ExecutionSegment, sequence: SegmentSequence) -> Result<Self> {
        let segments = sequence.segments();
        let Some(me) = segments.iter().position(|s| *s == segment) else {
            return Err(bad(format!(
                "{segment} is not a segment of the sequence {sequence} (its segments are {})",
                segments
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let cycle = sequence.denominator()?;
        let weights: Vec<u64> = segments
            .iter()
            .map(|s| s.to.num * (cycle / s.to.den) - s.from.num * (cycle / s.from.den))
            .collect();
        // Segment i wants its k-th position at (k + 1/2) * cycle / weight_i; all the wishes,
        // in that order (longer segments first on ties), take the positions 0, 1, 2, ... So
        // over one cycle segment i takes exactly weight_i positions, spread evenly.
        let mut wishes: Vec<(u64, usize)> = weights
            .iter()
            .enumerate()
            .flat_map(|(i, &w)| (0..w).map(move |k| (k, i)))
            .collect();
        wishes.sort_by(|&(k1, i1), &(k2, i2)| {
            let (w1, w2) = (u128::from(weights[i1]), u128::from(weights[i2]));
            ((2 * u128::from(k1) + 1) * w2)
                .cmp(&((2 * u128::from(k2) + 1) * w1))
                .then(w2.cmp(&w1))
                .then(i1.cmp(&i2))
        });
        let offsets: Vec<u64> = wishes
            .iter()
            .enumerate()
            .filter(|(_, (_, i))| *i == me)
            .map(|(position, _)| position as u64)
            .collect();
        Ok(ExecutionPart {
            segment,
            sequence,
            cycle,
            offsets: offsets.into(),
        })
    }

    /// Part `index` (from 0) of `count` equal parts.
    ///
    /// # Errors
    ///
    /// As [`ExecutionSegment::nth`].
    pub fn nth(index: u64, count: u64) -> Result<Self> {
        ExecutionPart::new(
            ExecutionSegment::nth(index, count)?,
            SegmentSequence::equal(count)?,
        )
    }

    /// The segment this part runs.
    pub fn segment(&self) -> ExecutionSegment {
        self.segment
    }

    /// The sequence it belongs to.
    pub fn sequence(&self) -> &SegmentSequence {
        &self.sequence
    }

    /// This part's share of `total` countable items (connections, requests): the number of
    /// items `j < total` it owns. The shares of all parts of a sequence add up to `total`.
    pub fn share(&self, total: u64) -> u64 {
        let owned = self.offsets.len() as u64;
        let rest = total % self.cycle;
        (total / self.cycle) * owned + self.offsets.partition_point(|&o| o < rest) as u64
    }

    /// The index (among all parts' items) of this part's `n`-th item.
    pub(crate) fn nth_item(&self, n: u64) -> u64 {
        let owned = self.offsets.len() as u64;
        (n / owned) * self.cycle + self.offsets[(n % owned) as usize]
    }

    /// The part's share of rates: its segment's length.
    pub fn fraction(&self) -> f64 {
        self.offsets.len() as f64 / self.cycle as f64
    }

    /// A seed for this part's random streams, derived from `seed` and the segment (so two
    /// parts never share a stream, and the same part always gets the same one).
    pub(crate) fn seed(&self, seed: u64) -> u64 {
        let s = &self.segment;
        let mut h = seed ^ 0x5EED_5E61_0000_0000;
        for v in [s.from.num, s.from.den, s.to.num, s.to.den] {
            h = crate::rng::SplitMix64::new(h ^ v).next_u64();
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::plan::{ArrivalPlan, Stage};

    fn parts_of(seq: &SegmentSequence) -> Vec<ExecutionPart> {
        seq.segments()
            .into_iter()
            .map(|s| ExecutionPart::new(s, seq.clone()).unwrap())
            .collect()
    }

    /// A sequence from random cut points with denominators up to 12.
    fn sequence() -> impl Strategy<Value = SegmentSequence> {
        proptest::collection::vec((1u64..12, 2u64..13), 0..6).prop_map(|cuts| {
            let mut bounds: Vec<Fraction> = cuts
                .into_iter()
                .filter_map(|(n, d)| Fraction::new(n % d, d).ok())
                .collect();
            bounds.sort();
            bounds.dedup();
            SegmentSequence::new(bounds).unwrap()
        })
    }

    #[test]
    fn text_forms_parse_and_print_in_k6_notation() {
        let s = ExecutionSegment::parse("1/4:2/4").unwrap();
        assert_eq!(s.to_string(), "1/4:1/2");
        assert_eq!(ExecutionSegment::parse("1/4").unwrap(), s);
        assert_eq!(ExecutionSegment::parse("0.25:0.5").unwrap(), s);
        assert_eq!(
            SegmentSequence::parse("0,1/4,0.5,3/4,1").unwrap(),
            SegmentSequence::equal(4).unwrap()
        );
        assert_eq!(
            SegmentSequence::parse("1/3").unwrap().to_string(),
            "0,1/3,1"
        );
        for (bad, says) in [
            ("4/4", "must be below"),
            ("1/2:1/4", "reversed"),
            ("1/2:1/2", "empty"),
            ("3/2:2", "above 1"),
            ("a:1", "not a fraction"),
            ("1/0:1", "divides by zero"),
            ("half", "neither"),
        ] {
            let e = ExecutionSegment::parse(bad).unwrap_err().to_string();
            assert!(e.contains("`segment`") && e.contains(says), "{bad}: {e}");
        }
        let e = SegmentSequence::parse("0,1/2,1/4,1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("must increase") && e.contains("1/2 >= 1/4"),
            "{e}"
        );
        let e = ExecutionPart::new(
            ExecutionSegment::parse("0:1/3").unwrap(),
            SegmentSequence::equal(2).unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("0:1/3 is not a segment of the sequence 0,1/2,1"),
            "{e}"
        );
    }

    #[test]
    fn a_lone_segment_gets_the_sequence_around_it() {
        let s = ExecutionSegment::parse("1/3:1/2").unwrap();
        assert_eq!(SegmentSequence::around(&s).to_string(), "0,1/3,1/2,1");
        let s = ExecutionSegment::parse("0:1").unwrap();
        assert_eq!(SegmentSequence::around(&s).to_string(), "0,1");
    }

    #[test]
    fn striping_deals_positions_evenly_and_longest_first() {
        // 0:1/2, 1/2:3/4, 3/4:1 → cycle 4; the half takes two positions, apart.
        let seq = SegmentSequence::parse("0,1/2,3/4,1").unwrap();
        let parts = parts_of(&seq);
        assert_eq!(&*parts[0].offsets, &[0, 3]);
        assert_eq!(&*parts[1].offsets, &[1]);
        assert_eq!(&*parts[2].offsets, &[2]);
        let shares = |n: u64| parts.iter().map(|p| p.share(n)).collect::<Vec<_>>();
        assert_eq!(shares(3), [1, 1, 1]);
        assert_eq!(shares(4), [2, 1, 1]);
        assert_eq!(shares(10), [5, 3, 2]);
        assert_eq!(
            (0..4).map(|n| parts[0].nth_item(n)).collect::<Vec<_>>(),
            [0, 3, 4, 7]
        );
    }

    #[test]
    fn part_seeds_differ_and_poisson_parts_add_up_to_the_planned_rate() {
        let plan = ArrivalPlan::poisson(20_000.0, 9).unwrap();
        let parts = parts_of(&SegmentSequence::equal(4).unwrap());
        let firsts: Vec<Duration> = parts
            .iter()
            .map(|p| plan.part_stripe(p, 0, 1).next().unwrap())
            .collect();
        for (i, a) in firsts.iter().enumerate() {
            assert!(!firsts[..i].contains(a), "parts share a random stream");
        }
        // 4 parts × 2 workers over 5 s: 100k expected, sd ~316; allow 5 sd.
        let n: usize = parts
            .iter()
            .flat_map(|p| (0..2).map(move |k| (p, k)))
            .map(|(p, k)| {
                plan.part_stripe(p, k, 2)
                    .take_while(|t| *t < Duration::from_secs(5))
                    .count()
            })
            .sum();
        assert!((n as f64 - 100_000.0).abs() < 5.0 * 316.3, "n = {n}");
    }

    proptest! {
        #[test]
        fn shares_of_any_count_add_up_exactly(seq in sequence(), total in 0u64..1_000_000) {
            let parts = parts_of(&seq);
            let shares: Vec<u64> = parts.iter().map(|p| p.share(total)).collect();
            prop_assert_eq!(shares.iter().sum::<u64>(), total);
            let rates: f64 = parts.iter().map(ExecutionPart::fraction).sum();
            prop_assert!((rates - 1.0).abs() < 1e-12);
            for (p, s) in parts.iter().zip(&shares) {
                // Never further from the exact share than the number of segments.
                let exact = total as f64 * p.fraction();
                prop_assert!((*s as f64 - exact).abs() <= parts.len() as f64, "{} of {}: {} vs {}", p.segment(), total, s, exact);
            }
        }

        #[test]
        fn equal_parts_are_within_one_of_each_other(count in 1u64..64, total in 0u64..100_000) {
            let parts = parts_of(&SegmentSequence::equal(count).unwrap());
            let shares: Vec<u64> = parts.iter().map(|p| p.share(total)).collect();
            let (min, max) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
            prop_assert!(max - min <= 1, "{:?}", shares);
            prop_assert_eq!(shares.iter().sum::<u64>(), total);
        }

        #[test]
        fn uniform_parts_and_their_workers_send_exactly_the_plans_arrivals(
            seq in sequence(),
            workers in 1usize..4,
            start in 0.0f64..300.0,
            stages in proptest::collection::vec((0.0f64..300.0, 1u64..1500), 1..4),
            constant in any::<bool>(),
        ) {
            let plan = if constant {
                ArrivalPlan::constant(start.max(1.0)).unwrap()
            } else {
                let st: Vec<_> = stages.iter().map(|(r, ms)| Stage::new(*r, Duration::from_millis(*ms))).collect();
                let Ok(p) = ArrivalPlan::stages(start, st) else { return Ok(()) };
                p
            };
            let end = plan.length().unwrap_or(Duration::from_secs(2));
            let whole: Vec<Duration> = plan.stripe(0, 1).take_while(|t| *t < end).collect();
            let mut union: Vec<Duration> = Vec::with_capacity(whole.len());
            for p in parts_of(&seq) {
                for k in 0..workers {
                    let mine: Vec<Duration> = plan.part_stripe(&p, k, workers).take_while(|t| *t < end).collect();
                    prop_assert!(mine.windows(2).all(|w| w[0] <= w[1]));
                    union.extend(mine);
                }
            }
            union.sort();
            prop_assert_eq!(union, whole);
        }
    }
}
