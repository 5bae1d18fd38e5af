//! Report formats.

use serde_json::json;
use smi_assert::features::{Implementation, Profile};
use smi_assert::report::{Capability, Report, Status};
use smi_assert::runner::Runner;
use smi_assert::suite::{Expect, Operation, Suite, Test, TrafficOp};

use crate::{access_app, mesh_with, short_timeouts};

async fn sample() -> Report {
    let mesh = mesh_with(&[]).await;
    let suite = Suite::builder("sample")
        .test(
            Test::builder("deny <ok>")
                .feature("access.default-deny")
                .step("install", vec![Operation::apply(access_app())])
                .step(
                    "denied",
                    vec![Operation::Traffic(TrafficOp::new("app-a", "http://app-b:9091/echo", Expect::Denied))],
                )
                .build(),
        )
        .test(
            Test::builder("path & fail")
                .feature("specs.http-route-path")
                .step("ghost", vec![Operation::assert(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ghost"}}))])
                .build(),
        )
        .test(Test::builder("headers").feature("specs.http-route-headers").step("s", vec![]).build())
        .build()
        .unwrap();
    Runner::builder(mesh.clone())
        .implementation(Implementation::new("org", "mesh", "1.2.3"))
        .timeouts(short_timeouts())
        .build()
        .unwrap()
        .run(&suite)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_format_reflects_the_results() {
    let r = sample().await;
    assert_eq!(r.test("deny <ok>").unwrap().status, Status::Passed);
    assert_eq!(r.test("path & fail").unwrap().status, Status::Failed);
    assert_eq!(r.test("headers").unwrap().status, Status::Skipped);

    let j = r.to_json();
    assert_eq!(j["kind"], "ConformanceReport");
    assert_eq!(j["implementation"]["version"], "1.2.3");
    let names: Vec<&str> = j["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["SMI-ACCESS", "SMI-SPECS", "SMI-SPLIT", "SMI-METRICS"]
    );
    assert_eq!(j["profiles"][0]["capability"], "Full");
    assert_eq!(j["profiles"][1]["core"]["statistics"]["Failed"], 1);
    assert_eq!(j["profiles"][1]["extended"]["statistics"]["Skipped"], 1);
    assert_eq!(j["profiles"][1]["capability"], "None");
    assert!(
        j["profiles"][1]["extended"]["unsupportedFeatures"]
            .as_array()
            .unwrap()
            .contains(&json!("specs.http-route-headers"))
    );
    assert!(j["tests"][0]["steps"][1]["operations"][0]["evidence"]["outcomes"]["EOF"].is_number());

    let x = r.to_junit_xml();
    assert!(x.starts_with("<?xml"));
    // The root element carries the totals (attribute order is the writer's, quick-junit's).
    let root = x.lines().find(|l| l.contains("<testsuites ")).unwrap();
    for attr in [
        "name=\"sample\"",
        "tests=\"4\"",
        "failures=\"1\"",
        "errors=\"0\"",
        "skipped=\"1\"",
    ] {
        assert!(root.contains(attr), "{attr} in {root}");
    }
    assert!(x.contains("<skipped message=\"unsupported feature(s): specs.http-route-headers\"/>"));
    assert!(
        x.contains("<property name=\"profile\" value=\"SMI-ACCESS\"/>"),
        "{x}"
    );
    assert!(x.contains("type=\"assert\">{"), "{x}");
    assert!(x.contains("<testsuite name=\"deny &lt;ok&gt;\""));
    assert!(
        x.contains("<failure message=\"v1 Service") || x.contains("<failure message=\"Service"),
        "{x}"
    );
    assert_eq!(x.matches("<testsuite ").count(), 3);

    let m = r.to_meshery_response();
    let specs: Vec<&str> = m["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["smispec"].as_str().unwrap())
        .collect();
    assert_eq!(specs, ["traffic-access", "traffic-split", "traffic-spec"]);
    assert_eq!(m["details"][0]["capability"], "FULL");
    assert_eq!(m["details"][0]["status"], "PASSED");
    assert_eq!(m["details"][0]["specversion"], "v0.6.0/v1alpha3");
    assert_eq!(m["details"][2]["capability"], "NONE");
    assert!(
        m["details"][2]["result"]["error"]["shortDescription"]
            .as_str()
            .unwrap()
            .contains("path & fail")
    );
    assert_eq!(m["casespassed"], "2");
    assert_eq!(m["passpercent"], "66.67");

    let a = r.to_meshery_adapter_json();
    assert_eq!(a["more_details"][0]["smi_specification"], "traffic-access");
    assert_eq!(a["passing_percentage"], "66.67");
    assert_eq!(a["mesh_version"], "1.2.3");

    let s = r.summary();
    assert!(
        s.contains("3 tests: 1 passed, 1 failed, 1 skipped, 0 errors"),
        "{s}"
    );
    assert!(s.contains("FAIL path & fail"));
    assert!(s.contains("SKIP headers"));
    assert_eq!(
        r.profile(Profile::Access).unwrap().capability,
        Capability::Full
    );
    assert_eq!(Capability::Partial.meshery(), "HALF");
}
