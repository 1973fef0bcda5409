//! Reads the Vamp YAML DSL into the typed model.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod condition;
pub mod yaml;
