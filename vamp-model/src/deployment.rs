//! Deployments: resolved blueprints plus runtime state.

use serde::Serialize;

use crate::artifact::{Argument, Breed, Gateway, HealthCheck, Map, Scale, Sla, TraitValue, Value};
use crate::{Kind, Spec};

/// A running blueprint: every reference resolved, runtime state added.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    /// Deployment gateways keyed like blueprint gateways.
    pub gateways: Map<Gateway>,
    /// Clusters by name.
    pub clusters: Map<DeployedCluster>,
    /// Cluster-scope environment variables (`cluster.environment_variables.NAME`).
    pub environment_variables: Map<TraitValue>,
    /// Dialects.
    pub dialects: Map<Value>,
}

impl Spec for Deployment {
    const KIND: Kind = Kind::Deployment;
}

/// A cluster of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployedCluster {
    /// Free-form metadata.
    pub metadata: Map<Value>,
    /// Deployed services in order.
    pub services: Vec<DeployedService>,
    /// Internal gateways keyed by port name, with route weights.
    pub gateways: Map<Gateway>,
    /// Health checks.
    pub health_checks: Option<Vec<HealthCheck>>,
    /// Network.
    pub network: Option<String>,
    /// SLA, references resolved.
    pub sla: Option<Sla>,
    /// Dialects.
    pub dialects: Map<Value>,
}

/// A service with its breed and scale resolved and its runtime state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployedService {
    /// The inline breed, references resolved.
    pub breed: Breed,
    /// The inline scale.
    pub scale: Scale,
    /// Exactly what the container sees: names after aliases, values after
    /// scopes and interpolation.
    pub environment: Map<String>,
    /// Arguments.
    pub arguments: Vec<Argument>,
    /// Health checks.
    pub health_checks: Option<Vec<HealthCheck>>,
    /// Network.
    pub network: Option<String>,
    /// Dialects.
    pub dialects: Map<Value>,
    /// Dependency name to the cluster that provides it.
    pub dependencies: Map<String>,
    /// What Vamp wants and how far it got.
    pub status: Status,
    /// Running instances.
    pub instances: Vec<Instance>,
}

/// `{"intention": "deploy", "phase": "initiated"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Deploy or undeploy.
    pub intention: Intention,
    /// How far it got.
    pub phase: Phase,
    /// Why it failed (only with `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Status {
    /// A fresh deploy request.
    pub const fn deploy() -> Self {
        Status {
            intention: Intention::Deploy,
            phase: Phase::Initiated,
            reason: None,
        }
    }
}

/// What Vamp wants for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Intention {
    /// Run it.
    Deploy,
    /// Remove it.
    Undeploy,
}

/// How far a service got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Requested.
    Initiated,
    /// In progress.
    Updating,
    /// Reached.
    Done,
    /// Failed (see `reason`).
    Failed,
}

/// One running instance of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// Instance name.
    pub name: String,
    /// Host it runs on.
    pub host: String,
    /// Port name to assigned host port.
    pub ports: Map<u16>,
    /// Health.
    pub healthy: bool,
}
