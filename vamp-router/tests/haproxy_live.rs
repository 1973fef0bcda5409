//! The exported configuration running in a real HAProxy on 127.0.0.1, with
//! backends started here, routes requests as the engine predicts.
//!
//! HAProxy must be installed (`apt-get install -y haproxy`); without it these
//! tests fail and say so.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::live::{backends, free_port, port_of, Client, Haproxy};
use common::{gateway, options, with_cookies};
use vamp_router::engine::{
    targets_from_json, CompileOptions, Engine, RandomSource, Reason, SplitMix64,
};
use vamp_router::export::haproxy::ExportOptions;
use vamp_router::request::Request;
use vamp_router::simulate::{exact, sample};

fn render(yaml: &str, targets: Option<&vamp_router::engine::Targets>) -> (Engine, String) {
    let g = gateway(yaml);
    let opts = CompileOptions {
        targets,
        ..options()
    };
    let engine = Engine::compile(&g.0, &g.1, &opts).unwrap_or_else(|e| panic!("{e:?}"));
    let cfg = common::export(std::slice::from_ref(&g), targets, &ExportOptions::default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    (engine, cfg)
}

const UAS: [&str; 7] = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "curl/8.4.0",
    "",
];

/// Binomial tolerance: `k` standard deviations (plus one for tiny counts).
fn within(observed: f64, expected_p: f64, n: f64, k: f64) -> bool {
    let sd = (n * expected_p * (1.0 - expected_p)).sqrt();
    (observed - n * expected_p).abs() <= k * sd + 1.0
}

#[test]
fn conditions_route_exactly_as_the_engine_predicts() {
    let (_b, by_port) = backends(&["plain", "firefox", "gold", "apple-edge-api", "admin"]);
    let port_of = |name: &str| port_of(&by_port, name);
    let port = free_port();
    let yaml = format!(
        r#"
name: live/conditions
port: {port}
routes:
  "[127.0.0.1:{plain}]":
    weight: 100%
  "[127.0.0.1:{firefox}]":
    weight: 0%
    condition: user-agent == Firefox and misses cookie optout
  "[127.0.0.1:{gold}]":
    weight: 0%
    condition: header X-Tier has gold or cookie group has beta
  "[127.0.0.1:{apple}]":
    weight: 0%
    condition: user-agent == Safari or user-agent == Edge or < path_beg /api >
    rewrites:
      - path: /rewritten if path_beg /api/old
      - path: /twice if < path_beg /rewritten > and has header X-Twice
  "[127.0.0.1:{admin}]":
    weight: 0%
    condition: host == admin.example and not (user-agent == IE)
"#,
        plain = port_of("plain"),
        firefox = port_of("firefox"),
        gold = port_of("gold"),
        apple = port_of("apple-edge-api"),
        admin = port_of("admin"),
    );
    let (engine, cfg) = render(&yaml, None);
    let hap = Haproxy::start(&cfg, port);

    let paths = ["/", "/api/x", "/api/old/y", "/other"];
    let hosts = ["shop.example", "admin.example"];
    let tiers = [None, Some("gold"), Some("silver"), Some("golden-ish")];
    let cookie_sets: [&[(&str, &str)]; 5] = [
        &[],
        &[("optout", "1")],
        &[("group", "beta")],
        &[("group", "alpha")],
        &[("optout", "yes"), ("group", "xbetax")],
    ];
    let mut rng = SplitMix64::new(2024);
    let threads = 4;
    let per_thread = 400;
    let mut cases = Vec::new();
    for _ in 0..threads * per_thread {
        let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
        cases.push((
            UAS[pick(UAS.len())],
            paths[pick(paths.len())],
            hosts[pick(hosts.len())],
            tiers[pick(tiers.len())],
            cookie_sets[pick(cookie_sets.len())],
            pick(3) == 0,
        ));
    }
    let engine = Arc::new(engine);
    let by_port = Arc::new(by_port);
    let cases = Arc::new(cases);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (engine, by_port, cases) = (engine.clone(), by_port.clone(), cases.clone());
            thread::spawn(move || {
                let mut client = Client::new(port);
                let mut seen: HashMap<String, u32> = HashMap::new();
                for &(ua, path, host, tier, cookies, twice) in &cases[t * per_thread..(t + 1) * per_thread] {
                    let mut headers = vec![("Host", host)];
                    if !ua.is_empty() {
                        headers.push(("User-Agent", ua));
                    }
                    if let Some(tier) = tier {
                        headers.push(("X-Tier", tier));
                    }
                    if twice {
                        headers.push(("X-Twice", "1"));
                    }
                    let req = Request {
                        path: Some(path),
                        headers: headers.as_slice().into(),
                        cookies: cookies.into(),
                        ..Request::default()
                    };
                    let d = engine
                        .decide(&req, &mut SplitMix64::new(0))
                        .expect("every request has a route");
                    let port = d.instance_ref.and_then(|i| i.address.as_ref()).map(|a| a.port).unwrap_or(0);
                    let expected_backend = by_port.get(&port).cloned().unwrap_or_default();
                    let expected_path = d.rewrite.unwrap_or(path);
                    let resp = client
                        .get(path, &headers, cookies)
                        .unwrap_or_else(|e| panic!("request failed: {e}"));
                    assert_eq!(resp.status, 200, "{resp:?}");
                    assert_eq!(
                        (resp.backend(), resp.path()),
                        (expected_backend.as_str(), expected_path),
                        "HAProxy and the engine disagree on {ua:?} {path} host={host} tier={tier:?} cookies={cookies:?} twice={twice}"
                    );
                    *seen.entry(expected_backend).or_default() += 1;
                }
                seen
            })
        })
        .collect();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for h in handles {
        for (k, v) in h.join().expect("client thread") {
            *seen.entry(k).or_default() += v;
        }
    }
    // Every route was exercised.
    for name in ["plain", "firefox", "gold", "apple-edge-api", "admin"] {
        assert!(
            seen.get(name).copied().unwrap_or(0) > 20,
            "{name} barely reached: {seen:?}"
        );
    }
    // The access log is one JSON object per request with the §7 keys.
    let start = Instant::now();
    let mut lines = hap.log_lines();
    // HAProxy's `log stdout` may drop a line under load (non-blocking
    // writes); the SLA layer averages, so allow a handful.
    let expected = threads * per_thread * 99 / 100;
    while lines.len() < threads * per_thread && start.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(50));
        lines = hap.log_lines();
    }
    let raw = std::fs::read_to_string(&hap.log).unwrap_or_default();
    let odd: Vec<&str> = raw
        .lines()
        .filter(|l| !l.starts_with('{'))
        .take(5)
        .collect();
    assert!(
        lines.len() >= expected,
        "{} log lines, odd: {odd:?}\n{}",
        lines.len(),
        hap.stderr()
    );
    for line in lines.iter().take(200) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in [
            "ci", "cp", "t", "ft", "b", "s", "Tq", "Tw", "Tc", "Tr", "Tt", "ST", "B", "tsc", "r",
            "hr",
        ] {
            assert!(v.get(key).is_some(), "no `{key}` in {line}");
        }
        assert_eq!(v["ft"], "live_2fconditions");
        assert!(v["Tt"].is_i64() && v["ST"] == 200, "{line}");
    }
}

#[test]
fn weight_and_strength_splits_match_the_configuration_and_the_simulation() {
    let (_b, by_port) = backends(&["a", "b", "c", "d"]);
    let port_of = |name: &str| port_of(&by_port, name);
    let port = free_port();
    let yaml = format!(
        r#"
name: live/weights
port: {port}
routes:
  "[127.0.0.1:{a}]":
    weight: 20%
  "[127.0.0.1:{b}]":
    weight: 30%
  "[127.0.0.1:{c}]":
    weight: 50%
  "[127.0.0.1:{d}]":
    weight: 0%
    condition: user-agent == Firefox
    condition_strength: 40%
"#,
        a = port_of("a"),
        b = port_of("b"),
        c = port_of("c"),
        d = port_of("d"),
    );
    let (engine, cfg) = render(&yaml, None);
    let _hap = Haproxy::start(&cfg, port);
    let names = ["a", "b", "c", "d"];
    let n = 3000usize;
    for (ua, label) in [(UAS[5], "plain"), (UAS[0], "firefox")] {
        let headers = [("User-Agent", ua)];
        let req = Request {
            headers: (&headers).into(),
            ..Request::default()
        };
        // HAProxy, over 4 keep-alive connections.
        let counts: Vec<HashMap<String, u32>> = (0..4)
            .map(|_| {
                thread::spawn(move || {
                    let mut c = Client::new(port);
                    let mut m: HashMap<String, u32> = HashMap::new();
                    for _ in 0..n / 4 {
                        let r = c.get("/", &[("User-Agent", ua)], &[]).expect("request");
                        assert_eq!(r.status, 200);
                        *m.entry(r.backend().to_owned()).or_default() += 1;
                    }
                    m
                })
            })
            .map(|h| h.join().expect("client"))
            .collect();
        let mut hap: HashMap<String, u32> = HashMap::new();
        for m in counts {
            for (k, v) in m {
                *hap.entry(k).or_default() += v;
            }
        }
        let dist = exact(&engine, &req);
        let sim = sample(&engine, &req, n as u64, &mut SplitMix64::new(99));
        for (i, r) in engine.routes().iter().enumerate() {
            let port = r.instances()[0]
                .address
                .as_ref()
                .map(|a| a.port)
                .unwrap_or(0);
            let name = by_port[&port].as_str();
            assert!(names.contains(&name));
            let observed = f64::from(hap.get(name).copied().unwrap_or(0));
            let p = dist.routes[i];
            assert!(
                within(observed, p, n as f64, 4.5),
                "{label}: HAProxy sent {observed} of {n} to {name}, the configuration says {p}: {hap:?}"
            );
            let simulated = sim.routes[i] as f64;
            let sd = (2.0 * n as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (observed - simulated).abs() <= 4.5 * sd + 1.0,
                "{label}: HAProxy {observed} vs engine simulation {simulated} for {name}"
            );
        }
        if label == "firefox" {
            // 40% + 60% × 0% straight to d; the rest by weight.
            assert!((dist.routes[3] - 0.4).abs() < 1e-12);
            assert!((dist.routes[0] - 0.12).abs() < 1e-12);
        }
    }
}

#[test]
fn sticky_clients_stay_put() {
    let (_b, by_port) = backends(&["r1-i1", "r1-i2", "r2-i1"]);
    let port_of = |name: &str| port_of(&by_port, name);
    let port = free_port();
    let targets = targets_from_json(&serde_json::json!({
        "sticky/one": [
            {"name": "r1-i1", "host": "127.0.0.1", "port": port_of("r1-i1")},
            {"name": "r1-i2", "host": "127.0.0.1", "port": port_of("r1-i2")},
        ],
        "sticky/two": [
            {"name": "r2-i1", "host": "127.0.0.1", "port": port_of("r2-i1")},
        ],
    }))
    .expect("targets");
    let yaml = format!(
        "name: live/sticky\nport: {port}\nsticky: instance\nroutes:\n  sticky/one:\n    weight: 50%\n  sticky/two:\n    weight: 50%\n"
    );
    let (engine, cfg) = render(&yaml, Some(&targets));
    let _hap = Haproxy::start(&cfg, port);
    let mut first: HashMap<String, u32> = HashMap::new();
    let clients = 200;
    for c in 0..clients {
        let mut client = Client::new(port);
        let ua = UAS[c % UAS.len()];
        let r = client
            .get("/", &[("User-Agent", ua)], &[])
            .expect("first request");
        assert_eq!(r.status, 200);
        let pinned = r.backend().to_owned();
        *first.entry(pinned.clone()).or_default() += 1;
        let jar: Vec<(String, String)> = r.set_cookies.clone();
        assert!(
            jar.iter().any(|(n, _)| n == engine.route_cookie_name()),
            "no route cookie set: {jar:?}"
        );
        let cookies: Vec<(&str, &str)> =
            jar.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        // The engine reads HAProxy's cookies: same route and instance.
        let headers = [("User-Agent", ua)];
        let req = Request {
            headers: (&headers).into(),
            cookies: cookies.as_slice().into(),
            ..Request::default()
        };
        let d = engine
            .decide(&req, &mut SplitMix64::new(c as u64))
            .expect("route");
        assert_eq!(d.reason, Reason::Sticky);
        assert_eq!(
            d.instance_ref.map(|i| i.name.as_str()),
            Some(pinned.as_str()),
            "{jar:?}"
        );
        assert_eq!(d.route_cookie, None, "a pinned client needs no new cookie");
        // And HAProxy keeps the client there.
        for _ in 0..5 {
            let again = client
                .get("/", &[("User-Agent", ua)], &cookies)
                .expect("request");
            assert_eq!(again.backend(), pinned, "a sticky client moved");
        }
    }
    // First assignments follow the 50/50 weights; instances split route one.
    let one = first.get("r1-i1").copied().unwrap_or(0) + first.get("r1-i2").copied().unwrap_or(0);
    assert!(
        within(f64::from(one), 0.5, f64::from(clients as u32), 4.5),
        "{first:?}"
    );
    assert!(
        first.get("r1-i1").copied().unwrap_or(0) > 0
            && first.get("r1-i2").copied().unwrap_or(0) > 0,
        "{first:?}"
    );

    // A cookie naming a route that no longer exists is ignored, and replaced.
    let stale = [(engine.route_cookie_name(), "deadbeefdeadbeef")];
    let mut client = Client::new(port);
    let r = client.get("/", &[], &stale).expect("request");
    assert_eq!(r.status, 200);
    let valid: Vec<&str> = engine.routes().iter().map(|r| r.cookie_value()).collect();
    assert!(
        r.set_cookies
            .iter()
            .any(|(n, v)| n == engine.route_cookie_name() && valid.contains(&v.as_str())),
        "{:?}",
        r.set_cookies
    );
    let req = with_cookies(&stale);
    assert_eq!(
        engine
            .decide(&req, &mut SplitMix64::new(1))
            .map(|d| d.reason),
        Some(Reason::Weight)
    );
}

#[test]
fn a_reload_with_new_weights_loses_no_requests() {
    let (backends, by_port) = backends(&["old", "new"]);
    let port_of = |name: &str| port_of(&by_port, name);
    let port = free_port();
    let yaml = |old: u8, new: u8| {
        format!(
            "name: live/reload\nport: {port}\nroutes:\n  \"[127.0.0.1:{}]\":\n    weight: {old}%\n  \"[127.0.0.1:{}]\":\n    weight: {new}%\n",
            port_of("old"),
            port_of("new")
        )
    };
    let (_, before) = render(&yaml(100, 0), None);
    let (_, after) = render(&yaml(0, 100), None);
    let hap = Haproxy::start(&before, port);

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, ok, failures) = (stop.clone(), ok.clone(), failures.clone());
            thread::spawn(move || {
                let mut c = Client::new(port);
                c.close = true; // one connection per request: any failure is a lost request
                while !stop.load(Ordering::Relaxed) {
                    match c.get("/", &[], &[]) {
                        Ok(r) if r.status == 200 => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => failures
                            .lock()
                            .expect("lock")
                            .push(format!("status {}", r.status)),
                        Err(e) => failures.lock().expect("lock").push(e.to_string()),
                    }
                }
            })
        })
        .collect();
    let wait_until = |what: &str, cond: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !cond() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}\n{}",
                hap.stderr()
            );
            thread::sleep(Duration::from_millis(10));
        }
    };
    wait_until("500 requests before the reload", &|| {
        ok.load(Ordering::Relaxed) >= 500
    });
    assert_eq!(
        backends[1].hits.load(Ordering::Relaxed),
        0,
        "`new` had weight 0"
    );
    hap.reload(&after);
    wait_until("traffic on `new`", &|| {
        backends[1].hits.load(Ordering::Relaxed) > 0
    });
    let old_after_switch = backends[0].hits.load(Ordering::Relaxed);
    let target = ok.load(Ordering::Relaxed) + 1000;
    wait_until("1000 requests after the reload", &|| {
        ok.load(Ordering::Relaxed) >= target
    });
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    let failures = failures.lock().expect("lock");
    assert!(
        failures.is_empty(),
        "{} of {} requests lost across the reload: {:?}",
        failures.len(),
        ok.load(Ordering::Relaxed) + failures.len() as u64,
        &failures[..failures.len().min(10)]
    );
    // After the reload, the new weights hold (a few requests already in the
    // old worker may still finish on `old`).
    let old_late = backends[0].hits.load(Ordering::Relaxed) - old_after_switch;
    assert!(
        old_late <= 8,
        "{old_late} requests reached `old` after the new weights took over"
    );
}
