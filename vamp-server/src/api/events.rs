//! Events (§3): the log (`GET`), publishing (`POST`) and the SSE stream.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::{paginate, ApiError, ApiResult, Reply, Req};
use crate::engine::read_inputs;
use crate::events::{expand_tags, parse_timestamp, sse_frame, Event, Filter, HEARTBEAT};
use crate::Shared;

/// The filter of a request: a non-empty body (`{tags, type}`) wins over
/// `?tag=` and `?type=`.
fn filter(req: &Req) -> Result<Filter, ApiError> {
    if !req.body_is_empty() {
        let input = read_inputs(&req.body, None)?.into_iter().next();
        let json = input.map(|i| i.json).unwrap_or(Value::Null);
        return Ok(Filter {
            tags: expand_tags(tags_of(&json["tags"])),
            event_type: json["type"].as_str().map(str::to_owned),
        });
    }
    Ok(Filter {
        tags: req.query.all("tag"),
        event_type: req.query.get("type").map(str::to_owned),
    })
}

fn tags_of(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// `GET|POST /api/v1/events`.
pub(super) fn events(shared: &Shared, req: &Req) -> ApiResult {
    match req.method {
        Method::GET => {
            let items = shared
                .bus
                .query(&filter(req)?)
                .iter()
                .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
                .collect();
            Ok(paginate(req, items))
        }
        Method::POST => {
            let input = read_inputs(&req.body, None)?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    ApiError::Message("Publishing an event without tags is not allowed.".into())
                })?;
            let json = input.json;
            let tags = tags_of(&json["tags"]);
            if tags.is_empty() {
                return Err(ApiError::Message(
                    "Publishing an event without tags is not allowed.".into(),
                ));
            }
            let event_type = json["type"].as_str().unwrap_or("event").to_owned();
            if event_type.is_empty()
                || !event_type
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
            {
                return Err(ApiError::Message(format!(
                    "Unsupported event type '{event_type}', only alphanumerics, '-' and '_' are allowed."
                )));
            }
            let mut event = Event::new(&event_type, tags, json.get("value").cloned());
            if let Some(t) = json.get("timestamp").filter(|t| !t.is_null()) {
                event.timestamp =
                    parse_timestamp(t.as_str().unwrap_or_default()).map_err(ApiError::Message)?;
            }
            if !req.query.flag("validate_only") {
                shared.bus.publish(event.clone());
            }
            Ok(Reply::new(
                StatusCode::CREATED,
                serde_json::to_value(&event).unwrap_or(Value::Null),
            ))
        }
        _ => Err(ApiError::Method),
    }
}

/// `GET /api/v1/events/stream`: `data:<json>\nevent:<type>\n\n` per
/// matching event, a `:` comment after each quiet heartbeat period. The
/// stream ends when the server stops. A client that cannot keep up loses
/// the events it fell behind on; publishers never wait.
pub(super) fn stream(shared: &Shared, req: &Req) -> Response {
    if req.method != Method::GET {
        return ApiError::Method.into_response();
    }
    let filter = match filter(req) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let rx = shared.bus.subscribe();
    let stop = shared.stop.clone();
    let beat = shared.config.heartbeat;
    let body = stream::unfold(
        (rx, stop, filter),
        move |(mut rx, mut stop, filter)| async move {
            loop {
                if *stop.borrow() {
                    return None;
                }
                let next = tokio::select! {
                    r = rx.recv() => r,
                    _ = stop.changed() => return None,
                    _ = tokio::time::sleep(beat) => {
                        return Some((Ok::<_, std::convert::Infallible>(Bytes::from_static(HEARTBEAT.as_bytes())), (rx, stop, filter)));
                    }
                };
                match next {
                    Ok(e) if e.matches(&filter) => {
                        return Some((Ok(Bytes::from(sse_frame(&e))), (rx, stop, filter)))
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r
}
