//! [`Operation`]: one step of a test, its YAML form (a single-key map) and the object operations (`apply`, `delete`, `assert`, `absent`), `custom` and `sleep`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smps_model::GoDuration;

use crate::backend::ObjectRef;
use crate::matcher::{ListMode, ListModes};

use super::metrics::MetricsOp;
use super::traffic::{DistributionOp, TrafficOp};

/// One operation. In YAML, a single-key map: `- traffic: {...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "OpRepr", into = "OpRepr")]
#[non_exhaustive]
pub enum Operation {
    /// Create or merge-patch objects (validated first).
    Apply(ApplyOp),
    /// Delete objects and wait until they are gone.
    Delete(DeleteOp),
    /// Poll until an object matches (subset semantics + list modes).
    Assert(AssertOp),
    /// Poll until no object matches.
    Absent(AbsentOp),
    /// Send requests until N consecutive outcomes are as expected.
    Traffic(TrafficOp),
    /// Check the distribution of requests over backends.
    Distribution(DistributionOp),
    /// Poll the TrafficMetrics API until a resource's (or edge's) metrics are as expected.
    Metrics(MetricsOp),
    /// Run a registered [`crate::runner::CustomCheck`].
    Custom(CustomOp),
    /// Sleep explicitly (documented cases only; never needed for synchronisation).
    Sleep(SleepOp),
}

/// The wire form of [`Operation`]: exactly one key set (serde_yaml 0.9 wants YAML tags for
/// externally tagged enums, which editors and kuttl users do not write).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OpRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    apply: Option<ApplyOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delete: Option<DeleteOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assert: Option<AssertOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    absent: Option<AbsentOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    traffic: Option<TrafficOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    distribution: Option<DistributionOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metrics: Option<MetricsOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    custom: Option<CustomOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sleep: Option<SleepOp>,
}

impl TryFrom<OpRepr> for Operation {
    type Error = String;
    fn try_from(r: OpRepr) -> std::result::Result<Self, String> {
        let mut ops: Vec<Operation> = Vec::new();
        ops.extend(r.apply.map(Operation::Apply));
        ops.extend(r.delete.map(Operation::Delete));
        ops.extend(r.assert.map(Operation::Assert));
        ops.extend(r.absent.map(Operation::Absent));
        ops.extend(r.traffic.map(Operation::Traffic));
        ops.extend(r.distribution.map(Operation::Distribution));
        ops.extend(r.metrics.map(Operation::Metrics));
        ops.extend(r.custom.map(Operation::Custom));
        ops.extend(r.sleep.map(Operation::Sleep));
        match ops.len() {
            1 => Ok(ops.remove(0)),
            0 => Err(
                "an operation needs one of apply, delete, assert, absent, traffic, \
                      distribution, metrics, custom, sleep"
                    .into(),
            ),
            _ => Err(format!(
                "an operation has exactly one kind, found {}",
                ops.iter()
                    .map(Operation::kind)
                    .collect::<Vec<_>>()
                    .join(" and ")
            )),
        }
    }
}

impl From<Operation> for OpRepr {
    fn from(op: Operation) -> Self {
        let mut r = OpRepr::default();
        match op {
            Operation::Apply(o) => r.apply = Some(o),
            Operation::Delete(o) => r.delete = Some(o),
            Operation::Assert(o) => r.assert = Some(o),
            Operation::Absent(o) => r.absent = Some(o),
            Operation::Traffic(o) => r.traffic = Some(o),
            Operation::Distribution(o) => r.distribution = Some(o),
            Operation::Metrics(o) => r.metrics = Some(o),
            Operation::Custom(o) => r.custom = Some(o),
            Operation::Sleep(o) => r.sleep = Some(o),
        }
        r
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Operation {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Operation".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut s = OpRepr::json_schema(g);
        s.insert("minProperties".into(), 1.into());
        s.insert("maxProperties".into(), 1.into());
        s
    }
}

impl Operation {
    /// The operation's kind, e.g. `traffic`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Apply(_) => "apply",
            Self::Delete(_) => "delete",
            Self::Assert(_) => "assert",
            Self::Absent(_) => "absent",
            Self::Traffic(_) => "traffic",
            Self::Distribution(_) => "distribution",
            Self::Metrics(_) => "metrics",
            Self::Custom(_) => "custom",
            Self::Sleep(_) => "sleep",
        }
    }

    /// The durations the operation sets, by YAML key.
    pub(super) fn durations(&self) -> Vec<(&'static str, &GoDuration)> {
        let set: Vec<(&'static str, &Option<GoDuration>)> = match self {
            Self::Apply(a) => vec![("timeout", &a.timeout)],
            Self::Delete(d) => vec![("timeout", &d.timeout)],
            Self::Assert(a) => vec![("timeout", &a.timeout)],
            Self::Absent(a) => vec![("timeout", &a.timeout)],
            Self::Traffic(t) => vec![
                ("requestTimeout", &t.request_timeout),
                ("timeout", &t.timeout),
            ],
            Self::Distribution(d) => {
                vec![
                    ("requestTimeout", &d.request_timeout),
                    ("timeout", &d.timeout),
                ]
            }
            Self::Metrics(m) => vec![("maxLatency", &m.max_latency), ("timeout", &m.timeout)],
            Self::Custom(c) => vec![("timeout", &c.timeout)],
            Self::Sleep(s) => return vec![("duration", &s.duration)],
        };
        set.into_iter()
            .filter_map(|(k, d)| d.as_ref().map(|d| (k, d)))
            .collect()
    }
}

/// `apply`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ApplyOp {
    /// Manifests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<Value>,
    /// Name of a suite fixture to apply (before `objects`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixture: Option<String>,
    /// Validate SMI manifests against the bundled CRDs first (default true).
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub validate: bool,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

fn yes() -> bool {
    true
}

/// `delete`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct DeleteOp {
    /// Objects to delete (missing ones are fine).
    pub objects: Vec<ObjectRef>,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

/// `assert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AssertOp {
    /// Expected (partial) object. With `metadata.name` it is fetched; without, objects of the
    /// kind are listed (filtered by `metadata.labels`) and any match passes.
    pub object: Value,
    /// Default list mode (default `ordered`, as kuttl).
    #[serde(default)]
    pub lists: ListMode,
    /// Per-path list modes, e.g. `{"/spec/backends": "keyed:service"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub list_modes: BTreeMap<String, ListMode>,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

impl AssertOp {
    /// An assert with kuttl's defaults.
    #[must_use]
    pub fn new(object: Value) -> Self {
        Self {
            object,
            lists: ListMode::Ordered,
            list_modes: BTreeMap::new(),
            timeout: None,
        }
    }

    /// The list modes to use.
    #[must_use]
    pub fn modes(&self) -> ListModes {
        ListModes {
            default: self.lists.clone(),
            overrides: self.list_modes.clone(),
        }
    }
}

/// `absent`: passes once no object matches `object` (eventually absent, as kuttl errors files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct AbsentOp {
    /// The (partial) object that must not exist.
    pub object: Value,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

/// `custom`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct CustomOp {
    /// Registered name.
    pub name: String,
    /// Arguments passed to the check.
    #[serde(default)]
    pub args: Value,
    /// Timeout override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

/// `sleep`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SleepOp {
    /// How long.
    pub duration: GoDuration,
}

impl Operation {
    /// `apply` of manifests.
    #[must_use]
    pub fn apply(objects: Vec<Value>) -> Self {
        Self::Apply(ApplyOp {
            objects,
            fixture: None,
            validate: true,
            timeout: None,
        })
    }

    /// `apply` of a suite fixture.
    #[must_use]
    pub fn apply_fixture(name: impl Into<String>) -> Self {
        Self::Apply(ApplyOp {
            objects: Vec::new(),
            fixture: Some(name.into()),
            validate: true,
            timeout: None,
        })
    }

    /// `delete` of objects.
    #[must_use]
    pub fn delete(objects: Vec<ObjectRef>) -> Self {
        Self::Delete(DeleteOp {
            objects,
            timeout: None,
        })
    }

    /// `assert` with kuttl defaults.
    #[must_use]
    pub fn assert(object: Value) -> Self {
        Self::Assert(AssertOp::new(object))
    }

    /// `absent`.
    #[must_use]
    pub fn absent(object: Value) -> Self {
        Self::Absent(AbsentOp {
            object,
            timeout: None,
        })
    }

    /// `custom`.
    #[must_use]
    pub fn custom(name: impl Into<String>, args: Value) -> Self {
        Self::Custom(CustomOp {
            name: name.into(),
            args,
            timeout: None,
        })
    }

    /// `sleep`.
    #[must_use]
    pub fn sleep(duration: Duration) -> Self {
        Self::Sleep(SleepOp {
            duration: GoDuration::from_std(duration)
                .unwrap_or_else(|_| GoDuration::from_nanos(i64::MAX)),
        })
    }
}
