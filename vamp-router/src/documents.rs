//! The edges every front end shares: gateways from a stream of documents in,
//! decisions as JSON out.
//!
//! `vamp route`, `vamp simulate`, `vamp export haproxy` and the Python and
//! Node bindings all read a YAML stream (with `vamp_dsl`), collect its
//! gateways together with the condition and rewrite documents the routes
//! refer to ([`gateways`] → [`Gateways`]), compile one or all of them
//! ([`Gateways::compile_one`], [`Gateways::compile_all`],
//! [`Gateways::export_haproxy`]) and print a decision as JSON
//! ([`decision_json`]). Conditions arrive parsed with the documents.
//!
//! ```
//! use vamp_router::documents::{decision_json, gateways};
//! use vamp_router::engine::SplitMix64;
//!
//! let yaml = "\
//! kind: condition
//! name: firefox
//! definition: user-agent == Firefox
//! ---
//! kind: gateway
//! name: shop
//! port: 8080/http
//! routes:
//!   shop/v1:
//!     weight: 100%
//!   shop/v2:
//!     weight: 0%
//!     condition:
//!       reference: firefox
//! ";
//! let out = vamp_dsl::read_bytes(yaml.as_bytes(), Default::default());
//! let g = gateways(&out.documents).unwrap();
//! assert_eq!(g.conditions["firefox"].as_str(), "user-agent == Firefox");
//!
//! let engine = g.compile_one(None, None).unwrap();
//! let headers = [("User-Agent", "Mozilla/5.0 Firefox/120.0")];
//! let req = vamp_router::request::Request { headers: (&headers).into(), ..Default::default() };
//! let d = engine.decide(&req, &mut SplitMix64::new(1));
//! let json = decision_json(&engine, d.as_ref());
//! assert_eq!(json["route"], "shop/v2");
//! assert_eq!(json["reason"], "condition");
//! ```

use serde_json::{json, Value};
use vamp_model::{Code, ConditionText, Diagnostic, Document, Gateway, Map, Rewrite};

use crate::engine::{by_virtual_host, CompileOptions, Decision, Engine, SplitMix64, Targets};
use crate::export::haproxy::{export, ExportOptions};
use crate::request::Request;

/// The gateways of a document stream, with the stored conditions and
/// rewrites their routes may refer to (documents of other kinds are not
/// kept).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gateways {
    /// Every gateway document (name, gateway), in stream order.
    pub gateways: Vec<(String, Gateway)>,
    /// Condition documents: name → definition.
    pub conditions: Map<ConditionText>,
    /// Rewrite documents by name.
    pub rewrites: Map<Rewrite>,
}

/// Collects the gateways, conditions and rewrites of `documents` (as read by
/// `vamp_dsl::read_bytes`), so that `condition: {reference: NAME}` and
/// rewrite references resolve against the same stream.
///
/// # Errors
/// [`Code::InconsistentArtifactKind`] when the documents hold no gateway.
///
/// ```
/// use vamp_model::Code;
/// let out = vamp_dsl::read_bytes(b"kind: condition\nname: c\ndefinition: user-agent == X\n",
///                                Default::default());
/// let err = vamp_router::documents::gateways(&out.documents).unwrap_err();
/// assert_eq!(err.code, Code::InconsistentArtifactKind);
/// ```
pub fn gateways(documents: &[Document]) -> Result<Gateways, Diagnostic> {
    let mut g = Gateways::default();
    g.add(documents);
    if g.gateways.is_empty() {
        return Err(Diagnostic::error(
            Code::InconsistentArtifactKind,
            "the documents hold no gateway",
        ));
    }
    Ok(g)
}

impl Gateways {
    /// Adds the gateways, conditions and rewrites of more documents (another
    /// file of the same set); a later condition or rewrite of one name
    /// replaces an earlier one.
    pub fn add(&mut self, documents: &[Document]) {
        for doc in documents {
            match doc {
                Document::Gateway(a) => self.gateways.push((a.name.clone(), a.spec.clone())),
                Document::Condition(a) => {
                    self.conditions
                        .insert(a.name.clone(), a.spec.definition.clone());
                }
                Document::Rewrite(a) => {
                    self.rewrites.insert(a.name.clone(), a.spec.clone());
                }
                _ => {}
            }
        }
    }

    /// Compile options resolving references against these conditions and
    /// rewrites.
    pub fn compile_options<'a>(&'a self, targets: Option<&'a Targets>) -> CompileOptions<'a> {
        CompileOptions {
            conditions: Some(&self.conditions),
            rewrites: Some(&self.rewrites),
            targets,
        }
    }

    /// The gateway named `name`, or the only one when `name` is `None`.
    ///
    /// # Errors
    /// [`Code::UnresolvedDependency`]: no gateway of that name, or several
    /// gateways and no name.
    pub fn select(&self, name: Option<&str>) -> Result<(&str, &Gateway), Diagnostic> {
        let found = match (name, self.gateways.as_slice()) {
            (Some(name), all) => all.iter().find(|(n, _)| n == name).ok_or_else(|| {
                Diagnostic::error(
                    Code::UnresolvedDependency,
                    format!("no gateway `{name}` in the documents"),
                )
            })?,
            (None, [only]) => only,
            (None, all) => {
                let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
                return Err(Diagnostic::error(
                    Code::UnresolvedDependency,
                    format!(
                        "the documents hold {} gateways ({}): name the one to use",
                        all.len(),
                        names.join(", ")
                    ),
                ));
            }
        };
        Ok((found.0.as_str(), &found.1))
    }

    /// Compiles the gateway [`Gateways::select`] picks.
    ///
    /// # Errors
    /// Those of [`Gateways::select`] and [`Engine::compile`].
    pub fn compile_one(
        &self,
        name: Option<&str>,
        targets: Option<&Targets>,
    ) -> Result<Engine, Diagnostic> {
        let (name, gateway) = self.select(name)?;
        Engine::compile(name, gateway, &self.compile_options(targets))
    }

    /// Compiles every gateway, in stream order.
    ///
    /// # Errors
    /// The first [`Engine::compile`] error, its message prefixed with the
    /// gateway's name.
    pub fn compile_all(&self, targets: Option<&Targets>) -> Result<Vec<Engine>, Diagnostic> {
        let options = self.compile_options(targets);
        self.gateways
            .iter()
            .map(|(name, g)| {
                Engine::compile(name, g, &options).map_err(|d| Diagnostic {
                    message: format!("gateway `{name}`: {}", d.message),
                    ..d
                })
            })
            .collect()
    }

    /// One complete `haproxy.cfg` for every gateway (see
    /// [`crate::export::haproxy::export`]).
    ///
    /// # Errors
    /// Those of [`crate::export::haproxy::export`].
    pub fn export_haproxy(
        &self,
        targets: Option<&Targets>,
        options: &ExportOptions,
    ) -> Result<String, Diagnostic> {
        let gateways: Vec<(&str, &Gateway)> =
            self.gateways.iter().map(|(n, g)| (n.as_str(), g)).collect();
        export(&gateways, &self.compile_options(targets), options)
    }
}

/// The engine a request goes to among compiled gateways: the one named
/// `name`; else the only one; else the one serving the request's host as a
/// virtual host ([`by_virtual_host`]).
///
/// # Errors
/// [`Code::UnresolvedDependency`] when none fits.
///
/// ```
/// let out = vamp_dsl::read_bytes(b"kind: gateway\nname: a\nport: 8080/http\nroutes:\n  x:\n    weight: 100%\n",
///                                Default::default());
/// let engines = vamp_router::documents::gateways(&out.documents).unwrap()
///     .compile_all(None).unwrap();
/// let picked = vamp_router::documents::pick(&engines, None, None).unwrap();
/// assert_eq!(picked.name(), "a");
/// assert!(vamp_router::documents::pick(&engines, Some("b"), None).is_err());
/// ```
pub fn pick<'a>(
    engines: &'a [Engine],
    name: Option<&str>,
    request: Option<&Request<'_>>,
) -> Result<&'a Engine, Diagnostic> {
    if let Some(name) = name {
        return engines.iter().find(|e| e.name() == name).ok_or_else(|| {
            Diagnostic::error(
                Code::UnresolvedDependency,
                format!("no gateway `{name}` in the documents"),
            )
        });
    }
    if let [only] = engines {
        return Ok(only);
    }
    request
        .and_then(|r| by_virtual_host(engines, r))
        .ok_or_else(|| {
            let names: Vec<&str> = engines.iter().map(Engine::name).collect();
            Diagnostic::error(
                Code::UnresolvedDependency,
                format!(
                    "the documents hold {} gateways ({}): name the one to use",
                    engines.len(),
                    names.join(", ")
                ),
            )
        })
}

/// A decision as the JSON object `vamp route` prints: `gateway`, `route`,
/// `reason` (`sticky`, `condition`, `weight`), `instance` (`{name, host,
/// port}`), `set_cookies` (`[{name, value}]`) and `rewrite`. With no
/// decision (no route takes the request) `route`, `reason`, `instance` and
/// `rewrite` are null and `set_cookies` is empty.
///
/// ```
/// # let out = vamp_dsl::read_bytes(b"kind: gateway\nname: g\nport: 8080/http\nroutes:\n  a:\n    weight: 0%\n",
/// #                                Default::default());
/// # let engine = vamp_router::documents::gateways(&out.documents).unwrap()
/// #     .compile_one(None, None).unwrap();
/// let none = vamp_router::documents::decision_json(&engine, None);
/// assert_eq!(none, serde_json::json!({"gateway": "g", "route": null, "reason": null,
///     "instance": null, "set_cookies": [], "rewrite": null}));
/// ```
pub fn decision_json(engine: &Engine, decision: Option<&Decision<'_>>) -> Value {
    let Some(d) = decision else {
        return json!({"gateway": engine.name(), "route": null, "reason": null,
            "instance": null, "set_cookies": [], "rewrite": null});
    };
    let instance = d.instance_ref.map(|i| {
        json!({
            "name": i.name,
            "host": i.address.as_ref().map(|a| a.host.as_str()),
            "port": i.address.as_ref().map(|a| a.port),
        })
    });
    let cookies: Vec<Value> = [d.route_cookie, d.instance_cookie]
        .into_iter()
        .flatten()
        .map(|c| json!({"name": c.name, "value": c.value}))
        .collect();
    json!({
        "gateway": engine.name(),
        "route": d.route_name,
        "reason": d.reason.as_str(),
        "instance": instance,
        "set_cookies": cookies,
        "rewrite": d.rewrite,
    })
}

/// A picking error ([`Gateways::select`], [`pick`]: code
/// [`Code::UnresolvedDependency`]) told how the user names the gateway:
/// `option` is how the front end spells it (`--gateway`, `` `gateway=` ``,
/// ``the `gateway` option``).
///
/// ```
/// use vamp_model::{Code, Diagnostic};
/// let d = Diagnostic::error(Code::UnresolvedDependency, "no gateway `x` in the documents");
/// let d = vamp_router::documents::name_the_gateway(d, "--gateway");
/// assert_eq!(d.message, "no gateway `x` in the documents; choose one with --gateway");
/// ```
pub fn name_the_gateway(d: Diagnostic, option: &str) -> Diagnostic {
    Diagnostic {
        message: format!("{}; choose one with {option}", d.message),
        ..d
    }
}

impl Gateways {
    /// [`Gateways::compile_one`] for a front end whose user names the
    /// gateway with `option` (see [`name_the_gateway`]).
    ///
    /// # Errors
    /// Those of [`Gateways::select`], told how to name the gateway, and of
    /// [`Engine::compile`].
    pub fn compile_named(
        &self,
        name: Option<&str>,
        option: &str,
        targets: Option<&Targets>,
    ) -> Result<Engine, Diagnostic> {
        let (name, gateway) = self.select(name).map_err(|d| name_the_gateway(d, option))?;
        Engine::compile(name, gateway, &self.compile_options(targets))
    }
}

/// One decision of `engine`: a stable function of `key` (a user id...)
/// when there is one ([`Engine::decide_keyed`]), else a draw from `rng`.
pub fn decide<'e>(
    engine: &'e Engine,
    request: &Request<'_>,
    key: Option<&[u8]>,
    rng: &mut SplitMix64,
) -> Option<Decision<'e>> {
    match key {
        Some(key) => engine.decide_keyed(request, key),
        None => engine.decide(request, rng),
    }
}

/// Checks that a batch of `requests` decisions has one key per request
/// when it has `keys` at all.
///
/// # Errors
/// [`Code::UnexpectedType`] when the counts differ.
///
/// ```
/// use vamp_router::documents::check_batch_keys;
/// assert!(check_batch_keys(2, None).is_ok() && check_batch_keys(2, Some(2)).is_ok());
/// assert_eq!(check_batch_keys(2, Some(1)).unwrap_err().message, "2 requests but 1 keys");
/// ```
pub fn check_batch_keys(requests: usize, keys: Option<usize>) -> Result<(), Diagnostic> {
    match keys {
        Some(keys) if keys != requests => Err(Diagnostic::error(
            Code::UnexpectedType,
            format!("{requests} requests but {keys} keys"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{targets_from_json, SplitMix64};

    fn docs(yaml: &str) -> Vec<Document> {
        let out = vamp_dsl::read_bytes(yaml.as_bytes(), Default::default());
        assert!(out.first_error().is_none(), "{:?}", out.first_error());
        out.documents
    }

    const STREAM: &str = "\
kind: rewrite
name: strip
path: /cart if { path_beg /shop/cart }
---
kind: condition
name: android
definition: user-agent == Android
---
kind: gateway
name: shop
port: 8080/http
sticky: route
virtual_hosts: [shop.example]
routes:
  shop/v1:
    weight: 100%
  shop/v2:
    weight: 0%
    condition:
      reference: android
    rewrites:
      - reference: strip
---
kind: gateway
name: blog
port: 8081/http
virtual_hosts: [blog.example]
routes:
  blog/v1:
    weight: 100%
";

    #[test]
    fn collects_gateways_conditions_and_rewrites() {
        let g = gateways(&docs(STREAM)).unwrap();
        let names: Vec<&str> = g.gateways.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["shop", "blog"]);
        assert_eq!(g.conditions["android"].as_str(), "user-agent == Android");
        assert!(g.rewrites.contains_key("strip"));
    }

    #[test]
    fn add_merges_several_files() {
        let (first, second) = STREAM.split_at(STREAM.find("kind: gateway").unwrap());
        let mut g = Gateways::default();
        g.add(&docs(first));
        assert!(g.gateways.is_empty());
        g.add(&docs(second));
        let whole = gateways(&docs(STREAM)).unwrap();
        assert_eq!(g.gateways.len(), whole.gateways.len());
        assert_eq!(
            (&g.conditions, &g.rewrites),
            (&whole.conditions, &whole.rewrites)
        );
        // references across files resolve
        g.compile_all(None).unwrap();
    }

    #[test]
    fn no_gateway_is_an_error() {
        let err = gateways(&docs(
            "kind: condition\nname: c\ndefinition: user-agent == X\n",
        ))
        .unwrap_err();
        assert_eq!(err.code, Code::InconsistentArtifactKind);
    }

    #[test]
    fn select_by_name_or_the_only_one() {
        let g = gateways(&docs(STREAM)).unwrap();
        assert_eq!(g.select(Some("blog")).unwrap().0, "blog");
        let err = g.select(None).unwrap_err();
        assert_eq!(err.code, Code::UnresolvedDependency);
        assert!(err.message.contains("shop, blog"), "{}", err.message);
        assert_eq!(
            g.select(Some("nope")).unwrap_err().code,
            Code::UnresolvedDependency
        );
        let one = gateways(&docs(
            STREAM
                .split("---\nkind: gateway\nname: blog")
                .next()
                .unwrap(),
        ))
        .unwrap();
        assert_eq!(one.select(None).unwrap().0, "shop");
    }

    #[test]
    fn compile_errors_name_the_gateway() {
        let bad = format!("{STREAM}---\nkind: gateway\nname: bad\nport: 8082/http\nroutes:\n  x:\n    condition:\n      reference: missing\n");
        let g = gateways(&docs(&bad)).unwrap();
        let err = g.compile_all(None).unwrap_err();
        assert_eq!(err.code, Code::UnresolvedDependency);
        assert!(
            err.message.starts_with("gateway `bad`: "),
            "{}",
            err.message
        );
        // the others still compile one by one
        assert_eq!(g.compile_one(Some("shop"), None).unwrap().name(), "shop");
    }

    #[test]
    fn pick_by_name_only_or_virtual_host() {
        let engines = gateways(&docs(STREAM)).unwrap().compile_all(None).unwrap();
        assert_eq!(pick(&engines, Some("blog"), None).unwrap().name(), "blog");
        let headers = [("Host", "blog.example")];
        let req = Request {
            headers: (&headers).into(),
            ..Request::default()
        };
        assert_eq!(pick(&engines, None, Some(&req)).unwrap().name(), "blog");
        assert_eq!(
            pick(&engines, None, None).unwrap_err().code,
            Code::UnresolvedDependency
        );
        assert!(pick(&engines, Some("nope"), Some(&req)).is_err());
    }

    #[test]
    fn decision_json_has_the_route_json_shape() {
        let g = gateways(&docs(STREAM)).unwrap();
        let targets = targets_from_json(&json!({
            "shop/v2": [{"name": "i1", "host": "10.0.0.1", "port": 31001}]
        }))
        .unwrap();
        let engine = g.compile_one(Some("shop"), Some(&targets)).unwrap();
        let headers = [("User-Agent", "Android 14")];
        let req = Request {
            path: Some("/shop/cart"),
            headers: (&headers).into(),
            ..Request::default()
        };
        let d = engine.decide(&req, &mut SplitMix64::new(7));
        let v = decision_json(&engine, d.as_ref());
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "gateway",
                "route",
                "reason",
                "instance",
                "set_cookies",
                "rewrite"
            ]
        );
        assert_eq!(v["gateway"], "shop");
        assert_eq!(v["route"], "shop/v2");
        assert_eq!(v["reason"], "condition");
        assert_eq!(
            v["instance"],
            json!({"name": "i1", "host": "10.0.0.1", "port": 31001})
        );
        assert_eq!(v["rewrite"], "/cart");
        let cookies = v["set_cookies"].as_array().unwrap();
        assert_eq!(cookies.len(), 1, "{v}");
        assert!(cookies[0]["name"].is_string() && cookies[0]["value"].is_string());
    }

    #[test]
    fn export_haproxy_covers_every_gateway() {
        let g = gateways(&docs(STREAM)).unwrap();
        let cfg = g.export_haproxy(None, &ExportOptions::default()).unwrap();
        assert!(cfg.contains("shop") && cfg.contains("blog"));
    }

    #[test]
    fn compile_named_tells_how_to_name_only_picking_errors() {
        let g = gateways(&docs(STREAM)).unwrap();
        let err = g.compile_named(None, "--gateway", None).unwrap_err();
        assert_eq!(err.code, Code::UnresolvedDependency);
        assert!(
            err.message.ends_with("; choose one with --gateway"),
            "{}",
            err.message
        );
        assert_eq!(
            g.compile_named(Some("blog"), "--gateway", None)
                .unwrap()
                .name(),
            "blog"
        );
        let bad = format!("{STREAM}---\nkind: gateway\nname: bad\nport: 8082/http\nroutes:\n  x:\n    condition:\n      reference: missing\n");
        let err = gateways(&docs(&bad))
            .unwrap()
            .compile_named(Some("bad"), "--gateway", None)
            .unwrap_err();
        assert_eq!(err.code, Code::UnresolvedDependency);
        assert!(!err.message.contains("--gateway"), "{}", err.message);
    }

    #[test]
    fn decide_by_key_is_stable_and_by_draw_follows_the_seed() {
        let split = "kind: gateway\nname: ab\nport: 8080/http\nroutes:\n  a:\n    weight: 50%\n  b:\n    weight: 50%\n";
        let engine = gateways(&docs(split))
            .unwrap()
            .compile_one(None, None)
            .unwrap();
        let req = Request::default();
        let (mut rng, mut same_rng) = (SplitMix64::new(3), SplitMix64::new(3));
        let mut seen = [false; 2];
        for i in 0..64 {
            let key = format!("user-{i}");
            let keyed = decide(&engine, &req, Some(key.as_bytes()), &mut rng).map(|d| d.route);
            assert_eq!(
                keyed,
                engine.decide_keyed(&req, key.as_bytes()).map(|d| d.route)
            );
            let drawn = decide(&engine, &req, None, &mut rng).map(|d| d.route);
            assert_eq!(drawn, engine.decide(&req, &mut same_rng).map(|d| d.route));
            seen[drawn.unwrap()] = true;
        }
        assert_eq!(seen, [true, true]);
    }
}
