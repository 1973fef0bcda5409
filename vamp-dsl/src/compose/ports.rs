//! `ports` and `expose`: short and long syntax, ranges, protocols and host
//! addresses, turned into breed ports and blueprint gateways.

use std::collections::HashMap;

use vamp_model::names::{is_valid_strict_name, MAX_NAME_LEN};
use vamp_model::{Code, Gateway, Map, OrRef, Port, PortType, Route, Span};

use super::interpolate::{interpolate, Mode};
use super::{entries, scalar_text, some_seq_of, Cx, TCP_PORTS};
use crate::read::ctx::{index, join};
use crate::yaml::Node;

/// Most ports one `ports` or `expose` entry may expand to.
const MAX_RANGE: usize = 100;

fn parse_number(text: &str) -> Option<u16> {
    let t = text.trim();
    if t.is_empty() || t.len() > 5 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u32>().ok().and_then(|n| u16::try_from(n).ok())
}

/// `N` or `A-B` (inclusive).
fn parse_range(text: &str) -> Option<(u16, u16)> {
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse_number(a)?, parse_number(b)?);
            (a <= b).then_some((a, b))
        }
        None => parse_number(text).map(|n| (n, n)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Proto {
    Unwritten,
    Tcp,
}

pub(super) fn read_ports(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    publish: bool,
    out: &mut Vec<PortSpec>,
) {
    let Some(items) = some_seq_of(cx, node, path, "a list of ports") else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        if item.as_map().is_some() {
            if publish {
                read_long_port(cx, item, &p, out);
            } else {
                cx.wrong_type(item, &p, "a port number such as `3000`");
            }
            continue;
        }
        let Some(text) = scalar_text(cx, item, &p) else {
            continue;
        };
        let Some(text) = interpolate(cx, text, item.span, &p, Mode::Fixed) else {
            continue;
        };
        read_short_port(cx, &text, item.span, &p, publish, out);
    }
}

fn protocol_of(cx: &mut Cx, proto: &str, span: Span, path: &str) -> Option<Proto> {
    match proto.trim().to_ascii_lowercase().as_str() {
        "" => Some(Proto::Unwritten),
        "tcp" => Some(Proto::Tcp),
        "udp" | "sctp" => {
            cx.error_help(
                Code::UnsupportedProtocol,
                span,
                path,
                format!(
                    "the port is {}, and Vamp gateways route HTTP and TCP only",
                    proto.trim()
                ),
                "remove the port, or publish it outside Vamp",
            );
            None
        }
        _ => {
            cx.error(
                Code::UnsupportedProtocol,
                span,
                path,
                format!("`{proto}` is not a port protocol: write `tcp`"),
            );
            None
        }
    }
}

fn port_type(proto: Proto, app_protocol: Option<&str>, number: u16) -> PortType {
    match (proto, app_protocol) {
        (_, Some(a)) if a.eq_ignore_ascii_case("http") => PortType::Http,
        (_, Some(_)) | (Proto::Tcp, _) => PortType::Tcp,
        (Proto::Unwritten, None) if TCP_PORTS.contains(&number) => PortType::Tcp,
        (Proto::Unwritten, None) => PortType::Http,
    }
}

fn is_loopback(ip: &str) -> bool {
    let ip = ip.trim().trim_start_matches('[').trim_end_matches(']');
    ip.starts_with("127.") || ip == "::1" || ip.eq_ignore_ascii_case("localhost")
}

fn is_any_address(ip: &str) -> bool {
    let ip = ip.trim().trim_start_matches('[').trim_end_matches(']');
    ip.is_empty() || ip == "0.0.0.0" || ip == "::"
}

/// What to do with a host address: Some(true) publish, Some(false) keep
/// internal (both with a warning when the address is specific).
fn host_address(cx: &mut Cx, ip: &str, span: Span, path: &str) -> bool {
    if is_any_address(ip) {
        return true;
    }
    if is_loopback(ip) {
        cx.warn_help(
            Code::UnsupportedComposeField,
            span,
            path,
            format!("the port is published on the loopback address {ip} only; a Vamp gateway listens on every interface, so no gateway is made and the port stays internal"),
            "add a blueprint gateway by hand if it should be public".to_owned(),
        );
        return false;
    }
    cx.warn(
        Code::UnsupportedComposeField,
        span,
        path,
        format!("the host address {ip} is not kept: the Vamp gateway listens on every interface"),
    );
    true
}

fn read_short_port(
    cx: &mut Cx,
    text: &str,
    span: Span,
    path: &str,
    publish: bool,
    out: &mut Vec<PortSpec>,
) {
    let (spec, proto) = match text.rsplit_once('/') {
        Some((s, p)) => (s, p),
        None => (text, ""),
    };
    let Some(proto) = protocol_of(cx, proto, span, path) else {
        return;
    };
    // [ip]:published:container, ip:published:container, published:container, container
    let (ip, published, container) = if let Some(rest) = spec.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once("]:") else {
            bad_port(cx, text, span, path);
            return;
        };
        match after.split_once(':') {
            Some((p, c)) => (ip, Some(p), c),
            None => (ip, None, after),
        }
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.as_slice() {
            [c] => ("", None, *c),
            [p, c] => ("", Some(*p), *c),
            [.., p, c] => {
                let ip_len = spec.len() - p.len() - c.len() - 2;
                (&spec[..ip_len], Some(*p), *c)
            }
            [] => ("", None, ""),
        }
    };
    if !publish && (published.is_some() || !ip.is_empty()) {
        cx.error(
            Code::UnexpectedType,
            span,
            path,
            format!("`{text}` publishes a port, which `expose` cannot: move it to `ports`"),
        );
        return;
    }
    let Some((c_from, c_to)) = parse_range(container) else {
        bad_port(cx, text, span, path);
        return;
    };
    let published = match published.map(str::trim) {
        None | Some("") => None,
        Some(p) => match parse_range(p) {
            Some(r) => Some(r),
            None => {
                bad_port(cx, text, span, path);
                return;
            }
        },
    };
    let publish_it = published.is_some() && host_address(cx, ip, span, path);
    let published = published.filter(|_| publish_it);
    expand(
        cx,
        text,
        span,
        path,
        (c_from, c_to),
        published,
        proto,
        None,
        None,
        out,
    );
}

fn bad_port(cx: &mut Cx, text: &str, span: Span, path: &str) {
    cx.error(
        Code::UnexpectedType,
        span,
        path,
        format!("`{text}` is not a Compose port: write `80`, `8080:80`, `127.0.0.1:8080:80` or `8080:80/tcp`"),
    );
}

#[allow(clippy::too_many_arguments)]
fn expand(
    cx: &mut Cx,
    text: &str,
    span: Span,
    path: &str,
    (c_from, c_to): (u16, u16),
    published: Option<(u16, u16)>,
    proto: Proto,
    app_protocol: Option<&str>,
    name: Option<String>,
    out: &mut Vec<PortSpec>,
) {
    let count = usize::from(c_to - c_from) + 1;
    if count > MAX_RANGE {
        cx.error(
            Code::ResourceLimit,
            span,
            path,
            format!("`{text}` is {count} ports; at most {MAX_RANGE} ports are imported per entry"),
        );
        return;
    }
    if let Some((p_from, p_to)) = published {
        let p_count = usize::from(p_to - p_from) + 1;
        if p_count != count {
            let message = if count == 1 {
                format!("`{text}` lets Docker pick a host port from a range, and a Vamp gateway needs one port: publish a single port")
            } else {
                format!("`{text}` maps {p_count} host ports to {count} container ports: the ranges must have the same length")
            };
            cx.error(Code::InvalidGatewayPort, span, path, message);
            return;
        }
        if p_from == 0 {
            cx.error(
                Code::InvalidGatewayPort,
                span,
                path,
                format!(
                    "`{text}` publishes host port 0: a Vamp gateway needs a port from 1 to 65535"
                ),
            );
            return;
        }
    }
    if c_from == 0 {
        cx.error(
            Code::UnexpectedType,
            span,
            path,
            format!("`{text}` has container port 0: write a port from 1 to 65535"),
        );
        return;
    }
    for i in 0..=(c_to - c_from) {
        let container = c_from + i;
        out.push(PortSpec {
            container,
            published: published.map(|(p, _)| p + i),
            port_type: port_type(proto, app_protocol, container),
            name: if count == 1 { name.clone() } else { None },
            span,
            path: path.to_owned(),
        });
    }
}

fn read_long_port(cx: &mut Cx, node: &Node, path: &str, out: &mut Vec<PortSpec>) {
    let Some(fields) = entries(cx, node, path) else {
        return;
    };
    let mut target = None;
    let mut published = None;
    let mut ip = String::new();
    let mut proto = Proto::Unwritten;
    let mut app_protocol = None;
    let mut name = None;
    let mut ok = true;
    for e in &fields {
        let p = join(path, &e.key);
        let text = match e.key.as_str() {
            "target" | "published" | "host_ip" | "protocol" | "app_protocol" | "name" | "mode" => {
                match scalar_text(cx, &e.value, &p) {
                    Some(t) => match interpolate(cx, t, e.value.span, &p, Mode::Fixed) {
                        Some(t) => t,
                        None => {
                            ok = false;
                            continue;
                        }
                    },
                    None => continue,
                }
            }
            k if k.starts_with("x-") => continue,
            _ => {
                cx.warn(
                    Code::UnsupportedComposeField,
                    e.key_span,
                    &p,
                    format!("`{p}` is not a key of a Compose port; it is ignored"),
                );
                continue;
            }
        };
        match e.key.as_str() {
            "target" => match parse_range(&text) {
                Some(r) => target = Some((r, e.value.span)),
                None => {
                    cx.error(
                        Code::UnexpectedType,
                        e.value.span,
                        &p,
                        format!("`{text}` is not a container port: write a number from 1 to 65535"),
                    );
                    ok = false;
                }
            },
            "published" => {
                if !text.trim().is_empty() {
                    match parse_range(&text) {
                        Some(r) => published = Some(r),
                        None => {
                            cx.error(
                                Code::InvalidGatewayPort,
                                e.value.span,
                                &p,
                                format!(
                                    "`{text}` is not a host port: write a number from 1 to 65535"
                                ),
                            );
                            ok = false;
                        }
                    }
                }
            }
            "host_ip" => ip = text,
            "protocol" => match protocol_of(cx, &text, e.value.span, &p) {
                Some(Proto::Unwritten) => {}
                Some(_) => proto = Proto::Tcp,
                None => ok = false,
            },
            "app_protocol" => app_protocol = Some(text),
            "name" => {
                if is_valid_strict_name(&text) && text.len() <= MAX_NAME_LEN {
                    name = Some(text);
                } else {
                    cx.warn(
                        Code::IllegalStrictName,
                        e.value.span,
                        &p,
                        format!("`{text}` cannot be a Vamp port name (no whitespace, `/`, `[`, `]` or `.`); the port is named by its number"),
                    );
                }
            }
            _ => {
                if !text.eq_ignore_ascii_case("ingress") {
                    cx.not_imported(e.key_span, &p, None);
                }
            }
        }
    }
    let Some((range, _)) = target else {
        if ok {
            cx.error(
                Code::MissingPathValue,
                node.span,
                &join(path, "target"),
                format!("the port at `{path}` has no `target`: add the container port"),
            );
        }
        return;
    };
    if !ok {
        return;
    }
    let publish_it = published.is_some() && host_address(cx, &ip, node.span, path);
    let published = published.filter(|_| publish_it);
    expand(
        cx,
        &format!("target {}", range.0),
        node.span,
        path,
        range,
        published,
        proto,
        app_protocol.as_deref(),
        name,
        out,
    );
}

/// Breed ports (one per container port) and blueprint gateways (one per
/// published port).
pub(super) fn build_ports(
    cx: &mut Cx,
    cluster: &str,
    specs: Vec<PortSpec>,
) -> (Map<Port>, Vec<(u16, Gateway, Span)>) {
    let mut ports: Map<Port> = Map::new();
    let mut by_number: HashMap<u16, String> = HashMap::new();
    let mut gateways = Vec::new();
    let mut seen_published: HashMap<u16, Span> = HashMap::new();
    for s in specs {
        let port_name = match by_number.get(&s.container) {
            Some(n) => {
                // The same container port again: tcp wins, so an HTTP-mode
                // proxy never carries what someone marked as TCP.
                if s.port_type == PortType::Tcp {
                    if let Some(p) = ports.get_mut(n) {
                        if p.port_type != PortType::Tcp {
                            *p = port_value(s.container, PortType::Tcp);
                        }
                    }
                }
                n.clone()
            }
            None => {
                let fallback = format!("port_{}", s.container);
                let name = match s.name.clone() {
                    Some(n) if !ports.contains_key(&n) => n,
                    _ => fallback,
                };
                let name = if ports.contains_key(&name) {
                    format!("port_{}_{}", s.container, ports.len())
                } else {
                    name
                };
                by_number.insert(s.container, name.clone());
                ports.insert(name.clone(), port_value(s.container, s.port_type));
                name
            }
        };
        let Some(host) = s.published else { continue };
        if let Some(first) = seen_published.get(&host) {
            cx.error(
                Code::DuplicateGatewayPort,
                s.span,
                &s.path,
                format!("the host port {host} is published twice (first on line {}): a Vamp gateway port is used once", first.line),
            );
            continue;
        }
        seen_published.insert(host, s.span);
        let tcp = ports
            .get(&port_name)
            .is_some_and(|p| p.port_type == PortType::Tcp);
        let value = if tcp {
            format!("{host}/tcp")
        } else {
            host.to_string()
        };
        let mut routes = Map::new();
        routes.insert(
            format!("{cluster}/{port_name}"),
            OrRef::Inline(Route {
                span: Some(s.span),
                ..Route::default()
            }),
        );
        gateways.push((
            host,
            Gateway {
                port: Port::parse(&value),
                routes,
                span: Some(s.span),
                routes_span: Some(s.span),
                ..Gateway::default()
            },
            s.span,
        ));
    }
    (ports, gateways)
}

fn port_value(number: u16, port_type: PortType) -> Port {
    Port {
        value: match port_type {
            PortType::Http => number.to_string(),
            PortType::Tcp => format!("{number}/tcp"),
        },
        number: Some(number),
        port_type,
        alias: None,
    }
}

/// A port as read from `ports` or `expose`.
pub(super) struct PortSpec {
    pub(super) container: u16,
    pub(super) published: Option<u16>,
    pub(super) port_type: PortType,
    pub(super) name: Option<String>,
    pub(super) span: Span,
    pub(super) path: String,
}
