//! Property tests: applying a plan to the simulated (memory) cluster reaches
//! the desired state; a crash at any step followed by a re-run also reaches
//! it, with no duplicates.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use vamp_drivers::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

fn no_progress() -> impl FnMut(usize, &Step, StepEvent) + Send {
    |_, _, _| {}
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        initial: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(2),
        deadline: std::time::Duration::from_millis(200),
    }
}

/// Reconciles `driver` to `desired` (default options, fast retries, at most
/// three plan passes).
#[allow(clippy::result_large_err)] // the library's error, passed on as it is
fn converge(driver: &MemoryDriver, desired: &Desired) -> Result<usize, ApplyError> {
    rt().block_on(reconcile(
        driver,
        desired,
        &PlanOptions::default(),
        fast(),
        3,
        &mut no_progress(),
    ))
}

/// (cluster, service, instances, version, depends on lower clusters mask)
type Svc = (u8, u8, u32, u8, u8);

fn desired_of(services: &[Svc]) -> Desired {
    let mut seen = BTreeSet::new();
    let mut specs = Vec::new();
    for &(c, s, n, v, deps) in services {
        if !seen.insert((c, s)) {
            continue;
        }
        specs.push(ServiceSpec {
            key: ServiceKey {
                deployment: "shop".into(),
                cluster: format!("c{c}"),
                service: format!("s{s}"),
            },
            image: format!("img:{v}"),
            deployable_type: None,
            environment: vec![("V".into(), v.to_string())],
            arguments: vec![],
            ports: vec![PortSpec {
                name: "web".into(),
                number: Some(8080),
                protocol: "http".into(),
            }],
            cpu: 0.1,
            memory: 64.0,
            instances: n,
            health_checks: vec![],
            depends_on: (0..c)
                .filter(|d| deps & (1 << d) != 0)
                .map(|d| format!("c{d}"))
                .collect(),
        });
    }
    let mut weights: BTreeMap<String, Vec<(String, u8)>> = BTreeMap::new();
    for s in &specs {
        weights
            .entry(s.key.cluster.clone())
            .or_default()
            .push((s.key.service.clone(), 0));
    }
    for w in weights.values_mut() {
        let share = 100 / w.len() as u8;
        let len = w.len();
        for (i, e) in w.iter_mut().enumerate() {
            e.1 = if i + 1 == len {
                100 - share * (len as u8 - 1)
            } else {
                share
            };
        }
    }
    Desired::new("shop", specs, weights)
}

fn svc() -> impl Strategy<Value = Svc> {
    (0u8..4, 0u8..3, 0u32..4, 0u8..3, any::<u8>())
}

fn assert_converged(driver: &MemoryDriver, desired: &Desired) -> Result<(), TestCaseError> {
    let actual = rt()
        .block_on(driver.observe("shop"))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let want: BTreeSet<String> = desired
        .services
        .iter()
        .flat_map(|s| {
            (0..s.spec.instances).map(move |i| instance_name(&s.spec.key, &s.fingerprint, i))
        })
        .collect();
    let have: Vec<&str> = actual.instances.iter().map(|i| i.name.as_str()).collect();
    let have_set: BTreeSet<String> = have.iter().map(|s| (*s).to_owned()).collect();
    prop_assert_eq!(have.len(), have_set.len(), "duplicate instances");
    prop_assert_eq!(&have_set, &want);
    for i in &actual.instances {
        prop_assert_eq!(i.state, InstanceState::Running);
        prop_assert!(!i.draining);
    }
    for (c, w) in &desired.weights {
        prop_assert_eq!(actual.weights.get(c), Some(w));
    }
    let again = plan(desired, &actual, &PlanOptions::default())
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(again.is_empty(), "re-plan not empty: {:?}", again.steps);
    Ok(())
}

/// A cluster in some earlier state, with some instances crashed and some drained.
fn prepared(before: &Desired, kill: &[usize], drain: &[usize]) -> MemoryDriver {
    let driver = MemoryDriver::new();
    let rt = rt();
    converge(&driver, before).expect("setup converges");
    let names: Vec<(ServiceKey, String)> = driver
        .state()
        .instances
        .values()
        .map(|i| (i.key.clone(), i.name.clone()))
        .collect();
    if !names.is_empty() {
        for k in kill {
            driver.kill(&names[k % names.len()].1);
        }
        for d in drain {
            let (key, name) = &names[d % names.len()];
            rt.block_on(driver.drain(key, name)).expect("drain");
        }
    }
    driver
}

fn check_order(p: &Plan, desired: &Desired) -> Result<(), TestCaseError> {
    let deps: BTreeMap<&str, &Vec<String>> = desired
        .services
        .iter()
        .map(|s| (s.spec.key.cluster.as_str(), &s.spec.depends_on))
        .collect();
    let mut created_clusters: Vec<String> = Vec::new();
    let mut seen_weights = false;
    for step in &p.steps {
        match step {
            Step::Create { spec, .. } => {
                prop_assert!(!seen_weights, "create after a weight shift");
                // No dependency of this cluster is created after it.
                created_clusters.push(spec.key.cluster.clone());
            }
            Step::SetWeights { .. } => seen_weights = true,
            Step::Drain { .. } | Step::Remove { .. } | Step::Wait { .. } => {}
        }
    }
    for (i, c) in created_clusters.iter().enumerate() {
        if let Some(ds) = deps.get(c.as_str()) {
            for later in &created_clusters[i + 1..] {
                prop_assert!(
                    !ds.contains(later),
                    "{c} created before its dependency {later}"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn applying_the_plan_reaches_the_desired_state(
        before in prop::collection::vec(svc(), 0..6),
        after in prop::collection::vec(svc(), 0..6),
        kill in prop::collection::vec(any::<usize>(), 0..3),
        drain in prop::collection::vec(any::<usize>(), 0..3),
    ) {
        let (before, after) = (desired_of(&before), desired_of(&after));
        let driver = prepared(&before, &kill, &drain);
        let actual = rt().block_on(driver.observe("shop")).expect("observe");
        let p = plan(&after, &actual, &PlanOptions::default()).expect("plan");
        check_order(&p, &after)?;
        // Every running instance that leaves is drained before it is removed.
        let running: BTreeSet<&str> = actual.instances.iter()
            .filter(|i| i.state == InstanceState::Running && !i.draining)
            .map(|i| i.name.as_str()).collect();
        let mut drained = BTreeSet::new();
        for s in &p.steps {
            match s {
                Step::Drain { name, .. } => { drained.insert(name.as_str()); }
                Step::Remove { name, .. } if running.contains(name.as_str()) => {
                    prop_assert!(drained.contains(name.as_str()), "{name} removed without draining");
                }
                _ => {}
            }
        }
        rt().block_on(apply(&driver, &p, fast(), &mut no_progress())).expect("apply");
        assert_converged(&driver, &after)?;
    }

    #[test]
    fn a_crash_at_any_step_then_a_rerun_converges_without_duplicates(
        before in prop::collection::vec(svc(), 0..5),
        after in prop::collection::vec(svc(), 1..5),
        kill in prop::collection::vec(any::<usize>(), 0..2),
        crash_at in any::<prop::sample::Index>(),
        after_effect in any::<bool>(),
    ) {
        let (before, after) = (desired_of(&before), desired_of(&after));
        let base = prepared(&before, &kill, &[]).state();
        let actual = rt().block_on(MemoryDriver::from_state(base.clone()).observe("shop")).expect("observe");
        let p = plan(&after, &actual, &PlanOptions::default()).expect("plan");
        let creates = p.steps.iter().filter(|s| matches!(s, Step::Create { .. })).count() as u64;
        let k = if p.steps.is_empty() { 0 } else { crash_at.index(p.steps.len()) as u64 };
        let driver = MemoryDriver::from_state(base);
        driver.crash_after(k, after_effect);
        let first = rt().block_on(apply(&driver, &p, fast(), &mut no_progress()));
        if !p.steps.is_empty() && k < p.steps.iter().filter(|s| !matches!(s, Step::Wait { .. })).count() as u64 {
            prop_assert!(first.is_err(), "the injected crash must stop the plan");
        }
        driver.clear_faults();
        converge(&driver, &after)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        assert_converged(&driver, &after)?;
        prop_assert!(driver.stats().created <= creates, "created {} > planned {}", driver.stats().created, creates);
    }
}

#[test]
fn transient_errors_are_retried_and_permanent_ones_name_the_step() {
    let desired = desired_of(&[(0, 0, 2, 0, 0)]);
    let driver = MemoryDriver::new();
    driver.fail_transient(3);
    let mut retries = 0;
    rt().block_on(reconcile(
        &driver,
        &desired,
        &PlanOptions::default(),
        fast(),
        3,
        &mut |_, _, e| {
            if matches!(e, StepEvent::Retrying { .. }) {
                retries += 1;
            }
        },
    ))
    .expect("retried to success");
    assert_eq!(retries, 3);

    let desired = desired_of(&[(0, 0, 1, 1, 0)]);
    let driver = MemoryDriver::new();
    driver.missing_image("img:1");
    let err = converge(&driver, &desired).expect_err("missing image");
    assert_eq!(err.code(), "driver_image_not_found");
    assert!(matches!(err, ApplyError::Step { number: 1, .. }), "{err}");
    assert!(err.to_string().contains("docker build"), "{err}");
}

#[test]
fn transient_errors_give_up_at_the_deadline() {
    let desired = desired_of(&[(0, 0, 1, 0, 0)]);
    let driver = MemoryDriver::new();
    driver.fail_transient(u32::MAX);
    let err = converge(&driver, &desired).expect_err("deadline");
    assert_eq!(err.code(), "apply_deadline");
}

#[test]
fn a_cycle_is_reported_before_anything_runs() {
    let mut d = desired_of(&[(0, 0, 1, 0, 0), (1, 0, 1, 0, 1)]);
    let mut first = (*d.services[0].spec).clone();
    first.depends_on = vec!["c1".into()];
    d.services[0].spec = std::sync::Arc::new(first);
    let err = plan(&d, &ActualState::default(), &PlanOptions::default()).expect_err("cycle");
    assert_eq!(err.code(), "plan_dependency_cycle");
}

#[test]
fn unsupported_features_fail_the_plan_early() {
    let d = desired_of(&[(0, 0, 1, 0, 0)]);
    let mut opts = PlanOptions::default();
    opts.capabilities.deployable_types = &["rkt"];
    let err = plan(&d, &ActualState::default(), &opts).expect_err("unsupported");
    assert_eq!(err.code(), "plan_unsupported");
}

#[test]
fn drain_waits_the_drain_period_before_removal() {
    let driver = MemoryDriver::new();
    let two = desired_of(&[(0, 0, 2, 0, 0)]);
    converge(&driver, &two).expect("up");
    let one = desired_of(&[(0, 0, 1, 0, 0)]);
    let opts = PlanOptions {
        drain_period: std::time::Duration::from_millis(5),
        ..PlanOptions::default()
    };
    let actual = rt().block_on(driver.observe("shop")).expect("observe");
    let p = plan(&one, &actual, &opts).expect("plan");
    let kinds: Vec<String> = p.steps.iter().map(|s| s.to_string()).collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(kinds[0].starts_with("drain "));
    assert!(kinds[1].starts_with("wait 5 ms"));
    assert!(kinds[2].starts_with("remove ") && kinds[2].ends_with("(scale-down)"));
}
