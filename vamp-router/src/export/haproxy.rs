//! Gateways rendered to a complete `haproxy.cfg`, so that HAProxy routes
//! exactly as [`Engine::decide`] predicts.
//!
//! # Layout
//!
//! For each gateway (port `P`, name `G`):
//!
//! - **Frontend** `E(G)` bound on `BIND:P` (`mode http` or `mode tcp`) with
//!   the JSON access log. For HTTP gateways, in this order:
//!   1. one `acl` per distinct literal of the route conditions (named by the
//!      16 hex digits of the FNV-1a hash of its text; raw ACLs verbatim);
//!   2. per conditioned route `i`, in **reverse** route order,
//!      `http-request set-var(txn.vamp_c) int(i) if <DNF>`, so that the
//!      first matching route is the one left in `txn.vamp_c` (the candidate
//!      `R` of §4.5, tested once);
//!   3. `http-request set-var(txn.vamp_w) rand(100)`: one draw for the weight
//!      split;
//!   4. sticky gateways: `use_backend B(G,r) if { req.cook(C) -m str ID(r) }`
//!      per route (a cookie naming no route matches nothing: ignored);
//!   5. per conditioned route with strength `s > 0`:
//!      `use_backend B(G,r) if { var(txn.vamp_c) -m int eq i } { rand(100) -m int lt s }`
//!      (the rand term is left out at 100%);
//!   6. the weight split: `use_backend B(G,r) if { var(txn.vamp_w) -m int lt CUMULATIVE }`
//!      for every weighted route but the last, which is the `default_backend`
//!      (no `default_backend` when weights total 0: HAProxy answers 503).
//! - **Backend** `B(G,r)` per route (names below): `balance` (route's, or
//!   `roundrobin` / `leastconn` for TCP), `option forwardfor`, the route
//!   cookie (`Set-Cookie: C=ID(r)` when the request lacks it), rewrites as
//!   `http-request set-path NEW if { COND }` in order, `cookie CI(r) insert
//!   indirect nocache` for `sticky: instance`, and one `server` per instance
//!   with `weight` and `check`.
//! - **Virtual hosts**: one frontend `virtual_hosts` on `BIND:80` (by
//!   default) with `acl vh_<hash> req.hdr(host) -i NAME` and a backend
//!   `virtual_hosts__E(G)` per gateway that forwards to `127.0.0.1:P`.
//!
//! ## Why `rand()` and not the original's two-server split
//!
//! The original chained frontends over Unix sockets (`im_<r>` split between
//! the route and an `o_<gw>` "other" frontend). Here a request crosses
//! HAProxy once: the condition-strength and weight splits are `rand(100)`
//! draws in `use_backend` rules. This (1) has exactly the engine's
//! semantics (an independent draw per request, not a round-robin
//! interleaving), (2) needs no socket directory, and (3) logs one line per
//! request whose `b` is the route — which is what the SLA layer reads.
//!
//! # Names: the contract with the SLA layer
//!
//! HAProxy names allow `[A-Za-z0-9._:-]`. A Vamp name is encoded by
//! [`vamp_model::backend_name`]: letters, digits, `.`, `:` and `-` stay, every other
//! byte (including `/` and `_`) becomes `_` and two lowercase hex digits
//! (`shop/web` → `shop_2fweb`). So `_` is always followed by two hex
//! digits in an encoded name, and `__` separates parts unambiguously:
//!
//! | HAProxy object | name | log field |
//! | --- | --- | --- |
//! | gateway frontend | `E(gateway)` | `ft` |
//! | route backend of an internal gateway `D/C/P` to service `S` (route `D/C/S/P`) | `E(D/C/P/S)` | `b` |
//! | any other route backend | `E(gateway)__E(route)` | `b` |
//! | server | `E(instance)` | `s` |
//! | virtual-host frontend / backend | `virtual_hosts` / `virtual_hosts__E(gateway)` | `ft` / `b` |
//!
//! The internal-gateway form is the convention the SLA layer reads
//! (`vamp_sla::parse::RouteBackend`: deployment, cluster, port, service);
//! it never holds `__`, so it cannot collide with the other form.
//! [`parse_backend_name`] turns either back into `(gateway, route)`. `virtual_hosts` contains `_h`, which no
//! encoding produces, so it never collides with a gateway.
//!
//! # The access log
//!
//! One JSON object per request (per connection for TCP) with the §7 keys:
//! `ci cp t ft b s Tq Tw Tc Tr Tt ST B CC CS tsc ac fc bc sc rc sq bq hr hs r`
//! (TCP: without `Tq Tr ST CC CS tsc hr hs r`, plus `ts`). Text that clients
//! control (`hr`: `{Host|User-Agent}`, `r`: the request line) passes HAProxy's
//! `json` converter, so every line is valid JSON. No cookie is captured, so
//! `CC` and `CS` are `-`.
//!
//! ```
//! use vamp_model::{Gateway, Map, OrRef, Port, Route};
//! use vamp_router::engine::CompileOptions;
//! use vamp_router::export::haproxy::{export, ExportOptions};
//! let route = |w| OrRef::Inline(Route { weight: Some(w), condition: None, condition_strength: None,
//!     rewrites: vec![], balance: None, selector: None, span: None });
//! let mut routes = Map::new();
//! routes.insert("[127.0.0.1:9001]".to_string(), route(90));
//! routes.insert("[127.0.0.1:9002]".to_string(), route(10));
//! let gateway = Gateway { port: Port::parse("8080"), service: None, sticky: None,
//!     virtual_hosts: vec![], selector: None, routes, span: None, routes_span: None };
//! let cfg = export(&[("shop/web", &gateway)], &CompileOptions::default(), &ExportOptions::default()).unwrap();
//! assert!(cfg.contains("frontend shop_2fweb\n"));
//! assert!(cfg.contains("bind 127.0.0.1:8080"));
//! assert!(cfg.contains("server _5b127.0.0.1:9001_5d 127.0.0.1:9001 weight 100 check"));
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;

use vamp_model::backend_name::{self, decode};
use vamp_model::{Code, Condition, Diagnostic, Gateway, PortType, Sticky};

use crate::engine::{
    compile_gateway, stable_hash, CompileOptions, Engine, Instance, RewriteCondition, Targets,
};

/// How the configuration is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// The address every frontend binds (default `127.0.0.1`).
    pub bind_address: String,
    /// The port of the shared virtual-hosts frontend (default 80); `None`
    /// leaves virtual hosts out.
    pub virtual_hosts_port: Option<u16>,
    /// The `log` target of the `global` section (default
    /// `stdout format raw local0`: HAProxy runs in the foreground next to
    /// the gateway agent).
    pub log_target: String,
    /// Health checks on every server (default true).
    pub health_checks: bool,
    /// HTTP health check path (`option httpchk GET PATH`) for HTTP routes;
    /// `None` (default) checks by TCP connect.
    pub http_check_path: Option<String>,
    /// `maxconn` of the `global` section (default 4096).
    pub maxconn: u32,
    /// A directory for weight tables (default `None`: the weight split is a
    /// `rand(100)` draw per request). With a directory, a frontend with
    /// several weighted routes counts its requests in a one-entry stick
    /// table and picks the route of slot `count mod total` from the map
    /// file `DIR/E(G).map` ([`render_split`] returns its content): a smooth
    /// weighted round-robin over the slots, so any `total` consecutive
    /// requests split exactly by weight, and a weight change is a map
    /// update (HAProxy's runtime `set map`) rather than a new configuration.
    pub split_maps: Option<String>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            bind_address: "127.0.0.1".into(),
            virtual_hosts_port: Some(80),
            log_target: "stdout format raw local0".into(),
            health_checks: true,
            http_check_path: None,
            maxconn: 4096,
            split_maps: None,
        }
    }
}

/// Compiles `gateways` (name, gateway) and renders them to one `haproxy.cfg`.
///
/// Routes that name another exported gateway (`G`, `D/P`, `D/C/P`) target
/// `127.0.0.1:<its port>` unless `options.targets` says otherwise. Raw ACLs
/// and rewrite conditions HAProxy understands but the engine cannot evaluate
/// are passed through verbatim.
///
/// # Errors
/// The compile errors of [`Engine::compile`] (except `unsupported_acl`),
/// and those of [`render`].
///
/// See the module example.
pub fn export(
    gateways: &[(&str, &Gateway)],
    options: &CompileOptions<'_>,
    export: &ExportOptions,
) -> Result<String, Diagnostic> {
    export_split(gateways, options, export).map(|r| r.config)
}

/// [`export`], with the weight tables of [`ExportOptions::split_maps`].
///
/// # Errors
/// As [`export`].
pub fn export_split(
    gateways: &[(&str, &Gateway)],
    options: &CompileOptions<'_>,
    export: &ExportOptions,
) -> Result<Rendered, Diagnostic> {
    let ports: HashMap<&str, u16> = gateways
        .iter()
        .filter_map(|(n, g)| Some((*n, g.port.as_ref()?.number?)))
        .collect();
    let mut chained = Targets::new();
    for (_, g) in gateways {
        for key in g.routes.keys() {
            if options.targets.is_some_and(|t| t.contains_key(key)) || chained.contains_key(key) {
                continue;
            }
            if let Some(&port) = ports.get(key.as_str()) {
                chained.insert(
                    key.clone(),
                    vec![Instance::at(key.clone(), "127.0.0.1", port)],
                );
            }
        }
    }
    let merged;
    let options = if chained.is_empty() {
        *options
    } else {
        let mut all = options.targets.cloned().unwrap_or_default();
        all.extend(chained);
        merged = all;
        CompileOptions {
            targets: Some(&merged),
            ..*options
        }
    };
    let engines = gateways
        .iter()
        .map(|(name, g)| compile_gateway(name, g, &options, true))
        .collect::<Result<Vec<_>, _>>()?;
    render_split(&engines, export)
}

/// Renders compiled gateways to one `haproxy.cfg`.
///
/// # Errors
/// `unresolved_gateway_port` for a gateway without a port number (or port
/// 0, unassigned), `duplicate_gateway_port` for two frontends on one port,
/// `unsupported_acl` for a condition, name or address that cannot be
/// written in an HAProxy configuration (control characters, a cookie or
/// header name that is not an HTTP token), `resource_limit` for a
/// condition whose OR-of-ANDs form exceeds 4,096 terms.
///
/// ```
/// # use vamp_model::*;
/// # use vamp_router::engine::*;
/// # let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
/// #   selector: None, routes: Map::new(), span: None, routes_span: None };
/// let engine = Engine::compile("g", &gateway, &CompileOptions::default()).unwrap();
/// let err = vamp_router::export::haproxy::render(&[engine], &Default::default()).unwrap_err();
/// assert_eq!(err.code, Code::UnresolvedGatewayPort);
/// ```
pub fn render(engines: &[Engine], options: &ExportOptions) -> Result<String, Diagnostic> {
    render_split(engines, options).map(|r| r.config)
}

/// A configuration and the weight tables it reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// The `haproxy.cfg` text.
    pub config: String,
    /// `(path, content)` of every weight table (see
    /// [`ExportOptions::split_maps`]): one `slot backend` line per slot.
    pub maps: Vec<(String, String)>,
}

/// [`render`], with the weight tables of [`ExportOptions::split_maps`].
///
/// # Errors
/// As [`render`].
pub fn render_split(engines: &[Engine], options: &ExportOptions) -> Result<Rendered, Diagnostic> {
    let mut maps = Vec::new();
    let mut out = String::with_capacity(1024 + engines.len() * 1024);
    let _ = write!(
        out,
        "# Generated by vamp export haproxy. Run in the foreground: haproxy -W -db -f FILE\n\
         global\n    log {log}\n    maxconn {maxconn}\n\n\
         defaults\n    log global\n    option dontlognull\n    timeout connect 5s\n    \
         timeout client 30s\n    timeout server 30s\n    timeout check 2s\n    \
         default-server init-addr last,libc,none inter 2s fall 3 rise 2\n",
        log = clean(&options.log_target, "the log target")?,
        maxconn = options.maxconn,
    );
    let mut ports: HashMap<u16, &str> = HashMap::new();
    let bind = clean(&options.bind_address, "the bind address")?;
    for e in engines {
        let port = e.port.filter(|p| *p != 0).ok_or_else(|| {
            Diagnostic::error(
                Code::UnresolvedGatewayPort,
                format!(
                    "gateway `{}` has no port assigned: give it a port to export it",
                    e.name
                ),
            )
            .with_path("port")
        })?;
        if let Some(other) = ports.insert(port, &e.name) {
            return Err(duplicate_port(port, other, &e.name));
        }
        gateway(&mut out, e, bind, port, options, &mut maps)?;
    }
    virtual_hosts(&mut out, engines, bind, options, &mut ports)?;
    Ok(Rendered { config: out, maps })
}

/// The slots of a smooth weighted round-robin over `weights` (`total`
/// slots, each index `i` appearing `weights[i]` times, spread evenly).
fn smooth_slots(weights: &[u32]) -> Vec<usize> {
    let total: u32 = weights.iter().sum();
    let mut current = vec![0i64; weights.len()];
    (0..total)
        .map(|_| {
            let mut best = 0;
            for (i, w) in weights.iter().enumerate() {
                current[i] += i64::from(*w);
                if current[i] > current[best] {
                    best = i;
                }
            }
            current[best] -= i64::from(total);
            best
        })
        .collect()
}

fn duplicate_port(port: u16, a: &str, b: &str) -> Diagnostic {
    Diagnostic::error(
        Code::DuplicateGatewayPort,
        format!("`{a}` and `{b}` both listen on port {port}"),
    )
    .with_path("port")
}

const HTTP_LOG: &str = r#"{"ci":"%ci","cp":%cp,"t":"%t","ft":"%ft","b":"%b","s":"%s","Tq":%Tq,"Tw":%Tw,"Tc":%Tc,"Tr":%Tr,"Tt":%Tt,"ST":%ST,"B":%B,"CC":"%CC","CS":"%CS","tsc":"%tsc","ac":%ac,"fc":%fc,"bc":%bc,"sc":%sc,"rc":%rc,"sq":%sq,"bq":%bq,"hr":"{%[capture.req.hdr(0),json(utf8s)]|%[capture.req.hdr(1),json(utf8s)]}","hs":"","r":"%[capture.req.method,json(utf8s)] %[capture.req.uri,json(utf8s)] %[capture.req.ver,json(utf8s)]"}"#;

const TCP_LOG: &str = r#"{"ci":"%ci","cp":%cp,"t":"%t","ft":"%ft","b":"%b","s":"%s","Tw":%Tw,"Tc":%Tc,"Tt":%Tt,"B":%B,"ts":"%ts","ac":%ac,"fc":%fc,"bc":%bc,"sc":%sc,"rc":%rc,"sq":%sq,"bq":%bq}"#;

/// The log format as an HAProxy double-quoted string.
fn log_format(format: &str) -> String {
    format!("\"{}\"", format.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The service a route of an internal gateway targets: for gateway
/// `D/C/P` and route `D/C/S/P`, `S` (which may itself hold `/`).
fn internal_service<'a>(gateway: &str, route: &'a str) -> Option<&'a str> {
    let mut g = gateway.split('/');
    let (d, c, p) = (g.next()?, g.next()?, g.next()?);
    if g.next().is_some() || d.is_empty() || c.is_empty() || p.is_empty() {
        return None;
    }
    let service = route
        .strip_prefix(d)?
        .strip_prefix('/')?
        .strip_prefix(c)?
        .strip_prefix('/')?
        .strip_suffix(p)?
        .strip_suffix('/')?;
    (!service.is_empty()).then_some(service)
}

/// The backend name of route `route` of gateway `gateway`: for a route of
/// an internal gateway `D/C/P` to service `S` (route `D/C/S/P`), `E(D/C/P/S)`
/// (the convention `vamp_sla::parse::RouteBackend` reads); for every other
/// route `E(gateway)__E(route)`.
///
/// ```
/// use vamp_router::export::haproxy::backend_name;
/// assert_eq!(backend_name("shop/checkout/web", "shop/checkout/sava:1.0/web"),
///            "shop_2fcheckout_2fweb_2fsava:1.0");
/// assert_eq!(backend_name("shop/web", "shop/v1/web"), "shop_2fweb__shop_2fv1_2fweb");
/// ```
pub fn backend_name(gateway: &str, route: &str) -> String {
    match internal_service(gateway, route) {
        Some(service) => backend_name::encode(&format!("{gateway}/{service}")),
        None => format!(
            "{}__{}",
            backend_name::encode(gateway),
            backend_name::encode(route)
        ),
    }
}

/// Reads a route backend name (the `b` of a log line) back into
/// `(gateway, route)`; `None` for other backends (virtual hosts) and
/// text that is not an encoded name.
///
/// ```
/// use vamp_router::export::haproxy::parse_backend_name;
/// let pair = |g: &str, r: &str| Some((g.to_string(), r.to_string()));
/// assert_eq!(parse_backend_name("shop_2fweb__shop_2fv1_2fweb"), pair("shop/web", "shop/v1/web"));
/// assert_eq!(parse_backend_name("shop_2fcheckout_2fweb_2fsava:1.0"),
///            pair("shop/checkout/web", "shop/checkout/sava:1.0/web"));
/// assert_eq!(parse_backend_name("virtual_hosts__shop"), None);
/// ```
pub fn parse_backend_name(b: &str) -> Option<(String, String)> {
    if let Some((g, r)) = b.split_once("__") {
        return Some((decode(g)?.into_owned(), decode(r)?.into_owned()));
    }
    let path = decode(b)?;
    let mut parts = path.splitn(4, '/');
    let (d, c, p, s) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    Some((format!("{d}/{c}/{p}"), format!("{d}/{c}/{s}/{p}")))
}

/// Text that goes into the configuration as a token or line: no control
/// characters.
fn clean<'a>(text: &'a str, what: &str) -> Result<&'a str, Diagnostic> {
    if text.chars().any(char::is_control) {
        return Err(Diagnostic::error(
            Code::UnsupportedAcl,
            format!("{what} `{}` holds control characters and cannot be written to an HAProxy configuration", text.escape_debug()),
        ));
    }
    Ok(text)
}

/// An HTTP token (header or cookie name) usable as a fetch argument.
fn token<'a>(name: &'a str, what: &str) -> Result<&'a str, Diagnostic> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && !name.contains(['\'', '$', '#']);
    if ok {
        Ok(name)
    } else {
        Err(Diagnostic::error(
            Code::UnsupportedAcl,
            format!(
                "the {what} `{}` cannot be written in an HAProxy ACL",
                name.escape_debug()
            ),
        ))
    }
}

/// A pattern quoted for the HAProxy configuration (with `--` when it could
/// read as a flag).
fn pattern(value: &str) -> Result<String, Diagnostic> {
    let value = clean(value, "the value")?;
    let quoted = if !value.contains('\'') {
        format!("'{value}'")
    } else {
        quoted(value)?
    };
    Ok(if value.starts_with('-') {
        format!("-- {quoted}")
    } else {
        quoted
    })
}

/// A quoted argument (paths, cookie lines) for HAProxy.
fn quoted(value: &str) -> Result<String, Diagnostic> {
    let value = clean(value, "the value")?;
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '$') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    Ok(s)
}

/// A boolean expression over ACL texts.
enum B {
    And(Vec<B>),
    Or(Vec<B>),
    Not(Box<B>),
    Atom(String),
}

fn to_bool(c: &Condition) -> Result<B, Diagnostic> {
    let sub = |header: &str, v: &str| -> Result<B, Diagnostic> {
        Ok(B::Atom(format!(
            "req.fhdr({}) -m sub {}",
            token(header, "header name")?,
            pattern(v)?
        )))
    };
    Ok(match c {
        Condition::And(a) => B::And(a.iter().map(to_bool).collect::<Result<_, _>>()?),
        Condition::Or(a) => B::Or(a.iter().map(to_bool).collect::<Result<_, _>>()?),
        Condition::Not(a) => B::Not(Box::new(to_bool(a)?)),
        Condition::UserAgent(v) => {
            let is = |n: &str| v.eq_ignore_ascii_case(n);
            let ua = |n: &str| sub("User-Agent", n);
            if is("Chrome") {
                ua("Chrome")?
            } else if is("Firefox") {
                ua("Firefox")?
            } else if is("Edge") {
                B::Or(vec![ua("Edge")?, ua("Edg/")?])
            } else if is("Safari") {
                B::And(vec![ua("Safari")?, ua("Version")?])
            } else if is("IE") {
                B::Or(vec![ua("MSIE")?, ua("Trident/")?])
            } else {
                ua(v)?
            }
        }
        Condition::Host(v) => B::Atom(format!("req.hdr(host) -m str {}", pattern(v)?)),
        Condition::Cookie(n) => B::Atom(format!("req.cook({}) -m found", token(n, "cookie name")?)),
        Condition::Header(n) => B::Atom(format!("req.hdr_cnt({}) gt 0", token(n, "header name")?)),
        Condition::CookieContains { name, value } => B::Atom(format!(
            "req.cook({}) -m sub {}",
            token(name, "cookie name")?,
            pattern(value)?
        )),
        Condition::HeaderContains { name, value } => sub(name, value)?,
        Condition::Acl(raw) => B::Atom(clean(raw, "the raw ACL")?.to_owned()),
    })
}

const MAX_TERMS: usize = 4096;

/// A term: literals (atom index, positive), sorted and without duplicates.
type Term = Vec<(usize, bool)>;

/// OR-of-ANDs of `b` (negated when `neg`); atoms interned into `atoms`.
fn dnf(b: &B, neg: bool, atoms: &mut Vec<String>) -> Result<Vec<Term>, Diagnostic> {
    let product = |parts: Vec<Vec<Term>>| -> Result<Vec<Term>, Diagnostic> {
        let mut acc: Vec<Term> = vec![Vec::new()];
        for p in parts {
            let mut next = Vec::new();
            for a in &acc {
                for t in &p {
                    let mut m = a.clone();
                    m.extend_from_slice(t);
                    m.sort_unstable();
                    m.dedup();
                    if m.windows(2).any(|w| w[0].0 == w[1].0) {
                        continue; // x and not x
                    }
                    next.push(m);
                }
            }
            next.sort();
            next.dedup();
            if next.len() > MAX_TERMS {
                return Err(too_big());
            }
            acc = next;
        }
        Ok(acc)
    };
    let union = |parts: Vec<Vec<Term>>| -> Result<Vec<Term>, Diagnostic> {
        let mut all: Vec<Term> = parts.into_iter().flatten().collect();
        all.sort();
        all.dedup();
        if all.len() > MAX_TERMS {
            return Err(too_big());
        }
        Ok(all)
    };
    match b {
        B::Atom(text) => {
            let i = match atoms.iter().position(|a| a == text) {
                Some(i) => i,
                None => {
                    atoms.push(text.clone());
                    atoms.len() - 1
                }
            };
            Ok(vec![vec![(i, !neg)]])
        }
        B::Not(x) => dnf(x, !neg, atoms),
        B::And(xs) | B::Or(xs) => {
            let parts = xs
                .iter()
                .map(|x| dnf(x, neg, atoms))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(b, B::And(_)) != neg {
                product(parts)
            } else {
                union(parts)
            }
        }
    }
}

fn too_big() -> Diagnostic {
    Diagnostic::error(
        Code::ResourceLimit,
        format!(
            "the condition expands to more than {MAX_TERMS} alternatives in HAProxy; simplify it"
        ),
    )
}

/// Named ACLs of one proxy section.
#[derive(Default)]
struct Acls {
    /// text → name.
    names: HashMap<String, String>,
    used: HashMap<String, String>,
    lines: String,
}

impl Acls {
    fn name(&mut self, text: &str) -> String {
        if let Some(n) = self.names.get(text) {
            return n.clone();
        }
        let mut name = format!("{:016x}", stable_hash(text.as_bytes()));
        let mut k = 1;
        while self.used.contains_key(&name) {
            name = format!("{:016x}-{k}", stable_hash(text.as_bytes()));
            k += 1;
        }
        let _ = writeln!(self.lines, "    acl {name} {text}");
        self.used.insert(name.clone(), text.to_owned());
        self.names.insert(text.to_owned(), name.clone());
        name
    }

    /// The `if` expression of a condition: `None` when it is always false,
    /// `Some("")` when always true.
    fn expression(&mut self, c: &Condition) -> Result<Option<String>, Diagnostic> {
        let mut atoms = Vec::new();
        let terms = dnf(&to_bool(c)?, false, &mut atoms)?;
        if terms.is_empty() {
            return Ok(None);
        }
        if terms.iter().any(Vec::is_empty) {
            return Ok(Some(String::new()));
        }
        let mut s = String::new();
        for (i, t) in terms.iter().enumerate() {
            if i > 0 {
                s.push_str(" or ");
            }
            for (j, (atom, positive)) in t.iter().enumerate() {
                if j > 0 {
                    s.push(' ');
                }
                if !positive {
                    s.push('!');
                }
                s.push_str(&self.name(&atoms[*atom]));
            }
        }
        Ok(Some(s))
    }
}

fn gateway(
    out: &mut String,
    e: &Engine,
    bind: &str,
    port: u16,
    options: &ExportOptions,
    maps: &mut Vec<(String, String)>,
) -> Result<(), Diagnostic> {
    let fe = backend_name::encode(&e.name);
    let http = e.port_type == PortType::Http;
    let _ = write!(
        out,
        "\nfrontend {fe}\n    # gateway {}\n    bind {bind}:{port}\n    mode {}\n    log-format {}\n",
        e.name.escape_debug(),
        if http { "http" } else { "tcp" },
        log_format(if http { HTTP_LOG } else { TCP_LOG }),
    );
    let mut rules = String::new();
    let mut uses = String::new();
    let mut acls = Acls::default();
    if http {
        out.push_str(
            "    capture request header Host len 128\n    capture request header User-Agent len 256\n",
        );
        // Candidate R: the first matching route wins, so set in reverse order.
        let mut sets = Vec::new();
        for (i, r) in e.routes.iter().enumerate() {
            if let Some((c, _)) = &r.condition {
                if let Some(expr) = acls.expression(c).map_err(|d| route_path(d, r.name()))? {
                    sets.push((i, expr));
                }
            }
        }
        for (i, expr) in sets.iter().rev() {
            let _ = write!(rules, "    http-request set-var(txn.vamp_c) int({i})");
            if !expr.is_empty() {
                let _ = write!(rules, " if {expr}");
            }
            rules.push('\n');
        }
        if e.sticky.is_some() {
            for r in e.routes.iter() {
                let _ = writeln!(
                    uses,
                    "    use_backend {} if {{ req.cook({}) -m str {} }}",
                    backend_name(&e.name, &r.name),
                    e.route_cookie,
                    r.cookie_value
                );
            }
        }
        for (i, _) in &sets {
            let r = &e.routes[*i];
            if r.strength == 0 {
                continue;
            }
            let _ = write!(
                uses,
                "    use_backend {} if {{ var(txn.vamp_c) -m int eq {i} }}",
                backend_name(&e.name, &r.name)
            );
            if r.strength < 100 {
                let _ = write!(uses, " {{ rand(100) -m int lt {} }}", r.strength);
            }
            uses.push('\n');
        }
    }
    let weighted: Vec<usize> = (0..e.routes.len())
        .filter(|&i| e.routes[i].weight > 0)
        .collect();
    let rule = if http {
        "http-request"
    } else {
        "tcp-request content"
    };
    let split_map = match &options.split_maps {
        Some(dir) if weighted.len() > 1 => {
            Some(format!("{}/{fe}.map", clean(dir, "the map directory")?))
        }
        _ => None,
    };
    if let Some(path) = &split_map {
        let weights: Vec<u32> = weighted
            .iter()
            .map(|&i| u32::from(e.routes[i].weight))
            .collect();
        let total: u32 = weights.iter().sum();
        let mut map = String::new();
        for (slot, k) in smooth_slots(&weights).into_iter().enumerate() {
            let _ = writeln!(
                map,
                "{slot} {}",
                backend_name(&e.name, &e.routes[weighted[k]].name)
            );
        }
        maps.push((path.clone(), map));
        out.push_str("    stick-table type integer size 1 store gpc0\n");
        let _ = write!(
            rules,
            "    {rule} track-sc0 int(0)\n    {rule} set-var(txn.vamp_w) sc0_inc_gpc0,mod({total})\n"
        );
        let _ = writeln!(uses, "    use_backend %[var(txn.vamp_w),map_int({path})]");
    } else if weighted.len() > 1 {
        let _ = writeln!(rules, "    {rule} set-var(txn.vamp_w) rand(100)");
    }
    let mut cumulative = 0u32;
    for (k, &i) in weighted.iter().enumerate() {
        let r = &e.routes[i];
        cumulative += u32::from(r.weight);
        if split_map.is_some() && k + 1 < weighted.len() {
            continue;
        }
        if k + 1 == weighted.len() {
            let _ = writeln!(
                uses,
                "    default_backend {}",
                backend_name(&e.name, &r.name)
            );
        } else {
            let _ = writeln!(
                uses,
                "    use_backend {} if {{ var(txn.vamp_w) -m int lt {cumulative} }}",
                backend_name(&e.name, &r.name)
            );
        }
    }
    out.push_str(&acls.lines);
    out.push_str(&rules);
    out.push_str(&uses);
    for r in e.routes.iter() {
        route_backend(out, e, r, http, options).map_err(|d| route_path(d, r.name()))?;
    }
    Ok(())
}

fn route_path(d: Diagnostic, route: &str) -> Diagnostic {
    if d.path.is_empty() {
        d.with_path(format!("routes.{route}"))
    } else {
        d
    }
}

fn route_backend(
    out: &mut String,
    e: &Engine,
    r: &crate::engine::CompiledRoute,
    http: bool,
    options: &ExportOptions,
) -> Result<(), Diagnostic> {
    let balance = match &r.balance {
        Some(b) => clean(b, "the balance")?,
        None if http => "roundrobin",
        None => "leastconn",
    };
    let _ = write!(
        out,
        "\nbackend {}\n    # route {} of gateway {}\n    mode {}\n    balance {balance}\n",
        backend_name(&e.name, &r.name),
        r.name.escape_debug(),
        e.name.escape_debug(),
        if http { "http" } else { "tcp" },
    );
    let mut acls = Acls::default();
    let mut rules = String::new();
    if http {
        rules.push_str("    option forwardfor\n");
        if let (true, Some(path)) = (options.health_checks, &options.http_check_path) {
            let _ = writeln!(rules, "    option httpchk GET {}", quoted(path)?);
        }
        if e.sticky.is_some() {
            let _ = write!(
                rules,
                "    http-request set-var(txn.vamp_sc) bool(true) if !{{ req.cook({ck}) -m str {v} }}\n    \
                 http-response add-header Set-Cookie \"{ck}={v}; Path=/\" if {{ var(txn.vamp_sc) -m bool }}\n",
                ck = e.route_cookie,
                v = r.cookie_value,
            );
        }
        for rw in r.rewrites.iter() {
            let cond = match &rw.condition {
                RewriteCondition::Acl(text, _) | RewriteCondition::Opaque(text) => Some(format!(
                    " if {{ {} }}",
                    clean(text, "the rewrite condition")?
                )),
                RewriteCondition::Vamp(c, _) => acls.expression(c)?.map(|expr| {
                    if expr.is_empty() {
                        String::new()
                    } else {
                        format!(" if {expr}")
                    }
                }),
            };
            if let Some(cond) = cond {
                let _ = writeln!(
                    rules,
                    "    http-request set-path {}{cond}",
                    quoted(rw.path())?
                );
            }
        }
        if e.sticky == Some(Sticky::Instance) {
            let _ = writeln!(
                rules,
                "    cookie {} insert indirect nocache",
                r.instance_cookie
            );
        }
    }
    out.push_str(&acls.lines);
    out.push_str(&rules);
    let mut names: HashMap<String, usize> = HashMap::new();
    for (i, inst) in r.instances.iter().enumerate() {
        let Some(addr) = &inst.address else { continue };
        let host = clean(&addr.host, "the host")?;
        if host.is_empty()
            || host.contains(|c: char| c.is_whitespace() || c == '#' || c == '"' || c == '\'')
        {
            return Err(Diagnostic::error(
                Code::UnsupportedAcl,
                format!("`{host}` is not a host HAProxy can connect to"),
            ));
        }
        let mut name = backend_name::encode(&inst.name);
        let n = names.entry(name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            name = format!("{name}-{n}");
        }
        let address = if host.contains(':') {
            format!("[{host}]:{}", addr.port)
        } else {
            format!("{host}:{}", addr.port)
        };
        let _ = write!(out, "    server {name} {address} weight {}", inst.weight);
        if options.health_checks {
            out.push_str(" check");
        }
        if http && e.sticky == Some(Sticky::Instance) {
            let _ = write!(out, " cookie {}", r.instance_cookie_values[i]);
        }
        out.push('\n');
    }
    Ok(())
}

fn virtual_hosts(
    out: &mut String,
    engines: &[Engine],
    bind: &str,
    options: &ExportOptions,
    ports: &mut HashMap<u16, &str>,
) -> Result<(), Diagnostic> {
    let Some(vport) = options.virtual_hosts_port else {
        return Ok(());
    };
    let hosted: Vec<&Engine> = engines
        .iter()
        .filter(|e| e.port_type == PortType::Http && !e.virtual_hosts.is_empty())
        .collect();
    if hosted.is_empty() {
        return Ok(());
    }
    if let Some(other) = ports.get(&vport) {
        return Err(duplicate_port(vport, other, "virtual_hosts"));
    }
    let _ = write!(
        out,
        "\nfrontend virtual_hosts\n    bind {bind}:{vport}\n    mode http\n    log-format {}\n    \
         capture request header Host len 128\n    capture request header User-Agent len 256\n",
        log_format(HTTP_LOG)
    );
    let mut uses = String::new();
    for e in &hosted {
        for vh in e.virtual_hosts.iter() {
            let name = format!(
                "vh_{:016x}",
                stable_hash(vh.to_ascii_lowercase().as_bytes())
            );
            let _ = writeln!(out, "    acl {name} req.hdr(host) -i {}", pattern(vh)?);
            let _ = writeln!(
                uses,
                "    use_backend virtual_hosts__{} if {name}",
                backend_name::encode(&e.name)
            );
        }
    }
    out.push_str(&uses);
    for e in &hosted {
        let port = e.port.unwrap_or(0);
        let _ = write!(
            out,
            "\nbackend virtual_hosts__{fe}\n    mode http\n    server {fe} 127.0.0.1:{port}{}\n",
            if options.health_checks { " check" } else { "" },
            fe = backend_name::encode(&e.name),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_slots_interleave_exactly() {
        let slots = smooth_slots(&[70, 30]);
        assert_eq!(slots.len(), 100);
        assert_eq!(slots.iter().filter(|&&k| k == 1).count(), 30);
        assert_eq!(&slots[..6], &[0, 1, 0, 0, 0, 1]);
        // Any window of 10 holds 7 (or within one of 7) of the first route.
        for w in slots.windows(10) {
            let a = w.iter().filter(|&&k| k == 0).count();
            assert!((6..=8).contains(&a), "{w:?}");
        }
    }

    #[test]
    fn patterns_are_quoted() {
        assert_eq!(pattern("Firefox").unwrap(), "'Firefox'");
        assert_eq!(pattern("it's $x").unwrap(), "\"it's \\$x\"");
        assert_eq!(pattern("-x").unwrap(), "-- '-x'");
        assert!(pattern("a\nb").is_err());
    }

    #[test]
    fn dnf_simplifies() {
        let mut atoms = Vec::new();
        let a = || B::Atom("a".into());
        let t = dnf(&B::Or(vec![a(), B::Not(Box::new(a()))]), false, &mut atoms).unwrap();
        assert!(t.iter().any(Vec::is_empty) || t.len() == 2);
        let f = dnf(&B::And(vec![a(), B::Not(Box::new(a()))]), false, &mut atoms).unwrap();
        assert!(f.is_empty());
        // not (a or b) = !a !b
        let nb = dnf(
            &B::Not(Box::new(B::Or(vec![a(), B::Atom("b".into())]))),
            false,
            &mut atoms,
        )
        .unwrap();
        assert_eq!(nb, vec![vec![(0, false), (1, false)]]);
    }
}
