//! The canonical output of a document stream: what `vamp canonical` prints
//! and what the Python and Node bindings return, built in one place.
//!
//! A stream with one document gives that document's canonical JSON object; a
//! stream with several gives a list of them. A stream with errors gives every
//! error, the one to report first (by the spec's phases) at the front.
//!
//! ```
//! use vamp_dsl::canonical::{canonical, parse_kind};
//! let kind = parse_kind("scales").unwrap();
//! let json = canonical(kind, b"name: small\ncpu: 0.5\nmemory: 512MB\n").unwrap();
//! assert_eq!(json["kind"], "scale");
//! assert_eq!(json["memory"], 512.0);
//!
//! let errors = canonical(kind, b"name: small\ncpu: 0.5\nmemory: 512\n").unwrap_err();
//! assert_eq!(errors[0].code.as_str(), "unexpected_type");
//! ```

use serde_json::Value;
use vamp_model::{Code, Diagnostic, Document, Kind};

/// Parses a kind name as the command line accepts it (singular or plural,
/// any case), or explains which kinds exist.
pub fn parse_kind(name: &str) -> Result<Kind, Diagnostic> {
    Kind::parse(name).ok_or_else(|| {
        Diagnostic::error(
            Code::InconsistentArtifactKind,
            format!("`{name}` is not a kind: use breed, blueprint, gateway, condition, rewrite, scale, sla, escalation, workflow or rollout"),
        )
    })
}

/// Reads `bytes` as documents of `kind` and returns their canonical JSON: an
/// object for a single document, a list for several. On failure, returns
/// every error (never an empty list), the one to report first at the front.
pub fn canonical(kind: Kind, bytes: &[u8]) -> Result<Value, Vec<Diagnostic>> {
    crate::api::read_documents(bytes, Some(kind)).map(|documents| documents_json(&documents))
}

/// The canonical JSON of read documents: an object for one, a list otherwise.
pub fn documents_json(documents: &[Document]) -> Value {
    crate::api::one_or_many(
        documents
            .iter()
            .map(|d| serde_json::to_value(d).unwrap_or(Value::Null))
            .collect(),
    )
}
