//! Records as files: `ROOT/KIND/NAME.json` holding
//! `{"revision", "kind", "name", "body"}`, written with
//! [`write_atomic`]: after a crash the file is either the old or the new
//! record, never a torn one, and an acknowledged write is on disk.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use vamp_deploy::directory::{io_error, write_atomic};

use super::{Record, Result, Store, StoreError};

/// A folder of records (see the module docs).
#[derive(Debug)]
pub struct DirStore {
    root: PathBuf,
    /// Serializes read-compare-write within this process.
    write: Mutex<()>,
}

#[derive(Serialize, Deserialize)]
struct File {
    revision: u64,
    kind: String,
    name: String,
    body: String,
}

fn io(path: &Path, e: &std::io::Error) -> StoreError {
    io_error(path, e).into()
}

/// `StoreError::Io` for a file and a message of our own.
fn io_message(path: &Path, message: String) -> StoreError {
    vamp_deploy::store::StoreError::Io {
        path: path.display().to_string(),
        message,
    }
    .into()
}

/// A name as a file name: bytes other than letters, digits, `-`, `_`, `:`
/// and inner `.` become `%XX`.
fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        let plain =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':') || (b == b'.' && i > 0);
        if plain {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl DirStore {
    /// Opens (creating it if needed) the folder `root`. Temporary files a
    /// crash left behind are removed.
    ///
    /// # Errors
    /// When the folder cannot be created or read.
    pub fn open(root: impl AsRef<Path>) -> Result<DirStore> {
        let root = root.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(|e| io(&root, &e))?;
        let store = DirStore {
            root,
            write: Mutex::new(()),
        };
        for dir in store.kind_dirs()? {
            for entry in fs::read_dir(&dir).map_err(|e| io(&dir, &e))?.flatten() {
                if entry.file_name().to_string_lossy().ends_with(".tmp") {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(store)
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn kind_dirs(&self) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.root)
            .map_err(|e| io(&self.root, &e))?
            .flatten()
        {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(entry.path());
            }
        }
        out.sort();
        Ok(out)
    }

    fn path(&self, kind: &str, name: &str) -> PathBuf {
        self.root
            .join(encode(kind))
            .join(format!("{}.json", encode(name)))
    }

    fn read(path: &Path) -> Result<Option<Record>> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(path, &e)),
        };
        let f: File = serde_json::from_slice(&bytes)
            .map_err(|e| io_message(path, format!("not a record: {e}")))?;
        Ok(Some(Record {
            kind: f.kind,
            name: f.name,
            revision: f.revision,
            body: f.body,
        }))
    }
}

impl Store for DirStore {
    fn load_all(&self) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        for dir in self.kind_dirs()? {
            let mut files: Vec<PathBuf> = fs::read_dir(&dir)
                .map_err(|e| io(&dir, &e))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for f in files {
                out.extend(Self::read(&f)?);
            }
        }
        Ok(out)
    }

    fn get(&self, kind: &str, name: &str) -> Result<Option<Record>> {
        Self::read(&self.path(kind, name))
    }

    fn put(&self, kind: &str, name: &str, body: &str, expected: Option<u64>) -> Result<u64> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.path(kind, name);
        let current = Self::read(&path)?.map_or(0, |r| r.revision);
        if let Some(expected) = expected.filter(|e| *e != current) {
            return Err(StoreError::Conflict {
                kind: kind.to_owned(),
                name: name.to_owned(),
                expected,
                actual: current,
            });
        }
        let revision = current + 1;
        let file = File {
            revision,
            kind: kind.to_owned(),
            name: name.to_owned(),
            body: body.to_owned(),
        };
        let bytes = serde_json::to_vec(&file).map_err(|e| io_message(&path, e.to_string()))?;
        write_atomic(&path, bytes)?;
        Ok(revision)
    }

    fn delete(&self, kind: &str, name: &str) -> Result<bool> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.path(kind, name);
        match fs::remove_file(&path) {
            Ok(()) => {
                if let Some(dir) = path.parent() {
                    fs::File::open(dir)
                        .and_then(|d| d.sync_all())
                        .map_err(|e| io(dir, &e))?;
                }
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(&path, &e)),
        }
    }

    fn list(&self, kind: &str) -> Result<Vec<String>> {
        let dir = self.root.join(encode(kind));
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut names = Vec::new();
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "json") {
                if let Some(r) = Self::read(&e.path())? {
                    names.push(r.name);
                }
            }
        }
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_compare_and_swap_and_odd_names() {
        let dir = std::env::temp_dir().join(format!("vamp-dirstore-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let s = DirStore::open(&dir).unwrap();
        assert_eq!(s.put("gateways", "sava/9050", "a", Some(0)).unwrap(), 1);
        assert_eq!(s.put("gateways", "sava/9050", "b", None).unwrap(), 2);
        assert!(matches!(
            s.put("gateways", "sava/9050", "c", Some(1)),
            Err(StoreError::Conflict { actual: 2, .. })
        ));
        assert_eq!(s.put("gateways", ".hidden", "x", None).unwrap(), 1);
        assert_eq!(
            s.list("gateways").unwrap(),
            vec![".hidden".to_owned(), "sava/9050".to_owned()]
        );
        let again = DirStore::open(&dir).unwrap();
        let r = again.get("gateways", "sava/9050").unwrap().unwrap();
        assert_eq!((r.revision, r.body.as_str()), (2, "b"));
        assert!(again.delete("gateways", "sava/9050").unwrap());
        assert!(!again.delete("gateways", "sava/9050").unwrap());
        assert_eq!(again.load_all().unwrap().len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
