//! Resolving synthetic blueprints of 1,000 and 10,000 clusters: dependency
//! chains (each cluster depends on the one before it, in chains of 50),
//! half the breeds referenced from a store, and every service with
//! environment variables that refer to its dependency's host, port,
//! variable and constant and to its own constants.
//!
//! The figure the issue asks for is the cost per cluster at 10,000 divided
//! by the cost per cluster at 1,000 (at most 1.3: linear growth). On a
//! machine whose L2 cache holds the 1,000-cluster data but not the
//! 10,000-cluster data, that wall-clock ratio also measures the cache. So the
//! same run measures a baseline with the same data and no resolution work:
//! copying the input (a deep clone of the blueprint and a fetch of every
//! stored breed it names), the least an owned resolution must do. The ratio
//! of the two ratios is the resolver's growth beyond what touching its data
//! costs; all three are printed at the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use vamp_deploy::resolve::resolve_blueprint;
use vamp_deploy::store::{MemoryStore, Store};
use vamp_model::{Artifact, Blueprint, Document, Kind, OrRef};

/// The same inputs as the resolver's equivalence tests.
#[path = "../../vamp-deploy/tests/support/synthetic.rs"]
mod synthetic;
use synthetic::synthetic as input;

/// The baseline: an owned copy of everything a resolution reads.
fn copy_input(
    bp: &Artifact<Blueprint>,
    store: &MemoryStore,
) -> (Artifact<Blueprint>, Vec<Document>) {
    let copy = bp.clone();
    let mut breeds = Vec::with_capacity(copy.spec.clusters.len());
    for c in copy.spec.clusters.values() {
        for s in &c.services {
            if let OrRef::Reference(r) = &s.breed {
                if let Ok(Some(d)) = store.get(Kind::Breed, &r.name) {
                    breeds.push(d);
                }
            }
        }
    }
    (copy, breeds)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("resolve");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for n in [1_000usize, 10_000] {
        let (bp, store) = input(n);
        let d = resolve_blueprint(&bp, &store).expect("resolves");
        assert_eq!(d.spec.clusters.len(), n);
        group.throughput(Throughput::Elements(n as u64));
        // Results are dropped outside the timed region (as in `median`),
        // one at a time so that every size runs on the same warm allocator.
        group.bench_function(format!("clusters_{n}"), |b| {
            b.iter_batched(
                || (),
                |()| resolve_blueprint(&bp, &store).expect("resolves"),
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("baseline_copy_input_{n}"), |b| {
            b.iter_batched(|| (), |()| copy_input(&bp, &store), BatchSize::PerIteration)
        });
    }
    group.finish();
}

/// Median wall time of `runs` calls of `f`, its result dropped untimed.
fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let out = black_box(f());
            let e = t.elapsed();
            drop(out);
            e
        })
        .collect();
    times.sort();
    times[runs / 2]
}

/// Per-cluster cost at 1,000 and at 10,000 clusters, of the resolver and of
/// the baseline, the sizes interleaved so that both see the same machine.
fn ratio() {
    let (bp1, store1) = input(1_000);
    let (bp10, store10) = input(10_000);
    let resolve1 = || resolve_blueprint(&bp1, &store1).expect("resolves");
    let resolve10 = || resolve_blueprint(&bp10, &store10).expect("resolves");
    let _ = median(3, resolve1);
    let mut r = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..3 {
        r[0].push(median(21, resolve1).as_secs_f64() / 1_000.0);
        r[1].push(median(5, resolve10).as_secs_f64() / 10_000.0);
        r[2].push(median(21, || copy_input(&bp1, &store1)).as_secs_f64() / 1_000.0);
        r[3].push(median(5, || copy_input(&bp10, &store10)).as_secs_f64() / 10_000.0);
    }
    let best = |v: &Vec<f64>| v.iter().copied().fold(f64::INFINITY, f64::min);
    let [r1, r10, b1, b10] = [best(&r[0]), best(&r[1]), best(&r[2]), best(&r[3])];
    println!(
        "resolver: 1,000 clusters {:.2} ms ({:.2} us/cluster); 10,000 clusters {:.1} ms ({:.2} us/cluster); per-cluster ratio 10k/1k = {:.2} (target <= 1.3)",
        r1 * 1e6,
        r1 * 1e6,
        r10 * 1e7,
        r10 * 1e6,
        r10 / r1
    );
    println!(
        "baseline (copy the input): {:.3} us/cluster at 1,000, {:.3} us/cluster at 10,000; per-cluster ratio 10k/1k = {:.2}",
        b1 * 1e6,
        b10 * 1e6,
        b10 / b1
    );
    println!(
        "resolver ratio / baseline ratio = {:.2} (growth beyond the cost of touching the data)",
        (r10 / r1) / (b10 / b1)
    );
}

criterion_group!(benches, bench);

fn main() {
    // `RESOLVER_ONLY=N` resolves N clusters ten times and nothing else (for
    // counting instructions with callgrind or `perf stat`, which load does
    // not disturb).
    if let Some(n) = std::env::var("RESOLVER_ONLY")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        let (bp, store) = input(n);
        let _ = median(10, || resolve_blueprint(&bp, &store).expect("resolves"));
        return;
    }
    benches();
    ratio();
    Criterion::default().configure_from_args().final_summary();
}
