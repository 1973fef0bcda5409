//! Replaying a rollout over recorded access logs: the verdicts the judge
//! would have given, step by step.
//!
//! Lines are read by [`crate::parse`]: HAProxy JSON records count when their
//! route backend (`DEPLOYMENT/CLUSTER/PORT/SERVICE`) is the rollout's
//! deployment, cluster and port (any port when the rollout names none) and
//! its service is `from` (stable) or `to` (candidate); plain samples count
//! by `cluster` and `service` (they carry no deployment). Other lines are
//! counted as such, malformed lines too; none is fatal.
//!
//! Time is the logs' own. The first step starts at the first counted
//! request; each step is judged on the requests of its own window
//! `[start, start + interval)`. A step without enough data waits for it (the
//! window grows) until `max_wait` has passed, and a step whose numbers are
//! inconclusive is judged again each second on its grown window; then
//! `on_inconclusive` applies. A passed step starts the next at the moment
//! of its verdict; passing the step before 100% promotes.
//!
//! ```
//! use vamp_model::rollout::{Analysis, Metric, OnFailure, OnInconclusive, Rollout};
//! use vamp_sla::judge::replay::{replay, State};
//! use vamp_sla::parse::RouteBackend;
//! let rollout = Rollout {
//!     deployment: "shop".into(), cluster: "cart".into(), port: None,
//!     from: "cart:1.0".into(), to: "cart:1.1".into(), steps: vec![50, 100], interval: 10,
//!     analysis: Analysis { min_samples: 20, ..Analysis::default() },
//!     on_failure: OnFailure::Rollback, on_inconclusive: OnInconclusive::Hold,
//! };
//! let mut lines = Vec::new();
//! for i in 0..200u32 {
//!     let (service, ms) = if i % 2 == 0 { ("cart:1.0", 100) } else { ("cart:1.1", 300) };
//!     let b = RouteBackend::encode("shop", "cart", "web", service);
//!     lines.push(format!(r#"{{"t": {}, "b": "{b}", "Tt": {}, "ST": 200}}"#, 1_700_000_000 + i / 10, ms + i % 7));
//! }
//! let r = replay(&rollout, lines.iter().map(String::as_bytes));
//! assert_eq!(r.state, State::RolledBack);
//! assert_eq!(r.steps[0].judgement.metrics[0].reason.split(':').next(), Some("slower beyond the limit"));
//! ```

use serde::{Deserialize, Serialize};
use vamp_model::rollout::{OnInconclusive, Rollout};

use super::{judge, Judgement, Sample, Verdict};
use crate::parse::{scan_line, Line, RouteBackend, Scanned};

/// Where the replayed rollout ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Every step passed (or `on_inconclusive: promote`).
    Promoted,
    /// A step failed (or `on_inconclusive: rollback`).
    RolledBack,
    /// A step stayed inconclusive for `max_wait` with `on_inconclusive: hold`.
    Held,
    /// The logs ended before the current step's interval was over.
    Running,
    /// The logs ended while the current step waited for data.
    WaitingForData,
}

/// What the lines held.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCounts {
    /// Lines read (empty lines skipped).
    pub lines: u64,
    /// Lines that could not be read.
    pub malformed: u64,
    /// Well-formed lines of other routes, services or hops.
    pub other: u64,
    /// Requests of the stable service.
    pub stable: u64,
    /// Requests of the candidate.
    pub candidate: u64,
}

/// One replayed step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayedStep {
    /// Index in `steps`.
    pub step: usize,
    /// The candidate's weight, percent.
    pub weight: u8,
    /// Start of the step's window, unix ms.
    pub start_ms: u64,
    /// When the verdict was given, unix ms (None: the logs ended first; the
    /// judgement is then of the requests so far).
    pub judged_ms: Option<u64>,
    /// The verdict and its numbers.
    pub judgement: Judgement,
}

/// The outcome of a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// Where the rollout ended.
    pub state: State,
    /// The first counted request, unix ms (None when no line counted).
    pub first_ms: Option<u64>,
    /// The steps judged, in order.
    pub steps: Vec<ReplayedStep>,
    /// What the lines held.
    pub lines: LineCounts,
}

#[derive(Debug, Clone, Copy)]
struct Timed {
    at_ms: u64,
    candidate: bool,
    sample: Sample,
}

/// Which side a request belongs to, if any.
fn side(rollout: &Rollout, service: &str) -> Option<bool> {
    if service == rollout.to {
        Some(true)
    } else if service == rollout.from {
        Some(false)
    } else {
        None
    }
}

fn read_line(rollout: &Rollout, line: &[u8]) -> Result<Option<Timed>, ()> {
    let timed = |at_ms, candidate, response_time_ms, status| Timed {
        at_ms,
        candidate,
        sample: Sample::new(response_time_ms, status),
    };
    Ok(match scan_line(line).map_err(|_| ())? {
        Scanned::Backend {
            backend,
            timestamp_ms,
            response_time_ms,
            status,
        } => RouteBackend::parse(&backend)
            .filter(|r| {
                r.deployment == rollout.deployment.as_str()
                    && r.cluster == rollout.cluster.as_str()
                    && rollout.port.as_deref().is_none_or(|p| r.port == p)
            })
            .and_then(|r| side(rollout, &r.service))
            .map(|c| timed(timestamp_ms, c, response_time_ms, status)),
        Scanned::Line(Line::Record(r)) => r
            .service
            .as_deref()
            .filter(|_| r.cluster == rollout.cluster.as_str())
            .and_then(|s| side(rollout, s))
            .map(|c| timed(r.timestamp_ms, c, r.response_time_ms, r.status)),
        Scanned::Line(Line::NotRoute) => None,
    })
}

/// Replays `rollout` over access-log lines (one JSON object each, without
/// the line break; the order does not matter).
pub fn replay<I, L>(rollout: &Rollout, lines: I) -> Replay
where
    I: IntoIterator<Item = L>,
    L: AsRef<[u8]>,
{
    let mut counts = LineCounts::default();
    let mut requests = Vec::new();
    for line in lines {
        let line = line.as_ref();
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        counts.lines += 1;
        match read_line(rollout, line) {
            Err(()) => counts.malformed += 1,
            Ok(None) => counts.other += 1,
            Ok(Some(t)) => {
                if t.candidate {
                    counts.candidate += 1;
                } else {
                    counts.stable += 1;
                }
                requests.push(t);
            }
        }
    }
    requests.sort_by_key(|t| t.at_ms);
    let (state, steps) = run(rollout, &requests);
    Replay {
        state,
        first_ms: requests.first().map(|t| t.at_ms),
        steps,
        lines: counts,
    }
}

/// The requests of `[from, to)` split by side.
fn window(requests: &[Timed], from: usize, to: usize) -> (Vec<Sample>, Vec<Sample>) {
    let (mut stable, mut candidate) = (Vec::new(), Vec::new());
    for t in requests.get(from..to).unwrap_or_default() {
        if t.candidate {
            candidate.push(t.sample);
        } else {
            stable.push(t.sample);
        }
    }
    (stable, candidate)
}

/// Index of the first request at or after `at_ms`.
fn index_at(requests: &[Timed], at_ms: u64) -> usize {
    requests.partition_point(|t| t.at_ms < at_ms)
}

fn run(rollout: &Rollout, requests: &[Timed]) -> (State, Vec<ReplayedStep>) {
    let mut steps = Vec::new();
    let Some(first) = requests.first() else {
        return (State::WaitingForData, steps);
    };
    let ms = |s: u64| s.saturating_mul(1000);
    let analysis = &rollout.analysis;
    let end_of_logs = requests.last().map_or(0, |t| t.at_ms);
    let mut start = first.at_ms;
    let judged_steps = rollout.steps.len().saturating_sub(1);
    for (i, &weight) in rollout.steps.iter().take(judged_steps).enumerate() {
        let lo = index_at(requests, start);
        let mut at = start.saturating_add(ms(rollout.interval));
        let deadline = at.saturating_add(ms(analysis.max_wait));
        let mut step = |judgement, judged_ms| {
            steps.push(ReplayedStep {
                step: i,
                weight,
                start_ms: start,
                judged_ms,
                judgement,
            });
        };
        let judgement = loop {
            if end_of_logs < at {
                // the logs end before this moment: show what there is
                let (s, c) = window(requests, lo, requests.len());
                let j = judge(analysis, &s, &c);
                let waiting = at > start.saturating_add(ms(rollout.interval));
                step(j, None);
                let state = if waiting {
                    State::WaitingForData
                } else {
                    State::Running
                };
                return (state, steps);
            }
            let hi = index_at(requests, at);
            let (s, c) = window(requests, lo, hi);
            let j = judge(analysis, &s, &c);
            if j.verdict != Verdict::Inconclusive || at >= deadline {
                break j;
            }
            at = next_look(requests, lo, hi, at, analysis.min_samples).min(deadline);
        };
        let verdict = judgement.verdict;
        step(judgement, Some(at));
        match (verdict, rollout.on_inconclusive) {
            (Verdict::Pass, _) => start = at,
            (Verdict::Fail, _) | (Verdict::Inconclusive, OnInconclusive::Rollback) => {
                return (State::RolledBack, steps)
            }
            (Verdict::Inconclusive, OnInconclusive::Hold) => return (State::Held, steps),
            (Verdict::Inconclusive, OnInconclusive::Promote) => return (State::Promoted, steps),
        }
    }
    (State::Promoted, steps)
}

/// When to judge an inconclusive step again: once both sides can have
/// `min_samples` requests, and at least a second later.
fn next_look(requests: &[Timed], lo: usize, hi: usize, at: u64, min_samples: u64) -> u64 {
    let next_second = at.saturating_add(1000);
    let mut counts = [0u64; 2];
    for t in requests.get(lo..hi).unwrap_or_default() {
        counts[usize::from(t.candidate)] += 1;
    }
    if counts.iter().all(|n| *n >= min_samples) {
        return next_second;
    }
    // the moment both sides have enough
    for t in requests.get(hi..).unwrap_or_default() {
        counts[usize::from(t.candidate)] += 1;
        if counts.iter().all(|n| *n >= min_samples) {
            return next_second.max(t.at_ms.saturating_add(1));
        }
    }
    u64::MAX
}
