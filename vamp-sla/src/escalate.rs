//! Running escalations: scale steps, `to_all` / `to_one` groups and generic
//! handlers, against a scale state that each action updates.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use vamp_model::{Escalation, Scale, ScaleResource, Value};

use crate::output::{
    CannotScale, CannotScaleReason, CustomAction, HandlerRequest, Output, ScaleAction, Unsupported,
};
use crate::sla::Direction;

/// A handler for a generic escalation type (`notify`, `page`, ...).
///
/// It returns what it did as a free-form value (carried in
/// [`CustomAction::detail`]) or `None` when it cannot act, in which case a
/// `to_one` group moves on to the next escalation.
///
/// ```
/// use vamp_sla::{EscalationHandler, HandlerRequest, Direction};
///
/// /// Pages only on the way up.
/// #[derive(Debug)]
/// struct Pager;
///
/// impl EscalationHandler for Pager {
///     fn act(&self, req: &HandlerRequest<'_>) -> Option<serde_json::Value> {
///         (req.direction == Direction::Escalate)
///             .then(|| serde_json::json!({"page": req.parameters.get("team")}))
///     }
/// }
/// ```
pub trait EscalationHandler: fmt::Debug + Send + Sync {
    /// Handles one escalation of the type this handler is registered for.
    fn act(&self, request: &HandlerRequest<'_>) -> Option<Value>;
}

/// The built-in `notify` handler: always acts, and hands the escalation's
/// parameters (`{"channel": ..., ...}`) to the driver with the event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Notify;

impl EscalationHandler for Notify {
    fn act(&self, req: &HandlerRequest<'_>) -> Option<Value> {
        Some(Value::Object(
            req.parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
    }
}

/// The scale of one cluster's first service, as escalations see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterScale {
    pub(crate) name: String,
    /// First service name and its scale (`None`: a reference not known).
    pub(crate) first: Option<(String, Option<Scale>)>,
}

pub(crate) struct Run<'a> {
    pub(crate) timestamp_ms: u64,
    /// The cluster of the event.
    pub(crate) cluster: &'a str,
    pub(crate) direction: Direction,
    pub(crate) scales: &'a mut [ClusterScale],
    pub(crate) index: &'a HashMap<String, usize>,
    pub(crate) handlers: &'a HashMap<String, Arc<dyn EscalationHandler>>,
}

fn get(scale: &Scale, r: ScaleResource) -> f64 {
    match r {
        ScaleResource::Instances => f64::from(scale.instances),
        ScaleResource::Cpu => scale.cpu,
        ScaleResource::Memory => scale.memory,
    }
}

fn set(scale: &mut Scale, r: ScaleResource, v: f64) {
    match r {
        ScaleResource::Instances => {
            scale.instances = v.round().clamp(0.0, f64::from(u32::MAX)) as u32
        }
        ScaleResource::Cpu => scale.cpu = v,
        ScaleResource::Memory => scale.memory = v,
    }
}

/// `a ± b`, rounded to 1e-9 so that 0.1 + 0.2 steps land on round values.
fn step(a: f64, b: f64, dir: Direction) -> f64 {
    let v = match dir {
        Direction::Escalate => a + b,
        Direction::DeEscalate => a - b,
    };
    (v * 1e9).round() / 1e9
}

impl Run<'_> {
    /// Runs one escalation; `true` when it acted. Actions and notices are
    /// appended to `out`.
    pub(crate) fn run(&mut self, e: &Escalation, out: &mut Vec<Output>) -> bool {
        match e {
            Escalation::Scale {
                resource,
                minimum,
                maximum,
                scale_by,
                target,
                ..
            } => self.scale(
                *resource,
                *minimum,
                *maximum,
                *scale_by,
                target.as_deref(),
                out,
            ),
            Escalation::ToAll(list) => {
                // Every member runs, each on the state the previous left; the
                // group acted if any member did. (The original folded and
                // could drop earlier changes; the docs promised this.)
                let mut acted = false;
                for m in list {
                    acted |= self.run(m, out);
                }
                acted
            }
            Escalation::ToOne(list) => self.first_that_acts(list, out),
            Escalation::Generic {
                escalation_type,
                parameters,
            } => {
                let Some(h) = self.handlers.get(escalation_type.as_str()) else {
                    out.push(Output::Unsupported(Unsupported {
                        timestamp_ms: self.timestamp_ms,
                        cluster: self.cluster.to_owned(),
                        escalation_type: escalation_type.clone(),
                    }));
                    return false;
                };
                let req = HandlerRequest {
                    timestamp_ms: self.timestamp_ms,
                    cluster: self.cluster,
                    direction: self.direction,
                    escalation_type,
                    parameters,
                };
                match h.act(&req) {
                    Some(detail) => {
                        out.push(Output::Custom(CustomAction {
                            timestamp_ms: self.timestamp_ms,
                            cluster: self.cluster.to_owned(),
                            escalation_type: escalation_type.clone(),
                            direction: self.direction,
                            detail,
                        }));
                        true
                    }
                    None => false,
                }
            }
            Escalation::Reference(r) => {
                out.push(Output::Unsupported(Unsupported {
                    timestamp_ms: self.timestamp_ms,
                    cluster: self.cluster.to_owned(),
                    escalation_type: format!("reference:{}", r.name),
                }));
                false
            }
        }
    }

    /// The first member that acts wins: from the head on Escalate, from the
    /// tail on DeEscalate. The notices of members that could not act are
    /// reported only when no member acted.
    pub(crate) fn first_that_acts(&mut self, list: &[Escalation], out: &mut Vec<Output>) -> bool {
        let mut failed = Vec::new();
        let mut attempt = |this: &mut Self, m: &Escalation| {
            let mut tmp = Vec::new();
            if this.run(m, &mut tmp) {
                out.extend(tmp);
                true
            } else {
                failed.extend(tmp);
                false
            }
        };
        let acted = match self.direction {
            Direction::Escalate => list.iter().any(|m| attempt(self, m)),
            Direction::DeEscalate => list.iter().rev().any(|m| attempt(self, m)),
        };
        if !acted {
            out.extend(failed);
        }
        acted
    }

    fn scale(
        &mut self,
        resource: ScaleResource,
        minimum: f64,
        maximum: f64,
        scale_by: f64,
        target: Option<&str>,
        out: &mut Vec<Output>,
    ) -> bool {
        let cluster = target.unwrap_or(self.cluster);
        let mut cannot = |service: Option<String>, reason| {
            out.push(Output::CannotScale(CannotScale {
                timestamp_ms: self.timestamp_ms,
                cluster: cluster.to_owned(),
                service,
                resource,
                direction: self.direction,
                reason,
            }));
            false
        };
        let Some(&idx) = self.index.get(cluster) else {
            return cannot(None, CannotScaleReason::UnknownCluster);
        };
        let Some((service, scale)) = &mut self.scales[idx].first else {
            return cannot(None, CannotScaleReason::NoService);
        };
        let Some(scale) = scale else {
            return cannot(Some(service.clone()), CannotScaleReason::UnknownScale);
        };
        if !(scale_by.is_finite() && scale_by > 0.0) {
            return cannot(Some(service.clone()), CannotScaleReason::InvalidStep);
        }
        let current = get(scale, resource);
        let next = step(current, scale_by, self.direction);
        // No clamping: a step that would leave the range is not taken.
        if !(minimum <= next && next <= maximum) {
            let reason = CannotScaleReason::Limit {
                current,
                minimum,
                maximum,
            };
            return cannot(Some(service.clone()), reason);
        }
        set(scale, resource, next);
        let action = ScaleAction {
            timestamp_ms: self.timestamp_ms,
            cluster: cluster.to_owned(),
            service: service.clone(),
            resource,
            from: current,
            to: get(scale, resource),
        };
        out.push(Output::Scale(action));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale_esc(
        resource: ScaleResource,
        min: f64,
        max: f64,
        by: f64,
        target: Option<&str>,
    ) -> Escalation {
        Escalation::Scale {
            resource,
            minimum: min,
            maximum: max,
            scale_by: by,
            target: target.map(str::to_owned),
            span: None,
        }
    }

    fn state() -> (Vec<ClusterScale>, HashMap<String, usize>) {
        let scales = vec![
            ClusterScale {
                name: "web".into(),
                first: Some((
                    "web:1".into(),
                    Some(Scale {
                        cpu: 0.5,
                        memory: 512.0,
                        instances: 2,
                    }),
                )),
            },
            ClusterScale {
                name: "empty".into(),
                first: None,
            },
        ];
        let index = scales
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        (scales, index)
    }

    #[test]
    fn cpu_steps_stay_round() {
        let (mut scales, index) = state();
        let handlers = HashMap::new();
        let mut out = Vec::new();
        let e = scale_esc(ScaleResource::Cpu, 0.1, 0.8, 0.1, None);
        for _ in 0..5 {
            let mut run = Run {
                timestamp_ms: 0,
                cluster: "web",
                direction: Direction::Escalate,
                scales: &mut scales,
                index: &index,
                handlers: &handlers,
            };
            run.run(&e, &mut out);
        }
        let tos: Vec<f64> = out
            .iter()
            .filter_map(|o| match o {
                Output::Scale(a) => Some(a.to),
                _ => None,
            })
            .collect();
        assert_eq!(tos, vec![0.6, 0.7, 0.8]);
        assert!(
            matches!(out.last(), Some(Output::CannotScale(c)) if matches!(c.reason, CannotScaleReason::Limit { current, .. } if current == 0.8))
        );
    }

    #[test]
    fn reasons() {
        let (mut scales, index) = state();
        let mut handlers: HashMap<String, Arc<dyn EscalationHandler>> = HashMap::new();
        handlers.insert("notify".into(), Arc::new(Notify));
        let mut out = Vec::new();
        let mut run = Run {
            timestamp_ms: 5,
            cluster: "web",
            direction: Direction::Escalate,
            scales: &mut scales,
            index: &index,
            handlers: &handlers,
        };
        assert!(!run.run(
            &scale_esc(ScaleResource::Instances, 1.0, 5.0, 1.0, Some("nowhere")),
            &mut out
        ));
        assert!(!run.run(
            &scale_esc(ScaleResource::Instances, 1.0, 5.0, 1.0, Some("empty")),
            &mut out
        ));
        assert!(!run.run(
            &scale_esc(ScaleResource::Instances, 1.0, 5.0, 0.0, None),
            &mut out
        ));
        let generic = |t: &str| Escalation::Generic {
            escalation_type: t.into(),
            parameters: Default::default(),
        };
        assert!(!run.run(&generic("page"), &mut out));
        assert!(run.run(&generic("notify"), &mut out));
        let kinds: Vec<String> = out
            .iter()
            .map(|o| match o {
                Output::CannotScale(c) => format!("{:?}", c.reason),
                Output::Unsupported(u) => u.escalation_type.clone(),
                Output::Custom(c) => c.escalation_type.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "UnknownCluster",
                "NoService",
                "InvalidStep",
                "page",
                "notify"
            ]
        );
    }
}
