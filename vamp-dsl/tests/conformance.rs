//! Runs the shared conformance corpus (documents, not conditions) through the
//! library, so a failing case shows up in `cargo test` with its reason.

use std::path::PathBuf;

use serde_json::Value;
use vamp_dsl::{read_bytes, ReadOptions};
use vamp_model::Kind;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance")
}

fn same(expected: &Value, got: &Value) -> bool {
    match (expected, got) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            (a - b).abs() <= 1e-9_f64.max(1e-6 * a.abs().max(b.abs()))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        _ => expected == got,
    }
}

fn check_case(case: &Value) -> Result<(), String> {
    let kind = Kind::parse(case["kind"].as_str().unwrap_or_default()).ok_or("bad kind")?;
    let file = corpus()
        .join("cases")
        .join(case["file"].as_str().unwrap_or_default());
    let bytes = std::fs::read(&file).map_err(|e| e.to_string())?;
    let out = read_bytes(
        &bytes,
        ReadOptions {
            kind: Some(kind),
            ..ReadOptions::default()
        },
    );
    if case["expect"] == "error" {
        let want = case["code"].as_str().unwrap_or_default();
        return match out.first_error() {
            None => Err(format!("expected {want}, got success")),
            Some(d) if d.code.as_str() != want => Err(format!(
                "expected {want}, got {}: {} at {:?}",
                d.code, d.message, d.span
            )),
            Some(d) if d.span.is_none_or(|s| s.line < 1) => Err("error without line".into()),
            Some(_) => Ok(()),
        };
    }
    if let Some(d) = out.first_error() {
        return Err(format!(
            "expected success, got {}: {} ({})",
            d.code, d.message, d.path
        ));
    }
    let doc = serde_json::to_value(&out.documents[0]).map_err(|e| e.to_string())?;
    for fact in case["facts"].as_array().into_iter().flatten() {
        let pointer = fact[0].as_str().unwrap_or_default();
        let got = doc
            .pointer(pointer)
            .ok_or_else(|| format!("{pointer}: missing in {doc}"))?;
        if !same(&fact[1], got) {
            return Err(format!("{pointer}: expected {}, got {got}", fact[1]));
        }
    }
    Ok(())
}

#[test]
fn conformance_documents() {
    let mut failures = Vec::new();
    let mut total = 0;
    for suite in ["blueprint", "breed", "gateway", "misc", "sla", "units"] {
        let path = corpus().join("expectations").join(format!("{suite}.json"));
        let text = std::fs::read_to_string(&path).expect("corpus present");
        let cases: Vec<Value> = serde_json::from_str(&text).expect("corpus is JSON");
        for case in &cases {
            total += 1;
            if let Err(reason) = check_case(case) {
                failures.push(format!("{} ({}): {reason}", case["id"], case["about"]));
            }
        }
    }
    assert!(total > 150, "the corpus should hold the document cases");
    assert!(
        failures.is_empty(),
        "{} of {total} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
