//! The syntax tree of the Vamp condition language (placeholder until the
//! grammar lands).

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {}
