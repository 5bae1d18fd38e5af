//! Runs the `conformance` example program (a suite of one's own with a custom check against the
//! loopback mesh) as a user would, so it keeps working in CI.
//!
//! The binary is the one `cargo test` builds for the example (examples are compiled before
//! tests run), found by `common::example`.

mod common;

#[test]
fn the_conformance_example_runs_its_suite_and_its_custom_check_passes() {
    let o = common::example("conformance").output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("a-to-b-is-allowed-and-fast"), "{stdout}");
    assert!(
        stdout.contains("within 250 ms"),
        "the custom check's verdict: {stdout}"
    );
}
