//! What the engine decides: events, scale actions and notices, as values.

use serde_json::json;
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

impl CannotScaleReason {
    /// The stable name of the reason, the `notice` of [`Output::to_json`]:
    /// `cannot_scale_further`, `unknown_cluster`, `no_service`,
    /// `unknown_scale` or `invalid_step`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CannotScaleReason::Limit { .. } => "cannot_scale_further",
            CannotScaleReason::UnknownCluster => "unknown_cluster",
            CannotScaleReason::NoService => "no_service",
            CannotScaleReason::UnknownScale => "unknown_scale",
            CannotScaleReason::InvalidStep => "invalid_step",
        }
    }
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

    /// The JSON object `vamp sla evaluate --format json` prints for it (one
    /// a line). `timestamp` is unix seconds (an integer when whole); an
    /// instance count is an integer, cpu and memory are numbers.
    ///
    /// - event: `{timestamp, cluster, event}` (`escalate` / `deescalate`)
    /// - scale action: `{timestamp, action, cluster, service, from, to}`
    ///   (`action`: `scale_instances`, `scale_cpu`, `scale_memory`)
    /// - cannot scale: `{timestamp, notice, escalation, cluster, service,
    ///   event}` (`notice`: [`CannotScaleReason::as_str`]), plus `value`,
    ///   `minimum` and `maximum` for `cannot_scale_further`
    /// - generic handler: `{timestamp, action, cluster, event, detail}`
    /// - unsupported: `{timestamp, notice: "unsupported_escalation",
    ///   escalation, cluster}`
    ///
    /// ```
    /// use vamp_model::ScaleResource;
    /// use vamp_sla::{Output, ScaleAction};
    /// let action = Output::Scale(ScaleAction {
    ///     timestamp_ms: 1_763_800_148_000, cluster: "sava".into(), service: "sava:1.0.0".into(),
    ///     resource: ScaleResource::Instances, from: 2.0, to: 3.0,
    /// });
    /// assert_eq!(action.to_json().to_string(),
    ///     r#"{"timestamp":1763800148,"action":"scale_instances","cluster":"sava","service":"sava:1.0.0","from":2,"to":3}"#);
    /// ```
    pub fn to_json(&self) -> Value {
        match self {
            Output::Event(e) => json!({
                "timestamp": seconds(e.timestamp_ms),
                "cluster": e.cluster,
                "event": e.direction.as_str(),
            }),
            Output::Scale(a) => json!({
                "timestamp": seconds(a.timestamp_ms),
                "action": a.resource.as_str(),
                "cluster": a.cluster,
                "service": a.service,
                "from": amount(a.resource, a.from),
                "to": amount(a.resource, a.to),
            }),
            Output::CannotScale(c) => {
                let mut v = json!({
                    "timestamp": seconds(c.timestamp_ms),
                    "notice": c.reason.as_str(),
                    "escalation": c.resource.as_str(),
                    "cluster": c.cluster,
                    "service": c.service,
                    "event": c.direction.as_str(),
                });
                if let CannotScaleReason::Limit {
                    current,
                    minimum,
                    maximum,
                } = c.reason
                {
                    v["value"] = amount(c.resource, current);
                    v["minimum"] = amount(c.resource, minimum);
                    v["maximum"] = amount(c.resource, maximum);
                }
                v
            }
            Output::Custom(c) => json!({
                "timestamp": seconds(c.timestamp_ms),
                "action": c.escalation_type,
                "cluster": c.cluster,
                "event": c.direction.as_str(),
                "detail": c.detail,
            }),
            Output::Unsupported(u) => json!({
                "timestamp": seconds(u.timestamp_ms),
                "notice": "unsupported_escalation",
                "escalation": u.escalation_type,
                "cluster": u.cluster,
            }),
        }
    }
}

/// Unix seconds from milliseconds: an integer when whole.
fn seconds(ms: u64) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

/// An amount of a resource: instances are whole.
fn amount(r: ScaleResource, v: f64) -> Value {
    if r == ScaleResource::Instances {
        json!(v.round() as u64)
    } else {
        json!(v)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_of_every_output() {
        let event = Output::Event(Event {
            timestamp_ms: 1500,
            cluster: "sava".into(),
            direction: Direction::DeEscalate,
            origin: Origin::Sla,
        });
        assert_eq!(
            event.to_json(),
            json!({"timestamp": 1.5, "cluster": "sava", "event": "deescalate"})
        );
        let cpu = Output::Scale(ScaleAction {
            timestamp_ms: 2000,
            cluster: "sava".into(),
            service: "s".into(),
            resource: ScaleResource::Cpu,
            from: 0.5,
            to: 1.0,
        });
        assert_eq!(
            cpu.to_json(),
            json!({"timestamp": 2, "action": "scale_cpu", "cluster": "sava", "service": "s", "from": 0.5, "to": 1.0})
        );
        let limit = Output::CannotScale(CannotScale {
            timestamp_ms: 3000,
            cluster: "sava".into(),
            service: Some("s".into()),
            resource: ScaleResource::Instances,
            direction: Direction::Escalate,
            reason: CannotScaleReason::Limit {
                current: 5.0,
                minimum: 1.0,
                maximum: 5.0,
            },
        });
        assert_eq!(
            limit.to_json().to_string(),
            r#"{"timestamp":3,"notice":"cannot_scale_further","escalation":"scale_instances","cluster":"sava","service":"s","event":"escalate","value":5,"minimum":1,"maximum":5}"#
        );
        let unknown = Output::CannotScale(CannotScale {
            timestamp_ms: 3000,
            cluster: "x".into(),
            service: None,
            resource: ScaleResource::Memory,
            direction: Direction::Escalate,
            reason: CannotScaleReason::UnknownCluster,
        });
        assert_eq!(unknown.to_json()["notice"], "unknown_cluster");
        assert_eq!(unknown.to_json()["service"], Value::Null);
        assert!(unknown.to_json().get("value").is_none());
        let custom = Output::Custom(CustomAction {
            timestamp_ms: 4000,
            cluster: "sava".into(),
            escalation_type: "notify".into(),
            direction: Direction::Escalate,
            detail: json!({"to": "ops"}),
        });
        assert_eq!(
            custom.to_json(),
            json!({"timestamp": 4, "action": "notify", "cluster": "sava", "event": "escalate", "detail": {"to": "ops"}})
        );
        let unsupported = Output::Unsupported(Unsupported {
            timestamp_ms: 5000,
            cluster: "sava".into(),
            escalation_type: "page".into(),
        });
        assert_eq!(
            unsupported.to_json(),
            json!({"timestamp": 5, "notice": "unsupported_escalation", "escalation": "page", "cluster": "sava"})
        );
    }
}
