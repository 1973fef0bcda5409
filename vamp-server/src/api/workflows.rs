//! Workflows (spec workflows §1.4-1.5): reads and writes with their
//! status, `GET|PUT /workflows/{n}/status`, `GET /workflows/{n}/logs`
//! (the newest 64 KiB of the workflow's stdout and stderr, as text).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use vamp_model::{Document, Kind};

use super::{paginate, ApiError, ApiResult, Reply, Req};
use crate::artifacts::{ApiKind, Stored};
use crate::engine::{read_one, Input};
use crate::events::Event;
use crate::workflow::schedule;
use crate::Shared;

/// Fields the runner fills in, dropped before the DSL reader reads a workflow.
const RUNTIME: [&str; 3] = ["status", "instances", "health"];

/// Reads a workflow document and its status word (absent: `starting`).
pub(super) fn read(input: &Input) -> Result<(Document, &'static str), ApiError> {
    let mut json = input.json.clone();
    let status = match json.get("status") {
        None | Some(Value::Null) => "starting",
        Some(v) => schedule::parse_status(v.as_str().unwrap_or(&v.to_string()))
            .map_err(ApiError::Message)?,
    };
    if let Some(m) = json.as_object_mut() {
        for k in RUNTIME {
            m.remove(k);
        }
    }
    let doc = read_one(&json.to_string(), Some(Kind::Workflow)).map_err(|mut d| {
        d.span = Some(input.span);
        ApiError::from(d)
    })?;
    if let Document::Workflow(w) = &doc {
        schedule::parse(&w.spec.schedule).map_err(ApiError::Message)?;
    }
    Ok((doc, status))
}

/// Stores a workflow: refused while it runs or when a deployment has its name.
pub(super) fn store(
    shared: &Shared,
    name: &str,
    doc: Document,
    status: &str,
    validate_only: bool,
) -> Result<(Value, bool), ApiError> {
    if shared.artifacts.deployment(name).is_some() {
        return Err(ApiError::Message(format!(
            "There cannot exist deployment and workflow with the same name: {name}."
        )));
    }
    let existed = shared.artifacts.get(ApiKind::Workflows, name).is_some();
    let current = shared.workflows.status(name);
    if existed && current != "suspended" {
        return Err(ApiError::Message(format!(
            "Workflow update is possible only if workflow is not running, current status: {current}."
        )));
    }
    let stored = Stored::Doc(doc);
    let mut shown = super::artifacts::show(ApiKind::Workflows, &stored);
    shown["status"] = json!(status);
    if validate_only {
        return Ok((shown, existed));
    }
    shared.artifacts.put(ApiKind::Workflows, name, stored)?;
    shared
        .workflows
        .keep_status(name, status)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    shared.workflows.touch(name);
    Ok((shown, existed))
}

/// `DELETE`: sets `stopping`; the runner stops and removes it.
pub(super) fn delete(shared: &Shared, name: &str, validate_only: bool) -> Result<bool, ApiError> {
    let exists = shared.artifacts.get(ApiKind::Workflows, name).is_some();
    if exists && !validate_only {
        set(shared, name, "stopping")?;
    }
    Ok(exists)
}

fn set(shared: &Shared, name: &str, status: &str) -> Result<(), ApiError> {
    shared
        .workflows
        .keep_status(name, status)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    shared.bus.publish(Event::new(
        "archive",
        [format!("workflow-statuses:{name}"), "archive:update".into()],
        Some(Value::String(status.to_owned())),
    ));
    shared.workflows.touch(name);
    Ok(())
}

async fn shown(shared: &Shared, name: &str, stored: &Stored) -> Value {
    let mut v = super::artifacts::show(ApiKind::Workflows, stored);
    v["status"] = json!(shared.workflows.status(name));
    if shared.workflows.is_supervised(name).await {
        v["instances"] = json!([{"name": name, "host": "127.0.0.1", "ports": {}, "deployed": true, "metadata": {}}]);
    }
    v
}

/// `GET /workflows[/{n}[/status|/logs]]`, `PUT /workflows/{n}/status`;
/// `None` for what [`super::artifacts::route`] answers.
pub(super) async fn route(shared: &Shared, req: &Req, rest: &[&str]) -> Option<ApiResult> {
    let get = req.method == Method::GET;
    Some(match rest {
        [] if get => {
            let mut items = Vec::new();
            for (name, e) in shared.artifacts.list(ApiKind::Workflows) {
                items.push(shown(shared, &name, &e.value).await);
            }
            Ok(paginate(req, items))
        }
        [name] if get => match shared.artifacts.get(ApiKind::Workflows, name) {
            Some(e) => Ok(Reply::new(
                StatusCode::OK,
                shown(shared, name, &e.value).await,
            )),
            None => Err(ApiError::NotFound),
        },
        [name, "logs"] if get => match shared.artifacts.get(ApiKind::Workflows, name) {
            Some(_) => Ok(Reply::new(
                StatusCode::OK,
                json!(shared.workflows.output(name)),
            )),
            None => Err(ApiError::NotFound),
        },
        [name, "status"] => status(shared, req, name).await,
        _ => return None,
    })
}

async fn status(shared: &Shared, req: &Req, name: &str) -> ApiResult {
    let Some(e) = shared.artifacts.get(ApiKind::Workflows, name) else {
        return Err(ApiError::NotFound);
    };
    match req.method {
        Method::GET => Ok(Reply::new(
            StatusCode::OK,
            json!(shared.workflows.status(name)),
        )),
        Method::PUT => {
            let text = String::from_utf8_lossy(&req.body);
            let word = schedule::parse_status(&text).map_err(ApiError::Message)?;
            if req.query.flag("validate_only") {
                return Ok(Reply::new(StatusCode::ACCEPTED, json!(word)));
            }
            set(shared, name, word)?;
            Ok(Reply::new(
                StatusCode::ACCEPTED,
                shown(shared, name, &e.value).await,
            ))
        }
        _ => Err(ApiError::Method),
    }
}
