//! Deciding: conditions matched against a request, the candidate route,
//! the weight draw, the instance and the cookies to set.

use vamp_model::hash::fnv1a_extend;
use vamp_model::Sticky;

use super::random::{below, RandomSource, SplitMix64};
use super::{mix, Decision, Engine, Matcher, Reason, SetCookie};
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

/// `name` equals `lower` (ASCII lowercase) ignoring ASCII case.
#[inline(always)]
fn name_eq(name: &str, lower: &str) -> bool {
    let (a, b) = (name.as_bytes(), lower.as_bytes());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_ascii_lowercase() == *y)
}

impl Matcher {
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

impl Engine {
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
        let mut rng = SplitMix64::new(mix(fnv1a_extend(self.key_seed, key)));
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
