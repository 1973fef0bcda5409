//! The gateway agent: one supervised HAProxy that serves every stored
//! gateway (deployment, internal and stand-alone ones) with the live
//! instances of every deployment.
//!
//! - **Apply**: on every change the agent renders the configuration
//!   (`render`); a change of the configuration text reloads HAProxy
//!   seamlessly (master CLI `reload`, listeners passed over by the runtime
//!   socket's `expose-fd listeners`); a change of weights alone rewrites the
//!   weight tables and applies them through the runtime API (`set map`), no
//!   reload; no change touches nothing.
//!   A reload keeps every listener and every request in flight; HAProxy
//!   2.6 (the one packaged here) does close the old worker's *idle*
//!   keep-alive connections, so a client that reuses one at that instant
//!   sees it closed and must retry (as HTTP clients do for idempotent
//!   requests); `idle-close-on-response` (HAProxy 2.7+) would close them
//!   after their next answer instead.
//! - **Supervise**: if HAProxy exits it is started again with the current
//!   configuration (backoff from 100 ms to 5 s); when the server stops,
//!   HAProxy is stopped and its private folder (sockets, configuration,
//!   tables) removed.
//! - **Check**: a candidate set of gateways is rendered, checked by
//!   `haproxy -c` and its new public ports are probed before the API stores
//!   it ([`GatewaySink::check`]); the running proxy keeps the last good
//!   configuration. A candidate whose configuration is the running one
//!   (weights alone differ) needs neither. Ports are assigned under one
//!   lock across deployments ([`gateways::PORTS_LOCK`]).
//! - **Events**: `gateways:<name>` + `deployed` when a gateway enters the
//!   running configuration, `undeployed` when it leaves it.
//! - **Access log**: read from a socket, never a file ([`AccessLog`]).
//! - **Virtual hosts**: with [`Options::virtual_hosts_port`], one shared
//!   frontend on that port sends a request to the HTTP gateway whose
//!   `virtual_hosts` match its `Host` header (case-insensitive, as
//!   `vamp_router::engine::by_virtual_host` decides) and on through that
//!   gateway's own frontend, so its conditions and weights apply; a host no
//!   gateway names gets HAProxy's 503. Without it (the default) virtual
//!   hosts are stored and reported but not bound.

pub mod access_log;
mod process;
mod render;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Notify;
use vamp_model::{Artifact, Code, Diagnostic, Gateway};

pub use access_log::AccessLog;
use process::{Paths, Proxy};
use render::Desired;

use crate::events::Event;
use crate::gateways::{self, GatewaySink};
use crate::Shared;

/// How the agent runs HAProxy.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `haproxy` program.
    pub binary: PathBuf,
    /// The agent's private folder (created, emptied, removed on stop).
    pub dir: PathBuf,
    /// Lines a slow access-log subscriber may fall behind.
    pub log_capacity: usize,
    /// The port of the shared virtual-hosts frontend (the original's
    /// `virtual-hosts.port`, 80 there). `None` (the default) leaves virtual
    /// hosts out: binding 80 needs privileges a development server lacks,
    /// and a gateway is always reachable on its own port.
    pub virtual_hosts_port: Option<u16>,
}

impl Options {
    /// `haproxy` from the PATH, working in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Options {
        Options {
            binary: PathBuf::from("haproxy"),
            dir: dir.into(),
            log_capacity: 65536,
            virtual_hosts_port: None,
        }
    }
}

/// The HAProxy gateway agent (`vamp serve --gateway haproxy`).
pub struct HaproxyGateway {
    inner: Arc<Inner>,
}

struct Inner {
    options: Options,
    paths: Paths,
    wake: Notify,
    log: Arc<AccessLog>,
    log_port: Mutex<Option<u16>>,
    /// The configuration HAProxy runs (the last good one).
    applied: Mutex<Option<Desired>>,
    /// The public ports of a configuration being applied: HAProxy may
    /// hold them before `applied` says so, and the bind probe of
    /// [`Inner::check`] must not take them for someone else's.
    binding: Mutex<Vec<u16>>,
    counters: Counters,
    checks: AtomicU64,
}

#[derive(Default)]
struct Counters {
    starts: AtomicU64,
    reloads: AtomicU64,
    map_updates: AtomicU64,
    failures: AtomicU64,
    pid: AtomicU64,
    last_error: Mutex<String>,
}

impl HaproxyGateway {
    /// An agent; it starts HAProxy when the server runs.
    pub fn new(options: Options) -> HaproxyGateway {
        let paths = Paths::new(&options.dir);
        let log = AccessLog::new(options.log_capacity);
        HaproxyGateway {
            inner: Arc::new(Inner {
                options,
                paths,
                wake: Notify::new(),
                log,
                log_port: Mutex::new(None),
                applied: Mutex::new(None),
                binding: Mutex::new(Vec::new()),
                counters: Counters::default(),
                checks: AtomicU64::new(0),
            }),
        }
    }

    /// The access log (subscribe to read every request's line).
    pub fn access_log(&self) -> Arc<AccessLog> {
        self.inner.log.clone()
    }

    /// The pid of the HAProxy master, while one runs.
    pub fn pid(&self) -> Option<u32> {
        match self.inner.counters.pid.load(Ordering::SeqCst) {
            0 => None,
            p => u32::try_from(p).ok(),
        }
    }

    /// The agent's private folder.
    pub fn dir(&self) -> &Path {
        &self.inner.paths.dir
    }
}

impl GatewaySink for HaproxyGateway {
    fn changed(&self) {
        self.inner.wake.notify_one();
    }

    fn serves(&self) -> bool {
        true
    }

    fn check(&self, shared: &Shared, gateways: &[Artifact<Gateway>]) -> Result<(), Diagnostic> {
        self.inner.check(shared, gateways)
    }

    fn run(&self, shared: Arc<Shared>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let inner = self.inner.clone();
        Box::pin(async move { inner.run(shared).await })
    }

    fn info(&self) -> Value {
        let c = &self.inner.counters;
        json!({
            "haproxy": {
                "pid": self.pid(),
                "starts": c.starts.load(Ordering::Relaxed),
                "reloads": c.reloads.load(Ordering::Relaxed),
                "map_updates": c.map_updates.load(Ordering::Relaxed),
                "failures": c.failures.load(Ordering::Relaxed),
                "last_error": c.last_error.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            },
            "access_log": self.inner.log.info(),
        })
    }
}

fn refused(message: String) -> Diagnostic {
    Diagnostic::error(Code::UnsupportedAcl, message)
}

impl Inner {
    fn log_target(&self) -> String {
        let port = self
            .log_port
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or(514);
        format!("127.0.0.1:{port}")
    }

    fn render(
        &self,
        shared: &Shared,
        gateways: &[Artifact<Gateway>],
        maps: &Path,
    ) -> Result<Desired, Diagnostic> {
        render::desired(
            shared,
            gateways,
            &render::Files {
                maps,
                stats: &self.paths.stats,
                log: &self.log_target(),
                virtual_hosts_port: self.options.virtual_hosts_port,
            },
        )
    }

    fn check(&self, shared: &Shared, gateways: &[Artifact<Gateway>]) -> Result<(), Diagnostic> {
        let with_port: Vec<Artifact<Gateway>> = gateways
            .iter()
            .filter(|g| {
                g.spec
                    .port
                    .as_ref()
                    .and_then(|p| p.number)
                    .is_some_and(|n| n != 0)
            })
            .cloned()
            .collect();
        let dir = self
            .paths
            .check
            .join(self.checks.fetch_add(1, Ordering::Relaxed).to_string());
        let result = self.check_in(shared, &with_port, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    fn check_in(
        &self,
        shared: &Shared,
        gateways: &[Artifact<Gateway>],
        dir: &Path,
    ) -> Result<(), Diagnostic> {
        std::fs::create_dir_all(dir)
            .map_err(|e| refused(format!("cannot check the gateway: {e}")))?;
        let desired = self.render(shared, gateways, dir)?;
        // A change of weights alone leaves the configuration HAProxy runs
        // as it is (the tables differ): nothing to check, no port to probe.
        let candidate = desired.config.replace(
            &dir.display().to_string(),
            &self.paths.maps.display().to_string(),
        );
        if self
            .applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|d| d.config == candidate)
        {
            return Ok(());
        }
        for (path, content) in &desired.maps {
            std::fs::write(path, content)
                .map_err(|e| refused(format!("cannot check the gateway: {e}")))?;
        }
        let cfg = dir.join("haproxy.cfg");
        std::fs::write(&cfg, &desired.config)
            .map_err(|e| refused(format!("cannot check the gateway: {e}")))?;
        process::check(&self.options.binary, &cfg)
            .map_err(|m| refused(format!("HAProxy refuses the gateway: {m}")))?;
        let mut bound: Vec<u16> = self
            .applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|d| d.ports.clone())
            .unwrap_or_default();
        bound.extend(
            self.binding
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter(),
        );
        for port in desired.ports.iter().filter(|p| !bound.contains(p)) {
            let addr = format!("{}:{port}", shared.config.gateway_host);
            if let Err(e) = std::net::TcpListener::bind(&addr) {
                return Err(Diagnostic::error(
                    Code::UnavailableGatewayPort,
                    format!("Gateway port '{port}' cannot be bound on {addr}: {e}."),
                ));
            }
        }
        Ok(())
    }

    fn failed(&self, message: String) {
        self.counters.failures.fetch_add(1, Ordering::Relaxed);
        *self
            .counters
            .last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = message;
    }

    async fn run(self: Arc<Self>, shared: Arc<Shared>) {
        let mut stop = shared.stop.clone();
        if let Err(e) = self.paths.create() {
            self.failed(format!("cannot create {}: {e}", self.paths.dir.display()));
            return;
        }
        let reader = match access_log::bind() {
            Ok(socket) => {
                *self.log_port.lock().unwrap_or_else(|e| e.into_inner()) =
                    socket.local_addr().ok().map(|a| a.port());
                Some(tokio::spawn(access_log::read(
                    socket,
                    self.log.clone(),
                    stop.clone(),
                )))
            }
            Err(e) => {
                self.failed(format!("no access log socket: {e}"));
                None
            }
        };
        let mut proxy: Option<Proxy> = None;
        let mut backoff = Duration::from_millis(100);
        let mut retry = false;
        loop {
            if *stop.borrow() {
                break;
            }
            let exited = async {
                match proxy.as_mut() {
                    Some(p) => p.exited().await,
                    None => std::future::pending().await,
                }
            };
            let retry_after = async {
                if retry {
                    tokio::time::sleep(backoff).await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = exited => {
                    let p = proxy.take();
                    self.failed(format!("haproxy exited: {}", p.map(|p| p.last_error()).unwrap_or_default()));
                    self.counters.pid.store(0, Ordering::SeqCst);
                    tokio::time::sleep(backoff.min(Duration::from_millis(100))).await;
                }
                _ = retry_after => {}
                _ = stop.changed() => continue,
            }
            retry = match self.apply(&shared, &mut proxy).await {
                Ok(()) => {
                    backoff = Duration::from_millis(100);
                    false
                }
                Err(e) => {
                    self.failed(e);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    true
                }
            };
        }
        if let Some(mut p) = proxy.take() {
            p.stop().await;
        }
        self.counters.pid.store(0, Ordering::SeqCst);
        if let Some(r) = reader {
            let _ = r.await;
        }
        let _ = std::fs::remove_dir_all(&self.paths.dir);
    }

    /// Makes HAProxy run what the store says, with as little as it takes.
    async fn apply(&self, shared: &Shared, proxy: &mut Option<Proxy>) -> Result<(), String> {
        let all = gateways::all(shared);
        let desired = self
            .render(shared, &all, &self.paths.maps)
            .map_err(|d| format!("cannot render the gateways: {}", d.message))?;
        self.binding
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone_from(&desired.ports);
        let result = self.apply_desired(shared, proxy, desired).await;
        self.binding
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        result
    }

    async fn apply_desired(
        &self,
        shared: &Shared,
        proxy: &mut Option<Proxy>,
        desired: Desired,
    ) -> Result<(), String> {
        let before = self
            .applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let served_before = before
            .as_ref()
            .map(|d| d.gateways.clone())
            .unwrap_or_default();
        if desired.gateways.is_empty() {
            if let Some(mut p) = proxy.take() {
                p.stop().await;
            }
            self.counters.pid.store(0, Ordering::SeqCst);
        } else if let (Some(p), Some(old)) = (proxy.as_mut(), before.as_ref()) {
            if old.config != desired.config {
                self.write(&desired)?;
                p.reload(&self.paths).await?;
                self.counters.reloads.fetch_add(1, Ordering::Relaxed);
            } else if old.maps != desired.maps {
                self.write_maps(&desired)?;
                self.set_maps(old, &desired).await?;
            }
        } else {
            if let Some(mut p) = proxy.take() {
                p.stop().await;
            }
            self.write(&desired)?;
            let p = Proxy::spawn(&self.options.binary, &self.paths).await?;
            self.counters.starts.fetch_add(1, Ordering::Relaxed);
            self.counters
                .pid
                .store(u64::from(p.pid().unwrap_or(0)), Ordering::SeqCst);
            *proxy = Some(p);
        }
        let served_now = desired.gateways.clone();
        *self.applied.lock().unwrap_or_else(|e| e.into_inner()) =
            (!desired.gateways.is_empty()).then_some(desired);
        publish(shared, &served_before, &served_now);
        Ok(())
    }

    fn write_maps(&self, d: &Desired) -> Result<(), String> {
        for (path, content) in &d.maps {
            process::write_atomic(Path::new(path), content)
                .map_err(|e| format!("cannot write {path}: {e}"))?;
        }
        Ok(())
    }

    fn write(&self, d: &Desired) -> Result<(), String> {
        self.write_maps(d)?;
        process::write_atomic(&self.paths.config, &d.config)
            .map_err(|e| format!("cannot write {}: {e}", self.paths.config.display()))
    }

    /// Applies changed weight-table slots through the runtime API.
    async fn set_maps(&self, old: &Desired, new: &Desired) -> Result<(), String> {
        let mut commands = Vec::new();
        for (path, content) in &new.maps {
            let before: BTreeMap<&str, &str> = old
                .maps
                .get(path)
                .map(|c| c.lines().filter_map(|l| l.split_once(' ')).collect())
                .unwrap_or_default();
            for (slot, backend) in content.lines().filter_map(|l| l.split_once(' ')) {
                if before.get(slot) != Some(&backend) {
                    commands.push(format!("set map {path} {slot} {backend}"));
                }
            }
        }
        for chunk in commands.chunks(64) {
            let answer = process::command(&self.paths.stats, &chunk.join(";"))
                .await
                .map_err(|e| format!("runtime API: {e}"))?;
            if !answer.trim().is_empty() {
                return Err(format!("runtime API: {}", answer.trim()));
            }
        }
        self.counters.map_updates.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// `deployed` / `undeployed` for gateways entering or leaving the proxy.
fn publish(shared: &Shared, before: &BTreeMap<String, Value>, now: &BTreeMap<String, Value>) {
    for (name, value) in now.iter().filter(|(n, _)| !before.contains_key(*n)) {
        shared.bus.publish(Event::new(
            "event",
            [format!("gateways:{name}"), "deployed".to_owned()],
            Some(value.clone()),
        ));
    }
    for (name, value) in before.iter().filter(|(n, _)| !now.contains_key(*n)) {
        shared.bus.publish(Event::new(
            "event",
            [format!("gateways:{name}"), "undeployed".to_owned()],
            Some(value.clone()),
        ));
    }
}
