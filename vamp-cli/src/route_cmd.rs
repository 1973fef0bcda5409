//! `vamp route`, `vamp simulate` and `vamp export haproxy`: routing
//! decisions, traffic simulation and proxy export for gateways.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::Value;
use vamp_dsl::{read_bytes, ReadOptions};
use vamp_model::{Code, Diagnostic};
use vamp_router::documents::{decide, decision_json, name_the_gateway, pick, Gateways};
use vamp_router::engine::{targets_from_json, SplitMix64, Targets};
use vamp_router::export::haproxy::ExportOptions;
use vamp_router::request::OwnedRequest;
use vamp_router::simulate::{simulate, Traffic};

use crate::{error_json, print_json, read_input};

/// Commands of this area.
#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Decide where one request to a gateway goes (route, instance, cookies, rewrite).
    Route {
        /// A file of gateway documents (`-` reads standard input).
        gateway_file: String,
        /// The request as JSON: `{"headers": {...}, "cookies": {...}, "host": ..., "path": ...}`.
        #[arg(long)]
        request: String,
        /// The gateway to use when the file holds several (default: by the
        /// request's host among virtual hosts, else the only gateway).
        #[arg(long)]
        gateway: Option<String>,
        /// Route targets as JSON: `{"ROUTE": [{"name", "host", "port", "weight"}]}`.
        #[arg(long)]
        targets: Option<String>,
        /// Seed of the random draws (default: from the clock).
        #[arg(long, conflicts_with = "key")]
        seed: Option<u64>,
        /// Decide by consistent hashing of this key (a user id) instead of at random.
        #[arg(long)]
        key: Option<String>,
    },
    /// Split a traffic mix over a gateway's routes and instances, exactly and by sampling.
    Simulate {
        /// A file of gateway documents (`-` reads standard input).
        gateway_file: String,
        /// The traffic: a JSON list of requests or `{"share": N, "request": {...}}`
        /// entries, `{"requests": [...]}`, or one request JSON per line.
        #[arg(long)]
        traffic: String,
        /// How many decisions to sample.
        #[arg(long, default_value_t = 10_000)]
        samples: u64,
        /// Seed of the sampling.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The gateway to use when the file holds several.
        #[arg(long)]
        gateway: Option<String>,
        /// Route targets as JSON (see `vamp route --help`).
        #[arg(long)]
        targets: Option<String>,
    },
    /// Render gateways to a proxy configuration.
    Export {
        /// The proxy.
        #[command(subcommand)]
        proxy: Proxy,
    },
}

/// The proxies `vamp export` renders for.
#[derive(Subcommand)]
pub(crate) enum Proxy {
    /// A complete haproxy.cfg for every gateway in the files.
    Haproxy {
        /// Files of gateway documents (conditions and rewrites they refer to may be in them too).
        #[arg(required = true)]
        files: Vec<String>,
        /// Write the configuration here instead of standard output.
        #[arg(short, long)]
        output: Option<String>,
        /// Route targets as JSON (see `vamp route --help`).
        #[arg(long)]
        targets: Option<String>,
        /// The address the frontends bind.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// The port of the shared virtual-hosts frontend.
        #[arg(long, default_value_t = 80)]
        virtual_hosts_port: u16,
        /// No health checks on the servers.
        #[arg(long)]
        no_health_checks: bool,
    },
    /// The Kubernetes Deployments and Services a blueprint maps to, as
    /// multi-document YAML (the objects `--driver kubernetes` writes).
    Kubernetes {
        /// The blueprint file (`-` reads standard input).
        file: String,
        /// Namespace to put in the objects (default: none, kubectl's current one).
        #[arg(long)]
        namespace: Option<String>,
        /// Write the YAML here instead of standard output.
        #[arg(short, long)]
        output: Option<String>,
    },
}

/// Runs a command of this area.
pub(crate) fn run(cmd: Cmd) -> ExitCode {
    let result = match cmd {
        // Rendered by the drivers' area (vamp-drivers, feature `kubernetes`).
        Cmd::Export {
            proxy:
                Proxy::Kubernetes {
                    file,
                    namespace,
                    output,
                },
        } => {
            return crate::drive_cmd::export_kubernetes(
                &file,
                namespace.as_deref(),
                output.as_deref(),
            )
        }
        Cmd::Route {
            gateway_file,
            request,
            gateway,
            targets,
            seed,
            key,
        } => route(
            &gateway_file,
            &request,
            gateway.as_deref(),
            targets.as_deref(),
            seed,
            key.as_deref(),
        ),
        Cmd::Simulate {
            gateway_file,
            traffic,
            samples,
            seed,
            gateway,
            targets,
        } => simulate_cmd(
            &gateway_file,
            &traffic,
            samples,
            seed,
            gateway.as_deref(),
            targets.as_deref(),
        ),
        Cmd::Export {
            proxy:
                Proxy::Haproxy {
                    files,
                    output,
                    targets,
                    bind,
                    virtual_hosts_port,
                    no_health_checks,
                },
        } => export_haproxy(
            &files,
            output.as_deref(),
            targets.as_deref(),
            ExportOptions {
                bind_address: bind,
                virtual_hosts_port: Some(virtual_hosts_port),
                health_checks: !no_health_checks,
                ..ExportOptions::default()
            },
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(d) => {
            print_json(&error_json(&d, &[&d]));
            ExitCode::FAILURE
        }
    }
}

/// The gateways of files, with the conditions and rewrites of all of them.
fn read_files(files: &[String]) -> Result<Gateways, Diagnostic> {
    let mut inputs = Gateways::default();
    for file in files {
        let bytes = read_input(file)?;
        let out = read_bytes(&bytes, ReadOptions::default());
        if let Some(e) = out.first_error() {
            return Err(Diagnostic {
                message: format!("{file}: {}", e.message),
                ..e.clone()
            });
        }
        inputs.add(&out.documents);
    }
    if inputs.gateways.is_empty() {
        return Err(Diagnostic::error(
            Code::InconsistentArtifactKind,
            format!("no gateway in {}", files.join(", ")),
        ));
    }
    Ok(inputs)
}

fn read_targets(file: Option<&str>) -> Result<Option<Targets>, Diagnostic> {
    let Some(file) = file else { return Ok(None) };
    let bytes = read_input(file)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Diagnostic::error(Code::UnexpectedType, format!("{file} is not JSON: {e}")))?;
    targets_from_json(&value).map(Some)
}

/// The picking errors, with the option that resolves them.
fn gateway_help(d: Diagnostic) -> Diagnostic {
    name_the_gateway(d, "--gateway")
}

fn route(
    file: &str,
    request: &str,
    gateway: Option<&str>,
    targets: Option<&str>,
    seed: Option<u64>,
    key: Option<&str>,
) -> Result<(), Diagnostic> {
    let inputs = read_files(&[file.to_owned()])?;
    let targets = read_targets(targets)?;
    let engines = inputs.compile_all(targets.as_ref())?;
    let value: Value = serde_json::from_str(request).map_err(|e| {
        Diagnostic::error(
            Code::UnexpectedType,
            format!("`--request` is not JSON: {e}"),
        )
    })?;
    let owned = OwnedRequest::from_json(&value)?;
    let req = owned.as_request();
    let engine = pick(&engines, gateway, Some(&req)).map_err(gateway_help)?;
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let decision = decide(
        engine,
        &req,
        key.map(str::as_bytes),
        &mut SplitMix64::new(seed),
    );
    let out = decision_json(engine, decision.as_ref());
    print_json(&out);
    Ok(())
}

fn simulate_cmd(
    file: &str,
    traffic: &str,
    samples: u64,
    seed: u64,
    gateway: Option<&str>,
    targets: Option<&str>,
) -> Result<(), Diagnostic> {
    let inputs = read_files(&[file.to_owned()])?;
    let targets = read_targets(targets)?;
    let engines = inputs.compile_all(targets.as_ref())?;
    let engine = pick(&engines, gateway, None).map_err(gateway_help)?;
    let bytes = read_input(traffic)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostic::error(Code::UnexpectedType, format!("{traffic} is not UTF-8 text"))
    })?;
    let traffic = match serde_json::from_str::<Value>(&text) {
        Ok(v) => Traffic::from_json(&v)?,
        Err(_) => Traffic::from_json_lines(&text)?,
    };
    print_json(&simulate(engine, &traffic, samples, seed).to_json(engine));
    Ok(())
}

fn export_haproxy(
    files: &[String],
    output: Option<&str>,
    targets: Option<&str>,
    options: ExportOptions,
) -> Result<(), Diagnostic> {
    let inputs = read_files(files)?;
    let targets = read_targets(targets)?;
    let config = inputs.export_haproxy(targets.as_ref(), &options)?;
    match output {
        None => print!("{config}"),
        Some(path) => std::fs::write(path, config)
            .map_err(|e| Diagnostic::error(Code::Io, format!("cannot write `{path}`: {e}")))?,
    }
    Ok(())
}
