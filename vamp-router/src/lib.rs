//! Pure routing decisions for Vamp gateways, traffic simulation, and export
//! of gateways to a real proxy (HAProxy) that routes the same way.
//!
//! - [`request`]: the request a decision looks at (borrowed data).
//! - [`matching`]: whether a request matches a condition (the contract's
//!   matching table).
//! - [`engine`]: a gateway compiled into an immutable [`engine::Engine`];
//!   [`engine::Engine::decide`] picks route, instance, cookies and rewrite
//!   without allocating, from an injectable random source or a stable key.
//! - [`simulate`]: exact and sampled traffic splits.
//! - [`documents`]: the gateways (and the conditions and rewrites they
//!   refer to) of a document stream, and decisions as JSON: what the CLI
//!   and the language bindings share.
//! - [`export::haproxy`]: a complete `haproxy.cfg` for many gateways.
//!
//! The crate reads no clock, no environment and prints nothing. Routes
//! carry their conditions parsed ([`vamp_model::ConditionText`]), so the
//! router takes syntax trees and does not depend on the DSL.
//!
//! ```
//! use vamp_model::{Gateway, Map, OrRef, Route, RouteCondition};
//! use vamp_router::engine::{CompileOptions, Engine, Reason, SplitMix64};
//! use vamp_router::request::Request;
//!
//! let route = |weight, condition: Option<&str>| OrRef::Inline(Route {
//!     weight: Some(weight),
//!     condition: condition.map(|c| RouteCondition::Inline { definition: c.into(), span: None }),
//!     condition_strength: None, rewrites: vec![], balance: None, selector: None, span: None,
//! });
//! let mut routes = Map::new();
//! routes.insert("shop/v1".to_string(), route(100, None));
//! routes.insert("shop/v2".to_string(), route(0, Some("user-agent == Firefox")));
//! let gateway = Gateway { port: None, service: None, sticky: None, virtual_hosts: vec![],
//!     selector: None, routes, span: None, routes_span: None };
//! let engine = Engine::compile("shop", &gateway, &CompileOptions::default()).unwrap();
//!
//! let headers = [("User-Agent", "Mozilla/5.0 (X11; rv:120.0) Gecko/20100101 Firefox/120.0")];
//! let req = Request { headers: (&headers).into(), ..Request::default() };
//! let d = engine.decide(&req, &mut SplitMix64::new(1)).unwrap();
//! assert_eq!((d.route_name, d.reason), ("shop/v2", Reason::Condition));
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod documents;
pub mod engine;
pub mod export;
pub mod matching;
pub mod request;
pub mod simulate;
