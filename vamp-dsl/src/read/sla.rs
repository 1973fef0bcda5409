//! SLAs and escalations.

use vamp_model::units::{parse_cpu, parse_duration, parse_memory};
use vamp_model::{Escalation, Map, ScaleResource, Sla, Threshold, Window};

use super::breed::{reference_of, string_reference, unit};
use super::ctx::{index, join, required, text, Ctx, Fields};
use crate::yaml::{Node, NodeValue};

const DOC_KEYS: [&str; 5] = ["name", "kind", "metadata", "lookup_name", "escalations"];

/// An SLA inside a cluster: a reference (string or `reference:` with
/// optional escalations) or inline.
pub(crate) fn read_sla(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Sla> {
    if let Some(r) = node
        .as_str()
        .and_then(|_| string_reference(ctx, node, path))
    {
        return Some(Sla::Reference {
            reference: r,
            escalations: Vec::new(),
        });
    }
    let mut f = Fields::of(ctx, node, path, "an SLA or `reference: NAME`")?;
    if let Some(r) = reference_of(ctx, node, path) {
        f.ignore(&["reference", "ref"]);
        let escalations = read_escalation_list(ctx, &mut f);
        f.finish(ctx);
        return Some(Sla::Reference {
            reference: r?,
            escalations,
        });
    }
    let sla = read_sla_fields(ctx, &mut f);
    f.finish(ctx);
    sla
}

/// The fields of an SLA (document or inline): `type` selects the form.
pub(crate) fn read_sla_fields(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<Sla> {
    let ty_node = required(ctx, f, "type")?;
    let ty = text(ctx, ty_node, &join(&f.path, "type"))?;
    let path = f.path.clone();
    match ty.as_str() {
        "response_time_sliding_window" => {
            let threshold = required(ctx, f, "threshold").and_then(|n| {
                let p = join(&path, "threshold");
                let mut t = Fields::inner(ctx, n, &p)?;
                let upper =
                    required(ctx, &mut t, "upper").and_then(|n| millis(ctx, n, &join(&p, "upper")));
                let lower =
                    required(ctx, &mut t, "lower").and_then(|n| millis(ctx, n, &join(&p, "lower")));
                t.finish(ctx);
                Some(Threshold {
                    upper: upper?,
                    lower: lower?,
                })
            });
            let window = required(ctx, f, "window").and_then(|n| {
                let p = join(&path, "window");
                let mut w = Fields::inner(ctx, n, &p)?;
                let interval = required(ctx, &mut w, "interval")
                    .and_then(|n| seconds(ctx, n, &join(&p, "interval")));
                let cooldown = required(ctx, &mut w, "cooldown")
                    .and_then(|n| seconds(ctx, n, &join(&p, "cooldown")));
                w.finish(ctx);
                Some(Window {
                    interval: interval?,
                    cooldown: cooldown?,
                })
            });
            let escalations = read_escalation_list(ctx, f);
            Some(Sla::ResponseTimeSlidingWindow {
                threshold: threshold?,
                window: window?,
                escalations,
            })
        }
        "escalation_only" => Some(Sla::EscalationOnly {
            escalations: read_escalation_list(ctx, f),
        }),
        _ => {
            let escalations = read_escalation_list(ctx, f);
            Some(Sla::Generic {
                sla_type: ty,
                parameters: parameters(f),
                escalations,
            })
        }
    }
}

fn millis(ctx: &mut Ctx, node: &Node, path: &str) -> Option<u64> {
    let t = text(ctx, node, path)?;
    match t.trim().parse::<u64>() {
        Ok(v) => Some(v),
        Err(_) => ctx.bad_value(
            node.span,
            path,
            format!("`{path}` is a number of milliseconds, not `{t}`"),
        ),
    }
}

fn seconds(ctx: &mut Ctx, node: &Node, path: &str) -> Option<u64> {
    let t = text(ctx, node, path)?;
    unit(ctx, parse_duration(&t), node.span, path)
}

/// `escalations:`: one or a list; two or more are wrapped in one `to_all`.
fn read_escalation_list(ctx: &mut Ctx, f: &mut Fields<'_>) -> Vec<Escalation> {
    let Some(node) = f.get_some("escalations") else {
        return Vec::new();
    };
    let mut list = read_escalations(ctx, node, &join(&f.path, "escalations"));
    if list.len() > 1 {
        list = vec![Escalation::ToAll(list)];
    }
    list
}

fn read_escalations(ctx: &mut Ctx, node: &Node, path: &str) -> Vec<Escalation> {
    match &node.value {
        NodeValue::Seq(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, n)| read_escalation(ctx, n, &index(path, i)))
            .collect(),
        _ => read_escalation(ctx, node, path).into_iter().collect(),
    }
}

/// One escalation: a reference, a group (`to_all`/`to_one`, also in the
/// one-key form), a scale escalation or a generic one.
pub(crate) fn read_escalation(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Escalation> {
    if node.as_str().is_some() && !node.is_null() {
        return string_reference(ctx, node, path).map(Escalation::Reference);
    }
    let mut f = Fields::of(ctx, node, path, "an escalation")?;
    if let Some(r) = reference_of(ctx, node, path) {
        f.ignore(&["reference", "ref"]);
        f.finish(ctx);
        return r.map(Escalation::Reference);
    }
    let e = read_escalation_fields(ctx, &mut f);
    f.finish(ctx);
    e
}

pub(crate) fn read_escalation_fields(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<Escalation> {
    let path = f.path.clone();
    // one-key group form: {to_one: [...]} / {to_all: {escalations: [...]}}
    for group in ["to_all", "to_one"] {
        if f.has(group) && !f.has("type") {
            let n = f.get(if group == "to_all" {
                "to_all"
            } else {
                "to_one"
            })?;
            let p = join(&path, group);
            let inner = match n.get("escalations") {
                Some(e) if n.as_map().is_some() => e,
                _ => n,
            };
            let list = read_escalations(ctx, inner, &p);
            return Some(if group == "to_all" {
                Escalation::ToAll(list)
            } else {
                Escalation::ToOne(list)
            });
        }
    }
    let ty_node = required(ctx, f, "type")?;
    let ty = text(ctx, ty_node, &join(&path, "type"))?;
    let resource = match ty.as_str() {
        "scale_instances" => Some(ScaleResource::Instances),
        "scale_cpu" => Some(ScaleResource::Cpu),
        "scale_memory" => Some(ScaleResource::Memory),
        _ => None,
    };
    if let Some(resource) = resource {
        let num = |ctx: &mut Ctx, f: &mut Fields<'_>, key: &'static str| -> Option<f64> {
            let n = required(ctx, f, key)?;
            let p = join(&path, key);
            let t = text(ctx, n, &p)?;
            match resource {
                ScaleResource::Instances => match t.trim().parse::<u32>() {
                    Ok(v) => Some(f64::from(v)),
                    Err(_) => ctx.bad_value(
                        n.span,
                        &p,
                        format!("`{key}` must be a whole number of instances, not `{t}`"),
                    ),
                },
                ScaleResource::Cpu => unit(ctx, parse_cpu(&t), n.span, &p),
                ScaleResource::Memory => {
                    let r = t
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0);
                    match r {
                        Some(v) => Some(v),
                        None => unit(ctx, parse_memory(&t), n.span, &p),
                    }
                }
            }
        };
        let minimum = num(ctx, f, "minimum");
        let maximum = num(ctx, f, "maximum");
        let scale_by = num(ctx, f, "scale_by");
        let target = match f.get_some("target") {
            Some(n) => Some(text(ctx, n, &join(&path, "target"))?),
            None => None,
        };
        f.ignore(&DOC_KEYS);
        return Some(Escalation::Scale {
            resource,
            minimum: minimum?,
            maximum: maximum?,
            scale_by: scale_by?,
            target,
            span: Some(f.span()),
        });
    }
    if ty == "to_all" || ty == "to_one" {
        let list = f
            .get_some("escalations")
            .map(|n| read_escalations(ctx, n, &join(&path, "escalations")))
            .unwrap_or_default();
        return Some(if ty == "to_all" {
            Escalation::ToAll(list)
        } else {
            Escalation::ToOne(list)
        });
    }
    Some(Escalation::Generic {
        escalation_type: ty,
        parameters: parameters(f),
    })
}

/// The keys of a generic SLA or escalation that are not the document's
/// own: its parameters, as JSON.
fn parameters(f: &mut Fields<'_>) -> Map<serde_json::Value> {
    f.ignore(&DOC_KEYS);
    f.rest()
        .into_iter()
        .map(|e| (e.key.clone(), e.value.to_json()))
        .collect()
}
