//! Issue 12, "Trustworthy under bad conditions": the smps-validate parts.

use smps_validate::{DEFAULT_MAX_FINDINGS, Format, Rule, Source, Validator};

use crate::validator;

/// `{"duration": "1s", "clients": [{}, {}, ...]}`: one `endpoint-missing` error per client.
fn empty_clients(n: usize) -> String {
    let mut text = String::with_capacity(40 + 4 * n);
    text.push_str("{\"duration\": \"1s\", \"clients\": [");
    for i in 0..n {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str("{}");
    }
    text.push_str("]}");
    text
}

/// A JSON array of `n` results, each with one `latency-order` error (p50 > p90), one per line.
fn results_with_one_error_each(n: usize) -> String {
    let mut text = String::from("[\n");
    for i in 0..n {
        let sep = if i + 1 < n { "," } else { "" };
        text.push_str(&format!(
            "{{\"smpVersion\": \"v0.6.1\", \"latenciesMs\": {{\"p50\": {}, \"p90\": 1}}, \"actualQps\": 10}}{sep}\n",
            i + 2
        ));
    }
    text.push(']');
    text
}

#[test]
fn a_million_empty_clients_complete_with_the_findings_capped_and_counted() {
    let text = empty_clients(1_000_000);
    let report = validator()
        .report(&Source::text(text.as_str()).format(Format::Json))
        .unwrap();
    assert!(!report.is_valid());
    assert_eq!(report.violations().len(), DEFAULT_MAX_FINDINGS);
    assert_eq!(report.omitted(), 1_000_000 - DEFAULT_MAX_FINDINGS);
    assert_eq!(report.documents()[0].omitted, report.omitted());
    // The findings kept are the first ones by position, located exactly.
    let first = &report.violations()[0];
    assert_eq!(first.rule(), Rule::EndpointMissing);
    assert_eq!(first.instance_path(), "/clients/0");
    assert_eq!(first.location().map(|l| l.column()), Some(32));
    let last = &report.violations()[DEFAULT_MAX_FINDINGS - 1];
    assert_eq!(last.instance_path(), "/clients/99");
    assert_eq!(
        last.location().map(|l| l.column()),
        Some(32 + 4 * (DEFAULT_MAX_FINDINGS - 1))
    );
    assert_eq!(
        report.to_json()["omitted"],
        1_000_000 - DEFAULT_MAX_FINDINGS
    );
}

#[test]
fn twenty_thousand_findings_in_an_array_are_located_in_one_pass_and_capped_per_document() {
    let text = results_with_one_error_each(20_000);
    let v = Validator::builder()
        .max_findings(usize::MAX)
        .build()
        .unwrap();
    let all = v.report_str(&text).unwrap();
    assert_eq!(all.violations().len(), 20_000);
    assert_eq!(all.omitted(), 0);
    for (i, f) in all.violations().iter().enumerate() {
        assert_eq!(f.instance_path(), format!("/{i}/latenciesMs/p90"));
        assert_eq!(f.location().map(|l| l.line()), Some(i + 2));
    }
    // The array is one document: the default cap applies to all its elements together.
    let capped = validator().report_str(&text).unwrap();
    assert_eq!(
        capped.violations(),
        &all.violations()[..DEFAULT_MAX_FINDINGS]
    );
    assert_eq!(capped.omitted(), 20_000 - DEFAULT_MAX_FINDINGS);
    assert_eq!(capped.documents().len(), 20_000);
    assert_eq!(capped.documents()[0].omitted, 0);
    assert_eq!(capped.documents()[19_999].omitted, 1);
    assert!(capped.documents().iter().all(|d| !d.valid));
}

#[test]
fn the_cap_keeps_errors_before_warnings_and_counts_each_yaml_document_apart() {
    // Ten unknown fields (warnings) before one error, in two documents.
    let mut doc = String::from("smp_version: v0.6.1\n");
    for i in 0..10 {
        doc.push_str(&format!("extra_{i}: 1\n"));
    }
    doc.push_str("latencies_ms: {p50: 5, p90: 1}\n");
    let text = format!("{doc}---\n{doc}");
    let v = Validator::builder().max_findings(3).build().unwrap();
    let report = v.report_str(&text).unwrap();
    let got: Vec<(usize, Rule)> = report
        .violations()
        .iter()
        .map(|f| (f.document(), f.rule()))
        .collect();
    assert_eq!(
        got,
        [
            (0, Rule::UnknownField),
            (0, Rule::UnknownField),
            (0, Rule::LatencyOrder),
            (1, Rule::UnknownField),
            (1, Rule::UnknownField),
            (1, Rule::LatencyOrder),
        ]
    );
    assert_eq!(report.omitted(), 16);
    assert_eq!(report.documents()[1].omitted, 8);
    // The ones listed are the first by position.
    assert_eq!(report.violations()[0].instance_path(), "/extra_0");
    assert_eq!(report.violations()[1].instance_path(), "/extra_1");
}

/// A config with one client given as a YAML flow mapping.
fn config(duration: &str, client: &str) -> String {
    format!("duration: {duration}\nclients:\n  - {client}\n")
}

#[test]
fn rates_connections_and_planned_requests_over_the_engine_limits_are_errors_at_their_field() {
    use smps_model::limits;
    let url = "endpoint_urls: [\"http://127.0.0.1:1/\"]";
    let cases = [
        // rps: i64::MAX, the value that hung `smps run`.
        (
            config("30s", &format!("{{rps: 9223372036854775807, {url}}}")),
            "/clients/0/rps",
        ),
        (
            config("30s", &format!("{{rps: {}, {url}}}", limits::MAX_RPS + 1)),
            "/clients/0/rps",
        ),
        // A runnable rate held for so long that the plan cannot be counted.
        (
            config("2562047h", &format!("{{rps: {}, {url}}}", limits::MAX_RPS)),
            "/clients/0/rps",
        ),
        (
            config(
                "30s",
                &format!("{{connections: {}, {url}}}", limits::MAX_CONNECTIONS + 1),
            ),
            "/clients/0/connections",
        ),
    ];
    for (text, pointer) in cases {
        let report = validator().report_str(&text).unwrap();
        let got: Vec<(Rule, &str)> = report
            .iter_errors()
            .map(|v| (v.rule(), v.instance_path()))
            .collect();
        assert_eq!(got, [(Rule::Limit, pointer)], "{text}");
    }
    // At the limits themselves, the config is valid.
    let at_limits = config(
        "1h",
        &format!(
            "{{rps: {}, connections: {}, {url}}}",
            limits::MAX_RPS,
            limits::MAX_CONNECTIONS
        ),
    );
    let report = validator().report_str(&at_limits).unwrap();
    assert!(report.is_valid(), "{:?}", report.violations());
}

#[test]
fn endpoints_with_user_information_are_errors_and_no_finding_shows_a_secret() {
    let text = "duration: 30s\nclients:\n  - endpoint_urls: [\"http://admin:hunter2@127.0.0.1:1/\"]\n    headers: {Authorization: 12345}\n  - protocol: PROTOCOL_TCP\n    endpoint_urls: [\"ops:hunter2@127.0.0.1:9\"]\n";
    let report = validator().report_str(text).unwrap();
    let got: Vec<(Rule, &str)> = report
        .iter_errors()
        .map(|v| (v.rule(), v.instance_path()))
        .collect();
    assert_eq!(
        got,
        [
            (Rule::Endpoint, "/clients/0/endpoint_urls/0"),
            (Rule::Endpoint, "/clients/1/endpoint_urls/0"),
        ]
    );
    // A number in a header is read as its text (issue 13): a warning, still masked.
    assert!(
        report
            .violations()
            .iter()
            .any(|v| v.rule() == Rule::ReadAsText
                && v.instance_path() == "/clients/0/headers/Authorization"),
        "{:?}",
        report.violations()
    );
    let everything = format!(
        "{}\n{}",
        report
            .violations()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        report.to_json()
    );
    for secret in ["hunter2", "12345"] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }
    assert!(
        everything.contains("http://***@127.0.0.1:1/"),
        "{everything}"
    );
}

#[test]
fn secret_query_values_are_a_warning_and_hidden() {
    let text = "duration: 30s\nclients:\n  - endpoint_urls: [\"http://127.0.0.1:1/x?access_token=s3cr3t&page=2\"]\n";
    let report = validator().report_str(text).unwrap();
    assert!(report.is_valid());
    let v = &report.violations()[0];
    assert_eq!(v.rule(), Rule::SecretInUrl);
    assert!(!v.to_string().contains("s3cr3t"), "{v}");
    assert!(!report.to_json().to_string().contains("s3cr3t"));
    assert!(v.to_string().contains("access_token=***&page=2"), "{v}");
}

#[test]
fn a_tab_after_a_colon_is_white_space_as_for_the_model_reader() {
    let mut text = String::from(
        "duration:\t30s\nclients:\n  - endpoint_urls: [\"http://127.0.0.1:1/\"]\n    rps:\t\t5\n    body: \"a:\tb\"\n    labels: {k:\tv}\nlabels:\n",
    );
    // Many of them: one pass fixes them all, not one parse per tab.
    for i in 0..200 {
        text.push_str(&format!("  key_{i}:\tvalue {i}\n"));
    }
    assert!(smps_model::read(&text, &smps_model::ReadOptions::default()).is_ok());
    for fast_path in [true, false] {
        let v = Validator::builder().fast_path(fast_path).build().unwrap();
        let report = v.report_str(&text).unwrap();
        assert!(report.is_valid(), "{:?}", report.violations());
    }
    // Findings after a tab are located in the text as written.
    let bad =
        "duration:\t30s\nclients:\n  - endpoint_urls: [\"http://127.0.0.1:1/\"]\n    rps:\t-1\n";
    let report = validator().report_str(bad).unwrap();
    let f = &report.violations()[0];
    assert_eq!(
        (f.rule(), f.instance_path()),
        (Rule::Rate, "/clients/0/rps")
    );
    assert_eq!(f.location().map(|l| (l.line(), l.column())), Some((4, 10)));
    // A tab that is not after a mapping's colon is still an error, as for libyaml.
    assert!(validator().report_str("a:\n\t- b\n").is_err());
}

#[test]
fn the_node_limit_mentions_aliases_only_when_the_document_has_some() {
    let v = Validator::builder().max_nodes(50).build().unwrap();
    let mut plain = String::from("labels:\n");
    for i in 0..100 {
        plain.push_str(&format!("  k{i}: v\n"));
    }
    let e = v.report_str(&plain).unwrap_err();
    assert!(
        matches!(
            e,
            smps_validate::Error::TooManyNodes {
                through_aliases: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.to_string().contains("alias"), "{e}");
    let bomb = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n";
    let e = v.report_str(bomb).unwrap_err();
    assert!(e.to_string().contains("through YAML aliases"), "{e}");
}

#[test]
fn too_large_inputs_give_the_real_size_of_a_file_and_more_than_the_limit_for_a_stream() {
    let v = Validator::builder().max_input_bytes(1000).build().unwrap();
    let dir = std::env::temp_dir().join(format!("smps-validate-issue12-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.yaml");
    std::fs::write(&path, "x".repeat(5000)).unwrap();
    let e = v.report(&Source::path(&path)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "input of 5000 bytes exceeds the limit of 1000 bytes"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    // A device is a stream: read up to the limit, its size unknown.
    #[cfg(unix)]
    {
        let e = v.report(&Source::path("/dev/zero")).unwrap_err();
        assert!(
            matches!(e, smps_validate::Error::StreamTooLarge { limit: 1000 }),
            "{e:?}"
        );
        assert!(e.to_string().contains("more than 1000 bytes"), "{e}");
    }
}
