//! What Marathon gets: app ids (path segments from the service key and
//! fingerprint) and the app JSON of a service.

use serde_json::{json, Map, Value};
use vamp_model::hash::{fnv1a, hex48};
use vamp_model::labels;

use crate::spec::{port_env_name, ServiceKey, ServiceSpec};

fn hash12(s: &str) -> String {
    hex48(fnv1a(s.as_bytes()))
}

/// `s` lower-cased to `[a-z0-9]` runs joined by single `-`; `None` when
/// nothing is left.
fn sanitize(s: &str) -> Option<String> {
    let mut v = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            v.push(c.to_ascii_lowercase());
        } else if !v.is_empty() && !v.ends_with('-') {
            v.push('-');
        }
    }
    while v.ends_with('-') {
        v.pop();
    }
    (!v.is_empty()).then_some(v)
}

/// A Marathon path segment: `[a-z0-9]([a-z0-9-]*[a-z0-9])?`, at most `max`
/// characters (longer ones keep a prefix and a hash of the original).
fn segment(s: &str, max: usize) -> String {
    let mut v = sanitize(s).unwrap_or_else(|| format!("x{}", &hash12(s)[..8]));
    if v.len() > max {
        v.truncate(max.saturating_sub(13));
        while v.ends_with('-') {
            v.pop();
        }
        v.push('-');
        v.push_str(&hash12(s));
    }
    v
}

/// The app group as a path without slashes at either end (`vamp`, `a/b`).
pub(super) fn group_path(group: &str) -> String {
    let parts: Vec<String> = group
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| segment(p, 63))
        .collect();
    if parts.is_empty() {
        "vamp".into()
    } else {
        parts.join("/")
    }
}

/// The id of the app of a service at a fingerprint:
/// `/<group>/<deployment>/<cluster>-<service>-<fingerprint>`.
///
/// ```
/// use vamp_drivers::{marathon_app_id, ServiceKey};
/// let key = ServiceKey { deployment: "sava-canary".into(), cluster: "sava".into(), service: "sava:1.0.0".into() };
/// assert_eq!(marathon_app_id("vamp", &key, "0123456789ab"), "/vamp/sava-canary/sava-sava-1-0-0-0123456789ab");
/// ```
pub fn marathon_app_id(group: &str, key: &ServiceKey, fingerprint: &str) -> String {
    let last = segment(
        &format!("{}-{}", key.cluster, key.service),
        62usize.saturating_sub(fingerprint.len()),
    );
    format!(
        "/{}/{}/{last}-{}",
        group_path(group),
        segment(&key.deployment, 63),
        segment(fingerprint, 63)
    )
}

/// A Marathon port name (`[a-z0-9-]`), `p<i>` when nothing is left.
fn port_name(name: &str, i: usize) -> String {
    sanitize(name).unwrap_or_else(|| format!("p{i}"))
}

/// Whether Marathon sets this variable itself: `PORT`, `PORTS`, `PORT<n>`,
/// `PORT_<NAME>` for its port names, and the `PORT_<NAME>` the other
/// drivers set for the breed's port names.
fn is_port_variable(name: &str, spec: &ServiceSpec, marathon_names: &[String]) -> bool {
    name == "PORT"
        || name == "PORTS"
        || name
            .strip_prefix("PORT")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        || marathon_names
            .iter()
            .any(|p| name == format!("PORT_{}", p.to_ascii_uppercase()))
        || spec.ports.iter().any(|p| name == port_env_name(&p.name))
}

/// The app Marathon gets for a service at a fingerprint with `instances`
/// instances in `group` (the JSON the driver posts).
///
/// ```
/// use vamp_drivers::{marathon_app, PortSpec, ServiceKey, ServiceSpec};
/// let spec = ServiceSpec {
///     key: ServiceKey { deployment: "shop".into(), cluster: "web".into(), service: "web_1".into() },
///     image: "vamp-test/web:1".into(), deployable_type: None, environment: vec![],
///     arguments: vec![], ports: vec![PortSpec { name: "webport".into(), number: Some(8080), protocol: "http".into() }],
///     cpu: 0.25, memory: 64.0, instances: 2, health_checks: vec![], depends_on: vec![],
/// };
/// let app = marathon_app(&spec, &spec.fingerprint(), 2, "vamp");
/// assert_eq!(app["instances"], 2);
/// assert_eq!(app["container"]["docker"]["image"], "vamp-test/web:1");
/// assert_eq!(app["portDefinitions"][0]["name"], "webport");
/// assert_eq!(app["labels"]["io.vamp.service"], "web_1");
/// ```
pub fn marathon_app(spec: &ServiceSpec, fingerprint: &str, instances: u32, group: &str) -> Value {
    let key = &spec.key;
    let port_names: Vec<String> = spec
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| port_name(&p.name, i))
        .collect();
    let mut env = Map::new();
    for (k, v) in [
        ("VAMP_DEPLOYMENT", &key.deployment),
        ("VAMP_CLUSTER", &key.cluster),
        ("VAMP_SERVICE", &key.service),
    ] {
        env.insert(k.to_owned(), json!(v));
    }
    for (k, v) in &spec.environment {
        if !is_port_variable(k, spec, &port_names) {
            env.insert(k.clone(), json!(v));
        }
    }
    let mut labels = Map::new();
    labels.insert(labels::MANAGED.into(), json!(labels::MANAGED_VALUE));
    labels.insert(labels::DEPLOYMENT.into(), json!(key.deployment));
    labels.insert(labels::CLUSTER.into(), json!(key.cluster));
    labels.insert(labels::SERVICE.into(), json!(key.service));
    labels.insert(labels::FINGERPRINT.into(), json!(fingerprint));

    let mut app = Map::new();
    app.insert("id".into(), json!(marathon_app_id(group, key, fingerprint)));
    let ty = spec.deployable_type.as_deref().unwrap_or("docker");
    if matches!(ty, "command" | "cmd") {
        app.insert("cmd".into(), json!(spec.image));
    } else {
        let mut docker = Map::new();
        docker.insert("image".into(), json!(spec.image));
        let mut parameters = Vec::new();
        for (k, v) in &spec.arguments {
            if k == "privileged" {
                docker.insert("privileged".into(), json!(v.eq_ignore_ascii_case("true")));
            } else {
                parameters.push(json!({"key": k, "value": v}));
            }
        }
        if !parameters.is_empty() {
            docker.insert("parameters".into(), Value::Array(parameters));
        }
        app.insert(
            "container".into(),
            json!({"type": "DOCKER", "docker": Value::Object(docker)}),
        );
    }
    app.insert("networks".into(), json!([{"mode": "host"}]));
    app.insert(
        "portDefinitions".into(),
        Value::Array(
            spec.ports
                .iter()
                .zip(&port_names)
                .map(|(p, n)| {
                    json!({"port": 0, "name": n, "protocol": "tcp", "labels": {(labels::PORT): p.name}})
                })
                .collect(),
        ),
    );
    app.insert("env".into(), Value::Object(env));
    app.insert("cpus".into(), json!(spec.cpu));
    app.insert("mem".into(), json!(spec.memory));
    app.insert("instances".into(), json!(instances));
    app.insert("labels".into(), Value::Object(labels));
    let checks: Vec<Value> = spec
        .health_checks
        .iter()
        .map(|h| {
            let port_index = spec
                .ports
                .iter()
                .position(|p| {
                    p.name == h.port || p.number.map(|n| n.to_string()) == Some(h.port.clone())
                })
                .unwrap_or(0);
            let protocol = if h.protocol.eq_ignore_ascii_case("TCP") {
                "MESOS_TCP"
            } else if h.protocol.eq_ignore_ascii_case("HTTPS") {
                "MESOS_HTTPS"
            } else {
                "MESOS_HTTP"
            };
            let mut c = Map::new();
            c.insert("protocol".into(), json!(protocol));
            if protocol != "MESOS_TCP" {
                let path = if h.path.starts_with('/') {
                    h.path.clone()
                } else {
                    format!("/{}", h.path)
                };
                c.insert("path".into(), json!(path));
            }
            c.insert("portIndex".into(), json!(port_index));
            c.insert("gracePeriodSeconds".into(), json!(h.initial_delay));
            if h.interval > 0 {
                c.insert("intervalSeconds".into(), json!(h.interval));
            }
            if h.timeout > 0 {
                c.insert("timeoutSeconds".into(), json!(h.timeout));
            }
            if h.failures > 0 {
                c.insert("maxConsecutiveFailures".into(), json!(h.failures));
            }
            Value::Object(c)
        })
        .collect();
    if !checks.is_empty() {
        app.insert("healthChecks".into(), Value::Array(checks));
    }
    app.insert(
        "upgradeStrategy".into(),
        json!({"minimumHealthCapacity": 1.0, "maximumOverCapacity": 1.0}),
    );
    Value::Object(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_marathon_path_ids() {
        let k = ServiceKey {
            deployment: "Shop".into(),
            cluster: "web".into(),
            service: "sava:1.0.0".into(),
        };
        assert_eq!(
            marathon_app_id("vamp", &k, "0123456789ab"),
            "/vamp/shop/web-sava-1-0-0-0123456789ab"
        );
        assert_eq!(
            marathon_app_id("/team//a/", &k, "0123456789ab"),
            "/team/a/shop/web-sava-1-0-0-0123456789ab"
        );
        let long = ServiceKey {
            cluster: "c".repeat(100),
            ..k
        };
        let id = marathon_app_id("vamp", &long, "0123456789ab");
        assert!(id.rsplit('/').next().is_some_and(|s| s.len() <= 63), "{id}");
        assert_eq!(segment("--", 63).len(), 9);
        assert_eq!(port_name("web_port", 0), "web-port");
        assert_eq!(port_name("_", 3), "p3");
    }

    #[test]
    fn port_variables_are_left_to_marathon() {
        let spec = ServiceSpec {
            ports: vec![crate::spec::PortSpec {
                name: "web_port".into(),
                number: None,
                protocol: "http".into(),
            }],
            ..crate::spec::test_spec()
        };
        let names = vec!["web-port".to_owned()];
        for v in [
            "PORT",
            "PORTS",
            "PORT0",
            "PORT12",
            "PORT_WEB-PORT",
            "PORT_WEB_PORT",
        ] {
            assert!(is_port_variable(v, &spec, &names), "{v}");
        }
        for v in ["PORTAL", "PORT_", "DB_PORT", "PORT_OTHER"] {
            assert!(!is_port_variable(v, &spec, &names), "{v}");
        }
    }
}
