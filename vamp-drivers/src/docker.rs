//! The Docker driver (feature `docker`): one container per instance, on the
//! host network, talking to the local daemon over its unix socket with
//! [`bollard`].
//!
//! - **Names** are the planner's deterministic instance names, so a re-run
//!   after a crash meets the existing container instead of duplicating it.
//! - **Labels**: `io.vamp=deployment-service`, `io.vamp.deployment`,
//!   `io.vamp.cluster`, `io.vamp.service` (and `io.vamp.breed`, the same
//!   name), plus `io.vamp.fingerprint`, `io.vamp.index` and `io.vamp.ports`
//!   (`name=port,...` in breed order). [`Driver::observe`] rebuilds
//!   everything from them, so a restarted program finds its containers again.
//! - **Ports**: the driver picks free ports on 127.0.0.1 (binding
//!   `127.0.0.1:0`, skipping ports recorded on other Vamp containers) and
//!   passes them as `PORT` (the first breed port), `PORT0..PORTn-1` and
//!   `PORT_<NAME>` (upper-cased, other characters than letters and digits
//!   become `_`), as Marathon does. The program must bind 127.0.0.1.
//! - **Environment**: `VAMP_DEPLOYMENT`, `VAMP_CLUSTER`, `VAMP_SERVICE` and
//!   `VAMP_INSTANCE` (unless the service sets them), then the service's
//!   environment (names after aliases), then the port variables.
//! - **Arguments** are Docker run parameters, as in the original Vamp:
//!   `privileged`, `user`, `workdir`, `entrypoint`, `stop-signal`,
//!   `security-opt`, `label` (`K=V`) and `env` (`K=V`); anything else is a
//!   typed `driver_unsupported` error.
//! - **Scale**: cpu as `NanoCpus`, memory (MB) as a byte limit.
//! - **Health checks** become one Docker `HEALTHCHECK` run with `/bin/sh`
//!   inside the container: `wget -q -O /dev/null http://127.0.0.1:<port><path>`
//!   for HTTP(S), `nc -z 127.0.0.1 <port>` for TCP (the image must provide
//!   them, as busybox does); the first check's timings are used.
//! - **Never pulls**: a missing image is `driver_image_not_found`.
//! - There is no gateway here: draining is a no-op and route weights are kept
//!   in the driver ([`DockerDriver::weights`] / [`DockerDriver::restore_weights`]
//!   let a caller persist them).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, ContainerStateStatusEnum, ContainerSummaryStateEnum, HealthConfig,
    HostConfig, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, RemoveContainerOptions, StopContainerOptions,
};
use bollard::Docker;

use vamp_model::labels;

use crate::driver::{ActualState, Driver, InstanceState, NewInstance, ObservedInstance};
use crate::error::DriverError;
use crate::spec::{port_env_name, ServiceKey, ServiceSpec};
use crate::weights::{WeightBook, Weights};

const DRIVER: &str = "docker";

/// How to reach the daemon and run containers.
#[derive(Debug, Clone, PartialEq)]
pub struct DockerOptions {
    /// The daemon's unix socket (`/var/run/docker.sock`; a `unix://` prefix is accepted).
    pub socket: String,
    /// Timeout of one API request.
    pub request_timeout: Duration,
    /// Grace period between SIGTERM and SIGKILL when removing an instance
    /// (zero: kill at once).
    pub stop_timeout: Duration,
    /// Host reported for instances.
    pub host: String,
    /// Bind the port numbers the breed declares instead of picking free ones
    /// (only sensible with one instance per service); a port in use is then
    /// `driver_port_taken`.
    pub use_breed_ports: bool,
}

impl Default for DockerOptions {
    fn default() -> Self {
        DockerOptions {
            socket: "/var/run/docker.sock".into(),
            request_timeout: Duration::from_secs(120),
            stop_timeout: Duration::from_secs(10),
            host: "127.0.0.1".into(),
            use_breed_ports: false,
        }
    }
}

/// The Docker driver.
///
/// ```no_run
/// # async fn demo() -> Result<(), vamp_drivers::DriverError> {
/// use vamp_drivers::{DockerDriver, DockerOptions, Driver};
/// let driver = DockerDriver::connect(DockerOptions::default()).await?;
/// let running = driver.observe("shop").await?;
/// # let _ = running; Ok(()) }
/// ```
#[derive(Debug)]
pub struct DockerDriver {
    docker: Docker,
    opts: DockerOptions,
    /// Ports handed out by this process and not yet released.
    reserved: Mutex<BTreeSet<u16>>,
    /// `deployment/cluster` to route weights.
    weights: WeightBook,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn status_of(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

impl DockerDriver {
    /// Connects to the daemon and negotiates the API version (the daemon here
    /// speaks 1.41, older than bollard's default). Fails with
    /// `driver_unavailable` when the daemon does not answer and
    /// `driver_unauthorized` when the socket refuses us.
    pub async fn connect(opts: DockerOptions) -> Result<Self, DriverError> {
        let path = opts
            .socket
            .strip_prefix("unix://")
            .unwrap_or(&opts.socket)
            .to_owned();
        if !std::path::Path::new(&path).exists() {
            return Err(DriverError::Unavailable {
                driver: DRIVER,
                detail: format!("no Docker socket at `{path}`"),
            });
        }
        let docker = Docker::connect_with_unix(
            &path,
            opts.request_timeout.as_secs().max(1),
            bollard::API_DEFAULT_VERSION,
        )
        .map_err(|e| Self::error_with(&opts, e, "connect"))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| Self::error_with(&opts, e, "version negotiation"))?;
        Ok(DockerDriver {
            docker,
            opts,
            reserved: Mutex::new(BTreeSet::new()),
            weights: WeightBook::default(),
        })
    }

    /// The bollard client (tests and tools).
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// Route weights by `deployment/cluster`, to persist between runs.
    pub fn weights(&self) -> Weights {
        self.weights.snapshot()
    }

    /// Restores weights saved from [`weights`](Self::weights).
    pub fn restore_weights(&self, weights: Weights) {
        self.weights.restore(weights);
    }

    fn error_with(opts: &DockerOptions, e: BollardError, object: &str) -> DriverError {
        match e {
            BollardError::DockerResponseServerError {
                status_code,
                message,
            } => match status_code {
                401 | 403 => DriverError::Unauthorized {
                    driver: DRIVER,
                    detail: message,
                },
                409 => DriverError::Conflict {
                    object: object.to_owned(),
                    detail: message,
                },
                429 | 500..=599 => DriverError::Server {
                    driver: DRIVER,
                    status: status_code,
                    detail: message,
                },
                _ => DriverError::Invalid {
                    driver: DRIVER,
                    object: object.to_owned(),
                    detail: message,
                },
            },
            BollardError::SocketNotFoundError(p) => DriverError::Unavailable {
                driver: DRIVER,
                detail: format!("no Docker socket at `{p}`"),
            },
            BollardError::RequestTimeoutError => DriverError::Unavailable {
                driver: DRIVER,
                detail: format!("the request for `{object}` timed out"),
            },
            other => match io_kind(&other) {
                Some(std::io::ErrorKind::PermissionDenied) => DriverError::Unauthorized {
                    driver: DRIVER,
                    detail: format!(
                        "permission denied on `{}`: run as root or add your user to the `docker` group",
                        opts.socket
                    ),
                },
                Some(_) => DriverError::Unavailable {
                    driver: DRIVER,
                    detail: format!("cannot talk to the daemon at `{}`: {other}", opts.socket),
                },
                None => DriverError::Server {
                    driver: DRIVER,
                    status: 0,
                    detail: other.to_string(),
                },
            },
        }
    }

    fn error(&self, e: BollardError, object: &str) -> DriverError {
        Self::error_with(&self.opts, e, object)
    }

    /// Names of every container labelled with the deployment, running or not.
    pub async fn container_names(&self, deployment: &str) -> Result<Vec<String>, DriverError> {
        let list = self
            .list(&format!("{}={deployment}", labels::DEPLOYMENT))
            .await?;
        Ok(list.into_iter().map(|(name, _, _, _)| name).collect())
    }

    /// Kills an instance's process without removing the container (what a
    /// crash looks like; tests use it). Absent containers are fine.
    pub async fn kill(&self, name: &str) -> Result<(), DriverError> {
        match self.docker.kill_container(name, None).await {
            Ok(()) => Ok(()),
            Err(e) if matches!(status_of(&e), Some(404 | 409)) => Ok(()),
            Err(e) => Err(self.error(e, name)),
        }
    }

    /// `(name, labels, state, status text)` of the containers matching a label filter.
    async fn list(
        &self,
        label_filter: &str,
    ) -> Result<
        Vec<(
            String,
            HashMap<String, String>,
            Option<ContainerSummaryStateEnum>,
            String,
        )>,
        DriverError,
    > {
        let mut filters = HashMap::new();
        filters.insert("label".to_owned(), vec![label_filter.to_owned()]);
        let list = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| self.error(e, "containers"))?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let name = c
                    .names
                    .as_ref()
                    .and_then(|n| n.first())
                    .map(|n| n.trim_start_matches('/').to_owned())?;
                Some((
                    name,
                    c.labels.unwrap_or_default(),
                    c.state,
                    c.status.unwrap_or_default(),
                ))
            })
            .collect())
    }

    /// Picks the ports of a new instance.
    async fn allocate_ports(&self, spec: &ServiceSpec) -> Result<Vec<(String, u16)>, DriverError> {
        if spec.ports.is_empty() {
            return Ok(Vec::new());
        }
        let mut used: BTreeSet<u16> = BTreeSet::new();
        for (_, l, _, _) in self.list(labels::PORTS).await? {
            if let Some(p) = l.get(labels::PORTS) {
                used.extend(parse_ports(p).into_iter().map(|(_, p)| p));
            }
        }
        let mut reserved = lock(&self.reserved);
        let mut out = Vec::with_capacity(spec.ports.len());
        for p in &spec.ports {
            let port = match p.number {
                Some(n) if self.opts.use_breed_ports => {
                    if used.contains(&n) || reserved.contains(&n) || !bindable(n) {
                        for (_, q) in &out {
                            reserved.remove(q);
                        }
                        return Err(DriverError::PortTaken { port: n });
                    }
                    n
                }
                _ => {
                    let mut found = None;
                    for _ in 0..128 {
                        let n = free_port().map_err(|e| {
                            DriverError::Io(format!("cannot pick a free port on 127.0.0.1: {e}"))
                        })?;
                        if !used.contains(&n) && !reserved.contains(&n) {
                            found = Some(n);
                            break;
                        }
                    }
                    match found {
                        Some(n) => n,
                        None => {
                            return Err(DriverError::Io(
                                "no free port on 127.0.0.1 after 128 tries: free some ports".into(),
                            ))
                        }
                    }
                }
            };
            reserved.insert(port);
            out.push((p.name.clone(), port));
        }
        Ok(out)
    }

    fn release(&self, ports: &[(String, u16)]) {
        let mut reserved = lock(&self.reserved);
        for (_, p) in ports {
            reserved.remove(p);
        }
    }

    async fn start(&self, name: &str) -> Result<(), DriverError> {
        self.docker
            .start_container(name, None)
            .await
            .map_err(|e| self.error(e, name))
    }
}

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}

fn bindable(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn parse_ports(s: &str) -> Vec<(String, u16)> {
    s.split(',')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_owned(), v.parse().ok()?))
        })
        .collect()
}

fn format_ports(ports: &[(String, u16)]) -> String {
    let mut s = String::new();
    for (i, (n, p)) in ports.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(n);
        s.push('=');
        s.push_str(&p.to_string());
    }
    s
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn secs_to_nanos(s: u64) -> Option<i64> {
    (s > 0).then(|| i64::try_from(s.saturating_mul(1_000_000_000)).unwrap_or(i64::MAX))
}

/// The Docker health check for a service's probes, given the assigned ports.
fn healthcheck(
    spec: &ServiceSpec,
    ports: &[(String, u16)],
    name: &str,
) -> Result<Option<HealthConfig>, DriverError> {
    let Some(first) = spec.health_checks.first() else {
        return Ok(None);
    };
    let mut commands = Vec::with_capacity(spec.health_checks.len());
    for probe in &spec.health_checks {
        let port = ports
            .iter()
            .find(|(n, _)| *n == probe.port)
            .map(|(_, p)| *p)
            .or_else(|| {
                let n: u16 = probe.port.parse().ok()?;
                // A number: the breed port declaring it, else the number itself.
                spec.ports
                    .iter()
                    .zip(ports)
                    .find(|(b, _)| b.number == Some(n))
                    .map(|(_, (_, p))| *p)
                    .or(Some(n))
            })
            .ok_or_else(|| DriverError::Invalid {
                driver: DRIVER,
                object: name.to_owned(),
                detail: format!(
                    "the health check names port `{}`, which the breed does not declare",
                    probe.port
                ),
            })?;
        let cmd = match probe.protocol.to_ascii_uppercase().as_str() {
            "TCP" => format!("nc -z 127.0.0.1 {port}"),
            proto => {
                let scheme = if proto == "HTTPS" { "https" } else { "http" };
                let path = if probe.path.starts_with('/') {
                    probe.path.clone()
                } else {
                    format!("/{}", probe.path)
                };
                format!(
                    "wget -q -O /dev/null {}",
                    shell_quote(&format!("{scheme}://127.0.0.1:{port}{path}"))
                )
            }
        };
        commands.push(cmd);
    }
    Ok(Some(HealthConfig {
        test: Some(vec!["CMD-SHELL".into(), commands.join(" && ")]),
        interval: secs_to_nanos(first.interval),
        timeout: secs_to_nanos(first.timeout),
        start_period: secs_to_nanos(first.initial_delay),
        retries: (first.failures > 0).then(|| i64::try_from(first.failures).unwrap_or(i64::MAX)),
        start_interval: None,
    }))
}

/// Builds the create body of one instance.
fn container_body(
    spec: &ServiceSpec,
    fingerprint: &str,
    index: u32,
    name: &str,
    ports: &[(String, u16)],
) -> Result<ContainerCreateBody, DriverError> {
    let mut label_map: HashMap<String, String> = HashMap::new();
    label_map.insert(labels::MANAGED.into(), labels::MANAGED_VALUE.into());
    label_map.insert(labels::DEPLOYMENT.into(), spec.key.deployment.clone());
    label_map.insert(labels::CLUSTER.into(), spec.key.cluster.clone());
    label_map.insert(labels::SERVICE.into(), spec.key.service.clone());
    label_map.insert(labels::BREED.into(), spec.key.service.clone());
    label_map.insert(labels::FINGERPRINT.into(), fingerprint.to_owned());
    label_map.insert(labels::INDEX.into(), index.to_string());
    label_map.insert(labels::PORTS.into(), format_ports(ports));

    let mut env: Vec<(String, String)> = Vec::new();
    set(
        &mut env,
        "VAMP_DEPLOYMENT".into(),
        spec.key.deployment.clone(),
    );
    set(&mut env, "VAMP_CLUSTER".into(), spec.key.cluster.clone());
    set(&mut env, "VAMP_SERVICE".into(), spec.key.service.clone());
    set(&mut env, "VAMP_INSTANCE".into(), index.to_string());
    for (k, v) in &spec.environment {
        set(&mut env, k.clone(), v.clone());
    }

    let mut host = HostConfig {
        network_mode: Some("host".into()),
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::NO),
            maximum_retry_count: None,
        }),
        ..Default::default()
    };
    if spec.cpu > 0.0 {
        host.nano_cpus = Some((spec.cpu * 1e9).round() as i64);
    }
    if spec.memory > 0.0 {
        host.memory = Some((spec.memory * 1024.0 * 1024.0).round() as i64);
    }
    let mut body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        ..Default::default()
    };
    for (k, v) in &spec.arguments {
        match k.as_str() {
            "privileged" => host.privileged = Some(v.eq_ignore_ascii_case("true")),
            "user" | "u" => body.user = Some(v.clone()),
            "workdir" | "w" | "working-dir" => body.working_dir = Some(v.clone()),
            "entrypoint" => body.entrypoint = Some(vec![v.clone()]),
            "stop-signal" => body.stop_signal = Some(v.clone()),
            "security-opt" => host.security_opt.get_or_insert_with(Vec::new).push(v.clone()),
            "label" | "l" => {
                let (lk, lv) = v.split_once('=').unwrap_or((v.as_str(), ""));
                if !lk.starts_with("io.vamp") {
                    label_map.insert(lk.to_owned(), lv.to_owned());
                }
            }
            "env" | "e" => {
                let (ek, ev) = v.split_once('=').unwrap_or((v.as_str(), ""));
                set(&mut env, ek.to_owned(), ev.to_owned());
            }
            other => {
                return Err(DriverError::Unsupported {
                    driver: DRIVER,
                    feature: format!(
                        "the argument `{other}` (supported: privileged, user, workdir, entrypoint, stop-signal, security-opt, label, env)"
                    ),
                })
            }
        }
    }
    // The driver's port variables always win.
    if let Some((_, first)) = ports.first() {
        set(&mut env, "PORT".into(), first.to_string());
    }
    for (i, (n, p)) in ports.iter().enumerate() {
        set(&mut env, format!("PORT{i}"), p.to_string());
        set(&mut env, port_env_name(n), p.to_string());
    }
    body.env = Some(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect());
    body.labels = Some(label_map);
    body.healthcheck = healthcheck(spec, ports, name)?;
    body.host_config = Some(host);
    Ok(body)
}

/// Sets an environment variable, replacing an earlier value of the same name.
fn set(env: &mut Vec<(String, String)>, k: String, v: String) {
    if let Some(slot) = env.iter_mut().find(|(n, _)| *n == k) {
        slot.1 = v;
    } else {
        env.push((k, v));
    }
}

fn health_from_status(status: &str) -> Option<bool> {
    if status.contains("(unhealthy)") {
        Some(false)
    } else if status.contains("(healthy)") {
        Some(true)
    } else {
        None
    }
}

#[async_trait]
impl Driver for DockerDriver {
    fn name(&self) -> &'static str {
        DRIVER
    }

    fn weight_book(&self) -> Option<&WeightBook> {
        Some(&self.weights)
    }

    async fn observe(&self, deployment: &str) -> Result<ActualState, DriverError> {
        let mut instances = Vec::new();
        for (name, l, state, status) in self
            .list(&format!("{}={deployment}", labels::DEPLOYMENT))
            .await?
        {
            let get = |k: &str| l.get(k).cloned().unwrap_or_default();
            let state = match state {
                Some(ContainerSummaryStateEnum::RUNNING | ContainerSummaryStateEnum::PAUSED) => {
                    InstanceState::Running
                }
                Some(ContainerSummaryStateEnum::RESTARTING) => InstanceState::Starting,
                // Created but never started (a crash between create and
                // start), exited, dead, being removed: replace it.
                _ => InstanceState::Exited,
            };
            instances.push(ObservedInstance {
                key: ServiceKey {
                    deployment: get(labels::DEPLOYMENT),
                    cluster: get(labels::CLUSTER),
                    service: get(labels::SERVICE),
                },
                fingerprint: get(labels::FINGERPRINT),
                index: get(labels::INDEX).parse().unwrap_or(u32::MAX),
                healthy: if state == InstanceState::Exited {
                    Some(false)
                } else {
                    health_from_status(&status)
                },
                state,
                draining: false,
                host: self.opts.host.clone(),
                ports: l
                    .get(labels::PORTS)
                    .map(|p| parse_ports(p))
                    .unwrap_or_default(),
                name,
            });
        }
        instances.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(self.weights.actual(deployment, instances))
    }

    async fn create(&self, new: NewInstance<'_>) -> Result<(), DriverError> {
        let NewInstance {
            spec,
            fingerprint,
            index,
            name,
        } = new;
        // Validate arguments and health checks before touching anything.
        let placeholder: Vec<(String, u16)> =
            spec.ports.iter().map(|p| (p.name.clone(), 0)).collect();
        container_body(spec, fingerprint, index, name, &placeholder)?;
        match self.docker.inspect_container(name, None).await {
            Ok(info) => {
                let status = info.state.and_then(|s| s.status);
                return match status {
                    Some(ContainerStateStatusEnum::CREATED) => self.start(name).await,
                    Some(
                        ContainerStateStatusEnum::EXITED
                        | ContainerStateStatusEnum::DEAD
                        | ContainerStateStatusEnum::REMOVING,
                    ) => Err(DriverError::Conflict {
                        object: name.to_owned(),
                        detail: "the name is in use by a stopped container; it is removed by the next plan".into(),
                    }),
                    _ => Ok(()),
                };
            }
            Err(e) if status_of(&e) == Some(404) => {}
            Err(e) => return Err(self.error(e, name)),
        }
        match self.docker.inspect_image(&spec.image).await {
            Ok(_) => {}
            Err(e) if status_of(&e) == Some(404) => {
                return Err(DriverError::ImageNotFound {
                    driver: DRIVER,
                    image: spec.image.clone(),
                })
            }
            Err(e) => return Err(self.error(e, &spec.image)),
        }
        let ports = self.allocate_ports(spec).await?;
        let body = match container_body(spec, fingerprint, index, name, &ports) {
            Ok(b) => b,
            Err(e) => {
                self.release(&ports);
                return Err(e);
            }
        };
        let created = self
            .docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.to_owned()),
                    ..Default::default()
                }),
                body,
            )
            .await;
        if let Err(e) = created {
            self.release(&ports);
            return Err(match status_of(&e) {
                Some(404) => DriverError::ImageNotFound {
                    driver: DRIVER,
                    image: spec.image.clone(),
                },
                _ => self.error(e, name),
            });
        }
        let started = self.start(name).await;
        // The ports are on the container's label from now on.
        self.release(&ports);
        started
    }

    async fn remove(&self, key: &ServiceKey, name: &str) -> Result<(), DriverError> {
        match self.docker.inspect_container(name, None).await {
            Ok(info) => {
                let owner = info
                    .config
                    .and_then(|c| c.labels)
                    .and_then(|l| l.get(labels::DEPLOYMENT).cloned());
                if owner.as_deref() != Some(key.deployment.as_str()) {
                    return Err(DriverError::Invalid {
                        driver: DRIVER,
                        object: name.to_owned(),
                        detail: format!(
                            "the container is not labelled `{}={}`; Vamp removes only its own containers",
                            labels::DEPLOYMENT,
                            key.deployment
                        ),
                    });
                }
            }
            Err(e) if status_of(&e) == Some(404) => return Ok(()),
            Err(e) => return Err(self.error(e, name)),
        }
        if !self.opts.stop_timeout.is_zero() {
            let t = i32::try_from(self.opts.stop_timeout.as_secs().max(1)).unwrap_or(i32::MAX);
            match self
                .docker
                .stop_container(
                    name,
                    Some(StopContainerOptions {
                        t: Some(t),
                        signal: None,
                    }),
                )
                .await
            {
                Ok(()) => {}
                Err(e) if matches!(status_of(&e), Some(304 | 404 | 409)) => {}
                Err(e) => return Err(self.error(e, name)),
            }
        }
        match self
            .docker
            .remove_container(
                name,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..Default::default()
                }),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Ok(()),
            Err(e) => Err(self.error(e, name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ServiceSpec {
        crate::spec::test_spec()
    }

    #[test]
    fn body_has_labels_env_limits_and_healthcheck() {
        let ports = vec![
            ("webport".to_owned(), 41000),
            ("admin-port".to_owned(), 41001),
        ];
        let b = container_body(&spec(), "abc", 1, "n", &ports).unwrap();
        let l = b.labels.unwrap();
        assert_eq!(l[labels::DEPLOYMENT], "shop");
        assert_eq!(l[labels::SERVICE], "web_1");
        assert_eq!(l[labels::INDEX], "1");
        assert_eq!(l[labels::PORTS], "webport=41000,admin-port=41001");
        let env = b.env.unwrap();
        for want in [
            "VERSION=1",
            "PORT=41000",
            "PORT0=41000",
            "PORT_WEBPORT=41000",
            "PORT_ADMIN_PORT=41001",
            "VAMP_SERVICE=web_1",
        ] {
            assert!(env.iter().any(|e| e == want), "{want} in {env:?}");
        }
        assert_eq!(env.iter().filter(|e| e.starts_with("PORT=")).count(), 1);
        let h = b.host_config.unwrap();
        assert_eq!(h.nano_cpus, Some(250_000_000));
        assert_eq!(h.memory, Some(64 * 1024 * 1024));
        assert_eq!(h.network_mode.as_deref(), Some("host"));
        assert_eq!(h.privileged, Some(true));
        let hc = b.healthcheck.unwrap();
        assert_eq!(
            hc.test.unwrap(),
            vec![
                "CMD-SHELL".to_owned(),
                "wget -q -O /dev/null 'http://127.0.0.1:41000/health'".to_owned()
            ]
        );
        assert_eq!(hc.interval, Some(2_000_000_000));
        assert_eq!(hc.retries, Some(4));
    }

    #[test]
    fn unknown_argument_is_unsupported() {
        let mut s = spec();
        s.arguments = vec![("volume".into(), "/x:/y".into())];
        let e = container_body(&s, "abc", 0, "n", &[]).unwrap_err();
        assert_eq!(e.code(), "driver_unsupported");
    }

    #[test]
    fn ports_round_trip_through_the_label() {
        let p = vec![("a".to_owned(), 1), ("b".to_owned(), 65535)];
        assert_eq!(parse_ports(&format_ports(&p)), p);
        assert_eq!(health_from_status("Up 3 seconds (healthy)"), Some(true));
        assert_eq!(health_from_status("Up 3 seconds (health: starting)"), None);
    }
}
