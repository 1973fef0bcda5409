//! Exported configurations are complete and valid for the real HAProxy.

mod common;

use std::time::Instant;

use common::{check_config, gateways, options};
use vamp_model::Code;
use vamp_router::engine::{targets_from_json, CompileOptions, Engine};
use vamp_router::export::haproxy::{export, parse_backend_name, ExportOptions};

const ALL_FEATURES: &str = r#"
kind: gateway
name: shop/web
port: 18080/http
sticky: route
virtual_hosts: [shop.vamp, www.shop.example]
routes:
  shop/checkout/sava:1.0/web:
    weight: 90%
    balance: leastconn
    rewrites:
      - path: /v1%[path] if path_beg /api
      - path: /img/%[path] if { path_reg ^/images/(.*) }
  shop/checkout/sava:1.1/web:
    weight: 10%
    condition: user-agent == Firefox and (has cookie beta or header X-Tier has "gold 'vip'")
    condition_strength: 25%
    rewrites:
      - path: /beta if not has cookie seen
  "[127.0.0.1:9009]":
    condition: < src 10.0.0.0/8 > or host == admin.shop or user-agent == Safari or user-agent != ie
---
kind: gateway
name: shop/instances
port: 18081
sticky: instance
routes:
  shop/checkout/sava:1.0/web:
    weight: 50%
  shop/checkout/sava:1.1/web:
    weight: 50%
---
kind: gateway
name: db
port: 18082/tcp
routes:
  "[127.0.0.1:3306]":
    weight: 70%
  "[127.0.0.1:3307]":
    weight: 30%
    balance: source
---
kind: gateway
name: front
port: 18083
routes:
  shop/web: {}
  db: {}
---
kind: gateway
name: shop/checkout/web
port: 18085
routes:
  shop/checkout/sava:1.0/web:
    weight: 90%
  shop/checkout/sava:1.1/web:
    weight: 10%
---
kind: gateway
name: nothing
port: 18084
routes:
  a:
    weight: 0%
  b:
    weight: 0%
    condition: has header X-B
    condition_strength: 0%
"#;

fn targets() -> vamp_router::engine::Targets {
    targets_from_json(&serde_json::json!({
        "shop/checkout/sava:1.0/web": [
            {"name": "sava-1.0-1", "host": "10.0.4.21", "port": 31002},
            {"name": "sava-1.0-2", "host": "10.0.4.22", "port": 31007, "weight": 50},
        ],
        "shop/checkout/sava:1.1/web": [
            {"name": "sava-1.1-1", "host": "localhost", "port": 31003},
        ],
    }))
    .expect("targets")
}

fn export_all(yaml: &str) -> String {
    let gws = gateways(yaml);
    let refs: Vec<(&str, &vamp_model::Gateway)> =
        gws.iter().map(|(n, g)| (n.as_str(), g)).collect();
    let t = targets();
    let opts = CompileOptions {
        targets: Some(&t),
        ..options()
    };
    export(&refs, &opts, &ExportOptions::default()).unwrap_or_else(|e| panic!("export: {e:?}"))
}

#[test]
fn every_feature_passes_haproxy_check() {
    let cfg = export_all(ALL_FEATURES);
    check_config(&cfg);
    // Spot checks of the layout the module documents.
    for needle in [
        "frontend shop_2fweb\n",
        "bind 127.0.0.1:18080",
        "backend shop_2fweb__shop_2fcheckout_2fsava:1.0_2fweb\n",
        "balance leastconn",
        "http-request set-path \"/v1%[path]\" if { path_beg /api }",
        "http-request set-path \"/img/%[path]\" if { path_reg ^/images/(.*) }",
        "acl b7e4cd014edf2eec req.fhdr(User-Agent) -m sub 'Firefox'",
        "{ rand(100) -m int lt 25 }",
        "http-request set-var(txn.vamp_w) rand(100)",
        "use_backend shop_2fweb__shop_2fcheckout_2fsava:1.0_2fweb if { var(txn.vamp_w) -m int lt 90 }",
        "default_backend shop_2fweb__shop_2fcheckout_2fsava:1.1_2fweb",
        "server sava-1.0-2 10.0.4.22:31007 weight 50 check",
        "cookie vamp_",
        "insert indirect nocache",
        "mode tcp",
        "tcp-request content set-var(txn.vamp_w) rand(100)",
        "balance source",
        "frontend virtual_hosts",
        "acl vh_",
        "req.hdr(host) -i 'shop.vamp'",
        "backend virtual_hosts__shop_2fweb",
        // chaining: route `shop/web` of `front` targets the gateway's port
        "server shop_2fweb 127.0.0.1:18080 weight 100 check",
        "server db 127.0.0.1:18082 weight 100 check",
        "req.cook(beta) -m found",
        "req.fhdr(X-Tier) -m sub \"gold 'vip'\"",
        "src 10.0.0.0/8",
        r#"\"ft\":\"%ft\""#,
    ] {
        assert!(cfg.contains(needle), "missing `{needle}` in\n{cfg}");
    }
    // A gateway whose weights total 0 has no default backend.
    let nothing = cfg
        .split("frontend nothing")
        .nth(1)
        .expect("frontend nothing");
    let section = nothing.split("\nbackend").next().unwrap_or("");
    assert!(!section.contains("default_backend"), "{section}");
    assert!(!section.contains("use_backend"), "{section}");
}

#[test]
fn backend_names_read_back_for_the_sla_layer() {
    let cfg = export_all(ALL_FEATURES);
    let backends: Vec<&str> = cfg
        .lines()
        .filter_map(|l| l.strip_prefix("backend "))
        .collect();
    assert!(backends.contains(&"shop_2fweb__shop_2fcheckout_2fsava:1.1_2fweb"));
    // Internal gateway routes follow the SLA layer's D/C/P/S convention.
    assert!(
        backends.contains(&"shop_2fcheckout_2fweb_2fsava:1.1"),
        "{backends:?}"
    );
    assert_eq!(
        parse_backend_name("shop_2fcheckout_2fweb_2fsava:1.1"),
        Some((
            "shop/checkout/web".to_string(),
            "shop/checkout/sava:1.1/web".to_string()
        ))
    );
    for b in backends {
        if b.starts_with("virtual_hosts__") {
            assert_eq!(parse_backend_name(b), None);
            continue;
        }
        let (g, r) = parse_backend_name(b).unwrap_or_else(|| panic!("{b}"));
        assert!(
            [
                "shop/web",
                "shop/instances",
                "db",
                "front",
                "nothing",
                "shop/checkout/web"
            ]
            .contains(&g.as_str()),
            "{g}"
        );
        assert!(!r.is_empty());
    }
}

#[test]
fn engine_and_export_agree_on_unsupported_raw_acls() {
    let (name, g) = common::gateway(
        "name: g\nport: 18090\nroutes:\n  a:\n    condition: < src 10.0.0.0/8 >\n  b: {}\n",
    );
    // The engine cannot evaluate `src`...
    let err = Engine::compile(&name, &g, &options()).unwrap_err();
    assert_eq!(err.code, Code::UnsupportedAcl);
    // ...HAProxy can: the export passes it through.
    let cfg = export(&[(&name, &g)], &options(), &ExportOptions::default()).expect("export");
    assert!(cfg.contains(" src 10.0.0.0/8\n"), "{cfg}");
    check_config(&cfg);
}

#[test]
fn export_errors() {
    let (name, g) = common::gateway("name: g\nroutes:\n  a: {}\n");
    let err = export(&[(&name, &g)], &options(), &ExportOptions::default()).unwrap_err();
    assert_eq!(err.code, Code::UnresolvedGatewayPort);
    let gws = gateways(
        "name: a\nport: 9000\nroutes:\n  x: {}\n---\nname: b\nport: 9000\nroutes:\n  y: {}\n",
    );
    let refs: Vec<_> = gws.iter().map(|(n, g)| (n.as_str(), g)).collect();
    let err = export(&refs, &options(), &ExportOptions::default()).unwrap_err();
    assert_eq!(err.code, Code::DuplicateGatewayPort);
    let (name, g) =
        common::gateway("name: g\nport: 9000\nroutes:\n  a:\n    condition: user-agent ==\n");
    let err = export(&[(&name, &g)], &options(), &ExportOptions::default()).unwrap_err();
    assert_eq!(err.code, Code::Parser);
    let (name, g) =
        common::gateway("name: g\nport: 9000/tcp\nroutes:\n  a:\n    condition: has cookie x\n");
    let err = export(&[(&name, &g)], &options(), &ExportOptions::default()).unwrap_err();
    assert_eq!(err.code, Code::ConditionPortType);
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
    let refs: Vec<_> = gws.iter().map(|(n, g)| (n.as_str(), g)).collect();
    let start = Instant::now();
    let cfg = export(&refs, &options(), &ExportOptions::default()).expect("export");
    let took = start.elapsed();
    assert!(
        took.as_secs_f64() < 1.0,
        "rendering 1,000 gateways took {took:?}"
    );
    assert_eq!(cfg.matches("\nfrontend g").count(), 1000);
    check_config(&cfg);
}
