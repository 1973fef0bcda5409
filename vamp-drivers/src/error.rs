//! Typed errors: what a driver, the planner and `apply` can report.
//!
//! Every error has a stable [`Code`] from the registry in `vamp_model`
//! ([`code`](DriverError::code); tests match on it, never on the text) and a
//! message that says what to do.

use std::time::Duration;

use vamp_model::Code;

/// An error reported by a driver for one operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The image does not exist on the host (there is no registry to pull from).
    #[error("image `{image}` is not present on the {driver} host: build or load it there first (e.g. `docker build -t {image} .`); Vamp never pulls")]
    ImageNotFound {
        /// Driver name.
        driver: &'static str,
        /// The image reference.
        image: String,
    },
    /// A port the instance needs is already bound by another process.
    #[error("port {port} on 127.0.0.1 is already in use: stop whatever listens there or let the driver pick another port")]
    PortTaken {
        /// The port.
        port: u16,
    },
    /// The orchestrator cannot be reached (daemon not running, connection refused).
    #[error("the {driver} orchestrator is not reachable ({detail}): start it or point the driver at it (Docker: `dockerd --bridge=none --iptables=false --ip-masq=false &` or DOCKER_HOST; Kubernetes: KUBECONFIG or `--namespace`; Marathon: `--marathon-url` or MARATHON_URL)")]
    Unavailable {
        /// Driver name.
        driver: &'static str,
        /// What failed.
        detail: String,
    },
    /// The orchestrator refused the credentials.
    #[error("the {driver} orchestrator refused the request as unauthorised ({detail}): check the token, kubeconfig context or socket permissions")]
    Unauthorized {
        /// Driver name.
        driver: &'static str,
        /// What the server said.
        detail: String,
    },
    /// A concurrent change won (HTTP 409 stale version, locked app, name in use by a dying container).
    #[error(
        "conflict on `{object}`: {detail}; this is retried automatically, re-run if it persists"
    )]
    Conflict {
        /// The object.
        object: String,
        /// What the server said.
        detail: String,
    },
    /// The orchestrator rejected the object as invalid (HTTP 400/422).
    #[error("the {driver} orchestrator rejected `{object}` as invalid: {detail}; fix the blueprint value named there")]
    Invalid {
        /// Driver name.
        driver: &'static str,
        /// The object.
        object: String,
        /// What the server said.
        detail: String,
    },
    /// The orchestrator failed on its side (HTTP 5xx, 429).
    #[error("the {driver} orchestrator failed with status {status}: {detail}; this is retried automatically")]
    Server {
        /// Driver name.
        driver: &'static str,
        /// HTTP status.
        status: u16,
        /// What the server said.
        detail: String,
    },
    /// The orchestrator has no such object or path (HTTP 404 where the driver
    /// expected one): usually a wrong URL or base path.
    #[error("the {driver} orchestrator has no `{object}` ({detail}): check the URL the driver talks to (for Marathon on DC/OS: `https://<master>/service/marathon`)")]
    NotFound {
        /// Driver name.
        driver: &'static str,
        /// The object or path.
        object: String,
        /// What the server said.
        detail: String,
    },
    /// An orchestrator deployment did not finish in time (e.g. tasks that
    /// never become healthy); the driver asked the orchestrator to roll it back.
    #[error("the {driver} deployment of `{object}` did not finish within {waited:?} ({detail}); it was rolled back: check the image, its command and its health checks, then re-run `vamp apply`")]
    Stuck {
        /// Driver name.
        driver: &'static str,
        /// The object being deployed.
        object: String,
        /// How long the driver waited.
        waited: Duration,
        /// The orchestrator's deployment and what it was doing.
        detail: String,
    },
    /// The driver cannot do what the plan asks.
    #[error("the {driver} driver does not support {feature}: remove it from the blueprint or choose another driver with `--driver`")]
    Unsupported {
        /// Driver name.
        driver: &'static str,
        /// The feature.
        feature: String,
    },
    /// A failure injected by a test (memory driver).
    #[error("injected failure: {detail}")]
    Injected {
        /// Why.
        detail: String,
        /// Whether `apply` should retry it.
        transient: bool,
    },
    /// Local IO failed (state file, socket).
    #[error("i/o error: {0}; check the path and its permissions")]
    Io(String),
}

impl DriverError {
    /// The stable code of the error, from the registry [`Code`].
    ///
    /// ```
    /// use vamp_drivers::DriverError;
    /// let e = DriverError::PortTaken { port: 8080 };
    /// assert_eq!(e.code(), "driver_port_taken");
    /// assert!(!e.is_transient());
    /// ```
    pub fn code(&self) -> Code {
        match self {
            DriverError::ImageNotFound { .. } => Code::DriverImageNotFound,
            DriverError::PortTaken { .. } => Code::DriverPortTaken,
            DriverError::Unavailable { .. } => Code::DriverUnavailable,
            DriverError::Unauthorized { .. } => Code::DriverUnauthorized,
            DriverError::Conflict { .. } => Code::DriverConflict,
            DriverError::Invalid { .. } => Code::DriverInvalidObject,
            DriverError::Server { .. } => Code::DriverServerError,
            DriverError::NotFound { .. } => Code::DriverNotFound,
            DriverError::Stuck { .. } => Code::DriverDeploymentStuck,
            DriverError::Unsupported { .. } => Code::DriverUnsupported,
            DriverError::Injected { .. } => Code::DriverInjected,
            DriverError::Io(_) => Code::DriverIo,
        }
    }

    /// Whether retrying the same operation later may succeed (connection
    /// refused, 5xx, 429, 409 conflicts).
    pub fn is_transient(&self) -> bool {
        match self {
            DriverError::Unavailable { .. }
            | DriverError::Conflict { .. }
            | DriverError::Server { .. } => true,
            DriverError::Injected { transient, .. } => *transient,
            _ => false,
        }
    }
}

/// An error found while turning a deployment into a plan, before anything runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Clusters depend on each other in a cycle.
    #[error("clusters depend on each other in a cycle ({clusters}): break the cycle in the breeds' `dependencies`")]
    DependencyCycle {
        /// The clusters in the cycle, comma separated.
        clusters: String,
    },
    /// The driver lacks a feature a service needs.
    #[error("service `{service}` needs {feature}, which the {driver} driver does not support: remove it or choose another driver with `--driver`")]
    Unsupported {
        /// `deployment/cluster/service`.
        service: String,
        /// The feature.
        feature: String,
        /// Driver name.
        driver: &'static str,
    },
    /// A service cannot be deployed as written.
    #[error("service `{service}` cannot be deployed: {reason}")]
    InvalidService {
        /// `deployment/cluster/service`.
        service: String,
        /// Why, and what to change.
        reason: String,
    },
}

impl PlanError {
    /// The stable code of the error.
    pub fn code(&self) -> Code {
        match self {
            PlanError::DependencyCycle { .. } => Code::PlanDependencyCycle,
            PlanError::Unsupported { .. } => Code::PlanUnsupported,
            PlanError::InvalidService { .. } => Code::PlanInvalidService,
        }
    }
}

/// An error that stopped `apply`, naming the step.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A step failed with a permanent error.
    #[error("step {number} ({step}) failed: {source}")]
    Step {
        /// 1-based step number.
        number: usize,
        /// The step, as printed by `vamp plan`.
        step: String,
        /// The driver error.
        #[source]
        source: DriverError,
    },
    /// A step kept failing with transient errors until the deadline.
    #[error("step {number} ({step}) still failing after {attempts} attempts over {elapsed:?}: {last}; the orchestrator may be overloaded, re-run `vamp apply` later (it resumes where it stopped)")]
    Deadline {
        /// 1-based step number.
        number: usize,
        /// The step, as printed by `vamp plan`.
        step: String,
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last error.
        #[source]
        last: DriverError,
    },
    /// Observing the actual state failed.
    #[error("cannot read what runs: {0}")]
    Observe(#[source] DriverError),
    /// Planning failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Reconciling did not converge.
    #[error("the deployment did not converge after {passes} passes: something keeps changing it; check `vamp status`")]
    NotConverged {
        /// Passes made.
        passes: u32,
    },
}

impl ApplyError {
    /// The stable code of the error.
    pub fn code(&self) -> Code {
        match self {
            ApplyError::Step { source, .. } => source.code(),
            ApplyError::Deadline { .. } => Code::ApplyDeadline,
            ApplyError::Observe(e) => e.code(),
            ApplyError::Plan(e) => e.code(),
            ApplyError::NotConverged { .. } => Code::ApplyNotConverged,
        }
    }
}
