//! Planner benchmark: a deployment of N services (2 instances each, 5
//! clusters' worth of dependencies) against an actual state of N services
//! where 10% run an older version, 10% are under-scaled and 5% crashed.
//! Reports per-service cost at 1,000 and 10,000 services and their ratio.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use vamp_drivers::{
    instance_name, plan, ActualState, Desired, InstanceState, ObservedInstance, PlanOptions,
    PortSpec, ServiceKey, ServiceSpec,
};

const CLUSTER_SIZE: usize = 4;

fn inputs(n: usize) -> (Desired, ActualState) {
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

fn per_service(n: usize, rounds: u32) -> Duration {
    let (desired, actual) = inputs(n);
    let opts = PlanOptions::default();
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(plan(&desired, &actual, &opts).map(|p| p.steps.len()).ok());
        best = best.min(t.elapsed());
    }
    best / u32::try_from(n).unwrap_or(u32::MAX)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("planner");
    group.sample_size(20);
    for n in [1_000usize, 10_000] {
        let (desired, actual) = inputs(n);
        let opts = PlanOptions::default();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("plan", n), &n, |b, _| {
            b.iter(|| plan(black_box(&desired), black_box(&actual), &opts).map(|p| p.steps.len()))
        });
    }
    group.finish();

    // Figures as ratios measured in this run (best of several rounds).
    let small = per_service(1_000, 30);
    let large = per_service(10_000, 10);
    let ratio = large.as_secs_f64() / small.as_secs_f64();
    #[allow(clippy::print_stdout)]
    {
        println!(
            "planner: 1,000 services {:.2} ms total ({:?}/service); 10,000 services {:?}/service; ratio {ratio:.2} (target <= 1.3; 1,000 in < 50 ms)",
            (small * 1000).as_secs_f64() * 1e3,
            small,
            large
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
