//! Inputs with many findings, shared by `benches/validate_findings.rs` and the
//! `validate-compare findings` helper (instruction counts under callgrind). Each has exactly
//! `n` findings.

use smps_validate::Format;

/// A JSON array of `n` results, one per line, each with one `latency-order` error.
pub(crate) fn results_array_json(n: usize) -> String {
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

/// One config on one line whose `clients` are `n` empty objects (one `endpoint-missing` each).
pub(crate) fn empty_clients_json(n: usize) -> String {
    let clients = vec!["{}"; n].join(", ");
    format!("{{\"duration\": \"1s\", \"clients\": [{clients}]}}")
}

/// The same in block YAML, one `- {}` per line.
pub(crate) fn empty_clients_yaml(n: usize) -> String {
    let mut text = String::from("duration: 1s\nclients:\n");
    for _ in 0..n {
        text.push_str("  - {}\n");
    }
    text
}

/// A generator of an input with `n` findings.
pub(crate) type Make = fn(usize) -> String;

/// Every input: name, generator, format.
pub(crate) const INPUTS: [(&str, Make, Format); 3] = [
    ("results_array_json", results_array_json, Format::Json),
    ("empty_clients_json", empty_clients_json, Format::Json),
    ("empty_clients_yaml", empty_clients_yaml, Format::Yaml),
];
