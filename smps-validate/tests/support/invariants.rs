//! The invariants every input must keep, whatever its bytes: shared by the property tests
//! (`tests/never_panics.rs`) and the cargo-fuzz target (`fuzz/fuzz_targets/validate.rs`, which
//! includes this file by path).

use smps_validate::{Format, Source, Validator};

/// Runs `v` on `bytes` in every input mode and checks: no panic; `is_valid`, `validate` and
/// `report` agree; every finding renders; and, when `readable` (the validator promises it:
/// `ReaderCheck::Full`, the default), a document reported valid is readable by smps-model.
pub(crate) fn check(v: &Validator, bytes: &[u8], readable: bool) {
    for format in [None, Some(Format::Json), Some(Format::Yaml)] {
        let mut src = Source::bytes(bytes);
        if let Some(f) = format {
            src = src.format(f);
        }
        let valid = v.is_valid(&src);
        let report = v.report(&src);
        let first = v.validate(&src);
        match &report {
            Ok(r) => {
                assert_eq!(valid, r.is_valid());
                assert_eq!(first.as_ref().ok().map(Option::is_none), Some(r.is_valid()));
                for f in r.violations() {
                    let _ = (f.message(), f.masked_message(), f.to_string());
                }
                let _ = r.to_json();
            }
            Err(_) => {
                assert!(!valid);
                assert!(first.is_err());
            }
        }
        if valid && readable {
            let text = std::str::from_utf8(bytes).expect("a valid input is UTF-8");
            let opts = match format {
                Some(Format::Json) => {
                    smps_model::ReadOptions::default().with_format(smps_model::Format::Json)
                }
                Some(Format::Yaml) => {
                    smps_model::ReadOptions::default().with_format(smps_model::Format::Yaml)
                }
                _ => smps_model::ReadOptions::default(),
            };
            let read = smps_model::read_all(text, &opts);
            assert!(read.is_ok(), "valid but unreadable: {text:?}: {read:?}");
        }
    }
}
