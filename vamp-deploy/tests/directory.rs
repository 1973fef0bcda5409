//! The directory store: layouts, broken files, atomic writes, revisions,
//! and documents written back as YAML that reads to the same artifact.

use std::path::{Path, PathBuf};

use vamp_deploy::directory::DirectoryStore;
use vamp_deploy::store::{Store, StoreError};
use vamp_dsl::write::to_yaml;
use vamp_dsl::{read, ReadOptions};
use vamp_model::{Artifact, Code, Document, Kind, Scale};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store/team")
}

/// A fresh copy of a fixture folder (the tests write to it).
fn copy(from: &Path, name: &str) -> PathBuf {
    let to = std::env::temp_dir().join(format!("vamp-store-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&to);
    copy_dir(from, &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("readdir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

fn scale(name: &str, cpu: f64) -> Document {
    Document::Scale(Artifact::new(
        name,
        Scale {
            cpu,
            memory: 512.0,
            instances: 1,
        },
    ))
}

#[test]
fn any_layout_many_documents_per_file() {
    let store = DirectoryStore::open(fixtures()).expect("opens");
    assert_eq!(
        store.list(Kind::Breed).expect("list"),
        vec!["fine", "web:1", "web:2"]
    );
    assert_eq!(
        store.list(Kind::Scale).expect("list"),
        vec!["large", "small"]
    );
    let Some(Document::Scale(large)) = store.get(Kind::Scale, "large").expect("get") else {
        panic!("no scale")
    };
    assert_eq!(
        (large.spec.cpu, large.spec.memory, large.spec.instances),
        (4.0, 8000.0, 3)
    );
    assert_eq!(
        store.file_of(Kind::Breed, "web:2"),
        Some(Path::new("breeds/web.yaml"))
    );
}

#[test]
fn a_broken_file_is_reported_with_path_and_line_and_the_rest_is_kept() {
    let store = DirectoryStore::open(fixtures()).expect("opens");
    // `fine`, in the same file before the broken part, is kept.
    assert!(store.get(Kind::Breed, "fine").expect("get").is_some());
    assert!(store.get(Kind::Breed, "half").expect("get").is_none());
    let [StoreError::Broken { file, diagnostic }] = store.problems() else {
        panic!("one problem expected: {:?}", store.problems())
    };
    assert_eq!(file, "ops/broken.yaml");
    assert_eq!(diagnostic.code, Code::YamlParsing);
    // The position is in the file, not in the part: the error is past line 5.
    assert!(
        diagnostic.span.is_some_and(|s| s.line >= 9),
        "{diagnostic:?}"
    );
    assert!(store.problems()[0]
        .to_string()
        .starts_with("ops/broken.yaml:"));
}

#[test]
fn a_half_written_file_does_not_lose_other_artifacts() {
    let dir = copy(&fixtures(), "half");
    // A tool died while writing: the file stops in the middle of a value,
    // and its temporary file is still there.
    std::fs::write(
        dir.join("breeds/cut.yaml"),
        "kind: breed\nname: cut\ndeployable: \"acme/c",
    )
    .expect("write");
    std::fs::write(
        dir.join("breeds/.web.yaml.123.tmp"),
        "kind: breed\nname: web:1\ndeployable: x\n",
    )
    .expect("write");
    let store = DirectoryStore::open(&dir).expect("opens");
    assert_eq!(
        store.list(Kind::Breed).expect("list"),
        vec!["fine", "web:1", "web:2"]
    );
    assert!(store.problems().iter().any(|p| matches!(p, StoreError::Broken { file, diagnostic } if file == "breeds/cut.yaml" && diagnostic.span.is_some())));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn revisions_history_and_diff() {
    let dir = copy(&fixtures(), "revisions");
    let mut store = DirectoryStore::open(&dir).expect("opens");
    assert_eq!(store.put(scale("tiny", 0.1)).expect("put"), 1);
    assert!(dir.join("scales/tiny.yaml").exists());
    assert_eq!(store.put(scale("tiny", 0.2)).expect("put"), 2);
    // The existing `small` lives in a two-document file: only its document changes.
    assert_eq!(store.put(scale("small", 1.0)).expect("put"), 2);
    let text = std::fs::read_to_string(dir.join("ops/deep/scales.yml")).expect("read");
    assert!(
        text.contains("name: large") && text.contains("instances: 3"),
        "{text}"
    );
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("scales"))
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    // A store opened afresh sees the same thing.
    let again = DirectoryStore::open(&dir).expect("opens");
    let history = again.history(Kind::Scale, "tiny").expect("history");
    assert_eq!(
        history.iter().map(|r| r.revision).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let changes = again.diff(Kind::Scale, "tiny", 1, 2).expect("diff");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].path, "/cpu");
    assert_eq!(changes[0].before, Some(serde_json::json!(0.1)));
    assert_eq!(changes[0].after, Some(serde_json::json!(0.2)));
    let Some(Document::Scale(small)) = again.get(Kind::Scale, "small").expect("get") else {
        panic!()
    };
    assert_eq!(small.spec.cpu, 1.0);
    assert_eq!(
        again
            .revision(Kind::Scale, "small", 1)
            .map(|d| serde_json::to_value(d).ok())
            .ok()
            .flatten()
            .map(|v| v["cpu"].clone()),
        Some(serde_json::json!(0.5))
    );
    // Delete keeps the history; a later put continues the numbering.
    assert!(store.delete(Kind::Scale, "tiny").expect("delete"));
    assert!(!dir.join("scales/tiny.yaml").exists());
    assert!(store.get(Kind::Scale, "tiny").expect("get").is_none());
    assert_eq!(store.put(scale("tiny", 0.3)).expect("put"), 4);
    let history = store.history(Kind::Scale, "tiny").expect("history");
    assert_eq!(
        history
            .iter()
            .map(|r| (r.revision, r.document.is_some()))
            .collect::<Vec<_>>(),
        vec![(1, true), (2, true), (3, false), (4, true)]
    );
    assert!(matches!(
        store.diff(Kind::Scale, "tiny", 1, 9),
        Err(StoreError::NoRevision { revision: 9, .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn names_never_escape_the_folder() {
    let dir = std::env::temp_dir().join(format!("vamp-store-test-{}-names", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut store = DirectoryStore::open(&dir).expect("opens");
    store.put(scale("..", 1.0)).expect("put");
    store.put(scale(".hidden", 1.0)).expect("put");
    let again = DirectoryStore::open(&dir).expect("opens");
    assert_eq!(
        again.list(Kind::Scale).expect("list"),
        vec!["..", ".hidden"]
    );
    assert!(again.problems().is_empty(), "{:?}", again.problems());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every document of the conformance corpus that reads cleanly is written
/// as YAML that reads back to the same canonical JSON.
#[test]
fn documents_round_trip_through_yaml() {
    let mut sources: Vec<(String, String)> = Vec::new();
    for dir in [fixtures().join("breeds"), fixtures().join("ops/deep")] {
        for e in std::fs::read_dir(dir).expect("dir").filter_map(Result::ok) {
            sources.push((
                e.path().display().to_string(),
                std::fs::read_to_string(e.path()).expect("read"),
            ));
        }
    }
    sources.push((
        "example".into(),
        std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/sava-canary.yml"),
        )
        .expect("example"),
    ));
    // The shared corpus sits beside the repository (absent in a bare checkout).
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/cases");
    if let Ok(suites) = std::fs::read_dir(&corpus) {
        for suite in suites.filter_map(Result::ok) {
            for e in std::fs::read_dir(suite.path())
                .expect("suite")
                .filter_map(Result::ok)
            {
                if let Ok(text) = std::fs::read_to_string(e.path()) {
                    sources.push((e.path().display().to_string(), text));
                }
            }
        }
    }
    let mut checked = 0;
    for (name, text) in sources {
        let out = read(&text, ReadOptions::default());
        if out.first_error().is_some() {
            continue;
        }
        for doc in out.documents {
            let yaml = to_yaml(&doc);
            let again = read(
                &yaml,
                ReadOptions {
                    kind: Some(doc.kind()),
                    ..ReadOptions::default()
                },
            );
            assert!(
                again.first_error().is_none(),
                "{name}: {:?}\n{yaml}",
                again.first_error()
            );
            assert_eq!(again.documents.len(), 1, "{name}");
            assert_eq!(
                serde_json::to_value(&again.documents[0]).ok(),
                serde_json::to_value(&doc).ok(),
                "{name}\n{yaml}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} documents checked");
}
