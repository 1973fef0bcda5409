//! Python bindings for Vamp (`import vamp`).
//!
//! This crate only converts types and maps errors: every function calls one
//! function of the core crates (`vamp-dsl`, `vamp-router`, `vamp-sla`) and turns its
//! result into plain Python data (via `pythonize`, from the same serde
//! serialization that gives the canonical JSON) or its diagnostics into a
//! `vamp.VampError`. The Python package around it is `python/vamp`.
//!
//! Reading and SLA evaluation run without the GIL (`Python::detach`); only
//! the conversion to and from Python objects holds it.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::PyString;
use pyo3::types::{PyDict, PyList};
use pythonize::{depythonize, pythonize};
use serde_json::Value;
use std::sync::Mutex;
use vamp_dsl::{api, canonical as core_canonical};
use vamp_model::{Code, Diagnostic, Kind};
use vamp_router::documents::{check_batch_keys, decide, decision_json, Gateways};
use vamp_router::engine::{targets_from_json, Engine, SplitMix64, Targets};
use vamp_router::export::haproxy::ExportOptions;
use vamp_router::request::{Pairs, Request};
use vamp_router::simulate::{simulate, Traffic};
use vamp_router::{matching, request::OwnedRequest};
use vamp_sla::{EngineOptions, Output, Registry, SlaError};

create_exception!(
    vamp,
    VampError,
    PyException,
    "An error from Vamp, with a stable `code`, a `message`, the 1-based `line` and `column` of the offending node (or None), the key `path`, an optional `help`, and `errors`: every error found, this one first."
);
create_exception!(
    vamp,
    ParseError,
    VampError,
    "Text that does not parse: YAML syntax, resource limits, the condition grammar (`yaml_parsing`, `resource_limit`, `parser`, `invalid_selector`)."
);
create_exception!(
    vamp,
    ValidationError,
    VampError,
    "YAML that parses but is not a valid artifact (every other reading code, e.g. `unexpected_type`, `route_weight`)."
);
create_exception!(
    vamp,
    RoutingError,
    VampError,
    "A request or condition the router cannot evaluate (`unsupported_acl`, a malformed request)."
);

/// The broad area of a call, which picks the exception class unless the
/// code says the text did not even parse.
#[derive(Clone, Copy)]
enum Area {
    Read,
    Routing,
}

fn exception_type(py: Python<'_>, area: Area, code: Code) -> Bound<'_, pyo3::types::PyType> {
    match area {
        _ if code.is_parse_failure() => py.get_type::<ParseError>(),
        Area::Read => py.get_type::<ValidationError>(),
        Area::Routing => py.get_type::<RoutingError>(),
    }
}

/// Maps diagnostics (the first is the one reported) to a Python exception.
fn to_py_err(py: Python<'_>, area: Area, errors: &[Diagnostic]) -> PyErr {
    let Some(first) = errors.first() else {
        return VampError::new_err("unknown error");
    };
    let all: Vec<Value> = errors.iter().map(Diagnostic::to_full_json).collect();
    raise(exception_type(py, area, first.code), &all)
}

/// An exception of class `ty` from diagnostics in their dict form (see
/// [`Diagnostic::to_full_json`]), the first being the one reported.
fn raise(ty: Bound<'_, pyo3::types::PyType>, all: &[Value]) -> PyErr {
    let py = ty.py();
    let Some(first) = all.first() else {
        return VampError::new_err("unknown error");
    };
    let build = || -> PyResult<PyErr> {
        let code = first["code"].as_str().unwrap_or_default();
        let message = first["message"].as_str().unwrap_or_default();
        let line = first["line"].as_u64();
        let column = first["column"].as_u64();
        let text = match (line, column) {
            (Some(l), Some(c)) => format!("{code}: {message} (line {l}, column {c})"),
            _ => format!("{code}: {message}"),
        };
        let exc = ty.call1((text,))?;
        exc.setattr("code", code)?;
        exc.setattr("message", message)?;
        exc.setattr("line", line)?;
        exc.setattr("column", column)?;
        exc.setattr("path", first["path"].as_str().unwrap_or_default())?;
        exc.setattr("help", first["help"].as_str())?;
        exc.setattr("errors", pythonize(py, all)?)?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// An SLA setup error (`invalid_sla`, `no_blueprint`) as a
/// `ValidationError`: it has a code but no source position.
fn sla_err(py: Python<'_>, e: &SlaError) -> PyErr {
    let d = Diagnostic::error(e.code(), e.to_string()).to_full_json();
    raise(py.get_type::<ValidationError>(), &[d])
}

fn one_err(py: Python<'_>, area: Area, d: Diagnostic) -> PyErr {
    to_py_err(py, area, std::slice::from_ref(&d))
}

/// Source text: `str` or UTF-8 `bytes`, borrowed without copying.
#[derive(FromPyObject)]
enum Source {
    Str(PyBackedStr),
    Bytes(PyBackedBytes),
}

impl Source {
    fn bytes(&self) -> &[u8] {
        match self {
            Source::Str(s) => s.as_bytes(),
            Source::Bytes(b) => b,
        }
    }
}

fn parse_kind(py: Python<'_>, kind: Option<&str>) -> PyResult<Option<Kind>> {
    kind.map(|k| core_canonical::parse_kind(k).map_err(|d| one_err(py, Area::Read, d)))
        .transpose()
}

/// Reads every document of `text` to its canonical form (a list of dicts).
/// Raises the first error (by the spec's phases) as a `VampError`.
#[pyfunction]
#[pyo3(signature = (text, kind = None))]
fn read<'py>(py: Python<'py>, text: Source, kind: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
    let kind = parse_kind(py, kind)?;
    let documents = py
        .detach(|| api::read_documents(text.bytes(), kind))
        .map_err(|errors| to_py_err(py, Area::Read, &errors))?;
    Ok(pythonize(py, &documents)?)
}

/// Checks every document of `text` and returns every diagnostic (errors and
/// warnings) as dicts; never raises for an invalid document.
#[pyfunction]
#[pyo3(signature = (text, kind = None))]
fn check<'py>(py: Python<'py>, text: Source, kind: Option<&str>) -> PyResult<Bound<'py, PyList>> {
    let kind = parse_kind(py, kind)?;
    let diagnostics = py.detach(|| api::check(text.bytes(), kind));
    let all: Vec<Value> = diagnostics.iter().map(Diagnostic::to_full_json).collect();
    Ok(pythonize(py, &all)?.cast_into::<PyList>()?)
}

/// Exactly what `vamp canonical KIND FILE` prints: one document's canonical
/// dict, or a list of them for several documents.
#[pyfunction]
fn canonical<'py>(py: Python<'py>, kind: &str, text: Source) -> PyResult<Bound<'py, PyAny>> {
    let kind = core_canonical::parse_kind(kind).map_err(|d| one_err(py, Area::Read, d))?;
    let result = py.detach(|| core_canonical::canonical(kind, text.bytes()));
    match result {
        Ok(json) => Ok(pythonize(py, &json)?),
        Err(errors) => Err(to_py_err(py, Area::Read, &errors)),
    }
}

/// Writes every document of `text` back as DSL YAML (documents separated
/// by `---`), in the form that reads back to the same canonical documents.
#[pyfunction]
#[pyo3(signature = (text, kind = None))]
fn to_yaml(py: Python<'_>, text: Source, kind: Option<&str>) -> PyResult<String> {
    let kind = parse_kind(py, kind)?;
    py.detach(|| api::to_yaml(text.bytes(), kind))
        .map_err(|errors| to_py_err(py, Area::Read, &errors))
}

/// Resolves the blueprints of `text` against the directory store at
/// `store` (a folder of YAML artifacts) into deployments: one deployment's
/// canonical dict, or a list of them for several blueprints.
#[pyfunction]
fn resolve<'py>(
    py: Python<'py>,
    text: Source,
    store: std::path::PathBuf,
) -> PyResult<Bound<'py, PyAny>> {
    let deployments = py
        .detach(|| vamp_deploy::api::resolve(text.bytes(), &store))
        .map_err(|errors| to_py_err(py, Area::Read, &errors))?;
    Ok(pythonize(py, &deployments)?)
}

/// The syntax tree of a condition expression, as `vamp condition` prints it.
#[pyfunction]
fn condition<'py>(py: Python<'py>, expression: &str) -> PyResult<Bound<'py, PyDict>> {
    let tree = vamp_dsl::condition::parse(expression).map_err(|d| one_err(py, Area::Read, d))?;
    Ok(pythonize(py, &tree)?.cast_into::<PyDict>()?)
}

/// Whether `request` (a dict: `method`, `host`, `path`, `client_ip`,
/// `headers`, `cookies`, all optional) matches the condition `expression`.
#[pyfunction]
fn matches(py: Python<'_>, expression: &str, request: &Bound<'_, PyAny>) -> PyResult<bool> {
    let tree = vamp_dsl::condition::parse(expression).map_err(|d| one_err(py, Area::Read, d))?;
    let owned = request_from_py(py, request)?;
    matching::matches(&tree, &owned.as_request()).map_err(|d| one_err(py, Area::Routing, d))
}

/// Errors of a step and the area they belong to.
type Failed = (Area, Vec<Diagnostic>);

/// The gateways of a YAML stream, with the conditions and rewrites they may
/// refer to (`vamp_router::documents::gateways`).
fn read_gateways(bytes: &[u8]) -> Result<Gateways, Failed> {
    let documents = api::read_documents(bytes, None).map_err(|errors| (Area::Read, errors))?;
    vamp_router::documents::gateways(&documents).map_err(|d| (Area::Read, vec![d]))
}

fn targets_from_py(
    py: Python<'_>,
    targets: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Targets>> {
    let Some(targets) = targets else {
        return Ok(None);
    };
    let value: Value = depythonize(targets).map_err(|e| {
        one_err(
            py,
            Area::Routing,
            Diagnostic::error(Code::UnexpectedType, format!("targets: {e}")),
        )
    })?;
    targets_from_json(&value)
        .map(Some)
        .map_err(|d| one_err(py, Area::Routing, d))
}

fn request_from_py(py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<OwnedRequest> {
    let value: Value = depythonize(request).map_err(|e| {
        one_err(
            py,
            Area::Routing,
            Diagnostic::error(
                Code::UnexpectedType,
                format!("a request is a dict of text: {e}"),
            ),
        )
    })?;
    OwnedRequest::from_json(&value).map_err(|d| one_err(py, Area::Routing, d))
}

/// A gateway compiled for routing decisions (`vamp_router::engine::Engine`).
#[pyclass(module = "vamp", frozen)]
struct Router {
    engine: Engine,
    rng: Mutex<SplitMix64>,
    /// The route names as Python strings, shared by every decision.
    route_names: Vec<Py<PyString>>,
}

/// Borrows a request dict's text without copying, when it has exactly the
/// shape of the request JSON (known keys, text values, dicts of text).
/// Anything else returns `None` and goes through `OwnedRequest::from_json`,
/// which reports the problem.
struct Borrowed<'py> {
    method: Option<Bound<'py, PyString>>,
    host: Option<Bound<'py, PyString>>,
    path: Option<Bound<'py, PyString>>,
    client_ip: Option<Bound<'py, PyString>>,
    headers: Vec<(Bound<'py, PyString>, Bound<'py, PyString>)>,
    cookies: Vec<(Bound<'py, PyString>, Bound<'py, PyString>)>,
}

fn borrow_request<'py>(item: &Bound<'py, PyAny>) -> Option<Borrowed<'py>> {
    let dict = item.cast::<PyDict>().ok()?;
    let mut b = Borrowed {
        method: None,
        host: None,
        path: None,
        client_ip: None,
        headers: vec![],
        cookies: vec![],
    };
    let text = |v: Bound<'py, PyAny>| -> Option<Option<Bound<'py, PyString>>> {
        if v.is_none() {
            Some(None)
        } else {
            v.cast_into::<PyString>().ok().map(Some)
        }
    };
    let pairs = |v: Bound<'py, PyAny>,
                 out: &mut Vec<(Bound<'py, PyString>, Bound<'py, PyString>)>|
     -> Option<()> {
        if v.is_none() {
            return Some(());
        }
        for (k, x) in v.cast::<PyDict>().ok()?.iter() {
            out.push((
                k.cast_into::<PyString>().ok()?,
                x.cast_into::<PyString>().ok()?,
            ));
        }
        Some(())
    };
    for (k, v) in dict.iter() {
        let k = k.cast_into::<PyString>().ok()?;
        match k.to_str().ok()? {
            "method" => b.method = text(v)?,
            "host" => b.host = text(v)?,
            "path" => b.path = text(v)?,
            "client_ip" => b.client_ip = text(v)?,
            "headers" => pairs(v, &mut b.headers)?,
            "cookies" => pairs(v, &mut b.cookies)?,
            _ => return None,
        }
    }
    Some(b)
}

fn opt_str<'a>(o: &'a Option<Bound<'_, PyString>>) -> PyResult<Option<&'a str>> {
    o.as_ref().map(|x| x.to_str()).transpose()
}

#[pymethods]
impl Router {
    /// Compiles a gateway read from YAML `text` (which may also hold the
    /// condition and rewrite documents its routes refer to). `gateway`
    /// names the gateway when the text holds several; `targets` maps route
    /// paths to instances (`{"ROUTE": [{"name", "host", "port", "weight"}]}`);
    /// `seed` seeds the random draws of `decide` (default: random).
    #[new]
    #[pyo3(signature = (text, *, gateway = None, targets = None, seed = None))]
    fn new(
        py: Python<'_>,
        text: Source,
        gateway: Option<&str>,
        targets: Option<&Bound<'_, PyAny>>,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let targets = targets_from_py(py, targets)?;
        let engine = py
            .detach(|| {
                let g = read_gateways(text.bytes())?;
                g.compile_named(gateway, "`gateway=`", targets.as_ref())
                    .map_err(|d| (Area::Routing, vec![d]))
            })
            .map_err(|(area, errors)| to_py_err(py, area, &errors))?;
        let seed = seed.unwrap_or_else(|| {
            use std::hash::{BuildHasher, RandomState};
            RandomState::new().hash_one(0u8)
        });
        let route_names = engine
            .routes()
            .iter()
            .map(|r| PyString::new(py, r.name()).unbind())
            .collect();
        Ok(Router {
            engine,
            rng: Mutex::new(SplitMix64::new(seed)),
            route_names,
        })
    }

    /// The gateway's name.
    #[getter]
    fn name(&self) -> &str {
        self.engine.name()
    }

    /// The route paths, in written order.
    #[getter]
    fn routes(&self, py: Python<'_>) -> Vec<Py<PyString>> {
        self.route_names.iter().map(|n| n.clone_ref(py)).collect()
    }

    /// Decides where one request goes: a dict with `gateway`, `route`,
    /// `reason` (`sticky`, `condition` or `weight`), `instance`,
    /// `set_cookies` and `rewrite` (`route` is None when no route takes it).
    /// With `key` (a user id...), the decision is a stable function of the
    /// key instead of a random draw.
    #[pyo3(signature = (request, key = None))]
    fn decide<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        key: Option<Source>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let owned = request_from_py(py, request)?;
        let req = owned.as_request();
        let mut rng = self
            .rng
            .lock()
            .map_err(|_| VampError::new_err("router state poisoned"))?;
        let d = decide(
            &self.engine,
            &req,
            key.as_ref().map(Source::bytes),
            &mut rng,
        );
        Ok(pythonize(py, &decision_json(&self.engine, d.as_ref()))?)
    }

    /// Decides many requests at once and returns the chosen route of each
    /// (None where no route takes it): the fast path for bulk decisions.
    /// `keys`, when given, has one key per request (see `decide`).
    #[pyo3(signature = (requests, keys = None))]
    fn decide_many<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'py, PyAny>,
        keys: Option<Vec<Source>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let n = requests.len()?;
        check_batch_keys(n, keys.as_ref().map(Vec::len))
            .map_err(|d| one_err(py, Area::Routing, d))?;
        let mut rng = self
            .rng
            .lock()
            .map_err(|_| VampError::new_err("router state poisoned"))?;
        let mut out: Vec<Bound<'py, PyAny>> = Vec::with_capacity(n);
        for (i, item) in requests.try_iter()?.enumerate() {
            let item = item?;
            let route = if let Some(b) = borrow_request(&item) {
                let mut headers: Vec<(&str, &str)> = Vec::with_capacity(b.headers.len());
                let mut cookies: Vec<(&str, &str)> = Vec::with_capacity(b.cookies.len());
                for (k, v) in &b.headers {
                    headers.push((k.to_str()?, v.to_str()?));
                }
                for (k, v) in &b.cookies {
                    cookies.push((k.to_str()?, v.to_str()?));
                }
                let req = Request {
                    method: opt_str(&b.method)?,
                    host: opt_str(&b.host)?,
                    path: opt_str(&b.path)?,
                    client_ip: opt_str(&b.client_ip)?,
                    headers: Pairs::Borrowed(&headers),
                    cookies: Pairs::Borrowed(&cookies),
                };
                let key = keys.as_ref().map(|k| k[i].bytes());
                decide(&self.engine, &req, key, &mut rng).map(|d| d.route)
            } else {
                let owned = request_from_py(py, &item)?;
                let req = owned.as_request();
                let key = keys.as_ref().map(|k| k[i].bytes());
                decide(&self.engine, &req, key, &mut rng).map(|d| d.route)
            };
            out.push(match route {
                Some(r) => self.route_names[r].bind(py).clone().into_any(),
                None => py.None().into_bound(py),
            });
        }
        PyList::new(py, out)
    }

    /// Splits a traffic mix over the routes and instances, exactly and by
    /// `samples` seeded decisions. `traffic` is a list of requests and/or
    /// `{"share": N, "request": {...}}` entries (or `{"requests": [...]}`).
    #[pyo3(signature = (traffic, samples = 10_000, seed = 1))]
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        traffic: &Bound<'py, PyAny>,
        samples: u64,
        seed: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value: Value = depythonize(traffic).map_err(|e| {
            one_err(
                py,
                Area::Routing,
                Diagnostic::error(Code::UnexpectedType, format!("traffic: {e}")),
            )
        })?;
        let traffic = Traffic::from_json(&value).map_err(|d| one_err(py, Area::Routing, d))?;
        let report =
            py.detach(|| simulate(&self.engine, &traffic, samples, seed).to_json(&self.engine));
        Ok(pythonize(py, &report)?)
    }

    fn __repr__(&self) -> String {
        format!(
            "<vamp.Router gateway={:?} routes={}>",
            self.engine.name(),
            self.engine.routes().len()
        )
    }
}

/// Renders every gateway of `text` (with the conditions and rewrites it
/// holds) to one complete `haproxy.cfg`.
#[pyfunction]
#[pyo3(signature = (text, *, targets = None, bind_address = None, virtual_hosts_port = Some(80), health_checks = true))]
fn haproxy(
    py: Python<'_>,
    text: Source,
    targets: Option<&Bound<'_, PyAny>>,
    bind_address: Option<String>,
    virtual_hosts_port: Option<u16>,
    health_checks: bool,
) -> PyResult<String> {
    let targets = targets_from_py(py, targets)?;
    let defaults = ExportOptions::default();
    let options = ExportOptions {
        bind_address: bind_address.unwrap_or(defaults.bind_address.clone()),
        virtual_hosts_port,
        health_checks,
        ..defaults
    };
    py.detach(|| {
        let g = read_gateways(text.bytes())?;
        g.export_haproxy(targets.as_ref(), &options)
            .map_err(|d| (Area::Routing, vec![d]))
    })
    .map_err(|(area, errors)| to_py_err(py, area, &errors))
}

/// Log lines for `SlaEvaluator.feed_lines`: one chunk of text, or a list
/// of lines.
#[derive(FromPyObject)]
enum Lines {
    Text(Source),
    Many(Vec<Source>),
}

/// The SLA engine of a blueprint (`vamp_sla::Engine`): feed it samples or
/// log lines, get back the events and scale actions, as
/// `vamp sla evaluate --format json` prints them.
#[pyclass(module = "vamp", frozen)]
struct SlaEvaluator {
    engine: Mutex<vamp_sla::Engine>,
}

impl SlaEvaluator {
    /// Runs `feed` on the engine without the GIL and converts its outputs.
    fn run<'py, F>(&self, py: Python<'py>, feed: F) -> PyResult<Bound<'py, PyList>>
    where
        F: FnOnce(&mut vamp_sla::Engine, &mut Vec<Output>) + Send,
    {
        let outputs = py.detach(|| {
            let mut engine = self.engine.lock().ok()?;
            let mut out = Vec::new();
            feed(&mut engine, &mut out);
            Some(out.iter().map(Output::to_json).collect::<Vec<Value>>())
        });
        let outputs = outputs.ok_or_else(|| VampError::new_err("SLA evaluator state poisoned"))?;
        Ok(pythonize(py, &outputs)?.cast_into::<PyList>()?)
    }
}

#[pymethods]
impl SlaEvaluator {
    /// Builds the SLA checks of every cluster of the blueprint in
    /// `blueprint_text` (read as `vamp sla evaluate --blueprint` reads it);
    /// `period_seconds` is the time between evaluations.
    #[new]
    #[pyo3(signature = (blueprint_text, period_seconds = 1))]
    fn new(py: Python<'_>, blueprint_text: Source, period_seconds: u64) -> PyResult<Self> {
        let built = py.detach(|| {
            let documents =
                api::read_documents(blueprint_text.bytes(), Some(Kind::Blueprint)).map_err(Err)?;
            let options = EngineOptions {
                period_seconds: period_seconds.max(1),
            };
            vamp_sla::Engine::from_documents(&documents, &Registry::with_builtins(), options)
                .map_err(Ok)
        });
        match built {
            Ok(engine) => Ok(SlaEvaluator {
                engine: Mutex::new(engine),
            }),
            Err(Ok(e)) => Err(sla_err(py, &e)),
            Err(Err(errors)) => Err(to_py_err(py, Area::Read, &errors)),
        }
    }

    /// Feeds log lines (HAProxy JSON records or plain samples): a list of
    /// lines (`str` or `bytes`, line breaks optional) or one chunk of text.
    /// Blank lines are skipped; malformed ones are counted in `stats()`.
    /// Returns the events and actions they caused.
    fn feed_lines<'py>(&self, py: Python<'py>, lines: Lines) -> PyResult<Bound<'py, PyList>> {
        self.run(py, |engine, out| match &lines {
            Lines::Text(text) => engine.ingest_text(text.bytes(), out),
            Lines::Many(lines) => {
                for line in lines {
                    engine.ingest_text(line.bytes(), out);
                }
            }
        })
    }

    /// Feeds plain sample dicts (`{"timestamp": unix seconds or RFC 3339,
    /// "cluster", "service" (optional), "response_time": ms, "status"}`, or
    /// HAProxy record dicts). Anything that is not such a dict is counted as
    /// malformed. Returns the events and actions they caused.
    fn feed_samples<'py>(
        &self,
        py: Python<'py>,
        samples: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let values = samples
            .try_iter()?
            .map(|item| Ok(depythonize::<Value>(&item?).unwrap_or(Value::Null)))
            .collect::<PyResult<Vec<Value>>>()?;
        self.run(py, |engine, out| {
            for v in &values {
                engine.ingest_value(v, out);
            }
        })
    }

    /// Ends the stream: runs the evaluation due after the last sample and
    /// returns what it caused.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.run(py, |engine, out| engine.finish(out))
    }

    /// Counters of what went in: `lines`, `samples`, `malformed`,
    /// `not_route`, `unknown_cluster`, `unknown_service`, `late`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self
            .engine
            .lock()
            .map_err(|_| VampError::new_err("SLA evaluator state poisoned"))?
            .stats();
        Ok(pythonize(py, &stats)?.cast_into::<PyDict>()?)
    }

    /// What the blueprint asks for that is not monitored (an SLA type that
    /// is not supported, a stored SLA reference): `[{"cluster", "message"}]`.
    #[getter]
    fn notices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let engine = self
            .engine
            .lock()
            .map_err(|_| VampError::new_err("SLA evaluator state poisoned"))?;
        Ok(pythonize(py, engine.notices())?.cast_into::<PyList>()?)
    }

    fn __repr__(&self) -> String {
        let lines = self.engine.lock().map_or(0, |e| e.stats().lines);
        format!("<vamp.SlaEvaluator lines={lines}>")
    }
}

/// The native module `vamp._vamp`; `vamp/__init__.py` re-exports it.
#[pymodule]
fn _vamp(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("VampError", py.get_type::<VampError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("RoutingError", py.get_type::<RoutingError>())?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(canonical, m)?)?;
    m.add_function(wrap_pyfunction!(condition, m)?)?;
    m.add_function(wrap_pyfunction!(matches, m)?)?;
    m.add_function(wrap_pyfunction!(haproxy, m)?)?;
    m.add_function(wrap_pyfunction!(to_yaml, m)?)?;
    m.add_function(wrap_pyfunction!(resolve, m)?)?;
    m.add_class::<Router>()?;
    m.add_class::<SlaEvaluator>()?;
    Ok(())
}

// Reading allocates many small nodes; mimalloc makes it markedly faster than
// the system allocator (the binding's choice, not the core's).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
