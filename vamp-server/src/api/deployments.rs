//! Deployments (§1b): list and get (also as blueprints), merge on POST and
//! PUT, slice on DELETE (or PUT `?delete=true`), the cluster SLA and the
//! service scale.

use axum::http::{Method, StatusCode};
use serde_json::Value;
use vamp_model::{Document, Kind};

use super::artifacts::references;
use super::{paginate, ApiError, ApiResult, Reply, Req};
use crate::artifacts::DeploymentRecord;
use crate::engine::{read_inputs, read_one};
use crate::{deploy, Shared};

fn show(shared: &Shared, req: &Req, r: &DeploymentRecord) -> Value {
    let v = if req.query.flag("as_blueprint") {
        let mut b =
            serde_json::to_value(crate::engine::as_blueprint(&r.deployment)).unwrap_or(Value::Null);
        b["kind"] = "blueprints".into();
        b
    } else {
        deploy::render(r)
    };
    references(
        shared,
        v,
        req.query.flag("expand_references"),
        req.query.flag("only_references"),
    )
}

/// `/api/v1/deployments/...` (`rest` after `deployments`).
pub(super) async fn route(shared: &Shared, req: &Req, rest: &[&str]) -> ApiResult {
    let validate_only = req.query.flag("validate_only");
    match (&req.method, rest) {
        (&Method::GET, []) => {
            let items = shared
                .artifacts
                .names(crate::artifacts::ApiKind::Deployments)
                .into_iter()
                .filter_map(|n| shared.artifacts.deployment(&n))
                .map(|r| show(shared, req, &r))
                .collect();
            Ok(paginate(req, items))
        }
        (&Method::GET, [name]) => {
            let r = shared
                .artifacts
                .deployment(name)
                .ok_or(ApiError::NotFound)?;
            Ok(Reply::new(StatusCode::OK, show(shared, req, &r)))
        }
        (&Method::POST, []) => {
            let bp = blueprint(shared, req)?;
            let name = bp.name.clone();
            let v = deploy::merge(shared, &name, &bp, validate_only).await?;
            Ok(Reply::new(StatusCode::ACCEPTED, v))
        }
        (&Method::PUT, [name]) => {
            let bp = blueprint(shared, req)?;
            let v = if req.query.flag("delete") {
                deploy::slice(shared, name, &bp, validate_only).await?
            } else {
                deploy::merge(shared, name, &bp, validate_only).await?
            };
            Ok(Reply::new(StatusCode::ACCEPTED, v))
        }
        (&Method::DELETE, [name]) => {
            if req.body_is_empty() {
                let r = shared
                    .artifacts
                    .deployment(name)
                    .ok_or(ApiError::NotFound)?;
                return Ok(Reply::new(StatusCode::ACCEPTED, deploy::render(&r)));
            }
            let bp = blueprint(shared, req)?;
            let v = deploy::slice(shared, name, &bp, validate_only).await?;
            Ok(Reply::new(StatusCode::ACCEPTED, v))
        }
        (_, [d, "clusters", c, "sla"]) => sla(shared, req, d, c).await,
        (_, [d, "clusters", c, "services", s, "scale"]) => scale(shared, req, d, c, s).await,
        (_, [] | [_]) => Err(ApiError::Method),
        _ => Err(ApiError::NotFound),
    }
}

fn blueprint(
    shared: &Shared,
    req: &Req,
) -> Result<vamp_model::Artifact<vamp_model::Blueprint>, ApiError> {
    let mut inputs = read_inputs(&req.body, Some(Kind::Blueprint))?;
    if inputs.len() != 1 {
        return Err(ApiError::Message(format!(
            "Expected one document, found {}.",
            inputs.len()
        )));
    }
    deploy::blueprint_of(shared, &inputs.remove(0))
}

async fn sla(shared: &Shared, req: &Req, d: &str, c: &str) -> ApiResult {
    let cluster = |r: &DeploymentRecord| r.deployment.spec.clusters.get(c).cloned();
    let record = shared.artifacts.deployment(d).ok_or(ApiError::NotFound)?;
    let current = cluster(&record).ok_or(ApiError::NotFound)?;
    match req.method {
        Method::GET => Ok(match current.sla {
            Some(s) => Reply::new(
                StatusCode::OK,
                serde_json::to_value(s).unwrap_or(Value::Null),
            ),
            None => Reply::empty(StatusCode::OK),
        }),
        Method::PUT | Method::POST => {
            let input = read_inputs(&req.body, Some(Kind::Sla))?.into_iter().next();
            let input = input.ok_or_else(|| ApiError::Message("the body holds no SLA".into()))?;
            let Document::Sla(s) = read_named(input, Kind::Sla, c)? else {
                return Err(ApiError::Message("the body is not an SLA".into()));
            };
            let v = deploy::set_sla(shared, d, c, Some(s.spec)).await?;
            Ok(Reply::new(StatusCode::ACCEPTED, v))
        }
        Method::DELETE => {
            deploy::set_sla(shared, d, c, None).await?;
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }
        _ => Err(ApiError::Method),
    }
}

async fn scale(shared: &Shared, req: &Req, d: &str, c: &str, s: &str) -> ApiResult {
    let record = shared.artifacts.deployment(d).ok_or(ApiError::NotFound)?;
    let service = record
        .deployment
        .spec
        .clusters
        .get(c)
        .and_then(|cl| cl.service(s))
        .ok_or(ApiError::NotFound)?;
    match req.method {
        Method::GET => Ok(Reply::new(
            StatusCode::OK,
            serde_json::to_value(&service.scale).unwrap_or(Value::Null),
        )),
        Method::PUT => {
            let inputs = read_inputs(&req.body, Some(Kind::Scale))?;
            let input = inputs
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::Message("the body holds no scale".into()))?;
            let source = input.json.to_string();
            let only_name = input
                .json
                .as_object()
                .is_some_and(|m| m.len() == 1 && m.contains_key("name"));
            let doc = if only_name || input.json.is_string() {
                let n = input
                    .name
                    .clone()
                    .or_else(|| input.json.as_str().map(str::to_owned))
                    .unwrap_or_default();
                shared
                    .artifacts
                    .document(Kind::Scale, &n)
                    .ok_or_else(|| ApiError::Message(format!("Artifact cannot be found: '{n}'.")))?
            } else {
                read_named(input, Kind::Scale, s)?
            };
            let Document::Scale(scale) = doc else {
                return Err(ApiError::Message("the body is not a scale".into()));
            };
            let v = deploy::set_scale(shared, d, c, s, scale.spec, source).await?;
            Ok(Reply::new(StatusCode::ACCEPTED, v))
        }
        _ => Err(ApiError::Method),
    }
}

/// A document that may be written without a name (it is read under `name`).
fn read_named(input: crate::engine::Input, kind: Kind, name: &str) -> Result<Document, ApiError> {
    if input.name.is_none() {
        let mut json = input.json;
        json["name"] = Value::String(name.to_owned());
        return Ok(read_one(&json.to_string(), Some(kind))?);
    }
    match input.read {
        Some(Ok(d)) => Ok(d),
        Some(Err(e)) => Err(e.into()),
        None => Err(ApiError::Message(format!("the body is not a {kind}"))),
    }
}
