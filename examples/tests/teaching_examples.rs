//! Runs the teaching examples `validate`, `convert` and `run` as a user would, so they keep
//! working in CI (loopback only: `run` targets its embedded reference server).
//!
//! The binaries are the ones `cargo test` builds for the examples (examples are compiled before
//! tests run), found by `common::example`.

use std::path::PathBuf;
use std::process::{Command, Output};

mod common;

/// The built example `name`, run in the crate's directory.
fn example(name: &str) -> Command {
    let mut cmd = common::example(name);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A scratch file under the target directory (never outside the build tree).
fn scratch(name: &str, content: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("teaching_examples");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn validate_accepts_the_shipped_configs_and_refuses_a_broken_one_with_positions() {
    let o = example("validate").output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("accepted") && out.contains("`reference-load-test`"),
        "{out}"
    );
    assert!(
        out.contains("`Load Test`"),
        "the Meshery wrapper too: {out}"
    );

    let bad = scratch(
        "bad.yaml",
        "duration: 30s\nclients:\n  - protocol: PROTOCOL_HTTP\n    connections: 0\n    endpoint_urls: [\"http://127.0.0.1:1/\"]\n",
    );
    let o = example("validate").arg(&bad).output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("refused"), "{out}");
    assert!(out.contains(":4:18: error[connections]"), "{out}");
}

#[test]
fn convert_writes_both_dialects_and_reads_them_back() {
    let o = example("convert").output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("\"protocol\": \"PROTOCOL_HTTP\""),
        "canonical: {out}"
    );
    assert!(out.contains("protocol: 1"), "Meshery: {out}");
    assert!(
        out.contains("both forms read back into the same document"),
        "{out}"
    );

    let o = example("convert")
        .arg("tests/data/does-not-exist.yaml")
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
}

#[test]
fn run_embeds_the_engine_shows_progress_and_stops_on_request() {
    let o = example("run")
        .args([
            "--config",
            "tests/data/quick-run.yaml",
            "--stop-after",
            "1.5",
        ])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        err.contains("running `cli-test` against the reference server at 127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("stopping after"), "{err}");
    assert!(out.contains("# SMP PerformanceTestResult"), "{out}");
    assert!(out.contains("latenciesMs:"), "{out}");
    assert!(
        out.contains("# Percentiles (ms) of the measured phase"),
        "{out}"
    );

    // Only loopback: a config that points elsewhere is refused before anything starts.
    let remote = scratch(
        "remote.yaml",
        "duration: 1s\nclients:\n  - protocol: PROTOCOL_HTTP\n    connections: 1\n    endpoint_urls: [\"http://example.com/\"]\n",
    );
    let o = example("run")
        .arg("--config")
        .arg(&remote)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}{err}");
    assert!(err.contains("is not loopback"), "{err}");
}
