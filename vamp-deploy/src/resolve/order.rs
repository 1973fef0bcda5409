//! Step 2: the breed dependency graph of a deployment and its deploy order
//! (dependencies first, through `vamp_model::graph`).

use rustc_hash::{FxBuildHasher, FxHashMap};

use vamp_model::artifact::{Breed, OrRef};
use vamp_model::deployment::{DeployedService, Deployment};
use vamp_model::diagnostic::{Code, Diagnostic};
use vamp_model::graph::dependencies_first;
use vamp_model::span::Span;

use super::references::{locate_site, Sites};

/// One service of a deployment: its cluster and breed name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ServiceRef {
    /// Cluster name.
    pub cluster: String,
    /// Breed name (identifies the service in its cluster).
    pub service: String,
}

/// The services of a deployment, flattened, with lookup tables.
pub(super) struct Flat<'a> {
    pub(super) items: Vec<(&'a str, &'a DeployedService)>,
    pub(super) by_breed: FxHashMap<&'a str, usize>,
    pub(super) d: &'a Deployment,
    /// Where each cluster's services start in `items` (by cluster index),
    /// plus the end.
    pub(super) starts: Vec<usize>,
    /// The first breed run by two services: (first, second) item.
    pub(super) duplicate: Option<(usize, usize)>,
}

impl<'a> Flat<'a> {
    pub(super) fn new(d: &'a Deployment) -> Self {
        let mut items = Vec::with_capacity(d.clusters.len());
        let mut by_breed = FxHashMap::with_capacity_and_hasher(d.clusters.len(), FxBuildHasher);
        let mut starts = Vec::with_capacity(d.clusters.len() + 1);
        let mut duplicate = None;
        for (cname, c) in &d.clusters {
            starts.push(items.len());
            for s in &c.services {
                match by_breed.entry(s.breed.name.as_str()) {
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(items.len());
                    }
                    std::collections::hash_map::Entry::Occupied(e) => {
                        if duplicate.is_none() {
                            duplicate = Some((*e.get(), items.len()));
                        }
                    }
                }
                items.push((cname.as_str(), s));
            }
        }
        starts.push(items.len());
        Flat {
            items,
            by_breed,
            d,
            starts,
            duplicate,
        }
    }

    /// The item indices of a cluster's services.
    pub(super) fn members(&self, cluster: &str) -> std::ops::Range<usize> {
        match self.d.clusters.get_index_of(cluster) {
            Some(i) => self.starts[i]..self.starts[i + 1],
            None => 0..0,
        }
    }

    /// The service running the breed `name` (`prefix*` matches by prefix).
    pub(super) fn provider(&self, name: &str) -> Option<usize> {
        match name.strip_suffix('*') {
            Some(prefix) => self
                .items
                .iter()
                .position(|(_, s)| s.breed.name.starts_with(prefix)),
            None => self.by_breed.get(name).copied(),
        }
    }
}

pub(super) fn dependency_name(d: &OrRef<Breed>) -> &str {
    match d {
        OrRef::Inline(b) => &b.name,
        OrRef::Reference(r) => &r.name,
    }
}

pub(super) fn locate(sites: &Sites<'_>, cluster: &str, breed: &str, inner: Option<Span>) -> Span {
    locate_site(sites.get(cluster, breed).as_ref(), inner)
}

pub(super) fn service_path(d: &Deployment, cluster: &str, breed: &str) -> String {
    let i = d
        .clusters
        .get(cluster)
        .and_then(|c| c.services.iter().position(|s| s.breed.name == breed))
        .unwrap_or(0);
    format!("clusters.{cluster}.services[{i}]")
}

/// Edges service -> provider service, by flat index.
pub(super) fn edges(
    flat: &Flat<'_>,
    d: &Deployment,
    sites: &Sites<'_>,
) -> Result<Edges, Diagnostic> {
    let mut out = Edges {
        targets: Vec::with_capacity(flat.items.len()),
        starts: Vec::with_capacity(flat.items.len() + 1),
    };
    for (cname, s) in &flat.items {
        out.starts.push(out.targets.len());
        for (alias, dep) in &s.breed.dependencies {
            let name = dependency_name(dep);
            match flat.provider(name) {
                Some(j) => out.targets.push(j),
                None => {
                    return Err(Diagnostic::error(
                        Code::UnresolvedBreedDependency,
                        format!(
                            "the breed `{}` (cluster `{cname}`) depends on `{name}` as `{alias}`, but no cluster of the deployment runs it: add a cluster with that breed",
                            s.breed.name
                        ),
                    )
                    .at(locate(sites, cname, &s.breed.name, s.breed.span))
                    .with_path(format!("{}.breed.dependencies.{alias}", service_path(d, cname, &s.breed.name))));
                }
            }
        }
    }
    out.starts.push(out.targets.len());
    Ok(out)
}

/// Edges service -> provider services, by flat index (compressed rows).
pub(super) struct Edges {
    pub(super) targets: Vec<usize>,
    /// Where each service's targets start, plus the end.
    pub(super) starts: Vec<usize>,
}

impl Edges {
    pub(super) fn of(&self, i: usize) -> &[usize] {
        &self.targets[self.starts[i]..self.starts[i + 1]]
    }
}

/// Dependencies first (see [`vamp_model::graph::dependencies_first`]).
/// Fails on a cycle, naming it.
pub(super) fn topo(
    flat: &Flat<'_>,
    edges: &Edges,
    sites: &Sites<'_>,
) -> Result<Vec<usize>, Diagnostic> {
    dependencies_first(flat.items.len(), |i| edges.of(i).iter().copied()).map_err(|cycle| {
        let names: Vec<&str> = cycle
            .iter()
            .map(|&x| flat.items[x].1.breed.name.as_str())
            .collect();
        let (cname, s) = flat.items[cycle[cycle.len() - 1]];
        Diagnostic::error(
            Code::RecursiveDependencies,
            format!("breed dependencies form a cycle: {}", names.join(" -> ")),
        )
        .at(locate(sites, cname, &s.breed.name, s.breed.span))
        .with_path(format!("clusters.{cname}"))
    })
}

/// The order in which the services of a deployment can be deployed:
/// every service after the services it depends on, otherwise in
/// deployment order.
///
/// # Errors
/// `unresolved_breed_dependency` when a dependency is run by no cluster,
/// `recursive_dependencies` naming the cycle.
pub fn deploy_order(deployment: &Deployment) -> Result<Vec<ServiceRef>, Diagnostic> {
    let flat = Flat::new(deployment);
    let sites = Sites::default();
    let e = edges(&flat, deployment, &sites)?;
    let order = topo(&flat, &e, &sites)?;
    Ok(order
        .into_iter()
        .map(|i| ServiceRef {
            cluster: flat.items[i].0.to_owned(),
            service: flat.items[i].1.breed.name.clone(),
        })
        .collect())
}
