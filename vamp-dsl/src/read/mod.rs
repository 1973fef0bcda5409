//! YAML documents to typed artifacts.

mod blueprint;
mod breed;
pub(crate) mod ctx;
mod gateway;
mod rollout;
mod sla;

use vamp_model::{Artifact, Code, ConditionDef, Diagnostic, Document, Kind, Span, Workflow};

use self::breed::{
    read_arguments, read_dialects, read_env, read_metadata, read_name, read_scale_ref,
};
use self::ctx::{join, required, text, Ctx, Fields, SHAPE};
use crate::yaml::{read_stream, read_stream_at, split_documents, Base, Limits, Node};

/// What reading a source produced: the documents that read cleanly and every
/// diagnostic (errors and warnings) of every document.
#[derive(Debug, Clone, Default)]
pub struct Outcome<T = Vec<Document>> {
    /// Documents without errors, in source order.
    pub documents: T,
    /// Diagnostics: per document, errors first in the contract's phase
    /// order, then warnings.
    pub diagnostics: Vec<Diagnostic>,
}

impl<T> Outcome<T> {
    /// The documents, or the error the contract reports first (warnings
    /// are dropped).
    ///
    /// ```
    /// use vamp_dsl::{read, ReadOptions};
    /// let docs = read("name: sava\nclusters:\n  sava: sava:1.0\n", ReadOptions::default())
    ///     .into_result()
    ///     .unwrap();
    /// assert_eq!(docs.len(), 1);
    /// let err = read("a: [", ReadOptions::default()).into_result().unwrap_err();
    /// assert_eq!(err.code, vamp_model::Code::YamlParsing);
    /// ```
    pub fn into_result(self) -> Result<T, Diagnostic> {
        match self.diagnostics.into_iter().find(Diagnostic::is_error) {
            Some(first) => Err(first),
            None => Ok(self.documents),
        }
    }

    /// The error the contract reports first, if any.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.diagnostics.iter().find(|d| d.is_error())
    }

    /// Every error.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

/// Options for reading.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// The kind every document must be; None infers it from `kind:` or
    /// the document's keys.
    pub kind: Option<Kind>,
    /// Resource limits.
    pub limits: Limits,
    /// Read large streams (256 KiB and more, several documents) on several
    /// threads, one piece of documents each. The result is the same as
    /// reading on one thread.
    pub parallel: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            kind: None,
            limits: Limits::default(),
            parallel: true,
        }
    }
}

/// Streams at least this large are read on several threads.
const PARALLEL_FROM: usize = 256 * 1024;

/// Reads raw bytes (checking UTF-8) as a stream of documents.
///
/// ```
/// use vamp_dsl::{read_bytes, ReadOptions};
/// let out = read_bytes(b"name: small\ncpu: 1\nmemory: 1GB\n", ReadOptions { kind: Some(vamp_model::Kind::Scale), ..Default::default() });
/// assert!(out.first_error().is_none());
/// let bad = read_bytes(b"name: \xff\n", ReadOptions::default());
/// assert_eq!(bad.first_error().unwrap().code, vamp_model::Code::YamlParsing);
/// ```
pub fn read_bytes(bytes: &[u8], options: ReadOptions) -> Outcome {
    match text_of(bytes, &options.limits, "split it into several files") {
        Ok(src) => read(src, options),
        Err(d) => failed(d),
    }
}

/// The bytes as text: within the size limit (`split` says what to do
/// otherwise) and valid UTF-8 (else `yaml_parsing` at the first bad byte).
pub(crate) fn text_of<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    split: &str,
) -> Result<&'a str, Diagnostic> {
    limits.check_size(bytes.len(), split)?;
    std::str::from_utf8(bytes).map_err(|e| {
        let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(good.get(line_start..).unwrap_or_default())
            .chars()
            .count()
            + 1;
        let offset = String::from_utf8_lossy(good).chars().count();
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Diagnostic::error(
            Code::YamlParsing,
            "the file is not valid UTF-8: save it as UTF-8 text",
        )
        .at(Span::new(n(offset), n(line), n(column)))
    })
}

fn failed(d: Diagnostic) -> Outcome {
    Outcome {
        documents: Vec::new(),
        diagnostics: vec![d],
    }
}

/// Reads a YAML stream (one or more `---` documents) into artifacts.
///
/// ```
/// use vamp_dsl::{read, ReadOptions};
/// let out = read("kind: breed\nname: monarch\ndeployable: magneticio/monarch:latest\n", ReadOptions::default());
/// assert_eq!(out.documents[0].name(), "monarch");
/// ```
pub fn read(src: &str, options: ReadOptions) -> Outcome {
    if src.len() > options.limits.max_bytes {
        // read_stream reports it, with the limit in the message
        return match read_stream(src, options.limits) {
            Err(e) => failed(e),
            Ok(_) => Outcome::default(),
        };
    }
    let threads = if options.parallel && src.len() >= PARALLEL_FROM {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    } else {
        1
    };
    let pieces = split_documents(src, threads);
    let results: Vec<Result<Outcome, Diagnostic>> = if pieces.len() < 2 {
        vec![read_piece(src, Base::START, options)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = pieces
                .iter()
                .map(|&(piece, base)| scope.spawn(move || read_piece(piece, base, options)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut out = <Outcome>::default();
    for r in results {
        match r {
            // A YAML error ends the stream, as on one thread.
            Err(e) => return failed(e),
            Ok(o) => {
                out.documents.extend(o.documents);
                out.diagnostics.extend(o.diagnostics);
            }
        }
    }
    if out.documents.is_empty() && out.diagnostics.is_empty() {
        out.diagnostics.push(
            Diagnostic::error(Code::MissingPathValue, "the input holds no document")
                .at(Span::START),
        );
    }
    out
}

/// Reads one piece of documents; `Err` is a stream-level (YAML) failure.
fn read_piece(src: &str, base: Base, options: ReadOptions) -> Result<Outcome, Diagnostic> {
    let docs = read_stream_at(src, options.limits, base)?;
    let mut out = <Outcome>::default();
    for doc in docs {
        if doc.root.is_null() && doc.root.as_str() == Some("") {
            continue;
        }
        let mut ctx = Ctx::default();
        for w in doc.warnings {
            ctx.warn(SHAPE, w);
        }
        let value = read_document(&mut ctx, &doc.root, options.kind);
        let has_errors = ctx.has_errors();
        out.diagnostics.extend(ctx.into_sorted());
        if let (Some(v), false) = (value, has_errors) {
            out.documents.push(v);
        }
    }
    Ok(out)
}

fn infer_kind(root: &Node) -> Option<Kind> {
    let has = |k: &str| root.get(k).is_some();
    if has("clusters") {
        Some(Kind::Blueprint)
    } else if has("deployable") {
        Some(Kind::Breed)
    } else if has("routes") || has("port") {
        Some(Kind::Gateway)
    } else if has("cpu") || has("memory") || has("instances") {
        Some(Kind::Scale)
    } else if has("threshold") || has("window") {
        Some(Kind::Sla)
    } else if has("steps") {
        Some(Kind::Rollout)
    } else if has("schedule") {
        Some(Kind::Workflow)
    } else if has("condition") && !has("path") {
        Some(Kind::Condition)
    } else if has("path") {
        Some(Kind::Rewrite)
    } else if has("minimum") || has("to_all") || has("to_one") {
        Some(Kind::Escalation)
    } else {
        None
    }
}

fn read_document(ctx: &mut Ctx, root: &Node, expected: Option<Kind>) -> Option<Document> {
    if root.as_map().is_none() {
        return ctx.bad_value(
            root.span,
            "",
            format!(
                "a document must be a map of keys to values, but this is {}",
                root.type_name()
            ),
        );
    }
    let written = root.get("kind").filter(|n| !n.is_null());
    let written_kind = match written {
        Some(n) => match n.as_str().and_then(Kind::parse) {
            Some(k) => Some(k),
            None => {
                ctx.report(1, Code::InconsistentArtifactKind, n.span, "kind", format!("`kind: {}` is not a kind of artifact: use breed, blueprint, gateway, condition, rewrite, scale, sla, escalation, workflow or rollout", n.as_str().unwrap_or("?")));
                return None;
            }
        },
        None => None,
    };
    let kind = match (expected, written_kind) {
        (Some(e), Some(w)) if e != w => {
            let span = written.map_or(root.span, |n| n.span);
            ctx.report(
                1,
                Code::InconsistentArtifactKind,
                span,
                "kind",
                format!("the document says `kind: {w}`, but a {e} is being read"),
            );
            return None;
        }
        (Some(e), _) => e,
        (None, Some(w)) => w,
        (None, None) => match infer_kind(root) {
            Some(k) => k,
            None => {
                ctx.report(SHAPE, Code::MissingPathValue, root.span, "kind", "cannot tell what kind of artifact this is: add `kind: breed` (or blueprint, gateway, ...)".to_owned());
                return None;
            }
        },
    };
    if kind == Kind::Breed {
        let breed = self::breed::read_breed(ctx, root, "")?;
        self::blueprint::check_breed_recursion(ctx, vec![&breed], "dependencies");
        return Some(Document::Breed(breed));
    }
    let mut f = Fields::of(ctx, root, "", "a map")?;
    f.ignore(&["kind", "lookup_name"]);
    let name = if kind == Kind::Gateway {
        required(ctx, &mut f, "name").and_then(|n| {
            let t = text(ctx, n, "name")?;
            Some((t, n.span))
        })
    } else {
        read_name(ctx, &mut f).map(|n| (n, Span::START))
    };
    let metadata = read_metadata(ctx, &mut f);
    let doc = match kind {
        Kind::Blueprint => self::blueprint::read_blueprint_fields(ctx, &mut f)
            .map(|b| Document::Blueprint(named(&name, metadata, b))),
        Kind::Gateway => {
            let (n, span) = name.clone().unwrap_or_default();
            self::gateway::read_gateway_doc(ctx, &mut f, &n, span)
                .map(|g| Document::Gateway(named(&name, metadata, g)))
        }
        Kind::Scale => self::breed::read_scale_fields(ctx, &mut f)
            .map(|s| Document::Scale(named(&name, metadata, s))),
        Kind::Sla => self::sla::read_sla_fields(ctx, &mut f)
            .map(|s| Document::Sla(named(&name, metadata, s))),
        Kind::Escalation => self::sla::read_escalation_fields(ctx, &mut f)
            .map(|e| Document::Escalation(named(&name, metadata, e))),
        Kind::Rewrite => self::gateway::read_rewrite_fields(ctx, &mut f)
            .map(|r| Document::Rewrite(named(&name, metadata, r))),
        Kind::Condition => {
            let node = if f.has("definition") {
                f.get_some("definition")
            } else {
                required(ctx, &mut f, "condition")
            };
            node.and_then(|n| text(ctx, n, "condition"))
                .map(|definition| {
                    Document::Condition(named(
                        &name,
                        metadata,
                        ConditionDef {
                            definition: definition.into(),
                        },
                    ))
                })
        }
        Kind::Workflow => {
            read_workflow(ctx, &mut f).map(|w| Document::Workflow(named(&name, metadata, w)))
        }
        Kind::Rollout => self::rollout::read_rollout_fields(ctx, &mut f)
            .map(|r| Document::Rollout(named(&name, metadata, r))),
        Kind::Breed | Kind::Deployment => {
            ctx.report(SHAPE, Code::InconsistentArtifactKind, root.span, "kind", "a deployment is made by `vamp resolve` or `vamp deployment merge`, not read from the DSL".to_owned());
            None
        }
    };
    f.finish(ctx);
    name.as_ref()?;
    doc
}

fn named<T: vamp_model::Spec>(
    name: &Option<(String, Span)>,
    metadata: vamp_model::Map<serde_json::Value>,
    spec: T,
) -> Artifact<T> {
    let mut a = Artifact::new(name.as_ref().map(|n| n.0.clone()).unwrap_or_default(), spec);
    a.metadata = metadata;
    a
}

fn read_workflow(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<Workflow> {
    let path = f.path.clone();
    let breed = required(ctx, f, "breed").and_then(|n| {
        match self::breed::ref_or_map(ctx, n, &join(&path, "breed"), "breed") {
            self::breed::RefOrMap::Ref(r) => Some(vamp_model::OrRef::Reference(r)),
            self::breed::RefOrMap::Map(m) => self::breed::read_breed(ctx, m, &join(&path, "breed"))
                .map(vamp_model::OrRef::Inline),
            self::breed::RefOrMap::Failed => None,
        }
    });
    let schedule = f
        .get_some("schedule")
        .map_or(serde_json::Value::String("daemon".into()), |n| {
            match n.as_str() {
                Some(t) => serde_json::Value::String(t.to_owned()),
                None => n.to_json(),
            }
        });
    let scale = f
        .get_some("scale")
        .and_then(|n| read_scale_ref(ctx, n, &join(&path, "scale")));
    let environment_variables = read_env(ctx, f, false);
    let arguments = read_arguments(ctx, f);
    let dialects = read_dialects(ctx, f);
    Some(Workflow {
        breed: breed?,
        schedule,
        scale,
        environment_variables,
        arguments,
        dialects,
    })
}
