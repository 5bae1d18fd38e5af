//! The settings of one part of a distributed run: its execution segment and its
//! synchronised start. How a part's share is computed is in `crate::segment`.

use std::time::SystemTime;

use super::{EngineBuilder, invalid};
use crate::error::Result;
use crate::model::{BacklogPolicy, LoadModel};
use crate::segment::ExecutionPart;

impl EngineBuilder {
    /// Runs only `part` of the load: its striped share of the connections, of the request
    /// budget, of the backlog policy's connection cap and of the open-loop arrivals (see
    /// [`ExecutionPart`]). The parts of one sequence, run on as many generators, make up the
    /// configured load exactly; their results merge with [`merge`](crate::merge), which
    /// checks that they cover the sequence once. Rates and counts in the settings stay those
    /// of the whole run.
    pub fn segment(mut self, part: ExecutionPart) -> Self {
        self.part = Some(part);
        self
    }

    /// Starts the run at this wall-clock instant (after resolving and connecting), so that
    /// the parts of a distributed run start together. A run that could not start by then
    /// starts at once and says how late it was ([`Report::start_late`](crate::Report::start_late)).
    /// [`Engine::start`](crate::Engine::start) refuses an instant more than a day ahead.
    pub fn start_at(mut self, at: SystemTime) -> Self {
        self.start_at = Some(at);
        self
    }

    /// Applies the part's share to the whole run's counts; `connections` is the whole run's.
    /// Returns the part's connections.
    pub(super) fn take_part_share(&mut self, connections: usize) -> Result<usize> {
        let Some(part) = &self.part else {
            return Ok(connections);
        };
        let seg = part.segment();
        let mine = part.share(connections as u64) as usize;
        if mine == 0 {
            return Err(invalid(
                "segment",
                format!(
                    "segment {seg} gets none of the {connections} connections; give the run at least as many connections as parts"
                ),
            ));
        }
        if let Some(n) = self.max_requests {
            let share = part.share(n);
            if share == 0 {
                return Err(invalid(
                    "segment",
                    format!("segment {seg} gets none of the {n} requests of the request budget"),
                ));
            }
            self.max_requests = Some(share);
        }
        if let LoadModel::Open {
            backlog: BacklogPolicy::Grow {
                max_connections, ..
            },
            ..
        } = &mut self.model
        {
            *max_connections = (part.share(*max_connections as u64) as usize).max(mine);
        }
        Ok(mine)
    }
}
