//! SLA engine throughput: typed samples, plain-sample lines and HAProxy
//! access-log lines, each next to a baseline measured in the same run
//! (summing the same samples; a serde_json skim of the same lines).
//!
//! Run: `cargo bench -p vamp-benches --bench sla -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::print_stderr, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vamp_sla::{Engine, EngineOptions, Output, Registry, Sample};

const BLUEPRINT: &str = r#"
name: shop
clusters:
  sava:
    sla:
      type: response_time_sliding_window
      threshold: { upper: 1000, lower: 100 }
      window: { interval: 60, cooldown: 120 }
      escalations:
        - type: scale_instances
          minimum: 1
          maximum: 50
          scale_by: 1
    services:
      - breed: { name: "sava:1.0.0", deployable: "magneticio/sava:1.0.0", ports: { webport: 8080/http } }
        scale: { cpu: 0.5, memory: 512MB, instances: 2 }
      - breed: { name: "sava:1.1.0", deployable: "magneticio/sava:1.1.0", ports: { webport: 8080/http } }
        scale: { cpu: 0.5, memory: 512MB, instances: 1 }
  checkout:
    sla:
      type: response_time_percentile
      percentile: 99
      threshold: { upper: 1500, lower: 20 }
      window: { interval: 5m, cooldown: 5m }
      escalations:
        - type: scale_cpu
          minimum: 0.5
          maximum: 8
          scale_by: 0.5
    services:
      - breed: { name: "checkout:2.0", deployable: "shop/checkout:2.0", ports: { web: 8080/http } }
        scale: { cpu: 1, memory: 1GB, instances: 3 }
"#;

const N: usize = 200_000;
/// Start of the streams: 2024-05-01T12:00:00Z.
const T0_MS: u64 = 1_714_564_800_000;

fn engine() -> Engine {
    let out = vamp_dsl::read(
        BLUEPRINT,
        vamp_dsl::ReadOptions {
            kind: Some(vamp_model::Kind::Blueprint),
            ..Default::default()
        },
    );
    assert!(out.first_error().is_none(), "{:?}", out.first_error());
    let Some(vamp_model::Document::Blueprint(bp)) = out.documents.first() else {
        panic!()
    };
    Engine::from_blueprint(
        &bp.spec,
        &Registry::with_builtins(),
        EngineOptions::default(),
    )
    .unwrap()
}

/// A deterministic pseudo-random response time, ms (mostly 20–400, a tail).
fn rt(i: usize) -> u32 {
    let x = (i as u32).wrapping_mul(2_654_435_761).rotate_left(13);
    if x % 100 == 0 {
        800 + x % 2000
    } else {
        20 + x % 380
    }
}

/// 2000 requests a second, alternating clusters and services.
fn samples(e: &Engine, n: usize, start: usize) -> Vec<Sample> {
    let sava = e.cluster_id("sava").unwrap();
    let checkout = e.cluster_id("checkout").unwrap();
    let ids = [
        (sava, e.service_id(sava, "sava:1.0.0")),
        (sava, e.service_id(sava, "sava:1.1.0")),
        (checkout, e.service_id(checkout, "checkout:2.0")),
    ];
    (start..start + n)
        .map(|i| {
            let (cluster, service) = ids[i % 3];
            Sample {
                timestamp_ms: T0_MS + i as u64 / 2,
                cluster,
                service,
                response_time_ms: f64::from(rt(i)),
                status: if i % 97 == 0 { 503 } else { 200 },
            }
        })
        .collect()
}

fn plain_lines(n: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..n {
        let (c, svc) = [
            ("sava", "sava:1.0.0"),
            ("sava", "sava:1.1.0"),
            ("checkout", "checkout:2.0"),
        ][i % 3];
        let t = (T0_MS + i as u64 / 2) as f64 / 1000.0;
        s.push_str(&format!(
            "{{\"timestamp\": {t:.3}, \"cluster\": \"{c}\", \"service\": \"{svc}\", \"response_time\": {}, \"status\": {}}}\n",
            rt(i),
            if i % 97 == 0 { 503 } else { 200 }
        ));
    }
    s.into_bytes()
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn haproxy_lines(n: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..n {
        let (backend, _) = [
            ("shop_2fsava_2fwebport_2fsava:1.0.0", 0),
            ("shop_2fsava_2fwebport_2fsava:1.1.0", 0),
            ("shop_2fcheckout_2fweb_2fcheckout:2.0", 0),
        ][i % 3];
        let ms = T0_MS + i as u64 / 2;
        let sec = (ms / 1000) % 86_400;
        let date = format!(
            "01/{}/2024:{:02}:{:02}:{:02}.{:03}",
            MONTHS[4],
            sec / 3600,
            sec % 3600 / 60,
            sec % 60,
            ms % 1000
        );
        let tt = rt(i);
        s.push_str(&format!(
            r#"{{"ci":"10.0.{}.{}","cp":{},"t":"{date}","ft":"{backend}","b":"{backend}","s":"{backend}_i{}","Tq":0,"Tw":0,"Tc":1,"Tr":{},"Tt":{tt},"ST":{},"B":{},"CC":"-","CS":"-","tsc":"----","ac":12,"fc":12,"bc":4,"sc":1,"rc":0,"sq":0,"bq":0,"hr":"","hs":"","r":"GET /api/items?page={} HTTP/1.1"}}"#,
            i % 7, i % 251, 30_000 + i % 20_000, i % 4, tt.saturating_sub(2),
            if i % 97 == 0 { 503 } else { 200 }, 512 + i % 4096, i % 50
        ));
        s.push('\n');
    }
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let base = engine();
    let typed = samples(&base, N, 0);
    let plain = plain_lines(N);
    let haproxy = haproxy_lines(N);
    eprintln!(
        "sla bench inputs: {N} samples; plain lines avg {} B, HAProxy lines avg {} B",
        plain.len() / N,
        haproxy.len() / N
    );

    // Memory flat as the stream grows 10×: the windows' heap is the same
    // after 1 and 10 million samples (the windows are allocated up front).
    {
        let mut e = engine();
        let mut out = Vec::new();
        let feed = |e: &mut Engine, out: &mut Vec<Output>, from: usize, n: usize| {
            for chunk in (from..from + n).step_by(N) {
                for s in samples(e, N.min(from + n - chunk), chunk) {
                    e.ingest(&s, out);
                }
                out.clear();
            }
        };
        feed(&mut e, &mut out, 0, 1_000_000);
        let at_1m = e.window_bytes();
        feed(&mut e, &mut out, 1_000_000, 9_000_000);
        assert_eq!(e.window_bytes(), at_1m);
        eprintln!(
            "sla memory: windows hold {} KiB after 1M samples and {} KiB after 10M ({} samples counted)",
            at_1m / 1024,
            e.window_bytes() / 1024,
            e.stats().samples
        );
    }

    let mut g = c.benchmark_group("sla");
    g.throughput(Throughput::Elements(N as u64));

    g.bench_function("baseline_sum_samples", |b| {
        b.iter(|| {
            black_box(&typed)
                .iter()
                .map(|s| s.response_time_ms)
                .sum::<f64>()
        })
    });
    g.bench_function("ingest_samples", |b| {
        b.iter_batched_ref(
            || (engine(), Vec::with_capacity(1024)),
            |(e, out)| {
                for s in &typed {
                    e.ingest(s, out);
                }
                e.finish(out);
            },
            BatchSize::LargeInput,
        )
    });

    let lines = |buf: &[u8]| {
        buf.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect::<Vec<_>>()
    };
    let plain_lines = lines(&plain);
    let haproxy_lines = lines(&haproxy);

    for (name, input) in [("plain", &plain_lines), ("haproxy", &haproxy_lines)] {
        g.bench_function(format!("baseline_json_skim_{name}_lines"), |b| {
            b.iter(|| {
                for l in input {
                    black_box(serde_json::from_slice::<serde::de::IgnoredAny>(l).is_ok());
                }
            })
        });
        g.bench_function(format!("parse_{name}_lines"), |b| {
            b.iter(|| {
                for l in input {
                    black_box(vamp_sla::parse::parse_line(l).is_ok());
                }
            })
        });
        g.bench_function(format!("ingest_{name}_lines"), |b| {
            b.iter_batched_ref(
                || (engine(), Vec::with_capacity(1024)),
                |(e, out)| {
                    for l in input {
                        e.ingest_line(l, out);
                    }
                    e.finish(out);
                    assert_eq!(e.stats().malformed, 0);
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
