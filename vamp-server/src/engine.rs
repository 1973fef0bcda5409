//! The one place the server calls the workspace's DSL reader and
//! deployment engine (reading documents, resolving, merging, removing,
//! writing documents back as text). When those move between crates, only
//! the paths here change.

use serde_json::Value;
use vamp_deploy::resolve::blueprint_of;
pub use vamp_deploy::resolve::Runtime;
use vamp_deploy::store::{Revision, Store as ResolverStore, StoreError as ResolverError};
use vamp_dsl::yaml::{read_stream, Limits, Node, NodeValue};
use vamp_dsl::{read, read_bytes, ReadOptions};
use vamp_model::{Artifact, Blueprint, Code, Deployment, Diagnostic, Document, Kind, Span};

/// One document of a request body.
#[derive(Debug, Clone)]
pub struct Input {
    /// `kind` as written.
    pub kind: Option<String>,
    /// `name` as written.
    pub name: Option<String>,
    /// The document as JSON.
    pub json: Value,
    /// Where it starts.
    pub span: Span,
    /// What the DSL reader made of it, for DSL kinds (filled by [`read_inputs`]).
    pub read: Option<Result<Document, Diagnostic>>,
}

/// Reads a request body into documents: YAML or JSON, several documents
/// separated by `---`, top-level lists flattened. Every document whose kind
/// is a DSL kind (written, or `dsl_kind` when given) is also read by the
/// DSL reader, with positions in the whole body.
///
/// # Errors
/// The body is not UTF-8, is too large or deep, or is not YAML.
pub fn read_inputs(bytes: &[u8], dsl_kind: Option<Kind>) -> Result<Vec<Input>, Diagnostic> {
    let Ok(src) = std::str::from_utf8(bytes) else {
        // The DSL reader's own UTF-8 (and size) diagnostic.
        return Err(first_error(
            read_bytes(bytes, ReadOptions::default()).diagnostics,
        ));
    };
    let limits = Limits::default();
    let docs = read_stream(src, limits)?;
    let mut inputs = Vec::new();
    let mut flattened = false;
    for d in &docs {
        if d.root.is_null() && d.root.as_str() == Some("") {
            continue;
        }
        match &d.root.value {
            NodeValue::Seq(items) => {
                flattened = true;
                inputs.extend(items.iter().map(input_of));
            }
            _ => inputs.push(input_of(&d.root)),
        }
    }
    let wants_dsl = |i: &Input| match &i.kind {
        Some(k) => Kind::parse(k).is_some_and(|k| k != Kind::Deployment),
        None => dsl_kind.is_some(),
    };
    if !inputs.iter().any(wants_dsl) {
        return Ok(inputs);
    }
    if flattened || inputs.iter().any(|i| !i.json.is_object()) {
        // Positions inside list items are not kept: read each item alone.
        for i in inputs.iter_mut().filter(|i| wants_dsl(i)) {
            let text = serde_json::to_string(&i.json).unwrap_or_default();
            let kind = dsl_kind.or_else(|| i.kind.as_deref().and_then(Kind::parse));
            i.read = Some(read_one(&text, kind).map_err(|mut d| {
                d.span = Some(i.span);
                d
            }));
        }
        return Ok(inputs);
    }
    let out = read(
        src,
        ReadOptions {
            kind: dsl_kind,
            limits,
            parallel: true,
        },
    );
    let starts: Vec<u32> = inputs.iter().map(|i| i.span.offset).collect();
    let owner = |d: &Diagnostic| {
        let at = d.span.map_or(0, |s| s.offset);
        starts.iter().rposition(|s| *s <= at).unwrap_or(0)
    };
    let mut errors: Vec<Option<Diagnostic>> = vec![None; inputs.len()];
    for d in out.diagnostics.iter().filter(|d| d.is_error()) {
        let i = owner(d);
        if errors[i].is_none() {
            errors[i] = Some(d.clone());
        }
    }
    let mut documents = out.documents.into_iter();
    for (i, input) in inputs.iter_mut().enumerate() {
        let dsl = wants_dsl(input);
        let result = match errors[i].take() {
            Some(e) => Some(Err(e)),
            // Documents that read cleanly come out in order.
            None if dsl || input.kind.is_none() => documents.next().map(Ok),
            None => None,
        };
        if dsl {
            input.read = result;
        }
    }
    Ok(inputs)
}

fn input_of(node: &Node) -> Input {
    let text = |k: &str| node.get(k).and_then(Node::as_str).map(str::to_owned);
    Input {
        kind: text("kind"),
        name: text("name"),
        json: node.to_json(),
        span: node.span,
        read: None,
    }
}

fn first_error(diagnostics: Vec<Diagnostic>) -> Diagnostic {
    diagnostics
        .into_iter()
        .find(Diagnostic::is_error)
        .unwrap_or_else(|| Diagnostic::error(Code::YamlParsing, "the body cannot be read"))
}

/// Reads one document of `kind` from text.
///
/// # Errors
/// The first error of the DSL reader.
pub fn read_one(text: &str, kind: Option<Kind>) -> Result<Document, Diagnostic> {
    let out = read(
        text,
        ReadOptions {
            kind,
            ..ReadOptions::default()
        },
    );
    if let Some(e) = out.first_error() {
        return Err(e.clone());
    }
    out.documents
        .into_iter()
        .next()
        .ok_or_else(|| Diagnostic::error(Code::MissingPathValue, "the body holds no document"))
}

/// A document as the text the store keeps (DSL YAML that reads back to it).
pub fn to_text(doc: &Document) -> String {
    vamp_dsl::write::to_yaml(doc)
}

/// A deployment read back from its canonical JSON.
///
/// # Errors
/// When the JSON is not a canonical deployment.
pub fn deployment_from_json(json: &Value) -> Result<Artifact<Deployment>, Diagnostic> {
    Deployment::from_json(json)
}

// Merging a blueprint into a deployment (with or without the values only a
// runtime knows) and removing one from it.
pub use vamp_deploy::lifecycle::{merge, merge_with, remove};

/// A deployment as a blueprint with everything inline.
pub fn as_blueprint(deployment: &Artifact<Deployment>) -> Artifact<Blueprint> {
    blueprint_of(deployment)
}

/// Fills unwritten route weights so that they total 100.
///
/// # Errors
/// When the written weights cannot total 100.
pub fn fill_weights(
    routes: &mut vamp_model::Map<vamp_model::OrRef<vamp_model::Route>>,
) -> Result<(), String> {
    vamp_deploy::resolve::fill_weights(routes)
}

/// A read-only resolver store over a lookup function.
pub struct Lookup<'a>(pub &'a (dyn Fn(Kind, &str) -> Option<Document> + Sync));

impl ResolverStore for Lookup<'_> {
    fn get(&self, kind: Kind, name: &str) -> Result<Option<Document>, ResolverError> {
        Ok((self.0)(kind, name))
    }
    fn put(&mut self, document: Document) -> Result<u32, ResolverError> {
        Err(ResolverError::Unsupported {
            kind: document.kind(),
        })
    }
    fn delete(&mut self, kind: Kind, _: &str) -> Result<bool, ResolverError> {
        Err(ResolverError::Unsupported { kind })
    }
    fn list(&self, _: Kind) -> Result<Vec<String>, ResolverError> {
        Ok(Vec::new())
    }
    fn history(&self, _: Kind, _: &str) -> Result<Vec<Revision>, ResolverError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_positions_and_kinds() {
        let body = b"kind: breed\nname: a\ndeployable: x/a:1\n---\nkind: template\nname: t\nfoo: 1\n---\nkind: breeds\nname: b\ndeployable: x/b:1\nbogus: 1\n";
        let inputs = read_inputs(body, None).unwrap();
        assert_eq!(inputs.len(), 3);
        assert!(matches!(inputs[0].read, Some(Ok(Document::Breed(_)))));
        assert!(inputs[1].read.is_none());
        assert_eq!(inputs[1].json["foo"], 1);
        let err = inputs[2].read.clone().unwrap().unwrap_err();
        assert_eq!(err.code, Code::UnexpectedElement);
        assert_eq!(err.span.unwrap().line, 12);
    }

    #[test]
    fn lists_are_flattened() {
        let body = br#"[{"kind":"scale","name":"s","cpu":1,"memory":"1GB","instances":1},{"kind":"template","name":"t"}]"#;
        let inputs = read_inputs(body, None).unwrap();
        assert_eq!(inputs.len(), 2);
        assert!(matches!(inputs[0].read, Some(Ok(Document::Scale(_)))));
        assert_eq!(inputs[1].name.as_deref(), Some("t"));
    }
}
