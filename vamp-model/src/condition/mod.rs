//! The syntax tree of the Vamp condition language.
//!
//! A [`Condition`] is what [`parse`] reads from text such
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

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};

use crate::Diagnostic;

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

/// A condition as written, with the syntax tree it parses to: what routes
/// and stored conditions carry, so the text is parsed once (when the
/// artifact is read) and printed as written.
///
/// Text that does not parse is kept with its parse error: the DSL reports
/// it as a warning, the router as an error when it compiles the route.
/// Serializes as the text; deserializing parses it again.
///
/// ```
/// use vamp_model::condition::ConditionText;
/// use vamp_model::{Code, Condition};
/// let c = ConditionText::new("has cookie vamp");
/// assert_eq!(c.tree(), Ok(&Condition::Cookie("vamp".into())));
/// assert_eq!(serde_json::to_value(&c).unwrap(), "has cookie vamp");
/// assert_eq!(serde_json::from_value::<ConditionText>("has cookie vamp".into()).unwrap(), c);
/// assert_eq!(ConditionText::new("has").tree().unwrap_err().code, Code::Parser);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionText {
    text: String,
    tree: Result<Condition, Diagnostic>,
}

impl ConditionText {
    /// Parses `text` (see [`parse`]) and keeps both.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let tree = parse(&text);
        ConditionText { text, tree }
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The syntax tree, or why the text does not parse (a [`parse`]
    /// diagnostic: its column counts inside the text).
    pub fn tree(&self) -> Result<&Condition, &Diagnostic> {
        self.tree.as_ref()
    }
}

impl From<String> for ConditionText {
    fn from(text: String) -> Self {
        ConditionText::new(text)
    }
}

impl From<&str> for ConditionText {
    fn from(text: &str) -> Self {
        ConditionText::new(text)
    }
}

impl Serialize for ConditionText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ConditionText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(ConditionText::new)
    }
}

mod parse;
mod print;
#[cfg(test)]
mod tests;

pub use parse::{parse, MAX_DEPTH, MAX_LEN};
