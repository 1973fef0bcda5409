//! Docker Compose import: the fixtures under `fixtures/compose/`, every
//! error and warning with its code and position, hostile input, a snapshot
//! and the round trip through the DSL (`vamp-deploy/tests/compose.rs`
//! resolves imported blueprints).

use vamp_dsl::compose::{import, import_bytes, ImportOptions, ImportOutcome};
use vamp_dsl::write::to_yaml;
use vamp_dsl::{read, ReadOptions};
use vamp_model::{Artifact, Blueprint, Code, Document, Kind, Severity};

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compose")
        .join(name);
    std::fs::read_to_string(path).expect("fixture exists")
}

fn imported(name: &str) -> (Artifact<Blueprint>, ImportOutcome) {
    let out = import(
        &fixture(name),
        ImportOptions {
            name: Some("shop".into()),
            ..ImportOptions::default()
        },
    );
    assert!(out.first_error().is_none(), "{:?}", out.first_error());
    (out.blueprint.clone().expect("a blueprint"), out)
}

fn json(bp: &Artifact<Blueprint>) -> serde_json::Value {
    serde_json::to_value(bp).expect("serializable")
}

/// Every diagnostic as (severity, code, line, column), in reported order.
fn positions(out: &ImportOutcome) -> Vec<(Severity, &'static str, u32, u32)> {
    out.diagnostics
        .iter()
        .map(|d| {
            let s = d.span.expect("every diagnostic has a position");
            (d.severity, d.code.as_str(), s.line, s.column)
        })
        .collect()
}

/// Asserts that the diagnostics are of this severity, with these codes at
/// these positions, in this order.
fn check_positions(out: &ImportOutcome, severity: Severity, expected: &[(&str, u32, u32)]) {
    let expected: Vec<_> = expected
        .iter()
        .map(|&(code, line, column)| (severity, code, line, column))
        .collect();
    assert_eq!(positions(out), expected);
}

/// The one error of a small file, with its code and position.
fn check_error(src: &str, code: Code, line: u32, column: u32) {
    let out = import(src, ImportOptions::default());
    let errors: Vec<_> = out.errors().collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = errors[0];
    assert_eq!(e.code, code, "{e:?}");
    let s = e.span.expect("positioned");
    assert_eq!((s.line, s.column), (line, column), "{e:?}");
    assert!(out.blueprint.is_none());
}

#[test]
fn wordpress_and_mysql() {
    let (bp, out) = imported("wordpress.yml");
    let j = json(&bp);
    assert_eq!(j["name"], "shop");
    let db = &j["clusters"]["db"]["services"][0];
    assert_eq!(db["breed"]["name"], "db:8.0");
    assert_eq!(db["breed"]["deployable"]["definition"], "mysql:8.0");
    assert_eq!(db["breed"]["ports"]["port_3306"]["type"], "tcp");
    assert_eq!(
        db["breed"]["environment_variables"]["MYSQL_ROOT_PASSWORD"]["value"],
        "${env://MYSQL_ROOT_PASSWORD}"
    );
    assert_eq!(db["scale"]["cpu"], 0.5);
    assert_eq!(db["scale"]["memory"], 536.870912);
    let wp = &j["clusters"]["wordpress"]["services"][0];
    assert_eq!(wp["breed"]["name"], "wordpress:6.4-apache");
    assert_eq!(wp["breed"]["ports"]["port_80"]["type"], "http");
    assert_eq!(wp["breed"]["dependencies"]["db"]["reference"], "db:8.0");
    assert_eq!(
        wp["breed"]["environment_variables"]["WORDPRESS_DEBUG"]["value"],
        "0"
    );
    assert_eq!(
        wp["breed"]["environment_variables"]["WORDPRESS_CONFIG_EXTRA"]["value"],
        "define('WP_HOME', 'http://$$host');"
    );
    assert_eq!(
        wp["scale"],
        serde_json::json!({"cpu": 1.0, "memory": 1000.0, "instances": 2})
    );
    assert_eq!(j["gateways"]["8000"]["port"]["value"], "8000");
    assert!(j["gateways"]["8000"]["routes"]
        .get("wordpress/port_80")
        .is_some());
    check_positions(
        &out,
        Severity::Warning,
        &[
            ("unsupported_compose_field", 7, 5),
            ("unsupported_compose_field", 8, 5),
            ("unsupported_compose_field", 10, 5),
            ("unsupported_compose_field", 30, 5),
            ("unsupported_compose_field", 32, 26),
            ("unsupported_compose_field", 41, 1),
        ],
    );
    assert!(out.diagnostics[4].message.contains("`db:3306`"));
    assert!(out.diagnostics[4]
        .help
        .as_deref()
        .is_some_and(|h| h.contains("$db.host")));
}

#[test]
fn wordpress_snapshot() {
    let (bp, _) = imported("wordpress.yml");
    insta::assert_json_snapshot!(json(&bp));
}

#[test]
fn version_2_file() {
    let (bp, out) = imported("v2.yml");
    check_positions(
        &out,
        Severity::Warning,
        &[
            ("unsupported_compose_field", 14, 9),
            ("missing_environment_variable", 15, 9),
        ],
    );
    assert!(out.diagnostics[0].message.contains("`cache`"));
    let j = json(&bp);
    let redis = &j["clusters"]["redis"]["services"][0];
    assert_eq!(
        redis["scale"],
        serde_json::json!({"cpu": 0.25, "memory": 268.435456, "instances": 1})
    );
    let api = &j["clusters"]["api"]["services"][0];
    assert_eq!(api["breed"]["name"], "api:latest");
    assert_eq!(
        api["breed"]["deployable"]["definition"],
        "registry.example.org:5000/team/api"
    );
    assert_eq!(api["scale"]["instances"], 3);
    assert_eq!(api["scale"]["memory"], 1073.741824);
    assert_eq!(
        api["breed"]["dependencies"]["cache"]["reference"],
        "redis:7-alpine"
    );
    let env = &api["breed"]["environment_variables"];
    assert_eq!(env["REDIS_URL"]["value"], "redis://cache:6379");
    assert!(env["API_TOKEN"]["value"].is_null());
    assert_eq!(env["EMPTY"]["value"], "");
    assert_eq!(
        j["gateways"]["9000"]["routes"]["api/port_8080"]["weight"],
        serde_json::Value::Null
    );
}

#[test]
fn long_port_syntax() {
    let (bp, out) = imported("long-ports.yml");
    assert_eq!(out.diagnostics.len(), 0, "{:?}", out.diagnostics);
    let j = json(&bp);
    let ports = &j["clusters"]["edge"]["services"][0]["breed"]["ports"];
    let names: Vec<&String> = ports.as_object().expect("ports").keys().collect();
    assert_eq!(names, ["port_80", "dashboard", "port_443", "port_9100"]);
    assert_eq!(ports["port_80"]["value"], "80/tcp");
    assert_eq!(ports["dashboard"]["type"], "http");
    assert_eq!(ports["port_443"]["type"], "tcp");
    assert_eq!(ports["port_9100"]["type"], "http");
    let gws: Vec<&String> = j["gateways"]
        .as_object()
        .expect("gateways")
        .keys()
        .collect();
    assert_eq!(gws, ["8080", "9090", "8443"]);
    assert_eq!(j["gateways"]["8080"]["port"]["type"], "tcp");
    assert_eq!(j["gateways"]["8443"]["port"]["value"], "8443/tcp");
    assert!(j["gateways"]["9090"]["routes"]
        .get("edge/dashboard")
        .is_some());
}

#[test]
fn every_error_with_its_position() {
    let out = import(&fixture("errors.yml"), ImportOptions::default());
    assert!(out.blueprint.is_none());
    check_positions(
        &out,
        Severity::Error,
        &[
            ("illegal_name", 2, 3),
            ("missing_path_value", 5, 5),
            ("unsupported_protocol", 9, 9),
            ("invalid_gateway_port", 10, 9),
            ("unexpected_type", 11, 9),
            ("unresolved_breed_dependency", 12, 18),
            ("unsupported_compose_field", 13, 5),
            ("illegal_name", 15, 9),
            ("unexpected_type", 17, 17),
            ("unexpected_type", 20, 19),
            ("compose_interpolation", 22, 12),
            ("duplicate_gateway_port", 25, 9),
        ],
    );
    let build = &out.diagnostics[1];
    assert!(build.message.contains("add `image:`"), "{}", build.message);
}

#[test]
fn every_warning_with_its_position() {
    let (bp, out) = imported("warnings.yml");
    check_positions(
        &out,
        Severity::Warning,
        &[
            ("unsupported_compose_field", 5, 5),
            ("unsupported_compose_field", 6, 5),
            ("unsupported_compose_field", 8, 5),
            ("unsupported_compose_field", 9, 5),
            ("unsupported_compose_field", 10, 5),
            ("unsupported_compose_field", 11, 5),
            ("compose_interpolation", 14, 13),
            ("compose_interpolation", 15, 12),
            ("unsupported_compose_field", 17, 9),
            ("unsupported_compose_field", 19, 7),
            ("unsupported_compose_field", 21, 1),
        ],
    );
    for (i, field) in ["command", "healthcheck", "volumes", "networks", "env_file"]
        .iter()
        .enumerate()
    {
        assert!(out.diagnostics[i].path.ends_with(field));
    }
    assert_eq!(
        out.diagnostics[5].help.as_deref(),
        Some("did you mean `environment`?")
    );
    let j = json(&bp);
    let env = &j["clusters"]["web"]["services"][0]["breed"]["environment_variables"];
    assert_eq!(env["PORT"]["value"], "8080");
    assert_eq!(env["URL"]["value"], "${env://URL}");
    // A port published on loopback stays internal.
    assert_eq!(j["gateways"], serde_json::json!({}));
}

#[test]
fn smaller_errors() {
    check_error("services: {}\n", Code::NoService, 1, 11);
    // Found by the `compose` fuzz target: the breed name takes the image
    // tag, so a huge tag must fail as a DSL name would.
    check_error(
        &format!("services:\n  db:\n    image: mysql:{}\n", "9".repeat(1100)),
        Code::ResourceLimit,
        2,
        3,
    );
    check_error("version: '3'\n", Code::MissingPathValue, 1, 1);
    check_error(
        "web:\n  image: nginx\n",
        Code::UnsupportedComposeField,
        1,
        1,
    );
    check_error(
        "version: '1'\nservices:\n  a: {image: a}\n",
        Code::UnsupportedComposeField,
        1,
        10,
    );
    check_error("- a\n", Code::UnexpectedType, 1, 1);
    check_error(
        "services:\n  a:\n    image: a\n    depends_on: [a]\n",
        Code::RecursiveDependencies,
        4,
        18,
    );
    check_error(
        "services:\n  a:\n    image: a\n    ports: '80'\n",
        Code::UnexpectedType,
        4,
        12,
    );
    check_error(
        "services:\n  a:\n    image: a\n    ports: ['1-500']\n",
        Code::ResourceLimit,
        4,
        13,
    );
    check_error(
        "services:\n  a:\n    image: a\n    ports: ['80-81:80-82']\n",
        Code::InvalidGatewayPort,
        4,
        13,
    );
    check_error(
        "services:\n  a:\n    image: a\n    ports: ['0:80']\n",
        Code::InvalidGatewayPort,
        4,
        13,
    );
    check_error(
        "services:\n  a:\n    image: a\n    ports: [{published: 80}]\n",
        Code::MissingPathValue,
        4,
        13,
    );
    check_error(
        "services:\n  a:\n    image: a\n    expose: ['80:80']\n",
        Code::UnexpectedType,
        4,
        14,
    );
    check_error(
        "services:\n  a:\n    image: a\n    environment: {A: [1]}\n",
        Code::MalformedTrait,
        4,
        22,
    );
    check_error(
        "services:\n  a:\n    image: a\n    environment: ['a b=1']\n",
        Code::IllegalName,
        4,
        19,
    );
    check_error(
        "services:\n  a:\n    image: a\n    links: ['b:c']\n",
        Code::UnresolvedBreedDependency,
        4,
        13,
    );
    check_error(
        "services:\n  a:\n    image: a\n    privileged: maybe\n",
        Code::InvalidArgumentValue,
        4,
        17,
    );
    check_error(
        "services:\n  a:\n    image: a\n    cpus: lots\n",
        Code::UnexpectedType,
        4,
        11,
    );
    check_error(
        "services:\n  a:\n    image: a\n    deploy: {resources: {limits: {cpus: '-1'}}}\n",
        Code::UnexpectedType,
        4,
        41,
    );
    check_error(
        "services:\n  a:\n    image: a\n    ports: [{target: 53, protocol: udp}]\n",
        Code::UnsupportedProtocol,
        4,
        36,
    );
    check_error(
        "services:\n  a:\n    image: ''\n",
        Code::MissingPathValue,
        3,
        12,
    );
    check_error(
        "services:\n  a:\n    image: 'a b'\n",
        Code::UnexpectedType,
        3,
        12,
    );
    check_error(
        "services:\n  a:\n    image: 'a:${TAG:?need a tag}'\n",
        Code::ComposeInterpolation,
        3,
        12,
    );
}

#[test]
fn smaller_warnings() {
    let out = import(
        "services:\n  a:\n    image: a\n    build: .\n    depends_on:\n      b: {condition: service_healthy}\n  b:\n    image: b\n    environment: [A=1, A=2]\n    deploy: {resources: {reservations: {cpus: '1'}}}\n    ports: ['10.0.0.1:80:80']\n---\nother: document\n",
        ImportOptions::default(),
    );
    assert!(out.first_error().is_none(), "{:?}", out.first_error());
    check_positions(
        &out,
        Severity::Warning,
        &[
            ("unsupported_compose_field", 4, 5),
            ("unsupported_compose_field", 6, 11),
            ("duplicate_key", 9, 24),
            ("unsupported_compose_field", 10, 26),
            ("unsupported_compose_field", 11, 13),
            ("unsupported_compose_field", 13, 1),
        ],
    );
    let j = json(out.blueprint.as_ref().expect("imports"));
    assert_eq!(
        j["gateways"]["80"]["routes"]["b/port_80"]["weight"],
        serde_json::Value::Null
    );
    assert_eq!(
        j["clusters"]["b"]["services"][0]["breed"]["environment_variables"]["A"]["value"],
        "2"
    );
}

#[test]
fn variables_from_the_options() {
    let mut options = ImportOptions::default();
    options.variables.insert("TAG".into(), "2.1".into());
    options.variables.insert("PORT".into(), "9000".into());
    let out = import(
        "name: from-file\nservices:\n  a:\n    image: 'app:${TAG}'\n    ports: ['${PORT}:80', '${OTHER:-9001}:81']\n    environment:\n      T: v$TAG\n",
        options,
    );
    let bp = out.blueprint.as_ref().expect("imports");
    let j = json(bp);
    assert_eq!(j["name"], "from-file");
    let breed = &j["clusters"]["a"]["services"][0]["breed"];
    assert_eq!(breed["name"], "a:2.1");
    assert_eq!(breed["deployable"]["definition"], "app:2.1");
    assert_eq!(breed["environment_variables"]["T"]["value"], "v2.1");
    let gws: Vec<&String> = j["gateways"]
        .as_object()
        .expect("gateways")
        .keys()
        .collect();
    assert_eq!(gws, ["9000", "9001"]);
    let codes: Vec<Code> = out.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::ComposeInterpolation]);
}

#[test]
fn an_invalid_name_option_is_an_error() {
    let out = import(
        "services:\n  a:\n    image: a\n",
        ImportOptions {
            name: Some("my shop".into()),
            ..ImportOptions::default()
        },
    );
    assert_eq!(out.first_error().map(|d| d.code), Some(Code::IllegalName));
}

#[test]
fn hostile_input_gets_the_reader_limits() {
    let mut bomb = String::from("x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..=9 {
        let p = i - 1;
        bomb.push_str(&format!(
            "x-a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    bomb.push_str("services: {a: {image: a}}\n");
    let code = |src: &str| {
        import(src, ImportOptions::default())
            .first_error()
            .map(|d| d.code)
    };
    assert_eq!(code(&bomb), Some(Code::ResourceLimit));
    assert_eq!(
        code(&format!("services: {}", "[".repeat(100_000))),
        Some(Code::ResourceLimit)
    );
    let mut deep = String::from("services:\n  a:\n    image: a\n    labels:\n");
    for depth in 3..400 {
        deep.push_str(&" ".repeat(depth * 2));
        deep.push_str("k:\n");
    }
    assert_eq!(code(&deep), Some(Code::ResourceLimit));
    let huge = vec![b' '; 16 * 1024 * 1024 + 1];
    let out = import_bytes(&huge, ImportOptions::default());
    assert_eq!(out.first_error().map(|d| d.code), Some(Code::ResourceLimit));
    let out = import_bytes(
        b"services:\n  a:\n    image: \xc3\x28\n",
        ImportOptions::default(),
    );
    let e = out.first_error().expect("an error");
    assert_eq!(e.code, Code::YamlParsing);
    assert_eq!(e.span.map(|s| (s.line, s.column)), Some((3, 12)));
    assert_eq!(code(""), Some(Code::MissingPathValue));
    assert_eq!(code("a: [\n"), Some(Code::YamlParsing));
    assert_eq!(
        code("services:\n  a: !custom {image: a}\n"),
        Some(Code::YamlParsing)
    );
    // Merge keys that merge themselves over and over stay within the budget.
    let mut merges = String::from("x-m0: &m0 {image: a}\n");
    for i in 1..30 {
        merges.push_str(&format!(
            "x-m{i}: &m{i} {{<<: [*m{}, *m{}], k{i}: v}}\n",
            i - 1,
            i - 1
        ));
    }
    merges.push_str("services:\n  a: *m29\n");
    assert!(code(&merges).is_some());
}

/// The imported blueprint, written as DSL YAML and read back, is the same
/// blueprint.
fn round_trip(name: &str) {
    let (bp, _) = imported(name);
    let yaml = to_yaml(&Document::Blueprint(bp.clone()));
    let again = read(
        &yaml,
        ReadOptions {
            kind: Some(Kind::Blueprint),
            ..ReadOptions::default()
        },
    );
    assert!(
        again.first_error().is_none(),
        "{:?}\n{yaml}",
        again.first_error()
    );
    assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
    let Some(Document::Blueprint(read_back)) = again.documents.into_iter().next() else {
        panic!("not a blueprint:\n{yaml}");
    };
    assert_eq!(json(&bp), json(&read_back), "{yaml}");
}

#[test]
fn round_trips_through_the_dsl() {
    for name in ["wordpress.yml", "long-ports.yml", "warnings.yml"] {
        round_trip(name);
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever an environment value holds, the imported value is valid
        /// Vamp trait-value syntax and the DSL reads it back unchanged.
        #[test]
        fn environment_values_survive_the_dsl(value in "[a-zA-Z0-9 ${}:?+_./-]{0,24}") {
            let src = format!("services:\n  a:\n    image: a\n    environment:\n      V: {}\n", serde_json::to_string(&value).expect("json"));
            let out = import(&src, ImportOptions::default());
            prop_assert!(out.first_error().is_none(), "{:?}", out.first_error());
            let bp = out.blueprint.expect("imports");
            let yaml = to_yaml(&Document::Blueprint(bp.clone()));
            let again = read(&yaml, ReadOptions { kind: Some(Kind::Blueprint), ..ReadOptions::default() });
            prop_assert!(again.first_error().is_none(), "{:?}\n{}", again.first_error(), yaml);
            let Some(Document::Blueprint(back)) = again.documents.into_iter().next() else {
                return Err(TestCaseError::fail("not a blueprint"));
            };
            prop_assert_eq!(json(&bp), json(&back));
        }

        /// Any published/container pair imports to one port and one gateway.
        #[test]
        fn published_ports_become_gateways(host in 1u16.., container in 1u16..) {
            let src = format!("services:\n  a:\n    image: a\n    ports: ['{host}:{container}']\n");
            let out = import(&src, ImportOptions::default());
            prop_assert!(out.first_error().is_none(), "{:?}", out.first_error());
            let j = json(out.blueprint.as_ref().expect("imports"));
            let route = format!("a/port_{container}");
            prop_assert!(j["gateways"][host.to_string()]["routes"].get(&route).is_some());
        }
    }
}

#[test]
fn many_stray_dollars_give_one_warning() {
    let value = "$ ".repeat(200_000);
    let src = format!("services:\n  a:\n    image: a\n    environment:\n      V: '{value}'\n");
    let out = import(&src, ImportOptions::default());
    assert!(out.first_error().is_none());
    assert_eq!(out.diagnostics.len(), 1);
}
