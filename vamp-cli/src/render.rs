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

/// Source lines longer than this many characters are shown as a window of
/// this width around the column, cut ends marked with `...`.
const MAX_SHOWN: usize = 200;

/// Renders a diagnostic in the style of rustc: header, location, the source
/// line with a caret under the column, and the help line (the diagnostic's
/// own, else its code's [`vamp_model::Code::help`]).
pub(crate) fn render(d: &Diagnostic, file: &str, src: Option<&str>) -> String {
    let mut out = String::new();
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{level}[{}]: {}", d.code, d.message);
    if let Some(span) = d.span {
        let _ = writeln!(out, "  --> {file}:{}:{}", span.line, span.column);
        if let Some(text) = src.and_then(|s| source_line(s, span.line)) {
            let num = span.line.to_string();
            let pad = " ".repeat(num.len());
            let (shown, caret_at) = window(text, span.column.saturating_sub(1) as usize);
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
    let help = d.help.as_deref().unwrap_or(d.code.help());
    let _ = writeln!(out, "   = help: {help}");
    out
}

/// Line `line` (1-based) of `src`; the line just past the end is empty (an
/// error at the end of the file).
fn source_line(src: &str, line: u32) -> Option<&str> {
    let i = line.checked_sub(1)? as usize;
    src.lines()
        .nth(i)
        .or_else(|| (i == src.lines().count()).then_some(""))
}

/// The part of `text` shown (all of it, or [`MAX_SHOWN`] characters around
/// character `column`) and the indent that puts a caret under `column`
/// (tabs kept as tabs so that the caret lines up).
fn window(text: &str, column: usize) -> (String, String) {
    let len = text.chars().count();
    let (start, end) = if len <= MAX_SHOWN {
        (0, len)
    } else {
        let start = column.saturating_sub(MAX_SHOWN / 2).min(len - MAX_SHOWN);
        (start, start + MAX_SHOWN)
    };
    let cut = |yes: bool| if yes { "..." } else { "" };
    let body: String = text.chars().skip(start).take(end - start).collect();
    let shown = format!("{}{body}{}", cut(start > 0), cut(end < len));
    let indent: String = cut(start > 0)
        .chars()
        .chain(body.chars().take(column.saturating_sub(start)))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    (shown, indent)
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
        assert!(
            text.contains("= help: remove the key, or rename it"),
            "{text}"
        );
    }

    #[test]
    fn long_lines_are_shown_around_the_column() {
        let line = format!("{}X{}", "a".repeat(300), "b".repeat(300));
        let (shown, indent) = window(&line, 300);
        assert_eq!(shown.chars().count(), MAX_SHOWN + 6);
        assert!(
            shown.starts_with("...a") && shown.ends_with("b..."),
            "{shown}"
        );
        assert_eq!(shown.chars().nth(indent.len()), Some('X'));
        // Near either end the window stops at the end.
        let (shown, indent) = window(&line, 0);
        assert!(shown.starts_with('a') && shown.ends_with("a..."), "{shown}");
        assert_eq!(indent, "");
        let (shown, indent) = window(&line, 600);
        assert!(shown.starts_with("...b") && shown.ends_with('b'), "{shown}");
        assert_eq!(indent.len(), 3 + MAX_SHOWN - 1);
    }

    #[test]
    fn the_line_past_the_end_is_empty() {
        assert_eq!(source_line("a\nb\n", 3), Some(""));
        assert_eq!(source_line("a\nb", 3), Some(""));
        assert_eq!(source_line("a\nb\n", 4), None);
        let d = Diagnostic::error(Code::YamlParsing, "cut short").at(Span::new(4, 3, 1));
        let text = render(&d, "f.yml", Some("a:\nb: [1\n"));
        assert!(text.contains("3 | \n  | ^"), "{text}");
    }
}
