//! The options of `smps run` that make it one part of a distributed run: `--segment`,
//! `--segment-sequence` and `--start-at` (see `smps_load::ExecutionPart`).

use std::time::SystemTime;

use smps_load::{EngineBuilder, ExecutionPart, ExecutionSegment, SegmentSequence};

/// `--segment`, `--segment-sequence`, `--start-at`.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct PartArgs {
    /// Run one part of the load: `i/N` for part i (from 0) of N equal parts, or `from:to`
    /// (`1/4:1/2`) of the segment sequence. The parts of a sequence, each run once (on as
    /// many machines), send the config's load exactly; merge their `--portable` results with
    /// `smps merge`, which checks that every segment is there once.
    #[arg(long, value_name = "i/N|FROM:TO")]
    pub(crate) segment: Option<String>,
    /// The cut points all parts share, comma-separated (`0,1/4,1/2,1`); default: N equal parts
    /// for `i/N`, or `0,FROM,TO,1` for `FROM:TO`.
    #[arg(long, value_name = "CUTS", requires = "segment")]
    pub(crate) segment_sequence: Option<String>,
    /// Start the measured run at this instant (RFC 3339, `2026-12-06T10:00:00Z`), after
    /// connecting, so that parts on several machines start together. A part that cannot
    /// start by then starts at once and says how late in its result
    /// (`smps-load/start-late-ms`).
    #[arg(long, value_name = "RFC3339")]
    pub(crate) start_at: Option<String>,
}

impl PartArgs {
    /// The part asked for, if any.
    pub(crate) fn part(&self) -> anyhow::Result<Option<ExecutionPart>> {
        let Some(text) = &self.segment else {
            return Ok(None);
        };
        let segment = ExecutionSegment::parse(text)
            .map_err(|e| anyhow::anyhow!("--segment {text}: {}", reason(&e)))?;
        let sequence = match &self.segment_sequence {
            Some(cuts) => SegmentSequence::parse(cuts)
                .map_err(|e| anyhow::anyhow!("--segment-sequence {cuts}: {}", reason(&e)))?,
            None => match text.split_once(':') {
                // `i/N`: N equal parts (the parse above checked N).
                None => text
                    .split_once('/')
                    .and_then(|(_, n)| n.trim().parse::<u64>().ok())
                    .map(SegmentSequence::equal)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--segment {text}: {}", reason(&e)))?
                    .unwrap_or_else(|| SegmentSequence::around(&segment)),
                Some(_) => SegmentSequence::around(&segment),
            },
        };
        let part = ExecutionPart::new(segment, sequence)
            .map_err(|e| anyhow::anyhow!("--segment {text}: {}", reason(&e)))?;
        Ok(Some(part))
    }

    /// The start instant asked for, if any.
    pub(crate) fn start_at(&self) -> anyhow::Result<Option<SystemTime>> {
        let Some(text) = &self.start_at else {
            return Ok(None);
        };
        let ts = smps_model::Timestamp::parse(text).map_err(|e| {
            anyhow::anyhow!(
                "--start-at {text}: not an RFC 3339 instant such as 2026-12-06T10:00:00Z ({e})"
            )
        })?;
        let nanos = ts.unix_nanos();
        let at = u64::try_from(nanos)
            .ok()
            .map(|n| SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(n))
            .ok_or_else(|| anyhow::anyhow!("--start-at {text}: before 1970"))?;
        Ok(Some(at))
    }

    /// Applies the part and the start instant to a builder.
    pub(crate) fn apply(&self, mut b: EngineBuilder) -> anyhow::Result<EngineBuilder> {
        if let Some(part) = self.part()? {
            b = b.segment(part);
        }
        if let Some(at) = self.start_at()? {
            b = b.start_at(at);
        }
        Ok(b)
    }
}

/// The reason of a setting error, without the library's field name (the flag is named).
fn reason(e: &smps_load::Error) -> String {
    match e {
        smps_load::Error::InvalidSetting { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}
