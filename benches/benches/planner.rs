//! Planner benchmark: a deployment of N services (2 instances each, clusters
//! of 4 each depending on the previous one) against an actual state of N services
//! where 10% run an older version, 10% are under-scaled and 5% crashed.
//! Reports per-service cost at 1,000 and 10,000 services and their ratio.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use vamp_drivers::{plan, PlanOptions};

// The same inputs as the `plan_many` example that callgrind counts.
#[path = "../../vamp-drivers/examples/plan_many/inputs.rs"]
mod inputs;
use inputs::inputs;

fn per_service(n: usize, rounds: u32) -> Duration {
    let (desired, actual) = inputs(n);
    let opts = PlanOptions::default();
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(plan(&desired, &actual, &opts).map(|p| p.steps.len()).ok());
        best = best.min(t.elapsed());
    }
    best / u32::try_from(n).unwrap_or(u32::MAX)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("planner");
    group.sample_size(20);
    for n in [1_000usize, 10_000] {
        let (desired, actual) = inputs(n);
        let opts = PlanOptions::default();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("plan", n), &n, |b, _| {
            b.iter(|| plan(black_box(&desired), black_box(&actual), &opts).map(|p| p.steps.len()))
        });
    }
    group.finish();

    // Figures as ratios measured in this run (best of several rounds).
    let small = per_service(1_000, 30);
    let large = per_service(10_000, 10);
    let ratio = large.as_secs_f64() / small.as_secs_f64();
    #[allow(clippy::print_stdout)]
    {
        println!(
            "planner: 1,000 services {:.2} ms total ({:?}/service); 10,000 services {:?}/service; ratio {ratio:.2} (target <= 1.3; 1,000 in < 50 ms)",
            (small * 1000).as_secs_f64() * 1e3,
            small,
            large
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
