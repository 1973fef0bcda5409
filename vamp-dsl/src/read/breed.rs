//! Breeds, traits, arguments, health checks and scales.

use vamp_model::names::{is_valid_name, is_valid_strict_name, split_alias, MAX_NAME_LEN};
use vamp_model::units::{parse_cpu, parse_duration, parse_memory};
use vamp_model::{
    Argument, Breed, Code, Deployable, HealthCheck, Map, OrRef, Port, Reference, Scale, Span,
    TraitValue,
};

use super::ctx::{
    display_path, index, join, required, scalar, text, Ctx, Fields, HEALTH, SHAPE, TRAITS,
};
use crate::yaml::{Entry, Node, NodeValue};

/// Checks an artifact or cluster name: `illegal_name`, or `resource_limit`
/// for absurdly long names.
pub(crate) fn check_name(ctx: &mut Ctx, name: &str, span: Span, path: &str) -> bool {
    if name.len() > MAX_NAME_LEN {
        ctx.report(
            SHAPE,
            Code::ResourceLimit,
            span,
            path,
            format!(
                "the name at `{}` is {} bytes long; names are at most {MAX_NAME_LEN} bytes",
                display_path(path),
                name.len()
            ),
        );
        return false;
    }
    if !is_valid_name(name) {
        ctx.report(
            SHAPE,
            Code::IllegalName,
            span,
            path,
            format!("`{name}` is not a valid name: names cannot be empty or contain whitespace, `/`, `[` or `]`"),
        );
        return false;
    }
    true
}

/// `name:` of a document or inline artifact.
pub(crate) fn read_name(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<String> {
    let node = required(ctx, f, "name")?;
    let path = join(&f.path, "name");
    let name = text(ctx, node, &path)?;
    check_name(ctx, &name, node.span, &path).then_some(name)
}

/// `metadata:` must be a map (`unsupported_metadata`).
pub(crate) fn read_metadata(ctx: &mut Ctx, f: &mut Fields<'_>) -> Map<serde_json::Value> {
    let mut out = Map::new();
    let Some(node) = f.get_some("metadata") else {
        return out;
    };
    let Some(entries) = node.as_map() else {
        ctx.report(
            SHAPE,
            Code::UnsupportedMetadata,
            node.span,
            &join(&f.path, "metadata"),
            "`metadata` must be a map of keys to values".to_owned(),
        );
        return out;
    };
    for e in entries {
        out.insert(e.key.clone(), e.value.to_json());
    }
    out
}

/// `dialects:` (or `dialect:`): a free-form map.
pub(crate) fn read_dialects(ctx: &mut Ctx, f: &mut Fields<'_>) -> Map<serde_json::Value> {
    let mut out = Map::new();
    let node = match (f.get_some("dialects"), f.get_some("dialect")) {
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => return out,
    };
    match node.as_map() {
        Some(entries) => {
            for e in entries {
                out.insert(e.key.clone(), e.value.to_json());
            }
        }
        None => ctx.wrong_type(
            node,
            &join(&f.path, "dialects"),
            "a map of dialect names to settings",
        ),
    }
    out
}

/// Is this map a reference (`ref:` / `reference:`)? Returns the name.
pub(crate) fn reference_of(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Option<Reference>> {
    let entries = node.as_map()?;
    let r = entries
        .iter()
        .find(|e| e.key == "reference" || e.key == "ref")?;
    let name_path = join(path, &r.key);
    let name = text(ctx, &r.value, &name_path)?;
    if !check_name(ctx, &name, r.value.span, &name_path) {
        return Some(None);
    }
    Some(Some(Reference {
        name,
        span: Some(r.value.span),
    }))
}

/// A bare-string reference.
pub(crate) fn string_reference(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Reference> {
    let name = node.as_str()?;
    check_name(ctx, name, node.span, path).then(|| Reference {
        name: name.to_owned(),
        span: Some(node.span),
    })
}

/// Reads an artifact that may be a reference or inline, where an inline
/// one must not carry a name (`either_reference_or_anonymous`).
pub(crate) enum RefOrMap<'a> {
    Ref(Reference),
    Map(&'a Node),
    Failed,
}

pub(crate) fn ref_or_map<'a>(
    ctx: &mut Ctx,
    node: &'a Node,
    path: &str,
    what: &str,
) -> RefOrMap<'a> {
    match &node.value {
        NodeValue::Scalar { .. } if !node.is_null() => match string_reference(ctx, node, path) {
            Some(r) => RefOrMap::Ref(r),
            None => RefOrMap::Failed,
        },
        NodeValue::Map(entries) => {
            let is_ref = entries
                .iter()
                .any(|e| e.key == "reference" || e.key == "ref");
            if is_ref {
                if entries.len() > 1 {
                    ctx.report(
                        SHAPE,
                        Code::EitherReferenceOrAnonymous,
                        node.span,
                        path,
                        format!("`{}` is either a reference (`reference: name`) or an inline {what}, not both", display_path(path)),
                    );
                    return RefOrMap::Failed;
                }
                return match reference_of(ctx, node, path) {
                    Some(Some(r)) => RefOrMap::Ref(r),
                    _ => RefOrMap::Failed,
                };
            }
            RefOrMap::Map(node)
        }
        _ => {
            ctx.wrong_type(node, path, &format!("a reference or an inline {what}"));
            RefOrMap::Failed
        }
    }
}

/// Rejects a `name:` on an inline artifact nested in another one.
pub(crate) fn reject_name(ctx: &mut Ctx, f: &mut Fields<'_>, what: &str) -> bool {
    if let Some(n) = f.get("name") {
        ctx.report(
            SHAPE,
            Code::EitherReferenceOrAnonymous,
            n.span,
            &join(&f.path, "name"),
            format!("an inline {what} has no name: remove `name`, or store the {what} and write `reference: NAME`"),
        );
        return false;
    }
    true
}

/// A breed document or inline breed.
pub(crate) fn read_breed(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Breed> {
    let mut f = Fields::of(
        ctx,
        node,
        path,
        "a breed (a map with `name` and `deployable`)",
    )?;
    f.ignore(&["kind", "lookup_name"]);
    let name = read_name(ctx, &mut f);
    let metadata = read_metadata(ctx, &mut f);
    let deployable = read_deployable(ctx, &mut f);
    let ports = read_ports(ctx, &mut f);
    let environment_variables = read_env(ctx, &mut f, true);
    let constants = read_constants(ctx, &mut f);
    let arguments = read_arguments(ctx, &mut f);
    let dependencies = read_dependencies(ctx, &mut f);
    let health_checks = f
        .get_some("health_checks")
        .and_then(|n| read_health_checks(ctx, n, &join(path, "health_checks")));
    f.finish(ctx);
    let breed = Breed {
        name: name?,
        metadata,
        deployable: deployable?,
        ports,
        environment_variables,
        constants,
        arguments,
        dependencies,
        health_checks,
        span: Some(node.span),
    };
    if let Some(hcs) = &breed.health_checks {
        let ports: Vec<&str> = breed.ports.keys().map(String::as_str).collect();
        check_health_ports(ctx, hcs, &ports, &join(path, "health_checks"));
    }
    check_breed_traits(ctx, &breed, path);
    Some(breed)
}

fn read_deployable(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<Deployable> {
    let path = join(&f.path, "deployable");
    let Some(node) = f.get_some("deployable") else {
        ctx.report(
            SHAPE,
            Code::MissingPathValue,
            f.span(),
            &join(&path, "definition"),
            format!("the breed has no `deployable`: add `deployable: IMAGE` (at `{path}`)"),
        );
        return None;
    };
    if let Some(t) = node.as_str() {
        return Some(Deployable::untyped(t.to_owned()));
    }
    let mut d = Fields::of(
        ctx,
        node,
        &path,
        "an image name or a map with `type` and `definition`",
    )?;
    let deployable_type = match d.get("type") {
        Some(n) => scalar(ctx, n, &join(&path, "type"))?.map(str::to_owned),
        None => None,
    };
    let definition =
        required(ctx, &mut d, "definition").and_then(|n| text(ctx, n, &join(&path, "definition")));
    d.finish(ctx);
    Some(Deployable {
        deployable_type,
        definition: definition?,
    })
}

/// The entries of the trait map under `key`, and its path.
fn trait_map<'a>(ctx: &mut Ctx, f: &mut Fields<'a>, key: &'static str) -> (String, &'a [Entry]) {
    f.map_of(ctx, key, "a map of names to values")
}

/// The entries of the trait map under `key` whose names are valid `what`
/// names and whose values read as text: each with its path and its text
/// (`None` for a place holder).
fn named_values<'a>(
    ctx: &mut Ctx,
    f: &mut Fields<'a>,
    key: &'static str,
    what: &str,
) -> Vec<(&'a Entry, String, Option<String>)> {
    let (path, entries) = trait_map(ctx, f, key);
    let mut out = Vec::new();
    for e in entries {
        let p = join(&path, &e.key);
        if !strict_name(ctx, &e.key, e.key_span, &p, what) {
            continue;
        }
        if let Some(value) = trait_text(ctx, &e.value, &p) {
            out.push((e, p, value));
        }
    }
    out
}

pub(crate) fn read_ports(ctx: &mut Ctx, f: &mut Fields<'_>) -> Map<Port> {
    let mut out = Map::new();
    for (e, p, value) in named_values(ctx, f, "ports", "port") {
        let Some(value) = value else {
            ctx.report(
                TRAITS,
                Code::MissingPortValue,
                e.value.span,
                &p,
                format!(
                    "the port `{}` has no value: write e.g. `{}: 8080/http`",
                    e.key, e.key
                ),
            );
            continue;
        };
        if let Some(port) = Port::parse(&value) {
            out.insert(e.key.clone(), port);
        } else {
            ctx.report(
                TRAITS,
                Code::UnexpectedType,
                e.value.span,
                &p,
                format!("`{value}` is not a port: write a number from 0 to 65535, optionally followed by `/http` or `/tcp`"),
            );
        }
    }
    out
}

fn strict_name(ctx: &mut Ctx, name: &str, span: Span, path: &str, what: &str) -> bool {
    if name.len() > MAX_NAME_LEN {
        return check_name(ctx, name, span, path);
    }
    if !is_valid_strict_name(name) {
        ctx.report(
            TRAITS,
            Code::IllegalStrictName,
            span,
            path,
            format!("`{name}` is not a valid {what} name: it cannot be empty or contain whitespace, `/`, `[`, `]` or `.`"),
        );
        return false;
    }
    true
}

/// The text of a trait value: scalars as text, null as None, maps and lists
/// are `malformed_trait`.
fn trait_text(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Option<String>> {
    if node.is_null() {
        return Some(None);
    }
    match node.as_str() {
        Some(t) => Some(Some(t.to_owned())),
        None => {
            ctx.report(
                TRAITS,
                Code::MalformedTrait,
                node.span,
                path,
                format!(
                    "`{path}` must be a single value (text or number), not {}",
                    node.type_name()
                ),
            );
            None
        }
    }
}

/// Environment variables (`environment_variables` or `env`), with aliases.
pub(crate) fn read_env(ctx: &mut Ctx, f: &mut Fields<'_>, _breed: bool) -> Map<TraitValue> {
    let mut out = Map::new();
    let key = if f.has("environment_variables") {
        "environment_variables"
    } else {
        "env"
    };
    let (path, entries) = trait_map(ctx, f, key);
    for e in entries {
        let p = join(&path, &e.key);
        let (name, alias) = split_alias(&e.key);
        if name.len() > MAX_NAME_LEN || !is_valid_name(name) || alias == Some("") {
            if name.len() > MAX_NAME_LEN {
                check_name(ctx, name, e.key_span, &p);
            } else {
                ctx.report(
                    TRAITS,
                    Code::IllegalName,
                    e.key_span,
                    &p,
                    format!("`{}` is not a valid environment variable name: use `NAME` or `NAME[ALIAS]`", e.key),
                );
            }
            continue;
        }
        let Some(value) = trait_text(ctx, &e.value, &p) else {
            continue;
        };
        if let Some(v) = &value {
            check_syntax(ctx, v, e.value.span, &p);
        }
        out.insert(
            name.to_owned(),
            TraitValue {
                value,
                alias: alias.map(str::to_owned),
                span: Some(e.value.span),
            },
        );
    }
    out
}

/// Checks the `$` syntax of a value (`parser`).
pub(crate) fn check_syntax(ctx: &mut Ctx, value: &str, span: Span, path: &str) -> bool {
    if !value.contains('$') {
        return true;
    }
    match vamp_model::interpolation::parse(value) {
        Ok(_) => true,
        Err(e) => {
            ctx.report(
                TRAITS,
                Code::Parser,
                span,
                path,
                format!("cannot read the value of `{path}`: {}", e.message),
            );
            false
        }
    }
}

fn read_constants(ctx: &mut Ctx, f: &mut Fields<'_>) -> Map<TraitValue> {
    let mut out = Map::new();
    for (e, p, value) in named_values(ctx, f, "constants", "constant") {
        if value.is_none() {
            ctx.report(
                TRAITS,
                Code::MissingConstantValue,
                e.value.span,
                &p,
                format!("the constant `{}` has no value: give it one", e.key),
            );
            continue;
        }
        if let Some(v) = &value {
            check_syntax(ctx, v, e.value.span, &p);
        }
        out.insert(
            e.key.clone(),
            TraitValue {
                value,
                alias: None,
                span: Some(e.value.span),
            },
        );
    }
    out
}

/// `arguments`: a map or a list of one-key maps.
pub(crate) fn read_arguments(ctx: &mut Ctx, f: &mut Fields<'_>) -> Vec<Argument> {
    let mut out = Vec::new();
    let path = join(&f.path, "arguments");
    let Some(node) = f.get_some("arguments") else {
        return out;
    };
    let bad = |ctx: &mut Ctx, n: &Node| {
        ctx.report(
            TRAITS,
            Code::InvalidArgument,
            n.span,
            &path,
            "each argument must be one `key: value` pair, e.g. `- privileged: true`".to_owned(),
        );
    };
    let mut pairs: Vec<(&str, &Node, Span)> = Vec::new();
    match &node.value {
        NodeValue::Map(entries) => {
            pairs.extend(
                entries
                    .iter()
                    .map(|e| (e.key.as_str(), &e.value, e.key_span)),
            );
        }
        NodeValue::Seq(items) => {
            for item in items {
                match item.as_map() {
                    Some([e]) => pairs.push((e.key.as_str(), &e.value, e.key_span)),
                    _ => bad(ctx, item),
                }
            }
        }
        NodeValue::Scalar { .. } => bad(ctx, node),
    }
    for (key, value, span) in pairs {
        let Some(v) = value.as_str().filter(|_| !value.is_null()) else {
            bad(ctx, value);
            continue;
        };
        if key == "privileged"
            && !v.eq_ignore_ascii_case("true")
            && !v.eq_ignore_ascii_case("false")
        {
            ctx.report(
                TRAITS,
                Code::InvalidArgumentValue,
                value.span,
                &join(&path, key),
                format!("`privileged` must be `true` or `false`, not `{v}`"),
            );
            continue;
        }
        let _ = span;
        out.push(Argument {
            key: key.to_owned(),
            value: v.to_owned(),
        });
    }
    out
}

fn read_dependencies(ctx: &mut Ctx, f: &mut Fields<'_>) -> Map<OrRef<Breed>> {
    let mut out = Map::new();
    let (path, entries) = f.map_of(ctx, "dependencies", "a map of dependency names to breeds");
    for e in entries {
        let p = join(&path, &e.key);
        if !check_name(ctx, &e.key, e.key_span, &p) {
            continue;
        }
        let target = match e.value.get("breed") {
            Some(b) if e.value.as_map().is_some_and(|m| m.len() == 1) => b,
            _ => &e.value,
        };
        let dep = match ref_or_map(ctx, target, &p, "breed") {
            RefOrMap::Ref(r) => Some(OrRef::Reference(r)),
            RefOrMap::Map(m) => read_breed(ctx, m, &p).map(OrRef::Inline),
            RefOrMap::Failed => None,
        };
        if let Some(dep) = dep {
            out.insert(e.key.clone(), dep);
        }
    }
    out
}

/// Health checks: one map or a list of maps.
pub(crate) fn read_health_checks(
    ctx: &mut Ctx,
    node: &Node,
    path: &str,
) -> Option<Vec<HealthCheck>> {
    let items: Vec<&Node> = match &node.value {
        NodeValue::Seq(items) => items.iter().collect(),
        NodeValue::Map(_) => vec![node],
        NodeValue::Scalar { .. } => {
            ctx.wrong_type(node, path, "a health check or a list of health checks");
            return None;
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let p = index(path, i);
        if let Some(hc) = read_health_check(ctx, item, &p) {
            out.push(hc);
        }
    }
    Some(out)
}

fn read_health_check(ctx: &mut Ctx, node: &Node, path: &str) -> Option<HealthCheck> {
    let mut f = Fields::of(ctx, node, path, "a health check map")?;
    let hc_path = f.path.clone();
    let path_value = match f.get_some("path") {
        Some(n) => text(ctx, n, &join(&hc_path, "path"))?,
        None => "/".to_owned(),
    };
    let port = required(ctx, &mut f, "port").and_then(|n| text(ctx, n, &join(&hc_path, "port")));
    let duration = |ctx: &mut Ctx, f: &mut Fields<'_>, key: &'static str| -> Option<u64> {
        let n = required(ctx, f, key)?;
        let p = join(&hc_path, key);
        let t = text(ctx, n, &p)?;
        match parse_duration(&t) {
            Ok(v) => Some(v),
            Err(e) => {
                ctx.report(HEALTH, Code::UnexpectedType, n.span, &p, e.to_string());
                None
            }
        }
    };
    let initial_delay = duration(ctx, &mut f, "initial_delay");
    let timeout = duration(ctx, &mut f, "timeout");
    let interval = duration(ctx, &mut f, "interval");
    let failures = required(ctx, &mut f, "failures").and_then(|n| {
        let p = join(&hc_path, "failures");
        let t = text(ctx, n, &p)?;
        match t.trim().parse::<i64>() {
            Ok(v) if v < 0 => {
                ctx.report(
                    HEALTH,
                    Code::NegativeFailuresNumber,
                    n.span,
                    &p,
                    format!("`failures` is {v}; it must be zero or more"),
                );
                None
            }
            Ok(v) => u64::try_from(v).ok(),
            Err(_) => ctx.bad_value(
                n.span,
                &p,
                format!("`failures` must be a whole number, not `{t}`"),
            ),
        }
    });
    let protocol = match f.get_some("protocol") {
        Some(n) => {
            let p = join(&hc_path, "protocol");
            let t = text(ctx, n, &p)?;
            let upper = t.to_ascii_uppercase();
            if !matches!(upper.as_str(), "HTTP" | "HTTPS" | "TCP" | "COMMAND") {
                ctx.report(
                    HEALTH,
                    Code::UnsupportedProtocol,
                    n.span,
                    &p,
                    format!(
                        "`{t}` is not a health-check protocol: use HTTP, HTTPS, TCP or COMMAND"
                    ),
                );
                return None;
            }
            upper
        }
        None => "HTTP".to_owned(),
    };
    f.finish(ctx);
    Some(HealthCheck {
        path: path_value,
        port: port?,
        initial_delay: initial_delay?,
        timeout: timeout?,
        interval: interval?,
        failures: failures?,
        protocol,
        span: Some(node.span),
    })
}

/// Every health check's port must be one of `ports` (`unresolved_port_reference`).
pub(crate) fn check_health_ports(ctx: &mut Ctx, hcs: &[HealthCheck], ports: &[&str], path: &str) {
    for (i, hc) in hcs.iter().enumerate() {
        if !ports.contains(&hc.port.as_str()) {
            ctx.report(
                HEALTH,
                Code::UnresolvedPortReference,
                hc.span.unwrap_or(Span::START),
                &format!("{path}[{i}].port"),
                format!(
                    "the health check names the port `{}`, which is not a port of the breed (ports: {})",
                    hc.port,
                    if ports.is_empty() { "none".to_owned() } else { ports.join(", ") }
                ),
            );
        }
    }
}

/// Trait values may only reference declared dependencies, and the traits
/// of inline dependencies must exist (`unresolved_dependency_in_trait_value`).
fn check_breed_traits(ctx: &mut Ctx, breed: &Breed, path: &str) {
    let ports: Vec<(&str, TraitValue)> = breed
        .ports
        .iter()
        .filter(|(_, p)| p.number.is_none())
        .map(|(k, p)| {
            (
                k.as_str(),
                TraitValue {
                    value: Some(p.value.clone()),
                    alias: None,
                    span: breed.span,
                },
            )
        })
        .collect();
    let values = ports
        .iter()
        .map(|(k, v)| ("ports", *k, v))
        .chain(
            breed
                .environment_variables
                .iter()
                .map(|(k, v)| ("environment_variables", k.as_str(), v)),
        )
        .chain(
            breed
                .constants
                .iter()
                .map(|(k, v)| ("constants", k.as_str(), v)),
        );
    for (group_key, key, tv) in values {
        let Some(value) = tv.value.as_deref().filter(|v| v.contains('$')) else {
            continue;
        };
        let p = join(&join(path, group_key), key);
        let Ok(parts) = vamp_model::interpolation::parse(value) else {
            continue;
        };
        for part in parts {
            let Some(cluster) = part.cluster() else {
                continue;
            };
            let span = tv.span.unwrap_or(Span::START);
            let Some(dep) = breed.dependencies.get(cluster) else {
                ctx.report(
                    TRAITS,
                    Code::UnresolvedDependencyInTraitValue,
                    span,
                    &p,
                    format!("`{value}` refers to `{cluster}`, which is not a dependency of the breed `{}`: add it under `dependencies`", breed.name),
                );
                continue;
            };
            if let (
                vamp_model::interpolation::Part::Trait { group, name, .. },
                OrRef::Inline(dep),
            ) = (&part, dep)
            {
                if !breed_has_trait(dep, group, name) {
                    ctx.report(
                        TRAITS,
                        Code::UnresolvedDependencyInTraitValue,
                        span,
                        &p,
                        format!("`{value}` refers to `{cluster}.{group}.{name}`, but the breed `{}` has no such trait", dep.name),
                    );
                }
            }
        }
    }
}

/// Does the breed declare `group.name`?
pub(crate) fn breed_has_trait(breed: &Breed, group: &str, name: &str) -> bool {
    match group {
        "ports" => breed.ports.contains_key(name),
        "environment_variables" => breed.environment_variables.contains_key(name),
        "constants" => breed.constants.contains_key(name),
        _ => false,
    }
}

/// An inline scale (`cpu`, `memory` required; `instances` defaults to 1).
pub(crate) fn read_scale_fields(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<Scale> {
    let cpu = required(ctx, f, "cpu").and_then(|n| {
        let p = join(&f.path, "cpu");
        let t = text(ctx, n, &p)?;
        unit(ctx, parse_cpu(&t), n.span, &p)
    });
    let memory = required(ctx, f, "memory").and_then(|n| {
        let p = join(&f.path, "memory");
        let t = text(ctx, n, &p)?;
        unit(ctx, parse_memory(&t), n.span, &p)
    });
    let instances = match f.get_some("instances") {
        Some(n) => {
            let p = join(&f.path, "instances");
            let t = text(ctx, n, &p)?;
            match t.trim().parse::<u32>() {
                Ok(v) => Some(v),
                Err(_) => ctx.bad_value(
                    n.span,
                    &p,
                    format!(
                        "`instances` must be a whole number from 0 to {}, not `{t}`",
                        u32::MAX
                    ),
                ),
            }
        }
        None => Some(1),
    };
    Some(Scale {
        cpu: cpu?,
        memory: memory?,
        instances: instances?,
    })
}

pub(crate) fn unit<T>(
    ctx: &mut Ctx,
    r: Result<T, vamp_model::units::UnitError>,
    span: Span,
    path: &str,
) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => ctx.bad_value(span, path, format!("{e} (at `{path}`)")),
    }
}

/// A scale that may be a reference.
pub(crate) fn read_scale_ref(ctx: &mut Ctx, node: &Node, path: &str) -> Option<OrRef<Scale>> {
    match ref_or_map(ctx, node, path, "scale") {
        RefOrMap::Ref(r) => Some(OrRef::Reference(r)),
        RefOrMap::Map(m) => {
            let mut f = Fields::of(ctx, m, path, "a scale")?;
            reject_name(ctx, &mut f, "scale");
            let s = read_scale_fields(ctx, &mut f);
            f.finish(ctx);
            s.map(OrRef::Inline)
        }
        RefOrMap::Failed => None,
    }
}
