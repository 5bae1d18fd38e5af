//! Results and reports.
//!
//! The runner produces a [`Report`], modelled on Gateway API's `ConformanceReport`: implementation
//! metadata, date, SMI and API versions, one [`ProfileReport`] per profile with Core/Extended
//! statistics and a derived [`Capability`], and every test → step → operation result with its
//! evidence. Exporters:
//!
//! - [`Report::to_json`]: the native JSON report;
//! - [`Report::to_junit_xml`]: JUnit XML, one `testsuite` per test and one `testcase` per step;
//! - [`Report::to_meshery_response`]: the learn-layer5 `conformance.proto` `Response` as JSON
//!   (`passpercent`, `casespassed`, `details` in the order traffic-access, traffic-split,
//!   traffic-spec, capability FULL/HALF/NONE), and [`Report::to_meshery_adapter_json`] for the
//!   adapter's snake_case shape;
//! - [`Report::summary`]: a readable text summary.
//!
//! **Capability** per profile (research §6.8): `Full` when at least one test passed and none failed
//! or errored; `None` when no test passed (including when all were skipped or there were none);
//! `Partial` otherwise. Setup trouble (precondition steps, backend errors) is counted as *error*,
//! unsupported features as *skipped*; neither is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use smps_model::Timestamp;

use crate::features::{Implementation, Level, Profile};

/// Status of an operation, step or test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// It passed.
    Passed,
    /// The implementation did not behave as the spec requires.
    Failed,
    /// Not run (unsupported feature, or an earlier step ended the test).
    Skipped,
    /// The run itself had trouble (invalid manifest, backend error, precondition not met).
    Error,
}

impl Status {
    /// Lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Error => "error",
        }
    }
}

/// Result of one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OperationResult {
    /// Operation kind (`traffic`, `assert`, …).
    pub kind: String,
    /// Status.
    pub status: Status,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// One-line description of what was checked or what went wrong.
    pub message: String,
    /// Evidence: requests and outcomes, counts and statistics, mismatches.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub evidence: Value,
}

/// Result of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StepResult {
    /// Step name.
    pub name: String,
    /// Whether it was a precondition step.
    pub precondition: bool,
    /// Status.
    pub status: Status,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// Operation results.
    pub operations: Vec<OperationResult>,
}

/// Result of one test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TestResult {
    /// Test name.
    pub name: String,
    /// Features exercised.
    pub features: Vec<String>,
    /// Profile (the first the features share), if any.
    pub profile: Option<Profile>,
    /// Every profile the test counts in (a GAMMA test declaring only `Mesh` counts in both mesh
    /// profiles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<Profile>,
    /// A provisional test.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
    /// Highest level among the features.
    pub level: Option<Level>,
    /// Namespace it ran in.
    pub namespace: String,
    /// Status.
    pub status: Status,
    /// Why it failed, errored or was skipped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// SMI and Gateway API `group/version`s applied by the test.
    pub api_versions: BTreeSet<String>,
    /// Steps.
    pub steps: Vec<StepResult>,
    /// Results of `finally` operations and cleanup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleanup: Vec<OperationResult>,
}

impl TestResult {
    /// Whether the test counts in profile `p`.
    #[must_use]
    pub fn in_profile(&self, p: Profile) -> bool {
        self.profile == Some(p) || self.profiles.contains(&p)
    }
}

/// Test counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Statistics {
    /// Passed tests.
    pub passed: u32,
    /// Failed tests.
    pub failed: u32,
    /// Skipped tests.
    pub skipped: u32,
    /// Errored tests.
    pub errors: u32,
}

impl Statistics {
    fn add(&mut self, s: Status) {
        match s {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Skipped => self.skipped += 1,
            Status::Error => self.errors += 1,
        }
    }
}

/// Gateway-API-style result of a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LevelOutcome {
    /// Everything run passed.
    Success,
    /// Some passed, some did not.
    Partial,
    /// Nothing passed.
    Failure,
    /// Nothing was run.
    Skipped,
}

/// Core or Extended part of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LevelReport {
    /// Outcome.
    pub result: LevelOutcome,
    /// Counts.
    pub statistics: Statistics,
    /// Tests that failed or errored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_tests: Vec<String>,
    /// Tests that were skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_tests: Vec<String>,
    /// Extended features declared and tested (extended only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_features: Vec<String>,
    /// Extended features not declared (extended only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported_features: Vec<String>,
}

/// Capability of an implementation for one spec, derived from results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Capability {
    /// All tests run passed.
    Full,
    /// Some passed.
    Partial,
    /// None passed (or none ran).
    None,
}

impl Capability {
    /// Meshery's vocabulary: FULL, HALF, NONE.
    #[must_use]
    pub fn meshery(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Partial => "HALF",
            Self::None => "NONE",
        }
    }
}

/// One profile's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProfileReport {
    /// The profile.
    pub name: Profile,
    /// Core tests.
    pub core: LevelReport,
    /// Extended tests.
    pub extended: LevelReport,
    /// Derived capability.
    pub capability: Capability,
    /// The API version reported for the spec (highest applied, else the latest stable).
    pub api_version: String,
    /// One-line summary.
    pub summary: String,
}

/// A conformance report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Report {
    /// `smi-assert.smps.dev/v1alpha1`.
    pub api_version: String,
    /// `ConformanceReport`.
    pub kind: String,
    /// When the run started (RFC 3339 UTC, whole seconds, in JSON).
    pub date: Timestamp,
    /// The implementation under test.
    pub implementation: Implementation,
    /// SMI spec release the suite targets.
    pub smi_version: String,
    /// Suite name.
    pub suite: String,
    /// Mode (e.g. `default`, or the fault switches of a loopback run).
    pub mode: String,
    /// Total duration in milliseconds.
    pub duration_ms: u64,
    /// Profiles in the order ACCESS, SPECS, SPLIT, METRICS (SMI suites) or MESH-HTTP,
    /// MESH-GRPC (GAMMA suites).
    pub profiles: Vec<ProfileReport>,
    /// Test results.
    pub tests: Vec<TestResult>,
}

/// `now` in whole seconds, as reports and the loopback mesh's TrafficMetrics write it (the Unix
/// epoch if the clock is outside years 0001 to 9999).
pub(crate) fn whole_seconds(now: std::time::SystemTime) -> Timestamp {
    Timestamp::from_system_time(now)
        .and_then(|t| Timestamp::from_unix(t.unix_seconds(), 0))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn level_report(tests: &[&TestResult]) -> LevelReport {
    let mut st = Statistics::default();
    let mut failed = Vec::new();
    let mut skipped = Vec::new();
    for t in tests {
        st.add(t.status);
        if matches!(t.status, Status::Failed | Status::Error) {
            failed.push(t.name.clone());
        }
        if t.status == Status::Skipped {
            skipped.push(t.name.clone());
        }
    }
    let ran = st.passed + st.failed + st.errors;
    let result = if ran == 0 {
        LevelOutcome::Skipped
    } else if st.passed == ran {
        LevelOutcome::Success
    } else if st.passed == 0 {
        LevelOutcome::Failure
    } else {
        LevelOutcome::Partial
    };
    LevelReport {
        result,
        statistics: st,
        failed_tests: failed,
        skipped_tests: skipped,
        supported_features: Vec::new(),
        unsupported_features: Vec::new(),
    }
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

impl Report {
    /// Builds a report from test results, with the profiles of the suite's family: the GAMMA
    /// profiles if a test counts in one of them, and the SMI profiles if a test counts in one of
    /// them or none does.
    #[must_use]
    pub fn new(
        suite: &str,
        implementation: Implementation,
        mode: &str,
        date: Timestamp,
        duration_ms: u64,
        tests: Vec<TestResult>,
    ) -> Self {
        let counted = |p: &Profile| tests.iter().any(|t| t.in_profile(*p));
        let gamma = Profile::GAMMA.iter().any(counted);
        let smi = Profile::SMI.iter().any(counted) || !gamma;
        let mut selected = Vec::new();
        if smi {
            selected.extend(Profile::SMI);
        }
        if gamma {
            selected.extend(Profile::GAMMA);
        }
        Self::with_profiles(
            suite,
            implementation,
            mode,
            date,
            duration_ms,
            tests,
            &selected,
        )
    }

    /// Builds a report from test results with exactly these profiles, in this order.
    #[must_use]
    pub fn with_profiles(
        suite: &str,
        implementation: Implementation,
        mode: &str,
        date: Timestamp,
        duration_ms: u64,
        tests: Vec<TestResult>,
        selected: &[Profile],
    ) -> Self {
        let mut profiles = Vec::new();
        for &p in selected {
            let (core, ext) = core_and_extended(&tests, p);
            let core_r = level_report(&core);
            let mut ext_r = level_report(&ext);
            for f in crate::features::FEATURES {
                if f.profiles.contains(&p) && f.level == Level::Extended {
                    if implementation.supported_features.contains(f.id) {
                        ext_r.supported_features.push(f.id.to_string());
                    } else {
                        ext_r.unsupported_features.push(f.id.to_string());
                    }
                }
            }
            let passed = core_r.statistics.passed + ext_r.statistics.passed;
            let bad = core_r.statistics.failed
                + core_r.statistics.errors
                + ext_r.statistics.failed
                + ext_r.statistics.errors;
            let capability = if passed == 0 {
                Capability::None
            } else if bad == 0 {
                Capability::Full
            } else {
                Capability::Partial
            };
            let prefix = format!("{}/", p.group_name());
            let api_version = core
                .iter()
                .chain(&ext)
                .flat_map(|t| t.api_versions.iter())
                .filter_map(|v| v.strip_prefix(&prefix))
                .max()
                .unwrap_or(p.latest_version())
                .to_string();
            let describe = |name: &str, r: &LevelReport| match r.result {
                LevelOutcome::Success => format!("{name} tests succeeded."),
                LevelOutcome::Partial => format!("{name} tests partially succeeded."),
                LevelOutcome::Failure => format!("{name} tests failed."),
                LevelOutcome::Skipped => format!("{name} tests were not run."),
            };
            let summary = format!(
                "{} {}",
                describe("Core", &core_r),
                describe("Extended", &ext_r)
            );
            profiles.push(ProfileReport {
                name: p,
                core: core_r,
                extended: ext_r,
                capability,
                api_version,
                summary,
            });
        }
        Self {
            api_version: "smi-assert.smps.dev/v1alpha1".into(),
            kind: "ConformanceReport".into(),
            date,
            implementation,
            smi_version: "v0.6.0".into(),
            suite: suite.to_string(),
            mode: mode.to_string(),
            duration_ms,
            profiles,
            tests,
        }
    }

    /// The report of one profile.
    #[must_use]
    pub fn profile(&self, p: Profile) -> Option<&ProfileReport> {
        self.profiles.iter().find(|r| r.name == p)
    }

    /// The result of one test.
    #[must_use]
    pub fn test(&self, name: &str) -> Option<&TestResult> {
        self.tests.iter().find(|t| t.name == name)
    }

    /// Counts over all tests.
    #[must_use]
    pub fn statistics(&self) -> Statistics {
        let mut s = Statistics::default();
        for t in &self.tests {
            s.add(t.status);
        }
        s
    }

    /// The native JSON report.
    #[must_use]
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// JUnit XML: one `testsuite` per test, one `testcase` per step.
    #[must_use]
    pub fn to_junit_xml(&self) -> String {
        use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

        let time = |ms: u64| std::time::Duration::from_millis(ms);
        let mut report = quick_junit::Report::new(self.suite.as_str());
        report.set_time(time(self.duration_ms));
        for t in &self.tests {
            let mut suite = TestSuite::new(t.name.as_str());
            if t.steps.is_empty() && t.status == Status::Skipped {
                // A test skipped before it ran (unsupported feature) is one skipped testcase.
                let mut status = TestCaseStatus::skipped();
                status.set_message(t.message.as_str());
                let mut case = TestCase::new(t.name.as_str(), status);
                case.set_classname(t.name.as_str()).set_time(time(0));
                suite.set_time(time(0)).add_test_case(case);
                report.add_test_suite(suite);
                continue;
            }
            suite.set_time(time(t.duration_ms));
            if let Some(p) = t.profile {
                let names: Vec<&str> = if t.profiles.is_empty() {
                    vec![p.as_str()]
                } else {
                    t.profiles.iter().map(|p| p.as_str()).collect()
                };
                suite.add_property(Property::new("profile", names.join(",")));
                suite.add_property(Property::new("features", t.features.join(",")));
            }
            for s in &t.steps {
                let bad = s
                    .operations
                    .iter()
                    .find(|o| o.status == s.status && s.status != Status::Passed);
                let msg = bad.map_or(t.message.as_str(), |o| o.message.as_str());
                let status = match s.status {
                    Status::Passed => TestCaseStatus::success(),
                    Status::Skipped => {
                        let mut st = TestCaseStatus::skipped();
                        st.set_message(msg);
                        st
                    }
                    Status::Failed | Status::Error => {
                        let kind = if s.status == Status::Failed {
                            NonSuccessKind::Failure
                        } else {
                            NonSuccessKind::Error
                        };
                        let mut st = TestCaseStatus::non_success(kind);
                        st.set_message(msg)
                            .set_type(bad.map_or("step", |o| o.kind.as_str()));
                        if let Some(o) = bad {
                            st.set_description(
                                serde_json::to_string_pretty(&o.evidence).unwrap_or_default(),
                            );
                        }
                        st
                    }
                };
                let mut case = TestCase::new(s.name.as_str(), status);
                case.set_classname(t.name.as_str())
                    .set_assertions(s.operations.len())
                    .set_time(time(s.duration_ms));
                suite.add_test_case(case);
            }
            report.add_test_suite(suite);
        }
        // Writing to memory cannot fail (quick-junit only reports I/O errors of the writer).
        report.to_string().unwrap_or_default()
    }

    fn meshery_details(&self) -> (u64, u64, Vec<Value>) {
        let mut total = 0u64;
        let mut passed = 0u64;
        let mut details = Vec::new();
        for p in [Profile::Access, Profile::Split, Profile::Specs] {
            let Some(pr) = self.profile(p) else { continue };
            let tests: Vec<&TestResult> = self
                .tests
                .iter()
                .filter(|t| t.profile == Some(p) && t.status != Status::Skipped)
                .collect();
            let steps: u64 = tests.iter().map(|t| t.steps.len() as u64).sum();
            let ok: u64 = tests
                .iter()
                .flat_map(|t| &t.steps)
                .filter(|s| s.status == Status::Passed)
                .count() as u64;
            total += steps;
            passed += ok;
            let dur: u64 = tests.iter().map(|t| t.duration_ms).sum();
            let bad: Vec<&&TestResult> = tests
                .iter()
                .filter(|t| matches!(t.status, Status::Failed | Status::Error))
                .collect();
            let result = if bad.is_empty() && pr.capability == Capability::Full {
                json!({"message": "All test passed"})
            } else {
                let short = bad.first().map_or_else(
                    || "no test passed".to_string(),
                    |t| format!("{} {}: {}", t.name, t.status.as_str(), t.message),
                );
                let long: Vec<String> = bad
                    .iter()
                    .map(|t| format!("{} {}: {}", t.name, t.status.as_str(), t.message))
                    .collect();
                json!({"error": {"shortDescription": short, "longDescription": long.join("; ")}})
            };
            details.push(json!({
                "smispec": p.meshery_name(),
                "specversion": format!("{}/{}", self.smi_version, pr.api_version),
                "assertion": steps.to_string(),
                "duration": format!("{}s", secs(dur)),
                "result": result,
                "capability": pr.capability.meshery(),
                "status": if pr.capability == Capability::Full { "PASSED" } else { "FAILED" },
            }));
        }
        (total, passed, details)
    }

    /// The learn-layer5 `Response` (proto JSON names). Cases are steps of the ACCESS, SPLIT and
    /// SPECS profiles' non-skipped tests.
    #[must_use]
    pub fn to_meshery_response(&self) -> Value {
        let (total, passed, details) = self.meshery_details();
        let pct = if total == 0 {
            0.0
        } else {
            passed as f64 * 100.0 / total as f64
        };
        json!({
            "passpercent": format!("{pct:.2}"),
            "casespassed": passed.to_string(),
            "mesh": {"type": self.implementation.project, "version": self.implementation.version},
            "details": details,
        })
    }

    /// The Meshery adapter's JSON shape (snake_case, `more_details`).
    #[must_use]
    pub fn to_meshery_adapter_json(&self) -> Value {
        let (total, passed, details) = self.meshery_details();
        let pct = if total == 0 {
            0.0
        } else {
            passed as f64 * 100.0 / total as f64
        };
        let more: Vec<Value> = details
            .iter()
            .map(|d| {
                let (result, reason) = match d["result"].get("message") {
                    Some(m) => (m.clone(), Value::String(String::new())),
                    None => (
                        d["result"]["error"]["shortDescription"].clone(),
                        d["result"]["error"]["longDescription"].clone(),
                    ),
                };
                json!({
                    "smi_specification": d["smispec"], "smi_version": d["specversion"],
                    "time": d["duration"], "assertions": d["assertion"], "result": result,
                    "reason": reason, "capability": d["capability"], "status": d["status"],
                })
            })
            .collect();
        json!({
            "date": self.date,
            "mesh_name": self.implementation.project,
            "mesh_version": self.implementation.version,
            "cases_passed": passed.to_string(),
            "passing_percentage": format!("{pct:.2}"),
            "status": "completed",
            "more_details": more,
        })
    }

    /// A readable summary: per profile capability and counts, then every non-passing test with
    /// the failing operation's message and evidence.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let impl_ = &self.implementation;
        let _ = writeln!(
            s,
            "{} conformance report: {} {} ({}), suite {}, mode {}, {}",
            if self.profiles.iter().all(|p| p.name.is_gamma()) && !self.profiles.is_empty() {
                "Gateway API mesh"
            } else {
                "SMI"
            },
            impl_.project,
            impl_.version,
            impl_.organization,
            self.suite,
            self.mode,
            self.date
        );
        let st = self.statistics();
        let _ = writeln!(
            s,
            "{} tests: {} passed, {} failed, {} skipped, {} errors in {:.2} s",
            self.tests.len(),
            st.passed,
            st.failed,
            st.skipped,
            st.errors,
            self.duration_ms as f64 / 1000.0
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<12} {:<9} {:<10} {:<22} {:<22}",
            "profile", "version", "capability", "core (P/F/S/E)", "extended (P/F/S/E)"
        );
        for p in &self.profiles {
            let c = |r: &LevelReport| {
                format!(
                    "{}/{}/{}/{}",
                    r.statistics.passed,
                    r.statistics.failed,
                    r.statistics.skipped,
                    r.statistics.errors
                )
            };
            let _ = writeln!(
                s,
                "{:<12} {:<9} {:<10} {:<22} {:<22}",
                p.name.as_str(),
                p.api_version,
                format!("{:?}", p.capability),
                c(&p.core),
                c(&p.extended)
            );
        }
        let _ = writeln!(s);
        for t in &self.tests {
            let mark = match t.status {
                Status::Passed => "PASS",
                Status::Failed => "FAIL",
                Status::Skipped => "SKIP",
                Status::Error => "ERR ",
            };
            let _ = writeln!(
                s,
                "{mark} {:<40} {:<12} {:>7.3} s",
                t.name,
                t.profile.map_or("-", Profile::as_str),
                t.duration_ms as f64 / 1000.0
            );
            if t.status != Status::Passed {
                let has_op_detail = t
                    .steps
                    .iter()
                    .flat_map(|s| &s.operations)
                    .any(|o| matches!(o.status, Status::Failed | Status::Error));
                if !t.message.is_empty() && !has_op_detail {
                    let _ = writeln!(s, "     {}", t.message);
                }
                for step in &t.steps {
                    for o in &step.operations {
                        if matches!(o.status, Status::Failed | Status::Error) {
                            let _ =
                                writeln!(s, "     step {} / {}: {}", step.name, o.kind, o.message);
                            if !o.evidence.is_null() {
                                let ev = serde_json::to_string(&o.evidence).unwrap_or_default();
                                let ev = if ev.len() > 400 {
                                    let cut =
                                        ev.char_indices().nth(400).map_or(ev.len(), |(i, _)| i);
                                    format!("{}…", &ev[..cut])
                                } else {
                                    ev
                                };
                                let _ = writeln!(s, "       evidence: {ev}");
                            }
                        }
                    }
                }
            }
        }
        s
    }
}

/// Per-spec capability map, for quick checks: profile name → capability.
#[must_use]
pub fn capabilities(report: &Report) -> BTreeMap<Profile, Capability> {
    report
        .profiles
        .iter()
        .map(|p| (p.name, p.capability))
        .collect()
}

/// The tests that count in `profile`, split into core (and unlevelled) ones and extended ones.
pub(crate) fn core_and_extended(
    tests: &[TestResult],
    profile: Profile,
) -> (Vec<&TestResult>, Vec<&TestResult>) {
    tests
        .iter()
        .filter(|t| t.in_profile(profile))
        .partition(|t| t.level != Some(Level::Extended))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_dates_are_whole_seconds_in_rfc_3339() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_250);
        assert_eq!(whole_seconds(t).to_string(), "2023-11-14T22:13:20Z");
        assert_eq!(
            whole_seconds(std::time::UNIX_EPOCH).to_string(),
            "1970-01-01T00:00:00Z"
        );
    }
}
