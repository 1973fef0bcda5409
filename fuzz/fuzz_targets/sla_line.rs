//! Fuzzes the SLA log-line reader: any bytes must give a line or an error,
//! never a panic; a line the fast scanner reads must read the same through
//! serde (the scanner is only a shortcut); backend names must survive
//! `encode` then `parse`.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none sla_line`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vamp_sla::parse::{parse_line, parse_value, Line, RouteBackend};

fuzz_target!(|data: &[u8]| {
    let fast = parse_line(data);
    if let (Ok(Line::Record(r)), Ok(value)) = (&fast, serde_json::from_slice::<serde_json::Value>(data)) {
        match parse_value(&value) {
            Ok(Line::Record(again)) => assert_eq!(&again, r, "scanner and serde disagree"),
            other => panic!("scanner read a record, serde gave {other:?}"),
        }
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = RouteBackend::parse(text);
    let parts: Vec<&str> = text.splitn(4, '\n').collect();
    if let [d, c, p, s] = parts[..] {
        // Deployment, cluster and port names never hold a `/` (the name
        // rules forbid it); the service may.
        let plain = [d, c, p].iter().all(|x| !x.contains('/'));
        if plain && [d, c, p, s].iter().all(|x| !x.is_empty()) {
            let name = RouteBackend::encode(d, c, p, s);
            let back = RouteBackend::parse(&name).expect("an encoded name parses");
            assert_eq!(
                (back.deployment.as_ref(), back.cluster.as_ref(), back.port.as_ref(), back.service.as_ref()),
                (d, c, p, s)
            );
        }
    }
});
