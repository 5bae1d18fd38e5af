//! Manifest validation and SMI types.

use serde_json::{Value, json};
use smi_assert::smi::{HttpRouteGroup, SmiResource, TrafficSplit, TrafficTarget, Version};
use smi_assert::suite::Operation;
use smi_assert::validate::{Severity, Validator, ViolationKind};

fn docs(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .expect("fixture readable")
        .replace("<NAMESPACE>", "t");
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
        .filter(|v: &Value| !v.is_null())
        .collect()
}

fn rules(findings: &[smi_assert::validate::Violation]) -> Vec<String> {
    findings
        .iter()
        .filter_map(|f| match &f.kind {
            ViolationKind::Rule { rule } => Some(rule.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn upstream_traffic_spec_step_03_is_rejected_at_both_bugs() {
    let v = Validator::new().unwrap();
    let objs = docs(&crate::fixture(
        "upstream-conformance/traffic-spec/03-install.yaml",
    ));
    let hrg = v.report(&objs[0]);
    assert!(
        hrg.iter()
            .any(|f| f.instance_path() == "/matches" && f.is_error()),
        "{hrg:?}"
    );
    assert!(
        hrg.iter().any(|f| f.instance_path() == "/spec"),
        "spec.matches missing: {hrg:?}"
    );
    let tt = v.report(&objs[1]);
    assert!(
        tt.iter()
            .any(|f| f.instance_path() == "/spec/destination/port"
                && matches!(&f.kind, ViolationKind::UnknownField { field } if field == "port")),
        "{tt:?}"
    );
    assert!(!v.is_valid(&objs[1]));
    assert!(v.validate(&objs[1]).is_err());
}

#[test]
fn upstream_access_and_split_manifests_are_valid() {
    let v = Validator::new().unwrap();
    for f in [
        "upstream-conformance/traffic-access/04-install.yaml",
        "upstream-conformance/traffic-split/08-install.yaml",
        "upstream-conformance/traffic-spec/05-install.yaml",
    ] {
        let objs = docs(&crate::fixture(f));
        let errors: Vec<_> = v
            .report_set(&objs, "t")
            .into_iter()
            .filter(|x| x.is_error())
            .collect();
        // 05-install still carries the string destination.port bug.
        if f.ends_with("05-install.yaml") {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].instance_path, "/spec/destination/port");
        } else {
            assert!(errors.is_empty(), "{f}: {errors:?}");
        }
    }
}

#[test]
fn every_manifest_of_the_bundled_suite_is_valid() {
    let v = Validator::new().unwrap();
    let suite = smi_assert::conformance::suite().unwrap();
    let mut sets: Vec<Vec<Value>> = suite.fixtures.values().cloned().collect();
    for t in &suite.tests {
        for s in &t.steps {
            for op in &s.operations {
                if let Operation::Apply(a) = op {
                    sets.push(a.objects.clone());
                }
            }
        }
    }
    for set in sets {
        let set: Vec<Value> = set
            .iter()
            .map(|o| smi_assert::runner::substitute(o, "ns"))
            .collect();
        let errors: Vec<_> = v
            .report_set(&set, "ns")
            .into_iter()
            .filter(|x| x.is_error())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn both_header_encodings_validate_and_parse_alike() {
    let v = Validator::new().unwrap();
    let mk = |headers: Value| {
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup",
               "metadata": {"name": "g"}, "spec": {"matches": [{"name": "m", "headers": headers}]}})
    };
    let map = mk(json!({"user-agent": ".*Android.*"}));
    let list = mk(json!([{"user-agent": ".*Android.*"}]));
    assert!(v.report(&map).is_empty(), "{:?}", v.report(&map));
    assert!(v.report(&list).is_empty());
    let a = HttpRouteGroup::from_manifest(&map).unwrap();
    let b = HttpRouteGroup::from_manifest(&list).unwrap();
    assert_eq!(
        a.matches[0].headers.as_ref().unwrap().entries,
        b.matches[0].headers.as_ref().unwrap().entries
    );
    let bad = mk(json!(["not a map"]));
    assert!(!v.is_valid(&bad));
}

#[test]
fn spec_rules_that_the_schema_cannot_express_are_enforced() {
    let v = Validator::new().unwrap();
    let tt = json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget",
        "metadata": {"name": "t"},
        "spec": {"destination": {"kind": "ServiceAccount", "name": "b"}, "rules": [], "sources": []}});
    let r = rules(&v.report(&tt));
    assert!(r.contains(&"access.rules-required".to_string()), "{r:?}");
    assert!(r.contains(&"access.sources-required".to_string()), "{r:?}");

    let hrg = json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup",
        "metadata": {"name": "g"},
        "spec": {"matches": [{"name": "m", "pathRegex": "(", "methods": ["FETCH"]}]}});
    let f = v.report(&hrg);
    let r = rules(&f);
    assert!(r.contains(&"specs.path-regex".to_string()), "{f:?}");
    assert!(r.contains(&"specs.method-enum".to_string()), "{f:?}");
    assert!(
        f.iter()
            .any(|x| matches!(x.kind, ViolationKind::Schema { .. })
                && x.instance_path == "/spec/matches/0/methods/0")
    );

    let split = |weights: Value, version: &str| {
        json!({"apiVersion": format!("split.smi-spec.io/{version}"), "kind": "TrafficSplit",
               "metadata": {"name": "s"},
               "spec": {"service": "web", "backends": [{"service": "web", "weight": weights}]}})
    };
    let f = v.report(&split(json!(1.5), "v1alpha4"));
    assert!(
        f.iter()
            .any(|x| x.instance_path == "/spec/backends/0/weight" && x.is_error())
    );
    assert!(f.iter().any(
        |x| rules(std::slice::from_ref(x)) == ["split.self-reference"]
            && x.severity == Severity::Warning
    ));
    assert!(!v.is_valid(&split(json!(-1), "v1alpha4")));
    assert!(!v.is_valid(&split(json!("500m"), "v1alpha4")));
    assert!(v.is_valid(&split(json!("500m"), "v1alpha1")));
}

#[test]
fn cross_object_rules_need_the_whole_set() {
    let v = Validator::new().unwrap();
    let set = vec![
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup",
               "metadata": {"name": "g"}, "spec": {"matches": [{"name": "real"}]}}),
        json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget",
               "metadata": {"name": "t"},
               "spec": {"destination": {"kind": "ServiceAccount", "name": "b"},
                        "sources": [{"kind": "ServiceAccount", "name": "a"}],
                        "rules": [{"kind": "HTTPRouteGroup", "name": "g", "matches": ["real", "typo"]}]}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "root"},
               "spec": {"ports": [{"port": 80}]}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "v2"},
               "spec": {"ports": [{"port": 8080}]}}),
        json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
               "metadata": {"name": "s"},
               "spec": {"service": "root", "backends": [{"service": "v2", "weight": 1}]}}),
    ];
    let f = v.report_set(&set, "ns");
    let missing = f
        .iter()
        .find(|x| rules(std::slice::from_ref(*x)) == ["access.match-exists"])
        .expect("typo reported");
    assert_eq!(missing.instance_path, "/spec/rules/0/matches/1");
    let port = f
        .iter()
        .find(|x| rules(std::slice::from_ref(*x)) == ["split.port-match"])
        .expect("port mismatch reported");
    assert_eq!(port.severity, Severity::Warning);
    assert!(
        v.report(&set[1]).is_empty(),
        "single-object report has no cross rules"
    );
}

#[test]
fn unknown_kinds_and_versions_are_parse_findings_and_core_kinds_are_ignored() {
    let v = Validator::new().unwrap();
    let udp = json!({"apiVersion": "specs.smi-spec.io/v1alpha3", "kind": "UDPRoute", "metadata": {"name": "u"}});
    let f = v.report(&udp);
    assert!(f.iter().any(|x| x.kind == ViolationKind::Parse), "{f:?}");
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"bogus": 1}});
    assert!(v.report(&svc).is_empty());
}

#[test]
fn resources_round_trip_in_their_version_layout() {
    let v1 = json!({"apiVersion": "access.smi-spec.io/v1alpha1", "kind": "TrafficTarget",
        "metadata": {"name": "t"},
        "destination": {"kind": "ServiceAccount", "name": "b", "port": 8080},
        "specs": [{"kind": "HTTPRouteGroup", "name": "g", "matches": ["m"]}],
        "sources": [{"kind": "ServiceAccount", "name": "a"}]});
    let t = TrafficTarget::from_manifest(&v1).unwrap();
    assert_eq!(t.version, Version::V1alpha1);
    assert_eq!(t.spec.destination.port, Some(8080));
    assert_eq!(t.spec.rules[0].name, "g");
    assert_eq!(t.to_manifest(), v1);
    let yaml = serde_yaml::to_string(&t).unwrap();
    let back: TrafficTarget = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(back, t);

    let hrg = json!({"apiVersion": "specs.smi-spec.io/v1alpha2", "kind": "HTTPRouteGroup",
        "metadata": {"name": "g"}, "matches": [{"name": "m", "pathRegex": "/x", "methods": ["GET"]}]});
    assert_eq!(
        HttpRouteGroup::from_manifest(&hrg).unwrap().to_manifest(),
        hrg
    );

    let ts = json!({"apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit",
        "metadata": {"name": "s"},
        "spec": {"service": "web", "backends": [{"service": "v1", "weight": "1"}, {"service": "v2", "weight": "500m"}]}});
    let split = TrafficSplit::from_manifest(&ts).unwrap();
    assert_eq!(split.to_manifest(), ts);
    let shares = split.shares();
    assert!((shares[0].1 - 2.0 / 3.0).abs() < 1e-9, "{shares:?}");

    let metrics = json!({"apiVersion": "metrics.smi-spec.io/v1alpha1", "kind": "TrafficMetrics",
        "metadata": {"name": "p"}, "resource": {"kind": "Pod", "name": "p", "namespace": "n"},
        "edge": {"direction": "to", "resource": {}}, "timestamp": "2019-04-08T22:25:55Z",
        "window": "30s", "metrics": [{"name": "success_count", "value": "100"}]});
    match SmiResource::from_manifest(&metrics).unwrap() {
        Some(SmiResource::TrafficMetrics(m)) => assert_eq!(m.metrics[0].value, "100"),
        other => panic!("{other:?}"),
    }
    let bad_kind = json!({"apiVersion": "access.smi-spec.io/v1alpha4", "kind": "TrafficTarget"});
    let e = SmiResource::from_manifest(&bad_kind).unwrap_err();
    assert!(
        matches!(&e, smi_assert::Error::ParseResource { pointer, .. } if pointer == "/apiVersion"),
        "{e:?}"
    );
}

/// Replaces the value at every position, one at a time, with each of a few wrong-typed values.
fn mutations(v: &Value) -> Vec<Value> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(k.clone());
                    walk(x, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(i.to_string());
                    walk(x, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut paths = Vec::new();
    walk(v, &mut Vec::new(), &mut paths);
    let mut out = Vec::new();
    for p in paths.iter().filter(|p| !p.is_empty()) {
        for replacement in [
            json!(null),
            json!(-1),
            json!(1.5),
            json!("x"),
            json!([]),
            json!({}),
            json!("99999999999999999999999E"),
        ] {
            let mut m = v.clone();
            let ptr = format!("/{}", p.join("/"));
            if let Some(slot) = m.pointer_mut(&ptr) {
                *slot = replacement;
                out.push(m);
            }
        }
    }
    out
}

#[test]
fn mutated_manifests_never_panic_the_validator_or_the_types() {
    let v = Validator::new().unwrap();
    let mut inputs = Vec::new();
    for f in [
        "upstream-conformance/traffic-access/04-install.yaml",
        "upstream-conformance/traffic-spec/03-install.yaml",
        "upstream-conformance/traffic-split/08-install.yaml",
    ] {
        inputs.extend(docs(&crate::fixture(f)));
    }
    inputs.push(json!({"apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit", "metadata": {"name": "s"},
        "spec": {"service": "a", "backends": [{"service": "b", "weight": "500m"}]}}));
    let mut checked = 0;
    for input in &inputs {
        for m in mutations(input) {
            let findings = v.report(&m);
            let _ = SmiResource::from_manifest(&m);
            let _ = v.report_set(std::slice::from_ref(&m), "ns");
            for f in findings {
                assert!(!f.message.is_empty());
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}

/// Every route manifest of the GAMMA suite (upstream's mesh test routes).
fn gamma_routes() -> Vec<Value> {
    let suite = smi_assert::gamma_suite::suite().unwrap();
    let mut out = Vec::new();
    for t in &suite.tests {
        for s in &t.steps {
            for op in &s.operations {
                if let Operation::Apply(a) = op {
                    out.extend(a.objects.iter().cloned());
                }
            }
        }
    }
    out.into_iter()
        .map(|m| smi_assert::runner::substitute(&m, "t"))
        .filter(|m| {
            m["apiVersion"]
                .as_str()
                .is_some_and(|a| a.starts_with("gateway.networking.k8s.io/"))
        })
        .collect()
}

#[test]
fn upstream_mesh_routes_are_valid_against_the_bundled_gateway_crds() {
    let v = Validator::new().unwrap();
    let routes = gamma_routes();
    assert!(routes.len() >= 20, "{}", routes.len());
    for r in &routes {
        let findings = v.report(r);
        assert!(
            findings.is_empty(),
            "{}: {findings:?}",
            r["metadata"]["name"]
        );
        assert!(
            smi_assert::gateway::Route::from_manifest(r)
                .unwrap()
                .is_some()
        );
    }
}

#[test]
fn gateway_routes_get_schema_unknown_field_and_rule_findings_at_their_pointer() {
    let v = Validator::new().unwrap();
    let route = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "r"},
        "spec": {
            "parentRefs": [{"group": "", "kind": "Service", "name": "echo", "port": 80}],
            "rules": [{
                "name": "a",
                "matches": [{"path": {"type": "Prefix", "value": "/x"}, "bogus": 1}],
                "backendRefs": [{"name": "echo-v1", "port": 8080, "weight": -1}]
            }, {
                "name": "a",
                "matches": [{"path": {"type": "Exact", "value": "/y"},
                             "headers": [{"type": "RegularExpression", "name": "v", "value": "("}]}],
                "filters": [{"type": "URLRewrite",
                             "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/z"}}}],
                "backendRefs": [{"name": "echo-v1", "port": 8080}]
            }]
        }
    });
    let f = v.report(&route);
    let at = |p: &str| f.iter().any(|x| x.instance_path() == p && x.is_error());
    assert!(at("/spec/rules/0/matches/0/path/type"), "{f:#?}");
    assert!(at("/spec/rules/0/matches/0/bogus"), "{f:#?}");
    assert!(at("/spec/rules/0/backendRefs/0/weight"), "{f:#?}");
    let r = rules(&f);
    for want in [
        "gamma.rule-name-unique",
        "gamma.regex",
        "gamma.replace-prefix-needs-prefix-match",
    ] {
        assert!(r.contains(&want.to_string()), "{want}: {r:?}");
    }
    // A Gateway API kind that is not bundled is refused, not waved through.
    let gw = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                    "metadata": {"name": "g"}, "spec": {}});
    assert!(v.report(&gw).iter().any(|x| x.is_error()));
    // GRPCRoute too.
    let grpc = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute",
                      "metadata": {"name": "g"},
                      "spec": {"parentRefs": [{"kind": "Service", "name": "echo"}],
                               "rules": [{"matches": [{"method": {"service": "a.B", "method": "C"}}]}]}});
    let f = v.report(&grpc);
    assert!(
        f.iter()
            .any(|x| x.instance_path() == "/spec/parentRefs/0/group"),
        "{f:#?}"
    );
    assert_eq!(
        f.iter().filter(|x| x.severity == Severity::Error).count(),
        1,
        "{f:#?}"
    );
}
