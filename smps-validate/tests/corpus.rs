//! Real documents from SMPS, Meshery and the SMP GitHub action.

use smps_validate::{Error, Format, Kind, Location, Rule, Source};

use crate::{fixture, summary, validator};

#[test]
fn the_smp_action_wrapper_config_is_valid() {
    let v = validator();
    for name in [
        "upstream/smp-action-load-test.yaml",
        "upstream/smp-action-test-config-2021.yaml",
    ] {
        let r = v.report(&Source::path(fixture(name))).unwrap();
        assert!(r.is_valid(), "{name}: {:?}", summary(&r));
        assert!(r.violations().is_empty(), "{name}: {:?}", summary(&r));
        assert_eq!(r.documents()[0].kind, Some(Kind::PerformanceTestConfig));
        assert_eq!(r.format(), Format::Yaml);
    }
}

#[test]
fn the_blog_flat_config_with_a_null_id_is_valid() {
    let r = validator()
        .report(&Source::path(fixture(
            "upstream/smps-blog-flat-test-config.yaml",
        )))
        .unwrap();
    assert!(r.is_valid(), "{:?}", summary(&r));
    assert_eq!(r.documents()[0].kind, Some(Kind::PerformanceTestConfig));
}

#[test]
fn the_invalid_v0_1_draft_gives_one_syntax_error_with_position() {
    let e = validator()
        .report(&Source::path(fixture(
            "upstream/smps-v0.1.0-draft-invalid.yaml",
        )))
        .unwrap_err();
    match e {
        Error::Syntax {
            format: Format::Yaml,
            location,
            ..
        } => assert_eq!(location, Location::new(39, 9)),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn legacy_and_meshery_shapes_are_checked_after_conversion() {
    let v = validator();
    let r = v
        .report(&Source::path(fixture(
            "upstream/smps-docs-sample-result-legacy.yaml",
        )))
        .unwrap();
    assert!(r.is_valid(), "{:?}", summary(&r));
    assert_eq!(summary(&r), ["converted-shape@1:1 "]);
    assert_eq!(r.documents()[0].kind, Some(Kind::PerformanceTestResult));

    let r = v
        .report(&Source::path(fixture(
            "upstream/smps-docs-test-results-meshery-fortio.json",
        )))
        .unwrap();
    assert_eq!(
        summary(&r),
        [
            "converted-shape@2:5 /0",
            "converted-shape@154:5 /1",
            "converted-shape@295:5 /2"
        ]
    );
    assert_eq!(r.documents().len(), 3);
    assert!(
        r.violations()
            .iter()
            .all(|f| f.rule() == Rule::ConvertedShape)
    );

    for name in [
        "upstream/meshery-mesheryctl-results-page-snake_case.json",
        "upstream/meshery-mesheryctl-profile-page-mixedcase.json",
    ] {
        let r = v.report(&Source::path(fixture(name))).unwrap();
        assert!(r.is_valid(), "{name}: {:?}", summary(&r));
    }
}

#[test]
fn every_corpus_document_the_validator_accepts_is_readable_by_the_model() {
    let v = validator();
    let dir = fixture("upstream");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "json")
        ) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if v.is_valid(&Source::path(&path)) {
            checked += 1;
            let read = smps_model::read_all(&text, &smps_model::ReadOptions::default());
            assert!(read.is_ok(), "{}: {read:?}", path.display());
        }
    }
    assert!(checked >= 6, "only {checked} valid corpus files");
}
