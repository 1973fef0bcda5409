//! The condition parser: text such as
//! `(user-agent == Chrome or user-agent == Firefox) and has cookie vamp`
//! read into a [`Condition`] syntax tree.
//!
//! Grammar (keywords case-insensitive; `not` binds tightest, then `and`,
//! then `or`; `and`/`or` chains are flattened into one n-ary node whatever
//! the parentheses):
//!
//! ```text
//! or      := and (("or" | "||" | "|") and)*
//! and     := unary (("and" | "&&" | "&") unary)*
//! unary   := ("not" | "!") unary | primary
//! primary := "(" or ")" | "<" ACL ">" | term
//! term    := ("user-agent" | "user.agent" | "useragent" | "host") OPERATOR value
//!          | ("has" | "contains" | "misses") ("cookie" | "header") value
//!          | ("cookie" | "header") value ("has" | "contains" | "misses") value
//! OPERATOR:= "==" | "=" | "is" | "has" | "contains"      (positive)
//!          | "!=" | "!" | "not" | "misses"              (negated)
//! value   := '...' ('' escapes) | "..." ("" escapes) | a run of non-whitespace other than ( )
//! ```
//!
//! Errors are [`Code::Parser`] diagnostics whose column (1-based, in
//! characters) points inside the expression at the problem and whose message
//! says what was expected. Hostile input is bounded: more than [`MAX_DEPTH`]
//! nested `(`/`not`, or more than [`MAX_LEN`] bytes, is a
//! [`Code::ResourceLimit`] diagnostic rather than a stack overflow.
//!
//! ```
//! use vamp_model::condition::parse;
//! use vamp_model::{Code, Condition};
//!
//! let c = parse("has cookie vamp and not user-agent == Firefox").unwrap();
//! assert_eq!(
//!     c,
//!     Condition::And(vec![
//!         Condition::Cookie("vamp".into()),
//!         Condition::Not(Box::new(Condition::UserAgent("Firefox".into()))),
//!     ])
//! );
//!
//! let err = parse("(host == a").unwrap_err();
//! assert_eq!(err.code, Code::Parser);
//! assert_eq!(err.span.map(|s| s.column), Some(11));
//! assert_eq!(err.message, "expected `)` to close the `(` at column 1, found the end of the expression");
//! ```

use super::Condition;
use crate::{Code, Diagnostic, Span};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while, take_while1};
use nom::character::complete::char;
use nom::combinator::{map, value};
use nom::error::{ErrorKind, ParseError};
use nom::{Err as NomErr, IResult, Parser};

/// The deepest nesting of `(` and `not` a condition may have.
///
/// ```
/// use vamp_model::condition::{parse, MAX_DEPTH};
/// use vamp_model::Code;
/// let deep = format!("{}<a>{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
/// assert_eq!(parse(&deep).unwrap_err().code, Code::ResourceLimit);
/// assert!(parse(&format!("{}<a>", "!".repeat(MAX_DEPTH))).is_ok());
/// ```
pub const MAX_DEPTH: usize = 64;

/// The longest condition text, in bytes, that [`parse`] reads.
///
/// ```
/// use vamp_model::condition::{parse, MAX_LEN};
/// use vamp_model::Code;
/// let long = format!("host == {}", "a".repeat(MAX_LEN));
/// assert_eq!(parse(&long).unwrap_err().code, Code::ResourceLimit);
/// ```
pub const MAX_LEN: usize = 64 * 1024;

/// Reads a condition expression into its syntax tree.
///
/// On failure the diagnostic has code [`Code::Parser`] (or
/// [`Code::ResourceLimit`] for input beyond [`MAX_LEN`] or [`MAX_DEPTH`]),
/// line 1 and the 1-based column, in characters, of the problem inside
/// `text`.
///
/// ```
/// use vamp_model::condition::parse;
/// use vamp_model::{Code, Condition};
///
/// let c = parse("<a> and (<b> and <c>) or misses header X-Id").unwrap();
/// assert_eq!(serde_json::to_value(&c).unwrap(), serde_json::json!({"op": "or", "args": [
///     {"op": "and", "args": [{"op": "acl", "value": "a"}, {"op": "acl", "value": "b"}, {"op": "acl", "value": "c"}]},
///     {"op": "not", "arg": {"op": "header", "name": "X-Id"}},
/// ]}));
///
/// let err = parse("user-agent ==").unwrap_err();
/// assert_eq!(err.code, Code::Parser);
/// assert_eq!(err.message, "expected a value after `user-agent ==`, found the end of the expression");
/// assert_eq!(err.span.map(|s| s.column), Some(14));
/// ```
pub fn parse(text: &str) -> Result<Condition, Diagnostic> {
    if text.len() > MAX_LEN {
        let offset = text
            .char_indices()
            .take_while(|(i, _)| *i < MAX_LEN)
            .count();
        return Err(Diagnostic::error(
            Code::ResourceLimit,
            format!(
                "a condition may be at most {MAX_LEN} bytes long, this one is {} bytes",
                text.len()
            ),
        )
        .at(span(offset)));
    }
    let p = P { text };
    match p.expression(text) {
        Ok(condition) => Ok(condition),
        Err(e) => {
            let offset = p.offset(e.at);
            let message = e
                .message
                .unwrap_or_else(|| format!("could not read the condition at {}", found(e.at)));
            Err(Diagnostic::error(e.code, message).at(span(offset)))
        }
    }
}

fn span(offset_chars: usize) -> Span {
    let offset = u32::try_from(offset_chars).unwrap_or(u32::MAX);
    Span::new(offset, 1, offset.saturating_add(1))
}

/// A parse error: where, with which code, and (when committed) what was
/// expected. Errors without a message are the recoverable ones nom produces
/// while trying alternatives.
#[derive(Debug)]
struct PErr<'a> {
    at: &'a str,
    code: Code,
    message: Option<String>,
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        PErr {
            at: input,
            code: Code::Parser,
            message: None,
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, PErr<'a>>;

/// A recoverable "nothing here" error.
fn nothing<T>(at: &str) -> Res<'_, T> {
    Err(NomErr::Error(PErr::from_error_kind(at, ErrorKind::Alt)))
}

fn ws(i: &str) -> Res<'_, &str> {
    take_while(char::is_whitespace).parse(i)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

fn is_value_char(c: char) -> bool {
    !c.is_whitespace() && c != '(' && c != ')'
}

/// `word` (ASCII, any case) as a whole word: not followed by a letter, digit,
/// `-`, `_` or `.`.
fn keyword<'a>(word: &'static str) -> impl Fn(&'a str) -> Res<'a, &'a str> {
    move |i: &'a str| match i.get(..word.len()) {
        Some(head) if head.eq_ignore_ascii_case(word) => {
            let rest = i.get(word.len()..).unwrap_or_default();
            if rest.starts_with(is_word_char) {
                nothing(i)
            } else {
                Ok((rest, head))
            }
        }
        _ => nothing(i),
    }
}

/// The text between `before` and `after` (a suffix of `before`).
fn consumed<'a>(before: &'a str, after: &str) -> &'a str {
    before
        .get(..before.len().saturating_sub(after.len()))
        .unwrap_or_default()
}

/// Describes what stands at `i`, for "found ..." in messages.
fn found(i: &str) -> String {
    const SHOWN: usize = 24;
    match i.chars().next() {
        None => "the end of the expression".to_owned(),
        Some(c) if !is_value_char(c) => format!("`{c}`"),
        Some(_) => {
            let mut token: String = i
                .chars()
                .take_while(|c| is_value_char(*c))
                .take(SHOWN)
                .collect();
            if i.chars()
                .take_while(|c| is_value_char(*c))
                .nth(SHOWN)
                .is_some()
            {
                token.push('…');
            }
            format!("`{token}`")
        }
    }
}

/// The parser over one expression; `text` is kept to turn positions into
/// columns.
struct P<'a> {
    text: &'a str,
}

impl<'a> P<'a> {
    /// Character offset of the suffix `at` in the text.
    fn offset(&self, at: &str) -> usize {
        consumed(self.text, at).chars().count()
    }

    fn column(&self, at: &str) -> usize {
        self.offset(at) + 1
    }

    fn fail<T>(&self, at: &'a str, message: String) -> Res<'a, T> {
        Err(NomErr::Failure(PErr {
            at,
            code: Code::Parser,
            message: Some(message),
        }))
    }

    /// Runs `parser` where a condition is required; "nothing here" becomes a
    /// committed error saying what came before.
    fn required(
        &self,
        i: &'a str,
        result: Res<'a, Condition>,
        after: impl FnOnce() -> String,
    ) -> Res<'a, Condition> {
        match result {
            Err(NomErr::Error(_)) => self.fail(
                i,
                format!("expected a condition{}, found {}", after(), found(i)),
            ),
            other => other,
        }
    }

    fn check_depth(&self, at: &'a str, depth: usize) -> Result<(), NomErr<PErr<'a>>> {
        if depth >= MAX_DEPTH {
            return Err(NomErr::Failure(PErr {
                at,
                code: Code::ResourceLimit,
                message: Some(format!(
                    "the condition nests deeper than {MAX_DEPTH} levels of `(` and `not`"
                )),
            }));
        }
        Ok(())
    }

    /// The whole text: one condition, surrounded by optional whitespace.
    fn expression(&self, text: &'a str) -> Result<Condition, PErr<'a>> {
        let run = || -> Res<'a, Condition> {
            let (i, _) = ws(text)?;
            let (i, c) = self.required(i, self.or_expr(i, 0), String::new)?;
            let (i, _) = ws(i)?;
            if i.starts_with(')') {
                return self.fail(i, "unexpected `)`: there is no `(` to close".to_owned());
            }
            if !i.is_empty() {
                return self.fail(
                    i,
                    format!(
                        "expected `and`, `or` or the end of the expression, found {}",
                        found(i)
                    ),
                );
            }
            Ok((i, c))
        };
        match run() {
            Ok((_, c)) => Ok(c),
            Err(NomErr::Error(e) | NomErr::Failure(e)) => Err(e),
            Err(NomErr::Incomplete(_)) => Err(PErr {
                at: "",
                code: Code::Parser,
                message: Some("the condition ends too early".to_owned()),
            }),
        }
    }

    fn or_expr(&self, i: &'a str, depth: usize) -> Res<'a, Condition> {
        self.chain(i, depth, false)
    }

    /// `unary (op unary)*` for `and` (when `and` is true) or `or`, flattened.
    fn chain(&self, i: &'a str, depth: usize, and: bool) -> Res<'a, Condition> {
        let operand = |i: &'a str| {
            if and {
                self.unary(i, depth)
            } else {
                self.chain(i, depth, true)
            }
        };
        let (mut i, first) = operand(i)?;
        let mut first = Some(first);
        let mut args = Vec::new();
        loop {
            let (r, _) = ws(i)?;
            let op = if and {
                alt((tag("&&"), tag("&"), keyword("and"))).parse(r)
            } else {
                alt((tag("||"), tag("|"), keyword("or"))).parse(r)
            };
            let Ok((r, op)) = op else { break };
            let (r, _) = ws(r)?;
            let (r, next) = self.required(r, operand(r), || format!(" after `{op}`"))?;
            if let Some(first) = first.take() {
                flatten_into(&mut args, first, and);
            }
            flatten_into(&mut args, next, and);
            i = r;
        }
        let c = match first {
            Some(single) => single,
            None if and => Condition::And(args),
            None => Condition::Or(args),
        };
        Ok((i, c))
    }

    fn unary(&self, i: &'a str, depth: usize) -> Res<'a, Condition> {
        if let Ok((rest, op)) = alt((tag("!"), keyword("not"))).parse(i) {
            self.check_depth(i, depth)?;
            let (r, _) = ws(rest)?;
            let (r, arg) =
                self.required(r, self.unary(r, depth + 1), || format!(" after `{op}`"))?;
            return Ok((r, Condition::Not(Box::new(arg))));
        }
        self.primary(i, depth)
    }

    fn primary(&self, i: &'a str, depth: usize) -> Res<'a, Condition> {
        if let Ok((rest, _)) = char::<_, PErr<'a>>('(')(i) {
            self.check_depth(i, depth)?;
            let (r, _) = ws(rest)?;
            let (r, inner) =
                self.required(r, self.or_expr(r, depth + 1), || " after `(`".to_owned())?;
            let (r, _) = ws(r)?;
            return match char::<_, PErr<'a>>(')')(r) {
                Ok((r, _)) => Ok((r, inner)),
                Err(_) => self.fail(
                    r,
                    format!(
                        "expected `)` to close the `(` at column {}, found {}",
                        self.column(i),
                        found(r)
                    ),
                ),
            };
        }
        if let Ok((rest, _)) = char::<_, PErr<'a>>('<')(i) {
            return self.acl(i, rest);
        }
        self.term(i)
    }

    /// `< raw ACL >`; `open` is at the `<`, `rest` after it.
    fn acl(&self, open: &'a str, rest: &'a str) -> Res<'a, Condition> {
        let (r, body) = take_till(|c| c == '<' || c == '>').parse(rest)?;
        let close = format!(
            "expected `>` to close the raw ACL that opens at column {}",
            self.column(open)
        );
        let Ok((r, _)) = char::<_, PErr<'a>>('>')(r) else {
            return if r.is_empty() {
                self.fail(r, close)
            } else {
                self.fail(r, format!("{close} (a raw ACL cannot contain `<`)"))
            };
        };
        let acl = body.trim();
        if acl.is_empty() {
            return self.fail(
                open,
                "expected a raw HAProxy ACL between `<` and `>`".to_owned(),
            );
        }
        Ok((r, Condition::Acl(acl.to_owned())))
    }

    /// The short codes: `host == v`, `has cookie c`, `header h has v`, ...
    fn term(&self, i: &'a str) -> Res<'a, Condition> {
        let operand = alt((
            keyword("user-agent"),
            keyword("user.agent"),
            keyword("useragent"),
            keyword("host"),
        ))
        .parse(i);
        if let Ok((r, operand)) = operand {
            let (r, _) = ws(r)?;
            let Ok((after, negated)) = operator(r) else {
                return self.fail(
                    r,
                    format!(
                        "expected an operator after `{operand}` (`==`, `=`, `is`, `has`, `contains`, \
                         `!=`, `!`, `not` or `misses`), found {}",
                        found(r)
                    ),
                );
            };
            let op = consumed(r, after);
            let (r, _) = ws(after)?;
            let (r, v) = self.value(r, || format!("a value after `{operand} {op}`"))?;
            let node = if operand.eq_ignore_ascii_case("host") {
                Condition::Host(v)
            } else {
                Condition::UserAgent(v)
            };
            return Ok((r, negate_if(negated, node)));
        }

        if let Ok((after, verb)) = verb(i) {
            let what = consumed(i, after);
            let (r, _) = ws(after)?;
            let Ok((r, kind)) = alt((keyword("cookie"), keyword("header"))).parse(r) else {
                return self.fail(
                    r,
                    format!(
                        "expected `cookie` or `header` after `{what}`, found {}",
                        found(r)
                    ),
                );
            };
            let (r, _) = ws(r)?;
            let kind_lower = kind.to_ascii_lowercase();
            let (r, name) =
                self.value(r, || format!("a {kind_lower} name after `{what} {kind}`"))?;
            let node = if kind_lower == "cookie" {
                Condition::Cookie(name)
            } else {
                Condition::Header(name)
            };
            return Ok((r, negate_if(verb.negated, node)));
        }

        if let Ok((r, kind)) = alt((keyword("cookie"), keyword("header"))).parse(i) {
            let (r, _) = ws(r)?;
            let kind_lower = kind.to_ascii_lowercase();
            let name_at = r;
            let (r, name) = self.value(r, || format!("a {kind_lower} name after `{kind}`"))?;
            let written = consumed(name_at, r);
            let (r, _) = ws(r)?;
            let Ok((after, verb)) = verb(r) else {
                return self.fail(
                    r,
                    format!(
                        "expected `has`, `contains` or `misses` after `{kind} {written}`, found {}",
                        found(r)
                    ),
                );
            };
            let what = consumed(r, after);
            let (r, _) = ws(after)?;
            let (r, value) =
                self.value(r, || format!("a value after `{kind} {written} {what}`"))?;
            let node = if kind_lower == "cookie" {
                Condition::CookieContains { name, value }
            } else {
                Condition::HeaderContains { name, value }
            };
            return Ok((r, negate_if(verb.negated, node)));
        }

        nothing(i)
    }

    /// A required value; `what` describes it for the error ("a value after
    /// `host ==`").
    fn value(&self, i: &'a str, what: impl FnOnce() -> String) -> Res<'a, String> {
        let result = match i.chars().next() {
            Some(q @ ('\'' | '"')) => self.quoted(i, q),
            _ => map(take_while1(is_value_char), str::to_owned).parse(i),
        };
        match result {
            Err(NomErr::Error(_)) => {
                self.fail(i, format!("expected {}, found {}", what(), found(i)))
            }
            other => other,
        }
    }

    /// `'...'` or `"..."`, the quote doubled to escape it.
    fn quoted(&self, i: &'a str, q: char) -> Res<'a, String> {
        let (mut rest, _) = char(q).parse(i)?;
        let mut out = String::new();
        loop {
            let (r, chunk) = take_till(|c| c == q).parse(rest)?;
            out.push_str(chunk);
            let Ok((r, _)) = char::<_, PErr<'a>>(q)(r) else {
                return self.fail(
                    r,
                    format!(
                        "expected `{q}` to close the quoted value that opens at column {}",
                        self.column(i)
                    ),
                );
            };
            match char::<_, PErr<'a>>(q)(r) {
                Ok((r, _)) => {
                    out.push(q);
                    rest = r;
                }
                Err(_) => return Ok((r, out)),
            }
        }
    }
}

/// `has`/`contains` (positive) or `misses` (negated) before or after a
/// cookie or header.
#[derive(Clone, Copy)]
struct Verb {
    negated: bool,
}

fn verb(i: &str) -> Res<'_, Verb> {
    alt((
        value(Verb { negated: false }, keyword("has")),
        value(Verb { negated: false }, keyword("contains")),
        value(Verb { negated: true }, keyword("misses")),
    ))
    .parse(i)
}

/// The operator after `user-agent`/`host`: `Ok(negated)`.
fn operator(i: &str) -> Res<'_, bool> {
    alt((
        value(false, tag("==")),
        value(true, tag("!=")),
        value(false, tag("=")),
        value(true, tag("!")),
        value(false, keyword("is")),
        value(false, keyword("has")),
        value(false, keyword("contains")),
        value(true, keyword("not")),
        value(true, keyword("misses")),
    ))
    .parse(i)
}

fn negate_if(negated: bool, c: Condition) -> Condition {
    if negated {
        Condition::Not(Box::new(c))
    } else {
        c
    }
}

/// Adds `c` to the arguments of an `and` (or `or`) node, splicing in the
/// arguments of a node of the same kind.
pub(super) fn flatten_into(args: &mut Vec<Condition>, c: Condition, and: bool) {
    match c {
        Condition::And(inner) if and => args.extend(inner),
        Condition::Or(inner) if !and => args.extend(inner),
        other => args.push(other),
    }
}
