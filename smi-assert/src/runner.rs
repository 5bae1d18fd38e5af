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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use serde_json::{Value, json};
use smps_model::GoDuration;

use crate::Result;
use crate::backend::{
    ClusterBackend, ObjectRef, Outcome, RequestRecord, TrafficBackend, TrafficRequest,
};
use crate::features::{Implementation, Profile};
use crate::matcher::{Mismatch, compare};
use crate::report::{OperationResult, Report, Status, StepResult, TestResult};
use crate::stats::chi_square;
use crate::suite::{
    AbsentOp, ApplyOp, AssertOp, CustomOp, DeleteOp, DenialClass, DistributionOp, Expect,
    MetricsOp, Operation, Suite, Test, Timeouts, TrafficOp,
};
use crate::validate::Validator;

mod metrics;

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
}

/// Builder for [`Runner`].
#[derive(Debug)]
#[must_use]
pub struct RunnerBuilder {
    cluster: Arc<dyn ClusterBackend>,
    traffic: Arc<dyn TrafficBackend>,
    implementation: Implementation,
    customs: BTreeMap<String, Arc<dyn CustomCheck>>,
    poll: Duration,
    prefix: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    mode: String,
    timeouts: Timeouts,
}

impl RunnerBuilder {
    /// Default timeouts for this backend, used where the suite sets none (below them are
    /// [`Timeouts::built_in()`]). A loopback mesh converges instantly and can use short ones.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The implementation under test and its declared features.
    pub fn implementation(mut self, implementation: Implementation) -> Self {
        self.implementation = implementation;
        self
    }

    /// Registers a custom check under `name`.
    pub fn custom(mut self, name: impl Into<String>, check: Arc<dyn CustomCheck>) -> Self {
        self.customs.insert(name.into(), check);
        self
    }

    /// Maximum poll interval (default 250 ms).
    pub fn poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// Namespace prefix (default `smi-`).
    pub fn namespace_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// A label put on every test namespace (e.g. a sidecar-injection label).
    pub fn namespace_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// An annotation put on every test namespace.
    pub fn namespace_annotation(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The mode written into the report (default `default`).
    pub fn mode(mut self, mode: impl Into<String>) -> Self {
        self.mode = mode.into();
        self
    }

    /// Builds the runner (compiles the manifest validator).
    ///
    /// # Errors
    ///
    /// [`Error::ParseCrd`](crate::Error::ParseCrd) or
    /// [`Error::CompileSchema`](crate::Error::CompileSchema) if the bundled CRDs are corrupt.
    pub fn build(self) -> Result<Runner> {
        Ok(Runner {
            cluster: self.cluster,
            traffic: self.traffic,
            implementation: self.implementation,
            customs: self.customs,
            validator: Validator::new()?,
            poll: self.poll,
            prefix: self.prefix,
            labels: self.labels,
            annotations: self.annotations,
            mode: self.mode,
            timeouts: self.timeouts,
        })
    }
}

struct TestState {
    namespace: String,
    applied: Vec<ObjectRef>,
    api_versions: BTreeSet<String>,
}

impl TestState {
    fn new(ns: &str) -> Self {
        Self {
            namespace: ns.to_string(),
            applied: Vec::new(),
            api_versions: BTreeSet::new(),
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn op_result(
    kind: &str,
    started: Instant,
    status: Status,
    message: String,
    evidence: Value,
) -> OperationResult {
    OperationResult {
        kind: kind.to_string(),
        status,
        duration_ms: ms(started.elapsed()),
        message,
        evidence,
    }
}

/// Replaces `<NAMESPACE>` and `$NAMESPACE` in every string of `v`.
#[must_use]
pub fn substitute(v: &Value, namespace: &str) -> Value {
    match v {
        Value::String(s) => Value::String(subst_str(s, namespace)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, namespace)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), substitute(x, namespace)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn subst_str(s: &str, ns: &str) -> String {
    s.replace("<NAMESPACE>", ns).replace("$NAMESPACE", ns)
}

fn slug(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(40);
    s.trim_matches('-').to_string()
}

struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    fn new(max: Duration) -> Self {
        Self {
            next: Duration::from_millis(20).min(max),
            max,
        }
    }

    /// Waits before the next poll, but never past `deadline`. Returns false if the deadline passed.
    async fn wait(&mut self, deadline: Instant) -> bool {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        let d = self.next.min(deadline - now);
        tokio::time::sleep(d).await;
        self.next = (self.next * 2).min(self.max);
        true
    }
}

fn outcome_key(r: &RequestRecord) -> String {
    match (&r.outcome, &r.served_by) {
        (Outcome::Http { status }, Some(b)) => format!("HTTP {status} from {b}"),
        (Outcome::Datagram, Some(b)) => format!("UDP answer from {b}"),
        (o, _) => o.to_string(),
    }
}

fn is_udp(url: &str) -> bool {
    url.starts_with("udp://")
}

/// `GET http://… from app-a` or `UDP udp://… from app-a`.
fn describe(req: &TrafficRequest) -> String {
    let method = if is_udp(&req.url) { "UDP" } else { &req.method };
    format!("{method} {} from {}", req.url, req.source)
}

impl Runner {
    /// A builder for a mesh that is both the cluster and the traffic backend, such as the
    /// loopback mesh (`LoopbackMesh`, `loopback` feature) or any type of yours that implements
    /// both traits.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "loopback")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use smi_assert::{LoopbackConfig, LoopbackMesh, Runner, Suite};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    ///
    /// let mesh = Arc::new(LoopbackMesh::start(LoopbackConfig::default()).await?);
    /// let runner = Runner::builder(mesh.clone()).build()?;
    /// let report = runner.run(&Suite::builder("empty").build()?).await?;
    /// assert!(report.tests.is_empty());
    /// mesh.shutdown();
    /// # Ok::<(), smi_assert::Error>(()) })?;
    /// # Ok(()) }
    /// # #[cfg(not(feature = "loopback"))]
    /// # fn main() {}
    /// ```
    pub fn builder<M>(mesh: Arc<M>) -> RunnerBuilder
    where
        M: ClusterBackend + TrafficBackend + 'static,
    {
        Self::with_backends(mesh.clone(), mesh)
    }

    /// A builder with separate backends: objects go to `cluster`, requests through `traffic`
    /// (e.g. `KubeCluster` and `KubeTraffic` of the `kube` feature, or an
    /// [`InMemoryCluster`](crate::backend::memory::InMemoryCluster) with a traffic backend of
    /// yours).
    pub fn with_backends(
        cluster: Arc<dyn ClusterBackend>,
        traffic: Arc<dyn TrafficBackend>,
    ) -> RunnerBuilder {
        RunnerBuilder {
            cluster,
            traffic,
            implementation: Implementation::default(),
            customs: BTreeMap::new(),
            poll: Duration::from_millis(250),
            prefix: "smi-".into(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            mode: "default".into(),
            timeouts: Timeouts::default(),
        }
    }

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
            results.push(self.run_test(suite, t, i).await);
        }
        Ok(Report::new(
            &suite.name,
            self.implementation.clone(),
            &self.mode,
            date,
            ms(started.elapsed()),
            results,
        ))
    }

    async fn run_test(&self, suite: &Suite, test: &Test, index: usize) -> TestResult {
        let started = Instant::now();
        let feats: Vec<_> = test
            .features
            .iter()
            .filter_map(|f| crate::features::feature(f))
            .collect();
        let profile: Option<Profile> = feats.first().map(|f| f.profile);
        let level = feats.iter().map(|f| f.level).max();
        let namespace = format!("{}{}-{index}", self.prefix, slug(&test.name));
        let mut result = TestResult {
            name: test.name.clone(),
            features: test.features.clone(),
            profile,
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
            result.message = e.to_string();
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
                cleanup_errors.push(e.to_string());
            }
        }
        if let Err(e) = self.cluster.delete_namespace(&namespace).await {
            cleanup_errors.push(e.to_string());
        }
        result.cleanup.push(op_result(
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
        ));
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
        match op {
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
        }
    }

    async fn apply(
        &self,
        a: &ApplyOp,
        state: &mut TestState,
        timeout: Duration,
        fixtures: &BTreeMap<String, Vec<Value>>,
    ) -> OperationResult {
        let started = Instant::now();
        let ns = state.namespace.clone();
        let mut objects: Vec<Value> = a
            .fixture
            .as_ref()
            .and_then(|f| fixtures.get(f))
            .cloned()
            .unwrap_or_default();
        objects.extend(a.objects.iter().cloned());
        let objects: Vec<Value> = objects.iter().map(|o| substitute(o, &ns)).collect();
        let mut warnings = Vec::new();
        if a.validate {
            let findings = self.validator.report_set(&objects, &ns);
            let errors: Vec<String> = findings
                .iter()
                .filter(|f| f.is_error())
                .map(ToString::to_string)
                .collect();
            if !errors.is_empty() {
                return op_result(
                    "apply",
                    started,
                    Status::Error,
                    format!("manifest validation failed: {}", errors.join("; ")),
                    json!({"violations": findings}),
                );
            }
            warnings = findings.iter().map(ToString::to_string).collect();
        }
        let mut names = Vec::new();
        for o in &objects {
            let r = ObjectRef::of(o);
            match tokio::time::timeout(timeout, self.cluster.apply(o, &ns)).await {
                Err(_) => {
                    return op_result(
                        "apply",
                        started,
                        Status::Error,
                        format!("applying {r} timed out after {timeout:?}"),
                        Value::Null,
                    );
                }
                Ok(Err(e)) => {
                    return op_result("apply", started, Status::Error, e.to_string(), Value::Null);
                }
                Ok(Ok(stored)) => {
                    let sr = ObjectRef::of(&stored);
                    if r.api_version.contains(".smi-spec.io/") {
                        state.api_versions.insert(r.api_version.clone());
                    }
                    if !state.applied.contains(&sr) {
                        state.applied.push(sr.clone());
                    }
                    names.push(sr.to_string());
                }
            }
        }
        op_result(
            "apply",
            started,
            Status::Passed,
            format!("applied {} object(s)", names.len()),
            if warnings.is_empty() {
                json!({"objects": names})
            } else {
                json!({"objects": names, "warnings": warnings})
            },
        )
    }

    async fn delete(
        &self,
        d: &DeleteOp,
        state: &mut TestState,
        timeout: Duration,
    ) -> OperationResult {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut deleted = Vec::new();
        for r in &d.objects {
            let mut r = r.clone();
            r.namespace = Some(subst_str(
                r.namespace.as_deref().unwrap_or(&state.namespace),
                &state.namespace,
            ));
            r.name = subst_str(&r.name, &state.namespace);
            match self.cluster.delete(&r).await {
                Err(e) => {
                    return op_result("delete", started, Status::Error, e.to_string(), Value::Null);
                }
                Ok(existed) => deleted.push(json!({"object": r.to_string(), "existed": existed})),
            }
            let mut backoff = Backoff::new(self.poll);
            loop {
                match self.cluster.get(&r).await {
                    Ok(None) => break,
                    Ok(Some(_)) => {
                        if !backoff.wait(deadline).await {
                            return op_result(
                                "delete",
                                started,
                                Status::Error,
                                format!("{r} still exists after {timeout:?}"),
                                Value::Null,
                            );
                        }
                    }
                    Err(e) => {
                        return op_result(
                            "delete",
                            started,
                            Status::Error,
                            e.to_string(),
                            Value::Null,
                        );
                    }
                }
            }
        }
        op_result(
            "delete",
            started,
            Status::Passed,
            format!("deleted {} object(s)", deleted.len()),
            json!({"objects": deleted}),
        )
    }

    /// Candidates for a (partial) expected object: the named object, or all of its kind filtered
    /// by labels.
    async fn candidates(&self, expected: &Value, ns: &str) -> Result<Vec<Value>, crate::Error> {
        let mut r = ObjectRef::of(expected);
        let cluster_scoped = matches!(r.kind.as_str(), "CustomResourceDefinition" | "Namespace");
        if r.namespace.is_none() && !cluster_scoped {
            r.namespace = Some(ns.to_string());
        }
        if cluster_scoped {
            r.namespace = None;
        }
        if !r.name.is_empty() {
            return Ok(self.cluster.get(&r).await?.into_iter().collect());
        }
        let labels = expected.pointer("/metadata/labels").cloned();
        let all = self
            .cluster
            .list(&r.api_version, &r.kind, r.namespace.as_deref())
            .await?;
        Ok(all
            .into_iter()
            .filter(|o| match &labels {
                Some(Value::Object(l)) => l
                    .iter()
                    .all(|(k, v)| o["metadata"]["labels"].get(k) == Some(v)),
                _ => true,
            })
            .collect())
    }

    async fn assert(&self, a: &AssertOp, state: &TestState, timeout: Duration) -> OperationResult {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut expected = substitute(&a.object, &state.namespace);
        if expected.pointer("/metadata/namespace").is_none()
            && let Some(m) = expected.get_mut("metadata").and_then(Value::as_object_mut)
        {
            let kind = a.object["kind"].as_str().unwrap_or("");
            if !matches!(kind, "CustomResourceDefinition" | "Namespace") {
                m.insert("namespace".into(), Value::String(state.namespace.clone()));
            }
        }
        let r = ObjectRef::of(&expected);
        let modes = a.modes();
        let mut backoff = Backoff::new(self.poll);
        let mut polls = 0u32;
        loop {
            polls += 1;
            let cands = match self.candidates(&expected, &state.namespace).await {
                Ok(c) => c,
                Err(e) => {
                    return op_result("assert", started, Status::Error, e.to_string(), Value::Null);
                }
            };
            let best: Option<Vec<Mismatch>> = cands
                .iter()
                .map(|c| compare(&expected, c, &modes))
                .min_by_key(Vec::len);
            if best.as_ref().is_some_and(Vec::is_empty) {
                return op_result(
                    "assert",
                    started,
                    Status::Passed,
                    format!("{r} matches"),
                    json!({"polls": polls}),
                );
            }
            if !backoff.wait(deadline).await {
                let (msg, ev) = match best {
                    None => (
                        format!("{r} not found within {timeout:?}"),
                        json!({"polls": polls}),
                    ),
                    Some(m) => (
                        format!(
                            "{r} does not match within {timeout:?}: {}",
                            m.iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                        json!({"polls": polls, "mismatches": m}),
                    ),
                };
                return op_result("assert", started, Status::Failed, msg, ev);
            }
        }
    }

    async fn absent(&self, a: &AbsentOp, state: &TestState, timeout: Duration) -> OperationResult {
        let started = Instant::now();
        let deadline = started + timeout;
        let expected = substitute(&a.object, &state.namespace);
        let r = ObjectRef::of(&expected);
        let modes = crate::matcher::ListModes::default();
        let mut backoff = Backoff::new(self.poll);
        loop {
            let cands = match self.candidates(&expected, &state.namespace).await {
                Ok(c) => c,
                Err(e) => {
                    return op_result("absent", started, Status::Error, e.to_string(), Value::Null);
                }
            };
            let mut strip = expected.clone();
            if let Some(m) = strip.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("namespace");
            }
            let found = cands.iter().find(|c| compare(&strip, c, &modes).is_empty());
            match found {
                None => {
                    return op_result(
                        "absent",
                        started,
                        Status::Passed,
                        format!("{r} is absent"),
                        Value::Null,
                    );
                }
                Some(obj) => {
                    if !backoff.wait(deadline).await {
                        return op_result(
                            "absent",
                            started,
                            Status::Failed,
                            format!("{r} still exists after {timeout:?}"),
                            json!({"object": obj}),
                        );
                    }
                }
            }
        }
    }

    /// Reads the candidate TrafficMetrics objects of a `metrics` operation: `Ok(None)` if the
    /// resource (or, unnamed, any resource of the kind) does not exist.
    async fn read_metrics(
        &self,
        m: &MetricsOp,
        res_ns: Option<&str>,
        name: Option<&str>,
        edge: Option<&crate::suite::MetricsEdge>,
        peer_ns: Option<&str>,
    ) -> Result<Option<Vec<Value>>, crate::Error> {
        let kind = m.resource.kind.as_str();
        let get = |name: String| {
            ObjectRef::new(m.api_version.clone(), kind, res_ns.map(String::from), name)
        };
        let Some(edge) = edge else {
            return Ok(match name {
                Some(n) => self
                    .cluster
                    .get(&get(n.to_string()))
                    .await?
                    .map(|o| vec![o]),
                None => {
                    let all = self.cluster.list(&m.api_version, kind, res_ns).await?;
                    (!all.is_empty()).then_some(all)
                }
            });
        };
        let names: Vec<String> = match name {
            Some(n) => vec![n.to_string()],
            None => self
                .cluster
                .list(&m.api_version, kind, res_ns)
                .await?
                .iter()
                .filter_map(|o| metrics::resource_name(o).map(String::from))
                .collect(),
        };
        let mut found = false;
        let mut items = Vec::new();
        for n in names {
            if let Some(list) = self.cluster.get(&get(format!("{n}/edges"))).await? {
                found = true;
                items.extend(
                    list["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|i| metrics::is_edge(i, edge, peer_ns))
                        .cloned(),
                );
            }
        }
        Ok(found.then_some(items))
    }

    async fn metrics(
        &self,
        m: &MetricsOp,
        state: &mut TestState,
        timeout: Duration,
    ) -> OperationResult {
        let started = Instant::now();
        let deadline = started + timeout;
        let ns = state.namespace.clone();
        let scoped = |kind: &str, explicit: Option<&String>| {
            (kind != "Namespace").then(|| subst_str(explicit.map_or(&ns, |n| n), &ns))
        };
        let res_ns = scoped(&m.resource.kind, m.resource.namespace.as_ref());
        let name = m.resource.name.as_deref().map(|n| subst_str(n, &ns));
        let edge = m.edge.as_ref().map(|e| {
            let mut e = e.clone();
            e.resource.name = e.resource.name.as_deref().map(|n| subst_str(n, &ns));
            e
        });
        let peer_ns = m
            .edge
            .as_ref()
            .and_then(|e| scoped(&e.resource.kind, e.resource.namespace.as_ref()));
        let mut what = match &name {
            Some(n) => format!("{} {n}", m.resource.kind),
            None => format!("any {}", m.resource.kind),
        };
        if let Some(e) = &edge {
            what = format!(
                "{what}, edge {} {} {}",
                e.direction.as_str(),
                e.resource.kind,
                e.resource.name.as_deref().unwrap_or("")
            );
        }
        let mut backoff = Backoff::new(self.poll);
        let mut polls = 0u32;
        loop {
            polls += 1;
            let read = self
                .read_metrics(
                    m,
                    res_ns.as_deref(),
                    name.as_deref(),
                    edge.as_ref(),
                    peer_ns.as_deref(),
                )
                .await;
            let cands = match read {
                Ok(c) => c,
                Err(e) => {
                    return op_result(
                        "metrics",
                        started,
                        Status::Error,
                        e.to_string(),
                        Value::Null,
                    );
                }
            };
            if cands.is_some() {
                state.api_versions.insert(m.api_version.clone());
            }
            let (passed, message, evidence) = match &cands {
                None => (false, format!("{what}: not found"), json!({"polls": polls})),
                Some(items) if m.absent => {
                    if items.is_empty() {
                        (true, format!("{what}: not listed"), json!({"polls": polls}))
                    } else {
                        (
                            false,
                            format!("{what}: still listed"),
                            json!({"polls": polls, "object": items[0]}),
                        )
                    }
                }
                Some(items) if items.is_empty() => (
                    false,
                    format!("{what}: no such edge is listed"),
                    json!({"polls": polls}),
                ),
                Some(items) => {
                    let judged: Vec<(Vec<String>, &Value)> = items
                        .iter()
                        .map(|o| (metrics::problems(o, m, name.as_deref()), o))
                        .collect();
                    let best = judged
                        .iter()
                        .min_by_key(|(p, _)| p.len())
                        .map(|(p, o)| (p.clone(), *o));
                    match best {
                        Some((p, o)) if p.is_empty() => {
                            let metric = |n: &str| {
                                let x = o["metrics"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .find(|x| x["name"] == n);
                                let part = |k: &str| {
                                    x.and_then(|x| x[k].as_str()).unwrap_or("").to_string()
                                };
                                format!("{} {}", part("value"), part("unit"))
                                    .trim_end()
                                    .to_string()
                            };
                            (
                                true,
                                format!(
                                    "{what}: success_count {}, failure_count {}, p99 {}",
                                    metric("success_count"),
                                    metric("failure_count"),
                                    metric("p99_response_latency"),
                                ),
                                json!({"polls": polls, "object": o}),
                            )
                        }
                        Some((p, o)) => (
                            false,
                            format!("{what}: {}", p.join("; ")),
                            json!({"polls": polls, "problems": p, "object": o}),
                        ),
                        None => (false, format!("{what}: nothing to judge"), Value::Null),
                    }
                }
            };
            if passed {
                return op_result("metrics", started, Status::Passed, message, evidence);
            }
            if !backoff.wait(deadline).await {
                return op_result(
                    "metrics",
                    started,
                    Status::Failed,
                    format!("{message} (after {timeout:?})"),
                    evidence,
                );
            }
        }
    }

    fn request(
        &self,
        ns: &str,
        from: &str,
        to: &str,
        method: &str,
        headers: &BTreeMap<String, String>,
        rt: Option<&GoDuration>,
    ) -> TrafficRequest {
        let mut req = TrafficRequest::get(ns, subst_str(from, ns), subst_str(to, ns));
        req.method = method.to_string();
        req.headers = headers
            .iter()
            .map(|(k, v)| (k.clone(), subst_str(v, ns)))
            .collect();
        req.timeout = rt
            .and_then(GoDuration::to_std)
            .unwrap_or(Duration::from_secs(2));
        req
    }

    async fn traffic(
        &self,
        t: &TrafficOp,
        state: &TestState,
        timeout: Duration,
    ) -> OperationResult {
        let started = Instant::now();
        let deadline = started + timeout;
        let req = self.request(
            &state.namespace,
            &t.from,
            &t.to,
            &t.method,
            &t.headers,
            t.request_timeout.as_ref(),
        );
        let denied: Vec<DenialClass> = t.denied_when.clone().unwrap_or_else(|| {
            if is_udp(&req.url) {
                DenialClass::DEFAULT_UDP.to_vec()
            } else {
                DenialClass::DEFAULT.to_vec()
            }
        });
        let want = match t.expect {
            Expect::Allowed => "allowed".to_string(),
            Expect::Denied => format!("denied ({denied:?})"),
        };
        let what = describe(&req);
        let mut streak = 0u32;
        let mut sent = 0u32;
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        let mut last: Vec<RequestRecord> = Vec::new();
        let mut backoff = Backoff::new(self.poll);
        loop {
            let rec = match self.traffic.send(&req).await {
                Ok(r) => r,
                Err(e) => {
                    return op_result(
                        "traffic",
                        started,
                        Status::Error,
                        e.to_string(),
                        Value::Null,
                    );
                }
            };
            sent += 1;
            *counts.entry(outcome_key(&rec)).or_default() += 1;
            let ok = match t.expect {
                Expect::Allowed => {
                    rec.outcome.is_served()
                        && t.served_by
                            .as_ref()
                            .is_none_or(|b| rec.served_by.as_ref() == Some(b))
                }
                Expect::Denied => denied.iter().any(|c| c.covers(&rec.outcome)),
            };
            last.push(rec);
            if last.len() > 5 {
                last.remove(0);
            }
            let evidence = |counts: &BTreeMap<String, u32>, last: &Vec<RequestRecord>| {
                json!({"expected": want, "consecutive": t.consecutive, "sent": sent,
                       "outcomes": counts, "last": last})
            };
            if ok {
                streak += 1;
                if streak >= t.consecutive {
                    return op_result(
                        "traffic",
                        started,
                        Status::Passed,
                        format!("{what}: {want}, {streak} consecutive after {sent} request(s)"),
                        evidence(&counts, &last),
                    );
                }
                if Instant::now() >= deadline {
                    return op_result(
                        "traffic",
                        started,
                        Status::Failed,
                        format!(
                            "{what}: expected {want} {} times in a row within {timeout:?}; reached {streak}",
                            t.consecutive
                        ),
                        evidence(&counts, &last),
                    );
                }
            } else {
                streak = 0;
                if !backoff.wait(deadline).await {
                    let summary: Vec<String> =
                        counts.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
                    return op_result(
                        "traffic",
                        started,
                        Status::Failed,
                        format!(
                            "{what}: expected {want} {} times in a row within {timeout:?}; got {}",
                            t.consecutive,
                            summary.join(", ")
                        ),
                        evidence(&counts, &last),
                    );
                }
            }
        }
    }

    async fn distribution(
        &self,
        d: &DistributionOp,
        state: &TestState,
        timeout: Duration,
    ) -> OperationResult {
        let started = Instant::now();
        let req = self.request(
            &state.namespace,
            &d.from,
            &d.to,
            &d.method,
            &d.headers,
            d.request_timeout.as_ref(),
        );
        let total_w: u64 = d.weights.values().sum();
        let positive: Vec<(&String, f64)> = d
            .weights
            .iter()
            .filter(|(_, w)| **w > 0)
            .map(|(b, w)| (b, *w as f64 / total_w as f64))
            .collect();
        let what = describe(&req);
        let mut attempts_ev = Vec::new();
        for attempt in 1..=d.attempts {
            let a_deadline = Instant::now() + timeout;
            let mut served: BTreeMap<String, u64> = BTreeMap::new();
            let mut other: BTreeMap<String, u64> = BTreeMap::new();
            for _ in 0..d.requests {
                if Instant::now() >= a_deadline {
                    return op_result(
                        "distribution",
                        started,
                        Status::Failed,
                        format!(
                            "{what}: attempt {attempt} did not finish {} requests within {timeout:?}",
                            d.requests
                        ),
                        json!({"attempts": attempts_ev, "served": served, "notServed": other}),
                    );
                }
                match self.traffic.send(&req).await {
                    Err(e) => {
                        return op_result(
                            "distribution",
                            started,
                            Status::Error,
                            e.to_string(),
                            Value::Null,
                        );
                    }
                    Ok(rec) => match (&rec.outcome, rec.served_by) {
                        (o, Some(b)) if o.is_served() => {
                            *served.entry(b).or_default() += 1;
                        }
                        (o, _) => *other.entry(o.to_string()).or_default() += 1,
                    },
                }
            }
            let expected: BTreeMap<&String, f64> = positive
                .iter()
                .map(|(b, s)| (*b, s * f64::from(d.requests)))
                .collect();
            let mut ev = json!({"attempt": attempt, "requests": d.requests, "served": served,
                                "expected": expected, "notServed": other});
            if !other.is_empty() {
                let n: u64 = other.values().sum();
                return op_result(
                    "distribution",
                    started,
                    Status::Failed,
                    format!(
                        "{what}: {n} of {} requests were not served by a backend",
                        d.requests
                    ),
                    ev,
                );
            }
            let unexpected: Vec<String> = served
                .iter()
                .filter(|(b, _)| d.weights.get(*b).is_none_or(|w| *w == 0))
                .map(|(b, n)| {
                    if d.weights.contains_key(b) {
                        format!("{b} has weight 0 but served {n}")
                    } else {
                        format!("{b} is not a backend but served {n}")
                    }
                })
                .collect();
            if !unexpected.is_empty() {
                return op_result(
                    "distribution",
                    started,
                    Status::Failed,
                    format!("{what}: {}", unexpected.join("; ")),
                    ev,
                );
            }
            if positive.len() == 1 {
                return op_result(
                    "distribution",
                    started,
                    Status::Passed,
                    format!(
                        "{what}: all {} requests served by {}",
                        d.requests, positive[0].0
                    ),
                    ev,
                );
            }
            let observed: Vec<u64> = positive
                .iter()
                .map(|(b, _)| served.get(*b).copied().unwrap_or(0))
                .collect();
            let shares: Vec<f64> = positive.iter().map(|(_, s)| *s).collect();
            let Some(chi) = chi_square(&observed, &shares) else {
                return op_result(
                    "distribution",
                    started,
                    Status::Error,
                    "χ² test not applicable".into(),
                    ev,
                );
            };
            ev["chiSquare"] = json!(chi);
            ev["alpha"] = json!(d.alpha);
            ev["falseFailRate"] =
                json!(d.alpha.powi(i32::try_from(d.attempts).unwrap_or(i32::MAX)));
            let counts: Vec<String> = positive
                .iter()
                .zip(&observed)
                .map(|((b, s), o)| format!("{b} {o} (expected {:.0})", s * f64::from(d.requests)))
                .collect();
            if chi.p_value >= d.alpha {
                return op_result(
                    "distribution",
                    started,
                    Status::Passed,
                    format!(
                        "{what}: {} — χ²={:.2}, p={:.3} ≥ α={}",
                        counts.join(", "),
                        chi.statistic,
                        chi.p_value,
                        d.alpha
                    ),
                    ev,
                );
            }
            let msg = format!(
                "{what}: {} — χ²={:.2}, p={:.2e} < α={}",
                counts.join(", "),
                chi.statistic,
                chi.p_value,
                d.alpha
            );
            attempts_ev.push(ev);
            if attempt == d.attempts {
                return op_result(
                    "distribution",
                    started,
                    Status::Failed,
                    format!("{msg} in all {} attempt(s)", d.attempts),
                    json!({"attempts": attempts_ev}),
                );
            }
        }
        op_result(
            "distribution",
            started,
            Status::Error,
            "no attempt was made".into(),
            Value::Null,
        )
    }

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
