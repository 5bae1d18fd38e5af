//! The five kinds of SMP document, by message name.

use crate::fold::fold;

/// The kinds of SMP document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// [`crate::PerformanceTestConfig`] (also Meshery's `{test, mesh}` wrapper and profiles).
    PerformanceTestConfig,
    /// [`crate::PerformanceTestResult`] (also legacy and Meshery result exports).
    PerformanceTestResult,
    /// [`crate::ServiceMeshConfig`].
    ServiceMeshConfig,
    /// [`crate::EnvironmentConfig`].
    EnvironmentConfig,
    /// [`crate::ServiceMesh`].
    ServiceMesh,
}

impl Kind {
    /// Every kind.
    pub const ALL: &'static [Kind] = &[
        Kind::PerformanceTestConfig,
        Kind::PerformanceTestResult,
        Kind::ServiceMeshConfig,
        Kind::EnvironmentConfig,
        Kind::ServiceMesh,
    ];

    /// The SMP message name (`PerformanceTestConfig`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::PerformanceTestConfig => "PerformanceTestConfig",
            Kind::PerformanceTestResult => "PerformanceTestResult",
            Kind::ServiceMeshConfig => "ServiceMeshConfig",
            Kind::EnvironmentConfig => "EnvironmentConfig",
            Kind::ServiceMesh => "ServiceMesh",
        }
    }

    /// Finds a kind by message name, case-insensitively (`performancetestconfig`, `config`,
    /// `result`, `mesh-config`, `environment`, `mesh` are accepted too).
    pub fn from_name(name: &str) -> Option<Kind> {
        let folded = fold(name);
        Some(match folded.as_str() {
            "performancetestconfig" | "config" | "testconfig" | "test" => {
                Kind::PerformanceTestConfig
            }
            "performancetestresult" | "result" | "testresult" => Kind::PerformanceTestResult,
            "servicemeshconfig" | "meshconfig" => Kind::ServiceMeshConfig,
            "environmentconfig" | "environment" | "env" => Kind::EnvironmentConfig,
            "servicemesh" | "mesh" => Kind::ServiceMesh,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
