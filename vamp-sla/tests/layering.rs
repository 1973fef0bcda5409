//! vamp-sla stays a pure leaf: no async runtime, no YAML reader.

#[test]
fn no_heavy_or_upward_dependencies() {
    let manifest = include_str!("../Cargo.toml");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .unwrap_or_default();
    for forbidden in [
        "tokio",
        "vamp-dsl",
        "vamp-router",
        "vamp-drivers",
        "async",
        "chrono",
    ] {
        assert!(
            !deps.contains(forbidden),
            "vamp-sla must not depend on {forbidden}"
        );
    }
    assert!(deps.contains("vamp-model"));
}
