//! `vamp serve`: the Vamp server. It speaks the original Vamp's v1 REST
//! API (artifacts, deployments, gateways, events with an SSE stream),
//! keeps everything in a durable store and runs a reconcile loop per
//! deployment over a [`vamp_drivers::Driver`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use vamp_server::{Config, NoGateway, Server};
//! let mut config = Config::new(".vamp/server");
//! config.listen = "127.0.0.1:0".parse()?;
//! let server = Server::bind(config, Arc::new(vamp_drivers::MemoryDriver::new()), Arc::new(NoGateway)).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
//!
//! Layout: [`api`] (routing, gates, negotiation, one module per resource),
//! [`artifacts`] (what is held, written through [`store`]), [`deploy`]
//! (merge, slice, internal gateways), [`gateways`] (gateway rules and the
//! [`GatewaySink`] seam), [`gateway`] (the HAProxy agent), [`events`] (log, bus, SSE
//! frames), [`reconcile`] (the loop), [`engine`] (the calls into the DSL
//! reader and the deployment engine).

pub mod api;
pub mod artifacts;
pub mod config;
pub mod deploy;
pub mod engine;
pub mod events;
pub mod gateway;
pub mod gateways;
pub mod reconcile;
pub mod store;
pub mod workflow;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tokio::sync::watch;
use vamp_drivers::Driver;

pub use config::{Config, WorkflowConfig};
pub use gateway::HaproxyGateway;
pub use gateways::{GatewaySink, NoGateway};

use artifacts::{ApiKind, Artifacts};
use events::Bus;
use reconcile::Reconciler;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store could not be opened or read.
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    /// The address could not be bound, or serving failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// One async lock per name (deployment writes are serialized by name).
#[derive(Debug, Default)]
pub struct Locks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl Locks {
    /// The lock of `name`.
    pub fn of(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(name.to_owned()).or_default().clone()
    }
}

/// What every handler and loop shares.
pub struct Shared {
    /// Every artifact.
    pub artifacts: Artifacts,
    /// Events.
    pub bus: Bus,
    /// Settings.
    pub config: Config,
    /// Per-deployment locks.
    pub locks: Locks,
    /// Wakes the reconcile loop.
    pub reconciler: Reconciler,
    /// The orchestrator.
    pub driver: Arc<dyn Driver>,
    /// The proxy side.
    pub gateway_sink: Arc<dyn GatewaySink>,
    /// True once the server stops (ends streams and loops).
    pub stop: watch::Receiver<bool>,
    /// The workflow runtime.
    pub workflows: workflow::Runtime,
    /// Start time.
    pub started: String,
    /// This run's identity.
    pub uuid: String,
    dynamic: Mutex<Map<String, Value>>,
}

impl Shared {
    /// The configuration keys: static ones overlaid with what was PUT.
    pub fn config_values(&self) -> Map<String, Value> {
        let mut m = self.config.values();
        for (k, v) in self
            .dynamic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            m.insert(k.clone(), v.clone());
        }
        m
    }

    fn set_dynamic(&self, values: Map<String, Value>) {
        *self.dynamic.lock().unwrap_or_else(|e| e.into_inner()) = values;
    }
}

/// A bound server, ready to run.
pub struct Server {
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    stop: watch::Sender<bool>,
    rx: tokio::sync::mpsc::UnboundedReceiver<String>,
    problems: Vec<String>,
}

impl Server {
    /// Opens the store, loads it and binds the address.
    ///
    /// # Errors
    /// When the store cannot be read or the address cannot be bound.
    pub async fn bind(
        config: Config,
        driver: Arc<dyn Driver>,
        sink: Arc<dyn GatewaySink>,
    ) -> Result<Server, Error> {
        let store = Arc::new(store::DirStore::open(&config.store)?);
        let (artifacts, problems) = Artifacts::load(store)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Listen {
                addr: config.listen,
                source,
            })?;
        let mut config = config;
        // Port 0 picks one: workflows (VAMP_URL) need the real one.
        config.listen = listener.local_addr().unwrap_or(config.listen);
        let (stop, stop_rx) = watch::channel(false);
        let (reconciler, rx) = Reconciler::new();
        let started = events::now();
        let uuid = format!(
            "{:x}-{:x}",
            std::process::id(),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        );
        let shared = Arc::new(Shared {
            artifacts,
            bus: Bus::new(config.event_log, config.sse_lag),
            locks: Locks::default(),
            reconciler,
            driver,
            gateway_sink: sink,
            stop: stop_rx,
            workflows: workflow::Runtime::new(&config.store),
            started,
            uuid,
            dynamic: Mutex::new(Map::new()),
            config,
        });
        Ok(Server {
            shared,
            listener,
            stop,
            rx,
            problems,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.shared.config.listen)
    }

    /// Stored records that could not be read (left out).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Serves until `shutdown` completes, then stops cleanly: streams end,
    /// requests in flight finish, the reconcile loop ends after its
    /// current step.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let Server {
            shared,
            listener,
            stop,
            rx,
            ..
        } = self;
        let addr = listener.local_addr().unwrap_or(shared.config.listen);
        for name in shared.artifacts.names(ApiKind::Deployments) {
            shared.reconciler.touch(&name);
        }
        gateways::notify(&shared);
        let loop_task = tokio::spawn(reconcile::run(shared.clone(), rx, shared.stop.clone()));
        let gateway_task = tokio::spawn(shared.gateway_sink.run(shared.clone()));
        let workflow_task = tokio::spawn(workflow::run(shared.clone(), shared.stop.clone()));
        let app = api::router(shared.clone());
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                let _ = stop.send(true);
            })
            .await;
        let _ = loop_task.await;
        let _ = gateway_task.await;
        let _ = workflow_task.await;
        served.map_err(|source| Error::Listen { addr, source })
    }
}
