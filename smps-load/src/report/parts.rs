//! The parts of a distributed run in a report: which segment each part ran, when it was
//! meant to start and how late it started, and the check that merged parts cover their
//! segment sequence exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Report, RunId};
use crate::error::{Error, Result};
use crate::segment::{ExecutionSegment, Fraction, SegmentSequence};

/// Label key: the segment(s) of the sequence a result holds (`1/4:1/2`; after merging every
/// part's segment in order, comma-separated).
pub const LABEL_SEGMENT: &str = "smps-load/segment";
/// Label key: the segment sequence the parts of a distributed run share (`0,1/4,1/2,3/4,1`).
pub const LABEL_SEGMENT_SEQUENCE: &str = "smps-load/segment-sequence";
/// Label key: the run id(s) the result holds, comma-separated.
pub const LABEL_RUN_ID: &str = "smps-load/run-id";
/// Label key: how late the latest part started after its planned start instant, in
/// milliseconds (only for runs given a start instant).
pub const LABEL_START_LATE_MS: &str = "smps-load/start-late-ms";

/// One part of a distributed run, as recorded in its result: the run's id, its segment of the
/// sequence (k6 notation, `1/4:1/2`), and its synchronised start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PartRecord {
    /// The run id of the part (as in [`Report::run_ids`]).
    pub run_id: RunId,
    /// The segment the part ran, `from:to`; `None` for a run of the whole load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The segment sequence the part belongs to, comma-separated cut points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    /// The instant the part was told to start at (ns since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at_unix_ns: Option<u64>,
    /// How much later than `start_at_unix_ns` the part started, in nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_late_ns: Option<u64>,
}

impl PartRecord {
    /// How late the part started after its planned instant.
    pub fn start_late(&self) -> Option<Duration> {
        self.start_late_ns.map(Duration::from_nanos)
    }

    /// The segment and its sequence, parsed; `None` for a run of the whole load.
    fn parsed(&self) -> Result<Option<(ExecutionSegment, SegmentSequence)>> {
        let (Some(seg), Some(seq)) = (&self.segment, &self.sequence) else {
            return Ok(None);
        };
        let invalid = |field: &str, e: Error| Error::InvalidPortable {
            field: format!("parts[{}].{field}", self.run_id),
            reason: e.reason(),
        };
        Ok(Some((
            ExecutionSegment::parse(seg).map_err(|e| invalid("segment", e))?,
            SegmentSequence::parse(seq).map_err(|e| invalid("sequence", e))?,
        )))
    }
}

fn coverage(reason: String) -> Error {
    Error::SegmentCoverage { reason }
}

/// The run ids of `r` that ran the whole load (no segment).
fn whole_runs(r: &Report) -> Result<Vec<&RunId>> {
    let mut out = Vec::new();
    for id in &r.run_ids {
        let part = r.parts.iter().find(|p| p.run_id == *id);
        if part
            .map(PartRecord::parsed)
            .transpose()?
            .flatten()
            .is_none()
        {
            out.push(id);
        }
    }
    Ok(out)
}

/// The first segmented part of `r`, if any.
fn first_segment(r: &Report) -> Result<Option<(&PartRecord, ExecutionSegment)>> {
    for p in &r.parts {
        if let Some((s, _)) = p.parsed()? {
            return Ok(Some((p, s)));
        }
    }
    Ok(None)
}

/// Checks that the runs of `a` and `b` may be merged as parts of one distributed run: the
/// same sequence and start instant, no segment in both, and no run of the whole load beside
/// a part.
pub(super) fn check_mergeable(a: &Report, b: &Report) -> Result<()> {
    for (x, y) in [(a, b), (b, a)] {
        if let (Some((part, seg)), Some(whole)) = (first_segment(x)?, whole_runs(y)?.first()) {
            return Err(coverage(format!(
                "run `{whole}` ran the whole load, which overlaps segment {seg} (run `{}`)",
                part.run_id
            )));
        }
    }
    for x in &a.parts {
        let px = x.parsed()?;
        for y in &b.parts {
            if let (Some((sx, qx)), Some((sy, qy))) = (&px, y.parsed()?) {
                if *qx != qy {
                    return Err(coverage(format!(
                        "run `{}` is a part of the sequence {qx} and run `{}` of {qy}; parts of one distributed run share one sequence",
                        x.run_id, y.run_id
                    )));
                }
                if sx.from() < sy.to() && sy.from() < sx.to() {
                    return Err(coverage(format!(
                        "segment {sx} (run `{}`) overlaps segment {sy} (run `{}`): that load would be counted twice",
                        x.run_id, y.run_id
                    )));
                }
                // Whole runs given start instants may be merged as sequential runs; the
                // parts of one distributed run start together.
                if let (Some(s), Some(t)) = (x.start_at_unix_ns, y.start_at_unix_ns) {
                    if s != t {
                        return Err(coverage(format!(
                            "run `{}` was told to start at {s} ns and run `{}` at {t} ns (since the Unix epoch); parts of one distributed run share one start instant",
                            x.run_id, y.run_id
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

impl Report {
    /// How late the latest part started after the instant it was told to start at (`None`
    /// when no part was given one).
    pub fn start_late(&self) -> Option<Duration> {
        self.parts.iter().filter_map(PartRecord::start_late).max()
    }

    /// The segments this report holds, in order (empty for runs of the whole load).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPortable`] for a part whose segment or sequence does not parse.
    pub fn segments(&self) -> Result<Vec<ExecutionSegment>> {
        let mut out = Vec::new();
        for p in &self.parts {
            if let Some((s, _)) = p.parsed()? {
                out.push(s);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Checks that the parts of a distributed run in this report cover their segment
    /// sequence exactly once. A report without segments (a run of the whole load) passes.
    ///
    /// # Errors
    ///
    /// [`Error::SegmentCoverage`] naming the missing segments (gaps) and the segments given
    /// more than once (overlaps); [`Error::InvalidPortable`] for a segment that does not parse.
    pub fn check_segments(&self) -> Result<()> {
        let mut sequence: Option<SegmentSequence> = None;
        let mut held: BTreeMap<ExecutionSegment, Vec<&RunId>> = BTreeMap::new();
        for p in &self.parts {
            let Some((seg, seq)) = p.parsed()? else {
                continue;
            };
            match &sequence {
                Some(s) if *s != seq => {
                    return Err(coverage(format!(
                        "the parts belong to different sequences ({s} and {seq})"
                    )));
                }
                Some(_) => {}
                None => sequence = Some(seq),
            }
            held.entry(seg).or_default().push(&p.run_id);
        }
        let Some(sequence) = sequence else {
            return Ok(());
        };
        let mut problems = Vec::new();
        let mut at = Fraction::ZERO;
        let mut prev: Option<ExecutionSegment> = None;
        for (seg, runs) in &held {
            if runs.len() > 1 {
                problems.push(format!(
                    "segment {seg} is given {} times (runs {})",
                    runs.len(),
                    runs.iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if seg.from() > at {
                problems.push(format!("segment {at}:{} is missing", seg.from()));
            } else if let Some(p) = prev.filter(|_| seg.from() < at) {
                problems.push(format!("segment {seg} overlaps segment {p}"));
            }
            at = at.max(seg.to());
            prev = Some(*seg);
        }
        if at < Fraction::ONE {
            problems.push(format!("segment {at}:1 is missing"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(coverage(format!(
                "{} (sequence {sequence})",
                problems.join("; ")
            )))
        }
    }

    /// The labels that describe the parts (none for a plain run): [`LABEL_SEGMENT`],
    /// [`LABEL_SEGMENT_SEQUENCE`], [`LABEL_RUN_ID`], [`LABEL_START_LATE_MS`].
    pub(super) fn part_labels(&self) -> BTreeMap<String, String> {
        let mut l = BTreeMap::new();
        if self.parts.is_empty() {
            return l;
        }
        let ids: Vec<&str> = self.run_ids.iter().map(RunId::as_str).collect();
        if !ids.is_empty() {
            l.insert(LABEL_RUN_ID.into(), ids.join(","));
        }
        let mut segs: Vec<(String, String)> = self
            .parts
            .iter()
            .filter_map(|p| Some((p.segment.clone()?, p.sequence.clone()?)))
            .collect();
        segs.sort();
        if let Some((_, seq)) = segs.first() {
            l.insert(LABEL_SEGMENT_SEQUENCE.into(), seq.clone());
            let names: Vec<String> = match self.segments() {
                Ok(s) => s.iter().map(ToString::to_string).collect(),
                Err(_) => segs.iter().map(|(s, _)| s.clone()).collect(),
            };
            l.insert(LABEL_SEGMENT.into(), names.join(","));
        }
        if let Some(late) = self.start_late() {
            l.insert(
                LABEL_START_LATE_MS.into(),
                format!("{:.3}", late.as_secs_f64() * 1000.0),
            );
        }
        l
    }
}
