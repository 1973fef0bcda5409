//! `/info` and `/config` (flat dotted keys, decision 2).

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::{ApiError, ApiResult, Reply, Req};
use crate::Shared;

/// `GET /api/v1/info`.
pub(super) fn info(shared: &Shared, req: &Req) -> ApiResult {
    if req.method != Method::GET {
        return Err(ApiError::Method);
    }
    Ok(Reply::new(
        StatusCode::OK,
        json!({
            "message": "Hi, I'm Vamp! How are you?",
            "version": env!("CARGO_PKG_VERSION"),
            "uuid": shared.uuid,
            "running_since": shared.started,
            "persistence": {"database": {"type": "directory", "path": shared.config.store.display().to_string()}},
            "key_value": {"type": "directory"},
            "pulse": {"type": "memory", "capacity": shared.config.event_log},
            "gateway_driver": {"type": shared.config.gateway, "marshallers": [], "status": shared.gateway_sink.info()},
            "container_driver": {"type": shared.driver.name()},
            "workflow_driver": {},
        }),
    ))
}

/// `GET|PUT|POST /api/v1/config[/{key}]`.
pub(super) fn config(shared: &Shared, req: &Req, key: Option<&str>) -> ApiResult {
    match req.method {
        Method::GET => {
            let flat = shared.config_values();
            let flatten = req.query.get("flatten").is_none_or(|v| v != "false");
            let selected: Map<String, Value> = flat
                .into_iter()
                .filter(|(k, _)| key.is_none_or(|p| k == p || k.starts_with(&format!("{p}."))))
                .collect();
            if selected.is_empty() {
                return Ok(Reply::empty(StatusCode::OK));
            }
            Ok(Reply::new(
                StatusCode::OK,
                if flatten {
                    Value::Object(selected)
                } else {
                    nest(selected)
                },
            ))
        }
        Method::PUT | Method::POST => {
            let input = crate::engine::read_inputs(&req.body, None)?
                .into_iter()
                .next();
            let Some(Value::Object(m)) = input.map(|i| i.json) else {
                return Err(ApiError::Message("Configuration is not valid.".into()));
            };
            let mut flat = Map::new();
            flatten_into("", &Value::Object(m), &mut flat);
            flat.retain(|k, _| k.starts_with("vamp.") && !k.starts_with("vamp.http-api."));
            shared.set_dynamic(flat);
            Ok(Reply::new(
                StatusCode::ACCEPTED,
                Value::Object(shared.config_values()),
            ))
        }
        _ => Err(ApiError::Method),
    }
}

fn flatten_into(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_into(&key, x, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

fn nest(flat: Map<String, Value>) -> Value {
    let mut root = Value::Object(Map::new());
    for (k, v) in flat {
        let mut at = &mut root;
        let parts: Vec<&str> = k.split('.').collect();
        for (i, p) in parts.iter().enumerate() {
            let Some(m) = at.as_object_mut() else { break };
            if i + 1 == parts.len() {
                m.insert((*p).to_owned(), v.clone());
                break;
            }
            at = m
                .entry((*p).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
    root
}
