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

use crate::driver::{ActualState, Capabilities, InstanceState};
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

/// The Fx hash of some bytes.
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

/// Orders clusters (by index) so that dependencies come first (Kahn's
/// algorithm, ties in blueprint order). `edges` are `(dependency,
/// dependant)` pairs, duplicates allowed.
fn cluster_order(clusters: &[&str], edges: &[(u32, u32)]) -> Result<Vec<u32>, PlanError> {
    let n = clusters.len();
    let mut indegree = vec![0usize; n];
    let mut dependants: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut seen: FxSet<(u32, u32)> = FxSet::default();
    for &(d, me) in edges {
        if d != me && seen.insert((d, me)) {
            indegree[me as usize] += 1;
            dependants[d as usize].push(me);
        }
    }
    let mut ready: std::collections::BTreeSet<u32> = (0..n as u32)
        .filter(|&i| indegree[i as usize] == 0)
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &j in &dependants[i as usize] {
            indegree[j as usize] -= 1;
            if indegree[j as usize] == 0 {
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
    let caps = &opts.capabilities;
    let mut clusters: Vec<&str> = Vec::new();
    let mut cluster_index: FxMap<&str, u32> = FxMap::default();
    let mut cluster_of: Vec<u32> = Vec::with_capacity(desired.services.len());
    let mut edges: Vec<(u32, u32)> = Vec::new();
    let mut later_edges: Vec<(&str, u32)> = Vec::new();
    // Every service's cluster, service and fingerprint, back to back in
    // `keys` (`key_at[si]` is where they start), found by hash in
    // `service_at` (the last of several services with one key wins).
    let mut keys = String::with_capacity(desired.services.len() * 32);
    let mut key_at: Vec<[usize; 4]> = Vec::with_capacity(desired.services.len());
    let mut service_at = PosTable::with_capacity(desired.services.len());
    // Every wanted instance: its name in `names[span]`, service and index.
    // (Capacities are guesses: two instances of ~48-byte names a service.)
    let mut names = String::with_capacity(desired.services.len() * 80);
    let mut wanted: Vec<(std::ops::Range<usize>, u32, u32)> =
        Vec::with_capacity(desired.services.len() * 2);
    let mut hashes: Vec<u64> = Vec::with_capacity(desired.services.len() * 2);
    let mut name = String::with_capacity(96);
    for (si, s) in desired.services.iter().enumerate() {
        let spec = &*s.spec;
        if let Some(feature) = unsupported(spec, caps) {
            return Err(unsupported_error(spec, feature, opts));
        }
        let cluster = spec.key.cluster.as_str();
        let next = clusters.len() as u32;
        let c = *cluster_index.entry(cluster).or_insert(next);
        if c == next {
            clusters.push(cluster);
        }
        cluster_of.push(c);
        for dep in &spec.depends_on {
            match cluster_index.get(dep.as_str()) {
                Some(&d) => edges.push((d, c)),
                None => later_edges.push((dep.as_str(), c)),
            }
        }
        let service = spec.key.service.as_str();
        let at = keys.len();
        keys.push_str(cluster);
        let c_end = keys.len();
        keys.push_str(service);
        let s_end = keys.len();
        keys.push_str(&s.fingerprint);
        key_at.push([at, c_end, s_end, keys.len()]);
        let keys_ref = &keys;
        let key_at_ref = &key_at;
        service_at.insert(
            fx_hash(&[cluster.as_bytes(), service.as_bytes()]),
            si as u32,
            |other| {
                let (c, sv, _) = key_parts(keys_ref, key_at_ref[other as usize]);
                c == cluster && sv == service
            },
        );
        for index in 0..spec.instances {
            write_instance_name(&mut name, &spec.key, &s.fingerprint, index);
            let start = names.len();
            names.push_str(&name);
            hashes.push(fx_hash(&[name.as_bytes()]));
            wanted.push((start..names.len(), si as u32, index));
        }
    }
    // Dependencies on clusters outside the deployment are ignored.
    for (dep, c) in later_edges {
        if let Some(&d) = cluster_index.get(dep) {
            edges.push((d, c));
        }
    }
    let order = cluster_order(&clusters, &edges)?;
    let mut rank = vec![0usize; clusters.len()];
    for (r, &c) in order.iter().enumerate() {
        rank[c as usize] = r;
    }

    // The instances of this deployment, matched with the wanted ones by
    // name (the last of several instances with one name wins).
    // (Instances usually come in the order the services want them, so the
    // next wanted name is tried before the table, unless names repeat.)
    let mut by_name = PosTable::with_capacity(wanted.len());
    let mut repeated = false;
    for (w, h) in hashes.iter().enumerate() {
        let mine = &names[wanted[w].0.clone()];
        repeated |= by_name.insert(*h, w as u32, |other| {
            &names[wanted[other as usize].0.clone()] == mine
        });
    }
    drop(hashes);
    const NONE: u32 = u32::MAX;
    const OURS: u8 = 1;
    const KEPT: u8 = 2;
    let mut found = vec![NONE; wanted.len()];
    // What the instance found for each wanted one is doing (so that the
    // creations below need not read the instances again).
    const ABSENT: u8 = 0;
    const SERVING: u8 = 1;
    const EXITED: u8 = 2;
    const DRAINING: u8 = 3;
    let mut status = vec![ABSENT; wanted.len()];
    let mut flags = vec![0u8; actual.instances.len()];
    let mut next = 0usize;
    for (i, o) in actual.instances.iter().enumerate() {
        if o.key.deployment != desired.deployment {
            continue;
        }
        flags[i] = OURS;
        let o_name = o.name.as_str();
        let hit = match wanted.get(next) {
            Some((span, _, _)) if !repeated && &names[span.clone()] == o_name => Some(next as u32),
            _ => by_name.find(fx_hash(&[o_name.as_bytes()]), |w| {
                &names[wanted[w as usize].0.clone()] == o_name
            }),
        };
        if let Some(w) = hit {
            next = w as usize + 1;
            let previous = found[w as usize];
            if previous != NONE {
                flags[previous as usize] = OURS;
            }
            found[w as usize] = i as u32;
            status[w as usize] = if o.state == InstanceState::Exited {
                EXITED
            } else if o.draining {
                DRAINING
            } else {
                SERVING
            };
            flags[i] = OURS | KEPT;
        }
    }

    // 1. Creations, dependencies first, blueprint order within a cluster
    // (a stable counting sort of the wanted instances by cluster rank).
    let mut starts = vec![0usize; order.len() + 1];
    for &(_, si, _) in &wanted {
        starts[rank[cluster_of[si as usize] as usize] + 1] += 1;
    }
    for r in 0..order.len() {
        starts[r + 1] += starts[r];
    }
    let mut sorted = vec![0u32; wanted.len()];
    for (w, &(_, si, _)) in wanted.iter().enumerate() {
        let r = rank[cluster_of[si as usize] as usize];
        sorted[starts[r]] = w as u32;
        starts[r] += 1;
    }
    let mut steps = Vec::new();
    // `deployment/cluster/service` of the service last seen.
    let mut label: Option<(u32, String)> = None;
    for w in sorted {
        let (span, si, index) = &wanted[w as usize];
        let observed = status[w as usize];
        if observed == SERVING {
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
        let name = &names[span.clone()];
        if observed == EXITED {
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
    for &c in &order {
        let cluster = clusters[c as usize];
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

    // 3. Drain, wait, remove: dependants first, vanished services before all.
    // One pass over the leaving instances copies what the steps need.
    struct Leaving {
        exited: bool,
        draining: bool,
        reason: RemoveReason,
        key: ServiceKey,
        service: String,
        name: String,
    }
    let mut leaving: Vec<Vec<Leaving>> = Vec::new();
    leaving.resize_with(order.len() + 1, Vec::new);
    for (o, _) in actual
        .instances
        .iter()
        .zip(&flags)
        .filter(|(_, f)| **f & (OURS | KEPT) == OURS)
    {
        let cluster = o.key.cluster.as_str();
        let service = o.key.service.as_str();
        let si = service_at.find(fx_hash(&[cluster.as_bytes(), service.as_bytes()]), |si| {
            let (c, sv, _) = key_parts(&keys, key_at[si as usize]);
            c == cluster && sv == service
        });
        let exited = o.state == InstanceState::Exited;
        let (reason, bucket) = match si {
            None => (RemoveReason::Orphan, 0),
            Some(si) => {
                let reason = if exited {
                    RemoveReason::Failed
                } else if key_parts(&keys, key_at[si as usize]).2 != o.fingerprint {
                    RemoveReason::Outdated
                } else {
                    RemoveReason::Surplus
                };
                (reason, order.len() - rank[cluster_of[si as usize] as usize])
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
    Ok(Plan {
        deployment: desired.deployment.clone(),
        steps,
    })
}
