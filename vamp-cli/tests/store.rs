//! The store commands end to end: `vamp put`, `list`, `resolve`,
//! `history`, `diff` and `delete` on a fresh folder.

use std::path::Path;
use std::process::Output;

mod support;
use support::{json, TempDir as Dir};

fn vamp(args: &[&str]) -> Output {
    support::vamp(args, None)
}

const BREED_V1: &str = "kind: breed\nname: web:1\ndeployable: acme/web:1\nports:\n  http: 8080/http\nenvironment_variables:\n  MODE: fast\n";
const BREED_V2: &str = "kind: breed\nname: web:1\ndeployable: acme/web:1\nports:\n  http: 8080/http\nenvironment_variables:\n  MODE: safe\n";
const SCALE: &str = "kind: scale\nname: small\ncpu: 0.5\nmemory: 256MB\ninstances: 2\n";
const BLUEPRINT: &str =
    "name: shop\nclusters:\n  web:\n    services:\n      - breed: web:1\n        scale: small\n";

#[test]
fn put_then_resolve_history_diff_and_delete() {
    let tmp = Dir::new("store-cli-flow");
    let store = tmp.0.join("store");
    let store = store.to_str().expect("utf-8");
    let both = tmp.write("both.yml", &format!("{BREED_V1}---\n{SCALE}"));
    let out = vamp(&["put", "--store", store, &both]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = json(&out);
    assert_eq!(v["stored"][0]["kind"], "breed");
    assert_eq!(v["stored"][0]["name"], "web:1");
    assert_eq!(v["stored"][0]["revision"], 1);
    assert_eq!(v["stored"][1]["kind"], "scale");
    assert!(Path::new(store).join("breeds").is_dir());

    let v = json(&vamp(&["list", "--store", store, "breed"]));
    assert_eq!(v["names"], serde_json::json!(["web:1"]));

    let bp = tmp.write("shop.yml", BLUEPRINT);
    let out = vamp(&["resolve", "--store", store, &bp]);
    assert!(out.status.success());
    let v = json(&out);
    let service = &v["clusters"]["web"]["services"][0];
    assert_eq!(service["environment"]["MODE"], "fast");
    assert_eq!(service["scale"]["instances"], 2);

    // A second put is a new revision; resolution sees it.
    let v2 = tmp.write("v2.yml", BREED_V2);
    let v = json(&vamp(&["put", "--store", store, &v2]));
    assert_eq!(v["stored"][0]["revision"], 2);
    let v = json(&vamp(&["resolve", "--store", store, &bp]));
    assert_eq!(
        v["clusters"]["web"]["services"][0]["environment"]["MODE"],
        "safe"
    );
    let v = json(&vamp(&["history", "--store", store, "breed", "web:1"]));
    let revisions = v["revisions"].as_array().expect("revisions");
    assert_eq!(revisions.len(), 2);
    assert_eq!(
        revisions[0]["document"]["environment_variables"]["MODE"]["value"],
        "fast"
    );
    let out = vamp(&["diff", "--store", store, "breed", "web:1", "1", "2"]);
    assert!(out.status.success());
    let diff = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(diff.contains("MODE"), "{diff}");

    // Deleting keeps the history; resolving now fails with the code.
    let v = json(&vamp(&["delete", "--store", store, "breed", "web:1"]));
    assert_eq!(v["deleted"], true);
    let v = json(&vamp(&["list", "--store", store, "breed"]));
    assert_eq!(v["names"], serde_json::json!([]));
    let out = vamp(&["resolve", "--store", store, &bp]);
    assert!(!out.status.success());
    assert_eq!(json(&out)["error"]["code"], "unresolved_dependency");
    let v = json(&vamp(&["history", "--store", store, "breed", "web:1"]));
    let revisions = v["revisions"].as_array().expect("revisions");
    assert_eq!(revisions.last().expect("a revision")["deleted"], true);
}

#[test]
fn put_writes_nothing_when_any_file_has_an_error() {
    let tmp = Dir::new("store-cli-broken");
    let store = tmp.0.join("store");
    let store = store.to_str().expect("utf-8");
    let good = tmp.write("good.yml", BREED_V1);
    let bad = tmp.write("bad.yml", "kind: scale\nname: s\ncpu: 1\nmemory: 12\n");
    let out = vamp(&["put", "--store", store, &good, &bad]);
    assert!(!out.status.success());
    let v = json(&out);
    assert_eq!(v["error"]["code"], "unexpected_type");
    assert_eq!(v["error"]["line"], 4);
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|h| h.contains("bad.yml")),
        "{v}"
    );
    // Not even the folder was created.
    assert!(!Path::new(store).exists());
    let out = vamp(&["list", "--store", store, "breed"]);
    assert_eq!(json(&out)["error"]["code"], "io");
}

#[test]
fn put_with_a_kind_reads_every_document_as_that_kind() {
    let tmp = Dir::new("store-cli-kind");
    let file = tmp.write("scale.yml", "name: tiny\ncpu: 0.1\nmemory: 64MB\n");
    let v = json(&vamp(&[
        "put",
        "--store",
        tmp.path(),
        "--kind",
        "scale",
        &file,
    ]));
    assert_eq!(v["stored"][0]["kind"], "scale");
    let out = vamp(&["put", "--store", tmp.path(), "--kind", "nonsense", &file]);
    assert!(!out.status.success());
    assert_eq!(json(&out)["error"]["code"], "inconsistent_artifact_kind");
}

#[test]
fn delete_of_an_unknown_artifact_says_so() {
    let tmp = Dir::new("store-cli-unknown");
    let out = vamp(&["delete", "--store", tmp.path(), "breed", "nope:1"]);
    assert!(!out.status.success());
    let v = json(&out);
    assert_eq!(v["error"]["code"], "unresolved_dependency");
    assert!(v["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("vamp list")));
}
