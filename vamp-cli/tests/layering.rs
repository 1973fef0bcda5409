//! Dependencies point one way, as `cargo metadata` resolves them (normal
//! and build dependencies, with every feature on, followed transitively):
//!
//! ```text
//! vamp-model <- vamp-dsl <- vamp-deploy
//!           \<- vamp-router, vamp-sla, vamp-drivers
//!                      all of them <- vamp-cli
//! ```
//!
//! The model depends on no other Vamp crate; router and SLA stay pure (no
//! tokio, no DSL, no deployment engine); the engine knows nothing of
//! router, SLA, drivers or CLI; nothing depends on the CLI.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Each package of the workspace's graph: its normal and build
/// dependencies, and its dev-dependencies, by package name.
struct Graph {
    deps: BTreeMap<String, BTreeSet<String>>,
    dev: BTreeMap<String, BTreeSet<String>>,
    members: Vec<String>,
}

impl Graph {
    fn load() -> Graph {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--all-features"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
        let names: BTreeMap<&str, &str> = meta["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .map(|p| {
                (
                    p["id"].as_str().unwrap_or(""),
                    p["name"].as_str().unwrap_or(""),
                )
            })
            .collect();
        let name = |id: &Value| names[id.as_str().expect("an id")].to_owned();
        let mut graph = Graph {
            deps: BTreeMap::new(),
            dev: BTreeMap::new(),
            members: meta["workspace_members"]
                .as_array()
                .expect("members")
                .iter()
                .map(name)
                .collect(),
        };
        for node in meta["resolve"]["nodes"]
            .as_array()
            .expect("a resolved graph")
        {
            let me = name(&node["id"]);
            for dep in node["deps"].as_array().into_iter().flatten() {
                for kind in dep["dep_kinds"].as_array().into_iter().flatten() {
                    let into = if kind["kind"] == "dev" {
                        &mut graph.dev
                    } else {
                        &mut graph.deps
                    };
                    into.entry(me.clone())
                        .or_default()
                        .insert(name(&dep["pkg"]));
                }
            }
        }
        graph
    }

    /// Direct normal and build dependencies.
    fn direct(&self, krate: &str) -> BTreeSet<String> {
        self.deps.get(krate).cloned().unwrap_or_default()
    }

    /// Everything a crate builds on, transitively.
    fn closure(&self, krate: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![krate.to_owned()];
        while let Some(k) = todo.pop() {
            for d in self.deps.get(&k).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }
}

fn assert_free_of(graph: &Graph, krate: &str, banned: &[&str]) {
    let closure = graph.closure(krate);
    for b in banned {
        assert!(!closure.contains(*b), "{krate} depends on {b}");
    }
}

#[test]
fn dependencies_point_one_way() {
    let g = Graph::load();
    for krate in [
        "vamp-model",
        "vamp-dsl",
        "vamp-deploy",
        "vamp-router",
        "vamp-sla",
        "vamp-drivers",
        "vamp-cli",
    ] {
        assert!(
            g.members.iter().any(|m| m == krate),
            "{krate} is not a member"
        );
        // The graph is read, not empty: the CLI builds on every crate.
        assert!(
            krate == "vamp-cli" || g.closure("vamp-cli").contains(krate),
            "vamp-cli does not depend on {krate}"
        );
    }
    assert!(g.closure("vamp-drivers").contains("tokio"));

    // The model is the leaf: no other Vamp crate, nothing heavy.
    let model = g.closure("vamp-model");
    assert!(
        model.iter().all(|d| !d.starts_with("vamp-")),
        "vamp-model depends on {model:?}"
    );
    assert_free_of(
        &g,
        "vamp-model",
        &["tokio", "saphyr-parser", "reqwest", "hyper"],
    );

    // Router and SLA are pure decisions on the model.
    for krate in ["vamp-router", "vamp-sla"] {
        assert!(
            g.direct(krate).contains("vamp-model"),
            "{krate} without the model"
        );
        assert_free_of(
            &g,
            krate,
            &[
                "tokio",
                "vamp-dsl",
                "vamp-deploy",
                "vamp-drivers",
                "vamp-cli",
                "async-trait",
                "reqwest",
                "hyper",
                "chrono",
            ],
        );
    }

    // The DSL reads; the engine builds on it, never the other way round
    // (not even for tests).
    assert_free_of(
        &g,
        "vamp-dsl",
        &[
            "vamp-deploy",
            "vamp-router",
            "vamp-sla",
            "vamp-drivers",
            "tokio",
        ],
    );
    let dsl_dev = g.dev.get("vamp-dsl").cloned().unwrap_or_default();
    assert!(
        !dsl_dev.contains("vamp-deploy"),
        "vamp-dsl tests use vamp-deploy"
    );

    // The deployment engine knows nothing of routing, SLAs, drivers or the CLI.
    assert!(g.direct("vamp-deploy").contains("vamp-dsl"));
    assert_free_of(
        &g,
        "vamp-deploy",
        &[
            "vamp-router",
            "vamp-sla",
            "vamp-drivers",
            "vamp-cli",
            "tokio",
        ],
    );

    // Nothing depends on the CLI, not even a test.
    for (krate, deps) in g.deps.iter().chain(&g.dev) {
        assert!(!deps.contains("vamp-cli"), "{krate} depends on the CLI");
    }
}
