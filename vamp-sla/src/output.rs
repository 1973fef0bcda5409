//! What the engine decides: events, scale actions and notices, as values.

use vamp_model::{Map, ScaleResource, Value};

use crate::sla::Direction;

/// Where an SLA event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The cluster's own SLA check.
    Sla,
    /// Posted from outside with [`crate::Engine::post_event`] (for example to
    /// an `escalation_only` SLA).
    Posted,
}

/// An Escalate / DeEscalate event for a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When, unix milliseconds (a whole second for SLA checks).
    pub timestamp_ms: u64,
    /// The cluster the SLA belongs to.
    pub cluster: String,
    /// Up or down.
    pub direction: Direction,
    /// Who raised it.
    pub origin: Origin,
}

/// A concrete change of one service's scale, to be applied by a driver.
/// Each action starts from the state the previous ones left.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleAction {
    /// When, unix milliseconds (the time of the event it answers).
    pub timestamp_ms: u64,
    /// The cluster scaled (an escalation's `target`, or the SLA's cluster).
    pub cluster: String,
    /// The service scaled: the first service of that cluster.
    pub service: String,
    /// Instances, cpu (cores) or memory (MB).
    pub resource: ScaleResource,
    /// Value before.
    pub from: f64,
    /// Value after, always inside the escalation's `[minimum, maximum]`.
    pub to: f64,
}

/// Why a scale escalation could not act.
#[derive(Debug, Clone, PartialEq)]
pub enum CannotScaleReason {
    /// The step would leave `[minimum, maximum]` ("cannot scale further").
    Limit {
        /// Value now.
        current: f64,
        /// Lower bound.
        minimum: f64,
        /// Upper bound.
        maximum: f64,
    },
    /// The target cluster is not in the blueprint.
    UnknownCluster,
    /// The target cluster has no service.
    NoService,
    /// The service's scale is a reference the engine could not see; set it
    /// with [`crate::Engine::set_scale`].
    UnknownScale,
    /// `scale_by` is not a positive number.
    InvalidStep,
}

/// A scale escalation that could not act.
#[derive(Debug, Clone, PartialEq)]
pub struct CannotScale {
    /// When, unix milliseconds.
    pub timestamp_ms: u64,
    /// The cluster that would have been scaled.
    pub cluster: String,
    /// Its first service, when there is one.
    pub service: Option<String>,
    /// The resource.
    pub resource: ScaleResource,
    /// The direction asked for.
    pub direction: Direction,
    /// Why not.
    pub reason: CannotScaleReason,
}

/// What a generic escalation handler (such as `notify`) did.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomAction {
    /// When, unix milliseconds.
    pub timestamp_ms: u64,
    /// The cluster of the event.
    pub cluster: String,
    /// The escalation type that acted (`notify`, ...).
    pub escalation_type: String,
    /// The direction of the event.
    pub direction: Direction,
    /// What the handler returned for a driver (free-form).
    pub detail: Value,
}

/// A generic escalation type with no registered handler, or a stored
/// escalation reference the engine cannot see. Like the original, it does
/// nothing; unlike the original, it says so.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsupported {
    /// When, unix milliseconds.
    pub timestamp_ms: u64,
    /// The cluster of the event.
    pub cluster: String,
    /// The type name, or `reference:NAME`.
    pub escalation_type: String,
}

/// One thing the engine decided, in the order it decided them.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// An SLA event.
    Event(Event),
    /// A scale change.
    Scale(ScaleAction),
    /// A scale escalation that could not act.
    CannotScale(CannotScale),
    /// A generic handler acted.
    Custom(CustomAction),
    /// Nothing could handle an escalation.
    Unsupported(Unsupported),
}

impl Output {
    /// When it happened, unix milliseconds.
    pub fn timestamp_ms(&self) -> u64 {
        match self {
            Output::Event(e) => e.timestamp_ms,
            Output::Scale(a) => a.timestamp_ms,
            Output::CannotScale(c) => c.timestamp_ms,
            Output::Custom(c) => c.timestamp_ms,
            Output::Unsupported(u) => u.timestamp_ms,
        }
    }
}

/// What a generic escalation handler is asked to handle.
#[derive(Debug, Clone, Copy)]
pub struct HandlerRequest<'a> {
    /// When, unix milliseconds.
    pub timestamp_ms: u64,
    /// The cluster of the event.
    pub cluster: &'a str,
    /// Up or down.
    pub direction: Direction,
    /// The escalation's type name.
    pub escalation_type: &'a str,
    /// The escalation's parameters as written.
    pub parameters: &'a Map<Value>,
}
