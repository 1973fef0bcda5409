//! The `io.vamp.*` label names that mark what Vamp runs: every driver sets
//! and reads them (Docker container labels, Kubernetes object labels,
//! Marathon app labels), so they live once, here.
//!
//! ```
//! use vamp_model::labels;
//! assert_eq!(labels::MANAGED, "io.vamp");
//! assert_eq!(labels::MANAGED_VALUE, "deployment-service");
//! assert!(labels::ALL.iter().all(|l| l.starts_with(labels::MANAGED)));
//! ```

/// Set to [`MANAGED_VALUE`] on everything a driver creates.
pub const MANAGED: &str = "io.vamp";
/// The value of [`MANAGED`].
pub const MANAGED_VALUE: &str = "deployment-service";
/// The deployment name.
pub const DEPLOYMENT: &str = "io.vamp.deployment";
/// The cluster name.
pub const CLUSTER: &str = "io.vamp.cluster";
/// The service (breed) name.
pub const SERVICE: &str = "io.vamp.service";
/// The breed name (the same as the service).
pub const BREED: &str = "io.vamp.breed";
/// The fingerprint of the service spec an instance was created from.
pub const FINGERPRINT: &str = "io.vamp.fingerprint";
/// The instance index within its service.
pub const INDEX: &str = "io.vamp.index";
/// The assigned ports, `name=port,...` in breed order.
pub const PORTS: &str = "io.vamp.ports";
/// The breed port name of one port entry (Marathon port definitions).
pub const PORT: &str = "io.vamp.port";

/// Every label name, [`MANAGED`] first.
pub const ALL: &[&str] = &[
    MANAGED,
    DEPLOYMENT,
    CLUSTER,
    SERVICE,
    BREED,
    FINGERPRINT,
    INDEX,
    PORTS,
    PORT,
];
