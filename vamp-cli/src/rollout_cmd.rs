//! `vamp rollout plan` and `vamp rollout replay`: a rollout's timeline, and
//! the verdicts its judge would have given on recorded access logs.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use serde_json::json;
use vamp_model::rollout::{OnFailure, Rollout};
use vamp_model::{Artifact, Code, Diagnostic, Document, Kind};
use vamp_sla::judge::plan::plan;
use vamp_sla::judge::replay::{replay, Replay, State};
use vamp_sla::judge::{Limit, MetricName, Verdict};
use vamp_sla::time::format_rfc3339;

use crate::{print_json, read_input, render};

/// Output format of `vamp rollout`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RolloutFormat {
    Human,
    Json,
}

/// Commands of this area.
#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Rollouts: a canary release's timeline and its judge on recorded logs.
    Rollout {
        #[command(subcommand)]
        cmd: RolloutCmd,
    },
}

/// `vamp rollout ...`
#[derive(Subcommand)]
pub(crate) enum RolloutCmd {
    /// Print the timeline of a rollout: each step's weights, when it starts
    /// and when it is judged at the earliest and (waiting `max_wait` for
    /// data at every step) at the latest, in seconds from the start.
    Plan {
        /// The rollout file (`-` reads standard input).
        file: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: RolloutFormat,
    },
    /// Replay a rollout over recorded HAProxy JSON access logs and print
    /// the verdicts its judge would have given, step by step.
    ///
    /// Requests count when their route backend is the rollout's deployment,
    /// cluster and port, and their service is `from` or `to`. The first step
    /// starts at the first such request.
    Replay {
        /// The rollout file.
        file: String,
        /// The access log, one JSON object a line (`-` reads standard input).
        #[arg(long)]
        logs: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: RolloutFormat,
    },
}

/// Runs a command of this area.
pub(crate) fn run(cmd: Cmd) -> ExitCode {
    let Cmd::Rollout { cmd } = cmd;
    let (file, result) = match cmd {
        RolloutCmd::Plan { file, format } => {
            let r = read_rollout(&file).map(|r| show_plan(&r, format));
            (file, r)
        }
        RolloutCmd::Replay { file, logs, format } => {
            let r = if file == "-" && logs == "-" {
                Err((
                    vec![Diagnostic::error(
                        Code::InvalidArgument,
                        "only one of FILE and --logs can be `-`",
                    )],
                    None,
                ))
            } else {
                read_rollout(&file).and_then(|r| {
                    let out = read_logs(&logs, &r.spec).map_err(|d| (vec![d], None))?;
                    show_replay(&r, &out, &logs, format);
                    Ok(())
                })
            };
            (file, r)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((diagnostics, src)) => {
            for d in &diagnostics {
                eprint!("{}", render::render(d, &file, src.as_deref()));
            }
            ExitCode::FAILURE
        }
    }
}

/// Diagnostics and the source they point into.
type Failure = (Vec<Diagnostic>, Option<String>);

/// The one rollout of `file`.
fn read_rollout(file: &str) -> Result<Artifact<Rollout>, Failure> {
    let bytes = read_input(file).map_err(|d| (vec![d], None))?;
    let out = vamp_dsl::read_bytes(
        &bytes,
        vamp_dsl::ReadOptions {
            kind: Some(Kind::Rollout),
            ..Default::default()
        },
    );
    let src = String::from_utf8(bytes).ok();
    if out.first_error().is_some() {
        return Err((out.errors().cloned().collect(), src));
    }
    let mut docs = out.documents.into_iter();
    match (docs.next(), docs.next()) {
        (Some(Document::Rollout(r)), None) => Ok(r),
        _ => Err((
            vec![Diagnostic::error(
                Code::InvalidArgument,
                format!("`{file}` should hold exactly one rollout"),
            )],
            src,
        )),
    }
}

fn read_logs(logs: &str, rollout: &Rollout) -> Result<Replay, Diagnostic> {
    let input: Box<dyn Read> = if logs == "-" {
        Box::new(std::io::stdin())
    } else {
        let f = std::fs::File::open(logs)
            .map_err(|e| Diagnostic::error(Code::Io, format!("cannot read `{logs}`: {e}")))?;
        Box::new(f)
    };
    let mut failed = None;
    let lines = BufReader::new(input)
        .split(b'\n')
        .map_while(|l| l.map_err(|e| failed = Some(e)).ok())
        .map(|mut l| {
            if l.last() == Some(&b'\r') {
                l.pop();
            }
            l
        });
    let out = replay(rollout, lines);
    match failed {
        Some(e) => Err(Diagnostic::error(
            Code::Io,
            format!("cannot read `{logs}`: {e}"),
        )),
        None => Ok(out),
    }
}

/// `90` as `1m30s`.
fn duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::new();
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if s > 0 || out.is_empty() {
        let _ = write!(out, "{s}s");
    }
    out
}

fn header(name: &str, r: &Rollout) -> String {
    let port = r.port.as_deref().unwrap_or("(its only port)");
    format!(
        "rollout {name}: deployment {}, cluster {}, port {port}\n  {} -> {}, judged after {} per step, waiting up to {} more for {} requests per side",
        r.deployment,
        r.cluster,
        r.from,
        r.to,
        duration(r.interval),
        duration(r.analysis.max_wait),
        r.analysis.min_samples
    )
}

fn show_plan(r: &Artifact<Rollout>, format: RolloutFormat) {
    let steps = plan(&r.spec);
    if format == RolloutFormat::Json {
        print_json(&json!({"rollout": r.name, "steps": steps}));
        return;
    }
    println!("{}\n", header(&r.name, &r.spec));
    let (from, to) = (&r.spec.from, &r.spec.to);
    let wf = from.len().max(6);
    let wt = to.len().max(6);
    println!(
        "{:>4}  {from:>wf$}  {to:>wt$}  {:>9}  {:>9}  {:>13}",
        "step", "starts", "judged", "judged latest"
    );
    for s in &steps {
        let pct = |w: u8| format!("{w}%");
        // the last step is the promotion, at its start
        let (judged, latest) = match (s.end, s.latest_end) {
            (Some(e), Some(l)) => (duration(e), duration(l)),
            _ => ("promoted".to_owned(), duration(s.latest_start)),
        };
        println!(
            "{:>4}  {:>wf$}  {:>wt$}  {:>9}  {judged:>9}  {latest:>13}",
            s.step,
            pct(s.from),
            pct(s.to),
            duration(s.start),
        );
    }
}

fn show_replay(r: &Artifact<Rollout>, out: &Replay, logs: &str, format: RolloutFormat) {
    if format == RolloutFormat::Json {
        let mut v = serde_json::to_value(out).unwrap_or_default();
        v["rollout"] = json!(r.name);
        print_json(&v);
        return;
    }
    println!("{}", header(&r.name, &r.spec));
    let l = &out.lines;
    println!(
        "{logs}: {} line(s): {} stable and {} candidate request(s), {} other, {} malformed",
        l.lines, l.stable, l.candidate, l.other, l.malformed
    );
    let first = out.first_ms.unwrap_or(0);
    if out.first_ms.is_some() {
        println!("first request at {}", format_rfc3339(first));
    }
    let offset = |ms: u64| format!("+{}", duration(ms.saturating_sub(first) / 1000));
    for s in &out.steps {
        let judged = match s.judged_ms {
            Some(at) => format!("judged at {}", offset(at)),
            None => "logs end before a verdict".to_owned(),
        };
        println!(
            "\nstep {} ({}%) from {}, {judged}: {}",
            s.step,
            s.weight,
            offset(s.start_ms),
            verdict(s.judgement.verdict)
        );
        for m in &s.judgement.metrics {
            let name = match m.name {
                MetricName::ResponseTime => "response_time",
                MetricName::ErrorRate => "error_rate",
            };
            let limit = match m.limit {
                Limit::Max(v) => format!("max {v}%"),
                Limit::MaxIncrease(v) => format!("max_increase {v}%"),
            };
            println!(
                "  {name:<13} {limit:<16} {:<12} {}",
                verdict(m.verdict),
                m.reason
            );
        }
    }
    let end = match out.state {
        State::Promoted => "promoted",
        State::RolledBack if r.spec.on_failure == OnFailure::Undeploy => {
            "rolled back (on_failure: undeploy)"
        }
        State::RolledBack => "rolled back",
        State::Held => "held (still inconclusive after max_wait)",
        State::Running => "running (the logs end before the step's interval)",
        State::WaitingForData => "waiting for data (the logs end within max_wait)",
    };
    println!("\n{end}");
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Inconclusive => "inconclusive",
    }
}
