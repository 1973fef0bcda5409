//! The workflow runtime (spec workflows §1.6, §2.4): JavaScript workflows
//! run as `node` child processes, supervised by one task each, started and
//! stopped by the runtime loop, which is told what changed through a
//! channel ([`Runtime::touch`]).
//!
//! State kept per workflow under `<store>/workflow-runtime/<name>/`: the
//! status (`status`, a word) and the script of the current run
//! (`workflow.js`). Output goes to a bounded ring per workflow, read by
//! `GET /api/v1/workflows/{name}/logs`.

pub mod defaults;
pub mod env;
pub mod process;
pub mod schedule;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use vamp_model::{Artifact, Breed, Document, Kind, OrRef, Workflow};

use crate::artifacts::ApiKind;
use crate::events::Event;
use crate::Shared;
use process::{Ended, Launch, Output, Ring};
use schedule::Schedule;

/// Output kept per workflow.
pub const OUTPUT_LIMIT: usize = 64 * 1024;

/// The exact deployable type run under node.
pub const JAVASCRIPT: &str = "application/javascript";

struct Supervised {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// What the server knows of its workflows at run time.
pub struct Runtime {
    dir: PathBuf,
    tx: mpsc::UnboundedSender<String>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
    statuses: Mutex<HashMap<String, String>>,
    supervised: tokio::sync::Mutex<HashMap<String, Supervised>>,
    outputs: Mutex<HashMap<String, Output>>,
    tokens: Mutex<HashMap<String, String>>,
    notes: Mutex<HashMap<String, String>>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn folder(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Runtime {
    /// The runtime of a store folder; reads the kept statuses.
    pub fn new(store: &std::path::Path) -> Self {
        let dir = store.join("workflow-runtime");
        let mut statuses = HashMap::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = percent_encoding::percent_decode_str(&e.file_name().to_string_lossy())
                    .decode_utf8_lossy()
                    .into_owned();
                if let Ok(s) = std::fs::read_to_string(e.path().join("status")) {
                    statuses.insert(name, s.trim().to_owned());
                }
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        Runtime {
            dir,
            tx,
            rx: Mutex::new(Some(rx)),
            statuses: Mutex::new(statuses),
            supervised: tokio::sync::Mutex::default(),
            outputs: Mutex::default(),
            tokens: Mutex::default(),
            notes: Mutex::default(),
            buckets: Mutex::default(),
        }
    }

    /// Asks the loop to bring `name` in line with its status.
    pub fn touch(&self, name: &str) {
        let _ = self.tx.send(name.to_owned());
    }

    /// The status of a workflow (`starting` when none was kept).
    pub fn status(&self, name: &str) -> String {
        lock(&self.statuses)
            .get(name)
            .cloned()
            .unwrap_or_else(|| "starting".into())
    }

    /// Keeps a status (durably) without an event.
    ///
    /// # Errors
    /// When it cannot be written.
    pub fn keep_status(&self, name: &str, status: &str) -> std::io::Result<()> {
        let path = self.dir.join(folder(name)).join("status");
        vamp_deploy::directory::write_atomic(&path, status)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        lock(&self.statuses).insert(name.to_owned(), status.to_owned());
        Ok(())
    }

    fn forget(&self, name: &str) {
        let _ = std::fs::remove_dir_all(self.dir.join(folder(name)));
        lock(&self.statuses).remove(name);
        lock(&self.outputs).remove(name);
        lock(&self.notes).remove(name);
        lock(&self.tokens).retain(|_, n| n != name);
    }

    /// True while the runner supervises `name`.
    pub async fn is_supervised(&self, name: &str) -> bool {
        self.supervised.lock().await.contains_key(name)
    }

    /// The output a workflow wrote lately, with the runner's notes first.
    pub fn output(&self, name: &str) -> String {
        let mut text = lock(&self.notes).get(name).cloned().unwrap_or_default();
        if let Some(o) = lock(&self.outputs).get(name) {
            text.push_str(&lock(o).text());
        }
        text
    }

    /// The workflow a token was handed to.
    pub fn workflow_of_token(&self, token: &str) -> Option<String> {
        lock(&self.tokens).get(token).cloned()
    }

    /// Takes one event from the workflow's bucket (`rate` per second, a
    /// burst of twice that); false when it is empty.
    pub fn allow_event(&self, name: &str, rate: u32) -> bool {
        let rate = f64::from(rate.max(1));
        let mut b = lock(&self.buckets);
        let (tokens, at) = b
            .entry(name.to_owned())
            .or_insert((rate * 2.0, Instant::now()));
        *tokens = (*tokens + at.elapsed().as_secs_f64() * rate).min(rate * 2.0);
        *at = Instant::now();
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Records a note about a workflow (shown with its output).
    pub fn note(&self, name: &str, text: &str) {
        lock(&self.notes).insert(name.to_owned(), format!("[vamp] {text}\n"));
    }

    fn output_of(&self, name: &str) -> Output {
        lock(&self.outputs)
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(Mutex::new(Ring::new(OUTPUT_LIMIT))))
            .clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn set_status(shared: &Shared, name: &str, status: &str, value: &str) {
    if let Err(e) = shared.workflows.keep_status(name, status) {
        shared
            .workflows
            .note(name, &format!("cannot keep the status: {e}"));
    }
    shared.bus.publish(Event::new(
        "archive",
        [format!("workflow-statuses:{name}"), "archive:update".into()],
        Some(Value::String(value.to_owned())),
    ));
}

fn publish(shared: &Shared, name: &str, what: &str) {
    shared.bus.publish(Event::new(
        "event",
        [format!("workflows:{name}"), what.to_owned()],
        None,
    ));
}

/// The runtime loop: resumes what should run, then applies every touch
/// until the server stops; then stops every process without events.
pub async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let Some(mut rx) = lock(&shared.workflows.rx).take() else {
        return;
    };
    if shared.config.workflow.default_artifacts {
        defaults::write(&shared);
    }
    for name in shared.artifacts.names(ApiKind::Workflows) {
        apply(&shared, &name).await;
    }
    loop {
        tokio::select! {
            name = rx.recv() => match name {
                Some(n) => apply(&shared, &n).await,
                None => break,
            },
            r = stop.changed() => if r.is_err() || *stop.borrow() { break },
        }
    }
    let all: Vec<Supervised> = shared
        .workflows
        .supervised
        .lock()
        .await
        .drain()
        .map(|(_, s)| s)
        .collect();
    for s in &all {
        let _ = s.stop.send(true);
    }
    for s in all {
        let _ = s.task.await;
    }
}

async fn unsupervise(shared: &Shared, name: &str) -> bool {
    let s = shared.workflows.supervised.lock().await.remove(name);
    match s {
        Some(s) => {
            let _ = s.stop.send(true);
            let _ = s.task.await;
            true
        }
        None => false,
    }
}

/// Brings one workflow in line with its status (spec §1.6, this project's decisions).
async fn apply(shared: &Arc<Shared>, name: &str) {
    let exists = shared.artifacts.get(ApiKind::Workflows, name).is_some();
    let status = shared.workflows.status(name);
    let supervised = shared.workflows.is_supervised(name).await;
    if !exists {
        if supervised {
            unsupervise(shared, name).await;
            publish(shared, name, "unscheduled");
        }
        shared.workflows.forget(name);
        return;
    }
    match status.as_str() {
        "starting" | "running" => {
            if !supervised {
                start(shared, name).await;
            } else if status != "running" {
                set_status(shared, name, "running", "running");
            }
        }
        "restarting" => {
            if supervised {
                unsupervise(shared, name).await;
                publish(shared, name, "unscheduled");
            }
            start(shared, name).await;
        }
        "suspending" | "suspended" => {
            if unsupervise(shared, name).await {
                publish(shared, name, "unscheduled");
            }
            if status != "suspended" {
                set_status(shared, name, "suspended", "suspended");
            }
        }
        "stopping" => {
            unsupervise(shared, name).await;
            if let Ok(true) = shared.artifacts.delete(ApiKind::Workflows, name) {
                shared.bus.publish(Event::new(
                    "archive",
                    [format!("workflows:{name}"), "archive:delete".into()],
                    None,
                ));
            }
            shared.workflows.forget(name);
            publish(shared, name, "unscheduled");
        }
        _ => {}
    }
}

/// Everything a run of a workflow needs, read anew at every start.
struct Plan {
    schedule: Schedule,
    period: u64,
}

fn workflow_of(shared: &Shared, name: &str) -> Option<Artifact<Workflow>> {
    match shared.artifacts.document(Kind::Workflow, name)? {
        Document::Workflow(w) => Some(w),
        _ => None,
    }
}

fn breed_of(shared: &Shared, w: &Workflow) -> Result<Breed, String> {
    match &w.breed {
        OrRef::Inline(b) => Ok(b.clone()),
        OrRef::Reference(r) => match shared.artifacts.document(Kind::Breed, &r.name) {
            Some(Document::Breed(b)) => Ok(b),
            _ => Err(format!("the breed `{}` does not exist", r.name)),
        },
    }
}

fn number(env: &[(String, String)], key: &str) -> Result<u64, String> {
    let v = env
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map_or("0", |(_, v)| v.as_str());
    v.trim()
        .parse()
        .map_err(|_| format!("{key} must be an integer >= 0, not `{v}`"))
}

/// The environment and folder of one run; writes the script.
fn launch(shared: &Shared, name: &str, data: Option<&str>) -> Result<(Launch, u64, u64), String> {
    let w = workflow_of(shared, name).ok_or("the workflow is gone")?;
    let breed = breed_of(shared, &w.spec)?;
    if breed.deployable.deployable_type.as_deref() != Some(JAVASCRIPT) {
        return Err(format!(
            "the breed `{}` is not {JAVASCRIPT}: the workflow is stored but not run",
            breed.name
        ));
    }
    let rt = &shared.workflows;
    let dir = rt.dir.join(folder(name));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("workflow.js"), &breed.deployable.definition)
        .map_err(|e| e.to_string())?;
    let cfg = &shared.config;
    let config = shared.config_values();
    let key = |k: &str| {
        config
            .get(&format!("vamp.workflow-driver.workflow.{k}"))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    let token = new_token(name);
    lock(&rt.tokens).retain(|_, n| n != name);
    lock(&rt.tokens).insert(token.clone(), name.to_owned());
    let mut base = cfg.workflow.inherit_env.clone();
    if let Some(m) = &cfg.workflow.node_modules {
        base.push(("NODE_PATH".into(), m.display().to_string()));
    }
    let mut defaults = vec![
        (
            "VAMP_URL".to_owned(),
            key("vamp-url").unwrap_or_else(|| own_url(cfg)),
        ),
        ("VAMP_API_CACHE".into(), "false".into()),
        ("VAMP_API_TOKEN".into(), token),
        (
            "VAMP_WORKFLOW_EXECUTION_PERIOD".into(),
            key("vamp-workflow-execution-period").unwrap_or_else(|| "0".into()),
        ),
        (
            "VAMP_WORKFLOW_EXECUTION_TIMEOUT".into(),
            key("vamp-workflow-execution-timeout").unwrap_or_else(|| "0".into()),
        ),
    ];
    if let Some(d) = data {
        defaults.push(("VAMP_WORKFLOW_DATA".into(), d.to_owned()));
    }
    let env = env::build(&env::Sources {
        base: &base,
        defaults,
        breed: &breed,
        workflow_vars: &w.spec.environment_variables,
        name,
        data,
        config: &config,
    });
    let period = number(&env, "VAMP_WORKFLOW_EXECUTION_PERIOD")?;
    let timeout = number(&env, "VAMP_WORKFLOW_EXECUTION_TIMEOUT")?;
    let mut program = cfg.workflow.nice.clone();
    program.push(cfg.workflow.node.display().to_string());
    Ok((
        Launch {
            program,
            dir,
            env,
            timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
        },
        period,
        timeout,
    ))
}

fn own_url(cfg: &crate::Config) -> String {
    let ip = match cfg.listen.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{ip}:{}", cfg.listen.port())
}

fn new_token(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let mut h = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(
        &(
            name,
            nanos,
            N.fetch_add(1, Ordering::Relaxed),
            std::process::id(),
        ),
        &mut h,
    );
    format!("wf-{:016x}{:x}", std::hash::Hasher::finish(&h), nanos)
}

/// Starts supervising; stores `running` and publishes `scheduled`, or
/// notes why it cannot start (status unchanged, no event).
async fn start(shared: &Arc<Shared>, name: &str) {
    let plan = workflow_of(shared, name)
        .ok_or_else(|| "the workflow is gone".to_owned())
        .and_then(|w| schedule::parse(&w.spec.schedule))
        .and_then(|s| {
            launch(shared, name, None).map(|(_, p, _)| Plan {
                schedule: s,
                period: p,
            })
        });
    let plan = match plan {
        Ok(p) => p,
        Err(e) => {
            shared.workflows.note(name, &e);
            return;
        }
    };
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(supervise(shared.clone(), name.to_owned(), plan, rx));
    shared
        .workflows
        .supervised
        .lock()
        .await
        .insert(name.to_owned(), Supervised { stop, task });
    set_status(shared, name, "running", "running");
    publish(shared, name, "scheduled");
}

/// One run, the launch read anew (an edited breed takes effect).
async fn run_once(
    shared: &Shared,
    name: &str,
    data: Option<&str>,
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    let out = shared.workflows.output_of(name);
    let ended = match launch(shared, name, data) {
        Ok((l, _, _)) => process::run(&l, &out, stop).await,
        Err(e) => Ended::Failed(e),
    };
    if let Ended::Failed(e) = &ended {
        shared.workflows.note(name, e);
        shared.bus.publish(Event::new(
            "event",
            [format!("workflows:{name}"), "failed".to_owned()],
            Some(Value::String(e.clone())),
        ));
    }
    ended
}

fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow()
}

async fn sleep_or_stop(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => stopped(stop),
        _ = stop.changed() => true,
    }
}

/// The supervising task of one workflow.
async fn supervise(shared: Arc<Shared>, name: String, plan: Plan, mut stop: watch::Receiver<bool>) {
    match plan.schedule {
        Schedule::Daemon if plan.period == 0 => {
            let mut backoff = Duration::from_secs(1);
            loop {
                let began = Instant::now();
                run_once(&shared, &name, None, &mut stop).await;
                if stopped(&stop) {
                    return;
                }
                if began.elapsed() >= Duration::from_secs(30) {
                    backoff = Duration::from_secs(1);
                }
                if sleep_or_stop(backoff, &mut stop).await {
                    return;
                }
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
        Schedule::Daemon => {
            let every = Duration::from_secs(plan.period);
            let first = tokio::time::Instant::now();
            let mut k = 0u32;
            ticker(&shared, &name, &mut stop, || {
                // The next point of the grid not yet passed (missed ticks are dropped).
                let behind = first.elapsed().as_secs_f64() / every.as_secs_f64();
                k = if k == 0 {
                    1
                } else {
                    k.max(behind.ceil() as u32)
                };
                let at = first + every * (k - 1);
                k += 1;
                async move {
                    tokio::time::sleep_until(at).await;
                    Some(None)
                }
            })
            .await;
        }
        Schedule::Time {
            period,
            start,
            repeat,
        } => {
            let now = time::OffsetDateTime::now_utc();
            let mut next = start.unwrap_or(now);
            let mut left = repeat;
            while next < now - Duration::from_secs(1) && left != Some(0) {
                next = period.after(next);
            }
            ticker(&shared, &name, &mut stop, || {
                let (at, go) = (next, left != Some(0));
                left = left.map(|n| n.saturating_sub(1));
                next = period.after(next);
                async move {
                    if !go {
                        // After the last run the workflow stays `running`, idle.
                        std::future::pending::<()>().await;
                    }
                    let wait = at - time::OffsetDateTime::now_utc();
                    tokio::time::sleep(wait.try_into().unwrap_or_default()).await;
                    Some(None)
                }
            })
            .await;
        }
        Schedule::Event(tags) => {
            let events = Arc::new(tokio::sync::Mutex::new(shared.bus.subscribe()));
            let tags = Arc::new(tags);
            ticker(&shared, &name, &mut stop, || {
                let (events, tags) = (events.clone(), tags.clone());
                async move {
                    let mut events = events.lock().await;
                    loop {
                        match events.recv().await {
                            Ok(e) if tags.iter().all(|t| e.tags.contains(t)) => {
                                let json = serde_json::to_string(&e).unwrap_or_default();
                                return Some(Some(
                                    base64::engine::general_purpose::STANDARD.encode(json),
                                ));
                            }
                            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(_) => return None,
                        }
                    }
                }
            })
            .await;
        }
    }
}

/// Runs at every trigger (`Some(data)`), skipping triggers while a run
/// goes on, until stopped or the triggers end (`None`).
async fn ticker<F, Fut>(
    shared: &Arc<Shared>,
    name: &str,
    stop: &mut watch::Receiver<bool>,
    mut trigger: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Option<String>>>,
{
    let mut running: Option<tokio::task::JoinHandle<()>> = None;
    let (child_stop, child_rx) = watch::channel(false);
    loop {
        let data = tokio::select! {
            d = trigger() => match d { Some(d) => d, None => break },
            _ = stop.changed() => break,
        };
        if running.as_ref().is_some_and(|r| !r.is_finished()) {
            continue;
        }
        let (s, n, mut rx) = (shared.clone(), name.to_owned(), child_rx.clone());
        running = Some(tokio::spawn(async move {
            run_once(&s, &n, data.as_deref(), &mut rx).await;
        }));
    }
    let _ = child_stop.send(true);
    if let Some(r) = running {
        let _ = r.await;
    }
}
