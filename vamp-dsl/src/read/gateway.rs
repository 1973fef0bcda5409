//! Gateways, routes, conditions and rewrites.

use vamp_model::units::parse_percentage;
use vamp_model::{
    Code, ConditionText, Gateway, GatewayService, Map, OrRef, Port, PortType, Rewrite, Route,
    RouteCondition, Span, Sticky,
};

use super::breed::{ref_or_map, reject_name, unit, RefOrMap};
use super::ctx::{display_path, index, join, required, scalar, text, Ctx, Fields, GATEWAYS, SHAPE};
use crate::yaml::{Node, NodeValue};

/// Where a gateway is written; the rules differ slightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Standalone,
    Blueprint,
    Cluster,
}

/// Reads the fields of a gateway (not `name`/`metadata`/`kind`).
pub(crate) fn read_gateway_fields(
    ctx: &mut Ctx,
    f: &mut Fields<'_>,
    place: Place,
    key_port: Option<Port>,
) -> Option<Gateway> {
    f.ignore(&["lookup_name", "deployed", "internal", "proxy"]);
    let path = f.path.clone();
    let port = match place {
        Place::Cluster => None,
        _ => match f.get_some("port") {
            Some(n) => match &key_port {
                Some(_) if place == Place::Blueprint => {
                    ctx.report(
                        SHAPE,
                        Code::UnexpectedElement,
                        n.span,
                        &join(&path, "port"),
                        "the gateway's port is already its key: remove `port`".to_owned(),
                    );
                    key_port.clone()
                }
                _ => read_port(ctx, n, &join(&path, "port")),
            },
            None => key_port,
        },
    };
    let service = f.read_with(ctx, "service", read_service).flatten();
    let sticky = f
        .get("sticky")
        .and_then(|n| read_sticky(ctx, n, &join(&path, "sticky")));
    let virtual_hosts = f
        .read_with(ctx, "virtual_hosts", read_virtual_hosts)
        .unwrap_or_default();
    let selector = f.read_with(ctx, "selector", read_selector).flatten();
    let routes_node = f.get_some("routes");
    let routes = routes_node
        .map(|n| read_routes(ctx, n, &join(&path, "routes"), place))
        .unwrap_or_default();
    let gw = Gateway {
        port,
        service,
        sticky,
        virtual_hosts,
        selector,
        routes,
        span: Some(f.span()),
        routes_span: f.key_span("routes"),
    };
    check_gateway(ctx, &gw, &path, place);
    Some(gw)
}

fn read_port(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Port> {
    let t = text(ctx, node, path)?;
    let p = Port::parse(&t);
    if p.is_none() {
        ctx.report(GATEWAYS, Code::InvalidGatewayPort, node.span, path, format!("`{t}` is not a gateway port: write a number from 0 to 65535, optionally followed by `/http` or `/tcp`"));
    }
    p
}

fn read_service(ctx: &mut Ctx, node: &Node, path: &str) -> Option<GatewayService> {
    let mut f = Fields::inner(ctx, node, path)?;
    let host = required(ctx, &mut f, "host").and_then(|n| text(ctx, n, &join(path, "host")));
    let port = required(ctx, &mut f, "port").and_then(|n| read_port(ctx, n, &join(path, "port")));
    f.finish(ctx);
    Some(GatewayService {
        host: host?,
        port: port?,
    })
}

fn read_sticky(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Sticky> {
    let t = scalar(ctx, node, path)??;
    match t.to_ascii_lowercase().as_str() {
        "route" => Some(Sticky::Route),
        "instance" => Some(Sticky::Instance),
        "none" => None,
        _ => {
            ctx.report(
                GATEWAYS,
                Code::IllegalGatewayStickyValue,
                node.span,
                path,
                format!("`sticky: {t}` is not supported: use `route`, `instance` or `none`"),
            );
            None
        }
    }
}

fn read_virtual_hosts(ctx: &mut Ctx, node: &Node, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in node.one_or_many() {
        match item.as_str() {
            Some(t) if !item.is_null() => out.push(t.to_owned()),
            _ => {
                ctx.report(
                    GATEWAYS,
                    Code::IllegalGatewayVirtualHosts,
                    item.span,
                    path,
                    "each virtual host must be a host name (text)".to_owned(),
                );
            }
        }
    }
    out
}

fn read_selector(ctx: &mut Ctx, node: &Node, path: &str) -> Option<String> {
    let t = scalar(ctx, node, path)??;
    if let Err(msg) = crate::selector::validate(t) {
        ctx.report(
            GATEWAYS,
            Code::InvalidSelector,
            node.span,
            path,
            format!("invalid selector `{t}`: {msg}"),
        );
        return None;
    }
    Some(t.to_owned())
}

/// Normalises a route key: split on `/` (empty segments dropped) except
/// external `[host:port]` targets; cluster routes stay as written.
fn route_key(ctx: &mut Ctx, key: &str, span: Span, path: &str, place: Place) -> Option<String> {
    if place == Place::Cluster || (key.starts_with('[') && key.ends_with(']')) {
        return Some(key.to_owned());
    }
    let segments: Vec<&str> = key.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() || segments.len() > 4 {
        ctx.report(GATEWAYS, Code::UnsupportedRoutePath, span, path, format!("`{key}` is not a route path: write GATEWAY, DEPLOYMENT/PORT, DEPLOYMENT/CLUSTER/PORT, DEPLOYMENT/CLUSTER/SERVICE/PORT or [host:port]"));
        return None;
    }
    Some(segments.join("/"))
}

fn read_routes(ctx: &mut Ctx, node: &Node, path: &str, place: Place) -> Map<OrRef<Route>> {
    let mut out = Map::new();
    let mut add = |ctx: &mut Ctx, key: &str, key_span: Span, value: Option<&Node>, span: Span| {
        let p = join(path, key);
        let Some(k) = route_key(ctx, key, key_span, &p, place) else {
            return;
        };
        let route = match value {
            None => Some(OrRef::Inline(Route {
                span: Some(span),
                ..Route::default()
            })),
            Some(v) if v.is_null() => Some(OrRef::Inline(Route {
                span: Some(span),
                ..Route::default()
            })),
            Some(v) => read_route(ctx, v, &p),
        };
        if let Some(r) = route {
            out.insert(k, r);
        }
    };
    match &node.value {
        NodeValue::Scalar { text, .. } => add(ctx, text, node.span, None, node.span),
        NodeValue::Seq(items) => {
            for item in items {
                match &item.value {
                    NodeValue::Scalar { text, .. } => add(ctx, text, item.span, None, item.span),
                    NodeValue::Map(entries) => {
                        for e in entries {
                            add(ctx, &e.key, e.key_span, Some(&e.value), e.key_span);
                        }
                    }
                    NodeValue::Seq(_) => {
                        ctx.wrong_type(item, path, "a route path or a map of routes")
                    }
                }
            }
        }
        NodeValue::Map(entries) => {
            for e in entries {
                add(ctx, &e.key, e.key_span, Some(&e.value), e.key_span);
            }
        }
    }
    out
}

fn read_route(ctx: &mut Ctx, node: &Node, path: &str) -> Option<OrRef<Route>> {
    match ref_or_map(ctx, node, path, "route") {
        RefOrMap::Ref(r) => Some(OrRef::Reference(r)),
        RefOrMap::Failed => None,
        RefOrMap::Map(m) => {
            let mut f = Fields::of(ctx, m, path, "a route")?;
            reject_name(ctx, &mut f, "route");
            f.ignore(&["targets", "lookup_name"]);
            let r = read_route_fields(ctx, &mut f);
            f.finish(ctx);
            r.map(OrRef::Inline)
        }
    }
}

pub(crate) fn read_route_fields(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<Route> {
    let path = f.path.clone();
    let mut ok = true;
    let mut pct = |ctx: &mut Ctx, f: &mut Fields<'_>, key: &'static str| -> Option<u8> {
        let n = f.get_some(key)?;
        let p = join(&path, key);
        let t = text(ctx, n, &p)?;
        let v = unit(ctx, parse_percentage(&t), n.span, &p);
        ok &= v.is_some();
        v
    };
    let weight = pct(ctx, f, "weight");
    let condition_strength = pct(ctx, f, "condition_strength");
    let condition = f
        .read_with(ctx, "condition", read_route_condition)
        .flatten();
    let rewrites = f
        .read_with(ctx, "rewrites", read_rewrites)
        .unwrap_or_default();
    let balance = match f.get_some("balance") {
        Some(n) => scalar(ctx, n, &join(&path, "balance"))?
            .filter(|b| !b.eq_ignore_ascii_case("default"))
            .map(str::to_owned),
        None => None,
    };
    let selector = f.read_with(ctx, "selector", read_selector).flatten();
    ok.then_some(Route {
        weight,
        condition,
        condition_strength,
        rewrites,
        balance,
        selector,
        span: Some(f.span()),
    })
}

fn read_route_condition(ctx: &mut Ctx, node: &Node, path: &str) -> Option<RouteCondition> {
    if let Some(t) = node.as_str() {
        return inline_condition(ctx, t, node.span, path);
    }
    let mut f = Fields::of(ctx, node, path, "a condition text or `reference: NAME`")?;
    if let Some(Some(r)) = super::breed::reference_of(ctx, node, path) {
        f.ignore(&["reference", "ref"]);
        f.finish(ctx);
        return Some(RouteCondition::Reference(r));
    }
    reject_name(ctx, &mut f, "condition");
    let def = f.get("condition").or_else(|| f.get("definition"));
    f.finish(ctx);
    let def = def?;
    let t = scalar(ctx, def, &join(path, "condition"))??;
    inline_condition(ctx, t, def.span, path)
}

fn inline_condition(ctx: &mut Ctx, text: &str, span: Span, path: &str) -> Option<RouteCondition> {
    if text.trim().is_empty() {
        return None;
    }
    let definition = ConditionText::new(text);
    if let Err(d) = definition.tree() {
        let col = d.span.map_or(1, |s| s.column);
        ctx.warn(
            GATEWAYS,
            vamp_model::Diagnostic::warning(
                Code::Parser,
                format!(
                    "the condition `{text}` does not parse (column {col}): {}",
                    d.message
                ),
            )
            .at(span)
            .with_path(path),
        );
    }
    Some(RouteCondition::Inline {
        definition,
        span: Some(span),
    })
}

fn read_rewrites(ctx: &mut Ctx, node: &Node, path: &str) -> Vec<OrRef<Rewrite>> {
    let mut out = Vec::new();
    for (i, item) in node.one_or_many().iter().enumerate() {
        let p = index(path, i);
        match ref_or_map(ctx, item, &p, "rewrite") {
            RefOrMap::Ref(r) => out.push(OrRef::Reference(r)),
            RefOrMap::Failed => {}
            RefOrMap::Map(m) => {
                let Some(mut f) = Fields::of(ctx, m, &p, "a rewrite") else {
                    continue;
                };
                reject_name(ctx, &mut f, "rewrite");
                if let Some(rw) = read_rewrite_fields(ctx, &mut f) {
                    out.push(OrRef::Inline(rw));
                }
                f.finish(ctx);
            }
        }
    }
    out
}

/// `path: NEW if CONDITION`.
pub(crate) fn read_rewrite_fields(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<Rewrite> {
    let n = required(ctx, f, "path")?;
    let p = join(&f.path, "path");
    let t = text(ctx, n, &p)?;
    let split = find_last_if(&t);
    match split {
        Some((path, condition)) => Some(Rewrite {
            path: path.to_owned(),
            condition: condition.to_owned(),
        }),
        None => {
            ctx.report(
                GATEWAYS,
                Code::UnsupportedPathRewrite,
                n.span,
                &p,
                format!("`{t}` is not a rewrite: write `NEW_PATH if CONDITION`"),
            );
            None
        }
    }
}

/// Splits `A if B` at the last ` if ` (case-insensitive), both sides non-empty.
fn find_last_if(t: &str) -> Option<(&str, &str)> {
    let lower = t.to_ascii_lowercase();
    let mut best = None;
    let mut from = 0;
    while let Some(i) = lower[from..].find(" if ") {
        best = Some(from + i);
        from += i + 1;
    }
    let i = best?;
    let (a, b) = (&t[..i], &t[i + 4..]);
    (!a.is_empty() && !b.is_empty()).then_some((a, b))
}

/// Gateway-wide checks: weights, stickiness on TCP, selectors.
fn check_gateway(ctx: &mut Ctx, gw: &Gateway, path: &str, place: Place) {
    let span = gw.routes_span.or(gw.span).unwrap_or(Span::START);
    let all_inline = gw.routes.values().all(|r| r.as_inline().is_some());
    let total: u32 = gw
        .routes
        .values()
        .filter_map(OrRef::as_inline)
        .filter_map(|r| r.weight)
        .map(u32::from)
        .sum();
    let routes_path = join(path, "routes");
    if all_inline && total != 0 && total != 100 {
        ctx.report(GATEWAYS, Code::GatewayRouteWeight, span, &routes_path, format!("the route weights of `{}` add up to {total}%; they must add up to 100% (or all be left out)", display_path(path)));
    } else if place == Place::Cluster && total > 100 {
        ctx.report(
            GATEWAYS,
            Code::RouteWeight,
            span,
            &routes_path,
            format!("the route weights add up to {total}%, more than 100%"),
        );
    }
    let tcp = gw
        .port
        .as_ref()
        .is_some_and(|p| p.port_type == PortType::Tcp);
    if tcp && gw.sticky.is_some() && place != Place::Cluster {
        ctx.report(
            GATEWAYS,
            Code::StickyPortType,
            gw.span.unwrap_or(Span::START),
            &join(path, "sticky"),
            "a TCP gateway cannot be sticky: stickiness needs HTTP cookies".to_owned(),
        );
    }
    if tcp && place == Place::Blueprint {
        check_no_conditions(ctx, gw, path);
    }
    for (key, route) in &gw.routes {
        let Some(r) = route.as_inline() else { continue };
        if r.selector.is_some() {
            let rs = r.span.unwrap_or(span);
            if key.starts_with('[') {
                ctx.report(
                    GATEWAYS,
                    Code::RouteSelectorExternalTarget,
                    rs,
                    &join(&routes_path, key),
                    "an external route `[host:port]` cannot have a selector".to_owned(),
                );
            } else if gw.routes.len() > 1 {
                ctx.report(
                    GATEWAYS,
                    Code::RouteSelectorOnlyRoute,
                    rs,
                    &join(&routes_path, key),
                    "a route with a selector must be the gateway's only route".to_owned(),
                );
            }
        }
    }
}

/// HTTP conditions are not allowed on TCP ports (`condition_port_type`).
pub(crate) fn check_no_conditions(ctx: &mut Ctx, gw: &Gateway, path: &str) {
    for (key, route) in &gw.routes {
        if let Some(RouteCondition::Inline { span, .. }) =
            route.as_inline().and_then(|r| r.condition.as_ref())
        {
            ctx.report(GATEWAYS, Code::ConditionPortType, span.unwrap_or(Span::START), &join(&join(path, "routes"), key), "conditions filter HTTP requests; this route's port is TCP: remove the condition or use an HTTP port".to_owned());
        }
    }
}

/// A stand-alone gateway document.
pub(crate) fn read_gateway_doc(
    ctx: &mut Ctx,
    f: &mut Fields<'_>,
    name: &str,
    name_span: Span,
) -> Option<Gateway> {
    let segments: Vec<&str> = name.split('/').collect();
    if segments.is_empty() || segments.len() > 4 || segments.iter().any(|s| s.is_empty()) {
        ctx.report(
            GATEWAYS,
            Code::UnsupportedGatewayName,
            name_span,
            "name",
            format!(
                "`{name}` is not a gateway name: use 1 to 4 non-empty segments separated by `/`"
            ),
        );
    }
    read_gateway_fields(ctx, f, Place::Standalone, None)
}
