//! Running the manifests on a cluster: create, follow the Job to its end (read, then watch), collect each pod's
//! result from its log, and delete what was created (on success, failure, timeout and Ctrl-C).

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt as _;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams, WatchEvent, WatchParams};
use smps_load::PortableReport;

use super::manifests::{CONTAINER, Plan};

/// Most bytes read from one pod's log (the portable result is a few hundred KiB at most).
const MAX_LOG_BYTES: i64 = 64 * 1024 * 1024;

/// Why a distributed run failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClusterError {
    /// An API call failed.
    #[error("cannot {what}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    /// The Job failed.
    #[error("job {job} failed: {reason}")]
    JobFailed { job: String, reason: String },
    /// The Job did not end in time.
    #[error("job {job} did not finish within {secs} s")]
    Timeout { job: String, secs: u64 },
    /// A pod's log holds no result.
    #[error("pod {pod} (part {index}) printed no result: {reason}")]
    NoResult {
        pod: String,
        index: String,
        reason: String,
    },
}

fn api(what: impl Into<String>) -> impl FnOnce(kube::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Api { what, source }
}

/// The objects of one run on a cluster.
pub(crate) struct Deployed {
    client: Client,
    plan: Plan,
}

impl Deployed {
    /// Creates the ConfigMap, then the Job. If the Job cannot be created, the ConfigMap is
    /// deleted again.
    pub(crate) async fn create(client: Client, plan: Plan) -> Result<Self, ClusterError> {
        let ns = &plan.namespace.clone();
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        cms.create(&PostParams::default(), &plan.config_map())
            .await
            .map_err(api(format!("create configmap {ns}/{}", plan.name)))?;
        let deployed = Deployed { client, plan };
        let jobs: Api<Job> = Api::namespaced(deployed.client.clone(), ns);
        if let Err(e) = jobs
            .create(&PostParams::default(), &deployed.plan.job())
            .await
        {
            deployed.delete().await;
            return Err(api(format!("create job {ns}/{}", deployed.plan.name))(e));
        }
        Ok(deployed)
    }

    /// Follows the Job until all its parts succeeded, one failed, or `timeout` passed: reads
    /// it, then watches it from that version; the watch is renewed (and the Job read again)
    /// every `every`, and when a watch cannot be opened the Job is read again after `every`.
    pub(crate) async fn wait(
        &self,
        every: Duration,
        timeout: Duration,
        mut progress: impl FnMut(&str),
    ) -> Result<(), ClusterError> {
        let (ns, name) = (&self.plan.namespace, &self.plan.name);
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), ns);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = String::new();
        let timed_out = || ClusterError::Timeout {
            job: name.clone(),
            secs: timeout.as_secs(),
        };
        loop {
            let job = jobs
                .get(name)
                .await
                .map_err(api(format!("read job {ns}/{name}")))?;
            let version = job.metadata.resource_version.clone().unwrap_or_default();
            if let Some(end) = self.verdict(job, &mut last, &mut progress) {
                return self.ended(end).await;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(timed_out());
            }
            let round_end = (now + every).min(deadline);
            let secs = (round_end - now).as_secs().clamp(1, 290) as u32;
            let params = WatchParams::default()
                .fields(&format!("metadata.name={name}"))
                .timeout(secs);
            if let Ok(events) = jobs.watch(&params, &version).await {
                let mut events = std::pin::pin!(events);
                while let Ok(Some(event)) = tokio::time::timeout_at(round_end, events.next()).await
                {
                    match event {
                        Ok(WatchEvent::Added(job) | WatchEvent::Modified(job)) => {
                            if let Some(end) = self.verdict(job, &mut last, &mut progress) {
                                return self.ended(end).await;
                            }
                        }
                        Ok(WatchEvent::Deleted(_)) => {
                            return Err(ClusterError::JobFailed {
                                job: name.clone(),
                                reason: "the job was deleted by someone else".into(),
                            });
                        }
                        Ok(WatchEvent::Bookmark(_)) => {}
                        // An expired version (410) or a broken stream: read the Job again.
                        Ok(WatchEvent::Error(_)) | Err(_) => break,
                    }
                }
            }
            // Never faster than one round per `every`, whatever the watch did.
            tokio::time::sleep_until(round_end).await;
        }
    }

    /// What the Job's status says: `Some(Ok)` all parts succeeded, `Some(Err(reason))` it
    /// failed, `None` still running (and a progress line when that changed).
    fn verdict(
        &self,
        job: Job,
        last: &mut String,
        progress: &mut impl FnMut(&str),
    ) -> Option<Result<(), String>> {
        let status = job.status.unwrap_or_default();
        let n = self.plan.parallelism as i32;
        let succeeded = status.succeeded.unwrap_or(0);
        let failed = status.failed.unwrap_or(0);
        let now = format!(
            "job {}: {} active, {succeeded} of {n} succeeded, {failed} failed",
            self.plan.name,
            status.active.unwrap_or(0)
        );
        if now != *last {
            progress(&now);
            *last = now;
        }
        if let Some(c) = status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.status == "True" && (c.type_ == "Failed" || c.type_ == "FailureTarget"))
        {
            let reason = [c.reason.as_deref(), c.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            return Some(Err(reason));
        }
        if failed > 0 {
            return Some(Err(format!("{failed} part(s) failed")));
        }
        (succeeded >= n).then_some(Ok(()))
    }

    async fn ended(&self, end: Result<(), String>) -> Result<(), ClusterError> {
        match end {
            Ok(()) => Ok(()),
            Err(reason) => Err(self.failed(reason).await),
        }
    }

    /// A Job failure, with the end of the failed pods' logs.
    async fn failed(&self, reason: String) -> ClusterError {
        let mut reason = reason;
        if let Ok(pods) = self.pods().await {
            for (index, pod) in pods {
                let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
                if phase.as_deref() != Some("Failed") {
                    continue;
                }
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                let tail = self.log(&pod_name, Some(5)).await.unwrap_or_default();
                reason.push_str(&format!(
                    "; part {index} ({pod_name}): {}",
                    tail.trim().replace('\n', " | ")
                ));
            }
        }
        ClusterError::JobFailed {
            job: self.plan.name.clone(),
            reason,
        }
    }

    /// The Job's pods by completion index.
    async fn pods(&self) -> Result<BTreeMap<String, Pod>, ClusterError> {
        let (ns, name) = (&self.plan.namespace, &self.plan.name);
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let list = pods
            .list(&ListParams::default().labels(&format!("job-name={name}")))
            .await
            .map_err(api(format!("list the pods of job {ns}/{name}")))?;
        let mut out = BTreeMap::new();
        for pod in list.items {
            let index = pod
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("batch.kubernetes.io/job-completion-index"))
                .cloned()
                .unwrap_or_default();
            let succeeded =
                pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded");
            // A succeeded pod wins over an earlier attempt of the same index.
            if succeeded || !out.contains_key(&index) {
                out.insert(index, pod);
            }
        }
        Ok(out)
    }

    async fn log(&self, pod: &str, tail: Option<i64>) -> Result<String, ClusterError> {
        let ns = &self.plan.namespace;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let params = LogParams {
            container: Some(CONTAINER.into()),
            limit_bytes: Some(MAX_LOG_BYTES),
            tail_lines: tail,
            ..LogParams::default()
        };
        pods.logs(pod, &params)
            .await
            .map_err(api(format!("read the log of pod {ns}/{pod}")))
    }

    /// Each part's portable result, from its pod's log (the one line that parses as one).
    pub(crate) async fn results(&self) -> Result<Vec<PortableReport>, ClusterError> {
        let pods = self.pods().await?;
        let mut out = Vec::with_capacity(pods.len());
        for (index, pod) in pods {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let log = self.log(&name, None).await?;
            let part = log
                .lines()
                .filter(|l| l.starts_with('{'))
                .find_map(|l| serde_json::from_str::<PortableReport>(l).ok())
                .ok_or_else(|| ClusterError::NoResult {
                    pod: name.clone(),
                    index: index.clone(),
                    reason: format!(
                        "no line of its log is a portable result (last line: `{}`)",
                        log.lines()
                            .last()
                            .unwrap_or("")
                            .chars()
                            .take(200)
                            .collect::<String>()
                    ),
                })?;
            out.push(part);
        }
        Ok(out)
    }

    /// Deletes the Job (and its pods) and the ConfigMap; failures are reported, not fatal.
    pub(crate) async fn delete(&self) -> Vec<String> {
        let (ns, name) = (&self.plan.namespace, &self.plan.name);
        let mut problems = Vec::new();
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), ns);
        if let Err(e) = jobs.delete(name, &DeleteParams::background()).await {
            if !is_not_found(&e) {
                problems.push(format!("cannot delete job {ns}/{name}: {e}"));
            }
        }
        let cms: Api<ConfigMap> = Api::namespaced(self.client.clone(), ns);
        if let Err(e) = cms.delete(name, &DeleteParams::default()).await {
            if !is_not_found(&e) {
                problems.push(format!("cannot delete configmap {ns}/{name}: {e}"));
            }
        }
        problems
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}
