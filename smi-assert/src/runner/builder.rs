//! [`RunnerBuilder`]: the runner's settings (timeouts, implementation, custom checks, namespaces).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::{ClusterBackend, TrafficBackend};
use crate::error::Result;
use crate::features::{Implementation, Profile};
use crate::suite::Timeouts;
use crate::validate::Validator;

use super::CustomCheck;
use super::Runner;

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
    profiles: Option<Vec<Profile>>,
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

    /// Runs only the tests that count in one of `profiles`, and reports exactly those profiles
    /// (Gateway API's `--conformance-profiles`). By default every test runs and the report holds
    /// the profiles of the suite's family.
    pub fn profiles(mut self, profiles: impl IntoIterator<Item = Profile>) -> Self {
        let mut list: Vec<Profile> = Vec::new();
        for p in profiles {
            if !list.contains(&p) {
                list.push(p);
            }
        }
        self.profiles = Some(list);
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
            profiles: self.profiles,
        })
    }
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
            profiles: None,
        }
    }
}
