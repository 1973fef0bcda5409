//! Node.js bindings for Vamp (`require("vamp")`).
//!
//! This crate only converts types and maps errors: every function calls the
//! core crates (`vamp-dsl`, `vamp-router`, `vamp-sla`) and hands back plain
//! JavaScript values built from the same serde serialization that gives the
//! canonical JSON. Failures are thrown as errors whose message is
//! `{"vampErrors": [...], "class": "..."}` (every diagnostic in its full
//! JSON form and the error class to raise); `index.js` rethrows them as
//! `VampError` and its subclasses, with `code`, `line` and `column`.
//!
//! `napi build` writes `index.d.ts` from the `#[napi]` annotations here
//! (`types.d.ts` adds the plain-data types and the error classes).

use napi::bindgen_prelude::Uint8Array;
use napi::Either;
use napi_derive::napi;
use serde_json::{json, Value};
use vamp_dsl::{api, canonical as core_canonical};
use vamp_model::{Code, Diagnostic, Kind};
use vamp_router::documents::{check_batch_keys, decide, decision_json, Gateways};
use vamp_router::engine::{targets_from_json, Engine, SplitMix64, Targets};
use vamp_router::export::haproxy::ExportOptions;
use vamp_router::simulate::{simulate, Traffic};
use vamp_router::{matching, request::OwnedRequest};
use vamp_sla::{EngineOptions, Output, Registry};

/// The step that failed, which picks the error class `index.js` raises
/// (the classes of the Python package) unless the text did not even parse.
#[derive(Clone, Copy)]
enum Step {
    /// Reading artifacts: `ValidationError`.
    Read,
    /// Routing requests through gateways: `RoutingError`.
    Routing,
}

impl Step {
    /// The class of an error of this step with `code`.
    fn class(self, code: Code) -> &'static str {
        match self {
            _ if code.is_parse_failure() => "ParseError",
            Step::Read => "ValidationError",
            Step::Routing => "RoutingError",
        }
    }
}

/// The error `index.js` rethrows: diagnostics in their full JSON form, the
/// first being the one reported.
fn throw(class: &str, all: &[Value]) -> napi::Error {
    napi::Error::from_reason(json!({ "vampErrors": all, "class": class }).to_string())
}

fn to_js_err(step: Step, errors: &[Diagnostic]) -> napi::Error {
    let code = errors.first().map_or(Code::Io, |d| d.code);
    let all: Vec<Value> = errors.iter().map(Diagnostic::to_full_json).collect();
    throw(step.class(code), &all)
}

fn read_err(errors: Vec<Diagnostic>) -> napi::Error {
    to_js_err(Step::Read, &errors)
}

fn read_err1(d: Diagnostic) -> napi::Error {
    to_js_err(Step::Read, std::slice::from_ref(&d))
}

fn routing_err(d: Diagnostic) -> napi::Error {
    to_js_err(Step::Routing, std::slice::from_ref(&d))
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

/// YAML text: a string, or UTF-8 bytes (a `Buffer` or `Uint8Array`).
type Source = Either<String, Uint8Array>;

fn bytes(source: &Source) -> &[u8] {
    match source {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    }
}

/// Options of `read`, `check` and `toYaml`.
#[napi(object)]
pub struct ReadOptions {
    /// Reads documents without `kind:` as this kind (`blueprint`, `breeds`, ...).
    pub kind: Option<String>,
}

fn kind_of(options: Option<ReadOptions>) -> napi::Result<Option<Kind>> {
    options
        .and_then(|o| o.kind)
        .map(|k| core_canonical::parse_kind(&k).map_err(read_err1))
        .transpose()
}

/// Reads every document of a YAML stream to its canonical object; throws
/// the first error (by the spec's phases), with every error in `errors`.
#[napi(ts_return_type = "JsonObject[]")]
pub fn read(source: Source, options: Option<ReadOptions>) -> napi::Result<Value> {
    let documents = api::read_documents(bytes(&source), kind_of(options)?).map_err(read_err)?;
    serde_json::to_value(documents).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// Every diagnostic (errors, then warnings); empty when the text is valid.
/// Never throws for an invalid document.
#[napi(ts_return_type = "Diagnostic[]")]
pub fn check(source: Source, options: Option<ReadOptions>) -> napi::Result<Value> {
    let diagnostics = api::check(bytes(&source), kind_of(options)?);
    Ok(diagnostics.iter().map(Diagnostic::to_full_json).collect())
}

/// Exactly what `vamp canonical KIND FILE` prints: an object, or an array
/// for several documents.
#[napi(ts_return_type = "JsonObject | JsonObject[]")]
pub fn canonical(kind: String, source: Source) -> napi::Result<Value> {
    let kind = core_canonical::parse_kind(&kind).map_err(read_err1)?;
    core_canonical::canonical(kind, bytes(&source)).map_err(read_err)
}

/// Every document written back as DSL YAML (separated by `---`), in the
/// form that reads back to the same documents.
#[napi]
pub fn to_yaml(source: Source, options: Option<ReadOptions>) -> napi::Result<String> {
    api::to_yaml(bytes(&source), kind_of(options)?).map_err(read_err)
}

/// The deployments of the blueprints, resolved against the directory store
/// (a folder of YAML artifacts) at `store`: an object, or an array for
/// several blueprints.
#[napi(ts_return_type = "JsonObject | JsonObject[]")]
pub fn resolve(source: Source, store: String) -> napi::Result<Value> {
    vamp_deploy::api::resolve(bytes(&source), store.as_ref()).map_err(read_err)
}

/// A condition's syntax tree (`{op: 'and', args: [...]}`, ...), as `vamp
/// condition EXPR` prints it.
#[napi(ts_return_type = "JsonObject")]
pub fn condition(expression: String) -> napi::Result<Value> {
    let tree = vamp_dsl::condition::parse(&expression).map_err(read_err1)?;
    serde_json::to_value(tree).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// A request as the router reads it (`client_ip`, also written `clientIp`).
fn request_of(mut request: Value) -> napi::Result<OwnedRequest> {
    if let Some(map) = request.as_object_mut() {
        if let Some(ip) = map.remove("clientIp") {
            map.insert("client_ip".to_owned(), ip);
        }
    }
    OwnedRequest::from_json(&request).map_err(routing_err)
}

/// Whether the request matches the condition.
#[napi]
pub fn matches(
    expression: String,
    #[napi(ts_arg_type = "Request")] request: Value,
) -> napi::Result<bool> {
    let tree = vamp_dsl::condition::parse(&expression).map_err(read_err1)?;
    let owned = request_of(request)?;
    matching::matches(&tree, &owned.as_request()).map_err(routing_err)
}

/// The gateways of a YAML stream, with the conditions and rewrites they may
/// refer to.
fn read_gateways(source: &Source) -> napi::Result<Gateways> {
    let documents = api::read_documents(bytes(source), None).map_err(read_err)?;
    vamp_router::documents::gateways(&documents).map_err(read_err1)
}

fn targets_of(targets: Option<Value>) -> napi::Result<Option<Targets>> {
    targets
        .map(|t| targets_from_json(&t).map_err(routing_err))
        .transpose()
}

/// Options of `new Router`.
#[napi(object)]
pub struct RouterOptions {
    /// The gateway to compile when the text holds several.
    pub gateway: Option<String>,
    /// Route path → instances (`{name, host, port, weight}`).
    #[napi(ts_type = "Targets")]
    pub targets: Option<Value>,
    /// Seed of the random draws (default: random).
    pub seed: Option<f64>,
}

/// Options of `Router.decide`.
#[napi(object)]
pub struct DecideOptions {
    /// With a key (a user id...), the decision is a stable function of the
    /// key instead of a random draw.
    pub key: Option<String>,
}

/// Options of `Router.decideMany`.
#[napi(object)]
pub struct DecideManyOptions {
    /// One key per request (see `DecideOptions.key`).
    pub keys: Option<Vec<String>>,
}

/// Options of `Router.simulate`.
#[napi(object)]
pub struct SimulateOptions {
    /// How many decisions to sample (default 10000).
    pub samples: Option<f64>,
    /// Seed of the sampling (default 1).
    pub seed: Option<f64>,
}

/// A gateway compiled for routing decisions.
#[napi]
pub struct Router {
    engine: Engine,
    rng: SplitMix64,
}

#[napi]
impl Router {
    /// Compiles the gateway of `source` (which may also hold the conditions
    /// and rewrites its routes refer to).
    #[napi(constructor)]
    pub fn new(source: Source, options: Option<RouterOptions>) -> napi::Result<Self> {
        let RouterOptions {
            gateway,
            targets,
            seed,
        } = options.unwrap_or(RouterOptions {
            gateway: None,
            targets: None,
            seed: None,
        });
        let targets = targets_of(targets)?;
        let engine = read_gateways(&source)?
            .compile_named(gateway.as_deref(), "the `gateway` option", targets.as_ref())
            .map_err(routing_err)?;
        let seed = seed.map_or_else(
            || {
                use std::hash::{BuildHasher, RandomState};
                RandomState::new().hash_one(0u8)
            },
            |s| s as u64,
        );
        Ok(Router {
            engine,
            rng: SplitMix64::new(seed),
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

    /// Where one request goes: `{gateway, route, reason, instance,
    /// setCookies, rewrite}` (`route` is null when no route takes it).
    #[napi(ts_return_type = "Decision")]
    pub fn decide(
        &mut self,
        #[napi(ts_arg_type = "Request")] request: Value,
        options: Option<DecideOptions>,
    ) -> napi::Result<Value> {
        let owned = request_of(request)?;
        let key = options.and_then(|o| o.key);
        let d = decide(
            &self.engine,
            &owned.as_request(),
            key.as_deref().map(str::as_bytes),
            &mut self.rng,
        );
        Ok(camel_case_keys(decision_json(&self.engine, d.as_ref())))
    }

    /// The chosen route of each request (null where no route takes it).
    #[napi]
    pub fn decide_many(
        &mut self,
        #[napi(ts_arg_type = "Request[]")] requests: Vec<Value>,
        options: Option<DecideManyOptions>,
    ) -> napi::Result<Vec<Option<String>>> {
        let keys = options.and_then(|o| o.keys);
        check_batch_keys(requests.len(), keys.as_ref().map(Vec::len)).map_err(routing_err)?;
        requests
            .into_iter()
            .enumerate()
            .map(|(i, request)| {
                let owned = request_of(request)?;
                let key = keys.as_ref().map(|k| k[i].as_bytes());
                Ok(
                    decide(&self.engine, &owned.as_request(), key, &mut self.rng)
                        .map(|d| d.route_name.to_owned()),
                )
            })
            .collect()
    }

    /// Exact and sampled split of a traffic mix (requests and/or `{share,
    /// request}` entries, or `{requests: [...]}`) over routes and instances.
    #[napi(ts_return_type = "JsonObject")]
    pub fn simulate(
        &self,
        #[napi(ts_arg_type = "Traffic")] traffic: Value,
        options: Option<SimulateOptions>,
    ) -> napi::Result<Value> {
        let traffic = Traffic::from_json(&traffic).map_err(routing_err)?;
        let (samples, seed) = options.map_or((None, None), |o| (o.samples, o.seed));
        let samples = samples.map_or(10_000, |s| s as u64);
        let seed = seed.map_or(1, |s| s as u64);
        Ok(simulate(&self.engine, &traffic, samples, seed).to_json(&self.engine))
    }
}

/// Options of `haproxy`.
#[napi(object)]
pub struct HaproxyOptions {
    /// Route path → instances.
    #[napi(ts_type = "Targets")]
    pub targets: Option<Value>,
    /// The address the frontends bind (default `127.0.0.1`).
    pub bind_address: Option<String>,
    /// The port of the shared virtual-hosts frontend (default 80).
    pub virtual_hosts_port: Option<u32>,
    /// Health checks on the servers (default true).
    pub health_checks: Option<bool>,
}

/// A complete haproxy.cfg for every gateway of the YAML text.
#[napi]
pub fn haproxy(source: Source, options: Option<HaproxyOptions>) -> napi::Result<String> {
    let options = options.unwrap_or(HaproxyOptions {
        targets: None,
        bind_address: None,
        virtual_hosts_port: None,
        health_checks: None,
    });
    let targets = targets_of(options.targets)?;
    let g = read_gateways(&source)?;
    let defaults = ExportOptions::default();
    let virtual_hosts_port = match options.virtual_hosts_port {
        Some(p) => Some(u16::try_from(p).map_err(|_| {
            routing_err(Diagnostic::error(
                Code::InvalidGatewayPort,
                format!("{p} is not a port"),
            ))
        })?),
        None => defaults.virtual_hosts_port,
    };
    let export = ExportOptions {
        bind_address: options
            .bind_address
            .unwrap_or(defaults.bind_address.clone()),
        virtual_hosts_port,
        health_checks: options.health_checks.unwrap_or(defaults.health_checks),
        ..defaults
    };
    g.export_haproxy(targets.as_ref(), &export)
        .map_err(routing_err)
}

/// Options of `new SlaEvaluator`.
#[napi(object)]
pub struct SlaOptions {
    /// Seconds between evaluations (default 1).
    pub period_seconds: Option<f64>,
}

/// The SLA checks and escalations of every cluster of a blueprint. Feed it
/// samples in time order; it returns the events and scale actions they
/// cause, exactly as `vamp sla evaluate --format json` prints them (one
/// object per printed line).
#[napi]
pub struct SlaEvaluator {
    engine: vamp_sla::Engine,
}

impl SlaEvaluator {
    fn run(&mut self, feed: impl FnOnce(&mut vamp_sla::Engine, &mut Vec<Output>)) -> Value {
        let mut out = Vec::new();
        feed(&mut self.engine, &mut out);
        out.iter().map(Output::to_json).collect()
    }
}

#[napi]
impl SlaEvaluator {
    /// Builds the SLA checks of the blueprint in `blueprint` (read as `vamp
    /// sla evaluate --blueprint` reads it). Throws a `VampError` for a
    /// blueprint that does not read, or with code `no_blueprint` or
    /// `invalid_sla`.
    #[napi(constructor)]
    pub fn new(blueprint: Source, options: Option<SlaOptions>) -> napi::Result<Self> {
        let documents =
            api::read_documents(bytes(&blueprint), Some(Kind::Blueprint)).map_err(read_err)?;
        let period = options.and_then(|o| o.period_seconds);
        let options = EngineOptions {
            period_seconds: period.map_or(1, |p| p.max(1.0) as u64),
        };
        let engine =
            vamp_sla::Engine::from_documents(&documents, &Registry::with_builtins(), options)
                .map_err(|e| {
                    throw(
                        "ValidationError",
                        &[Diagnostic::error(e.code(), e.to_string()).to_full_json()],
                    )
                })?;
        Ok(SlaEvaluator { engine })
    }

    /// Log lines (HAProxy JSON records or plain samples): an array of
    /// lines, or one chunk of text. Blank lines are skipped, malformed ones
    /// counted in `stats()`.
    #[napi(ts_return_type = "SlaOutput[]")]
    pub fn feed_lines(&mut self, lines: Either<Vec<Source>, Source>) -> Value {
        self.run(|engine, out| match &lines {
            Either::A(many) => {
                for line in many {
                    engine.ingest_text(bytes(line), out);
                }
            }
            Either::B(text) => engine.ingest_text(bytes(text), out),
        })
    }

    /// Plain sample objects (`{timestamp, cluster, service?, response_time,
    /// status}`) or HAProxy record objects; anything else is counted as
    /// malformed.
    #[napi(ts_return_type = "SlaOutput[]")]
    pub fn feed_samples(
        &mut self,
        #[napi(ts_arg_type = "(Sample | unknown)[]")] samples: Vec<Value>,
    ) -> Value {
        self.run(|engine, out| {
            for v in &samples {
                engine.ingest_value(v, out);
            }
        })
    }

    /// Ends the stream: runs the evaluation due after the last sample.
    #[napi(ts_return_type = "SlaOutput[]")]
    pub fn finish(&mut self) -> Value {
        self.run(|engine, out| engine.finish(out))
    }

    /// Counters of what went in: `{lines, samples, malformed, notRoute,
    /// unknownCluster, unknownService, late}`.
    #[napi(ts_return_type = "SlaStats")]
    pub fn stats(&self) -> napi::Result<Value> {
        let v = serde_json::to_value(self.engine.stats())
            .map_err(|e| napi::Error::from_reason(e.to_string()))?;
        Ok(camel_case_keys(v))
    }

    /// Clusters whose SLA is not monitored, and why: `[{cluster, message}]`.
    #[napi(getter, ts_return_type = "{ cluster: string; message: string }[]")]
    pub fn notices(&self) -> napi::Result<Value> {
        serde_json::to_value(self.engine.notices())
            .map_err(|e| napi::Error::from_reason(e.to_string()))
    }
}

// Reading allocates many small nodes; mimalloc makes it markedly faster than
// the system allocator (the binding's choice, not the core's).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
