//! Plans N services against N services (inputs as in the planner
//! benchmark), `ROUNDS` times, so that an instruction counter can compare
//! sizes: `valgrind --tool=callgrind --toggle-collect='*plan_rounds*' \
//! target/release/examples/plan_many 1000 10`.
//!
//! Usage: `plan_many [N] [ROUNDS]` (default 1000 services, 1 round).
#![allow(clippy::print_stdout)]

mod inputs;

use std::hint::black_box;

use vamp_drivers::{plan, ActualState, Desired, PlanOptions};

/// The measured part (a separate, non-inlined function so that callgrind
/// can count it alone).
#[inline(never)]
fn plan_rounds(desired: &Desired, actual: &ActualState, rounds: u32) -> usize {
    let opts = PlanOptions::default();
    let mut steps = 0;
    for _ in 0..rounds {
        steps += black_box(plan(black_box(desired), black_box(actual), &opts))
            .map(|p| p.steps.len())
            .unwrap_or(0);
    }
    steps
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let (desired, actual) = inputs::inputs(n);
    let mut steps = 0;
    let mut best = std::time::Duration::MAX;
    for _ in 0..rounds {
        let start = std::time::Instant::now();
        steps = plan_rounds(&desired, &actual, 1);
        best = best.min(start.elapsed());
    }
    let per_service = best.as_nanos() as f64 / n as f64;
    println!(
        "{n} services, {rounds} round(s): {steps} steps; best {best:?} ({per_service:.0} ns/service)"
    );
}
