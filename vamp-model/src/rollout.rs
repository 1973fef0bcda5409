//! The `rollout` artifact: a declared canary release.
//!
//! A rollout shifts the traffic of one cluster port's internal gateway from a
//! stable service (`from`) to a candidate (`to`) in increasing steps, judging
//! the candidate against the stable service at each step before the next.
//!
//! ```yaml
//! kind: rollout
//! name: cart-1.1
//! deployment: cart
//! cluster: cart
//! port: web                 # default: the cluster's only port (null)
//! from: cart:1.0
//! to: cart:1.1
//! steps: [5%, 25%, 50%, 100%]
//! interval: 30s             # default 30 s
//! analysis:                 # every key has a default, see [`Analysis`]
//!   min_samples: 100
//!   max_wait: 5m
//!   confidence: 95%
//!   metrics:
//!     - response_time: {max_increase: 20%}
//!     - error_rate: {max: 1%, max_increase: 1%}
//! on_failure: rollback      # default rollback
//! on_inconclusive: hold     # default hold
//! ```
//!
//! The canonical JSON follows `canonical-json.md`: percentages are integers
//! 0–100, durations whole seconds, absent optional values `null`:
//!
//! ```
//! use vamp_model::rollout::{Analysis, Metric, OnFailure, OnInconclusive, Rollout};
//! use vamp_model::Artifact;
//! let rollout = Rollout {
//!     deployment: "cart".into(), cluster: "cart".into(), port: None,
//!     from: "cart:1.0".into(), to: "cart:1.1".into(),
//!     steps: vec![50, 100], interval: 30, analysis: Analysis::default(),
//!     on_failure: OnFailure::Rollback, on_inconclusive: OnInconclusive::Hold,
//! };
//! let json = serde_json::to_value(Artifact::new("cart-1.1", rollout)).unwrap();
//! assert_eq!(json["kind"], "rollout");
//! assert_eq!(json["steps"], serde_json::json!([50, 100]));
//! assert_eq!(json["analysis"]["metrics"][0], serde_json::json!({"response_time": {"max_increase": 20}}));
//! assert_eq!(json["on_inconclusive"], "hold");
//! ```

use serde::{Deserialize, Serialize};

use crate::artifact::{Kind, Spec};

/// A canary release of `to` next to `from` in one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// The deployment that runs both services.
    pub deployment: String,
    /// The cluster of both services.
    pub cluster: String,
    /// The cluster port whose internal gateway is shifted; `None` means the
    /// cluster's only port.
    pub port: Option<String>,
    /// The stable service (breed name).
    pub from: String,
    /// The candidate service (breed name), already deployed.
    pub to: String,
    /// The candidate's weight (percent) at each step: increasing, each above
    /// 0, the last 100.
    pub steps: Vec<u8>,
    /// Minimum seconds a step runs before it is judged.
    pub interval: u64,
    /// How each step is judged.
    pub analysis: Analysis,
    /// What a failed step does.
    pub on_failure: OnFailure,
    /// What a step does that is still inconclusive after `max_wait`.
    pub on_inconclusive: OnInconclusive,
}

impl Rollout {
    /// `interval` when none is written: 30 seconds.
    pub const DEFAULT_INTERVAL: u64 = 30;
}

impl Spec for Rollout {
    const KIND: Kind = Kind::Rollout;
}

/// The statistics of each step (defaults: the issue's example).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    /// Requests needed per side within a step; with fewer the step waits
    /// for data. Default 100.
    pub min_samples: u64,
    /// Seconds a step may wait for data before `on_inconclusive` applies.
    /// Default 300.
    pub max_wait: u64,
    /// Confidence (percent, 50–99) with which a difference must be shown
    /// before a step fails. Default 95.
    pub confidence: u8,
    /// The metrics compared. Default: `response_time` with `max_increase`
    /// 20 and `error_rate` with `max` 1 and `max_increase` 1.
    pub metrics: Vec<Metric>,
}

impl Default for Analysis {
    fn default() -> Self {
        Analysis {
            min_samples: 100,
            max_wait: 300,
            confidence: 95,
            metrics: vec![
                Metric::ResponseTime { max_increase: 20 },
                Metric::ErrorRate {
                    max: Some(1),
                    max_increase: Some(1),
                },
            ],
        }
    }
}

/// One compared metric, written `{name: {limits}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Latency: the candidate may be at most `max_increase` percent slower
    /// than the stable service.
    ResponseTime {
        /// Percent.
        max_increase: u8,
    },
    /// Share of 5xx responses; at least one limit is set.
    ErrorRate {
        /// Cap on the candidate's error rate, percent.
        max: Option<u8>,
        /// Percentage points the candidate's error rate may exceed the
        /// stable service's.
        max_increase: Option<u8>,
    },
}

impl Metric {
    /// The metric's name as written (`response_time`, `error_rate`).
    pub fn name(&self) -> &'static str {
        match self {
            Metric::ResponseTime { .. } => "response_time",
            Metric::ErrorRate { .. } => "error_rate",
        }
    }
}

/// What a failed step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// The candidate goes back to 0% and stays deployed.
    Rollback,
    /// The candidate goes back to 0% and is undeployed.
    Undeploy,
}

/// What a step does that stays inconclusive for `max_wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInconclusive {
    /// Stay at the step's weights until someone decides.
    Hold,
    /// As a failure: the candidate goes back to 0%.
    Rollback,
    /// The candidate goes to 100%, the stable service to 0%.
    Promote,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        let r = Rollout {
            deployment: "cart".into(),
            cluster: "cart".into(),
            port: Some("web".into()),
            from: "cart:1.0".into(),
            to: "cart:1.1".into(),
            steps: vec![5, 25, 100],
            interval: 30,
            analysis: Analysis {
                metrics: vec![Metric::ErrorRate {
                    max: None,
                    max_increase: Some(2),
                }],
                ..Analysis::default()
            },
            on_failure: OnFailure::Undeploy,
            on_inconclusive: OnInconclusive::Promote,
        };
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["analysis"]["metrics"],
            serde_json::json!([{"error_rate": {"max": null, "max_increase": 2}}])
        );
        assert_eq!(json["on_failure"], "undeploy");
        let back: Rollout = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }
}
