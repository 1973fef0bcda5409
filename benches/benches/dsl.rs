//! Reading, expanding and validating a ~1 MB stream of realistic blueprints,
//! against a generic YAML parse of the same bytes with `serde_yaml` as the
//! yardstick (measured in the same run). The comparison is on one thread;
//! `vamp_typed_read_parallel` shows the default, which reads large streams
//! on every core.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vamp_dsl::{read, ReadOptions};

/// Hundreds of blueprint documents derived from `examples/sava-canary.yml`,
/// each with its own names, routes, conditions and SLA.
fn stream() -> String {
    let template = include_str!("../../examples/sava-canary.yml");
    let mut out = String::new();
    let mut i = 0;
    while out.len() < 1_000_000 {
        out.push_str("---\n");
        out.push_str(
            &template
                .replace("sava-canary", &format!("shop-{i}"))
                .replace("sava:1.", &format!("sava{i}:1."))
                .replace("mysql:5.7", &format!("mysql{i}:5.7")),
        );
        i += 1;
    }
    out
}

fn bench(c: &mut Criterion) {
    let src = stream();
    let docs = read(&src, ReadOptions::default());
    assert!(docs.first_error().is_none(), "{:?}", docs.first_error());
    assert!(docs.documents.len() > 300);

    let mut group = c.benchmark_group("dsl_1mb");
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.sample_size(20);
    group.bench_function("baseline_serde_yaml_value", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for doc in serde_yaml::Deserializer::from_str(&src) {
                let v: serde_yaml::Value = serde::Deserialize::deserialize(doc).expect("valid");
                n += usize::from(v.is_mapping());
            }
            n
        })
    });
    group.bench_function("vamp_yaml_tree_only", |b| {
        b.iter(|| {
            vamp_dsl::yaml::read_stream(&src, vamp_dsl::yaml::Limits::default()).map(|d| d.len())
        })
    });
    let one_thread = ReadOptions {
        parallel: false,
        ..ReadOptions::default()
    };
    group.bench_function("vamp_typed_read", |b| {
        b.iter(|| read(&src, one_thread).documents.len())
    });
    group.bench_function("vamp_typed_read_parallel", |b| {
        b.iter(|| read(&src, ReadOptions::default()).documents.len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
