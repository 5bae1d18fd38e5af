//! The validator and smps-model agree (issue 13): over generated documents of every kind,
//! written as JSON and as YAML with keys in snake_case, camelCase or a legacy alias, the
//! validator calls a document valid exactly when `smps_model::read` reads it, with the same
//! kind, and JSON and YAML of the same content get the same verdict.
//!
//! The values are drawn around the reading rules: text, numbers and booleans in text fields
//! (read as their text: a `read-as-text` warning), numbers where numbers belong, YAML's `.inf`,
//! text that is not a duration or timestamp, unknown fields, and documents of no known kind.
//! Strings where the model reads numbers, booleans or timestamps (`cores: "4"`,
//! `mtlsEnabled: "true"`, a timestamp with a space) are in too: the schema refuses them, the
//! model reads them, so they are `non-canonical` warnings. Values that only the validator's
//! semantic rules refuse (latencies out of order, zero connections, endpoints that do not fit
//! the protocol) are outside the property: the model reads those on purpose.

use proptest::prelude::*;
use smps_model::{Kind, ReadOptions};
use smps_validate::{Format, Source, Validator};

/// A value, written the same way in JSON and YAML where both can.
#[derive(Debug, Clone)]
enum Val {
    Text(&'static str),
    Int(i64),
    /// A float written as this literal in both formats (`1e3`, `2.5`).
    Float(&'static str),
    Bool(bool),
    Null,
    /// Infinity: `.inf` in YAML, `"Infinity"` in JSON.
    Inf,
    List(Vec<Val>),
    Map(Vec<(String, Val)>),
}

impl Val {
    fn json(&self, out: &mut String) {
        match self {
            Val::Text(t) => out.push_str(&serde_json::to_string(t).unwrap()),
            Val::Int(i) => out.push_str(&i.to_string()),
            Val::Float(f) => out.push_str(f),
            Val::Bool(b) => out.push_str(&b.to_string()),
            Val::Null => out.push_str("null"),
            Val::Inf => out.push_str("\"Infinity\""),
            Val::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.json(out);
                }
                out.push(']');
            }
            Val::Map(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push_str(": ");
                    v.json(out);
                }
                out.push('}');
            }
        }
    }

    /// Block YAML for mappings and lists (flow for empty ones), plain scalars otherwise.
    fn yaml(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match self {
            Val::Map(members) if !members.is_empty() => {
                for (k, v) in members {
                    out.push_str(&pad);
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    v.yaml_after_key(indent, out);
                }
            }
            Val::List(items) if !items.is_empty() => {
                for v in items {
                    out.push_str(&pad);
                    out.push('-');
                    v.yaml_after_key(indent, out);
                }
            }
            other => {
                out.push_str(&pad);
                other.yaml_scalar(out);
                out.push('\n');
            }
        }
    }

    fn yaml_after_key(&self, indent: usize, out: &mut String) {
        match self {
            Val::Map(m) if !m.is_empty() => {
                out.push('\n');
                self.yaml(indent + 2, out);
            }
            Val::List(l) if !l.is_empty() => {
                out.push('\n');
                self.yaml(indent + 2, out);
            }
            other => {
                out.push(' ');
                other.yaml_scalar(out);
                out.push('\n');
            }
        }
    }

    fn yaml_scalar(&self, out: &mut String) {
        match self {
            Val::Inf => out.push_str(".inf"),
            Val::Null => out.push('~'),
            Val::List(_) => out.push_str("[]"),
            Val::Map(_) => out.push_str("{}"),
            other => other.json(out),
        }
    }
}

/// A key in one of the spellings the readers accept.
fn spelled(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(names).prop_map(str::to_owned)
}

/// A free text field's value: text, or a number or boolean read as text.
fn text_value() -> impl Strategy<Value = Val> {
    prop_oneof![
        4 => proptest::sample::select(&["v0.6.1", "x", "", "1e3", "Infinity"][..]).prop_map(Val::Text),
        1 => proptest::sample::select(&["1e3", "1.20", "2.5", "-0.5"][..]).prop_map(Val::Float),
        1 => (-5i64..100_000).prop_map(Val::Int),
        1 => any::<bool>().prop_map(Val::Bool),
        1 => Just(Val::Inf),
        1 => Just(Val::Null),
    ]
}

/// A count: an integer, its text (a lenient spelling readers accept), or something no reader
/// takes as one.
fn count_value() -> impl Strategy<Value = Val> {
    prop_oneof![
        4 => (0i64..64).prop_map(Val::Int),
        1 => proptest::sample::select(&["4", "x", "1e3", "4.0"][..]).prop_map(Val::Text),
        1 => proptest::sample::select(&["4.0", "1.5", "1e3"][..]).prop_map(Val::Float),
        1 => Just(Val::Bool(true)),
        1 => Just(Val::Null),
    ]
}

fn member(
    key: impl Strategy<Value = String>,
    value: impl Strategy<Value = Val>,
) -> impl Strategy<Value = Option<(String, Val)>> {
    proptest::option::weighted(0.7, (key, value))
}

fn labels() -> impl Strategy<Value = Val> {
    proptest::collection::vec((spelled(&["team", "run_id", "a"]), text_value()), 0..3)
        .prop_map(|m| Val::Map(dedup(m)))
}

/// Keeps the first of repeated keys (a repeat is a finding of its own, not a reading rule).
fn dedup(members: Vec<(String, Val)>) -> Vec<(String, Val)> {
    let mut seen = std::collections::HashSet::new();
    members
        .into_iter()
        .filter(|(k, _)| seen.insert(smps_model::spelling::canonical_key(k).into_owned()))
        .collect()
}

fn object(members: Vec<Option<(String, Val)>>) -> Val {
    Val::Map(dedup(members.into_iter().flatten().collect()))
}

fn environment() -> impl Strategy<Value = Val> {
    let version = prop_oneof![
        3 => proptest::sample::select(&["v1.29.3", "gke-1.10.5", "1.28"][..]).prop_map(Val::Text),
        1 => Just(Val::Float("1.29")),
        1 => Just(Val::Int(1)),
    ];
    let node = (
        member(spelled(&["cores"]), count_value()),
        member(spelled(&["mem_mb", "memMb"]), count_value()),
        member(spelled(&["type"]), text_value()),
    )
        .prop_map(|(a, b, c)| object(vec![a, b, c]));
    (
        member(
            spelled(&["kubernetes_version", "kubernetesVersion", "kubernetes"]),
            version,
        ),
        member(
            spelled(&["nodes"]),
            proptest::collection::vec(node, 0..3).prop_map(Val::List),
        ),
        member(
            spelled(&["smp_version", "smpVersion", "smps_version"]),
            text_value(),
        ),
        member(spelled(&["labels"]), labels()),
        member(spelled(&["colour"]), text_value()),
    )
        .prop_map(|(a, b, c, d, e)| object(vec![a, b, c, d, e]))
}

fn service_mesh() -> impl Strategy<Value = Val> {
    let mesh_type = prop_oneof![
        proptest::sample::select(&["ISTIO", "linkerd", "BOGUS", "3"][..]).prop_map(Val::Text),
        Just(Val::Int(3)),
        Just(Val::Float("2.5")),
    ];
    (
        member(spelled(&["type"]), mesh_type),
        member(spelled(&["version"]), text_value()),
        member(spelled(&["annotations"]), labels()),
    )
        .prop_map(|(a, b, c)| object(vec![a, b, c]))
}

fn result() -> impl Strategy<Value = Val> {
    let latency = prop_oneof![
        3 => Just(Val::Map(vec![("p50".into(), Val::Float("2.5")), ("p99".into(), Val::Int(12))])),
        1 => Just(Val::Map(vec![("p50".into(), Val::Text("2.5")), ("p99".into(), Val::Text("12"))])),
        1 => Just(Val::Map(vec![("p50".into(), Val::Text("fast"))])),
        1 => Just(Val::Map(vec![("avg".into(), Val::Int(4)), ("max".into(), Val::Int(40))])),
        1 => Just(Val::Text("fast")),
    ];
    let start = prop_oneof![
        3 => Just(Val::Text("2024-05-01T10:00:00Z")),
        1 => proptest::sample::select(&["2024-05-01 10:00:00Z", "2024-05-01t10:00:00+02:00"][..])
            .prop_map(Val::Text),
        1 => Just(Val::Text("yesterday")),
        1 => Just(Val::Int(5)),
    ];
    let qps = prop_oneof![
        3 => Just(Val::Float("99.5")),
        1 => Just(Val::Int(10)),
        1 => Just(Val::Bool(true)),
        1 => proptest::sample::select(&["many", "99.5", "1e2"][..]).prop_map(Val::Text),
    ];
    (
        member(spelled(&["latencies_ms", "latenciesMs"]), latency),
        member(spelled(&["start_time", "startTime"]), start),
        member(spelled(&["actual_qps", "actualQps", "actual_QPS"]), qps),
        member(spelled(&["test_id", "testId", "id"]), text_value()),
        member(spelled(&["smp_version", "smps_version"]), text_value()),
        member(spelled(&["labels"]), labels()),
    )
        .prop_map(|(a, b, c, d, e, f)| object(vec![a, b, c, d, e, f]))
}

fn config() -> impl Strategy<Value = Val> {
    let duration = prop_oneof![
        3 => proptest::sample::select(&["30s", "1h30m", "500ms"][..]).prop_map(Val::Text),
        1 => Just(Val::Text("soon")),
        1 => Just(Val::Int(30)),
    ];
    let client = (
        member(spelled(&["connections"]), (1i64..8).prop_map(Val::Int)),
        member(
            spelled(&["rps"]),
            prop_oneof![
                (1i64..500).prop_map(Val::Int),
                Just(Val::Text("10")),
                Just(Val::Text("lots"))
            ],
        ),
        member(spelled(&["load_generator", "loadGenerator"]), text_value()),
        member(spelled(&["headers"]), labels()),
    )
        .prop_map(|(a, b, c, d)| {
            let mut m = vec![
                Some(("protocol".to_owned(), Val::Text("PROTOCOL_HTTP"))),
                Some((
                    "endpoint_urls".to_owned(),
                    Val::List(vec![Val::Text("http://127.0.0.1:1/")]),
                )),
            ];
            m.extend([a, b, c, d]);
            object(m)
        });
    // A configuration without a duration or a client is a semantic finding (the model reads
    // it): both are always there.
    (
        member(spelled(&["name"]), text_value()),
        (spelled(&["duration"]), duration).prop_map(Some),
        (
            spelled(&["clients"]),
            proptest::collection::vec(client, 1..3).prop_map(Val::List),
        )
            .prop_map(Some),
        member(spelled(&["labels"]), labels()),
    )
        .prop_map(|(a, b, c, d)| object(vec![a, b, c, d]))
}

fn resources() -> impl Strategy<Value = Val> {
    (
        member(spelled(&["count"]), count_value()),
        member(
            spelled(&["cpu_mcores", "cpuMcores", "cpu_mCores"]),
            count_value(),
        ),
    )
        .prop_map(|(a, b)| object(vec![a, b]))
}

fn mesh_config() -> impl Strategy<Value = Val> {
    (
        member(spelled(&["sidecar", "sidecars"]), resources()),
        member(spelled(&["ingress_gateway", "ingressGateway"]), resources()),
        member(
            spelled(&["mtls_enabled", "mtlsEnabled"]),
            any::<bool>().prop_map(Val::Bool),
        ),
        member(spelled(&["mesh_build", "meshBuild"]), text_value()),
    )
        .prop_map(|(a, b, c, d)| object(vec![a, b, c, d]))
}

fn document() -> impl Strategy<Value = Val> {
    prop_oneof![
        environment(),
        service_mesh(),
        result(),
        config(),
        mesh_config()
    ]
}

/// The validator's verdict and kind, and the model's.
fn verdicts(v: &Validator, text: &str, format: Format) -> (bool, Option<Kind>, bool, Option<Kind>) {
    let (valid, kind) = match v.report(&Source::text(text).format(format)) {
        Ok(r) => (r.is_valid(), r.documents().first().and_then(|d| d.kind)),
        Err(_) => (false, None),
    };
    let model_format = match format {
        Format::Json => smps_model::Format::Json,
        _ => smps_model::Format::Yaml,
    };
    let read = smps_model::read(text, &ReadOptions::default().with_format(model_format));
    let read_kind = read.as_ref().ok().map(smps_model::Document::kind);
    (valid, kind, read.is_ok(), read_kind)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn validate_says_valid_exactly_when_the_model_reads_in_both_formats(doc in document()) {
        static VALIDATOR: std::sync::LazyLock<Validator> = std::sync::LazyLock::new(crate::validator);
        let v = &*VALIDATOR;
        let mut json = String::new();
        doc.json(&mut json);
        let mut yaml = String::new();
        doc.yaml(0, &mut yaml);
        let (json_valid, json_kind, json_read, json_read_kind) = verdicts(v, &json, Format::Json);
        let (yaml_valid, yaml_kind, yaml_read, yaml_read_kind) = verdicts(v, &yaml, Format::Yaml);
        prop_assert_eq!(json_valid, json_read, "JSON {}", json);
        prop_assert_eq!(yaml_valid, yaml_read, "YAML\n{}", yaml);
        prop_assert_eq!(json_valid, yaml_valid, "JSON {}\nYAML\n{}", json, yaml);
        if json_valid {
            prop_assert_eq!(json_kind, json_read_kind, "JSON {}", json);
            prop_assert_eq!(yaml_kind, yaml_read_kind, "YAML\n{}", yaml);
            prop_assert_eq!(json_kind, yaml_kind, "JSON {}", json);
        }
    }
}
