//! The fast path (plainly canonical JSON, checked without the jsonschema crate) must give
//! exactly the report of the full path, for valid and invalid documents alike. Documents are
//! canonical seeds of every kind, then JSON-aware mutations of them (a leaf replaced by a
//! tricky value, a key renamed, removed or repeated) and byte-level mutations.

use proptest::prelude::*;
use serde_json::{Value, json};
use smps_validate::{Format, Kind, Source, Validator};

fn seeds() -> Vec<Value> {
    vec![
        json!({
            "smpVersion": "v0.6.1", "id": "r-1", "labels": {"generator": "fortio", "run": "r1"},
            "startTime": "2024-05-01T10:01:00Z", "endTime": "2024-05-01T12:01:30.5+02:00",
            "latenciesMs": {"min": 0.299, "average": 5.694, "p50": 3.161, "p90": 13.621, "p99": 60.203, "max": 82.39},
            "actualQps": 3079.587, "detailsUri": "https://example.test/runs/1", "testId": "t",
            "meshConfigId": "m", "envId": "e"
        }),
        json!({
            "id": "cfg", "name": "load", "labels": {"team": "a"}, "duration": "30s",
            "clients": [{
                "internal": false, "loadGenerator": "fortio", "protocol": "PROTOCOL_HTTP",
                "connections": 4, "rps": "100", "headers": {"x-a": "b"}, "cookies": {},
                "body": "", "contentType": "application/json",
                "endpointUrls": ["http://127.0.0.1:8080/echo", "https://[::1]:9443/x"]
            }, {"protocol": "PROTOCOL_TCP", "connections": 1, "endpointUrls": ["db:5432"]}]
        }),
        json!({
            "kubernetesVersion": "v1.29.3",
            "nodes": [{"type": "n1", "cores": 4, "memMb": "4096", "count": 3}]
        }),
        json!({"type": "ISTIO", "version": "1.20.0", "labels": {"a": "b"}}),
        json!({
            "ingressGateway": {"count": 1}, "sidecar": {"cpuMcores": 10},
            "meshType": {"type": "LINKERD"}, "mtlsEnabled": true, "proxyConcurrency": 2
        }),
    ]
}

/// Values that sit on the edges of what the schema, the rules and the reader accept.
fn tricky() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(-1),
        json!(0),
        json!(1),
        json!(1.0),
        json!(0.5),
        json!(-0.0),
        json!(2_147_483_648_i64),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1e300),
        json!("NaN"),
        json!("Infinity"),
        json!("-1"),
        json!("9223372036854775808"),
        json!("x"),
        json!(""),
        json!("10s"),
        json!("0s"),
        json!("-1s"),
        json!("1h30m"),
        json!("2024-02-29T23:59:59Z"),
        json!("2023-02-29T00:00:00Z"),
        json!("2024-05-01t10:00:00z"),
        json!("2024-05-01T10:00:60Z"),
        json!("2024-05-01T10:00:00.1234567891Z"),
        // Values the typed reader parses beyond their JSON type: the fast path makes no typed
        // read, so each must be refused by the schema or a rule exactly when the reader
        // refuses it.
        json!("s"),
        json!(".5s"),
        json!("1.s"),
        json!("+1s"),
        json!("1h-30m"),
        json!("99999999999999999999h"),
        json!("9223372036854775807"),
        json!("-9223372036854775809"),
        json!("+0"),
        json!(3),
        json!(99),
        json!("ISTIO"),
        json!("istio"),
        json!("PROTOCOL_GRPC"),
        json!("0000-01-01T00:00:00Z"),
        json!("2024-05-01T10:00:00+24:00"),
        json!("2024-05-01T10:00:00.Z"),
        json!("2024-05-01 10:00:00Z"),
        json!("PROTOCOL_INVALID"),
        json!("PROTOCOL_UDP"),
        json!("http"),
        json!("http://a:0"),
        json!("host:80"),
        json!("v1"),
        json!([]),
        json!(["http://ok"]),
        json!({}),
        json!({"p50": 1}),
    ]
}

fn full() -> &'static Validator {
    static V: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| Validator::builder().fast_path(false).build().unwrap())
}

fn fast() -> &'static Validator {
    static V: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| Validator::new().unwrap())
}

/// Same answers from both validators, in all three tiers, with and without a given kind.
fn same(text: &str) {
    same_as(text, Format::Json);
}

fn same_as(text: &str, format: Format) {
    for kind in [
        None,
        Some(Kind::PerformanceTestResult),
        Some(Kind::PerformanceTestConfig),
    ] {
        let mut src = Source::text(text).format(format);
        if let Some(k) = kind {
            src = src.kind(k);
        }
        let a = full().report(&src).map_err(|e| e.to_string());
        let b = fast().report(&src).map_err(|e| e.to_string());
        assert_eq!(a, b, "reports differ for {text}");
        assert_eq!(full().is_valid(&src), fast().is_valid(&src), "{text}");
        let a = full().validate(&src).map_err(|e| e.to_string());
        let b = fast().validate(&src).map_err(|e| e.to_string());
        assert_eq!(a, b, "first findings differ for {text}");
    }
}

/// Every leaf and container of `v`, as JSON pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                pointers(c, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                pointers(c, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Block YAML with plain scalars wherever a plain scalar can stand, in one of two layouts
/// for sequences of mappings (`- key: v` or `-` then an indented block) and with small
/// objects of scalars as flow mappings when `flow` is set.
fn to_yaml(v: &Value, compact: bool, flow: bool) -> String {
    fn scalar(v: &Value) -> String {
        match v {
            Value::String(s)
                if !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._/:-@ ".contains(c))
                    && !s.contains(": ")
                    && !s.ends_with(':')
                    && !s.starts_with([' ', '-', ':', '@'])
                    && !s.ends_with(' ') =>
            {
                s.clone()
            }
            other => other.to_string(),
        }
    }
    fn is_scalar(v: &Value) -> bool {
        !v.is_object() && !v.is_array()
    }
    fn node(v: &Value, indent: usize, compact: bool, flow: bool, out: &mut String) {
        let pad = " ".repeat(indent);
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    match c {
                        Value::Object(inner)
                            if flow && !inner.is_empty() && inner.values().all(is_scalar) =>
                        {
                            let items: Vec<String> = inner
                                .iter()
                                .map(|(k, v)| format!("{k}: {}", scalar(v)))
                                .collect();
                            out.push_str(&format!("{pad}{k}: {{{}}}\n", items.join(", ")));
                        }
                        Value::Object(inner) if !inner.is_empty() => {
                            out.push_str(&format!("{pad}{k}:\n"));
                            node(c, indent + 2, compact, flow, out);
                        }
                        Value::Array(items) if !items.is_empty() => {
                            out.push_str(&format!("{pad}{k}:\n"));
                            node(c, indent + 2, compact, flow, out);
                        }
                        _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(c))),
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(m) if compact && !m.is_empty() => {
                            let mut inner = String::new();
                            node(item, indent + 2, compact, flow, &mut inner);
                            out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                        }
                        Value::Object(m) if !m.is_empty() => {
                            out.push_str(&format!("{pad}-\n"));
                            node(item, indent + 2, compact, flow, out);
                        }
                        _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                    }
                }
            }
            other => out.push_str(&format!("{pad}{}\n", scalar(other))),
        }
    }
    let mut out = String::new();
    node(v, 0, compact, flow, &mut out);
    out
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, usize),
    Remove(usize),
    SnakeCase(usize),
    Unknown(usize),
}

fn apply(doc: &mut Value, edit: &Edit) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let pick = |i: usize| all[i % all.len()].clone();
    match *edit {
        Edit::Replace(at, with) => {
            let values = tricky();
            if let Some(slot) = doc.pointer_mut(&pick(at)) {
                *slot = values[with % values.len()].clone();
            }
        }
        Edit::Remove(at) | Edit::SnakeCase(at) | Edit::Unknown(at) => {
            let p = pick(at);
            let Some((parent, key)) = p.rsplit_once('/') else {
                return;
            };
            let Some(Value::Object(m)) = doc.pointer_mut(parent) else {
                return;
            };
            let Some(v) = m.remove(key) else { return };
            match edit {
                Edit::SnakeCase(_) => {
                    let snake: String = key
                        .chars()
                        .flat_map(|c| {
                            let lower = c.to_ascii_lowercase();
                            if c.is_ascii_uppercase() {
                                vec!['_', lower]
                            } else {
                                vec![c]
                            }
                        })
                        .collect();
                    m.insert(snake, v);
                }
                Edit::Unknown(_) => {
                    m.insert(format!("{key}X"), v);
                }
                _ => {}
            }
        }
    }
}

/// Byte edits `(position, replace|insert|delete, byte from pool)` applied to `text`.
fn mutate(text: String, edits: &[(u16, u8, u8)], pool: &[u8]) -> Vec<u8> {
    let mut b = text.into_bytes();
    for &(pos, op, byte) in edits {
        let p = usize::from(pos) % b.len().max(1);
        let byte = pool[usize::from(byte) % pool.len()];
        match op {
            0 if !b.is_empty() => b[p] = byte,
            2 if !b.is_empty() => {
                b.remove(p);
            }
            _ => b.insert(p.min(b.len()), byte),
        }
    }
    b
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Replace(a, b)),
        1 => any::<usize>().prop_map(Edit::Remove),
        1 => any::<usize>().prop_map(Edit::SnakeCase),
        1 => any::<usize>().prop_map(Edit::Unknown),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(0xfa57), ..ProptestConfig::default() })]

    #[test]
    fn json_mutations_get_the_same_report(seed in 0..5usize, edits in prop::collection::vec(edit(), 1..4)) {
        let mut doc = seeds()[seed].clone();
        for e in &edits {
            apply(&mut doc, e);
        }
        same(&doc.to_string());
        same(&serde_json::to_string_pretty(&doc).unwrap());
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_seed: proptest::test_runner::RngSeed::Fixed(0xfa57), ..ProptestConfig::default() })]

    #[test]
    fn yaml_renderings_get_the_same_report(seed in 0..5usize, edits in prop::collection::vec(edit(), 0..4), compact: bool, flow: bool) {
        let mut doc = seeds()[seed].clone();
        for e in &edits {
            apply(&mut doc, e);
        }
        same_as(&to_yaml(&doc, compact, flow), Format::Yaml);
        same_as(&serde_yaml::to_string(&doc).unwrap(), Format::Yaml);
    }

    #[test]
    fn yaml_byte_mutations_get_the_same_report(seed in 0..5usize, compact: bool, edits in prop::collection::vec((any::<u16>(), 0u8..3, any::<u8>()), 1..4)) {
        let b = mutate(to_yaml(&seeds()[seed], compact, true), &edits, b"{}[]:,-\"' #&*!|>\n0.9eE_aZ~\x11\x7f");
        if let Ok(text) = std::str::from_utf8(&b) {
            same_as(text, Format::Yaml);
        }
    }

    #[test]
    fn byte_mutations_get_the_same_report(seed in 0..5usize, edits in prop::collection::vec((any::<u16>(), 0u8..3, any::<u8>()), 1..4)) {
        let b = mutate(seeds()[seed].to_string(), &edits, b"{}[]:,-\"\\ 0.9eE_aZ");
        if let Ok(text) = std::str::from_utf8(&b) {
            same(text);
        }
    }
}

/// Every edge value at every leaf and container of every seed, one at a time, as JSON and as
/// block YAML: the fast path, which makes no typed read, answers exactly as the full path,
/// which does.
#[test]
fn every_edge_value_at_every_leaf_gets_the_same_report() {
    for seed in seeds() {
        let mut at = Vec::new();
        pointers(&seed, String::new(), &mut at);
        for pointer in at.iter().filter(|p| !p.is_empty()) {
            for value in tricky() {
                let mut doc = seed.clone();
                *doc.pointer_mut(pointer).unwrap() = value;
                for (text, format) in [
                    (doc.to_string(), Format::Json),
                    (to_yaml(&doc, false, false), Format::Yaml),
                ] {
                    let src = Source::text(&text).format(format);
                    let a = full().report(&src).map_err(|e| e.to_string());
                    let b = fast().report(&src).map_err(|e| e.to_string());
                    assert_eq!(a, b, "reports differ for {text}");
                }
            }
        }
    }
}

#[test]
fn canonical_seeds_are_valid_either_way() {
    for seed in seeds() {
        let text = seed.to_string();
        same(&text);
        assert!(fast().is_valid_str(&text), "{text}");
        for (compact, flow) in [(true, true), (false, false)] {
            let yaml = to_yaml(&seed, compact, flow);
            same_as(&yaml, Format::Yaml);
            assert!(
                fast().is_valid(&Source::text(yaml.as_str()).format(Format::Yaml)),
                "{yaml}"
            );
        }
    }
}

#[test]
fn repeated_keys_and_null_fields_get_the_same_report() {
    for text in [
        r#"{"latenciesMs": {"p50": 1, "p50": 2}}"#,
        r#"{"latenciesMs": {"p50": 1}, "id": null, "id": "x"}"#,
        r#"{"latenciesMs": {"p50": 1}, "labels": {"a": "b", "a": "c"}}"#,
        r#"{"latenciesMs": {"p50": 1}, "labels": {"a": null}}"#,
        r#"[{"latenciesMs": {"p50": 1}}]"#,
        r#"{"test": {"duration": "1s"}, "mesh": {"type": "ISTIO"}}"#,
        r#"{"kubernetes": "v1.2.3"}"#,
    ] {
        same(text);
    }
}

/// Plain documents with findings: the fast path hands its own tree to the full path (instead of
/// a second parse) and, when its schema check refused the document, skips the jsonschema
/// validity pre-test. Reports must not change: schema errors of every shape, rule findings only,
/// warnings only, values the compiled schema refuses but jsonschema accepts (`1.0` as an
/// integer), root arrays and numbers at the edges of the reader's exact float path.
#[test]
fn plain_documents_with_findings_get_the_same_report() {
    let result = |latencies: &str, extra: &str| {
        format!(
            "{{\n  \"smpVersion\": \"v0.6.1\",\n  \"id\": \"r-1\",\n  \"labels\": {{\"generator\": \"fortio\"}},\n  \"startTime\": \"2024-05-01T10:00:00Z\",\n  \"endTime\": \"2024-05-01T10:00:30.5Z\",\n  \"latenciesMs\": {latencies}{extra}\n}}\n"
        )
    };
    let ok = r#"{"min": 1.542, "average": 12.56, "p50": 9.862, "p90": 26.277, "p99": 61.868, "max": 159.593}"#;
    let mut texts = vec![
        result(ok, ""),
        result(r#"{"min": 1.5, "p99": "61.868ms"}"#, ""),
        result("[1.5, 159.593]", ""),
        result(ok, r#", "actualQps": "fast""#),
        result(ok, r#", "colour": "blue""#),
        result(r#"{"p50": 3, "p90": 2}"#, ""),
        result(r#"{"p50": 0.2, "p90": 0.3}"#, ""),
        result(r#"{"p50": 1e-400}"#, ""),
        result(r#"{"p50": 1.7976931348623157e308, "p90": 1e22, "p99": 1e23}"#, ""),
        result(r#"{"p50": 12345678901234567890123}"#, ""),
        result(r#"{"p50": -0.0, "p90": -0}"#, ""),
        r#"{"latenciesMs": {"p50": 1}, "labels": {"generator": 7}}"#.to_owned(),
        r#"{"latenciesMs": {"p50": 1}, "id": 42}"#.to_owned(),
        r#"{"latenciesMs": {"p50": 1}, "endTime": "2024-13-45 25:00"}"#.to_owned(),
        r#"{"latenciesMs": {"p50": 1}, "startTime": "2024-05-01T10:00:00Z", "endTime": "2024-05-01T09:00:00Z"}"#.to_owned(),
        r#"{"clients": [{"connections": 1.0, "endpointUrls": ["http://a/"]}], "duration": "1s"}"#.to_owned(),
        r#"{"clients": [{"connections": 3000000000}], "duration": "1s"}"#.to_owned(),
        r#"[{"latenciesMs": {"p50": 1}}, {"latenciesMs": {"p50": "x"}}]"#.to_owned(),
        r#"{"nodes": [{"cores": -1}], "kubernetesVersion": "1.29"}"#.to_owned(),
        r#"{"hello": "world"}"#.to_owned(),
        "[]".to_owned(),
        "42".to_owned(),
    ];
    texts.push(texts[1].replace('\n', "\r\n"));
    for text in &texts {
        same(text);
    }
}

/// Text inputs are checked for NUL bytes after the plain JSON reader has had its go (it refuses
/// them); the error must be the one the full path gives, wherever the NUL byte is.
#[test]
fn nul_bytes_in_text_are_the_same_error_either_way() {
    for text in [
        "{\"latenciesMs\": {\"p50\": 1}, \"id\": \"a\0b\"}",
        "{\"latenciesMs\": {\"p50\": 1}}\0",
        "\0{\"latenciesMs\": {\"p50\": 1}}",
        "{\"latenciesMs\": {\"p50\": 1},\0 \"id\": \"x\"}",
        "{\"labels\": {\"a\0\": \"b\"}, \"latenciesMs\": {\"p50\": 1}}",
    ] {
        same(text);
        let e = fast().report_str(text).unwrap_err();
        assert!(e.to_string().contains("NUL"), "{text:?}: {e}");
    }
    for text in [
        "latenciesMs:\n  p50: 1\nid: a\0b\n",
        "id: \"a\0b\"\nlatenciesMs: {p50: 1}\n",
    ] {
        same_as(text, Format::Yaml);
        let e = fast()
            .report(&Source::text(text).format(Format::Yaml))
            .unwrap_err();
        assert!(e.to_string().contains("NUL"), "{text:?}: {e}");
    }
}

/// Found by the fuzz target: libyaml (smps-model's reader) refuses control characters the
/// plain YAML reader once let through, so the fast path called such a document valid.
#[test]
fn yaml_with_characters_libyaml_refuses_is_not_valid_either_way() {
    for c in ['\u{11}', '\u{7f}', '\u{85}'] {
        let text =
            format!("smpVersion: v0.6.1\nlatenciesMs:\n  p50: 1\ndetailsUri: https://x{c}y/\n");
        invalid_yaml_either_way(&text);
    }
}

/// The same report from both paths for YAML `text`, and not a valid one.
fn invalid_yaml_either_way(text: &str) {
    same_as(text, Format::Yaml);
    let report = fast()
        .report(&Source::text(text).format(Format::Yaml))
        .unwrap();
    assert!(!report.is_valid(), "{text:?}: {report:?}");
}

/// Found by the fuzz target: libyaml reads a plain key of digits as an integer, and fails on
/// one beyond 64 bits; the plain YAML reader took it for a string and called the document
/// valid.
#[test]
fn yaml_keys_readers_resolve_as_numbers_get_the_same_report() {
    let long = format!(
        "smpVersion: v0.6.1\nlabels:\n  {}: mesh-1\n",
        "6".repeat(33)
    );
    invalid_yaml_either_way(&long);
    same_as("smpVersion: v0.6.1\nlabels:\n  8080: x\n", Format::Yaml);
}
