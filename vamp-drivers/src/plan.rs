//! The planner: desired versus actual state to an ordered, explicit plan.
//!
//! Order: dependencies before dependants; every creation (scale-up,
//! replacement of crashed instances, new versions) before any weight shift;
//! weight shifts before draining; drain, wait the drain period, then stop.
//! Surplus and outdated instances leave dependants first. The planner is pure
//! and linear in the number of services and instances.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::driver::{ActualState, Capabilities, InstanceState, ObservedInstance};
use crate::error::PlanError;
use crate::spec::{write_instance_name, Desired, ServiceKey, ServiceSpec};

/// The Fx hash (rustc's): one rotate, xor and multiply per 8 bytes, far
/// cheaper than SipHash on the planner's short names. The keys are names
/// from the planner's own inputs, hashed in one short-lived call, so
/// collision flooding is not a concern here.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
type FxSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// Why an instance is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoveReason {
    /// It exited or crashed and will be replaced.
    Failed,
    /// Scale-down.
    Surplus,
    /// Runs an older spec.
    Outdated,
    /// Its service is no longer in the deployment.
    Orphan,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Step {
    /// Create and start one instance.
    Create {
        /// The service spec.
        #[serde(skip)]
        spec: Arc<ServiceSpec>,
        /// `deployment/cluster/service`.
        service: String,
        /// Spec fingerprint.
        fingerprint: String,
        /// Instance index.
        index: u32,
        /// Deterministic instance name.
        name: String,
    },
    /// Set a cluster's route weights.
    SetWeights {
        /// Deployment.
        deployment: String,
        /// Cluster.
        cluster: String,
        /// `(service, percent)`.
        weights: Vec<(String, u8)>,
    },
    /// Take an instance out of its gateway.
    Drain {
        /// Service.
        #[serde(skip)]
        key: ServiceKey,
        /// `deployment/cluster/service`.
        service: String,
        /// Instance name.
        name: String,
    },
    /// Wait for drained connections to finish.
    Wait {
        /// Milliseconds.
        millis: u64,
    },
    /// Stop and remove an instance.
    Remove {
        /// Service.
        #[serde(skip)]
        key: ServiceKey,
        /// `deployment/cluster/service`.
        service: String,
        /// Instance name.
        name: String,
        /// Why.
        reason: RemoveReason,
    },
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Create {
                service,
                index,
                name,
                ..
            } => write!(f, "create {service} #{index} as {name}"),
            Step::SetWeights {
                deployment,
                cluster,
                weights,
            } => {
                write!(f, "route {deployment}/{cluster}:")?;
                for (s, w) in weights {
                    write!(f, " {s}={w}%")?;
                }
                Ok(())
            }
            Step::Drain { name, .. } => write!(f, "drain {name}"),
            Step::Wait { millis } => write!(f, "wait {millis} ms for drained connections"),
            Step::Remove { name, reason, .. } => {
                let why = match reason {
                    RemoveReason::Failed => "failed",
                    RemoveReason::Surplus => "scale-down",
                    RemoveReason::Outdated => "old version",
                    RemoveReason::Orphan => "service removed",
                };
                write!(f, "remove {name} ({why})")
            }
        }
    }
}

/// An ordered plan for one deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Deployment name.
    pub deployment: String,
    /// Steps in order.
    pub steps: Vec<Step>,
}

impl Plan {
    /// True when nothing needs doing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Planner options.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// How long drained instances keep serving open connections before they stop.
    pub drain_period: Duration,
    /// What the target driver supports.
    pub capabilities: Capabilities,
    /// Driver name, for error messages.
    pub driver: &'static str,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            drain_period: Duration::from_secs(0),
            capabilities: Capabilities::ALL,
            driver: "memory",
        }
    }
}

/// Fails when a service needs something the driver does not support.
pub fn check_supported(desired: &Desired, opts: &PlanOptions) -> Result<(), PlanError> {
    let caps = &opts.capabilities;
    for s in &desired.services {
        let spec = &s.spec;
        let ty = spec.deployable_type.as_deref().unwrap_or("docker");
        let missing = if !caps.deployable_types.contains(&ty) {
            Some(format!("deployable type `{ty}`"))
        } else if !spec.health_checks.is_empty() && !caps.health_checks {
            Some("health checks".to_owned())
        } else if !spec.arguments.is_empty() && !caps.arguments {
            Some("arguments".to_owned())
        } else {
            None
        };
        if let Some(feature) = missing {
            return Err(PlanError::Unsupported {
                service: spec.key.to_string(),
                feature,
                driver: opts.driver,
            });
        }
    }
    Ok(())
}

/// Orders cluster names so that dependencies come first (Kahn's algorithm,
/// ties in blueprint order). Dependencies on clusters outside the deployment
/// are ignored.
fn cluster_order(desired: &Desired) -> Result<Vec<&str>, PlanError> {
    let mut clusters: Vec<&str> = Vec::new();
    let mut pos: FxMap<&str, usize> = FxMap::default();
    for s in &desired.services {
        let c = s.spec.key.cluster.as_str();
        if !pos.contains_key(c) {
            pos.insert(c, clusters.len());
            clusters.push(c);
        }
    }
    let n = clusters.len();
    let mut indegree = vec![0usize; n];
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut seen: FxSet<(usize, usize)> = FxSet::default();
    for s in &desired.services {
        let me = pos[s.spec.key.cluster.as_str()];
        for dep in &s.spec.depends_on {
            if let Some(&d) = pos.get(dep.as_str()) {
                if d != me && seen.insert((d, me)) {
                    indegree[me] += 1;
                    dependants[d].push(me);
                }
            }
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(clusters[i]);
        for &j in &dependants[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.insert(j);
            }
        }
    }
    if order.len() != n {
        let stuck: Vec<&str> = (0..n)
            .filter(|&i| indegree[i] > 0)
            .map(|i| clusters[i])
            .collect();
        return Err(PlanError::DependencyCycle {
            clusters: stuck.join(", "),
        });
    }
    Ok(order)
}

/// `deployment/cluster/service` (what `Display` prints), without the
/// formatting machinery.
fn service_label(key: &ServiceKey) -> String {
    let mut s =
        String::with_capacity(key.deployment.len() + key.cluster.len() + key.service.len() + 2);
    s.push_str(&key.deployment);
    s.push('/');
    s.push_str(&key.cluster);
    s.push('/');
    s.push_str(&key.service);
    s
}

/// Plans how to take `actual` to `desired`.
///
/// ```
/// use vamp_drivers::{plan, ActualState, Desired, PlanOptions, ServiceKey, ServiceSpec, Step};
/// let spec = ServiceSpec {
///     key: ServiceKey { deployment: "shop".into(), cluster: "web".into(), service: "web_1".into() },
///     image: "vamp-test/web:1".into(), deployable_type: None, environment: vec![],
///     arguments: vec![], ports: vec![], cpu: 0.1, memory: 64.0, instances: 2,
///     health_checks: vec![], depends_on: vec![],
/// };
/// let desired = Desired::new("shop", vec![spec], Default::default());
/// let p = plan(&desired, &ActualState::default(), &PlanOptions::default()).unwrap();
/// assert!(matches!(p.steps[0], Step::Create { index: 0, .. }));
/// assert_eq!(p.steps.len(), 2);
/// ```
pub fn plan(
    desired: &Desired,
    actual: &ActualState,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    check_supported(desired, opts)?;
    let order = cluster_order(desired)?;
    let rank: FxMap<&str, usize> = order.iter().enumerate().map(|(i, c)| (*c, i)).collect();

    // Services grouped by cluster rank, keeping blueprint order inside a cluster.
    let mut by_rank: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
    for (i, s) in desired.services.iter().enumerate() {
        by_rank[rank[s.spec.key.cluster.as_str()]].push(i);
    }

    let mut by_name: FxMap<&str, usize> =
        FxMap::with_capacity_and_hasher(actual.instances.len(), Default::default());
    for (i, o) in actual.instances.iter().enumerate() {
        if o.key.deployment == desired.deployment {
            by_name.insert(o.name.as_str(), i);
        }
    }
    // Actual instances that the desired state keeps.
    let mut wanted = vec![false; actual.instances.len()];
    let mut steps = Vec::new();
    // One buffer for every instance name looked up: only names that end
    // up in a step are allocated.
    let mut name = String::with_capacity(96);

    // 1. Creations, dependencies first.
    for services in &by_rank {
        for &i in services {
            let s = &desired.services[i];
            // `deployment/cluster/service`, made once a step needs it.
            let mut service: Option<String> = None;
            for index in 0..s.spec.instances {
                write_instance_name(&mut name, &s.spec.key, &s.fingerprint, index);
                let found = by_name.get(name.as_str()).copied();
                if let Some(j) = found {
                    wanted[j] = true;
                }
                let observed = found.map(|j| &actual.instances[j]);
                if observed.is_some_and(|o| o.state != InstanceState::Exited && !o.draining) {
                    continue;
                }
                let service = service.get_or_insert_with(|| service_label(&s.spec.key));
                if observed.is_some_and(|o| o.state == InstanceState::Exited) {
                    steps.push(Step::Remove {
                        key: s.spec.key.clone(),
                        service: service.clone(),
                        name: name.clone(),
                        reason: RemoveReason::Failed,
                    });
                }
                steps.push(Step::Create {
                    spec: Arc::clone(&s.spec),
                    service: service.clone(),
                    fingerprint: s.fingerprint.clone(),
                    index,
                    name: name.clone(),
                });
            }
        }
    }

    // 2. Weight shifts, once the new instances exist (hashed lookups: the
    // weight maps are ordered maps, log n per lookup).
    let desired_weights: FxMap<&str, &Vec<(String, u8)>> = desired
        .weights
        .iter()
        .map(|(c, w)| (c.as_str(), w))
        .collect();
    let actual_weights: FxMap<&str, &Vec<(String, u8)>> = actual
        .weights
        .iter()
        .map(|(c, w)| (c.as_str(), w))
        .collect();
    for cluster in &order {
        if let Some(w) = desired_weights.get(*cluster).copied() {
            if actual_weights.get(*cluster).copied() != Some(w) {
                steps.push(Step::SetWeights {
                    deployment: desired.deployment.clone(),
                    cluster: (*cluster).to_owned(),
                    weights: w.clone(),
                });
            }
        }
    }

    // 3. Drain, wait, remove: dependants first, vanished services before all.
    // Keyed by (cluster, service): every instance here has the desired deployment.
    let fp_of: FxMap<(&str, &str), &str> = desired
        .services
        .iter()
        .map(|s| {
            (
                (s.spec.key.cluster.as_str(), s.spec.key.service.as_str()),
                s.fingerprint.as_str(),
            )
        })
        .collect();
    let mut leaving: Vec<Vec<(&ObservedInstance, RemoveReason)>> =
        vec![Vec::new(); order.len() + 1];
    for (o, _) in actual
        .instances
        .iter()
        .zip(&wanted)
        .filter(|(o, keep)| !**keep && o.key.deployment == desired.deployment)
    {
        let reason = match fp_of.get(&(o.key.cluster.as_str(), o.key.service.as_str())) {
            None => RemoveReason::Orphan,
            Some(_) if o.state == InstanceState::Exited => RemoveReason::Failed,
            Some(fp) if *fp != o.fingerprint => RemoveReason::Outdated,
            Some(_) => RemoveReason::Surplus,
        };
        let bucket = match rank.get(o.key.cluster.as_str()) {
            Some(r) if reason != RemoveReason::Orphan => order.len() - r,
            _ => 0,
        };
        leaving[bucket].push((o, reason));
    }
    let mut drained = false;
    for (o, _) in leaving.iter().flatten() {
        if o.state == InstanceState::Exited {
            continue;
        }
        // An instance drained by an interrupted run still gets its wait.
        drained = true;
        if !o.draining {
            steps.push(Step::Drain {
                key: o.key.clone(),
                service: service_label(&o.key),
                name: o.name.clone(),
            });
        }
    }
    if drained && !opts.drain_period.is_zero() {
        steps.push(Step::Wait {
            millis: u64::try_from(opts.drain_period.as_millis()).unwrap_or(u64::MAX),
        });
    }
    for (o, reason) in leaving.iter().flatten() {
        steps.push(Step::Remove {
            key: o.key.clone(),
            service: o.key.to_string(),
            name: o.name.clone(),
            reason: *reason,
        });
    }
    Ok(Plan {
        deployment: desired.deployment.clone(),
        steps,
    })
}
