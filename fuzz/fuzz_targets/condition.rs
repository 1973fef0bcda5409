//! Fuzzes the condition parser; a parsed tree must print back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(tree) = vamp_model::condition::parse(text) {
        let printed = tree.to_string();
        let again = vamp_model::condition::parse(&printed);
        assert_eq!(again.as_ref().ok(), Some(&tree), "round trip of {printed:?}");
    }
});
