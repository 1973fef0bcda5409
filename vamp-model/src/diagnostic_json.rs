//! The full JSON form of a diagnostic, the one every front end hands out
//! when it lists diagnostics as data: `vamp check --format json`, the
//! bindings' `check` and the `errors` their exceptions carry.
//!
//! ```
//! use vamp_model::{Code, Diagnostic, Span};
//! let d = Diagnostic::error(Code::UnexpectedType, "a number is expected")
//!     .at(Span::new(10, 2, 3))
//!     .with_help("write 512MB");
//! let v = d.to_full_json();
//! assert_eq!(v["code"], "unexpected_type");
//! assert_eq!(v["severity"], "error");
//! assert_eq!((v["line"].as_u64(), v["column"].as_u64()), (Some(2), Some(3)));
//! assert_eq!(v["help"], "write 512MB");
//! assert!(Code::YamlParsing.is_parse_failure());
//! assert!(!Code::UnexpectedType.is_parse_failure());
//! ```

use serde_json::{json, Value};

use crate::{Code, Diagnostic};

impl Diagnostic {
    /// Every field of the diagnostic: `code`, `message`, `line`, `column`
    /// (null without a position), `severity`, `path` and `help` (or null).
    /// [`Diagnostic::to_json`] is the short form of error reports.
    pub fn to_full_json(&self) -> Value {
        let mut v = self.to_json();
        v["severity"] = json!(self.severity);
        v["path"] = Value::String(self.path.clone());
        v["help"] = self.help.clone().map_or(Value::Null, Value::String);
        v
    }
}

impl Code {
    /// Whether the code says that text did not parse at all (YAML syntax,
    /// resource limits, the condition and selector grammars), rather than
    /// that it parsed into something invalid: the bindings raise these as
    /// `ParseError`.
    pub fn is_parse_failure(self) -> bool {
        matches!(
            self,
            Code::YamlParsing | Code::ResourceLimit | Code::Parser | Code::InvalidSelector
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Severity, Span};

    #[test]
    fn full_json_lists_every_field_in_order() {
        let d = Diagnostic::error(Code::RouteWeight, "too much").at(Span::new(0, 4, 7));
        let v = d.to_full_json();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["code", "message", "line", "column", "severity", "path", "help"]
        );
        assert_eq!(v["help"], Value::Null);
        let unplaced = Diagnostic::error(Code::InvalidSla, "bad").to_full_json();
        assert_eq!(unplaced["line"], Value::Null);
        assert_eq!(unplaced["path"], "");
    }

    #[test]
    fn warnings_keep_their_severity() {
        let d = Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(Code::UnexpectedElement, "unused")
        };
        assert_eq!(d.to_full_json()["severity"], "warning");
    }
}
