//! Nanoseconds per routing decision of `vamp_router::engine::Engine`:
//!
//! - (a) two routes, weights only;
//! - (b) five routes with user-agent, header and cookie conditions plus
//!   condition strength, over a rotation of realistic requests;
//! - (c) one hundred routes (ten with header conditions);
//!
//! and, in the same run, a hand-written minimal matcher for (b): the same
//! five conditions written out by hand with `memchr::memmem` finders over
//! the same headers and cookies, and one hash (SplitMix64 of a counter) per
//! draw. The run ends with the ratio engine(b) / baseline(b).
#![allow(clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use memchr::memmem::Finder;
use vamp_model::{Document, Kind};
use vamp_router::engine::{CompileOptions, Engine, RandomSource, SplitMix64};
use vamp_router::request::Request;

fn compile(yaml: &str) -> Engine {
    let out = vamp_dsl::read_bytes(
        yaml.as_bytes(),
        vamp_dsl::ReadOptions {
            kind: Some(Kind::Gateway),
            ..Default::default()
        },
    );
    assert!(out.first_error().is_none(), "{:?}", out.first_error());
    let Some(Document::Gateway(g)) = out.documents.into_iter().next() else {
        panic!("no gateway")
    };
    Engine::compile(&g.name, &g.spec, &CompileOptions::default()).expect("compiles")
}

const TWO: &str = "name: shop\nroutes:\n  shop/v1:\n    weight: 90%\n  shop/v2:\n    weight: 10%\n";

const FIVE: &str = r#"
name: shop/web
routes:
  shop/v1:
    weight: 50%
  shop/firefox-beta:
    weight: 10%
    condition: user-agent == Firefox and has cookie beta
    condition_strength: 50%
  shop/gold:
    weight: 10%
    condition: header X-Tier has gold
    condition_strength: 80%
  shop/canary:
    weight: 10%
    condition: cookie group has canary
  shop/edge:
    weight: 20%
    condition: user-agent == Edge or header X-Beta has 1
    condition_strength: 30%
"#;

fn hundred() -> String {
    let mut y = String::from("name: many\nroutes:\n");
    for i in 0..100 {
        y.push_str(&format!("  r{i}:\n    weight: 1%\n"));
        if i % 10 == 5 {
            y.push_str(&format!(
                "    condition: header X-Shard has s{i}x\n    condition_strength: 50%\n"
            ));
        }
    }
    y
}

type Pairs = Vec<(&'static str, &'static str)>;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";

/// Eight realistic requests: ~10 headers, 0–3 cookies.
fn requests() -> Vec<(Pairs, Pairs)> {
    let base = |ua: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut h: Pairs = vec![
            ("Host", "shop.example.com"),
            ("User-Agent", ua),
            (
                "Accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
            ("Accept-Language", "en-US,en;q=0.5"),
            ("Accept-Encoding", "gzip, deflate, br"),
            ("Connection", "keep-alive"),
            ("Referer", "https://shop.example.com/cart"),
            ("Upgrade-Insecure-Requests", "1"),
            ("Sec-Fetch-Dest", "document"),
        ];
        h.extend_from_slice(extra);
        h
    };
    vec![
        (
            base(CHROME, &[]),
            vec![("session", "a1b2c3d4e5"), ("consent", "yes")],
        ),
        (
            base(FIREFOX, &[]),
            vec![("session", "f00ba4"), ("beta", "1")],
        ),
        (
            base(FIREFOX, &[("X-Tier", "silver")]),
            vec![("session", "f00ba5")],
        ),
        (
            base(CHROME, &[("X-Tier", "gold-plus")]),
            vec![("session", "0c0ffee"), ("group", "stable")],
        ),
        (base(EDGE, &[]), vec![("session", "ed6e")]),
        (base(CHROME, &[("X-Beta", "01")]), vec![]),
        (
            base(CHROME, &[]),
            vec![("session", "x"), ("consent", "no"), ("group", "canary-7")],
        ),
        (
            base(FIREFOX, &[("X-Shard", "s55x")]),
            vec![("group", "none")],
        ),
    ]
}

/// The hand-written minimal matcher for case (b).
struct Baseline {
    firefox: Finder<'static>,
    gold: Finder<'static>,
    canary: Finder<'static>,
    edge: Finder<'static>,
    edg: Finder<'static>,
    one: Finder<'static>,
    /// Route per percent point (50/10/10/10/20).
    table: [u8; 100],
    counter: u64,
}

impl Baseline {
    fn new() -> Self {
        let mut table = [0u8; 100];
        let weights = [50, 10, 10, 10, 20];
        let mut p = 0;
        for (i, w) in weights.iter().enumerate() {
            for _ in 0..*w {
                table[p] = i as u8;
                p += 1;
            }
        }
        let f = |s: &str| Finder::new(s.as_bytes()).into_owned();
        Baseline {
            firefox: f("Firefox"),
            gold: f("gold"),
            canary: f("canary"),
            edge: f("Edge"),
            edg: f("Edg/"),
            one: f("1"),
            table,
            counter: 0,
        }
    }

    #[inline]
    fn hash(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.counter;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[inline]
    fn decide(&mut self, headers: &[(&str, &str)], cookies: &[(&str, &str)]) -> usize {
        let header = |name: &str, f: &Finder<'_>| {
            headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && f.find(v.as_bytes()).is_some())
        };
        let candidate =
            if header("User-Agent", &self.firefox) && cookies.iter().any(|(n, _)| *n == "beta") {
                Some((1, 50))
            } else if header("X-Tier", &self.gold) {
                Some((2, 80))
            } else if cookies
                .iter()
                .any(|(n, v)| *n == "group" && self.canary.find(v.as_bytes()).is_some())
            {
                Some((3, 100))
            } else if header("User-Agent", &self.edge)
                || header("User-Agent", &self.edg)
                || header("X-Beta", &self.one)
            {
                Some((4, 30))
            } else {
                None
            };
        let h = self.hash();
        if let Some((route, strength)) = candidate {
            if ((h >> 32) * 100) >> 32 < strength {
                return route;
            }
        }
        usize::from(self.table[(((h & 0xFFFF_FFFF) * 100) >> 32) as usize])
    }
}

fn bench(c: &mut Criterion, reqs: &[(Pairs, Pairs)]) {
    let two = compile(TWO);
    let five = compile(FIVE);
    let many = compile(&hundred());
    let requests: Vec<Request<'_>> = reqs
        .iter()
        .map(|(h, c)| Request {
            headers: h.as_slice().into(),
            cookies: c.as_slice().into(),
            path: Some("/cart"),
            ..Request::default()
        })
        .collect();
    let mut group = c.benchmark_group("router_decision");
    group.bench_function("a_two_routes_weights_only", |b| {
        let mut rng = SplitMix64::new(1);
        let req = &requests[0];
        b.iter(|| black_box(two.decide(black_box(req), &mut rng)).map(|d| d.route))
    });
    group.bench_function("b_five_routes_conditions_strength", |b| {
        let mut rng = SplitMix64::new(1);
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 7;
            black_box(five.decide(black_box(&requests[i]), &mut rng)).map(|d| d.route)
        })
    });
    group.bench_function("b_baseline_memmem_plus_hash", |b| {
        let mut base = Baseline::new();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 7;
            let (h, c) = &reqs[i];
            black_box(base.decide(black_box(h), black_box(c)))
        })
    });
    group.bench_function("c_hundred_routes", |b| {
        let mut rng = SplitMix64::new(1);
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 7;
            black_box(many.decide(black_box(&requests[i]), &mut rng)).map(|d| d.route)
        })
    });
    group.bench_function("a_keyed_two_routes", |b| {
        let req = &requests[0];
        b.iter(|| {
            black_box(two.decide_keyed(black_box(req), black_box(b"user-12345"))).map(|d| d.route)
        })
    });
    group.finish();
}

/// The ratio engine/baseline for (b), timed side by side in this run.
fn ratio(reqs: &[(Pairs, Pairs)]) {
    let five = compile(FIVE);
    let requests: Vec<Request<'_>> = reqs
        .iter()
        .map(|(h, c)| Request {
            headers: h.as_slice().into(),
            cookies: c.as_slice().into(),
            ..Request::default()
        })
        .collect();
    // Same routes chosen by both for deterministic candidates (strength 100%).
    let n = 4_000_000u32;
    let mut best = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let mut rng = SplitMix64::new(7);
        let t = Instant::now();
        let mut acc = 0usize;
        for k in 0..n {
            let r = &requests[(k & 7) as usize];
            acc += five.decide(black_box(r), &mut rng).map_or(0, |d| d.route);
        }
        black_box(acc);
        let engine = t.elapsed().as_nanos() as f64 / f64::from(n);
        let mut base = Baseline::new();
        let t = Instant::now();
        let mut acc = 0usize;
        for k in 0..n {
            let (h, c) = &reqs[(k & 7) as usize];
            acc += base.decide(black_box(h), black_box(c));
        }
        black_box(acc);
        let baseline = t.elapsed().as_nanos() as f64 / f64::from(n);
        best = (best.0.min(engine), best.1.min(baseline));
    }
    let mut rng = SplitMix64::new(3);
    let _ = rng.next_u64();
    println!(
        "router (b): engine {:.1} ns, hand-written memmem baseline {:.1} ns, ratio {:.2}x (target <= 2x)",
        best.0,
        best.1,
        best.0 / best.1
    );
}

fn main() {
    let reqs = requests();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &reqs);
    c.final_summary();
    ratio(&reqs);
}
