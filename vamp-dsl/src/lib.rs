//! Reads the Vamp YAML DSL into the typed model.
//!
//! The YAML text is read into a tree with a position on every node
//! ([`yaml`]), then converted into the artifacts of [`vamp_model`] by explicit
//! converters that expand every shorthand and run the blueprint-local checks.
//! Every problem becomes a [`vamp_model::Diagnostic`] with its stable code and
//! 1-based line and column; reading recovers and collects all of them.
//!
//! [`compose`] imports a Docker Compose file as a blueprint, with the same
//! positioned diagnostics.
//!
//! ```
//! use vamp_dsl::{read, ReadOptions};
//! let src = "name: sava\nclusters:\n  sava: sava:1.0\n";
//! let out = read(src, ReadOptions::default());
//! let json = serde_json::to_value(&out.documents[0]).unwrap();
//! assert_eq!(json["clusters"]["sava"]["services"][0]["breed"]["reference"], "sava:1.0");
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod api;
pub mod canonical;
pub mod compose;
pub mod condition;
mod read;
pub mod selector;
pub mod write;
pub mod yaml;

pub use read::{read, read_bytes, Outcome, ReadOptions};
