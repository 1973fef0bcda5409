//! What the server holds: every artifact by kind and name, in memory for
//! reads and written through the [`Store`] for durability.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use vamp_model::{Artifact, Deployment, Document, Kind};

use crate::engine;
use crate::store::{Store, StoreError};

/// The kinds of the API, by their plural path word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiKind {
    /// `breeds`
    Breeds,
    /// `blueprints`
    Blueprints,
    /// `slas`
    Slas,
    /// `scales`
    Scales,
    /// `escalations`
    Escalations,
    /// `routes`
    Routes,
    /// `conditions`
    Conditions,
    /// `rewrites`
    Rewrites,
    /// `workflows`
    Workflows,
    /// `gateways`
    Gateways,
    /// `deployments`
    Deployments,
    /// `templates`
    Templates,
}

impl ApiKind {
    /// Every kind.
    pub const ALL: [ApiKind; 12] = [
        ApiKind::Breeds,
        ApiKind::Blueprints,
        ApiKind::Slas,
        ApiKind::Scales,
        ApiKind::Escalations,
        ApiKind::Routes,
        ApiKind::Conditions,
        ApiKind::Rewrites,
        ApiKind::Workflows,
        ApiKind::Gateways,
        ApiKind::Deployments,
        ApiKind::Templates,
    ];

    /// The plural word.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKind::Breeds => "breeds",
            ApiKind::Blueprints => "blueprints",
            ApiKind::Slas => "slas",
            ApiKind::Scales => "scales",
            ApiKind::Escalations => "escalations",
            ApiKind::Routes => "routes",
            ApiKind::Conditions => "conditions",
            ApiKind::Rewrites => "rewrites",
            ApiKind::Workflows => "workflows",
            ApiKind::Gateways => "gateways",
            ApiKind::Deployments => "deployments",
            ApiKind::Templates => "templates",
        }
    }

    /// Reads a kind written singular or plural (`breed`, `breeds`).
    pub fn parse(word: &str) -> Option<ApiKind> {
        let w = word.trim().to_ascii_lowercase();
        ApiKind::ALL
            .into_iter()
            .find(|k| k.as_str() == w || k.as_str().strip_suffix('s') == Some(w.as_str()))
    }

    /// The DSL kind, for kinds the DSL reader reads.
    pub fn model(self) -> Option<Kind> {
        match self {
            ApiKind::Breeds => Some(Kind::Breed),
            ApiKind::Blueprints => Some(Kind::Blueprint),
            ApiKind::Slas => Some(Kind::Sla),
            ApiKind::Scales => Some(Kind::Scale),
            ApiKind::Escalations => Some(Kind::Escalation),
            ApiKind::Conditions => Some(Kind::Condition),
            ApiKind::Rewrites => Some(Kind::Rewrite),
            ApiKind::Workflows => Some(Kind::Workflow),
            ApiKind::Gateways => Some(Kind::Gateway),
            ApiKind::Routes | ApiKind::Deployments | ApiKind::Templates => None,
        }
    }

    /// The API kind of a DSL kind.
    pub fn of(kind: Kind) -> ApiKind {
        ApiKind::ALL
            .into_iter()
            .find(|k| k.model() == Some(kind))
            .unwrap_or(ApiKind::Deployments)
    }

    /// Gateways, deployments and workflows answer 202 (they act in the background).
    pub fn background(self) -> bool {
        matches!(
            self,
            ApiKind::Gateways | ApiKind::Deployments | ApiKind::Workflows
        )
    }

    /// Writes of this kind emit archive events (every kind but rewrites).
    pub fn archived(self) -> bool {
        self != ApiKind::Rewrites
    }
}

/// Status times of one service (`cluster/breed`), kept beside the model's status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    /// When the intention was set.
    pub since: String,
    /// When the phase was entered.
    pub phase_since: String,
}

/// A deployment as the server keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRecord {
    /// What should run.
    pub deployment: Artifact<Deployment>,
    /// Services being undeployed (intention undeploy), same clusters.
    pub retiring: Artifact<Deployment>,
    /// Status times by `cluster/breed`.
    pub since: BTreeMap<String, Since>,
}

impl DeploymentRecord {
    /// A new, empty deployment.
    pub fn new(name: &str) -> Self {
        DeploymentRecord {
            deployment: Artifact::new(name, Deployment::empty()),
            retiring: Artifact::new(name, Deployment::empty()),
            since: BTreeMap::new(),
        }
    }

    /// True when nothing runs nor is being removed.
    pub fn is_empty(&self) -> bool {
        self.deployment.spec.clusters.is_empty() && self.retiring.spec.clusters.is_empty()
    }

    fn to_text(&self) -> String {
        json!({
            "deployment": self.deployment,
            "retiring": self.retiring,
            "since": self.since,
        })
        .to_string()
    }

    fn from_text(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let d = |k: &str| engine::deployment_from_json(&v[k]).map_err(|e| e.message);
        Ok(DeploymentRecord {
            deployment: d("deployment")?,
            retiring: d("retiring")?,
            since: serde_json::from_value(v["since"].clone()).map_err(|e| e.to_string())?,
        })
    }
}

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // held behind an Arc
pub enum Stored {
    /// A DSL document.
    Doc(Document),
    /// Plain storage (`templates`, `routes`).
    Plain(Value),
    /// A deployment.
    Deployment(Box<DeploymentRecord>),
}

impl Stored {
    fn to_text(&self) -> String {
        match self {
            Stored::Doc(d) => engine::to_text(d),
            Stored::Plain(v) => v.to_string(),
            Stored::Deployment(d) => d.to_text(),
        }
    }

    fn from_text(kind: ApiKind, text: &str) -> Result<Stored, String> {
        match (kind, kind.model()) {
            (ApiKind::Deployments, _) => {
                DeploymentRecord::from_text(text).map(|d| Stored::Deployment(Box::new(d)))
            }
            (_, Some(k)) => engine::read_one(text, Some(k))
                .map(Stored::Doc)
                .map_err(|d| d.message),
            (_, None) => serde_json::from_str(text)
                .map(Stored::Plain)
                .map_err(|e| e.to_string()),
        }
    }

    /// The document, for DSL kinds.
    pub fn doc(&self) -> Option<&Document> {
        match self {
            Stored::Doc(d) => Some(d),
            _ => None,
        }
    }
}

/// A stored value with its revision.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Store revision.
    pub revision: u64,
    /// The value.
    pub value: Arc<Stored>,
    /// The value as the API shows it in JSON, rendered on first read (a
    /// value never changes: a write makes a new entry).
    pub json: Arc<std::sync::OnceLock<axum::body::Bytes>>,
}

impl Entry {
    fn new(revision: u64, value: Stored) -> Self {
        Entry {
            revision,
            value: Arc::new(value),
            json: Arc::default(),
        }
    }
}

type Table = HashMap<ApiKind, BTreeMap<String, Entry>>;

/// Every artifact, cached, written through the store.
pub struct Artifacts {
    table: RwLock<Table>,
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for Artifacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifacts").finish_non_exhaustive()
    }
}

impl Artifacts {
    /// Loads everything the store holds. Records that no longer read are
    /// returned as problems (kind/name: why) and left out.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn load(store: Arc<dyn Store>) -> Result<(Artifacts, Vec<String>), StoreError> {
        let mut table = Table::new();
        let mut problems = Vec::new();
        for r in store.load_all()? {
            let Some(kind) = ApiKind::parse(&r.kind) else {
                problems.push(format!("{}/{}: unknown kind", r.kind, r.name));
                continue;
            };
            match Stored::from_text(kind, &r.body) {
                Ok(v) => {
                    table
                        .entry(kind)
                        .or_default()
                        .insert(r.name, Entry::new(r.revision, v));
                }
                Err(e) => problems.push(format!("{}/{}: {e}", r.kind, r.name)),
            }
        }
        Ok((
            Artifacts {
                table: RwLock::new(table),
                store,
            },
            problems,
        ))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }

    /// One entry.
    pub fn get(&self, kind: ApiKind, name: &str) -> Option<Entry> {
        self.read().get(&kind).and_then(|m| m.get(name)).cloned()
    }

    /// Every entry of a kind, by name.
    pub fn list(&self, kind: ApiKind) -> Vec<(String, Entry)> {
        self.read()
            .get(&kind)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// The names of a kind.
    pub fn names(&self, kind: ApiKind) -> Vec<String> {
        self.read()
            .get(&kind)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The stored DSL document of a kind and name.
    pub fn document(&self, kind: Kind, name: &str) -> Option<Document> {
        self.get(ApiKind::of(kind), name)
            .and_then(|e| e.value.doc().cloned())
    }

    /// A deployment.
    pub fn deployment(&self, name: &str) -> Option<DeploymentRecord> {
        self.get(ApiKind::Deployments, name)
            .and_then(|e| match &*e.value {
                Stored::Deployment(d) => Some((**d).clone()),
                _ => None,
            })
    }

    /// Writes a value (durably) and caches it; returns its revision and
    /// whether it existed before.
    ///
    /// # Errors
    /// When the store cannot be written (nothing changes then).
    pub fn put(&self, kind: ApiKind, name: &str, value: Stored) -> Result<(u64, bool), StoreError> {
        let revision = self
            .store
            .put(kind.as_str(), name, &value.to_text(), None)?;
        let mut t = self.table.write().unwrap_or_else(|e| e.into_inner());
        let existed = t
            .entry(kind)
            .or_default()
            .insert(name.to_owned(), Entry::new(revision, value))
            .is_some();
        Ok((revision, existed))
    }

    /// Caches a value without writing it, keeping the stored revision: for
    /// transient state that a restart derives again (a service's `updating`
    /// phase while a reconcile pass runs). The next [`Artifacts::put`] of the
    /// name writes it with the rest.
    pub fn put_transient(&self, kind: ApiKind, name: &str, value: Stored) {
        let mut t = self.table.write().unwrap_or_else(|e| e.into_inner());
        let m = t.entry(kind).or_default();
        let revision = m.get(name).map_or(0, |e| e.revision);
        m.insert(name.to_owned(), Entry::new(revision, value));
    }

    /// Deletes a value; false when there was none.
    ///
    /// # Errors
    /// When the store cannot be written.
    pub fn delete(&self, kind: ApiKind, name: &str) -> Result<bool, StoreError> {
        let existed = self.get(kind, name).is_some();
        if !existed {
            return Ok(false);
        }
        self.store.delete(kind.as_str(), name)?;
        let mut t = self.table.write().unwrap_or_else(|e| e.into_inner());
        Ok(t.get_mut(&kind).and_then(|m| m.remove(name)).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_singular_and_plural() {
        assert_eq!(ApiKind::parse("breed"), Some(ApiKind::Breeds));
        assert_eq!(ApiKind::parse("Deployments"), Some(ApiKind::Deployments));
        assert_eq!(ApiKind::parse("sla"), Some(ApiKind::Slas));
        assert_eq!(ApiKind::parse("bogus"), None);
        assert!(ApiKind::Gateways.background() && !ApiKind::Breeds.background());
        assert!(!ApiKind::Rewrites.archived());
        assert_eq!(ApiKind::of(Kind::Gateway), ApiKind::Gateways);
    }
}
