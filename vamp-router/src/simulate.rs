//! How traffic splits across a gateway's routes and instances: exactly (from
//! the probabilities of the rules) and by sampling the engine.
//!
//! A [`Traffic`] is a mix of requests with shares (user agents, cookies,
//! headers, hosts). [`exact`] computes the probability of every route and
//! instance for one request; [`simulate`] does it for the whole mix and also
//! samples the engine with a seeded random source.
//!
//! ```
//! use vamp_model::{Gateway, Map, OrRef, Route};
//! use vamp_router::engine::{CompileOptions, Engine};
//! use vamp_router::simulate::{simulate, Traffic};
//! let route = |w| OrRef::Inline(Route { weight: Some(w), condition: None, condition_strength: None,
//!     rewrites: vec![], balance: None, selector: None, span: None });
//! let mut routes = Map::new();
//! routes.insert("v1".to_string(), route(80));
//! routes.insert("v2".to_string(), route(20));
//! let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
//!     selector: None, routes, span: None, routes_span: None };
//! let engine = Engine::compile("g", &gateway, &CompileOptions::default()).unwrap();
//! let traffic = Traffic::from_json(&serde_json::json!([{}])).unwrap();
//! let report = simulate(&engine, &traffic, 10_000, 42);
//! assert!((report.exact.routes[0] - 0.8).abs() < 1e-12);
//! assert!((report.sampled.share(0) - 0.8).abs() < 0.02);
//! ```

use serde_json::{json, Value};
use vamp_model::{Code, Diagnostic};

use crate::engine::{Engine, RandomSource, Reason, SplitMix64};
use crate::request::{OwnedRequest, Request};

/// Probabilities of routes and instances.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// Probability of each route (index as in [`Engine::routes`]).
    pub routes: Vec<f64>,
    /// Probability of each (route, instance).
    pub instances: Vec<Vec<f64>>,
    /// Probability that no route takes the request.
    pub unrouted: f64,
}

impl Distribution {
    fn zero(engine: &Engine) -> Self {
        Distribution {
            routes: vec![0.0; engine.routes().len()],
            instances: per_instance(engine, 0.0),
            unrouted: 0.0,
        }
    }

    fn add_route(&mut self, engine: &Engine, req: &Request<'_>, route: usize, p: f64) {
        if p == 0.0 {
            return;
        }
        self.routes[route] += p;
        let r = &engine.routes()[route];
        if let Some(i) = engine.sticky_instance(req, route) {
            self.instances[route][i] += p;
            return;
        }
        let total = f64::from(r.instance_weight_total());
        if total > 0.0 {
            for (i, inst) in r.instances().iter().enumerate() {
                self.instances[route][i] += p * f64::from(inst.weight) / total;
            }
        }
    }

    fn add_scaled(&mut self, other: &Distribution, k: f64) {
        for (a, b) in self.routes.iter_mut().zip(&other.routes) {
            *a += k * b;
        }
        for (a, b) in self.instances.iter_mut().zip(&other.instances) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += k * y;
            }
        }
        self.unrouted += k * other.unrouted;
    }
}

/// The exact probabilities with which `engine` sends `req` to each route
/// and instance.
///
/// ```
/// # use vamp_model::*;
/// # use vamp_router::engine::*;
/// # let mut routes = Map::new();
/// # routes.insert("a".to_string(), OrRef::Inline(Route { weight: None, condition: None,
/// #   condition_strength: None, rewrites: vec![], balance: None, selector: None, span: None }));
/// # let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
/// #   selector: None, routes, span: None, routes_span: None };
/// let engine = Engine::compile("g", &gateway, &CompileOptions::default()).unwrap();
/// let d = vamp_router::simulate::exact(&engine, &Default::default());
/// assert_eq!(d.routes, [1.0]);
/// ```
pub fn exact(engine: &Engine, req: &Request<'_>) -> Distribution {
    let mut d = Distribution::zero(engine);
    if engine.sticky().is_some() {
        if let Some(r) = engine.sticky_route(req) {
            d.add_route(engine, req, r, 1.0);
            return d;
        }
    }
    let mut rest = 1.0;
    if let Some(r) = engine.candidate(req) {
        let s = f64::from(engine.routes()[r].strength()) / 100.0;
        d.add_route(engine, req, r, s);
        rest -= s;
    }
    let total: f64 = engine.routes().iter().map(|r| f64::from(r.weight())).sum();
    if total == 0.0 {
        d.unrouted += rest;
        return d;
    }
    for (i, r) in engine.routes().iter().enumerate() {
        d.add_route(engine, req, i, rest * f64::from(r.weight()) / total);
    }
    d
}

/// Counts of sampled decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Decisions per route.
    pub routes: Vec<u64>,
    /// Decisions per (route, instance).
    pub instances: Vec<Vec<u64>>,
    /// Decisions per route by reason: `[sticky, condition, weight]`.
    pub reasons: Vec<[u64; 3]>,
    /// Requests no route took.
    pub unrouted: u64,
    /// All requests sampled.
    pub total: u64,
}

impl Counts {
    /// The sampled share of route `i` (0 when nothing was sampled).
    pub fn share(&self, i: usize) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.routes.get(i).copied().unwrap_or(0) as f64 / self.total as f64
        }
    }
}

/// One kind of request in a traffic mix.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficEntry {
    /// Its relative share of the traffic (any positive scale).
    pub share: f64,
    /// The request.
    pub request: OwnedRequest,
}

/// A traffic mix.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Traffic {
    /// The kinds of request, with shares.
    pub entries: Vec<TrafficEntry>,
}

impl Traffic {
    /// Reads a traffic description:
    ///
    /// - a list of requests (request JSON of the spec), equal shares;
    /// - a list of `{"share": N, "request": {...}}` entries (both forms may
    ///   be mixed);
    /// - an object `{"requests": [...]}` holding such a list.
    ///
    /// # Errors
    /// `unexpected_type` / `unexpected_element` naming the entry.
    ///
    /// ```
    /// use vamp_router::simulate::Traffic;
    /// let t = Traffic::from_json(&serde_json::json!({"requests": [
    ///     {"share": 3, "request": {"headers": {"User-Agent": "Firefox"}}},
    ///     {"cookies": {"beta": "1"}},
    /// ]})).unwrap();
    /// assert_eq!(t.entries.len(), 2);
    /// assert_eq!(t.entries[1].share, 1.0);
    /// ```
    pub fn from_json(value: &Value) -> Result<Traffic, Diagnostic> {
        let list = match value {
            Value::Array(items) => items,
            Value::Object(o) => match o.get("requests") {
                Some(Value::Array(items)) => items,
                _ => {
                    return Err(Diagnostic::error(
                        Code::UnexpectedType,
                        "traffic is a list of requests or `{\"requests\": [...]}`",
                    ))
                }
            },
            _ => {
                return Err(Diagnostic::error(
                    Code::UnexpectedType,
                    "traffic is a list of requests or `{\"requests\": [...]}`",
                ))
            }
        };
        let mut entries = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let at = |d: Diagnostic| {
                let path = if d.path.is_empty() {
                    format!("requests[{i}]")
                } else {
                    format!("requests[{i}].{}", d.path)
                };
                d.with_path(path)
            };
            let entry = match item.get("request") {
                Some(request) => {
                    let share = match item.get("share") {
                        None => 1.0,
                        Some(s) => s
                            .as_f64()
                            .filter(|s| *s >= 0.0 && s.is_finite())
                            .ok_or_else(|| {
                                at(Diagnostic::error(
                                    Code::UnexpectedType,
                                    "a share is a number ≥ 0",
                                ))
                            })?,
                    };
                    if let Some(extra) = item
                        .as_object()
                        .and_then(|o| o.keys().find(|k| *k != "share" && *k != "request"))
                    {
                        return Err(at(Diagnostic::error(
                            Code::UnexpectedElement,
                            format!("a traffic entry has `share` and `request`, not `{extra}`"),
                        )));
                    }
                    TrafficEntry {
                        share,
                        request: OwnedRequest::from_json(request).map_err(at)?,
                    }
                }
                None => TrafficEntry {
                    share: 1.0,
                    request: OwnedRequest::from_json(item).map_err(at)?,
                },
            };
            entries.push(entry);
        }
        Ok(Traffic { entries })
    }

    /// Reads one request JSON per non-empty line, equal shares.
    ///
    /// # Errors
    /// The first line that is not a request, with `requests[LINE-1]` as path.
    ///
    /// ```
    /// let t = vamp_router::simulate::Traffic::from_json_lines("{}\n\n{\"host\": \"a\"}\n").unwrap();
    /// assert_eq!(t.entries.len(), 2);
    /// ```
    pub fn from_json_lines(text: &str) -> Result<Traffic, Diagnostic> {
        let mut items = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line).map_err(|e| {
                Diagnostic::error(
                    Code::UnexpectedType,
                    format!("line {}: not JSON: {e}", n + 1),
                )
            })?;
            items.push(v);
        }
        Traffic::from_json(&Value::Array(items))
    }

    fn total_share(&self) -> f64 {
        self.entries.iter().map(|e| e.share).sum()
    }
}

/// Exact and sampled splits of a traffic mix.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Probabilities, weighted by the shares of the mix.
    pub exact: Distribution,
    /// Decisions of the engine on requests drawn from the mix.
    pub sampled: Counts,
}

impl Report {
    /// The report as JSON: per route its exact and sampled share, count and
    /// instances.
    ///
    /// ```
    /// # use vamp_model::*;
    /// # use vamp_router::engine::*;
    /// # let mut routes = Map::new();
    /// # routes.insert("a".to_string(), OrRef::Inline(Route { weight: None, condition: None,
    /// #   condition_strength: None, rewrites: vec![], balance: None, selector: None, span: None }));
    /// # let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
    /// #   selector: None, routes, span: None, routes_span: None };
    /// # let engine = Engine::compile("g", &gateway, &CompileOptions::default()).unwrap();
    /// let t = vamp_router::simulate::Traffic::from_json(&serde_json::json!([{}])).unwrap();
    /// let r = vamp_router::simulate::simulate(&engine, &t, 100, 1);
    /// assert_eq!(r.to_json(&engine)["routes"]["a"]["count"], 100);
    /// ```
    pub fn to_json(&self, engine: &Engine) -> Value {
        let total = self.sampled.total.max(1) as f64;
        let mut routes = serde_json::Map::new();
        for (i, r) in engine.routes().iter().enumerate() {
            let mut instances = serde_json::Map::new();
            for (j, inst) in r.instances().iter().enumerate() {
                instances.insert(
                    inst.name.clone(),
                    json!({
                        "exact": self.exact.instances[i][j],
                        "sampled": self.sampled.instances[i][j] as f64 / total,
                        "count": self.sampled.instances[i][j],
                    }),
                );
            }
            let [sticky, condition, weight] = self.sampled.reasons[i];
            routes.insert(
                r.name().to_owned(),
                json!({
                    "weight": r.weight(),
                    "exact": self.exact.routes[i],
                    "sampled": self.sampled.routes[i] as f64 / total,
                    "count": self.sampled.routes[i],
                    "by": {"sticky": sticky, "condition": condition, "weight": weight},
                    "instances": instances,
                }),
            );
        }
        json!({
            "gateway": engine.name(),
            "samples": self.sampled.total,
            "routes": routes,
            "unrouted": {
                "exact": self.exact.unrouted,
                "sampled": self.sampled.unrouted as f64 / total,
                "count": self.sampled.unrouted,
            },
        })
    }
}

/// Splits `traffic` over `engine`: exactly, and by `samples` decisions drawn
/// with a generator seeded with `seed` (request kinds drawn by share).
///
/// See the module example.
pub fn simulate(engine: &Engine, traffic: &Traffic, samples: u64, seed: u64) -> Report {
    let mut exact_mix = Distribution::zero(engine);
    let total = traffic.total_share();
    if total > 0.0 {
        for e in &traffic.entries {
            exact_mix.add_scaled(&exact(engine, &e.request.as_request()), e.share / total);
        }
    }
    let mut rng = SplitMix64::new(seed);
    let requests: Vec<Request<'_>> = traffic
        .entries
        .iter()
        .map(|e| e.request.as_request())
        .collect();
    let mut cumulative = Vec::with_capacity(traffic.entries.len());
    let mut acc = 0.0;
    for e in &traffic.entries {
        acc += e.share;
        cumulative.push(acc);
    }
    let mut counts = sample_with(engine, samples, &mut rng, |rng| {
        if total <= 0.0 {
            return None;
        }
        let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let i = cumulative
            .partition_point(|&c| c <= x)
            .min(requests.len() - 1);
        Some(requests[i])
    });
    if total <= 0.0 {
        counts.total = 0;
    }
    Report {
        exact: exact_mix,
        sampled: counts,
    }
}

/// `zero` for every (route, instance) of the engine.
fn per_instance<T: Clone>(engine: &Engine, zero: T) -> Vec<Vec<T>> {
    engine
        .routes()
        .iter()
        .map(|r| vec![zero.clone(); r.instances().len()])
        .collect()
}

/// Samples `n` decisions on the requests `next` draws.
fn sample_with<'r, F>(engine: &Engine, n: u64, rng: &mut SplitMix64, mut next: F) -> Counts
where
    F: FnMut(&mut SplitMix64) -> Option<Request<'r>>,
{
    let mut c = Counts {
        routes: vec![0; engine.routes().len()],
        instances: per_instance(engine, 0),
        reasons: vec![[0; 3]; engine.routes().len()],
        unrouted: 0,
        total: n,
    };
    for _ in 0..n {
        let Some(req) = next(rng) else { break };
        match engine.decide(&req, rng) {
            None => c.unrouted += 1,
            Some(d) => {
                c.routes[d.route] += 1;
                if let Some(i) = d.instance {
                    c.instances[d.route][i] += 1;
                }
                let k = match d.reason {
                    Reason::Sticky => 0,
                    Reason::Condition => 1,
                    Reason::Weight => 2,
                };
                c.reasons[d.route][k] += 1;
            }
        }
    }
    c
}

/// Samples `n` decisions of `engine` on one request.
///
/// ```
/// # use vamp_model::*;
/// # use vamp_router::engine::*;
/// # let mut routes = Map::new();
/// # routes.insert("a".to_string(), OrRef::Inline(Route { weight: None, condition: None,
/// #   condition_strength: None, rewrites: vec![], balance: None, selector: None, span: None }));
/// # let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
/// #   selector: None, routes, span: None, routes_span: None };
/// # let engine = Engine::compile("g", &gateway, &CompileOptions::default()).unwrap();
/// let c = vamp_router::simulate::sample(&engine, &Default::default(), 50, &mut SplitMix64::new(1));
/// assert_eq!(c.routes, [50]);
/// ```
pub fn sample(engine: &Engine, req: &Request<'_>, n: u64, rng: &mut SplitMix64) -> Counts {
    sample_with(engine, n, rng, |_| Some(*req))
}
