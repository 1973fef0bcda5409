//! The Marathon driver (feature `marathon`): Marathon / DC/OS apps over
//! Marathon's REST API (`/v2/apps`, `/v2/deployments`).
//!
//! - **One app per service version.** A service at one spec fingerprint is
//!   the app `/<group>/<deployment>/<cluster>-<service>-<fingerprint>`
//!   ([`marathon_app_id`]; `<group>` defaults to `vamp`, and every segment is
//!   lower-cased to `[a-z0-9-]`, hashed when longer than 63 characters, as
//!   Marathon path ids require; the fingerprint, which hashes the exact
//!   names, keeps sanitised names apart). A changed spec makes a new app
//!   next to the old one, and the planner scales the old one away after the
//!   weights moved, as on every other driver.
//! - **Instances.** The planner speaks in instances: instance `i` of an app
//!   exists while its `instances > i`. Creating instance `i` raises
//!   `instances` to at least `i + 1` (`POST /v2/apps` when the app is absent,
//!   else `PUT /v2/apps/{id}?partialUpdate=false` with the full app);
//!   removing it lowers them to at most `i` (`PATCH /v2/apps/{id}`), and
//!   `DELETE /v2/apps/{id}` at zero. Marathon restarts failed tasks itself,
//!   so instances are reported `Starting` until Marathon counts them running
//!   (and healthy, when the app has health checks).
//! - **Deployments.** Every write starts a Marathon deployment; the driver
//!   polls `GET /v2/deployments` until it is gone. When it outlives
//!   [`MarathonOptions::deployment_timeout`] (tasks that never become
//!   healthy never finish) the driver asks Marathon to roll it back
//!   (`DELETE /v2/deployments/{id}`) and reports `driver_deployment_stuck`.
//!   A write to an app locked by another deployment (409) waits for the
//!   deployments named in the answer and tries again; if the app stays
//!   locked it reports a transient `driver_conflict`, which `apply` retries
//!   with backoff. The driver never sends `force=true`.
//! - **App JSON** ([`marathon_app`]), in the Marathon ≥ 1.5 form: a `DOCKER`
//!   container with the image (or `cmd` for `command`/`cmd` deployables),
//!   `privileged` and the other arguments as Docker parameters (as the
//!   original Vamp did); host networking with one `portDefinitions` entry
//!   per breed port (`port: 0`, so Marathon picks host ports, and the breed
//!   name in the entry's `io.vamp.port` label); `cpus`, `mem` (MB),
//!   `instances`; `env` with `VAMP_DEPLOYMENT`, `VAMP_CLUSTER`,
//!   `VAMP_SERVICE` and the service's environment; health checks as
//!   `MESOS_HTTP`/`MESOS_HTTPS`/`MESOS_TCP` with the breed port's
//!   `portIndex`; `upgradeStrategy` 1.0/1.0 (a full new set before the old
//!   one goes, as the original Vamp).
//! - **Ports in the environment**: Marathon itself gives every task `PORT`
//!   (the first port), `PORT0..PORTn-1` and `PORT_<NAME>` with the ports it
//!   assigned, the variables the Docker driver imitates; the driver drops
//!   service variables of those names so Marathon's win. Marathon port
//!   names are `[a-z0-9-]`, so `webport` gives `PORT_WEBPORT` as elsewhere,
//!   but a name with other characters differs (`web_port` is `web-port` here
//!   and Marathon sets `PORT_WEB-PORT`).
//! - **Labels**: `io.vamp=deployment-service`, `io.vamp.deployment`,
//!   `io.vamp.cluster`, `io.vamp.service`, `io.vamp.fingerprint`, with the
//!   exact names (Marathon labels are free strings). [`Driver::observe`]
//!   lists `GET /v2/apps?label=io.vamp==deployment-service&embed=apps.tasks`
//!   and rebuilds everything from them.
//! - **HTTP**: plain `http://` URLs only, through `hyper-util`'s client (the
//!   HTTP stack `kube` already brings, so the feature adds no crates to a
//!   default build); a token from [`MarathonOptions::token`] goes as
//!   `Authorization: token=<token>` (DC/OS). There is no gateway here:
//!   draining is a no-op and route weights are kept in the driver.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use serde_json::{json, Map, Value};

use crate::driver::{ActualState, Capabilities, Driver, InstanceState, ObservedInstance};
use crate::error::DriverError;
use crate::spec::{instance_name, port_env_name, ServiceKey, ServiceSpec};
use crate::weights::{WeightBook, Weights};

const DRIVER: &str = "marathon";
const L_MANAGED: &str = "io.vamp";
const MANAGED: &str = "deployment-service";
const L_DEPLOYMENT: &str = "io.vamp.deployment";
const L_CLUSTER: &str = "io.vamp.cluster";
const L_SERVICE: &str = "io.vamp.service";
const L_FINGERPRINT: &str = "io.vamp.fingerprint";
const L_PORT: &str = "io.vamp.port";

/// How often a write re-reads the app after a concurrent change (409
/// "already exists", 404 after a read, an app still locked after its
/// deployments ended) before reporting a transient conflict to `apply`.
const CONFLICT_RETRIES: u32 = 5;

/// How to reach Marathon and how long to wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarathonOptions {
    /// Base URL, e.g. `http://127.0.0.1:8080` (on DC/OS behind admin router:
    /// `http://<master>/service/marathon`). Only `http://`.
    pub url: String,
    /// App group the driver works in (default `vamp`; `/`-separated for nested groups).
    pub group: String,
    /// DC/OS token, sent as `Authorization: token=<token>`.
    pub token: Option<String>,
    /// Pause between two polls of `GET /v2/deployments` (default 1 s).
    pub poll_interval: Duration,
    /// Longest wait for one Marathon deployment before it is rolled back (default 5 min).
    pub deployment_timeout: Duration,
    /// Longest wait for one HTTP answer (default 30 s).
    pub request_timeout: Duration,
}

impl MarathonOptions {
    /// Defaults for everything but the URL.
    ///
    /// ```
    /// let o = vamp_drivers::MarathonOptions::new("http://127.0.0.1:8080");
    /// assert_eq!(o.group, "vamp");
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        MarathonOptions {
            url: url.into(),
            group: "vamp".into(),
            token: None,
            poll_interval: Duration::from_secs(1),
            deployment_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The Marathon driver.
pub struct MarathonDriver {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    group: String,
    opts: MarathonOptions,
    weights: WeightBook,
}

impl std::fmt::Debug for MarathonDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarathonDriver")
            .field("url", &self.base)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

fn hash12(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// `s` lower-cased to `[a-z0-9]` runs joined by single `-`; `None` when
/// nothing is left.
fn sanitize(s: &str) -> Option<String> {
    let mut v = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            v.push(c.to_ascii_lowercase());
        } else if !v.is_empty() && !v.ends_with('-') {
            v.push('-');
        }
    }
    while v.ends_with('-') {
        v.pop();
    }
    (!v.is_empty()).then_some(v)
}

/// A Marathon path segment: `[a-z0-9]([a-z0-9-]*[a-z0-9])?`, at most `max`
/// characters (longer ones keep a prefix and a hash of the original).
fn segment(s: &str, max: usize) -> String {
    let mut v = sanitize(s).unwrap_or_else(|| format!("x{}", &hash12(s)[..8]));
    if v.len() > max {
        v.truncate(max.saturating_sub(13));
        while v.ends_with('-') {
            v.pop();
        }
        v.push('-');
        v.push_str(&hash12(s));
    }
    v
}

/// The app group as a path without slashes at either end (`vamp`, `a/b`).
fn group_path(group: &str) -> String {
    let parts: Vec<String> = group
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| segment(p, 63))
        .collect();
    if parts.is_empty() {
        "vamp".into()
    } else {
        parts.join("/")
    }
}

/// The id of the app of a service at a fingerprint:
/// `/<group>/<deployment>/<cluster>-<service>-<fingerprint>`.
///
/// ```
/// use vamp_drivers::{marathon_app_id, ServiceKey};
/// let key = ServiceKey { deployment: "sava-canary".into(), cluster: "sava".into(), service: "sava:1.0.0".into() };
/// assert_eq!(marathon_app_id("vamp", &key, "0123456789ab"), "/vamp/sava-canary/sava-sava-1-0-0-0123456789ab");
/// ```
pub fn marathon_app_id(group: &str, key: &ServiceKey, fingerprint: &str) -> String {
    let last = segment(
        &format!("{}-{}", key.cluster, key.service),
        62usize.saturating_sub(fingerprint.len()),
    );
    format!(
        "/{}/{}/{last}-{}",
        group_path(group),
        segment(&key.deployment, 63),
        segment(fingerprint, 63)
    )
}

/// A Marathon port name (`[a-z0-9-]`), `p<i>` when nothing is left.
fn port_name(name: &str, i: usize) -> String {
    sanitize(name).unwrap_or_else(|| format!("p{i}"))
}

/// Whether Marathon sets this variable itself: `PORT`, `PORTS`, `PORT<n>`,
/// `PORT_<NAME>` for its port names, and the `PORT_<NAME>` the other
/// drivers set for the breed's port names.
fn is_port_variable(name: &str, spec: &ServiceSpec, marathon_names: &[String]) -> bool {
    name == "PORT"
        || name == "PORTS"
        || name
            .strip_prefix("PORT")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        || marathon_names
            .iter()
            .any(|p| name == format!("PORT_{}", p.to_ascii_uppercase()))
        || spec.ports.iter().any(|p| name == port_env_name(&p.name))
}

/// The app Marathon gets for a service at a fingerprint with `instances`
/// instances in `group` (the JSON the driver posts).
///
/// ```
/// use vamp_drivers::{marathon_app, PortSpec, ServiceKey, ServiceSpec};
/// let spec = ServiceSpec {
///     key: ServiceKey { deployment: "shop".into(), cluster: "web".into(), service: "web_1".into() },
///     image: "vamp-test/web:1".into(), deployable_type: None, environment: vec![],
///     arguments: vec![], ports: vec![PortSpec { name: "webport".into(), number: Some(8080), protocol: "http".into() }],
///     cpu: 0.25, memory: 64.0, instances: 2, health_checks: vec![], depends_on: vec![],
/// };
/// let app = marathon_app(&spec, &spec.fingerprint(), 2, "vamp");
/// assert_eq!(app["instances"], 2);
/// assert_eq!(app["container"]["docker"]["image"], "vamp-test/web:1");
/// assert_eq!(app["portDefinitions"][0]["name"], "webport");
/// assert_eq!(app["labels"]["io.vamp.service"], "web_1");
/// ```
pub fn marathon_app(spec: &ServiceSpec, fingerprint: &str, instances: u32, group: &str) -> Value {
    let key = &spec.key;
    let port_names: Vec<String> = spec
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| port_name(&p.name, i))
        .collect();
    let mut env = Map::new();
    for (k, v) in [
        ("VAMP_DEPLOYMENT", &key.deployment),
        ("VAMP_CLUSTER", &key.cluster),
        ("VAMP_SERVICE", &key.service),
    ] {
        env.insert(k.to_owned(), json!(v));
    }
    for (k, v) in &spec.environment {
        if !is_port_variable(k, spec, &port_names) {
            env.insert(k.clone(), json!(v));
        }
    }
    let mut labels = Map::new();
    labels.insert(L_MANAGED.into(), json!(MANAGED));
    labels.insert(L_DEPLOYMENT.into(), json!(key.deployment));
    labels.insert(L_CLUSTER.into(), json!(key.cluster));
    labels.insert(L_SERVICE.into(), json!(key.service));
    labels.insert(L_FINGERPRINT.into(), json!(fingerprint));

    let mut app = Map::new();
    app.insert("id".into(), json!(marathon_app_id(group, key, fingerprint)));
    let ty = spec.deployable_type.as_deref().unwrap_or("docker");
    if matches!(ty, "command" | "cmd") {
        app.insert("cmd".into(), json!(spec.image));
    } else {
        let mut docker = Map::new();
        docker.insert("image".into(), json!(spec.image));
        let mut parameters = Vec::new();
        for (k, v) in &spec.arguments {
            if k == "privileged" {
                docker.insert("privileged".into(), json!(v.eq_ignore_ascii_case("true")));
            } else {
                parameters.push(json!({"key": k, "value": v}));
            }
        }
        if !parameters.is_empty() {
            docker.insert("parameters".into(), Value::Array(parameters));
        }
        app.insert(
            "container".into(),
            json!({"type": "DOCKER", "docker": Value::Object(docker)}),
        );
    }
    app.insert("networks".into(), json!([{"mode": "host"}]));
    app.insert(
        "portDefinitions".into(),
        Value::Array(
            spec.ports
                .iter()
                .zip(&port_names)
                .map(|(p, n)| {
                    json!({"port": 0, "name": n, "protocol": "tcp", "labels": {L_PORT: p.name}})
                })
                .collect(),
        ),
    );
    app.insert("env".into(), Value::Object(env));
    app.insert("cpus".into(), json!(spec.cpu));
    app.insert("mem".into(), json!(spec.memory));
    app.insert("instances".into(), json!(instances));
    app.insert("labels".into(), Value::Object(labels));
    let checks: Vec<Value> = spec
        .health_checks
        .iter()
        .map(|h| {
            let port_index = spec
                .ports
                .iter()
                .position(|p| {
                    p.name == h.port || p.number.map(|n| n.to_string()) == Some(h.port.clone())
                })
                .unwrap_or(0);
            let protocol = if h.protocol.eq_ignore_ascii_case("TCP") {
                "MESOS_TCP"
            } else if h.protocol.eq_ignore_ascii_case("HTTPS") {
                "MESOS_HTTPS"
            } else {
                "MESOS_HTTP"
            };
            let mut c = Map::new();
            c.insert("protocol".into(), json!(protocol));
            if protocol != "MESOS_TCP" {
                let path = if h.path.starts_with('/') {
                    h.path.clone()
                } else {
                    format!("/{}", h.path)
                };
                c.insert("path".into(), json!(path));
            }
            c.insert("portIndex".into(), json!(port_index));
            c.insert("gracePeriodSeconds".into(), json!(h.initial_delay));
            if h.interval > 0 {
                c.insert("intervalSeconds".into(), json!(h.interval));
            }
            if h.timeout > 0 {
                c.insert("timeoutSeconds".into(), json!(h.timeout));
            }
            if h.failures > 0 {
                c.insert("maxConsecutiveFailures".into(), json!(h.failures));
            }
            Value::Object(c)
        })
        .collect();
    if !checks.is_empty() {
        app.insert("healthChecks".into(), Value::Array(checks));
    }
    app.insert(
        "upgradeStrategy".into(),
        json!({"minimumHealthCapacity": 1.0, "maximumOverCapacity": 1.0}),
    );
    Value::Object(app)
}

/// An HTTP answer: status, JSON body (a string when not JSON) and the
/// `Marathon-Deployment-Id` header.
struct Answer {
    status: u16,
    body: Value,
    deployment_header: Option<String>,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn message(&self) -> String {
        let mut m = match &self.body {
            Value::Object(o) => o
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| self.body.to_string(), str::to_owned),
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        if let Some(details) = self.body.get("details").and_then(Value::as_array) {
            let parts: Vec<String> = details
                .iter()
                .map(|d| {
                    let path = d.get("path").and_then(Value::as_str).unwrap_or("/");
                    let errors: Vec<&str> = d
                        .get("errors")
                        .and_then(Value::as_array)
                        .map(|e| e.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    format!("{path}: {}", errors.join(", "))
                })
                .collect();
            if !parts.is_empty() {
                m = format!("{m} ({})", parts.join("; "));
            }
        }
        if m.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            m
        }
    }

    /// The deployment a write started: header, `deploymentId`, or the
    /// created app's `deployments[0].id`.
    fn deployment(&self) -> Option<String> {
        self.deployment_header
            .clone()
            .or_else(|| {
                self.body
                    .get("deploymentId")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .or_else(|| {
                self.body
                    .get("deployments")
                    .and_then(Value::as_array)
                    .and_then(|d| d.first())
                    .and_then(|d| d.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
    }

    /// Deployments named by a 409 "app is locked" answer.
    fn locking_deployments(&self) -> Option<Vec<String>> {
        let ds = self.body.get("deployments")?.as_array()?;
        Some(
            ds.iter()
                .filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect(),
        )
    }

    fn error(&self, object: &str) -> DriverError {
        let detail = self.message();
        match self.status {
            401 | 403 => DriverError::Unauthorized {
                driver: DRIVER,
                detail,
            },
            404 => DriverError::NotFound {
                driver: DRIVER,
                object: object.to_owned(),
                detail,
            },
            409 => DriverError::Conflict {
                object: object.to_owned(),
                detail,
            },
            400 | 422 => DriverError::Invalid {
                driver: DRIVER,
                object: object.to_owned(),
                detail,
            },
            status => DriverError::Server {
                driver: DRIVER,
                status,
                detail,
            },
        }
    }
}

/// Deployment ids listed in an app's `deployments`.
fn app_deployments(app: &Value) -> Vec<String> {
    app.get("deployments")
        .and_then(Value::as_array)
        .map(|ds| {
            ds.iter()
                .filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn count(app: &Value, field: &str) -> u32 {
    app.get(field)
        .and_then(Value::as_u64)
        .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Query-string encoding of a value (RFC 3986 unreserved kept).
fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Splits a deterministic instance name into fingerprint and index.
fn fingerprint_and_index(name: &str) -> Option<(&str, u32)> {
    let (rest, index) = name.rsplit_once('-')?;
    let (_, fp) = rest.rsplit_once('-')?;
    Some((fp, index.parse().ok()?))
}

impl MarathonDriver {
    /// A driver for the Marathon at `opts.url`. Nothing is contacted yet.
    ///
    /// # Errors
    /// `driver_unavailable` when the URL is not an `http://` URL.
    pub fn new(opts: MarathonOptions) -> Result<Self, DriverError> {
        let base = opts.url.trim().trim_end_matches('/').to_owned();
        let bad = |why: &str| DriverError::Unavailable {
            driver: DRIVER,
            detail: format!("`{}` {why}", opts.url),
        };
        if base.starts_with("https://") {
            return Err(bad(
                "is https, which this driver does not speak yet; reach Marathon over http (e.g. through an SSH tunnel or `dcos` proxy)",
            ));
        }
        if !base.starts_with("http://") {
            return Err(bad("is not a URL of the form http://HOST:PORT"));
        }
        if base.parse::<hyper::Uri>().is_err() {
            return Err(bad("is not a valid URL"));
        }
        let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        Ok(MarathonDriver {
            client,
            base,
            group: group_path(&opts.group),
            opts,
            weights: WeightBook::default(),
        })
    }

    /// The app group it works in.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Route weights by `deployment/cluster`, to persist between runs.
    pub fn weights(&self) -> Weights {
        self.weights.snapshot()
    }

    /// Restores weights saved from [`weights`](Self::weights).
    pub fn restore_weights(&self, weights: Weights) {
        self.weights.restore(weights);
    }

    /// One HTTP exchange. Transport failures are `driver_unavailable`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, DriverError> {
        let unavailable = |detail: String| DriverError::Unavailable {
            driver: DRIVER,
            detail,
        };
        let uri = format!("{}{path}", self.base);
        let mut req = hyper::Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header(hyper::header::ACCEPT, "application/json");
        if let Some(token) = &self.opts.token {
            req = req.header(hyper::header::AUTHORIZATION, format!("token={token}"));
        }
        let payload = match body {
            Some(b) => {
                req = req.header(hyper::header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(b).map_err(|e| DriverError::Io(e.to_string()))?)
            }
            None => Bytes::new(),
        };
        let req = req
            .body(Full::new(payload))
            .map_err(|e| unavailable(format!("cannot build a request for {uri}: {e}")))?;
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| unavailable(format!("{method} {uri}: {e}")))?;
            let status = resp.status().as_u16();
            let deployment_header = resp
                .headers()
                .get("marathon-deployment-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| unavailable(format!("{method} {uri}: reading the answer: {e}")))?
                .to_bytes();
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                    let text = String::from_utf8_lossy(&bytes);
                    Value::String(text.chars().take(300).collect())
                })
            };
            Ok(Answer {
                status,
                body,
                deployment_header,
            })
        };
        match tokio::time::timeout(self.opts.request_timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(unavailable(format!(
                "{method} {uri}: no answer within {:?}",
                self.opts.request_timeout
            ))),
        }
    }

    fn app_path(id: &str) -> String {
        format!("/v2/apps{id}")
    }

    /// The app, or `None` when Marathon does not know it.
    async fn get_app(&self, id: &str) -> Result<Option<Value>, DriverError> {
        let a = self.call(Method::GET, &Self::app_path(id), None).await?;
        match a.status {
            200 => Ok(Some(a.body.get("app").cloned().unwrap_or(Value::Null))),
            404 => Ok(None),
            _ => Err(a.error(id)),
        }
    }

    /// Polls `GET /v2/deployments` until none of `ids` runs. Past the
    /// deadline, a deployment the driver started (`ours`) is rolled back
    /// and reported as `driver_deployment_stuck`; someone else's is left
    /// alone and reported as a transient `driver_conflict`.
    async fn await_deployments(
        &self,
        ids: &[String],
        object: &str,
        ours: bool,
    ) -> Result<(), DriverError> {
        if ids.is_empty() {
            return Ok(());
        }
        let start = Instant::now();
        loop {
            let a = self.call(Method::GET, "/v2/deployments", None).await?;
            if !a.ok() {
                return Err(a.error("/v2/deployments"));
            }
            let running: Vec<&Value> = a
                .body
                .as_array()
                .map(|ds| {
                    ds.iter()
                        .filter(|d| {
                            d.get("id")
                                .and_then(Value::as_str)
                                .is_some_and(|id| ids.iter().any(|w| w == id))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let Some(first) = running.first() else {
                return Ok(());
            };
            let waited = start.elapsed();
            if waited >= self.opts.deployment_timeout {
                let id = first.get("id").and_then(Value::as_str).unwrap_or_default();
                let actions = first
                    .get("currentActions")
                    .map_or_else(String::new, |a| format!(", current actions {a}"));
                if !ours {
                    return Err(DriverError::Conflict {
                        object: object.to_owned(),
                        detail: format!(
                            "locked by Marathon deployment {id}{actions} for more than {waited:?}"
                        ),
                    });
                }
                // Without force Marathon starts a rollback deployment; a 404
                // means it ended meanwhile. Either way the step failed.
                let _ = self
                    .call(Method::DELETE, &format!("/v2/deployments/{id}"), None)
                    .await;
                return Err(DriverError::Stuck {
                    driver: DRIVER,
                    object: object.to_owned(),
                    waited,
                    detail: format!("Marathon deployment {id}{actions}"),
                });
            }
            tokio::time::sleep(self.opts.poll_interval).await;
        }
    }

    /// A write that waits out "app is locked by deployment" (409 naming the
    /// deployments) a few times. Returns the answer, whatever its status,
    /// except a lock that outlasts the retries (a transient `driver_conflict`).
    async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        object: &str,
    ) -> Result<Answer, DriverError> {
        let mut last = None;
        for _ in 0..CONFLICT_RETRIES {
            let a = self.call(method.clone(), path, body).await?;
            match (a.status, a.locking_deployments()) {
                (409, Some(ids)) if !ids.is_empty() => {
                    self.await_deployments(&ids, object, false).await?;
                    last = Some(a);
                }
                _ => return Ok(a),
            }
        }
        Err(DriverError::Conflict {
            object: object.to_owned(),
            detail: last.map_or_else(|| "the app stayed locked".into(), |a| a.message()),
        })
    }

    /// Runs a write and waits for the deployment it started.
    async fn finish(&self, a: &Answer, object: &str) -> Result<(), DriverError> {
        match a.deployment() {
            Some(id) => self.await_deployments(&[id], object, true).await,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Driver for MarathonDriver {
    fn name(&self) -> &'static str {
        DRIVER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            cpu_limits: true,
            memory_limits: true,
            health_checks: true,
            arguments: true,
            drain: false,
            deployable_types: &["docker", "container/docker", "command", "cmd"],
        }
    }

    async fn observe(&self, deployment: &str) -> Result<ActualState, DriverError> {
        let path = format!(
            "/v2/apps?label={}&embed=apps.tasks",
            query_encode(&format!("{L_MANAGED}=={MANAGED}"))
        );
        let a = self.call(Method::GET, &path, None).await?;
        if !a.ok() {
            return Err(a.error("/v2/apps"));
        }
        let mut instances = Vec::new();
        let apps = a.body.get("apps").and_then(Value::as_array);
        for app in apps.into_iter().flatten() {
            let Some(labels) = app.get("labels").and_then(Value::as_object) else {
                continue;
            };
            let get = |k: &str| {
                labels
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            if get(L_DEPLOYMENT) != deployment {
                continue;
            }
            let in_group = app
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.starts_with(&format!("/{}/", self.group)));
            if !in_group {
                continue;
            }
            let key = ServiceKey {
                deployment: get(L_DEPLOYMENT),
                cluster: get(L_CLUSTER),
                service: get(L_SERVICE),
            };
            let fingerprint = get(L_FINGERPRINT);
            let wanted = count(app, "instances");
            let has_checks = app
                .get("healthChecks")
                .and_then(Value::as_array)
                .is_some_and(|c| !c.is_empty());
            let ready = if has_checks {
                count(app, "tasksHealthy")
            } else {
                count(app, "tasksRunning")
            };
            let port_names: Vec<String> = app
                .get("portDefinitions")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .enumerate()
                        .map(|(i, p)| {
                            p.get("labels")
                                .and_then(|l| l.get(L_PORT))
                                .or_else(|| p.get("name"))
                                .and_then(Value::as_str)
                                .map_or_else(|| format!("p{i}"), str::to_owned)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut tasks: Vec<&Value> = app
                .get("tasks")
                .and_then(Value::as_array)
                .map(|t| t.iter().collect())
                .unwrap_or_default();
            tasks.sort_by_key(|t| {
                (
                    t.get("startedAt").and_then(Value::as_str).unwrap_or("~"),
                    t.get("id").and_then(Value::as_str).unwrap_or_default(),
                )
            });
            for index in 0..wanted {
                let task = tasks.get(index as usize);
                let host = task
                    .and_then(|t| t.get("host"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let ports = task
                    .and_then(|t| t.get("ports"))
                    .and_then(Value::as_array)
                    .map(|ps| {
                        port_names
                            .iter()
                            .zip(ps)
                            .map(|(n, p)| {
                                let port = p.as_u64().and_then(|p| u16::try_from(p).ok());
                                (n.clone(), port.unwrap_or(0))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                instances.push(ObservedInstance {
                    name: instance_name(&key, &fingerprint, index),
                    key: key.clone(),
                    fingerprint: fingerprint.clone(),
                    index,
                    state: if index < ready {
                        InstanceState::Running
                    } else {
                        InstanceState::Starting
                    },
                    draining: false,
                    healthy: has_checks.then_some(index < ready),
                    host,
                    ports,
                });
            }
        }
        let weights = self.weights.of_deployment(deployment).into_iter().collect();
        Ok(ActualState { instances, weights })
    }

    async fn create(
        &self,
        spec: &ServiceSpec,
        fingerprint: &str,
        index: u32,
        _name: &str,
    ) -> Result<(), DriverError> {
        let id = marathon_app_id(&self.group, &spec.key, fingerprint);
        let want = index.saturating_add(1);
        for _ in 0..CONFLICT_RETRIES {
            let answer = match self.get_app(&id).await? {
                None => {
                    let app = marathon_app(spec, fingerprint, want, &self.group);
                    let a = self
                        .write(Method::POST, "/v2/apps", Some(&app), &id)
                        .await?;
                    if a.status == 409 {
                        // Created meanwhile (a concurrent or crashed run): read again.
                        continue;
                    }
                    a
                }
                Some(current) => {
                    // Finish what runs first (e.g. a write of a crashed run).
                    self.await_deployments(&app_deployments(&current), &id, false)
                        .await?;
                    let have = count(&current, "instances");
                    if have >= want {
                        return Ok(());
                    }
                    let app = marathon_app(spec, fingerprint, want, &self.group);
                    let path = format!("{}?partialUpdate=false", Self::app_path(&id));
                    self.write(Method::PUT, &path, Some(&app), &id).await?
                }
            };
            if !answer.ok() {
                return Err(answer.error(&id));
            }
            return self.finish(&answer, &id).await;
        }
        Err(DriverError::Conflict {
            object: id,
            detail: "the app kept changing under us".into(),
        })
    }

    async fn drain(&self, _key: &ServiceKey, _name: &str) -> Result<(), DriverError> {
        Ok(())
    }

    async fn remove(&self, key: &ServiceKey, name: &str) -> Result<(), DriverError> {
        let Some((fp, index)) = fingerprint_and_index(name) else {
            return Err(DriverError::Invalid {
                driver: DRIVER,
                object: name.to_owned(),
                detail: "not an instance name of the form vamp-<deployment>-<cluster>-<service>-<fingerprint>-<index>".into(),
            });
        };
        let id = marathon_app_id(&self.group, key, fp);
        for _ in 0..CONFLICT_RETRIES {
            let Some(current) = self.get_app(&id).await? else {
                return Ok(());
            };
            self.await_deployments(&app_deployments(&current), &id, false)
                .await?;
            let have = count(&current, "instances");
            let want = have.min(index);
            if want == have && have > 0 {
                return Ok(());
            }
            let a = if want == 0 {
                self.write(Method::DELETE, &Self::app_path(&id), None, &id)
                    .await?
            } else {
                let body = json!({ "instances": want });
                self.write(Method::PATCH, &Self::app_path(&id), Some(&body), &id)
                    .await?
            };
            match a.status {
                // Gone meanwhile.
                404 => return Ok(()),
                // Changed meanwhile: read again.
                409 => continue,
                _ if a.ok() => return self.finish(&a, &id).await,
                _ => return Err(a.error(&id)),
            }
        }
        Err(DriverError::Conflict {
            object: id,
            detail: "the app kept changing under us".into(),
        })
    }

    async fn set_weights(
        &self,
        deployment: &str,
        cluster: &str,
        weights: &[(String, u8)],
    ) -> Result<(), DriverError> {
        self.weights.set(deployment, cluster, weights);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_marathon_path_ids() {
        let k = ServiceKey {
            deployment: "Shop".into(),
            cluster: "web".into(),
            service: "sava:1.0.0".into(),
        };
        assert_eq!(
            marathon_app_id("vamp", &k, "0123456789ab"),
            "/vamp/shop/web-sava-1-0-0-0123456789ab"
        );
        assert_eq!(
            marathon_app_id("/team//a/", &k, "0123456789ab"),
            "/team/a/shop/web-sava-1-0-0-0123456789ab"
        );
        let long = ServiceKey {
            cluster: "c".repeat(100),
            ..k
        };
        let id = marathon_app_id("vamp", &long, "0123456789ab");
        assert!(id.rsplit('/').next().is_some_and(|s| s.len() <= 63), "{id}");
        assert_eq!(segment("--", 63).len(), 9);
        assert_eq!(port_name("web_port", 0), "web-port");
        assert_eq!(port_name("_", 3), "p3");
    }

    #[test]
    fn port_variables_are_left_to_marathon() {
        let spec = ServiceSpec {
            key: ServiceKey {
                deployment: "shop".into(),
                cluster: "web".into(),
                service: "web_1".into(),
            },
            image: "vamp-test/web:1".into(),
            deployable_type: None,
            environment: vec![],
            arguments: vec![],
            ports: vec![crate::spec::PortSpec {
                name: "web_port".into(),
                number: None,
                protocol: "http".into(),
            }],
            cpu: 0.1,
            memory: 64.0,
            instances: 1,
            health_checks: vec![],
            depends_on: vec![],
        };
        let names = vec!["web-port".to_owned()];
        for v in [
            "PORT",
            "PORTS",
            "PORT0",
            "PORT12",
            "PORT_WEB-PORT",
            "PORT_WEB_PORT",
        ] {
            assert!(is_port_variable(v, &spec, &names), "{v}");
        }
        for v in ["PORTAL", "PORT_", "DB_PORT", "PORT_OTHER"] {
            assert!(!is_port_variable(v, &spec, &names), "{v}");
        }
        assert_eq!(query_encode("io.vamp==x y"), "io.vamp%3D%3Dx%20y");
    }
}
