//! The DSL writer: every kind of artifact, written as DSL YAML and read
//! back, is the same artifact (compared by canonical JSON, since positions
//! differ), including names the DSL uses as field names elsewhere.

use vamp_dsl::write::to_yaml;
use vamp_dsl::{read, ReadOptions};
use vamp_model::{Artifact, Document, Kind, Scale};

/// Reads written YAML back as one document of `kind`, without any diagnostic.
fn read_back(kind: Kind, yaml: &str) -> Document {
    let mut again = read(
        yaml,
        ReadOptions {
            kind: Some(kind),
            ..ReadOptions::default()
        },
    );
    assert!(
        again.first_error().is_none(),
        "{:?}\n{yaml}",
        again.first_error()
    );
    assert!(
        again.diagnostics.is_empty(),
        "{:?}\n{yaml}",
        again.diagnostics
    );
    assert_eq!(again.documents.len(), 1, "{yaml}");
    again.documents.remove(0)
}

/// Reads `src` (one document), writes it, reads it back: same artifact.
fn check(kind: Kind, src: &str) {
    let out = read(src, ReadOptions::default());
    assert!(out.first_error().is_none(), "{:?}", out.first_error());
    assert_eq!(out.documents.len(), 1);
    let doc = &out.documents[0];
    assert_eq!(doc.kind(), kind);
    let yaml = to_yaml(doc);
    let json = |d: &Document| serde_json::to_value(d).expect("json");
    assert_eq!(json(&read_back(kind, &yaml)), json(doc), "{yaml}");
}

#[test]
fn breed() {
    check(
        Kind::Breed,
        "kind: breed
name: web:1
metadata: {team: shop, tags: [a, b]}
deployable:
  type: rkt
  definition: acme/web:1
ports: {web: 8080/http, admin: 9000/tcp}
environment_variables:
  debug[WEB_DEBUG]: 'true'
  TOKEN: ~
constants: {ZONE: eu}
arguments:
  - privileged: 'true'
dependencies:
  db: mysql:5
  cache:
    name: redis:6
    deployable: redis:6
    ports: {port: 6379/tcp}
health_checks:
  - path: /health
    port: web
    initial_delay: 10s
    timeout: 5s
    interval: 10s
    failures: 3
    protocol: HTTP
",
    );
}

#[test]
fn blueprint() {
    // Clusters and routes named like the fields of a scale or a route.
    check(
        Kind::Blueprint,
        "kind: blueprint
name: shop
gateways:
  8080/tcp:
    routes:
      memory/web: 100%
  shop_gw:
    port: 9050
    sticky: instance
    routes:
      weight/web:
        weight: 30%
      memory/web:
        weight: 70%
        condition: User-Agent = Firefox
        condition_strength: 50%
        rewrites:
          - path: /a/b if hdr(host) -i x
environment_variables:
  weight.environment_variables.PORT: '80'
clusters:
  weight:
    metadata: {owner: ops}
    services:
      - breed:
          name: web:1
          deployable: acme/web:1
          ports: {web: 80}
          environment_variables: {PORT: ~}
        scale: {cpu: 0.25, memory: 512MB, instances: 2}
        dialects: {docker: {labels: {a: b}}}
    gateways:
      web:
        routes:
          web:1:
            weight: 100%
    sla: my_sla
  memory:
    services:
      breed: api:1
      scale: small
    network: host
",
    );
}

#[test]
fn gateway() {
    check(
        Kind::Gateway,
        "kind: gateway
name: sava
port: 8080/http
sticky: route
virtual_hosts: [sava.example]
routes:
  sava1:
    weight: 50%
    condition:
      reference: ios
  sava2/v1:
    weight: 50%
    rewrites:
      - reference: strip
",
    );
}

/// A stored rewrite is written `path: NEW if CONDITION`, the only form the
/// DSL reads (it used to be written as its canonical `path` and `condition`).
#[test]
fn condition_and_rewrite() {
    check(
        Kind::Condition,
        "kind: condition\nname: ios\ndefinition: User-Agent = iPhone\n",
    );
    check(
        Kind::Rewrite,
        "kind: rewrite\nname: strip\npath: /x if hdr(host) -i y\n",
    );
}

#[test]
fn scale() {
    check(
        Kind::Scale,
        "kind: scale\nname: small\ncpu: 0.5\nmemory: 1.5GB\ninstances: 3\n",
    );
}

#[test]
fn sla() {
    check(
        Kind::Sla,
        "kind: sla
name: red
type: response_time_sliding_window
threshold: {upper: 1000, lower: 100}
window: {interval: 600, cooldown: 600}
escalations:
  - notify
  - to_one:
      - type: scale_instances
        minimum: 1
        maximum: 4
        scale_by: 1
      - type: scale_cpu
        minimum: 0.5
        maximum: 4
        scale_by: 0.5
        target: backend
",
    );
    check(
        Kind::Sla,
        "kind: sla\nname: custom\ntype: my_sla\nlimit: 10\nmode: strict\nescalations: [notify]\n",
    );
}

#[test]
fn escalation() {
    check(
        Kind::Escalation,
        "kind: escalation\nname: up\ntype: scale_memory\nminimum: 512\nmaximum: 2048\nscale_by: 256\n",
    );
    check(
        Kind::Escalation,
        "kind: escalation\nname: page\ntype: pager\nchannel: ops\n",
    );
}

#[test]
fn workflow() {
    check(
        Kind::Workflow,
        "kind: workflow
name: health
breed: health-breed:1
schedule: {time: P1D}
scale: {cpu: 0.1, memory: 128MB, instances: 1}
environment_variables: {VAMP_URL: 'http://vamp'}
arguments:
  - privileged: 'true'
",
    );
    check(
        Kind::Workflow,
        "kind: workflow\nname: daemon\nbreed: {name: w:1, deployable: acme/w:1}\nschedule: daemon\nscale: small\n",
    );
}

/// Found by the `compose` fuzz target: tiny and huge values were written
/// in exponent form (`5e-6MB`), which the DSL does not read.
#[test]
fn rollout() {
    check(
        Kind::Rollout,
        include_str!("../../examples/cart-rollout.yml"),
    );
    check(
        Kind::Rollout,
        "kind: rollout
name: r
deployment: d
cluster: c
from: a
to: b
steps: [50%, 100%]
analysis:
  metrics:
    - error_rate: {max: 2%}
on_failure: undeploy
on_inconclusive: promote
",
    );
}

#[test]
fn extreme_scales_round_trip_through_yaml() {
    let cases = [
        (0.000001, 0.000005),
        (1e-9, 5.0e-6),
        (123456789.0, 1e15),
        (0.5, 536.870912),
        (1e300, 2.330168888888889e125),
        (5e-324, f64::MAX),
    ];
    for (cpu, memory) in cases {
        let doc = Document::Scale(Artifact::new(
            "s",
            Scale {
                cpu,
                memory,
                instances: 1,
            },
        ));
        let yaml = to_yaml(&doc);
        let exponent = yaml
            .as_bytes()
            .windows(2)
            .any(|w| w[0].is_ascii_digit() && (w[1] == b'e' || w[1] == b'E'));
        assert!(!exponent, "{yaml}");
        assert_eq!(read_back(Kind::Scale, &yaml), doc, "{yaml}");
    }
}
