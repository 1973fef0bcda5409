//! The desired state: what each service of a deployment should run, in the
//! driver-neutral form the planner and the drivers share.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vamp_model::hash::{fnv1a, hex48};
use vamp_model::{Deployment, Intention, OrRef};

use crate::error::PlanError;

/// Identifies a service: one breed in one cluster of one deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceKey {
    /// Deployment name (label `io.vamp.deployment`).
    pub deployment: String,
    /// Cluster name (label `io.vamp.cluster`).
    pub cluster: String,
    /// Service name, the breed name (label `io.vamp.service`).
    pub service: String,
}

impl std::fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.deployment, self.cluster, self.service)
    }
}

/// A breed port as an instance sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    /// Port name (`webport` gives `PORT_WEBPORT`).
    pub name: String,
    /// The number the breed declares, if any (drivers on host networking assign their own).
    pub number: Option<u16>,
    /// `http` or `tcp`.
    pub protocol: String,
}

/// A health check in driver form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// HTTP path.
    pub path: String,
    /// Port name (or number as text).
    pub port: String,
    /// Seconds before the first check.
    pub initial_delay: u64,
    /// Seconds between checks.
    pub interval: u64,
    /// Seconds before a check times out.
    pub timeout: u64,
    /// Consecutive failures before unhealthy.
    pub failures: u64,
    /// `HTTP`, `HTTPS` or `TCP`.
    pub protocol: String,
}

/// Everything a driver needs to run the instances of one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// Which service.
    pub key: ServiceKey,
    /// The deployable definition (a Docker image for container drivers).
    pub image: String,
    /// The deployable type as written (`docker`, `container/docker`, ...), None for the default.
    pub deployable_type: Option<String>,
    /// Environment in order, names after aliases.
    pub environment: Vec<(String, String)>,
    /// Arguments (`key=value`) in order.
    pub arguments: Vec<(String, String)>,
    /// Ports in breed order.
    pub ports: Vec<PortSpec>,
    /// Cores per instance.
    pub cpu: f64,
    /// Megabytes per instance.
    pub memory: f64,
    /// Instances wanted.
    pub instances: u32,
    /// Health checks (service, else cluster, else breed).
    pub health_checks: Vec<Probe>,
    /// Clusters of the same deployment this service depends on.
    pub depends_on: Vec<String>,
}

impl ServiceSpec {
    /// A stable fingerprint of everything except the instance count: a change
    /// in it means instances must be replaced, a change in `instances` only
    /// scales. 12 hex digits of FNV-1a over the canonical JSON.
    pub fn fingerprint(&self) -> String {
        let mut copy = self.clone();
        copy.instances = 0;
        let bytes = serde_json::to_vec(&copy).unwrap_or_default();
        hex48(fnv1a(&bytes))
    }
}

/// Deterministic instance name: `vamp-<deployment>-<cluster>-<service>-<fingerprint>-<index>`,
/// restricted to `[a-zA-Z0-9_.-]` (Docker container names). A re-run after a
/// crash meets the same name instead of creating a duplicate.
pub fn instance_name(key: &ServiceKey, fingerprint: &str, index: u32) -> String {
    let mut s = String::with_capacity(
        key.deployment.len() + key.cluster.len() + key.service.len() + fingerprint.len() + 16,
    );
    write_instance_name(&mut s, key, fingerprint, index);
    s
}

/// Splits an [`instance_name`] into its fingerprint and index; a name not
/// of that form is an invalid object of `driver`.
#[cfg(any(feature = "kubernetes", feature = "marathon"))]
pub(crate) fn fingerprint_and_index<'n>(
    driver: &'static str,
    name: &'n str,
) -> Result<(&'n str, u32), crate::error::DriverError> {
    let split = || {
        let (rest, index) = name.rsplit_once('-')?;
        let (_, fp) = rest.rsplit_once('-')?;
        Some((fp, index.parse().ok()?))
    };
    split().ok_or_else(|| crate::error::DriverError::Invalid {
        driver,
        object: name.to_owned(),
        detail: "not an instance name of the form vamp-<deployment>-<cluster>-<service>-<fingerprint>-<index>".into(),
    })
}

/// [`instance_name`] into a buffer the caller reuses (cleared first), so
/// the planner can look names up without allocating.
pub(crate) fn write_instance_name(s: &mut String, key: &ServiceKey, fingerprint: &str, index: u32) {
    s.clear();
    s.push_str("vamp");
    for part in [&key.deployment, &key.cluster, &key.service] {
        s.push('-');
        let safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
        if part.bytes().all(safe) {
            s.push_str(part);
        } else if part.is_ascii() {
            s.extend(
                part.bytes()
                    .map(|b| if safe(b) { char::from(b) } else { '_' }),
            );
        } else {
            s.extend(part.chars().map(|c| {
                if c.is_ascii() && safe(c as u8) {
                    c
                } else {
                    '_'
                }
            }));
        }
    }
    s.push('-');
    s.push_str(fingerprint);
    s.push('-');
    push_decimal(s, index);
}

/// Appends `n` in decimal (what `write!(s, "{n}")` does, without `fmt`).
fn push_decimal(s: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.extend(digits[i..].iter().map(|&d| char::from(d)));
}

/// The environment variable for a named port: `webport` gives `PORT_WEBPORT`.
///
/// ```
/// assert_eq!(vamp_drivers::port_env_name("web-port.1"), "PORT_WEB_PORT_1");
/// ```
pub fn port_env_name(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 5);
    s.push_str("PORT_");
    s.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    s
}

/// One desired service with its precomputed fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredService {
    /// The spec.
    pub spec: Arc<ServiceSpec>,
    /// `spec.fingerprint()`.
    pub fingerprint: String,
}

/// What a deployment should look like: its services and each cluster's route weights.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Desired {
    /// Deployment name.
    pub deployment: String,
    /// Services in blueprint order.
    pub services: Vec<DesiredService>,
    /// Cluster name to `(service, weight percent)`.
    pub weights: BTreeMap<String, Vec<(String, u8)>>,
}

/// The serializable form of [`Desired`], kept by the CLI between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DesiredRecord {
    /// Deployment name.
    pub deployment: String,
    /// Services.
    pub services: Vec<ServiceSpec>,
    /// Weights per cluster.
    pub weights: BTreeMap<String, Vec<(String, u8)>>,
}

impl Desired {
    /// Builds the desired state from specs and weights.
    ///
    /// ```
    /// use vamp_drivers::{Desired, ServiceKey, ServiceSpec};
    /// let spec = ServiceSpec {
    ///     key: ServiceKey { deployment: "shop".into(), cluster: "web".into(), service: "web_1".into() },
    ///     image: "vamp-test/web:1".into(), deployable_type: None, environment: vec![],
    ///     arguments: vec![], ports: vec![], cpu: 0.1, memory: 64.0, instances: 2,
    ///     health_checks: vec![], depends_on: vec![],
    /// };
    /// let d = Desired::new("shop", vec![spec], Default::default());
    /// assert_eq!(d.services.len(), 1);
    /// ```
    pub fn new(
        deployment: impl Into<String>,
        services: Vec<ServiceSpec>,
        weights: BTreeMap<String, Vec<(String, u8)>>,
    ) -> Self {
        Desired {
            deployment: deployment.into(),
            services: services
                .into_iter()
                .map(|s| DesiredService {
                    fingerprint: s.fingerprint(),
                    spec: Arc::new(s),
                })
                .collect(),
            weights,
        }
    }

    /// Nothing should run: used to remove a deployment.
    pub fn empty(deployment: impl Into<String>) -> Self {
        Desired {
            deployment: deployment.into(),
            ..Desired::default()
        }
    }

    /// The serializable form.
    pub fn to_record(&self) -> DesiredRecord {
        DesiredRecord {
            deployment: self.deployment.clone(),
            services: self.services.iter().map(|s| (*s.spec).clone()).collect(),
            weights: self.weights.clone(),
        }
    }

    /// Back from the serializable form.
    pub fn from_record(r: DesiredRecord) -> Self {
        Desired::new(r.deployment, r.services, r.weights)
    }
}

/// Turns a resolved deployment into the desired state. Services whose
/// intention is `undeploy` are left out (so they get removed).
///
/// Weights come from the cluster's first gateway whose routes name the
/// services; services without a written weight share what is left evenly
/// (rounded down, the remainder on the last one), as the original did.
pub fn desired_from_deployment(name: &str, d: &Deployment) -> Result<Desired, PlanError> {
    let mut services = Vec::new();
    let mut weights = BTreeMap::new();
    for (cluster_name, cluster) in &d.clusters {
        let mut names = Vec::new();
        for svc in &cluster.services {
            let key = ServiceKey {
                deployment: name.to_owned(),
                cluster: cluster_name.clone(),
                service: svc.breed.name.clone(),
            };
            if names.contains(&key.service) {
                return Err(PlanError::InvalidService {
                    service: key.to_string(),
                    reason: "the same breed appears twice in the cluster; give each service its own breed".into(),
                });
            }
            names.push(key.service.clone());
            if svc.status.intention == Intention::Undeploy {
                continue;
            }
            if svc.breed.deployable.definition.trim().is_empty() {
                return Err(PlanError::InvalidService {
                    service: key.to_string(),
                    reason: "the breed's deployable is empty; set `deployable` to an image".into(),
                });
            }
            let checks = svc
                .health_checks
                .as_ref()
                .or(cluster.health_checks.as_ref())
                .or(svc.breed.health_checks.as_ref());
            let mut depends_on: Vec<String> = Vec::new();
            for c in svc.dependencies.values() {
                if !depends_on.contains(c) {
                    depends_on.push(c.clone());
                }
            }
            services.push(ServiceSpec {
                key,
                image: svc.breed.deployable.definition.clone(),
                deployable_type: svc.breed.deployable.deployable_type.clone(),
                environment: svc
                    .environment
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                arguments: svc
                    .arguments
                    .iter()
                    .map(|a| (a.key.clone(), a.value.clone()))
                    .collect(),
                ports: svc
                    .breed
                    .ports
                    .iter()
                    .map(|(n, p)| PortSpec {
                        name: n.clone(),
                        number: p.number,
                        protocol: match p.port_type {
                            vamp_model::PortType::Http => "http".into(),
                            vamp_model::PortType::Tcp => "tcp".into(),
                        },
                    })
                    .collect(),
                cpu: svc.scale.cpu,
                memory: svc.scale.memory,
                instances: svc.scale.instances,
                health_checks: checks
                    .map(|v| {
                        v.iter()
                            .map(|h| Probe {
                                path: h.path.clone(),
                                port: h.port.clone(),
                                initial_delay: h.initial_delay,
                                interval: h.interval,
                                timeout: h.timeout,
                                failures: h.failures,
                                protocol: h.protocol.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                depends_on,
            });
        }
        let active: Vec<&str> = services
            .iter()
            .filter(|s: &&ServiceSpec| &s.key.cluster == cluster_name)
            .map(|s| s.key.service.as_str())
            .collect();
        if active.is_empty() {
            continue;
        }
        let written: Vec<Option<u8>> = active
            .iter()
            .map(|svc| {
                cluster.gateways.values().find_map(|g| {
                    g.routes
                        .get(*svc)
                        .and_then(OrRef::as_inline)
                        .and_then(|r| r.weight)
                })
            })
            .collect();
        weights.insert(cluster_name.clone(), split_weights(&active, &written));
    }
    Ok(Desired::new(name, services, weights))
}

fn split_weights(services: &[&str], written: &[Option<u8>]) -> Vec<(String, u8)> {
    let used: u32 = written.iter().flatten().map(|w| u32::from(*w)).sum();
    let free = 100u32.saturating_sub(used);
    let unset = written.iter().filter(|w| w.is_none()).count() as u32;
    let share = free.checked_div(unset).unwrap_or(0);
    let last_unset = written.iter().rposition(Option::is_none);
    services
        .iter()
        .zip(written)
        .enumerate()
        .map(|(i, (s, w))| {
            let w = match w {
                Some(w) => u32::from(*w),
                None if Some(i) == last_unset => free - share * (unset - 1),
                None => share,
            };
            ((*s).to_owned(), u8::try_from(w.min(100)).unwrap_or(100))
        })
        .collect()
}

/// A web service with two ports, a health check, environment and arguments
/// (for the drivers' unit tests).
#[cfg(all(test, any(feature = "docker", feature = "marathon")))]
pub(crate) fn test_spec() -> ServiceSpec {
    ServiceSpec {
        key: ServiceKey {
            deployment: "shop".into(),
            cluster: "web".into(),
            service: "web_1".into(),
        },
        image: "vamp-test/web:1".into(),
        deployable_type: None,
        environment: vec![("VERSION".into(), "1".into()), ("PORT".into(), "1".into())],
        arguments: vec![("privileged".into(), "true".into())],
        ports: vec![
            PortSpec {
                name: "webport".into(),
                number: Some(8080),
                protocol: "http".into(),
            },
            PortSpec {
                name: "admin-port".into(),
                number: None,
                protocol: "tcp".into(),
            },
        ],
        cpu: 0.25,
        memory: 64.0,
        instances: 2,
        health_checks: vec![Probe {
            path: "health".into(),
            port: "webport".into(),
            initial_delay: 1,
            interval: 2,
            timeout: 3,
            failures: 4,
            protocol: "HTTP".into(),
        }],
        depends_on: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_split_evenly_with_remainder_last() {
        let w = split_weights(&["a", "b", "c"], &[None, None, None]);
        assert_eq!(
            w,
            vec![("a".into(), 33), ("b".into(), 33), ("c".into(), 34)]
        );
        let w = split_weights(&["a", "b"], &[Some(90), None]);
        assert_eq!(w, vec![("a".into(), 90), ("b".into(), 10)]);
    }

    #[test]
    fn names_are_docker_safe() {
        let k = ServiceKey {
            deployment: "shop".into(),
            cluster: "web".into(),
            service: "sava:1.0.0".into(),
        };
        assert_eq!(
            instance_name(&k, "abc", 2),
            "vamp-shop-web-sava_1.0.0-abc-2"
        );
        let odd = ServiceKey {
            deployment: "shöp".into(),
            cluster: "web".into(),
            service: "a b".into(),
        };
        assert_eq!(instance_name(&odd, "f", 0), "vamp-sh_p-web-a_b-f-0");
        assert_eq!(
            instance_name(&odd, "f", 4_294_967_295),
            "vamp-sh_p-web-a_b-f-4294967295"
        );
        assert_eq!(instance_name(&odd, "f", 10), "vamp-sh_p-web-a_b-f-10");
    }
}
