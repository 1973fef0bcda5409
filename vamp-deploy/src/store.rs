//! Artifact stores: put, get, list and delete artifacts by kind and name,
//! keeping every earlier revision.
//!
//! [`Store`] is the interface the resolver reads through; [`MemoryStore`]
//! keeps everything in memory; [`DirectoryStore`](crate::directory::DirectoryStore)
//! keeps a folder of YAML files. Revisions are numbered from 1 per artifact; a put always makes a
//! new revision, a delete removes the artifact but keeps its history (so a
//! later put continues the numbering), as the original Vamp's key-value
//! store did.
//!
//! ```
//! use vamp_deploy::store::{MemoryStore, Store};
//! use vamp_model::{Artifact, Document, Kind, Scale};
//! let mut store = MemoryStore::default();
//! let small = |cpu| Document::Scale(Artifact::new("small", Scale { cpu, memory: 512.0, instances: 1 }));
//! assert_eq!(store.put(small(1.0)).unwrap(), 1);
//! assert_eq!(store.put(small(2.0)).unwrap(), 2);
//! assert_eq!(store.list(Kind::Scale).unwrap(), vec!["small".to_owned()]);
//! let changes = store.diff(Kind::Scale, "small", 1, 2).unwrap();
//! assert_eq!(changes[0].path, "/cpu");
//! ```

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use serde::Serialize;

use vamp_model::artifact::{Document, Kind, Value};
use vamp_model::diagnostic::{Code, Diagnostic};

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage could not be read or written.
    #[error("cannot access `{path}`: {message}")]
    Io {
        /// The file or folder.
        path: String,
        /// What the system said.
        message: String,
    },
    /// A stored file does not hold valid artifacts.
    #[error("{file}:{}: {diagnostic}", .diagnostic.span.map_or(0, |s| s.line))]
    Broken {
        /// The file, relative to the store's root.
        file: String,
        /// The first problem, positioned in that file.
        diagnostic: Diagnostic,
    },
    /// The artifact has no such revision.
    #[error("the {kind} `{name}` has no revision {revision}")]
    NoRevision {
        /// Kind.
        kind: Kind,
        /// Name.
        name: String,
        /// The revision asked for.
        revision: u32,
    },
    /// This store cannot hold artifacts of this kind.
    #[error("this store does not hold {kind} artifacts")]
    Unsupported {
        /// Kind.
        kind: Kind,
    },
}

impl StoreError {
    /// The error as a diagnostic with a stable code (`io` for storage
    /// problems; a broken file keeps its own code and position).
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            StoreError::Broken { file, diagnostic } => {
                let mut d = diagnostic.clone();
                d.message = format!("{file}: {}", d.message);
                d
            }
            other => Diagnostic::error(Code::Io, other.to_string()),
        }
    }
}

/// One revision of an artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// 1-based revision number.
    pub revision: u32,
    /// The artifact at that revision; None when this revision deleted it.
    pub document: Option<Document>,
}

/// What changed at one place between two revisions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// JSON Pointer into the canonical form (`/clusters/sava/services/0/scale`).
    pub path: String,
    /// The value before (None: added).
    pub before: Option<Value>,
    /// The value after (None: removed).
    pub after: Option<Value>,
}

/// A store of artifacts by kind and name, with revisions.
///
/// Reads take `&self` so that the resolver can share a store; writes take
/// `&mut self`.
pub trait Store {
    /// The current revision of an artifact, None when there is none.
    ///
    /// # Errors
    /// When the storage cannot be read.
    fn get(&self, kind: Kind, name: &str) -> Result<Option<Document>, StoreError>;

    /// Stores a new revision of the document (kind and name come from the
    /// document) and returns its revision number.
    ///
    /// # Errors
    /// When the storage cannot be written.
    fn put(&mut self, document: Document) -> Result<u32, StoreError>;

    /// Deletes an artifact (its history stays); false when there was none.
    ///
    /// # Errors
    /// When the storage cannot be written.
    fn delete(&mut self, kind: Kind, name: &str) -> Result<bool, StoreError>;

    /// The names of the current artifacts of a kind, sorted.
    ///
    /// # Errors
    /// When the storage cannot be read.
    fn list(&self, kind: Kind) -> Result<Vec<String>, StoreError>;

    /// Every revision of an artifact, oldest first (empty when unknown).
    ///
    /// # Errors
    /// When the storage cannot be read.
    fn history(&self, kind: Kind, name: &str) -> Result<Vec<Revision>, StoreError>;

    /// One revision of an artifact.
    ///
    /// # Errors
    /// `NoRevision` when it does not exist (or deleted the artifact).
    fn revision(&self, kind: Kind, name: &str, revision: u32) -> Result<Document, StoreError> {
        self.history(kind, name)?
            .into_iter()
            .find(|r| r.revision == revision)
            .and_then(|r| r.document)
            .ok_or_else(|| StoreError::NoRevision {
                kind,
                name: name.to_owned(),
                revision,
            })
    }

    /// What changed from revision `from` to revision `to`.
    ///
    /// # Errors
    /// `NoRevision` when either does not exist.
    fn diff(&self, kind: Kind, name: &str, from: u32, to: u32) -> Result<Vec<Change>, StoreError> {
        let a = self.revision(kind, name, from)?;
        let b = self.revision(kind, name, to)?;
        Ok(diff_documents(&a, &b))
    }
}

/// The changes between two documents, compared in canonical JSON, in
/// document order (a key added or removed is one change; lists are compared
/// item by item).
///
/// ```
/// use vamp_deploy::store::diff_documents;
/// use vamp_model::{Artifact, Document, Scale};
/// let a = Document::Scale(Artifact::new("s", Scale { cpu: 1.0, memory: 1.0, instances: 1 }));
/// let b = Document::Scale(Artifact::new("s", Scale { cpu: 1.0, memory: 2.0, instances: 1 }));
/// let d = diff_documents(&a, &b);
/// assert_eq!((d.len(), d[0].path.as_str()), (1, "/memory"));
/// ```
pub fn diff_documents(a: &Document, b: &Document) -> Vec<Change> {
    let a = serde_json::to_value(a).unwrap_or(Value::Null);
    let b = serde_json::to_value(b).unwrap_or(Value::Null);
    let mut out = Vec::new();
    diff_values(&a, &b, String::new(), &mut out);
    out
}

/// The changes between two JSON values (see [`diff_documents`]).
pub fn diff_values(a: &Value, b: &Value, path: String, out: &mut Vec<Change>) {
    let esc = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = format!("{path}/{}", esc(k));
                match y.get(k) {
                    Some(vb) => diff_values(va, vb, p, out),
                    None => out.push(Change {
                        path: p,
                        before: Some(va.clone()),
                        after: None,
                    }),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    out.push(Change {
                        path: format!("{path}/{}", esc(k)),
                        before: None,
                        after: Some(vb.clone()),
                    });
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let p = format!("{path}/{i}");
                match (x.get(i), y.get(i)) {
                    (Some(va), Some(vb)) => diff_values(va, vb, p, out),
                    (va, vb) => out.push(Change {
                        path: p,
                        before: va.cloned(),
                        after: vb.cloned(),
                    }),
                }
            }
        }
        _ if a == b => {}
        _ => out.push(Change {
            path,
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
    }
}

/// Keeps artifacts and their revisions in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    /// Kind, then name (hashed; `list` sorts).
    entries: HashMap<&'static str, NameMap>,
}

type NameMap = FxHashMap<String, Vec<Revision>>;

impl MemoryStore {
    /// A store holding these documents (each as revision 1, later ones of
    /// the same kind and name as later revisions).
    pub fn with(documents: impl IntoIterator<Item = Document>) -> Self {
        let mut s = MemoryStore::default();
        for d in documents {
            s.insert(d);
        }
        s
    }

    /// Stores a new revision; infallible version of [`Store::put`].
    pub fn insert(&mut self, document: Document) -> u32 {
        let revisions = self
            .entries
            .entry(document.kind().as_str())
            .or_default()
            .entry(document.name().to_owned())
            .or_default();
        let revision = revisions.last().map_or(1, |r| r.revision + 1);
        revisions.push(Revision {
            revision,
            document: Some(document),
        });
        revision
    }
}

impl Store for MemoryStore {
    fn get(&self, kind: Kind, name: &str) -> Result<Option<Document>, StoreError> {
        Ok(self
            .entries
            .get(kind.as_str())
            .and_then(|m| m.get(name))
            .and_then(|r| r.last())
            .and_then(|r| r.document.clone()))
    }

    fn put(&mut self, document: Document) -> Result<u32, StoreError> {
        Ok(self.insert(document))
    }

    fn delete(&mut self, kind: Kind, name: &str) -> Result<bool, StoreError> {
        let Some(revisions) = self
            .entries
            .get_mut(kind.as_str())
            .and_then(|m| m.get_mut(name))
        else {
            return Ok(false);
        };
        match revisions.last() {
            Some(Revision {
                revision,
                document: Some(_),
            }) => {
                let revision = revision + 1;
                revisions.push(Revision {
                    revision,
                    document: None,
                });
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn list(&self, kind: Kind) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = self
            .entries
            .get(kind.as_str())
            .into_iter()
            .flatten()
            .filter(|(_, r)| r.last().is_some_and(|r| r.document.is_some()))
            .map(|(n, _)| n.clone())
            .collect();
        names.sort_unstable();
        Ok(names)
    }

    fn history(&self, kind: Kind, name: &str) -> Result<Vec<Revision>, StoreError> {
        Ok(self
            .entries
            .get(kind.as_str())
            .and_then(|m| m.get(name))
            .cloned()
            .unwrap_or_default())
    }
}
