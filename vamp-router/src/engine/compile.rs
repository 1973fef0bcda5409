//! Compiling a gateway: routes, conditions, rewrites, targets and weights
//! into an immutable [`Engine`].

use memchr::memmem::Finder;
use vamp_model::hash::fnv1a_extend;
use vamp_model::{
    Code, Condition, ConditionText, Diagnostic, Gateway, OrRef, PortType, Rewrite, Route,
    RouteCondition,
};

use super::targets::{external_address, Instance};
use super::{
    hash_parts, hex, mix, stable_hash, CompileOptions, CompiledRewrite, CompiledRoute, Conditioned,
    Engine, Matcher, RewriteCondition,
};
use crate::matching;

impl Matcher {
    fn compile(c: &Condition, lenient: bool) -> Result<Matcher, Diagnostic> {
        let all = |args: &[Condition]| -> Result<Box<[Matcher]>, Diagnostic> {
            args.iter().map(|a| Matcher::compile(a, lenient)).collect()
        };
        Ok(match c {
            Condition::And(args) => Matcher::All(all(args)?),
            Condition::Or(args) => Matcher::Any(all(args)?),
            Condition::Not(arg) => Matcher::Not(Box::new(Matcher::compile(arg, lenient)?)),
            Condition::UserAgent(v) => {
                let ua = |needles: &[&str]| Matcher::HeaderContains {
                    name: "user-agent".into(),
                    needles: needles
                        .iter()
                        .map(|n| Finder::new(n.as_bytes()).into_owned())
                        .collect(),
                };
                let is = |name: &str| v.eq_ignore_ascii_case(name);
                if is("Chrome") {
                    ua(&["Chrome"])
                } else if is("Firefox") {
                    ua(&["Firefox"])
                } else if is("Edge") {
                    Matcher::Any(Box::new([ua(&["Edge"]), ua(&["Edg/"])]))
                } else if is("Safari") {
                    ua(&["Safari", "Version"])
                } else if is("IE") {
                    Matcher::Any(Box::new([ua(&["MSIE"]), ua(&["Trident/"])]))
                } else {
                    ua(&[v.as_str()])
                }
            }
            Condition::Host(v) => Matcher::HostEquals(v.as_str().into()),
            Condition::Cookie(n) => Matcher::CookiePresent(n.as_str().into()),
            Condition::Header(n) => Matcher::HeaderPresent(n.to_ascii_lowercase().into()),
            Condition::CookieContains { name, value } => Matcher::CookieContains {
                name: name.as_str().into(),
                needle: Box::new(Finder::new(value.as_bytes()).into_owned()),
            },
            Condition::HeaderContains { name, value } => Matcher::HeaderContains {
                name: name.to_ascii_lowercase().into(),
                needles: Box::new([Finder::new(value.as_bytes()).into_owned()]),
            },
            Condition::Acl(_) => match matching::check(c) {
                Ok(()) => Matcher::Acl(c.clone()),
                Err(_) if lenient => Matcher::Unsupported,
                Err(e) => return Err(e),
            },
        })
    }
}

/// Strips one pair of surrounding braces: `{ path_beg /a }` → `path_beg /a`.
fn strip_braces(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .map_or(t, str::trim)
}

/// Compiles gateway `name`; `lenient` (export only) accepts raw ACLs the
/// engine cannot evaluate.
pub(crate) fn compile_gateway(
    name: &str,
    gateway: &Gateway,
    options: &CompileOptions<'_>,
    lenient: bool,
) -> Result<Engine, Diagnostic> {
    let port_type = check_gateway(name, gateway)?;
    let mut routes = Vec::with_capacity(gateway.routes.len());
    let mut written = Vec::with_capacity(gateway.routes.len());
    for (key, route) in &gateway.routes {
        let OrRef::Inline(route) = route else {
            return Err(Diagnostic::error(
                Code::UnresolvedDependency,
                format!(
                    "route `{key}` of gateway `{name}` is a reference; resolve it before routing"
                ),
            )
            .with_path(format!("routes.{key}")));
        };
        written.push(route.weight);
        let at = RouteAt {
            gateway: name,
            key,
            path: format!("routes.{key}"),
            port_type,
            options,
            lenient,
        };
        routes.push(compile_route(&at, route)?);
    }
    let weight_table = apply_weights(name, gateway, &written, &mut routes)?;
    let conditioned = conditioned(&routes);
    let gateway_hash = mix(stable_hash(name.as_bytes()));
    Ok(Engine {
        name: name.into(),
        port: gateway.port.as_ref().and_then(|p| p.number),
        port_type,
        sticky: gateway.sticky,
        virtual_hosts: gateway
            .virtual_hosts
            .iter()
            .map(|v| v.as_str().into())
            .collect(),
        routes: routes.into(),
        conditioned,
        weight_table,
        route_cookie: format!("vamp_{}", hex(gateway_hash)).into(),
        key_seed: fnv1a_extend(gateway_hash, b"\0key\0"),
    })
}

/// The gateway's port type, after the checks that concern the whole
/// gateway: no stickiness on TCP, at most 65,535 routes.
fn check_gateway(name: &str, gateway: &Gateway) -> Result<PortType, Diagnostic> {
    let port_type = gateway
        .port
        .as_ref()
        .map_or(PortType::Http, |p| p.port_type);
    if port_type == PortType::Tcp && gateway.sticky.is_some() {
        return Err(Diagnostic::error(
            Code::StickyPortType,
            format!("gateway `{name}` is a TCP gateway: stickiness needs HTTP cookies"),
        )
        .at_opt(gateway.span)
        .with_path("sticky"));
    }
    if gateway.routes.len() > usize::from(u16::MAX) {
        return Err(Diagnostic::error(
            Code::UnsupportedRoutePath,
            format!("gateway `{name}` has more than 65535 routes"),
        ));
    }
    Ok(port_type)
}

/// Which route is being compiled (for messages and key paths) and how.
struct RouteAt<'a> {
    gateway: &'a str,
    key: &'a str,
    /// `routes.KEY`.
    path: String,
    port_type: PortType,
    options: &'a CompileOptions<'a>,
    /// Accept raw ACLs the engine cannot evaluate (export only).
    lenient: bool,
}

/// One inline route, its weight left at 0 for [`apply_weights`].
fn compile_route(at: &RouteAt<'_>, route: &Route) -> Result<CompiledRoute, Diagnostic> {
    let (name, key, path) = (at.gateway, at.key, &at.path);
    let condition = match &route.condition {
        None => None,
        Some(rc) => Some(route_condition(at, rc)?),
    };
    let strength = match (route.condition_strength, &condition) {
        (Some(s), _) if s > 100 => {
            return Err(Diagnostic::error(
                Code::RouteConditionStrength,
                format!("route `{key}`: a condition strength is 0–100%, not {s}%"),
            )
            .with_path(format!("{path}.condition_strength")))
        }
        (Some(s), Some(_)) => s,
        (None, Some(_)) => 100,
        (_, None) => 0,
    };
    let rewrites = route
        .rewrites
        .iter()
        .enumerate()
        .map(|(i, rw)| route_rewrite(at, i, rw))
        .collect::<Result<Vec<_>, _>>()?;
    let instances: Vec<Instance> = match at.options.targets.and_then(|t| t.get(key)) {
        Some(list) => list.clone(),
        None => vec![Instance {
            name: key.to_owned(),
            address: external_address(key),
            weight: 100,
        }],
    };
    let mut acc = 0u32;
    let instance_cumulative = instances
        .iter()
        .map(|i| {
            acc += u32::from(i.weight);
            acc
        })
        .collect();
    let route_hash = hash_parts(&[name, key]);
    Ok(CompiledRoute {
        name: key.into(),
        cookie_value: hex(route_hash),
        weight: 0,
        strength,
        condition,
        rewrites: rewrites.into(),
        balance: route.balance.as_deref().map(Into::into),
        instance_cookie_values: instances
            .iter()
            .map(|i| hex(hash_parts(&[name, key, &i.name])))
            .collect(),
        instances: instances.into(),
        instance_cumulative,
        instance_cookie: format!("vamp_{}", hex(route_hash)).into(),
    })
}

/// A route's condition (inline, or a stored one it refers to) and its
/// matcher; conditions need HTTP.
fn route_condition(
    at: &RouteAt<'_>,
    rc: &RouteCondition,
) -> Result<(Condition, Matcher), Diagnostic> {
    let (name, key) = (at.gateway, at.key);
    let path = format!("{}.condition", at.path);
    let (text, span) = match rc {
        RouteCondition::Inline { definition, span } => (definition, *span),
        RouteCondition::Reference(r) => {
            let def = at
                .options
                .conditions
                .and_then(|c| c.get(&r.name))
                .ok_or_else(|| {
                    Diagnostic::error(
                        Code::UnresolvedDependency,
                        format!(
                            "route `{key}` refers to condition `{}`, which is not defined",
                            r.name
                        ),
                    )
                    .at_opt(r.span)
                    .with_path(path.clone())
                })?;
            (def, r.span)
        }
    };
    if at.port_type == PortType::Tcp {
        return Err(Diagnostic::error(
            Code::ConditionPortType,
            format!("route `{key}` has a condition, but gateway `{name}` is a TCP gateway: conditions need HTTP"),
        )
        .at_opt(span)
        .with_path(path));
    }
    let tree = parsed(text, span, &path)?.clone();
    let matcher =
        Matcher::compile(&tree, at.lenient).map_err(|e| e.at_opt(span).with_path(path))?;
    Ok((tree, matcher))
}

/// Rewrite `i` of a route (inline, or a stored one it refers to), compiled.
fn route_rewrite(
    at: &RouteAt<'_>,
    i: usize,
    rw: &OrRef<Rewrite>,
) -> Result<CompiledRewrite, Diagnostic> {
    let rw_path = format!("{}.rewrites[{i}]", at.path);
    let rw = match rw {
        OrRef::Inline(rw) => rw,
        OrRef::Reference(r) => at
            .options
            .rewrites
            .and_then(|m| m.get(&r.name))
            .ok_or_else(|| {
                Diagnostic::error(
                    Code::UnresolvedDependency,
                    format!(
                        "route `{}` refers to rewrite `{}`, which is not defined",
                        at.key, r.name
                    ),
                )
                .at_opt(r.span)
                .with_path(rw_path.clone())
            })?,
    };
    compile_rewrite(rw, at.lenient, &rw_path)
}

/// Sets the routes' effective weights ([`vamp_model::weights::fill`]) and
/// returns the 100-slot weight table (empty when they total 0).
fn apply_weights(
    name: &str,
    gateway: &Gateway,
    written: &[Option<u8>],
    routes: &mut [CompiledRoute],
) -> Result<Box<[u16]>, Diagnostic> {
    let weights = vamp_model::weights::fill(written).map_err(|total| {
        Diagnostic::error(
            Code::GatewayRouteWeight,
            format!(
                "the route weights of gateway `{name}` total {total}%; they must total 0% or 100%"
            ),
        )
        .at_opt(gateway.routes_span.or(gateway.span))
        .with_path("routes")
    })?;
    let mut weight_table = Vec::new();
    for (i, (r, w)) in routes.iter_mut().zip(weights).enumerate() {
        r.weight = w;
        weight_table.extend(std::iter::repeat_n(i as u16, usize::from(w)));
    }
    Ok(weight_table.into())
}

/// The routes with a condition, in route order, for the candidate scan.
fn conditioned(routes: &[CompiledRoute]) -> Box<[Conditioned]> {
    routes
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let (_, matcher) = r.condition.as_ref()?;
            Some(Conditioned {
                matcher: matcher.clone(),
                route: i as u16,
                strength: r.strength,
            })
        })
        .collect()
}

/// The syntax tree of a route's condition, or its parse error placed at the
/// route.
fn parsed<'c>(
    condition: &'c ConditionText,
    span: Option<vamp_model::Span>,
    path: &str,
) -> Result<&'c Condition, Diagnostic> {
    condition.tree().map_err(|e| {
        let column = e.span.map(|s| s.column).unwrap_or(1);
        Diagnostic {
            message: format!(
                "the condition `{}` does not parse (column {column}): {}",
                condition.as_str(),
                e.message
            ),
            span: span.or(e.span),
            path: path.to_owned(),
            ..e.clone()
        }
    })
}

fn compile_rewrite(rw: &Rewrite, lenient: bool, path: &str) -> Result<CompiledRewrite, Diagnostic> {
    let text = strip_braces(&rw.condition);
    let acl = Condition::Acl(text.to_owned());
    let condition = if matching::check(&acl).is_ok() {
        let m = Matcher::compile(&acl, lenient)?;
        RewriteCondition::Acl(text.into(), m)
    } else if let Ok(tree) = vamp_model::condition::parse(text) {
        let m = Matcher::compile(&tree, lenient).map_err(|e| e.with_path(path))?;
        RewriteCondition::Vamp(tree, m)
    } else if lenient {
        RewriteCondition::Opaque(text.into())
    } else {
        return Err(Diagnostic::error(
            Code::UnsupportedAcl,
            format!("the rewrite condition `{text}` cannot be evaluated here; it is passed to HAProxy as written"),
        )
        .with_path(path)
        .with_help(
            "write a condition in the condition language, or a raw ACL of a form the router evaluates (see `vamp_router::matching`)",
        ));
    };
    Ok(CompiledRewrite {
        path: rw.path.as_str().into(),
        condition,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_are_stripped_once() {
        assert_eq!(strip_braces(" { path_beg /a } "), "path_beg /a");
        assert_eq!(strip_braces("path_beg /a"), "path_beg /a");
    }
}
