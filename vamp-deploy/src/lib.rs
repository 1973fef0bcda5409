//! Vamp's deployment engine: where artifacts are kept and how a blueprint
//! becomes a deployment.
//!
//! - [`store`]: the [`Store`](store::Store) trait (put, get, list and delete
//!   artifacts by kind and name, with revisions, history and diffs) and the
//!   in-memory [`MemoryStore`](store::MemoryStore);
//! - [`directory`]: [`DirectoryStore`](directory::DirectoryStore), a folder
//!   of YAML files in any layout (read with `vamp-dsl`);
//! - [`resolve`]: references to stored artifacts, the breed dependency graph
//!   and its deploy order, environment-variable scopes and interpolation;
//! - [`lifecycle`]: merging a blueprint into a deployment and removing one
//!   from it, as a new deployment plus an explicit list of steps.
//!
//! The engine does no other IO than the directory store's files, and no
//! async: values only a running system knows come in through
//! [`Runtime`](resolve::Runtime).
//!
//! ```
//! use vamp_deploy::resolve::resolve_blueprint;
//! use vamp_deploy::store::MemoryStore;
//! use vamp_dsl::{read, ReadOptions};
//! use vamp_model::Document;
//! let src = "kind: blueprint\nname: shop\nclusters:\n  shop:\n    breed:\n      name: shop:1\n      deployable: acme/shop:1\n";
//! let Some(Document::Blueprint(bp)) = read(src, ReadOptions::default()).documents.pop() else {
//!     panic!("a blueprint")
//! };
//! let deployment = resolve_blueprint(&bp, &MemoryStore::default()).unwrap();
//! assert_eq!(deployment.spec.clusters["shop"].services.len(), 1);
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod api;
pub mod directory;
pub mod lifecycle;
pub mod resolve;
pub mod store;
