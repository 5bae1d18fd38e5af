//! A distributed run on one machine: the parts of a config's load run as separate `smps run
//! --segment i/N --start-at T` processes against one loopback reference server, and their
//! merged result is compared with one run of the whole config.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, SystemTime};

mod common;

use common::{text, wait_within};

fn smps() -> Command {
    common::smps_piped()
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("distributed", name)
}

fn report(path: &Path) -> smps_load::Report {
    let p: smps_load::PortableReport =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    smps_load::Report::from_portable(&p).unwrap()
}

/// RFC 3339 text of an instant.
fn rfc3339(t: SystemTime) -> String {
    smps_model::Timestamp::from_system_time(t)
        .unwrap()
        .to_string()
}

#[test]
fn four_processes_with_a_segment_each_make_up_one_run_of_the_whole_plan() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // A fixed 5 ms service time, so that latency is the server's and not the machine's noise.
    let server = rt.block_on(async {
        smps_load::reference::ReferenceServer::builder()
            .delay(smps_load::reference::Delay::Fixed(Duration::from_millis(5)))
            .start()
            .await
            .unwrap()
    });
    let config = scratch("whole.yaml");
    std::fs::write(
        &config,
        format!(
            "name: distributed\nclients:\n- protocol: http\n  connections: 8\n  rps: 200\n  endpoint_urls: [{}]\nduration: 2s\n",
            server.url("/")
        ),
    )
    .unwrap();
    let common = ["--target", "config", "--dispatch-lag-limit", "1s"];
    let start = SystemTime::now() + Duration::from_millis(1500);
    let parts: Vec<PathBuf> = (0..4).map(|i| scratch(&format!("part-{i}.json"))).collect();
    let children: Vec<Child> = parts
        .iter()
        .enumerate()
        .map(|(i, out)| {
            smps()
                .arg("run")
                .arg(&config)
                .args(common)
                .args([
                    "--segment",
                    &format!("{i}/4"),
                    "--start-at",
                    &rfc3339(start),
                ])
                .arg("--portable")
                .arg(out)
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let o = wait_within(c, 60);
        assert!(o.status.success(), "part {i}: {}", text(&o.stderr));
        let out = text(&o.stdout);
        let segment = smps_load::ExecutionSegment::nth(i as u64, 4).unwrap();
        assert!(
            out.contains(&format!("smps-load/segment: {segment}\n")),
            "{out}"
        );
        assert!(out.contains("smps-load/start-late-ms"), "{out}");
    }
    for (i, p) in parts.iter().enumerate() {
        let r = report(p);
        assert_eq!(
            r.measured.requests(),
            100,
            "part {i} sends its quarter of 400"
        );
        assert!(
            r.start_late().unwrap() < Duration::from_millis(500),
            "part {i}: {:?}",
            r.start_late()
        );
    }

    // The merged parts.
    let merged_file = scratch("merged.json");
    let o = wait_within(
        smps()
            .arg("merge")
            .args(&parts)
            .arg("--portable")
            .arg(&merged_file)
            .spawn()
            .unwrap(),
        30,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("smps-load/segment: 0:1/4,1/4:1/2,1/2:3/4,3/4:1"));
    let merged = report(&merged_file);

    // One run of the whole config.
    let whole_file = scratch("whole.json");
    let o = wait_within(
        smps()
            .arg("run")
            .arg(&config)
            .args(common)
            .arg("--portable")
            .arg(&whole_file)
            .spawn()
            .unwrap(),
        60,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let whole = report(&whole_file);

    // Request counts: exact.
    assert_eq!(whole.measured.requests(), 400);
    assert_eq!(merged.measured.requests(), whole.measured.requests());
    assert_eq!(merged.measured.ok(), whole.measured.ok());
    assert_eq!(merged.settings.connections, 8);
    // Percentiles: two samples of the same load; the histograms' 0.1 % precision is far
    // below the run-to-run noise of timers on a shared machine, so allow 1.5 ms around a
    // 5 ms service time.
    for p in [50.0, 90.0] {
        let (a, b) = (merged.measured.latency_ms(p), whole.measured.latency_ms(p));
        assert!((a - b).abs() <= 1.5, "p{p}: merged {a} ms vs whole {b} ms");
        assert!(a >= 5.0 && b >= 5.0, "p{p}: {a} {b}");
    }

    // Three of the four parts are refused, naming the missing one.
    let o = wait_within(smps().arg("merge").args(&parts[..3]).spawn().unwrap(), 30);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("segment 3/4:1 is missing"),
        "{}",
        text(&o.stderr)
    );
    drop(server);
}

#[test]
fn bad_segment_options_exit_2_naming_the_flag() {
    let config = scratch("bad.yaml");
    std::fs::write(
        &config,
        "name: bad\nclients:\n- protocol: http\n  connections: 2\n  rps: 10\n  endpoint_urls: [http://reference-server/]\nduration: 1s\n",
    )
    .unwrap();
    for (args, says) in [
        (vec!["--segment", "4/4"], "--segment 4/4: part 4/4"),
        (vec!["--segment", "1/2:1/4"], "reversed"),
        (
            vec!["--segment", "0:1/3", "--segment-sequence", "0,1/2,1"],
            "not a segment of the sequence 0,1/2,1",
        ),
        (vec!["--segment", "2/3"], "gets none of the 2 connections"),
        (
            vec!["--start-at", "tomorrow"],
            "--start-at tomorrow: not an RFC 3339 instant",
        ),
    ] {
        let o = wait_within(
            smps().arg("run").arg(&config).args(&args).spawn().unwrap(),
            30,
        );
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            text(&o.stderr).contains(says),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
}

/// Without the `kube` feature, `smps distribute` says how to rebuild.
#[cfg(not(feature = "kube"))]
#[test]
fn distribute_without_the_kube_feature_exits_2_and_says_how_to_rebuild() {
    let config = scratch("k8s.yaml");
    std::fs::write(
        &config,
        "name: k\nclients:\n- protocol: http\n  connections: 2\n  rps: 10\n  endpoint_urls: [http://echo/]\nduration: 1s\n",
    )
    .unwrap();
    let o = wait_within(
        smps()
            .arg("distribute")
            .arg(&config)
            .args(["--parallelism", "2", "--image", "i", "--emit"])
            .spawn()
            .unwrap(),
        30,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--features kube"),
        "{}",
        text(&o.stderr)
    );
}
