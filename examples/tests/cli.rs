//! Drives the `smps` example program as a user would: every subcommand on good and bad input,
//! exit codes, and snapshots of the text output with timings, dates and ports masked.
//!
//! The binary is the one `cargo test` builds for the example (examples are compiled before
//! tests run). Snapshots live in `tests/snapshots/`; regenerate with `SMPS_BLESS=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

fn smps() -> Command {
    let mut cmd = common::smps();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn run(args: &[&str]) -> Output {
    smps().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn data(name: &str) -> String {
    format!("tests/data/{name}")
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("cli", name)
}

/// Masks what changes from run to run: durations, dates, ports.
fn mask(text: &str) -> String {
    let rules = [
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "<time>"),
        (r"\d+\.\d+ s\b", "<secs> s"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<port>"),
    ];
    let mut out = text.to_owned();
    for (pattern, with) in rules {
        out = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("SMPS_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual, expected,
        "snapshot {name} differs; regenerate with SMPS_BLESS=1"
    );
}

#[test]
fn validate_accepts_a_good_config_with_exit_0() {
    let o = run(&["validate", &data("quick-run.yaml")]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("1 file(s) checked: 1 ok, 0 failed"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn validate_reports_findings_with_locations_and_exit_1() {
    let o = run(&["validate", &data("bad-result.yaml")]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    snapshot("validate-bad-result.txt", &mask(&stdout(&o)));
    let o = run(&["validate", "--format", "json", &data("bad-result.yaml")]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["reports"][0]["valid"], false);
    let o = run(&["validate", "--format", "junit", &data("bad-result.yaml")]);
    assert!(stdout(&o).contains("<failure"), "{}", stdout(&o));
}

#[test]
fn validate_gives_exit_2_for_unusable_input() {
    let o = run(&["validate", &data("broken.yaml")]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("broken.yaml:3:"), "{}", stdout(&o));
    let o = run(&["validate", "tests/data/does-not-exist.yaml"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn convert_writes_canonical_and_meshery_forms() {
    let o = run(&["convert", &data("legacy-result.yaml"), "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["latenciesMs"]["max"], 350.472228);
    assert_eq!(v["labels"]["smps.io/source-latency-unit"], "s");
    let o = run(&["convert", &data("quick-run.yaml"), "--dialect", "meshery"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    snapshot("convert-meshery.txt", &stdout(&o));
}

#[test]
fn convert_names_the_line_of_a_syntax_error_and_writes_nothing() {
    let out = scratch("never-written.yaml");
    let o = run(&["convert", &data("broken.yaml"), "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("line 3"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// Runs `smps` with its address space capped at 1 GiB (`ulimit -v`), so that a reader without
/// a size limit dies quickly on `/dev/zero` instead of growing until something else kills it;
/// the assertions on the error message then fail.
#[cfg(target_os = "linux")]
fn run_capped(args: &[&str], stdin: Option<&str>) -> Output {
    let bin = smps().get_program().to_owned();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(bin)
        .args(args)
        .env("CI", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(path) = stdin {
        cmd.stdin(std::fs::File::open(path).unwrap());
    }
    cmd.output().unwrap()
}

#[test]
#[cfg(target_os = "linux")]
fn every_reading_subcommand_refuses_an_endless_stream_saying_more_than_the_limit() {
    let svg = scratch("never.svg");
    let default_limit = format!("more than {} bytes", 64 * 1024 * 1024);
    let cases: [(&[&str], Option<&str>, &str, &str); 6] = [
        (
            &["convert", "-", "--max-bytes", "1000"],
            Some("/dev/zero"),
            "standard input",
            "more than 1000 bytes",
        ),
        (&["convert", "/dev/zero"], None, "/dev/zero", &default_limit),
        (
            &[
                "merge",
                "/dev/zero",
                &data("quick-run.yaml"),
                "--max-bytes",
                "5000",
            ],
            None,
            "/dev/zero",
            "more than 5000 bytes",
        ),
        (
            &[
                "chart",
                "/dev/zero",
                "-o",
                svg.to_str().unwrap(),
                "--max-bytes",
                "1000",
            ],
            None,
            "/dev/zero",
            "more than 1000 bytes",
        ),
        (&["run", "/dev/zero"], None, "/dev/zero", &default_limit),
        (
            &["run", "-"],
            Some("/dev/zero"),
            "standard input",
            &default_limit,
        ),
    ];
    for (args, stdin, name, size) in cases {
        let o = run_capped(args, stdin);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{args:?}: {err}");
        assert!(err.contains(name) && err.contains(size), "{args:?}: {err}");
    }
    assert!(!svg.exists());
}

#[test]
fn a_file_over_max_bytes_is_refused_with_its_real_size_and_the_flag_to_raise_it() {
    let file = data("quick-run.yaml");
    let size = std::fs::metadata(Path::new(env!("CARGO_MANIFEST_DIR")).join(&file))
        .unwrap()
        .len();
    let o = run(&["convert", &file, "--max-bytes", "100"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "quick-run.yaml: it holds {size} bytes, over the limit of 100 bytes"
        )) && err.contains("--max-bytes"),
        "{err}"
    );
    let limit = size.to_string();
    let o = run(&["convert", &file, "--max-bytes", &limit]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn input_that_is_not_utf8_is_refused_with_the_line_and_column_of_the_bad_byte() {
    let bad = scratch("latin1.yaml");
    std::fs::write(&bad, b"smp_version: v0.0.1\nname: caf\xe9\n").unwrap();
    let o = run(&["convert", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("latin1.yaml: not UTF-8 text (invalid byte at line 2, column 10"),
        "{err}"
    );
}

#[test]
fn convert_places_a_duplicate_key_and_an_alias_bomb_at_their_real_line_and_column() {
    let dup = scratch("dup-key.yaml");
    std::fs::write(&dup, "smp_version: v0.6.1\nduration: 30s\nduration: 1m\n").unwrap();
    let o = run(&["convert", dup.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("dup-key.yaml: cannot parse YAML at line 3, column 1: duplicate entry with key \"duration\""),
        "{}",
        stderr(&o)
    );
    let bomb = scratch("alias-bomb.yaml");
    let mut text = String::from("smp_version: v0.6.1\na: &a [x, y]\n");
    let mut prev = 'a';
    for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h'] {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        prev = name;
    }
    std::fs::write(&bomb, text).unwrap();
    let o = run(&["convert", bomb.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o)
            .contains("alias-bomb.yaml: cannot parse YAML at line 3, column 8: aliases expand"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn errors_give_command_line_advice_not_library_advice() {
    let unknown = scratch("unknown-kind.yaml");
    std::fs::write(&unknown, "colour: blue\n").unwrap();
    let o = run(&["convert", unknown.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains(
            "unknown-kind.yaml: cannot tell which kind of SMP document the first document is"
        ) && err.contains("--kind config, result")
            && !err.contains("ReadOptions"),
        "{err}"
    );
    let o = run(&["convert", unknown.to_str().unwrap(), "--kind", "mesh"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let two = scratch("two-results.yaml");
    std::fs::write(&two, "latenciesMs: {p50: 1}\n---\nlatenciesMs: {p50: 2}\n").unwrap();
    let svg = scratch("two.svg");
    let o = run(&["chart", two.to_str().unwrap(), "-o", svg.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("two-results.yaml: holds 2 documents where one is expected")
            && !err.contains("read_all"),
        "{err}"
    );
    // convert reads and writes whole streams.
    let o = run(&["convert", two.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o).matches("latenciesMs").count(),
        2,
        "{}",
        stdout(&o)
    );
}

#[test]
fn schema_prints_each_kind_and_rejects_unknown_ones() {
    for kind in ["config", "result", "mesh-config", "environment", "mesh"] {
        let o = run(&["schema", kind]);
        assert_eq!(code(&o), 0, "{kind}");
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert!(v["properties"].is_object(), "{kind}");
    }
    let o = run(&["schema", "banana"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown kind"), "{}", stderr(&o));
}

#[test]
fn run_merge_and_chart_work_end_to_end() {
    let (a, b) = (scratch("a.json"), scratch("b.json"));
    for p in [&a, &b] {
        let o = run(&[
            "run",
            &data("quick-run.yaml"),
            "--portable",
            p.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        // No progress bar in CI; a busy machine may warn that requests left late.
        assert!(
            stderr(&o)
                .lines()
                .all(|l| l.starts_with("warning: dispatch lag")),
            "no progress bar in CI: {}",
            stderr(&o)
        );
        let result: smps_model::PerformanceTestResult =
            smps_model::read_as(&stdout(&o), &Default::default()).unwrap();
        let l = result.latencies_ms.unwrap();
        assert!(
            l.min > 0.0 && l.min <= l.p50 && l.p50 <= l.p99 && l.p99 <= l.max,
            "{l:?}"
        );
        assert!(result.actual_qps > 100.0, "{}", result.actual_qps);
    }
    let merged = scratch("merged.json");
    let o = run(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--portable",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let count = |p: &Path| {
        let portable: smps_load::PortableReport =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        smps_load::Report::from_portable(&portable)
            .unwrap()
            .measured
            .latency
            .len()
    };
    assert_eq!(count(&merged), count(&a) + count(&b));

    let svg = scratch("chart.svg");
    let o = run(&[
        "chart",
        a.to_str().unwrap(),
        &data("legacy-result.yaml"),
        "-o",
        svg.to_str().unwrap(),
        "--label",
        "loopback",
        "--label",
        "meshery 2020",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("loopback") && text.contains("meshery 2020"));
    // The portable result carries the per-second series, so the second panel is drawn.
    assert!(text.contains("Per interval"), "no per-interval panel");
}

#[test]
fn run_speaks_tcp_udp_and_grpc_from_the_config_protocol() {
    for (protocol, run_type, ok) in [
        ("tcp", "TCP", "OK"),
        ("udp", "UDP", "OK"),
        ("grpc", "GRPC Health", "SERVING"),
    ] {
        let fortio = scratch(&format!("{protocol}-fortio.json"));
        let o = run(&[
            "run",
            &data(&format!("{protocol}-run.yaml")),
            "--fortio",
            fortio.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{protocol}: {}", stderr(&o));
        let result: smps_model::PerformanceTestResult =
            smps_model::read_as(&stdout(&o), &Default::default()).unwrap();
        assert_eq!(
            result.labels.get("smps.io/requests").map(String::as_str),
            Some("100"),
            "{protocol}: {:?}",
            result.labels
        );
        let f: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&fortio).unwrap()).unwrap();
        assert_eq!(f["RunType"], run_type, "{protocol}");
        assert_eq!(f["RetCodes"][ok], 100, "{protocol}: {f}");
    }
}

#[test]
fn run_refuses_an_invalid_config_with_exit_2_and_writes_nothing() {
    let out = scratch("not-written.json");
    let o = run(&[
        "run",
        &data("bad-result.yaml"),
        "--portable",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert!(!out.exists());
}

#[test]
fn merge_and_chart_name_the_bad_file() {
    let o = run(&[
        "merge",
        &data("legacy-result.yaml"),
        &data("quick-run.yaml"),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("legacy-result.yaml"), "{}", stderr(&o));
    let svg = scratch("bad.svg");
    let o = run(&["chart", &data("broken.yaml"), "-o", svg.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("broken.yaml"), "{}", stderr(&o));
    assert!(!svg.exists());
}

/// Runs `requests` requests against an in-process reference server on 127.0.0.1 and writes
/// the portable result to a scratch file, as `smps run --portable` would.
fn portable_run(name: &str, requests: u64) -> PathBuf {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(async {
        let server = smps_load::reference::ReferenceServer::builder()
            .start()
            .await
            .unwrap();
        let r = smps_load::Engine::builder()
            .url(server.url("/"))
            .max_requests(requests)
            .build()
            .unwrap()
            .run()
            .await
            .unwrap();
        server.shutdown().await;
        r
    });
    let path = scratch(name);
    let json = serde_json::to_string(&report.to_portable().unwrap()).unwrap();
    std::fs::write(&path, json).unwrap();
    path
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, v.to_string()).unwrap();
}

#[test]
fn merge_refuses_the_same_run_twice_naming_both_files() {
    let a = portable_run("dup-a.json", 20);
    let b = portable_run("dup-b.json", 20);
    let copy = scratch("dup-a-copy.json");
    std::fs::copy(&a, &copy).unwrap();
    let (a, b, copy) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        copy.to_str().unwrap(),
    );
    let o = run(&["merge", a, b, copy]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{a} and {copy} hold the same run")),
        "{err}"
    );
    assert!(stdout(&o).is_empty());
    // A merged result merged again with one of its parts is caught the same way.
    let merged = scratch("dup-merged.json");
    let o = run(&["merge", a, b, "--portable", merged.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(&["merge", merged.to_str().unwrap(), b]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("dup-merged.json and "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn merge_refuses_a_part_that_ends_before_it_starts_naming_it() {
    let a = portable_run("ok-part.json", 10);
    let bad = portable_run("ends-before-start.json", 10);
    edit_json(&bad, |v| {
        let start = v["measured"]["start_unix_ns"].as_u64().unwrap();
        v["measured"]["end_unix_ns"] = (start - 1_000_000_000).into();
    });
    let o = run(&["merge", a.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("ends-before-start.json: cannot merge it")
            && err.contains("measured.end_unix_ns")
            && err.contains("ends before it starts"),
        "{err}"
    );
}

#[test]
fn merge_refuses_counters_that_would_overflow_naming_the_file() {
    let a = portable_run("big-a.json", 10);
    let b = portable_run("big-b.json", 10);
    for p in [&a, &b] {
        edit_json(p, |v| v["measured"]["bytes_in"] = u64::MAX.into());
    }
    let o = run(&["merge", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("big-b.json: cannot merge it")
            && err.contains("`measured.bytes_in` counter overflows"),
        "{err}"
    );
}

#[test]
fn merged_rate_does_not_count_the_gap_between_sequential_runs() {
    let a = portable_run("seq-a.json", 50);
    let b = portable_run("seq-b.json", 50);
    // Move the second run 100 s later, as if it had been run after a pause.
    let shift = 100_000_000_000u64;
    edit_json(&b, |v| {
        for at in ["", "/measured"] {
            for key in ["start_unix_ns", "end_unix_ns"] {
                let field = v.pointer_mut(&format!("{at}/{key}")).unwrap();
                *field = (field.as_u64().unwrap() + shift).into();
            }
        }
    });
    let measured_secs = |p: &Path| {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let m = &v["measured"];
        (m["end_unix_ns"].as_u64().unwrap() - m["start_unix_ns"].as_u64().unwrap()) as f64 / 1e9
    };
    let expected = 100.0 / (measured_secs(&a) + measured_secs(&b));
    let o = run(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let result: smps_model::PerformanceTestResult =
        smps_model::read_as(&stdout(&o), &Default::default()).unwrap();
    assert!(
        (result.actual_qps - expected).abs() <= expected * 1e-6,
        "actual_qps {} but 100 requests in {} s measured",
        result.actual_qps,
        1.0 / expected * 100.0
    );
}

#[test]
fn conformance_is_full_on_the_loopback_mesh() {
    let o = run(&["conformance"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    snapshot("conformance-default.txt", &mask(&stdout(&o)));
}

#[test]
fn conformance_catches_a_mesh_that_allows_everything() {
    let o = run(&["conformance", "--fault", "allow-all", "--format", "meshery"]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let text = v.to_string();
    assert!(!text.is_empty());
    let o = run(&["conformance", "--fault", "nonsense"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("drop-metrics or stale-metrics"),
        "the error lists every fault: {}",
        stderr(&o)
    );
}

/// A suite of one test that applies a ConfigMap and asserts it, as YAML.
const CONFIGMAP_SUITE: &str = "name: mine
tests:
- name: configmap-round-trip
  steps:
  - name: apply
    operations:
    - apply: {objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: cm}, data: {k: v}}]}
    - assert: {object: {apiVersion: v1, kind: ConfigMap, metadata: {name: cm}, data: {k: v}}}
";

#[test]
fn conformance_runs_a_users_yaml_suite() {
    let file = scratch("my-suite.yaml");
    std::fs::write(&file, CONFIGMAP_SUITE).unwrap();
    let o = run(&[
        "conformance",
        "--suite",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["suite"], "mine");
    assert_eq!(report["tests"][0]["name"], "configmap-round-trip");
    assert_eq!(report["tests"][0]["status"], "passed");
}

#[test]
fn conformance_runs_a_kuttl_directory_and_a_directory_of_them() {
    let root = scratch("kuttl-root");
    let test = root.join("configmap");
    std::fs::create_dir_all(&test).unwrap();
    std::fs::write(
        test.join("00-install.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}\n",
    )
    .unwrap();
    std::fs::write(
        test.join("00-assert.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}\n",
    )
    .unwrap();
    for dir in [&test, &root] {
        let o = run(&[
            "conformance",
            "--suite",
            dir.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
        let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(report["tests"][0]["name"], "configmap", "{report}");
        assert_eq!(report["tests"][0]["status"], "passed", "{report}");
    }
}

#[test]
fn conformance_with_an_unusable_suite_exits_2_naming_it() {
    let o = run(&["conformance", "--suite", "no-such-suite.yaml"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-suite.yaml"), "{}", stderr(&o));
    let empty = scratch("empty-kuttl");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run(&["conformance", "--suite", empty.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("holds no kuttl test"), "{}", stderr(&o));
    let bad = scratch("bad-suite.yaml");
    std::fs::write(&bad, "name: x\ntests: [{name: t, steps: [], bogus: 1}]\n").unwrap();
    let o = run(&["conformance", "--suite", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("bogus"),
        "the YAML cause is printed: {}",
        stderr(&o)
    );
}

#[test]
fn conformance_help_documents_the_cluster_flag_and_its_feature() {
    let o = run(&["conformance", "--help"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let help = stdout(&o);
    for flag in [
        "--cluster",
        "--context",
        "--namespace-prefix",
        "--namespace-label",
        "--namespace-annotation",
        "--features kube",
    ] {
        assert!(help.contains(flag), "no `{flag}` in:\n{help}");
    }
}

#[test]
fn conformance_cluster_options_need_cluster_and_exclude_faults() {
    let o = run(&["conformance", "--context", "kind-kind"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--cluster"), "{}", stderr(&o));
    let o = run(&["conformance", "--cluster", "--fault", "allow-all"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    let o = run(&["conformance", "--cluster", "--namespace-label", "novalue"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("KEY=VALUE"), "{}", stderr(&o));
}

#[cfg(not(feature = "kube"))]
#[test]
fn conformance_cluster_without_the_kube_feature_exits_2_and_says_how_to_rebuild() {
    let o = run(&["conformance", "--cluster"]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("rebuild with `--features kube`"),
        "{}",
        stderr(&o)
    );
}

/// `smps conformance --cluster` with `kubeconfig` as its only possible configuration: no home
/// kubeconfig, no in-cluster environment.
#[cfg(feature = "kube")]
fn cluster_run(kubeconfig: &Path, extra: &[&str]) -> Output {
    let home = scratch("home");
    std::fs::create_dir_all(&home).unwrap();
    smps()
        .args(["conformance", "--cluster"])
        .args(extra)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", &home)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .output()
        .unwrap()
}

#[cfg(feature = "kube")]
#[test]
fn conformance_cluster_with_a_missing_kubeconfig_exits_2_naming_the_file() {
    let missing = scratch("no-such-dir").join("kubeconfig");
    let o = cluster_run(&missing, &[]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("cannot use the Kubernetes cluster"), "{err}");
    assert!(err.contains("kubeconfig"), "{err}");
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

#[cfg(feature = "kube")]
#[test]
fn conformance_cluster_with_an_unreachable_api_server_exits_2_naming_it() {
    // Bind and drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kubeconfig = scratch("dead-kubeconfig.yaml");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: dead\n\
             clusters:\n- name: dead\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             contexts:\n- name: dead\n  context:\n    cluster: dead\n    user: nobody\n\
             users:\n- name: nobody\n  user: {{}}\n"
        ),
    )
    .unwrap();
    for extra in [&[][..], &["--context", "dead"][..]] {
        let o = cluster_run(&kubeconfig, extra);
        assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!(
                "cannot reach the API server at http://127.0.0.1:{port}"
            )),
            "{err}"
        );
        assert!(err.to_lowercase().contains("refused"), "{err}");
    }
    let o = cluster_run(&kubeconfig, &["--context", "nope"]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("cannot use kubeconfig context `nope`"),
        "{}",
        stderr(&o)
    );
}

#[cfg(feature = "kube")]
#[test]
fn conformance_cluster_errors_quote_no_credential_from_the_kubeconfig() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A server URL with user information and a bearer token: the API server cannot be reached.
    let dead = scratch("secret-kubeconfig.yaml");
    std::fs::write(
        &dead,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: dead\n\
             clusters:\n- name: dead\n  cluster:\n    server: http://admin:s3cr3t-pass@127.0.0.1:{port}\n\
             contexts:\n- name: dead\n  context:\n    cluster: dead\n    user: admin\n\
             users:\n- name: admin\n  user:\n    token: s3cr3t-token\n"
        ),
    )
    .unwrap();
    // A kubeconfig whose YAML breaks on the line of its token.
    let broken = scratch("broken-kubeconfig.yaml");
    std::fs::write(
        &broken,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nusers:\n- name: u\n  user:\n    \
         token: [s3cr3t-token\n",
    )
    .unwrap();
    for (kubeconfig, says) in [
        (
            &dead,
            format!("cannot reach the API server at http://***@127.0.0.1:{port}"),
        ),
        (
            &broken,
            "the kubeconfig is not a valid kubeconfig YAML".to_string(),
        ),
    ] {
        for extra in [&[][..], &["--context", "dead"][..]] {
            let o = cluster_run(kubeconfig, extra);
            assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
            let err = stderr(&o);
            assert!(!err.contains("s3cr3t"), "{err}");
            assert!(err.contains(&says), "{err}");
        }
    }
}

/// Runs `smps` with `args` (and the config text written to a scratch file as the first
/// argument after `run`), failing the test instead of hanging if it has not ended in `secs`.
fn run_config_within(name: &str, config: &str, extra: &[&str], secs: u64) -> Output {
    let path = scratch(name);
    std::fs::write(&path, config).unwrap();
    let child = smps()
        .arg("run")
        .arg(&path)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_within(child, secs)
}

fn wait_within(mut child: std::process::Child, secs: u64) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("smps did not end within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_run_where_every_request_failed_exits_1_after_writing_the_result() {
    let port = closed_port();
    let config = format!(
        "name: refused\nclients:\n- protocol: http\n  connections: 2\n  rps: 50\n  endpoint_urls: [http://127.0.0.1:{port}/]\nduration: 1s\n"
    );
    let o = run_config_within("refused.yaml", &config, &["--target", "config"], 20);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("requests failed (100.0%)"), "{err}");
    assert!(err.contains("connect_refused"), "{err}");
    assert!(err.contains("--max-failed 10.0%"), "{err}");
    let result: smps_model::PerformanceTestResult =
        smps_model::read_as(&stdout(&o), &Default::default()).unwrap();
    let failed = &result.labels[smps_model::labels::FAILED_REQUESTS];
    assert_eq!(failed, &result.labels[smps_model::labels::REQUESTS]);
    assert_ne!(failed, "0");

    let o = run_config_within(
        "refused.yaml",
        &config,
        &["--target", "config", "--max-failed", "100%"],
        20,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("warning: "), "{}", stderr(&o));
}

#[test]
fn run_never_prints_the_password_of_a_url() {
    let config = "name: secret\nclients:\n- protocol: http\n  connections: 1\n  rps: 5\n  endpoint_urls: ['http://admin:hunter2@127.0.0.1:9/']\nduration: 1s\n";
    let o = run_config_within("secret.yaml", config, &["--target", "config"], 20);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("hunter2"), "{all}");
}

#[test]
fn a_rate_no_machine_can_send_is_refused_at_once_naming_the_field() {
    let config = "name: huge\nclients:\n- protocol: http\n  connections: 4\n  rps: 9223372036854775807\n  endpoint_urls: [http://reference-server/]\nduration: 3s\n";
    let o = run_config_within("huge.yaml", config, &[], 20);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("rps"), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn sigterm_stops_a_run_gracefully_and_still_writes_the_results() {
    let config_path = scratch("long.yaml");
    std::fs::write(
        &config_path,
        "name: long\nclients:\n- protocol: http\n  connections: 2\n  rps: 100\n  endpoint_urls: [http://reference-server/]\nduration: 60s\n",
    )
    .unwrap();
    let portable = scratch("interrupted.json");
    let child = smps()
        .arg("run")
        .arg(&config_path)
        .arg("--portable")
        .arg(&portable)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let o = wait_within(child, 20);
    assert_eq!(code(&o), 143, "{}", stderr(&o));
    assert!(stderr(&o).contains("stopped by SIGTERM"), "{}", stderr(&o));
    let result: smps_model::PerformanceTestResult =
        smps_model::read_as(&stdout(&o), &Default::default()).unwrap();
    assert_ne!(result.labels[smps_model::labels::REQUESTS], "0");
    let p: smps_load::PortableReport =
        serde_json::from_str(&std::fs::read_to_string(&portable).unwrap()).unwrap();
    assert!(smps_load::Report::from_portable(&p).unwrap().measured.ok() > 0);
}

/// Issue 12: a one-line file with many findings prints a bounded report, capped per
/// document with a count of the rest, in text and JSON.
#[test]
fn validate_caps_findings_and_cuts_long_lines() {
    let path = scratch("one-line.json");
    let clients = vec!["{}"; 24_000].join(", ");
    std::fs::write(
        &path,
        format!("{{\"duration\": \"1s\", \"clients\": [{clients}]}}"),
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let o = run(&["validate", file]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.len() < 64 * 1024, "{} bytes of output", text.len());
    assert!(
        text.contains("23900 more finding(s) not shown"),
        "{}",
        &text[text.len().saturating_sub(400)..]
    );
    assert_eq!(text.matches("error[endpoint-missing]").count(), 100);
    // Every excerpt is a window of the line, not the line.
    assert!(
        text.lines()
            .filter(|l| l.starts_with("  | "))
            .all(|l| l.chars().count() < 120),
        "{text}"
    );
    let o = run(&["validate", "--max-findings", "5", "--format", "json", file]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["reports"][0]["omitted"], 23_995);
    assert_eq!(v["reports"][0]["violations"].as_array().unwrap().len(), 5);
}

/// Issue 12: no output format shows a password or token from the input.
#[test]
fn validate_flags_credentials_in_urls_and_never_prints_them() {
    let path = scratch("secret.yaml");
    std::fs::write(
        &path,
        "duration: 30s\nclients:\n  - endpoint_urls: [\"http://admin:hunter2@127.0.0.1:1/?token=t0k3n\"]\n    headers: {Authorization: Bearer s3cr3t, x_extra: 1}\n    colour: blue\n",
    )
    .unwrap();
    for format in ["text", "json", "junit"] {
        let o = run(&["validate", "--format", format, path.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{format}: {}", stdout(&o));
        let out = stdout(&o);
        assert!(out.contains("endpoint"), "{format}: {out}");
        for secret in ["hunter2", "t0k3n", "s3cr3t"] {
            assert!(!out.contains(secret), "{format} shows {secret}: {out}");
        }
    }
}

/// Issue 12: `--max-bytes` gives a file's real size, and "more than" for a stream.
#[test]
fn validate_max_bytes_names_the_real_size_of_a_file() {
    let path = scratch("five-thousand.yaml");
    std::fs::write(&path, "x".repeat(5000)).unwrap();
    let o = run(&["validate", "--max-bytes", "1000", path.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        stdout(&o).contains("input of 5000 bytes exceeds the limit of 1000 bytes"),
        "{}",
        stdout(&o)
    );
    let mut child = smps()
        .args(["validate", "--max-bytes", "1000", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        // The reader stops after 1001 bytes; the rest may find the pipe closed.
        let _ = stdin.write_all(&vec![b'x'; 5000]);
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        stdout(&o).contains("more than 1000 bytes"),
        "{}",
        stdout(&o)
    );
}

/// Issue 12: a rate `smps run` refuses is an error for `smps validate` too.
#[test]
fn validate_refuses_a_rate_run_would_refuse() {
    let path = scratch("huge-rps.yaml");
    std::fs::write(
        &path,
        "duration: 30s\nclients:\n  - endpoint_urls: [\"http://127.0.0.1:1/\"]\n    rps: 9223372036854775807\n",
    )
    .unwrap();
    let o = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("error[limit]: `/clients/0/rps`"),
        "{}",
        stdout(&o)
    );
}
