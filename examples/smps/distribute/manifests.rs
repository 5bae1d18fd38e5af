//! The objects of a distributed run: a ConfigMap holding the config, and an Indexed Job whose
//! pod `k` runs `smps run --segment k/N --start-at T --portable -`.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Affinity, ConfigMap, ConfigMapVolumeSource, Container, EnvVar, EnvVarSource,
    ObjectFieldSelector, PodAffinityTerm, PodAntiAffinity, PodSpec, PodTemplateSpec, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

/// Name of the container that runs the part (its log holds the part's result).
pub(crate) const CONTAINER: &str = "smps";
/// Where the config is mounted in the pods.
const CONFIG_DIR: &str = "/etc/smps";
/// The ConfigMap key of the config.
const CONFIG_KEY: &str = "config.yaml";
/// Label on every object of one distributed run, with the run's name.
pub(crate) const RUN_LABEL: &str = "smps.io/distributed-run";

/// What mesh sidecars do to the pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Sidecars {
    /// Ask Istio and Linkerd not to inject a proxy (`sidecar.istio.io/inject: "false"`,
    /// `linkerd.io/inject: disabled`): the generators stay outside the mesh and the Job can
    /// complete.
    Skip,
    /// Let the mesh inject its proxy as a Kubernetes native sidecar (an init container that
    /// ends with the pod: Kubernetes 1.29+; `sidecar.istio.io/nativeSidecar: "true"`,
    /// `config.beta.linkerd.io/proxy-enable-native-sidecar: "true"`), so the Job completes
    /// with the generators inside the mesh.
    Native,
    /// Add nothing (the namespace decides; a classic sidecar keeps the Job from completing).
    AsIs,
}

/// Everything the manifests depend on.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Name of the Job and of the ConfigMap.
    pub(crate) name: String,
    pub(crate) namespace: String,
    pub(crate) image: String,
    pub(crate) parallelism: u32,
    /// The config text.
    pub(crate) config: String,
    /// RFC 3339 start instant.
    pub(crate) start_at: String,
    /// Arguments passed on to every `smps run` (timeouts, warm-up, pacing, ...).
    pub(crate) run_args: Vec<String>,
    /// One part per node (required pod anti-affinity on the host name).
    pub(crate) separate: bool,
    pub(crate) sidecars: Sidecars,
    /// The Job's `activeDeadlineSeconds`.
    pub(crate) deadline_secs: i64,
}

impl Plan {
    fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("app.kubernetes.io/name".into(), "smps".into()),
            (
                "app.kubernetes.io/component".into(),
                "load-generator".into(),
            ),
            (
                "app.kubernetes.io/managed-by".into(),
                "smps-distribute".into(),
            ),
            (RUN_LABEL.into(), self.name.clone()),
        ])
    }

    fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels()),
            ..ObjectMeta::default()
        }
    }

    /// The ConfigMap with the config.
    pub(crate) fn config_map(&self) -> ConfigMap {
        ConfigMap {
            metadata: self.meta(),
            data: Some(BTreeMap::from([(CONFIG_KEY.into(), self.config.clone())])),
            ..ConfigMap::default()
        }
    }

    /// The arguments of the container: its part comes from `JOB_COMPLETION_INDEX`
    /// (Kubernetes expands `$(VAR)` in arguments from the container's environment).
    pub(crate) fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = [
            "run",
            &format!("{CONFIG_DIR}/{CONFIG_KEY}"),
            "--target",
            "config",
            "--segment",
            &format!("$(JOB_COMPLETION_INDEX)/{}", self.parallelism),
            "--start-at",
            &self.start_at,
            "--portable",
            "-",
            "--progress",
            "never",
            // The merged result is judged by `smps distribute`; a part reports, never fails.
            "--max-failed",
            "100%",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(self.run_args.iter().cloned());
        a
    }

    fn annotations(&self) -> BTreeMap<String, String> {
        let pairs: &[(&str, &str)] = match self.sidecars {
            Sidecars::Skip => &[
                ("sidecar.istio.io/inject", "false"),
                ("linkerd.io/inject", "disabled"),
            ],
            Sidecars::Native => &[
                ("sidecar.istio.io/nativeSidecar", "true"),
                ("config.beta.linkerd.io/proxy-enable-native-sidecar", "true"),
            ],
            Sidecars::AsIs => &[],
        };
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The Indexed Job.
    pub(crate) fn job(&self) -> Job {
        let mut pod_labels = self.labels();
        if self.sidecars == Sidecars::Skip {
            // Istio reads the injection switch from a label too (the annotation is older).
            pod_labels.insert("sidecar.istio.io/inject".into(), "false".into());
        }
        let affinity = self.separate.then(|| Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                    label_selector: Some(LabelSelector {
                        match_labels: Some(BTreeMap::from([(
                            RUN_LABEL.to_string(),
                            self.name.clone(),
                        )])),
                        ..LabelSelector::default()
                    }),
                    topology_key: "kubernetes.io/hostname".into(),
                    ..PodAffinityTerm::default()
                }]),
                ..PodAntiAffinity::default()
            }),
            ..Affinity::default()
        });
        let container = Container {
            name: CONTAINER.into(),
            image: Some(self.image.clone()),
            args: Some(self.args()),
            env: Some(vec![
                EnvVar {
                    name: "JOB_COMPLETION_INDEX".into(),
                    value_from: Some(EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            field_path:
                                "metadata.annotations['batch.kubernetes.io/job-completion-index']"
                                    .into(),
                            ..ObjectFieldSelector::default()
                        }),
                        ..EnvVarSource::default()
                    }),
                    ..EnvVar::default()
                },
                EnvVar {
                    name: "CI".into(),
                    value: Some("1".into()),
                    ..EnvVar::default()
                },
            ]),
            volume_mounts: Some(vec![VolumeMount {
                name: "config".into(),
                mount_path: CONFIG_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            }]),
            ..Container::default()
        };
        Job {
            metadata: self.meta(),
            spec: Some(JobSpec {
                completion_mode: Some("Indexed".into()),
                completions: Some(self.parallelism as i32),
                parallelism: Some(self.parallelism as i32),
                // A part that fails is not retried: its segment would run late, alone.
                backoff_limit: Some(0),
                active_deadline_seconds: Some(self.deadline_secs),
                ttl_seconds_after_finished: Some(3600),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(pod_labels),
                        annotations: Some(self.annotations()).filter(|a| !a.is_empty()),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(PodSpec {
                        restart_policy: Some("Never".into()),
                        containers: vec![container],
                        affinity,
                        volumes: Some(vec![Volume {
                            name: "config".into(),
                            config_map: Some(ConfigMapVolumeSource {
                                name: self.name.clone(),
                                ..ConfigMapVolumeSource::default()
                            }),
                            ..Volume::default()
                        }]),
                        ..PodSpec::default()
                    }),
                },
                ..JobSpec::default()
            }),
            ..Job::default()
        }
    }

    /// The manifests as a YAML stream (ConfigMap, then Job), with how to collect the results.
    pub(crate) fn yaml(&self) -> anyhow::Result<String> {
        let n = self.parallelism;
        let mut out = format!(
            "# smps distribute: {n} parts of one load test, starting together at {start}.\n\
             # Apply:   kubectl apply -f THIS_FILE\n\
             # Wait:    kubectl -n {ns} wait --for=condition=complete job/{name} --timeout={deadline}s\n\
             # Collect: for k in $(seq 0 {last}); do kubectl -n {ns} logs -c {CONTAINER} \\\n\
             #            \"$(kubectl -n {ns} get pods -l job-name={name},batch.kubernetes.io/job-completion-index=$k -o name)\" \\\n\
             #            | grep '^{{' > part-$k.json; done\n\
             # Merge:   smps merge part-*.json   (refuses a missing or repeated part)\n\
             # Clean:   kubectl -n {ns} delete job/{name} configmap/{name}\n",
            start = self.start_at,
            ns = self.namespace,
            name = self.name,
            deadline = self.deadline_secs,
            last = n.saturating_sub(1),
        );
        for doc in [
            serde_yaml::to_string(&self.config_map())?,
            serde_yaml::to_string(&self.job())?,
        ] {
            out.push_str("---\n");
            out.push_str(&doc);
        }
        Ok(out)
    }
}
