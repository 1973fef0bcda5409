//! Service level agreements and their escalations, with their canonical
//! JSON in both directions (their forms are told apart by `type` and
//! `reference`, so they are written and read here by hand, next to each
//! other).

use serde::de::DeserializeOwned;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};

use super::{Map, Reference, Value};
use crate::span::Span;

/// Threshold of a response-time SLA, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// Escalate above this average.
    pub upper: u64,
    /// De-escalate below this average.
    pub lower: u64,
}

/// The sliding window of a response-time SLA, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

impl<'de> Deserialize<'de> for Sla {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut m = Map::<Value>::deserialize(d)?;
        let escalations = take(&mut m, "escalations")?.unwrap_or_default();
        if let Some(name) = take::<String, D::Error>(&mut m, "reference")? {
            return Ok(Sla::Reference {
                reference: Reference::new(name),
                escalations,
            });
        }
        let sla_type: String = required(&mut m, "type")?;
        Ok(match sla_type.as_str() {
            "response_time_sliding_window" => Sla::ResponseTimeSlidingWindow {
                threshold: required(&mut m, "threshold")?,
                window: required(&mut m, "window")?,
                escalations,
            },
            "escalation_only" => Sla::EscalationOnly { escalations },
            _ => Sla::Generic {
                sla_type,
                parameters: take(&mut m, "parameters")?.unwrap_or_default(),
                escalations,
            },
        })
    }
}

/// Reads and removes `key` of a JSON object (absent or null: `None`).
fn take<T: DeserializeOwned, E: serde::de::Error>(
    m: &mut Map<Value>,
    key: &str,
) -> Result<Option<T>, E> {
    m.shift_remove(key)
        .filter(|v| !v.is_null())
        .map(|v| T::deserialize(v).map_err(|e| E::custom(format_args!("`{key}`: {e}"))))
        .transpose()
}

/// Reads and removes `key` of a JSON object, which must be there.
fn required<T: DeserializeOwned, E: serde::de::Error>(
    m: &mut Map<Value>,
    key: &'static str,
) -> Result<T, E> {
    take(m, key)?.ok_or_else(|| E::missing_field(key))
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
    /// Every resource.
    pub const ALL: [ScaleResource; 3] = [
        ScaleResource::Instances,
        ScaleResource::Cpu,
        ScaleResource::Memory,
    ];

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

impl<'de> Deserialize<'de> for Escalation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut m = Map::<Value>::deserialize(d)?;
        if let Some(name) = take::<String, D::Error>(&mut m, "reference")? {
            return Ok(Escalation::Reference(Reference::new(name)));
        }
        let ty: String = required(&mut m, "type")?;
        let resource = ScaleResource::ALL.into_iter().find(|r| r.as_str() == ty);
        Ok(match (resource, ty.as_str()) {
            (Some(resource), _) => Escalation::Scale {
                resource,
                minimum: required(&mut m, "minimum")?,
                maximum: required(&mut m, "maximum")?,
                scale_by: required(&mut m, "scale_by")?,
                target: take(&mut m, "target")?,
                span: None,
            },
            (None, "to_all") => Escalation::ToAll(required(&mut m, "escalations")?),
            (None, "to_one") => Escalation::ToOne(required(&mut m, "escalations")?),
            (None, _) => Escalation::Generic {
                escalation_type: ty,
                parameters: take(&mut m, "parameters")?.unwrap_or_default(),
            },
        })
    }
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
