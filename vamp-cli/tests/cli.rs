//! The command-line contract of `vamp canonical`, `vamp condition` and
//! `vamp check`.

mod support;
use support::{json, vamp};

#[test]
fn canonical_prints_the_expanded_document() {
    let out = vamp(
        &["canonical", "blueprint", "examples/sava-canary.yml"],
        None,
    );
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["kind"], "blueprint");
    assert_eq!(
        v["clusters"]["sava"]["services"][1]["scale"]["memory"],
        536.870912
    );
    assert_eq!(v["gateways"]["9050"]["port"]["number"], 9050);
}

#[test]
fn canonical_reads_standard_input_and_reports_errors_with_position() {
    let out = vamp(
        &["canonical", "Scales", "-"],
        Some("name: s\ncpu: 1\nmemory: 12\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["error"]["code"], "unexpected_type");
    assert_eq!(v["error"]["line"], 3);
    assert_eq!(v["error"]["column"], 9);
}

#[test]
fn canonical_rejects_an_unknown_kind() {
    let out = vamp(&["canonical", "pizza", "-"], Some("name: x\n"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "inconsistent_artifact_kind");
}

#[test]
fn condition_tree_and_match() {
    let out = vamp(&["condition", "has cookie a and not host == x"], None);
    assert!(out.status.success());
    assert_eq!(json(&out)["op"], "and");
    let out = vamp(
        &[
            "condition",
            "user-agent == Firefox",
            "--request",
            r#"{"headers": {"user-agent": "Mozilla Firefox/120"}}"#,
        ],
        None,
    );
    assert_eq!(json(&out), serde_json::json!({"matches": true}));
    let out = vamp(&["condition", "user-agent == (x"], None);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["error"]["code"], "parser");
    assert!(v["error"]["column"].as_u64().unwrap_or(0) > 1);
}

#[test]
fn check_shows_the_source_line_with_a_caret() {
    let out = vamp(
        &["check", "-"],
        Some("name: x\nclusters:\n  c:\n    breed: b\n    scala: 1\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[unexpected_element]"), "{err}");
    assert!(err.contains("-:5:5"), "{err}");
    assert!(err.contains("5 |     scala: 1"), "{err}");
    assert!(err.contains("did you mean `scale`?"), "{err}");
    let out = vamp(
        &["check", "--format", "json", "examples/sava-canary.yml"],
        None,
    );
    assert!(out.status.success());
    assert_eq!(json(&out)[0]["documents"][0]["name"], "sava-canary");
}

/// `vamp plan`, `vamp resolve` and `vamp sla evaluate` read their blueprint
/// the same way: an input without a blueprint is one code, at line 1.
#[test]
fn every_command_reports_a_missing_blueprint_with_one_code() {
    let dir = support::TempDir::new("no-blueprint");
    let state = dir.0.join("state");
    let store = dir.0.join("store");
    std::fs::create_dir_all(&store).expect("store");
    let empty = "# nothing here\n";
    let runs = [
        support::vamp_with(
            &["plan", "-", "--format", "json"],
            Some(empty),
            &[("VAMP_STATE_DIR", &state)],
        ),
        vamp(
            &["resolve", "--store", &store.to_string_lossy(), "-"],
            Some(empty),
        ),
    ];
    for out in &runs {
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let v = support::json(out);
        assert_eq!(v["error"]["code"], "missing_path_value", "{v}");
        assert_eq!(v["error"]["line"], 1, "{v}");
    }
    let out = vamp(
        &["sla", "evaluate", "--blueprint", "-", "--logs", "/dev/null"],
        Some(empty),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error[missing_path_value]"), "{stderr}");
    assert!(stderr.contains("--> -:1:1"), "{stderr}");
}
