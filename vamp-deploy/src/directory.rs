//! A store of artifacts kept as YAML files in a folder, so a team can keep
//! them in git.
//!
//! - Any layout of sub-folders; every `*.yaml` / `*.yml` file is read, one
//!   or many documents per file (separated by `---` lines). Hidden files
//!   and folders (`.git`, `.vamp`) are skipped.
//! - A file that cannot be read is reported (see
//!   [`DirectoryStore::problems`]) with its path and line; only the
//!   documents of the broken part are lost, every other artifact is kept.
//! - Writes go through [`write_atomic`]: a temporary file in the same
//!   folder, synced and renamed over the target, then the folder synced, so
//!   a crash never leaves a half-written file behind.
//!   A new artifact goes to `KINDs/NAME.yaml`; an existing one is rewritten
//!   where it is (only its own document in a multi-document file).
//! - Earlier revisions live in `.vamp/history/KIND/NAME/REVISION.yaml`
//!   (a deletion is recorded as `REVISION.deleted`).
//!
//! ```
//! use vamp_deploy::directory::DirectoryStore;
//! use vamp_deploy::store::Store;
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

use vamp_dsl::write::to_yaml;
use vamp_dsl::{read, ReadOptions};
use vamp_model::{Code, Diagnostic, Document, Kind, Span};

use crate::store::{Revision, Store, StoreError};

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

/// `StoreError::Io` for a file or folder and what the system said.
pub fn io_error(path: &Path, e: &std::io::Error) -> StoreError {
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
                let out = vamp_dsl::read_bytes(&bytes, ReadOptions::default());
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

/// Writes `bytes` to `path` so that after a crash the file is either the
/// old or the new content, never a torn one, and the write is on disk when
/// this returns: the bytes go to a temporary file in the same folder (created
/// if needed), which is synced, renamed over the target, and the folder
/// synced. A failed write removes the temporary file.
///
/// # Errors
/// `StoreError::Io` naming the folder or the file when a step fails.
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes.as_ref())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
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
