//! Exported configurations: one reviewed snapshot per fixture, each valid for
//! the real HAProxy.
//!
//! A case is a file `tests/fixtures/haproxy/NAME.yml`: a stream of gateway
//! documents, rendered with the instances of [`targets`] and the default
//! [`ExportOptions`], changed by `# export: key=value ...` comment lines
//! (`bind_address`, `virtual_hosts_port` (a port or `none`), `health_checks`,
//! `http_check_path`, `maxconn`). Its `haproxy.cfg` is the snapshot
//! `tests/snapshots/export_haproxy__NAME.snap`. Add a case by adding a file;
//! review a changed output with `cargo insta review` (or run the tests with
//! `INSTA_UPDATE=always` and read the diff).

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{check_config, gateways, options};
use vamp_model::{Code, Gateway};
use vamp_router::engine::{targets_from_json, Engine, Targets};
use vamp_router::export::haproxy::{parse_backend_name, ExportOptions};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/haproxy");
const SNAPSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots");

/// The instances behind the routes that name a service.
fn targets() -> Targets {
    targets_from_json(&serde_json::json!({
        "shop/checkout/sava:1.0/web": [
            {"name": "sava-1.0-1", "host": "10.0.4.21", "port": 31002},
            {"name": "sava-1.0-2", "host": "10.0.4.22", "port": 31007, "weight": 50},
        ],
        "shop/checkout/sava:1.1/web": [
            {"name": "sava-1.1-1", "host": "localhost", "port": 31003},
        ],
        // An IPv6 address, and two instances with one name.
        "shop/checkout/sava:1.2/web": [
            {"name": "sava_1.2 é", "host": "::1", "port": 31004},
            {"name": "sava_1.2 é", "host": "10.0.4.23", "port": 31005, "weight": 0},
        ],
    }))
    .expect("targets")
}

/// A fixture: its name (the file stem), path and gateways.
struct Case {
    name: String,
    path: PathBuf,
    gateways: Vec<(String, Gateway)>,
    options: ExportOptions,
}

/// Every fixture, by name.
fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .expect("the fixture folder")
        .map(|e| e.expect("a fixture").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no fixtures in {FIXTURES}");
    paths
        .into_iter()
        .map(|path| {
            let yaml = std::fs::read_to_string(&path).expect("a readable fixture");
            Case {
                name: stem(&path).to_owned(),
                gateways: gateways(&yaml),
                options: export_options(&yaml),
                path,
            }
        })
        .collect()
}

fn stem(path: &Path) -> &str {
    path.file_stem()
        .and_then(|s| s.to_str())
        .expect("a UTF-8 file name")
}

/// The export options of a fixture's `# export:` lines.
fn export_options(yaml: &str) -> ExportOptions {
    let mut o = ExportOptions::default();
    let settings = yaml
        .lines()
        .filter_map(|l| l.strip_prefix("# export:"))
        .flat_map(str::split_whitespace);
    for setting in settings {
        let (key, value) = setting
            .split_once('=')
            .unwrap_or_else(|| panic!("`{setting}` is not key=value"));
        match key {
            "bind_address" => o.bind_address = value.to_owned(),
            "virtual_hosts_port" if value == "none" => o.virtual_hosts_port = None,
            "virtual_hosts_port" => o.virtual_hosts_port = Some(parsed(setting, value)),
            "health_checks" => o.health_checks = parsed(setting, value),
            "http_check_path" => o.http_check_path = Some(value.to_owned()),
            "maxconn" => o.maxconn = parsed(setting, value),
            _ => panic!("unknown export option `{key}`"),
        }
    }
    o
}

fn parsed<T: std::str::FromStr>(setting: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| panic!("`{setting}`: `{value}` is not a valid value"))
}

fn render(case: &Case) -> String {
    common::export(&case.gateways, Some(&targets()), &case.options)
        .unwrap_or_else(|e| panic!("{}: export fails: {e:?}", case.name))
}

#[test]
fn fixtures_render_as_their_snapshots_and_pass_haproxy_check() {
    let mut failed = Vec::new();
    for case in cases() {
        // Every case runs, so one run shows (and writes) every changed snapshot.
        let outcome = std::panic::catch_unwind(|| {
            let cfg = render(&case);
            check_config(&cfg);
            insta::with_settings!({ input_file => &case.path, omit_expression => true }, {
                insta::assert_snapshot!(case.name.as_str(), cfg);
            });
        });
        if outcome.is_err() {
            failed.push(case.name);
        }
    }
    assert!(failed.is_empty(), "failing fixtures: {failed:?}");
}

#[test]
fn every_snapshot_has_its_fixture() {
    let names: Vec<String> = cases().into_iter().map(|c| c.name).collect();
    for entry in std::fs::read_dir(SNAPSHOTS).expect("the snapshot folder") {
        let path = entry.expect("a snapshot").path();
        let file = path.file_name().and_then(|s| s.to_str()).unwrap_or("");
        if let Some(name) = file
            .strip_prefix("export_haproxy__")
            .and_then(|f| f.strip_suffix(".snap"))
        {
            assert!(
                names.iter().any(|n| n == name),
                "{file} has no fixture {name}.yml: delete it"
            );
        }
    }
}

#[test]
fn backend_names_read_back_for_the_sla_layer() {
    let mut internal = 0;
    for case in cases() {
        let cfg = render(&case);
        for b in cfg.lines().filter_map(|l| l.strip_prefix("backend ")) {
            if b.starts_with("virtual_hosts__") {
                assert_eq!(parse_backend_name(b), None);
                continue;
            }
            let (g, r) = parse_backend_name(b).unwrap_or_else(|| panic!("{}: {b}", case.name));
            let gateway = case
                .gateways
                .iter()
                .find(|(n, _)| *n == g)
                .unwrap_or_else(|| panic!("{}: {b} reads back as gateway {g}", case.name));
            assert!(
                gateway.1.routes.contains_key(&r),
                "{}: {b} reads back as route {r} of {g}",
                case.name
            );
            internal += usize::from(!b.contains("__"));
        }
    }
    // Internal gateway routes follow the SLA layer's D/C/P/S convention.
    assert!(internal > 0, "no fixture has an internal gateway");
    assert_eq!(
        parse_backend_name("shop_2fcheckout_2fweb_2fsava:1.1"),
        Some((
            "shop/checkout/web".to_string(),
            "shop/checkout/sava:1.1/web".to_string()
        ))
    );
}

#[test]
fn engine_and_export_agree_on_unsupported_raw_acls() {
    let g = common::gateway(
        "name: g\nport: 18090\nroutes:\n  a:\n    condition: < src 10.0.0.0/8 >\n  b: {}\n",
    );
    // The engine cannot evaluate `src`...
    let err = Engine::compile(&g.0, &g.1, &options()).unwrap_err();
    assert_eq!(err.code, Code::UnsupportedAcl);
    // ...HAProxy can: the export passes it through (fixture `raw-acls`).
    let cfg = common::export(&[g], None, &ExportOptions::default()).expect("export");
    check_config(&cfg);
}

#[test]
fn export_errors() {
    let code = |yaml: &str| {
        common::export(&gateways(yaml), None, &ExportOptions::default())
            .unwrap_err()
            .code
    };
    assert_eq!(
        code("name: g\nroutes:\n  a: {}\n"),
        Code::UnresolvedGatewayPort
    );
    assert_eq!(
        code("name: a\nport: 9000\nroutes:\n  x: {}\n---\nname: b\nport: 9000\nroutes:\n  y: {}\n"),
        Code::DuplicateGatewayPort
    );
    assert_eq!(
        code("name: g\nport: 9000\nroutes:\n  a:\n    condition: user-agent ==\n"),
        Code::Parser
    );
    assert_eq!(
        code("name: g\nport: 9000/tcp\nroutes:\n  a:\n    condition: has cookie x\n"),
        Code::ConditionPortType
    );
}

/// 1,000 gateways of every kind.
fn thousand() -> String {
    let mut yaml = String::new();
    for i in 0..1000 {
        let port = 20000 + i;
        let body = match i % 5 {
            0 => format!(
                "port: {port}\nsticky: route\nvirtual_hosts: [g{i}.vamp]\nroutes:\n  \
                 d{i}/c/s1/web:\n    weight: 80%\n  d{i}/c/s2/web:\n    weight: 20%\n    \
                 condition: user-agent == Chrome and has cookie beta{i}\n    condition_strength: 50%\n"
            ),
            1 => format!(
                "port: {port}/tcp\nroutes:\n  \"[127.0.0.1:{}]\":\n    weight: 50%\n  \"[127.0.0.1:{}]\":\n    weight: 50%\n",
                30000 + i,
                31000 + i
            ),
            2 => format!(
                "port: {port}\nsticky: instance\nroutes:\n  a{i}:\n  b{i}:\n  c{i}:\n    condition: header X-Shard has {i} or host == h{i}.example\n"
            ),
            3 => format!(
                "port: {port}\nroutes:\n  g{}: {{}}\n  x{i}:\n    weight: 0%\n    rewrites:\n      - path: /new if path_beg /old\n",
                i - 3
            ),
            _ => format!(
                "port: {port}\nroutes:\n  e{i}:\n    condition: not (user-agent == IE or user-agent == Edge) and misses header X-Bot\n    condition_strength: 75%\n    weight: 100%\n"
            ),
        };
        yaml.push_str(&format!("---\nkind: gateway\nname: g{i}\n{body}"));
    }
    yaml
}

#[test]
fn a_thousand_gateways_render_in_under_a_second_and_pass_haproxy_check() {
    let gws = gateways(&thousand());
    assert_eq!(gws.len(), 1000);
    let start = Instant::now();
    let cfg = common::export(&gws, None, &ExportOptions::default()).expect("export");
    let took = start.elapsed();
    assert!(
        took.as_secs_f64() < 1.0,
        "rendering 1,000 gateways took {took:?}"
    );
    assert_eq!(cfg.matches("\nfrontend g").count(), 1000);
    check_config(&cfg);
}
