//! Unit tests of the report types, projections, merging and the portable form.

use std::time::UNIX_EPOCH;

use base64::Engine as _;

use super::*;
use crate::error::Error;
use crate::recorder::Stats;
use proptest::prelude::*;

fn report_of(stats: &Stats, start_s: u64, end_s: u64) -> Report {
    let t = |s: u64| UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s);
    Report {
        start_time: t(start_s),
        end_time: t(end_s),
        measured: PhaseReport::from_stats(stats, t(start_s), t(end_s)),
        warmup: None,
        intervals: Vec::new(),
        settings: RunSettings {
            endpoints: vec!["http://127.0.0.1/".into()],
            connections: 1,
            workers: 1,
            requested_rps: Some(10.0),
            duration: None,
            max_requests: None,
            warmup: Duration::ZERO,
            http_version: HttpVersion::Http1,
            protocol: crate::transport::Protocol::Http,
            streams_per_connection: 1,
            latency_basis: LatencyBasis::IntendedSend,
            load_model: "open".into(),
            dispatch_lag_limit: DEFAULT_DISPATCH_LAG_LIMIT,
        },
        labels: BTreeMap::new(),
        error_reasons: BTreeMap::new(),
        run_ids: vec![RunId::generate()],
        parts: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn merging_the_encoded_parts_of_a_run_equals_one_recording_of_everything(
        samples in proptest::collection::vec(
            (1u64..7_200_000_000, 1u64..1_000_000, prop_oneof![Just(200u16), Just(503u16), Just(0u16)]),
            0..400,
        ),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        // One recording of everything.
        let mut whole = Stats::default();
        for (lat, svc, status) in &samples {
            if *status == 0 {
                whole.record_error(ErrorKind::ConnectionReset);
            } else {
                whole.record_response(*status, *lat, *svc, lat.saturating_sub(*svc));
            }
        }
        // The same samples split into consecutive parts, each its own report, encoded.
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(samples.len() + 1)).collect();
        bounds.push(0);
        bounds.push(samples.len());
        bounds.sort_unstable();
        let mut parts = Vec::new();
        for (i, w) in bounds.windows(2).enumerate() {
            let mut s = Stats::default();
            for (lat, svc, status) in &samples[w[0]..w[1]] {
                if *status == 0 {
                    s.record_error(ErrorKind::ConnectionReset);
                } else {
                    s.record_response(*status, *lat, *svc, lat.saturating_sub(*svc));
                }
            }
            let r = report_of(&s, i as u64, i as u64 + 1);
            parts.push(r.to_portable().unwrap());
        }
        let merged = merge(&parts).unwrap();
        let expected = report_of(&whole, 0, (bounds.len() - 1) as u64);
        prop_assert_eq!(&merged.measured.latency, &expected.measured.latency);
        prop_assert_eq!(&merged.measured.service_time, &expected.measured.service_time);
        prop_assert_eq!(&merged.measured.dispatch_lag, &expected.measured.dispatch_lag);
        prop_assert_eq!(&merged.measured.status_codes, &expected.measured.status_codes);
        prop_assert_eq!(&merged.measured.errors, &expected.measured.errors);
        prop_assert_eq!(merged.measured.clamped, expected.measured.clamped);
        prop_assert_eq!(merged.measured.start, expected.measured.start);
        prop_assert_eq!(merged.measured.end, expected.measured.end);
        // And the projections agree with the single recording.
        prop_assert_eq!(merged.to_smp_result().latencies_ms, expected.to_smp_result().latencies_ms);
    }
}

fn stats_with(responses: u64) -> Stats {
    let mut s = Stats::default();
    for i in 0..responses {
        s.record_response(200, 1000 + i, 900, 100);
    }
    s
}

fn part(responses: u64, start_s: u64, end_s: u64) -> PortableReport {
    report_of(&stats_with(responses), start_s, end_s)
        .to_portable()
        .unwrap()
}

fn source_of(e: &Error, index: usize) -> &Error {
    match e {
        Error::MergePart { index: i, source } if *i == index => source,
        other => panic!("expected MergePart {{ index: {index} }}, got {other:?}"),
    }
}

#[test]
fn every_report_gets_its_own_run_id_and_the_portable_form_keeps_it() {
    let (a, b) = (part(1, 0, 1), part(1, 0, 1));
    assert_eq!(a.run_ids.len(), 1);
    assert_ne!(a.run_ids, b.run_ids);
    let json = serde_json::to_string(&a).unwrap();
    let back: PortableReport = serde_json::from_str(&json).unwrap();
    assert_eq!(Report::from_portable(&back).unwrap().run_ids, a.run_ids);
    let merged = merge(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(merged.run_ids, [a.run_ids[0].clone(), b.run_ids[0].clone()]);
}

#[test]
fn merging_the_same_run_twice_is_refused_naming_the_part_and_the_run() {
    let (a, b) = (part(5, 0, 1), part(5, 1, 2));
    let e = merge(&[a.clone(), b.clone(), a.clone()]).unwrap_err();
    let id = a.run_ids[0].to_string();
    assert!(
        matches!(source_of(&e, 2), Error::DuplicateRun { run_id } if *run_id == id),
        "{e:?}"
    );
    // A merged result merged again with one of its parts is refused too, and left as it was.
    let mut merged = merge(&[a.clone(), b]).unwrap();
    let before = merged.clone();
    let e = merged
        .merge(&Report::from_portable(&a).unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::DuplicateRun { .. }), "{e:?}");
    assert_eq!(merged, before);
}

#[test]
fn files_written_before_run_ids_still_read_and_the_same_old_file_twice_is_refused() {
    let mut json = serde_json::to_value(part(3, 0, 1)).unwrap();
    json.as_object_mut().unwrap().remove("run_ids");
    assert!(json["measured"].get("spans_unix_ns").is_none());
    let old: PortableReport = serde_json::from_value(json).unwrap();
    assert!(old.run_ids.is_empty());
    let r = Report::from_portable(&old).unwrap();
    assert_eq!(r.measured.requests(), 3);
    assert_eq!(r.run_ids, old.runs());
    let e = merge(&[old.clone(), old]).unwrap_err();
    assert!(
        matches!(source_of(&e, 1), Error::DuplicateRun { .. }),
        "{e:?}"
    );
}

#[test]
fn counters_that_would_overflow_are_refused_and_the_report_is_unchanged() {
    let mut a = part(1, 0, 1);
    a.measured.bytes_in = u64::MAX - 1;
    let mut b = part(1, 1, 2);
    b.measured.bytes_in = 2;
    let e = merge(&[a.clone(), b.clone()]).unwrap_err();
    assert!(
        matches!(source_of(&e, 1), Error::CounterOverflow { counter } if counter == "measured.bytes_in"),
        "{e:?}"
    );
    let (mut c, mut d) = (part(0, 0, 1), part(0, 1, 2));
    c.measured.status_codes.insert(503, u64::MAX);
    d.measured.status_codes.insert(503, 1);
    let mut rc = Report::from_portable(&c).unwrap();
    let before = rc.clone();
    let e = rc.merge(&Report::from_portable(&d).unwrap()).unwrap_err();
    assert!(
        matches!(&e, Error::CounterOverflow { counter } if counter == "measured.status_codes[503]"),
        "{e:?}"
    );
    assert_eq!(rc, before);
    // Totals over several counters saturate instead of wrapping or panicking.
    c.measured.status_codes.insert(200, u64::MAX);
    assert_eq!(
        Report::from_portable(&c).unwrap().measured.requests(),
        u64::MAX
    );
}

#[test]
fn a_part_that_ends_before_it_starts_is_refused() {
    let mut p = part(1, 5, 6);
    p.measured.end_unix_ns = p.measured.start_unix_ns - 1;
    let e = Report::from_portable(&p).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidPortable { field, .. } if field == "measured.end_unix_ns"),
        "{e:?}"
    );
    let mut p = part(1, 5, 6);
    p.end_unix_ns = p.start_unix_ns - 1;
    let e = merge(&[part(1, 0, 1), p]).unwrap_err();
    assert!(
        matches!(source_of(&e, 1), Error::InvalidPortable { field, .. } if field == "end_unix_ns"),
        "{e:?}"
    );
    let mut p = part(1, 5, 7);
    p.measured.spans_unix_ns = vec![[p.measured.start_unix_ns, p.measured.end_unix_ns + 1]];
    let e = Report::from_portable(&p).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidPortable { field, .. } if field == "measured.spans_unix_ns[0]"),
        "{e:?}"
    );
}

#[test]
fn merged_rates_count_measured_time_once_and_not_the_gaps_between_runs() {
    // Two sequential 1 s runs, 10 s apart, 100 requests each: 200 requests in 2 s.
    let merged = merge(&[part(100, 0, 1), part(100, 11, 12)]).unwrap();
    assert_eq!(merged.measured.elapsed(), Duration::from_secs(2));
    assert_eq!(merged.measured.requests_per_second(), 100.0);
    assert_eq!(merged.to_smp_result().actual_qps, 100.0);
    // The window still spans both runs.
    assert_eq!(
        merged
            .measured
            .end
            .duration_since(merged.measured.start)
            .unwrap(),
        Duration::from_secs(12)
    );
    // Two concurrent parts over the same 2 s: 400 requests in 2 s, not in 4 s.
    let merged = merge(&[part(200, 0, 2), part(200, 0, 2)]).unwrap();
    assert_eq!(merged.measured.requests_per_second(), 200.0);
    // Overlapping parts: 0–2 s and 1–4 s measure 4 s.
    let merged = merge(&[part(100, 0, 2), part(100, 1, 4)]).unwrap();
    assert_eq!(merged.measured.elapsed(), Duration::from_secs(4));
    // The spans survive the portable form, so merging the merged result again still works.
    let gapped = merge(&[part(100, 0, 1), part(100, 11, 12)]).unwrap();
    let p = gapped.to_portable().unwrap();
    assert_eq!(p.measured.spans_unix_ns.len(), 2);
    let again = merge(&[p, part(100, 20, 21)]).unwrap();
    assert_eq!(again.measured.elapsed(), Duration::from_secs(3));
    assert_eq!(again.measured.requests_per_second(), 100.0);
}

#[test]
fn corrupt_portable_histograms_are_decode_errors() {
    let r = report_of(&Stats::default(), 0, 1);
    let mut p = r.to_portable().unwrap();
    p.measured.latency_hdr = "not base64!".into();
    let e = Report::from_portable(&p).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DecodeHistogram {
                metric: "latency",
                ..
            }
        ),
        "{e}"
    );
    p.measured.latency_hdr = base64::engine::general_purpose::STANDARD.encode(b"garbage");
    assert!(Report::from_portable(&p).is_err());
    p.format = "other/v9".into();
    assert!(Report::from_portable(&p).is_err());
}

#[test]
fn a_dispatch_lag_above_the_limit_is_a_warning_in_every_projection() {
    let mut stats = Stats::default();
    for _ in 0..100 {
        stats.record_response(200, 900, 400, 500);
    }
    let mut r = report_of(&stats, 0, 1);
    let w = r.lag_warning().expect("500 µs is above the default 100 µs");
    assert!(w.contains("500 µs") && w.contains("100 µs"), "{w}");
    let smp = r.to_smp_result();
    assert_eq!(smp.labels[smps_model::labels::WARNING], w);
    assert_eq!(
        smp.labels[smps_model::labels::DISPATCH_LAG_MS],
        "p50=0.5,p99=0.5,max=0.5"
    );
    let fortio = r.to_fortio_json();
    assert_eq!(fortio["Warnings"][0], serde_json::json!(w));
    assert_eq!(fortio["DispatchLag"]["Percentiles"][2]["Value"], 0.0005);

    r.settings.dispatch_lag_limit = Duration::from_millis(1);
    assert_eq!(r.lag_warning(), None);
    assert!(
        !r.to_smp_result()
            .labels
            .contains_key(smps_model::labels::WARNING)
    );
    r.settings.dispatch_lag_limit = DEFAULT_DISPATCH_LAG_LIMIT;
    r.settings.latency_basis = LatencyBasis::ActualSend;
    assert_eq!(
        r.lag_warning(),
        None,
        "a closed loop has no plan to lag behind"
    );
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Report>();
    check::<PortableReport>();
    check::<Snapshot>();
    check::<crate::Engine>();
    check::<crate::EngineBuilder>();
    check::<crate::StopHandle>();
    check::<crate::Error>();
    check::<crate::ArrivalPlan>();
    fn send<T: Send>() {}
    send::<crate::Run>();
    fn future_is_send<F: std::future::Future + Send>(_: F) {}
    let engine = crate::Engine::builder()
        .url("http://127.0.0.1:9/")
        .max_requests(1)
        .build()
        .unwrap();
    future_is_send(engine.run());
}

/// A portable part of a distributed run holding `segment` of `sequence`.
fn segment_part(responses: u64, segment: &str, sequence: &str) -> PortableReport {
    let mut r = report_of(&stats_with(responses), 0, 1);
    r.parts = vec![PartRecord {
        run_id: r.run_ids[0].clone(),
        segment: Some(segment.into()),
        sequence: Some(sequence.into()),
        start_at_unix_ns: Some(1_700_000_000_000_000_000),
        start_late_ns: Some(2_500_000),
    }];
    r.to_portable().unwrap()
}

#[test]
fn parts_that_cover_their_sequence_once_merge_and_say_so_in_labels() {
    let seq = "0,1/4,1/2,3/4,1";
    let parts: Vec<_> = ["0:1/4", "1/4:1/2", "1/2:3/4", "3/4:1"]
        .iter()
        .map(|s| segment_part(3, s, seq))
        .collect();
    // Any order.
    let merged = merge(&[
        parts[2].clone(),
        parts[0].clone(),
        parts[3].clone(),
        parts[1].clone(),
    ])
    .unwrap();
    assert_eq!(merged.measured.requests(), 12);
    assert_eq!(merged.parts.len(), 4);
    let labels = merged.result_labels();
    assert_eq!(labels[LABEL_SEGMENT], "0:1/4,1/4:1/2,1/2:3/4,3/4:1");
    assert_eq!(labels[LABEL_SEGMENT_SEQUENCE], seq);
    assert_eq!(labels[LABEL_START_LATE_MS], "2.500");
    assert_eq!(labels[LABEL_RUN_ID].split(',').count(), 4);
    // The portable form keeps the parts.
    let back = Report::from_portable(&merged.to_portable().unwrap()).unwrap();
    assert_eq!(back.parts, merged.parts);
    // A plain run has no part labels.
    assert!(
        !report_of(&stats_with(1), 0, 1)
            .result_labels()
            .contains_key(LABEL_SEGMENT)
    );
}

#[test]
fn a_gap_in_the_sequence_is_refused_naming_the_missing_segments() {
    let seq = "0,1/4,1/2,3/4,1";
    let e = merge(&[
        segment_part(1, "1/4:1/2", seq),
        segment_part(1, "3/4:1", seq),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("segment 0:1/4 is missing") && e.contains("segment 1/2:3/4 is missing"),
        "{e}"
    );
}

#[test]
fn an_overlap_is_refused_naming_both_segments_and_runs() {
    let seq = "0,1/2,1";
    let (a, b) = (segment_part(1, "0:1/2", seq), segment_part(1, "0:1/2", seq));
    let e = merge(&[a.clone(), segment_part(1, "1/2:1", seq), b.clone()]).unwrap_err();
    let Error::SegmentCoverage { reason } = source_of(&e, 2) else {
        panic!("{e:?}")
    };
    assert!(
        reason.contains("segment 0:1/2")
            && reason.contains(a.run_ids[0].as_str())
            && reason.contains(b.run_ids[0].as_str()),
        "{reason}"
    );
    // A run of the whole load overlaps every part.
    let e = merge(&[part(1, 0, 1), a]).unwrap_err();
    assert!(
        format!("{:?}", source_of(&e, 1)).contains("ran the whole load"),
        "{e:?}"
    );
    // Parts of different sequences or start instants are not one run.
    let e = merge(&[
        segment_part(1, "0:1/2", seq),
        segment_part(1, "1/3:2/3", "0,1/3,2/3,1"),
    ])
    .unwrap_err();
    assert!(
        format!("{:?}", source_of(&e, 1)).contains("share one sequence"),
        "{e:?}"
    );
    let mut late = segment_part(1, "1/2:1", seq);
    late.parts[0].start_at_unix_ns = Some(1);
    let e = merge(&[segment_part(1, "0:1/2", seq), late]).unwrap_err();
    assert!(
        format!("{:?}", source_of(&e, 1)).contains("share one start instant"),
        "{e:?}"
    );
    // Two whole runs that were each given a start instant merge as sequential runs.
    let whole = |at: u64| {
        let mut r = report_of(&stats_with(2), 0, 1);
        r.parts = vec![PartRecord {
            run_id: r.run_ids[0].clone(),
            segment: None,
            sequence: None,
            start_at_unix_ns: Some(at),
            start_late_ns: Some(0),
        }];
        r.to_portable().unwrap()
    };
    assert_eq!(merge(&[whole(1), whole(2)]).unwrap().measured.requests(), 4);
}

#[test]
fn an_edited_segment_that_does_not_parse_is_named() {
    let mut p = segment_part(1, "0:1", "0,1");
    p.parts[0].segment = Some("zero:one".into());
    let e = merge(&[p]).unwrap_err().to_string();
    assert!(e.contains("segment") && e.contains("zero"), "{e}");
}

#[test]
fn results_of_different_protocols_are_not_merged() {
    let a = part(5, 0, 1);
    let mut b = part(5, 1, 2);
    b.protocol = "tcp".into();
    let e = merge(&[a.clone(), b]).unwrap_err();
    assert!(
        matches!(source_of(&e, 1), Error::Merge { reason } if reason.contains("protocols differ (http vs tcp)")),
        "{e:?}"
    );
    // The same protocol merges.
    assert!(merge(&[a, part(5, 1, 2)]).is_ok());
}
