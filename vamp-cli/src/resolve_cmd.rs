//! `vamp resolve`, `vamp deployment merge|remove`, `vamp put`, `vamp list`,
//! `vamp delete`, `vamp history` and `vamp diff`: blueprints resolved
//! against a folder of stored artifacts, and the artifacts kept there.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{json, Value};
use vamp_deploy::directory::DirectoryStore;
use vamp_deploy::lifecycle::{self, Plan};
use vamp_deploy::resolve::resolve_blueprint;
use vamp_deploy::store::Store;
use vamp_dsl::{read_bytes, ReadOptions};
use vamp_model::{Artifact, Blueprint, Code, Deployment, Diagnostic, Document, Kind};

use crate::input;
use crate::render::CliError;

macro_rules! to_json {
    ($v:expr) => {
        serde_json::to_value($v).unwrap_or(Value::Null)
    };
}

/// Commands of this area.
#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Resolve a blueprint against a store and print the new deployment.
    Resolve {
        /// Folder of stored artifacts (YAML files, any layout).
        #[arg(long)]
        store: String,
        /// The blueprint file (`-` reads standard input).
        file: String,
    },
    /// Merge a blueprint into a deployment, or remove one from it.
    Deployment {
        #[command(subcommand)]
        action: DeploymentCmd,
    },
    /// Store the documents of files (each as a new revision of its artifact).
    ///
    /// Every file is read and checked first; nothing is written unless all
    /// of them are free of errors.
    Put {
        /// Folder of stored artifacts (created when missing).
        #[arg(long)]
        store: String,
        /// Read every document as this kind (breed, blueprint, scale, ...)
        /// instead of telling kinds apart by their shape.
        #[arg(long)]
        kind: Option<String>,
        /// Files to store (`-` reads standard input).
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// List the names of the stored artifacts of a kind.
    List {
        /// Folder of stored artifacts.
        #[arg(long)]
        store: String,
        /// Kind: breed, blueprint, scale, sla, ...
        kind: String,
    },
    /// Delete a stored artifact (its history keeps the deleted revision).
    Delete {
        /// Folder of stored artifacts.
        #[arg(long)]
        store: String,
        /// Kind: breed, blueprint, scale, sla, ...
        kind: String,
        /// Artifact name.
        name: String,
    },
    /// List the revisions of a stored artifact.
    History {
        /// Folder of stored artifacts.
        #[arg(long)]
        store: String,
        /// Kind: breed, blueprint, scale, sla, ...
        kind: String,
        /// Artifact name.
        name: String,
    },
    /// Show what changed between two revisions of a stored artifact.
    Diff {
        /// Folder of stored artifacts.
        #[arg(long)]
        store: String,
        /// Kind: breed, blueprint, scale, sla, ...
        kind: String,
        /// Artifact name.
        name: String,
        /// The older revision.
        rev1: u32,
        /// The newer revision.
        rev2: u32,
    },
}

/// `vamp deployment ...`.
#[derive(Subcommand)]
pub(crate) enum DeploymentCmd {
    /// Merge a blueprint into a deployment; prints the deployment and the steps.
    Merge {
        /// Folder of stored artifacts.
        #[arg(long)]
        store: String,
        /// The deployment JSON printed by `vamp resolve` (or a previous merge).
        #[arg(long)]
        deployment: String,
        /// The blueprint file, or the name of a stored blueprint.
        blueprint: String,
    },
    /// Remove a blueprint's services from a deployment; prints the deployment and the steps.
    Remove {
        /// Folder of stored artifacts.
        #[arg(long)]
        store: String,
        /// The deployment JSON printed by `vamp resolve` (or a previous merge).
        #[arg(long)]
        deployment: String,
        /// The blueprint file, or the name of a stored blueprint.
        blueprint: String,
    },
}

/// Runs a command of this area.
pub(crate) fn run(cmd: Cmd) -> ExitCode {
    let result = match cmd {
        Cmd::Resolve { store, file } => resolve(&store, &file),
        Cmd::Deployment {
            action:
                DeploymentCmd::Merge {
                    store,
                    deployment,
                    blueprint,
                },
        } => change(&store, &deployment, &blueprint, true),
        Cmd::Deployment {
            action:
                DeploymentCmd::Remove {
                    store,
                    deployment,
                    blueprint,
                },
        } => change(&store, &deployment, &blueprint, false),
        Cmd::Put { store, kind, files } => put(&store, kind.as_deref(), &files),
        Cmd::List { store, kind } => list(&store, &kind),
        Cmd::Delete { store, kind, name } => delete(&store, &kind, &name),
        Cmd::History { store, kind, name } => history(&store, &kind, &name),
        Cmd::Diff {
            store,
            kind,
            name,
            rev1,
            rev2,
        } => diff(&store, &kind, &name, rev1, rev2),
    };
    match result {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(d) => {
            CliError::from(d).report(true);
            ExitCode::FAILURE
        }
    }
}

fn open(dir: &str) -> Result<DirectoryStore, Diagnostic> {
    if !Path::new(dir).is_dir() {
        return Err(Diagnostic::error(
            Code::Io,
            format!("the store `{dir}` is not a folder"),
        ));
    }
    let store = DirectoryStore::open(dir).map_err(|e| e.to_diagnostic())?;
    for p in store.problems() {
        eprintln!("warning: {dir}: {p}");
    }
    Ok(store)
}

/// A blueprint file, or when no such file exists the stored blueprint of
/// that name.
fn read_blueprint(file: &str, store: &DirectoryStore) -> Result<Artifact<Blueprint>, Diagnostic> {
    if file != "-" && !Path::new(file).exists() {
        if let Ok(Some(Document::Blueprint(b))) = store.get(Kind::Blueprint, file) {
            return Ok(b);
        }
    }
    input::read_blueprint(file)
        .map(|(b, _)| b)
        .map_err(|e| *e.diagnostic)
}

/// Points a resolution failure at the store's broken files when they may be why.
fn with_problems(mut d: Diagnostic, store: &DirectoryStore) -> Diagnostic {
    if d.code == Code::UnresolvedDependency && !store.problems().is_empty() {
        let files: Vec<String> = store.problems().iter().map(ToString::to_string).collect();
        d.help = Some(format!(
            "some files of the store could not be read: {}",
            files.join("; ")
        ));
    }
    d
}

fn resolve(dir: &str, file: &str) -> Result<Value, Diagnostic> {
    let store = open(dir)?;
    let bp = read_blueprint(file, &store)?;
    let d = resolve_blueprint(&bp, &store).map_err(|d| with_problems(d, &store))?;
    Ok(to_json!(&d))
}

fn change(dir: &str, deployment: &str, blueprint: &str, merge: bool) -> Result<Value, Diagnostic> {
    let store = open(dir)?;
    let bytes = input::read_at_most(deployment, u64::MAX)?;
    let json: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Diagnostic::error(
            Code::UnexpectedType,
            format!("`{deployment}` is not JSON: {e}"),
        )
    })?;
    let current: Artifact<Deployment> = Deployment::from_json(&json)?;
    let bp = read_blueprint(blueprint, &store)?;
    let Plan { deployment, steps } = if merge {
        lifecycle::merge(&current, &bp, &store).map_err(|d| with_problems(d, &store))?
    } else {
        lifecycle::remove(&current, &bp)?
    };
    Ok(json!({ "deployment": to_json!(&deployment), "steps": to_json!(&steps) }))
}

fn kind_of(kind: &str) -> Result<Kind, Diagnostic> {
    Kind::parse(kind).ok_or_else(|| {
        Diagnostic::error(Code::InconsistentArtifactKind, format!("`{kind}` is not a kind: use breed, blueprint, gateway, condition, rewrite, scale, sla, escalation or workflow"))
    })
}

/// The documents of `files`, or the first error (positioned, its message
/// naming the file).
fn read_documents(files: &[String], kind: Option<Kind>) -> Result<Vec<Document>, Diagnostic> {
    let mut documents = Vec::new();
    for file in files {
        let bytes = input::read_input(file)?;
        let options = ReadOptions {
            kind,
            ..ReadOptions::default()
        };
        let read = read_bytes(&bytes, options).into_result().map_err(|mut e| {
            e.message = format!("{file}: {}", e.message);
            e
        })?;
        documents.extend(read);
    }
    Ok(documents)
}

fn put(dir: &str, kind: Option<&str>, files: &[String]) -> Result<Value, Diagnostic> {
    let kind = kind.map(kind_of).transpose()?;
    let documents = read_documents(files, kind)?;
    std::fs::create_dir_all(dir).map_err(|e| {
        Diagnostic::error(Code::Io, format!("cannot create the store `{dir}`: {e}"))
    })?;
    let mut store = open(dir)?;
    let mut stored = Vec::with_capacity(documents.len());
    for document in documents {
        let (kind, name) = (document.kind(), document.name().to_owned());
        let revision = store.put(document).map_err(|e| e.to_diagnostic())?;
        stored.push(json!({ "kind": kind.as_str(), "name": name, "revision": revision }));
    }
    Ok(json!({ "stored": stored }))
}

fn list(dir: &str, kind: &str) -> Result<Value, Diagnostic> {
    let store = open(dir)?;
    let kind = kind_of(kind)?;
    let names = store.list(kind).map_err(|e| e.to_diagnostic())?;
    Ok(json!({ "kind": kind.as_str(), "names": names }))
}

fn delete(dir: &str, kind: &str, name: &str) -> Result<Value, Diagnostic> {
    let mut store = open(dir)?;
    let kind = kind_of(kind)?;
    if !store.delete(kind, name).map_err(|e| e.to_diagnostic())? {
        return Err(Diagnostic::error(
            Code::UnresolvedDependency,
            format!("the store has no {kind} `{name}`: `vamp list --store {dir} {kind}` shows what it has"),
        ));
    }
    Ok(json!({ "kind": kind.as_str(), "name": name, "deleted": true }))
}

fn history(dir: &str, kind: &str, name: &str) -> Result<Value, Diagnostic> {
    let store = open(dir)?;
    let kind = kind_of(kind)?;
    let revisions = store.history(kind, name).map_err(|e| e.to_diagnostic())?;
    if revisions.is_empty() {
        return Err(Diagnostic::error(
            Code::UnresolvedDependency,
            format!("the store has no {kind} `{name}`"),
        ));
    }
    let list: Vec<Value> = revisions
        .iter()
        .map(|r| json!({ "revision": r.revision, "deleted": r.document.is_none(), "document": to_json!(&r.document) }))
        .collect();
    Ok(json!({ "kind": kind.as_str(), "name": name, "revisions": list }))
}

fn diff(dir: &str, kind: &str, name: &str, rev1: u32, rev2: u32) -> Result<Value, Diagnostic> {
    let store = open(dir)?;
    let kind = kind_of(kind)?;
    let changes = store
        .diff(kind, name, rev1, rev2)
        .map_err(|e| e.to_diagnostic())?;
    Ok(
        json!({ "kind": kind.as_str(), "name": name, "from": rev1, "to": rev2, "changes": to_json!(&changes) }),
    )
}
