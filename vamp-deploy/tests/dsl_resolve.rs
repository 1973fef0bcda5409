//! The resolver on YAML input: every error with its code and position, and
//! the environment-variable scope examples of the documentation.

use vamp_deploy::lifecycle::{merge, remove};
use vamp_deploy::resolve::{resolve_blueprint, resolve_blueprint_with, FixedRuntime};
use vamp_deploy::store::MemoryStore;
use vamp_dsl::{read, ReadOptions};
use vamp_model::{Artifact, Blueprint, Code, Deployment, Diagnostic, Document, Kind};

fn store(yaml: &str) -> MemoryStore {
    if yaml.trim().is_empty() {
        return MemoryStore::default();
    }
    let out = read(yaml, ReadOptions::default());
    assert!(out.first_error().is_none(), "{:?}", out.first_error());
    MemoryStore::with(out.documents)
}

fn blueprint(yaml: &str) -> Artifact<Blueprint> {
    let out = read(
        yaml,
        ReadOptions {
            kind: Some(Kind::Blueprint),
            ..ReadOptions::default()
        },
    );
    assert!(out.first_error().is_none(), "{:?}", out.first_error());
    match out.documents.into_iter().next() {
        Some(Document::Blueprint(b)) => b,
        other => panic!("not a blueprint: {other:?}"),
    }
}

fn resolve(stored: &str, bp: &str) -> Result<Artifact<Deployment>, Diagnostic> {
    resolve_blueprint(&blueprint(bp), &store(stored))
}

/// Asserts the error's code and 1-based line and column.
fn check_error(stored: &str, bp: &str, code: Code, (line, column): (u32, u32)) -> Diagnostic {
    let d = resolve(stored, bp).expect_err("resolution should fail");
    assert_eq!(d.code, code, "{d:?}");
    let span = d.span.expect("a position");
    assert_eq!((span.line, span.column), (line, column), "{d:?}");
    d
}

fn env(d: &Artifact<Deployment>, cluster: &str, i: usize) -> Vec<(String, String)> {
    d.spec.clusters[cluster].services[i]
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

const MYSQL: &str = "
kind: breed
name: mysql
deployable: mysql:8
ports: {port: 3306/tcp}
environment_variables:
  ROOT_PASSWORD: ~
  USER: shop
constants:
  SCHEMA: customers
";

// ---------------------------------------------------------------------------
// Errors.

#[test]
fn unknown_breed_reference() {
    let d = check_error(
        "",
        "name: shop\nclusters:\n  web:\n    breed: web:1\n",
        Code::UnresolvedDependency,
        (4, 12),
    );
    assert!(d.message.contains("web:1"), "{}", d.message);
    assert_eq!(d.path, "clusters.web.services[0].breed");
}

#[test]
fn unknown_scale_reference() {
    let bp = "name: shop\nclusters:\n  db:\n    breed: mysql\n    scale: huge\n    environment_variables: {ROOT_PASSWORD: x}\n";
    let d = check_error(MYSQL, bp, Code::UnresolvedDependency, (5, 12));
    assert!(d.message.contains("scale `huge`"), "{}", d.message);
}

#[test]
fn unknown_sla_and_escalation_references() {
    let bp = "name: shop\nclusters:\n  db:\n    sla: strict\n    services:\n      - breed: mysql\n        environment_variables: {ROOT_PASSWORD: x}\n";
    let d = check_error(MYSQL, bp, Code::UnresolvedDependency, (4, 10));
    assert!(d.message.contains("sla `strict`"), "{}", d.message);
    let stored = format!(
        "{MYSQL}---\nkind: sla\nname: strict\ntype: escalation_only\nescalations: [red-flag]\n"
    );
    let d = check_error(&stored, bp, Code::UnresolvedDependency, (4, 10));
    assert!(d.message.contains("escalation `red-flag`"), "{}", d.message);
}

#[test]
fn unknown_condition_reference() {
    let bp = "name: shop\nclusters:\n  db:\n    gateways:\n      port:\n        routes:\n          mysql:\n            condition: {reference: ios}\n    services:\n      - breed: mysql\n        environment_variables: {ROOT_PASSWORD: x}\n";
    let d = resolve(MYSQL, bp).expect_err("fails");
    assert_eq!(d.code, Code::UnresolvedDependency);
    assert_eq!(d.span.map(|s| s.line), Some(8));
    assert!(d.message.contains("condition `ios`"));
}

#[test]
fn missing_breed_dependency() {
    let stored = "kind: breed\nname: web\ndeployable: acme/web\ndependencies: {db: mysql}\n";
    let bp = "name: shop\nclusters:\n  web: web\n";
    let d = check_error(stored, bp, Code::UnresolvedBreedDependency, (3, 8));
    assert!(
        d.message.contains("`mysql`") && d.message.contains("`db`"),
        "{}",
        d.message
    );
}

#[test]
fn recursive_dependencies_name_the_cycle() {
    let stored = "kind: breed\nname: a\ndeployable: x/a\ndependencies: {b: b}\n---\nkind: breed\nname: b\ndeployable: x/b\ndependencies: {a: a}\n";
    let bp = "name: shop\nclusters:\n  one: a\n  two: b\n";
    let d = check_error(stored, bp, Code::RecursiveDependencies, (3, 8));
    assert!(d.message.contains("a -> b -> a"), "{}", d.message);
}

#[test]
fn place_holder_not_filled() {
    let d = check_error(
        MYSQL,
        "name: shop\nclusters:\n  db: mysql\n",
        Code::MissingEnvironmentVariable,
        (3, 7),
    );
    assert!(d.message.contains("ROOT_PASSWORD"), "{}", d.message);
    // An inline breed points at the place holder itself.
    let bp = "name: shop\nclusters:\n  db:\n    breed:\n      name: pg\n      deployable: pg\n      environment_variables:\n        PASSWORD: ~\n";
    check_error("", bp, Code::MissingEnvironmentVariable, (8, 19));
}

#[test]
fn blueprint_variable_unknown_to_the_stored_breed() {
    let bp = "name: shop\nenvironment_variables:\n  db.NOPE: 1\nclusters:\n  db:\n    breed: mysql\n    environment_variables: {ROOT_PASSWORD: x}\n";
    let d = check_error(MYSQL, bp, Code::UnresolvedEnvironmentVariable, (3, 3));
    assert!(d.message.contains("NOPE"));
}

#[test]
fn service_override_unknown_to_the_stored_breed() {
    let bp = "name: shop\nclusters:\n  db:\n    breed: mysql\n    environment_variables: {ROOT_PASSWORD: x, NOPE: y}\n";
    check_error(MYSQL, bp, Code::UnresolvedDependencyInTraitValue, (5, 53));
}

#[test]
fn references_to_missing_traits() {
    let web = |value: &str| {
        format!("{MYSQL}---\nkind: breed\nname: web\ndeployable: acme/web\nenvironment_variables:\n  X: {value}\ndependencies: {{db: mysql}}\n")
    };
    let bp = "name: shop\nclusters:\n  web: web\n  db:\n    breed: mysql\n    environment_variables: {ROOT_PASSWORD: x}\n";
    for bad in [
        "$db.ports.nope",
        "$db.constants.NOPE",
        "$db.environment_variables.NOPE",
        "$db.other.X",
    ] {
        let d = check_error(
            &web(bad),
            bp,
            Code::UnresolvedDependencyInTraitValue,
            (3, 8),
        );
        assert!(d.path.ends_with("environment_variables.X"), "{}", d.path);
    }
    let over = "name: shop\nclusters:\n  web:\n    breed: web\n    environment_variables: {X: $cache.host}\n  db:\n    breed: mysql\n    environment_variables: {ROOT_PASSWORD: x}\n";
    check_error(
        &web("1"),
        over,
        Code::UnresolvedDependencyInTraitValue,
        (5, 32),
    );
    check_error(
        &web("$NOPE"),
        bp,
        Code::UnresolvedEnvironmentVariable,
        (3, 8),
    );
}

#[test]
fn gateways_with_referenced_breeds() {
    let stored = "kind: breed\nname: web:1\ndeployable: w\nports: {web: 80}\n---\nkind: breed\nname: web:2\ndeployable: w\nports: {web: 80}\n";
    // The route names no service of the cluster.
    let bp = "name: shop\nclusters:\n  web:\n    gateways:\n      web:\n        routes:\n          web:3: {weight: 100%}\n    services: [web:1, web:2]\n";
    check_error(stored, bp, Code::UnresolvedServiceRoute, (7, 18));
    // The port is offered by no breed.
    let bp = "name: shop\nclusters:\n  web:\n    gateways:\n      admin:\n        routes:\n          web:1: {weight: 100%}\n    services: [web:1, web:2]\n";
    check_error(stored, bp, Code::UnresolvedGatewayPort, (5, 7));
    // Unweighted routes share what is left: 33/33/34.
    let three =
        format!("{stored}---\nkind: breed\nname: web:3\ndeployable: w\nports: {{web: 80}}\n");
    let d = resolve(
        &three,
        "name: shop\nclusters:\n  web: [web:1, web:2, web:3]\n",
    )
    .expect("resolves");
    assert_eq!(weights(&d), vec![33, 33, 34]);
    // Routes all written as 0% stay at 0% (the one rule of
    // `vamp_model::weights::fill`, as the router compiles them).
    let zero = "name: shop\nclusters:\n  web:\n    gateways:\n      web:\n        routes:\n          web:1: {weight: 0%}\n          web:2: {weight: 0%}\n    services: [web:1, web:2]\n";
    assert_eq!(
        weights(&resolve(stored, zero).expect("resolves")),
        vec![0, 0]
    );
}

/// The store of `stored` and deployment `shop` of `web:1` resolved in it.
fn shop_of_web_1(stored: &str) -> (MemoryStore, Artifact<Deployment>) {
    let s = store(stored);
    let d = resolve_blueprint(&blueprint("name: shop\nclusters:\n  web: web:1\n"), &s)
        .expect("resolves");
    (s, d)
}

/// The filled weights of cluster `web`'s gateway `web`, in route order.
fn weights(d: &Artifact<Deployment>) -> Vec<u8> {
    d.spec.clusters["web"].gateways["web"]
        .routes
        .values()
        .map(|r| r.as_inline().and_then(|r| r.weight).unwrap_or(0))
        .collect()
}

#[test]
fn escalation_target_of_a_stored_sla() {
    let stored = format!("{MYSQL}---\nkind: sla\nname: grow\ntype: escalation_only\nescalations:\n  - type: scale_instances\n    minimum: 1\n    maximum: 3\n    scale_by: 1\n    target: nowhere\n");
    let bp = "name: shop\nclusters:\n  db:\n    sla: grow\n    services:\n      - breed: mysql\n        environment_variables: {ROOT_PASSWORD: x}\n";
    let d = resolve(&stored, bp).expect_err("fails");
    assert_eq!(d.code, Code::UnresolvedScaleEscalationTargetCluster);
    assert!(d.span.is_some());
}

#[test]
fn removal_refused_while_the_service_has_weight() {
    let stored = "kind: breed\nname: web:1\ndeployable: w\nports: {web: 80}\n---\nkind: breed\nname: web:2\ndeployable: w\nports: {web: 80}\n";
    let (s, d) = shop_of_web_1(stored);
    let canary = blueprint("name: canary\nclusters:\n  web:\n    gateways:\n      web:\n        routes:\n          web:1: {weight: 50%}\n          web:2: {weight: 50%}\n    services: [web:2]\n");
    let plan = merge(&d, &canary, &s).expect("merges");
    let d2 = remove(
        &plan.deployment,
        &blueprint("name: canary\nclusters:\n  web:\n    - web:2\n"),
    )
    .expect_err("refused");
    assert_eq!(d2.code, Code::InvalidRouteWeight);
    assert_eq!(d2.span.map(|s| (s.line, s.column)), Some((4, 7)));
}

#[test]
fn merge_of_a_breed_that_runs_elsewhere() {
    let stored = "kind: breed\nname: web:1\ndeployable: w\n";
    let (s, d) = shop_of_web_1(stored);
    let e = merge(&d, &blueprint("name: other\nclusters:\n  api: web:1\n"), &s).expect_err("fails");
    assert_eq!(e.code, Code::NonUniqueBreedReference);
    assert_eq!(e.span.map(|s| (s.line, s.column)), Some((3, 8)));
}

#[test]
fn removal_of_a_dependency_that_is_still_needed() {
    let stored =
        format!("{MYSQL}---\nkind: breed\nname: web\ndeployable: w\ndependencies: {{db: mysql}}\n");
    let s = store(&stored);
    let d = resolve_blueprint(&blueprint("name: shop\nenvironment_variables: {db.ROOT_PASSWORD: x}\nclusters:\n  web: web\n  db: mysql\n"), &s).expect("resolves");
    let e = remove(&d, &blueprint("name: shop\nclusters:\n  db: mysql\n")).expect_err("refused");
    assert_eq!(e.code, Code::UnresolvedBreedDependency);
    assert_eq!(e.span.map(|s| (s.line, s.column)), Some((3, 7)));
}

// ---------------------------------------------------------------------------
// The scopes of dsl-reference §3.6.

const CHECKOUT: &str = "
kind: breed
name: checkout:1.4
deployable: shop/checkout:1.4
environment_variables: {CART_TTL: 900, 'log_level[CHECKOUT_LOG_LEVEL]': info}
---
kind: breed
name: checkout:1.5
deployable: shop/checkout:1.5
environment_variables: {CART_TTL: 900, 'log_level[CHECKOUT_LOG_LEVEL]': info}
";

#[test]
fn override_per_cluster_and_per_service() {
    let bp = "
name: shop
environment_variables:
  checkout.environment_variables.CART_TTL: 1800
clusters:
  checkout:
    services:
      - breed: checkout:1.4
      - breed: checkout:1.5
        environment_variables: {CART_TTL: 600}
";
    let d = resolve(CHECKOUT, bp).expect("resolves");
    assert_eq!(
        env(&d, "checkout", 0),
        pairs(&[("CART_TTL", "1800"), ("CHECKOUT_LOG_LEVEL", "info")])
    );
    assert_eq!(
        env(&d, "checkout", 1),
        pairs(&[("CART_TTL", "600"), ("CHECKOUT_LOG_LEVEL", "info")])
    );
    // The documentation's short form `cluster.NAME` means the same.
    let short = bp.replace(
        "checkout.environment_variables.CART_TTL",
        "checkout.CART_TTL",
    );
    let again = resolve(CHECKOUT, &short).expect("resolves");
    assert_eq!(
        serde_json::to_value(&again).ok(),
        serde_json::to_value(&d).ok()
    );
}

#[test]
fn aliases_at_every_scope() {
    let bp = "
name: shop
clusters:
  checkout:
    services:
      - breed: checkout:1.4
        environment_variables: {log_level: debug}
      - breed: checkout:1.5
        environment_variables: {'log_level[LOG]': warn}
";
    let d = resolve(CHECKOUT, bp).expect("resolves");
    // The breed's alias is kept when the override names none.
    assert_eq!(
        env(&d, "checkout", 0)[1],
        ("CHECKOUT_LOG_LEVEL".to_owned(), "debug".to_owned())
    );
    assert_eq!(
        env(&d, "checkout", 1)[1],
        ("LOG".to_owned(), "warn".to_owned())
    );
}

#[test]
fn place_holders_filled_by_a_higher_scope() {
    let by_service = "name: shop\nclusters:\n  db:\n    breed: mysql\n    environment_variables: {ROOT_PASSWORD: s3cret}\n";
    let d = resolve(MYSQL, by_service).expect("resolves");
    assert_eq!(
        env(&d, "db", 0),
        pairs(&[("ROOT_PASSWORD", "s3cret"), ("USER", "shop")])
    );
    let by_cluster = "name: shop\nenvironment_variables: {db.ROOT_PASSWORD: fromcluster}\nclusters:\n  db: mysql\n";
    let d = resolve(MYSQL, by_cluster).expect("resolves");
    assert_eq!(
        env(&d, "db", 0),
        pairs(&[("ROOT_PASSWORD", "fromcluster"), ("USER", "shop")])
    );
}

const WEB: &str = "
---
kind: breed
name: web
deployable: shop/web
ports: {http: 8080}
environment_variables:
  DB_URL: jdbc:mysql://$db.host:$db.ports.port/$db.constants.SCHEMA
  DB_ADDRESS: ${db.host}:${db.ports.port}
  DB_USER: $db.environment_variables.USER
  PRICE: 5$$
  GREETING: hello $WHO
  WHO: ${env://USER}
  TABLE: ${PREFIX}_orders
constants:
  PREFIX: shop
dependencies: {db: mysql}
";

const SHOP: &str = "
name: shop
environment_variables:
  database.ROOT_PASSWORD: pw
  database.USER: ledger
clusters:
  frontend: web
  database: mysql
";

#[test]
fn references_to_a_dependency() {
    let stored = format!("{MYSQL}{WEB}");
    let d = resolve(&stored, SHOP).expect("resolves");
    let svc = &d.spec.clusters["frontend"].services[0];
    assert_eq!(
        svc.dependencies.get("db").map(String::as_str),
        Some("database")
    );
    // Without a runtime, hosts, ports and globals stay as reference text.
    assert_eq!(
        env(&d, "frontend", 0),
        pairs(&[
            ("DB_URL", "jdbc:mysql://$db.host:$db.ports.port/customers"),
            ("DB_ADDRESS", "$db.host:$db.ports.port"),
            ("DB_USER", "ledger"),
            ("PRICE", "5$"),
            ("GREETING", "hello ${env://USER}"),
            ("WHO", "${env://USER}"),
            ("TABLE", "shop_orders"),
        ])
    );
    // With a runtime they are filled.
    let mut rt = FixedRuntime {
        host: Some("10.0.0.7".to_owned()),
        ..FixedRuntime::default()
    };
    rt.ports
        .insert(("database".to_owned(), "port".to_owned()), 40001);
    rt.globals
        .insert(("env".to_owned(), "USER".to_owned()), "ada".to_owned());
    let d = resolve_blueprint_with(&blueprint(SHOP), &store(&stored), &rt).expect("resolves");
    assert_eq!(
        env(&d, "frontend", 0),
        pairs(&[
            ("DB_URL", "jdbc:mysql://10.0.0.7:40001/customers"),
            ("DB_ADDRESS", "10.0.0.7:40001"),
            ("DB_USER", "ledger"),
            ("PRICE", "5$"),
            ("GREETING", "hello ada"),
            ("WHO", "ada"),
            ("TABLE", "shop_orders"),
        ])
    );
}

#[test]
fn canonical_output_reads_back() {
    let stored = format!("{MYSQL}{WEB}");
    let d = resolve(&stored, SHOP).expect("resolves");
    let json = serde_json::to_value(&d).expect("json");
    assert_eq!(json["kind"], "deployment");
    assert_eq!(
        json["clusters"]["frontend"]["services"][0]["status"],
        serde_json::json!({"intention": "deploy", "phase": "initiated"})
    );
    let back = Deployment::from_json(&json).expect("reads back");
    assert_eq!(serde_json::to_value(&back).expect("json"), json);
}

#[test]
fn deploy_order_puts_dependencies_first() {
    let stored = format!("{MYSQL}{WEB}");
    let d = resolve(&stored, SHOP).expect("resolves");
    let order = vamp_deploy::resolve::deploy_order(&d.spec).expect("no cycle");
    let names: Vec<&str> = order.iter().map(|s| s.cluster.as_str()).collect();
    assert_eq!(names, vec!["database", "frontend"]);
}
