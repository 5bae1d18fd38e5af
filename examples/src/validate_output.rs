//! Checking files with `smps-validate` and writing the outcome as text (with an excerpt of the
//! source line and a caret under each finding), JSON or JUnit XML (quick-junit). Shared by the `validate` and
//! `smps` examples.
//!
//! Text and JSON output is streamed: each finding is written as it is rendered, and each excerpt is a window
//! of at most [`EXCERPT_BEFORE`] + [`EXCERPT_AFTER`] characters around the column, so the
//! output grows with the number of findings listed, not with the length of the lines they sit
//! on. Excerpts hide secrets the way `smps_model::redact` does (user information and secret
//! query values in URLs, values of sensitive headers), since they quote the source.

use std::io::{self, Read as _, Write};

use serde::Serialize;
use smps_model::redact;
use smps_validate::{Error, Kind, Location, Report, Source, Validator, Violation};

/// Characters of the source line shown before a finding's column.
pub const EXCERPT_BEFORE: usize = 40;
/// Characters of the source line shown from a finding's column on.
pub const EXCERPT_AFTER: usize = 60;
/// How far (bytes) an excerpt looks beyond its window for the start and end of a URL or a
/// header value, to hide its secrets whole.
const REDACT_REACH: usize = 4096;

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
            // A stream's size is unknown: it was read only up to one byte past the limit.
            if buf.len() as u64 > max_bytes {
                outcomes.push(Outcome::Unusable {
                    name: "<stdin>".into(),
                    error: Error::StreamTooLarge { limit: max_bytes },
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

/// `file:line:col: severity[rule]: message`, an excerpt of the source line and a caret per
/// finding, a line for findings left out, and a closing count line; written as it goes.
///
/// # Errors
///
/// When writing to `out` fails.
pub fn write_text(out: &mut dyn Write, outcomes: &[Outcome], strict: bool) -> io::Result<()> {
    let (mut files, mut bad, mut errors, mut warnings, mut omitted) = (0, 0, 0, 0, 0);
    for o in outcomes {
        files += 1;
        match o {
            Outcome::Unusable { name, error } => {
                bad += 1;
                match error_location(error) {
                    Some(l) => writeln!(out, "{name}:{l}: error[input]: {error}")?,
                    None => writeln!(out, "{name}: error[input]: {error}")?,
                }
                let mut cause = std::error::Error::source(error);
                while let Some(c) = cause {
                    writeln!(out, "  caused by: {}", redact::text(&c.to_string()))?;
                    cause = c.source();
                }
            }
            Outcome::Checked { report, text } => {
                if failed(report, strict) {
                    bad += 1;
                }
                let mut excerpts = text.as_deref().map(Excerpts::new);
                for v in report.violations() {
                    if v.is_error() {
                        errors += 1;
                    } else {
                        warnings += 1;
                    }
                    write_violation(out, report.name(), v, excerpts.as_mut())?;
                }
                if report.omitted() > 0 {
                    omitted += report.omitted();
                    writeln!(
                        out,
                        "{}: {} more finding(s) not shown (a report lists at most {} per document; raise it with --max-findings)",
                        report.name(),
                        report.omitted(),
                        listed_per_document(report),
                    )?;
                }
            }
        }
    }
    let not_shown = if omitted > 0 {
        format!(", {omitted} more not shown")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{files} file(s) checked: {} ok, {bad} failed; {errors} error(s), {warnings} warning(s){not_shown}",
        files - bad
    )
}

/// The most findings listed for one document of a capped report (the cap it was made with).
fn listed_per_document(report: &Report) -> usize {
    let mut most = 0;
    let violations = report.violations();
    for group in violations.chunk_by(|a, b| a.document() == b.document()) {
        most = most.max(group.len());
    }
    most
}

fn write_violation(
    out: &mut dyn Write,
    name: &str,
    v: &Violation,
    excerpts: Option<&mut Excerpts<'_>>,
) -> io::Result<()> {
    let doc = if v.document() > 0 {
        format!(" (document {})", v.document())
    } else {
        String::new()
    };
    let head = format!("{}[{}]: {}{doc}", v.severity(), v.rule(), v.message());
    match v.location() {
        Some(l) => writeln!(out, "{name}:{l}: {head}")?,
        None => writeln!(out, "{name}: {head}")?,
    }
    let (Some(l), Some(excerpts)) = (v.location(), excerpts) else {
        return Ok(());
    };
    if let Some((line, pad)) = excerpts.excerpt(l) {
        writeln!(out, "  | {line}")?;
        writeln!(out, "  | {pad}^")?;
    }
    Ok(())
}

/// Source-line excerpts of one text: an index of line starts built once, so each excerpt
/// costs its window (plus the reach of the redaction), not the line or the text.
#[derive(Debug)]
pub struct Excerpts<'t> {
    text: &'t str,
    starts: Vec<usize>,
    /// The last column looked up: (line, column, byte offset), so findings in order along a
    /// long line do not count its characters from the start each time.
    cursor: Option<(usize, usize, usize)>,
}

impl<'t> Excerpts<'t> {
    /// Indexes the lines of `text`.
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Excerpts {
            text,
            starts,
            cursor: None,
        }
    }

    /// The line around `at` (at most [`EXCERPT_BEFORE`] characters before its column and
    /// [`EXCERPT_AFTER`] from it, `…` where cut, secrets hidden) and the padding that puts a
    /// caret under the column (tabs kept, so it lines up). `None` when `at` is not in the text.
    pub fn excerpt(&mut self, at: Location) -> Option<(String, String)> {
        let line_index = at.line().checked_sub(1)?;
        let start = *self.starts.get(line_index)?;
        let end = self
            .starts
            .get(line_index + 1)
            .map_or(self.text.len(), |&s| s - 1);
        let line = self.text[start..end].trim_end_matches('\r');
        let caret = self.byte_of_column(at.line(), start, line, at.column());
        Some(window(line, caret))
    }

    /// The byte offset in `line` of 1-based character `column` (clamped to the line's end).
    fn byte_of_column(
        &mut self,
        line_no: usize,
        line_start: usize,
        line: &str,
        column: usize,
    ) -> usize {
        let (from_col, from_byte) = match self.cursor {
            Some((l, c, b)) if l == line_no && c <= column && b >= line_start => {
                (c, b - line_start)
            }
            _ => (1, 0),
        };
        let byte = line[from_byte..]
            .char_indices()
            .nth(column - from_col)
            .map_or(line.len(), |(i, _)| from_byte + i);
        self.cursor = Some((line_no, column, line_start + byte));
        byte
    }
}

/// The excerpt of `line` around byte `caret` and the caret's padding; see
/// [`Excerpts::excerpt`].
fn window(line: &str, caret: usize) -> (String, String) {
    // The part that is redacted: the window's reach, widened to whole tokens where possible.
    let lo = floor_boundary(
        line,
        caret.saturating_sub(EXCERPT_BEFORE * 4 + REDACT_REACH),
    );
    let hi = floor_boundary(
        line,
        (caret + EXCERPT_AFTER * 4 + REDACT_REACH).min(line.len()),
    );
    let region = &line[lo..hi];
    let (shown, caret_char) = redacted(region, caret - lo);
    let chars: Vec<char> = shown.chars().collect();
    let first = caret_char.saturating_sub(EXCERPT_BEFORE);
    let last = (caret_char + EXCERPT_AFTER).min(chars.len());
    let cut_left = first > 0 || lo > 0;
    let cut_right = last < chars.len() || hi < line.len();
    let mut excerpt = String::new();
    let mut pad = String::new();
    if cut_left {
        excerpt.push('…');
        pad.push(' ');
    }
    for &c in &chars[first..caret_char.min(chars.len())] {
        pad.push(if c == '\t' { '\t' } else { ' ' });
    }
    excerpt.extend(&chars[first..last]);
    if cut_right {
        excerpt.push('…');
    }
    (excerpt, pad)
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `region` with its secrets replaced (see [`secrets`]), and the character index in the result
/// of byte `caret` (the start of a replacement when the caret falls inside it).
fn redacted(region: &str, caret: usize) -> (String, usize) {
    let mut out = String::with_capacity(region.len());
    let mut caret_char = None;
    let mut pos = 0;
    let mut chars_out = 0usize;
    for (start, end, with) in secrets(region) {
        if caret_char.is_none() && caret < start {
            caret_char = Some(chars_out + region[pos..caret].chars().count());
        }
        let kept = &region[pos..start];
        out.push_str(kept);
        chars_out += kept.chars().count();
        if caret_char.is_none() && caret < end {
            caret_char = Some(chars_out);
        }
        out.push_str(&with);
        chars_out += with.chars().count();
        pos = end;
    }
    if caret_char.is_none() {
        caret_char = Some(chars_out + region[pos..caret.max(pos)].chars().count());
    }
    out.push_str(&region[pos..]);
    (out, caret_char.unwrap_or(0))
}

/// The secrets in a piece of YAML or JSON source, as sorted, disjoint byte ranges and what
/// replaces each: URLs whose user information or query values `redact::url` hides, bare
/// `user:password@host` authorities, and the values of headers `redact::header_value` hides
/// (`Authorization: ...`, `"X-Api-Key": "..."`).
fn secrets(region: &str) -> Vec<(usize, usize, String)> {
    let b = region.as_bytes();
    let is_end = |c: u8| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'`' | b'<' | b'>');
    let is_token_break = |c: u8| is_end(c) || matches!(c, b'[' | b']' | b'{' | b'}' | b',');
    let mut found: Vec<(usize, usize, String)> = Vec::new();
    // URLs, as `redact::text` delimits them.
    let mut from = 0;
    while let Some(i) = region[from..].find("://").map(|i| from + i) {
        let start = region[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |s| s + 1);
        let end = b[i..]
            .iter()
            .position(|&c| is_end(c))
            .map_or(b.len(), |e| i + e);
        if let std::borrow::Cow::Owned(r) = redact::url(&region[start..end]) {
            found.push((start, end, r));
        }
        from = end.max(i + 3);
    }
    // Bare `user:password@host`.
    for (at, _) in region.match_indices('@') {
        let start = b[..at]
            .iter()
            .rposition(|&c| is_token_break(c))
            .map_or(0, |s| s + 1);
        let user_info = &region[start..at];
        if user_info.contains(':') && !user_info.contains("://") && !user_info.is_empty() {
            found.push((start, at, redact::REDACTED.to_owned()));
        }
    }
    // `Name: value` where the name is a sensitive header.
    for (colon, _) in region.match_indices(':') {
        let after = b.get(colon + 1).copied();
        if !matches!(after, Some(b' ' | b'\t')) && !region[..colon].ends_with('"') {
            continue;
        }
        let name_end = if region[..colon].ends_with(['"', '\'']) {
            colon - 1
        } else {
            colon
        };
        let name_start = b[..name_end]
            .iter()
            .rposition(|&c| is_token_break(c))
            .map_or(0, |s| s + 1);
        let name = &region[name_start..name_end];
        if name.is_empty() || !redact::is_sensitive_header(name) {
            continue;
        }
        let mut v = colon + 1;
        while matches!(b.get(v), Some(b' ' | b'\t')) {
            v += 1;
        }
        let v_end = match b.get(v) {
            Some(&q @ (b'"' | b'\'')) => b[v + 1..]
                .iter()
                .position(|&c| c == q)
                .map_or(b.len(), |e| v + 1 + e + 1),
            Some(_) => b[v..]
                .iter()
                .position(|&c| matches!(c, b',' | b'}' | b']' | b'#'))
                .map_or(b.len(), |e| v + e),
            None => continue,
        };
        let value = region[v..v_end].trim_end();
        if !value.is_empty() {
            let hidden = redact::header_value(name, value).into_owned();
            found.push((v, v + value.len(), hidden));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut disjoint: Vec<(usize, usize, String)> = Vec::with_capacity(found.len());
    for f in found {
        match disjoint.last_mut() {
            Some(last) if f.0 < last.1 => {
                // Overlapping secrets: hide the union.
                if f.1 > last.1 {
                    last.1 = f.1;
                    last.2 = redact::REDACTED.to_owned();
                }
            }
            _ => disjoint.push(f),
        }
    }
    disjoint
}

/// `{"reports": [...], "errors": [...]}`, serialised straight from the reports. Each report
/// has `omitted`, the number of findings it leaves out.
///
/// # Errors
///
/// When writing to `out` fails.
pub fn write_json(out: &mut dyn Write, outcomes: &[Outcome]) -> io::Result<()> {
    #[derive(Serialize)]
    struct Output<'a> {
        reports: Vec<&'a Report>,
        errors: Vec<serde_json::Value>,
    }
    let mut output = Output {
        reports: Vec::new(),
        errors: Vec::new(),
    };
    for o in outcomes {
        match o {
            Outcome::Checked { report, .. } => output.reports.push(report),
            Outcome::Unusable { name, error } => {
                let location = error_location(error);
                output.errors.push(serde_json::json!({
                    "name": name,
                    "error": error.to_string(),
                    "line": location.map(|l| l.line()),
                    "column": location.map(|l| l.column()),
                }));
            }
        }
    }
    serde_json::to_writer_pretty(&mut *out, &output)?;
    writeln!(out)
}

/// Text as XML 1.0 can hold it: control characters other than tab, newline and carriage
/// return are dropped (quick-junit escapes the rest).
fn xml_text(s: &str) -> String {
    s.chars()
        .filter(|c| u32::from(*c) >= 0x20 || matches!(c, '\n' | '\t' | '\r'))
        .collect()
}

/// JUnit XML, written by quick-junit: one test suite `smps-validate` with one test case per
/// input. A failure's message is the first finding that fails the input, its description every
/// finding (and how many were left out); an unusable input is an error.
///
/// # Errors
///
/// When writing to `out` fails.
pub fn write_junit(out: &mut dyn Write, outcomes: &[Outcome], strict: bool) -> io::Result<()> {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

    let mut suite = TestSuite::new("smps-validate");
    for o in outcomes {
        let (name, status) = match o {
            Outcome::Unusable { name, error } => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(xml_text(&error.to_string()));
                (name.as_str(), status)
            }
            Outcome::Checked { report, .. } if failed(report, strict) => {
                let first = report
                    .violations()
                    .iter()
                    .find(|v| v.is_error() || strict)
                    .map(|v| xml_text(&v.message()))
                    .unwrap_or_default();
                let mut all: Vec<String> = report
                    .violations()
                    .iter()
                    .map(|v| xml_text(&format!("{}:{v}", report.name())))
                    .collect();
                if report.omitted() > 0 {
                    all.push(format!("{} more finding(s) not shown", report.omitted()));
                }
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(first).set_description(all.join("\n"));
                (report.name(), status)
            }
            Outcome::Checked { report, .. } => (report.name(), TestCaseStatus::success()),
        };
        let mut case = TestCase::new(xml_text(name), status);
        case.set_classname("smps-validate");
        suite.add_test_case(case);
    }
    let mut report = quick_junit::Report::new("smps-validate");
    report.add_test_suite(suite);
    report.serialize(&mut *out).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str, column: usize) -> (String, String) {
        Excerpts::new(line)
            .excerpt(Location::new(1, column))
            .unwrap()
    }

    #[test]
    fn short_lines_are_shown_whole_with_the_caret_under_the_column() {
        let (line, pad) = one("a:\tb: é c", 8);
        assert_eq!(line, "a:\tb: é c");
        assert_eq!(pad, "  \t    ");
    }

    #[test]
    fn long_lines_are_cut_to_a_window_on_character_boundaries() {
        let text = "é".repeat(50_000);
        let (line, pad) = one(&text, 25_000);
        assert_eq!(line.chars().count(), EXCERPT_BEFORE + EXCERPT_AFTER + 2);
        assert!(line.starts_with('…') && line.ends_with('…'), "{line}");
        assert_eq!(pad.chars().count(), EXCERPT_BEFORE + 1);
    }

    #[test]
    fn excerpts_hide_user_information_query_secrets_and_header_values() {
        let cases = [
            (
                "  - endpoint_urls: [\"http://admin:hunter2@h:1/x?token=t0k&a=1\"]",
                "  - endpoint_urls: [\"http://***@h:1/x?token=***&a=1\"]",
            ),
            (
                "    endpoint_urls: [ops:hunter2@h:9]",
                "    endpoint_urls: [***@h:9]",
            ),
            (
                "    headers: {Authorization: Bearer t0k, accept: x}",
                "    headers: {Authorization: ***, accept: x}",
            ),
            (
                "{\"headers\": {\"X-Api-Key\": \"t0k\", \"a\": \"b\"}}",
                "{\"headers\": {\"X-Api-Key\": ***, \"a\": \"b\"}}",
            ),
        ];
        for (source, shown) in cases {
            let (line, _) = one(source, 5);
            assert_eq!(line, shown);
        }
    }

    #[test]
    fn the_caret_stays_on_its_value_after_a_hidden_secret() {
        let source = "{u: \"http://a:b@h/\", rps: x}";
        let column = source.find("x}").unwrap() + 1;
        let (line, pad) = one(source, column);
        assert_eq!(&line[pad.len()..pad.len() + 1], "x", "{line}");
    }

    #[test]
    fn junit_has_one_case_per_input_with_the_failures_counted() {
        let validator = Validator::new().unwrap();
        let check = |name: &str, text: &str| Outcome::Checked {
            report: validator
                .report(&Source::text(text).with_name(name))
                .unwrap(),
            text: None,
        };
        let outcomes = vec![
            check("good.yaml", "kubernetes_version: v1.29.3\n"),
            check("bad.yaml", "latencies_ms: {p50: 5, p90: 3}\n"),
            Outcome::Unusable {
                name: "gone\u{1}.yaml".into(),
                error: validator.report(&Source::text("  ")).unwrap_err(),
            },
        ];
        let mut out = Vec::new();
        write_junit(&mut out, &outcomes, false).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(xml.starts_with("<?xml"), "{xml}");
        for part in [
            "tests=\"3\"",
            "failures=\"1\"",
            "errors=\"1\"",
            "name=\"good.yaml\"",
            "name=\"gone.yaml\"",
            "bad.yaml:1:29: error[latency-order]",
        ] {
            assert!(xml.contains(part), "{part} in {xml}");
        }
        assert!(xml.contains("&lt;= p90"), "escaped by quick-junit: {xml}");
    }
}
