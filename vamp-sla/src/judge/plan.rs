//! A rollout's timeline: each step's weights and when it starts and is
//! judged, as offsets in seconds from the start.
//!
//! A step that is not the last is judged `interval` seconds after it starts
//! at the earliest, and `interval + max_wait` at the latest (when it waits
//! the longest for data); the last step (100%) is the promotion itself.
//!
//! ```
//! use vamp_model::rollout::{Analysis, OnFailure, OnInconclusive, Rollout};
//! use vamp_sla::judge::plan::plan;
//! let rollout = Rollout {
//!     deployment: "cart".into(), cluster: "cart".into(), port: None,
//!     from: "cart:1.0".into(), to: "cart:1.1".into(), steps: vec![10, 50, 100],
//!     interval: 30, analysis: Analysis { max_wait: 60, ..Analysis::default() },
//!     on_failure: OnFailure::Rollback, on_inconclusive: OnInconclusive::Hold,
//! };
//! let steps = plan(&rollout);
//! assert_eq!((steps[1].from, steps[1].to, steps[1].start, steps[1].end), (50, 50, 30, Some(60)));
//! assert_eq!((steps[1].latest_start, steps[1].latest_end), (90, Some(180)));
//! assert_eq!((steps[2].to, steps[2].start, steps[2].end), (100, 60, None));
//! ```

use serde::{Deserialize, Serialize};
use vamp_model::rollout::Rollout;

/// One step of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// Index in `steps`, from 0.
    pub step: usize,
    /// The stable service's weight, percent.
    pub from: u8,
    /// The candidate's weight, percent.
    pub to: u8,
    /// Earliest start, seconds from the rollout's start.
    pub start: u64,
    /// Earliest judgement (None for the last step: the promotion).
    pub end: Option<u64>,
    /// Latest start, when every earlier step waited `max_wait` for data.
    pub latest_start: u64,
    /// Latest judgement (None for the last step).
    pub latest_end: Option<u64>,
}

/// The timeline of `rollout` (saturating at `u64::MAX` seconds).
pub fn plan(rollout: &Rollout) -> Vec<PlannedStep> {
    let earliest = rollout.interval;
    let latest = rollout.interval.saturating_add(rollout.analysis.max_wait);
    let last = rollout.steps.len().saturating_sub(1);
    rollout
        .steps
        .iter()
        .enumerate()
        .map(|(i, &to)| {
            let at = |per_step: u64, k: usize| per_step.saturating_mul(k as u64);
            PlannedStep {
                step: i,
                from: 100u8.saturating_sub(to),
                to,
                start: at(earliest, i),
                end: (i < last).then(|| at(earliest, i + 1)),
                latest_start: at(latest, i),
                latest_end: (i < last).then(|| at(latest, i + 1)),
            }
        })
        .collect()
}
