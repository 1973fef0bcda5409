//! The typed artifacts of the Vamp DSL, serializing to the canonical JSON.
//!
//! Fields are public and plain; `span` fields (skipped in JSON) remember where
//! a node was written so later checks can point at it.

use indexmap::IndexMap;
use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Serializer;
use serde::{Deserialize, Deserializer, Serialize};

use crate::condition::ConditionText;
use crate::span::Span;

mod sla;

pub use sla::{Escalation, ScaleResource, Sla, Threshold, Window};

/// An ordered map keyed by text, as the canonical form keeps source order.
pub type Map<V> = IndexMap<String, V>;

/// A free-form value (metadata, dialects, generic parameters).
pub type Value = serde_json::Value;

/// A reference to a stored artifact by name: `{"reference": "<name>"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// The referenced artifact's name.
    #[serde(rename = "reference")]
    pub name: String,
    /// Where the reference was written.
    #[serde(skip)]
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

/// `{"reference": NAME}` (exactly that key) reads as a reference, anything
/// else as the inline artifact.
impl<'de, T: DeserializeOwned> Deserialize<'de> for OrRef<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let is_reference = value
            .as_object()
            .is_some_and(|o| o.len() == 1 && o.contains_key("reference"));
        if is_reference {
            return Reference::deserialize(value)
                .map(OrRef::Reference)
                .map_err(D::Error::custom);
        }
        // The value was buffered: name the path inside it in the message.
        serde_path_to_error::deserialize(value)
            .map(OrRef::Inline)
            .map_err(|e| D::Error::custom(format_args!("at `{}`: {}", e.path(), e.inner())))
    }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortType {
    /// HTTP (the default).
    Http,
    /// Plain TCP.
    Tcp,
}

/// A port: `8080`, `8080/http`, `8080/tcp`, or a reference such as
/// `$db.constants.port`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Argument {
    /// Argument name.
    pub key: String,
    /// Argument value, as text.
    pub value: String,
}

/// A health check on a breed, service or cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Deployable {
    /// The type as written (`docker`, `container/docker`), or None.
    #[serde(rename = "type")]
    pub deployable_type: Option<String>,
    /// The image or other definition.
    pub definition: String,
}

impl Deployable {
    /// A deployable without a written type (an image, for the container
    /// drivers).
    pub fn untyped(definition: impl Into<String>) -> Self {
        Deployable {
            deployable_type: None,
            definition: definition.into(),
        }
    }
}

/// A breed: one deployable with its declared interface. The default is a
/// breed with an empty name and definition and nothing else written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename = "breed")]
pub struct Breed {
    /// Artifact name.
    pub name: String,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Map<Value>,
    /// What runs.
    pub deployable: Deployable,
    /// Ports by name.
    #[serde(default)]
    pub ports: Map<Port>,
    /// Environment variables by name.
    #[serde(default)]
    pub environment_variables: Map<TraitValue>,
    /// Constants by name.
    #[serde(default)]
    pub constants: Map<TraitValue>,
    /// Arguments in order.
    #[serde(default)]
    pub arguments: Vec<Argument>,
    /// Dependencies by alias.
    #[serde(default)]
    pub dependencies: Map<OrRef<Breed>>,
    /// Health checks, None when none were written.
    pub health_checks: Option<Vec<HealthCheck>>,
    /// Where the breed was written.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// The size of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

    /// [`Scale::DEFAULT`], for reading a service written without a scale.
    pub fn default_scale() -> Scale {
        Scale::DEFAULT
    }
}

/// A condition attached to a route: inline text or a reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RouteCondition {
    /// `{"reference": "ios"}`.
    Reference(Reference),
    /// `{"definition": "User-Agent = Firefox"}`.
    Inline {
        /// The condition as written, parsed.
        definition: ConditionText,
        /// Where it was written.
        #[serde(skip)]
        span: Option<Span>,
    },
}

/// A path rewrite: `path: NEW if CONDITION`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rewrite {
    /// The new path.
    pub path: String,
    /// The HAProxy condition under which it applies.
    pub condition: String,
}

/// One destination of a gateway. The default is a route with nothing
/// written (no weight, condition, rewrites or position).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Route {
    /// Share of unconditioned traffic, 0–100; None when not written.
    pub weight: Option<u8>,
    /// Request filter.
    pub condition: Option<RouteCondition>,
    /// Share of matching requests sent straight to this route.
    pub condition_strength: Option<u8>,
    /// Path rewrites.
    #[serde(default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sticky {
    /// Pin a client to a route.
    Route,
    /// Pin a client to an instance.
    Instance,
}

/// An existing service a gateway fronts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayService {
    /// Host.
    pub host: String,
    /// Port.
    pub port: Port,
}

/// A gateway: a listening port and its routes. The default is a gateway
/// with nothing written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Gateway {
    /// The port (for cluster gateways written without one: the cluster port
    /// it routes, as a port object of that name's value).
    pub port: Option<Port>,
    /// Fronted service, if any.
    pub service: Option<GatewayService>,
    /// Stickiness.
    pub sticky: Option<Sticky>,
    /// Virtual host names.
    #[serde(default)]
    pub virtual_hosts: Vec<String>,
    /// Gateway selector text.
    pub selector: Option<String>,
    /// Routes by path.
    #[serde(default)]
    pub routes: Map<OrRef<Route>>,
    /// Where the gateway was written.
    #[serde(skip)]
    pub span: Option<Span>,
    /// Where the `routes` key was written.
    #[serde(skip)]
    pub routes_span: Option<Span>,
}

/// One breed placed in a cluster with its runtime settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// The breed, inline or referenced.
    pub breed: OrRef<Breed>,
    /// Service-scope environment variables.
    #[serde(default)]
    pub environment_variables: Map<TraitValue>,
    /// Scale, None for the default.
    pub scale: Option<OrRef<Scale>>,
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
    /// Where the service was written.
    #[serde(skip)]
    pub span: Option<Span>,
}

impl Service {
    /// A service of `breed` with nothing else written.
    ///
    /// ```
    /// use vamp_model::{OrRef, Reference, Service};
    /// let s = Service::new(OrRef::Reference(Reference::new("web:1")));
    /// assert!(s.scale.is_none() && s.environment_variables.is_empty());
    /// ```
    pub fn new(breed: OrRef<Breed>) -> Self {
        Service {
            breed,
            environment_variables: Map::new(),
            scale: None,
            arguments: Vec::new(),
            health_checks: None,
            network: None,
            dialects: Map::new(),
            span: None,
        }
    }
}

/// A group of services serving one purpose. The default is a cluster with
/// nothing written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Map<Value>,
    /// Services in order.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Cluster gateways keyed by port name.
    #[serde(default)]
    pub gateways: Map<Gateway>,
    /// Health checks.
    pub health_checks: Option<Vec<HealthCheck>>,
    /// Network.
    pub network: Option<String>,
    /// SLA.
    pub sla: Option<Sla>,
    /// Dialects.
    #[serde(default)]
    pub dialects: Map<Value>,
    /// Where the cluster was written.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// A plan: clusters of services plus entry gateways. The default is an
/// empty blueprint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Blueprint {
    /// Blueprint gateways keyed by port (or key as written).
    #[serde(default)]
    pub gateways: Map<Gateway>,
    /// Clusters by name.
    #[serde(default)]
    pub clusters: Map<Cluster>,
    /// Cluster-scope environment variables (`cluster.environment_variables.NAME`).
    #[serde(default)]
    pub environment_variables: Map<TraitValue>,
    /// Dialects.
    #[serde(default)]
    pub dialects: Map<Value>,
}

/// A stored condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionDef {
    /// The condition as written, parsed.
    pub definition: ConditionText,
}

/// A workflow: a breed run as a controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// The breed.
    pub breed: OrRef<Breed>,
    /// The schedule as written (`daemon`, `{event: ...}`, `{time: ...}`).
    pub schedule: Value,
    /// Scale.
    pub scale: Option<OrRef<Scale>>,
    /// Environment variables.
    #[serde(default)]
    pub environment_variables: Map<TraitValue>,
    /// Arguments.
    #[serde(default)]
    pub arguments: Vec<Argument>,
    /// Dialects.
    #[serde(default)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = ""))]
pub struct Artifact<T: Spec> {
    /// Always the singular kind (may be left out when reading).
    #[serde(
        serialize_with = "serialize_kind::<_, T>",
        deserialize_with = "deserialize_kind::<_, T>",
        default
    )]
    pub kind: std::marker::PhantomData<T>,
    /// Artifact name.
    pub name: String,
    /// Free-form metadata.
    #[serde(default)]
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

fn deserialize_kind<'de, D: Deserializer<'de>, T: Spec>(
    d: D,
) -> Result<std::marker::PhantomData<T>, D::Error> {
    let kind = String::deserialize(d)?;
    // Singular or plural, as the API reads kinds (`breed` or `breeds`).
    let singular = kind.strip_suffix('s').filter(|k| *k == T::KIND.as_str());
    if kind == T::KIND.as_str() || singular.is_some() {
        Ok(std::marker::PhantomData)
    } else {
        Err(D::Error::invalid_value(
            serde::de::Unexpected::Str(&kind),
            &T::KIND.as_str(),
        ))
    }
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
pub trait Spec: Serialize + DeserializeOwned {
    /// The kind of the document.
    const KIND: Kind;
}

/// `impl Spec` for each type with its kind.
macro_rules! spec_kinds {
    ($($t:ty => $kind:ident),* $(,)?) => {$(
        impl Spec for $t {
            const KIND: Kind = Kind::$kind;
        }
    )*};
}

spec_kinds!(
    Blueprint => Blueprint,
    Gateway => Gateway,
    Scale => Scale,
    ConditionDef => Condition,
    Rewrite => Rewrite,
    Sla => Sla,
    Escalation => Escalation,
    Workflow => Workflow,
);

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

/// Reads a document by its `kind` (a deployment is not a document).
impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        fn read<T: DeserializeOwned, E: serde::de::Error>(v: Value) -> Result<T, E> {
            T::deserialize(v).map_err(E::custom)
        }
        let v = Value::deserialize(d)?;
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or_default();
        let singular = kind.strip_suffix('s').unwrap_or(kind);
        let Some(kind) = Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind || k.as_str() == singular)
        else {
            return Err(D::Error::unknown_variant(
                kind,
                &[
                    "breed",
                    "blueprint",
                    "gateway",
                    "condition",
                    "rewrite",
                    "scale",
                    "sla",
                    "escalation",
                    "workflow",
                    "rollout",
                ],
            ));
        };
        Ok(match kind {
            Kind::Breed => Document::Breed(read(v)?),
            Kind::Blueprint => Document::Blueprint(read(v)?),
            Kind::Gateway => Document::Gateway(read(v)?),
            Kind::Condition => Document::Condition(read(v)?),
            Kind::Rewrite => Document::Rewrite(read(v)?),
            Kind::Scale => Document::Scale(read(v)?),
            Kind::Sla => Document::Sla(read(v)?),
            Kind::Escalation => Document::Escalation(read(v)?),
            Kind::Workflow => Document::Workflow(read(v)?),
            Kind::Rollout => Document::Rollout(read(v)?),
            Kind::Deployment => {
                return Err(D::Error::custom(
                    "a deployment is not a document of the DSL",
                ))
            }
        })
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
