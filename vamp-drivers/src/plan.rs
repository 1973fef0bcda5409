//! The planner: desired versus actual state to an ordered, explicit plan.
//!
//! Order: dependencies before dependants; every creation (scale-up,
//! replacement of crashed instances, new versions) before any weight shift;
//! weight shifts before draining; drain, wait the drain period, then stop.
//! Surplus and outdated instances leave dependants first. The planner is pure
//! and linear in the number of services and instances.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHasher};
use serde::Serialize;
use vamp_model::graph::dependencies_first;

use crate::driver::{ActualState, Capabilities, InstanceState};
use crate::error::PlanError;
use crate::spec::{write_instance_name, Desired, ServiceKey, ServiceSpec};

/// The Fx hash (rustc's, far cheaper than SipHash on the planner's short
/// names) of some byte strings. The keys are names from the planner's own
/// inputs, hashed in one short-lived call, so collision flooding is not a
/// concern here.
#[inline]
fn fx_hash(parts: &[&[u8]]) -> u64 {
    let mut h = FxHasher::default();
    for p in parts {
        h.write(p);
        h.write_u8(0xff);
    }
    h.finish()
}

/// A compact open-addressing table from a hash to a `u32` position in
/// some other (compact) store: 8 bytes a slot, so that it stays in cache
/// next to the planner's other buffers when the inputs do not. The caller
/// confirms candidates (the tags are only a filter).
struct PosTable {
    /// `(tag, position)`; position `u32::MAX` is empty.
    slots: Vec<(u32, u32)>,
    shift: u32,
}

impl PosTable {
    const EMPTY: u32 = u32::MAX;

    fn with_capacity(n: usize) -> Self {
        let size = (n + n / 2).max(8).next_power_of_two();
        PosTable {
            slots: vec![(0, Self::EMPTY); size],
            shift: 64 - size.trailing_zeros(),
        }
    }

    #[inline]
    fn start(&self, h: u64) -> (usize, u32) {
        ((h >> self.shift) as usize, (h >> 8) as u32)
    }

    /// The position stored for `h` that `eq` confirms.
    #[inline]
    fn find(&self, h: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let (mut i, tag) = self.start(h);
        loop {
            let (t, v) = self.slots[i];
            if v == Self::EMPTY {
                return None;
            }
            if t == tag && eq(v) {
                return Some(v);
            }
            i = (i + 1) & mask;
        }
    }

    /// Stores `v` for `h`, replacing a position that `eq` confirms (true
    /// when it did).
    #[inline]
    fn insert(&mut self, h: u64, v: u32, mut eq: impl FnMut(u32) -> bool) -> bool {
        let mask = self.slots.len() - 1;
        let (mut i, tag) = self.start(h);
        loop {
            let (t, old) = self.slots[i];
            if old == Self::EMPTY {
                self.slots[i] = (tag, v);
                return false;
            }
            if t == tag && eq(old) {
                self.slots[i].1 = v;
                return true;
            }
            i = (i + 1) & mask;
        }
    }
}

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

/// What a service needs that the driver lacks, if anything.
fn unsupported(spec: &ServiceSpec, caps: &Capabilities) -> Option<String> {
    let ty = spec.deployable_type.as_deref().unwrap_or("docker");
    if !caps.deployable_types.contains(&ty) {
        Some(format!("deployable type `{ty}`"))
    } else if !spec.health_checks.is_empty() && !caps.health_checks {
        Some("health checks".to_owned())
    } else if !spec.arguments.is_empty() && !caps.arguments {
        Some("arguments".to_owned())
    } else {
        None
    }
}

fn unsupported_error(spec: &ServiceSpec, feature: String, opts: &PlanOptions) -> PlanError {
    PlanError::Unsupported {
        service: spec.key.to_string(),
        feature,
        driver: opts.driver,
    }
}

/// Fails when a service needs something the driver does not support.
pub fn check_supported(desired: &Desired, opts: &PlanOptions) -> Result<(), PlanError> {
    for s in &desired.services {
        if let Some(feature) = unsupported(&s.spec, &opts.capabilities) {
            return Err(unsupported_error(&s.spec, feature, opts));
        }
    }
    Ok(())
}

/// Orders clusters (by index) so that dependencies come first, otherwise
/// in blueprint order ([`dependencies_first`]). `edges` are `(dependency,
/// dependant)` pairs; duplicates and a cluster depending on itself are
/// allowed.
fn cluster_order(clusters: &[&str], edges: &[(u32, u32)]) -> Result<Vec<u32>, PlanError> {
    // Each dependant's dependencies, back to back (a counting sort).
    let n = clusters.len();
    let mut starts = vec![0usize; n + 1];
    for &(_, me) in edges {
        starts[me as usize + 1] += 1;
    }
    for i in 0..n {
        starts[i + 1] += starts[i];
    }
    let mut fill = starts.clone();
    let mut deps = vec![0u32; edges.len()];
    for &(d, me) in edges {
        deps[fill[me as usize]] = d;
        fill[me as usize] += 1;
    }
    let of = |i: usize| {
        deps[starts[i]..starts[i + 1]]
            .iter()
            .map(|&d| d as usize)
            .filter(move |&d| d != i)
    };
    match dependencies_first(n, of) {
        Ok(order) => Ok(order.into_iter().map(|c| c as u32).collect()),
        Err(mut cycle) => {
            cycle.pop();
            let names: Vec<&str> = cycle.into_iter().map(|c| clusters[c]).collect();
            Err(PlanError::DependencyCycle {
                clusters: names.join(", "),
            })
        }
    }
}

/// A service's cluster, service and fingerprint in the planner's `keys`.
#[inline]
fn key_parts(keys: &str, [at, c, s, f]: [usize; 4]) -> (&str, &str, &str) {
    (&keys[at..c], &keys[c..s], &keys[s..f])
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
    // The planner is memory-bound at scale (its inputs outgrow the caches
    // long before its work does), so it reads each input once: one pass
    // over the services writes every wanted instance name into one buffer
    // (small, and read in order), one pass over the instances looks their
    // names up in it. Names are allocated only for the steps.
    let wanted = Wanted::of(desired, opts)?;
    let order = cluster_order(&wanted.clusters, &wanted.edges)?;
    let mut rank = vec![0usize; wanted.clusters.len()];
    for (r, &c) in order.iter().enumerate() {
        rank[c as usize] = r;
    }
    let seen = Seen::of(&wanted, desired, actual);
    let mut steps = Vec::new();
    creations(&wanted, &seen, &rank, desired, &mut steps);
    weight_shifts(&wanted, &order, desired, actual, &mut steps);
    removals(&wanted, &seen, &rank, actual, opts, &mut steps);
    Ok(Plan {
        deployment: desired.deployment.clone(),
        steps,
    })
}

/// One pass over the desired services: their clusters and dependencies,
/// and every wanted instance by name.
struct Wanted<'a> {
    /// Cluster names in blueprint order.
    clusters: Vec<&'a str>,
    /// Each service's cluster (by index).
    cluster_of: Vec<u32>,
    /// `(dependency, dependant)` clusters.
    edges: Vec<(u32, u32)>,
    /// Every service's cluster, service and fingerprint, back to back
    /// (`key_at[si]` is where they start), found by hash in `service_at`
    /// (the last of several services with one key wins).
    keys: String,
    key_at: Vec<[usize; 4]>,
    service_at: PosTable,
    /// Every wanted instance: its name in `names[span]`, service and index.
    names: String,
    instances: Vec<(Range<usize>, u32, u32)>,
    /// The instances by name (the last of several with one name wins).
    by_name: PosTable,
    /// Whether two wanted instances share a name.
    repeated: bool,
}

impl<'a> Wanted<'a> {
    fn of(desired: &'a Desired, opts: &PlanOptions) -> Result<Self, PlanError> {
        let n = desired.services.len();
        let mut cluster_index: FxHashMap<&str, u32> = FxHashMap::default();
        let mut later_edges: Vec<(&str, u32)> = Vec::new();
        // (Capacities are guesses: two instances of ~48-byte names a service.)
        let mut w = Wanted {
            clusters: Vec::new(),
            cluster_of: Vec::with_capacity(n),
            edges: Vec::new(),
            keys: String::with_capacity(n * 32),
            key_at: Vec::with_capacity(n),
            service_at: PosTable::with_capacity(n),
            names: String::with_capacity(n * 80),
            instances: Vec::with_capacity(n * 2),
            by_name: PosTable::with_capacity(0),
            repeated: false,
        };
        let mut hashes: Vec<u64> = Vec::with_capacity(n * 2);
        let mut name = String::with_capacity(96);
        for (si, s) in desired.services.iter().enumerate() {
            let spec = &*s.spec;
            if let Some(feature) = unsupported(spec, &opts.capabilities) {
                return Err(unsupported_error(spec, feature, opts));
            }
            let cluster = spec.key.cluster.as_str();
            let next = w.clusters.len() as u32;
            let c = *cluster_index.entry(cluster).or_insert(next);
            if c == next {
                w.clusters.push(cluster);
            }
            w.cluster_of.push(c);
            for dep in &spec.depends_on {
                match cluster_index.get(dep.as_str()) {
                    Some(&d) => w.edges.push((d, c)),
                    None => later_edges.push((dep.as_str(), c)),
                }
            }
            let service = spec.key.service.as_str();
            let at = w.keys.len();
            w.keys.push_str(cluster);
            let c_end = w.keys.len();
            w.keys.push_str(service);
            let s_end = w.keys.len();
            w.keys.push_str(&s.fingerprint);
            w.key_at.push([at, c_end, s_end, w.keys.len()]);
            let (keys, key_at) = (&w.keys, &w.key_at);
            w.service_at.insert(
                fx_hash(&[cluster.as_bytes(), service.as_bytes()]),
                si as u32,
                |other| {
                    let (c, sv, _) = key_parts(keys, key_at[other as usize]);
                    c == cluster && sv == service
                },
            );
            for index in 0..spec.instances {
                write_instance_name(&mut name, &spec.key, &s.fingerprint, index);
                let start = w.names.len();
                w.names.push_str(&name);
                hashes.push(fx_hash(&[name.as_bytes()]));
                w.instances.push((start..w.names.len(), si as u32, index));
            }
        }
        // Dependencies on clusters outside the deployment are ignored.
        for (dep, c) in later_edges {
            if let Some(&d) = cluster_index.get(dep) {
                w.edges.push((d, c));
            }
        }
        let mut by_name = PosTable::with_capacity(w.instances.len());
        for (i, h) in hashes.iter().enumerate() {
            let mine = w.name(i);
            w.repeated |= by_name.insert(*h, i as u32, |other| w.name(other as usize) == mine);
        }
        w.by_name = by_name;
        Ok(w)
    }

    /// The name of wanted instance `i`.
    #[inline]
    fn name(&self, i: usize) -> &str {
        &self.names[self.instances[i].0.clone()]
    }

    /// The wanted instance named `name`; `hint` is tried first.
    #[inline]
    fn find(&self, name: &str, hint: usize) -> Option<usize> {
        if !self.repeated && hint < self.instances.len() && self.name(hint) == name {
            return Some(hint);
        }
        self.by_name
            .find(fx_hash(&[name.as_bytes()]), |w| {
                self.name(w as usize) == name
            })
            .map(|w| w as usize)
    }

    /// The desired service (by index) with this cluster and service name.
    fn service(&self, cluster: &str, service: &str) -> Option<usize> {
        self.service_at
            .find(fx_hash(&[cluster.as_bytes(), service.as_bytes()]), |si| {
                let (c, sv, _) = key_parts(&self.keys, self.key_at[si as usize]);
                c == cluster && sv == service
            })
            .map(|si| si as usize)
    }
}

/// What the instance found for a wanted one is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Observed {
    /// No instance has its name.
    Absent,
    /// Running and in its gateway.
    Serving,
    /// Exited or crashed.
    Exited,
    /// Running but taken out of its gateway.
    Draining,
}

/// What becomes of an observed instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Another deployment's: left alone.
    Foreign,
    /// Ours and no longer wanted.
    Leaving,
    /// Ours and wanted.
    Kept,
}

/// One pass over the observed instances, matched with the wanted ones by
/// name (the last of several instances with one name wins).
struct Seen {
    /// By wanted instance.
    observed: Vec<Observed>,
    /// By observed instance.
    fates: Vec<Fate>,
}

impl Seen {
    fn of(wanted: &Wanted<'_>, desired: &Desired, actual: &ActualState) -> Self {
        const NONE: u32 = u32::MAX;
        let mut found = vec![NONE; wanted.instances.len()];
        let mut observed = vec![Observed::Absent; wanted.instances.len()];
        let mut fates = vec![Fate::Foreign; actual.instances.len()];
        // Instances usually come in the order the services want them, so
        // the next wanted name is tried before the table.
        let mut next = 0usize;
        for (i, o) in actual.instances.iter().enumerate() {
            if o.key.deployment != desired.deployment {
                continue;
            }
            fates[i] = Fate::Leaving;
            let Some(w) = wanted.find(&o.name, next) else {
                continue;
            };
            next = w + 1;
            let previous = found[w];
            if previous != NONE {
                fates[previous as usize] = Fate::Leaving;
            }
            found[w] = i as u32;
            observed[w] = if o.state == InstanceState::Exited {
                Observed::Exited
            } else if o.draining {
                Observed::Draining
            } else {
                Observed::Serving
            };
            fates[i] = Fate::Kept;
        }
        Seen { observed, fates }
    }
}

/// Phase 1, creations (after removing a failed instance of the same name),
/// dependencies first, blueprint order within a cluster (a stable counting
/// sort of the wanted instances by cluster rank).
fn creations(
    wanted: &Wanted<'_>,
    seen: &Seen,
    rank: &[usize],
    desired: &Desired,
    steps: &mut Vec<Step>,
) {
    let rank_of = |si: u32| rank[wanted.cluster_of[si as usize] as usize];
    let mut starts = vec![0usize; rank.len() + 1];
    for &(_, si, _) in &wanted.instances {
        starts[rank_of(si) + 1] += 1;
    }
    for r in 0..rank.len() {
        starts[r + 1] += starts[r];
    }
    let mut sorted = vec![0u32; wanted.instances.len()];
    for (w, &(_, si, _)) in wanted.instances.iter().enumerate() {
        let r = rank_of(si);
        sorted[starts[r]] = w as u32;
        starts[r] += 1;
    }
    // `deployment/cluster/service` of the service last seen.
    let mut label: Option<(u32, String)> = None;
    for w in sorted {
        let (span, si, index) = &wanted.instances[w as usize];
        let observed = seen.observed[w as usize];
        if observed == Observed::Serving {
            continue;
        }
        let s = &desired.services[*si as usize];
        let service = match &label {
            Some((last, l)) if last == si => l.clone(),
            _ => {
                let l = service_label(&s.spec.key);
                label = Some((*si, l.clone()));
                l
            }
        };
        let name = &wanted.names[span.clone()];
        if observed == Observed::Exited {
            steps.push(Step::Remove {
                key: s.spec.key.clone(),
                service: service.clone(),
                name: name.to_owned(),
                reason: RemoveReason::Failed,
            });
        }
        steps.push(Step::Create {
            spec: Arc::clone(&s.spec),
            service,
            fingerprint: s.fingerprint.clone(),
            index: *index,
            name: name.to_owned(),
        });
    }
}

/// Phase 2, weight shifts, once the new instances exist, dependencies first
/// (hashed lookups: the weight maps are ordered maps, log n per lookup).
fn weight_shifts(
    wanted: &Wanted<'_>,
    order: &[u32],
    desired: &Desired,
    actual: &ActualState,
    steps: &mut Vec<Step>,
) {
    let desired_weights = by_cluster(&desired.weights);
    let actual_weights = by_cluster(&actual.weights);
    for &c in order {
        let cluster = wanted.clusters[c as usize];
        if let Some(w) = desired_weights.get(cluster).copied() {
            if actual_weights.get(cluster).copied() != Some(w) {
                steps.push(Step::SetWeights {
                    deployment: desired.deployment.clone(),
                    cluster: cluster.to_owned(),
                    weights: w.clone(),
                });
            }
        }
    }
}

/// Weights by cluster, hashed.
fn by_cluster(
    weights: &BTreeMap<String, Vec<(String, u8)>>,
) -> FxHashMap<&str, &Vec<(String, u8)>> {
    weights.iter().map(|(c, w)| (c.as_str(), w)).collect()
}

/// Phase 3, drain, wait, remove: dependants first, vanished services before all.
/// One pass over the leaving instances copies what the steps need.
fn removals(
    wanted: &Wanted<'_>,
    seen: &Seen,
    rank: &[usize],
    actual: &ActualState,
    opts: &PlanOptions,
    steps: &mut Vec<Step>,
) {
    struct Leaving {
        exited: bool,
        draining: bool,
        reason: RemoveReason,
        key: ServiceKey,
        service: String,
        name: String,
    }
    let mut leaving: Vec<Vec<Leaving>> = Vec::new();
    leaving.resize_with(rank.len() + 1, Vec::new);
    for (o, _) in actual
        .instances
        .iter()
        .zip(&seen.fates)
        .filter(|(_, f)| **f == Fate::Leaving)
    {
        let exited = o.state == InstanceState::Exited;
        let (reason, bucket) = match wanted.service(&o.key.cluster, &o.key.service) {
            None => (RemoveReason::Orphan, 0),
            Some(si) => {
                let reason = if exited {
                    RemoveReason::Failed
                } else if key_parts(&wanted.keys, wanted.key_at[si]).2 != o.fingerprint {
                    RemoveReason::Outdated
                } else {
                    RemoveReason::Surplus
                };
                (reason, rank.len() - rank[wanted.cluster_of[si] as usize])
            }
        };
        leaving[bucket].push(Leaving {
            exited,
            draining: o.draining,
            reason,
            key: o.key.clone(),
            service: service_label(&o.key),
            name: o.name.clone(),
        });
    }
    let mut drained = false;
    for l in leaving.iter().flatten() {
        if l.exited {
            continue;
        }
        // An instance drained by an interrupted run still gets its wait.
        drained = true;
        if !l.draining {
            steps.push(Step::Drain {
                key: l.key.clone(),
                service: l.service.clone(),
                name: l.name.clone(),
            });
        }
    }
    if drained && !opts.drain_period.is_zero() {
        steps.push(Step::Wait {
            millis: u64::try_from(opts.drain_period.as_millis()).unwrap_or(u64::MAX),
        });
    }
    for l in leaving.into_iter().flatten() {
        steps.push(Step::Remove {
            key: l.key,
            service: l.service,
            name: l.name,
            reason: l.reason,
        });
    }
}
