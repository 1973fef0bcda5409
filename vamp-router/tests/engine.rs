//! The routing semantics of §4.4–4.6, checked on the engine: unit cases and
//! properties.

mod common;

use common::{engine, gateway, options, with_cookies, with_headers};
use proptest::prelude::*;
use vamp_model::{Code, Condition};
use vamp_router::engine::{by_virtual_host, CompileOptions, Engine, Reason, SplitMix64};
use vamp_router::matching::matches;
use vamp_router::request::Request;
use vamp_router::simulate::{exact, sample};

fn compile_err(yaml: &str) -> Code {
    let (name, g) = gateway(yaml);
    Engine::compile(&name, &g, &options())
        .expect_err("must not compile")
        .code
}

/// Routes `a`, `b`, ... with the given weight lines.
fn weighted(weights: &[Option<u8>]) -> Engine {
    let mut yaml = String::from("name: g\nroutes:\n");
    for (i, w) in weights.iter().enumerate() {
        match w {
            Some(w) => yaml.push_str(&format!("  r{i}:\n    weight: {w}%\n")),
            None => yaml.push_str(&format!("  r{i}: {{}}\n")),
        }
    }
    engine(&yaml)
}

#[test]
fn unweighted_routes_share_the_free_weight() {
    let e = weighted(&[None, None, None]);
    let w: Vec<u8> = e.routes().iter().map(|r| r.weight()).collect();
    assert_eq!(w, [33, 33, 34]);
    // The reader insists on written weights totalling 0 or 100; the rule
    // itself also covers partial totals (gateways built in code).
    assert_eq!(
        vamp_model::weights::fill(&[Some(40), None, None, Some(20)]),
        Ok(vec![40, 20, 20, 20])
    );
    let e = weighted(&[Some(100), None]);
    let w: Vec<u8> = e.routes().iter().map(|r| r.weight()).collect();
    assert_eq!(w, [100, 0]);
}

#[test]
fn compile_errors_have_their_codes() {
    // The reader already rejects a written total of 70%; a reference-free
    // gateway that slips through is rejected again at compile time.
    assert_eq!(vamp_model::weights::fill(&[Some(50), Some(20)]), Err(70));
    assert_eq!(
        compile_err("name: g\nport: 1/tcp\nroutes:\n  a:\n    condition: has cookie x\n"),
        Code::ConditionPortType
    );
    assert_eq!(
        compile_err(
            "name: g\nport: 1/tcp\nroutes:\n  a:\n    condition: < req.cook(x) -m found >\n"
        ),
        Code::ConditionPortType
    );
    assert_eq!(
        compile_err("name: g\nroutes:\n  a:\n    condition: user-agent ==\n"),
        Code::Parser
    );
    assert_eq!(
        compile_err("name: g\nroutes:\n  a:\n    condition: < ssl_fc >\n"),
        Code::UnsupportedAcl
    );
    assert_eq!(
        compile_err("name: g\nroutes:\n  a:\n    condition:\n      reference: ios\n"),
        Code::UnresolvedDependency
    );
    assert_eq!(
        compile_err(
            "name: g\nroutes:\n  a:\n    rewrites:\n      - path: /x if { path_reg ^/a }\n"
        ),
        Code::UnsupportedAcl
    );
    // TCP without conditions compiles.
    let e = engine("name: g\nport: 1/tcp\nroutes:\n  a: {}\n  b: {}\n");
    assert_eq!(e.routes()[1].weight(), 50);
}

#[test]
fn referenced_conditions_resolve_with_strength_100_by_default() {
    let (name, g) = gateway("name: g\nroutes:\n  a:\n    weight: 100%\n  b:\n    weight: 0%\n    condition:\n      reference: ff\n");
    let mut conditions = vamp_model::Map::new();
    conditions.insert("ff".to_string(), "user-agent == Firefox".into());
    let opts = CompileOptions {
        conditions: Some(&conditions),
        ..options()
    };
    let e = Engine::compile(&name, &g, &opts).expect("compiles");
    assert_eq!(e.routes()[1].strength(), 100);
    let headers = [("User-Agent", "Firefox/1")];
    let req = with_headers(&headers);
    assert_eq!(
        e.decide(&req, &mut SplitMix64::new(1)).map(|d| d.route),
        Some(1)
    );
}

#[test]
fn the_first_matching_route_is_the_only_candidate() {
    // a matches first with strength 0%: the request goes to the weight split
    // (all on c), never to b, although b's condition matches too.
    let e = engine(
        "name: g\nroutes:\n  a:\n    weight: 0%\n    condition: has cookie x\n    condition_strength: 0%\n  \
         b:\n    weight: 0%\n    condition: has cookie x\n  c:\n    weight: 100%\n",
    );
    let cookies = [("x", "1")];
    let req = with_cookies(&cookies);
    let mut rng = SplitMix64::new(5);
    for _ in 0..1000 {
        assert_eq!(e.decide(&req, &mut rng).map(|d| d.route_name), Some("c"));
    }
    assert_eq!(exact(&e, &req).routes, [0.0, 0.0, 1.0]);
}

#[test]
fn weights_totalling_zero_route_nothing_but_conditions() {
    let e = engine("name: g\nroutes:\n  a:\n    weight: 0%\n  b:\n    weight: 0%\n    condition: has header X\n");
    assert!(e
        .decide(&Request::default(), &mut SplitMix64::new(1))
        .is_none());
    assert_eq!(exact(&e, &Request::default()).unrouted, 1.0);
    let headers = [("x", "")];
    let req = with_headers(&headers);
    assert_eq!(
        e.decide(&req, &mut SplitMix64::new(1)).map(|d| d.reason),
        Some(Reason::Condition)
    );
}

#[test]
fn rewrites_apply_in_order_on_the_rewritten_path() {
    let e = engine(
        "name: g\nroutes:\n  a:\n    rewrites:\n      - path: /b if path_beg /a\n      - path: /c if { path_beg /b }\n      \
         - path: /never if has cookie nope\n",
    );
    let req = Request {
        path: Some("/a/x"),
        ..Request::default()
    };
    let d = e.decide(&req, &mut SplitMix64::new(1)).expect("route");
    assert_eq!(d.rewrite, Some("/c"));
    let req = Request {
        path: Some("/z"),
        ..Request::default()
    };
    assert_eq!(
        e.decide(&req, &mut SplitMix64::new(1))
            .and_then(|d| d.rewrite),
        None
    );
}

#[test]
fn virtual_hosts_select_the_gateway() {
    let gws = common::gateways(
        "name: a\nvirtual_hosts: [a.vamp]\nroutes:\n  x: {}\n---\nname: b\nvirtual_hosts: [B.vamp]\nroutes:\n  y: {}\n",
    );
    let engines: Vec<Engine> = gws
        .iter()
        .map(|(n, g)| Engine::compile(n, g, &options()).expect("compiles"))
        .collect();
    let req = Request {
        host: Some("b.VAMP"),
        ..Request::default()
    };
    assert_eq!(by_virtual_host(&engines, &req).map(Engine::name), Some("b"));
    assert!(by_virtual_host(&engines, &Request::default()).is_none());
}

#[test]
fn external_routes_target_their_address() {
    let e = engine("name: g\nroutes:\n  \"[10.0.0.1:8080]\": {}\n  other/route: {}\n");
    let a = e.routes()[0].instances()[0]
        .address
        .clone()
        .expect("address");
    assert_eq!((a.host.as_str(), a.port), ("10.0.0.1", 8080));
    assert!(e.routes()[1].instances()[0].address.is_none());
}

#[test]
fn removed_routes_release_their_sticky_clients() {
    let before = engine("name: g\nsticky: route\nroutes:\n  a:\n    weight: 0%\n  b:\n    weight: 0%\n  c:\n    weight: 100%\n");
    let after =
        engine("name: g\nsticky: route\nroutes:\n  a:\n    weight: 50%\n  b:\n    weight: 50%\n");
    let d = before
        .decide(&Request::default(), &mut SplitMix64::new(1))
        .expect("route");
    assert_eq!(d.route_name, "c");
    let cookie = d.route_cookie.expect("a cookie is set");
    let jar = [(cookie.name, cookie.value)];
    let req = with_cookies(&jar);
    // Still there before the change...
    assert_eq!(
        before
            .decide(&req, &mut SplitMix64::new(2))
            .map(|d| (d.route_name, d.reason)),
        Some(("c", Reason::Sticky))
    );
    // ...ignored after it: normal rules, and a fresh cookie.
    let d = after.decide(&req, &mut SplitMix64::new(2)).expect("route");
    assert_eq!(d.reason, Reason::Weight);
    assert!(d.route_cookie.is_some());
    // Cookies of routes that remain keep working across the change.
    let a = before.routes()[0].cookie_value();
    assert_eq!(a, after.routes()[0].cookie_value());
    let jar = [(before.route_cookie_name(), a)];
    let req = with_cookies(&jar);
    assert_eq!(
        after
            .decide(&req, &mut SplitMix64::new(3))
            .map(|d| d.route_name),
        Some("a")
    );
}

#[test]
fn sticky_instances_pin_the_instance() {
    let (name, g) = gateway("name: g\nsticky: instance\nroutes:\n  a: {}\n");
    let targets = vamp_router::engine::targets_from_json(&serde_json::json!({
        "a": [{"name": "i1", "host": "h", "port": 1}, {"name": "i2", "host": "h", "port": 2}, {"name": "i3", "host": "h", "port": 3, "weight": 0}]
    }))
    .expect("targets");
    let e = Engine::compile(
        &name,
        &g,
        &CompileOptions {
            targets: Some(&targets),
            ..options()
        },
    )
    .expect("compiles");
    let mut rng = SplitMix64::new(9);
    for _ in 0..200 {
        let d = e.decide(&Request::default(), &mut rng).expect("route");
        let i = d.instance.expect("instance");
        assert_ne!(i, 2, "weight 0 instance chosen");
        let ic = d.instance_cookie.expect("instance cookie");
        let rc = d.route_cookie.expect("route cookie");
        let jar = [(rc.name, rc.value), (ic.name, ic.value)];
        let req = with_cookies(&jar);
        for _ in 0..5 {
            let again = e.decide(&req, &mut rng).expect("route");
            assert_eq!(
                (again.instance, again.route_cookie, again.instance_cookie),
                (Some(i), None, None)
            );
        }
    }
    // A cookie pinning a weight-0 instance still pins it (HAProxy does the same).
    let r = &e.routes()[0];
    let jar = [(
        r.instance_cookie_name(),
        r.instance_cookie_value(2).expect("i3"),
    )];
    let req = with_cookies(&jar);
    assert_eq!(e.decide(&req, &mut rng).and_then(|d| d.instance), Some(2));
}

/// A small random condition over a fixed vocabulary.
fn condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "Firefox", "Chrome", "Safari", "Edge", "IE", "Gecko", "bot"
        ])
        .prop_map(|v| Condition::UserAgent(v.into())),
        prop::sample::select(vec!["a.example", "b.example"])
            .prop_map(|v| Condition::Host(v.into())),
        prop::sample::select(vec!["beta", "group"]).prop_map(|v| Condition::Cookie(v.into())),
        prop::sample::select(vec!["X-Tier", "x-id"]).prop_map(|v| Condition::Header(v.into())),
        (
            prop::sample::select(vec!["group", "beta"]),
            prop::sample::select(vec!["1", "ab"])
        )
            .prop_map(|(n, v)| Condition::CookieContains {
                name: n.into(),
                value: v.into()
            }),
        (
            prop::sample::select(vec!["X-Tier", "X-ID"]),
            prop::sample::select(vec!["gold", "7"])
        )
            .prop_map(|(n, v)| Condition::HeaderContains {
                name: n.into(),
                value: v.into()
            }),
        prop::sample::select(vec![
            "path_beg /api",
            "req.cook(beta) -m found",
            "hdr_sub(x-tier) old"
        ])
        .prop_map(|v| Condition::Acl(v.into())),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::Or),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

type Owned = (
    Vec<(String, String)>,
    Vec<(String, String)>,
    Option<String>,
    Option<String>,
);

fn request() -> impl Strategy<Value = Owned> {
    let ua = prop::sample::select(vec![
        "Mozilla/5.0 Firefox/120.0",
        "Chrome/120 Safari/537.36",
        "Version/17.1 Safari/605.1.15",
        "Chrome/120 Edg/120.0",
        "Trident/7.0",
        "Gecko bot",
    ]);
    let headers = prop::collection::vec(
        prop_oneof![
            ua.prop_map(|v| ("User-Agent".to_string(), v.to_string())),
            prop::sample::select(vec!["gold", "golden", "old", "silver"])
                .prop_map(|v| ("x-tier".to_string(), v.to_string())),
            prop::sample::select(vec!["7", "17", ""])
                .prop_map(|v| ("X-Id".to_string(), v.to_string())),
            prop::sample::select(vec!["a.example", "b.example"])
                .prop_map(|v| ("Host".to_string(), v.to_string())),
        ],
        0..4,
    );
    let cookies = prop::collection::vec(
        (
            prop::sample::select(vec!["beta", "group", "Beta"]),
            prop::sample::select(vec!["1", "xaby", ""]),
        )
            .prop_map(|(n, v)| (n.to_string(), v.to_string())),
        0..3,
    );
    let path =
        prop::option::of(prop::sample::select(vec!["/api/x", "/", "/apix"]).prop_map(String::from));
    let host = prop::option::of(prop::sample::select(vec!["a.example"]).prop_map(String::from));
    (headers, cookies, path, host)
}

/// A two-route gateway: `cond` at strength 100% with weight 0, `rest` with
/// weight 100, so the route tells whether the condition matched.
fn probe(cond: &Condition) -> Engine {
    let text = cond.to_string().replace('\'', "''");
    engine(&format!(
        "name: g\nroutes:\n  cond:\n    weight: 0%\n    condition: '{text}'\n  rest:\n    weight: 100%\n"
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The compiled matchers agree with the reference `matching::matches`.
    #[test]
    fn compiled_conditions_agree_with_matching(cond in condition(), (headers, cookies, path, host) in request()) {
        let e = probe(&cond);
        let req = Request {
            headers: (&headers).into(),
            cookies: (&cookies).into(),
            path: path.as_deref(),
            host: host.as_deref(),
            ..Request::default()
        };
        let expected = matches(&cond, &req).expect("supported");
        let d = e.decide(&req, &mut SplitMix64::new(1)).expect("route");
        prop_assert_eq!(d.route_name == "cond", expected, "{}", cond);
    }

    /// A matching request reaches its route with probability
    /// s/100 + (1 − s/100)·w/100, exactly and (within tolerance) by sampling.
    #[test]
    fn strength_proportions(s in 0u8..=100, w in 0u8..=100, seed in any::<u64>()) {
        let e = engine(&format!(
            "name: g\nroutes:\n  r:\n    weight: {w}%\n    condition: has cookie c\n    condition_strength: {s}%\n  other:\n    weight: {}%\n",
            100 - w
        ));
        let jar = [("c", "1")];
        let req = with_cookies(&jar);
        let p = f64::from(s) / 100.0 + (1.0 - f64::from(s) / 100.0) * f64::from(w) / 100.0;
        let d = exact(&e, &req);
        prop_assert!((d.routes[0] - p).abs() < 1e-9, "{} vs {}", d.routes[0], p);
        let n = 4000u64;
        let c = sample(&e, &req, n, &mut SplitMix64::new(seed));
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        prop_assert!((c.routes[0] as f64 - n as f64 * p).abs() <= 5.0 * sd + 1.0);
        // Requests without the cookie only see the weights.
        let d = exact(&e, &Request::default());
        prop_assert!((d.routes[0] - f64::from(w) / 100.0).abs() < 1e-9);
    }

    /// A sticky client stays on its route whatever the draws, conditions and
    /// weights; the same key always gets the same decision.
    #[test]
    fn stickiness_is_stable(weights in prop::collection::vec(0u8..=50, 2..6), seed in any::<u64>(), key in "[a-z0-9]{1,12}") {
        let total: u32 = weights.iter().map(|&w| u32::from(w)).sum::<u32>().max(1);
        let scaled: Vec<u32> = weights.iter().map(|&w| u32::from(w) * 100 / total).collect();
        let rest = 100 - scaled[1..].iter().sum::<u32>();
        let mut yaml = String::from("name: g\nsticky: route\nroutes:\n");
        // The first route also has a condition every request matches.
        yaml.push_str(&format!("  r0:\n    weight: {rest}%\n    condition: misses cookie nothing\n"));
        for (i, w) in scaled.iter().enumerate().skip(1) {
            yaml.push_str(&format!("  r{i}:\n    weight: {w}%\n"));
        }
        let (name, g) = gateway(&yaml);
        let Ok(e) = Engine::compile(&name, &g, &options()) else { return Ok(()); };
        let mut rng = SplitMix64::new(seed);
        for r in e.routes() {
            let jar = [(e.route_cookie_name(), r.cookie_value())];
            let req = with_cookies(&jar);
            for _ in 0..20 {
                let d = e.decide(&req, &mut rng).expect("route");
                prop_assert_eq!((d.route_name, d.reason, d.route_cookie), (r.name(), Reason::Sticky, None));
            }
        }
        let first = e.decide_keyed(&Request::default(), key.as_bytes()).map(|d| d.route);
        for _ in 0..5 {
            prop_assert_eq!(e.decide_keyed(&Request::default(), key.as_bytes()).map(|d| d.route), first);
        }
    }
}
