//! Step 1: loading the references of a blueprint from the store (breeds,
//! scales, SLAs, escalations, gateways, routes, conditions, rewrites) and
//! where each service was written, for error positions.

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::store::Store;
use vamp_model::artifact::{
    Blueprint, Breed, Document, Escalation, Gateway, Kind, Map, OrRef, Reference, Rewrite, Route,
    RouteCondition, Scale, Sla,
};
use vamp_model::deployment::{DeployedCluster, DeployedService, Status};
use vamp_model::diagnostic::{Code, Diagnostic};
use vamp_model::span::Span;
use vamp_model::Artifact;

/// Where a service was written, for error positions.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// The service (or its breed reference).
    pub(crate) span: Option<Span>,
    /// True when the breed was written inline (its own spans are then in
    /// the same source and can be pointed at).
    pub(crate) inline: bool,
}

/// Where to point for a service: inside its breed when the breed was
/// written inline, else at the service.
pub(super) fn locate_site(site: Option<&Site>, inner: Option<Span>) -> Span {
    match site {
        Some(site) if site.inline => inner.or(site.span).unwrap_or(Span::START),
        Some(site) => site.span.unwrap_or(Span::START),
        None => Span::START,
    }
}

/// Sites by (cluster, breed name), the names borrowed from the blueprint.
#[derive(Default)]
pub(crate) struct Sites<'a> {
    /// Site and insertion number (a later insert for the same key wins).
    pub(super) by_name: FxHashMap<(&'a str, &'a str), (Site, usize)>,
    /// Stored breeds whose name is not the name they were referenced by.
    pub(super) renamed: FxHashMap<(String, String), (Site, usize)>,
    pub(super) inserts: usize,
}

impl<'a> Sites<'a> {
    pub(super) fn with_capacity(n: usize) -> Self {
        Sites {
            by_name: FxHashMap::with_capacity_and_hasher(n, FxBuildHasher),
            renamed: FxHashMap::default(),
            inserts: 0,
        }
    }

    pub(super) fn insert(&mut self, cluster: &'a str, written: &'a str, breed: &str, site: Site) {
        let seq = self.inserts;
        self.inserts += 1;
        if written == breed {
            self.by_name.insert((cluster, written), (site, seq));
        } else {
            self.renamed
                .insert((cluster.to_owned(), breed.to_owned()), (site, seq));
        }
    }

    pub(super) fn get(&self, cluster: &str, breed: &str) -> Option<Site> {
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

pub(super) fn unresolved(
    kind: Kind,
    r: &Reference,
    fallback: Option<Span>,
    path: &str,
) -> Diagnostic {
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

pub(super) fn fetch(
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
pub(super) fn load_breed(
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

pub(super) fn load_scale(
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

pub(super) fn load_escalations(
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

pub(super) fn load_escalation(
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
pub(super) fn strip_spans(list: &[Escalation]) -> Vec<Escalation> {
    list.iter()
        .map(|e| match e {
            Escalation::Reference(r) => Escalation::Reference(Reference::new(r.name.clone())),
            Escalation::ToAll(l) => Escalation::ToAll(strip_spans(l)),
            Escalation::ToOne(l) => Escalation::ToOne(strip_spans(l)),
            other => {
                let mut e = other.clone();
                if let Escalation::Scale { span, .. } = &mut e {
                    *span = None;
                }
                e
            }
        })
        .collect()
}

pub(super) fn load_sla(
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

pub(super) fn load_route(
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

pub(super) fn load_gateway(
    store: &dyn Store,
    g: &Gateway,
    path: &str,
) -> Result<Gateway, Diagnostic> {
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
