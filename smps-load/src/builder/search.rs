//! The engine of one trial of an adaptive search: the builder's test as an open loop at a
//! constant rate for a given time.

use std::time::Duration;

use super::EngineBuilder;
use crate::error::Result;
use crate::model::{BacklogPolicy, LoadModel};
use crate::plan::{ArrivalPlan, Spacing};

impl EngineBuilder {
    /// This test as an open loop at `rps` for `length`: uniform spacing, or Poisson with the
    /// same seed when the builder's plan was Poisson; the builder's backlog policy (or the
    /// default); no request budget.
    pub(crate) fn trial(&self, rps: f64, length: Duration) -> Result<EngineBuilder> {
        let (spacing, backlog) = match &self.model {
            LoadModel::Open { plan, backlog } => (plan.spacing(), *backlog),
            LoadModel::Closed => (Spacing::Uniform, BacklogPolicy::default()),
        };
        let mut plan = ArrivalPlan::constant(rps)?;
        if let Spacing::Poisson { seed } = spacing {
            plan = plan.with_poisson(seed);
        }
        let mut b = self.clone();
        b.model = LoadModel::Open { plan, backlog };
        b.duration = Some(length);
        b.max_requests = None;
        Ok(b)
    }
}
