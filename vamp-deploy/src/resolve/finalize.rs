//! Finalizing a merged deployment: checks, dependencies, environments and
//! weights of the services a merge touched.

use std::collections::HashSet;

use rustc_hash::FxHashSet;

use vamp_model::artifact::{Escalation, Map, TraitValue, Value};
use vamp_model::deployment::{DeployedService, Deployment};
use vamp_model::diagnostic::{Code, Diagnostic};
use vamp_model::span::Span;
use vamp_model::Artifact;

use super::interpolate::Interp;
use super::order::{edges, locate, service_path, topo, Flat, ServiceRef};
use super::references::Sites;
use super::Runtime;

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
pub(super) fn check_unique(flat: &Flat<'_>, sites: &Sites<'_>) -> Result<(), Diagnostic> {
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

pub(super) fn check_blueprint_env(d: &Deployment) -> Result<(), Diagnostic> {
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
pub(super) fn check_service_overrides(
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

pub(super) fn check_targets(
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
