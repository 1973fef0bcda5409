//! What the driver tests share: a web service, the desired state of an even
//! split, a driver's plan options and a retry policy.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::time::Duration;

use vamp_drivers::{
    Desired, Driver, PlanOptions, PortSpec, Probe, RetryPolicy, ServiceKey, ServiceSpec,
};

/// Service `name` of cluster `web` of `deployment`: image
/// `vamp-test/web:1`, `VERSION=<name>`, `--privileged=false`, one HTTP port
/// `webport` (8080) with an HTTP health check on `/health`.
pub fn web_service(deployment: &str, name: &str, instances: u32) -> ServiceSpec {
    ServiceSpec {
        key: ServiceKey {
            deployment: deployment.into(),
            cluster: "web".into(),
            service: name.into(),
        },
        image: "vamp-test/web:1".into(),
        deployable_type: None,
        environment: vec![("VERSION".into(), name.into())],
        arguments: vec![("privileged".into(), "false".into())],
        ports: vec![PortSpec {
            name: "webport".into(),
            number: Some(8080),
            protocol: "http".into(),
        }],
        cpu: 0.25,
        memory: 64.0,
        instances,
        health_checks: vec![Probe {
            path: "/health".into(),
            port: "webport".into(),
            initial_delay: 2,
            interval: 10,
            timeout: 5,
            failures: 3,
            protocol: "HTTP".into(),
        }],
        depends_on: vec![],
    }
}

/// Deployment `shop` running `services`, cluster `web` split evenly.
pub fn even_split(services: Vec<ServiceSpec>) -> Desired {
    let mut w = BTreeMap::new();
    if !services.is_empty() {
        let share = u8::try_from(100 / services.len()).expect("a share");
        w.insert(
            "web".to_owned(),
            services
                .iter()
                .map(|s| (s.key.service.clone(), share))
                .collect(),
        );
    }
    Desired::new("shop", services, w)
}

/// The plan options of driver `d`.
pub fn plan_options(d: &dyn Driver) -> PlanOptions {
    PlanOptions {
        capabilities: d.capabilities(),
        driver: d.name(),
        ..PlanOptions::default()
    }
}

/// Retries from `initial_ms`, at most `max_delay_ms` apart, for
/// `deadline_s` seconds.
pub fn retry(initial_ms: u64, max_delay_ms: u64, deadline_s: u64) -> RetryPolicy {
    RetryPolicy {
        initial: Duration::from_millis(initial_ms),
        max_delay: Duration::from_millis(max_delay_ms),
        deadline: Duration::from_secs(deadline_s),
    }
}
