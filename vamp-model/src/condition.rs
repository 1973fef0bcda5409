//! The syntax tree of the Vamp condition language.
//!
//! A [`Condition`] is what `vamp_dsl::condition::parse` reads from text such
//! as `has cookie vamp and user-agent == Firefox`. It serializes to the tree
//! JSON of `canonical-json.md` ("condition syntax tree") and prints (with
//! [`std::fmt::Display`]) as text the parser reads back to the same tree.
//!
//! ```
//! use vamp_model::Condition;
//! let c = Condition::And(vec![
//!     Condition::Cookie("vamp".into()),
//!     Condition::Not(Box::new(Condition::UserAgent("Firefox".into()))),
//! ]);
//! assert_eq!(
//!     serde_json::to_value(&c).unwrap(),
//!     serde_json::json!({"op": "and", "args": [
//!         {"op": "cookie", "name": "vamp"},
//!         {"op": "not", "arg": {"op": "user_agent", "value": "Firefox"}},
//!     ]}),
//! );
//! assert_eq!(c.to_string(), "has cookie vamp and not user-agent == Firefox");
//! ```

use std::fmt;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// A parsed condition: the syntax tree of the condition language.
///
/// `And` and `Or` are n-ary: the parser flattens `a and (b and c)` into one
/// `And` with three arguments, in source order, and makes no other
/// simplification. Negated operators (`host != x`, `misses cookie c`) read as
/// `Not` around the positive node.
///
/// ```
/// use vamp_model::Condition;
/// let c = Condition::Or(vec![
///     Condition::Host("localhost".into()),
///     Condition::HeaderContains { name: "X-Id".into(), value: "12345".into() },
/// ]);
/// assert_eq!(c.to_string(), "host == localhost or header X-Id has 12345");
/// assert_eq!(serde_json::to_value(&c).unwrap()["op"], "or");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Condition {
    /// Every argument holds: `a and b and c` (`{"op": "and", "args": [...]}`).
    And(Vec<Condition>),
    /// At least one argument holds: `a or b` (`{"op": "or", "args": [...]}`).
    Or(Vec<Condition>),
    /// The argument does not hold: `not a`, `!a`, `host != x`
    /// (`{"op": "not", "arg": ...}`).
    Not(Box<Condition>),
    /// `user-agent == V`: the User-Agent contains V, with browser names
    /// looked up first (`{"op": "user_agent", "value": V}`).
    UserAgent(String),
    /// `host == V`: the host equals V (`{"op": "host", "value": V}`).
    Host(String),
    /// `has cookie N`: a cookie N is present (`{"op": "cookie", "name": N}`).
    Cookie(String),
    /// `has header N`: a header N is present (`{"op": "header", "name": N}`).
    Header(String),
    /// `cookie N has V`: cookie N is present and its value contains V
    /// (`{"op": "cookie_contains", "name": N, "value": V}`).
    CookieContains {
        /// The cookie name (compared case-sensitively).
        name: String,
        /// The text the cookie value must contain.
        value: String,
    },
    /// `header N has V`: header N is present and its value contains V
    /// (`{"op": "header_contains", "name": N, "value": V}`).
    HeaderContains {
        /// The header name (compared case-insensitively).
        name: String,
        /// The text the header value must contain.
        value: String,
    },
    /// `< raw HAProxy ACL >`, trimmed (`{"op": "acl", "value": V}`).
    Acl(String),
}

impl Condition {
    /// The `op` of the node in the tree JSON.
    ///
    /// ```
    /// use vamp_model::Condition;
    /// assert_eq!(Condition::Cookie("a".into()).op(), "cookie");
    /// assert_eq!(Condition::Acl("path_beg /a".into()).op(), "acl");
    /// ```
    pub fn op(&self) -> &'static str {
        match self {
            Condition::And(_) => "and",
            Condition::Or(_) => "or",
            Condition::Not(_) => "not",
            Condition::UserAgent(_) => "user_agent",
            Condition::Host(_) => "host",
            Condition::Cookie(_) => "cookie",
            Condition::Header(_) => "header",
            Condition::CookieContains { .. } => "cookie_contains",
            Condition::HeaderContains { .. } => "header_contains",
            Condition::Acl(_) => "acl",
        }
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries = match self {
            Condition::And(_)
            | Condition::Or(_)
            | Condition::Not(_)
            | Condition::UserAgent(_)
            | Condition::Host(_)
            | Condition::Cookie(_)
            | Condition::Header(_)
            | Condition::Acl(_) => 2,
            Condition::CookieContains { .. } | Condition::HeaderContains { .. } => 3,
        };
        let mut m = s.serialize_map(Some(entries))?;
        m.serialize_entry("op", self.op())?;
        match self {
            Condition::And(args) | Condition::Or(args) => m.serialize_entry("args", args)?,
            Condition::Not(arg) => m.serialize_entry("arg", &**arg)?,
            Condition::UserAgent(value) | Condition::Host(value) | Condition::Acl(value) => {
                m.serialize_entry("value", value)?
            }
            Condition::Cookie(name) | Condition::Header(name) => m.serialize_entry("name", name)?,
            Condition::CookieContains { name, value }
            | Condition::HeaderContains { name, value } => {
                m.serialize_entry("name", name)?;
                m.serialize_entry("value", value)?;
            }
        }
        m.end()
    }
}

/// Prints the condition in the condition language, so that the parser reads
/// it back to the same tree.
///
/// Values are written bare when they can be (no whitespace, no `(` or `)`,
/// not empty, not starting with a quote) and between `"` otherwise (`""`
/// escapes a quote). Round trip holds for every tree the parser produces;
/// trees it cannot produce print as their nearest readable form: an `And` or
/// `Or` with one argument prints as that argument, one without arguments as
/// `()` (which does not parse), nested `And` in `And` re-reads flattened, and
/// an ACL that holds `<`, `>` or surrounding whitespace cannot be written.
///
/// ```
/// use vamp_model::Condition;
/// let c = Condition::Not(Box::new(Condition::And(vec![
///     Condition::UserAgent("Mozilla/5.0 (X11)".into()),
///     Condition::Acl("path_beg /api".into()),
/// ])));
/// assert_eq!(c.to_string(), r#"not (user-agent == "Mozilla/5.0 (X11)" and <path_beg /api>)"#);
/// ```
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::And(args) => write_list(f, args, " and ", |c| {
                matches!(c, Condition::And(_) | Condition::Or(_))
            }),
            Condition::Or(args) => write_list(f, args, " or ", |c| matches!(c, Condition::Or(_))),
            Condition::Not(arg) => {
                f.write_str("not ")?;
                write_operand(
                    f,
                    arg,
                    matches!(**arg, Condition::And(_) | Condition::Or(_)),
                )
            }
            Condition::UserAgent(value) => {
                f.write_str("user-agent == ")?;
                write_value(f, value)
            }
            Condition::Host(value) => {
                f.write_str("host == ")?;
                write_value(f, value)
            }
            Condition::Cookie(name) => {
                f.write_str("has cookie ")?;
                write_value(f, name)
            }
            Condition::Header(name) => {
                f.write_str("has header ")?;
                write_value(f, name)
            }
            Condition::CookieContains { name, value } => {
                f.write_str("cookie ")?;
                write_value(f, name)?;
                f.write_str(" has ")?;
                write_value(f, value)
            }
            Condition::HeaderContains { name, value } => {
                f.write_str("header ")?;
                write_value(f, name)?;
                f.write_str(" has ")?;
                write_value(f, value)
            }
            Condition::Acl(value) => write!(f, "<{value}>"),
        }
    }
}

fn write_list(
    f: &mut fmt::Formatter<'_>,
    args: &[Condition],
    separator: &str,
    needs_parens: impl Fn(&Condition) -> bool,
) -> fmt::Result {
    if args.is_empty() {
        return f.write_str("()");
    }
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        write_operand(f, arg, needs_parens(arg))?;
    }
    Ok(())
}

fn write_operand(f: &mut fmt::Formatter<'_>, c: &Condition, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({c})")
    } else {
        write!(f, "{c}")
    }
}

/// True when `value` reads back as itself without quotes.
fn is_bare(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with(['\'', '"'])
        && !value.contains(|c: char| c.is_whitespace() || c == '(' || c == ')')
}

fn write_value(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    if is_bare(value) {
        return f.write_str(value);
    }
    f.write_str("\"")?;
    for (i, part) in value.split('"').enumerate() {
        if i > 0 {
            f.write_str("\"\"")?;
        }
        f.write_str(part)?;
    }
    f.write_str("\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn serializes_every_node() {
        let c = Condition::Or(vec![
            Condition::Not(Box::new(Condition::Host(s("localhost")))),
            Condition::Header(s("ETag")),
            Condition::CookieContains {
                name: s("vamp"),
                value: s("12345"),
            },
            Condition::HeaderContains {
                name: s("X-Id"),
                value: s("1"),
            },
            Condition::Acl(s("req.fhdr(X) -m sub 'y'")),
        ]);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"op": "or", "args": [
                {"op": "not", "arg": {"op": "host", "value": "localhost"}},
                {"op": "header", "name": "ETag"},
                {"op": "cookie_contains", "name": "vamp", "value": "12345"},
                {"op": "header_contains", "name": "X-Id", "value": "1"},
                {"op": "acl", "value": "req.fhdr(X) -m sub 'y'"},
            ]})
        );
        // Key order is part of the contract (op first).
        assert_eq!(
            serde_json::to_string(&Condition::CookieContains {
                name: s("a"),
                value: s("b")
            })
            .unwrap(),
            r#"{"op":"cookie_contains","name":"a","value":"b"}"#
        );
    }

    #[test]
    fn displays_with_quotes_and_parentheses() {
        let c = Condition::And(vec![
            Condition::Or(vec![Condition::Cookie(s("a")), Condition::Cookie(s("b"))]),
            Condition::UserAgent(s("say \"hi\"")),
            Condition::Host(s("")),
            Condition::Header(s("'x")),
        ]);
        assert_eq!(
            c.to_string(),
            r#"(has cookie a or has cookie b) and user-agent == "say ""hi""" and host == "" and has header "'x""#
        );
        let or = Condition::Or(vec![
            Condition::And(vec![Condition::Cookie(s("a")), Condition::Cookie(s("b"))]),
            Condition::Not(Box::new(Condition::Not(Box::new(Condition::Acl(s("x")))))),
        ]);
        assert_eq!(
            or.to_string(),
            "has cookie a and has cookie b or not not <x>"
        );
        assert_eq!(Condition::And(vec![]).to_string(), "()");
    }
}
