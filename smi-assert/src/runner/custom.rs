//! Custom checks: the [`CustomCheck`] hook, what it can use ([`CheckContext`]) and what it concludes ([`CheckOutcome`]), and the `custom` operation.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;

use crate::backend::{ClusterBackend, TrafficBackend};
use crate::report::{OperationResult, Status};
use crate::suite::{CustomOp, Operation, Timeouts};

use super::Runner;
use super::support::{TestState, op_result, substitute};

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
    pub(super) async fn custom(
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
