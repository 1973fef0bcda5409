//! Planner benchmark: a deployment of N services (2 instances each, clusters
//! of 4 each depending on the previous one) against an actual state of N services
//! where 10% run an older version, 10% are under-scaled and 5% crashed.
//! Reports per-service cost at 1,000 and 10,000 services and their ratio.
//!
//! On a machine whose L2 cache holds the 1,000-service inputs but not the
//! 10,000-service ones, that wall-clock ratio also measures the cache, so the
//! same run measures a baseline over the same data: one read of every
//! string the planner reads (its header and first cache line), the least
//! any planner does. The ratio of the two ratios is the planner's growth
//! beyond the cost of touching its inputs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use vamp_drivers::{plan, ActualState, Desired, PlanOptions};

// The same inputs as the `plan_many` example that callgrind counts.
#[path = "../../vamp-drivers/examples/plan_many/inputs.rs"]
mod inputs;
use inputs::inputs;

/// The baseline: one read of each string the planner reads.
fn touch(desired: &Desired, actual: &ActualState) -> usize {
    fn t(s: &str) -> usize {
        s.len() + usize::from(s.as_bytes().first().copied().unwrap_or(0))
    }
    let mut sum = 0;
    for s in &desired.services {
        let k = &s.spec.key;
        sum += t(&k.cluster) + t(&k.service) + t(&s.fingerprint);
        sum += s.spec.depends_on.iter().map(|d| t(d)).sum::<usize>();
    }
    for o in &actual.instances {
        sum += t(&o.name) + t(&o.key.deployment) + t(&o.key.cluster) + t(&o.key.service);
        sum += t(&o.fingerprint);
    }
    for (c, w) in desired.weights.iter().chain(&actual.weights) {
        sum += t(c) + w.iter().map(|(s, _)| t(s)).sum::<usize>();
    }
    sum
}

/// Best per-service time of `f` over `rounds` runs.
fn per_service<T>(n: usize, rounds: u32, mut f: impl FnMut() -> T) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        let out = black_box(f());
        best = best.min(t.elapsed());
        drop(out);
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
        group.bench_with_input(BenchmarkId::new("baseline_touch_inputs", n), &n, |b, _| {
            b.iter(|| touch(black_box(&desired), black_box(&actual)))
        });
    }
    group.finish();

    // Figures as ratios measured in this run (best of several rounds, the
    // sizes interleaved so that both see the same machine).
    let (d1, a1) = inputs(1_000);
    let (d10, a10) = inputs(10_000);
    let opts = PlanOptions::default();
    let (mut small, mut large) = (Duration::MAX, Duration::MAX);
    let (mut touch_small, mut touch_large) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        small = small.min(per_service(1_000, 10, || plan(&d1, &a1, &opts)));
        large = large.min(per_service(10_000, 4, || plan(&d10, &a10, &opts)));
        touch_small = touch_small.min(per_service(1_000, 10, || touch(&d1, &a1)));
        touch_large = touch_large.min(per_service(10_000, 4, || touch(&d10, &a10)));
    }
    let ratio = large.as_secs_f64() / small.as_secs_f64();
    let touch_ratio = touch_large.as_secs_f64() / touch_small.as_secs_f64();
    #[allow(clippy::print_stdout)]
    {
        println!(
            "planner: 1,000 services {:.2} ms total ({:?}/service); 10,000 services {:?}/service; ratio {ratio:.2} (target <= 1.3; 1,000 in < 50 ms)",
            (small * 1000).as_secs_f64() * 1e3,
            small,
            large
        );
        println!(
            "baseline (touch the inputs): {touch_small:?}/service at 1,000, {touch_large:?}/service at 10,000; ratio {touch_ratio:.2}"
        );
        println!(
            "planner ratio / baseline ratio = {:.2} (growth beyond the cost of touching the inputs)",
            ratio / touch_ratio
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
