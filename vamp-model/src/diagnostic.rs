//! Diagnostics: one error/warning type shared by every layer.
//!
//! A [`Diagnostic`] carries a stable [`Code`], a message that says what to do,
//! the source position of the offending node and the key path that leads to
//! it. Rendering (with the source line and a caret) happens late, in the CLI.

use serde::Serialize;

pub use crate::codes::Code;
use crate::span::Span;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The document is rejected.
    Error,
    /// The document is accepted, but something looks wrong.
    Warning,
}

/// An error or warning about a document, with its stable code and position.
///
/// ```
/// use vamp_model::{Code, Diagnostic, Span};
/// let d = Diagnostic::error(Code::IllegalName, "the name `a b` contains whitespace")
///     .at(Span::new(10, 2, 3))
///     .with_path("clusters.a b")
///     .with_help("use letters, digits, `-`, `_`, `:` or `.`");
/// assert_eq!(d.code, Code::IllegalName);
/// assert_eq!(d.span.map(|s| s.line), Some(2));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Diagnostic {
    /// The stable identity of the problem.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and what to do about it.
    pub message: String,
    /// Where in the source (None when no source position exists).
    pub span: Option<Span>,
    /// Dotted key path of the offending node (`clusters.sava.services[0]`).
    pub path: String,
    /// An optional hint (e.g. the nearest valid key for a typo).
    pub help: Option<String>,
}

impl Diagnostic {
    /// A new error with a code and message, without position.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: None,
            path: String::new(),
            help: None,
        }
    }

    /// A new warning with a code and message, without position.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Sets the source position.
    #[must_use]
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Sets the source position when one is known.
    #[must_use]
    pub fn at_opt(mut self, span: Option<Span>) -> Self {
        if span.is_some() {
            self.span = span;
        }
        self
    }

    /// Sets the key path.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the hint.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for errors, false for warnings.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The error JSON of the command-line contract:
    /// `{"code", "message", "line", "column"}`.
    ///
    /// ```
    /// use vamp_model::{Code, Diagnostic, Span};
    /// let json = Diagnostic::error(Code::Parser, "bad").at(Span::new(0, 1, 5)).to_json();
    /// assert_eq!(json["line"], 1);
    /// assert_eq!(json["column"], 5);
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "line": self.span.map(|s| s.line),
            "column": self.span.map(|s| s.column),
        })
    }
}
