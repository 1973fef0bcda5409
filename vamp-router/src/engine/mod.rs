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
//!    remainder on the last of them: [`vamp_model::weights::fill`]). A
//!    gateway whose weights total 0 routes such requests nowhere ([`Engine::decide`] returns `None`; HAProxy
//!    answers 503).
//! 4. **Instance.** Inside the route, an instance cookie naming an existing
//!    instance pins it (`sticky: instance`); otherwise an instance is drawn by
//!    instance weight.
//! 5. **Rewrites** of the chosen route apply in order, each seeing the path
//!    the previous ones left (as HAProxy's `http-request set-path` does).
//!
//! The code is split by concern: `compile` (gateway to engine, in named
//! steps), `decide` (matching and drawing), `random` (the injectable random
//! source) and `targets` (instances and addresses).
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
use vamp_model::hash::fnv1a_extend;
use vamp_model::{Condition, ConditionText, Diagnostic, Gateway, Map, PortType, Rewrite, Sticky};

use crate::request::Request;

mod compile;
mod decide;
mod random;
mod targets;

pub(crate) use compile::compile_gateway;
pub use decide::by_virtual_host;
pub use random::{RandomSource, SplitMix64};
pub use targets::{targets_from_json, Address, Instance, Targets};

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

/// FNV-1a, 64 bits ([`vamp_model::hash::fnv1a`]): the stable hash behind
/// route ids, cookie values and keyed decisions (identical on every
/// platform and process).
///
/// ```
/// assert_eq!(vamp_router::engine::stable_hash(b""), 0xcbf2_9ce4_8422_2325);
/// ```
pub use vamp_model::hash::fnv1a as stable_hash;

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
            h = fnv1a_extend(h, &[0]);
        }
        h = fnv1a_extend(h, p.as_bytes());
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

/// A route with a condition, densely stored for the candidate scan.
#[derive(Debug, Clone)]
struct Conditioned {
    matcher: Matcher,
    route: u16,
    strength: u8,
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
        compile_gateway(name, gateway, options, false)
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
