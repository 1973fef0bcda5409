//! Canonical JSON of the example documents, kept as reviewed snapshots.

use vamp_dsl::{read_bytes, ReadOptions};

fn canonical(file: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(file);
    let bytes = std::fs::read(&path).expect("example exists");
    let out = read_bytes(&bytes, ReadOptions::default());
    assert!(out.first_error().is_none(), "{:?}", out.first_error());
    serde_json::to_value(&out.documents).expect("serializable")
}

#[test]
fn sava_canary_blueprint() {
    insta::assert_json_snapshot!(canonical("sava-canary.yml"));
}
