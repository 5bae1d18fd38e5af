//! `validate`: check SMP documents (YAML or JSON) from the command line, CI-style.
//!
//! ```text
//! cargo run -p examples --example validate -- [--format text|json|junit] [--kind KIND] [--strict] FILE...
//! ```
//!
//! * `text` (default) prints `file:line:col: error[rule]: message`, the source line and a caret;
//! * `json` prints one report object per file (`{"reports": [...], "errors": [...]}`);
//! * `junit` prints a JUnit XML test suite with one test case per file.
//!
//! `-` reads standard input. Exit code 0 when every file is valid (warnings allowed unless
//! `--strict`), 1 when some file has findings that make it invalid, 2 when some input could not
//! be validated at all (unreadable, not UTF-8, syntax error, too large, too deep).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use smps_validate::{Error, Kind, Report, Source, Validator, Violation};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
    Junit,
}

/// Validate Service Mesh Performance documents.
#[derive(Debug, Parser)]
#[command(name = "validate")]
struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// Validate every document as this kind instead of detecting it
    /// (PerformanceTestConfig, PerformanceTestResult, ServiceMeshConfig, EnvironmentConfig, ServiceMesh).
    #[arg(long, value_parser = parse_kind)]
    kind: Option<Kind>,
    /// Treat warnings as failures too.
    #[arg(long)]
    strict: bool,
    /// Largest input accepted, in bytes.
    #[arg(long, default_value_t = smps_validate::DEFAULT_MAX_INPUT_BYTES)]
    max_bytes: u64,
    /// Files to validate (`-` for standard input).
    #[arg(required = true)]
    files: Vec<String>,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::from_name(s).ok_or_else(|| format!("unknown kind `{s}`"))
}

/// The outcome for one file.
enum Outcome {
    Checked {
        report: Report,
        text: Option<String>,
    },
    Unusable {
        name: String,
        error: Error,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let validator = match Validator::builder().max_input_bytes(args.max_bytes).build() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("validate: {e}");
            return ExitCode::from(2);
        }
    };
    let mut outcomes = Vec::new();
    for file in &args.files {
        let stdin_bytes;
        let mut source = if file == "-" {
            let mut buf = Vec::new();
            if let Err(e) = std::io::stdin()
                .take(args.max_bytes.saturating_add(1))
                .read_to_end(&mut buf)
            {
                eprintln!("validate: cannot read standard input: {e}");
                return ExitCode::from(2);
            }
            stdin_bytes = buf;
            Source::bytes(stdin_bytes.as_slice()).with_name("<stdin>")
        } else {
            Source::path(file)
        };
        if let Some(k) = args.kind {
            source = source.kind(k);
        }
        let outcome = match validator.report(&source) {
            Ok(report) => {
                // The text is needed only to show source lines under findings.
                let text = if report.violations().is_empty() || file == "-" {
                    None
                } else {
                    std::fs::read_to_string(file).ok()
                };
                Outcome::Checked { report, text }
            }
            Err(error) => Outcome::Unusable {
                name: source.name().into_owned(),
                error,
            },
        };
        outcomes.push(outcome);
    }
    match args.format {
        OutputFormat::Text => print_text(&outcomes, args.strict),
        OutputFormat::Json => print_json(&outcomes),
        OutputFormat::Junit => print_junit(&outcomes, args.strict),
    }
    exit_code(&outcomes, args.strict)
}

fn failed(report: &Report, strict: bool) -> bool {
    !report.is_valid() || (strict && report.iter_warnings().next().is_some())
}

fn exit_code(outcomes: &[Outcome], strict: bool) -> ExitCode {
    if outcomes
        .iter()
        .any(|o| matches!(o, Outcome::Unusable { .. }))
    {
        ExitCode::from(2)
    } else if outcomes.iter().any(|o| match o {
        Outcome::Checked { report, .. } => failed(report, strict),
        Outcome::Unusable { .. } => false,
    }) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The location of an input error, when it has one.
fn error_location(e: &Error) -> Option<smps_validate::Location> {
    match e {
        Error::Syntax { location, .. }
        | Error::TooDeep { location, .. }
        | Error::TooManyNodes { location, .. }
        | Error::NotUtf8 { location, .. }
        | Error::NotText { location, .. } => Some(*location),
        _ => None,
    }
}

fn print_text(outcomes: &[Outcome], strict: bool) {
    let (mut files, mut bad, mut errors, mut warnings) = (0, 0, 0, 0);
    for o in outcomes {
        files += 1;
        match o {
            Outcome::Unusable { name, error } => {
                bad += 1;
                match error_location(error) {
                    Some(l) => println!("{name}:{l}: error[input]: {error}"),
                    None => println!("{name}: error[input]: {error}"),
                }
                let mut cause = std::error::Error::source(error);
                while let Some(c) = cause {
                    println!("  caused by: {c}");
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
                    print_violation(report.name(), v, text.as_deref());
                }
            }
        }
    }
    println!(
        "{files} file(s) checked: {} ok, {bad} failed; {errors} error(s), {warnings} warning(s)",
        files - bad
    );
}

fn print_violation(name: &str, v: &Violation, text: Option<&str>) {
    let doc = if v.document() > 0 {
        format!(" (document {})", v.document())
    } else {
        String::new()
    };
    match v.location() {
        Some(l) => println!(
            "{name}:{l}: {}[{}]: {}{doc}",
            v.severity(),
            v.rule(),
            v.message()
        ),
        None => println!(
            "{name}: {}[{}]: {}{doc}",
            v.severity(),
            v.rule(),
            v.message()
        ),
    }
    let (Some(l), Some(text)) = (v.location(), text) else {
        return;
    };
    let Some(line) = text.lines().nth(l.line() - 1) else {
        return;
    };
    let pad: String = line
        .chars()
        .take(l.column().saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    println!("  | {line}");
    println!("  | {pad}^");
}

fn print_json(outcomes: &[Outcome]) {
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
    println!(
        "{}",
        serde_json::to_string_pretty(&out).unwrap_or_else(|_| out.to_string())
    );
}

fn xml_escape(s: &str) -> String {
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

fn print_junit(outcomes: &[Outcome], strict: bool) {
    let mut cases = String::new();
    let (mut failures, mut errors) = (0, 0);
    for o in outcomes {
        match o {
            Outcome::Unusable { name, error } => {
                errors += 1;
                cases.push_str(&format!(
                    "    <testcase classname=\"smps-validate\" name=\"{}\">\n      <error message=\"{}\"/>\n    </testcase>\n",
                    xml_escape(name),
                    xml_escape(&error.to_string())
                ));
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
                    cases.push_str(&format!(
                        "    <testcase classname=\"smps-validate\" name=\"{name}\">\n      <failure message=\"{first}\">{}</failure>\n    </testcase>\n",
                        body.join("\n")
                    ));
                } else {
                    cases.push_str(&format!(
                        "    <testcase classname=\"smps-validate\" name=\"{name}\"/>\n"
                    ));
                }
            }
        }
    }
    println!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    println!(
        "<testsuites>\n  <testsuite name=\"smps-validate\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        outcomes.len()
    );
    print!("{cases}");
    println!("  </testsuite>\n</testsuites>");
}
