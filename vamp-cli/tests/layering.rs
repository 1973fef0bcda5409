//! Dependencies point one way: model <- dsl, router, sla, drivers <- cli.
//! Router and SLA stay pure: no tokio, no DSL, no IO crates.

use std::path::Path;

/// The names in a crate's `[dependencies]` section (not dev-dependencies).
fn dependencies(krate: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path).expect("manifest");
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && !line.is_empty() && !line.starts_with('#') {
            if let Some(name) = line.split(['=', '.', ' ']).next() {
                out.push(name.trim().to_owned());
            }
        }
    }
    out
}

#[test]
fn model_is_the_leaf() {
    let deps = dependencies("vamp-model");
    assert!(deps.iter().all(|d| !d.starts_with("vamp-")), "{deps:?}");
    for heavy in ["tokio", "saphyr-parser", "reqwest", "hyper"] {
        assert!(
            !deps.iter().any(|d| d == heavy),
            "vamp-model depends on {heavy}"
        );
    }
}

#[test]
fn router_and_sla_are_pure() {
    for krate in ["vamp-router", "vamp-sla"] {
        let deps = dependencies(krate);
        for banned in [
            "tokio",
            "vamp-dsl",
            "vamp-drivers",
            "async-trait",
            "reqwest",
            "hyper",
        ] {
            assert!(
                !deps.iter().any(|d| d == banned),
                "{krate} depends on {banned}: {deps:?}"
            );
        }
    }
}

#[test]
fn nothing_below_knows_what_is_above() {
    for krate in [
        "vamp-model",
        "vamp-dsl",
        "vamp-router",
        "vamp-sla",
        "vamp-drivers",
    ] {
        let deps = dependencies(krate);
        assert!(
            !deps.iter().any(|d| d == "vamp-cli"),
            "{krate} depends on the CLI"
        );
    }
    let dsl = dependencies("vamp-dsl");
    for up in ["vamp-router", "vamp-sla", "vamp-drivers"] {
        assert!(!dsl.iter().any(|d| d == up), "vamp-dsl depends on {up}");
    }
}
