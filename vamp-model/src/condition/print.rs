//! Printing a [`Condition`] in the condition language.

use std::fmt;

use super::Condition;

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
            Condition::UserAgent(value) => write_after(f, "user-agent == ", value),
            Condition::Host(value) => write_after(f, "host == ", value),
            Condition::Cookie(name) => write_after(f, "has cookie ", name),
            Condition::Header(name) => write_after(f, "has header ", name),
            Condition::CookieContains { name, value } => {
                write_after(f, "cookie ", name)?;
                write_after(f, " has ", value)
            }
            Condition::HeaderContains { name, value } => {
                write_after(f, "header ", name)?;
                write_after(f, " has ", value)
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

/// `text` then `value` (quoted when it must be).
fn write_after(f: &mut fmt::Formatter<'_>, text: &str, value: &str) -> fmt::Result {
    f.write_str(text)?;
    write_value(f, value)
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
