//! Node.js bindings for Vamp (`require("vamp")`).
//!
//! This crate only converts types and maps errors: every function calls one
//! function of the core crates (`vamp-dsl`, `vamp-router`). Values cross the
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
use vamp_dsl::{canonical as core_canonical, read_bytes, ReadOptions};
use std::sync::Mutex;

use vamp_model::{Code, Diagnostic, Document, Gateway, Kind, Map, Rewrite};
use vamp_router::engine::{targets_from_json, CompileOptions, Decision, Engine, SplitMix64, Targets};
use vamp_router::export::haproxy::{export, ExportOptions};
use vamp_router::simulate::{simulate, Traffic};
use vamp_router::{matching, request::OwnedRequest};

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

fn parse_kind(kind: Option<String>) -> napi::Result<Option<Kind>> {
    kind.map(|k| core_canonical::parse_kind(&k).map_err(one_err)).transpose()
}

fn outcome(text: &[u8], kind: Option<Kind>) -> vamp_dsl::Outcome {
    read_bytes(text, ReadOptions { kind, ..ReadOptions::default() })
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

/// A condition's syntax tree, as JSON.
#[napi]
pub fn condition_json(expression: String) -> napi::Result<String> {
    let tree = vamp_dsl::condition::parse(&expression).map_err(one_err)?;
    serde_json::to_string(&tree).map_err(|e| napi::Error::from_reason(e.to_string()))
}

fn request_from_json(request: &str) -> napi::Result<OwnedRequest> {
    let value: Value = serde_json::from_str(request).map_err(|e| {
        one_err(Diagnostic::error(Code::UnexpectedType, format!("a request is a JSON object: {e}")))
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
