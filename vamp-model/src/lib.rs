//! Vamp's typed model: artifacts, unit values, names, condition syntax trees
//! and the diagnostics every layer reports with.
//!
//! This crate is the leaf of the workspace: no IO, no async, no YAML. Every
//! artifact serializes (with serde) to exactly the canonical JSON of
//! `canonical-json.md`.
//!
//! ```
//! use vamp_model::{Artifact, Scale};
//! let small = Artifact::new("small", Scale { cpu: 0.5, memory: 512.0, instances: 2 });
//! let json = serde_json::to_value(&small).unwrap();
//! assert_eq!(json["kind"], "scale");
//! assert_eq!(json["memory"], 512.0);
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod artifact;
pub mod backend_name;
pub mod codes;
pub mod condition;
pub mod deployment;
pub mod diagnostic;
pub mod diagnostic_json;
pub mod graph;
pub mod hash;
pub mod interpolation;
pub mod labels;
pub mod names;
pub mod rollout;
pub mod span;
pub mod units;
pub mod weights;

pub use artifact::*;
pub use condition::{Condition, ConditionText};
pub use deployment::*;
pub use diagnostic::{Code, Diagnostic, Severity};
pub use span::Span;
