//! Deployments: resolved blueprints plus runtime state.
//!
//! A [`Deployment`] is what `vamp_deploy::resolve::resolve_blueprint` produces
//! and what `vamp_deploy::lifecycle` merges blueprints into. It serializes to the
//! *deployment* section of `canonical-json.md` and reads back from that JSON
//! with [`Deployment::from_json`] (so `vamp resolve` output can be fed to
//! `vamp deployment merge`).

use serde::Serialize;

use crate::artifact::{
    Argument, Breed, Deployable, Escalation, Gateway, GatewayService, HealthCheck, Map, OrRef,
    Port, PortType, Reference, Rewrite, Route, RouteCondition, Scale, ScaleResource, Sla, Sticky,
    Threshold, TraitValue, Value, Window,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::{Artifact, Kind, Spec};

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
        let j = J::root(json);
        if let Some(kind) = j.opt("kind") {
            if kind.str()? != "deployment" {
                return Err(Diagnostic::error(
                    Code::InconsistentArtifactKind,
                    format!("expected `kind: deployment`, found `{}`", kind.str()?),
                )
                .with_path("kind"));
            }
        }
        let name = j.get("name")?.string()?;
        let metadata = j.map_of("metadata", |v| Ok(v.v.clone()))?;
        let spec = Deployment {
            gateways: j.map_of("gateways", |g| gateway(&g))?,
            clusters: j.map_of("clusters", |c| cluster(&c))?,
            environment_variables: j.map_of("environment_variables", |t| trait_value(&t))?,
            dialects: j.map_of("dialects", |v| Ok(v.v.clone()))?,
        };
        let mut a = Artifact::new(name, spec);
        a.metadata = metadata;
        Ok(a)
    }
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

impl DeployedCluster {
    /// The service running the breed `name`, if any.
    pub fn service(&self, name: &str) -> Option<&DeployedService> {
        self.services.iter().find(|s| s.breed.name == name)
    }
}

/// A service with its breed and scale resolved and its runtime state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployedService {
    /// The inline breed, references resolved (dependencies stay references
    /// to the breeds the deployment runs; see `dependencies`).
    pub breed: Breed,
    /// Service-scope environment variables as written (kept so that a later
    /// merge can recompute `environment`).
    pub environment_variables: Map<TraitValue>,
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

// ---------------------------------------------------------------------------
// Reading the canonical JSON back.

/// A JSON value with the pointer that leads to it, for error messages.
#[derive(Clone)]
struct J<'a> {
    v: &'a Value,
    path: String,
}

type R<T> = Result<T, Diagnostic>;

impl<'a> J<'a> {
    fn root(v: &'a Value) -> Self {
        J {
            v,
            path: String::new(),
        }
    }

    fn err(&self, code: Code, what: &str) -> Diagnostic {
        let at = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        Diagnostic::error(code, format!("`{at}` in the deployment JSON {what}"))
            .with_path(self.path.clone())
    }

    fn child(&self, key: &str, v: &'a Value) -> J<'a> {
        J {
            v,
            path: format!(
                "{}/{}",
                self.path,
                key.replace('~', "~0").replace('/', "~1")
            ),
        }
    }

    /// A key that may be absent or null.
    fn opt(&self, key: &str) -> Option<J<'a>> {
        match self.v.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.child(key, v)),
        }
    }

    fn get(&self, key: &str) -> R<J<'a>> {
        self.opt(key).ok_or_else(|| {
            self.err(
                Code::MissingPathValue,
                &format!("needs a value for `{key}`"),
            )
        })
    }

    fn str(&self) -> R<&'a str> {
        self.v
            .as_str()
            .ok_or_else(|| self.err(Code::UnexpectedType, "must be text"))
    }

    fn string(&self) -> R<String> {
        self.str().map(str::to_owned)
    }

    fn opt_string(&self, key: &str) -> R<Option<String>> {
        self.opt(key).map(|j| j.string()).transpose()
    }

    fn u64(&self) -> R<u64> {
        self.v
            .as_u64()
            .ok_or_else(|| self.err(Code::UnexpectedType, "must be a whole number"))
    }

    fn f64(&self) -> R<f64> {
        self.v
            .as_f64()
            .ok_or_else(|| self.err(Code::UnexpectedType, "must be a number"))
    }

    fn percent(&self) -> R<u8> {
        self.u64()
            .ok()
            .and_then(|n| u8::try_from(n).ok())
            .filter(|n| *n <= 100)
            .ok_or_else(|| self.err(Code::UnexpectedType, "must be a percentage 0-100"))
    }

    fn bool(&self) -> R<bool> {
        self.v
            .as_bool()
            .ok_or_else(|| self.err(Code::UnexpectedType, "must be true or false"))
    }

    fn list(&self) -> R<Vec<J<'a>>> {
        let items = self
            .v
            .as_array()
            .ok_or_else(|| self.err(Code::UnexpectedType, "must be a list"))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| self.child(&i.to_string(), v))
            .collect())
    }

    fn list_of<T>(&self, key: &str, f: impl Fn(J<'a>) -> R<T>) -> R<Vec<T>> {
        match self.opt(key) {
            None => Ok(Vec::new()),
            Some(j) => j.list()?.into_iter().map(f).collect(),
        }
    }

    fn entries(&self) -> R<Vec<(&'a String, J<'a>)>> {
        let m = self
            .v
            .as_object()
            .ok_or_else(|| self.err(Code::UnexpectedType, "must be a map"))?;
        Ok(m.iter().map(|(k, v)| (k, self.child(k, v))).collect())
    }

    fn map_of<T>(&self, key: &str, f: impl Fn(J<'a>) -> R<T>) -> R<Map<T>> {
        let mut out = Map::new();
        if let Some(j) = self.opt(key) {
            for (k, v) in j.entries()? {
                out.insert(k.clone(), f(v)?);
            }
        }
        Ok(out)
    }

    fn reference(&self) -> Option<Reference> {
        let obj = self.v.as_object()?;
        let name = obj.get("reference")?.as_str()?;
        Some(Reference::new(name))
    }
}

fn or_ref<'a, T>(j: &J<'a>, f: impl Fn(&J<'a>) -> R<T>) -> R<OrRef<T>> {
    if let Some(r) = j.reference() {
        if j.v.as_object().is_some_and(|o| o.len() == 1) {
            return Ok(OrRef::Reference(r));
        }
    }
    f(j).map(OrRef::Inline)
}

fn trait_value(j: &J<'_>) -> R<TraitValue> {
    Ok(TraitValue {
        value: j.opt_string("value")?,
        alias: j.opt_string("alias")?,
        span: None,
    })
}

fn port(j: &J<'_>) -> R<Port> {
    let value = j.get("value")?.string()?;
    let mut p = Port::parse(&value).ok_or_else(|| {
        j.err(
            Code::UnexpectedType,
            &format!("holds `{value}`, which is not a port"),
        )
    })?;
    if let Some(t) = j.opt("type") {
        p.port_type = match t.str()? {
            "tcp" => PortType::Tcp,
            _ => PortType::Http,
        };
    }
    if let Some(n) = j.opt("number") {
        let number = u16::try_from(n.u64()?)
            .map_err(|_| n.err(Code::UnexpectedType, "is not a port number (0 to 65535)"))?;
        p.number = Some(number);
    }
    p.alias = j.opt_string("alias")?;
    Ok(p)
}

fn health_check(j: &J<'_>) -> R<HealthCheck> {
    Ok(HealthCheck {
        path: j.opt_string("path")?.unwrap_or_else(|| "/".to_owned()),
        port: j.get("port")?.string()?,
        initial_delay: j.get("initial_delay")?.u64()?,
        timeout: j.get("timeout")?.u64()?,
        interval: j.get("interval")?.u64()?,
        failures: j.get("failures")?.u64()?,
        protocol: j
            .opt_string("protocol")?
            .unwrap_or_else(|| "HTTP".to_owned()),
        span: None,
    })
}

fn health_checks(j: &J<'_>) -> R<Option<Vec<HealthCheck>>> {
    j.opt("health_checks")
        .map(|h| h.list()?.iter().map(health_check).collect())
        .transpose()
}

fn arguments(j: &J<'_>) -> R<Vec<Argument>> {
    j.list_of("arguments", |a| {
        Ok(Argument {
            key: a.get("key")?.string()?,
            value: a.get("value")?.string()?,
        })
    })
}

/// Reads a canonical breed object (`{"kind": "breed", "name", ...}`).
///
/// # Errors
/// As [`Deployment::from_json`].
pub fn breed_from_json(json: &Value) -> Result<Breed, Diagnostic> {
    breed(&J::root(json))
}

fn breed(j: &J<'_>) -> R<Breed> {
    let d = j.get("deployable")?;
    Ok(Breed {
        name: j.get("name")?.string()?,
        metadata: j.map_of("metadata", |v| Ok(v.v.clone()))?,
        deployable: Deployable {
            deployable_type: d.opt_string("type")?,
            definition: d.get("definition")?.string()?,
        },
        ports: j.map_of("ports", |p| port(&p))?,
        environment_variables: j.map_of("environment_variables", |t| trait_value(&t))?,
        constants: j.map_of("constants", |t| trait_value(&t))?,
        arguments: arguments(j)?,
        dependencies: j.map_of("dependencies", |d| or_ref(&d, breed))?,
        health_checks: health_checks(j)?,
        span: None,
    })
}

fn scale(j: &J<'_>) -> R<Scale> {
    Ok(Scale {
        cpu: j.get("cpu")?.f64()?,
        memory: j.get("memory")?.f64()?,
        instances: j
            .opt("instances")
            .map(|i| i.u64())
            .transpose()?
            .map_or(Ok(1), u32::try_from)
            .map_err(|_| j.err(Code::UnexpectedType, "has too many instances"))?,
    })
}

fn route(j: &J<'_>) -> R<Route> {
    let condition = match j.opt("condition") {
        None => None,
        Some(c) => match c.reference() {
            Some(r) => Some(RouteCondition::Reference(r)),
            None => Some(RouteCondition::Inline {
                definition: c.get("definition")?.string()?,
                span: None,
            }),
        },
    };
    Ok(Route {
        weight: j.opt("weight").map(|w| w.percent()).transpose()?,
        condition,
        condition_strength: j
            .opt("condition_strength")
            .map(|w| w.percent())
            .transpose()?,
        rewrites: j.list_of("rewrites", |r| {
            or_ref(&r, |r| {
                Ok(Rewrite {
                    path: r.get("path")?.string()?,
                    condition: r.get("condition")?.string()?,
                })
            })
        })?,
        balance: j.opt_string("balance")?,
        selector: j.opt_string("selector")?,
        span: None,
    })
}

fn gateway(j: &J<'_>) -> R<Gateway> {
    let service = match j.opt("service") {
        None => None,
        Some(s) => Some(GatewayService {
            host: s.get("host")?.string()?,
            port: port(&s.get("port")?)?,
        }),
    };
    let sticky = match j.opt("sticky") {
        None => None,
        Some(s) => Some(match s.str()? {
            "route" => Sticky::Route,
            "instance" => Sticky::Instance,
            _ => {
                return Err(s.err(
                    Code::IllegalGatewayStickyValue,
                    "must be `route` or `instance`",
                ))
            }
        }),
    };
    Ok(Gateway {
        port: j.opt("port").map(|p| port(&p)).transpose()?,
        service,
        sticky,
        virtual_hosts: j.list_of("virtual_hosts", |v| v.string())?,
        selector: j.opt_string("selector")?,
        routes: j.map_of("routes", |r| or_ref(&r, route))?,
        span: None,
        routes_span: None,
    })
}

fn escalations(j: &J<'_>) -> R<Vec<Escalation>> {
    j.list_of("escalations", |e| escalation(&e))
}

fn escalation(j: &J<'_>) -> R<Escalation> {
    if let Some(r) = j.reference() {
        return Ok(Escalation::Reference(r));
    }
    let ty = j.get("type")?.string()?;
    let resource = match ty.as_str() {
        "scale_instances" => Some(ScaleResource::Instances),
        "scale_cpu" => Some(ScaleResource::Cpu),
        "scale_memory" => Some(ScaleResource::Memory),
        _ => None,
    };
    Ok(match (resource, ty.as_str()) {
        (Some(resource), _) => Escalation::Scale {
            resource,
            minimum: j.get("minimum")?.f64()?,
            maximum: j.get("maximum")?.f64()?,
            scale_by: j.get("scale_by")?.f64()?,
            target: j.opt_string("target")?,
            span: None,
        },
        (None, "to_all") => Escalation::ToAll(escalations(j)?),
        (None, "to_one") => Escalation::ToOne(escalations(j)?),
        (None, _) => Escalation::Generic {
            escalation_type: ty,
            parameters: j.map_of("parameters", |v| Ok(v.v.clone()))?,
        },
    })
}

fn sla(j: &J<'_>) -> R<Sla> {
    if let Some(r) = j.reference() {
        return Ok(Sla::Reference {
            reference: r,
            escalations: escalations(j)?,
        });
    }
    let ty = j.get("type")?.string()?;
    Ok(match ty.as_str() {
        "response_time_sliding_window" => {
            let t = j.get("threshold")?;
            let w = j.get("window")?;
            Sla::ResponseTimeSlidingWindow {
                threshold: Threshold {
                    upper: t.get("upper")?.u64()?,
                    lower: t.get("lower")?.u64()?,
                },
                window: Window {
                    interval: w.get("interval")?.u64()?,
                    cooldown: w.get("cooldown")?.u64()?,
                },
                escalations: escalations(j)?,
            }
        }
        "escalation_only" => Sla::EscalationOnly {
            escalations: escalations(j)?,
        },
        _ => Sla::Generic {
            sla_type: ty,
            parameters: j.map_of("parameters", |v| Ok(v.v.clone()))?,
            escalations: escalations(j)?,
        },
    })
}

fn status(j: &J<'_>) -> R<Status> {
    let intention = match j.get("intention")?.str()? {
        "deploy" => Intention::Deploy,
        "undeploy" => Intention::Undeploy,
        _ => {
            return Err(j.err(
                Code::UnexpectedType,
                "has an intention other than deploy/undeploy",
            ))
        }
    };
    let phase = match j.get("phase")?.str()? {
        "initiated" => Phase::Initiated,
        "updating" => Phase::Updating,
        "done" => Phase::Done,
        "failed" => Phase::Failed,
        _ => return Err(j.err(Code::UnexpectedType, "has an unknown phase")),
    };
    Ok(Status {
        intention,
        phase,
        reason: j.opt_string("reason")?,
    })
}

fn instance(j: &J<'_>) -> R<Instance> {
    Ok(Instance {
        name: j.get("name")?.string()?,
        host: j.get("host")?.string()?,
        ports: j.map_of("ports", |p| {
            u16::try_from(p.u64()?).map_err(|_| p.err(Code::UnexpectedType, "is not a port number"))
        })?,
        healthy: j
            .opt("healthy")
            .map(|h| h.bool())
            .transpose()?
            .unwrap_or(false),
    })
}

fn service(j: &J<'_>) -> R<DeployedService> {
    Ok(DeployedService {
        breed: breed(&j.get("breed")?)?,
        environment_variables: j.map_of("environment_variables", |t| trait_value(&t))?,
        scale: j
            .opt("scale")
            .map(|s| scale(&s))
            .transpose()?
            .unwrap_or(Scale::DEFAULT),
        environment: j.map_of("environment", |v| v.string())?,
        arguments: arguments(j)?,
        health_checks: health_checks(j)?,
        network: j.opt_string("network")?,
        dialects: j.map_of("dialects", |v| Ok(v.v.clone()))?,
        dependencies: j.map_of("dependencies", |v| v.string())?,
        status: j
            .opt("status")
            .map(|s| status(&s))
            .transpose()?
            .unwrap_or(Status::deploy()),
        instances: j.list_of("instances", |i| instance(&i))?,
    })
}

fn cluster(j: &J<'_>) -> R<DeployedCluster> {
    Ok(DeployedCluster {
        metadata: j.map_of("metadata", |v| Ok(v.v.clone()))?,
        services: j.list_of("services", |s| service(&s))?,
        gateways: j.map_of("gateways", |g| gateway(&g))?,
        health_checks: health_checks(j)?,
        network: j.opt_string("network")?,
        sla: j.opt("sla").map(|s| sla(&s)).transpose()?,
        dialects: j.map_of("dialects", |v| Ok(v.v.clone()))?,
    })
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
