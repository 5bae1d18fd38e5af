//! Runs the `conformance` example program (a suite of one's own with a custom check against the
//! loopback mesh) as a user would, so it keeps working in CI.
//!
//! The binary is the one `cargo test` builds for the example (examples are compiled before
//! tests run), found as `tests/cli.rs` finds `smps`.

use std::path::Path;
use std::process::Command;

#[test]
fn the_conformance_example_runs_its_suite_and_its_custom_check_passes() {
    // target/<profile>/deps/conformance_example-<hash> → target/<profile>/examples/conformance
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir
        .join("examples")
        .join(format!("conformance{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is not built; run through `cargo test`",
        bin.display()
    );
    let o = Command::new(bin).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("a-to-b-is-allowed-and-fast"), "{stdout}");
    assert!(
        stdout.contains("within 250 ms"),
        "the custom check's verdict: {stdout}"
    );
}
