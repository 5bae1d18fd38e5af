//! Per-worker recording: HdrHistograms and counters of fixed size, so memory does not grow
//! with the number of requests.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::ErrorKind;

/// Lowest value a histogram tells apart: 1 µs (values are recorded in microseconds).
pub(crate) const HIST_LOW_US: u64 = 1;
/// Highest value: one hour, in microseconds. Larger values are clamped and counted.
pub(crate) const HIST_HIGH_US: u64 = 3_600_000_000;
/// Significant figures kept by every histogram.
pub(crate) const HIST_SIGFIG: u8 = 3;

pub(crate) fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that `new_with_bounds` accepts (low >= 1, high >= 2 * low,
    // sigfig <= 5), so this cannot fail whatever the input; a unit test checks it.
    Histogram::new_with_bounds(HIST_LOW_US, HIST_HIGH_US, HIST_SIGFIG)
        .expect("constant histogram bounds are valid")
}

const STATUS_SLOTS: usize = 600;

/// Counters and histograms of one phase (or one interval).
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    /// Intended send → last byte (the corrected latency), µs.
    pub(crate) latency: Histogram<u64>,
    /// Actual send → last byte, µs.
    pub(crate) service: Histogram<u64>,
    /// Intended send → actual send (the generator's own delay, queueing included), µs.
    pub(crate) lag: Histogram<u64>,
    pub(crate) status: Box<[u64; STATUS_SLOTS]>,
    pub(crate) status_other: u64,
    pub(crate) errors: [u64; ErrorKind::ALL.len()],
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
    pub(crate) dropped: u64,
    pub(crate) abandoned: u64,
    pub(crate) queued: u64,
    pub(crate) connections_opened: u64,
    pub(crate) clamped: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            latency: new_histogram(),
            service: new_histogram(),
            lag: new_histogram(),
            status: Box::new([0; STATUS_SLOTS]),
            status_other: 0,
            errors: [0; ErrorKind::ALL.len()],
            bytes_in: 0,
            bytes_out: 0,
            dropped: 0,
            abandoned: 0,
            queued: 0,
            connections_opened: 0,
            clamped: 0,
        }
    }
}

fn record(h: &mut Histogram<u64>, us: u64, clamped: &mut u64) {
    let v = us.max(HIST_LOW_US);
    if v > HIST_HIGH_US {
        *clamped += 1;
    }
    h.saturating_record(v.min(HIST_HIGH_US));
}

impl Stats {
    /// Records a response with its three durations (µs).
    pub(crate) fn record_response(
        &mut self,
        status: u16,
        latency_us: u64,
        service_us: u64,
        lag_us: u64,
    ) {
        record(&mut self.latency, latency_us, &mut self.clamped);
        record(&mut self.service, service_us, &mut self.clamped);
        record(&mut self.lag, lag_us, &mut self.clamped);
        match self.status.get_mut(status as usize) {
            Some(c) => *c += 1,
            None => self.status_other += 1,
        }
    }

    pub(crate) fn record_error(&mut self, kind: ErrorKind) {
        self.errors[kind.index()] += 1;
    }

    /// Responses received (any status).
    pub(crate) fn responses(&self) -> u64 {
        self.status.iter().sum::<u64>() + self.status_other
    }

    pub(crate) fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Responses with a 2xx or 3xx status.
    #[cfg(test)]
    pub(crate) fn ok(&self) -> u64 {
        self.status[200..400].iter().sum()
    }

    pub(crate) fn status_map(&self) -> BTreeMap<u16, u64> {
        let mut m: BTreeMap<u16, u64> = self
            .status
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| (s as u16, *n))
            .collect();
        if self.status_other > 0 {
            m.insert(0, self.status_other);
        }
        m
    }

    pub(crate) fn error_map(&self) -> BTreeMap<ErrorKind, u64> {
        ErrorKind::ALL
            .iter()
            .zip(self.errors.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (*k, *n))
            .collect()
    }

    /// Adds `other` into `self` (lossless).
    pub(crate) fn add(&mut self, other: &Stats) {
        // Same bounds everywhere, so `add` cannot fail; a failure would only lose that
        // histogram's samples, never panic.
        let _ = self.latency.add(&other.latency);
        let _ = self.service.add(&other.service);
        let _ = self.lag.add(&other.lag);
        for (a, b) in self.status.iter_mut().zip(other.status.iter()) {
            *a += b;
        }
        self.status_other += other.status_other;
        for (a, b) in self.errors.iter_mut().zip(other.errors.iter()) {
            *a += b;
        }
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.dropped += other.dropped;
        self.abandoned += other.abandoned;
        self.queued += other.queued;
        self.connections_opened += other.connections_opened;
        self.clamped += other.clamped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_add_is_the_sum_of_both_recordings() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        a.record_response(200, 100, 50, 50);
        b.record_response(503, 7_200_000_000, 10, 1);
        b.record_error(ErrorKind::ConnectRefused);
        a.add(&b);
        assert_eq!(a.responses(), 2);
        assert_eq!(a.ok(), 1);
        assert_eq!(a.clamped, 1);
        assert_eq!(a.latency.len(), 2);
        assert_eq!(a.error_map().get(&ErrorKind::ConnectRefused), Some(&1));
        assert_eq!(a.status_map().get(&503), Some(&1));
    }
}
