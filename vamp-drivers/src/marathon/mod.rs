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

mod app;
mod http;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Method;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use serde_json::{json, Value};
use vamp_model::labels;

use self::app::group_path;
pub use self::app::{marathon_app, marathon_app_id};
use self::http::{app_deployments, count, query_encode};

use crate::driver::{
    ActualState, Capabilities, Driver, InstanceState, NewInstance, ObservedInstance,
};
use crate::error::DriverError;
use crate::spec::{fingerprint_and_index, instance_name, ServiceKey};
use crate::weights::{WeightBook, Weights};

const DRIVER: &str = "marathon";

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
}

#[async_trait]
impl Driver for MarathonDriver {
    fn name(&self) -> &'static str {
        DRIVER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            deployable_types: &["docker", "container/docker", "command", "cmd"],
            ..Capabilities::CONTAINERS
        }
    }

    fn weight_book(&self) -> Option<&WeightBook> {
        Some(&self.weights)
    }

    async fn observe(&self, deployment: &str) -> Result<ActualState, DriverError> {
        let path = format!(
            "/v2/apps?label={}&embed=apps.tasks",
            query_encode(&format!("{}=={}", labels::MANAGED, labels::MANAGED_VALUE))
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
            if get(labels::DEPLOYMENT) != deployment {
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
                deployment: get(labels::DEPLOYMENT),
                cluster: get(labels::CLUSTER),
                service: get(labels::SERVICE),
            };
            let fingerprint = get(labels::FINGERPRINT);
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
                                .and_then(|l| l.get(labels::PORT))
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
        Ok(self.weights.actual(deployment, instances))
    }

    async fn create(&self, new: NewInstance<'_>) -> Result<(), DriverError> {
        let (spec, fingerprint) = (new.spec, new.fingerprint);
        let id = marathon_app_id(&self.group, &spec.key, fingerprint);
        let want = new.index.saturating_add(1);
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

    async fn remove(&self, key: &ServiceKey, name: &str) -> Result<(), DriverError> {
        let (fp, index) = fingerprint_and_index(DRIVER, name)?;
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
}
