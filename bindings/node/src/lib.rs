//! Node.js bindings for Vamp (`require("vamp")`).
//!
//! This crate only converts types and maps errors: every function calls one
//! function of the core crates (`vamp-dsl`, `vamp-router`, `vamp-sla`). Values cross the
//! boundary as JSON text (built by the same serde serialization that gives
//! the canonical form; `JSON.parse` in V8 is faster than building objects
//! through N-API one property at a time), and `index.js` turns them into
//! plain objects and errors into `VampError`s carrying `code`, `line` and
//! `column`.
// napi's macros expand to `unsafe` FFI glue.
#![allow(unsafe_code)]

use napi::bindgen_prelude::Buffer;
use napi::Either;
use napi_derive::napi;
use serde_json::{json, Value};
use std::sync::Mutex;
use vamp_dsl::{canonical as core_canonical, read_bytes, ReadOptions};

use vamp_model::{Code, Diagnostic, Document, Kind};
use vamp_router::documents::{decision_json, Gateways};
use vamp_router::engine::{targets_from_json, Engine, SplitMix64, Targets};
use vamp_router::export::haproxy::ExportOptions;
use vamp_router::simulate::{simulate, Traffic};
use vamp_router::{matching, request::OwnedRequest};
use vamp_sla::{EngineOptions, Output, Registry, SlaError};

/// A diagnostic as the plain object of `check`: `code`, `severity`,
/// `message`, `line`, `column`, `path`, `help`.
fn diagnostic_json(d: &Diagnostic) -> Value {
    let mut v = d.to_json();
    v["severity"] = json!(d.severity);
    v["path"] = Value::String(d.path.clone());
    v["help"] = d.help.clone().map_or(Value::Null, Value::String);
    v
}

/// Errors cross as `{"vampErrors": [...]}` in the message of a JS error;
/// `index.js` rethrows them as a `VampError` (the first one reported).
fn to_js_err(errors: &[Diagnostic]) -> napi::Error {
    let all: Vec<Value> = errors.iter().map(diagnostic_json).collect();
    napi::Error::from_reason(json!({ "vampErrors": all }).to_string())
}

fn one_err(d: Diagnostic) -> napi::Error {
    to_js_err(std::slice::from_ref(&d))
}

/// An SLA setup error (`invalid_sla`, `no_blueprint`): a code, no position.
fn sla_err(e: &SlaError) -> napi::Error {
    let d = json!({"code": e.code(), "severity": "error", "message": e.to_string(),
        "line": null, "column": null, "path": "", "help": null});
    napi::Error::from_reason(json!({ "vampErrors": [d] }).to_string())
}

/// JavaScript naming for the keys of an object: `set_cookies` → `setCookies`.
fn camel_case_keys(v: Value) -> Value {
    let Value::Object(map) = v else { return v };
    let camel = |k: &str| {
        let mut out = String::with_capacity(k.len());
        let mut upper = false;
        for c in k.chars() {
            match c {
                '_' => upper = true,
                c if upper => {
                    out.extend(c.to_uppercase());
                    upper = false;
                }
                c => out.push(c),
            }
        }
        out
    };
    Value::Object(map.into_iter().map(|(k, v)| (camel(&k), v)).collect())
}

fn parse_kind(kind: Option<String>) -> napi::Result<Option<Kind>> {
    kind.map(|k| core_canonical::parse_kind(&k).map_err(one_err))
        .transpose()
}

fn outcome(text: &[u8], kind: Option<Kind>) -> vamp_dsl::Outcome {
    read_bytes(
        text,
        ReadOptions {
            kind,
            ..ReadOptions::default()
        },
    )
}

/// Source text: a string or a UTF-8 Buffer.
#[napi]
pub fn read_json(text: Either<String, Buffer>, kind: Option<String>) -> napi::Result<String> {
    let kind = parse_kind(kind)?;
    let out = outcome(text.as_bytes(), kind);
    let errors: Vec<Diagnostic> = out.errors().cloned().collect();
    if !errors.is_empty() {
        return Err(to_js_err(&errors));
    }
    serde_json::to_string(&out.documents).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// Every diagnostic (errors and warnings) of the documents, as JSON.
#[napi]
pub fn check_json(text: Either<String, Buffer>, kind: Option<String>) -> napi::Result<String> {
    let kind = parse_kind(kind)?;
    let out = outcome(text.as_bytes(), kind);
    let all: Vec<Value> = out.diagnostics.iter().map(diagnostic_json).collect();
    Ok(Value::Array(all).to_string())
}

/// Exactly what `vamp canonical KIND FILE` prints on success, as JSON.
#[napi]
pub fn canonical_json(kind: String, text: Either<String, Buffer>) -> napi::Result<String> {
    let kind = core_canonical::parse_kind(&kind).map_err(one_err)?;
    match core_canonical::canonical(kind, text.as_bytes()) {
        Ok(v) => Ok(v.to_string()),
        Err(errors) => Err(to_js_err(&errors)),
    }
}

/// Every document written back as DSL YAML, separated by `---`.
#[napi]
pub fn to_yaml(text: Either<String, Buffer>, kind: Option<String>) -> napi::Result<String> {
    let kind = parse_kind(kind)?;
    let out = outcome(text.as_bytes(), kind);
    let errors: Vec<Diagnostic> = out.errors().cloned().collect();
    if !errors.is_empty() {
        return Err(to_js_err(&errors));
    }
    let docs: Vec<String> = out.documents.iter().map(vamp_dsl::write::to_yaml).collect();
    Ok(docs.join("---\n"))
}

/// The deployments of the blueprints of `text`, resolved against the
/// directory store at `store`, as JSON (an object for one, a list for several).
#[napi]
pub fn resolve_json(text: Either<String, Buffer>, store: String) -> napi::Result<String> {
    let out = outcome(text.as_bytes(), Some(Kind::Blueprint));
    let errors: Vec<Diagnostic> = out.errors().cloned().collect();
    if !errors.is_empty() {
        return Err(to_js_err(&errors));
    }
    let store = vamp_deploy::directory::DirectoryStore::open(&store)
        .map_err(|e| one_err(e.to_diagnostic()))?;
    let deployments = out
        .documents
        .iter()
        .filter_map(|d| match d {
            Document::Blueprint(b) => Some(vamp_deploy::resolve::resolve_blueprint(b, &store)),
            _ => None,
        })
        .map(|r| r.map(|d| serde_json::to_value(&d).unwrap_or(Value::Null)))
        .collect::<Result<Vec<Value>, Diagnostic>>()
        .map_err(one_err)?;
    Ok(match <[Value; 1]>::try_from(deployments) {
        Ok([one]) => one,
        Err(many) => Value::Array(many),
    }
    .to_string())
}

/// A condition's syntax tree, as JSON.
#[napi]
pub fn condition_json(expression: String) -> napi::Result<String> {
    let tree = vamp_dsl::condition::parse(&expression).map_err(one_err)?;
    serde_json::to_string(&tree).map_err(|e| napi::Error::from_reason(e.to_string()))
}

fn request_from_json(request: &str) -> napi::Result<OwnedRequest> {
    let value: Value = serde_json::from_str(request).map_err(|e| {
        one_err(Diagnostic::error(
            Code::UnexpectedType,
            format!("a request is a JSON object: {e}"),
        ))
    })?;
    OwnedRequest::from_json(&value).map_err(one_err)
}

/// Whether the request (JSON text) matches the condition.
#[napi]
pub fn matches_json(expression: String, request: String) -> napi::Result<bool> {
    let tree = vamp_dsl::condition::parse(&expression).map_err(one_err)?;
    let owned = request_from_json(&request)?;
    matching::matches(&tree, &owned.as_request()).map_err(one_err)
}

/// The gateways of a YAML stream, with the conditions and rewrites they may
/// refer to (`vamp_router::documents::gateways`).
fn read_gateways(bytes: &[u8]) -> napi::Result<Gateways> {
    let out = outcome(bytes, None);
    let errors: Vec<Diagnostic> = out.errors().cloned().collect();
    if !errors.is_empty() {
        return Err(to_js_err(&errors));
    }
    vamp_router::documents::gateways(&out.documents).map_err(one_err)
}

fn targets_from(json: Option<String>) -> napi::Result<Option<Targets>> {
    let Some(json) = json else { return Ok(None) };
    let value: Value = serde_json::from_str(&json).map_err(|e| {
        one_err(Diagnostic::error(
            Code::UnexpectedType,
            format!("targets: {e}"),
        ))
    })?;
    targets_from_json(&value).map(Some).map_err(one_err)
}

/// A gateway compiled for routing decisions (`vamp_router::engine::Engine`);
/// `index.js` wraps it as `Router`.
#[napi]
pub struct NativeRouter {
    engine: Engine,
    rng: Mutex<SplitMix64>,
}

#[napi]
impl NativeRouter {
    /// Compiles a gateway of `text` (`gateway` names it among several).
    #[napi(constructor)]
    pub fn new(
        text: Either<String, Buffer>,
        gateway: Option<String>,
        targets: Option<String>,
        seed: Option<f64>,
    ) -> napi::Result<Self> {
        let targets = targets_from(targets)?;
        let g = read_gateways(text.as_bytes())?;
        let engine = g
            .compile_one(gateway.as_deref(), targets.as_ref())
            .map_err(|d| {
                one_err(match d.code {
                    Code::UnresolvedDependency if d.help.is_none() => {
                        d.with_help("name the gateway with the `gateway` option")
                    }
                    _ => d,
                })
            })?;
        let seed = match seed {
            Some(s) => s as u64,
            None => {
                use std::hash::{BuildHasher, RandomState};
                RandomState::new().hash_one(0u8)
            }
        };
        Ok(NativeRouter {
            engine,
            rng: Mutex::new(SplitMix64::new(seed)),
        })
    }

    /// The gateway's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.engine.name().to_owned()
    }

    /// The route paths, in written order.
    #[napi(getter)]
    pub fn routes(&self) -> Vec<String> {
        self.engine
            .routes()
            .iter()
            .map(|r| r.name().to_owned())
            .collect()
    }

    /// One decision, as JSON.
    #[napi]
    pub fn decide_json(&self, request: String, key: Option<String>) -> napi::Result<String> {
        let owned = request_from_json(&request)?;
        let req = owned.as_request();
        let d = match &key {
            Some(k) => self.engine.decide_keyed(&req, k.as_bytes()),
            None => {
                let mut rng = self
                    .rng
                    .lock()
                    .map_err(|_| napi::Error::from_reason("router state poisoned"))?;
                self.engine.decide(&req, &mut *rng)
            }
        };
        Ok(camel_case_keys(decision_json(&self.engine, d.as_ref())).to_string())
    }

    /// The chosen route of each request of a JSON list (null where none).
    #[napi]
    pub fn decide_many_json(&self, requests: String) -> napi::Result<Vec<Option<String>>> {
        let value: Value = serde_json::from_str(&requests).map_err(|e| {
            one_err(Diagnostic::error(
                Code::UnexpectedType,
                format!("requests: {e}"),
            ))
        })?;
        let Value::Array(items) = value else {
            return Err(one_err(Diagnostic::error(
                Code::UnexpectedType,
                "requests must be an array",
            )));
        };
        let mut rng = self
            .rng
            .lock()
            .map_err(|_| napi::Error::from_reason("router state poisoned"))?;
        items
            .iter()
            .map(|v| {
                let owned = OwnedRequest::from_json(v).map_err(one_err)?;
                Ok(self
                    .engine
                    .decide(&owned.as_request(), &mut *rng)
                    .map(|d| d.route_name.to_owned()))
            })
            .collect()
    }

    /// Exact and sampled split of a traffic mix (JSON), as JSON.
    #[napi]
    pub fn simulate_json(
        &self,
        traffic: String,
        samples: Option<f64>,
        seed: Option<f64>,
    ) -> napi::Result<String> {
        let value: Value = serde_json::from_str(&traffic).map_err(|e| {
            one_err(Diagnostic::error(
                Code::UnexpectedType,
                format!("traffic: {e}"),
            ))
        })?;
        let traffic = Traffic::from_json(&value).map_err(one_err)?;
        let samples = samples.map_or(10_000, |s| s as u64);
        let seed = seed.map_or(1, |s| s as u64);
        Ok(simulate(&self.engine, &traffic, samples, seed)
            .to_json(&self.engine)
            .to_string())
    }
}

/// A complete haproxy.cfg for every gateway of `text`.
#[napi]
pub fn haproxy(
    text: Either<String, Buffer>,
    targets: Option<String>,
    bind_address: Option<String>,
    virtual_hosts_port: Option<u32>,
    health_checks: Option<bool>,
) -> napi::Result<String> {
    let targets = targets_from(targets)?;
    let g = read_gateways(text.as_bytes())?;
    let defaults = ExportOptions::default();
    let virtual_hosts_port = match virtual_hosts_port {
        Some(p) => Some(u16::try_from(p).map_err(|_| {
            one_err(Diagnostic::error(
                Code::InvalidGatewayPort,
                format!("{p} is not a port"),
            ))
        })?),
        None => defaults.virtual_hosts_port,
    };
    let options = ExportOptions {
        bind_address: bind_address.unwrap_or(defaults.bind_address.clone()),
        virtual_hosts_port,
        health_checks: health_checks.unwrap_or(defaults.health_checks),
        ..defaults
    };
    g.export_haproxy(targets.as_ref(), &options)
        .map_err(one_err)
}

/// The SLA engine of a blueprint (`vamp_sla::Engine`); `index.js` wraps it
/// as `SlaEvaluator`. Every feed returns the events and actions it caused as
/// a JSON array of what `vamp sla evaluate --format json` prints.
#[napi]
pub struct NativeSlaEvaluator {
    engine: vamp_sla::Engine,
}

impl NativeSlaEvaluator {
    fn run(&mut self, feed: impl FnOnce(&mut vamp_sla::Engine, &mut Vec<Output>)) -> String {
        let mut out = Vec::new();
        feed(&mut self.engine, &mut out);
        Value::Array(out.iter().map(Output::to_json).collect()).to_string()
    }
}

#[napi]
impl NativeSlaEvaluator {
    /// Builds the SLA checks of the blueprint in `blueprint` (read as
    /// `vamp sla evaluate --blueprint` reads it).
    #[napi(constructor)]
    pub fn new(
        blueprint: Either<String, Buffer>,
        period_seconds: Option<f64>,
    ) -> napi::Result<Self> {
        let out = outcome(blueprint.as_bytes(), Some(Kind::Blueprint));
        let errors: Vec<Diagnostic> = out.errors().cloned().collect();
        if !errors.is_empty() {
            return Err(to_js_err(&errors));
        }
        let options = EngineOptions {
            period_seconds: period_seconds.map_or(1, |p| p.max(1.0) as u64),
        };
        let engine =
            vamp_sla::Engine::from_documents(&out.documents, &Registry::with_builtins(), options)
                .map_err(|e| sla_err(&e))?;
        Ok(NativeSlaEvaluator { engine })
    }

    /// Log lines (each may hold several, blank ones skipped).
    #[napi]
    pub fn feed_lines_json(&mut self, lines: Vec<Either<String, Buffer>>) -> String {
        self.run(|engine, out| {
            for line in &lines {
                engine.ingest_text(line.as_bytes(), out);
            }
        })
    }

    /// Sample objects, as a JSON array (anything but an object is malformed).
    #[napi]
    pub fn feed_samples_json(&mut self, samples: String) -> napi::Result<String> {
        let values: Vec<Value> = serde_json::from_str(&samples).map_err(|e| {
            one_err(Diagnostic::error(
                Code::UnexpectedType,
                format!("samples must be an array: {e}"),
            ))
        })?;
        Ok(self.run(|engine, out| {
            for v in &values {
                engine.ingest_value(v, out);
            }
        }))
    }

    /// Ends the stream.
    #[napi]
    pub fn finish_json(&mut self) -> String {
        self.run(|engine, out| engine.finish(out))
    }

    /// Counters of what went in, with camelCase keys.
    #[napi]
    pub fn stats_json(&self) -> napi::Result<String> {
        let v = serde_json::to_value(self.engine.stats())
            .map_err(|e| napi::Error::from_reason(e.to_string()))?;
        Ok(camel_case_keys(v).to_string())
    }

    /// Clusters whose SLA is not monitored: `[{cluster, message}]`.
    #[napi]
    pub fn notices_json(&self) -> napi::Result<String> {
        serde_json::to_string(self.engine.notices())
            .map_err(|e| napi::Error::from_reason(e.to_string()))
    }
}

trait AsBytes {
    fn as_bytes(&self) -> &[u8];
}

impl AsBytes for Either<String, Buffer> {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Either::A(s) => s.as_bytes(),
            Either::B(b) => b,
        }
    }
}

// Reading allocates many small nodes; mimalloc makes it markedly faster than
// the system allocator (the binding's choice, not the core's).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
