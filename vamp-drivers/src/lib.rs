//! Orchestrator drivers and the deployment planner for Vamp.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
