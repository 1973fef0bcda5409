//! The `vamp` command: read, check and expand Vamp artifacts, evaluate
//! conditions, route requests, export gateways, evaluate SLAs and drive
//! deployments.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod drive_cmd;
mod import_cmd;
mod input;
mod render;
mod resolve_cmd;
mod rollout_cmd;
mod route_cmd;
mod serve_cmd;
mod sla_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use vamp_dsl::{read_bytes, Outcome, ReadOptions};
use vamp_model::{Code, Diagnostic};

pub(crate) use input::read_input;

#[derive(Parser)]
#[command(
    name = "vamp",
    version,
    about = "Vamp: canary releases and A/B tests from one YAML DSL"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Print the canonical JSON of a document (`-` reads standard input).
    Canonical {
        /// The kind of artifact: breed, blueprint, gateway, scale, sla, ...
        kind: String,
        /// The file to read, or `-`.
        file: String,
    },
    /// Print a condition's syntax tree, or whether it matches a request.
    Condition {
        /// The condition expression.
        expression: String,
        /// A request as JSON: `{"headers": {...}, "cookies": {...}, "host": ...}`.
        #[arg(long)]
        request: Option<String>,
    },
    /// Check documents and report every problem with its position.
    Check {
        /// Files to check (`-` reads standard input).
        #[arg(required = true)]
        files: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Resolving blueprints against a store, deployments and revisions.
    #[command(flatten)]
    Resolve(resolve_cmd::Cmd),
    /// Routing decisions, traffic simulation and proxy export.
    #[command(flatten)]
    Route(route_cmd::Cmd),
    /// SLA evaluation.
    #[command(flatten)]
    Sla(sla_cmd::Cmd),
    /// Planning and applying deployments with a driver.
    #[command(flatten)]
    Drive(drive_cmd::Cmd),
    /// Importing blueprints from other formats (Docker Compose).
    #[command(flatten)]
    Import(import_cmd::Cmd),
    /// Rollout timelines and replays.
    #[command(flatten)]
    Rollout(rollout_cmd::Cmd),
    /// Run the Vamp server (the original's v1 REST API) until SIGTERM/SIGINT.
    Serve(serve_cmd::Cmd),
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    match cli.command {
        Command::Canonical { kind, file } => canonical(&kind, &file),
        Command::Condition {
            expression,
            request,
        } => condition(&expression, request.as_deref()),
        Command::Check { files, format } => check(&files, format),
        Command::Resolve(cmd) => resolve_cmd::run(cmd),
        Command::Route(cmd) => route_cmd::run(cmd),
        Command::Sla(cmd) => sla_cmd::run(cmd),
        Command::Drive(cmd) => drive_cmd::run(cmd),
        Command::Import(cmd) => import_cmd::run(cmd),
        Command::Rollout(cmd) => rollout_cmd::run(cmd),
        Command::Serve(cmd) => serve_cmd::run(cmd),
    }
}

/// `vamp ... | head` closes our stdout early; `println!` then panics with
/// "Broken pipe". Treat that as the reader being done, like other tools do.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn error_json(first: &Diagnostic, all: &[&Diagnostic]) -> Value {
    let mut v = json!({ "error": first.to_json() });
    if all.len() > 1 {
        v["errors"] = Value::Array(all.iter().map(|d| d.to_json()).collect());
    }
    v
}

fn canonical(kind: &str, file: &str) -> ExitCode {
    let result = vamp_dsl::canonical::parse_kind(kind)
        .and_then(|kind| Ok((kind, read_input(file)?)))
        .map_err(|d| vec![d])
        .and_then(|(kind, bytes)| vamp_dsl::canonical::canonical(kind, &bytes));
    match result {
        Ok(json) => {
            print_json(&json);
            ExitCode::SUCCESS
        }
        Err(errors) => {
            let all: Vec<&Diagnostic> = errors.iter().collect();
            if let Some(first) = all.first() {
                print_json(&error_json(first, &all));
            }
            ExitCode::FAILURE
        }
    }
}

fn condition(expression: &str, request: Option<&str>) -> ExitCode {
    let fail = |d: Diagnostic| {
        print_json(&error_json(&d, &[&d]));
        ExitCode::FAILURE
    };
    let tree = match vamp_dsl::condition::parse(expression) {
        Ok(t) => t,
        Err(d) => return fail(d),
    };
    let Some(request) = request else {
        print_json(&serde_json::to_value(&tree).unwrap_or(Value::Null));
        return ExitCode::SUCCESS;
    };
    let value: Value = match serde_json::from_str(request) {
        Ok(v) => v,
        Err(e) => {
            return fail(Diagnostic::error(
                Code::UnexpectedType,
                format!("`--request` is not JSON: {e}"),
            ))
        }
    };
    let owned = match vamp_router::request::OwnedRequest::from_json(&value) {
        Ok(r) => r,
        Err(d) => return fail(d),
    };
    match vamp_router::matching::matches(&tree, &owned.as_request()) {
        Ok(m) => {
            print_json(&json!({ "matches": m }));
            ExitCode::SUCCESS
        }
        Err(d) => fail(d),
    }
}

fn check(files: &[String], format: Format) -> ExitCode {
    let mut any_error = false;
    let mut json_out = Vec::new();
    for file in files {
        let (out, src) = match read_input(file) {
            Ok(bytes) => {
                let out = read_bytes(&bytes, ReadOptions::default());
                (out, String::from_utf8(bytes).ok())
            }
            Err(d) => (
                Outcome {
                    documents: Vec::new(),
                    diagnostics: vec![d],
                },
                None,
            ),
        };
        any_error |= out.first_error().is_some();
        match format {
            Format::Human => {
                for d in &out.diagnostics {
                    eprint!("{}", render::render(d, file, src.as_deref()));
                }
                let errors = out.errors().count();
                let warnings = out.diagnostics.len() - errors;
                println!(
                    "{file}: {} document(s) read, {errors} error(s), {warnings} warning(s)",
                    out.documents.len()
                );
            }
            Format::Json => json_out.push(json!({
                "file": file,
                "documents": out.documents.iter().map(|d| json!({"kind": d.kind().as_str(), "name": d.name()})).collect::<Vec<_>>(),
                "diagnostics": out.diagnostics.iter().map(Diagnostic::to_full_json).collect::<Vec<_>>(),
            })),
        }
    }
    if format == Format::Json {
        print_json(&Value::Array(json_out));
    }
    if any_error {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
