//! A store of artifacts kept as YAML files in a folder, so a team can keep
//! them in git.
//!
//! - Any layout of sub-folders; every `*.yaml` / `*.yml` file is read, one
//!   or many documents per file (separated by `---` lines). Hidden files
//!   and folders (`.git`, `.vamp`) are skipped.
//! - A file that cannot be read is reported (see
//!   [`DirectoryStore::problems`]) with its path and line; only the
//!   documents of the broken part are lost, every other artifact is kept.
//! - Writes go to a temporary file in the same folder that is then renamed
//!   over the target, so a crash never leaves a half-written file behind.
//!   A new artifact goes to `KINDs/NAME.yaml`; an existing one is rewritten
//!   where it is (only its own document in a multi-document file).
//! - Earlier revisions live in `.vamp/history/KIND/NAME/REVISION.yaml`
//!   (a deletion is recorded as `REVISION.deleted`).
//!
//! ```
//! use vamp_dsl::store::DirectoryStore;
//! use vamp_model::store::Store;
//! use vamp_model::Kind;
//! let dir = std::env::temp_dir().join(format!("vamp-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(dir.join("breeds")).unwrap();
//! std::fs::write(dir.join("breeds/web.yaml"), "kind: breed\nname: web\ndeployable: acme/web:1\n").unwrap();
//! let store = DirectoryStore::open(&dir).unwrap();
//! assert_eq!(store.list(Kind::Breed).unwrap(), vec!["web".to_owned()]);
//! assert!(store.problems().is_empty());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map as JsonMap, Value};
use vamp_model::store::{Revision, Store, StoreError};
use vamp_model::{Code, Diagnostic, Document, Kind, Span};

use crate::{read, ReadOptions};

/// Where an artifact is written.
#[derive(Debug, Clone)]
struct Entry {
    /// Path relative to the root.
    file: PathBuf,
    document: Document,
}

/// Artifacts read from a folder of YAML files (see the module docs).
#[derive(Debug)]
pub struct DirectoryStore {
    root: PathBuf,
    entries: BTreeMap<(&'static str, String), Entry>,
    problems: Vec<StoreError>,
}

/// One `---`-separated part of a file.
struct Segment<'a> {
    text: &'a str,
    /// 1-based line of its first line.
    line: u32,
    /// Character offset of its start.
    offset: u32,
}

fn segments(src: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let (mut start, mut line_no, mut chars, mut seg_line, mut seg_offset) =
        (0usize, 1u32, 0u32, 1u32, 0u32);
    let mut pos = 0usize;
    for line in src.split_inclusive('\n') {
        let t = line.trim_end();
        let is_sep = t == "---" || t.starts_with("--- ") || t.starts_with("---\t");
        if is_sep && pos > start {
            out.push(Segment {
                text: &src[start..pos],
                line: seg_line,
                offset: seg_offset,
            });
            start = pos;
            seg_line = line_no;
            seg_offset = chars;
        }
        pos += line.len();
        line_no += 1;
        chars += u32::try_from(line.chars().count()).unwrap_or(u32::MAX);
    }
    if pos > start || out.is_empty() {
        out.push(Segment {
            text: &src[start..pos],
            line: seg_line,
            offset: seg_offset,
        });
    }
    out
}

/// True when a segment holds nothing but separators, comments and blanks.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

fn io_error(path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// A file name for an artifact name (names may contain `:` or `.`, but
/// never start a hidden file or climb folders).
fn file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_alphanumeric()
            || matches!(c, '-' | '_' | ':' | '+' | '@' | '=' | ',')
            || (c == '.' && i > 0)
        {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

impl DirectoryStore {
    /// Opens (and reads) the folder, creating it when it does not exist.
    ///
    /// # Errors
    /// When the folder cannot be created or listed. Broken files are not
    /// errors: see [`DirectoryStore::problems`].
    pub fn open(path: impl AsRef<Path>) -> Result<DirectoryStore, StoreError> {
        let root = path.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(|e| io_error(&root, &e))?;
        let mut store = DirectoryStore {
            root,
            entries: BTreeMap::new(),
            problems: Vec::new(),
        };
        let mut files = Vec::new();
        collect(&store.root, &store.root, &mut files, &mut store.problems)?;
        files.sort();
        for file in files {
            store.load_file(&file);
        }
        Ok(store)
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Files (or parts of files) that could not be read, each with its
    /// path and first error (with line and column in that file).
    pub fn problems(&self) -> &[StoreError] {
        &self.problems
    }

    /// The file (relative to the root) that holds an artifact.
    pub fn file_of(&self, kind: Kind, name: &str) -> Option<&Path> {
        self.entries
            .get(&(kind.as_str(), name.to_owned()))
            .map(|e| e.file.as_path())
    }

    /// Reads one file (relative path) into the index, replacing what the
    /// index had from it.
    fn load_file(&mut self, rel: &Path) {
        self.entries.retain(|_, e| e.file != rel);
        self.problems
            .retain(|p| !matches!(p, StoreError::Broken { file, .. } if Path::new(file) == rel));
        let full = self.root.join(rel);
        let file = rel.display().to_string();
        let bytes = match fs::read(&full) {
            Ok(b) => b,
            Err(e) => {
                self.problems.push(io_error(&full, &e));
                return;
            }
        };
        let src = match std::str::from_utf8(&bytes) {
            Ok(s) => s,
            Err(_) => {
                let out = crate::read_bytes(&bytes, ReadOptions::default());
                let d = out
                    .first_error()
                    .cloned()
                    .unwrap_or_else(|| Diagnostic::error(Code::YamlParsing, "not UTF-8"));
                self.problems.push(StoreError::Broken {
                    file,
                    diagnostic: d,
                });
                return;
            }
        };
        for seg in segments(src) {
            if is_blank(seg.text) {
                continue;
            }
            let out = read(seg.text, ReadOptions::default());
            if let Some(first) = out.first_error() {
                let mut d = first.clone();
                if let Some(s) = d.span.as_mut() {
                    *s = Span::new(s.offset + seg.offset, s.line + seg.line - 1, s.column);
                }
                self.problems.push(StoreError::Broken {
                    file: file.clone(),
                    diagnostic: d,
                });
            }
            for doc in out.documents {
                let key = (doc.kind().as_str(), doc.name().to_owned());
                if let Some(first) = self.entries.get(&key) {
                    let d = Diagnostic::error(
                        Code::InconsistentArtifactName,
                        format!(
                            "the {} `{}` is also in `{}`: the first one read is used; keep one",
                            doc.kind(),
                            doc.name(),
                            first.file.display()
                        ),
                    )
                    .at(Span::new(seg.offset, seg.line, 1));
                    self.problems.push(StoreError::Broken {
                        file: file.clone(),
                        diagnostic: d,
                    });
                    continue;
                }
                self.entries.insert(
                    key,
                    Entry {
                        file: rel.to_path_buf(),
                        document: doc,
                    },
                );
            }
        }
    }

    fn history_dir(&self, kind: Kind, name: &str) -> PathBuf {
        self.root
            .join(".vamp")
            .join("history")
            .join(kind.as_str())
            .join(file_name(name))
    }

    /// Earlier revisions on disk: (number, file).
    fn past(&self, kind: Kind, name: &str) -> Result<Vec<(u32, PathBuf, bool)>, StoreError> {
        let dir = self.history_dir(kind, name);
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&dir, &e)),
        };
        let mut out = Vec::new();
        for entry in rd {
            let path = entry.map_err(|e| io_error(&dir, &e))?.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let Ok(n) = stem.parse::<u32>() else { continue };
            let deleted = path.extension().is_some_and(|e| e == "deleted");
            out.push((n, path, deleted));
        }
        out.sort_by_key(|(n, _, _)| *n);
        Ok(out)
    }

    fn current_revision(&self, kind: Kind, name: &str) -> Result<u32, StoreError> {
        Ok(self.past(kind, name)?.last().map_or(0, |(n, _, _)| *n) + 1)
    }

    /// Moves the current text of an artifact into its history.
    fn archive(&self, kind: Kind, name: &str, text: &str) -> Result<u32, StoreError> {
        let rev = self.current_revision(kind, name)?;
        let dir = self.history_dir(kind, name);
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, &e))?;
        write_atomic(&dir.join(format!("{rev}.yaml")), text)?;
        Ok(rev)
    }

    /// The text of one artifact's document inside its file.
    fn text_of(&self, entry: &Entry) -> Result<(String, Vec<(String, bool)>), StoreError> {
        let full = self.root.join(&entry.file);
        let src = fs::read_to_string(&full).map_err(|e| io_error(&full, &e))?;
        let mut parts = Vec::new();
        let mut mine = String::new();
        for seg in segments(&src) {
            let is_mine = !is_blank(seg.text)
                && read(seg.text, ReadOptions::default())
                    .documents
                    .iter()
                    .any(|d| {
                        d.kind() == entry.document.kind() && d.name() == entry.document.name()
                    });
            if is_mine {
                mine = seg.text.to_owned();
            }
            parts.push((seg.text.to_owned(), is_mine));
        }
        Ok((mine, parts))
    }
}

fn collect(
    root: &Path,
    dir: &Path,
    out: &mut Vec<PathBuf>,
    problems: &mut Vec<StoreError>,
) -> Result<(), StoreError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if dir == root => return Err(io_error(dir, &e)),
        Err(e) => {
            problems.push(io_error(dir, &e));
            return Ok(());
        }
    };
    for entry in rd {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            collect(root, &path, out, problems)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        {
            if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    Ok(())
}

/// Writes through a temporary file in the same folder, then renames it.
fn write_atomic(path: &Path, text: &str) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_error(path, &e)
    })
}

impl Store for DirectoryStore {
    fn get(&self, kind: Kind, name: &str) -> Result<Option<Document>, StoreError> {
        Ok(self
            .entries
            .get(&(kind.as_str(), name.to_owned()))
            .map(|e| e.document.clone()))
    }

    fn put(&mut self, document: Document) -> Result<u32, StoreError> {
        let kind = document.kind();
        let name = document.name().to_owned();
        let yaml = to_yaml(&document);
        let rev = match self.entries.get(&(kind.as_str(), name.clone())).cloned() {
            Some(entry) => {
                let (mine, parts) = self.text_of(&entry)?;
                self.archive(kind, &name, &mine)?;
                let mut text = String::new();
                for (part, is_mine) in parts {
                    if is_mine {
                        if part.starts_with("---") {
                            text.push_str("---\n");
                        }
                        text.push_str(&yaml);
                    } else {
                        text.push_str(&part);
                        if !part.ends_with('\n') {
                            text.push('\n');
                        }
                    }
                }
                write_atomic(&self.root.join(&entry.file), &text)?;
                self.load_file(&entry.file);
                self.current_revision(kind, &name)?
            }
            None => {
                let mut rel = PathBuf::from(format!("{}s", kind.as_str()))
                    .join(format!("{}.yaml", file_name(&name)));
                let mut n = 2;
                while self.root.join(&rel).exists() {
                    rel = PathBuf::from(format!("{}s", kind.as_str()))
                        .join(format!("{}-{n}.yaml", file_name(&name)));
                    n += 1;
                }
                write_atomic(&self.root.join(&rel), &yaml)?;
                self.load_file(&rel);
                self.current_revision(kind, &name)?
            }
        };
        Ok(rev)
    }

    fn delete(&mut self, kind: Kind, name: &str) -> Result<bool, StoreError> {
        let Some(entry) = self.entries.get(&(kind.as_str(), name.to_owned())).cloned() else {
            return Ok(false);
        };
        let (mine, parts) = self.text_of(&entry)?;
        let rev = self.archive(kind, name, &mine)?;
        write_atomic(
            &self
                .history_dir(kind, name)
                .join(format!("{}.deleted", rev + 1)),
            "",
        )?;
        let rest: String = parts
            .into_iter()
            .filter(|(_, m)| !m)
            .map(|(t, _)| t)
            .collect();
        let full = self.root.join(&entry.file);
        if is_blank(&rest) {
            fs::remove_file(&full).map_err(|e| io_error(&full, &e))?;
        } else {
            write_atomic(&full, &rest)?;
        }
        self.load_file(&entry.file);
        Ok(true)
    }

    fn list(&self, kind: Kind) -> Result<Vec<String>, StoreError> {
        Ok(self
            .entries
            .keys()
            .filter(|(k, _)| *k == kind.as_str())
            .map(|(_, n)| n.clone())
            .collect())
    }

    fn history(&self, kind: Kind, name: &str) -> Result<Vec<Revision>, StoreError> {
        let mut out = Vec::new();
        for (n, path, deleted) in self.past(kind, name)? {
            let document = if deleted {
                None
            } else {
                let text = fs::read_to_string(&path).map_err(|e| io_error(&path, &e))?;
                let doc = read(
                    &text,
                    ReadOptions {
                        kind: Some(kind),
                        ..ReadOptions::default()
                    },
                )
                .documents
                .into_iter()
                .find(|d| d.name() == name);
                if doc.is_none() {
                    return Err(StoreError::Broken {
                        file: path.display().to_string(),
                        diagnostic: Diagnostic::error(
                            Code::YamlParsing,
                            format!("revision {n} of the {kind} `{name}` cannot be read"),
                        )
                        .at(Span::START),
                    });
                }
                doc
            };
            out.push(Revision {
                revision: n,
                document,
            });
        }
        if let Some(doc) = self.get(kind, name)? {
            let revision = out.last().map_or(1, |r| r.revision + 1);
            out.push(Revision {
                revision,
                document: Some(doc),
            });
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Writing documents as DSL YAML.

/// Writes a document as DSL YAML that reads back to the same document.
///
/// ```
/// use vamp_dsl::{read, ReadOptions, store::to_yaml};
/// let src = "kind: breed\nname: web\ndeployable: acme/web:1\nports: {web: 8080}\nenvironment_variables:\n  debug[WEB_DEBUG]: 'true'\n  TOKEN: ~\n";
/// let doc = read(src, ReadOptions::default()).documents.remove(0);
/// let again = read(&to_yaml(&doc), ReadOptions::default()).documents.remove(0);
/// assert_eq!(serde_json::to_value(&doc).unwrap(), serde_json::to_value(&again).unwrap());
/// ```
pub fn to_yaml(document: &Document) -> String {
    let canonical = serde_json::to_value(document).unwrap_or(Value::Null);
    let dsl = to_dsl(&canonical, None);
    let mut out = String::new();
    emit(&dsl, 0, &mut out);
    out
}

/// Keys whose values are free-form and must be written as they are.
const FREE: [&str; 4] = ["metadata", "dialects", "parameters", "schedule"];

fn percent(v: &Value) -> Value {
    v.as_u64()
        .map_or(Value::Null, |n| Value::String(format!("{n}%")))
}

fn traits(v: &Value) -> Value {
    let mut out = JsonMap::new();
    for (k, t) in v.as_object().into_iter().flatten() {
        let key = match t.get("alias").and_then(Value::as_str) {
            Some(a) => format!("{k}[{a}]"),
            None => k.clone(),
        };
        out.insert(key, t.get("value").cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

fn reference(v: &Value) -> Option<&str> {
    let o = v.as_object()?;
    (o.len() == 1)
        .then(|| o.get("reference")?.as_str())
        .flatten()
}

/// Canonical JSON to the DSL's written form. `key` is the key holding `v`.
fn to_dsl(v: &Value, key: Option<&str>) -> Value {
    let Some(obj) = v.as_object() else {
        return match v {
            Value::Array(items) => Value::Array(items.iter().map(|i| to_dsl(i, key)).collect()),
            other => other.clone(),
        };
    };
    if let (Some(r), Some("breed" | "scale" | "sla")) = (reference(v), key) {
        return Value::String(r.to_owned());
    }
    let mut out = JsonMap::new();
    let is_scale = obj.contains_key("cpu") && obj.contains_key("memory");
    for (k, val) in obj {
        let k = k.as_str();
        if FREE.contains(&k) {
            if val.as_object().is_some_and(|o| !o.is_empty()) || (k == "schedule" && !val.is_null())
            {
                if k == "parameters" {
                    for (pk, pv) in val.as_object().into_iter().flatten() {
                        out.insert(pk.clone(), pv.clone());
                    }
                } else {
                    out.insert(k.to_owned(), val.clone());
                }
            }
            continue;
        }
        let written = match (k, val) {
            (_, Value::Null) => continue,
            ("environment_variables" | "constants", _) => {
                if val.as_object().is_some_and(|o| o.is_empty()) {
                    continue;
                }
                traits(val)
            }
            ("ports", Value::Object(ports)) => {
                if ports.is_empty() {
                    continue;
                }
                Value::Object(
                    ports
                        .iter()
                        .map(|(pk, p)| (pk.clone(), p.get("value").cloned().unwrap_or(Value::Null)))
                        .collect(),
                )
            }
            ("port", Value::Object(p)) => p.get("value").cloned().unwrap_or(Value::Null),
            ("deployable", Value::Object(d)) if d.get("type").is_none_or(Value::is_null) => {
                d.get("definition").cloned().unwrap_or(Value::Null)
            }
            ("weight" | "condition_strength", n) => percent(n),
            ("memory", Value::Number(n)) if is_scale => Value::String(format!("{}MB", plain(n))),
            ("condition", Value::Object(c)) if c.contains_key("definition") => {
                c.get("definition").cloned().unwrap_or(Value::Null)
            }
            ("rewrites", Value::Array(items)) => {
                if items.is_empty() {
                    continue;
                }
                Value::Array(
                    items
                        .iter()
                        .map(|r| match reference(r) {
                            Some(_) => r.clone(),
                            None => {
                                let p = r.get("path").and_then(Value::as_str).unwrap_or_default();
                                let c = r
                                    .get("condition")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default();
                                serde_json::json!({ "path": format!("{p} if {c}") })
                            }
                        })
                        .collect(),
                )
            }
            ("arguments", Value::Array(items)) => {
                if items.is_empty() {
                    continue;
                }
                Value::Array(
                    items
                        .iter()
                        .map(|a| {
                            let mut m = JsonMap::new();
                            let key = a
                                .get("key")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned();
                            m.insert(key, a.get("value").cloned().unwrap_or(Value::Null));
                            Value::Object(m)
                        })
                        .collect(),
                )
            }
            ("dependencies", Value::Object(deps)) => {
                if deps.is_empty() {
                    continue;
                }
                Value::Object(
                    deps.iter()
                        .map(|(a, d)| {
                            (
                                a.clone(),
                                match reference(d) {
                                    Some(r) => Value::String(r.to_owned()),
                                    None => to_dsl(d, Some("breed")),
                                },
                            )
                        })
                        .collect(),
                )
            }
            ("gateways", Value::Object(gateways)) => {
                if gateways.is_empty() {
                    continue;
                }
                // A gateway keyed by its port number has no `port` key.
                let mut out = JsonMap::new();
                for (gk, g) in gateways {
                    let mut g = to_dsl(g, Some("gateway"));
                    let mut key = gk.clone();
                    if !gk.is_empty() && gk.bytes().all(|b| b.is_ascii_digit()) {
                        if let Some(o) = g.as_object_mut() {
                            // Keyed by the port as written (`8082/tcp`).
                            if let Some(Value::String(p)) = o.remove("port") {
                                key = p;
                            }
                        }
                    }
                    out.insert(key, g);
                }
                Value::Object(out)
            }
            (_, Value::Object(m)) if m.is_empty() && k != "routes" => continue,
            (_, Value::Array(a)) if a.is_empty() => continue,
            _ => to_dsl(val, Some(k)),
        };
        out.insert(k.to_owned(), written);
    }
    Value::Object(out)
}

/// A number as the DSL reads it: never in exponent form (`5e-6` is not a
/// DSL number; `0.000005` is). Rust's `f64` display is the shortest text
/// that reads back to the same value, without an exponent.
fn plain(n: &serde_json::Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (None, Some(u), _) => u.to_string(),
        (None, None, Some(f)) => f.to_string(),
        _ => n.to_string(),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "~".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => plain(n),
        // JSON strings are valid YAML double-quoted scalars.
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        Value::Object(o) if o.is_empty() => "{}".to_owned(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

/// Block-style YAML.
fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, val) in o {
                out.push_str(&pad);
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                if is_block(val) {
                    out.push_str(":\n");
                    emit(val, indent + 2, out);
                } else {
                    out.push_str(": ");
                    out.push_str(&scalar(val));
                    out.push('\n');
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                out.push_str(&pad);
                out.push('-');
                if is_block(item) {
                    // Write the item's block one level deeper, then join the first line to the dash.
                    let mut inner = String::new();
                    emit(item, indent + 2, &mut inner);
                    out.push(' ');
                    out.push_str(inner.trim_start());
                } else {
                    out.push(' ');
                    out.push_str(&scalar(item));
                    out.push('\n');
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}
