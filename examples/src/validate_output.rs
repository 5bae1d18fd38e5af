//! Checking files with `smps-validate` and rendering the outcome as text (with the source line
//! and a caret under each finding), JSON or JUnit XML. Shared by the `validate` and `smps`
//! examples.

use std::fmt::Write as _;
use std::io::Read as _;

use smps_validate::{Error, Kind, Location, Report, Source, Validator, Violation};

/// The outcome for one input.
#[derive(Debug)]
pub enum Outcome {
    /// The input was read and checked.
    Checked {
        /// All findings.
        report: Report,
        /// The input text, kept when there are findings to show source lines for.
        text: Option<String>,
    },
    /// The input could not be used at all (unreadable, not text, too large, bad syntax).
    Unusable {
        /// The input's name.
        name: String,
        /// Why.
        error: Error,
    },
}

/// Checks each file (`-` is standard input, read up to `max_bytes` + 1 bytes).
pub fn check_files(
    validator: &Validator,
    files: &[String],
    kind: Option<Kind>,
    max_bytes: u64,
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(files.len());
    for file in files {
        let stdin_bytes = if file == "-" {
            let mut buf = Vec::new();
            if let Err(source) = std::io::stdin()
                .take(max_bytes.saturating_add(1))
                .read_to_end(&mut buf)
            {
                outcomes.push(Outcome::Unusable {
                    name: "<stdin>".into(),
                    error: Error::ReadFile {
                        path: "<stdin>".into(),
                        source,
                    },
                });
                continue;
            }
            Some(buf)
        } else {
            None
        };
        let mut source = match &stdin_bytes {
            Some(bytes) => Source::bytes(bytes.as_slice()).with_name("<stdin>"),
            None => Source::path(file),
        };
        if let Some(k) = kind {
            source = source.kind(k);
        }
        outcomes.push(match validator.report(&source) {
            Ok(report) => {
                // The text is needed only to show source lines under findings.
                let text = if report.violations().is_empty() {
                    None
                } else {
                    match &stdin_bytes {
                        Some(bytes) => std::str::from_utf8(bytes).ok().map(str::to_owned),
                        None => std::fs::read_to_string(file).ok(),
                    }
                };
                Outcome::Checked { report, text }
            }
            Err(error) => Outcome::Unusable {
                name: source.name().into_owned(),
                error,
            },
        });
    }
    outcomes
}

/// Whether a report counts as failed (errors, or warnings too when `strict`).
pub fn failed(report: &Report, strict: bool) -> bool {
    !report.is_valid() || (strict && report.iter_warnings().next().is_some())
}

/// The documented exit code: 2 if any input was unusable, 1 if any failed, else 0.
pub fn exit_code(outcomes: &[Outcome], strict: bool) -> u8 {
    if outcomes
        .iter()
        .any(|o| matches!(o, Outcome::Unusable { .. }))
    {
        2
    } else if outcomes.iter().any(|o| match o {
        Outcome::Checked { report, .. } => failed(report, strict),
        Outcome::Unusable { .. } => false,
    }) {
        1
    } else {
        0
    }
}

/// The location of an input error, when it has one.
pub fn error_location(e: &Error) -> Option<Location> {
    match e {
        Error::Syntax { location, .. }
        | Error::TooDeep { location, .. }
        | Error::TooManyNodes { location, .. }
        | Error::NotUtf8 { location, .. }
        | Error::NotText { location, .. } => Some(*location),
        _ => None,
    }
}

/// `file:line:col: severity[rule]: message`, the source line and a caret per finding, and a
/// closing count line.
pub fn render_text(outcomes: &[Outcome], strict: bool) -> String {
    let mut out = String::new();
    let (mut files, mut bad, mut errors, mut warnings) = (0, 0, 0, 0);
    for o in outcomes {
        files += 1;
        match o {
            Outcome::Unusable { name, error } => {
                bad += 1;
                match error_location(error) {
                    Some(l) => {
                        let _ = writeln!(out, "{name}:{l}: error[input]: {error}");
                    }
                    None => {
                        let _ = writeln!(out, "{name}: error[input]: {error}");
                    }
                }
                let mut cause = std::error::Error::source(error);
                while let Some(c) = cause {
                    let _ = writeln!(out, "  caused by: {c}");
                    cause = c.source();
                }
            }
            Outcome::Checked { report, text } => {
                if failed(report, strict) {
                    bad += 1;
                }
                for v in report.violations() {
                    if v.is_error() {
                        errors += 1;
                    } else {
                        warnings += 1;
                    }
                    render_violation(&mut out, report.name(), v, text.as_deref());
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "{files} file(s) checked: {} ok, {bad} failed; {errors} error(s), {warnings} warning(s)",
        files - bad
    );
    out
}

fn render_violation(out: &mut String, name: &str, v: &Violation, text: Option<&str>) {
    let doc = if v.document() > 0 {
        format!(" (document {})", v.document())
    } else {
        String::new()
    };
    let head = format!("{}[{}]: {}{doc}", v.severity(), v.rule(), v.message());
    match v.location() {
        Some(l) => {
            let _ = writeln!(out, "{name}:{l}: {head}");
        }
        None => {
            let _ = writeln!(out, "{name}: {head}");
        }
    }
    let (Some(l), Some(text)) = (v.location(), text) else {
        return;
    };
    let Some(line) = text.lines().nth(l.line().saturating_sub(1)) else {
        return;
    };
    let pad: String = line
        .chars()
        .take(l.column().saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let _ = writeln!(out, "  | {line}");
    let _ = writeln!(out, "  | {pad}^");
}

/// `{"reports": [...], "errors": [...]}`.
pub fn render_json(outcomes: &[Outcome]) -> String {
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for o in outcomes {
        match o {
            Outcome::Checked { report, .. } => reports.push(report.to_json()),
            Outcome::Unusable { name, error } => {
                let location = error_location(error);
                errors.push(serde_json::json!({
                    "name": name,
                    "error": error.to_string(),
                    "line": location.map(|l| l.line()),
                    "column": location.map(|l| l.column()),
                }));
            }
        }
    }
    let out = serde_json::json!({ "reports": reports, "errors": errors });
    serde_json::to_string_pretty(&out).unwrap_or_else(|_| out.to_string()) + "\n"
}

/// Escapes text for XML attributes and content.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// One JUnit test case per input; failures list every finding.
pub fn render_junit(outcomes: &[Outcome], strict: bool) -> String {
    let mut cases = String::new();
    let (mut failures, mut errors) = (0, 0);
    for o in outcomes {
        match o {
            Outcome::Unusable { name, error } => {
                errors += 1;
                let _ = write!(
                    cases,
                    "    <testcase classname=\"smps-validate\" name=\"{}\">\n      <error message=\"{}\"/>\n    </testcase>\n",
                    xml_escape(name),
                    xml_escape(&error.to_string())
                );
            }
            Outcome::Checked { report, .. } => {
                let name = xml_escape(report.name());
                if failed(report, strict) {
                    failures += 1;
                    let body: Vec<String> = report
                        .violations()
                        .iter()
                        .map(|v| xml_escape(&format!("{}:{v}", report.name())))
                        .collect();
                    let first = report
                        .violations()
                        .iter()
                        .find(|v| v.is_error() || strict)
                        .map(|v| xml_escape(&v.message()))
                        .unwrap_or_default();
                    let _ = write!(
                        cases,
                        "    <testcase classname=\"smps-validate\" name=\"{name}\">\n      <failure message=\"{first}\">{}</failure>\n    </testcase>\n",
                        body.join("\n")
                    );
                } else {
                    let _ = writeln!(
                        cases,
                        "    <testcase classname=\"smps-validate\" name=\"{name}\"/>"
                    );
                }
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"smps-validate\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n{cases}  </testsuite>\n</testsuites>\n",
        outcomes.len()
    )
}
