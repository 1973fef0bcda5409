//! The judge on known distributions, and its edges.

use proptest::prelude::*;
use vamp_model::rollout::{Analysis, Metric, OnFailure, OnInconclusive, Rollout};

use super::replay::{replay, State};
use super::*;
use crate::parse::RouteBackend;

/// xorshift64*, seeded: the same numbers on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Log-normal latency: median `median` ms, log-sd 0.5.
    fn latency(&mut self, median: f64) -> f64 {
        median * (0.5 * self.normal()).exp()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

fn analysis(min_samples: u64, metrics: Vec<Metric>) -> Analysis {
    Analysis {
        min_samples,
        max_wait: 60,
        confidence: 95,
        metrics,
    }
}

/// `n` log-normal requests around `median` ms with an error probability.
fn side(rng: &mut Rng, n: usize, median: f64, error_p: f64) -> Vec<Sample> {
    (0..n)
        .map(|_| {
            let status = if rng.chance(error_p) { 503 } else { 200 };
            Sample::new(rng.latency(median), status)
        })
        .collect()
}

/// Share of `trials` steps that fail.
fn fail_rate(trials: u32, mut step: impl FnMut(&mut Rng) -> Judgement) -> f64 {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let fails = (0..trials)
        .filter(|_| step(&mut rng).verdict == Verdict::Fail)
        .count();
    fails as f64 / f64::from(trials)
}

/// The share of 1,000 seeded trials in which two sides of 200 requests
/// drawn alike (median 100 ms, this error rate) fail.
fn false_alarms(a: &Analysis, error_rate: f64) -> f64 {
    fail_rate(1_000, |rng| {
        judge(
            a,
            &side(rng, 200, 100.0, error_rate),
            &side(rng, 200, 100.0, error_rate),
        )
    })
}

#[test]
fn false_alarms_on_identical_data_stay_within_one_minus_confidence() {
    // response_time + error_rate cap and increase: 0.001 measured; the
    // single tests below at their full alpha: 0.042 and 0.044
    let a = Analysis::default();
    let rate = false_alarms(&a, 0.002);
    assert!(rate <= 0.05, "false-alarm rate {rate}");
    // each test alone, at the full alpha
    for metric in [
        Metric::ResponseTime { max_increase: 0 },
        Metric::ErrorRate {
            max: None,
            max_increase: Some(0),
        },
    ] {
        let a = analysis(100, vec![metric]);
        let rate = false_alarms(&a, 0.05);
        assert!(rate <= 0.05, "{metric:?}: false-alarm rate {rate}");
    }
}

/// Power on a +30% latency shift, 200 requests per side, log-normal with
/// log-sd 0.5, limit 20%, confidence 95% with the default three limits:
/// 0.905 over 1,000 seeded trials.
#[test]
fn power_on_a_30_percent_slowdown_at_200_per_side() {
    let a = Analysis::default();
    let power = fail_rate(1_000, |rng| {
        judge(&a, &side(rng, 200, 100.0, 0.0), &side(rng, 200, 130.0, 0.0))
    });
    assert!((0.85..=0.95).contains(&power), "power {power}");
}

#[test]
fn ties_whole_milliseconds_are_midranked() {
    // fast service logged in whole ms: most values tied
    let whole = |rng: &mut Rng, n: usize, median: f64| -> Vec<Sample> {
        side(rng, n, median, 0.0)
            .into_iter()
            .map(|s| Sample::new(s.response_time_ms.round(), 200))
            .collect()
    };
    let a = analysis(100, vec![Metric::ResponseTime { max_increase: 20 }]);
    let rate = fail_rate(1_000, |rng| {
        judge(&a, &whole(rng, 300, 3.0), &whole(rng, 300, 3.0))
    });
    assert!(rate <= 0.05, "false alarms with ties {rate}");
    let power = fail_rate(200, |rng| {
        judge(&a, &whole(rng, 300, 3.0), &whole(rng, 300, 6.0))
    });
    assert!(power > 0.9, "ties hide a doubling: {power}");
    let j = judge(
        &a,
        &whole(&mut Rng(7), 300, 3.0),
        &whole(&mut Rng(8), 300, 6.0),
    );
    assert_eq!(j.metrics[0].test, Some(Test::MannWhitneyNormal));
}

#[test]
fn all_identical_data_is_no_evidence() {
    let a = analysis(10, vec![Metric::ResponseTime { max_increase: 0 }]);
    let same = vec![Sample::new(100.0, 200); 500];
    let j = judge(&a, &same, &same);
    let m = &j.metrics[0];
    assert_eq!(
        (m.verdict, m.p_value, m.effect),
        (Verdict::Pass, Some(1.0), Some(0.0))
    );
}

#[test]
fn zero_heavy_data_compares_means() {
    // 70% answered within a millisecond, the rest around 100 ms (stable)
    // or 300 ms (candidate): medians are 0 on both sides.
    let zero_heavy = |rng: &mut Rng, tail: f64| -> Vec<Sample> {
        (0..400)
            .map(|_| {
                let ms = if rng.chance(0.7) {
                    0.0
                } else {
                    rng.latency(tail)
                };
                Sample::new(ms, 200)
            })
            .collect()
    };
    let a = analysis(100, vec![Metric::ResponseTime { max_increase: 20 }]);
    let mut rng = Rng(42);
    let j = judge(
        &a,
        &zero_heavy(&mut rng, 100.0),
        &zero_heavy(&mut rng, 300.0),
    );
    let m = &j.metrics[0];
    assert_eq!(m.stable.median_ms, Some(0.0));
    assert_eq!(m.verdict, Verdict::Fail, "{}", m.reason);
    assert!(m.reason.contains("candidate mean"), "{}", m.reason);
    let rate = fail_rate(500, |rng| {
        judge(&a, &zero_heavy(rng, 100.0), &zero_heavy(rng, 100.0))
    });
    assert!(rate <= 0.05, "false alarms on zero-heavy data {rate}");
    // all zero: no increase, whatever the test says
    let zeros = vec![Sample::new(0.0, 200); 200];
    let j = judge(&a, &zeros, &zeros);
    assert_eq!(j.metrics[0].effect, Some(0.0));
    assert_eq!(j.verdict, Verdict::Pass);
}

#[test]
fn sparse_data_is_inconclusive_not_a_guess() {
    let a = analysis(100, vec![Metric::ResponseTime { max_increase: 20 }]);
    let mut rng = Rng(3);
    let j = judge(
        &a,
        &side(&mut rng, 99, 100.0, 0.0),
        &side(&mut rng, 500, 500.0, 0.0),
    );
    let m = &j.metrics[0];
    assert_eq!(j.verdict, Verdict::Inconclusive);
    assert_eq!((m.p_value, m.effect, m.test), (None, None, None));
    assert_eq!(
        m.reason,
        "not enough data: 99 stable and 500 candidate requests, 100 needed on each side"
    );
    // three against three, five times slower: the exact test cannot go
    // below 1/20, so this is over the limit but not significant
    let a = analysis(3, vec![Metric::ResponseTime { max_increase: 20 }]);
    let fast = [10.0, 11.0, 12.0].map(|v| Sample::new(v, 200));
    let slow = [50.0, 55.0, 60.0].map(|v| Sample::new(v, 200));
    let m = &judge(&a, &fast, &slow).metrics[0];
    assert_eq!(
        (m.verdict, m.test),
        (Verdict::Inconclusive, Some(Test::MannWhitneyExact))
    );
    assert_eq!(m.p_value, Some(0.05));
}

#[test]
fn bad_samples_are_ignored_and_counted() {
    let a = analysis(2, vec![Metric::ResponseTime { max_increase: 20 }]);
    let stable = [
        Sample::new(f64::NAN, 500),
        Sample::new(-1.0, 500),
        Sample::new(f64::INFINITY, 200),
        Sample::new(10.0, 200),
        Sample::new(-0.0, 200),
    ];
    let j = judge(&a, &stable, &stable);
    let s = &j.metrics[0].stable;
    assert_eq!((s.n, s.ignored, s.errors), (2, 3, 0));
    assert_eq!(s.median_ms, Some(5.0));
    assert_eq!(j.verdict, Verdict::Pass);
}

#[test]
fn error_rate_cap_and_increase() {
    let with_errors = |n: usize, errors: usize| -> Vec<Sample> {
        (0..n)
            .map(|i| Sample::new(100.0, if i < errors { 500 } else { 200 }))
            .collect()
    };
    let cap = analysis(
        100,
        vec![Metric::ErrorRate {
            max: Some(1),
            max_increase: None,
        }],
    );
    // Each side as (requests, errors).
    let check = |a: &Analysis, (n, e): (usize, usize), (cn, ce): (usize, usize)| {
        let m = judge(a, &with_errors(n, e), &with_errors(cn, ce))
            .metrics
            .remove(0);
        (m.verdict, m.test)
    };
    // 5% errors over a 1% cap, 1000 requests: clear
    assert_eq!(
        check(&cap, (1000, 0), (1000, 50)),
        (Verdict::Fail, Some(Test::BinomialExact))
    );
    // 3 of 100: over the cap, but 100 requests cannot tell it from 1%
    assert_eq!(check(&cap, (100, 0), (100, 3)).0, Verdict::Inconclusive);
    assert_eq!(check(&cap, (100, 0), (100, 1)).0, Verdict::Pass);
    let increase = analysis(
        100,
        vec![Metric::ErrorRate {
            max: None,
            max_increase: Some(1),
        }],
    );
    // few errors: Fisher's exact test
    assert_eq!(
        check(&increase, (200, 0), (200, 8)),
        (Verdict::Fail, Some(Test::FisherExact))
    );
    // many: the z-test; +10 points with 1,000 per side
    assert_eq!(
        check(&increase, (1000, 100), (1000, 200)),
        (Verdict::Fail, Some(Test::TwoProportionZ))
    );
    // fewer errors than stable: never a failure
    assert_eq!(check(&increase, (1000, 200), (1000, 100)).0, Verdict::Pass);
    // the two limits are two entries, told apart by `limit`
    let both = Analysis::default();
    let j = judge(&both, &with_errors(200, 0), &with_errors(200, 0));
    let limits: Vec<_> = j.metrics.iter().map(|m| (m.name, m.limit)).collect();
    assert_eq!(
        limits,
        [
            (MetricName::ResponseTime, Limit::MaxIncrease(20)),
            (MetricName::ErrorRate, Limit::Max(1)),
            (MetricName::ErrorRate, Limit::MaxIncrease(1)),
        ]
    );
    assert!((j.metrics[0].alpha - 0.05 / 3.0).abs() < 1e-12);
}

#[test]
fn verdicts_serialize_to_the_status_shape() {
    let a = analysis(1, vec![Metric::ResponseTime { max_increase: 20 }]);
    let j = judge(&a, &[Sample::new(10.0, 200)], &[Sample::new(10.0, 200)]);
    let json = serde_json::to_value(&j.metrics[0]).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "verdict",
            "stable",
            "candidate",
            "p_value",
            "effect",
            "limit",
            "alpha",
            "test",
            "reason"
        ]
    );
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["stable"]["median_ms"], 10.0);
    let back: MetricVerdict = serde_json::from_value(json).unwrap();
    assert_eq!(back, j.metrics[0]);
}

fn rollout(steps: Vec<u8>, on_inconclusive: OnInconclusive) -> Rollout {
    Rollout {
        deployment: "shop".into(),
        cluster: "cart".into(),
        port: Some("web".into()),
        from: "cart:1.0".into(),
        to: "cart:1.1".into(),
        steps,
        interval: 30,
        analysis: Analysis {
            min_samples: 50,
            max_wait: 60,
            ..Analysis::default()
        },
        on_failure: OnFailure::Rollback,
        on_inconclusive,
    }
}

/// HAProxy lines: `per_second` requests a second for `seconds` seconds,
/// alternating sides; the candidate's median is `slow` times the stable's.
fn log(seconds: u64, per_second: u64, slow: f64, candidate: bool) -> Vec<String> {
    let mut rng = Rng(11);
    let mut lines = Vec::new();
    for s in 0..seconds {
        for k in 0..per_second {
            let is_candidate = candidate && k % 2 == 1;
            let (service, median) = if is_candidate {
                ("cart:1.1", 100.0 * slow)
            } else {
                ("cart:1.0", 100.0)
            };
            let b = RouteBackend::encode("shop", "cart", "web", service);
            let t = 1_700_000_000_000 + s * 1000 + k * 1000 / per_second;
            let ms = rng.latency(median).round();
            lines.push(format!(
                r#"{{"t": {}, "b": "{b}", "Tt": {ms}, "ST": 200}}"#,
                t as f64 / 1000.0
            ));
        }
    }
    lines
}

#[test]
fn replay_promotes_a_healthy_candidate_and_rolls_back_a_slow_one() {
    let r = rollout(vec![10, 50, 100], OnInconclusive::Hold);
    let healthy = replay(&r, log(120, 10, 1.0, true));
    assert_eq!(healthy.state, State::Promoted);
    assert_eq!(healthy.steps.len(), 2);
    assert_eq!(healthy.steps[1].start_ms, 1_700_000_030_000);
    assert_eq!(healthy.steps[1].judged_ms, Some(1_700_000_060_000));
    assert_eq!(healthy.lines.stable + healthy.lines.candidate, 1200);
    let slow = replay(&r, log(120, 10, 1.6, true));
    assert_eq!(slow.state, State::RolledBack);
    assert_eq!(slow.steps.len(), 1);
    let failing: Vec<_> = slow.steps[0]
        .judgement
        .metrics
        .iter()
        .filter(|m| m.verdict == Verdict::Fail)
        .map(|m| m.name)
        .collect();
    assert_eq!(failing, [MetricName::ResponseTime]);
}

#[test]
fn replay_waits_for_data_then_holds() {
    let r = rollout(vec![10, 100], OnInconclusive::Hold);
    // no candidate traffic at all, logs covering 40 s: still waiting
    let waiting = replay(&r, log(40, 10, 1.0, false));
    assert_eq!(waiting.state, State::WaitingForData);
    assert_eq!(waiting.steps[0].judged_ms, None);
    // past interval + max_wait (90 s): on_inconclusive applies
    let held = replay(&r, log(120, 10, 1.0, false));
    assert_eq!(held.state, State::Held);
    assert_eq!(held.steps[0].judged_ms, Some(1_700_000_090_000));
    let promote = replay(
        &rollout(vec![10, 100], OnInconclusive::Promote),
        log(120, 10, 1.0, false),
    );
    assert_eq!(promote.state, State::Promoted);
    // logs shorter than one interval
    assert_eq!(replay(&r, log(10, 10, 1.0, true)).state, State::Running);
    assert_eq!(
        replay(&r, Vec::<String>::new()).state,
        State::WaitingForData
    );
}

#[test]
fn replay_counts_only_the_rollouts_routes() {
    let r = rollout(vec![10, 100], OnInconclusive::Hold);
    let other_port = RouteBackend::encode("shop", "cart", "admin", "cart:1.0");
    let other_deployment = RouteBackend::encode("lab", "cart", "web", "cart:1.1");
    let lines = [
        format!(r#"{{"t": 1, "b": "{other_port}", "Tt": 5, "ST": 200}}"#),
        format!(r#"{{"t": 1, "b": "{other_deployment}", "Tt": 5, "ST": 200}}"#),
        r#"{"t": 1, "b": "o_5b1f0a9c", "Tt": 5, "ST": 200}"#.to_owned(),
        r#"{"timestamp": 2, "cluster": "cart", "service": "cart:1.1", "response_time": 9, "status": 200}"#.to_owned(),
        "not json".to_owned(),
        String::new(),
    ];
    let out = replay(&r, &lines);
    assert_eq!(
        (
            out.lines.lines,
            out.lines.malformed,
            out.lines.other,
            out.lines.stable,
            out.lines.candidate
        ),
        (5, 1, 3, 0, 1)
    );
    assert_eq!(out.first_ms, Some(2000));
}

fn arb_sample() -> impl Strategy<Value = Sample> {
    let ms = prop_oneof![
        4 => 0.0..10_000.0f64,
        1 => Just(0.0),
        1 => prop::num::f64::ANY,
        1 => (0u32..5).prop_map(f64::from),
    ];
    (ms, prop_oneof![Just(200u16), Just(503u16), any::<u16>()]).prop_map(|(m, s)| Sample::new(m, s))
}

proptest! {
    #[test]
    fn never_panics_and_p_is_a_probability(
        stable in prop::collection::vec(arb_sample(), 0..150),
        candidate in prop::collection::vec(arb_sample(), 0..150),
        min_samples in 1u64..20,
        confidence in 50u8..=99,
        limits in (0u8..=100, 0u8..=100, 0u8..=100),
    ) {
        let a = Analysis {
            min_samples,
            max_wait: 0,
            confidence,
            metrics: vec![
                Metric::ResponseTime { max_increase: limits.0 },
                Metric::ErrorRate { max: Some(limits.1), max_increase: Some(limits.2) },
            ],
        };
        let j = judge(&a, &stable, &candidate);
        for m in &j.metrics {
            if let Some(p) = m.p_value {
                prop_assert!((0.0..=1.0).contains(&p), "p = {}", p);
            }
            prop_assert!(m.effect.is_none_or(f64::is_finite));
            prop_assert!(serde_json::to_string(m).is_ok());
        }
        prop_assert_eq!(j.verdict, j.metrics.iter().map(|m| m.verdict).max().unwrap());
    }

    #[test]
    fn the_same_data_on_both_sides_never_fails(
        samples in prop::collection::vec(arb_sample(), 0..200),
        limits in (0u8..=100, 0u8..=100),
    ) {
        let a = Analysis {
            min_samples: 1,
            max_wait: 0,
            confidence: 95,
            metrics: vec![
                Metric::ResponseTime { max_increase: limits.0 },
                Metric::ErrorRate { max: None, max_increase: Some(limits.1) },
            ],
        };
        let j = judge(&a, &samples, &samples);
        prop_assert_ne!(j.verdict, Verdict::Fail);
        for m in &j.metrics {
            prop_assert!(m.effect.is_none_or(|e| e == 0.0));
        }
    }
}
