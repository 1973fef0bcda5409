//! The command-line contract of `vamp plan`, `vamp apply`, `vamp status` and
//! `vamp remove` with the in-memory driver, each call a new process sharing
//! a temporary `VAMP_STATE_DIR`.

use std::path::Path;
use std::process::Output;

const SAVA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sava-canary.yml");

mod support;
use support::TempDir as StateDir;

fn vamp(state: &Path, args: &[&str]) -> Output {
    support::vamp_with(args, None, &[("VAMP_STATE_DIR", state)])
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

use support::json;

#[test]
fn plan_apply_status_remove_with_the_memory_driver() {
    let state = StateDir::new("cycle");
    let dir = state.0.as_path();

    // Nothing runs yet: the plan creates 2 + 1 sava instances and the db.
    let out = vamp(dir, &["plan", SAVA, "--format", "json"]);
    assert!(out.status.success(), "{out:?}");
    let plan = json(&out);
    assert_eq!(plan["deployment"], "sava-canary");
    let steps = plan["steps"].as_array().expect("steps");
    let creates = steps.iter().filter(|s| s["action"] == "create").count();
    assert_eq!(creates, 4, "{plan:#}");
    // Dependencies first: the db is created before sava.
    assert!(steps[0]["service"]
        .as_str()
        .is_some_and(|s| s.starts_with("sava-canary/db/")));

    let out = vamp(dir, &["apply", SAVA]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("sava-canary: applied"), "{out:?}");

    // Applied: a second plan has nothing to do.
    let out = vamp(dir, &["plan", SAVA]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("nothing to do"), "{out:?}");
    let out = vamp(dir, &["plan", SAVA, "--format", "json"]);
    assert_eq!(json(&out)["steps"], serde_json::json!([]));

    // Status: the canonical deployment with live instances.
    let out = vamp(dir, &["status", "sava-canary", "--format", "json"]);
    assert!(out.status.success(), "{out:?}");
    let status = json(&out);
    let sava = &status["clusters"]["sava"]["services"];
    assert_eq!(sava[0]["breed"]["name"], "sava:1.0.0");
    assert_eq!(sava[0]["instances"].as_array().map(Vec::len), Some(2));
    assert_eq!(sava[1]["instances"].as_array().map(Vec::len), Some(1));
    let first = &sava[0]["instances"][0];
    assert_eq!(first["host"], "127.0.0.1");
    assert!(first["ports"]["webport"].is_u64(), "{first}");
    assert_eq!(sava[0]["status"]["phase"], "done");
    assert_eq!(
        status["clusters"]["db"]["services"][0]["instances"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Remove: everything goes, and the deployment is forgotten.
    let out = vamp(dir, &["remove", "sava-canary"]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("removed"), "{out:?}");
    let memory: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("memory.json")).expect("state kept"))
            .expect("JSON");
    assert_eq!(memory["instances"], serde_json::json!({}));
    let out = vamp(dir, &["status", "sava-canary", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "unknown_deployment");
}

#[test]
fn resolver_errors_are_positioned() {
    let state = StateDir::new("errors");
    let dir = state.0.as_path();
    let file = dir.join("bad.yml");
    std::fs::write(
        &file,
        "kind: blueprint\nname: bad\nclusters:\n  web:\n    breed: not-stored\n",
    )
    .expect("write");
    let file = file.to_str().expect("utf-8 path");

    let out = vamp(dir, &["plan", file, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["error"]["code"], "unresolved_dependency");
    assert_eq!(v["error"]["line"], 5);
    assert_eq!(v["error"]["column"], 12);

    let out = vamp(dir, &["apply", file]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[unresolved_dependency]"), "{err}");
    assert!(err.contains(&format!("{file}:5:12")), "{err}");

    // With a store holding the breed, the same blueprint resolves.
    let store = dir.join("store");
    std::fs::create_dir_all(&store).expect("store");
    std::fs::write(
        store.join("breeds.yml"),
        "kind: breed\nname: not-stored\ndeployable: vamp-test/web:1\n",
    )
    .expect("write");
    let out = vamp(
        dir,
        &[
            "plan",
            file,
            "--store",
            store.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["steps"][0]["action"], "create");

    let out = vamp(dir, &["plan", file, "--store", "/nonexistent/vamp-store"]);
    assert_eq!(out.status.code(), Some(1));
}
