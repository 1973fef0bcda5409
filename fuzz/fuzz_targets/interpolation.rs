//! Fuzzes the trait-value interpolation parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = vamp_model::interpolation::parse(text);
    }
});
