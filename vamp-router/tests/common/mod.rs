//! Helpers shared by the router's integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod live;

use std::path::PathBuf;
use std::process::Command;

use vamp_model::{Diagnostic, Document, Gateway, Kind};
use vamp_router::engine::{CompileOptions, Engine, Targets};
use vamp_router::export::haproxy::ExportOptions;
use vamp_router::request::{Pairs, Request};

/// Reads the gateway documents of `yaml` as (name, gateway).
pub fn gateways(yaml: &str) -> Vec<(String, Gateway)> {
    let out = vamp_dsl::read_bytes(
        yaml.as_bytes(),
        vamp_dsl::ReadOptions {
            kind: Some(Kind::Gateway),
            ..Default::default()
        },
    );
    if let Some(e) = out.first_error() {
        panic!("the test gateway does not read: {e:?}\n{yaml}");
    }
    out.documents
        .into_iter()
        .map(|d| match d {
            Document::Gateway(g) => (g.name, g.spec),
            other => panic!("not a gateway: {:?}", other.kind()),
        })
        .collect()
}

/// Reads one gateway.
pub fn gateway(yaml: &str) -> (String, Gateway) {
    let mut all = gateways(yaml);
    assert_eq!(all.len(), 1, "one gateway expected");
    all.remove(0)
}

/// Options without stored conditions, rewrites or targets.
pub fn options() -> CompileOptions<'static> {
    CompileOptions::default()
}

/// Renders `gateways` (name, gateway) to one `haproxy.cfg`: the tests' one
/// call into the export API.
pub fn export(
    gateways: &[(String, Gateway)],
    targets: Option<&Targets>,
    export: &ExportOptions,
) -> Result<String, Diagnostic> {
    let refs: Vec<(&str, &Gateway)> = gateways.iter().map(|(n, g)| (n.as_str(), g)).collect();
    let options = CompileOptions {
        targets,
        ..options()
    };
    vamp_router::export::haproxy::export(&refs, &options, export)
}

/// A request with these cookies and nothing else.
pub fn with_cookies<'a>(jar: impl Into<Pairs<'a>>) -> Request<'a> {
    Request {
        cookies: jar.into(),
        ..Request::default()
    }
}

/// A request with these headers and nothing else.
pub fn with_headers<'a>(headers: impl Into<Pairs<'a>>) -> Request<'a> {
    Request {
        headers: headers.into(),
        ..Request::default()
    }
}

/// Compiles one gateway from YAML.
pub fn engine(yaml: &str) -> Engine {
    let (name, g) = gateway(yaml);
    Engine::compile(&name, &g, &options()).unwrap_or_else(|e| panic!("does not compile: {e:?}"))
}

/// The haproxy binary; fails the test with a clear message when missing.
pub fn haproxy() -> PathBuf {
    let candidates = ["haproxy", "/usr/sbin/haproxy", "/usr/local/sbin/haproxy"];
    for c in candidates {
        if Command::new(c)
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return PathBuf::from(c);
        }
    }
    panic!(
        "HAProxy is not installed: these tests run the real proxy. \
         Install it (`apt-get install -y haproxy`) and run them again."
    );
}

/// A fresh scratch directory for this test.
pub fn scratch(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "vamp-router-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs `haproxy -c` on `config`; panics with HAProxy's output when invalid.
pub fn check_config(config: &str) {
    let dir = scratch("check");
    let file = dir.join("haproxy.cfg");
    std::fs::write(&file, config).expect("write config");
    let out = Command::new(haproxy())
        .arg("-c")
        .arg("-f")
        .arg(&file)
        .output()
        .expect("run haproxy -c");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "haproxy -c rejects the configuration:\n{}\n{}\n--- config ---\n{config}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
