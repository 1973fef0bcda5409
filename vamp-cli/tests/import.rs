//! `vamp import compose`: the blueprint as YAML or JSON, diagnostics on
//! standard error, exit code 1 on error.

mod support;
use std::process::Output;

use support::{json, vamp};

/// Asserts that the command succeeded (showing its output if not).
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const WORDPRESS: &str = "vamp-dsl/tests/fixtures/compose/wordpress.yml";

#[test]
fn prints_the_blueprint_as_dsl_yaml_that_vamp_reads() {
    let out = vamp(&["import", "compose", WORDPRESS, "--name", "blog"], None);
    succeeded(&out);
    let yaml = String::from_utf8(out.stdout).expect("utf-8");
    assert!(yaml.contains("\"name\": \"blog\""), "{yaml}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning[unsupported_compose_field]"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--> {WORDPRESS}:7:5")), "{stderr}");
    // The output is a blueprint `vamp canonical` accepts.
    let again = vamp(&["canonical", "blueprint", "-"], Some(&yaml));
    succeeded(&again);
    let v = json(&again);
    assert_eq!(
        v["clusters"]["wordpress"]["services"][0]["breed"]["dependencies"]["db"]["reference"],
        "db:8.0"
    );
}

#[test]
fn prints_canonical_json() {
    let out = vamp(&["import", "compose", WORDPRESS, "--format", "json"], None);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["kind"], "blueprint");
    assert_eq!(v["name"], "compose");
    assert_eq!(v["gateways"]["8000"]["port"]["number"], 8000);
    assert_eq!(
        v["clusters"]["db"]["services"][0]["scale"]["memory"],
        536.870912
    );
}

#[test]
fn errors_exit_1_with_position() {
    let src = "services:\n  web:\n    build: .\n";
    let out = vamp(&["import", "compose", "-", "--format", "json"], Some(src));
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["error"]["code"], "missing_path_value");
    assert_eq!(v["error"]["line"], 3);
    assert_eq!(v["error"]["column"], 5);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error[missing_path_value]"), "{stderr}");
    assert!(stderr.contains("add `image:`"), "{stderr}");

    let out = vamp(&["import", "compose", "-"], Some(src));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());

    let out = vamp(&["import", "compose", "no/such/file.yml"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[io]"));
}

#[test]
fn variables_come_from_the_command_line() {
    let src = "services:\n  web:\n    image: 'web:${TAG}'\n";
    let out = vamp(
        &[
            "import", "compose", "-", "--var", "TAG=2.0", "--format", "json",
        ],
        Some(src),
    );
    succeeded(&out);
    let v = json(&out);
    assert_eq!(
        v["clusters"]["web"]["services"][0]["breed"]["name"],
        "web:2.0"
    );
    let out = vamp(&["import", "compose", "-", "--var", "TAG"], Some(src));
    assert_eq!(out.status.code(), Some(1));
}
