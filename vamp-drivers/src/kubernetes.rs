//! The Kubernetes driver (feature `kubernetes`), with [`kube`] and
//! [`k8s_openapi`].
//!
//! A service at one spec fingerprint maps to an `apps/v1` **Deployment**
//! named `<deployment>-<cluster>-<service>-<fingerprint>` (DNS-safe, hashed
//! when too long) whose `replicas` are the service's instances, plus one
//! `v1` **Service** per Vamp service (`<deployment>-<cluster>-<service>`)
//! selecting the pods of every version of it. A changed spec therefore makes
//! a new Deployment next to the old one, and the planner scales the old one
//! away after the weights moved, as on every other driver.
//!
//! The planner speaks in instances: instance `i` of a Deployment exists while
//! `spec.replicas > i`. Creating instance `i` raises `replicas` to at least
//! `i + 1`; removing it lowers them to at most `i` (and deletes the
//! Deployment at zero, and the Service with the last version). Kubernetes
//! restarts failed pods itself, so instances are reported `Starting` until
//! the Deployment counts them ready.
//!
//! Writes are create (`POST`) or replace (`PUT`) carrying the
//! `resourceVersion` that was read; a 409 (stale version, or a concurrent
//! create) re-reads and retries a few times before reporting a transient
//! `driver_conflict`. Labels `io.vamp.deployment`, `io.vamp.cluster`,
//! `io.vamp.service`, `io.vamp.fingerprint` carry sanitised values (at most 63
//! characters of `[A-Za-z0-9._-]`); the exact names are in annotations of the
//! same keys. [`render`] and [`export_yaml`] produce the very objects the
//! driver writes, for `vamp export kubernetes`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, HTTPGetAction, PodSpec, PodTemplateSpec, Probe as K8sProbe,
    ResourceRequirements, SecurityContext, Service, ServicePort, ServiceSpec as K8sServiceSpec,
    TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::Client;
use serde::Serialize;

use vamp_model::hash::{fnv1a, hex48};
use vamp_model::labels;

use crate::driver::{ActualState, Driver, InstanceState, NewInstance, ObservedInstance};
use crate::error::DriverError;
use crate::spec::{fingerprint_and_index, Desired, ServiceKey, ServiceSpec};
use crate::weights::{WeightBook, Weights};

const DRIVER: &str = "kubernetes";
const L_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// How to reach the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KubernetesOptions {
    /// Namespace; `None` takes the current context's (else `default`), as kubectl does.
    pub namespace: Option<String>,
    /// Kubeconfig context; `None` takes the current one (`KUBECONFIG` or
    /// `~/.kube/config`, else the in-cluster service account).
    pub context: Option<String>,
}

/// The Kubernetes driver.
pub struct KubernetesDriver {
    client: Client,
    namespace: String,
    weights: WeightBook,
}

impl std::fmt::Debug for KubernetesDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubernetesDriver")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

fn unavailable(detail: impl Into<String>) -> DriverError {
    DriverError::Unavailable {
        driver: DRIVER,
        detail: detail.into(),
    }
}

fn map_err(e: kube::Error, object: &str) -> DriverError {
    match e {
        kube::Error::Api(s) => {
            let detail = if s.reason.is_empty() {
                s.message.clone()
            } else {
                format!("{} ({})", s.message, s.reason)
            };
            match s.code {
                401 | 403 => DriverError::Unauthorized {
                    driver: DRIVER,
                    detail,
                },
                409 => DriverError::Conflict {
                    object: object.to_owned(),
                    detail,
                },
                429 | 500..=599 => DriverError::Server {
                    driver: DRIVER,
                    status: s.code,
                    detail,
                },
                _ => DriverError::Invalid {
                    driver: DRIVER,
                    object: object.to_owned(),
                    detail,
                },
            }
        }
        kube::Error::Auth(a) => DriverError::Unauthorized {
            driver: DRIVER,
            detail: a.to_string(),
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            unavailable(format!("cannot reach the API server: {e}"))
        }
        kube::Error::InferConfig(_) | kube::Error::InferKubeconfig(_) => unavailable(format!(
            "no usable kubeconfig ({e}); set KUBECONFIG or select a context with `kubectl config use-context`"
        )),
        other => DriverError::Server {
            driver: DRIVER,
            status: 0,
            detail: other.to_string(),
        },
    }
}

fn code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// A label value: `[A-Za-z0-9._-]`, alphanumeric at both ends, at most 63
/// characters (a hash suffix keeps long values distinct).
fn label_value(s: &str) -> String {
    let mut v: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if v.len() > 63 {
        v.truncate(50);
        v.push('-');
        v.push_str(&hash12(s));
    }
    v.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

fn hash12(s: &str) -> String {
    hex48(fnv1a(s.as_bytes()))
}

/// A DNS-1123 label of at most `max` characters: lower-case alphanumerics
/// and `-`, starting with a letter (so it is a DNS-1035 label too).
fn dns_label(s: &str, max: usize) -> String {
    let mut v = String::with_capacity(s.len() + 1);
    let mut dash = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            v.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash && !v.is_empty() {
            v.push('-');
            dash = true;
        }
    }
    while v.ends_with('-') {
        v.pop();
    }
    if !v.starts_with(|c: char| c.is_ascii_lowercase()) {
        v.insert(0, 'v');
    }
    if v.len() > max {
        v.truncate(max - 13);
        while v.ends_with('-') {
            v.pop();
        }
        v.push('-');
        v.push_str(&hash12(s));
    }
    v
}

/// Name of the Kubernetes Service of a Vamp service.
pub fn service_object_name(key: &ServiceKey) -> String {
    dns_label(
        &format!("{}-{}-{}", key.deployment, key.cluster, key.service),
        63,
    )
}

/// Name of the Kubernetes Deployment of a Vamp service at one fingerprint.
pub fn deployment_object_name(key: &ServiceKey, fingerprint: &str) -> String {
    let base = dns_label(
        &format!("{}-{}-{}", key.deployment, key.cluster, key.service),
        63 - fingerprint.len() - 1,
    );
    format!("{base}-{fingerprint}")
}

/// Container port name: IANA_SVC_NAME (at most 15 characters, lower case,
/// a letter somewhere).
fn port_name(name: &str) -> String {
    let mut v = dns_label(name, 63);
    if v.len() > 15 {
        v = format!("p{}", &hash12(name)[..8]);
    }
    v
}

fn port_numbers(spec: &ServiceSpec) -> Vec<(String, i32)> {
    spec.ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let n = p
                .number
                .map_or(8080 + i32::try_from(i).unwrap_or(0), i32::from);
            (p.name.clone(), n)
        })
        .collect()
}

fn selector(key: &ServiceKey) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(labels::DEPLOYMENT.to_owned(), label_value(&key.deployment));
    m.insert(labels::CLUSTER.to_owned(), label_value(&key.cluster));
    m.insert(labels::SERVICE.to_owned(), label_value(&key.service));
    m
}

fn annotations(key: &ServiceKey) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(labels::DEPLOYMENT.to_owned(), key.deployment.clone());
    m.insert(labels::CLUSTER.to_owned(), key.cluster.clone());
    m.insert(labels::SERVICE.to_owned(), key.service.clone());
    m
}

/// Kubernetes quantities: millicores and mebibytes.
fn cpu_quantity(cores: f64) -> Quantity {
    Quantity(format!("{}m", (cores * 1000.0).round().max(1.0) as u64))
}

fn memory_quantity(mb: f64) -> Quantity {
    Quantity(format!("{}Mi", mb.round().max(1.0) as u64))
}

fn probe(spec: &ServiceSpec, ports: &[(String, i32)]) -> Option<K8sProbe> {
    let p = spec.health_checks.first()?;
    let port = if let Some((n, _)) = ports.iter().find(|(n, _)| *n == p.port) {
        IntOrString::String(port_name(n))
    } else if let Ok(n) = p.port.parse::<i32>() {
        IntOrString::Int(n)
    } else {
        IntOrString::String(port_name(&p.port))
    };
    let secs = |s: u64| (s > 0).then(|| i32::try_from(s).unwrap_or(i32::MAX));
    let mut probe = K8sProbe {
        initial_delay_seconds: secs(p.initial_delay),
        period_seconds: secs(p.interval),
        timeout_seconds: secs(p.timeout),
        failure_threshold: secs(p.failures),
        ..Default::default()
    };
    if p.protocol.eq_ignore_ascii_case("TCP") {
        probe.tcp_socket = Some(TCPSocketAction {
            port,
            ..Default::default()
        });
    } else {
        probe.http_get = Some(HTTPGetAction {
            path: Some(if p.path.starts_with('/') {
                p.path.clone()
            } else {
                format!("/{}", p.path)
            }),
            port,
            scheme: Some(if p.protocol.eq_ignore_ascii_case("HTTPS") {
                "HTTPS".into()
            } else {
                "HTTP".into()
            }),
            ..Default::default()
        });
    }
    Some(probe)
}

/// The Deployment of a service at a fingerprint with the given replicas.
pub fn deployment_object(
    spec: &ServiceSpec,
    fingerprint: &str,
    replicas: u32,
    namespace: &str,
) -> Deployment {
    let key = &spec.key;
    let mut labels = selector(key);
    labels.insert(labels::FINGERPRINT.to_owned(), label_value(fingerprint));
    let mut meta_labels = labels.clone();
    meta_labels.insert(L_MANAGED_BY.to_owned(), "vamp".to_owned());
    let ports = port_numbers(spec);
    let mut env: Vec<EnvVar> = Vec::new();
    let mut set = |name: String, value: String| {
        if let Some(e) = env.iter_mut().find(|e| e.name == name) {
            e.value = Some(value);
        } else {
            env.push(EnvVar {
                name,
                value: Some(value),
                value_from: None,
            });
        }
    };
    for (k, v) in &spec.environment {
        set(k.clone(), v.clone());
    }
    if let Some((_, first)) = ports.first() {
        set("PORT".into(), first.to_string());
    }
    for (n, p) in &ports {
        set(crate::spec::port_env_name(n), p.to_string());
    }
    let mut privileged = None;
    let mut args = Vec::new();
    for (k, v) in &spec.arguments {
        if k == "privileged" {
            privileged = Some(v.eq_ignore_ascii_case("true"));
        } else {
            args.push(format!("--{k}={v}"));
        }
    }
    let mut resources = BTreeMap::new();
    if spec.cpu > 0.0 {
        resources.insert("cpu".to_owned(), cpu_quantity(spec.cpu));
    }
    if spec.memory > 0.0 {
        resources.insert("memory".to_owned(), memory_quantity(spec.memory));
    }
    let health = probe(spec, &ports);
    let container = Container {
        name: dns_label(&key.service, 63),
        image: Some(spec.image.clone()),
        args: (!args.is_empty()).then_some(args),
        env: (!env.is_empty()).then_some(env),
        ports: (!ports.is_empty()).then(|| {
            ports
                .iter()
                .map(|(n, p)| ContainerPort {
                    name: Some(port_name(n)),
                    container_port: *p,
                    protocol: Some("TCP".into()),
                    ..Default::default()
                })
                .collect()
        }),
        resources: (!resources.is_empty()).then(|| ResourceRequirements {
            requests: Some(resources.clone()),
            limits: Some(resources),
            ..Default::default()
        }),
        readiness_probe: health.clone(),
        liveness_probe: health,
        security_context: privileged.map(|p| SecurityContext {
            privileged: Some(p),
            ..Default::default()
        }),
        ..Default::default()
    };
    Deployment {
        metadata: ObjectMeta {
            name: Some(deployment_object_name(key, fingerprint)),
            namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
            labels: Some(meta_labels),
            annotations: Some(annotations(key)),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(i32::try_from(replicas).unwrap_or(i32::MAX)),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                match_expressions: None,
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(annotations(key)),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    }
}

/// The Service of a Vamp service (`None` when the breed has no ports).
pub fn service_object(spec: &ServiceSpec, namespace: &str) -> Option<Service> {
    let ports = port_numbers(spec);
    if ports.is_empty() {
        return None;
    }
    let mut labels = selector(&spec.key);
    labels.insert(L_MANAGED_BY.to_owned(), "vamp".to_owned());
    Some(Service {
        metadata: ObjectMeta {
            name: Some(service_object_name(&spec.key)),
            namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
            labels: Some(labels),
            annotations: Some(annotations(&spec.key)),
            ..Default::default()
        },
        spec: Some(K8sServiceSpec {
            selector: Some(selector(&spec.key)),
            ports: Some(
                ports
                    .iter()
                    .map(|(n, p)| ServicePort {
                        name: Some(port_name(n)),
                        port: *p,
                        target_port: Some(IntOrString::String(port_name(n))),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            type_: Some("ClusterIP".into()),
            ..Default::default()
        }),
        status: None,
    })
}

/// One rendered object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum KubeObject {
    /// An `apps/v1` Deployment.
    Deployment(Box<Deployment>),
    /// A `v1` Service.
    Service(Box<Service>),
}

/// The objects the driver would write for a desired state: per service its
/// Deployment (at the spec's fingerprint, with all its instances) and its
/// Service, in blueprint order. An empty `namespace` leaves
/// `metadata.namespace` out (kubectl then uses the current context's).
pub fn render(desired: &Desired, namespace: &str) -> Vec<KubeObject> {
    let mut out = Vec::with_capacity(desired.services.len() * 2);
    for s in &desired.services {
        out.push(KubeObject::Deployment(Box::new(deployment_object(
            &s.spec,
            &s.fingerprint,
            s.spec.instances,
            namespace,
        ))));
        if let Some(svc) = service_object(&s.spec, namespace) {
            out.push(KubeObject::Service(Box::new(svc)));
        }
    }
    out
}

/// [`render`] as multi-document YAML (`---` between objects), with
/// `apiVersion` and `kind` set, ready for `kubectl apply -f -` or GitOps.
///
/// ```
/// use vamp_drivers::{export_yaml, Desired, ServiceKey, ServiceSpec};
/// let spec = ServiceSpec {
///     key: ServiceKey { deployment: "shop".into(), cluster: "web".into(), service: "web_1".into() },
///     image: "vamp-test/web:1".into(), deployable_type: None, environment: vec![],
///     arguments: vec![], ports: vec![], cpu: 0.25, memory: 64.0, instances: 2,
///     health_checks: vec![], depends_on: vec![],
/// };
/// let yaml = export_yaml(&Desired::new("shop", vec![spec], Default::default()), "default").unwrap();
/// assert!(yaml.contains("kind: Deployment"));
/// assert!(yaml.contains("replicas: 2"));
/// ```
pub fn export_yaml(desired: &Desired, namespace: &str) -> Result<String, DriverError> {
    let mut out = String::new();
    for (i, o) in render(desired, namespace).iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        // k8s-openapi's Serialize writes apiVersion and kind.
        let text = serde_yaml::to_string(o)
            .map_err(|e| DriverError::Io(format!("cannot render YAML: {e}")))?;
        out.push_str(&text);
    }
    Ok(out)
}

/// How often a write that meets a 409 re-reads and retries before reporting
/// a (transient) conflict to `apply`.
const CONFLICT_RETRIES: u32 = 5;

impl KubernetesDriver {
    /// Connects with the kubeconfig (see [`KubernetesOptions`]).
    pub async fn connect(opts: KubernetesOptions) -> Result<Self, DriverError> {
        let config = match &opts.context {
            Some(ctx) => kube::Config::from_kubeconfig(&kube::config::KubeConfigOptions {
                context: Some(ctx.clone()),
                ..Default::default()
            })
            .await
            .map_err(|e| map_err(kube::Error::InferKubeconfig(e), "kubeconfig"))?,
            None => kube::Config::infer()
                .await
                .map_err(|e| map_err(kube::Error::InferConfig(e), "kubeconfig"))?,
        };
        let namespace = opts
            .namespace
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = Client::try_from(config).map_err(|e| map_err(e, "client"))?;
        Ok(Self::from_client(client, namespace))
    }

    /// A driver over an existing client (tests point it at a test double).
    pub fn from_client(client: Client, namespace: impl Into<String>) -> Self {
        KubernetesDriver {
            client,
            namespace: namespace.into(),
            weights: WeightBook::default(),
        }
    }

    /// The namespace it works in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Route weights by `deployment/cluster`, to persist between runs.
    pub fn weights(&self) -> Weights {
        self.weights.snapshot()
    }

    /// Restores weights saved from [`weights`](Self::weights).
    pub fn restore_weights(&self, weights: Weights) {
        self.weights.restore(weights);
    }

    fn deployments(&self) -> Api<Deployment> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn services(&self) -> Api<Service> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Creates the Service if absent; replaces it (keeping the
    /// server-assigned clusterIP) when its ports or selector changed.
    async fn ensure_service(&self, spec: &ServiceSpec) -> Result<(), DriverError> {
        let Some(want) = service_object(spec, &self.namespace) else {
            return Ok(());
        };
        let name = service_object_name(&spec.key);
        let api = self.services();
        for _ in 0..CONFLICT_RETRIES {
            let current = api.get_opt(&name).await.map_err(|e| map_err(e, &name))?;
            let result = match current {
                None => api.create(&PostParams::default(), &want).await.map(|_| ()),
                Some(cur) => {
                    let (cs, ws) = (cur.spec.clone().unwrap_or_default(), want.spec.clone());
                    let ws = ws.unwrap_or_default();
                    if cs.ports.as_ref().map(|p| strip_ports(p))
                        == ws.ports.as_ref().map(|p| strip_ports(p))
                        && cs.selector == ws.selector
                    {
                        return Ok(());
                    }
                    let mut next = want.clone();
                    next.metadata.resource_version = cur.metadata.resource_version.clone();
                    if let Some(s) = next.spec.as_mut() {
                        s.cluster_ip = cs.cluster_ip.clone();
                        s.cluster_ips = cs.cluster_ips.clone();
                    }
                    api.replace(&name, &PostParams::default(), &next)
                        .await
                        .map(|_| ())
                }
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) if code(&e) == Some(409) => continue,
                Err(e) => return Err(map_err(e, &name)),
            }
        }
        Err(DriverError::Conflict {
            object: name,
            detail: "the Service kept changing under us".into(),
        })
    }

    /// Reads a Deployment, sets its replicas with `f(current)` and writes it
    /// back with the resourceVersion read; creates it from `spec` if absent
    /// and `spec` is given; deletes it when the new count is zero.
    async fn set_replicas(
        &self,
        name: &str,
        create: Option<(&ServiceSpec, &str)>,
        f: impl Fn(u32) -> u32 + Send + Sync,
    ) -> Result<(), DriverError> {
        let api = self.deployments();
        for _ in 0..CONFLICT_RETRIES {
            let current = api.get_opt(name).await.map_err(|e| map_err(e, name))?;
            let result = match current {
                None => match create {
                    None => return Ok(()),
                    Some((spec, fp)) => {
                        let n = f(0);
                        if n == 0 {
                            return Ok(());
                        }
                        let obj = deployment_object(spec, fp, n, &self.namespace);
                        api.create(&PostParams::default(), &obj).await.map(|_| ())
                    }
                },
                Some(mut cur) => {
                    let have = cur
                        .spec
                        .as_ref()
                        .and_then(|s| s.replicas)
                        .map_or(1, |r| u32::try_from(r).unwrap_or(0));
                    let want = f(have);
                    if want == have {
                        return Ok(());
                    }
                    if want == 0 {
                        match api.delete(name, &DeleteParams::background()).await {
                            Ok(_) => return Ok(()),
                            Err(e) if code(&e) == Some(404) => return Ok(()),
                            Err(e) => return Err(map_err(e, name)),
                        }
                    }
                    if let Some(s) = cur.spec.as_mut() {
                        s.replicas = Some(i32::try_from(want).unwrap_or(i32::MAX));
                    }
                    cur.status = None;
                    cur.metadata.managed_fields = None;
                    api.replace(name, &PostParams::default(), &cur)
                        .await
                        .map(|_| ())
                }
            };
            match result {
                Ok(()) => return Ok(()),
                // Stale resourceVersion, or created meanwhile: read again.
                Err(e) if code(&e) == Some(409) => continue,
                Err(e) => return Err(map_err(e, name)),
            }
        }
        Err(DriverError::Conflict {
            object: name.to_owned(),
            detail: "the Deployment kept changing under us".into(),
        })
    }
}

fn strip_ports(p: &[ServicePort]) -> Vec<(Option<String>, i32, Option<IntOrString>)> {
    p.iter()
        .map(|p| (p.name.clone(), p.port, p.target_port.clone()))
        .collect()
}

#[async_trait]
impl Driver for KubernetesDriver {
    fn name(&self) -> &'static str {
        DRIVER
    }

    fn weight_book(&self) -> Option<&WeightBook> {
        Some(&self.weights)
    }

    async fn observe(&self, deployment: &str) -> Result<ActualState, DriverError> {
        let lp = ListParams::default().labels(&format!(
            "{}={},{L_MANAGED_BY}=vamp",
            labels::DEPLOYMENT,
            label_value(deployment)
        ));
        let list = self
            .deployments()
            .list(&lp)
            .await
            .map_err(|e| map_err(e, "deployments"))?;
        let mut instances = Vec::new();
        for d in list.items {
            let ann = d.metadata.annotations.clone().unwrap_or_default();
            let labels = d.metadata.labels.clone().unwrap_or_default();
            let get = |k: &str| ann.get(k).cloned().unwrap_or_default();
            let key = ServiceKey {
                deployment: get(labels::DEPLOYMENT),
                cluster: get(labels::CLUSTER),
                service: get(labels::SERVICE),
            };
            if key.deployment != deployment {
                continue;
            }
            let fingerprint = labels.get(labels::FINGERPRINT).cloned().unwrap_or_default();
            let spec = d.spec.clone().unwrap_or_default();
            let replicas = spec.replicas.map_or(1, |r| u32::try_from(r).unwrap_or(0));
            let ready = d
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .map_or(0, |r| u32::try_from(r).unwrap_or(0));
            let has_probe = spec
                .template
                .spec
                .as_ref()
                .and_then(|p| p.containers.first())
                .is_some_and(|c| c.readiness_probe.is_some());
            let ports: Vec<(String, u16)> = spec
                .template
                .spec
                .as_ref()
                .and_then(|p| p.containers.first())
                .and_then(|c| c.ports.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    (
                        p.name.unwrap_or_default(),
                        u16::try_from(p.container_port).unwrap_or(0),
                    )
                })
                .collect();
            for index in 0..replicas {
                let state = if index < ready {
                    InstanceState::Running
                } else {
                    InstanceState::Starting
                };
                instances.push(ObservedInstance {
                    name: crate::spec::instance_name(&key, &fingerprint, index),
                    key: key.clone(),
                    fingerprint: fingerprint.clone(),
                    index,
                    state,
                    draining: false,
                    healthy: has_probe.then_some(index < ready),
                    host: format!("{}.{}", service_object_name(&key), self.namespace),
                    ports: ports.clone(),
                });
            }
        }
        Ok(self.weights.actual(deployment, instances))
    }

    async fn create(&self, new: NewInstance<'_>) -> Result<(), DriverError> {
        let (spec, fingerprint) = (new.spec, new.fingerprint);
        self.ensure_service(spec).await?;
        let name = deployment_object_name(&spec.key, fingerprint);
        self.set_replicas(&name, Some((spec, fingerprint)), |have| {
            have.max(new.index + 1)
        })
        .await
    }

    async fn remove(&self, key: &ServiceKey, name: &str) -> Result<(), DriverError> {
        let (fp, index) = fingerprint_and_index(DRIVER, name)?;
        let dname = deployment_object_name(key, fp);
        self.set_replicas(&dname, None, |have| have.min(index))
            .await?;
        // The last version of the service gone: remove its Service too.
        let lp = ListParams::default().labels(
            &selector(key)
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        );
        let left = self
            .deployments()
            .list(&lp)
            .await
            .map_err(|e| map_err(e, "deployments"))?;
        let still = left.items.iter().any(|d| {
            d.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(labels::SERVICE))
                == Some(&key.service)
        });
        if !still {
            let sname = service_object_name(key);
            match self
                .services()
                .delete(&sname, &DeleteParams::background())
                .await
            {
                Ok(_) => {}
                Err(e) if code(&e) == Some(404) => {}
                Err(e) => return Err(map_err(e, &sname)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_safe_and_bounded() {
        let k = ServiceKey {
            deployment: "Shop".into(),
            cluster: "web".into(),
            service: "sava:1.0.0".into(),
        };
        assert_eq!(service_object_name(&k), "shop-web-sava-1-0-0");
        assert_eq!(
            deployment_object_name(&k, "0123456789ab"),
            "shop-web-sava-1-0-0-0123456789ab"
        );
        let long = ServiceKey {
            deployment: "d".repeat(80),
            ..k.clone()
        };
        assert!(service_object_name(&long).len() <= 63);
        assert!(deployment_object_name(&long, "0123456789ab").len() <= 63);
        assert_eq!(label_value("sava:1.0.0"), "sava_1.0.0");
        assert!(label_value(&"x".repeat(100)).len() <= 63);
        assert_eq!(port_name("webport"), "webport");
        assert!(port_name("a-very-long-port-name").len() <= 15);
        assert_eq!(
            fingerprint_and_index(DRIVER, "vamp-shop-web-web_1-0123456789ab-3").ok(),
            Some(("0123456789ab", 3))
        );
        assert!(fingerprint_and_index(DRIVER, "web").is_err());
    }
}
