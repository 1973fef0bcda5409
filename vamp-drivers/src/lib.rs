//! Orchestrator drivers and the deployment planner for Vamp.
//!
//! A resolved [`Deployment`](vamp_model::Deployment) becomes a [`Desired`]
//! state ([`desired_from_deployment`]); a [`Driver`] reports the
//! [`ActualState`]; [`plan`] compares them and returns an ordered [`Plan`];
//! [`apply`] runs it with retries, and [`reconcile`] repeats
//! observe-plan-apply until nothing is left to do.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use vamp_drivers::*;
//! let spec = ServiceSpec {
//!     key: ServiceKey { deployment: "shop".into(), cluster: "web".into(), service: "web_1".into() },
//!     image: "vamp-test/web:1".into(), deployable_type: None, environment: vec![],
//!     arguments: vec![], ports: vec![], cpu: 0.1, memory: 64.0, instances: 3,
//!     health_checks: vec![], depends_on: vec![],
//! };
//! let desired = Desired::new("shop", vec![spec], Default::default());
//! let driver = MemoryDriver::new();
//! let steps = reconcile(&driver, &desired, &PlanOptions::default(), RetryPolicy::default(), 3, &mut |_, _, _| {})
//!     .await.unwrap();
//! assert_eq!(steps, 3);
//! # });
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod apply;
#[cfg(feature = "docker")]
mod docker;
mod driver;
mod error;
#[cfg(feature = "kubernetes")]
mod kubernetes;
#[cfg(feature = "marathon")]
mod marathon;
mod memory;
mod plan;
mod spec;
mod weights;

pub use apply::{apply, reconcile, RetryPolicy, StepEvent};
#[cfg(feature = "docker")]
pub use docker::{DockerDriver, DockerOptions};
pub use driver::{ActualState, Capabilities, Driver, InstanceState, NewInstance, ObservedInstance};
pub use error::{ApplyError, DriverError, PlanError};
#[cfg(feature = "kubernetes")]
pub use kubernetes::{
    deployment_object, deployment_object_name, export_yaml, render, service_object,
    service_object_name, KubeObject, KubernetesDriver, KubernetesOptions,
};
#[cfg(feature = "marathon")]
pub use marathon::{marathon_app, marathon_app_id, MarathonDriver, MarathonOptions};
pub use memory::{MemoryDriver, MemoryState, MemoryStats};
pub use plan::{check_supported, plan, Plan, PlanOptions, RemoveReason, Step};
pub use spec::{
    desired_from_deployment, instance_name, port_env_name, Desired, DesiredRecord, DesiredService,
    PortSpec, Probe, ServiceKey, ServiceSpec,
};
pub use weights::{WeightBook, Weights};
