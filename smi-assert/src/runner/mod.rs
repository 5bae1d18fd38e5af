//! Runs suites against a cluster backend and a traffic backend.
//!
//! Semantics:
//! - Each test runs in its own namespace (`<prefix><test-name>-<n>`), created with the runner's
//!   labels/annotations (a mesh profile's injection labels), and deleted afterwards. Cleanup
//!   *always* runs: `finally` operations, then deletion of every applied object in reverse order,
//!   then the namespace.
//! - Steps run in order and the first operation that does not pass ends its step and the test;
//!   later steps are reported as skipped.
//! - A failure in a precondition step, an invalid manifest, a missing custom check or a backend
//!   error makes the test an **error**, never a failure. A test needing an Extended feature the
//!   implementation has not declared is **skipped**.
//! - Waiting is polling with backoff (20 ms doubling up to the poll interval), never a fixed sleep.
//!
//! # Runtime
//!
//! [`Runner::run`] needs a Tokio runtime with the `time` driver. Dropping the future stops the run
//! between requests; objects already applied are then left behind (no cleanup runs).
//!
//! # Layout
//!
//! This file holds [`Runner`], the test loop (namespaces, steps, cleanup, dispatch of each
//! operation) and the [`CustomCheck`] hook (a custom check may run built-in operations and the
//! runner runs custom checks, so the two live together). `builder` holds the [`RunnerBuilder`];
//! `objects` the `apply`/`delete`/`assert`/`absent` operations; `traffic` `traffic` and
//! `distribution`; `metrics` the `metrics` operation; `support` the helpers they share.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use serde_json::Value;
use smps_model::GoDuration;

use crate::backend::{ClusterBackend, TrafficBackend};
use crate::error::{Result, chain};
use crate::features::{Implementation, Profile};
use crate::report::{OperationResult, Report, Status, StepResult, TestResult};
use crate::suite::{CustomOp, Operation, Suite, Test, Timeouts};
use crate::validate::Validator;

mod builder;
mod expect;
mod metrics;
mod objects;
mod support;
mod traffic;

pub use builder::RunnerBuilder;
pub use support::substitute;

use support::{TestState, ms, op_result, slug};

/// What a [`CustomCheck`] concluded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CheckOutcome {
    /// Passed, Failed or Error.
    pub status: Status,
    /// One line.
    pub message: String,
    /// Evidence.
    pub evidence: Value,
}

impl CheckOutcome {
    /// A pass.
    #[must_use]
    pub fn passed(message: impl Into<String>, evidence: Value) -> Self {
        Self {
            status: Status::Passed,
            message: message.into(),
            evidence,
        }
    }

    /// A conformance failure.
    #[must_use]
    pub fn failed(message: impl Into<String>, evidence: Value) -> Self {
        Self {
            status: Status::Failed,
            message: message.into(),
            evidence,
        }
    }

    /// Infrastructure trouble.
    #[must_use]
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            status: Status::Error,
            message: message.into(),
            evidence: Value::Null,
        }
    }
}

impl From<OperationResult> for CheckOutcome {
    /// Adopts a built-in operation's verdict (e.g. from [`CheckContext::run`]).
    fn from(r: OperationResult) -> Self {
        Self {
            status: r.status,
            message: r.message,
            evidence: r.evidence,
        }
    }
}

/// What a custom check can use: the test namespace, the backends, and the built-in operations.
#[derive(Debug)]
pub struct CheckContext<'a> {
    runner: &'a Runner,
    namespace: &'a str,
    timeouts: Timeouts,
}

impl CheckContext<'_> {
    /// The test namespace.
    #[must_use]
    pub fn namespace(&self) -> &str {
        self.namespace
    }

    /// The cluster backend.
    #[must_use]
    pub fn cluster(&self) -> &dyn ClusterBackend {
        self.runner.cluster.as_ref()
    }

    /// The traffic backend.
    #[must_use]
    pub fn traffic(&self) -> &dyn TrafficBackend {
        self.runner.traffic.as_ref()
    }

    /// Runs a built-in operation (not `custom`) in the test namespace.
    pub async fn run(&self, op: &Operation) -> OperationResult {
        if let Operation::Custom(c) = op {
            return op_result(
                "custom",
                Instant::now(),
                Status::Error,
                format!(
                    "custom check `{}` cannot be nested in another custom check",
                    c.name
                ),
                Value::Null,
            );
        }
        let mut scratch = TestState::new(self.namespace);
        self.runner
            .run_op(op, &mut scratch, &self.timeouts, &BTreeMap::new())
            .await
    }
}

/// A user-defined check, run by a `custom` operation.
#[async_trait]
pub trait CustomCheck: Send + Sync + fmt::Debug {
    /// Runs the check with the operation's `args`.
    async fn check(&self, ctx: &CheckContext<'_>, args: &Value) -> CheckOutcome;
}

impl Runner {
    async fn custom(
        &self,
        c: &CustomOp,
        state: &TestState,
        timeout: Duration,
        timeouts: &Timeouts,
    ) -> OperationResult {
        let started = Instant::now();
        let Some(check) = self.customs.get(&c.name) else {
            return op_result(
                "custom",
                started,
                Status::Error,
                format!("no custom check is registered as `{}`", c.name),
                Value::Null,
            );
        };
        let ctx = CheckContext {
            runner: self,
            namespace: &state.namespace,
            timeouts: timeouts.clone(),
        };
        let args = substitute(&c.args, &state.namespace);
        match tokio::time::timeout(timeout, check.check(&ctx, &args)).await {
            Err(_) => op_result(
                "custom",
                started,
                Status::Error,
                format!("custom check `{}` timed out after {timeout:?}", c.name),
                Value::Null,
            ),
            Ok(o) => op_result("custom", started, o.status, o.message, o.evidence),
        }
    }
}

/// Runs suites. Build with [`Runner::builder`] (one mesh) or [`Runner::with_backends`].
#[derive(Debug)]
pub struct Runner {
    cluster: Arc<dyn ClusterBackend>,
    traffic: Arc<dyn TrafficBackend>,
    implementation: Implementation,
    customs: BTreeMap<String, Arc<dyn CustomCheck>>,
    validator: Validator,
    poll: Duration,
    prefix: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    mode: String,
    timeouts: Timeouts,
    profiles: Option<Vec<Profile>>,
}

impl Runner {
    /// Runs every test of the suite in order and builds the report.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSuite`](crate::Error::InvalidSuite) if the suite fails [`Suite::check`]. Failures of the implementation
    /// are results in the report, not errors.
    pub async fn run(&self, suite: &Suite) -> Result<Report> {
        suite.check()?;
        let started = Instant::now();
        let date = crate::report::whole_seconds(SystemTime::now());
        let mut results = Vec::with_capacity(suite.tests.len());
        for (i, t) in suite.tests.iter().enumerate() {
            if let Some(only) = &self.profiles {
                let of = crate::features::test_profiles(t.features.iter().map(String::as_str));
                if !of.iter().any(|p| only.contains(p)) {
                    continue;
                }
            }
            results.push(self.run_test(suite, t, i).await);
        }
        Ok(match &self.profiles {
            None => Report::new(
                &suite.name,
                self.implementation.clone(),
                &self.mode,
                date,
                ms(started.elapsed()),
                results,
            ),
            Some(only) => Report::with_profiles(
                &suite.name,
                self.implementation.clone(),
                &self.mode,
                date,
                ms(started.elapsed()),
                results,
                only,
            ),
        })
    }

    async fn run_test(&self, suite: &Suite, test: &Test, index: usize) -> TestResult {
        let started = Instant::now();
        let feats: Vec<_> = test
            .features
            .iter()
            .filter_map(|f| crate::features::feature(f))
            .collect();
        let mut profiles = crate::features::test_profiles(test.features.iter().map(String::as_str));
        if let Some(only) = &self.profiles {
            profiles.retain(|p| only.contains(p));
        }
        let profile: Option<Profile> = profiles.first().copied();
        let level = feats.iter().map(|f| f.level).max();
        let namespace = format!("{}{}-{index}", self.prefix, slug(&test.name));
        let mut result = TestResult {
            name: test.name.clone(),
            features: test.features.clone(),
            profile,
            profiles: if profiles.len() > 1 {
                profiles
            } else {
                Vec::new()
            },
            provisional: test.provisional,
            level,
            namespace: namespace.clone(),
            status: Status::Passed,
            message: String::new(),
            duration_ms: 0,
            api_versions: BTreeSet::new(),
            steps: Vec::new(),
            cleanup: Vec::new(),
        };
        let unsupported: Vec<&str> = test
            .features
            .iter()
            .filter(|f| !self.implementation.is_supported(f))
            .map(String::as_str)
            .collect();
        if !unsupported.is_empty() {
            result.status = Status::Skipped;
            result.message = format!("unsupported feature(s): {}", unsupported.join(", "));
            return result;
        }
        tracing::debug!(test = %test.name, %namespace, "starting test");
        if let Err(e) = self
            .cluster
            .create_namespace(&namespace, &self.labels, &self.annotations)
            .await
        {
            result.status = Status::Error;
            result.message = chain(&e);
            return result;
        }
        let mut state = TestState::new(&namespace);
        let base = test.timeouts.inherit(
            &suite
                .timeouts
                .inherit(&self.timeouts.inherit(&Timeouts::built_in())),
        );
        let mut stopped: Option<String> = None;
        for step in &test.steps {
            let s_started = Instant::now();
            if stopped.is_some() {
                result.steps.push(StepResult {
                    name: step.name.clone(),
                    precondition: step.precondition,
                    status: Status::Skipped,
                    duration_ms: 0,
                    operations: Vec::new(),
                });
                continue;
            }
            let timeouts = step.timeouts.inherit(&base);
            let mut ops = Vec::new();
            let mut status = Status::Passed;
            for op in &step.operations {
                let r = self
                    .run_op(op, &mut state, &timeouts, &suite.fixtures)
                    .await;
                let st = r.status;
                ops.push(r);
                if st != Status::Passed {
                    status = if step.precondition && st == Status::Failed {
                        Status::Error
                    } else {
                        st
                    };
                    break;
                }
            }
            if status != Status::Passed {
                let msg = ops.last().map(|o| o.message.clone()).unwrap_or_default();
                result.status = status;
                result.message = if step.precondition {
                    format!("precondition step `{}` not met: {msg}", step.name)
                } else {
                    format!("step `{}`: {msg}", step.name)
                };
                stopped = Some(step.name.clone());
            }
            result.steps.push(StepResult {
                name: step.name.clone(),
                precondition: step.precondition,
                status,
                duration_ms: ms(s_started.elapsed()),
                operations: ops,
            });
        }
        for op in &test.finally {
            let r = self.run_op(op, &mut state, &base, &suite.fixtures).await;
            result.cleanup.push(r);
        }
        let c_started = Instant::now();
        let mut cleanup_errors = Vec::new();
        for r in state.applied.iter().rev() {
            if let Err(e) = self.cluster.delete(r).await {
                cleanup_errors.push(chain(&e));
            }
        }
        if let Err(e) = self.cluster.delete_namespace(&namespace).await {
            cleanup_errors.push(chain(&e));
        }
        result.cleanup.push(support::redacted(op_result(
            "cleanup",
            c_started,
            if cleanup_errors.is_empty() {
                Status::Passed
            } else {
                Status::Error
            },
            if cleanup_errors.is_empty() {
                format!(
                    "deleted {} objects and namespace {namespace}",
                    state.applied.len()
                )
            } else {
                cleanup_errors.join("; ")
            },
            Value::Null,
        )));
        result.api_versions = state.api_versions;
        result.duration_ms = ms(started.elapsed());
        result
    }

    async fn run_op(
        &self,
        op: &Operation,
        state: &mut TestState,
        timeouts: &Timeouts,
        fixtures: &BTreeMap<String, Vec<Value>>,
    ) -> OperationResult {
        let t = |own: &Option<GoDuration>, inherited: &Option<GoDuration>| {
            own.as_ref()
                .or(inherited.as_ref())
                .and_then(GoDuration::to_std)
                .unwrap_or(Duration::from_secs(30))
        };
        let result = match op {
            Operation::Apply(a) => {
                self.apply(a, state, t(&a.timeout, &timeouts.apply), fixtures)
                    .await
            }
            Operation::Delete(d) => self.delete(d, state, t(&d.timeout, &timeouts.delete)).await,
            Operation::Assert(a) => self.assert(a, state, t(&a.timeout, &timeouts.assert)).await,
            Operation::Absent(a) => self.absent(a, state, t(&a.timeout, &timeouts.assert)).await,
            Operation::Metrics(m) => {
                self.metrics(m, state, t(&m.timeout, &timeouts.assert))
                    .await
            }
            Operation::Traffic(tr) => {
                self.traffic(tr, state, t(&tr.timeout, &timeouts.traffic))
                    .await
            }
            Operation::Distribution(d) => {
                self.distribution(d, state, t(&d.timeout, &timeouts.distribution))
                    .await
            }
            Operation::Custom(c) => {
                self.custom(c, state, t(&c.timeout, &timeouts.custom), timeouts)
                    .await
            }
            Operation::Sleep(s) => {
                let started = Instant::now();
                tokio::time::sleep(s.duration.to_std().unwrap_or_default()).await;
                op_result(
                    "sleep",
                    started,
                    Status::Passed,
                    format!("slept {}", s.duration),
                    Value::Null,
                )
            }
        };
        // Requests may carry credentials (a URL's user information, a token in a query, an
        // `Authorization` header the echo app reports back): none reaches a report.
        support::redacted(result)
    }
}
