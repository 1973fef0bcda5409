//! Blueprints, clusters and services, with the blueprint-local checks.

use std::collections::{HashMap, HashSet};

use vamp_model::graph::find_cycle;
use vamp_model::interpolation::{parse as parse_value, Part};
use vamp_model::names::split_alias;
use vamp_model::{
    Blueprint, Breed, Cluster, Code, Escalation, Gateway, Map, OrRef, Port, PortType, Service,
    Span, Sticky, TraitValue,
};

use super::breed::{
    breed_has_trait, check_health_ports, check_name, check_syntax, read_arguments, read_breed,
    read_dialects, read_env, read_health_checks, read_metadata, read_scale_ref, reference_of,
    string_reference,
};
use super::ctx::{index, join, Ctx, Fields, DEPS, GATEWAYS, SHAPE, TRAITS};
use super::gateway::{check_no_conditions, read_gateway_fields, Place};
use super::sla::read_sla;
use crate::yaml::{Node, NodeValue};

pub(crate) fn read_blueprint_fields(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<Blueprint> {
    let path = f.path.clone();
    let mut clusters = Map::new();
    let mut anonymous: HashMap<String, Gateway> = HashMap::new();
    if let Some(node) = f.get_some("clusters") {
        let cp = join(&path, "clusters");
        match node.as_map() {
            Some(entries) => {
                for e in entries {
                    let p = join(&cp, &e.key);
                    if !check_name(ctx, &e.key, e.key_span, &p) {
                        continue;
                    }
                    if let Some((mut cluster, anon)) = read_cluster(ctx, &e.value, &p) {
                        cluster.span = Some(e.key_span);
                        if let Some(gw) = anon {
                            anonymous.insert(e.key.clone(), gw);
                        }
                        clusters.insert(e.key.clone(), cluster);
                    }
                }
            }
            None => ctx.wrong_type(node, &cp, "a map of cluster names to clusters"),
        }
    }
    // Anonymous cluster gateways take the single port name of the inline breeds.
    for (name, gw) in anonymous {
        let Some(cluster) = clusters.get_mut(&name) else {
            continue;
        };
        let key = anonymous_port(
            ctx,
            cluster,
            &join(&join(&path, "clusters"), &name),
            gw.span,
        );
        if let Some(key) = key {
            cluster.gateways.shift_insert(0, key, gw);
        }
    }
    let gateways = f
        .get_some("gateways")
        .map(|n| read_blueprint_gateways(ctx, n, &join(&path, "gateways")))
        .unwrap_or_default();
    let environment_variables = read_blueprint_env(ctx, f);
    let dialects = read_dialects(ctx, f);
    let bp = Blueprint {
        gateways,
        clusters,
        environment_variables,
        dialects,
    };
    check_blueprint(ctx, &bp, &path);
    Some(bp)
}

fn read_cluster(ctx: &mut Ctx, node: &Node, path: &str) -> Option<(Cluster, Option<Gateway>)> {
    let mut cluster = Cluster {
        metadata: Map::new(),
        services: Vec::new(),
        gateways: Map::new(),
        health_checks: None,
        network: None,
        sla: None,
        dialects: Map::new(),
        span: Some(node.span),
    };
    let mut anonymous = None;
    match &node.value {
        NodeValue::Scalar { .. } if !node.is_null() => {
            let sp = join(path, "services[0]");
            let r = string_reference(ctx, node, &sp)?;
            cluster
                .services
                .push(service_of(OrRef::Reference(r), node.span));
        }
        NodeValue::Seq(_) => {
            cluster.services = read_services(ctx, node, &join(path, "services"));
        }
        NodeValue::Map(_) => {
            let mut f = Fields::of(ctx, node, path, "a cluster")?;
            if let Some(n) = f.get_some("gateways") {
                anonymous =
                    read_cluster_gateways(ctx, n, &join(path, "gateways"), &mut cluster.gateways);
            }
            cluster.sla = f
                .get_some("sla")
                .and_then(|n| read_sla(ctx, n, &join(path, "sla")));
            if f.has("services") {
                cluster.metadata = read_metadata(ctx, &mut f);
                if let Some(n) = f.get_some("services") {
                    cluster.services = read_services(ctx, n, &join(path, "services"));
                }
                cluster.health_checks = f
                    .get_some("health_checks")
                    .and_then(|n| read_health_checks(ctx, n, &join(path, "health_checks")));
                cluster.network = f
                    .get_some("network")
                    .and_then(|n| super::ctx::text(ctx, n, &join(path, "network")));
                cluster.dialects = read_dialects(ctx, &mut f);
                f.finish(ctx);
            } else {
                // The map itself is one service.
                let sp = join(path, "services[0]");
                let mut sf = f;
                sf.path = sp.clone();
                if let Some(s) = read_service_fields(ctx, sf, node) {
                    cluster.services.push(s);
                }
            }
        }
        _ => {
            ctx.wrong_type(
                node,
                path,
                "a cluster (a breed name, a list of services or a map)",
            );
            return None;
        }
    }
    Some((cluster, anonymous))
}

fn service_of(breed: OrRef<Breed>, span: Span) -> Service {
    Service {
        span: Some(span),
        ..Service::new(breed)
    }
}

fn read_services(ctx: &mut Ctx, node: &Node, path: &str) -> Vec<Service> {
    let mut out = Vec::new();
    for (i, item) in node.one_or_many().iter().enumerate() {
        let p = index(path, i);
        if let Some(s) = read_service(ctx, item, &p) {
            out.push(s);
        }
    }
    out
}

fn read_service(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Service> {
    if node.as_str().is_some() && !node.is_null() {
        let r = string_reference(ctx, node, &join(path, "breed"))?;
        return Some(service_of(OrRef::Reference(r), node.span));
    }
    let f = Fields::of(
        ctx,
        node,
        path,
        "a service (a breed name or a map with `breed`)",
    )?;
    read_service_fields(ctx, f, node)
}

/// Reads a service from a map: `breed` + service keys, or an inline breed
/// as a whole (`name` without `breed`), or `ref`/`reference`.
fn read_service_fields(ctx: &mut Ctx, mut f: Fields<'_>, node: &Node) -> Option<Service> {
    let path = f.path.clone();
    if !f.has("breed") && f.has("name") {
        // The whole item is an inline breed.
        let breed = read_breed_as_whole(ctx, &mut f, node, &join(&path, "breed"));
        return breed.map(|b| service_of(OrRef::Inline(b), node.span));
    }
    let breed = if let Some(n) = f.get("breed") {
        read_breed_ref(ctx, n, &join(&path, "breed"))
    } else if f.has("ref") || f.has("reference") {
        let r = reference_of(ctx, node, &path);
        f.ignore(&["ref", "reference"]);
        r.flatten().map(OrRef::Reference)
    } else {
        ctx.report(
            SHAPE,
            Code::MissingPathValue,
            node.span,
            &join(&path, "breed"),
            format!("the service at `{path}` names no breed: add `breed: NAME` or an inline breed"),
        );
        None
    };
    let environment_variables = read_env(ctx, &mut f, false);
    let scale = f
        .get_some("scale")
        .and_then(|n| read_scale_ref(ctx, n, &join(&path, "scale")));
    let arguments = read_arguments(ctx, &mut f);
    let health_checks = f
        .get_some("health_checks")
        .and_then(|n| read_health_checks(ctx, n, &join(&path, "health_checks")));
    let network = f
        .get_some("network")
        .and_then(|n| super::ctx::text(ctx, n, &join(&path, "network")));
    let dialects = read_dialects(ctx, &mut f);
    f.finish(ctx);
    Some(Service {
        breed: breed?,
        environment_variables,
        scale,
        arguments,
        health_checks,
        network,
        dialects,
        span: Some(node.span),
    })
}

fn read_breed_as_whole(
    ctx: &mut Ctx,
    f: &mut Fields<'_>,
    node: &Node,
    path: &str,
) -> Option<Breed> {
    // Mark everything as consumed here; read_breed reports its own leftovers.
    let _ = f.rest();
    read_breed(ctx, node, path)
}

fn read_breed_ref(ctx: &mut Ctx, node: &Node, path: &str) -> Option<OrRef<Breed>> {
    match super::breed::ref_or_map(ctx, node, path, "breed") {
        super::breed::RefOrMap::Ref(r) => Some(OrRef::Reference(r)),
        super::breed::RefOrMap::Map(m) => read_breed(ctx, m, path).map(OrRef::Inline),
        super::breed::RefOrMap::Failed => None,
    }
}

/// Cluster `gateways`: port-keyed, or one anonymous gateway (returned).
fn read_cluster_gateways(
    ctx: &mut Ctx,
    node: &Node,
    path: &str,
    out: &mut Map<Gateway>,
) -> Option<Gateway> {
    let Some(entries) = node.as_map() else {
        ctx.wrong_type(node, path, "a map of port names to gateways");
        return None;
    };
    if entries
        .iter()
        .any(|e| e.key == "routes" || e.key == "sticky")
    {
        let mut f = Fields::of(ctx, node, path, "a gateway")?;
        let gw = read_gateway_fields(ctx, &mut f, Place::Cluster, None);
        f.finish(ctx);
        return gw;
    }
    for e in entries {
        let p = join(path, &e.key);
        let gw = if let Some(t) = e.value.as_str().filter(|_| !e.value.is_null()) {
            let mut routes = Map::new();
            routes.insert(
                t.to_owned(),
                OrRef::Inline(vamp_model::Route {
                    span: Some(e.value.span),
                    ..vamp_model::Route::default()
                }),
            );
            Some(Gateway {
                routes,
                span: Some(e.value.span),
                routes_span: Some(e.value.span),
                ..Gateway::default()
            })
        } else if e.value.is_null() {
            Some(Gateway {
                span: Some(e.key_span),
                ..Gateway::default()
            })
        } else {
            let Some(mut f) = Fields::of(ctx, &e.value, &p, "a gateway") else {
                continue;
            };
            let gw = read_gateway_fields(ctx, &mut f, Place::Cluster, None);
            f.finish(ctx);
            gw
        };
        if let Some(mut gw) = gw {
            gw.span = Some(e.key_span);
            out.insert(e.key.clone(), gw);
        }
    }
    None
}

fn inline_breeds(cluster: &Cluster) -> impl Iterator<Item = &Breed> {
    cluster.services.iter().filter_map(|s| s.breed.as_inline())
}

fn all_inline(cluster: &Cluster) -> bool {
    !cluster.services.is_empty()
        && cluster
            .services
            .iter()
            .all(|s| s.breed.as_inline().is_some())
}

fn anonymous_port(
    ctx: &mut Ctx,
    cluster: &Cluster,
    path: &str,
    span: Option<Span>,
) -> Option<String> {
    let mut names: Vec<&str> = Vec::new();
    for b in inline_breeds(cluster) {
        if b.ports.len() > 1 {
            ctx.report(GATEWAYS, Code::IllegalAnonymousRoutingPortMapping, span.unwrap_or(Span::START), &join(path, "gateways"), format!("the breed `{}` has {} ports, so the gateway must name the port it routes: write `gateways: {{PORT: {{...}}}}`", b.name, b.ports.len()));
            return None;
        }
        for k in b.ports.keys() {
            if !names.contains(&k.as_str()) {
                names.push(k);
            }
        }
    }
    Some(if names.len() == 1 {
        names[0].to_owned()
    } else {
        String::new()
    })
}

fn read_blueprint_gateways(ctx: &mut Ctx, node: &Node, path: &str) -> Map<Gateway> {
    let mut out = Map::new();
    let Some(entries) = node.as_map() else {
        ctx.wrong_type(node, path, "a map of ports to gateways");
        return out;
    };
    let mut seen: HashMap<u16, Span> = HashMap::new();
    for e in entries {
        let p = join(path, &e.key);
        let key_port = Port::parse(&e.key).filter(|p| p.number.is_some());
        let gw = match &e.value.value {
            NodeValue::Scalar { text, .. } if !e.value.is_null() => {
                let mut routes = Map::new();
                let key: String = text
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("/");
                routes.insert(
                    key,
                    OrRef::Inline(vamp_model::Route {
                        span: Some(e.value.span),
                        ..vamp_model::Route::default()
                    }),
                );
                let gw = Gateway {
                    port: key_port.clone(),
                    routes,
                    span: Some(e.key_span),
                    routes_span: Some(e.value.span),
                    ..Gateway::default()
                };
                Some(gw)
            }
            _ => {
                let Some(mut f) = Fields::of(ctx, &e.value, &p, "routes or a gateway map") else {
                    continue;
                };
                if let Some(n) = f.get("name") {
                    ctx.report(
                        SHAPE,
                        Code::NotAnonymous,
                        n.span,
                        &join(&p, "name"),
                        "a blueprint gateway has no name: remove `name`".to_owned(),
                    );
                }
                f.ignore(&["kind", "metadata"]);
                let gw = read_gateway_fields(ctx, &mut f, Place::Blueprint, key_port.clone());
                f.finish(ctx);
                gw.map(|mut g| {
                    g.span = Some(e.key_span);
                    g
                })
            }
        };
        let Some(gw) = gw else { continue };
        if gw.port.is_none() {
            ctx.report(GATEWAYS, Code::InvalidGatewayPort, e.key_span, &p, format!("the gateway `{}` has no port: key it by a port (`8080: cluster/port`) or add `port:`", e.key));
        }
        let key = match (&key_port, gw.port.as_ref().and_then(|p| p.number)) {
            (Some(kp), _) => kp.number.map_or_else(|| e.key.clone(), |n| n.to_string()),
            (None, _) => e.key.clone(),
        };
        if let Some(n) = gw.port.as_ref().and_then(|p| p.number) {
            if let Some(first) = seen.get(&n) {
                ctx.report(GATEWAYS, Code::DuplicateGatewayPort, e.key_span, &p, format!("port {n} is used by two gateways (first on line {}): give each gateway its own port", first.line));
            } else {
                seen.insert(n, e.key_span);
            }
        }
        out.insert(key, gw);
    }
    out
}

fn read_blueprint_env(ctx: &mut Ctx, f: &mut Fields<'_>) -> Map<TraitValue> {
    let mut out = Map::new();
    let key = if f.has("environment_variables") {
        "environment_variables"
    } else {
        "env"
    };
    let (path, entries) = f.map_of(ctx, key, "a map of `cluster.NAME` keys to values");
    for e in entries {
        let p = join(&path, &e.key);
        let (name, alias) = split_alias(&e.key);
        let value = if e.value.is_null() {
            None
        } else if let Some(t) = e.value.as_str() {
            check_syntax(ctx, t, e.value.span, &p);
            Some(t.to_owned())
        } else {
            ctx.report(
                TRAITS,
                Code::MalformedTrait,
                e.value.span,
                &p,
                format!("`{p}` must be a single value"),
            );
            continue;
        };
        let canonical = match name.split_once('.') {
            Some((cluster, rest)) => {
                let var = rest.strip_prefix("environment_variables.").unwrap_or(rest);
                format!("{cluster}.environment_variables.{var}")
            }
            None => name.to_owned(),
        };
        out.insert(
            canonical,
            TraitValue {
                value,
                alias: alias.filter(|a| !a.is_empty()).map(str::to_owned),
                span: Some(e.key_span),
            },
        );
    }
    out
}

fn check_blueprint(ctx: &mut Ctx, bp: &Blueprint, path: &str) {
    let cpath = join(path, "clusters");
    if bp.clusters.values().all(|c| c.services.is_empty()) && !ctx.has_errors() {
        ctx.report(
            SHAPE,
            Code::NoService,
            Span::START,
            &cpath,
            "the blueprint has no service: add a cluster with at least one breed".to_owned(),
        );
    }
    // Breed names used by the blueprint's services.
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let mut names: HashSet<&str> = HashSet::new();
    for (cname, c) in &bp.clusters {
        for (i, s) in c.services.iter().enumerate() {
            let name = match &s.breed {
                OrRef::Inline(b) => b.name.as_str(),
                OrRef::Reference(r) => r.name.as_str(),
            };
            names.insert(name);
            if seen.insert(name, ()).is_some() {
                ctx.report(DEPS, Code::NonUniqueBlueprintBreedReference, s.span.unwrap_or(Span::START), &format!("{cpath}.{cname}.services[{i}]"), format!("the breed `{name}` is used by two services: each service needs its own breed"));
            }
        }
    }
    check_recursion(ctx, bp, &cpath);
    // Dependencies of inline breeds must be breeds of the blueprint.
    for (cname, c) in &bp.clusters {
        for b in inline_breeds(c) {
            for (alias, dep) in &b.dependencies {
                let dep_name = match dep {
                    OrRef::Inline(d) => d.name.as_str(),
                    OrRef::Reference(r) => r.name.as_str(),
                };
                if !names.contains(dep_name) {
                    ctx.report(DEPS, Code::UnresolvedBreedDependency, b.span.unwrap_or(Span::START), &format!("{cpath}.{cname}.dependencies.{alias}"), format!("the breed `{}` depends on `{dep_name}` (as `{alias}`), but no service of the blueprint runs it: add a cluster with that breed", b.name));
                }
            }
        }
    }
    check_env(ctx, bp, path);
    check_gateway_routes(ctx, bp, path);
    for (cname, c) in &bp.clusters {
        let p = join(&cpath, cname);
        check_cluster_gateways(ctx, bp, c, &p);
        if let (Some(hcs), true) = (&c.health_checks, all_inline(c)) {
            let mut ports: Vec<&str> = Vec::new();
            for b in inline_breeds(c) {
                ports.extend(b.ports.keys().map(String::as_str));
            }
            check_health_ports(ctx, hcs, &ports, &join(&p, "health_checks"));
        }
        for (i, s) in c.services.iter().enumerate() {
            if let (Some(hcs), Some(b)) = (&s.health_checks, s.breed.as_inline()) {
                let ports: Vec<&str> = b.ports.keys().map(String::as_str).collect();
                check_health_ports(
                    ctx,
                    hcs,
                    &ports,
                    &format!("{p}.services[{i}].health_checks"),
                );
            }
        }
        if let Some(sla) = &c.sla {
            check_targets(ctx, bp, sla.escalations(), &join(&p, "sla"));
        }
    }
}

fn check_targets(ctx: &mut Ctx, bp: &Blueprint, escalations: &[Escalation], path: &str) {
    for e in escalations {
        match e {
            Escalation::Scale {
                target: Some(t),
                span,
                ..
            } if !bp.clusters.contains_key(t) => {
                ctx.report(GATEWAYS, Code::UnresolvedScaleEscalationTargetCluster, span.unwrap_or(Span::START), path, format!("the escalation scales the cluster `{t}`, which is not a cluster of the blueprint"));
            }
            Escalation::ToAll(list) | Escalation::ToOne(list) => check_targets(ctx, bp, list, path),
            _ => {}
        }
    }
}

/// Cycles through breed dependencies (`recursive_dependencies`).
fn check_recursion(ctx: &mut Ctx, bp: &Blueprint, cpath: &str) {
    let breeds: Vec<&Breed> = bp.clusters.values().flat_map(inline_breeds).collect();
    check_breed_recursion(ctx, breeds, cpath);
}

/// Cycles through the dependencies of these breeds (`recursive_dependencies`).
pub(crate) fn check_breed_recursion(ctx: &mut Ctx, breeds: Vec<&Breed>, path: &str) {
    let cpath = path;
    let mut graph: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut spans: HashMap<&str, Span> = HashMap::new();
    let mut todo = breeds;
    while let Some(b) = todo.pop() {
        spans
            .entry(&b.name)
            .or_insert(b.span.unwrap_or(Span::START));
        let edges = graph.entry(&b.name).or_default();
        for dep in b.dependencies.values() {
            match dep {
                OrRef::Inline(d) => {
                    edges.push(&d.name);
                    todo.push(d);
                }
                OrRef::Reference(r) => edges.push(&r.name),
            }
        }
    }
    // Nodes by name (roots in name order); dependencies on breeds outside
    // these ones cannot close a cycle.
    let mut names: Vec<&str> = graph.keys().copied().collect();
    names.sort_unstable();
    let index = |name: &str| names.binary_search(&name).unwrap_or(usize::MAX);
    let cycle = find_cycle(names.len(), |i| graph[names[i]].iter().map(|d| index(d)));
    if let Some(cycle) = cycle {
        let cycle: Vec<&str> = cycle.into_iter().map(|i| names[i]).collect();
        let span = spans.get(cycle[0]).copied().unwrap_or(Span::START);
        ctx.report(
            DEPS,
            Code::RecursiveDependencies,
            span,
            cpath,
            format!("breed dependencies form a cycle: {}", cycle.join(" -> ")),
        );
    }
}

/// Blueprint-level variables, service overrides and `$cluster.group.name`
/// references into clusters of the blueprint.
fn check_env(ctx: &mut Ctx, bp: &Blueprint, path: &str) {
    let epath = join(path, "environment_variables");
    for (key, tv) in &bp.environment_variables {
        let span = tv.span.unwrap_or(Span::START);
        let p = join(&epath, key);
        let Some((cluster, var)) = key.split_once(".environment_variables.") else {
            ctx.report(
                TRAITS,
                Code::UnresolvedEnvironmentVariable,
                span,
                &p,
                format!("`{key}` must name a cluster and a variable: write `CLUSTER.NAME`"),
            );
            continue;
        };
        if let Some(group) = ["constants.", "ports."]
            .iter()
            .find(|g| var.starts_with(**g))
        {
            ctx.report(TRAITS, Code::UnresolvedEnvironmentVariable, span, &p, format!("only environment variables can be set per cluster; `{}` is not one (constants and ports cannot be overridden)", &var[..group.len() - 1]));
            continue;
        }
        let Some(c) = bp.clusters.get(cluster) else {
            ctx.report(
                TRAITS,
                Code::UnresolvedEnvironmentVariable,
                span,
                &p,
                format!("`{key}` names the cluster `{cluster}`, which is not in the blueprint"),
            );
            continue;
        };
        if all_inline(c) && !inline_breeds(c).any(|b| b.environment_variables.contains_key(var)) {
            ctx.report(
                TRAITS,
                Code::UnresolvedEnvironmentVariable,
                span,
                &p,
                format!(
                    "no breed of the cluster `{cluster}` declares the environment variable `{var}`"
                ),
            );
        }
    }
    for (cname, c) in &bp.clusters {
        for (i, s) in c.services.iter().enumerate() {
            let sp = || format!("{path}.clusters.{cname}.services[{i}].environment_variables");
            if let Some(b) = s.breed.as_inline() {
                for (name, tv) in &s.environment_variables {
                    let span = tv.span.unwrap_or(Span::START);
                    if !b.environment_variables.contains_key(name) {
                        ctx.report(TRAITS, Code::UnresolvedDependencyInTraitValue, span, &join(&sp(), name), format!("the breed `{}` declares no environment variable `{name}` to override", b.name));
                    } else if tv.value.is_none() {
                        ctx.report(
                            TRAITS,
                            Code::MissingEnvironmentVariable,
                            span,
                            &join(&sp(), name),
                            format!("the service sets `{name}` without a value: give it one"),
                        );
                    }
                }
            }
        }
    }
    // $C.group.name where C is a cluster of the blueprint. Paths are only
    // built for values that fail.
    let mut values: Vec<(&str, &TraitValue)> = Vec::new();
    for c in bp.clusters.values() {
        for s in &c.services {
            if let Some(b) = s.breed.as_inline() {
                for (k, v) in b.environment_variables.iter().chain(&b.constants) {
                    values.push((k, v));
                }
            }
            for (k, v) in &s.environment_variables {
                values.push((k, v));
            }
        }
    }
    for (k, v) in &bp.environment_variables {
        values.push((k, v));
    }
    for (p, tv) in values {
        let Some(value) = tv.value.as_deref().filter(|v| v.contains('$')) else {
            continue;
        };
        let Ok(parts) = parse_value(value) else {
            continue;
        };
        for part in parts {
            if let Part::Trait {
                cluster,
                group,
                name,
            } = &part
            {
                let Some(c) = bp.clusters.get(cluster) else {
                    continue;
                };
                if all_inline(c) && !inline_breeds(c).any(|b| breed_has_trait(b, group, name)) {
                    ctx.report(TRAITS, Code::UnresolvedEnvironmentVariable, tv.span.unwrap_or(Span::START), p, format!("`{value}` refers to `{cluster}.{group}.{name}`, but no breed of the cluster `{cluster}` has it"));
                }
            }
        }
    }
}

/// Blueprint gateway routes must be `CLUSTER/PORT` of the blueprint.
fn check_gateway_routes(ctx: &mut Ctx, bp: &Blueprint, path: &str) {
    for (key, gw) in &bp.gateways {
        let gpath = join(&join(path, "gateways"), key);
        for (route, r) in &gw.routes {
            let span = r
                .as_inline()
                .and_then(|r| r.span)
                .or(gw.span)
                .unwrap_or(Span::START);
            let rp = join(&join(&gpath, "routes"), route);
            let segments: Vec<&str> = route.split('/').collect();
            let ok = match segments.as_slice() {
                [cluster, port] => match bp.clusters.get(*cluster) {
                    Some(c) => {
                        !all_inline(c) || inline_breeds(c).any(|b| b.ports.contains_key(*port))
                    }
                    None => false,
                },
                _ => false,
            };
            if !ok {
                ctx.report(GATEWAYS, Code::UnresolvedGatewayPort, span, &rp, format!("the route `{route}` must name a cluster of the blueprint and one of its ports: write `CLUSTER/PORT`"));
            }
        }
    }
}

fn check_cluster_gateways(ctx: &mut Ctx, bp: &Blueprint, c: &Cluster, path: &str) {
    let _ = bp;
    for (port, gw) in &c.gateways {
        let gpath = join(&join(path, "gateways"), port);
        let span = gw.span.unwrap_or(Span::START);
        let breeds: Vec<&Breed> = inline_breeds(c).collect();
        if !port.is_empty() && all_inline(c) && !breeds.iter().any(|b| b.ports.contains_key(port)) {
            ctx.report(GATEWAYS, Code::UnresolvedGatewayPort, span, &gpath, format!("the cluster gateway routes the port `{port}`, which no breed of the cluster has"));
            continue;
        }
        let tcp = breeds
            .iter()
            .filter_map(|b| b.ports.get(port))
            .any(|p| p.port_type == PortType::Tcp);
        if tcp {
            if gw.sticky.is_some() {
                let _ = Sticky::Route;
                ctx.report(GATEWAYS, Code::StickyPortType, span, &join(&gpath, "sticky"), format!("the port `{port}` is TCP, which cannot be sticky: stickiness needs HTTP cookies"));
            }
            check_no_conditions(ctx, gw, &gpath);
        }
    }
}
