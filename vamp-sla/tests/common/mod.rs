//! Hand-built blueprints and sample streams for the integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use vamp_model::{
    Blueprint, Breed, Cluster, Deployable, Escalation, OrRef, Scale, ScaleResource, Service, Sla,
    Threshold, Window,
};
use vamp_sla::{Engine, EngineOptions, Output, Registry};

pub fn service(name: &str, scale: Option<Scale>) -> Service {
    Service {
        scale: scale.map(OrRef::Inline),
        ..Service::new(OrRef::Inline(Breed {
            name: name.into(),
            deployable: Deployable::untyped(name),
            ..Breed::default()
        }))
    }
}

pub fn cluster(services: Vec<Service>, sla: Option<Sla>) -> Cluster {
    Cluster {
        services,
        sla,
        ..Cluster::default()
    }
}

pub fn blueprint(clusters: Vec<(&str, Cluster)>) -> Blueprint {
    Blueprint {
        clusters: clusters
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect(),
        ..Blueprint::default()
    }
}

pub fn sliding(
    upper: u64,
    lower: u64,
    interval: u64,
    cooldown: u64,
    escalations: Vec<Escalation>,
) -> Sla {
    Sla::ResponseTimeSlidingWindow {
        threshold: Threshold { upper, lower },
        window: Window { interval, cooldown },
        escalations,
    }
}

pub fn scale(
    resource: ScaleResource,
    minimum: f64,
    maximum: f64,
    scale_by: f64,
    target: Option<&str>,
) -> Escalation {
    Escalation::Scale {
        resource,
        minimum,
        maximum,
        scale_by,
        target: target.map(str::to_owned),
        span: None,
    }
}

pub fn instances(min: u32, max: u32, by: u32) -> Escalation {
    scale(
        ScaleResource::Instances,
        min.into(),
        max.into(),
        by.into(),
        None,
    )
}

pub const SMALL: Scale = Scale {
    cpu: 1.0,
    memory: 512.0,
    instances: 2,
};

pub fn engine(bp: &Blueprint) -> Engine {
    Engine::from_blueprint(bp, &Registry::with_builtins(), EngineOptions::default()).unwrap()
}

/// A plain-sample line.
pub fn line(seconds: f64, cluster: &str, rt: f64, status: u16) -> String {
    format!(
        r#"{{"timestamp": {seconds}, "cluster": "{cluster}", "response_time": {rt}, "status": {status}}}"#
    )
}

/// Feeds `(seconds, cluster, response time, status)` samples and finishes.
pub fn replay(
    engine: &mut Engine,
    samples: impl IntoIterator<Item = (f64, String, f64, u16)>,
) -> Vec<Output> {
    let mut out = Vec::new();
    for (t, c, rt, st) in samples {
        engine.ingest_line(line(t, &c, rt, st).as_bytes(), &mut out);
    }
    engine.finish(&mut out);
    out
}

/// A steady stream: one sample every `step` seconds in `[from, to)`.
pub fn steady(
    cluster: &str,
    from: f64,
    to: f64,
    step: f64,
    rt: f64,
) -> Vec<(f64, String, f64, u16)> {
    let n = ((to - from) / step).ceil() as usize;
    (0..n)
        .map(|i| (from + i as f64 * step, cluster.to_string(), rt, 200))
        .filter(|s| s.0 < to)
        .collect()
}

/// A compact text form of outputs: `E@12 sava escalate`,
/// `A@12 sava sava:1.0.0 scale_instances 2->3`, `X@12 sava scale_instances escalate`
/// (cannot scale), `C@12 sava notify`, `U@12 sava page`.
pub fn brief(out: &[Output]) -> Vec<String> {
    out.iter()
        .map(|o| match o {
            Output::Event(e) => {
                format!("E@{} {} {}", e.timestamp_ms / 1000, e.cluster, e.direction)
            }
            Output::Scale(a) => format!(
                "A@{} {} {} {} {}->{}",
                a.timestamp_ms / 1000,
                a.cluster,
                a.service,
                a.resource.as_str(),
                a.from,
                a.to
            ),
            Output::CannotScale(c) => format!(
                "X@{} {} {} {}",
                c.timestamp_ms / 1000,
                c.cluster,
                c.resource.as_str(),
                c.direction
            ),
            Output::Custom(c) => format!(
                "C@{} {} {}",
                c.timestamp_ms / 1000,
                c.cluster,
                c.escalation_type
            ),
            Output::Unsupported(u) => format!(
                "U@{} {} {}",
                u.timestamp_ms / 1000,
                u.cluster,
                u.escalation_type
            ),
        })
        .collect()
}

/// The engine's outputs for a blueprint and a stream, in brief form.
pub fn check(bp: &Blueprint, samples: Vec<(f64, String, f64, u16)>, expected: &[&str]) {
    let mut e = engine(bp);
    let out = replay(&mut e, samples);
    assert_eq!(brief(&out), expected);
}
