//! The upstream kuttl directories from the corpus load, and run with custom hooks.

use smi_assert::backend::loopback::Fault;
use smi_assert::conformance::register_upstream_checks;
use smi_assert::report::Status;
use smi_assert::suite::{Operation, Suite};

use crate::{fixture, mesh_with, runner};

fn load(dir: &str) -> smi_assert::suite::Test {
    smi_assert::kuttl::load_test_dir(fixture(&format!("upstream-conformance/{dir}")))
        .expect("loads")
}

#[test]
fn the_three_upstream_directories_load_as_24_steps() {
    let access = load("traffic-access");
    let spec = load("traffic-spec");
    let split = load("traffic-split");
    assert_eq!(access.steps.len(), 7);
    assert_eq!(spec.steps.len(), 6);
    assert_eq!(split.steps.len(), 11);
    let names: Vec<&str> = access.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "01-assert",
            "02-install",
            "03-trafficDefault",
            "04-install",
            "05-trafficAllowed",
            "06-install",
            "07-trafficBlocked"
        ]
    );
    let kinds = |i: usize| {
        access.steps[i]
            .operations
            .iter()
            .map(Operation::kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds(0), ["assert"]);
    assert_eq!(
        kinds(1),
        [
            "apply", "assert", "assert", "assert", "assert", "assert", "assert", "assert",
            "assert", "assert"
        ]
    );
    assert_eq!(kinds(2), ["custom"]);
    assert_eq!(kinds(5), ["delete", "absent", "absent"]);
    match &access.steps[5].operations[0] {
        Operation::Delete(d) => assert_eq!(d.objects.len(), 2),
        other => panic!("{other:?}"),
    }
    match &split.steps[10].operations[0] {
        Operation::Custom(c) => {
            assert_eq!(c.name, "trafficCGrtB");
            assert_eq!(c.args["test"], "traffic-split");
        }
        other => panic!("{other:?}"),
    }
    let suite = smi_assert::kuttl::load_suite(
        "upstream",
        &[fixture("upstream-conformance/traffic-access")],
    )
    .unwrap();
    assert_eq!(suite.tests[0].name, "traffic-access");
}

#[test]
fn a_missing_directory_is_an_error_naming_it() {
    let e = smi_assert::kuttl::load_test_dir(fixture("nope")).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

async fn run_dir(
    dir: &str,
    drop_first_step: bool,
    faults: &[Fault],
) -> smi_assert::report::TestResult {
    let mut test = load(dir);
    if drop_first_step {
        test.steps.remove(0);
    }
    let suite = Suite::builder("upstream").test(test).build().unwrap();
    let mesh = mesh_with(faults).await;
    let report = register_upstream_checks(runner(&mesh))
        .build()
        .unwrap()
        .run(&suite)
        .await
        .unwrap();
    report.tests.into_iter().next().unwrap()
}

#[tokio::test]
async fn upstream_traffic_access_fails_only_on_its_removed_v1beta1_crd_assert() {
    let r = run_dir("traffic-access", false, &[]).await;
    assert_eq!(r.status, Status::Failed);
    assert_eq!(r.steps[0].status, Status::Failed);
    assert!(r.message.contains("not found"), "{}", r.message);

    let r = run_dir("traffic-access", true, &[]).await;
    assert_eq!(r.status, Status::Passed, "{}", r.message);
    assert_eq!(r.steps.len(), 6);
}

#[tokio::test]
async fn upstream_traffic_spec_step_03_is_stopped_by_validation() {
    let r = run_dir("traffic-spec", true, &[]).await;
    assert_eq!(r.status, Status::Error);
    assert_eq!(r.steps[1].name, "03-install");
    assert!(
        r.message.contains("/matches") && r.message.contains("/spec/destination/port"),
        "{}",
        r.message
    );
}

#[tokio::test]
async fn upstream_traffic_split_needs_access_policy_on_a_default_deny_mesh() {
    let r = run_dir("traffic-split", true, &[]).await;
    assert_eq!(r.status, Status::Failed);
    assert_eq!(r.steps[1].name, "03-trafficDefault");
    assert!(
        r.message.contains("not served by a backend"),
        "{}",
        r.message
    );

    // Only a mesh that ignores access policy passes the upstream split directory as written.
    let r = run_dir("traffic-split", true, &[Fault::AllowAll]).await;
    assert_eq!(r.status, Status::Passed, "{}", r.message);
    assert_eq!(r.steps.len(), 10);
}

#[test]
fn a_kuttl_file_over_the_limit_is_refused_naming_it_with_its_size() {
    let dir = std::env::temp_dir().join(format!("smi-assert-kuttl-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("00-install.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\n",
    )
    .unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    let e = smi_assert::kuttl::Loader::new()
        .max_file_bytes(size - 1)
        .load_test_dir(&dir)
        .unwrap_err();
    match &e {
        smi_assert::Error::TooLarge {
            path,
            size: s,
            limit,
        } => {
            assert_eq!(path, &file);
            assert_eq!(*s, smi_assert::suite::InputSize::Exactly(size));
            assert_eq!(*limit, size - 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("00-install.yaml"), "{e}");
    let test = smi_assert::kuttl::Loader::new()
        .max_file_bytes(size)
        .load_test_dir(&dir)
        .unwrap();
    assert_eq!(test.steps.len(), 1);
}

#[test]
fn a_kuttl_file_that_is_not_utf8_is_an_error_with_its_line() {
    let dir = std::env::temp_dir().join(format!("smi-assert-kuttl-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("00-install.yaml"),
        b"kind: ConfigMap\nname: caf\xe9\n",
    )
    .unwrap();
    let e = smi_assert::kuttl::load_test_dir(&dir).unwrap_err();
    assert!(
        matches!(
            e,
            smi_assert::Error::NotUtf8 {
                line: 2,
                column: 10,
                ..
            }
        ),
        "{e:?}"
    );
}
