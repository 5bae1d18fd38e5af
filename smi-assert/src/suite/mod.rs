//! The suite model: Suite → Test → Step → Operation, as YAML or built in Rust.
//!
//! ```yaml
//! name: my-suite
//! fixtures:
//!   app: [ ...manifests... ]
//! tests:
//! - name: access-default-deny
//!   features: [access.default-deny]
//!   steps:
//!   - name: install
//!     precondition: true
//!     operations:
//!     - apply: {fixture: app}
//!     - assert: {object: {apiVersion: apps/v1, kind: Deployment, metadata: {name: app-b}, status: {readyReplicas: 1}}}
//!   - name: denied
//!     operations:
//!     - traffic: {from: app-a, to: "http://app-b:9091/echo", expect: denied}
//! ```
//!
//! Unknown keys are errors (kuttl #278). Durations are Go duration strings ([`GoDuration`]) like `500ms`, `5s`, `1m` or `1h30m`;
//! a negative one is an invalid suite.
//! `<NAMESPACE>` and `$NAMESPACE` in manifests, URLs and sources are replaced by the test's
//! namespace. Timeouts inherit operation → step → test → suite → built-in defaults
//! ([`Timeouts::built_in`]).
//!
//! With the `schema` feature, `Suite::json_schema` gives a JSON Schema for editors (checked in
//! as `smi-assert/schema/suite.schema.json`).
//!
//! # Layout
//!
//! This file holds [`Suite`], [`Test`], [`Step`] and [`Timeouts`], loading and [`Suite::check`];
//! `operation` the [`Operation`] enum and its object, `custom` and `sleep` operations; `traffic`
//! and `metrics` those operations; `builder` the builders.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smps_model::GoDuration;

use crate::error::YamlError;
use crate::error::{Error, Result};
use crate::input::ReadError;
pub use crate::input::{DEFAULT_MAX_FILE_BYTES, InputSize};

mod builder;
mod metrics;
mod operation;
mod traffic;

pub use builder::{SuiteBuilder, TestBuilder};
pub use metrics::{CountRange, EdgeDirection, MetricsEdge, MetricsOp, MetricsResource};
pub use operation::{AbsentOp, ApplyOp, AssertOp, CustomOp, DeleteOp, Operation, SleepOp};
pub use traffic::{
    DenialClass, DistributionOp, Expect, RedirectExpect, ResponseExpect, SeenRequest, TrafficOp,
};

/// Timeouts per operation type; unset fields inherit from the enclosing level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Timeouts {
    /// For `apply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<GoDuration>,
    /// For `delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<GoDuration>,
    /// For `assert`, `absent` and `metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assert: Option<GoDuration>,
    /// For `traffic` convergence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<GoDuration>,
    /// For one `distribution` attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<GoDuration>,
    /// For `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<GoDuration>,
}

impl Timeouts {
    /// Built-in defaults: apply 5 s, delete 15 s, assert 30 s, traffic 30 s, distribution 60 s,
    /// custom 30 s.
    #[must_use]
    pub fn built_in() -> Timeouts {
        let secs = |s: i64| Some(GoDuration::from_nanos(s * 1_000_000_000));
        Timeouts {
            apply: secs(5),
            delete: secs(15),
            assert: secs(30),
            traffic: secs(30),
            distribution: secs(60),
            custom: secs(30),
        }
    }

    /// `self` with unset fields taken from `parent`.
    #[must_use]
    pub fn inherit(&self, parent: &Timeouts) -> Timeouts {
        let pick = |own: &Option<GoDuration>, up: &Option<GoDuration>| own.clone().or(up.clone());
        Timeouts {
            apply: pick(&self.apply, &parent.apply),
            delete: pick(&self.delete, &parent.delete),
            assert: pick(&self.assert, &parent.assert),
            traffic: pick(&self.traffic, &parent.traffic),
            distribution: pick(&self.distribution, &parent.distribution),
            custom: pick(&self.custom, &parent.custom),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&'static str, &GoDuration)> {
        [
            ("apply", &self.apply),
            ("delete", &self.delete),
            ("assert", &self.assert),
            ("traffic", &self.traffic),
            ("distribution", &self.distribution),
            ("custom", &self.custom),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|d| (k, d)))
    }
}

/// A whole suite.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Suite {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Suite-level timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Named manifest lists usable with `apply: {fixture: name}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fixtures: BTreeMap<String, Vec<Value>>,
    /// Tests, run in order, each in its own namespace.
    pub tests: Vec<Test>,
}

/// One test: runs in its own namespace; cleanup always runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Test {
    /// Name (unique in the suite).
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Features exercised (ids from [`crate::features::FEATURES`]), sharing at least one
    /// profile; the test counts in every profile they share ([`crate::features::test_profiles`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// A provisional test (Gateway API's `Provisional`): run and counted as any other, and listed
    /// in a ConformanceReport's `succeededProvisionalTests` when it passes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
    /// Test-level timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Steps, run in order; the first failing step ends the test.
    pub steps: Vec<Step>,
    /// Operations that always run after the steps (before namespace cleanup).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finally: Vec<Operation>,
}

/// One step: a list of operations, run in order; the first failure ends the step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Step {
    /// Name.
    pub name: String,
    /// A precondition (setup) step: its failure makes the test an *error*, not a failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub precondition: bool,
    /// Step-level timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Operations.
    pub operations: Vec<Operation>,
}

impl Suite {
    /// Parses a YAML suite and checks it ([`Suite::check`]).
    ///
    /// # Errors
    ///
    /// [`Error::ParseSuite`] with line/column for malformed YAML or unknown keys; [`Error::InvalidSuite`]
    /// for inconsistencies.
    pub fn from_yaml(text: &str) -> Result<Self> {
        Self::from_yaml_named(text, "<string>")
    }

    fn from_yaml_named(text: &str, origin: &str) -> Result<Self> {
        let suite: Suite = serde_yaml::from_str(text).map_err(|e| Error::ParseSuite {
            origin: origin.to_string(),
            source: YamlError::new(e),
        })?;
        suite.check()?;
        Ok(suite)
    }

    /// Reads a YAML suite file of at most [`DEFAULT_MAX_FILE_BYTES`].
    ///
    /// # Errors
    ///
    /// As [`Suite::from_file_with_limit`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_file_with_limit(path, DEFAULT_MAX_FILE_BYTES)
    }

    /// Reads a YAML suite file of at most `max_bytes` bytes. A larger regular file is refused
    /// without being read; a FIFO or device is read no further than `max_bytes + 1` bytes.
    ///
    /// # Errors
    ///
    /// As [`Suite::from_yaml`], plus [`Error::ReadFile`], [`Error::TooLarge`] (with the file's
    /// size) and [`Error::NotUtf8`] (with the line and column of the first invalid byte).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let suite = smi_assert::suite::Suite::from_file_with_limit("suite.yaml", 1 << 20)?;
    /// # Ok::<(), smi_assert::Error>(())
    /// ```
    pub fn from_file_with_limit(path: impl AsRef<Path>, max_bytes: u64) -> Result<Self> {
        let p = path.as_ref();
        let path = p.to_path_buf();
        let text = crate::input::read_text(p, max_bytes).map_err(|e| match e {
            ReadError::Io(source) => Error::ReadFile {
                path: path.clone(),
                source,
            },
            ReadError::TooLarge { size, limit } => Error::TooLarge {
                path: path.clone(),
                size,
                limit,
            },
            ReadError::NotUtf8 { line, column } => Error::NotUtf8 {
                path: path.clone(),
                line,
                column,
            },
        })?;
        Self::from_yaml_named(&text, &p.display().to_string())
    }

    /// Serialises to YAML.
    ///
    /// # Errors
    ///
    /// [`Error::WriteSuite`] only if a manifest cannot be represented in YAML (not expected for JSON
    /// values).
    pub fn to_yaml(&self) -> Result<String> {
        serde_yaml::to_string(self).map_err(|e| Error::WriteSuite {
            source: YamlError::new(e),
        })
    }

    /// The JSON Schema of the suite format.
    #[cfg(feature = "schema")]
    #[cfg_attr(docsrs, doc(cfg(feature = "schema")))]
    #[must_use]
    pub fn json_schema() -> Value {
        serde_json::to_value(schemars::schema_for!(Suite)).unwrap_or(Value::Null)
    }

    /// Checks consistency: unique test names, known features from one profile, existing fixtures,
    /// sane traffic/distribution parameters.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSuite`] naming the location.
    pub fn check(&self) -> Result<()> {
        let invalid =
            |location: String, message: String| Err(Error::InvalidSuite { location, message });
        let negative = |d: &GoDuration| d.is_negative();
        if let Some((k, d)) = self.timeouts.iter().find(|(_, d)| negative(d)) {
            return invalid(
                format!("{}/timeouts/{k}", self.name),
                format!("duration {d} is negative"),
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for t in &self.tests {
            let step_timeouts = t.steps.iter().map(|s| (s.name.as_str(), &s.timeouts));
            for (at, timeouts) in
                std::iter::once((t.name.as_str(), &t.timeouts)).chain(step_timeouts)
            {
                if let Some((k, d)) = timeouts.iter().find(|(_, d)| negative(d)) {
                    return invalid(
                        format!("{}/{at}/timeouts/{k}", t.name),
                        format!("duration {d} is negative"),
                    );
                }
            }
            if t.name.is_empty() {
                return invalid(self.name.clone(), "a test has no name".into());
            }
            if !names.insert(&t.name) {
                return invalid(t.name.clone(), "duplicate test name".into());
            }
            for f in &t.features {
                if crate::features::feature(f).is_none() {
                    return invalid(t.name.clone(), format!("unknown feature `{f}`"));
                }
            }
            if !t.features.is_empty()
                && crate::features::test_profiles(t.features.iter().map(String::as_str)).is_empty()
            {
                return invalid(
                    t.name.clone(),
                    "the features of one test must share a profile".into(),
                );
            }
            let all = t
                .steps
                .iter()
                .flat_map(|s| s.operations.iter().map(move |o| (s.name.as_str(), o)))
                .chain(t.finally.iter().map(|o| ("finally", o)));
            for (i, (step, op)) in all.enumerate() {
                let loc = format!("{}/{step}/{i}:{}", t.name, op.kind());
                if let Some((k, d)) = op.durations().into_iter().find(|(_, d)| negative(d)) {
                    return invalid(loc, format!("{k}: duration {d} is negative"));
                }
                match op {
                    Operation::Apply(a) => {
                        if let Some(fx) = &a.fixture
                            && !self.fixtures.contains_key(fx)
                        {
                            return invalid(loc, format!("unknown fixture `{fx}`"));
                        }
                        if a.fixture.is_none() && a.objects.is_empty() {
                            return invalid(loc, "nothing to apply".into());
                        }
                    }
                    Operation::Traffic(tr) if tr.consecutive == 0 => {
                        return invalid(loc, "consecutive must be at least 1".into());
                    }
                    Operation::Metrics(m) => {
                        if m.resource.kind.is_empty() {
                            return invalid(loc, "resource.kind is empty".into());
                        }
                        if m.edge.as_ref().is_some_and(|e| e.resource.name.is_none()) {
                            return invalid(loc, "edge.resource needs a name".into());
                        }
                        if m.absent
                            && (m.edge.is_none()
                                || m.success_count.is_some()
                                || m.failure_count.is_some()
                                || m.max_latency.is_some())
                        {
                            return invalid(
                                loc,
                                "absent needs an edge and takes no ranges or latency bound".into(),
                            );
                        }
                        for (what, r) in [
                            ("successCount", m.success_count),
                            ("failureCount", m.failure_count),
                        ] {
                            if let Some(CountRange {
                                min: Some(a),
                                max: Some(b),
                            }) = r
                                && a > b
                            {
                                return invalid(loc, format!("{what}: min {a} is above max {b}"));
                            }
                        }
                    }
                    Operation::Distribution(d) => {
                        let total: u64 = d.weights.values().sum();
                        if total == 0 {
                            return invalid(loc, "weights must not all be 0".into());
                        }
                        if !(d.alpha > 0.0 && d.alpha < 1.0) {
                            return invalid(loc, format!("alpha {} is not in (0, 1)", d.alpha));
                        }
                        if d.attempts == 0 {
                            return invalid(loc, "attempts must be at least 1".into());
                        }
                        for (b, w) in &d.weights {
                            let expected = f64::from(d.requests) * *w as f64 / total as f64;
                            if *w > 0 && expected < 5.0 {
                                return invalid(
                                    loc,
                                    format!(
                                        "backend `{b}` expects {expected:.1} requests; the χ² test \
                                         needs at least 5, so raise `requests`"
                                    ),
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn durations_take_go_syntax_like_the_rest_of_the_family() {
        // Regression (issue 13): `1h30m` was rejected here while the CLI's other commands
        // accept it.
        let s = Suite::from_yaml(
            "name: s\ntimeouts: {traffic: 1h30m, assert: 1.5s}\ntests:\n- name: t\n  steps:\n  - name: a\n    operations:\n    - sleep: {duration: 250ms}\n",
        )
        .unwrap();
        assert_eq!(
            s.timeouts.traffic.unwrap().to_std(),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(
            s.timeouts.assert.unwrap().to_std(),
            Some(Duration::from_millis(1500))
        );
        assert!(Suite::from_yaml("name: s\ntimeouts: {traffic: '5'}\ntests: []\n").is_err());
    }

    #[test]
    fn negative_durations_make_a_suite_invalid() {
        let e = Suite::from_yaml(
            "name: s\ntests:\n- name: t\n  steps:\n  - name: a\n    operations:\n    - sleep: {duration: -1s}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("negative"), "{e}");
        let e = Suite::from_yaml("name: s\ntimeouts: {apply: -5s}\ntests: []\n").unwrap_err();
        assert!(e.to_string().contains("negative"), "{e}");
    }

    #[test]
    fn suite_files_over_the_limit_are_refused_with_their_size() {
        let dir = std::env::temp_dir().join(format!("smi-assert-suite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("suite.yaml");
        std::fs::write(&p, "name: s\ntests: []\n").unwrap();
        let e = Suite::from_file_with_limit(&p, 5).unwrap_err();
        assert!(
            matches!(
                &e,
                Error::TooLarge {
                    size: InputSize::Exactly(18),
                    limit: 5,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("suite.yaml"), "{e}");
        assert_eq!(Suite::from_file_with_limit(&p, 18).unwrap().name, "s");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn an_endless_device_as_suite_is_refused_at_the_default_limit() {
        let e = Suite::from_file("/dev/zero").unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLarge {
                    size: InputSize::MoreThan(DEFAULT_MAX_FILE_BYTES),
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
