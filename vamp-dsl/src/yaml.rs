//! YAML events to a tree with a position on every node.
//!
//! We read `saphyr-parser`'s pull events into our own [`Node`] tree, so that
//! the limits (input size, nesting depth, alias expansion budget), duplicate
//! key policy and scalar typing are ours. Building is iterative: no recursion
//! on input depth.

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};
use vamp_model::{Code, Diagnostic, Span};

/// Limits applied while reading YAML.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes a stream may hold, counting every alias expansion.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 128,
            max_nodes: 2_000_000,
        }
    }
}

impl Limits {
    /// `resource_limit` when an input of `len` bytes is over
    /// [`Limits::max_bytes`]; `split` says what to do about it.
    pub(crate) fn check_size(&self, len: usize, split: &str) -> Result<(), Diagnostic> {
        if len <= self.max_bytes {
            return Ok(());
        }
        Err(Diagnostic::error(
            Code::ResourceLimit,
            format!(
                "the input is {len} bytes; at most {} bytes are read: {split}",
                self.max_bytes
            ),
        )
        .at(Span::START))
    }
}

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub value: NodeValue,
    /// Where it starts.
    pub span: Span,
}

/// The content of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// A scalar; `plain` is false for quoted and block scalars.
    Scalar {
        /// The text.
        text: String,
        /// True for unquoted scalars (which may be null, numbers, booleans).
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with text keys, in source order, duplicates removed (last wins).
    Map(Vec<Entry>),
}

/// One `key: value` entry of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as text.
    pub key: String,
    /// Where the key was written.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

impl Node {
    /// True for a plain `~`, `null`, `Null`, `NULL` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar { text, plain: true } if is_null_text(text))
    }

    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            NodeValue::Map(e) => Some(e),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a sequence, or this node alone (where the DSL takes one
    /// value or a list of them).
    pub fn one_or_many(&self) -> &[Node] {
        self.as_seq().unwrap_or(std::slice::from_ref(self))
    }

    /// Looks up a key in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// A short description of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Scalar { .. } if self.is_null() => "nothing (null)",
            NodeValue::Scalar { .. } => "a scalar",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a map",
        }
    }

    /// The node as a JSON value, typing plain scalars with the YAML 1.2 core
    /// schema (null, booleans, integers, floats); quoted scalars stay text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            NodeValue::Scalar { text, plain: false } => Value::String(text.clone()),
            NodeValue::Scalar { text, plain: true } => plain_to_json(text),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn plain_to_json(text: &str) -> serde_json::Value {
    use serde_json::Value;
    if is_null_text(text) {
        return Value::Null;
    }
    match text {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric {
        if let Ok(i) = text.parse::<i64>() {
            return Value::from(i);
        }
        if let Ok(f) = text.parse::<f64>() {
            if let Some(n) = serde_json::Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text.to_owned())
}

/// One document of a stream, with the warnings its reading produced.
#[derive(Debug, Clone)]
pub struct Document {
    /// The root node (a null scalar for an empty document).
    pub root: Node,
    /// Warnings, e.g. duplicate keys.
    pub warnings: Vec<Diagnostic>,
}

fn span_of(s: &YSpan) -> Span {
    let m = s.start;
    Span::new(
        u32::try_from(m.index()).unwrap_or(u32::MAX),
        u32::try_from(m.line()).unwrap_or(u32::MAX),
        u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
    )
}

enum Frame {
    Seq(Vec<Node>, Span, usize),
    Map(Vec<Entry>, Option<(String, Span)>, Span, usize),
}

/// Reads every document of a YAML stream.
///
/// ```
/// use vamp_dsl::yaml::{read_stream, Limits};
/// let docs = read_stream("a: 1\n---\nb: [x, y]\n", Limits::default()).unwrap();
/// assert_eq!(docs.len(), 2);
/// assert_eq!(docs[1].root.get("b").unwrap().as_seq().unwrap().len(), 2);
/// ```
///
/// # Errors
/// `yaml_parsing` for syntax errors and non-standard tags, `resource_limit`
/// when a limit is exceeded.
pub fn read_stream(src: &str, limits: Limits) -> Result<Vec<Document>, Diagnostic> {
    // YAML 1.2 wants the closing `]`/`}` of a multi-line flow collection
    // indented deeper than its key; libyaml and SnakeYAML (which the original
    // Vamp used) accept it at the key's column. We accept it too: indent such
    // a lone closing line and read again (a bounded number of times).
    let mut owned: Option<String> = None;
    for _ in 0..16 {
        let text = owned.as_deref().unwrap_or(src);
        match read_stream_once(text, limits) {
            Err(e) if e.message.ends_with("invalid indentation") => {
                let Some(fixed) = e.span.and_then(|s| indent_closing_line(text, s.line)) else {
                    return Err(e);
                };
                owned = Some(fixed);
            }
            other => return other,
        }
    }
    read_stream_once(owned.as_deref().unwrap_or(src), limits)
}

/// Where a piece of a larger source starts: its character offset and its
/// 1-based line in the whole source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base {
    /// Characters before the piece.
    pub offset: u32,
    /// The line the piece starts on (1-based).
    pub line: u32,
}

impl Base {
    /// The start of a source.
    pub const START: Base = Base { offset: 0, line: 1 };

    fn shift(self, span: &mut Span) {
        span.offset = span.offset.saturating_add(self.offset);
        span.line = span.line.saturating_add(self.line - 1);
    }
}

/// Reads a piece of a larger source that starts at a line start: positions
/// are reported in the whole source (see [`read_stream`]).
///
/// # Errors
/// As [`read_stream`].
pub fn read_stream_at(src: &str, limits: Limits, base: Base) -> Result<Vec<Document>, Diagnostic> {
    if base == Base::START {
        return read_stream(src, limits);
    }
    let mut docs = read_stream(src, limits).map_err(|mut e| {
        if let Some(span) = e.span.as_mut() {
            base.shift(span);
        }
        e
    })?;
    for doc in &mut docs {
        for w in &mut doc.warnings {
            if let Some(span) = w.span.as_mut() {
                base.shift(span);
            }
        }
        let mut todo = vec![&mut doc.root];
        while let Some(node) = todo.pop() {
            base.shift(&mut node.span);
            match &mut node.value {
                NodeValue::Scalar { .. } => {}
                NodeValue::Seq(items) => todo.extend(items.iter_mut()),
                NodeValue::Map(entries) => {
                    for e in entries.iter_mut() {
                        base.shift(&mut e.key_span);
                        todo.push(&mut e.value);
                    }
                }
            }
        }
    }
    Ok(docs)
}

/// Splits a stream into at most `parts` pieces at document start markers
/// (`---` at the start of a line), of roughly equal size, with where each
/// starts. YAML forbids such a line inside a document's content, so the
/// pieces read exactly like the whole. Streams with directives (`%YAML`)
/// are not split.
pub fn split_documents(src: &str, parts: usize) -> Vec<(&str, Base)> {
    let whole = vec![(src, Base::START)];
    if parts < 2 || src.starts_with('%') || src.contains("\n%") {
        return whole;
    }
    let bytes = src.as_bytes();
    let mut cuts = vec![0usize];
    for k in 1..parts {
        let target = src.len() * k / parts;
        let mut at = target.max(*cuts.last().unwrap_or(&0) + 1);
        // the next line start at or after `at` that begins a document
        let found = loop {
            let Some(nl) = memchr::memchr(b'\n', bytes.get(at..).unwrap_or_default()) else {
                break None;
            };
            let line = at + nl + 1;
            let rest = &bytes[line..];
            if rest.starts_with(b"---")
                && matches!(rest.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
            {
                break Some(line);
            }
            at = line;
        };
        match found {
            Some(line) if line < src.len() => cuts.push(line),
            _ => break,
        }
    }
    if cuts.len() < 2 {
        return whole;
    }
    let mut out = Vec::with_capacity(cuts.len());
    let mut base = Base::START;
    for (i, &start) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).copied().unwrap_or(src.len());
        let piece = &src[start..end];
        out.push((piece, base));
        base = Base {
            offset: base
                .offset
                .saturating_add(u32::try_from(piece.chars().count()).unwrap_or(u32::MAX)),
            line: base.line.saturating_add(
                u32::try_from(memchr::memchr_iter(b'\n', piece.as_bytes()).count())
                    .unwrap_or(u32::MAX),
            ),
        };
    }
    out
}

/// Indents line `line` (1-based) by two spaces if it holds only a closing
/// flow bracket (and maybe a comma or comment).
fn indent_closing_line(src: &str, line: u32) -> Option<String> {
    let idx = usize::try_from(line).ok()?.checked_sub(1)?;
    let target = src.split_inclusive('\n').nth(idx)?;
    let trimmed = target.trim_start();
    if !(trimmed.starts_with(']') || trimmed.starts_with('}')) {
        return None;
    }
    let mut out = String::with_capacity(src.len() + 2);
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i == idx {
            out.push_str("  ");
        }
        out.push_str(l);
    }
    Some(out)
}

fn read_stream_once(src: &str, limits: Limits) -> Result<Vec<Document>, Diagnostic> {
    limits.check_size(src.len(), "split it into several files")?;
    let mut parser = Parser::new_from_str(src);
    let mut docs = Vec::new();
    let mut anchors: Vec<Option<(Node, usize)>> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut warnings = Vec::new();
    let mut root: Option<Node> = None;
    let mut total_nodes = 0usize;
    let mut doc_start = Span::START;

    loop {
        let (event, yspan) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                let m = e.marker();
                let span = Span::new(
                    u32::try_from(m.index()).unwrap_or(u32::MAX),
                    u32::try_from(m.line()).unwrap_or(u32::MAX),
                    u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
                );
                if e.info().contains("recursion limit") {
                    return Err(depth_limit(span, limits));
                }
                return Err(Diagnostic::error(
                    Code::YamlParsing,
                    format!("the YAML is not well formed: {}", e.info()),
                )
                .at(span));
            }
        };
        let span = span_of(&yspan);
        let (node, anchor): (Node, usize) = match event {
            Event::StreamStart | Event::Nothing => continue,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                doc_start = span;
                root = None;
                anchors.clear();
                continue;
            }
            Event::DocumentEnd => {
                let root = root.take().unwrap_or(Node {
                    value: NodeValue::Scalar {
                        text: String::new(),
                        plain: true,
                    },
                    span: doc_start,
                });
                docs.push(Document {
                    root,
                    warnings: std::mem::take(&mut warnings),
                });
                continue;
            }
            Event::Alias(id) => match anchors.get(id).and_then(Option::as_ref) {
                Some((node, count)) => {
                    total_nodes = total_nodes.saturating_add(*count);
                    if total_nodes > limits.max_nodes {
                        return Err(alias_limit(span, limits));
                    }
                    let mut n = node.clone();
                    n.span = span;
                    (n, 0)
                }
                None => {
                    return Err(Diagnostic::error(
                        Code::YamlParsing,
                        "this alias names no anchor defined before it",
                    )
                    .at(span))
                }
            },
            Event::Scalar(text, style, anchor, tag) => {
                check_tag(tag.as_deref(), span)?;
                total_nodes += 1;
                (
                    Node {
                        value: NodeValue::Scalar {
                            text: text.into_owned(),
                            plain: style == ScalarStyle::Plain,
                        },
                        span,
                    },
                    anchor,
                )
            }
            Event::SequenceStart(anchor, tag) => {
                check_tag(tag.as_deref(), span)?;
                push_frame(
                    &mut stack,
                    Frame::Seq(Vec::new(), span, anchor),
                    span,
                    limits,
                )?;
                total_nodes += 1;
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                check_tag(tag.as_deref(), span)?;
                push_frame(
                    &mut stack,
                    Frame::Map(Vec::new(), None, span, anchor),
                    span,
                    limits,
                )?;
                total_nodes += 1;
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, span, anchor)) => (
                    Node {
                        value: NodeValue::Seq(items),
                        span,
                    },
                    anchor,
                ),
                _ => return Err(unbalanced(span)),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(entries, _, span, anchor)) => (
                    Node {
                        value: NodeValue::Map(entries),
                        span,
                    },
                    anchor,
                ),
                _ => return Err(unbalanced(span)),
            },
        };
        if total_nodes > limits.max_nodes {
            return Err(alias_limit(span, limits));
        }
        if anchor > 0 {
            if anchors.len() <= anchor {
                anchors.resize(anchor + 1, None);
            }
            let count = count_nodes(&node);
            anchors[anchor] = Some((node.clone(), count));
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq(items, _, _)) => items.push(node),
            Some(Frame::Map(entries, pending, _, _)) => match pending.take() {
                None => {
                    let span = node.span;
                    *pending = Some((key_text(node), span));
                }
                Some((key, key_span)) => {
                    if let Some(existing) = entries.iter_mut().find(|e| e.key == key) {
                        warnings.push(
                            Diagnostic::warning(
                                Code::DuplicateKey,
                                format!(
                                    "the key `{key}` is written twice (lines {} and {}); the last value wins",
                                    existing.key_span.line, key_span.line
                                ),
                            )
                            .at(key_span),
                        );
                        existing.value = node;
                        existing.key_span = key_span;
                    } else {
                        entries.push(Entry {
                            key,
                            key_span,
                            value: node,
                        });
                    }
                }
            },
        }
    }
    Ok(docs)
}

fn push_frame(
    stack: &mut Vec<Frame>,
    frame: Frame,
    span: Span,
    limits: Limits,
) -> Result<(), Diagnostic> {
    if stack.len() >= limits.max_depth {
        return Err(depth_limit(span, limits));
    }
    stack.push(frame);
    Ok(())
}

fn depth_limit(span: Span, limits: Limits) -> Diagnostic {
    Diagnostic::error(
        Code::ResourceLimit,
        format!(
            "the document nests deeper than {} levels: flatten it",
            limits.max_depth
        ),
    )
    .at(span)
}

fn alias_limit(span: Span, limits: Limits) -> Diagnostic {
    Diagnostic::error(
        Code::ResourceLimit,
        format!(
            "the document expands to more than {} nodes (through aliases?): write it without repeated aliases",
            limits.max_nodes
        ),
    )
    .at(span)
}

fn unbalanced(span: Span) -> Diagnostic {
    Diagnostic::error(Code::YamlParsing, "unbalanced YAML structure").at(span)
}

fn check_tag(tag: Option<&saphyr_parser::Tag>, span: Span) -> Result<(), Diagnostic> {
    match tag {
        Some(t) if !t.is_yaml_core_schema() => Err(Diagnostic::error(
            Code::YamlParsing,
            format!("the YAML tag `{t}` is not supported: remove it"),
        )
        .at(span)),
        _ => Ok(()),
    }
}

fn count_nodes(node: &Node) -> usize {
    let mut count = 0;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.value {
            NodeValue::Scalar { .. } => {}
            NodeValue::Seq(items) => todo.extend(items),
            NodeValue::Map(entries) => todo.extend(entries.iter().map(|e| &e.value)),
        }
    }
    count
}

/// The text of a mapping key: scalars as written, flow sequences as
/// `[a, b]`, anything else in a compact JSON-like form.
fn key_text(node: Node) -> String {
    let Node { value, span } = node;
    match value {
        NodeValue::Scalar { text, .. } => text,
        NodeValue::Seq(items) => {
            let parts: Vec<String> = items.into_iter().map(key_text).collect();
            format!("[{}]", parts.join(", "))
        }
        map @ NodeValue::Map(_) => Node { value: map, span }.to_json().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Node {
        read_stream(src, Limits::default()).unwrap().remove(0).root
    }

    #[test]
    fn spans_are_one_based() {
        let n = one("a:\n  b: c\n");
        let b = n.get("a").unwrap().get("b").unwrap();
        assert_eq!((b.span.line, b.span.column), (2, 6));
    }

    #[test]
    fn flow_sequence_keys_join() {
        let n = one("[external/1/2]: x\n");
        assert_eq!(n.as_map().unwrap()[0].key, "[external/1/2]");
    }

    #[test]
    fn duplicate_keys_warn_and_last_wins() {
        let docs = read_stream("a: 1\na: 2\n", Limits::default()).unwrap();
        assert_eq!(docs[0].root.get("a").unwrap().as_str(), Some("2"));
        assert_eq!(docs[0].warnings[0].code, Code::DuplicateKey);
    }

    #[test]
    fn custom_tags_are_rejected() {
        let e = read_stream("a: !ios x\n", Limits::default()).unwrap_err();
        assert_eq!(e.code, Code::YamlParsing);
        assert_eq!(e.span.unwrap().line, 1);
    }

    #[test]
    fn closing_bracket_at_key_column_is_accepted() {
        let n = one("a:\n  v: [\n    x,\n    y\n  ]\n  w: z\n");
        assert_eq!(
            n.get("a")
                .unwrap()
                .get("v")
                .unwrap()
                .as_seq()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(n.get("a").unwrap().get("w").unwrap().span.line, 6);
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = read_stream(&src, Limits::default()).unwrap_err();
        assert_eq!(e.code, Code::ResourceLimit);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let src = "[".repeat(100_000);
        let e = read_stream(&src, Limits::default()).unwrap_err();
        assert_eq!(e.code, Code::ResourceLimit);
    }

    #[test]
    fn plain_scalars_are_typed_for_free_form_values() {
        let n = one("a: 1\nb: '1'\nc: true\nd: yes\ne: 1.5\nf: ~\n");
        let j = n.to_json();
        assert_eq!(j["a"], 1);
        assert_eq!(j["b"], "1");
        assert_eq!(j["c"], true);
        assert_eq!(j["d"], "yes");
        assert_eq!(j["e"], 1.5);
        assert!(j["f"].is_null());
    }
}
