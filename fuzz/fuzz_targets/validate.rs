//! Fuzzes `smps_validate::Validator` with arbitrary bytes in every input mode.
//!
//! ```text
//! cd fuzz && cargo +nightly fuzz run validate -- -max_len=4096
//! ```
//! Invariants checked on every input: no panic; `is_valid`, `validate` and `report` agree; a
//! document reported valid is readable by smps-model.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use smps_validate::{Format, Source, Validator};

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| Validator::new().expect("schemas compile"))
}

fuzz_target!(|data: &[u8]| {
    let v = validator();
    for format in [None, Some(Format::Json), Some(Format::Yaml)] {
        let mut src = Source::bytes(data);
        if let Some(f) = format {
            src = src.format(f);
        }
        let valid = v.is_valid(&src);
        let first = v.validate(&src);
        match v.report(&src) {
            Ok(r) => {
                assert_eq!(valid, r.is_valid());
                assert_eq!(first.ok().map(|f| f.is_none()), Some(r.is_valid()));
                for f in r.violations() {
                    let _ = f.to_string();
                }
            }
            Err(_) => assert!(!valid && first.is_err()),
        }
        if valid {
            let text = std::str::from_utf8(data).expect("valid input is UTF-8");
            let opts = match format {
                Some(Format::Json) => {
                    smps_model::ReadOptions::default().with_format(smps_model::Format::Json)
                }
                Some(Format::Yaml) => {
                    smps_model::ReadOptions::default().with_format(smps_model::Format::Yaml)
                }
                _ => smps_model::ReadOptions::default(),
            };
            assert!(smps_model::read_all(text, &opts).is_ok());
        }
    }
});
