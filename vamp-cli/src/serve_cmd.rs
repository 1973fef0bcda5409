//! `vamp serve`: runs the Vamp server until SIGTERM or SIGINT.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use vamp_drivers::{Driver, MemoryDriver};
use vamp_server::gateway::Options as GatewayOptions;
use vamp_server::{Config, GatewaySink, HaproxyGateway, NoGateway, Server};

/// `vamp serve` options.
#[derive(Args)]
pub(crate) struct Cmd {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: std::net::SocketAddr,
    /// Folder where artifacts, deployments and gateways are kept.
    #[arg(long, default_value = ".vamp/server", value_name = "DIR")]
    store: String,
    /// Driver: memory, docker, kubernetes or marathon.
    #[arg(long, default_value = "memory")]
    driver: String,
    /// Gateway: haproxy or none (default: haproxy when it is on the PATH).
    #[arg(long)]
    gateway: Option<String>,
    /// Folder holding `vamp-node-client` and `highland` for workflows, as
    /// `bindings/node/client/install-runtime.sh DIR` prepares it
    /// [default: `STORE/node_modules`].
    #[arg(long, value_name = "DIR")]
    node_modules: Option<std::path::PathBuf>,
    /// Do not write the default `metrics` and `health` breeds and workflows
    /// on first start with an empty store.
    #[arg(long)]
    no_default_artifacts: bool,
    /// Also serve every gateway's virtual hosts on this port (Host header
    /// routing; with `--gateway haproxy`).
    #[arg(long, value_name = "PORT")]
    virtual_hosts_port: Option<u16>,
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// Runs the server.
pub(crate) fn run(cmd: Cmd) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error[io]: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(cmd)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => {
            eprintln!("{m}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(cmd: Cmd) -> Result<(), String> {
    let gateway = match cmd.gateway.as_deref() {
        Some("none") => "none",
        Some("haproxy") => "haproxy",
        Some(other) => {
            return Err(format!(
                "error[invalid_argument]: unknown gateway `{other}`: use haproxy or none"
            ))
        }
        None if on_path("haproxy") => "haproxy",
        None => {
            eprintln!("vamp serve: haproxy is not on the PATH: gateways are stored but not served (--gateway none)");
            "none"
        }
    };
    let driver: Arc<dyn Driver> = match cmd.driver.as_str() {
        "memory" => Arc::new(MemoryDriver::new()),
        other => crate::drive_cmd::shared_driver(other)
            .await
            .map_err(|(code, message)| format!("error[{code}]: {message}"))?,
    };
    let mut config = Config::new(&cmd.store);
    config.listen = cmd.listen;
    config.gateway = gateway.to_owned();
    let modules = cmd
        .node_modules
        .clone()
        .unwrap_or_else(|| std::path::Path::new(&cmd.store).join("node_modules"));
    if !on_path("node") {
        eprintln!("vamp serve: node is not on the PATH: workflows are stored but fail to start (install Node.js >= 18)");
    } else if !modules.join("vamp-node-client").is_dir() {
        eprintln!(
            "vamp serve: {} holds no vamp-node-client: workflows that require it fail (run bindings/node/client/install-runtime.sh {})",
            modules.display(),
            modules.display()
        );
    }
    config.workflow.node_modules = Some(std::path::absolute(&modules).unwrap_or(modules));
    config.workflow.inherit_env = vamp_server::config::INHERITED
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
        .collect();
    if on_path("nice") {
        config.workflow.nice = vec!["nice".into(), "-n".into(), "10".into()];
    }
    config.workflow.default_artifacts = !cmd.no_default_artifacts;
    let sink: Arc<dyn GatewaySink> = if gateway == "haproxy" {
        let mut options = GatewayOptions::new(std::path::Path::new(&cmd.store).join("haproxy"));
        options.virtual_hosts_port = cmd.virtual_hosts_port;
        Arc::new(HaproxyGateway::new(options))
    } else {
        Arc::new(NoGateway)
    };
    let server = Server::bind(config, driver, sink)
        .await
        .map_err(|e| format!("error[io]: {e}"))?;
    for p in server.problems() {
        eprintln!("vamp serve: skipped a stored record: {p}");
    }
    eprintln!(
        "vamp serve: listening on http://{}/api/v1",
        server.local_addr()
    );
    server
        .run(stopped())
        .await
        .map_err(|e| format!("error[io]: {e}"))
}

/// Completes on SIGTERM or SIGINT.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
