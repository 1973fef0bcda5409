//! A **test double** of Marathon's REST API: plain HTTP/1.1 on 127.0.0.1,
//! JSON only, apps and deployments in memory. It is not a Marathon (there
//! are no Mesos offers, and time is counted in polls); it enforces the
//! semantics the driver relies on, so tests fail where Marathon would refuse:
//!
//! - paths `/v2/apps` (GET, POST), `/v2/apps/{id}` (GET, PUT, PATCH,
//!   DELETE), `/v2/apps/{id}/tasks`, `/v2/tasks`, `/v2/deployments` (GET),
//!   `/v2/deployments/{id}` (DELETE), `/v2/info`; anything else is 404;
//! - validation → 422 `{"message":"Object is not valid","details":[{path,
//!   errors}]}`: PathId ids, `cmd`/`args`/`container`, `cpus >= 0.001`,
//!   `mem >= 0`, `instances >= 0`, upgradeStrategy in 0..1, port names,
//!   string env and label values, `portIndex` below the number of ports;
//!   bad JSON → 400;
//! - POST of a taken id → 409 `An app with id [/x] already exists.`; GET,
//!   PATCH, DELETE of an unknown app → 404 `App '/x' does not exist`; PUT
//!   creates (201) or updates (200), patch-like unless `partialUpdate=false`;
//! - **locking**: every write starts a deployment that stays in
//!   `GET /v2/deployments` for a configurable number of polls of that list;
//!   a write to an app in a running deployment → 409 "App is locked by one
//!   or more deployments" naming them, unless `force=true` (which cancels
//!   the old one). `DELETE /v2/apps/{id}`'s `force` default is a setting
//!   (Marathon's 2021 source defaults it to true);
//! - deployments end only when the tasks run (and are healthy, if the app
//!   has health checks); in the never-healthy mode they never end, and
//!   `DELETE /v2/deployments/{id}` rolls back (or with `force=true` just
//!   cancels);
//! - tasks with ids `<path segments joined by _>.<n>`, host 127.0.0.1, one
//!   host port per port definition from 31000 up, the `PORT`, `PORT0..`,
//!   `PORTS` and `PORT_<NAME>` environment Marathon would give them,
//!   `startedAt`, `healthCheckResults`, and the app counters;
//! - answers in the ≥ 1.5 form (`networks`, `container.portMappings`) even
//!   when the legacy form was posted; `label=k==v`, `k!=v` and `k` filters;
//!   `embed=apps.tasks`;
//! - faults: a one-shot status (e.g. 503) on the next write; every request
//!   is recorded with the status answered.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

#[path = "http.rs"]
mod http;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

pub use http::Request;

#[derive(Debug, Clone)]
struct Task {
    id: String,
    ports: Vec<u16>,
    env: BTreeMap<String, String>,
    started_at: String,
    /// The app definition (without `instances`) the task was started from.
    config: Value,
}

#[derive(Debug, Clone)]
struct App {
    /// The definition as stored (≥ 1.5 form, no server fields).
    def: Value,
    version: String,
    tasks: Vec<Task>,
}

#[derive(Debug, Clone)]
struct Deployment {
    id: String,
    app: String,
    version: String,
    polls_left: u32,
    action: &'static str,
    /// The app before the write (None: it did not exist), for rollbacks.
    previous: Option<Value>,
    rollback: bool,
}

struct State {
    apps: BTreeMap<String, App>,
    deployments: Vec<Deployment>,
    requests: Vec<Request>,
    polls: u32,
    delete_force_default: bool,
    never_healthy: bool,
    fail_next_write: Option<u16>,
    lock_before_next_write: Option<u32>,
    next_port: u16,
    counter: u64,
}

/// The running double.
pub struct MarathonDouble {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

impl MarathonDouble {
    /// Starts the double on a free port of 127.0.0.1: deployments end after
    /// two polls, `DELETE /v2/apps/{id}` defaults to `force=true`.
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            apps: BTreeMap::new(),
            deployments: Vec::new(),
            requests: Vec::new(),
            polls: 2,
            delete_force_default: true,
            never_healthy: false,
            fail_next_write: None,
            lock_before_next_write: None,
            next_port: 31000,
            counter: 0,
        }));
        let addr = http::serve(Arc::clone(&state));
        MarathonDouble { addr, state }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Deployments end after this many polls of `GET /v2/deployments`.
    pub fn set_polls(&self, polls: u32) {
        self.state.lock().unwrap().polls = polls;
    }

    /// What `DELETE /v2/apps/{id}` does without a `force` parameter.
    pub fn set_delete_force_default(&self, force: bool) {
        self.state.lock().unwrap().delete_force_default = force;
    }

    /// Tasks of apps with health checks never become healthy, so their
    /// deployments never end.
    pub fn set_never_healthy(&self, on: bool) {
        self.state.lock().unwrap().never_healthy = on;
    }

    /// The next write (POST, PUT, PATCH, DELETE) is answered with `status`.
    pub fn fail_next_write(&self, status: u16) {
        self.state.lock().unwrap().fail_next_write = Some(status);
    }

    /// Another client starts a deployment of `app` lasting `polls` polls
    /// (the app is locked meanwhile). Returns the deployment id.
    pub fn lock_app(&self, app: &str, polls: u32) -> String {
        let mut st = self.state.lock().unwrap();
        let id = new_deployment(&mut st, app, "ScaleApplication", None);
        if let Some(d) = st.deployments.iter_mut().find(|d| d.id == id) {
            d.polls_left = polls;
        }
        id
    }

    /// Just before the next PUT, PATCH or DELETE of an app, another client
    /// starts a deployment of it lasting `polls` polls: the write meets 409
    /// "App is locked".
    pub fn lock_before_next_write(&self, polls: u32) {
        self.state.lock().unwrap().lock_before_next_write = Some(polls);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Ids of the apps, sorted.
    pub fn app_ids(&self) -> Vec<String> {
        self.state.lock().unwrap().apps.keys().cloned().collect()
    }

    /// An app as `GET /v2/apps/{id}?embed=app.tasks` answers it.
    pub fn app(&self, id: &str) -> Option<Value> {
        let st = self.state.lock().unwrap();
        st.apps.get(id).map(|a| answer_app(&st, id, a, true))
    }

    /// The environment a task of the app got (ports included), by task position.
    pub fn task_env(&self, id: &str) -> Vec<BTreeMap<String, String>> {
        let st = self.state.lock().unwrap();
        st.apps
            .get(id)
            .map(|a| a.tasks.iter().map(|t| t.env.clone()).collect())
            .unwrap_or_default()
    }

    /// Deployments still running.
    pub fn running_deployments(&self) -> Vec<String> {
        let st = self.state.lock().unwrap();
        st.deployments.iter().map(|d| d.id.clone()).collect()
    }
}

impl http::Api for State {
    fn answer(&mut self, request: &http::Incoming) -> http::Reply {
        let (code, answer, deployment) =
            handle(self, &request.method, &request.target, &request.body);
        let header = deployment
            .map(|d| format!("Marathon-Deployment-Id: {d}\r\n"))
            .unwrap_or_default();
        (code, header, answer)
    }

    fn log(&mut self) -> &mut Vec<Request> {
        &mut self.requests
    }
}

type Answer = (u16, Value, Option<String>);

fn message(code: u16, text: String) -> Answer {
    (code, json!({ "message": text }), None)
}

fn unknown_app(id: &str) -> Answer {
    message(404, format!("App '{id}' does not exist"))
}

fn locked(ids: &[String]) -> Answer {
    let first = ids.first().cloned().unwrap_or_default();
    (
        409,
        json!({
            "message": format!("App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/{first}'."),
            "deployments": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        }),
        None,
    )
}

fn now(st: &mut State) -> String {
    st.counter += 1;
    format!(
        "2026-01-01T{:02}:{:02}:{:02}.{:03}Z",
        (st.counter / 3_600_000) % 24,
        (st.counter / 60_000) % 60,
        (st.counter / 1000) % 60,
        st.counter % 1000
    )
}

fn new_deployment(
    st: &mut State,
    app: &str,
    action: &'static str,
    previous: Option<Value>,
) -> String {
    st.counter += 1;
    let id = format!("5ed4c0c5-0000-4000-8000-{:012x}", st.counter);
    let version = now(st);
    let polls = st.polls;
    st.deployments.push(Deployment {
        id: id.clone(),
        app: app.to_owned(),
        version,
        polls_left: polls,
        action,
        previous,
        rollback: false,
    });
    id
}

fn locks(st: &State, app: &str) -> Vec<String> {
    st.deployments
        .iter()
        .filter(|d| d.app == app)
        .map(|d| d.id.clone())
        .collect()
}

/// Absolute app id with no trailing slash.
fn absolute(id: &str) -> String {
    format!("/{}", id.trim_matches('/'))
}

fn valid_segment(s: &str) -> bool {
    if s == "." || s == ".." {
        return true;
    }
    s.split('.').all(|p| {
        let b = p.as_bytes();
        !b.is_empty()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    })
}

fn without_instances(def: &Value) -> Value {
    let mut d = def.clone();
    if let Some(m) = d.as_object_mut() {
        m.remove("instances");
        m.remove("version");
    }
    d
}

/// The legacy (≤ 1.4) network form, turned into the ≥ 1.5 one.
fn normalise(mut def: Value) -> Value {
    let Some(m) = def.as_object_mut() else {
        return def;
    };
    let mut network = None;
    let mut mappings = None;
    if let Some(docker) = m
        .get_mut("container")
        .and_then(|c| c.get_mut("docker"))
        .and_then(Value::as_object_mut)
    {
        network = docker.remove("network");
        mappings = docker.remove("portMappings");
    }
    if let Some(mappings) = mappings {
        if let Some(c) = m.get_mut("container").and_then(Value::as_object_mut) {
            c.insert("portMappings".into(), mappings);
        }
    }
    if let Some(n) = network.as_ref().and_then(Value::as_str) {
        let mode = match n {
            "HOST" => "host",
            "USER" => "container",
            _ => "container/bridge",
        };
        m.insert("networks".into(), json!([{ "mode": mode }]));
    }
    if !m.contains_key("networks") {
        m.insert("networks".into(), json!([{ "mode": "host" }]));
    }
    def
}

fn port_count(def: &Value) -> usize {
    def.get("portDefinitions")
        .and_then(Value::as_array)
        .map(Vec::len)
        .or_else(|| {
            def.get("container")
                .and_then(|c| c.get("portMappings"))
                .and_then(Value::as_array)
                .map(Vec::len)
        })
        .unwrap_or(0)
}

/// Marathon's validation, as far as the driver can trip it.
fn validate(def: &Value) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let mut err = |path: &str, e: &str| errors.push((path.to_owned(), e.to_owned()));
    let Some(m) = def.as_object() else {
        err("/", "must be an object");
        return errors;
    };
    match m.get("id").and_then(Value::as_str) {
        Some(id) if id.starts_with('/') && id.len() > 1 => {
            if !id.trim_start_matches('/').split('/').all(valid_segment) {
                err("/id", "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'");
            }
        }
        _ => err("/id", "must be an absolute path"),
    }
    let cmd = m.get("cmd").is_some_and(|c| !c.is_null());
    let args = m.get("args");
    if cmd && args.is_some_and(|a| !a.is_null()) {
        err(
            "/",
            "AppDefinition must either contain one of 'cmd' or 'args', not both",
        );
    }
    if args.is_some_and(|a| a.as_array().is_some_and(Vec::is_empty)) {
        err("/args", "must not be empty");
    }
    let container = m.get("container").is_some_and(|c| !c.is_null());
    if !cmd && args.is_none() && !container {
        err(
            "/",
            "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'",
        );
    }
    if let Some(c) = m.get("container").filter(|c| !c.is_null()) {
        let docker = c.get("type").and_then(Value::as_str) == Some("DOCKER");
        let image = c
            .get("docker")
            .and_then(|d| d.get("image"))
            .and_then(Value::as_str)
            .is_some_and(|i| !i.is_empty());
        if docker && !image {
            err("/container/docker/image", "must not be empty");
        }
    }
    if let Some(cpus) = m.get("cpus") {
        if !cpus.as_f64().is_some_and(|c| c >= 0.001) {
            err("/cpus", "got 0.0, expected 0.001 or more");
        }
    }
    if let Some(mem) = m.get("mem") {
        if !mem.as_f64().is_some_and(|c| c >= 0.0) {
            err("/mem", "got a negative value, expected 0.0 or more");
        }
    }
    if let Some(i) = m.get("instances") {
        if i.as_i64().is_none_or(|i| i < 0) {
            err("/instances", "got a negative value, expected 0 or more");
        }
    }
    if let Some(u) = m.get("upgradeStrategy").and_then(Value::as_object) {
        for k in ["minimumHealthCapacity", "maximumOverCapacity"] {
            if let Some(v) = u.get(k) {
                if !v.as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)) {
                    err(&format!("/upgradeStrategy/{k}"), "is greater than 1");
                }
            }
        }
    }
    for (field, what) in [("env", "env"), ("labels", "labels")] {
        if let Some(o) = m.get(field).and_then(Value::as_object) {
            for (k, v) in o {
                if !v.is_string() {
                    err(&format!("/{what}/{k}"), "must be a string");
                }
            }
        }
    }
    if let Some(ps) = m.get("portDefinitions").and_then(Value::as_array) {
        let mut seen = Vec::new();
        for (i, p) in ps.iter().enumerate() {
            if let Some(n) = p.get("name").and_then(Value::as_str) {
                let ok = !n.is_empty()
                    && n.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                    && !n.starts_with('-')
                    && !n.ends_with('-');
                if !ok {
                    err(
                        &format!("/portDefinitions({i})/name"),
                        "must fully match regular expression '^[a-z0-9]([a-z0-9-]*[a-z0-9]+)*$'",
                    );
                }
                if seen.contains(&n) {
                    err("/portDefinitions", "Port names must be unique.");
                }
                seen.push(n);
            }
        }
    }
    let ports = port_count(def);
    if let Some(hs) = m.get("healthChecks").and_then(Value::as_array) {
        for (i, h) in hs.iter().enumerate() {
            if let Some(pi) = h.get("portIndex").and_then(Value::as_u64) {
                if pi as usize >= ports {
                    err(
                        &format!("/healthChecks({i})"),
                        "Health check port indices must address an element of the ports array or container port mappings.",
                    );
                }
            }
        }
    }
    errors
}

fn invalid(errors: Vec<(String, String)>) -> Answer {
    (
        422,
        json!({
            "message": "Object is not valid",
            "details": errors.into_iter().map(|(p, e)| json!({"path": p, "errors": [e]})).collect::<Vec<_>>(),
        }),
        None,
    )
}

fn has_checks(def: &Value) -> bool {
    def.get("healthChecks")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty())
}

fn answer_app(st: &State, id: &str, app: &App, embed_tasks: bool) -> Value {
    let mut v = app.def.clone();
    let running = app.tasks.len();
    let checks = has_checks(&app.def);
    let healthy = if checks && !st.never_healthy {
        running
    } else {
        0
    };
    let unhealthy = if checks && st.never_healthy {
        running
    } else {
        0
    };
    if let Some(m) = v.as_object_mut() {
        m.insert("version".into(), json!(app.version));
        m.insert(
            "deployments".into(),
            json!(locks(st, id)
                .iter()
                .map(|d| json!({"id": d}))
                .collect::<Vec<_>>()),
        );
        m.insert("tasksStaged".into(), json!(0));
        m.insert("tasksRunning".into(), json!(running));
        m.insert("tasksHealthy".into(), json!(healthy));
        m.insert("tasksUnhealthy".into(), json!(unhealthy));
        if embed_tasks {
            m.insert(
                "tasks".into(),
                Value::Array(
                    app.tasks
                        .iter()
                        .map(|t| answer_task(st, id, t, checks))
                        .collect(),
                ),
            );
        }
    }
    v
}

fn answer_task(st: &State, app: &str, t: &Task, checks: bool) -> Value {
    let mut v = json!({
        "id": t.id, "appId": app, "host": "127.0.0.1", "ports": t.ports,
        "ipAddresses": [{"ipAddress": "127.0.0.1", "protocol": "IPv4"}],
        "stagedAt": t.started_at, "startedAt": t.started_at, "state": "TASK_RUNNING",
        "version": t.started_at,
    });
    if checks {
        v["healthCheckResults"] = json!([{ "alive": !st.never_healthy }]);
    }
    v
}

/// Brings an app's tasks to its definition: tasks of an older definition
/// go, then tasks are added or removed to match `instances`.
fn converge_tasks(st: &mut State, id: &str) {
    let Some(app) = st.apps.get(id) else { return };
    let config = without_instances(&app.def);
    let want = app
        .def
        .get("instances")
        .and_then(Value::as_u64)
        .unwrap_or(1) as usize;
    let port_names: Vec<Option<String>> = app
        .def
        .get("portDefinitions")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let env: BTreeMap<String, String> = app
        .def
        .get("env")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut tasks: Vec<Task> = app
        .tasks
        .iter()
        .filter(|t| t.config == config)
        .cloned()
        .collect();
    tasks.truncate(want);
    let prefix = id.trim_matches('/').replace('/', "_");
    while tasks.len() < want {
        let mut ports = Vec::new();
        for _ in &port_names {
            ports.push(st.next_port);
            st.next_port += 1;
        }
        let mut task_env = env.clone();
        task_env.insert("MARATHON_APP_ID".into(), id.to_owned());
        for (i, (p, n)) in ports.iter().zip(&port_names).enumerate() {
            task_env.insert(format!("PORT{i}"), p.to_string());
            if let Some(n) = n {
                task_env.insert(format!("PORT_{}", n.to_ascii_uppercase()), p.to_string());
            }
        }
        if let Some(first) = ports.first() {
            task_env.insert("PORT".into(), first.to_string());
        }
        task_env.insert(
            "PORTS".into(),
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(","),
        );
        let started_at = now(st);
        tasks.push(Task {
            id: format!("{prefix}.{:08x}-0000-4000-8000-000000000000", st.counter),
            ports,
            env: task_env,
            started_at,
            config: config.clone(),
        });
    }
    if let Some(app) = st.apps.get_mut(id) {
        app.tasks = tasks;
    }
}

/// One poll of `GET /v2/deployments`: every deployment that can end moves on.
fn advance(st: &mut State) {
    let mut done = Vec::new();
    let never_healthy = st.never_healthy;
    let apps = &st.apps;
    st.deployments.retain_mut(|d| {
        let stuck = !d.rollback
            && never_healthy
            && apps.get(&d.app).is_some_and(|a| {
                has_checks(&a.def) && a.def.get("instances").and_then(Value::as_u64) != Some(0)
            });
        if stuck {
            return true;
        }
        d.polls_left = d.polls_left.saturating_sub(1);
        if d.polls_left == 0 {
            done.push(d.app.clone());
            return false;
        }
        true
    });
    for app in done {
        converge_tasks(st, &app);
    }
}

fn answer_deployment(d: &Deployment) -> Value {
    json!({
        "id": d.id, "version": d.version, "affectedApps": [d.app], "affectedPods": [],
        "steps": [{"actions": [{"action": d.action, "app": d.app}]}],
        "currentActions": [{"action": d.action, "app": d.app, "readinessCheckResults": []}],
        "currentStep": 1, "totalSteps": 1,
    })
}

fn label_matches(selector: &str, def: &Value) -> bool {
    let labels = def.get("labels").and_then(Value::as_object);
    http::selector_matches(selector, &["=="], |k| {
        labels.and_then(|l| l.get(k)).and_then(Value::as_str)
    })
}

fn handle(st: &mut State, method: &str, target: &str, raw: &[u8]) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = http::parse_query(query);
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let is_write = matches!(method, "POST" | "PUT" | "PATCH" | "DELETE");
    if is_write {
        if let Some(code) = st.fail_next_write.take() {
            return message(code, format!("injected failure {code}"));
        }
    }
    let body: Option<Value> = if raw.is_empty() {
        None
    } else {
        match serde_json::from_slice(raw) {
            Ok(v) => Some(v),
            Err(e) => return message(400, format!("Invalid JSON: {e}")),
        }
    };
    if path == "/v2/info" && method == "GET" {
        return (
            200,
            json!({"name": "marathon", "version": "1.11.0-double"}),
            None,
        );
    }
    if path == "/v2/deployments" && method == "GET" {
        advance(st);
        return (
            200,
            Value::Array(st.deployments.iter().map(answer_deployment).collect()),
            None,
        );
    }
    if let Some(id) = path.strip_prefix("/v2/deployments/") {
        if method != "DELETE" {
            return message(405, "method not allowed".into());
        }
        let Some(pos) = st.deployments.iter().position(|d| d.id == id) else {
            return message(404, format!("DeploymentPlan {id} does not exist"));
        };
        let d = st.deployments.remove(pos);
        if q("force") == Some("true") {
            return (202, Value::Null, None);
        }
        // Roll back: restore the app as it was before the write.
        match d.previous {
            Some(prev) => {
                let version = now(st);
                let tasks = st
                    .apps
                    .get(&d.app)
                    .map(|a| a.tasks.clone())
                    .unwrap_or_default();
                st.apps.insert(
                    d.app.clone(),
                    App {
                        def: prev,
                        version,
                        tasks,
                    },
                );
            }
            None => {
                st.apps.remove(&d.app);
            }
        }
        let rid = new_deployment(st, &d.app, "RestartApplication", None);
        if let Some(r) = st.deployments.iter_mut().find(|r| r.id == rid) {
            r.rollback = true;
        }
        let version = now(st);
        return (200, json!({"deploymentId": rid, "version": version}), None);
    }
    if path == "/v2/tasks" && method == "GET" {
        let tasks: Vec<Value> = st
            .apps
            .iter()
            .flat_map(|(id, a)| {
                let checks = has_checks(&a.def);
                a.tasks.iter().map(move |t| (id.clone(), t.clone(), checks))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(id, t, checks)| answer_task(st, &id, &t, checks))
            .collect();
        return (200, json!({ "tasks": tasks }), None);
    }
    if path == "/v2/apps" || path == "/v2/apps/" {
        return match method {
            "GET" => {
                let embed_tasks = query.iter().any(|(k, v)| k == "embed" && v == "apps.tasks");
                let selector = q("label").unwrap_or("");
                let apps: Vec<Value> = st
                    .apps
                    .iter()
                    .filter(|(_, a)| selector.is_empty() || label_matches(selector, &a.def))
                    .map(|(id, a)| answer_app(st, id, a, embed_tasks))
                    .collect();
                (200, json!({ "apps": apps }), None)
            }
            "POST" => {
                let Some(def) = body.filter(Value::is_object) else {
                    return message(400, "Invalid JSON: an app object is expected".into());
                };
                let def = normalise(def);
                let errors = validate(&def);
                if !errors.is_empty() {
                    return invalid(errors);
                }
                let id = absolute(def["id"].as_str().unwrap_or_default());
                if st.apps.contains_key(&id) {
                    return message(409, format!("An app with id [{id}] already exists."));
                }
                let running = locks(st, &id);
                if !running.is_empty() {
                    return locked(&running);
                }
                let mut def = def;
                def["id"] = json!(id);
                let version = now(st);
                st.apps.insert(
                    id.clone(),
                    App {
                        def,
                        version,
                        tasks: Vec::new(),
                    },
                );
                let dep = new_deployment(st, &id, "StartApplication", None);
                let mut answer = answer_app(st, &id, &st.apps[&id], false);
                answer["deployments"] = json!([{ "id": dep }]);
                (201, answer, Some(dep))
            }
            _ => message(405, "method not allowed".into()),
        };
    }
    let Some(rest) = path.strip_prefix("/v2/apps/") else {
        return message(404, format!("no such resource: {path}"));
    };
    let mut id = absolute(rest);
    let mut tasks_of = false;
    if !st.apps.contains_key(&id) {
        if let Some(app) = id.strip_suffix("/tasks") {
            if st.apps.contains_key(app) {
                id = app.to_owned();
                tasks_of = true;
            }
        }
    }
    let force = q("force") == Some("true");
    if matches!(method, "PUT" | "PATCH" | "DELETE") && st.apps.contains_key(&id) {
        if let Some(polls) = st.lock_before_next_write.take() {
            let dep = new_deployment(st, &id, "ScaleApplication", None);
            if let Some(d) = st.deployments.iter_mut().find(|d| d.id == dep) {
                d.polls_left = polls;
            }
        }
    }
    match method {
        "GET" => {
            let Some(app) = st.apps.get(&id) else {
                return unknown_app(&id);
            };
            if tasks_of {
                let checks = has_checks(&app.def);
                let tasks: Vec<Value> = app
                    .tasks
                    .iter()
                    .map(|t| answer_task(st, &id, t, checks))
                    .collect();
                return (200, json!({ "tasks": tasks }), None);
            }
            let embed = query.iter().any(|(k, v)| k == "embed" && v == "app.tasks");
            (200, json!({ "app": answer_app(st, &id, app, embed) }), None)
        }
        "PUT" | "PATCH" => {
            let Some(patch) = body.filter(Value::is_object) else {
                return message(400, "Invalid JSON: an app object is expected".into());
            };
            let previous = st.apps.get(&id).map(|a| a.def.clone());
            if method == "PATCH" && previous.is_none() {
                return unknown_app(&id);
            }
            let replace = method == "PUT" && q("partialUpdate") == Some("false");
            let mut def = match (&previous, replace) {
                (Some(prev), false) => {
                    let mut merged = prev.clone();
                    if let (Some(m), Some(p)) = (merged.as_object_mut(), patch.as_object()) {
                        for (k, v) in p {
                            m.insert(k.clone(), v.clone());
                        }
                    }
                    merged
                }
                _ => patch,
            };
            def["id"] = json!(id);
            let def = normalise(def);
            let errors = validate(&def);
            if !errors.is_empty() {
                return invalid(errors);
            }
            let running = locks(st, &id);
            if !running.is_empty() {
                if !force {
                    return locked(&running);
                }
                st.deployments.retain(|d| d.app != id);
            }
            let created = previous.is_none();
            let version = now(st);
            let tasks = st
                .apps
                .get(&id)
                .map(|a| a.tasks.clone())
                .unwrap_or_default();
            let scale_only = previous
                .as_ref()
                .is_some_and(|p| without_instances(p) == without_instances(&def));
            st.apps.insert(
                id.clone(),
                App {
                    def,
                    version: version.clone(),
                    tasks,
                },
            );
            let action = if created {
                "StartApplication"
            } else if scale_only {
                "ScaleApplication"
            } else {
                "RestartApplication"
            };
            let dep = new_deployment(st, &id, action, previous);
            (
                if created { 201 } else { 200 },
                json!({"version": version, "deploymentId": dep}),
                None,
            )
        }
        "DELETE" => {
            if !st.apps.contains_key(&id) {
                return unknown_app(&id);
            }
            let force = q("force").map_or(st.delete_force_default, |f| f == "true");
            let running = locks(st, &id);
            if !running.is_empty() {
                if !force {
                    return locked(&running);
                }
                st.deployments.retain(|d| d.app != id);
            }
            let previous = st.apps.remove(&id).map(|a| a.def);
            let dep = new_deployment(st, &id, "StopApplication", previous);
            let version = now(st);
            (200, json!({"version": version, "deploymentId": dep}), None)
        }
        _ => message(405, "method not allowed".into()),
    }
}
