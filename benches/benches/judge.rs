//! The canary judge on 2 x 10,000 requests (target: under 1 ms), next to a
//! plain sort of the same 20,000 response times measured in the same run:
//! the judge sorts each side once, so the sort is its floor.
//!
//! Run: `cargo bench -p vamp-benches --bench judge -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::print_stderr, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use vamp_model::rollout::Analysis;
use vamp_sla::judge::{judge, Sample, Verdict};

const N: usize = 10_000;

/// Log-normal-ish response times in whole milliseconds (as HAProxy logs
/// them, so with ties), 0.5% errors; seeded xorshift64*.
fn side(seed: u64, median_ms: f64) -> Vec<Sample> {
    let mut x = seed;
    let mut uniform = move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        ((x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..N)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            let normal = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            let status = if uniform() < 0.005 { 503 } else { 200 };
            Sample::new((median_ms * (0.5 * normal).exp()).round(), status)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let stable = side(1, 100.0);
    let candidate = side(2, 103.0);
    let analysis = Analysis::default();
    let j = judge(&analysis, &stable, &candidate);
    assert_eq!(j.verdict, Verdict::Pass);
    eprintln!(
        "judge bench inputs: 2 x {N} samples; response_time p = {:?}",
        j.metrics[0].p_value
    );
    let times: Vec<f64> = stable
        .iter()
        .chain(&candidate)
        .map(|s| s.response_time_ms)
        .collect();

    let mut g = c.benchmark_group("judge");
    g.bench_function("baseline_sort_20k", |b| {
        b.iter_batched_ref(
            || times.clone(),
            |t| t.sort_unstable_by(f64::total_cmp),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("judge_2x10k", |b| {
        b.iter(|| {
            judge(
                black_box(&analysis),
                black_box(&stable),
                black_box(&candidate),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
