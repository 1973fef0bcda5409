//! The typed artifacts of the Vamp DSL, serializing to the canonical JSON.
//!
//! Fields are public and plain; `span` fields (skipped in JSON) remember where
//! a node was written so later checks can point at it.

use indexmap::IndexMap;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::span::Span;

/// An ordered map keyed by text, as the canonical form keeps source order.
pub type Map<V> = IndexMap<String, V>;

/// A free-form value (metadata, dialects, generic parameters).
pub type Value = serde_json::Value;

/// A reference to a stored artifact by name: `{"reference": "<name>"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The referenced artifact's name.
    pub name: String,
    /// Where the reference was written.
    pub span: Option<Span>,
}

impl Reference {
    /// A reference without position.
    ///
    /// ```
    /// let r = vamp_model::Reference::new("mysql");
    /// assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!({"reference": "mysql"}));
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Reference {
            name: name.into(),
            span: None,
        }
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("reference", &self.name)?;
        m.end()
    }
}

/// Either a reference to a stored artifact or the artifact written inline.
///
/// ```
/// use vamp_model::{OrRef, Reference, Scale};
/// let s: OrRef<Scale> = OrRef::Reference(Reference::new("small"));
/// assert!(s.as_inline().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OrRef<T> {
    /// `{"reference": "name"}`.
    Reference(Reference),
    /// The artifact itself.
    Inline(T),
}

impl<T> OrRef<T> {
    /// The inline artifact, if this is not a reference.
    pub fn as_inline(&self) -> Option<&T> {
        match self {
            OrRef::Inline(t) => Some(t),
            OrRef::Reference(_) => None,
        }
    }

    /// The referenced name, if this is a reference.
    pub fn reference_name(&self) -> Option<&str> {
        match self {
            OrRef::Reference(r) => Some(&r.name),
            OrRef::Inline(_) => None,
        }
    }
}

/// The kinds of artifact a document can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `breed`
    Breed,
    /// `blueprint`
    Blueprint,
    /// `gateway`
    Gateway,
    /// `condition`
    Condition,
    /// `rewrite`
    Rewrite,
    /// `scale`
    Scale,
    /// `sla`
    Sla,
    /// `escalation`
    Escalation,
    /// `deployment`
    Deployment,
    /// `workflow`
    Workflow,
    /// `rollout`
    Rollout,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 11] = [
        Kind::Breed,
        Kind::Blueprint,
        Kind::Gateway,
        Kind::Condition,
        Kind::Rewrite,
        Kind::Scale,
        Kind::Sla,
        Kind::Escalation,
        Kind::Deployment,
        Kind::Workflow,
        Kind::Rollout,
    ];

    /// The singular lower-case name (`breed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Breed => "breed",
            Kind::Blueprint => "blueprint",
            Kind::Gateway => "gateway",
            Kind::Condition => "condition",
            Kind::Rewrite => "rewrite",
            Kind::Scale => "scale",
            Kind::Sla => "sla",
            Kind::Escalation => "escalation",
            Kind::Deployment => "deployment",
            Kind::Workflow => "workflow",
            Kind::Rollout => "rollout",
        }
    }

    /// Reads a kind written singular or plural, in any case.
    ///
    /// ```
    /// use vamp_model::Kind;
    /// assert_eq!(Kind::parse("Breeds"), Some(Kind::Breed));
    /// assert_eq!(Kind::parse("slas"), Some(Kind::Sla));
    /// assert_eq!(Kind::parse("nope"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Kind> {
        let lower = text.trim().to_ascii_lowercase();
        let singular = lower.strip_suffix('s').unwrap_or(&lower);
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == lower || k.as_str() == singular)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `http` or `tcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortType {
    /// HTTP (the default).
    Http,
    /// Plain TCP.
    Tcp,
}

/// A port: `8080`, `8080/http`, `8080/tcp`, or a reference such as
/// `$db.constants.port`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Port {
    /// The text as written.
    pub value: String,
    /// The port number (None when the value is a reference).
    pub number: Option<u16>,
    /// The protocol.
    #[serde(rename = "type")]
    pub port_type: PortType,
    /// Alias (not used for ports; always null in practice).
    pub alias: Option<String>,
}

impl Port {
    /// Parses a port value. Returns None when the text is neither a number
    /// with an optional `/http` or `/tcp` suffix nor a `$` reference.
    ///
    /// ```
    /// use vamp_model::{Port, PortType};
    /// let p = Port::parse("8080/tcp").unwrap();
    /// assert_eq!((p.number, p.port_type), (Some(8080), PortType::Tcp));
    /// assert_eq!(Port::parse("$db.constants.port").unwrap().number, None);
    /// assert!(Port::parse("80/udp").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Port> {
        let t = text.trim();
        let (num, port_type) = match t.rsplit_once('/') {
            Some((n, ty)) if ty.eq_ignore_ascii_case("http") => (n, PortType::Http),
            Some((n, ty)) if ty.eq_ignore_ascii_case("tcp") => (n, PortType::Tcp),
            Some(_) => return None,
            None => (t, PortType::Http),
        };
        let number = if num.starts_with('$') {
            None
        } else if !num.is_empty() && num.len() <= 5 && num.bytes().all(|b| b.is_ascii_digit()) {
            Some(
                num.parse::<u32>()
                    .ok()
                    .and_then(|n| u16::try_from(n).ok())?,
            )
        } else {
            return None;
        };
        Some(Port {
            value: text.to_owned(),
            number,
            port_type,
            alias: None,
        })
    }
}

/// The value of an environment variable or constant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraitValue {
    /// The value as text; None is a place holder (`~`).
    pub value: Option<String>,
    /// `name[ALIAS]` gives the name the container sees.
    pub alias: Option<String>,
    /// Where the value was written.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// One container argument: `{"key": "privileged", "value": "true"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Argument {
    /// Argument name.
    pub key: String,
    /// Argument value, as text.
    pub value: String,
}

/// A health check on a breed, service or cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheck {
    /// HTTP path (default `/`).
    pub path: String,
    /// The port name (or number as text) to check.
    pub port: String,
    /// Seconds before the first check.
    pub initial_delay: u64,
    /// Seconds before a check times out.
    pub timeout: u64,
    /// Seconds between checks.
    pub interval: u64,
    /// Failures before the instance is unhealthy.
    pub failures: u64,
    /// `HTTP`, `HTTPS`, `TCP`, or `COMMAND`.
    pub protocol: String,
    /// Where the health check was written.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// What a breed runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployable {
    /// The type as written (`docker`, `container/docker`), or None.
    #[serde(rename = "type")]
    pub deployable_type: Option<String>,
    /// The image or other definition.
    pub definition: String,
}

/// A breed: one deployable with its declared interface.
#[derive(Debug, Clone, PartialEq)]
pub struct Breed {
    /// Artifact name.
    pub name: String,
    /// Free-form metadata.
    pub metadata: Map<Value>,
    /// What runs.
    pub deployable: Deployable,
    /// Ports by name.
    pub ports: Map<Port>,
    /// Environment variables by name.
    pub environment_variables: Map<TraitValue>,
    /// Constants by name.
    pub constants: Map<TraitValue>,
    /// Arguments in order.
    pub arguments: Vec<Argument>,
    /// Dependencies by alias.
    pub dependencies: Map<OrRef<Breed>>,
    /// Health checks, None when none were written.
    pub health_checks: Option<Vec<HealthCheck>>,
    /// Where the breed was written.
    pub span: Option<Span>,
}

impl Serialize for Breed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(11))?;
        m.serialize_entry("kind", "breed")?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("metadata", &self.metadata)?;
        m.serialize_entry("deployable", &self.deployable)?;
        m.serialize_entry("ports", &self.ports)?;
        m.serialize_entry("environment_variables", &self.environment_variables)?;
        m.serialize_entry("constants", &self.constants)?;
        m.serialize_entry("arguments", &self.arguments)?;
        m.serialize_entry("dependencies", &self.dependencies)?;
        m.serialize_entry("health_checks", &self.health_checks)?;
        m.end()
    }
}

/// The size of a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scale {
    /// Cores.
    pub cpu: f64,
    /// Megabytes.
    pub memory: f64,
    /// Number of instances.
    pub instances: u32,
}

impl Scale {
    /// The scale a service gets when none is written: 1 core, 1000 MB, 1 instance.
    pub const DEFAULT: Scale = Scale {
        cpu: 1.0,
        memory: 1000.0,
        instances: 1,
    };
}

/// A condition attached to a route: inline text or a reference.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteCondition {
    /// `{"definition": "User-Agent = Firefox"}`.
    Inline {
        /// The condition text as written.
        definition: String,
        /// Where it was written.
        span: Option<Span>,
    },
    /// `{"reference": "ios"}`.
    Reference(Reference),
}

impl Serialize for RouteCondition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RouteCondition::Inline { definition, .. } => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("definition", definition)?;
                m.end()
            }
            RouteCondition::Reference(r) => r.serialize(s),
        }
    }
}

/// A path rewrite: `path: NEW if CONDITION`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rewrite {
    /// The new path.
    pub path: String,
    /// The HAProxy condition under which it applies.
    pub condition: String,
}

/// One destination of a gateway. The default is a route with nothing
/// written (no weight, condition, rewrites or position).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Route {
    /// Share of unconditioned traffic, 0–100; None when not written.
    pub weight: Option<u8>,
    /// Request filter.
    pub condition: Option<RouteCondition>,
    /// Share of matching requests sent straight to this route.
    pub condition_strength: Option<u8>,
    /// Path rewrites.
    pub rewrites: Vec<OrRef<Rewrite>>,
    /// HAProxy balance algorithm, None for the default.
    pub balance: Option<String>,
    /// Route selector text.
    pub selector: Option<String>,
    /// Where the route was written.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// `sticky: route | instance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sticky {
    /// Pin a client to a route.
    Route,
    /// Pin a client to an instance.
    Instance,
}

/// An existing service a gateway fronts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewayService {
    /// Host.
    pub host: String,
    /// Port.
    pub port: Port,
}

/// A gateway: a listening port and its routes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gateway {
    /// The port (for cluster gateways written without one: the cluster port
    /// it routes, as a port object of that name's value).
    pub port: Option<Port>,
    /// Fronted service, if any.
    pub service: Option<GatewayService>,
    /// Stickiness.
    pub sticky: Option<Sticky>,
    /// Virtual host names.
    pub virtual_hosts: Vec<String>,
    /// Gateway selector text.
    pub selector: Option<String>,
    /// Routes by path.
    pub routes: Map<OrRef<Route>>,
    /// Where the gateway was written.
    #[serde(skip)]
    pub span: Option<Span>,
    /// Where the `routes` key was written.
    #[serde(skip)]
    pub routes_span: Option<Span>,
}

/// Threshold of a response-time SLA, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Threshold {
    /// Escalate above this average.
    pub upper: u64,
    /// De-escalate below this average.
    pub lower: u64,
}

/// The sliding window of a response-time SLA, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    /// Averaging interval.
    pub interval: u64,
    /// Quiet time after an event.
    pub cooldown: u64,
}

/// A service level agreement on a cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum Sla {
    /// `response_time_sliding_window`.
    ResponseTimeSlidingWindow {
        /// Thresholds in ms.
        threshold: Threshold,
        /// Window in seconds.
        window: Window,
        /// Reactions.
        escalations: Vec<Escalation>,
    },
    /// `escalation_only`: only escalations.
    EscalationOnly {
        /// Reactions.
        escalations: Vec<Escalation>,
    },
    /// Any other type, with its parameters as written.
    Generic {
        /// The type name.
        sla_type: String,
        /// Every other key.
        parameters: Map<Value>,
        /// Reactions.
        escalations: Vec<Escalation>,
    },
    /// A stored SLA, with escalations written next to the reference.
    Reference {
        /// The reference.
        reference: Reference,
        /// Reactions.
        escalations: Vec<Escalation>,
    },
}

impl Sla {
    /// The escalations of any form.
    pub fn escalations(&self) -> &[Escalation] {
        match self {
            Sla::ResponseTimeSlidingWindow { escalations, .. }
            | Sla::EscalationOnly { escalations }
            | Sla::Generic { escalations, .. }
            | Sla::Reference { escalations, .. } => escalations,
        }
    }
}

impl Serialize for Sla {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self {
            Sla::ResponseTimeSlidingWindow {
                threshold,
                window,
                escalations,
            } => {
                m.serialize_entry("type", "response_time_sliding_window")?;
                m.serialize_entry("threshold", threshold)?;
                m.serialize_entry("window", window)?;
                m.serialize_entry("escalations", escalations)?;
            }
            Sla::EscalationOnly { escalations } => {
                m.serialize_entry("type", "escalation_only")?;
                m.serialize_entry("escalations", escalations)?;
            }
            Sla::Generic {
                sla_type,
                parameters,
                escalations,
            } => {
                m.serialize_entry("type", sla_type)?;
                m.serialize_entry("parameters", parameters)?;
                m.serialize_entry("escalations", escalations)?;
            }
            Sla::Reference {
                reference,
                escalations,
            } => {
                m.serialize_entry("reference", &reference.name)?;
                m.serialize_entry("escalations", escalations)?;
            }
        }
        m.end()
    }
}

/// Which resource a scale escalation changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScaleResource {
    /// `scale_instances`
    Instances,
    /// `scale_cpu`
    Cpu,
    /// `scale_memory`
    Memory,
}

impl ScaleResource {
    /// The escalation type name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScaleResource::Instances => "scale_instances",
            ScaleResource::Cpu => "scale_cpu",
            ScaleResource::Memory => "scale_memory",
        }
    }
}

/// A reaction to Escalate/DeEscalate events.
#[derive(Debug, Clone, PartialEq)]
pub enum Escalation {
    /// `scale_instances`, `scale_cpu` or `scale_memory`.
    Scale {
        /// What is scaled.
        resource: ScaleResource,
        /// Lower bound.
        minimum: f64,
        /// Upper bound.
        maximum: f64,
        /// Step.
        scale_by: f64,
        /// Cluster to scale instead of the SLA's own.
        target: Option<String>,
        /// Where it was written.
        span: Option<Span>,
    },
    /// Every handler acts.
    ToAll(Vec<Escalation>),
    /// The first handler that can act acts.
    ToOne(Vec<Escalation>),
    /// Any other type, with its parameters.
    Generic {
        /// Type name.
        escalation_type: String,
        /// Every other key.
        parameters: Map<Value>,
    },
    /// A stored escalation.
    Reference(Reference),
}

impl Serialize for Escalation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Escalation::Scale {
                resource,
                minimum,
                maximum,
                scale_by,
                target,
                ..
            } => {
                let mut m = s.serialize_map(Some(5))?;
                m.serialize_entry("type", resource.as_str())?;
                if *resource == ScaleResource::Instances {
                    m.serialize_entry("minimum", &(*minimum as u64))?;
                    m.serialize_entry("maximum", &(*maximum as u64))?;
                    m.serialize_entry("scale_by", &(*scale_by as u64))?;
                } else {
                    m.serialize_entry("minimum", minimum)?;
                    m.serialize_entry("maximum", maximum)?;
                    m.serialize_entry("scale_by", scale_by)?;
                }
                m.serialize_entry("target", target)?;
                m.end()
            }
            Escalation::ToAll(list) | Escalation::ToOne(list) => {
                let mut m = s.serialize_map(Some(2))?;
                let ty = if matches!(self, Escalation::ToAll(_)) {
                    "to_all"
                } else {
                    "to_one"
                };
                m.serialize_entry("type", ty)?;
                m.serialize_entry("escalations", list)?;
                m.end()
            }
            Escalation::Generic {
                escalation_type,
                parameters,
            } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", escalation_type)?;
                m.serialize_entry("parameters", parameters)?;
                m.end()
            }
            Escalation::Reference(r) => r.serialize(s),
        }
    }
}

/// One breed placed in a cluster with its runtime settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    /// The breed, inline or referenced.
    pub breed: OrRef<Breed>,
    /// Service-scope environment variables.
    pub environment_variables: Map<TraitValue>,
    /// Scale, None for the default.
    pub scale: Option<OrRef<Scale>>,
    /// Arguments.
    pub arguments: Vec<Argument>,
    /// Health checks.
    pub health_checks: Option<Vec<HealthCheck>>,
    /// Network.
    pub network: Option<String>,
    /// Dialects.
    pub dialects: Map<Value>,
    /// Where the service was written.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// A group of services serving one purpose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    /// Free-form metadata.
    pub metadata: Map<Value>,
    /// Services in order.
    pub services: Vec<Service>,
    /// Cluster gateways keyed by port name.
    pub gateways: Map<Gateway>,
    /// Health checks.
    pub health_checks: Option<Vec<HealthCheck>>,
    /// Network.
    pub network: Option<String>,
    /// SLA.
    pub sla: Option<Sla>,
    /// Dialects.
    pub dialects: Map<Value>,
    /// Where the cluster was written.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// A plan: clusters of services plus entry gateways.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blueprint {
    /// Blueprint gateways keyed by port (or key as written).
    pub gateways: Map<Gateway>,
    /// Clusters by name.
    pub clusters: Map<Cluster>,
    /// Cluster-scope environment variables (`cluster.environment_variables.NAME`).
    pub environment_variables: Map<TraitValue>,
    /// Dialects.
    pub dialects: Map<Value>,
}

/// A stored condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionDef {
    /// The condition text.
    pub definition: String,
}

/// A workflow: a breed run as a controller.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workflow {
    /// The breed.
    pub breed: OrRef<Breed>,
    /// The schedule as written (`daemon`, `{event: ...}`, `{time: ...}`).
    pub schedule: Value,
    /// Scale.
    pub scale: Option<OrRef<Scale>>,
    /// Environment variables.
    pub environment_variables: Map<TraitValue>,
    /// Arguments.
    pub arguments: Vec<Argument>,
    /// Dialects.
    pub dialects: Map<Value>,
}

/// A named, stored artifact: `{"kind", "name", "metadata", ...fields}`.
///
/// ```
/// use vamp_model::{Artifact, Scale};
/// let doc = Artifact::new("small", Scale { cpu: 2.0, memory: 2000.0, instances: 2 });
/// let json = serde_json::to_string(&doc).unwrap();
/// assert_eq!(json, r#"{"kind":"scale","name":"small","metadata":{},"cpu":2.0,"memory":2000.0,"instances":2}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Artifact<T: Spec> {
    /// Always the singular kind.
    #[serde(serialize_with = "serialize_kind::<_, T>")]
    pub kind: std::marker::PhantomData<T>,
    /// Artifact name.
    pub name: String,
    /// Free-form metadata.
    pub metadata: Map<Value>,
    /// The artifact's own fields.
    #[serde(flatten)]
    pub spec: T,
}

fn serialize_kind<S: Serializer, T: Spec>(
    _: &std::marker::PhantomData<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(T::KIND.as_str())
}

impl<T: Spec> Artifact<T> {
    /// A named artifact with empty metadata.
    pub fn new(name: impl Into<String>, spec: T) -> Self {
        Artifact {
            kind: std::marker::PhantomData,
            name: name.into(),
            metadata: Map::new(),
            spec,
        }
    }
}

/// The content of a stored artifact of a given kind.
pub trait Spec: Serialize {
    /// The kind of the document.
    const KIND: Kind;
}

impl Spec for Blueprint {
    const KIND: Kind = Kind::Blueprint;
}
impl Spec for Gateway {
    const KIND: Kind = Kind::Gateway;
}
impl Spec for Scale {
    const KIND: Kind = Kind::Scale;
}
impl Spec for ConditionDef {
    const KIND: Kind = Kind::Condition;
}
impl Spec for Rewrite {
    const KIND: Kind = Kind::Rewrite;
}
impl Spec for Sla {
    const KIND: Kind = Kind::Sla;
}
impl Spec for Escalation {
    const KIND: Kind = Kind::Escalation;
}
impl Spec for Workflow {
    const KIND: Kind = Kind::Workflow;
}

/// Any document the DSL reads.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Document {
    /// A breed (breeds carry their own kind and name).
    Breed(Breed),
    /// A blueprint.
    Blueprint(Artifact<Blueprint>),
    /// A gateway.
    Gateway(Artifact<Gateway>),
    /// A condition.
    Condition(Artifact<ConditionDef>),
    /// A rewrite.
    Rewrite(Artifact<Rewrite>),
    /// A scale.
    Scale(Artifact<Scale>),
    /// An SLA.
    Sla(Artifact<Sla>),
    /// An escalation.
    Escalation(Artifact<Escalation>),
    /// A workflow.
    Workflow(Artifact<Workflow>),
    /// A rollout.
    Rollout(Artifact<crate::rollout::Rollout>),
}

impl Document {
    /// The document's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Document::Breed(_) => Kind::Breed,
            Document::Blueprint(_) => Kind::Blueprint,
            Document::Gateway(_) => Kind::Gateway,
            Document::Condition(_) => Kind::Condition,
            Document::Rewrite(_) => Kind::Rewrite,
            Document::Scale(_) => Kind::Scale,
            Document::Sla(_) => Kind::Sla,
            Document::Escalation(_) => Kind::Escalation,
            Document::Workflow(_) => Kind::Workflow,
            Document::Rollout(_) => Kind::Rollout,
        }
    }

    /// The document's name.
    pub fn name(&self) -> &str {
        match self {
            Document::Breed(b) => &b.name,
            Document::Blueprint(a) => &a.name,
            Document::Gateway(a) => &a.name,
            Document::Condition(a) => &a.name,
            Document::Rewrite(a) => &a.name,
            Document::Scale(a) => &a.name,
            Document::Sla(a) => &a.name,
            Document::Escalation(a) => &a.name,
            Document::Workflow(a) => &a.name,
            Document::Rollout(a) => &a.name,
        }
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Document::Breed(b) => b.serialize(s),
            Document::Blueprint(a) => a.serialize(s),
            Document::Gateway(a) => a.serialize(s),
            Document::Condition(a) => a.serialize(s),
            Document::Rewrite(a) => a.serialize(s),
            Document::Scale(a) => a.serialize(s),
            Document::Sla(a) => a.serialize(s),
            Document::Escalation(a) => a.serialize(s),
            Document::Workflow(a) => a.serialize(s),
            Document::Rollout(a) => a.serialize(s),
        }
    }
}
