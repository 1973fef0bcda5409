//! Planner inputs shared by the `plan_many` example and the planner
//! benchmark (`benches/benches/planner.rs` includes this file): a deployment
//! of N services (2 instances each, clusters of 4, each cluster depending on
//! the previous one) against an actual state of N services where 10% run an
//! older version, 10% are under-scaled and 5% crashed.

use std::collections::BTreeMap;

use vamp_drivers::{
    instance_name, ActualState, Desired, InstanceState, ObservedInstance, PortSpec, ServiceKey,
    ServiceSpec,
};

const CLUSTER_SIZE: usize = 4;

/// The desired and actual states for `n` services.
pub(crate) fn inputs(n: usize) -> (Desired, ActualState) {
    let mut specs = Vec::with_capacity(n);
    let mut weights: BTreeMap<String, Vec<(String, u8)>> = BTreeMap::new();
    for i in 0..n {
        let cluster = format!("c{}", i / CLUSTER_SIZE);
        let service = format!("svc{i}:1.0.{}", i % 7);
        let dep = i / CLUSTER_SIZE;
        specs.push(ServiceSpec {
            key: ServiceKey {
                deployment: "big".into(),
                cluster: cluster.clone(),
                service: service.clone(),
            },
            image: format!("registry.local/svc{i}:1.0"),
            deployable_type: None,
            environment: vec![
                ("PORT_HINT".into(), "8080".into()),
                ("DB_URL".into(), format!("jdbc:mysql://db{i}:3306/x")),
            ],
            arguments: vec![],
            ports: vec![PortSpec {
                name: "webport".into(),
                number: Some(8080),
                protocol: "http".into(),
            }],
            cpu: 0.25,
            memory: 256.0,
            instances: 2,
            health_checks: vec![],
            depends_on: if dep > 0 {
                vec![format!("c{}", dep - 1)]
            } else {
                vec![]
            },
        });
        weights.entry(cluster).or_default().push((service, 25));
    }
    let desired = Desired::new("big", specs, weights.clone());
    let mut instances = Vec::with_capacity(2 * n);
    for (i, s) in desired.services.iter().enumerate() {
        let fp = if i % 10 == 0 {
            "000000000000".to_owned()
        } else {
            s.fingerprint.clone()
        };
        let count = if i % 10 == 1 { 1 } else { 2 };
        for idx in 0..count {
            instances.push(ObservedInstance {
                name: instance_name(&s.spec.key, &fp, idx),
                key: s.spec.key.clone(),
                fingerprint: fp.clone(),
                index: idx,
                state: if i % 20 == 2 && idx == 0 {
                    InstanceState::Exited
                } else {
                    InstanceState::Running
                },
                draining: false,
                healthy: None,
                host: "127.0.0.1".into(),
                ports: vec![("webport".into(), 31000)],
            });
        }
    }
    (desired, ActualState { instances, weights })
}
