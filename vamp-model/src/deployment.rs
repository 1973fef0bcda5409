//! Deployments: resolved blueprints plus runtime state.
//!
//! A [`Deployment`] is what `vamp_deploy::resolve::resolve_blueprint` produces
//! and what `vamp_deploy::lifecycle` merges blueprints into. It serializes to the
//! *deployment* section of `canonical-json.md` and reads back from that JSON
//! with [`Deployment::from_json`] (so `vamp resolve` output can be fed to
//! `vamp deployment merge`).

use serde::{Deserialize, Serialize};

use crate::artifact::{Argument, Breed, Gateway, HealthCheck, Map, Scale, Sla, TraitValue, Value};
use crate::diagnostic::{Code, Diagnostic};
use crate::{Artifact, Kind, Spec};

/// A running blueprint: every reference resolved, runtime state added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Deployment gateways keyed like blueprint gateways.
    #[serde(default)]
    pub gateways: Map<Gateway>,
    /// Clusters by name.
    #[serde(default)]
    pub clusters: Map<DeployedCluster>,
    /// Cluster-scope environment variables (`cluster.environment_variables.NAME`).
    #[serde(default)]
    pub environment_variables: Map<TraitValue>,
    /// Dialects.
    #[serde(default)]
    pub dialects: Map<Value>,
}

impl Spec for Deployment {
    const KIND: Kind = Kind::Deployment;
}

impl Deployment {
    /// A deployment without clusters (what a create merges into).
    pub fn empty() -> Self {
        Deployment {
            gateways: Map::new(),
            clusters: Map::new(),
            environment_variables: Map::new(),
            dialects: Map::new(),
        }
    }

    /// Reads a canonical deployment (as printed by `vamp resolve`) back.
    ///
    /// ```
    /// use vamp_model::{Artifact, Deployment};
    /// let d = Artifact::new("shop", Deployment::empty());
    /// let json = serde_json::to_value(&d).unwrap();
    /// assert_eq!(Deployment::from_json(&json).unwrap(), d);
    /// ```
    ///
    /// # Errors
    /// `unexpected_type` or `missing_path_value` naming the JSON path of
    /// the first value that is not canonical.
    pub fn from_json(json: &Value) -> Result<Artifact<Deployment>, Diagnostic> {
        if let Some(kind) = json.get("kind").and_then(Value::as_str) {
            if kind != "deployment" {
                return Err(Diagnostic::error(
                    Code::InconsistentArtifactKind,
                    format!("expected `kind: deployment`, found `{kind}`"),
                )
                .with_path("kind"));
            }
        }
        // A failure inside the flattened spec has no path when read as an
        // artifact; the spec read alone names it.
        Artifact::<Deployment>::deserialize(json).map_err(|e| {
            read_json::<Deployment>(json)
                .err()
                .unwrap_or_else(|| diagnostic("", &e))
        })
    }
}

/// Reads a canonical breed object (`{"kind": "breed", "name", ...}`).
///
/// # Errors
/// As [`Deployment::from_json`].
pub fn breed_from_json(json: &Value) -> Result<Breed, Diagnostic> {
    read_json(json)
}

/// Reads canonical JSON through the types' `Deserialize`; a failure names
/// the path of the value (`missing_path_value` for a missing field,
/// `unexpected_type` for any other).
fn read_json<T: serde::de::DeserializeOwned>(json: &Value) -> Result<T, Diagnostic> {
    serde_path_to_error::deserialize(json).map_err(|e| diagnostic(&e.path().to_string(), e.inner()))
}

fn diagnostic(path: &str, e: &serde_json::Error) -> Diagnostic {
    let code = if e.to_string().starts_with("missing field") {
        Code::MissingPathValue
    } else {
        Code::UnexpectedType
    };
    let at = if path.is_empty() { "." } else { path };
    Diagnostic::error(code, format!("`{at}` in the JSON: {e}")).with_path(path)
}

/// A cluster of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployedCluster {
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Map<Value>,
    /// Deployed services in order.
    #[serde(default)]
    pub services: Vec<DeployedService>,
    /// Internal gateways keyed by port name, with route weights.
    #[serde(default)]
    pub gateways: Map<Gateway>,
    /// Health checks.
    pub health_checks: Option<Vec<HealthCheck>>,
    /// Network.
    pub network: Option<String>,
    /// SLA, references resolved.
    pub sla: Option<Sla>,
    /// Dialects.
    #[serde(default)]
    pub dialects: Map<Value>,
}

impl DeployedCluster {
    /// The service running the breed `name`, if any.
    pub fn service(&self, name: &str) -> Option<&DeployedService> {
        self.services.iter().find(|s| s.breed.name == name)
    }
}

/// A service with its breed and scale resolved and its runtime state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployedService {
    /// The inline breed, references resolved (dependencies stay references
    /// to the breeds the deployment runs; see `dependencies`).
    pub breed: Breed,
    /// Service-scope environment variables as written (kept so that a later
    /// merge can recompute `environment`).
    #[serde(default)]
    pub environment_variables: Map<TraitValue>,
    /// The inline scale.
    #[serde(default = "Scale::default_scale")]
    pub scale: Scale,
    /// Exactly what the container sees: names after aliases, values after
    /// scopes and interpolation.
    #[serde(default)]
    pub environment: Map<String>,
    /// Arguments.
    #[serde(default)]
    pub arguments: Vec<Argument>,
    /// Health checks.
    pub health_checks: Option<Vec<HealthCheck>>,
    /// Network.
    pub network: Option<String>,
    /// Dialects.
    #[serde(default)]
    pub dialects: Map<Value>,
    /// Dependency name to the cluster that provides it.
    #[serde(default)]
    pub dependencies: Map<String>,
    /// What Vamp wants and how far it got.
    #[serde(default = "Status::deploy")]
    pub status: Status,
    /// Running instances.
    #[serde(default)]
    pub instances: Vec<Instance>,
}

/// `{"intention": "deploy", "phase": "initiated"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

    /// A fresh undeploy request.
    pub const fn undeploy() -> Self {
        Status {
            intention: Intention::Undeploy,
            phase: Phase::Initiated,
            reason: None,
        }
    }
}

/// What Vamp wants for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intention {
    /// Run it.
    Deploy,
    /// Remove it.
    Undeploy,
}

/// How far a service got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// Instance name.
    pub name: String,
    /// Host it runs on.
    pub host: String,
    /// Port name to assigned host port.
    #[serde(default)]
    pub ports: Map<u16>,
    /// Health.
    #[serde(default)]
    pub healthy: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment_with_port(port: Value) -> Value {
        serde_json::json!({
            "kind": "deployment", "name": "shop", "metadata": {}, "gateways": {},
            "clusters": {"db": {"metadata": {}, "gateways": {}, "health_checks": null,
                "network": null, "sla": null, "dialects": {}, "services": [{
                "breed": {"kind": "breed", "name": "db:1", "metadata": {},
                    "deployable": {"type": null, "definition": "db:1"},
                    "ports": {"port": port}, "environment_variables": {}, "constants": {},
                    "arguments": [], "dependencies": {}, "health_checks": null},
                "environment_variables": {}, "scale": {"cpu": 1.0, "memory": 1000.0, "instances": 1},
                "environment": {}, "arguments": [], "health_checks": null, "network": null,
                "dialects": {}, "dependencies": {},
                "status": {"intention": "deploy", "phase": "initiated"}, "instances": []}]}},
            "environment_variables": {}, "dialects": {}
        })
    }

    /// Found by the `deployment_json` fuzz target: an out-of-range port
    /// number was dropped silently (and came back from the value on the
    /// next read); it is an error now.
    #[test]
    fn a_port_number_out_of_range_is_an_error() {
        let port = |n: Value| serde_json::json!({"value": "6379/tcp", "number": n, "type": "tcp", "alias": null});
        let d = Deployment::from_json(&deployment_with_port(port(6379.into()))).unwrap();
        let p = &d.spec.clusters["db"].services[0].breed.ports["port"];
        assert_eq!(p.number, Some(6379));
        let err = Deployment::from_json(&deployment_with_port(port(70000.into()))).unwrap_err();
        assert_eq!(err.code, Code::UnexpectedType);
        assert!(err.path.ends_with("number"), "{err:?}");
    }
}
