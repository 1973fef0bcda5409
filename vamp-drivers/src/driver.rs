//! The driver trait every orchestrator implements.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::DriverError;
use crate::spec::{ServiceKey, ServiceSpec};
use crate::weights::WeightBook;

/// What a driver supports, so a plan fails early instead of half-applying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Enforces cpu limits.
    pub cpu_limits: bool,
    /// Enforces memory limits.
    pub memory_limits: bool,
    /// Runs health checks.
    pub health_checks: bool,
    /// Passes `key=value` arguments on.
    pub arguments: bool,
    /// Takes instances out of their gateway before stopping them.
    pub drain: bool,
    /// Deployable types it runs (`docker`, `container/docker`); `None` in a spec counts as `docker`.
    pub deployable_types: &'static [&'static str],
}

impl Capabilities {
    /// Everything (the memory driver).
    pub const ALL: Capabilities = Capabilities {
        cpu_limits: true,
        memory_limits: true,
        health_checks: true,
        arguments: true,
        drain: true,
        deployable_types: &["docker", "container/docker", "command", "cmd", "rkt"],
    };

    /// What the container orchestrators support (Docker, Kubernetes; Marathon
    /// adds commands): limits, health checks and arguments, no draining, as
    /// they have no gateway of their own.
    pub const CONTAINERS: Capabilities = Capabilities {
        cpu_limits: true,
        memory_limits: true,
        health_checks: true,
        arguments: true,
        drain: false,
        deployable_types: &["docker", "container/docker"],
    };
}

/// Lifecycle state of an instance as the orchestrator reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstanceState {
    /// Created, not yet running.
    Starting,
    /// Running.
    Running,
    /// Stopped or crashed: must be replaced.
    Exited,
}

/// One instance a driver found, identified by the labels it set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedInstance {
    /// Instance (container, task, pod) name.
    pub name: String,
    /// The service it belongs to (labels `io.vamp.deployment/cluster/service`).
    pub key: ServiceKey,
    /// The spec fingerprint it was created from (label `io.vamp.fingerprint`).
    pub fingerprint: String,
    /// Its index within the service (label `io.vamp.index`).
    pub index: u32,
    /// Lifecycle state.
    pub state: InstanceState,
    /// Taken out of its gateway, waiting to be stopped.
    pub draining: bool,
    /// Health: `None` when the service has no health check or it is still starting.
    pub healthy: Option<bool>,
    /// Host.
    pub host: String,
    /// Port name to assigned port, in breed order.
    pub ports: Vec<(String, u16)>,
}

/// What runs for a deployment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ActualState {
    /// Instances of the deployment.
    pub instances: Vec<ObservedInstance>,
    /// Cluster name to the route weights in force.
    pub weights: BTreeMap<String, Vec<(String, u8)>>,
}

/// The instance [`Driver::create`] starts: instance `index` of the service
/// `spec` describes, at version `fingerprint`, under the deterministic
/// `name` the planner gave it (named fields, so that the two texts cannot
/// be swapped).
#[derive(Debug, Clone, Copy)]
pub struct NewInstance<'a> {
    /// The service.
    pub spec: &'a ServiceSpec,
    /// The fingerprint of the service's version.
    pub fingerprint: &'a str,
    /// The instance's index within its service version.
    pub index: u32,
    /// The instance's name.
    pub name: &'a str,
}

/// An orchestrator. Every method is idempotent: creating an instance whose
/// name already runs with the same fingerprint succeeds, removing an absent
/// instance succeeds. Drivers never print.
///
/// ```
/// # async fn demo() -> Result<(), vamp_drivers::DriverError> {
/// use vamp_drivers::{Driver, MemoryDriver};
/// let driver = MemoryDriver::new();
/// assert!(driver.capabilities().health_checks);
/// assert!(driver.observe("shop").await?.instances.is_empty());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Driver: Send + Sync {
    /// Short name (`memory`, `docker`, ...).
    fn name(&self) -> &'static str;
    /// What it supports; by default what the container orchestrators
    /// support ([`Capabilities::CONTAINERS`]).
    fn capabilities(&self) -> Capabilities {
        Capabilities::CONTAINERS
    }
    /// Lists the instances of a deployment (found by labels) and its weights.
    async fn observe(&self, deployment: &str) -> Result<ActualState, DriverError>;
    /// Creates and starts an instance of a service.
    async fn create(&self, new: NewInstance<'_>) -> Result<(), DriverError>;
    /// Takes an instance out of its gateway; by default nothing (Docker,
    /// Kubernetes and Marathon have no gateway of Vamp's in front of their
    /// instances).
    async fn drain(&self, _key: &ServiceKey, _name: &str) -> Result<(), DriverError> {
        Ok(())
    }
    /// Stops and removes an instance.
    async fn remove(&self, key: &ServiceKey, name: &str) -> Result<(), DriverError>;
    /// Where a driver without a gateway of its own keeps route weights
    /// (Docker, Kubernetes, Marathon); `None` (the default) for one that
    /// implements [`set_weights`](Driver::set_weights) itself.
    fn weight_book(&self) -> Option<&WeightBook> {
        None
    }
    /// Sets the route weights of a cluster's gateway; by default they go
    /// into the [`weight_book`](Driver::weight_book).
    async fn set_weights(
        &self,
        deployment: &str,
        cluster: &str,
        weights: &[(String, u8)],
    ) -> Result<(), DriverError> {
        if let Some(book) = self.weight_book() {
            book.set(deployment, cluster, weights);
        }
        Ok(())
    }
}
