//! Shared reading machinery: collected diagnostics with phases, and a
//! field reader that reports keys nobody consumed.

use vamp_model::{Code, Diagnostic, Span};

use crate::yaml::{Entry, Node, NodeValue};

/// Reporting phases of the contract: the first error reported is the one
/// of the lowest phase, then the first in source order.
pub(crate) const SHAPE: u8 = 2;
pub(crate) const DEPS: u8 = 3;
pub(crate) const TRAITS: u8 = 4;
pub(crate) const GATEWAYS: u8 = 5;
pub(crate) const HEALTH: u8 = 6;

/// Collects diagnostics while a document is converted.
#[derive(Default)]
pub(crate) struct Ctx {
    pub(crate) diags: Vec<(u8, Diagnostic)>,
}

impl Ctx {
    /// Reports an error; the caller may add its help to what is returned.
    pub(crate) fn report(
        &mut self,
        phase: u8,
        code: Code,
        span: Span,
        path: &str,
        message: String,
    ) -> &mut Diagnostic {
        let i = self.diags.len();
        self.diags.push((
            phase,
            Diagnostic::error(code, message).at(span).with_path(path),
        ));
        &mut self.diags[i].1
    }

    /// Reports a value of the wrong type or range (`unexpected_type`, in
    /// the shape phase) and gives no value.
    pub(crate) fn bad_value<T>(&mut self, span: Span, path: &str, message: String) -> Option<T> {
        self.report(SHAPE, Code::UnexpectedType, span, path, message);
        None
    }

    pub(crate) fn warn(&mut self, phase: u8, d: Diagnostic) {
        self.diags.push((phase, d));
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diags.iter().any(|(_, d)| d.is_error())
    }

    /// Errors first by phase then by position; warnings after errors.
    pub(crate) fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.diags
            .sort_by_key(|(phase, d)| (!d.is_error(), *phase, d.span.map_or(0, |s| s.offset)));
        self.diags.into_iter().map(|(_, d)| d).collect()
    }

    /// `expected a map` style type error.
    pub(crate) fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        self.report(
            SHAPE,
            Code::UnexpectedType,
            node.span,
            path,
            format!(
                "`{}` should be {expected}, but is {}",
                display_path(path),
                node.type_name()
            ),
        );
    }
}

pub(crate) fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "the document"
    } else {
        path
    }
}

/// `path.key` (or `key` at the top). Built without the formatting machinery:
/// paths are made for every field read, so this is on the hot path.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        return key.to_owned();
    }
    let mut s = String::with_capacity(path.len() + 1 + key.len());
    s.push_str(path);
    s.push('.');
    s.push_str(key);
    s
}

/// `path[i]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    let mut s = String::with_capacity(path.len() + 6);
    s.push_str(path);
    s.push('[');
    s.push_str(itoa(i).as_str());
    s.push(']');
    s
}

fn itoa(i: usize) -> String {
    i.to_string()
}

/// Reads the fields of one mapping, remembering which keys were consumed.
pub(crate) struct Fields<'a> {
    pub(crate) node: &'a Node,
    entries: &'a [Entry],
    /// Consumed entries, one bit each (mappings with more than 128 keys
    /// spill into `used_more`).
    used: u128,
    used_more: Vec<bool>,
    /// The keys asked for, for "did you mean" hints.
    asked: [&'static str; 24],
    n_asked: usize,
    pub(crate) path: String,
}

impl<'a> Fields<'a> {
    /// Fields of a mapping node, or an `unexpected_type` error.
    pub(crate) fn of(ctx: &mut Ctx, node: &'a Node, path: &str, what: &str) -> Option<Fields<'a>> {
        match &node.value {
            NodeValue::Map(entries) => Some(Fields {
                node,
                entries,
                used: 0,
                used_more: if entries.len() > 128 {
                    vec![false; entries.len() - 128]
                } else {
                    Vec::new()
                },
                asked: [""; 24],
                n_asked: 0,
                path: path.to_owned(),
            }),
            _ => {
                ctx.wrong_type(node, path, what);
                None
            }
        }
    }

    /// Fields of a mapping node that is looked *into* (`threshold.upper`): a
    /// scalar there is `unexpected_inner_element`.
    pub(crate) fn inner(ctx: &mut Ctx, node: &'a Node, path: &str) -> Option<Fields<'a>> {
        if node.as_map().is_some() {
            return Fields::of(ctx, node, path, "a map");
        }
        ctx.report(
            SHAPE,
            Code::UnexpectedInnerElement,
            node.span,
            path,
            format!(
                "`{}` should be a map with its own keys, but is {}",
                display_path(path),
                node.type_name()
            ),
        );
        None
    }

    fn mark(&mut self, i: usize) {
        if i < 128 {
            self.used |= 1 << i;
        } else if let Some(u) = self.used_more.get_mut(i - 128) {
            *u = true;
        }
    }

    fn is_used(&self, i: usize) -> bool {
        if i < 128 {
            self.used & (1 << i) != 0
        } else {
            self.used_more.get(i - 128).copied().unwrap_or(false)
        }
    }

    pub(crate) fn span(&self) -> Span {
        self.node.span
    }

    pub(crate) fn get(&mut self, key: &'static str) -> Option<&'a Node> {
        if self.n_asked < self.asked.len() {
            self.asked[self.n_asked] = key;
            self.n_asked += 1;
        }
        let idx = self.entries.iter().position(|e| e.key == key)?;
        self.mark(idx);
        Some(&self.entries[idx].value)
    }

    /// The value of `key` unless it is null.
    pub(crate) fn get_some(&mut self, key: &'static str) -> Option<&'a Node> {
        self.get(key).filter(|n| !n.is_null())
    }

    /// The entries of the map under `key` and its path; no entries when
    /// the key is absent or null, or is not a map (reported as not being
    /// `expected`).
    pub(crate) fn map_of(
        &mut self,
        ctx: &mut Ctx,
        key: &'static str,
        expected: &str,
    ) -> (String, &'a [Entry]) {
        let path = join(&self.path, key);
        let entries = match self.get_some(key) {
            None => &[][..],
            Some(node) => node.as_map().unwrap_or_else(|| {
                ctx.wrong_type(node, &path, expected);
                &[]
            }),
        };
        (path, entries)
    }

    /// `read` applied to the value of `key` (with the key's path) unless it
    /// is absent or null.
    pub(crate) fn read_with<T>(
        &mut self,
        ctx: &mut Ctx,
        key: &'static str,
        read: impl FnOnce(&mut Ctx, &'a Node, &str) -> T,
    ) -> Option<T> {
        let node = self.get_some(key)?;
        Some(read(ctx, node, &join(&self.path, key)))
    }

    /// Where `key` itself was written.
    pub(crate) fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.key_span)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.key == key)
    }

    /// Marks keys as read-and-ignored.
    pub(crate) fn ignore(&mut self, keys: &[&'static str]) {
        for k in keys {
            let _ = self.get(k);
        }
    }

    /// Every entry not consumed yet (and marks them consumed).
    pub(crate) fn rest(&mut self) -> Vec<&'a Entry> {
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if !self.is_used(i) {
                self.mark(i);
                out.push(e);
            }
        }
        out
    }

    /// Reports every key nobody consumed as `unexpected_element`.
    pub(crate) fn finish(self, ctx: &mut Ctx) {
        for (i, e) in self.entries.iter().enumerate() {
            if self.is_used(i) {
                continue;
            }
            let best = nearest(&e.key, &self.asked[..self.n_asked], 0.8);
            let path = join(&self.path, &e.key);
            let message = format!("`{}` is not a key Vamp understands here: remove it", path);
            ctx.report(SHAPE, Code::UnexpectedElement, e.key_span, &path, message)
                .help = best.map(|k| format!("did you mean `{k}`?"));
        }
    }
}

/// The candidate most like `key` (Jaro-Winkler similarity above
/// `threshold`), for "did you mean" hints.
pub(crate) fn nearest(
    key: &str,
    candidates: &[&'static str],
    threshold: f64,
) -> Option<&'static str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(c, key), *c))
        .filter(|(score, _)| *score > threshold)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The text of a scalar node; a map or list is `unexpected_type`. Null gives
/// `Some(None)`.
pub(crate) fn scalar<'n>(ctx: &mut Ctx, node: &'n Node, path: &str) -> Option<Option<&'n str>> {
    if node.is_null() {
        return Some(None);
    }
    match node.as_str() {
        Some(t) => Some(Some(t)),
        None => {
            ctx.wrong_type(node, path, "a single value");
            None
        }
    }
}

/// The text of a scalar that must be present.
pub(crate) fn text(ctx: &mut Ctx, node: &Node, path: &str) -> Option<String> {
    match scalar(ctx, node, path)? {
        Some(t) => Some(t.to_owned()),
        None => {
            ctx.report(
                SHAPE,
                Code::MissingPathValue,
                node.span,
                path,
                format!("`{}` needs a value", display_path(path)),
            );
            None
        }
    }
}

/// A required key: reports `missing_path_value` at the mapping.
pub(crate) fn required<'a>(
    ctx: &mut Ctx,
    f: &mut Fields<'a>,
    key: &'static str,
) -> Option<&'a Node> {
    let n = f.get_some(key);
    if n.is_none() {
        let path = join(&f.path, key);
        ctx.report(
            SHAPE,
            Code::MissingPathValue,
            f.span(),
            &path,
            format!("`{path}` is missing: add it"),
        );
    }
    n
}
