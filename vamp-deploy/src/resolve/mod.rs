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
//! One file per step: `references.rs` (1), `order.rs` (2), `scopes.rs`
//! and `interpolate.rs` (3), `weights.rs` (4); `finalize.rs` runs 2–4 on
//! the services a merge touched.
//!
//! ```
//! use vamp_deploy::resolve::resolve_blueprint;
//! use vamp_deploy::store::MemoryStore;
//! use vamp_model::{Artifact, Blueprint, Breed, Cluster, Deployable, Document, Map, OrRef, Reference, Service};
//! let breed = Breed {
//!     name: "web:1".into(),
//!     deployable: Deployable { deployable_type: None, definition: "acme/web:1".into() },
//!     ..Breed::default()
//! };
//! let store = MemoryStore::with([Document::Breed(breed)]);
//! let service = Service::new(OrRef::Reference(Reference::new("web:1")));
//! let mut clusters = Map::new();
//! clusters.insert("web".to_owned(), Cluster { services: vec![service], ..Cluster::default() });
//! let bp = Artifact::new("shop", Blueprint { clusters, ..Blueprint::default() });
//! let d = resolve_blueprint(&bp, &store).unwrap();
//! assert_eq!(d.name, "shop");
//! assert_eq!(d.spec.clusters["web"].services[0].breed.deployable.definition, "acme/web:1");
//! assert_eq!(d.spec.clusters["web"].services[0].scale.memory, 1000.0);
//! ```

mod finalize;
mod interpolate;
mod order;
mod references;
mod scopes;
mod weights;

use std::collections::HashMap;

use vamp_model::artifact::{Blueprint, Cluster, Gateway, Map, OrRef, Service};
use vamp_model::deployment::Deployment;
use vamp_model::diagnostic::{Code, Diagnostic};
use vamp_model::span::Span;
use vamp_model::Artifact;

use crate::store::Store;

pub(crate) use finalize::{finalize, merge_traits, merge_values};
pub use order::{deploy_order, ServiceRef};
pub(crate) use references::load;
pub use weights::fill_weights;

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
    merge_top_level(&mut out, blueprint, loaded.gateways)?;
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

/// Merges the top of a blueprint (metadata, dialects, environment
/// variables) and its loaded gateways, weights filled, into a deployment.
pub(crate) fn merge_top_level(
    out: &mut Artifact<Deployment>,
    blueprint: &Artifact<Blueprint>,
    gateways: Map<Gateway>,
) -> Result<(), Diagnostic> {
    merge_values(&mut out.metadata, &blueprint.metadata);
    merge_values(&mut out.spec.dialects, &blueprint.spec.dialects);
    merge_traits(
        &mut out.spec.environment_variables,
        &blueprint.spec.environment_variables,
    );
    for (key, mut g) in gateways {
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
    Ok(())
}
