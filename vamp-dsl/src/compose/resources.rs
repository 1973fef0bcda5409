//! Scale: `deploy.replicas`/`scale`, cpu and memory limits (Docker's binary
//! memory units).

use vamp_model::units::parse_cpu;
use vamp_model::Code;

use super::interpolate::{interpolate, Mode};
use super::{map_of, scalar_text, some_map_of, Cx};
use crate::read::ctx::join;
use crate::yaml::Node;

pub(super) fn read_cpu(cx: &mut Cx, node: &Node, path: &str) -> Option<f64> {
    let text = scalar_text(cx, node, path)?;
    let text = interpolate(cx, text, node.span, path, Mode::Fixed)?;
    match parse_cpu(&text) {
        Ok(c) => Some(c),
        Err(_) => {
            cx.error(
                Code::UnexpectedType,
                node.span,
                path,
                format!("`{text}` is not a number of cpus: write e.g. `0.5`"),
            );
            None
        }
    }
}

/// Docker's memory units (binary, a bare number is bytes) in megabytes.
pub(super) fn compose_memory_mb(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let mb = n * factor / 1_000_000.0;
    (mb.is_finite() && mb >= 0.0).then_some(mb)
}

pub(super) fn read_memory(cx: &mut Cx, node: &Node, path: &str) -> Option<f64> {
    let text = scalar_text(cx, node, path)?;
    let text = interpolate(cx, text, node.span, path, Mode::Fixed)?;
    match compose_memory_mb(&text) {
        Some(m) => Some(m),
        None => {
            cx.error(
                Code::UnexpectedType,
                node.span,
                path,
                format!("`{text}` is not a memory size: write e.g. `512m` or `1g` (a bare number is bytes)"),
            );
            None
        }
    }
}

pub(super) fn read_count(cx: &mut Cx, node: &Node, path: &str) -> Option<u32> {
    let text = scalar_text(cx, node, path)?;
    let text = interpolate(cx, text, node.span, path, Mode::Fixed)?;
    match text.trim().parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            cx.error(
                Code::UnexpectedType,
                node.span,
                path,
                format!("`{text}` is not a number of instances: write a whole number"),
            );
            None
        }
    }
}

pub(super) fn read_deploy(cx: &mut Cx, node: &Node, path: &str, res: &mut Resources) {
    let Some(fields) = some_map_of(cx, node, path, "a map of deploy settings") else {
        return;
    };
    for e in fields {
        let p = join(path, &e.key);
        match e.key.as_str() {
            "replicas" => {
                if let Some(n) = read_count(cx, &e.value, &p) {
                    res.instances = Some(n);
                }
            }
            "resources" => read_resources(cx, &e.value, &p, res),
            "mode" if e.value.as_str() == Some("replicated") => {}
            k if k.starts_with("x-") => {}
            _ => cx.not_imported(e.key_span, &p, None),
        }
    }
}

fn read_resources(cx: &mut Cx, node: &Node, path: &str, res: &mut Resources) {
    let Some(fields) = some_map_of(cx, node, path, "a map with `limits`") else {
        return;
    };
    for e in fields {
        let p = join(path, &e.key);
        match e.key.as_str() {
            "limits" if !e.value.is_null() => {
                let Some(limits) = map_of(cx, &e.value, &p, "a map with `cpus` and `memory`")
                else {
                    continue;
                };
                for l in limits {
                    let lp = join(&p, &l.key);
                    match l.key.as_str() {
                        "cpus" => res.cpu = read_cpu(cx, &l.value, &lp).or(res.cpu),
                        "memory" => res.memory = read_memory(cx, &l.value, &lp).or(res.memory),
                        k if k.starts_with("x-") => {}
                        _ => cx.not_imported(l.key_span, &lp, None),
                    }
                }
            }
            "limits" => {}
            "reservations" => cx.not_imported(
                e.key_span,
                &p,
                Some("a Vamp scale is what a service gets: write the amounts under `limits`"),
            ),
            k if k.starts_with("x-") => {}
            _ => cx.not_imported(e.key_span, &p, None),
        }
    }
}

#[derive(Default)]
pub(super) struct Resources {
    pub(super) cpu: Option<f64>,
    pub(super) memory: Option<f64>,
    pub(super) instances: Option<u32>,
}
