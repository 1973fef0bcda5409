//! Source positions.

use serde::Serialize;

/// The position of a node in its source text.
///
/// `offset` counts characters from the start of the source; `line` and
/// `column` are 1-based. The YAML parser computes all three while scanning, so
/// keeping them costs nothing and spares a second pass over the source when a
/// diagnostic is shown.
///
/// ```
/// use vamp_model::Span;
/// let s = Span::new(12, 2, 3);
/// assert_eq!((s.line, s.column), (2, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    /// Character offset from the start of the source.
    pub offset: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl Span {
    /// A span at the given character offset, 1-based line and column.
    pub const fn new(offset: u32, line: u32, column: u32) -> Self {
        Span {
            offset,
            line,
            column,
        }
    }

    /// The start of a document: line 1, column 1.
    pub const START: Span = Span::new(0, 1, 1);
}
