//! Gateway API's `ConformanceReport` (`gateway.networking.k8s.io/v1`): the format meshes submit
//! to the Gateway API project, built from a [`Report`] of a GAMMA suite run.
//!
//! Rules followed (upstream `conformance/apis/v1`):
//! - `implementation` needs `organization`, `project`, `url`, `version` and at least one
//!   `contact`; [`ConformanceReport::check`] (and [`ReportImplementation::from_text`]) say which
//!   one is missing;
//! - a profile's core and extended parts have a `result`: **failure** if a test failed (an
//!   infrastructure error counts as failed), else **partial** if a test was skipped, else
//!   **success**; `statistics` count `Passed`, `Skipped` and `Failed`; `skippedTests` and
//!   `failedTests` name them;
//! - `extended` lists the profile's extended features as `supportedFeatures` /
//!   `unsupportedFeatures` and is left out when the run has no extended test of the profile (as
//!   Linkerd's submitted MESH-GRPC profile shows);
//! - `succeededProvisionalTests` names the provisional tests that passed.
//!
//! # Examples
//!
//! ```
//! use smi_assert::gateway_report::{ConformanceReport, ReportImplementation};
//! let text = "organization: smps-rs\nproject: loopback\nurl: https://example.org\nversion: v1\ncontact: [a@example.org]\n";
//! let implementation = ReportImplementation::from_text(text)?;
//! let e = ReportImplementation::from_text("organization: x\nproject: y\nversion: v1\ncontact: [c]\n")
//!     .unwrap_err();
//! assert!(e.to_string().contains("implementation.url"), "{e}");
//! # let _ = implementation;
//! # Ok::<(), smi_assert::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, YamlError};
use crate::features::{FEATURES, Level, Profile};
use crate::report::{Report, Status, TestResult};

/// The Gateway API release the bundled suite and CRDs follow.
pub const GATEWAY_API_VERSION: &str = "v1.6.0";

/// The `implementation` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ReportImplementation {
    /// Organisation.
    #[serde(default)]
    pub organization: String,
    /// Project.
    #[serde(default)]
    pub project: String,
    /// URL.
    #[serde(default)]
    pub url: String,
    /// Version.
    #[serde(default)]
    pub version: String,
    /// Contacts (at least one).
    #[serde(default)]
    pub contact: Vec<String>,
}

impl ReportImplementation {
    /// An implementation block.
    #[must_use]
    pub fn new(
        organization: impl Into<String>,
        project: impl Into<String>,
        url: impl Into<String>,
        version: impl Into<String>,
        contact: Vec<String>,
    ) -> Self {
        Self {
            organization: organization.into(),
            project: project.into(),
            url: url.into(),
            version: version.into(),
            contact,
        }
    }

    /// Reads YAML or JSON (`organization`, `project`, `url`, `version`, `contact`) and checks
    /// every field is there.
    ///
    /// # Errors
    ///
    /// [`Error::ParseReport`] for malformed text or unknown keys, [`Error::InvalidReport`] naming
    /// the missing field.
    pub fn from_text(text: &str) -> Result<Self> {
        let i: ReportImplementation =
            serde_yaml::from_str(text).map_err(|e| Error::ParseReport {
                what: "the implementation block".into(),
                source: YamlError::new(e),
            })?;
        i.check()?;
        Ok(i)
    }

    /// Checks the required fields.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReport`] naming the first missing field.
    pub fn check(&self) -> Result<()> {
        for (field, value) in [
            ("organization", &self.organization),
            ("project", &self.project),
            ("url", &self.url),
            ("version", &self.version),
        ] {
            if value.trim().is_empty() {
                return Err(Error::InvalidReport {
                    field: format!("implementation.{field}"),
                    message: "is required and must not be empty".into(),
                });
            }
        }
        if self.contact.iter().all(|c| c.trim().is_empty()) {
            return Err(Error::InvalidReport {
                field: "implementation.contact".into(),
                message: "needs at least one contact".into(),
            });
        }
        Ok(())
    }
}

/// `success`, `partial` or `failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum GatewayResult {
    /// Every test ran and passed.
    Success,
    /// No test failed, some were skipped.
    Partial,
    /// A test failed.
    Failure,
}

/// Test counts, in upstream's capitalised keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GatewayStatistics {
    /// Passed.
    pub passed: u32,
    /// Skipped.
    pub skipped: u32,
    /// Failed (infrastructure errors included).
    pub failed: u32,
}

/// The core or extended part of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LevelStatus {
    /// Result.
    pub result: GatewayResult,
    /// Counts.
    pub statistics: GatewayStatistics,
    /// Skipped tests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_tests: Vec<String>,
    /// Failed tests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_tests: Vec<String>,
}

impl LevelStatus {
    fn of(tests: &[&TestResult]) -> Self {
        let mut s = GatewayStatistics::default();
        let (mut skipped, mut failed) = (Vec::new(), Vec::new());
        for t in tests {
            match t.status {
                Status::Passed => s.passed += 1,
                Status::Skipped => {
                    s.skipped += 1;
                    skipped.push(t.name.clone());
                }
                Status::Failed | Status::Error => {
                    s.failed += 1;
                    failed.push(t.name.clone());
                }
            }
        }
        Self {
            result: result_of(&s),
            statistics: s,
            skipped_tests: skipped,
            failed_tests: failed,
        }
    }
}

fn result_of(s: &GatewayStatistics) -> GatewayResult {
    if s.failed > 0 {
        GatewayResult::Failure
    } else if s.skipped > 0 {
        GatewayResult::Partial
    } else {
        GatewayResult::Success
    }
}

/// The extended part: a level status plus the declared features.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExtendedStatus {
    /// Result, counts and test lists.
    #[serde(flatten)]
    pub status: LevelStatus,
    /// Extended features the implementation declares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_features: Vec<String>,
    /// Extended features it does not declare.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported_features: Vec<String>,
}

/// One profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GatewayProfileReport {
    /// `MESH-HTTP` or `MESH-GRPC`.
    pub name: String,
    /// One line, e.g. `Core tests succeeded. Extended tests partially succeeded.`
    pub summary: String,
    /// Core tests.
    pub core: LevelStatus,
    /// Extended tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended: Option<ExtendedStatus>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConformanceReport {
    /// `gateway.networking.k8s.io/v1`.
    pub api_version: String,
    /// `ConformanceReport`.
    pub kind: String,
    /// RFC 3339 date of the run.
    pub date: String,
    /// Gateway API release, e.g. `v1.6.0`.
    #[serde(rename = "gatewayAPIVersion")]
    pub gateway_api_version: String,
    /// `standard` or `experimental`.
    #[serde(rename = "gatewayAPIChannel")]
    pub gateway_api_channel: String,
    /// Mode, e.g. `default`.
    pub mode: String,
    /// The implementation.
    pub implementation: ReportImplementation,
    /// Profiles.
    pub profiles: Vec<GatewayProfileReport>,
    /// Provisional tests that passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub succeeded_provisional_tests: Vec<String>,
}

fn describe(level: &str, r: GatewayResult, skipped: u32) -> String {
    match r {
        GatewayResult::Success => format!("{level} tests succeeded."),
        GatewayResult::Partial => {
            format!("{level} tests partially succeeded with {skipped} test skips.")
        }
        GatewayResult::Failure => format!("{level} tests failed."),
    }
}

impl ConformanceReport {
    /// Builds the report of the GAMMA profiles of `report` (the SMI profiles have no place in
    /// it), with this implementation block.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReport`] if the implementation block misses a field, or `report` holds no
    /// GAMMA profile.
    pub fn from_report(report: &Report, implementation: ReportImplementation) -> Result<Self> {
        implementation.check()?;
        let mut profiles = Vec::new();
        for pr in report.profiles.iter().filter(|p| p.name.is_gamma()) {
            let p = pr.name;
            let (core, ext) = crate::report::core_and_extended(&report.tests, p);
            let core = LevelStatus::of(&core);
            let mut supported = Vec::new();
            let mut unsupported = Vec::new();
            for f in FEATURES {
                if f.level == Level::Extended && f.profiles.contains(&p) {
                    if report.implementation.supported_features.contains(f.id) {
                        supported.push(f.id.to_string());
                    } else {
                        unsupported.push(f.id.to_string());
                    }
                }
            }
            let extended = (!ext.is_empty()).then(|| ExtendedStatus {
                status: LevelStatus::of(&ext),
                supported_features: supported,
                unsupported_features: unsupported,
            });
            let mut summary = describe("Core", core.result, core.statistics.skipped);
            if let Some(e) = &extended {
                summary.push(' ');
                summary.push_str(&describe(
                    "Extended",
                    e.status.result,
                    e.status.statistics.skipped,
                ));
            }
            profiles.push(GatewayProfileReport {
                name: p.as_str().to_string(),
                summary,
                core,
                extended,
            });
        }
        if profiles.is_empty() {
            return Err(Error::InvalidReport {
                field: "profiles".into(),
                message: "the run holds no Gateway API mesh profile (MESH-HTTP, MESH-GRPC)".into(),
            });
        }
        let succeeded_provisional_tests = report
            .tests
            .iter()
            .filter(|t| t.provisional && t.status == Status::Passed)
            .map(|t| t.name.clone())
            .collect();
        Ok(Self {
            api_version: crate::gateway::API_VERSION.into(),
            kind: "ConformanceReport".into(),
            date: report.date.to_string(),
            gateway_api_version: GATEWAY_API_VERSION.into(),
            gateway_api_channel: "standard".into(),
            mode: report.mode.clone(),
            implementation,
            profiles,
            succeeded_provisional_tests,
        })
    }

    /// Checks upstream's rules: apiVersion and kind, the implementation block, a known channel,
    /// and each result agreeing with its statistics.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReport`] naming the field.
    pub fn check(&self) -> Result<()> {
        let bad = |field: &str, message: String| {
            Err(Error::InvalidReport {
                field: field.into(),
                message,
            })
        };
        if self.api_version != crate::gateway::API_VERSION {
            return bad(
                "apiVersion",
                format!(
                    "is `{}`, expected gateway.networking.k8s.io/v1",
                    self.api_version
                ),
            );
        }
        if self.kind != "ConformanceReport" {
            return bad(
                "kind",
                format!("is `{}`, expected ConformanceReport", self.kind),
            );
        }
        self.implementation.check()?;
        if !matches!(
            self.gateway_api_channel.as_str(),
            "standard" | "experimental"
        ) {
            return bad(
                "gatewayAPIChannel",
                format!(
                    "is `{}`, expected standard or experimental",
                    self.gateway_api_channel
                ),
            );
        }
        for (i, p) in self.profiles.iter().enumerate() {
            if Profile::parse(&p.name).is_none_or(|p| !p.is_gamma()) {
                return bad(
                    &format!("profiles[{i}].name"),
                    format!("`{}` is not a mesh profile", p.name),
                );
            }
            let levels = std::iter::once(("core", &p.core))
                .chain(p.extended.as_ref().map(|e| ("extended", &e.status)));
            for (level, st) in levels {
                let want = result_of(&st.statistics);
                if st.result != want {
                    return bad(
                        &format!("profiles[{i}].{level}.result"),
                        format!("is {:?} but its statistics make it {want:?}", st.result),
                    );
                }
            }
        }
        Ok(())
    }

    /// The report as YAML.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReport`] if the report breaks a rule of [`check`](Self::check).
    pub fn to_yaml(&self) -> Result<String> {
        self.check()?;
        serde_yaml::to_string(self).map_err(|e| Error::ParseReport {
            what: "the report as YAML".into(),
            source: YamlError::new(e),
        })
    }

    /// Reads a report (YAML or JSON) and checks it.
    ///
    /// # Errors
    ///
    /// [`Error::ParseReport`] or [`Error::InvalidReport`].
    pub fn from_yaml(text: &str) -> Result<Self> {
        let r: ConformanceReport = serde_yaml::from_str(text).map_err(|e| Error::ParseReport {
            what: "a ConformanceReport".into(),
            source: YamlError::new(e),
        })?;
        r.check()?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submitted_upstream_reports_read_and_pass_the_rules() {
        let linkerd = include_str!(
            "../tests/fixtures/gamma/linkerd-v1.3.0-standard-2.18-default-report.yaml"
        );
        let r = ConformanceReport::from_yaml(linkerd).unwrap();
        assert_eq!(r.profiles.len(), 2);
        assert_eq!(r.profiles[1].core.statistics.passed, 7);
        let again = ConformanceReport::from_yaml(&r.to_yaml().unwrap()).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn a_result_that_disagrees_with_its_statistics_is_refused() {
        let linkerd = include_str!(
            "../tests/fixtures/gamma/linkerd-v1.3.0-standard-2.18-default-report.yaml"
        );
        let bad = linkerd.replacen("Failed: 0", "Failed: 1", 1);
        let e = ConformanceReport::from_yaml(&bad).unwrap_err();
        assert!(e.to_string().contains("profiles[0].core.result"), "{e}");
    }
}
