//! `vamp sla evaluate`: replay an access log through the SLAs of a blueprint
//! and print the events and scale actions, with their timestamps.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use vamp_model::{Code, Diagnostic, ScaleResource};
use vamp_sla::time::format_rfc3339;
use vamp_sla::{CannotScaleReason, Engine, EngineOptions, IngestStats, Output, Registry};

use crate::input::read_blueprint;
use crate::render::CliError;

/// Output format of `vamp sla evaluate`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SlaFormat {
    Human,
    Json,
}

/// Commands of this area.
#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// SLA evaluation: replay logs through a blueprint's SLAs.
    Sla {
        #[command(subcommand)]
        cmd: SlaCmd,
    },
}

/// `vamp sla ...`
#[derive(Subcommand)]
pub(crate) enum SlaCmd {
    /// Replay a log file through the SLAs of a blueprint and print the events
    /// and scale actions in time order.
    ///
    /// The log holds one JSON object a line: HAProxy access-log records (the
    /// cluster and service come from the route backend name
    /// `DEPLOYMENT/CLUSTER/PORT/SERVICE`, `/` written `_2f`) or plain samples
    /// `{"timestamp": <unix seconds or RFC 3339>, "cluster": "sava",
    /// "service": "sava:1.0.0", "response_time": <ms>, "status": 200}`.
    /// Malformed lines are counted and skipped. Scaling starts from the
    /// blueprint's scale; each action applies to the state the previous left.
    Evaluate {
        /// The blueprint file (`-` reads standard input).
        #[arg(long)]
        blueprint: String,
        /// The log file (`-` reads standard input).
        #[arg(long)]
        logs: String,
        /// Output format: `json` prints one object a line.
        #[arg(long, value_enum, default_value = "human")]
        format: SlaFormat,
        /// Seconds between SLA evaluations.
        #[arg(long, default_value_t = 1)]
        period: u64,
    },
}

/// Runs a command of this area.
pub(crate) fn run(cmd: Cmd) -> ExitCode {
    match cmd {
        Cmd::Sla {
            cmd:
                SlaCmd::Evaluate {
                    blueprint,
                    logs,
                    format,
                    period,
                },
        } => match evaluate(&blueprint, &logs, format, period) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                e.report(false);
                ExitCode::FAILURE
            }
        },
    }
}

/// A line longer than this is malformed (and its memory is not kept).
const MAX_LINE: usize = 1 << 20;

fn open(file: &str) -> Result<Box<dyn Read>, CliError> {
    if file == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    std::fs::File::open(file)
        .map(|f| Box::new(f) as Box<dyn Read>)
        .map_err(|e| io_error(format!("cannot read `{file}`: {e}")))
}

fn io_error(message: String) -> CliError {
    Diagnostic::error(Code::Io, message).into()
}

fn evaluate(blueprint: &str, logs: &str, format: SlaFormat, period: u64) -> Result<(), CliError> {
    if blueprint == "-" && logs == "-" {
        return Err(Diagnostic::error(
            Code::Usage,
            "only one of --blueprint and --logs can be `-`",
        )
        .into());
    }
    let (blueprint, _) = read_blueprint(blueprint)?;
    let options = EngineOptions {
        period_seconds: period.max(1),
    };
    let mut engine = Engine::from_blueprint(&blueprint.spec, &Registry::with_builtins(), options)?;
    #[allow(clippy::print_stderr)]
    for n in engine.notices() {
        eprintln!("warning: cluster `{}`: {}", n.cluster, n.message);
    }

    let mut reader = BufReader::with_capacity(1 << 16, open(logs)?);
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let mut out = Vec::new();
    let mut line = Vec::with_capacity(512);
    let io = |e: std::io::Error| io_error(format!("cannot read `{logs}`: {e}"));
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(io)?;
        if n == 0 {
            break;
        }
        if line.len() > MAX_LINE && line.last() != Some(&b'\n') {
            // Too long: skip to the end of the line, count it as malformed.
            skip_line(&mut reader).map_err(io)?;
            engine.ingest_line(b"", &mut out);
        } else {
            // One line: its line break dropped, skipped when blank.
            engine.ingest_text(&line, &mut out);
        }
        if !out.is_empty() {
            print(&mut w, &out, format)?;
            out.clear();
        }
    }
    engine.finish(&mut out);
    print(&mut w, &out, format)?;
    let stats = engine.stats();
    match format {
        SlaFormat::Human => writeln!(w, "{}", summary(&stats)).map_err(write_err)?,
        #[allow(clippy::print_stderr)]
        SlaFormat::Json => eprintln!("{}", summary(&stats)),
    }
    w.flush().map_err(write_err)
}

fn skip_line(r: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            r.consume(i + 1);
            return Ok(());
        }
        let n = buf.len();
        r.consume(n);
    }
}

fn write_err(e: std::io::Error) -> CliError {
    io_error(format!("cannot write: {e}"))
}

fn summary(s: &IngestStats) -> String {
    format!(
        "{} line(s): {} sample(s) counted, {} malformed (skipped), {} not a route backend, {} unknown cluster, {} unknown service, {} late",
        s.lines, s.samples, s.malformed, s.not_route, s.unknown_cluster, s.unknown_service, s.late
    )
}

fn num(r: ScaleResource, v: f64) -> String {
    match r {
        ScaleResource::Instances => format!("{}", v.round() as u64),
        ScaleResource::Cpu => format!("{v} cpu"),
        ScaleResource::Memory => format!("{v} MB"),
    }
}

fn human(o: &Output) -> String {
    let at = format_rfc3339(o.timestamp_ms());
    match o {
        Output::Event(e) => format!("{at}  {:<20} {}", e.cluster, e.direction),
        Output::Scale(a) => format!(
            "{at}  {:<20} {} {}: {} -> {}",
            a.cluster,
            a.resource.as_str(),
            a.service,
            num(a.resource, a.from),
            num(a.resource, a.to)
        ),
        Output::CannotScale(c) => {
            let what = match c.reason {
                CannotScaleReason::Limit {
                    current,
                    minimum,
                    maximum,
                } => format!(
                    "cannot scale further ({} within [{}, {}])",
                    num(c.resource, current),
                    num(c.resource, minimum),
                    num(c.resource, maximum)
                ),
                CannotScaleReason::UnknownCluster => "cannot scale: no such cluster".into(),
                CannotScaleReason::NoService => "cannot scale: the cluster has no service".into(),
                CannotScaleReason::UnknownScale => {
                    "cannot scale: the scale is a reference the blueprint does not define".into()
                }
                CannotScaleReason::InvalidStep => "cannot scale: scale_by is not positive".into(),
            };
            format!(
                "{at}  {:<20} {} ({}) {what}",
                c.cluster,
                c.resource.as_str(),
                c.direction
            )
        }
        Output::Custom(c) => format!("{at}  {:<20} {} {}", c.cluster, c.escalation_type, c.detail),
        Output::Unsupported(u) => format!(
            "{at}  {:<20} escalation `{}` is not supported: nothing done",
            u.cluster, u.escalation_type
        ),
    }
}

fn print(w: &mut impl Write, out: &[Output], format: SlaFormat) -> Result<(), CliError> {
    for o in out {
        match format {
            SlaFormat::Json => writeln!(w, "{}", o.to_json()),
            SlaFormat::Human => writeln!(w, "{}", human(o)),
        }
        .map_err(write_err)?;
    }
    Ok(())
}
