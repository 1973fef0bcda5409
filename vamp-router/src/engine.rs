//! The routing engine: a gateway compiled once into an immutable structure
//! that decides, per request, which route and instance take it.
//!
//! Semantics (dsl-reference §4.4–4.6, made precise):
//!
//! 1. **Stickiness.** With `sticky: route` (or `instance`) a request carrying
//!    the gateway's route cookie whose value names an existing route goes to
//!    that route, whatever its conditions and weights. A cookie naming no
//!    route (a removed one, or garbage) is ignored.
//! 2. **Conditions.** Route conditions are tested in route order; the first
//!    route whose condition matches is the candidate `R`. With probability
//!    `strength(R)/100` the request goes to `R` (strength defaults to 100%
//!    for a route with a condition).
//! 3. **Weights.** Otherwise (and for requests no condition matched) the
//!    request is distributed over **all** routes by weight. Routes without a
//!    written weight share what the written ones leave (rounded down, the
//!    remainder on the last of them: [`vamp_model::weights::fill`]). A gateway whose weights total 0 routes
//!    such requests nowhere ([`Engine::decide`] returns `None`; HAProxy
//!    answers 503).
//! 4. **Instance.** Inside the route, an instance cookie naming an existing
//!    instance pins it (`sticky: instance`); otherwise an instance is drawn by
//!    instance weight.
//! 5. **Rewrites** of the chosen route apply in order, each seeing the path
//!    the previous ones left (as HAProxy's `http-request set-path` does).
//!
//! A decision allocates nothing: conditions are compiled to matchers with
//! pre-built substring searchers, weights to a 100-slot table, and the
//! [`Decision`] borrows its names from the engine.
//!
//! ```
//! use vamp_model::{Gateway, Map, OrRef, Route};
//! use vamp_router::engine::{CompileOptions, Engine, SplitMix64};
//! use vamp_router::request::Request;
//!
//! let route = |w| OrRef::Inline(Route { weight: Some(w), condition: None, condition_strength: None,
//!     rewrites: vec![], balance: None, selector: None, span: None });
//! let mut routes = Map::new();
//! routes.insert("shop/v1".to_string(), route(90));
//! routes.insert("shop/v2".to_string(), route(10));
//! let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
//!     selector: None, routes, span: None, routes_span: None };
//! let engine = Engine::compile("shop", &gateway, &CompileOptions::default()).unwrap();
//! let mut rng = SplitMix64::new(7);
//! let d = engine.decide(&Request::default(), &mut rng).unwrap();
//! assert!(d.route_name == "shop/v1" || d.route_name == "shop/v2");
//! ```

use memchr::memmem::Finder;
use vamp_model::{
    Code, Condition, ConditionText, Diagnostic, Gateway, Map, OrRef, PortType, Rewrite,
    RouteCondition, Sticky,
};

use crate::matching;
use crate::request::{Pairs, Request};

/// Whether some (name, value) pair satisfies `f`: one tight loop per
/// representation instead of an enum dispatch per pair.
#[inline]
fn any_pair(pairs: &Pairs<'_>, mut f: impl FnMut(&str, &str) -> bool) -> bool {
    match *pairs {
        Pairs::Borrowed(s) => s.iter().any(|&(n, v)| f(n, v)),
        Pairs::Owned(s) => s.iter().any(|(n, v)| f(n, v)),
    }
}

/// The first `Some` that `f` returns over the pairs.
#[inline]
fn find_pair<T>(pairs: &Pairs<'_>, mut f: impl FnMut(&str, &str) -> Option<T>) -> Option<T> {
    match *pairs {
        Pairs::Borrowed(s) => s.iter().find_map(|&(n, v)| f(n, v)),
        Pairs::Owned(s) => s.iter().find_map(|(n, v)| f(n, v)),
    }
}

/// Where a route's traffic can go: a running instance (or an external
/// address, or another gateway's port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The instance's name (unique within its route).
    pub name: String,
    /// Its address; `None` when unknown (a route of a stand-alone gateway
    /// compiled without runtime information).
    pub address: Option<Address>,
    /// Its share among the route's instances (HAProxy server weight, 0–256).
    pub weight: u16,
}

/// A host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Instance {
    /// An instance at `host:port` with the default weight 100.
    ///
    /// ```
    /// let i = vamp_router::engine::Instance::at("sava-1", "10.0.0.1", 31001);
    /// assert_eq!(i.address.unwrap().port, 31001);
    /// assert_eq!(i.weight, 100);
    /// ```
    pub fn at(name: impl Into<String>, host: impl Into<String>, port: u16) -> Instance {
        Instance {
            name: name.into(),
            address: Some(Address {
                host: host.into(),
                port,
            }),
            weight: 100,
        }
    }
}

/// Route targets by route path (`shop/checkout/sava:1.0/web`), as a runtime
/// knows them.
pub type Targets = Map<Vec<Instance>>;

/// Reads targets from JSON: `{"ROUTE": [{"name": "i1", "host": "10.0.0.1",
/// "port": 31001, "weight": 100}, ...], ...}` (`weight` optional, default 100;
/// `host`/`port` optional together).
///
/// # Errors
/// [`Code::UnexpectedType`] naming the offending value.
///
/// ```
/// let t = vamp_router::engine::targets_from_json(&serde_json::json!(
///     {"shop/v1": [{"name": "a", "host": "127.0.0.1", "port": 8081}]})).unwrap();
/// assert_eq!(t["shop/v1"][0].name, "a");
/// assert!(vamp_router::engine::targets_from_json(&serde_json::json!([])).is_err());
/// ```
pub fn targets_from_json(value: &serde_json::Value) -> Result<Targets, Diagnostic> {
    use serde_json::Value;
    let bad = |path: String, what: &str| {
        Diagnostic::error(Code::UnexpectedType, format!("`{path}` must be {what}")).with_path(path)
    };
    let Value::Object(routes) = value else {
        return Err(bad(
            "targets".into(),
            "an object of route paths to lists of instances",
        ));
    };
    let mut out = Targets::new();
    for (route, list) in routes {
        let Value::Array(items) = list else {
            return Err(bad(route.clone(), "a list of instances"));
        };
        let mut instances = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = format!("{route}[{i}]");
            let Value::Object(f) = item else {
                return Err(bad(p, "an object with `name`, `host`, `port` and `weight`"));
            };
            let name = match f.get("name") {
                Some(Value::String(s)) => s.clone(),
                None => format!("{route}#{i}"),
                Some(_) => return Err(bad(format!("{p}.name"), "text")),
            };
            let host = match f.get("host") {
                Some(Value::String(s)) => Some(s.clone()),
                None | Some(Value::Null) => None,
                Some(_) => return Err(bad(format!("{p}.host"), "text")),
            };
            let port = match f.get("port") {
                Some(v) => Some(
                    v.as_u64()
                        .and_then(|n| u16::try_from(n).ok())
                        .ok_or_else(|| bad(format!("{p}.port"), "a port number (0–65535)"))?,
                ),
                None => None,
            };
            let weight = match f.get("weight") {
                Some(v) => v
                    .as_u64()
                    .filter(|w| *w <= 256)
                    .and_then(|w| u16::try_from(w).ok())
                    .ok_or_else(|| bad(format!("{p}.weight"), "a whole number from 0 to 256"))?,
                None => 100,
            };
            let address = match (host, port) {
                (Some(host), Some(port)) => Some(Address { host, port }),
                (None, None) => None,
                _ => return Err(bad(p, "given `host` and `port` together")),
            };
            instances.push(Instance {
                name,
                address,
                weight,
            });
        }
        out.insert(route.clone(), instances);
    }
    Ok(out)
}

/// What compiling a gateway needs besides the gateway.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompileOptions<'a> {
    /// Stored conditions (name → definition) for `condition: {reference: NAME}`.
    pub conditions: Option<&'a Map<ConditionText>>,
    /// Stored rewrites by name, for rewrite references.
    pub rewrites: Option<&'a Map<Rewrite>>,
    /// Route targets by route path. A route without an entry has one target
    /// named after the route: the address of an external route
    /// `[host:port]`, no address otherwise.
    pub targets: Option<&'a Targets>,
}

/// A source of random numbers for decisions: injectable, so tests and
/// simulations can be seeded.
pub trait RandomSource {
    /// The next 64 uniformly distributed random bits.
    fn next_u64(&mut self) -> u64;
}

/// SplitMix64: a tiny, fast, seedable generator (Steele, Lea and Flood).
///
/// ```
/// use vamp_router::engine::{RandomSource, SplitMix64};
/// let (mut a, mut b) = (SplitMix64::new(1), SplitMix64::new(1));
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
}

impl RandomSource for SplitMix64 {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A uniform draw in `0..n` (multiply-shift on the high 32 bits).
#[inline]
fn below<R: RandomSource + ?Sized>(rng: &mut R, n: u32) -> u32 {
    (((rng.next_u64() >> 32) * u64::from(n)) >> 32) as u32
}

/// FNV-1a, 64 bits: the stable hash behind route ids, cookie values and
/// keyed decisions (identical on every platform and process).
///
/// ```
/// assert_eq!(vamp_router::engine::stable_hash(b""), 0xcbf2_9ce4_8422_2325);
/// ```
pub fn stable_hash(bytes: &[u8]) -> u64 {
    hash_more(0xcbf2_9ce4_8422_2325, bytes)
}

fn hash_more(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The SplitMix64 finalizer: spreads FNV's weak low-entropy differences.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable id of a path of names (gateway, route, instance).
fn hash_parts(parts: &[&str]) -> u64 {
    let mut h = stable_hash(b"");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h = hash_more(h, &[0]);
        }
        h = hash_more(h, p.as_bytes());
    }
    mix(h)
}

fn hex(h: u64) -> Box<str> {
    format!("{h:016x}").into_boxed_str()
}

/// A compiled condition: what a request is matched against, without
/// allocating and with pre-built substring searchers.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    All(Box<[Matcher]>),
    Any(Box<[Matcher]>),
    Not(Box<Matcher>),
    /// Some value of header `name` (ASCII lowercase) contains every needle.
    HeaderContains {
        name: Box<str>,
        needles: Box<[Finder<'static>]>,
    },
    /// Header `name` (ASCII lowercase) is present.
    HeaderPresent(Box<str>),
    HostEquals(Box<str>),
    CookiePresent(Box<str>),
    CookieContains {
        name: Box<str>,
        needle: Box<Finder<'static>>,
    },
    /// A raw ACL of a form [`matching`] evaluates.
    Acl(Condition),
    /// A raw ACL the engine cannot evaluate (only in engines built for
    /// export, which never decide).
    Unsupported,
}

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

    #[inline]
    pub(crate) fn matches(&self, req: &Request<'_>) -> bool {
        match self {
            Matcher::All(args) => args.iter().all(|a| a.node(req)),
            Matcher::Any(args) => args.iter().any(|a| a.node(req)),
            Matcher::Not(arg) => !arg.node(req),
            leaf => leaf.leaf(req),
        }
    }

    /// One argument of `All`/`Any`/`Not`: leaves inline, trees recurse.
    #[inline(always)]
    fn node(&self, req: &Request<'_>) -> bool {
        match self {
            Matcher::All(_) | Matcher::Any(_) | Matcher::Not(_) => self.matches(req),
            leaf => leaf.leaf(req),
        }
    }

    #[inline(always)]
    fn leaf(&self, req: &Request<'_>) -> bool {
        match self {
            Matcher::HeaderContains { name, needles } => match &**needles {
                [one] => any_pair(&req.headers, |n, v| {
                    name_eq(n, name) && one.find(v.as_bytes()).is_some()
                }),
                all => any_pair(&req.headers, |n, v| {
                    name_eq(n, name) && all.iter().all(|f| f.find(v.as_bytes()).is_some())
                }),
            },
            Matcher::HeaderPresent(name) => any_pair(&req.headers, |n, _| name_eq(n, name)),
            Matcher::HostEquals(v) => req.effective_host() == Some(&**v),
            Matcher::CookiePresent(name) => any_pair(&req.cookies, |n, _| n == &**name),
            Matcher::CookieContains { name, needle } => any_pair(&req.cookies, |n, v| {
                n == &**name && needle.find(v.as_bytes()).is_some()
            }),
            // Checked at compile time: evaluation cannot fail.
            Matcher::Acl(c) => matching::matches(c, req).unwrap_or(false),
            Matcher::Unsupported => false,
            Matcher::All(_) | Matcher::Any(_) | Matcher::Not(_) => self.matches(req),
        }
    }
}

/// A route with a condition, densely stored for the candidate scan.
#[derive(Debug, Clone)]
struct Conditioned {
    matcher: Matcher,
    route: u16,
    strength: u8,
}

/// `name` equals `lower` (ASCII lowercase) ignoring ASCII case.
#[inline(always)]
fn name_eq(name: &str, lower: &str) -> bool {
    let (a, b) = (name.as_bytes(), lower.as_bytes());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_ascii_lowercase() == *y)
}

/// A rewrite condition, classified.
#[derive(Debug, Clone)]
pub(crate) enum RewriteCondition {
    /// A raw HAProxy condition (braces stripped) the engine evaluates.
    Acl(Box<str>, Matcher),
    /// A condition in the Vamp condition language.
    Vamp(Condition, Matcher),
    /// A raw HAProxy condition the engine cannot evaluate (export only).
    Opaque(Box<str>),
}

/// A path rewrite of a compiled route.
#[derive(Debug, Clone)]
pub struct CompiledRewrite {
    pub(crate) path: Box<str>,
    pub(crate) condition: RewriteCondition,
}

impl CompiledRewrite {
    /// The new path (an HAProxy `set-path` format string, returned as written).
    pub fn path(&self) -> &str {
        &self.path
    }

    fn matches(&self, req: &Request<'_>) -> bool {
        match &self.condition {
            RewriteCondition::Acl(_, m) | RewriteCondition::Vamp(_, m) => m.matches(req),
            RewriteCondition::Opaque(_) => false,
        }
    }
}

/// One route of a compiled gateway.
#[derive(Debug, Clone)]
pub struct CompiledRoute {
    pub(crate) name: Box<str>,
    pub(crate) cookie_value: Box<str>,
    pub(crate) weight: u8,
    pub(crate) strength: u8,
    pub(crate) condition: Option<(Condition, Matcher)>,
    pub(crate) rewrites: Box<[CompiledRewrite]>,
    pub(crate) balance: Option<Box<str>>,
    pub(crate) instances: Box<[Instance]>,
    pub(crate) instance_cookie_values: Box<[Box<str>]>,
    /// Cumulative instance weights (last = total).
    instance_cumulative: Box<[u32]>,
    pub(crate) instance_cookie: Box<str>,
}

impl CompiledRoute {
    /// The route path as written.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The effective weight (0–100), after sharing the free weight.
    pub fn weight(&self) -> u8 {
        self.weight
    }
    /// The effective condition strength (0–100; 100 by default for a route
    /// with a condition, 0 without).
    pub fn strength(&self) -> u8 {
        self.strength
    }
    /// The parsed condition, if any.
    pub fn condition(&self) -> Option<&Condition> {
        self.condition.as_ref().map(|(c, _)| c)
    }
    /// The route's targets.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }
    /// The route's rewrites, in order.
    pub fn rewrites(&self) -> &[CompiledRewrite] {
        &self.rewrites
    }
    /// The HAProxy balance algorithm, if not the default.
    pub fn balance(&self) -> Option<&str> {
        self.balance.as_deref()
    }
    /// The value of the gateway's route cookie that pins a client here (the
    /// route's stable hash, 16 hex digits).
    pub fn cookie_value(&self) -> &str {
        &self.cookie_value
    }
    /// The name of the cookie that pins a client to an instance of this
    /// route (`sticky: instance`).
    pub fn instance_cookie_name(&self) -> &str {
        &self.instance_cookie
    }
    /// The instance cookie value that pins a client to instance `i`.
    pub fn instance_cookie_value(&self, i: usize) -> Option<&str> {
        self.instance_cookie_values.get(i).map(|v| &**v)
    }
    /// The sum of the instance weights.
    pub fn instance_weight_total(&self) -> u32 {
        self.instance_cumulative.last().copied().unwrap_or(0)
    }
}

/// Why a decision chose its route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A route cookie named the route.
    Sticky,
    /// The route's condition matched (and its strength draw succeeded).
    Condition,
    /// The weight split chose it.
    Weight,
}

impl Reason {
    /// `sticky`, `condition` or `weight`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Sticky => "sticky",
            Reason::Condition => "condition",
            Reason::Weight => "weight",
        }
    }
}

/// A cookie the proxy sets on the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetCookie<'e> {
    /// Cookie name.
    pub name: &'e str,
    /// Cookie value.
    pub value: &'e str,
}

/// The outcome of routing one request; borrows from the engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision<'e> {
    /// Index of the route in [`Engine::routes`].
    pub route: usize,
    /// The route path.
    pub route_name: &'e str,
    /// Why the route was chosen.
    pub reason: Reason,
    /// Index of the instance in the route's instances (`None` when the route
    /// has no instance with weight).
    pub instance: Option<usize>,
    /// The instance.
    pub instance_ref: Option<&'e Instance>,
    /// Route cookie to set (sticky gateways, when the request lacks it).
    pub route_cookie: Option<SetCookie<'e>>,
    /// Instance cookie to set (`sticky: instance`, when the request lacks it).
    pub instance_cookie: Option<SetCookie<'e>>,
    /// The path after the route's rewrites, when one applied.
    pub rewrite: Option<&'e str>,
}

/// A gateway compiled for routing decisions. Immutable; share it freely.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) name: Box<str>,
    pub(crate) port: Option<u16>,
    pub(crate) port_type: PortType,
    pub(crate) sticky: Option<Sticky>,
    pub(crate) virtual_hosts: Box<[Box<str>]>,
    pub(crate) routes: Box<[CompiledRoute]>,
    /// Indices of routes with a condition, in route order.
    conditioned: Box<[Conditioned]>,
    /// Route index per percent point; empty when the weights total 0.
    weight_table: Box<[u16]>,
    pub(crate) route_cookie: Box<str>,
    key_seed: u64,
}

impl Engine {
    /// Compiles gateway `name` for routing.
    ///
    /// # Errors
    /// The first problem, as a diagnostic: `parser` (condition text that does
    /// not parse), `unsupported_acl` (a raw ACL, or rewrite condition, the
    /// engine cannot evaluate), `condition_port_type` / `sticky_port_type`
    /// (conditions or stickiness on a TCP gateway), `gateway_route_weight`
    /// (weights not totalling 0 or 100), `route_condition_strength`,
    /// `unresolved_dependency` (a route, condition or rewrite reference not
    /// found in the options), `unsupported_route_path` (more than 65,535
    /// routes).
    ///
    /// ```
    /// use vamp_model::{Code, Gateway, Map, OrRef, Route};
    /// use vamp_router::engine::{CompileOptions, Engine};
    /// let route = |w| OrRef::Inline(Route { weight: Some(w), condition: None, condition_strength: None,
    ///     rewrites: vec![], balance: None, selector: None, span: None });
    /// let mut routes = Map::new();
    /// routes.insert("a".to_string(), route(60));
    /// routes.insert("b".to_string(), route(60));
    /// let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
    ///     selector: None, routes, span: None, routes_span: None };
    /// let err = Engine::compile("g", &gateway, &CompileOptions::default()).unwrap_err();
    /// assert_eq!(err.code, Code::GatewayRouteWeight);
    /// ```
    pub fn compile(
        name: &str,
        gateway: &Gateway,
        options: &CompileOptions<'_>,
    ) -> Result<Engine, Diagnostic> {
        compile(name, gateway, options, false)
    }

    /// Decides where `req` goes, drawing from `rng`. `None` when no route
    /// can take it (no condition took it and the weights total 0).
    ///
    /// ```
    /// # use vamp_router::engine::*;
    /// # use vamp_model::*;
    /// # let mut routes = Map::new();
    /// # routes.insert("a".to_string(), OrRef::Inline(Route { weight: None, condition: None,
    /// #   condition_strength: None, rewrites: vec![], balance: None, selector: None, span: None }));
    /// # let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
    /// #   selector: None, routes, span: None, routes_span: None };
    /// let engine = Engine::compile("g", &gateway, &CompileOptions::default()).unwrap();
    /// let d = engine.decide(&Default::default(), &mut SplitMix64::new(1)).unwrap();
    /// assert_eq!((d.route_name, d.reason), ("a", Reason::Weight));
    /// ```
    #[inline]
    pub fn decide<R: RandomSource + ?Sized>(
        &self,
        req: &Request<'_>,
        rng: &mut R,
    ) -> Option<Decision<'_>> {
        let (route, reason) = self.choose_route(req, rng)?;
        Some(self.finish(req, route, reason, rng))
    }

    /// Decides from a stable request key (a user id, a client address):
    /// the same key and request always get the same decision, in every
    /// process, and changing weights moves only the keys whose share moved.
    ///
    /// ```
    /// # use vamp_router::engine::*;
    /// # use vamp_model::*;
    /// # let route = |w| OrRef::Inline(Route { weight: Some(w), condition: None,
    /// #   condition_strength: None, rewrites: vec![], balance: None, selector: None, span: None });
    /// # let mut routes = Map::new();
    /// # routes.insert("a".to_string(), route(50));
    /// # routes.insert("b".to_string(), route(50));
    /// # let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
    /// #   selector: None, routes, span: None, routes_span: None };
    /// let engine = Engine::compile("g", &gateway, &CompileOptions::default()).unwrap();
    /// let req = Default::default();
    /// let a = engine.decide_keyed(&req, b"user-42").unwrap().route;
    /// assert!((0..10).all(|_| engine.decide_keyed(&req, b"user-42").unwrap().route == a));
    /// ```
    #[inline]
    pub fn decide_keyed(&self, req: &Request<'_>, key: &[u8]) -> Option<Decision<'_>> {
        let mut rng = SplitMix64::new(mix(hash_more(self.key_seed, key)));
        self.decide(req, &mut rng)
    }

    #[inline]
    fn choose_route<R: RandomSource + ?Sized>(
        &self,
        req: &Request<'_>,
        rng: &mut R,
    ) -> Option<(usize, Reason)> {
        if self.sticky.is_some() {
            if let Some(i) = self.sticky_route(req) {
                return Some((i, Reason::Sticky));
            }
        }
        if let Some((r, s)) = self.candidate_strength(req) {
            if s >= 100 || (s > 0 && below(rng, 100) < u32::from(s)) {
                return Some((r, Reason::Condition));
            }
        }
        if self.weight_table.is_empty() {
            return None;
        }
        let p = below(rng, 100) as usize;
        Some((usize::from(self.weight_table[p]), Reason::Weight))
    }

    /// The route a valid route cookie names.
    #[inline]
    pub(crate) fn sticky_route(&self, req: &Request<'_>) -> Option<usize> {
        find_pair(&req.cookies, |n, v| {
            if n == &*self.route_cookie {
                self.routes.iter().position(|r| &*r.cookie_value == v)
            } else {
                None
            }
        })
    }

    /// The first route whose condition matches.
    #[inline]
    pub(crate) fn candidate(&self, req: &Request<'_>) -> Option<usize> {
        self.candidate_strength(req).map(|(r, _)| r)
    }

    /// The first route whose condition matches, with its strength.
    #[inline]
    fn candidate_strength(&self, req: &Request<'_>) -> Option<(usize, u8)> {
        self.conditioned
            .iter()
            .find(|c| c.matcher.matches(req))
            .map(|c| (usize::from(c.route), c.strength))
    }

    /// The instance a valid instance cookie names (sticky instance only).
    #[inline]
    pub(crate) fn sticky_instance(&self, req: &Request<'_>, route: usize) -> Option<usize> {
        if self.sticky != Some(Sticky::Instance) {
            return None;
        }
        let r = &self.routes[route];
        find_pair(&req.cookies, |n, v| {
            if n == &*r.instance_cookie {
                r.instance_cookie_values.iter().position(|c| &**c == v)
            } else {
                None
            }
        })
    }

    #[inline]
    fn finish<R: RandomSource + ?Sized>(
        &self,
        req: &Request<'_>,
        route: usize,
        reason: Reason,
        rng: &mut R,
    ) -> Decision<'_> {
        let r = &self.routes[route];
        let instance = match self.sticky_instance(req, route) {
            Some(i) => Some(i),
            None => match &*r.instance_cumulative {
                [] => None,
                [w] => (*w > 0).then_some(0),
                cumulative => {
                    let total = cumulative.last().copied().unwrap_or(0);
                    if total == 0 {
                        None
                    } else {
                        let p = below(rng, total);
                        Some(cumulative.partition_point(|&c| c <= p))
                    }
                }
            },
        };
        let route_cookie = match self.sticky {
            Some(_)
                if !any_pair(&req.cookies, |n, v| {
                    n == &*self.route_cookie && v == &*r.cookie_value
                }) =>
            {
                Some(SetCookie {
                    name: &self.route_cookie,
                    value: &r.cookie_value,
                })
            }
            _ => None,
        };
        let instance_cookie = match (self.sticky, instance) {
            (Some(Sticky::Instance), Some(i)) => {
                let value = &*r.instance_cookie_values[i];
                (!any_pair(&req.cookies, |n, v| n == &*r.instance_cookie && v == value)).then_some(
                    SetCookie {
                        name: &r.instance_cookie,
                        value,
                    },
                )
            }
            _ => None,
        };
        let mut rewrite = None;
        if !r.rewrites.is_empty() {
            let mut seen = *req;
            for rw in r.rewrites.iter() {
                if rw.matches(&seen) {
                    seen.path = Some(&rw.path);
                    rewrite = Some(&*rw.path);
                }
            }
        }
        Decision {
            route,
            route_name: &r.name,
            reason,
            instance,
            instance_ref: instance.map(|i| &r.instances[i]),
            route_cookie,
            instance_cookie,
            rewrite,
        }
    }

    /// The gateway's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The gateway's port number, if assigned.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    /// HTTP or TCP.
    pub fn port_type(&self) -> PortType {
        self.port_type
    }
    /// Stickiness.
    pub fn sticky(&self) -> Option<Sticky> {
        self.sticky
    }
    /// The virtual host names the gateway answers.
    pub fn virtual_hosts(&self) -> impl Iterator<Item = &str> {
        self.virtual_hosts.iter().map(|v| &**v)
    }
    /// The routes, in written order.
    pub fn routes(&self) -> &[CompiledRoute] {
        &self.routes
    }
    /// The name of the cookie that pins a client to a route.
    pub fn route_cookie_name(&self) -> &str {
        &self.route_cookie
    }
    /// Whether `host` is one of the gateway's virtual hosts (compared
    /// case-insensitively, as HAProxy's `hdr(host) -i` does; no port is
    /// stripped).
    ///
    /// ```
    /// # use vamp_router::engine::*;
    /// # use vamp_model::*;
    /// # let gateway = Gateway { port: None, service: None, sticky: None,
    /// #   virtual_hosts: vec!["shop.vamp".into()], selector: None, routes: Map::new(),
    /// #   span: None, routes_span: None };
    /// let engine = Engine::compile("g", &gateway, &CompileOptions::default()).unwrap();
    /// assert!(engine.serves_host("Shop.Vamp"));
    /// assert!(!engine.serves_host("shop.vamp:80"));
    /// ```
    pub fn serves_host(&self, host: &str) -> bool {
        self.virtual_hosts
            .iter()
            .any(|v| v.eq_ignore_ascii_case(host))
    }
}

/// The gateway a request for a virtual host reaches: the first engine with
/// the request's host among its virtual hosts.
///
/// ```
/// # use vamp_router::engine::*;
/// # use vamp_model::*;
/// # let gw = |v: &str| Gateway { port: None, service: None, sticky: None,
/// #   virtual_hosts: vec![v.into()], selector: None, routes: Map::new(), span: None, routes_span: None };
/// let o = CompileOptions::default();
/// let engines = [Engine::compile("a", &gw("a.vamp"), &o).unwrap(), Engine::compile("b", &gw("b.vamp"), &o).unwrap()];
/// let headers = [("Host", "b.vamp")];
/// let req = vamp_router::request::Request { headers: (&headers).into(), ..Default::default() };
/// assert_eq!(by_virtual_host(&engines, &req).map(Engine::name), Some("b"));
/// ```
pub fn by_virtual_host<'a>(engines: &'a [Engine], req: &Request<'_>) -> Option<&'a Engine> {
    let host = req.effective_host()?;
    engines.iter().find(|e| e.serves_host(host))
}

/// The target of an external route `[host:port]`.
fn external_address(route: &str) -> Option<Address> {
    let inner = route.strip_prefix('[')?.strip_suffix(']')?.trim();
    let (host, port) = inner.rsplit_once(':')?;
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    let port = port.trim().parse().ok()?;
    (!host.is_empty()).then(|| Address {
        host: host.to_owned(),
        port,
    })
}

/// Strips one pair of surrounding braces: `{ path_beg /a }` → `path_beg /a`.
fn strip_braces(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .map_or(t, str::trim)
}

pub(crate) fn compile(
    name: &str,
    gateway: &Gateway,
    options: &CompileOptions<'_>,
    lenient: bool,
) -> Result<Engine, Diagnostic> {
    let port_type = gateway
        .port
        .as_ref()
        .map_or(PortType::Http, |p| p.port_type);
    let tcp = port_type == PortType::Tcp;
    if tcp && gateway.sticky.is_some() {
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
    let mut routes = Vec::with_capacity(gateway.routes.len());
    let mut written = Vec::with_capacity(gateway.routes.len());
    for (key, route) in &gateway.routes {
        let path = format!("routes.{key}");
        let OrRef::Inline(route) = route else {
            return Err(Diagnostic::error(
                Code::UnresolvedDependency,
                format!(
                    "route `{key}` of gateway `{name}` is a reference; resolve it before routing"
                ),
            )
            .with_path(path));
        };
        written.push(route.weight);
        let condition = match &route.condition {
            None => None,
            Some(rc) => {
                let (text, span) = match rc {
                    RouteCondition::Inline { definition, span } => (definition, *span),
                    RouteCondition::Reference(r) => {
                        let def = options
                            .conditions
                            .and_then(|c| c.get(&r.name))
                            .ok_or_else(|| {
                                Diagnostic::error(
                                    Code::UnresolvedDependency,
                                    format!("route `{key}` refers to condition `{}`, which is not defined", r.name),
                                )
                                .at_opt(r.span)
                                .with_path(format!("{path}.condition"))
                            })?;
                        (def, r.span)
                    }
                };
                if tcp {
                    return Err(Diagnostic::error(
                        Code::ConditionPortType,
                        format!("route `{key}` has a condition, but gateway `{name}` is a TCP gateway: conditions need HTTP"),
                    )
                    .at_opt(span)
                    .with_path(format!("{path}.condition")));
                }
                let tree = parsed(text, span, &format!("{path}.condition"))?.clone();
                let matcher = Matcher::compile(&tree, lenient)
                    .map_err(|e| e.at_opt(span).with_path(format!("{path}.condition")))?;
                Some((tree, matcher))
            }
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
        let mut rewrites = Vec::with_capacity(route.rewrites.len());
        for (i, rw) in route.rewrites.iter().enumerate() {
            let rw_path = format!("{path}.rewrites[{i}]");
            let rw =
                match rw {
                    OrRef::Inline(rw) => rw,
                    OrRef::Reference(r) => options
                        .rewrites
                        .and_then(|m| m.get(&r.name))
                        .ok_or_else(|| {
                            Diagnostic::error(
                                Code::UnresolvedDependency,
                                format!(
                                    "route `{key}` refers to rewrite `{}`, which is not defined",
                                    r.name
                                ),
                            )
                            .at_opt(r.span)
                            .with_path(rw_path.clone())
                        })?,
                };
            rewrites.push(compile_rewrite(rw, lenient, &rw_path)?);
        }
        let instances: Vec<Instance> = match options.targets.and_then(|t| t.get(key)) {
            Some(list) => list.clone(),
            None => vec![Instance {
                name: key.clone(),
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
        routes.push(CompiledRoute {
            name: key.as_str().into(),
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
        });
    }
    let weights = vamp_model::weights::fill(&written).map_err(|total| {
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
    let conditioned = routes
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
        .collect();
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
        weight_table: weight_table.into(),
        route_cookie: format!("vamp_{}", hex(gateway_hash)).into(),
        key_seed: hash_more(gateway_hash, b"\0key\0"),
    })
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
    fn external_addresses() {
        assert_eq!(
            external_address("[192.168.99.100:5050]"),
            Some(Address {
                host: "192.168.99.100".into(),
                port: 5050
            })
        );
        assert_eq!(external_address("[nope]"), None);
        assert_eq!(external_address("a/b"), None);
        assert_eq!(strip_braces(" { path_beg /a } "), "path_beg /a");
        assert_eq!(strip_braces("path_beg /a"), "path_beg /a");
    }

    #[test]
    fn below_is_in_range_and_uniform_enough() {
        let mut rng = SplitMix64::new(3);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            let d = below(&mut rng, 10);
            counts[d as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }
}
