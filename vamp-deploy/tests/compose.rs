//! Blueprints imported from Docker Compose files (the fixtures of
//! `vamp-dsl/tests/fixtures/compose/`) resolve into deployments.

use vamp_deploy::resolve::resolve_blueprint;
use vamp_deploy::store::MemoryStore;
use vamp_dsl::compose::{import, ImportOptions};
use vamp_model::{Artifact, Blueprint, Code};

fn imported(name: &str) -> Artifact<Blueprint> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vamp-dsl/tests/fixtures/compose")
        .join(name);
    let src = std::fs::read_to_string(path).expect("fixture exists");
    let out = import(
        &src,
        ImportOptions {
            name: Some("shop".into()),
            ..ImportOptions::default()
        },
    );
    assert!(out.first_error().is_none(), "{:?}", out.first_error());
    out.blueprint.expect("a blueprint")
}

#[test]
fn imported_blueprints_resolve_against_an_empty_store() {
    for name in ["wordpress.yml", "long-ports.yml", "warnings.yml"] {
        let deployment = resolve_blueprint(&imported(name), &MemoryStore::default());
        assert!(deployment.is_ok(), "{name}: {deployment:?}");
    }
}

#[test]
fn place_holders_must_be_filled_before_resolving() {
    // `API_TOKEN` without a value is a place holder: the resolver asks for
    // it, pointing into the Compose file; filled at blueprint level, it resolves.
    let mut bp = imported("v2.yml");
    let e = resolve_blueprint(&bp, &MemoryStore::default()).expect_err("a place holder");
    assert_eq!(e.code, Code::MissingEnvironmentVariable);
    assert_eq!(e.span.map(|s| (s.line, s.column)), Some((15, 9)));
    bp.spec.environment_variables.insert(
        "api.environment_variables.API_TOKEN".into(),
        vamp_model::TraitValue {
            value: Some("secret".into()),
            alias: None,
            span: None,
        },
    );
    let d = resolve_blueprint(&bp, &MemoryStore::default()).expect("resolves");
    let env =
        &serde_json::to_value(&d).expect("json")["clusters"]["api"]["services"][0]["environment"];
    assert_eq!(env["API_TOKEN"], "secret");
}
