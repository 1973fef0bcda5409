//! The calls every front end makes the same way (the `vamp` command, the
//! Python and Node bindings): read a stream and stop at its errors, list its
//! diagnostics, write it back as YAML (resolving is `vamp_deploy::api`). Each returns
//! data or every error, the one to report first (by the spec's phases) at
//! the front; a front end only converts the result.
//!
//! ```
//! use vamp_dsl::api;
//! use vamp_model::Kind;
//!
//! let docs = api::read_documents(b"name: small\ncpu: 0.5\nmemory: 512MB\n", Some(Kind::Scale)).unwrap();
//! assert_eq!(docs[0].name(), "small");
//!
//! let errors = api::read_documents(b"name: small\ncpu: 0.5\nmemory: 512\n", Some(Kind::Scale)).unwrap_err();
//! assert_eq!(errors[0].code.as_str(), "unexpected_type");
//! assert_eq!(api::check(b"name: small\ncpu: 0.5\nmemory: 512\n", Some(Kind::Scale)).len(), 1);
//! ```

use serde_json::Value;
use vamp_model::{Diagnostic, Document, Kind};

use crate::{read_bytes, Outcome, ReadOptions};

fn outcome(bytes: &[u8], kind: Option<Kind>) -> Outcome {
    read_bytes(
        bytes,
        ReadOptions {
            kind,
            ..ReadOptions::default()
        },
    )
}

/// The documents of `bytes` (every one read as `kind` when given), or every
/// error (never an empty list).
pub fn read_documents(bytes: &[u8], kind: Option<Kind>) -> Result<Vec<Document>, Vec<Diagnostic>> {
    let out = outcome(bytes, kind);
    let errors: Vec<Diagnostic> = out.errors().cloned().collect();
    if errors.is_empty() {
        Ok(out.documents)
    } else {
        Err(errors)
    }
}

/// Every diagnostic of `bytes`, errors (in reporting order) then warnings.
pub fn check(bytes: &[u8], kind: Option<Kind>) -> Vec<Diagnostic> {
    outcome(bytes, kind).diagnostics
}

/// Every document of `bytes` written back as DSL YAML, separated by `---`,
/// in the form that reads back to the same canonical documents.
///
/// ```
/// let yaml = vamp_dsl::api::to_yaml(b"name: s\ncpu: 1\nmemory: 1GB\n---\nname: t\ncpu: 2\nmemory: 1GB\n",
///                                   Some(vamp_model::Kind::Scale)).unwrap();
/// assert_eq!(yaml.matches("---\n").count(), 1);
/// ```
pub fn to_yaml(bytes: &[u8], kind: Option<Kind>) -> Result<String, Vec<Diagnostic>> {
    let documents = read_documents(bytes, kind)?;
    let docs: Vec<String> = documents.iter().map(crate::write::to_yaml).collect();
    Ok(docs.join("---\n"))
}

/// The JSON of a stream's results: the only value for one, a list otherwise
/// (what `vamp canonical` prints for one or several documents).
///
/// ```
/// use serde_json::json;
/// use vamp_dsl::api::one_or_many;
/// assert_eq!(one_or_many(vec![json!(1)]), json!(1));
/// assert_eq!(one_or_many(vec![json!(1), json!(2)]), json!([1, 2]));
/// assert_eq!(one_or_many(vec![]), json!([]));
/// ```
pub fn one_or_many(values: Vec<Value>) -> Value {
    match <[Value; 1]>::try_from(values) {
        Ok([one]) => one,
        Err(many) => Value::Array(many),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_documents_returns_every_error_first_one_first() {
        let bad = "name: s\ncpu: x\nmemory: 1\n";
        let errors = read_documents(bad.as_bytes(), Some(Kind::Scale)).unwrap_err();
        let out = outcome(bad.as_bytes(), Some(Kind::Scale));
        assert!(errors.len() >= 2, "{errors:?}");
        assert_eq!(Some(&errors[0]), out.first_error());
    }
}
