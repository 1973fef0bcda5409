//! Human rendering of diagnostics (the source line with a caret) and the
//! one error type of the commands, [`CliError`], with its one way of being
//! reported.

use std::fmt::Write as _;

use serde_json::json;
use vamp_model::{Diagnostic, Severity};

/// Why a command failed: a diagnostic (its code from the registry
/// [`vamp_model::Code`]) and, when a file is at fault, the file and its text
/// for the caret.
#[derive(Debug)]
pub(crate) struct CliError {
    /// What went wrong (boxed, like the file, so that `Result<_, CliError>`
    /// stays small).
    pub(crate) diagnostic: Box<Diagnostic>,
    /// The file the diagnostic points into, and its text when known.
    file: Option<Box<(String, Option<String>)>>,
}

impl CliError {
    /// A diagnostic about `file`, whose text is `source` when known.
    pub(crate) fn in_file(diagnostic: Diagnostic, file: &str, source: Option<&[u8]>) -> Self {
        let text = source.and_then(|s| std::str::from_utf8(s).ok().map(str::to_owned));
        CliError {
            diagnostic: Box::new(diagnostic),
            file: Some(Box::new((file.to_owned(), text))),
        }
    }

    /// Prints the error: as `{"error": ...}` on standard output with JSON
    /// output (the shape `vamp canonical` uses), else on standard error,
    /// rendered with the file, line, column and caret when a file is at
    /// fault.
    pub(crate) fn report(&self, json_format: bool) {
        let d = &self.diagnostic;
        if json_format {
            let v = json!({ "error": d.to_json() });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else if let Some(located) = &self.file {
            let (file, text) = &**located;
            eprint!("{}", render(d, file, text.as_deref()));
        } else {
            eprintln!("error[{}]: {}", d.code, d.message);
        }
    }
}

impl From<Diagnostic> for CliError {
    fn from(diagnostic: Diagnostic) -> Self {
        CliError {
            diagnostic: Box::new(diagnostic),
            file: None,
        }
    }
}

macro_rules! from_coded_error {
    ($($t:ty),*) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                Diagnostic::error(e.code(), e.to_string()).into()
            }
        }
    )*};
}

from_coded_error!(
    vamp_drivers::DriverError,
    vamp_drivers::PlanError,
    vamp_drivers::ApplyError,
    vamp_sla::SlaError
);

/// Renders a diagnostic in the style of rustc: header, location, the source
/// line with a caret under the column, and the help line.
pub(crate) fn render(d: &Diagnostic, file: &str, src: Option<&str>) -> String {
    let mut out = String::new();
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{level}[{}]: {}", d.code, d.message);
    if let Some(span) = d.span {
        let _ = writeln!(out, "  --> {file}:{}:{}", span.line, span.column);
        let line_text = src.and_then(|s| s.lines().nth(span.line.saturating_sub(1) as usize));
        if let Some(text) = line_text {
            let num = span.line.to_string();
            let pad = " ".repeat(num.len());
            let shown: String = text.chars().take(200).collect();
            let caret_at = shown
                .chars()
                .take(span.column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect::<String>();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{num} | {shown}");
            let _ = writeln!(out, "{pad} | {caret_at}^");
        }
    } else {
        let _ = writeln!(out, "  --> {file}");
    }
    if !d.path.is_empty() {
        let _ = writeln!(out, "   = at: {}", d.path);
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "   = help: {help}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vamp_model::{Code, Span};

    #[test]
    fn caret_points_at_column() {
        let d = Diagnostic::error(Code::UnexpectedElement, "bad key").at(Span::new(0, 2, 3));
        let text = render(&d, "f.yml", Some("a:\n  scala: 1\n"));
        assert!(text.contains("--> f.yml:2:3"), "{text}");
        assert!(text.contains("2 |   scala: 1\n  |   ^"), "{text}");
    }
}
