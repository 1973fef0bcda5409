//! `vamp plan`, `vamp apply`, `vamp status` and `vamp remove`: drive a
//! deployment with a driver (the in-memory one by default).
//!
//! Blueprints are resolved with [`vamp_model::resolve::resolve_blueprint`]
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
use vamp_drivers::{
    apply, desired_from_deployment, plan, Desired, DesiredRecord, Driver, MemoryDriver,
    MemoryState, PlanOptions, RetryPolicy, Step, StepEvent,
};
use vamp_dsl::store::DirectoryStore;
use vamp_model::{Artifact, Blueprint, Code, Deployment, Diagnostic, Document, Kind};

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

/// Why a command failed: a code and a message, and for problems in the
/// blueprint (reading or resolving it) the positioned diagnostic.
struct Failure {
    code: String,
    message: String,
    located: Option<Box<Located>>,
}

/// A diagnostic with the file it points into (and its text, for the caret).
struct Located {
    diagnostic: Diagnostic,
    file: String,
    source: Option<String>,
}

impl Failure {
    fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            code: code.into(),
            message: message.into(),
            located: None,
        }
    }

    /// A diagnostic about `file` (whose text is `source`, when known).
    fn located(d: Diagnostic, file: &str, source: Option<&[u8]>) -> Self {
        Failure {
            code: d.code.as_str().to_owned(),
            message: d.message.clone(),
            located: Some(Box::new(Located {
                diagnostic: d,
                file: file.to_owned(),
                source: source.and_then(|s| String::from_utf8(s.to_vec()).ok()),
            })),
        }
    }

    /// Prints the failure: as `{"error": ...}` on standard output with
    /// `--format json` (the shape `vamp canonical` uses), else on standard
    /// error, with the file, line and column when the blueprint is at fault.
    fn report(&self, json_format: bool) {
        if json_format {
            let error = match &self.located {
                Some(l) => l.diagnostic.to_json(),
                None => {
                    json!({"code": self.code, "message": self.message, "line": null, "column": null})
                }
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "error": error })).unwrap_or_default()
            );
        } else if let Some(l) = &self.located {
            eprint!(
                "{}",
                crate::render::render(&l.diagnostic, &l.file, l.source.as_deref())
            );
        } else {
            eprintln!("error[{}]: {}", self.code, self.message);
        }
    }
}

impl From<Diagnostic> for Failure {
    fn from(d: Diagnostic) -> Self {
        Failure::new(d.code.as_str(), d.message)
    }
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
            Failure::new("io", format!("cannot start the async runtime: {e}")).report(json_format);
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

fn io_failure(path: &std::path::Path, e: impl std::fmt::Display) -> Failure {
    Failure::new(
        "io",
        format!(
            "cannot use `{}`: {e}; check the path or set VAMP_STATE_DIR",
            path.display()
        ),
    )
}

fn read_json(path: &std::path::Path) -> Result<Option<Value>, Failure> {
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

fn write_json(path: &std::path::Path, v: &Value) -> Result<(), Failure> {
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
    fn save(&self) -> Result<(), Failure> {
        let (file, value) = match self {
            Selected::Memory(d) => ("memory.json", serde_json::to_value(d.state())),
            #[cfg(feature = "docker")]
            Selected::Docker(d) => ("docker-weights.json", serde_json::to_value(d.weights())),
            #[cfg(feature = "kubernetes")]
            Selected::Kubernetes(d) => {
                ("kubernetes-weights.json", serde_json::to_value(d.weights()))
            }
            #[cfg(feature = "marathon")]
            Selected::Marathon(d) => ("marathon-weights.json", serde_json::to_value(d.weights())),
        };
        let value = value.map_err(|e| Failure::new("io", e.to_string()))?;
        write_json(&state_dir().join(file), &value)
    }
}

#[cfg(feature = "docker")]
async fn select_docker() -> Result<Selected, Failure> {
    let mut opts = vamp_drivers::DockerOptions::default();
    if let Ok(host) = std::env::var("DOCKER_HOST") {
        match host.strip_prefix("unix://") {
            Some(path) => opts.socket = path.to_owned(),
            None => {
                return Err(Failure::new(
                    "driver_unsupported",
                    format!("DOCKER_HOST=`{host}`: the docker driver talks to a local unix socket only; unset DOCKER_HOST or use unix:///path/to/docker.sock"),
                ))
            }
        }
    }
    let d = vamp_drivers::DockerDriver::connect(opts)
        .await
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let path = state_dir().join("docker-weights.json");
    if let Some(v) = read_json(&path)? {
        let w = serde_json::from_value(v)
            .map_err(|e| io_failure(&path, format!("not a weights file ({e})")))?;
        d.restore_weights(w);
    }
    Ok(Selected::Docker(d))
}

#[cfg(not(all(feature = "docker", feature = "kubernetes", feature = "marathon")))]
fn not_built(name: &str) -> Failure {
    Failure::new(
        "driver_unsupported",
        format!(
            "the `{name}` driver is not available in this build: rebuild vamp with `--features {name}` or use `--driver memory`"
        ),
    )
}

#[cfg(feature = "kubernetes")]
async fn select_kubernetes(namespace: Option<String>) -> Result<Selected, Failure> {
    let d = vamp_drivers::KubernetesDriver::connect(vamp_drivers::KubernetesOptions {
        namespace,
        context: None,
    })
    .await
    .map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let path = state_dir().join("kubernetes-weights.json");
    if let Some(v) = read_json(&path)? {
        let w = serde_json::from_value(v)
            .map_err(|e| io_failure(&path, format!("not a weights file ({e})")))?;
        d.restore_weights(w);
    }
    Ok(Selected::Kubernetes(d))
}

#[cfg(feature = "marathon")]
fn select_marathon(group: Option<String>, url: Option<String>) -> Result<Selected, Failure> {
    let url = url
        .or_else(|| std::env::var("MARATHON_URL").ok())
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| {
            Failure::new(
                "driver_unavailable",
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
    let d = vamp_drivers::MarathonDriver::new(opts)
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let path = state_dir().join("marathon-weights.json");
    if let Some(v) = read_json(&path)? {
        let w = serde_json::from_value(v)
            .map_err(|e| io_failure(&path, format!("not a weights file ({e})")))?;
        d.restore_weights(w);
    }
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
    let selected = select(&target).await.map_err(|f| (f.code, f.message))?;
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

async fn select(target: &Target) -> Result<Selected, Failure> {
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
        other => Err(Failure::new(
            "driver_unknown",
            format!("unknown driver `{other}`: use memory, docker, kubernetes or marathon"),
        )),
    }
}

fn read_blueprint(file: &str) -> Result<(Artifact<Blueprint>, Vec<u8>), Failure> {
    let bytes = crate::read_input(file)?;
    let out = vamp_dsl::read_bytes(
        &bytes,
        vamp_dsl::ReadOptions {
            kind: Some(Kind::Blueprint),
            ..Default::default()
        },
    );
    if let Some(d) = out.first_error() {
        return Err(Failure::located(d.clone(), file, Some(&bytes)));
    }
    match out.documents.into_iter().next() {
        Some(Document::Blueprint(b)) => Ok((b, bytes)),
        _ => Err(Failure::located(
            Diagnostic::error(Code::NoService, format!("`{file}` holds no blueprint")),
            file,
            None,
        )),
    }
}

/// Opens `--store DIR`; unlike [`DirectoryStore::open`] it never creates
/// the folder (a typo should fail, not resolve against nothing).
fn open_store(dir: &str) -> Result<DirectoryStore, Failure> {
    if !std::path::Path::new(dir).is_dir() {
        return Err(Failure::new(
            Code::Io.as_str(),
            format!("the store `{dir}` is not a folder: pass the folder that holds your breeds, scales and blueprints"),
        ));
    }
    DirectoryStore::open(dir).map_err(|e| Failure::from(e.to_diagnostic()))
}

/// Reads and resolves a blueprint file against `--store DIR`, else against
/// an empty store (self-contained blueprints only).
fn read_and_resolve(file: &str, store: Option<&str>) -> Result<Artifact<Deployment>, Failure> {
    let (bp, bytes) = read_blueprint(file)?;
    let result = match store {
        Some(dir) => {
            let store = open_store(dir)?;
            vamp_model::resolve::resolve_blueprint(&bp, &store).map_err(|mut d| {
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
        None => {
            vamp_model::resolve::resolve_blueprint(&bp, &vamp_model::store::MemoryStore::default())
                .map_err(|mut d| {
                    if d.code == Code::UnresolvedDependency && d.help.is_none() {
                        d.help = Some(
                            "pass `--store DIR` to resolve references against stored artifacts"
                                .into(),
                        );
                    }
                    d
                })
        }
    };
    result.map_err(|d| Failure::located(d, file, Some(&bytes)))
}

fn options(driver: &dyn Driver, drain_period: u64) -> PlanOptions {
    PlanOptions {
        drain_period: Duration::from_secs(drain_period),
        capabilities: driver.capabilities(),
        driver: driver.name(),
    }
}

fn record_path(deployment: &str) -> Result<PathBuf, Failure> {
    if deployment.is_empty()
        || !deployment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || deployment.starts_with('.')
    {
        return Err(Failure::new(
            "invalid_name",
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
) -> Result<(), Failure> {
    let deployment = read_and_resolve(req.file, req.store)?;
    let drain_period = req.drain_period;
    let record = record_path(&deployment.name)?;
    let desired = desired_from_deployment(&deployment.name, &deployment.spec)
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let selected = select(req.target).await?;
    let driver = selected.driver();
    let opts = options(driver, drain_period);
    let actual = driver
        .observe(&deployment.name)
        .await
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let p = plan(&desired, &actual, &opts).map_err(|e| Failure::new(e.code(), e.to_string()))?;
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
    result.map_err(|e| Failure::new(e.code(), e.to_string()))?;
    println!("{}: applied {total} step(s)", deployment.name);
    Ok(())
}

async fn run_async(cmd: Cmd) -> Result<(), Failure> {
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
) -> Result<(), Failure> {
    let deployment = read_and_resolve(file, None)?;
    let desired = desired_from_deployment(&deployment.name, &deployment.spec)
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let yaml = vamp_drivers::export_yaml(&desired, namespace.unwrap_or(""))
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
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
) -> Result<(), Failure> {
    Err(not_built("kubernetes"))
}

fn load_record(deployment: &str) -> Result<(Value, Desired), Failure> {
    let path = record_path(deployment)?;
    let Some(mut v) = read_json(&path)? else {
        return Err(Failure::new(
            "unknown_deployment",
            format!("no deployment `{deployment}` was applied here (looked in `{}`): run `vamp apply FILE` first", path.display()),
        ));
    };
    let record: DesiredRecord = serde_json::from_value(v["desired"].take())
        .map_err(|e| io_failure(&path, format!("not a deployment record ({e})")))?;
    Ok((v["deployment"].take(), Desired::from_record(record)))
}

async fn status(deployment: &str, target: &Target, format: DriveFormat) -> Result<(), Failure> {
    let (mut canonical, desired) = load_record(deployment)?;
    let selected = select(target).await?;
    let driver = selected.driver();
    let actual = driver
        .observe(deployment)
        .await
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
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

async fn remove(deployment: &str, target: &Target, drain_period: u64) -> Result<(), Failure> {
    let path = record_path(deployment)?;
    let selected = select(target).await?;
    let driver = selected.driver();
    let actual = driver
        .observe(deployment)
        .await
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
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
    let p = plan(&target, &actual, &options(driver, drain_period))
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let total = p.steps.len();
    let mut progress = |n: usize, step: &Step, e: StepEvent| {
        if e == StepEvent::Started {
            eprintln!("[{n}/{total}] {step}");
        }
    };
    let result = apply(driver, &p, RetryPolicy::default(), &mut progress).await;
    selected.save()?;
    result.map_err(|e| Failure::new(e.code(), e.to_string()))?;
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_failure(&path, e)),
    }
    println!("{deployment}: removed ({total} step(s))");
    Ok(())
}
