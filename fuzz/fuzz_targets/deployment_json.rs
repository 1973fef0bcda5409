//! Fuzzes the reader of deployment JSON (`vamp deployment merge
//! --deployment FILE` reads what an earlier command printed, or what a user
//! edited): any JSON must give a deployment or a diagnostic, never a panic,
//! and a deployment must read back from its own canonical JSON unchanged.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none deployment_json`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vamp_model::Deployment;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Ok(d) = Deployment::from_json(&json) {
        let printed = serde_json::to_value(&d).expect("a deployment serializes");
        let again = Deployment::from_json(&printed).expect("canonical JSON reads back");
        assert_eq!(again, d, "round trip of {printed}");
    }
});
