//! Merging reports losslessly, and the run ids that keep a run from being counted twice.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{PortableReport, Report};
use crate::error::{Error, Result};

impl Report {
    /// Merges another report into this one: measured and warm-up totals are added
    /// losslessly (histograms and counters) and the time windows become their union, so
    /// merging the parts of a run gives the same totals as recording everything at once.
    /// Rates are computed over the union of the parts' measured spans
    /// ([`PhaseReport::elapsed`](crate::PhaseReport::elapsed)): a gap between sequential runs is not counted, and concurrent
    /// parts do not double the time. The other report's intervals are appended after this
    /// one's (they are summaries and are not combined), settings that add up (connections,
    /// workers, planned rate) are summed, and the run ids are joined.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateRun`] if a run of `other` is already in this report (merging it would
    /// count its requests twice); [`Error::SegmentCoverage`] if both hold parts of a
    /// distributed run whose segments overlap, or that belong to different sequences or start
    /// instants (gaps are allowed here, see [`Report::check_segments`]); [`Error::CounterOverflow`] if a counter would overflow;
    /// [`Error::Merge`] if the latency bases or the protocols differ or the histograms are incompatible. On
    /// error `self` is unchanged.
    pub fn merge(&mut self, other: &Report) -> Result<()> {
        if let Some(id) = other.run_ids.iter().find(|id| self.run_ids.contains(id)) {
            return Err(Error::DuplicateRun {
                run_id: id.to_string(),
            });
        }
        if self.settings.latency_basis != other.settings.latency_basis {
            return Err(Error::Merge {
                reason: format!(
                    "latency bases differ ({} vs {})",
                    self.settings.latency_basis.name(),
                    other.settings.latency_basis.name()
                ),
            });
        }
        if self.settings.protocol != other.settings.protocol {
            // Latencies of different protocols measure different things (an HTTP exchange,
            // an echo round trip, a gRPC call): one histogram of both would mean neither.
            return Err(Error::Merge {
                reason: format!(
                    "protocols differ ({} vs {})",
                    self.settings.protocol.name(),
                    other.settings.protocol.name()
                ),
            });
        }
        let overflow = |counter: &str| Error::CounterOverflow {
            counter: counter.into(),
        };
        let connections = self
            .settings
            .connections
            .checked_add(other.settings.connections)
            .ok_or_else(|| overflow("connections"))?;
        let workers = self
            .settings
            .workers
            .checked_add(other.settings.workers)
            .ok_or_else(|| overflow("workers"))?;
        super::parts::check_mergeable(self, other)?;
        let measured = self.measured.merged("measured.", &other.measured)?;
        let warmup = match (&self.warmup, &other.warmup) {
            (Some(a), Some(b)) => Some(a.merged("warmup.", b)?),
            (a, b) => a.as_ref().or(b.as_ref()).cloned(),
        };
        self.measured = measured;
        self.warmup = warmup;
        self.start_time = self.start_time.min(other.start_time);
        self.end_time = self.end_time.max(other.end_time);
        self.settings.connections = connections;
        self.settings.workers = workers;
        self.settings.requested_rps =
            match (self.settings.requested_rps, other.settings.requested_rps) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
        self.intervals.extend(other.intervals.iter().cloned());
        for (k, v) in &other.labels {
            self.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, r) in &other.error_reasons {
            self.error_reasons.entry(*k).or_insert_with(|| r.clone());
        }
        self.run_ids.extend(other.run_ids.iter().cloned());
        self.parts.extend(other.parts.iter().cloned());
        Ok(())
    }
}

/// Merges portable reports (for example one per node or per client) into one report.
///
/// When the parts are parts of a distributed run (they carry execution segments), the merged
/// report must cover their segment sequence exactly once ([`Report::check_segments`]).
///
/// # Errors
///
/// [`Error::Merge`] if `parts` is empty; [`Error::SegmentCoverage`] naming the missing or
/// repeated segments; otherwise [`Error::MergePart`] naming the part that
/// could not be decoded ([`Report::from_portable`]) or merged ([`Report::merge`]: the same run
/// twice, a counter overflow, different latency bases), with that error as its source.
pub fn merge(parts: &[PortableReport]) -> Result<Report> {
    let (first, rest) = parts.split_first().ok_or_else(|| Error::Merge {
        reason: "nothing to merge".into(),
    })?;
    let in_part = |index: usize| {
        move |e: Error| Error::MergePart {
            index,
            source: Box::new(e),
        }
    };
    let mut r = Report::from_portable(first).map_err(in_part(0))?;
    for (i, p) in rest.iter().enumerate() {
        Report::from_portable(p)
            .and_then(|part| r.merge(&part))
            .map_err(in_part(i + 1))?;
    }
    r.check_segments()?;
    Ok(r)
}

/// The id of one run, made when the engine builds its [`Report`] and carried by its
/// [`PortableReport`], so that merging can refuse to count a run twice.
///
/// Ids are opaque strings; [`RunId::generate`] makes them from the wall-clock time, the
/// process id and a randomly keyed hash, so two runs practically never share one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub(super) String);

impl RunId {
    /// A new id: `<unix ns, hex>-<process id, hex>-<64-bit random-keyed hash, hex>`.
    ///
    /// ```
    /// let (a, b) = (smps_load::RunId::generate(), smps_load::RunId::generate());
    /// assert_ne!(a, b);
    /// ```
    #[must_use]
    pub fn generate() -> RunId {
        use std::hash::{BuildHasher, Hash, Hasher};
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let pid = std::process::id();
        // Each RandomState has fresh keys (random per thread, then incremented), so two ids made
        // in the same nanosecond by the same process still differ.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        now.hash(&mut h);
        pid.hash(&mut h);
        std::thread::current().id().hash(&mut h);
        RunId(format!("{now:x}-{pid:x}-{:016x}", h.finish()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for RunId {
    fn from(id: String) -> Self {
        RunId(id)
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
