//! The portable form of a report: serializable, lossless (HdrHistogram V2, deflate, base64),
//! mergeable.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use super::phase::union_of_spans;
use super::{
    DEFAULT_DISPATCH_LAG_LIMIT, GENERATOR, LatencyBasis, PartRecord, PhaseReport, Report, RunId,
    RunSettings, Snapshot,
};
use crate::ErrorKind;
use crate::error::{Error, Result};
use crate::recorder::new_histogram;
use crate::transport::{HttpVersion, Protocol};

impl Report {
    /// The lossless, serializable form of this report (histograms as HdrHistogram V2 with
    /// deflate, base64).
    ///
    /// # Errors
    ///
    /// [`Error::EncodeHistogram`] if a histogram cannot be serialized.
    pub fn to_portable(&self) -> Result<PortableReport> {
        Ok(PortableReport {
            format: PORTABLE_FORMAT.into(),
            generator: GENERATOR.into(),
            latency_basis: self.settings.latency_basis,
            load_model: self.settings.load_model.clone(),
            endpoints: self.settings.endpoints.clone(),
            connections: self.settings.connections,
            requested_rps: self.settings.requested_rps,
            protocol: self.settings.protocol.name().into(),
            labels: self.labels.clone(),
            start_unix_ns: unix_ns(self.start_time),
            end_unix_ns: unix_ns(self.end_time),
            measured: PortablePhase::encode(&self.measured)?,
            warmup: self
                .warmup
                .as_ref()
                .map(PortablePhase::encode)
                .transpose()?,
            intervals: self.intervals.clone(),
            run_ids: self.run_ids.clone(),
            parts: self.parts.clone(),
        })
    }

    /// Rebuilds a report from its portable form (settings not carried by the portable form
    /// are left at neutral values; the interval series is kept). A file written before run
    /// ids existed gets the id [`PortableReport::runs`] derives.
    ///
    /// # Errors
    ///
    /// [`Error::DecodeHistogram`] for a histogram that is not valid base64 HdrHistogram V2;
    /// [`Error::InvalidPortable`] for a run or phase that ends before it starts, measured spans
    /// outside their phase, or a run id given twice; [`Error::Merge`] for an unknown `format`.
    pub fn from_portable(p: &PortableReport) -> Result<Report> {
        if p.format != PORTABLE_FORMAT {
            return Err(Error::Merge {
                reason: format!("unknown portable format `{}`", p.format),
            });
        }
        check_window("", p.start_unix_ns, p.end_unix_ns)?;
        let run_ids = p.runs();
        if let Some(id) = run_ids
            .iter()
            .enumerate()
            .find_map(|(i, id)| run_ids[..i].contains(id).then_some(id))
        {
            return Err(Error::InvalidPortable {
                field: "run_ids".into(),
                reason: format!("lists run `{id}` twice"),
            });
        }
        Ok(Report {
            start_time: from_unix_ns(p.start_unix_ns),
            end_time: from_unix_ns(p.end_unix_ns),
            measured: p.measured.decode("measured.")?,
            warmup: p.warmup.as_ref().map(|w| w.decode("warmup.")).transpose()?,
            intervals: p.intervals.clone(),
            settings: RunSettings {
                endpoints: p.endpoints.clone(),
                connections: p.connections,
                workers: 0,
                requested_rps: p.requested_rps,
                duration: None,
                max_requests: None,
                warmup: Duration::ZERO,
                http_version: HttpVersion::default(),
                protocol: Protocol::from_scheme(&p.protocol).unwrap_or_default(),
                streams_per_connection: 1,
                latency_basis: p.latency_basis,
                load_model: p.load_model.clone(),
                dispatch_lag_limit: DEFAULT_DISPATCH_LAG_LIMIT,
            },
            labels: p.labels.clone(),
            error_reasons: BTreeMap::new(),
            run_ids,
            parts: p.parts.clone(),
        })
    }
}

/// Refuses a window that ends before it starts.
fn check_window(prefix: &str, start_unix_ns: u64, end_unix_ns: u64) -> Result<()> {
    if end_unix_ns < start_unix_ns {
        return Err(Error::InvalidPortable {
            field: format!("{prefix}end_unix_ns"),
            reason: format!(
                "({end_unix_ns}) is before `{prefix}start_unix_ns` ({start_unix_ns}): the part ends before it starts"
            ),
        });
    }
    Ok(())
}

pub(super) const PORTABLE_FORMAT: &str = "smps-load/v1";

pub(super) fn unix_ns(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos().min(u128::from(u64::MAX)) as u64)
        .unwrap_or(0)
}

pub(super) fn from_unix_ns(ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(ns)
}

/// A lossless, serializable, mergeable report (serde: JSON, YAML, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortableReport {
    /// Format tag, `smps-load/v1`.
    pub format: String,
    /// Generator and version.
    pub generator: String,
    /// What latency is measured from.
    pub latency_basis: LatencyBasis,
    /// Load model description.
    pub load_model: String,
    /// Target URLs.
    pub endpoints: Vec<String>,
    /// Connections.
    pub connections: usize,
    /// Planned mean rate (open loop).
    pub requested_rps: Option<f64>,
    /// The protocol spoken (`http`, `tcp`, `udp`, `grpc`); files written before protocols
    /// existed read as `http`.
    #[serde(default = "http_name", skip_serializing_if = "is_http")]
    pub protocol: String,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// Run start, nanoseconds since the Unix epoch.
    pub start_unix_ns: u64,
    /// Run end, nanoseconds since the Unix epoch.
    pub end_unix_ns: u64,
    /// Measured phase.
    pub measured: PortablePhase,
    /// Warm-up phase.
    pub warmup: Option<PortablePhase>,
    /// The per-interval series of the run (one entry a second by default; empty in files
    /// written before it was added). Merging concatenates the parts' series.
    #[serde(default)]
    pub intervals: Vec<Snapshot>,
    /// The ids of the runs this report holds (one per run merged into it; empty in files
    /// written before run ids were added, see [`PortableReport::runs`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run_ids: Vec<RunId>,
    /// The parts of a distributed run this report holds (segment, planned start and
    /// lateness); absent for plain runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartRecord>,
}

impl PortableReport {
    /// The runs this report holds: [`PortableReport::run_ids`], or for a file written before
    /// run ids existed one id derived from its start and end time (`unidentified-<start>-<end>`,
    /// nanoseconds in hex), so that the same old file given twice is still recognised.
    pub fn runs(&self) -> Vec<RunId> {
        if self.run_ids.is_empty() {
            vec![RunId(format!(
                "unidentified-{:x}-{:x}",
                self.start_unix_ns, self.end_unix_ns
            ))]
        } else {
            self.run_ids.clone()
        }
    }
}

/// One phase of a [`PortableReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortablePhase {
    /// Phase start, ns since the Unix epoch.
    pub start_unix_ns: u64,
    /// Phase end, ns since the Unix epoch.
    pub end_unix_ns: u64,
    /// Latency histogram (µs), HdrHistogram V2 + deflate, base64.
    pub latency_hdr: String,
    /// Service-time histogram (µs), same encoding.
    pub service_time_hdr: String,
    /// Dispatch-lag histogram (µs), same encoding.
    pub dispatch_lag_hdr: String,
    /// Responses by status code.
    pub status_codes: BTreeMap<u16, u64>,
    /// Failures by [`ErrorKind::name`].
    pub errors: BTreeMap<String, u64>,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Dropped requests.
    pub dropped: u64,
    /// Abandoned requests.
    pub abandoned: u64,
    /// Queued requests.
    pub queued: u64,
    /// Connections opened.
    pub connections_opened: u64,
    /// Samples clamped to the histogram range.
    pub clamped: u64,
    /// The disjoint spans `[start, end]` (ns since the Unix epoch) during which the phase
    /// measured, when there are several (a merged result); absent means the one span
    /// `[start_unix_ns, end_unix_ns]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spans_unix_ns: Vec<[u64; 2]>,
}

fn encode_hist(h: &Histogram<u64>, metric: &'static str) -> Result<String> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .map_err(|e| Error::EncodeHistogram {
            metric,
            source: format!("{e:?}").into(),
        })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(buf))
}

fn decode_hist(text: &str, metric: &'static str) -> Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| Error::DecodeHistogram {
            metric,
            source: Box::new(e),
        })?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| Error::DecodeHistogram {
            metric,
            source: format!("{e:?}").into(),
        })?;
    // Re-home into the standard bounds so merged histograms always add.
    let mut out = new_histogram();
    out.add(&h).map_err(|e| Error::DecodeHistogram {
        metric,
        source: format!("{e:?}").into(),
    })?;
    Ok(out)
}

impl PortablePhase {
    fn encode(p: &PhaseReport) -> Result<Self> {
        Ok(PortablePhase {
            start_unix_ns: unix_ns(p.start),
            end_unix_ns: unix_ns(p.end),
            latency_hdr: encode_hist(&p.latency, "latency")?,
            service_time_hdr: encode_hist(&p.service_time, "service_time")?,
            dispatch_lag_hdr: encode_hist(&p.dispatch_lag, "dispatch_lag")?,
            status_codes: p.status_codes.clone(),
            errors: p
                .errors
                .iter()
                .map(|(k, v)| (k.name().to_string(), *v))
                .collect(),
            bytes_in: p.bytes_in,
            bytes_out: p.bytes_out,
            dropped: p.dropped,
            abandoned: p.abandoned,
            queued: p.queued,
            connections_opened: p.connections_opened,
            clamped: p.clamped,
            spans_unix_ns: if p.spans.len() > 1 {
                p.spans
                    .iter()
                    .map(|(start, end)| [unix_ns(*start), unix_ns(*end)])
                    .collect()
            } else {
                Vec::new()
            },
        })
    }

    /// Decodes the phase, checking its window and spans; `prefix` (`measured.` or `warmup.`)
    /// names the fields in errors.
    fn decode(&self, prefix: &str) -> Result<PhaseReport> {
        check_window(prefix, self.start_unix_ns, self.end_unix_ns)?;
        let spans = if self.spans_unix_ns.is_empty() {
            vec![(self.start_unix_ns, self.end_unix_ns)]
        } else {
            self.spans_unix_ns.iter().map(|[s, e]| (*s, *e)).collect()
        };
        for (i, (start, end)) in spans.iter().enumerate() {
            let reason = if end < start {
                "ends before it starts"
            } else if *start < self.start_unix_ns || *end > self.end_unix_ns {
                "is outside the phase's start_unix_ns..end_unix_ns"
            } else {
                continue;
            };
            return Err(Error::InvalidPortable {
                field: format!("{prefix}spans_unix_ns[{i}]"),
                reason: reason.into(),
            });
        }
        let spans = union_of_spans(
            spans
                .into_iter()
                .map(|(start, end)| (from_unix_ns(start), from_unix_ns(end))),
        );
        let mut errors = BTreeMap::new();
        for (k, v) in &self.errors {
            let kind = ErrorKind::from_name(k).unwrap_or(ErrorKind::Other);
            *errors.entry(kind).or_default() += v;
        }
        Ok(PhaseReport {
            start: from_unix_ns(self.start_unix_ns),
            end: from_unix_ns(self.end_unix_ns),
            latency: decode_hist(&self.latency_hdr, "latency")?,
            service_time: decode_hist(&self.service_time_hdr, "service_time")?,
            dispatch_lag: decode_hist(&self.dispatch_lag_hdr, "dispatch_lag")?,
            status_codes: self.status_codes.clone(),
            errors,
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
            dropped: self.dropped,
            abandoned: self.abandoned,
            queued: self.queued,
            connections_opened: self.connections_opened,
            clamped: self.clamped,
            spans,
        })
    }
}

fn http_name() -> String {
    Protocol::Http.name().into()
}

fn is_http(p: &str) -> bool {
    p == Protocol::Http.name()
}
