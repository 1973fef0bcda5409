//! The deployment lifecycle: merging a blueprint into a deployment and
//! removing one from it, as the original Vamp did, each computed as a new
//! deployment plus an explicit, deterministic list of [`Step`]s before
//! anything runs.
//!
//! - **Merge** adds the blueprint's services to their clusters (new
//!   clusters are created; a service whose breed already runs in the
//!   cluster is redeployed with the blueprint's settings). A new service in
//!   an existing cluster gets 0% of the traffic unless the blueprint's
//!   cluster gateway gives weights; services the blueprint's gateway does
//!   not list share what is left.
//! - **Remove** takes the blueprint's services out of their clusters. It is
//!   refused (`invalid_route_weight`) unless, per port, the routes of the
//!   services that remain already total 100%: move the weight first.
//!
//! Weights of every gateway always total 100 afterwards.
//!
//! ```
//! use vamp_deploy::lifecycle::{merge, remove};
//! use vamp_deploy::resolve::resolve_blueprint;
//! use vamp_deploy::store::MemoryStore;
//! use vamp_model::{Artifact, Blueprint, Breed, Cluster, Deployable, Map, OrRef, Port, Service};
//! fn bp(version: &str) -> Artifact<Blueprint> {
//!     let mut ports = Map::new();
//!     ports.insert("web".to_owned(), Port::parse("8080").unwrap());
//!     let breed = Breed {
//!         name: format!("shop:{version}"),
//!         deployable: Deployable { deployable_type: None, definition: format!("acme/shop:{version}") },
//!         ports,
//!         ..Breed::default()
//!     };
//!     let service = Service::new(OrRef::Inline(breed));
//!     let mut clusters = Map::new();
//!     clusters.insert("shop".to_owned(), Cluster { services: vec![service], ..Cluster::default() });
//!     Artifact::new("shop", Blueprint { clusters, ..Blueprint::default() })
//! }
//! let store = MemoryStore::default();
//! let v1 = resolve_blueprint(&bp("1"), &store).unwrap();
//! let canary = merge(&v1, &bp("2"), &store).unwrap();
//! let routes = &canary.deployment.spec.clusters["shop"].gateways["web"].routes;
//! assert_eq!(routes["shop:1"].as_inline().unwrap().weight, Some(100));
//! assert_eq!(routes["shop:2"].as_inline().unwrap().weight, Some(0));
//! let back = remove(&canary.deployment, &bp("2")).unwrap();
//! assert_eq!(back.deployment, v1);
//! ```

use std::collections::HashSet;

use serde::Serialize;

use crate::resolve::{
    self, fill_weights, load, merge_top_level, merge_values, NoRuntime, Runtime, ServiceRef,
};
use crate::store::Store;
use vamp_model::artifact::{Blueprint, Gateway, Map, OrRef, Route};
use vamp_model::deployment::{DeployedCluster, DeployedService, Deployment, Status};
use vamp_model::diagnostic::{Code, Diagnostic};
use vamp_model::span::Span;
use vamp_model::Artifact;

/// One thing to do to bring the running system to a new deployment.
/// Serializes as `{"step": "deploy_service", "cluster": ..., "service": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// A new cluster.
    CreateCluster {
        /// Cluster name.
        cluster: String,
    },
    /// Start a new service.
    DeployService {
        /// Cluster name.
        cluster: String,
        /// Breed name.
        service: String,
    },
    /// Restart a service with new settings.
    RedeployService {
        /// Cluster name.
        cluster: String,
        /// Breed name.
        service: String,
    },
    /// Create or update a gateway with these route weights.
    SetGateway {
        /// `deployment/cluster/port` (internal) or `deployment/key`.
        gateway: String,
        /// Route to weight, in route order.
        weights: Map<u8>,
    },
    /// Stop a service.
    UndeployService {
        /// Cluster name.
        cluster: String,
        /// Breed name.
        service: String,
    },
    /// Delete a gateway.
    RemoveGateway {
        /// Gateway name.
        gateway: String,
    },
    /// Delete a cluster that has no service left.
    RemoveCluster {
        /// Cluster name.
        cluster: String,
    },
}

/// A new deployment and the steps that lead to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The deployment after the change.
    pub deployment: Artifact<Deployment>,
    /// What to do, in order.
    pub steps: Vec<Step>,
}

/// Merges a blueprint into a deployment (see the module documentation).
///
/// # Errors
/// Any resolution error of [`crate::resolve`], or `route_weight` /
/// `unresolved_service_route` / `unresolved_gateway_port` for gateways.
pub fn merge(
    deployment: &Artifact<Deployment>,
    blueprint: &Artifact<Blueprint>,
    store: &dyn Store,
) -> Result<Plan, Diagnostic> {
    merge_with(deployment, blueprint, store, &NoRuntime)
}

/// [`merge`] with the runtime values a driver knows.
///
/// # Errors
/// As [`merge`].
pub fn merge_with(
    deployment: &Artifact<Deployment>,
    blueprint: &Artifact<Blueprint>,
    store: &dyn Store,
    runtime: &dyn Runtime,
) -> Result<Plan, Diagnostic> {
    let loaded = load(blueprint, store)?;
    let mut out = deployment.clone();
    merge_top_level(&mut out, blueprint, loaded.gateways)?;
    out.spec.clusters.reserve(loaded.clusters.len());
    let mut steps = Vec::new();
    let mut touched: HashSet<(String, String)> = HashSet::with_capacity(loaded.sites.len());
    let mut redeployed: HashSet<(String, String)> = HashSet::new();
    for (cname, lc) in loaded.clusters {
        let exists = out.spec.clusters.contains_key(&cname);
        if !exists {
            steps.push(Step::CreateCluster {
                cluster: cname.clone(),
            });
            out.spec.clusters.insert(cname.clone(), lc.cluster.clone());
        }
        let Some(c) = out.spec.clusters.get_mut(&cname) else {
            continue;
        };
        if exists {
            merge_values(&mut c.metadata, &lc.cluster.metadata);
            merge_values(&mut c.dialects, &lc.cluster.dialects);
            if lc.written_sla {
                c.sla = lc.cluster.sla.clone();
            }
            if lc.cluster.health_checks.is_some() {
                c.health_checks = lc.cluster.health_checks.clone();
            }
            if lc.cluster.network.is_some() {
                c.network = lc.cluster.network.clone();
            }
        }
        for (svc, scale_written) in lc.services {
            let key = (cname.clone(), svc.breed.name.clone());
            if add_service(c, svc, scale_written) {
                redeployed.insert(key.clone());
            }
            touched.insert(key);
        }
        cluster_gateways(c, &lc.gateways, &cname, lc.span)?;
    }
    let order = resolve::finalize(&mut out, Some(&touched), &loaded.sites, runtime, true)?;
    for s in order {
        let key = (s.cluster, s.service);
        if !touched.contains(&key) {
            continue;
        }
        let (cluster, service) = key.clone();
        steps.push(if redeployed.contains(&key) {
            Step::RedeployService { cluster, service }
        } else {
            Step::DeployService { cluster, service }
        });
    }
    let (set, removed) = gateway_steps(&deployment.spec, &out.spec, &out.name);
    steps.extend(set);
    steps.extend(removed);
    Ok(Plan {
        deployment: out,
        steps,
    })
}

/// Adds a loaded service to a cluster; a service whose breed already runs
/// there is redeployed with the new settings instead (returns true).
pub(crate) fn add_service(
    c: &mut DeployedCluster,
    svc: DeployedService,
    scale_written: bool,
) -> bool {
    match c
        .services
        .iter_mut()
        .find(|s| s.breed.name == svc.breed.name)
    {
        Some(old) => {
            old.breed = svc.breed;
            if scale_written {
                old.scale = svc.scale;
            }
            old.environment_variables = svc.environment_variables;
            old.arguments = svc.arguments;
            old.health_checks = svc.health_checks;
            old.network = svc.network;
            old.dialects = svc.dialects;
            old.environment = Map::new();
            old.instances = Vec::new();
            old.status = Status::deploy();
            true
        }
        None => {
            c.services.push(svc);
            false
        }
    }
}

/// Recomputes a cluster's internal gateways: one per port its services
/// offer, a route per service exposing the port, weights filled.
pub(crate) fn cluster_gateways(
    c: &mut DeployedCluster,
    written: &Map<Gateway>,
    cname: &str,
    span: Option<Span>,
) -> Result<(), Diagnostic> {
    let services = &c.services;
    let mut ports: Vec<&str> = Vec::new();
    for s in services {
        for p in s.breed.ports.keys() {
            if !ports.contains(&p.as_str()) {
                ports.push(p);
            }
        }
    }
    let mut by_port: Map<&Gateway> = Map::new();
    for (key, g) in written {
        let at = g.span.or(span).unwrap_or(Span::START);
        let gpath = format!("clusters.{cname}.gateways.{key}");
        let port = if key.is_empty() {
            if let Some(s) = c.services.iter().find(|s| s.breed.ports.len() > 1) {
                return Err(Diagnostic::error(
                    Code::IllegalAnonymousRoutingPortMapping,
                    format!("the breed `{}` has {} ports, so the gateway must name the port it routes: write `gateways: {{PORT: {{...}}}}`", s.breed.name, s.breed.ports.len()),
                )
                .at(at)
                .with_path(gpath));
            }
            match ports.as_slice() {
                [one] => (*one).to_owned(),
                _ => {
                    return Err(Diagnostic::error(
                        Code::UnresolvedGatewayPort,
                        format!("the gateway of the cluster `{cname}` names no port and its breeds offer {}: key it by the port", if ports.is_empty() { "none".to_owned() } else { ports.join(", ") }),
                    )
                    .at(at)
                    .with_path(gpath))
                }
            }
        } else {
            key.clone()
        };
        if !ports.contains(&port.as_str()) {
            return Err(Diagnostic::error(
                Code::UnresolvedGatewayPort,
                format!("the cluster gateway routes the port `{port}`, which no breed of the cluster `{cname}` has"),
            )
            .at(at)
            .with_path(gpath));
        }
        for (rname, r) in &g.routes {
            if !c.services.iter().any(|s| &s.breed.name == rname) {
                let rspan = r.as_inline().and_then(|r| r.span).unwrap_or(at);
                return Err(Diagnostic::error(
                    Code::UnresolvedServiceRoute,
                    format!("the route `{rname}` names no service of the cluster `{cname}`: use a breed name of its services"),
                )
                .at(rspan)
                .with_path(format!("{gpath}.routes.{rname}")));
            }
        }
        by_port.insert(port, g);
    }
    let old = std::mem::take(&mut c.gateways);
    let mut order: Vec<&str> = old
        .keys()
        .map(String::as_str)
        .filter(|k| ports.contains(k))
        .collect();
    for &p in &ports {
        if !order.contains(&p) {
            order.push(p);
        }
    }
    let mut new = Map::with_capacity(order.len());
    for port in order {
        let exposing = services
            .iter()
            .filter(|s| s.breed.ports.contains_key(port))
            .map(|s| &s.breed.name);
        let (mut g, from): (Gateway, Option<&Map<OrRef<Route>>>) =
            match (by_port.get(port), old.get(port)) {
                (Some(w), _) => ((*w).clone(), Some(&w.routes)),
                (None, Some(o)) => (o.clone(), Some(&o.routes)),
                (None, None) => (Gateway::default(), None),
            };
        g.routes = exposing
            .map(|n| {
                (
                    n.clone(),
                    from.and_then(|r| r.get(n))
                        .cloned()
                        .unwrap_or_else(|| OrRef::Inline(Route::default())),
                )
            })
            .collect();
        fill_weights(&mut g.routes).map_err(|m| {
            Diagnostic::error(
                Code::RouteWeight,
                format!("the gateway of `{cname}` port `{port}`: {m}"),
            )
            .at(g.routes_span.or(g.span).or(span).unwrap_or(Span::START))
            .with_path(format!("clusters.{cname}.gateways.{port}.routes"))
        })?;
        new.insert(port.to_owned(), g);
    }
    c.gateways = new;
    Ok(())
}

fn weights(g: &Gateway) -> Map<u8> {
    g.routes
        .iter()
        .map(|(k, r)| (k.clone(), r.as_inline().and_then(|r| r.weight).unwrap_or(0)))
        .collect()
}

/// Gateway changes from `before` to `after`: (creates/updates, removals).
fn gateway_steps(before: &Deployment, after: &Deployment, name: &str) -> (Vec<Step>, Vec<Step>) {
    let mut set = Vec::new();
    let mut removed = Vec::new();
    let mut visit = |old: Option<&Map<Gateway>>, new: Option<&Map<Gateway>>, prefix: String| {
        if let Some(new) = new {
            for (k, g) in new {
                if old.and_then(|o| o.get(k)) != Some(g) {
                    set.push(Step::SetGateway {
                        gateway: format!("{prefix}/{k}"),
                        weights: weights(g),
                    });
                }
            }
        }
        if let Some(old) = old {
            for k in old.keys() {
                if !new.is_some_and(|n| n.contains_key(k)) {
                    removed.push(Step::RemoveGateway {
                        gateway: format!("{prefix}/{k}"),
                    });
                }
            }
        }
    };
    for (cname, c) in &after.clusters {
        visit(
            before.clusters.get(cname).map(|c| &c.gateways),
            Some(&c.gateways),
            format!("{name}/{cname}"),
        );
    }
    for (cname, c) in &before.clusters {
        if !after.clusters.contains_key(cname) {
            visit(Some(&c.gateways), None, format!("{name}/{cname}"));
        }
    }
    visit(
        Some(&before.gateways),
        Some(&after.gateways),
        name.to_owned(),
    );
    (set, removed)
}

/// Removes a blueprint's services from a deployment (see the module
/// documentation). Services are matched by cluster name and breed name;
/// names the deployment does not run are ignored. Clusters left without
/// services are removed, with their blueprint-level variables and the
/// deployment gateways that only route to them.
///
/// # Errors
/// `invalid_route_weight` when the remaining routes of a port do not total
/// 100; `unresolved_breed_dependency` when a remaining service depends on
/// a removed one.
pub fn remove(
    deployment: &Artifact<Deployment>,
    blueprint: &Artifact<Blueprint>,
) -> Result<Plan, Diagnostic> {
    let mut leaving: Vec<(String, String, Option<Span>)> = Vec::new();
    for (cname, c) in &blueprint.spec.clusters {
        let Some(dc) = deployment.spec.clusters.get(cname) else {
            continue;
        };
        for s in &c.services {
            let (name, span) = match &s.breed {
                OrRef::Inline(b) => (&b.name, b.span.or(s.span)),
                OrRef::Reference(r) => (&r.name, r.span.or(s.span)),
            };
            if dc.service(name).is_some() {
                leaving.push((cname.clone(), name.clone(), span.or(c.span)));
            }
        }
    }
    if leaving.is_empty() {
        return Ok(Plan {
            deployment: deployment.clone(),
            steps: Vec::new(),
        });
    }
    let is_leaving = |c: &str, s: &str| leaving.iter().any(|(lc, ls, _)| lc == c && ls == s);
    // Weights of what remains must already total 100.
    for (cname, c) in &deployment.spec.clusters {
        let Some((_, _, span)) = leaving.iter().find(|(lc, _, _)| lc == cname) else {
            continue;
        };
        for (port, g) in &c.gateways {
            let remaining: Vec<u32> = g
                .routes
                .iter()
                .filter(|(k, _)| !is_leaving(cname, k))
                .map(|(_, r)| r.as_inline().and_then(|r| r.weight).map_or(0, u32::from))
                .collect();
            let total: u32 = remaining.iter().sum();
            if !remaining.is_empty() && total != 100 {
                return Err(Diagnostic::error(
                    Code::InvalidRouteWeight,
                    format!("after the removal the routes of `{cname}` port `{port}` would total {total}%: first move the weight of the services being removed to the ones that stay (merge a gateway with weights)"),
                )
                .at(span.unwrap_or(Span::START))
                .with_path(format!("clusters.{cname}.gateways.{port}.routes")));
            }
        }
    }
    let order = resolve::deploy_order(&deployment.spec)?;
    let mut out = deployment.clone();
    let mut emptied = Vec::new();
    for (cname, c) in out.spec.clusters.iter_mut() {
        c.services.retain(|s| !is_leaving(cname, &s.breed.name));
        for g in c.gateways.values_mut() {
            g.routes.retain(|k, _| !is_leaving(cname, k));
        }
        c.gateways.retain(|_, g| !g.routes.is_empty());
        if c.services.is_empty() {
            emptied.push(cname.clone());
        }
    }
    for cname in &emptied {
        out.spec.clusters.shift_remove(cname);
        let prefix = format!("{cname}.environment_variables.");
        out.spec
            .environment_variables
            .retain(|k, _| !k.starts_with(&prefix));
    }
    out.spec.gateways.retain(|_, g| {
        g.routes.is_empty()
            || g.routes.keys().any(|r| {
                let cluster = r.split('/').next().unwrap_or(r);
                !emptied.iter().any(|e| e == cluster)
            })
    });
    // What remains must still have its dependencies.
    if let Err(mut d) = resolve::deploy_order(&out.spec) {
        if let Some((_, _, span)) = leaving.first() {
            d.span = Some(span.unwrap_or(Span::START));
        }
        d.message = format!("cannot remove these services: {}", d.message);
        return Err(d);
    }
    let (set, removed) = gateway_steps(&deployment.spec, &out.spec, &out.name);
    let mut steps = set;
    for ServiceRef { cluster, service } in order.into_iter().rev() {
        if is_leaving(&cluster, &service) {
            steps.push(Step::UndeployService { cluster, service });
        }
    }
    steps.extend(removed);
    steps.extend(
        emptied
            .into_iter()
            .map(|cluster| Step::RemoveCluster { cluster }),
    );
    Ok(Plan {
        deployment: out,
        steps,
    })
}
