//! The command-line contract of `vamp canonical`, `vamp condition` and
//! `vamp check`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn vamp(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vamp"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vamp runs");
    if let Some(input) = stdin {
        // A command may answer (and exit) before reading its input, e.g. on
        // an unknown kind: a broken pipe here is not a failure.
        if let Some(mut pipe) = child.stdin.take() {
            let _ = pipe.write_all(input.as_bytes());
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("vamp exits")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

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
