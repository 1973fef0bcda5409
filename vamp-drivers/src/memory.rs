//! The in-memory driver: the embedded default. Instances get states, ports
//! and health; tests inject failures, crashes and delays. Its state
//! serializes to JSON so the CLI can keep it between runs.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::driver::{
    ActualState, Capabilities, Driver, InstanceState, NewInstance, ObservedInstance,
};
use crate::error::DriverError;
use crate::spec::ServiceKey;

/// Everything the memory driver holds (serializable).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MemoryState {
    /// Instances by name.
    pub instances: BTreeMap<String, ObservedInstance>,
    /// `deployment/cluster` to weights.
    pub weights: BTreeMap<String, Vec<(String, u8)>>,
    /// Next port to hand out (starts at 31000).
    pub next_port: u16,
}

/// Injected faults.
#[derive(Debug, Clone, Default)]
struct Faults {
    transient: u32,
    crash_after: Option<(u64, bool)>,
    missing_images: Vec<String>,
    delay: Duration,
}

/// Counters of what the driver did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryStats {
    /// Mutating operations that took effect.
    pub operations: u64,
    /// Instances created.
    pub created: u64,
    /// Instances removed.
    pub removed: u64,
}

/// The in-memory driver.
///
/// ```
/// use vamp_drivers::MemoryDriver;
/// let d = MemoryDriver::new();
/// d.fail_transient(2); // the next two operations fail with a retryable error
/// assert_eq!(d.stats().operations, 0);
/// ```
#[derive(Debug, Default)]
pub struct MemoryDriver {
    state: Mutex<MemoryState>,
    faults: Mutex<Faults>,
    stats: Mutex<MemoryStats>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MemoryDriver {
    /// An empty cluster.
    pub fn new() -> Self {
        Self::from_state(MemoryState::default())
    }

    /// A cluster holding `state` (e.g. read back from the CLI's state file).
    pub fn from_state(mut state: MemoryState) -> Self {
        if state.next_port == 0 {
            state.next_port = 31000;
        }
        MemoryDriver {
            state: Mutex::new(state),
            ..MemoryDriver::default()
        }
    }

    /// A copy of the state.
    pub fn state(&self) -> MemoryState {
        lock(&self.state).clone()
    }

    /// What the driver did so far.
    pub fn stats(&self) -> MemoryStats {
        *lock(&self.stats)
    }

    /// The next `n` operations fail with a transient error (like a 503).
    pub fn fail_transient(&self, n: u32) {
        lock(&self.faults).transient = n;
    }

    /// After `n` more successful mutating operations, every operation fails
    /// with a permanent error until [`clear_faults`](Self::clear_faults): a
    /// crash. With `after_effect`, the failing operation first takes effect
    /// (a crash between doing and recording).
    pub fn crash_after(&self, n: u64, after_effect: bool) {
        let done = lock(&self.stats).operations;
        lock(&self.faults).crash_after = Some((done + n, after_effect));
    }

    /// Creating an instance of this image fails with `driver_image_not_found`.
    pub fn missing_image(&self, image: impl Into<String>) {
        lock(&self.faults).missing_images.push(image.into());
    }

    /// Every operation waits this long first.
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.faults).delay = delay;
    }

    /// Removes all injected faults.
    pub fn clear_faults(&self) {
        *lock(&self.faults) = Faults::default();
    }

    /// Simulates an instance crashing: it is reported as exited.
    pub fn kill(&self, name: &str) -> bool {
        match lock(&self.state).instances.get_mut(name) {
            Some(i) => {
                i.state = InstanceState::Exited;
                i.healthy = Some(false);
                true
            }
            None => false,
        }
    }

    /// Adds an instance as if someone else had created it (tests).
    pub fn insert(&self, instance: ObservedInstance) {
        lock(&self.state)
            .instances
            .insert(instance.name.clone(), instance);
    }

    /// Runs a mutating operation through the fault injector.
    async fn op<F>(&self, what: &str, f: F) -> Result<(), DriverError>
    where
        F: FnOnce(&mut MemoryState) -> Result<(), DriverError>,
    {
        let delay = lock(&self.faults).delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let crash = {
            let mut faults = lock(&self.faults);
            if faults.transient > 0 {
                faults.transient -= 1;
                return Err(DriverError::Injected {
                    detail: format!("transient failure of {what}"),
                    transient: true,
                });
            }
            let done = lock(&self.stats).operations;
            match faults.crash_after {
                Some((at, effect)) if done >= at => Some(effect),
                _ => None,
            }
        };
        let crashed = || DriverError::Injected {
            detail: format!("crash during {what}"),
            transient: false,
        };
        if crash == Some(false) {
            return Err(crashed());
        }
        f(&mut lock(&self.state))?;
        lock(&self.stats).operations += 1;
        if crash == Some(true) {
            // Took effect, but the caller never hears of it; stay crashed.
            lock(&self.faults).crash_after = Some((0, false));
            return Err(crashed());
        }
        Ok(())
    }
}

#[async_trait]
impl Driver for MemoryDriver {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    async fn observe(&self, deployment: &str) -> Result<ActualState, DriverError> {
        let state = lock(&self.state);
        let prefix = format!("{deployment}/");
        Ok(ActualState {
            instances: state
                .instances
                .values()
                .filter(|i| i.key.deployment == deployment)
                .cloned()
                .collect(),
            weights: state
                .weights
                .iter()
                .filter_map(|(k, w)| k.strip_prefix(&prefix).map(|c| (c.to_owned(), w.clone())))
                .collect(),
        })
    }

    async fn create(&self, new: NewInstance<'_>) -> Result<(), DriverError> {
        let NewInstance { spec, name, .. } = new;
        if lock(&self.faults).missing_images.contains(&spec.image) {
            return Err(DriverError::ImageNotFound {
                driver: "memory",
                image: spec.image.clone(),
            });
        }
        let mut created = false;
        self.op("create", |state| {
            if let Some(existing) = state.instances.get_mut(name) {
                if existing.state == InstanceState::Exited {
                    // Like Docker's 409: the name is taken by a dead container.
                    return Err(DriverError::Conflict {
                        object: name.to_owned(),
                        detail: "the name is in use by an exited instance; remove it first".into(),
                    });
                }
                existing.draining = false;
                return Ok(());
            }
            let mut ports = Vec::with_capacity(spec.ports.len());
            for p in &spec.ports {
                ports.push((p.name.clone(), state.next_port));
                state.next_port = state.next_port.checked_add(1).unwrap_or(31000);
            }
            state.instances.insert(
                name.to_owned(),
                ObservedInstance {
                    name: name.to_owned(),
                    key: spec.key.clone(),
                    fingerprint: new.fingerprint.to_owned(),
                    index: new.index,
                    state: InstanceState::Running,
                    draining: false,
                    healthy: if spec.health_checks.is_empty() {
                        None
                    } else {
                        Some(true)
                    },
                    host: "127.0.0.1".into(),
                    ports,
                },
            );
            created = true;
            Ok(())
        })
        .await?;
        if created {
            lock(&self.stats).created += 1;
        }
        Ok(())
    }

    async fn drain(&self, _key: &ServiceKey, name: &str) -> Result<(), DriverError> {
        self.op("drain", |state| {
            if let Some(i) = state.instances.get_mut(name) {
                i.draining = true;
            }
            Ok(())
        })
        .await
    }

    async fn remove(&self, _key: &ServiceKey, name: &str) -> Result<(), DriverError> {
        let mut removed = false;
        self.op("remove", |state| {
            removed = state.instances.remove(name).is_some();
            Ok(())
        })
        .await?;
        if removed {
            lock(&self.stats).removed += 1;
        }
        Ok(())
    }

    async fn set_weights(
        &self,
        deployment: &str,
        cluster: &str,
        weights: &[(String, u8)],
    ) -> Result<(), DriverError> {
        self.op("set_weights", |state| {
            state
                .weights
                .insert(format!("{deployment}/{cluster}"), weights.to_vec());
            Ok(())
        })
        .await
    }
}
