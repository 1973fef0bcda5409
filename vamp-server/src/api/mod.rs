//! The v1 REST API: routing, the Accept and Content-Type gates, YAML or
//! JSON answers, errors and pagination, in one place. Each resource has its
//! module; handlers return a [`Reply`] or an [`ApiError`] and never build a
//! body by hand.

mod artifacts;
mod deployments;
mod events;
mod info;
mod workflows;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use vamp_model::Diagnostic;

use crate::Shared;

/// Bodies larger than this are refused before they are read whole.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

const MEDIA: &str =
    "Only the following media types are supported: application/json, application/x-yaml";

/// A successful answer: status, an optional value (rendered as JSON or
/// YAML by the negotiation layer) and extra headers.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    value: Option<Value>,
    /// The body already rendered as JSON (a cached artifact).
    json: Option<Bytes>,
    headers: Vec<(header::HeaderName, String)>,
}

impl Reply {
    /// A value with a status.
    pub fn new(status: StatusCode, value: Value) -> Self {
        Reply {
            status,
            value: Some(value),
            json: None,
            headers: Vec::new(),
        }
    }

    /// A value already rendered as JSON, with a status.
    pub fn json(status: StatusCode, json: Bytes) -> Self {
        Reply {
            status,
            value: None,
            json: Some(json),
            headers: Vec::new(),
        }
    }

    /// No body.
    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            value: None,
            json: None,
            headers: Vec::new(),
        }
    }

    fn header(mut self, name: header::HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// The value the negotiation layer renders.
#[derive(Clone)]
struct Rendered(Value);

/// A body already rendered as JSON, which the negotiation layer passes
/// through (or turns into YAML).
#[derive(Clone)]
struct RenderedJson(Bytes);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = self.status;
        for (k, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                r.headers_mut().insert(k, v);
            }
        }
        if let Some(v) = self.value {
            r.extensions_mut().insert(Rendered(v));
        }
        if let Some(json) = self.json {
            r.extensions_mut().insert(RenderedJson(json));
        }
        r
    }
}

/// Every failure of a request, mapped to its status and body here only.
#[derive(Debug)]
pub enum ApiError {
    /// 400 with a message (and the DSL reader's code and position).
    BadRequest(Diagnostic),
    /// 400 with a message only.
    Message(String),
    /// 404 without a body.
    NotFound,
    /// 405.
    Method,
    /// 429 with a message.
    TooMany(String),
    /// 500 (the cause is logged, not shown).
    Internal(String),
}

impl ApiError {
    /// `Unexpected resource: '<kind>'.`
    pub fn unexpected(kind: &str) -> Self {
        ApiError::Message(format!("Unexpected resource: '{kind}'."))
    }
}

impl From<Diagnostic> for ApiError {
    fn from(d: Diagnostic) -> Self {
        ApiError::BadRequest(d)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::BadRequest(d) => {
                let mut v = json!({"message": d.message, "code": d.code.as_str()});
                if let Some(s) = d.span {
                    v["line"] = json!(s.line);
                    v["column"] = json!(s.column);
                }
                (StatusCode::BAD_REQUEST, Some(v))
            }
            ApiError::Message(m) => (StatusCode::BAD_REQUEST, Some(json!({ "message": m }))),
            ApiError::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, Some(json!({ "message": m }))),
            ApiError::NotFound => {
                let mut r = (
                    StatusCode::NOT_FOUND,
                    "The requested resource could not be found.",
                )
                    .into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                return r;
            }
            ApiError::Method => {
                return (
                    StatusCode::METHOD_NOT_ALLOWED,
                    "HTTP method not allowed, supported methods: GET, PUT, POST, DELETE",
                )
                    .into_response()
            }
            ApiError::Internal(cause) => {
                tracing_log(&cause);
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some(json!({"message": "Internal server error."})),
                )
            }
        };
        let mut r = Reply::empty(status);
        r.value = body;
        r.into_response()
    }
}

#[allow(clippy::print_stderr)]
fn tracing_log(cause: &str) {
    eprintln!("vamp serve: internal error: {cause}");
}

/// The result of a handler.
pub type ApiResult = Result<Reply, ApiError>;

/// The API router: `/api/v1[/...]`, optionally behind a namespace segment.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1", axum::routing::any(dispatch))
        .route("/api/v1/", axum::routing::any(dispatch))
        .route("/api/v1/{*rest}", axum::routing::any(dispatch))
        .route("/{ns}/api/v1", axum::routing::any(dispatch))
        .route("/{ns}/api/v1/{*rest}", axum::routing::any(dispatch))
        .fallback(|| async { ApiError::NotFound })
        .layer(middleware::from_fn(negotiate))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(
            tower_http::cors::CorsLayer::very_permissive()
                .expose_headers([
                    header::LINK,
                    header::HeaderName::from_static("x-total-count"),
                ])
                .max_age(std::time::Duration::from_secs(1800)),
        )
        .with_state(shared)
}

/// Which format the client wants answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Yaml,
}

fn accept_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
}

fn format_of(accept: Option<&str>) -> Format {
    match accept {
        Some(a) if a.trim_start().starts_with("application/x-yaml") => Format::Yaml,
        _ => Format::Json,
    }
}

/// Routes outside the Accept gate.
fn ungated(path: &str, method: &Method, headers: &HeaderMap) -> bool {
    let p = path.trim_end_matches('/');
    p.ends_with("/events/stream")
        || p.ends_with("/config")
        || p.contains("/config/")
        || p.ends_with("/configuration")
        || (method == Method::PUT
            && p.contains("/breeds/")
            && media(headers) == Some("application/javascript"))
}

fn media(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim())
}

/// The gates before a handler, and rendering after it.
async fn negotiate(req: Request, next: Next) -> Response {
    let accept = accept_of(req.headers()).map(str::to_owned);
    let format = format_of(accept.as_deref());
    let path = req.uri().path().to_owned();
    let gated = !ungated(&path, req.method(), req.headers());
    let refused = if !gated {
        None
    } else {
        match &accept {
            None => Some("Request is missing required HTTP header 'Accept'".to_owned()),
            Some(a) => {
                let ok = a.split(',').map(str::trim).any(|i| {
                    i.starts_with("*/*") || i == "application/json" || i == "application/x-yaml"
                });
                (!ok).then(|| "Only the following media types are supported: application/json, application/x-yaml, */*".to_owned())
            }
        }
    };
    let refused = refused.or_else(|| {
        let writes = req.method() == Method::PUT || req.method() == Method::POST;
        let m = media(req.headers());
        let javascript = m == Some("application/javascript") && path.contains("/breeds/");
        (writes
            && path.contains("/api/v1")
            && !javascript
            && !matches!(m, Some("application/json" | "application/x-yaml")))
        .then(|| MEDIA.to_owned())
    });
    let mut resp = match refused {
        Some(m) => ApiError::Message(m).into_response(),
        None => next.run(req).await,
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(Rendered(v)) = resp.extensions_mut().remove::<Rendered>() {
        let (text, ctype) = match format {
            Format::Json => (
                serde_json::to_string(&v).unwrap_or_default(),
                "application/json",
            ),
            Format::Yaml => (
                serde_yaml::to_string(&v).unwrap_or_default(),
                "application/x-yaml",
            ),
        };
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        *resp.body_mut() = Body::from(text);
    } else if let Some(RenderedJson(json)) = resp.extensions_mut().remove::<RenderedJson>() {
        let (body, ctype) = match format {
            Format::Json => (Body::from(json), "application/json"),
            Format::Yaml => {
                let v: Value = serde_json::from_slice(&json).unwrap_or_default();
                (
                    Body::from(serde_yaml::to_string(&v).unwrap_or_default()),
                    "application/x-yaml",
                )
            }
        };
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        *resp.body_mut() = body;
    }
    resp
}

/// Query parameters (repeated ones kept).
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: Option<&str>) -> Query {
        Query(serde_urlencoded::from_str(q.unwrap_or("")).unwrap_or_default())
    }

    /// The last value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a parameter.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A boolean parameter (`true`, `1`, `yes`; absent is false).
    pub fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | ""))
    }
}

/// What a handler gets to know about the request.
#[derive(Debug)]
pub struct Req {
    /// Method.
    pub method: Method,
    /// Path segments after `/api/v1`, percent-decoded, trailing empty one dropped.
    pub segments: Vec<String>,
    /// Query.
    pub query: Query,
    /// Body.
    pub body: Bytes,
    /// Headers.
    pub headers: HeaderMap,
    /// The request URI as the client saw it (for `Link`).
    pub uri: Uri,
}

impl Req {
    /// The body is empty or only white space.
    pub fn body_is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }
}

fn segments_of(path: &str) -> Vec<String> {
    let rest = path.split_once("/api/v1").map_or("", |(_, r)| r);
    let mut segs: Vec<String> = rest
        .split('/')
        .skip(1)
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    if segs.last().is_some_and(String::is_empty) {
        segs.pop();
    }
    segs
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = Req {
        segments: segments_of(uri.path()),
        query: Query::parse(uri.query()),
        method,
        body,
        headers,
        uri,
    };
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let result = match segs.as_slice() {
        ["events", "stream"] => return events::stream(&shared, &req),
        ["events"] => match limited(&shared, &req) {
            Some(e) => Err(e),
            None => events::events(&shared, &req),
        },
        ["info" | "information"] => info::info(&shared, &req),
        ["config" | "configuration", rest @ ..] => {
            info::config(&shared, &req, rest.first().copied())
        }
        ["deployments", ..] => deployments::route(&shared, &req, &segs[1..]).await,
        ["workflows", rest @ ..] => match workflows::route(&shared, &req, rest).await {
            Some(r) => r,
            None => artifacts::route(&shared, &req, "workflows", &rest.join("/")).await,
        },
        [] => artifacts::root(&shared, &req).await,
        [kind, rest @ ..] => artifacts::route(&shared, &req, kind, &rest.join("/")).await,
    };
    match result {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}

/// A workflow (known by the token it was given, `Authorization: token <t>`)
/// that posts events faster than its rate gets a 429, noted in its logs.
fn limited(shared: &Shared, req: &Req) -> Option<ApiError> {
    if req.method != Method::POST {
        return None;
    }
    let token = req
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("token "))?;
    let name = shared.workflows.workflow_of_token(token.trim())?;
    let rate = shared.config.workflow.event_rate;
    if shared.workflows.allow_event(&name, rate) {
        return None;
    }
    let m = format!("Workflow {name} posts more than {rate} events per second: event refused.");
    shared.workflows.note(&name, &m);
    Some(ApiError::TooMany(m))
}

/// A page of a list, with `X-Total-Count` and `Link`.
pub fn paginate(req: &Req, items: Vec<Value>) -> Reply {
    let num = |k: &str, d: i64| {
        req.query
            .get(k)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(d)
    };
    let per_page = num("per_page", 30).clamp(1, 30);
    let page = num("page", 1).max(1);
    let total = items.len() as i64;
    let last = (total + per_page - 1) / per_page;
    let start = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let body: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(usize::try_from(per_page).unwrap_or(30))
        .collect();
    let host = req
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let link = |p: i64| {
        let mut q: Vec<(String, String)> = Vec::new();
        for (k, v) in &req.query.0 {
            if k != "page" && k != "per_page" {
                q.retain(|(x, _)| x != k);
                q.push((k.clone(), v.clone()));
            }
        }
        q.push(("page".into(), p.to_string()));
        q.push(("per_page".into(), per_page.to_string()));
        let qs = serde_urlencoded::to_string(&q).unwrap_or_default();
        format!("<http://{host}{}?{qs}>", req.uri.path())
    };
    let links = format!(
        "{}; rel=first, {}; rel=prev, {}; rel=next, {}; rel=last",
        link(1),
        link((page - 1).max(1)),
        link((page + 1).min(last)),
        link(last)
    );
    Reply::new(StatusCode::OK, Value::Array(body))
        .header(
            header::HeaderName::from_static("x-total-count"),
            total.to_string(),
        )
        .header(header::LINK, links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_decode_and_drop_the_trailing_slash() {
        assert_eq!(segments_of("/api/v1/"), Vec::<String>::new());
        assert_eq!(
            segments_of("/api/v1/gateways/sava%2F9050"),
            vec!["gateways", "sava/9050"]
        );
        assert_eq!(segments_of("/ns/api/v1/breeds/"), vec!["breeds"]);
    }

    #[test]
    fn formats() {
        assert_eq!(format_of(Some("application/x-yaml")), Format::Yaml);
        assert_eq!(format_of(Some("*/*")), Format::Json);
        assert_eq!(format_of(None), Format::Json);
    }
}
