//! Compose variable substitution (`$VAR`, `${VAR:-default}`, `$$`): carried
//! over as Vamp global references where Vamp can defer them, substituted at
//! import time where it cannot.

use vamp_model::{Code, Span};

use super::Cx;

/// Deepest nesting of `${VAR:-${OTHER:-...}}` defaults that is followed.
const MAX_DEFAULT_DEPTH: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// An environment value: unset variables become `${env://VAR}`, and the
    /// output is Vamp trait-value syntax (`$` written `$$`).
    Env,
    /// Any other value: substituted now, the output is plain text.
    Fixed,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Converts Compose substitution in `text`. None when a variable cannot be
/// resolved in [`Mode::Fixed`] (reported).
pub(super) fn interpolate(
    cx: &mut Cx,
    text: &str,
    span: Span,
    path: &str,
    mode: Mode,
) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_owned());
    }
    interpolate_at(cx, text, span, path, mode, 0)
}

fn push_literal(out: &mut String, text: &str, mode: Mode) {
    if mode == Mode::Env {
        out.push_str(&text.replace('$', "$$"));
    } else {
        out.push_str(text);
    }
}

fn interpolate_at(
    cx: &mut Cx,
    text: &str,
    span: Span,
    path: &str,
    mode: Mode,
    depth: usize,
) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut ok = true;
    let mut stray_warned = false;
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let next = after.chars().next();
        match next {
            Some('$') => {
                out.push_str(if mode == Mode::Env { "$$" } else { "$" });
                rest = &after[1..];
            }
            Some('{') => {
                let body_start = &after[1..];
                match closing_brace(body_start) {
                    Some(end) => {
                        let body = &body_start[..end];
                        match variable(cx, body, span, path, mode, depth) {
                            Some(v) => out.push_str(&v),
                            None => ok = false,
                        }
                        rest = &body_start[end + 1..];
                    }
                    None => {
                        cx.warn(
                            Code::ComposeInterpolation,
                            span,
                            path,
                            format!("`{text}` has a `${{` without its closing `}}`; it is kept as literal text"),
                        );
                        push_literal(&mut out, &rest[at..], mode);
                        rest = "";
                    }
                }
            }
            Some(c) if is_name_start(c) => {
                let end = after
                    .find(|c: char| !is_name_char(c))
                    .unwrap_or(after.len());
                let name = &after[..end];
                match variable(cx, name, span, path, mode, depth) {
                    Some(v) => out.push_str(&v),
                    None => ok = false,
                }
                rest = &after[end..];
            }
            _ => {
                // One warning per value, however many stray `$` it holds.
                if !stray_warned {
                    stray_warned = true;
                    cx.warn_help(
                        Code::ComposeInterpolation,
                        span,
                        path,
                        format!("`{text}` has a `$` that starts no variable; it is kept as a literal `$`"),
                        "write `$$` for a literal dollar sign".to_owned(),
                    );
                }
                push_literal(&mut out, "$", mode);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    ok.then_some(out)
}

/// The byte index of the `}` closing a `${` whose body starts `body`.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// One `${body}` or `$NAME` (body = NAME).
fn variable(
    cx: &mut Cx,
    body: &str,
    span: Span,
    path: &str,
    mode: Mode,
    depth: usize,
) -> Option<String> {
    let trimmed = body;
    let name_end = trimmed
        .char_indices()
        .find(|(i, c)| {
            if *i == 0 {
                !is_name_start(*c)
            } else {
                !is_name_char(*c)
            }
        })
        .map_or(trimmed.len(), |(i, _)| i);
    let name = &trimmed[..name_end];
    let modifier = &trimmed[name_end..];
    let (op, arg) = if modifier.is_empty() {
        ("", "")
    } else {
        let two = modifier.get(..2);
        match two {
            Some(op @ (":-" | ":?" | ":+")) => (op, &modifier[2..]),
            _ => match modifier.get(..1) {
                Some(op @ ("-" | "?" | "+")) => (op, &modifier[1..]),
                _ => ("!", ""),
            },
        }
    };
    if name.is_empty() || op == "!" {
        cx.warn(
            Code::ComposeInterpolation,
            span,
            path,
            format!("`${{{body}}}` is not a Compose variable; it is kept as literal text"),
        );
        let mut out = String::new();
        push_literal(&mut out, &format!("${{{body}}}"), mode);
        return Some(out);
    }
    let escape = |v: &str| {
        if mode == Mode::Env {
            v.replace('$', "$$")
        } else {
            v.to_owned()
        }
    };
    let nested = |cx: &mut Cx, arg: &str| -> Option<String> {
        if depth >= MAX_DEFAULT_DEPTH {
            let mut out = String::new();
            push_literal(&mut out, arg, mode);
            return Some(out);
        }
        if arg.contains('$') {
            interpolate_at(cx, arg, span, path, mode, depth + 1)
        } else {
            Some(escape(arg))
        }
    };
    if let Some(value) = cx.vars.get(name).cloned() {
        let set = !value.is_empty();
        return match op {
            ":-" if !set => nested(cx, arg),
            ":+" if set => nested(cx, arg),
            "+" => nested(cx, arg),
            ":+" => Some(String::new()),
            ":?" if !set => {
                cx.error(
                    Code::ComposeInterpolation,
                    span,
                    path,
                    format!(
                        "the variable `{name}` is required (`${{{body}}}`) but its value is empty"
                    ),
                );
                None
            }
            _ => Some(escape(&value)),
        };
    }
    match (mode, op) {
        (Mode::Env, "" | "?" | ":?") => {
            if !op.is_empty() {
                cx.warn(
                    Code::ComposeInterpolation,
                    span,
                    path,
                    format!("`${{{body}}}` becomes `${{env://{name}}}`: Vamp does not check that `{name}` is set"),
                );
            }
            Some(format!("${{env://{name}}}"))
        }
        (_, ":-" | "-") => {
            let value = nested(cx, arg)?;
            cx.warn_help(
                Code::ComposeInterpolation,
                span,
                path,
                format!("Vamp has no default for a variable: `${{{body}}}` becomes its default `{arg}`"),
                format!("to read `{name}` from the environment at runtime, write `${{env://{name}}}` in the blueprint, or give the value at import (`--var {name}=VALUE`)"),
            );
            Some(value)
        }
        (_, ":+" | "+") => {
            cx.warn(
                Code::ComposeInterpolation,
                span,
                path,
                format!("`${{{body}}}` depends on whether `{name}` is set, which Vamp cannot express: it becomes the empty string (as if `{name}` were unset)"),
            );
            Some(String::new())
        }
        _ => {
            cx.error_help(
                Code::ComposeInterpolation,
                span,
                path,
                format!("`{path}` uses the Compose variable `{name}`, which has no value here: Vamp substitutes it only in environment values"),
                &format!("give it at import (`--var {name}=VALUE`) or write the value in the file"),
            );
            None
        }
    }
}
