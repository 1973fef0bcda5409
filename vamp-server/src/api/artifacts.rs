//! The root multi-document requests and per-kind CRUD (§1a).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use vamp_model::{Artifact, Breed, Deployable, Document, Map};

use super::{paginate, ApiError, ApiResult, Reply, Req};
use crate::artifacts::{ApiKind, Stored};
use crate::deploy::{self, archive};
use crate::engine::{read_inputs, Input};
use crate::events::Event;
use crate::{gateways, Shared};

/// What one document asks to write.
#[allow(clippy::large_enum_variant)] // short-lived, one per document
enum Payload {
    Doc(Document),
    Plain(Value),
    Blueprint(Artifact<vamp_model::Blueprint>),
    Workflow(Document, &'static str),
}

/// The kind, name and payload of a document, or why it does not read.
fn prepare(
    shared: &Shared,
    input: &Input,
    kind: ApiKind,
    deleting: bool,
) -> Result<Payload, ApiError> {
    if kind == ApiKind::Deployments {
        if deleting && only_names(input) {
            let name = input.name.clone().unwrap_or_default();
            return Ok(match shared.artifacts.deployment(&name) {
                Some(r) => Payload::Blueprint(crate::engine::as_blueprint(&r.deployment)),
                None => Payload::Plain(Value::Null),
            });
        }
        return deploy::blueprint_of(shared, input).map(Payload::Blueprint);
    }
    if deleting {
        return Ok(Payload::Plain(Value::Null));
    }
    if kind == ApiKind::Workflows {
        return super::workflows::read(input).map(|(d, s)| Payload::Workflow(d, s));
    }
    match kind.model() {
        Some(_) => match &input.read {
            Some(Ok(d)) => Ok(Payload::Doc(d.clone())),
            Some(Err(d)) => Err(d.clone().into()),
            None => Err(ApiError::Message("the document cannot be read".into())),
        },
        None => {
            let name = input.name.as_deref().unwrap_or_default();
            if name
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '/' | '[' | ']'))
            {
                return Err(ApiError::Message(format!(
                    "Illegal name or reference - white space characters, '/', '[' and ']' are not allowed: {name}"
                )));
            }
            Ok(Payload::Plain(input.json.clone()))
        }
    }
}

fn only_names(input: &Input) -> bool {
    input
        .json
        .as_object()
        .is_some_and(|m| m.keys().all(|k| k == "kind" || k == "name"))
}

/// An artifact as the API shows it (kind plural).
pub(super) fn show(kind: ApiKind, value: &Stored) -> Value {
    let mut v = match value {
        Stored::Doc(d) => serde_json::to_value(d).unwrap_or(Value::Null),
        Stored::Plain(v) => v.clone(),
        Stored::Deployment(r) => return deploy::render(r),
    };
    if let Some(m) = v.as_object_mut() {
        m.insert("kind".into(), json!(kind.as_str()));
    }
    v
}

/// `POST|PUT|DELETE /api/v1`: every document must read before any is written.
pub(super) async fn root(shared: &Shared, req: &Req) -> ApiResult {
    let deleting = req.method == Method::DELETE;
    let create = req.method == Method::POST;
    if !(deleting || create || req.method == Method::PUT) {
        return Err(if req.method == Method::GET {
            ApiError::NotFound
        } else {
            ApiError::Method
        });
    }
    let inputs = read_inputs(&req.body, None)?;
    let mut todo = Vec::with_capacity(inputs.len());
    for input in &inputs {
        let kind_word = input
            .kind
            .as_deref()
            .ok_or_else(|| ApiError::Message("Can't find any value for path: /kind".into()))?;
        let kind = ApiKind::parse(kind_word).ok_or_else(|| ApiError::unexpected(kind_word))?;
        let name = input
            .name
            .clone()
            .ok_or_else(|| ApiError::Message("Can't find any value for path: /name".into()))?;
        todo.push((
            kind,
            name,
            prepare(shared, input, kind, deleting)?,
            input.json.to_string(),
        ));
    }
    let validate_only = req.query.flag("validate_only");
    let mut results = Vec::with_capacity(todo.len());
    for (kind, name, payload, source) in todo {
        let r = if deleting {
            match payload {
                Payload::Blueprint(b) => deploy::slice(shared, &name, &b, validate_only).await?,
                _ => Value::Bool(delete(shared, kind, &name, validate_only)?),
            }
        } else {
            write(shared, kind, &name, payload, create, validate_only, source).await?
        };
        results.push(r);
    }
    Ok(Reply::new(StatusCode::ACCEPTED, Value::Array(results)))
}

/// Writes one artifact; returns what the API answers for it.
async fn write(
    shared: &Shared,
    kind: ApiKind,
    name: &str,
    payload: Payload,
    create: bool,
    validate_only: bool,
    source: String,
) -> Result<Value, ApiError> {
    let doc = match payload {
        Payload::Blueprint(b) => return deploy::merge(shared, name, &b, validate_only).await,
        Payload::Plain(v) => {
            if validate_only {
                return Ok(v);
            }
            let stored = Stored::Plain(v);
            let shown = show(kind, &stored);
            let (_, existed) = shared.artifacts.put(kind, name, stored)?;
            archive(shared, kind, name, create && !existed, source);
            return Ok(json!([shown]));
        }
        Payload::Doc(d) => d,
        Payload::Workflow(d, status) => {
            let (shown, existed) = super::workflows::store(shared, name, d, status, validate_only)?;
            if !validate_only {
                archive(shared, kind, name, create && !existed, source);
            }
            return Ok(json!([shown]));
        }
    };
    if let Document::Gateway(mut g) = doc {
        let old = match shared.artifacts.document(vamp_model::Kind::Gateway, name) {
            Some(Document::Gateway(o)) => Some(o),
            _ => None,
        };
        if gateways::is_internal(name) {
            match &old {
                None => {
                    return Err(ApiError::Message(format!(
                        "Internal gateway cannot be created: {name}"
                    )))
                }
                Some(o)
                    if o.spec.routes.len() != g.spec.routes.len()
                        || !o.spec.routes.keys().all(|k| g.spec.routes.contains_key(k)) =>
                {
                    return Err(ApiError::Message(format!(
                        "Internal gateway routes cannot be changed: {name}"
                    )))
                }
                Some(_) => {}
            }
        }
        gateways::prepare(shared, &mut g)?;
        gateways::check(shared, std::slice::from_ref(&g), &|_| false)?;
        let shown = show(kind, &Stored::Doc(Document::Gateway(g.clone())));
        if validate_only {
            return Ok(shown);
        }
        let events = gateways::route_events(old.as_ref(), Some(&g));
        shared
            .artifacts
            .put(kind, name, Stored::Doc(Document::Gateway(g)))?;
        archive(shared, kind, name, create, source);
        for e in events {
            shared.bus.publish(e);
        }
        gateways::notify(shared);
        return Ok(shown);
    }
    let mut results = Vec::new();
    if let (Document::Blueprint(b), false) = (&doc, validate_only) {
        for s in b.spec.clusters.values().flat_map(|c| &c.services) {
            if let vamp_model::OrRef::Inline(breed) = &s.breed {
                let stored = Stored::Doc(Document::Breed(breed.clone()));
                let shown = show(ApiKind::Breeds, &stored);
                let (_, existed) = shared.artifacts.put(ApiKind::Breeds, &breed.name, stored)?;
                archive(
                    shared,
                    ApiKind::Breeds,
                    &breed.name,
                    !existed,
                    shown.to_string(),
                );
                results.push(shown);
            }
        }
    }
    let stored = Stored::Doc(doc);
    let shown = show(kind, &stored);
    if validate_only {
        return Ok(shown);
    }
    let (_, existed) = shared.artifacts.put(kind, name, stored)?;
    archive(shared, kind, name, create && !existed, source);
    results.push(shown);
    Ok(Value::Array(results))
}

/// Deletes one artifact; true when it existed.
fn delete(
    shared: &Shared,
    kind: ApiKind,
    name: &str,
    validate_only: bool,
) -> Result<bool, ApiError> {
    if kind == ApiKind::Workflows {
        return super::workflows::delete(shared, name, validate_only);
    }
    if kind == ApiKind::Gateways && gateways::is_internal(name) {
        let deployment = name.split('/').next().unwrap_or_default();
        if shared.artifacts.deployment(deployment).is_some() {
            return Err(ApiError::Message(format!(
                "Internal gateway cannot be removed while its deployment exists: {name}"
            )));
        }
    }
    if validate_only {
        return Ok(shared.artifacts.get(kind, name).is_some());
    }
    let old = shared
        .artifacts
        .document(vamp_model::Kind::Gateway, name)
        .filter(|_| kind == ApiKind::Gateways);
    let existed = shared.artifacts.delete(kind, name)?;
    if existed && kind.archived() {
        shared.bus.publish(Event::new(
            "archive",
            [
                format!("{}:{name}", kind.as_str()),
                "archive:delete".to_owned(),
            ],
            None,
        ));
    }
    if let Some(Document::Gateway(g)) = old {
        // A serving proxy says `undeployed` itself once the gateway is gone.
        if !shared.gateway_sink.serves() {
            shared.bus.publish(Event::new(
                "event",
                [format!("gateways:{name}"), "undeployed".to_owned()],
                serde_json::to_value(&g).ok(),
            ));
        }
        gateways::notify(shared);
    }
    Ok(existed)
}

/// `/api/v1/{kind}[/{name}]`.
pub(super) async fn route(shared: &Shared, req: &Req, word: &str, name: &str) -> ApiResult {
    let kind = ApiKind::ALL
        .into_iter()
        .find(|k| k.as_str() == word)
        .ok_or_else(|| ApiError::unexpected(word))?;
    let validate_only = req.query.flag("validate_only");
    let ok = if kind.background() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    match (&req.method, name.is_empty()) {
        (&Method::GET, true) => {
            let (expand, only) = (
                req.query.flag("expand_references"),
                req.query.flag("only_references"),
            );
            let items = shared
                .artifacts
                .list(kind)
                .into_iter()
                .map(|(_, e)| references(shared, show(kind, &e.value), expand, only))
                .collect();
            Ok(paginate(req, items))
        }
        (&Method::GET, false) => {
            let e = shared.artifacts.get(kind, name).ok_or(ApiError::NotFound)?;
            let (expand, only) = (
                req.query.flag("expand_references"),
                req.query.flag("only_references"),
            );
            if expand == only {
                // As stored: rendered once per stored value.
                let json = e.json.get_or_init(|| {
                    serde_json::to_vec(&show(kind, &e.value))
                        .unwrap_or_default()
                        .into()
                });
                return Ok(Reply::json(StatusCode::OK, json.clone()));
            }
            Ok(Reply::new(
                StatusCode::OK,
                references(shared, show(kind, &e.value), expand, only),
            ))
        }
        (&Method::POST, true) => {
            let input = one(req, kind)?;
            let name = input
                .name
                .clone()
                .ok_or_else(|| ApiError::Message("Can't find any value for path: /name".into()))?;
            let status = if kind.background() {
                StatusCode::ACCEPTED
            } else {
                StatusCode::CREATED
            };
            let v = write_input(shared, kind, &name, &input, true, validate_only).await?;
            Ok(Reply::new(status, v))
        }
        (&Method::PUT, false) => {
            if kind == ApiKind::Breeds
                && super::media(&req.headers) == Some("application/javascript")
            {
                return javascript_breed(shared, req, name, validate_only).await;
            }
            let input = one(req, kind)?;
            let given = input.name.clone().unwrap_or_default();
            if given != name {
                return Err(ApiError::Message(format!(
                    "Inconsistent name: given '{name}' but found '{given}'."
                )));
            }
            let v = write_input(shared, kind, name, &input, false, validate_only).await?;
            Ok(Reply::new(ok, v))
        }
        (&Method::DELETE, false) => {
            delete(shared, kind, name, validate_only)?;
            Ok(Reply::empty(if kind.background() {
                StatusCode::ACCEPTED
            } else {
                StatusCode::NO_CONTENT
            }))
        }
        _ => Err(ApiError::Method),
    }
}

/// Prepares and writes the one document of a per-kind write.
async fn write_input(
    shared: &Shared,
    kind: ApiKind,
    name: &str,
    input: &Input,
    create: bool,
    validate_only: bool,
) -> Result<Value, ApiError> {
    let payload = prepare(shared, input, kind, false)?;
    let source = input.json.to_string();
    write(shared, kind, name, payload, create, validate_only, source).await
}

/// The one document of a per-kind write.
fn one(req: &Req, kind: ApiKind) -> Result<Input, ApiError> {
    let mut inputs = read_inputs(&req.body, kind.model())?;
    if inputs.len() != 1 {
        return Err(ApiError::Message(format!(
            "Expected one document, found {}.",
            inputs.len()
        )));
    }
    let input = inputs.remove(0);
    if let Some(k) = input.kind.as_deref() {
        if ApiKind::parse(k) != Some(kind) {
            return Err(ApiError::Message(format!(
                "Inconsistent kind: given '{}' but found '{k}'.",
                kind.as_str()
            )));
        }
    }
    Ok(input)
}

/// `PUT /breeds/{name}` with a JavaScript body.
async fn javascript_breed(
    shared: &Shared,
    req: &Req,
    name: &str,
    validate_only: bool,
) -> ApiResult {
    let definition = String::from_utf8(req.body.to_vec())
        .map_err(|_| ApiError::Message("the script is not UTF-8".into()))?;
    let breed = Breed {
        name: name.to_owned(),
        metadata: Map::new(),
        deployable: Deployable {
            deployable_type: Some("application/javascript".into()),
            definition,
        },
        ports: Map::new(),
        environment_variables: Map::new(),
        constants: Map::new(),
        arguments: Vec::new(),
        dependencies: Map::new(),
        health_checks: None,
        span: None,
    };
    let source = serde_json::to_string(&breed).unwrap_or_default();
    let v = write(
        shared,
        ApiKind::Breeds,
        name,
        Payload::Doc(Document::Breed(breed)),
        false,
        validate_only,
        source,
    )
    .await?;
    Ok(Reply::new(StatusCode::OK, v))
}

/// `expand_references` replaces `{reference: x}` of breeds, scales, SLAs,
/// conditions, rewrites and escalations with the stored artifact;
/// `only_references` replaces inline ones with `{reference: name}`. Both
/// together do nothing.
pub(super) fn references(shared: &Shared, mut v: Value, expand: bool, only: bool) -> Value {
    if expand != only {
        walk(shared, &mut v, None, expand);
    }
    v
}

fn walk(shared: &Shared, v: &mut Value, key: Option<&str>, expand: bool) {
    let kind = key.and_then(|k| match k {
        "breed" => Some(ApiKind::Breeds),
        "scale" => Some(ApiKind::Scales),
        "sla" => Some(ApiKind::Slas),
        "condition" => Some(ApiKind::Conditions),
        "rewrites" => Some(ApiKind::Rewrites),
        "escalations" => Some(ApiKind::Escalations),
        _ => None,
    });
    if let (Some(kind), Some(obj)) = (kind, v.as_object()) {
        let reference = obj
            .get("reference")
            .and_then(Value::as_str)
            .filter(|_| obj.len() == 1);
        let name = obj.get("name").and_then(Value::as_str);
        if let (true, Some(r)) = (expand, reference) {
            if let Some(e) = shared.artifacts.get(kind, r) {
                *v = show(kind, &e.value);
            }
            return;
        }
        if let (false, Some(n)) = (expand, name) {
            *v = json!({ "reference": n });
            return;
        }
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                walk(shared, x, Some(k), expand);
            }
        }
        Value::Array(a) => {
            for x in a {
                walk(shared, x, key, expand);
            }
        }
        _ => {}
    }
}
