//! Fuzzes the Docker Compose import: any bytes; must never panic, and a
//! blueprint it returns must write as DSL YAML that reads back cleanly.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let out = vamp_dsl::compose::import_bytes(data, Default::default());
    if let Some(bp) = out.blueprint {
        let yaml = vamp_dsl::write::to_yaml(&vamp_model::Document::Blueprint(bp));
        let again = vamp_dsl::read(&yaml, vamp_dsl::ReadOptions::default());
        assert!(again.first_error().is_none(), "{:?}\n{yaml}", again.first_error());
    }
});
