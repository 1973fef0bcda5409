//! Human rendering of diagnostics: the source line with a caret.

use std::fmt::Write as _;

use vamp_model::{Diagnostic, Severity};

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
