//! Reference resolution: a blueprint plus a [`Store`] becomes a fully
//! resolved [`Deployment`].
//!
//! The resolver is pure: it reads the store and computes. Values that only
//! exist at runtime (the gateway host, assigned gateway ports, global
//! references such as `${env://HOME}`) come from a [`Runtime`] the driver
//! supplies; [`resolve_blueprint`] uses [`NoRuntime`], which keeps them as
//! their reference text.
//!
//! What resolution does, in order:
//! 1. every reference (breeds, scales, SLAs and their escalations, route
//!    conditions and rewrites) is replaced by the stored artifact
//!    (`unresolved_dependency` naming the reference and where it is used);
//! 2. breed dependencies are mapped to the cluster that runs the depended-on
//!    breed (`unresolved_breed_dependency`), cycles are found
//!    (`recursive_dependencies`, naming the cycle) and a deploy order is
//!    computed ([`deploy_order`]);
//! 3. environment variables are merged over the scopes breed < cluster <
//!    service, place holders must be filled (`missing_environment_variable`)
//!    and every value is interpolated;
//! 4. every cluster port gets an internal gateway whose route weights total
//!    100 (the unweighted routes share what the written weights leave).
//!
//! ```
//! use vamp_deploy::resolve::resolve_blueprint;
//! use vamp_deploy::store::MemoryStore;
//! use vamp_model::{Artifact, Blueprint, Breed, Cluster, Deployable, Document, Map, OrRef, Reference, Service};
//! let breed = Breed {
//!     name: "web:1".into(), metadata: Map::new(),
//!     deployable: Deployable { deployable_type: None, definition: "acme/web:1".into() },
//!     ports: Map::new(), environment_variables: Map::new(), constants: Map::new(),
//!     arguments: vec![], dependencies: Map::new(), health_checks: None, span: None,
//! };
//! let store = MemoryStore::with([Document::Breed(breed)]);
//! let service = Service {
//!     breed: OrRef::Reference(Reference::new("web:1")), environment_variables: Map::new(),
//!     scale: None, arguments: vec![], health_checks: None, network: None, dialects: Map::new(), span: None,
//! };
//! let mut clusters = Map::new();
//! clusters.insert("web".to_owned(), Cluster {
//!     metadata: Map::new(), services: vec![service], gateways: Map::new(), health_checks: None,
//!     network: None, sla: None, dialects: Map::new(), span: None,
//! });
//! let bp = Artifact::new("shop", Blueprint {
//!     gateways: Map::new(), clusters, environment_variables: Map::new(), dialects: Map::new(),
//! });
//! let d = resolve_blueprint(&bp, &store).unwrap();
//! assert_eq!(d.name, "shop");
//! assert_eq!(d.spec.clusters["web"].services[0].breed.deployable.definition, "acme/web:1");
//! assert_eq!(d.spec.clusters["web"].services[0].scale.memory, 1000.0);
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use crate::store::Store;
use vamp_model::artifact::{
    Blueprint, Breed, Cluster, Document, Escalation, Gateway, Kind, Map, OrRef, Reference, Rewrite,
    Route, RouteCondition, Scale, Service, Sla, TraitValue, Value,
};
use vamp_model::deployment::{DeployedCluster, DeployedService, Deployment, Status};
use vamp_model::diagnostic::{Code, Diagnostic};
use vamp_model::graph::dependencies_first;
use vamp_model::interpolation::{parse, Part};
use vamp_model::span::Span;
use vamp_model::Artifact;

/// Values that only exist at runtime. A driver implements this; every
/// method returns None when the value is not known (yet), and the resolver
/// then keeps the reference text (`$db.host`) in the environment.
pub trait Runtime {
    /// The host through which services reach the cluster `cluster` of the
    /// deployment `deployment` (the gateway host).
    fn host(&self, deployment: &str, cluster: &str) -> Option<String> {
        let _ = (deployment, cluster);
        None
    }

    /// The port assigned to the internal gateway `deployment/cluster/port`.
    fn port(&self, deployment: &str, cluster: &str, port: &str) -> Option<u16> {
        let _ = (deployment, cluster, port);
        None
    }

    /// A global reference `${scheme://path}` (`env`, `conf`, ...).
    fn global(&self, scheme: &str, path: &str) -> Option<String> {
        let _ = (scheme, path);
        None
    }
}

/// A runtime that knows nothing: runtime values stay as reference text.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRuntime;

impl Runtime for NoRuntime {}

/// A runtime with fixed answers, for tests and for drivers that know their
/// values up front.
///
/// ```
/// use vamp_deploy::resolve::{FixedRuntime, Runtime};
/// let mut rt = FixedRuntime { host: Some("10.0.0.1".into()), ..FixedRuntime::default() };
/// rt.ports.insert(("db".into(), "port".into()), 40001);
/// assert_eq!(rt.port("shop", "db", "port"), Some(40001));
/// ```
#[derive(Debug, Clone, Default)]
pub struct FixedRuntime {
    /// The gateway host for every cluster.
    pub host: Option<String>,
    /// `(cluster, port name)` to the internal gateway's port.
    pub ports: HashMap<(String, String), u16>,
    /// `(scheme, path)` to a value.
    pub globals: HashMap<(String, String), String>,
}

impl Runtime for FixedRuntime {
    fn host(&self, _: &str, _: &str) -> Option<String> {
        self.host.clone()
    }
    fn port(&self, _: &str, cluster: &str, port: &str) -> Option<u16> {
        self.ports
            .get(&(cluster.to_owned(), port.to_owned()))
            .copied()
    }
    fn global(&self, scheme: &str, path: &str) -> Option<String> {
        self.globals
            .get(&(scheme.to_owned(), path.to_owned()))
            .cloned()
    }
}

/// The deployment of a fresh blueprint: the deployment is named after the
/// blueprint, every reference is resolved, services without a scale get
/// `{cpu 1, memory 1000, instances 1}`, the environment is computed, every
/// status is `deploy/initiated`, there are no instances, and every cluster
/// port has an internal gateway whose weights total 100.
///
/// See the module documentation for an example.
///
/// # Errors
/// The first problem found, with its code and the position in the
/// blueprint where the offending reference or value was written.
pub fn resolve_blueprint(
    blueprint: &Artifact<Blueprint>,
    store: &dyn Store,
) -> Result<Artifact<Deployment>, Diagnostic> {
    resolve_blueprint_with(blueprint, store, &NoRuntime)
}

/// [`resolve_blueprint`] with the runtime values a driver knows.
///
/// # Errors
/// As [`resolve_blueprint`].
pub fn resolve_blueprint_with(
    blueprint: &Artifact<Blueprint>,
    store: &dyn Store,
    runtime: &dyn Runtime,
) -> Result<Artifact<Deployment>, Diagnostic> {
    // The same result as `lifecycle::merge_with` into an empty deployment,
    // without the plan: no steps, no gateway comparison, and every loaded
    // cluster is moved (not cloned) into the deployment.
    let loaded = load(blueprint, store)?;
    let mut out = Artifact::new(blueprint.name.clone(), Deployment::empty());
    merge_values(&mut out.metadata, &blueprint.metadata);
    merge_values(&mut out.spec.dialects, &blueprint.spec.dialects);
    merge_traits(
        &mut out.spec.environment_variables,
        &blueprint.spec.environment_variables,
    );
    for (key, mut g) in loaded.gateways {
        fill_weights(&mut g.routes).map_err(|m| {
            Diagnostic::error(
                Code::GatewayRouteWeight,
                format!("the gateway `{key}`: {m}"),
            )
            .at(g.routes_span.or(g.span).unwrap_or(Span::START))
            .with_path(format!("gateways.{key}.routes"))
        })?;
        out.spec.gateways.insert(key, g);
    }
    out.spec.clusters.reserve(loaded.clusters.len());
    for (cname, lc) in loaded.clusters {
        let mut c = lc.cluster;
        let services = lc.services;
        let unique = services.iter().enumerate().all(|(i, (a, _))| {
            services[..i]
                .iter()
                .all(|(b, _)| a.breed.name != b.breed.name)
        });
        if unique {
            // Nothing to redeploy: the services are the cluster's, in order.
            c.services = services.into_iter().map(|(s, _)| s).collect();
        } else {
            for (svc, scale_written) in services {
                crate::lifecycle::add_service(&mut c, svc, scale_written);
            }
        }
        crate::lifecycle::cluster_gateways(&mut c, &lc.gateways, &cname, lc.span)?;
        out.spec.clusters.insert(cname, c);
    }
    finalize(&mut out, None, &loaded.sites, runtime, false)?;
    Ok(out)
}

/// Writes a deployment back as a blueprint with everything inline (breeds,
/// scales, service variables, weights), so that resolving it again gives
/// the same deployment (resolution is idempotent).
pub fn blueprint_of(deployment: &Artifact<Deployment>) -> Artifact<Blueprint> {
    let d = &deployment.spec;
    let clusters = d
        .clusters
        .iter()
        .map(|(name, c)| {
            let services = c
                .services
                .iter()
                .map(|s| Service {
                    breed: OrRef::Inline(s.breed.clone()),
                    environment_variables: s.environment_variables.clone(),
                    scale: Some(OrRef::Inline(s.scale.clone())),
                    arguments: s.arguments.clone(),
                    health_checks: s.health_checks.clone(),
                    network: s.network.clone(),
                    dialects: s.dialects.clone(),
                    span: None,
                })
                .collect();
            let cluster = Cluster {
                metadata: c.metadata.clone(),
                services,
                gateways: c.gateways.clone(),
                health_checks: c.health_checks.clone(),
                network: c.network.clone(),
                sla: c.sla.clone(),
                dialects: c.dialects.clone(),
                span: None,
            };
            (name.clone(), cluster)
        })
        .collect();
    let mut bp = Artifact::new(
        deployment.name.clone(),
        Blueprint {
            gateways: d.gateways.clone(),
            clusters,
            environment_variables: d.environment_variables.clone(),
            dialects: d.dialects.clone(),
        },
    );
    bp.metadata = deployment.metadata.clone();
    bp
}

// ---------------------------------------------------------------------------
// Step 1: loading references.

/// Where a service was written, for error positions.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// The service (or its breed reference).
    pub(crate) span: Option<Span>,
    /// True when the breed was written inline (its own spans are then in
    /// the same source and can be pointed at).
    pub(crate) inline: bool,
}

/// Sites by (cluster, breed name), the names borrowed from the blueprint.
#[derive(Default)]
pub(crate) struct Sites<'a> {
    /// Site and insertion number (a later insert for the same key wins).
    by_name: FxHashMap<(&'a str, &'a str), (Site, usize)>,
    /// Stored breeds whose name is not the name they were referenced by.
    renamed: FxHashMap<(String, String), (Site, usize)>,
    inserts: usize,
}

impl<'a> Sites<'a> {
    fn with_capacity(n: usize) -> Self {
        Sites {
            by_name: FxHashMap::with_capacity_and_hasher(n, FxBuildHasher),
            renamed: FxHashMap::default(),
            inserts: 0,
        }
    }

    fn insert(&mut self, cluster: &'a str, written: &'a str, breed: &str, site: Site) {
        let seq = self.inserts;
        self.inserts += 1;
        if written == breed {
            self.by_name.insert((cluster, written), (site, seq));
        } else {
            self.renamed
                .insert((cluster.to_owned(), breed.to_owned()), (site, seq));
        }
    }

    fn get(&self, cluster: &str, breed: &str) -> Option<Site> {
        let by_name: &FxHashMap<(&str, &str), (Site, usize)> = &self.by_name;
        let plain = by_name.get(&(cluster, breed)).cloned();
        if self.renamed.is_empty() {
            return plain.map(|(site, _)| site);
        }
        let renamed = self
            .renamed
            .get(&(cluster.to_owned(), breed.to_owned()))
            .cloned();
        match (plain, renamed) {
            (Some(p), Some(r)) => Some(if p.1 > r.1 { p.0 } else { r.0 }),
            (p, r) => p.or(r).map(|(site, _)| site),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_name.len() + self.renamed.len()
    }
}

/// A blueprint whose references are loaded, before it is merged.
pub(crate) struct Loaded<'a> {
    pub(crate) gateways: Map<Gateway>,
    pub(crate) clusters: Map<LoadedCluster>,
    pub(crate) sites: Sites<'a>,
}

/// A cluster of a loaded blueprint.
pub(crate) struct LoadedCluster {
    pub(crate) cluster: DeployedCluster,
    /// Whether the blueprint wrote health checks / network / SLA.
    pub(crate) written_sla: bool,
    /// Services, with whether their scale was written.
    pub(crate) services: Vec<(DeployedService, bool)>,
    /// Cluster gateways as written (references resolved).
    pub(crate) gateways: Map<Gateway>,
    pub(crate) span: Option<Span>,
}

fn unresolved(kind: Kind, r: &Reference, fallback: Option<Span>, path: &str) -> Diagnostic {
    Diagnostic::error(
        Code::UnresolvedDependency,
        format!(
            "`{path}` refers to the {kind} `{}`, which is not in the store: add it or fix the name",
            r.name
        ),
    )
    .at(r.span.or(fallback).unwrap_or(Span::START))
    .with_path(path)
}

fn fetch(
    store: &dyn Store,
    kind: Kind,
    r: &Reference,
    fallback: Option<Span>,
    path: &str,
) -> Result<Document, Diagnostic> {
    match store.get(kind, &r.name) {
        Ok(Some(doc)) => Ok(doc),
        Ok(None) => Err(unresolved(kind, r, fallback, path)),
        Err(e) => Err(e
            .to_diagnostic()
            .at_opt(r.span.or(fallback))
            .with_path(path)),
    }
}

/// The path is only built when an error is reported.
fn load_breed(
    store: &dyn Store,
    b: &OrRef<Breed>,
    span: Option<Span>,
    path: impl Fn() -> String,
) -> Result<Breed, Diagnostic> {
    match b {
        OrRef::Inline(b) => Ok(b.clone()),
        OrRef::Reference(r) => match store.get(Kind::Breed, &r.name) {
            Ok(Some(Document::Breed(b))) => Ok(b),
            Ok(_) => Err(unresolved(Kind::Breed, r, span, &path())),
            Err(e) => Err(e.to_diagnostic().at_opt(r.span.or(span)).with_path(path())),
        },
    }
}

fn load_scale(
    store: &dyn Store,
    s: &OrRef<Scale>,
    span: Option<Span>,
    path: &str,
) -> Result<Scale, Diagnostic> {
    match s {
        OrRef::Inline(s) => Ok(s.clone()),
        OrRef::Reference(r) => match fetch(store, Kind::Scale, r, span, path)? {
            Document::Scale(a) => Ok(a.spec),
            _ => Err(unresolved(Kind::Scale, r, span, path)),
        },
    }
}

fn load_escalations(
    store: &dyn Store,
    list: &[Escalation],
    span: Option<Span>,
    path: &str,
    seen: &mut Vec<String>,
) -> Result<Vec<Escalation>, Diagnostic> {
    list.iter()
        .map(|e| load_escalation(store, e, span, path, seen))
        .collect()
}

fn load_escalation(
    store: &dyn Store,
    e: &Escalation,
    span: Option<Span>,
    path: &str,
    seen: &mut Vec<String>,
) -> Result<Escalation, Diagnostic> {
    match e {
        Escalation::Reference(r) => {
            if seen.contains(&r.name) {
                return Err(Diagnostic::error(
                    Code::RecursiveDependencies,
                    format!(
                        "stored escalations refer to each other: {} -> {}",
                        seen.join(" -> "),
                        r.name
                    ),
                )
                .at(r.span.or(span).unwrap_or(Span::START))
                .with_path(path));
            }
            let Document::Escalation(a) = fetch(store, Kind::Escalation, r, span, path)? else {
                return Err(unresolved(Kind::Escalation, r, span, path));
            };
            seen.push(r.name.clone());
            let stored = strip_spans(std::slice::from_ref(&a.spec));
            let out = match stored.first() {
                Some(e) => load_escalation(store, e, r.span.or(span), path, seen),
                None => Ok(a.spec.clone()),
            };
            seen.pop();
            out
        }
        Escalation::ToAll(list) => Ok(Escalation::ToAll(load_escalations(
            store, list, span, path, seen,
        )?)),
        Escalation::ToOne(list) => Ok(Escalation::ToOne(load_escalations(
            store, list, span, path, seen,
        )?)),
        other => Ok(other.clone()),
    }
}

/// Escalations without positions (they come from another file).
fn strip_spans(list: &[Escalation]) -> Vec<Escalation> {
    list.iter()
        .map(|e| match e {
            Escalation::Reference(r) => Escalation::Reference(Reference::new(r.name.clone())),
            Escalation::ToAll(l) => Escalation::ToAll(strip_spans(l)),
            Escalation::ToOne(l) => Escalation::ToOne(strip_spans(l)),
            Escalation::Scale {
                resource,
                minimum,
                maximum,
                scale_by,
                target,
                ..
            } => Escalation::Scale {
                resource: *resource,
                minimum: *minimum,
                maximum: *maximum,
                scale_by: *scale_by,
                target: target.clone(),
                span: None,
            },
            other => other.clone(),
        })
        .collect()
}

fn load_sla(
    store: &dyn Store,
    sla: &Sla,
    span: Option<Span>,
    path: &str,
) -> Result<Sla, Diagnostic> {
    let mut seen = Vec::new();
    let mut current = sla.clone();
    let mut written: Option<Vec<Escalation>> = None;
    while let Sla::Reference {
        reference,
        escalations,
    } = &current
    {
        if written.is_none() && !escalations.is_empty() {
            written = Some(escalations.clone());
        }
        if seen.contains(&reference.name) {
            return Err(Diagnostic::error(
                Code::RecursiveDependencies,
                format!(
                    "stored SLAs refer to each other: {} -> {}",
                    seen.join(" -> "),
                    reference.name
                ),
            )
            .at(reference.span.or(span).unwrap_or(Span::START))
            .with_path(path));
        }
        seen.push(reference.name.clone());
        let Document::Sla(a) = fetch(store, Kind::Sla, reference, span, path)? else {
            return Err(unresolved(Kind::Sla, reference, span, path));
        };
        current = a.spec;
    }
    let mut esc_seen = Vec::new();
    // Positions inside stored SLAs belong to other files: point at the
    // blueprint's SLA instead.
    let at = match sla {
        Sla::Reference { reference, .. } => reference.span.or(span),
        _ => span,
    };
    let escalations = match &written {
        Some(w) => load_escalations(store, w, span, path, &mut esc_seen)?,
        None if seen.is_empty() => {
            load_escalations(store, current.escalations(), span, path, &mut esc_seen)?
        }
        None => load_escalations(
            store,
            &strip_spans(current.escalations()),
            at,
            path,
            &mut esc_seen,
        )?,
    };
    Ok(match current {
        Sla::ResponseTimeSlidingWindow {
            threshold, window, ..
        } => Sla::ResponseTimeSlidingWindow {
            threshold,
            window,
            escalations,
        },
        Sla::EscalationOnly { .. } => Sla::EscalationOnly { escalations },
        Sla::Generic {
            sla_type,
            parameters,
            ..
        } => Sla::Generic {
            sla_type,
            parameters,
            escalations,
        },
        // The loop above only ends on a non-reference.
        Sla::Reference { reference, .. } => Sla::Reference {
            reference,
            escalations,
        },
    })
}

fn load_route(
    store: &dyn Store,
    r: &OrRef<Route>,
    span: Option<Span>,
    path: &str,
) -> Result<Route, Diagnostic> {
    let mut route = match r {
        OrRef::Inline(r) => r.clone(),
        OrRef::Reference(reference) => {
            return Err(Diagnostic::error(
                Code::UnresolvedDependency,
                format!("`{path}` refers to the route `{}`, but routes are not stored artifacts: write the route inline", reference.name),
            )
            .at(reference.span.or(span).unwrap_or(Span::START))
            .with_path(path));
        }
    };
    let at = route.span.or(span);
    if let Some(RouteCondition::Reference(c)) = &route.condition {
        let Document::Condition(a) = fetch(store, Kind::Condition, c, at, path)? else {
            return Err(unresolved(Kind::Condition, c, at, path));
        };
        route.condition = Some(RouteCondition::Inline {
            definition: a.spec.definition,
            span: c.span,
        });
    }
    let mut rewrites = Vec::with_capacity(route.rewrites.len());
    for rw in &route.rewrites {
        rewrites.push(match rw {
            OrRef::Inline(x) => OrRef::Inline(x.clone()),
            OrRef::Reference(x) => match fetch(store, Kind::Rewrite, x, at, path)? {
                Document::Rewrite(a) => OrRef::Inline::<Rewrite>(a.spec),
                _ => return Err(unresolved(Kind::Rewrite, x, at, path)),
            },
        });
    }
    route.rewrites = rewrites;
    Ok(route)
}

fn load_gateway(store: &dyn Store, g: &Gateway, path: &str) -> Result<Gateway, Diagnostic> {
    let mut out = g.clone();
    for (key, r) in out.routes.iter_mut() {
        *r = OrRef::Inline(load_route(
            store,
            r,
            g.span,
            &format!("{path}.routes.{key}"),
        )?);
    }
    Ok(out)
}

/// Loads every reference of a blueprint.
pub(crate) fn load<'a>(
    bp: &'a Artifact<Blueprint>,
    store: &dyn Store,
) -> Result<Loaded<'a>, Diagnostic> {
    let n: usize = bp.spec.clusters.values().map(|c| c.services.len()).sum();
    let mut sites = Sites::with_capacity(n);
    let mut clusters = Map::with_capacity(bp.spec.clusters.len());
    for (cname, c) in &bp.spec.clusters {
        let mut services = Vec::with_capacity(c.services.len());
        for (i, s) in c.services.iter().enumerate() {
            let span = s.span.or(c.span);
            let breed = load_breed(store, &s.breed, span, || {
                format!("clusters.{cname}.services[{i}].breed")
            })?;
            let scale = match &s.scale {
                Some(sc) => Some(load_scale(
                    store,
                    sc,
                    span,
                    &format!("clusters.{cname}.services[{i}].scale"),
                )?),
                None => None,
            };
            let (site_span, written_name) = match &s.breed {
                OrRef::Reference(r) => (r.span.or(span), r.name.as_str()),
                OrRef::Inline(b) => (b.span.or(span), b.name.as_str()),
            };
            sites.insert(
                cname,
                written_name,
                &breed.name,
                Site {
                    span: site_span,
                    inline: s.breed.as_inline().is_some(),
                },
            );
            let written = scale.is_some();
            services.push((
                DeployedService {
                    breed,
                    environment_variables: s.environment_variables.clone(),
                    scale: scale.unwrap_or(Scale::DEFAULT),
                    environment: Map::new(),
                    arguments: s.arguments.clone(),
                    health_checks: s.health_checks.clone(),
                    network: s.network.clone(),
                    dialects: s.dialects.clone(),
                    dependencies: Map::new(),
                    status: Status::deploy(),
                    instances: Vec::new(),
                },
                written,
            ));
        }
        let sla = match &c.sla {
            Some(sla) => Some(load_sla(
                store,
                sla,
                c.span,
                &format!("clusters.{cname}.sla"),
            )?),
            None => None,
        };
        let mut gateways = Map::with_capacity(c.gateways.len());
        for (port, g) in &c.gateways {
            gateways.insert(
                port.clone(),
                load_gateway(store, g, &format!("clusters.{cname}.gateways.{port}"))?,
            );
        }
        clusters.insert(
            cname.clone(),
            LoadedCluster {
                written_sla: sla.is_some(),
                cluster: DeployedCluster {
                    metadata: c.metadata.clone(),
                    services: Vec::new(),
                    gateways: Map::new(),
                    health_checks: c.health_checks.clone(),
                    network: c.network.clone(),
                    sla,
                    dialects: c.dialects.clone(),
                },
                services,
                gateways,
                span: c.span,
            },
        );
    }
    let mut gateways = Map::new();
    for (key, g) in &bp.spec.gateways {
        gateways.insert(
            key.clone(),
            load_gateway(store, g, &format!("gateways.{key}"))?,
        );
    }
    Ok(Loaded {
        gateways,
        clusters,
        sites,
    })
}

// ---------------------------------------------------------------------------
// Step 2: dependencies.

/// One service of a deployment: its cluster and breed name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ServiceRef {
    /// Cluster name.
    pub cluster: String,
    /// Breed name (identifies the service in its cluster).
    pub service: String,
}

/// The services of a deployment, flattened, with lookup tables.
struct Flat<'a> {
    items: Vec<(&'a str, &'a DeployedService)>,
    by_breed: FxHashMap<&'a str, usize>,
    d: &'a Deployment,
    /// Where each cluster's services start in `items` (by cluster index),
    /// plus the end.
    starts: Vec<usize>,
    /// The first breed run by two services: (first, second) item.
    duplicate: Option<(usize, usize)>,
}

impl<'a> Flat<'a> {
    fn new(d: &'a Deployment) -> Self {
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
    fn members(&self, cluster: &str) -> std::ops::Range<usize> {
        match self.d.clusters.get_index_of(cluster) {
            Some(i) => self.starts[i]..self.starts[i + 1],
            None => 0..0,
        }
    }

    /// The service running the breed `name` (`prefix*` matches by prefix).
    fn provider(&self, name: &str) -> Option<usize> {
        match name.strip_suffix('*') {
            Some(prefix) => self
                .items
                .iter()
                .position(|(_, s)| s.breed.name.starts_with(prefix)),
            None => self.by_breed.get(name).copied(),
        }
    }
}

fn dependency_name(d: &OrRef<Breed>) -> &str {
    match d {
        OrRef::Inline(b) => &b.name,
        OrRef::Reference(r) => &r.name,
    }
}

fn locate(sites: &Sites<'_>, cluster: &str, breed: &str, inner: Option<Span>) -> Span {
    locate_site(sites.get(cluster, breed).as_ref(), inner)
}

fn service_path(d: &Deployment, cluster: &str, breed: &str) -> String {
    let i = d
        .clusters
        .get(cluster)
        .and_then(|c| c.services.iter().position(|s| s.breed.name == breed))
        .unwrap_or(0);
    format!("clusters.{cluster}.services[{i}]")
}

/// Edges service -> provider service, by flat index.
fn edges(flat: &Flat<'_>, d: &Deployment, sites: &Sites<'_>) -> Result<Edges, Diagnostic> {
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
struct Edges {
    targets: Vec<usize>,
    /// Where each service's targets start, plus the end.
    starts: Vec<usize>,
}

impl Edges {
    fn of(&self, i: usize) -> &[usize] {
        &self.targets[self.starts[i]..self.starts[i + 1]]
    }
}

/// Dependencies first (see [`vamp_model::graph::dependencies_first`]).
/// Fails on a cycle, naming it.
fn topo(flat: &Flat<'_>, edges: &Edges, sites: &Sites<'_>) -> Result<Vec<usize>, Diagnostic> {
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

// ---------------------------------------------------------------------------
// Step 3: environment variables.

struct Var<'a> {
    name: &'a str,
    value: Option<&'a str>,
    alias: Option<&'a str>,
    span: Option<Span>,
    /// True when the value comes from the breed (its span is in the breed).
    from_breed: bool,
}

/// Scopes breed < cluster < service, in breed order.
fn merged<'a>(d: &'a Deployment, cluster: &str, s: &'a DeployedService) -> Vec<Var<'a>> {
    let mut key = String::new();
    let blueprint_scope = !d.environment_variables.is_empty();
    let service_scope = !s.environment_variables.is_empty();
    s.breed
        .environment_variables
        .iter()
        .map(|(name, tv)| {
            let mut v = Var {
                name,
                value: tv.value.as_deref(),
                alias: tv.alias.as_deref(),
                span: tv.span,
                from_breed: true,
            };
            let blueprint = if blueprint_scope {
                key.clear();
                key.push_str(cluster);
                key.push_str(".environment_variables.");
                key.push_str(name);
                d.environment_variables.get(key.as_str())
            } else {
                None
            };
            let service = if service_scope {
                s.environment_variables.get(name.as_str())
            } else {
                None
            };
            for over in [blueprint, service].into_iter().flatten() {
                if over.value.is_some() {
                    v.value = over.value.as_deref();
                    v.span = over.span;
                    v.from_breed = false;
                }
                if over.alias.is_some() {
                    v.alias = over.alias.as_deref();
                }
            }
            v
        })
        .collect()
}

fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '/' | '[' | ']' | '.' | '{' | '}' | ':' | ';' | ',' | '$')
}

enum Piece<'p> {
    Lit(Cow<'p, str>),
    Ref(String),
    /// A computed local value (see [`Slot`]).
    Local(Slot),
}

/// Where `$NAME` of the same service was computed.
#[derive(Clone, Copy)]
enum Slot {
    /// `Locals::vars_memo[k]`.
    Var(usize),
    /// `Locals::constants_memo[k]`.
    Const(usize),
    /// A place holder: empty.
    Empty,
}

impl Locals<'_> {
    fn slot(&self, slot: Slot) -> &str {
        match slot {
            Slot::Var(k) => self.vars_memo[k].as_deref().unwrap_or_default(),
            Slot::Const(k) => self.constants_memo[k].as_deref().unwrap_or_default(),
            Slot::Empty => "",
        }
    }
}

/// Joins text and kept references; literal `$` is escaped only when a
/// reference is kept (so a runtime can interpolate the text again).
fn render(pieces: &[Piece<'_>], locals: &Locals<'_>) -> String {
    fn piece_text<'p>(p: &'p Piece<'_>, locals: &'p Locals<'_>) -> Option<&'p str> {
        match p {
            Piece::Lit(t) => Some(t),
            Piece::Local(slot) => Some(locals.slot(*slot)),
            Piece::Ref(_) => None,
        }
    }
    let text = |p| piece_text(p, locals);
    let kept = pieces.iter().any(|p| matches!(p, Piece::Ref(_)));
    let len: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Ref(t) => t.len() + 3,
            p => text(p).map_or(0, str::len),
        })
        .sum();
    let mut out = String::with_capacity(len);
    for (i, p) in pieces.iter().enumerate() {
        match p {
            Piece::Ref(r) => {
                let braced = match pieces.get(i + 1).and_then(text) {
                    Some(t) => t.starts_with(|c: char| is_name_char(c) || c == '.'),
                    None => false,
                };
                if braced || r.contains("://") {
                    out.push_str("${");
                    out.push_str(r);
                    out.push('}');
                } else {
                    out.push('$');
                    out.push_str(r);
                }
            }
            p => {
                let t = text(p).unwrap_or_default();
                if kept && t.contains('$') {
                    out.push_str(&t.replace('$', "$$"));
                } else {
                    out.push_str(t);
                }
            }
        }
    }
    out
}

/// Computed values of one service, by index: `vars` follows the breed's
/// environment variables (None when they are, in the same order, the
/// values of the service's environment), `constants` the breed's constants
/// (None for a constant without a value).
struct Computed {
    vars: Option<Vec<String>>,
    constants: Vec<Option<String>>,
}

struct Interp<'a> {
    name: &'a str,
    d: &'a Deployment,
    flat: &'a Flat<'a>,
    /// Per flat item: dependency alias -> providing cluster.
    deps: &'a [Map<String>],
    sites: &'a Sites<'a>,
    runtime: &'a dyn Runtime,
    computed: Vec<Option<Computed>>,
    /// The environment of each computed service.
    envs: Vec<Map<String>>,
}

/// Where a value was written; resolved to a position only for errors.
#[derive(Clone, Copy)]
enum Where {
    /// Inside the service's site (the breed's own span when inline).
    Site(Option<Span>),
    /// Exactly here.
    Exact(Span),
}

/// Where a value being interpolated was written.
struct At<'a> {
    d: &'a Deployment,
    sites: &'a Sites<'a>,
    cluster: &'a str,
    service: &'a DeployedService,
    /// Dependency alias -> providing cluster.
    deps: &'a Map<String>,
    at: Where,
    /// `environment_variables` or `breed.constants`.
    group: &'static str,
    name: &'a str,
}

impl At<'_> {
    fn err(&self, code: Code, message: String) -> Diagnostic {
        let spath = service_path(self.d, self.cluster, &self.service.breed.name);
        let span = match self.at {
            Where::Exact(s) => s,
            Where::Site(inner) => locate(self.sites, self.cluster, &self.service.breed.name, inner),
        };
        Diagnostic::error(code, message)
            .at(span)
            .with_path(format!("{spath}.{}.{}", self.group, self.name))
    }
}

fn locate_site(site: Option<&Site>, inner: Option<Span>) -> Span {
    match site {
        Some(site) if site.inline => inner.or(site.span).unwrap_or(Span::START),
        Some(site) => site.span.unwrap_or(Span::START),
        None => Span::START,
    }
}

struct Locals<'a> {
    vars: &'a [Var<'a>],
    /// Computed values of `vars`, by index.
    vars_memo: Vec<Option<String>>,
    /// Computed values of the breed's constants, by index.
    constants_memo: Vec<Option<String>>,
    stack: Vec<&'a str>,
}

impl<'a> Interp<'a> {
    fn provider_cluster(
        &self,
        at: &At<'_>,
        alias: &str,
        value: &str,
    ) -> Result<&'a str, Diagnostic> {
        if let Some(c) = at.deps.get(alias) {
            if let Some((k, _)) = self.d.clusters.get_key_value(c.as_str()) {
                return Ok(k);
            }
        }
        if let Some((k, _)) = self.d.clusters.get_key_value(alias) {
            return Ok(k);
        }
        Err(at.err(
            Code::UnresolvedDependencyInTraitValue,
            format!(
                "`{value}` refers to `{alias}`, which is neither a dependency of the breed `{}` nor a cluster: add it under `dependencies`",
                at.service.breed.name
            ),
        ))
    }

    fn missing_trait(
        at: &At<'_>,
        value: &str,
        cluster: &str,
        group: &str,
        name: &str,
    ) -> Diagnostic {
        at.err(
            Code::UnresolvedDependencyInTraitValue,
            format!("`{value}` refers to `{group}.{name}` of the cluster `{cluster}`, but no breed there has it"),
        )
    }

    fn interpolate<'v>(
        &self,
        at: &At<'v>,
        value: &str,
        locals: &mut Locals<'v>,
    ) -> Result<String, Diagnostic> {
        if !value.contains('$') {
            return Ok(value.to_owned());
        }
        let parts = parse(value).map_err(|e| {
            at.err(
                Code::Parser,
                format!("cannot read `{value}`: {}", e.message),
            )
        })?;
        let mut pieces = Vec::with_capacity(parts.len());
        for part in parts {
            let piece = match part {
                Part::Text(t) => Piece::Lit(Cow::Owned(t)),
                Part::Local(n) => Piece::Local(self.local(at, &n, value, locals)?),
                Part::Host(alias) => {
                    let c = self.provider_cluster(at, &alias, value)?;
                    match self.runtime.host(self.name, c) {
                        Some(h) => Piece::Lit(Cow::Owned(h)),
                        None => {
                            let mut r = alias;
                            r.push_str(".host");
                            Piece::Ref(r)
                        }
                    }
                }
                Part::Trait {
                    cluster: alias,
                    group,
                    name,
                } => {
                    let c = self.provider_cluster(at, &alias, value)?;
                    let members = self.flat.members(c);
                    let kept = || Piece::Ref(format!("{alias}.{group}.{name}"));
                    match group.as_str() {
                        "ports" => {
                            if !members.clone().any(|j| self.flat.items[j].1.breed.ports.contains_key(&name)) {
                                return Err(Self::missing_trait(at, value, c, &group, &name));
                            }
                            match self.runtime.port(self.name, c, &name) {
                                Some(p) => Piece::Lit(Cow::Owned(p.to_string())),
                                None => kept(),
                            }
                        }
                        "environment_variables" => {
                            let Some((j, k)) = members.clone().rev().find_map(|j| self.flat.items[j].1.breed.environment_variables.get_index_of(&name).map(|k| (j, k))) else {
                                return Err(Self::missing_trait(at, value, c, &group, &name));
                            };
                            let computed = self.computed[j].as_ref().and_then(|x| match &x.vars {
                                Some(vars) => vars.get(k),
                                None => self.envs[j].get_index(k).map(|(_, v)| v),
                            });
                            match computed {
                                Some(v) => Piece::Lit(Cow::Borrowed(v)),
                                None => {
                                    let (pc, ps) = self.flat.items[j];
                                    let vars = merged(self.d, pc, ps);
                                    match vars.iter().find(|v| v.name == name).and_then(|v| v.value) {
                                        Some(v) => Piece::Lit(Cow::Owned(v.to_owned())),
                                        None => kept(),
                                    }
                                }
                            }
                        }
                        "constants" => {
                            let Some((j, k)) = members.clone().rev().find_map(|j| self.flat.items[j].1.breed.constants.get_index_of(&name).map(|k| (j, k))) else {
                                return Err(Self::missing_trait(at, value, c, &group, &name));
                            };
                            match self.computed[j].as_ref().and_then(|x| x.constants.get(k)).and_then(Option::as_ref) {
                                Some(v) => Piece::Lit(Cow::Borrowed(v)),
                                None => match self.flat.items[j].1.breed.constants.get_index(k).and_then(|(_, t)| t.value.as_ref()) {
                                    Some(v) => Piece::Lit(Cow::Borrowed(v)),
                                    None => kept(),
                                },
                            }
                        }
                        _ => {
                            return Err(at.err(
                                Code::UnresolvedDependencyInTraitValue,
                                format!("`{value}` refers to `{alias}.{group}.{name}`: the group must be `ports`, `environment_variables` or `constants`"),
                            ))
                        }
                    }
                }
                Part::Global { scheme, path } => match self.runtime.global(&scheme, &path) {
                    Some(v) => Piece::Lit(Cow::Owned(v)),
                    None => Piece::Ref(format!("{scheme}://{path}")),
                },
            };
            pieces.push(piece);
        }
        Ok(render(&pieces, locals))
    }

    /// `$NAME`: a variable (after scopes) or constant of the same service;
    /// computed once, into `locals`.
    fn local<'v>(
        &self,
        at: &At<'v>,
        name: &str,
        value: &str,
        locals: &mut Locals<'v>,
    ) -> Result<Slot, Diagnostic> {
        // Variables shadow constants.
        let (key, raw, slot) = match locals.vars.iter().position(|v| v.name == name) {
            Some(k) => {
                if locals.vars_memo[k].is_some() {
                    return Ok(Slot::Var(k));
                }
                let v = &locals.vars[k];
                let Some(raw) = v.value else {
                    // A place holder; reported where it is declared.
                    return Ok(Slot::Empty);
                };
                (v.name, raw, Slot::Var(k))
            }
            None => {
                let service: &'v DeployedService = at.service;
                match service.breed.constants.get_full(name) {
                    Some((k, key, tv)) => {
                        if locals.constants_memo[k].is_some() {
                            return Ok(Slot::Const(k));
                        }
                        match tv.value.as_deref() {
                            Some(raw) => (key.as_str(), raw, Slot::Const(k)),
                            None => return Err(Self::no_local(at, name, value)),
                        }
                    }
                    None => return Err(Self::no_local(at, name, value)),
                }
            }
        };
        if locals.stack.contains(&key) {
            return Err(at.err(
                Code::RecursiveDependencies,
                format!(
                    "the values of `{}` refer to each other: {} -> {name}",
                    at.service.breed.name,
                    locals.stack.join(" -> ")
                ),
            ));
        }
        locals.stack.push(key);
        let out = self.interpolate(at, raw, locals);
        locals.stack.pop();
        let out = out?;
        match slot {
            Slot::Var(k) => locals.vars_memo[k] = Some(out),
            Slot::Const(k) => locals.constants_memo[k] = Some(out),
            Slot::Empty => {}
        }
        Ok(slot)
    }

    fn no_local(at: &At<'_>, name: &str, value: &str) -> Diagnostic {
        at.err(
            Code::UnresolvedEnvironmentVariable,
            format!("`{value}` refers to `${name}`, but the breed `{}` has no environment variable or constant `{name}`", at.service.breed.name),
        )
    }

    /// The environment of service `i` (into `envs[i]`): place holders
    /// checked, values interpolated.
    fn compute(&mut self, i: usize) -> Result<(), Diagnostic> {
        let (cname, s) = self.flat.items[i];
        let vars = merged(self.d, cname, s);
        for v in &vars {
            if v.value.is_none() {
                let site = self.sites.get(cname, &s.breed.name);
                return Err(Diagnostic::error(
                    Code::MissingEnvironmentVariable,
                    format!(
                        "the breed `{}` leaves `{}` to be filled (`~`), but neither `{cname}.{}` at blueprint level nor the service sets it: give it a value",
                        s.breed.name, v.name, v.name
                    ),
                )
                .at(locate_site(site.as_ref(), v.span))
                .with_path(format!(
                    "{}.breed.environment_variables.{}",
                    service_path(self.d, cname, &s.breed.name),
                    v.name
                )));
            }
        }
        let mut locals = Locals {
            vars: &vars,
            vars_memo: vec![None; vars.len()],
            constants_memo: vec![None; s.breed.constants.len()],
            stack: Vec::new(),
        };
        let deps = &self.deps[i];
        for v in &vars {
            let at = At {
                d: self.d,
                sites: self.sites,
                cluster: cname,
                service: s,
                deps,
                at: match (v.from_breed, v.span) {
                    (false, Some(span)) => Where::Exact(span),
                    (true, inner) => Where::Site(inner),
                    (false, None) => Where::Site(None),
                },
                group: "environment_variables",
                name: v.name,
            };
            self.local(&at, v.name, v.value.unwrap_or_default(), &mut locals)?;
        }
        for (k, (key, tv)) in s.breed.constants.iter().enumerate() {
            let Some(raw) = &tv.value else { continue };
            let at = At {
                d: self.d,
                sites: self.sites,
                cluster: cname,
                service: s,
                deps,
                at: Where::Site(tv.span),
                group: "breed.constants",
                name: key,
            };
            if vars.iter().any(|v| v.name == key) {
                let value = self.interpolate(&at, raw, &mut locals)?;
                locals.constants_memo[k] = Some(value);
            } else {
                self.local(&at, key, raw, &mut locals)?;
            }
        }
        let Locals {
            vars_memo,
            constants_memo,
            ..
        } = locals;
        // Without aliases the environment holds the variables in breed
        // order, and dependents read them from there.
        let aliased = vars.iter().any(|v| v.alias.is_some());
        let kept = aliased.then(|| {
            vars_memo
                .iter()
                .map(|v| v.clone().unwrap_or_default())
                .collect::<Vec<_>>()
        });
        let mut env = Map::with_capacity(vars.len());
        for (v, value) in vars.iter().zip(vars_memo) {
            env.insert(
                v.alias.unwrap_or(v.name).to_owned(),
                value.unwrap_or_default(),
            );
        }
        self.envs[i] = env;
        self.computed[i] = Some(Computed {
            vars: kept,
            constants: constants_memo,
        });
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Step 4: weights.

/// Fills unwritten weights: the unweighted routes share what the written
/// weights leave, rounded down, the remainder on the last one. When no
/// route has a weight left to take and the written weights total 0, the
/// routes share 100 the same way. Returns a message when the weights cannot
/// total 100.
pub fn fill_weights(routes: &mut Map<OrRef<Route>>) -> Result<(), String> {
    let inline: Vec<&mut Route> = routes
        .values_mut()
        .filter_map(|r| match r {
            OrRef::Inline(r) => Some(r),
            OrRef::Reference(_) => None,
        })
        .collect();
    if inline.is_empty() {
        return Ok(());
    }
    let written: u32 = inline.iter().filter_map(|r| r.weight).map(u32::from).sum();
    if written > 100 {
        return Err(format!(
            "the written weights total {written}%, more than 100%"
        ));
    }
    let free = 100 - written;
    let mut open: Vec<&mut Route> = inline.into_iter().filter(|r| r.weight.is_none()).collect();
    if open.is_empty() {
        if written == 100 {
            return Ok(());
        }
        if written == 0 {
            for r in routes.values_mut() {
                if let OrRef::Inline(r) = r {
                    r.weight = None;
                }
            }
            return fill_weights(routes);
        }
        return Err(format!("the weights total {written}%: they must total 100% (or leave some routes without a weight to take the rest)"));
    }
    let n = u32::try_from(open.len()).unwrap_or(u32::MAX);
    let share = free / n;
    let last = free - share * (n - 1);
    let count = open.len();
    for (i, r) in open.iter_mut().enumerate() {
        let w = if i + 1 == count { last } else { share };
        r.weight = Some(u8::try_from(w).unwrap_or(100));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Finalizing a merged deployment.

/// Validates a merged deployment, maps dependencies, computes the
/// environment of the `touched` services (by flat identity cluster/breed)
/// and fills gateway weights. Returns the deploy order.
pub(crate) fn finalize(
    d: &mut Artifact<Deployment>,
    touched: Option<&HashSet<(String, String)>>,
    sites: &Sites<'_>,
    runtime: &dyn Runtime,
    want_order: bool,
) -> Result<Vec<ServiceRef>, Diagnostic> {
    let (order, deps, envs) = {
        let flat = Flat::new(&d.spec);
        check_unique(&flat, sites)?;
        // Dependencies: alias -> providing cluster.
        let e = edges(&flat, &d.spec, sites)?;
        let order = topo(&flat, &e, sites)?;
        check_blueprint_env(&d.spec)?;
        // One pass over the services (deployment order, as `flat`): their
        // dependencies (alias -> providing cluster) and their overrides.
        let mut deps: Vec<Map<String>> = Vec::with_capacity(flat.items.len());
        for (cname, c) in &d.spec.clusters {
            for (i, s) in c.services.iter().enumerate() {
                check_service_overrides(cname, i, s, sites)?;
                let targets = e.of(deps.len());
                let mut m = Map::with_capacity(targets.len());
                for (alias, &j) in s.breed.dependencies.keys().zip(targets) {
                    m.insert(alias.clone(), flat.items[j].0.to_owned());
                }
                deps.push(m);
            }
        }
        drop(e);
        // Environments, dependencies first. Breed names are unique (checked
        // above), so when every service is touched no lookup is needed.
        let all = touched.is_none_or(|t| t.len() >= flat.items.len());
        let mut interp = Interp {
            name: &d.name,
            d: &d.spec,
            flat: &flat,
            deps: &deps,
            sites,
            runtime,
            computed: (0..flat.items.len()).map(|_| None).collect(),
            envs: (0..flat.items.len()).map(|_| Map::new()).collect(),
        };
        for &i in &order {
            interp.compute(i)?;
        }
        let envs: Vec<Option<Map<String>>> = interp
            .envs
            .into_iter()
            .zip(&flat.items)
            .map(|(env, (c, s))| {
                (all || touched
                    .is_some_and(|t| t.contains(&((*c).to_owned(), s.breed.name.clone()))))
                .then_some(env)
            })
            .collect();
        let order: Vec<ServiceRef> = if !want_order {
            Vec::new()
        } else {
            order
                .into_iter()
                .map(|i| ServiceRef {
                    cluster: flat.items[i].0.to_owned(),
                    service: flat.items[i].1.breed.name.clone(),
                })
                .collect()
        };
        (order, deps, envs)
    };
    let mut deps = deps.into_iter();
    let mut envs = envs.into_iter();
    let mut with_sla = Vec::new();
    for (k, c) in d.spec.clusters.values_mut().enumerate() {
        if c.sla.is_some() {
            with_sla.push(k);
        }
        for s in &mut c.services {
            if let Some(m) = deps.next() {
                s.dependencies = m;
            }
            if let Some(Some(env)) = envs.next() {
                s.environment = env;
            }
        }
    }
    if !with_sla.is_empty() {
        let names: FxHashSet<&str> = d.spec.clusters.keys().map(String::as_str).collect();
        for k in with_sla {
            if let Some((cname, c)) = d.spec.clusters.get_index(k) {
                if let Some(sla) = &c.sla {
                    check_targets(&names, sla.escalations(), cname)?;
                }
            }
        }
    }
    Ok(order)
}

/// Every breed runs in one service.
fn check_unique(flat: &Flat<'_>, sites: &Sites<'_>) -> Result<(), Diagnostic> {
    let Some((first, second)) = flat.duplicate else {
        return Ok(());
    };
    let first = flat.items[first].0;
    let (cname, s) = flat.items[second];
    Err(Diagnostic::error(
        Code::NonUniqueBreedReference,
        format!("the breed `{}` runs in the clusters `{first}` and `{cname}`: each service needs its own breed", s.breed.name),
    )
    .at(locate(sites, cname, &s.breed.name, None))
    .with_path(service_path(flat.d, cname, &s.breed.name)))
}

fn check_blueprint_env(d: &Deployment) -> Result<(), Diagnostic> {
    for (key, tv) in &d.environment_variables {
        let fail = |why: String| {
            Err(Diagnostic::error(Code::UnresolvedEnvironmentVariable, why)
                .at(tv.span.unwrap_or(Span::START))
                .with_path(format!("environment_variables.{key}")))
        };
        let Some((cluster, var)) = key.split_once(".environment_variables.") else {
            return fail(format!(
                "`{key}` must name a cluster and a variable: write `CLUSTER.NAME`"
            ));
        };
        let Some(c) = d.clusters.get(cluster) else {
            return fail(format!(
                "`{key}` names the cluster `{cluster}`, which is not in the deployment"
            ));
        };
        if !c
            .services
            .iter()
            .any(|s| s.breed.environment_variables.contains_key(var))
        {
            return fail(format!(
                "no breed of the cluster `{cluster}` declares the environment variable `{var}`"
            ));
        }
    }
    Ok(())
}

/// A service may only override variables its breed declares, with a value.
fn check_service_overrides(
    cname: &str,
    i: usize,
    s: &DeployedService,
    sites: &Sites<'_>,
) -> Result<(), Diagnostic> {
    for (name, tv) in &s.environment_variables {
        let at = || {
            tv.span
                .unwrap_or_else(|| locate(sites, cname, &s.breed.name, None))
        };
        let path = || format!("clusters.{cname}.services[{i}].environment_variables.{name}");
        if !s.breed.environment_variables.contains_key(name) {
            return Err(Diagnostic::error(
                Code::UnresolvedDependencyInTraitValue,
                format!(
                    "the breed `{}` declares no environment variable `{name}` to override",
                    s.breed.name
                ),
            )
            .at(at())
            .with_path(path()));
        }
        if tv.value.is_none() {
            return Err(Diagnostic::error(
                Code::MissingEnvironmentVariable,
                format!("the service sets `{name}` without a value: give it one"),
            )
            .at(at())
            .with_path(path()));
        }
    }
    Ok(())
}

fn check_targets(
    names: &FxHashSet<&str>,
    escalations: &[Escalation],
    cluster: &str,
) -> Result<(), Diagnostic> {
    for e in escalations {
        match e {
            Escalation::Scale {
                target: Some(t),
                span,
                ..
            } if !names.contains(t.as_str()) => {
                return Err(Diagnostic::error(
                    Code::UnresolvedScaleEscalationTargetCluster,
                    format!("the escalation scales the cluster `{t}`, which is not a cluster of the deployment"),
                )
                .at(span.unwrap_or(Span::START))
                .with_path(format!("clusters.{cluster}.sla")));
            }
            Escalation::ToAll(list) | Escalation::ToOne(list) => {
                check_targets(names, list, cluster)?
            }
            _ => {}
        }
    }
    Ok(())
}

/// The value kept for metadata and dialects merges.
pub(crate) fn merge_values(into: &mut Map<Value>, from: &Map<Value>) {
    for (k, v) in from {
        into.insert(k.clone(), v.clone());
    }
}

/// Merges trait maps by name (later wins).
pub(crate) fn merge_traits(into: &mut Map<TraitValue>, from: &Map<TraitValue>) {
    for (k, v) in from {
        into.insert(k.clone(), v.clone());
    }
}
