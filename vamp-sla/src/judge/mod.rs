//! The canary judge: a rollout step's stable and candidate requests in, a
//! verdict per metric out, with the numbers behind it.
//!
//! Pure: no IO, no clock. The same judge runs in the server's rollout loop
//! and in `vamp rollout replay` over recorded logs ([`replay`]); [`plan`]
//! gives a rollout's timeline.
//!
//! # Verdicts
//!
//! Each limit of each metric gives one [`MetricVerdict`] (an `error_rate`
//! with `max` and `max_increase` gives two entries, told apart by `limit`):
//!
//! - `inconclusive` when either side has fewer than `min_samples` requests
//!   ("not enough data", no test is run), or when the observed `effect` is
//!   over the limit but the test cannot tell it from chance at the asked
//!   confidence: more data decides, which is what the rollout's `max_wait`
//!   is for.
//! - `fail` only when the effect is over the limit **and** the one-sided
//!   test is significant.
//! - `pass` otherwise: within the limit (significant or not), or no
//!   evidence of a worse candidate.
//!
//! A step fails when any entry fails, else is inconclusive when any entry is,
//! else passes. Its `confidence` holds for the whole step: with `k` entries,
//! each test runs at `alpha = (1 - confidence) / k` (Bonferroni), so on a
//! candidate identical to the stable service a step fails at most `1 -
//! confidence` of the time.
//!
//! # Statistics
//!
//! - **response_time** (`max_increase`): one-sided Mann–Whitney U (candidate
//!   slower), on all requests of the window. Ties get midranks. Exact
//!   distribution when there is no tie and both sides hold at most 100
//!   requests together; otherwise the normal approximation with the tie
//!   correction of the variance and a continuity correction of one half. All
//!   values tied (all-identical data) means no evidence: p = 1. The `effect`
//!   is the candidate's relative increase of the **median** (not a
//!   Hodges–Lehmann shift: the median is what users read on dashboards, and
//!   it costs nothing once the sides are sorted), in percent:
//!   `(center_c - center_s) / max(center_s, 1 ms) * 100`. For zero-heavy data
//!   (a stable median of 0 ms: half the requests answered within the log's
//!   1 ms resolution) the median hides a slower tail, so the centers are the
//!   means instead; the 1 ms floor keeps a change below the log's resolution
//!   from looking like an infinite increase.
//! - **error_rate** `max`: the candidate's rate against a fixed cap, exact
//!   one-sided binomial test of `rate <= max`; `effect` is the candidate's
//!   error rate in percent.
//! - **error_rate** `max_increase`: the candidate's rate minus the stable
//!   rate, in percentage points, is the `effect`; Fisher's exact test
//!   (one-sided, hypergeometric) when an expected cell count is below 5,
//!   else the pooled two-proportion z-test (one-sided).
//!
//! Errors are responses with status 500–599 ([`is_error`]). A sample whose
//! response time is NaN, infinite or negative is ignored (counted in
//! `ignored`, in neither `n` nor the error count); nothing panics.
//!
//! ```
//! use vamp_model::rollout::Analysis;
//! use vamp_sla::judge::{judge, Sample, Verdict};
//! let stable: Vec<Sample> = (0..200).map(|i| Sample::new(100.0 + f64::from(i % 50), 200)).collect();
//! let slow: Vec<Sample> = stable.iter().map(|s| Sample::new(s.response_time_ms * 1.5, 200)).collect();
//! let j = judge(&Analysis::default(), &stable, &slow);
//! assert_eq!(j.verdict, Verdict::Fail);
//! assert_eq!(j.metrics[0].verdict, Verdict::Fail);
//! assert_eq!(j.metrics[1].verdict, Verdict::Pass); // no errors
//! let json = serde_json::to_value(&j.metrics[0]).unwrap();
//! assert_eq!(json["name"], "response_time");
//! assert_eq!(json["limit"], serde_json::json!({"max_increase": 20}));
//! ```

use serde::{Deserialize, Serialize};
use vamp_model::rollout::{Analysis, Metric};

pub mod plan;
pub mod replay;
mod stats;
#[cfg(test)]
mod tests;

/// The log's time resolution: HAProxy logs whole milliseconds.
const RESOLUTION_MS: f64 = 1.0;

/// One request of a step window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Response time in milliseconds (finite and non-negative, else the
    /// sample is ignored).
    pub response_time_ms: f64,
    /// HTTP status; 0 when unknown.
    pub status: u16,
}

impl Sample {
    /// A sample.
    pub fn new(response_time_ms: f64, status: u16) -> Self {
        Sample {
            response_time_ms,
            status,
        }
    }
}

/// True for a status that counts as an error (500–599).
pub fn is_error(status: u16) -> bool {
    (500..600).contains(&status)
}

/// The outcome of a metric or a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The candidate is not worse beyond the limit.
    Pass,
    /// Not enough data to tell.
    Inconclusive,
    /// The candidate is worse beyond the limit, with the asked confidence.
    Fail,
}

/// One side's requests, summarized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Requests counted.
    pub n: u64,
    /// Requests ignored (response time NaN, infinite or negative).
    pub ignored: u64,
    /// Median response time, ms (None without requests).
    pub median_ms: Option<f64>,
    /// Mean response time, ms (None without requests).
    pub mean_ms: Option<f64>,
    /// Responses with status 500–599.
    pub errors: u64,
    /// `errors` in percent of `n` (None without requests).
    pub error_percent: Option<f64>,
}

/// Which metric an entry judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricName {
    /// `response_time`.
    ResponseTime,
    /// `error_rate`.
    ErrorRate,
}

/// The limit an entry applies, as written in the rollout (percent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// `{"max_increase": 20}`: response time percent over stable, or error
    /// rate percentage points over stable.
    MaxIncrease(u8),
    /// `{"max": 1}`: cap on the candidate's error rate, percent.
    Max(u8),
}

/// The test behind a p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// Mann–Whitney U, exact distribution.
    MannWhitneyExact,
    /// Mann–Whitney U, normal approximation (tie and continuity corrected).
    MannWhitneyNormal,
    /// Exact one-sided binomial test against a cap.
    BinomialExact,
    /// Fisher's exact test, one-sided.
    FisherExact,
    /// Pooled two-proportion z-test, one-sided.
    TwoProportionZ,
}

/// The verdict on one limit of one metric, with the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricVerdict {
    /// The metric.
    pub name: MetricName,
    /// The verdict.
    pub verdict: Verdict,
    /// The stable side.
    pub stable: Summary,
    /// The candidate side.
    pub candidate: Summary,
    /// One-sided p-value (None when there was not enough data to test).
    pub p_value: Option<f64>,
    /// What the limit is compared with, in percent: the response-time
    /// increase, the candidate's error rate (`max`), or the error-rate
    /// increase in points (`max_increase`). None without enough data.
    pub effect: Option<f64>,
    /// The limit applied.
    pub limit: Limit,
    /// The significance level of this entry's test.
    pub alpha: f64,
    /// The test run (None without enough data).
    pub test: Option<Test>,
    /// One line that says why.
    pub reason: String,
}

/// A step's verdict and its entries, in the order of the rollout's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// Fail if any entry fails, else inconclusive if any is, else pass.
    pub verdict: Verdict,
    /// One entry per limit.
    pub metrics: Vec<MetricVerdict>,
}

/// One side, sorted once for every metric.
struct Side {
    /// Response times as order-preserving keys (bits of non-negative f64).
    keys: Vec<u64>,
    summary: Summary,
}

impl Side {
    fn of(samples: &[Sample]) -> Side {
        let mut keys = Vec::with_capacity(samples.len());
        let (mut errors, mut sum) = (0u64, 0f64);
        for s in samples {
            let v = s.response_time_ms;
            if v.is_finite() && v >= 0.0 {
                // +0.0 for -0.0: the bits of non-negative floats sort as numbers
                keys.push((v + 0.0).to_bits());
                sum += v;
                errors += u64::from(is_error(s.status));
            }
        }
        keys.sort_unstable();
        let n = keys.len() as u64;
        let value = |i: usize| f64::from_bits(keys[i]);
        let median_ms = match keys.len() {
            0 => None,
            len if len % 2 == 1 => Some(value(len / 2)),
            len => Some((value(len / 2 - 1) + value(len / 2)) / 2.0),
        };
        let per = |x: f64| (n > 0).then(|| x / n as f64);
        let summary = Summary {
            n,
            ignored: samples.len() as u64 - n,
            median_ms,
            mean_ms: per(sum),
            errors,
            error_percent: per(errors as f64 * 100.0),
        };
        Side { keys, summary }
    }
}

/// Judges one step: `stable` and `candidate` are the requests each side
/// served in the same window.
pub fn judge(analysis: &Analysis, stable: &[Sample], candidate: &[Sample]) -> Judgement {
    let (s, c) = (Side::of(stable), Side::of(candidate));
    let limits: Vec<(MetricName, Limit)> = analysis
        .metrics
        .iter()
        .flat_map(|m| match *m {
            Metric::ResponseTime { max_increase } => {
                vec![(MetricName::ResponseTime, Limit::MaxIncrease(max_increase))]
            }
            Metric::ErrorRate { max, max_increase } => max
                .map(|v| (MetricName::ErrorRate, Limit::Max(v)))
                .into_iter()
                .chain(max_increase.map(|v| (MetricName::ErrorRate, Limit::MaxIncrease(v))))
                .collect(),
        })
        .collect();
    // (100 - confidence) / 100, not 1 - confidence / 100: 0.05 exactly
    let alpha = f64::from(100 - analysis.confidence.min(100)) / 100.0 / limits.len().max(1) as f64;
    let enough = s.summary.n >= analysis.min_samples && c.summary.n >= analysis.min_samples;
    let metrics: Vec<MetricVerdict> = limits
        .into_iter()
        .map(|(name, limit)| {
            let outcome = if enough {
                match name {
                    MetricName::ResponseTime => response_time(&s, &c, limit, alpha),
                    MetricName::ErrorRate => error_rate(&s, &c, limit, alpha),
                }
            } else {
                Outcome {
                    verdict: Verdict::Inconclusive,
                    p_value: None,
                    effect: None,
                    test: None,
                    reason: format!(
                        "not enough data: {} stable and {} candidate requests, {} needed on each side",
                        s.summary.n, c.summary.n, analysis.min_samples
                    ),
                }
            };
            MetricVerdict {
                name,
                verdict: outcome.verdict,
                stable: s.summary.clone(),
                candidate: c.summary.clone(),
                p_value: outcome.p_value,
                effect: outcome.effect,
                limit,
                alpha,
                test: outcome.test,
                reason: outcome.reason,
            }
        })
        .collect();
    let verdict = metrics
        .iter()
        .map(|m| m.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    Judgement { verdict, metrics }
}

struct Outcome {
    verdict: Verdict,
    p_value: Option<f64>,
    effect: Option<f64>,
    test: Option<Test>,
    reason: String,
}

/// The three-way rule shared by every limit.
fn decide(over: bool, p: f64, alpha: f64) -> Verdict {
    match (over, p < alpha) {
        (true, true) => Verdict::Fail,
        (true, false) => Verdict::Inconclusive,
        (false, _) => Verdict::Pass,
    }
}

fn p_text(p: f64, alpha: f64) -> String {
    let p_shown = if p < 1e-4 {
        "p < 0.0001".to_owned()
    } else {
        format!("p = {p:.4}")
    };
    let rel = if p < alpha { "<" } else { ">=" };
    format!("{p_shown} {rel} alpha {alpha:.4}")
}

fn response_time(s: &Side, c: &Side, limit: Limit, alpha: f64) -> Outcome {
    let max_increase = match limit {
        Limit::MaxIncrease(v) | Limit::Max(v) => f64::from(v),
    };
    let mw = stats::mann_whitney(&s.keys, &c.keys);
    let zero_heavy = s.summary.median_ms == Some(0.0);
    let (center, what): (fn(&Summary) -> Option<f64>, _) = if zero_heavy {
        (|x| x.mean_ms, "mean")
    } else {
        (|x| x.median_ms, "median")
    };
    let center = |x: &Summary| center(x).unwrap_or(0.0);
    let (cs, cc) = (center(&s.summary), center(&c.summary));
    let effect = (cc - cs) / cs.max(RESOLUTION_MS) * 100.0;
    let verdict = decide(effect > max_increase, mw.p, alpha);
    let numbers = format!(
        "candidate {what} {cc:.1} ms vs stable {cs:.1} ms ({effect:+.1}%, limit +{max_increase}%), {}",
        p_text(mw.p, alpha)
    );
    let reason = match verdict {
        Verdict::Fail => format!("slower beyond the limit: {numbers}"),
        Verdict::Inconclusive => format!("over the limit but not significant yet: {numbers}"),
        Verdict::Pass if mw.p < alpha => format!("slower but within the limit: {numbers}"),
        Verdict::Pass => format!("no significant slowdown: {numbers}"),
    };
    Outcome {
        verdict,
        p_value: Some(mw.p),
        effect: Some(effect),
        test: Some(if mw.exact {
            Test::MannWhitneyExact
        } else {
            Test::MannWhitneyNormal
        }),
        reason,
    }
}

fn error_rate(s: &Side, c: &Side, limit: Limit, alpha: f64) -> Outcome {
    let rate = |x: &Summary| x.error_percent.unwrap_or(0.0);
    let (rs, rc) = (rate(&s.summary), rate(&c.summary));
    let (effect, value, p, test, numbers) = match limit {
        Limit::Max(max) => {
            let p = stats::binomial_sf(c.summary.errors, c.summary.n, f64::from(max) / 100.0);
            let numbers = format!(
                "candidate {rc:.2}% errors ({} of {}), cap {max}%, {}",
                c.summary.errors,
                c.summary.n,
                p_text(p, alpha)
            );
            (rc, max, p, Test::BinomialExact, numbers)
        }
        Limit::MaxIncrease(max) => {
            let table = stats::Table {
                stable_errors: s.summary.errors,
                stable_n: s.summary.n,
                candidate_errors: c.summary.errors,
                candidate_n: c.summary.n,
            };
            let (p, test) = if table.min_expected() < 5.0 {
                (stats::fisher_greater(table), Test::FisherExact)
            } else {
                (stats::two_proportion_greater(table), Test::TwoProportionZ)
            };
            let numbers = format!(
                "candidate {rc:.2}% vs stable {rs:.2}% errors ({:+.2} points, limit +{max} points), {}",
                rc - rs,
                p_text(p, alpha)
            );
            (rc - rs, max, p, test, numbers)
        }
    };
    let verdict = decide(effect > f64::from(value), p, alpha);
    let reason = match verdict {
        Verdict::Fail => format!("errors beyond the limit: {numbers}"),
        Verdict::Inconclusive => format!("over the limit but not significant yet: {numbers}"),
        Verdict::Pass => format!("within the limit: {numbers}"),
    };
    Outcome {
        verdict,
        p_value: Some(p),
        effect: Some(effect),
        test: Some(test),
        reason,
    }
}
