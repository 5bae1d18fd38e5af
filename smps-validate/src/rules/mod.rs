//! Semantic rules: what JSON Schema cannot say about SMP documents.
//!
//! The rules read the same canonical tree the schema saw and interpret values the way
//! smps-model's lenient reader does (numbers as numbers or strings, `"NaN"`/`"Infinity"`,
//! enums as numbers or names, `null` as "not set"). One file per kind of document (`result.rs`,
//! `config.rs`, `mesh.rs`: service mesh, environment, mesh configuration) and the shared value
//! readers (`common.rs`).

mod common;
mod config;
mod mesh;
mod result;

use smps_model::Kind;

use crate::tree::Tree;

pub(crate) use self::common::Sink;
use self::config::check_config;
use self::mesh::{check_environment, check_mesh_config, check_service_mesh};
use self::result::check_result;

/// Runs the rules of `kind` on a document of that kind.
pub(crate) fn check<T: Tree>(kind: Kind, m: &T::Map, sink: &mut Sink<'_>) {
    match kind {
        Kind::PerformanceTestResult => check_result::<T>(m, sink),
        Kind::PerformanceTestConfig => check_config::<T>(m, sink),
        Kind::ServiceMesh => check_service_mesh::<T>(m, sink),
        Kind::EnvironmentConfig => check_environment::<T>(m, sink),
        Kind::ServiceMeshConfig => check_mesh_config::<T>(m, sink),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::config::check_endpoint;
    use super::mesh::is_kubernetes_version;
    use super::*;
    use crate::violation::Rule;
    use serde_json::{Map, Value, json};
    use smps_model::Protocol;

    fn run(f: fn(&Map<String, Value>, &mut Sink<'_>), v: Value) -> Vec<(Rule, String)> {
        let mut out = Vec::new();
        f(v.as_object().unwrap(), &mut Sink { out: &mut out });
        out.into_iter()
            .map(|f| (f.rule, f.pointer.to_string()))
            .collect()
    }

    #[test]
    fn latency_order_average_and_values() {
        let got = run(
            check_result::<Value>,
            json!({"latenciesMs": {"min": 1, "p50": 5, "p90": 3, "p99": 9, "max": 8, "average": 20}}),
        );
        assert_eq!(
            got,
            vec![
                (Rule::LatencyOrder, "/latenciesMs/p90".into()),
                (Rule::LatencyOrder, "/latenciesMs/max".into()),
                (Rule::LatencyAverage, "/latenciesMs/average".into()),
            ]
        );
        let got = run(
            check_result::<Value>,
            json!({"latenciesMs": {"min": "NaN", "p50": -1, "max": "Infinity"}}),
        );
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|(r, _)| *r == Rule::LatencyValue));
    }

    #[test]
    fn seconds_in_milliseconds_fields_warn() {
        let got = run(
            check_result::<Value>,
            json!({"latenciesMs": {"min": 0.001, "p50": 0.01, "max": 0.3}}),
        );
        assert_eq!(got, vec![(Rule::LatencyUnit, "/latenciesMs".into())]);
        assert!(
            run(
                check_result::<Value>,
                json!({"latenciesMs": {"min": 1, "max": 30}})
            )
            .is_empty()
        );
    }

    #[test]
    fn end_before_start_and_bad_timestamps() {
        let got = run(
            check_result::<Value>,
            json!({"startTime": "2024-01-01T00:00:10Z", "endTime": "2024-01-01T00:00:09+00:00"}),
        );
        assert_eq!(got, vec![(Rule::TimeOrder, "/endTime".into())]);
        let got = run(check_result::<Value>, json!({"startTime": "yesterday"}));
        assert_eq!(got, vec![(Rule::Timestamp, "/startTime".into())]);
    }

    #[test]
    fn config_rules() {
        let got = run(
            check_config::<Value>,
            json!({"duration": "0s", "clients": [
                {"protocol": "http", "connections": 0, "rps": -1, "endpointUrls": ["/relative"]},
                {"protocol": 0, "endpointUrls": []},
                {"protocol": "PROTOCOL_TCP", "endpointUrls": ["db:5432", "http://x"]},
                {"protocol": "carrier pigeon", "rps": "9223372036854775808", "endpointUrls": ["http://ok"]}
            ]}),
        );
        let rules: Vec<Rule> = got.iter().map(|(r, _)| *r).collect();
        assert_eq!(
            rules,
            vec![
                Rule::Duration,
                Rule::Connections,
                Rule::Rate,
                Rule::Endpoint,
                Rule::EnumUnset,
                Rule::EndpointMissing,
                Rule::Endpoint,
                Rule::IntegerOverflow,
                Rule::EnumUnknown,
            ],
            "{got:?}"
        );
        assert_eq!(got[6].1, "/clients/2/endpointUrls/1");
    }

    #[test]
    fn endpoints_match_protocols() {
        assert!(check_endpoint("https://meshery.io/x?y", Some(Protocol::Http)).is_ok());
        assert!(check_endpoint("http://[::1]:8080/", None).is_ok());
        assert!(check_endpoint("ftp://x", Some(Protocol::Http)).is_err());
        assert!(check_endpoint("http://:80", Some(Protocol::Http)).is_err());
        assert!(check_endpoint("10.0.0.1:9000", Some(Protocol::Udp)).is_ok());
        assert!(check_endpoint("10.0.0.1", Some(Protocol::Tcp)).is_err());
        assert!(check_endpoint("dns:///svc.ns:50051", Some(Protocol::Grpc)).is_ok());
        assert!(check_endpoint("svc:99999", Some(Protocol::Grpc)).is_err());
    }

    #[test]
    fn kubernetes_versions() {
        for ok in [
            "v1.29.3",
            "1.15",
            "v1.15.5-gke.1",
            "gke-1.10.5",
            "v1.28.2+k3s1",
        ] {
            assert!(is_kubernetes_version(ok), "{ok}");
        }
        for bad in ["latest", "v1", "1.2.3.4", "vv1.2", "v1.2-", "1.x"] {
            assert!(!is_kubernetes_version(bad), "{bad}");
        }
    }

    #[test]
    fn negative_resources_are_found_at_any_depth() {
        let got = run(
            check_environment::<Value>,
            json!({"nodes": [{"cores": -2, "memMb": "99999999999999999999"}], "labels": {"count": "-1"}}),
        );
        assert_eq!(
            got,
            vec![
                (Rule::NegativeResource, "/nodes/0/cores".into()),
                (Rule::IntegerOverflow, "/nodes/0/memMb".into()),
            ]
        );
    }
}
