//! Public behaviour of smps-validate (one test binary; see STYLE.md §9). Most inputs are YAML,
//! so the suite needs the default `yaml` feature.
#![cfg(feature = "yaml")]

mod agreement;
mod bad_input;
mod corpus;
mod fast_path;
mod never_panics;
mod positions;
mod regression;
mod semantics;

use smps_validate::{Report, Validator, Violation};

/// A validator with default settings.
fn validator() -> Validator {
    Validator::new().expect("schemas compile")
}

/// `rule@line:col instance_path` for every finding, for compact assertions.
fn summary(report: &Report) -> Vec<String> {
    report.violations().iter().map(short).collect()
}

fn short(v: &Violation) -> String {
    let at = v
        .location()
        .map_or_else(|| "?".to_owned(), |l| l.to_string());
    format!("{}@{at} {}", v.rule(), v.instance_path())
}

/// A fixture's path.
fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}
