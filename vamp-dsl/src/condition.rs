//! The condition language, read by `vamp_model::condition` (the grammar
//! lives with the syntax tree so artifacts can carry parsed conditions);
//! re-exported here for `vamp condition` and the DSL's users.
//!
//! ```
//! use vamp_dsl::condition::parse;
//! use vamp_model::Condition;
//! assert_eq!(parse("has cookie vamp").unwrap(), Condition::Cookie("vamp".into()));
//! ```

pub use vamp_model::condition::{parse, MAX_DEPTH, MAX_LEN};
