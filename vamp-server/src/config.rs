//! The server's settings and the flat `vamp.*` configuration keys.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::reconcile::Timing;

/// How a server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free one).
    pub listen: SocketAddr,
    /// Folder of the store.
    pub store: PathBuf,
    /// `haproxy` or `none` (what `/info` reports).
    pub gateway: String,
    /// Where public gateways listen.
    pub gateway_host: String,
    /// Ports handed to gateways written without one.
    pub port_range: RangeInclusive<u16>,
    /// Scale of services written without one.
    pub default_scale: (f64, f64, u32),
    /// Reconcile loop timing.
    pub timing: Timing,
    /// Events kept for `GET /events`.
    pub event_log: usize,
    /// Events an SSE client may fall behind before it loses some.
    pub sse_lag: usize,
    /// Quiet time after which an SSE stream gets a heartbeat comment.
    pub heartbeat: Duration,
    /// How workflows run.
    pub workflow: WorkflowConfig,
}

/// How the server runs JavaScript workflows.
#[derive(Debug, Clone)]
pub struct WorkflowConfig {
    /// The `node` program (found on the inherited `PATH` when not a path).
    pub node: PathBuf,
    /// The folder holding `vamp-node-client` and `highland`, set as `NODE_PATH`.
    pub node_modules: Option<PathBuf>,
    /// Variables passed on from the server's environment (`PATH`, `HOME`,
    /// `LANG`, `LC_ALL`, `TZ`, `TMPDIR`), filled by the caller.
    pub inherit_env: Vec<(String, String)>,
    /// A prefix running node at a lower CPU priority (`["nice", "-n", "10"]`), or empty.
    pub nice: Vec<String>,
    /// Writes the default breeds and workflows `metrics` and `health` on
    /// first start with an empty store.
    pub default_artifacts: bool,
    /// Events a workflow may post per second (a burst of twice that).
    pub event_rate: u32,
}

/// The variables a workflow inherits from the server's environment.
pub const INHERITED: [&str; 6] = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

impl Config {
    /// The defaults, storing in `store`.
    pub fn new(store: impl Into<PathBuf>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store: store.into(),
            gateway: "none".into(),
            gateway_host: "127.0.0.1".into(),
            port_range: 40000..=45000,
            default_scale: (1.0, 1000.0, 1),
            timing: Timing {
                resync: Duration::from_secs(10),
                backoff: Duration::from_millis(500),
                retry: vamp_drivers::RetryPolicy {
                    initial: Duration::from_millis(100),
                    max_delay: Duration::from_secs(2),
                    deadline: Duration::from_secs(20),
                },
            },
            event_log: 10_000,
            sse_lag: 1024,
            heartbeat: Duration::from_secs(15),
            workflow: WorkflowConfig {
                node: PathBuf::from("node"),
                node_modules: None,
                inherit_env: Vec::new(),
                nice: Vec::new(),
                default_artifacts: false,
                event_rate: 50,
            },
        }
    }

    /// The static `vamp.*` keys, flat.
    pub fn values(&self) -> Map<String, Value> {
        let (cpu, memory, instances) = self.default_scale;
        let mut m = Map::new();
        for (k, v) in [
            ("vamp.gateway-driver.host", json!(self.gateway_host)),
            (
                "vamp.gateway-driver.port-range",
                json!(format!(
                    "{}-{}",
                    self.port_range.start(),
                    self.port_range.end()
                )),
            ),
            ("vamp.operation.deployment.scale.cpu", json!(cpu)),
            (
                "vamp.operation.deployment.scale.memory",
                json!(format!("{memory}MB")),
            ),
            (
                "vamp.operation.deployment.scale.instances",
                json!(instances),
            ),
            ("vamp.http-api.port", json!(self.listen.port())),
            (
                "vamp.http-api.interface",
                json!(self.listen.ip().to_string()),
            ),
            (
                "vamp.http-api.sse.keep-alive-timeout",
                json!(format!("{}s", self.heartbeat.as_secs())),
            ),
            ("vamp.persistence.key-value-store.type", json!("directory")),
        ] {
            m.insert(k.to_owned(), v);
        }
        m
    }
}
