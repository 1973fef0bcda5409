//! `vamp plan`, `vamp apply`, `vamp status` and `vamp remove`: drive a
//! deployment with a driver (the in-memory one by default).
//!
//! Blueprints are resolved with [`vamp_deploy::resolve::resolve_blueprint`]
//! against `--store DIR` (a [`DirectoryStore`]) or an empty store, so
//! references to breeds, scales and the like resolve only with `--store`.
//!
//! Each call is a new process, so the CLI keeps its state as JSON under
//! `$VAMP_STATE_DIR` (default `.vamp/`): `memory.json` holds the memory
//! driver's cluster, `deployments/<name>.json` the canonical deployment and
//! the desired state last applied, `<driver>-weights.json` the route weights
//! of drivers that have no gateway of their own.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use vamp_deploy::directory::DirectoryStore;
use vamp_drivers::{
    apply, desired_from_deployment, plan, Desired, DesiredRecord, Driver, MemoryDriver,
    MemoryState, PlanOptions, RetryPolicy, Step, StepEvent,
};
use vamp_model::{Artifact, Code, Deployment, Diagnostic};

use crate::input::read_blueprint;
use crate::render::CliError;

/// An error with a code from the registry and a message, about no file.
fn fail(code: Code, message: impl Into<String>) -> CliError {
    Diagnostic::error(code, message).into()
}

/// Output format of the drive commands.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DriveFormat {
    Human,
    Json,
}

/// Which driver, and how to reach its orchestrator.
#[derive(Args, Clone)]
pub(crate) struct Target {
    /// Driver: memory (default), docker, kubernetes or marathon.
    #[arg(long, default_value = "memory")]
    driver: String,
    /// Kubernetes namespace (default: the kubeconfig context's), or the
    /// Marathon app group (default: `vamp`).
    #[arg(long)]
    namespace: Option<String>,
    /// Marathon URL, e.g. `http://127.0.0.1:8080` (default: `$MARATHON_URL`).
    #[arg(long, value_name = "URL")]
    marathon_url: Option<String>,
}

/// Commands of this area.
#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Print the ordered plan that would take what runs to the blueprint.
    Plan {
        /// The blueprint file (`-` reads standard input).
        file: String,
        #[command(flatten)]
        target: Target,
        /// Folder of stored artifacts the blueprint's references resolve against.
        #[arg(long, value_name = "DIR")]
        store: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: DriveFormat,
    },
    /// Deploy a blueprint: plan and run the plan, with progress.
    Apply {
        /// The blueprint file (`-` reads standard input).
        file: String,
        #[command(flatten)]
        target: Target,
        /// Folder of stored artifacts the blueprint's references resolve against.
        #[arg(long, value_name = "DIR")]
        store: Option<String>,
        /// Seconds a drained instance keeps serving before it stops.
        #[arg(long, default_value_t = 0)]
        drain_period: u64,
    },
    /// Print a deployment with its live instances.
    Status {
        /// Deployment name (the blueprint's name).
        deployment: String,
        #[command(flatten)]
        target: Target,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: DriveFormat,
    },
    /// Undeploy a deployment, draining its instances first.
    Remove {
        /// Deployment name.
        deployment: String,
        #[command(flatten)]
        target: Target,
        /// Seconds a drained instance keeps serving before it stops.
        #[arg(long, default_value_t = 0)]
        drain_period: u64,
    },
}

/// Runs a command of this area.
pub(crate) fn run(cmd: Cmd) -> ExitCode {
    let json_format = matches!(
        cmd,
        Cmd::Plan {
            format: DriveFormat::Json,
            ..
        } | Cmd::Status {
            format: DriveFormat::Json,
            ..
        }
    );
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            CliError::from(Diagnostic::error(
                Code::Io,
                format!("cannot start the async runtime: {e}"),
            ))
            .report(json_format);
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run_async(cmd)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            f.report(json_format);
            ExitCode::FAILURE
        }
    }
}

fn state_dir() -> PathBuf {
    std::env::var_os("VAMP_STATE_DIR").map_or_else(|| PathBuf::from(".vamp"), PathBuf::from)
}

fn io_failure(path: &std::path::Path, e: impl std::fmt::Display) -> CliError {
    fail(
        Code::Io,
        format!(
            "cannot use `{}`: {e}; check the path or set VAMP_STATE_DIR",
            path.display()
        ),
    )
}

fn read_json(path: &std::path::Path) -> Result<Option<Value>, CliError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            io_failure(
                path,
                format!("not valid JSON ({e}); delete it to start afresh"),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_failure(path, e)),
    }
}

fn write_json(path: &std::path::Path, v: &Value) -> Result<(), CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_failure(dir, e))?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(v).map_err(|e| io_failure(path, e))?;
    std::fs::write(&tmp, text).map_err(|e| io_failure(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_failure(path, e))
}

/// A driver plus how to persist it after the command.
enum Selected {
    Memory(MemoryDriver),
    #[cfg(feature = "docker")]
    Docker(vamp_drivers::DockerDriver),
    #[cfg(feature = "kubernetes")]
    Kubernetes(vamp_drivers::KubernetesDriver),
    #[cfg(feature = "marathon")]
    Marathon(vamp_drivers::MarathonDriver),
}

impl Selected {
    fn driver(&self) -> &dyn Driver {
        match self {
            Selected::Memory(d) => d,
            #[cfg(feature = "docker")]
            Selected::Docker(d) => d,
            #[cfg(feature = "kubernetes")]
            Selected::Kubernetes(d) => d,
            #[cfg(feature = "marathon")]
            Selected::Marathon(d) => d,
        }
    }

    /// Keeps what must survive this process: the memory driver's whole
    /// state; for the others (whose instances live in the orchestrator) only
    /// the route weights, since no gateway runs in front of them here.
    fn save(&self) -> Result<(), CliError> {
        let driver = self.driver();
        let (file, value) = match driver.weight_book() {
            Some(book) => (weights_file(driver), serde_json::to_value(book.snapshot())),
            None => match self {
                Selected::Memory(d) => ("memory.json".to_owned(), serde_json::to_value(d.state())),
                #[cfg(any(feature = "docker", feature = "kubernetes", feature = "marathon"))]
                _ => return Ok(()),
            },
        };
        let value = value.map_err(|e| fail(Code::Io, e.to_string()))?;
        write_json(&state_dir().join(file), &value)
    }
}

/// Where the route weights of a driver without a gateway are kept.
fn weights_file(driver: &dyn Driver) -> String {
    format!("{}-weights.json", driver.name())
}

/// Restores the route weights the last run of a driver without a gateway
/// kept (see [`Selected::save`]).
fn restore_weights(selected: Selected) -> Result<Selected, CliError> {
    let driver = selected.driver();
    if let Some(book) = driver.weight_book() {
        let path = state_dir().join(weights_file(driver));
        if let Some(v) = read_json(&path)? {
            let w = serde_json::from_value(v)
                .map_err(|e| io_failure(&path, format!("not a weights file ({e})")))?;
            book.restore(w);
        }
    }
    Ok(selected)
}

#[cfg(feature = "docker")]
async fn select_docker() -> Result<Selected, CliError> {
    let mut opts = vamp_drivers::DockerOptions::default();
    if let Ok(host) = std::env::var("DOCKER_HOST") {
        match host.strip_prefix("unix://") {
            Some(path) => opts.socket = path.to_owned(),
            None => {
                return Err(fail(
                    Code::DriverUnsupported,
                    format!("DOCKER_HOST=`{host}`: the docker driver talks to a local unix socket only; unset DOCKER_HOST or use unix:///path/to/docker.sock"),
                ))
            }
        }
    }
    let d = vamp_drivers::DockerDriver::connect(opts).await?;
    Ok(Selected::Docker(d))
}

#[cfg(not(all(feature = "docker", feature = "kubernetes", feature = "marathon")))]
fn not_built(name: &str) -> CliError {
    fail(
        Code::DriverUnsupported,
        format!(
            "the `{name}` driver is not available in this build: rebuild vamp with `--features {name}` or use `--driver memory`"
        ),
    )
}

#[cfg(feature = "kubernetes")]
async fn select_kubernetes(namespace: Option<String>) -> Result<Selected, CliError> {
    let d = vamp_drivers::KubernetesDriver::connect(vamp_drivers::KubernetesOptions {
        namespace,
        context: None,
    })
    .await?;
    Ok(Selected::Kubernetes(d))
}

#[cfg(feature = "marathon")]
fn select_marathon(group: Option<String>, url: Option<String>) -> Result<Selected, CliError> {
    let url = url
        .or_else(|| std::env::var("MARATHON_URL").ok())
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| {
            fail(
                Code::DriverUnavailable,
                "the marathon driver needs the Marathon URL: pass `--marathon-url http://HOST:8080` or set MARATHON_URL",
            )
        })?;
    let mut opts = vamp_drivers::MarathonOptions::new(url);
    if let Some(group) = group {
        opts.group = group;
    }
    // DC/OS: `dcos config show core.dcos_acs_token`.
    opts.token = std::env::var("MARATHON_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let d = vamp_drivers::MarathonDriver::new(opts)?;
    Ok(Selected::Marathon(d))
}

/// A driver other than memory for `vamp serve`, as `(code, message)` on failure.
pub(crate) async fn shared_driver(
    name: &str,
) -> Result<std::sync::Arc<dyn Driver>, (String, String)> {
    let target = Target {
        driver: name.to_owned(),
        namespace: None,
        marathon_url: None,
    };
    // The server keeps route weights itself: no CLI weight book is restored.
    let selected = select_driver(&target)
        .await
        .map_err(|e| (e.diagnostic.code.to_string(), e.diagnostic.message.clone()))?;
    Ok(match selected {
        Selected::Memory(d) => std::sync::Arc::new(d),
        #[cfg(feature = "docker")]
        Selected::Docker(d) => std::sync::Arc::new(d),
        #[cfg(feature = "kubernetes")]
        Selected::Kubernetes(d) => std::sync::Arc::new(d),
        #[cfg(feature = "marathon")]
        Selected::Marathon(d) => std::sync::Arc::new(d),
    })
}

async fn select(target: &Target) -> Result<Selected, CliError> {
    restore_weights(select_driver(target).await?)
}

async fn select_driver(target: &Target) -> Result<Selected, CliError> {
    let name = target.driver.as_str();
    match name {
        "memory" => {
            let path = state_dir().join("memory.json");
            let state: MemoryState = match read_json(&path)? {
                Some(v) => serde_json::from_value(v)
                    .map_err(|e| io_failure(&path, format!("not a memory driver state ({e})")))?,
                None => MemoryState::default(),
            };
            Ok(Selected::Memory(MemoryDriver::from_state(state)))
        }
        #[cfg(feature = "docker")]
        "docker" => select_docker().await,
        #[cfg(not(feature = "docker"))]
        "docker" => Err(not_built(name)),
        #[cfg(feature = "kubernetes")]
        "kubernetes" => select_kubernetes(target.namespace.clone()).await,
        #[cfg(not(feature = "kubernetes"))]
        "kubernetes" => Err(not_built(name)),
        #[cfg(feature = "marathon")]
        "marathon" => select_marathon(target.namespace.clone(), target.marathon_url.clone()),
        #[cfg(not(feature = "marathon"))]
        "marathon" => Err(not_built(name)),
        other => Err(fail(
            Code::DriverUnknown,
            format!("unknown driver `{other}`: use memory, docker, kubernetes or marathon"),
        )),
    }
}

/// Opens `--store DIR`; unlike [`DirectoryStore::open`] it never creates
/// the folder (a typo should fail, not resolve against nothing).
fn open_store(dir: &str) -> Result<DirectoryStore, CliError> {
    if !std::path::Path::new(dir).is_dir() {
        return Err(fail(
            Code::Io,
            format!("the store `{dir}` is not a folder: pass the folder that holds your breeds, scales and blueprints"),
        ));
    }
    Ok(DirectoryStore::open(dir).map_err(|e| e.to_diagnostic())?)
}

/// Reads and resolves a blueprint file against `--store DIR`, else against
/// an empty store (self-contained blueprints only).
fn read_and_resolve(file: &str, store: Option<&str>) -> Result<Artifact<Deployment>, CliError> {
    let (bp, bytes) = read_blueprint(file)?;
    let result = match store {
        Some(dir) => {
            let store = open_store(dir)?;
            vamp_deploy::resolve::resolve_blueprint(&bp, &store).map_err(|mut d| {
                if d.code == Code::UnresolvedDependency && !store.problems().is_empty() {
                    let files: Vec<String> =
                        store.problems().iter().map(ToString::to_string).collect();
                    d.help = Some(format!(
                        "some files of the store could not be read: {}",
                        files.join("; ")
                    ));
                }
                d
            })
        }
        None => vamp_deploy::resolve::resolve_blueprint(
            &bp,
            &vamp_deploy::store::MemoryStore::default(),
        )
        .map_err(|mut d| {
            if d.code == Code::UnresolvedDependency && d.help.is_none() {
                d.help = Some(
                    "pass `--store DIR` to resolve references against stored artifacts".into(),
                );
            }
            d
        }),
    };
    result.map_err(|d| CliError::in_file(d, file, Some(&bytes)))
}

fn options(driver: &dyn Driver, drain_period: u64) -> PlanOptions {
    PlanOptions {
        drain_period: Duration::from_secs(drain_period),
        capabilities: driver.capabilities(),
        driver: driver.name(),
    }
}

fn record_path(deployment: &str) -> Result<PathBuf, CliError> {
    if deployment.is_empty()
        || !deployment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || deployment.starts_with('.')
    {
        return Err(fail(
            Code::InvalidName,
            format!(
                "`{deployment}` is not a deployment name: use letters, digits, `-`, `_` and `.`"
            ),
        ));
    }
    Ok(state_dir()
        .join("deployments")
        .join(format!("{deployment}.json")))
}

/// What `vamp plan` and `vamp apply` act on.
struct PlanRequest<'a> {
    file: &'a str,
    store: Option<&'a str>,
    target: &'a Target,
    drain_period: u64,
}

async fn run_plan_and_apply(
    req: PlanRequest<'_>,
    execute: bool,
    format: DriveFormat,
) -> Result<(), CliError> {
    let deployment = read_and_resolve(req.file, req.store)?;
    let drain_period = req.drain_period;
    let record = record_path(&deployment.name)?;
    let desired = desired_from_deployment(&deployment.name, &deployment.spec)?;
    let selected = select(req.target).await?;
    let driver = selected.driver();
    let opts = options(driver, drain_period);
    let actual = driver.observe(&deployment.name).await?;
    let p = plan(&desired, &actual, &opts)?;
    if !execute {
        match format {
            DriveFormat::Json => {
                println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default())
            }
            DriveFormat::Human => {
                if p.is_empty() {
                    println!("{}: up to date, nothing to do", p.deployment);
                }
                for (i, s) in p.steps.iter().enumerate() {
                    println!("{:>4}. {s}", i + 1);
                }
            }
        }
        return Ok(());
    }
    // Record the intent first, so `status` and `remove` work even if apply stops half-way.
    let canonical = serde_json::to_value(&deployment).unwrap_or(Value::Null);
    write_json(
        &record,
        &json!({"deployment": canonical, "desired": serde_json::to_value(desired.to_record()).unwrap_or(Value::Null)}),
    )?;
    let total = p.steps.len();
    let mut progress = |n: usize, step: &Step, e: StepEvent| match e {
        StepEvent::Started => eprintln!("[{n}/{total}] {step}"),
        StepEvent::Retrying { attempt, delay } => {
            eprintln!("[{n}/{total}] attempt {attempt} failed, retrying in {delay:?}")
        }
        StepEvent::Done => {}
    };
    let result = apply(driver, &p, RetryPolicy::default(), &mut progress).await;
    selected.save()?;
    result?;
    println!("{}: applied {total} step(s)", deployment.name);
    Ok(())
}

async fn run_async(cmd: Cmd) -> Result<(), CliError> {
    match cmd {
        Cmd::Plan {
            file,
            target,
            store,
            format,
        } => {
            let req = PlanRequest {
                file: &file,
                store: store.as_deref(),
                target: &target,
                drain_period: 0,
            };
            run_plan_and_apply(req, false, format).await
        }
        Cmd::Apply {
            file,
            target,
            store,
            drain_period,
        } => {
            let req = PlanRequest {
                file: &file,
                store: store.as_deref(),
                target: &target,
                drain_period,
            };
            run_plan_and_apply(req, true, DriveFormat::Human).await
        }
        Cmd::Status {
            deployment,
            target,
            format,
        } => status(&deployment, &target, format).await,
        Cmd::Remove {
            deployment,
            target,
            drain_period,
        } => remove(&deployment, &target, drain_period).await,
    }
}

/// `vamp export kubernetes FILE`: the Deployments and Services the
/// Kubernetes driver would write, as multi-document YAML. Without
/// `--namespace` the objects carry none (kubectl applies them to the current
/// context's namespace).
pub(crate) fn export_kubernetes(
    file: &str,
    namespace: Option<&str>,
    output: Option<&str>,
) -> ExitCode {
    match export_kubernetes_inner(file, namespace, output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            f.report(false);
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "kubernetes")]
fn export_kubernetes_inner(
    file: &str,
    namespace: Option<&str>,
    output: Option<&str>,
) -> Result<(), CliError> {
    let deployment = read_and_resolve(file, None)?;
    let desired = desired_from_deployment(&deployment.name, &deployment.spec)?;
    let yaml = vamp_drivers::export_yaml(&desired, namespace.unwrap_or(""))?;
    match output {
        Some(path) => {
            std::fs::write(path, yaml).map_err(|e| io_failure(std::path::Path::new(path), e))
        }
        None => {
            print!("{yaml}");
            Ok(())
        }
    }
}

#[cfg(not(feature = "kubernetes"))]
fn export_kubernetes_inner(
    _file: &str,
    _namespace: Option<&str>,
    _output: Option<&str>,
) -> Result<(), CliError> {
    Err(not_built("kubernetes"))
}

fn load_record(deployment: &str) -> Result<(Value, Desired), CliError> {
    let path = record_path(deployment)?;
    let Some(mut v) = read_json(&path)? else {
        return Err(fail(
            Code::UnknownDeployment,
            format!("no deployment `{deployment}` was applied here (looked in `{}`): run `vamp apply FILE` first", path.display()),
        ));
    };
    let record: DesiredRecord = serde_json::from_value(v["desired"].take())
        .map_err(|e| io_failure(&path, format!("not a deployment record ({e})")))?;
    Ok((v["deployment"].take(), Desired::from_record(record)))
}

async fn status(deployment: &str, target: &Target, format: DriveFormat) -> Result<(), CliError> {
    let (mut canonical, desired) = load_record(deployment)?;
    let selected = select(target).await?;
    let driver = selected.driver();
    let actual = driver.observe(deployment).await?;
    let pending = plan(&desired, &actual, &options(driver, 0))
        .map(|p| p.steps.len())
        .unwrap_or(usize::MAX);
    if let Some(clusters) = canonical.get_mut("clusters").and_then(Value::as_object_mut) {
        for (cname, cluster) in clusters.iter_mut() {
            let Some(services) = cluster.get_mut("services").and_then(Value::as_array_mut) else {
                continue;
            };
            for svc in services {
                let sname = svc["breed"]["name"].as_str().unwrap_or_default().to_owned();
                let mut instances: Vec<Value> = Vec::new();
                for i in &actual.instances {
                    if &i.key.cluster == cname && i.key.service == sname {
                        let ports: serde_json::Map<String, Value> =
                            i.ports.iter().map(|(n, p)| (n.clone(), json!(p))).collect();
                        instances.push(json!({
                            "name": i.name, "host": i.host, "ports": ports,
                            "healthy": i.healthy.unwrap_or(i.state == vamp_drivers::InstanceState::Running),
                        }));
                    }
                }
                svc["instances"] = Value::Array(instances);
                svc["status"]["phase"] = json!(if pending == 0 { "done" } else { "updating" });
            }
        }
    }
    match format {
        DriveFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&canonical).unwrap_or_default()
        ),
        DriveFormat::Human => {
            println!(
                "{deployment}: {} instance(s), {}",
                actual.instances.len(),
                if pending == 0 {
                    "up to date".to_owned()
                } else {
                    format!("{pending} step(s) pending")
                }
            );
            for i in &actual.instances {
                println!("  {} {:?} {}:{:?}", i.name, i.state, i.host, i.ports);
            }
        }
    }
    Ok(())
}

async fn remove(deployment: &str, target: &Target, drain_period: u64) -> Result<(), CliError> {
    let path = record_path(deployment)?;
    let selected = select(target).await?;
    let driver = selected.driver();
    let actual = driver.observe(deployment).await?;
    // Scale the recorded services to zero rather than forgetting them, so the
    // planner knows the dependency order and drains dependants first.
    let target = match load_record(deployment) {
        Ok((_, desired)) => {
            let mut record = desired.to_record();
            record.weights.clear();
            for s in &mut record.services {
                s.instances = 0;
            }
            Desired::from_record(record)
        }
        Err(_) => Desired::empty(deployment),
    };
    let p = plan(&target, &actual, &options(driver, drain_period))?;
    let total = p.steps.len();
    let mut progress = |n: usize, step: &Step, e: StepEvent| {
        if e == StepEvent::Started {
            eprintln!("[{n}/{total}] {step}");
        }
    };
    let result = apply(driver, &p, RetryPolicy::default(), &mut progress).await;
    selected.save()?;
    result?;
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_failure(&path, e)),
    }
    println!("{deployment}: removed ({total} step(s))");
    Ok(())
}
