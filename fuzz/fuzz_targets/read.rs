//! Fuzzes the whole DSL reader: any bytes, every kind; must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let kinds = vamp_model::Kind::ALL;
    let kind = data.first().map(|b| kinds[usize::from(*b) % kinds.len()]);
    let options = vamp_dsl::ReadOptions { kind, ..Default::default() };
    let out = vamp_dsl::read_bytes(data, options);
    for doc in &out.documents {
        let _ = serde_json_len(doc);
    }
});

fn serde_json_len(doc: &vamp_model::Document) -> usize {
    format!("{doc:?}").len()
}
