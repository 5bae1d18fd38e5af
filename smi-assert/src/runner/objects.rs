//! The object operations: `apply` (validated first), `delete`, `assert` and `absent`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::backend::ObjectRef;
use crate::error::{Result, chain};
use crate::matcher::{Mismatch, compare};
use crate::report::{OperationResult, Status};
use crate::suite::{AbsentOp, ApplyOp, AssertOp, DeleteOp};

use super::Runner;
use super::support::{Backoff, TestState, op_result, subst_str, substitute};

impl Runner {
    pub(super) async fn apply(
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
        let mut objects: Vec<Value> = objects.iter().map(|o| substitute(o, &ns)).collect();
        // Namespaces a test creates (GAMMA's consumer namespace) get the runner's labels and
        // annotations too, so the mesh injects its sidecars there as in the test namespace.
        for o in objects
            .iter_mut()
            .filter(|o| o["apiVersion"] == "v1" && o["kind"] == "Namespace")
        {
            for (key, extra) in [("labels", &self.labels), ("annotations", &self.annotations)] {
                for (k, v) in extra {
                    o["metadata"][key][k] = Value::String(v.clone());
                }
            }
        }
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
                    return op_result("apply", started, Status::Error, chain(&e), Value::Null);
                }
                Ok(Ok(stored)) => {
                    let sr = ObjectRef::of(&stored);
                    if r.api_version.contains(".smi-spec.io/")
                        || r.api_version.starts_with("gateway.networking.k8s.io/")
                    {
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

    pub(super) async fn delete(
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
                    return op_result("delete", started, Status::Error, chain(&e), Value::Null);
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
                        return op_result("delete", started, Status::Error, chain(&e), Value::Null);
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
    pub(super) async fn candidates(
        &self,
        expected: &Value,
        ns: &str,
    ) -> Result<Vec<Value>, crate::error::Error> {
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

    pub(super) async fn assert(
        &self,
        a: &AssertOp,
        state: &TestState,
        timeout: Duration,
    ) -> OperationResult {
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
                    return op_result("assert", started, Status::Error, chain(&e), Value::Null);
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

    pub(super) async fn absent(
        &self,
        a: &AbsentOp,
        state: &TestState,
        timeout: Duration,
    ) -> OperationResult {
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
                    return op_result("absent", started, Status::Error, chain(&e), Value::Null);
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
}
