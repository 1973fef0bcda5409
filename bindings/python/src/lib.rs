//! Python bindings for Vamp (`import vamp`).
//!
//! This crate only converts types and maps errors: every function calls one
//! function of the core crates (`vamp-dsl`, `vamp-router`) and turns its
//! result into plain Python data (via `pythonize`, from the same serde
//! serialization that gives the canonical JSON) or its diagnostics into a
//! `vamp.VampError`. The Python package around it is `python/vamp`.
//!
//! Reading runs without the GIL (`Python::detach`); only the conversion to
//! Python objects holds it.
// pyo3's macros expand to `unsafe` FFI glue.
#![allow(unsafe_code)]

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyDict, PyList};
use pythonize::{depythonize, pythonize};
use serde_json::Value;
use vamp_dsl::{canonical as core_canonical, read_bytes, ReadOptions};
use vamp_model::{Code, Diagnostic, Kind};
use vamp_router::{matching, request::OwnedRequest};

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
    match (code, area) {
        (Code::YamlParsing | Code::ResourceLimit | Code::Parser | Code::InvalidSelector, _) => {
            py.get_type::<ParseError>()
        }
        (_, Area::Read) => py.get_type::<ValidationError>(),
        (_, Area::Routing) => py.get_type::<RoutingError>(),
    }
}

/// A diagnostic as a plain dict: `code`, `severity`, `message`, `line`,
/// `column`, `path`, `help`.
fn diagnostic_json(d: &Diagnostic) -> Value {
    let mut v = d.to_json();
    v["severity"] = serde_json::json!(d.severity);
    v["path"] = Value::String(d.path.clone());
    v["help"] = d.help.clone().map_or(Value::Null, Value::String);
    v
}

/// Maps diagnostics (the first is the one reported) to a Python exception.
fn to_py_err(py: Python<'_>, area: Area, errors: &[Diagnostic]) -> PyErr {
    let Some(first) = errors.first() else {
        return VampError::new_err("unknown error");
    };
    let build = || -> PyResult<PyErr> {
        let line = first.span.map(|s| s.line);
        let column = first.span.map(|s| s.column);
        let text = match (line, column) {
            (Some(l), Some(c)) => format!("{}: {} (line {l}, column {c})", first.code, first.message),
            _ => format!("{}: {}", first.code, first.message),
        };
        let exc = exception_type(py, area, first.code).call1((text,))?;
        exc.setattr("code", first.code.as_str())?;
        exc.setattr("message", first.message.as_str())?;
        exc.setattr("line", line)?;
        exc.setattr("column", column)?;
        exc.setattr("path", first.path.as_str())?;
        exc.setattr("help", first.help.as_deref())?;
        let all: Vec<Value> = errors.iter().map(diagnostic_json).collect();
        exc.setattr("errors", pythonize(py, &all)?)?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
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
    let out = py.detach(|| read_bytes(text.bytes(), ReadOptions { kind, ..ReadOptions::default() }));
    let errors: Vec<Diagnostic> = out.errors().cloned().collect();
    if !errors.is_empty() {
        return Err(to_py_err(py, Area::Read, &errors));
    }
    Ok(pythonize(py, &out.documents)?)
}

/// Checks every document of `text` and returns every diagnostic (errors and
/// warnings) as dicts; never raises for an invalid document.
#[pyfunction]
#[pyo3(signature = (text, kind = None))]
fn check<'py>(py: Python<'py>, text: Source, kind: Option<&str>) -> PyResult<Bound<'py, PyList>> {
    let kind = parse_kind(py, kind)?;
    let out = py.detach(|| read_bytes(text.bytes(), ReadOptions { kind, ..ReadOptions::default() }));
    let all: Vec<Value> = out.diagnostics.iter().map(diagnostic_json).collect();
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
    let value: Value = depythonize(request).map_err(|e| {
        one_err(
            py,
            Area::Routing,
            Diagnostic::error(Code::UnexpectedType, format!("a request is a dict of text: {e}")),
        )
    })?;
    let owned = OwnedRequest::from_json(&value).map_err(|d| one_err(py, Area::Routing, d))?;
    matching::matches(&tree, &owned.as_request()).map_err(|d| one_err(py, Area::Routing, d))
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
    Ok(())
}
