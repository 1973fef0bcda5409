//! Runs the shared condition conformance cases: each expression is parsed and
//! its tree compared with the expected one, or matched against the request.

use serde_json::Value;
use vamp_model::Code;
use vamp_router::matching::matches;
use vamp_router::request::OwnedRequest;

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/expectations/condition.json"
);

/// Runs one case; `Err` says what did not hold.
fn run(case: &Value) -> Result<(), String> {
    let expression = case["expression"].as_str().ok_or("no expression")?;
    let parsed = vamp_dsl::condition::parse(expression);
    let request = case.get("request");
    match case["expect"].as_str() {
        Some("ok") if request.is_none() => {
            let tree = parsed.map_err(|e| format!("does not parse: {e:?}"))?;
            let got = serde_json::to_value(&tree).map_err(|e| e.to_string())?;
            if got != case["tree"] {
                return Err(format!("tree {got} instead of {}", case["tree"]));
            }
        }
        Some("ok") => {
            let tree = parsed.map_err(|e| format!("does not parse: {e:?}"))?;
            let owned = OwnedRequest::from_json(request.ok_or("no request")?)
                .map_err(|e| format!("bad request: {e:?}"))?;
            let got = matches(&tree, &owned.as_request()).map_err(|e| format!("{e:?}"))?;
            if Value::Bool(got) != case["matches"] {
                return Err(format!("matches {got} instead of {}", case["matches"]));
            }
        }
        Some("error") => {
            let code = case["code"].as_str().ok_or("no code")?;
            let err = match (parsed, request) {
                (Err(e), _) => e,
                (Ok(tree), Some(request)) => {
                    let owned = OwnedRequest::from_json(request)
                        .map_err(|e| format!("bad request: {e:?}"))?;
                    match matches(&tree, &owned.as_request()) {
                        Err(e) => e,
                        Ok(m) => return Err(format!("matches {m} instead of failing with {code}")),
                    }
                }
                (Ok(tree), None) => return Err(format!("parses to {tree:?} instead of failing")),
            };
            if Some(err.code) != Code::from_name(code) {
                return Err(format!(
                    "error {} instead of {code}: {}",
                    err.code, err.message
                ));
            }
        }
        other => return Err(format!("unknown expectation {other:?}")),
    }
    Ok(())
}

#[test]
fn condition_conformance() {
    let text = std::fs::read_to_string(CASES).unwrap_or_else(|e| panic!("{CASES}: {e}"));
    let cases: Vec<Value> = serde_json::from_str(&text).expect("the cases are JSON");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            run(case)
                .err()
                .map(|why| format!("{} `{}`: {why}", case["id"], case["expression"]))
        })
        .collect();
    assert_eq!(cases.len(), 274, "the corpus changed size");
    assert!(
        failures.is_empty(),
        "{} of {} condition cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
