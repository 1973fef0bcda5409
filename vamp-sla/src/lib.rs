//! Pure SLA evaluation and escalations for Vamp.
//!
//! Vamp's feedback loop: measure each cluster from its gateway traffic,
//! compare it with the cluster's SLA and escalate (scale up) or de-escalate
//! (scale down). This crate is the decision part of that loop and nothing
//! else: no IO, no clock, no environment, no async. Time comes in with the
//! samples (unix milliseconds), decisions go out as values ([`Output`]):
//! events and concrete scale actions `{cluster, service, resource, from, to}`
//! that a driver can apply.
//!
//! - [`parse`] reads HAProxy JSON access-log lines and plain samples, one
//!   JSON object a line, without copying.
//! - [`Engine`] keeps, per cluster and per service, a sliding window of one
//!   slot per second (O(1) per sample, memory bounded by the window length),
//!   evaluates each cluster's [`SlaType`] every period outside its cooldown,
//!   and runs the escalations of every event.
//! - SLA types: `response_time_sliding_window` (the original's average),
//!   `response_time_percentile` (p95/p99 from a fixed-size log histogram,
//!   [`sketch`]) and `error_rate` (share of 5xx); your own through
//!   [`SlaType`] and [`Registry::register_sla`].
//! - Escalations: `scale_instances` / `scale_cpu` / `scale_memory` (never
//!   leave `[minimum, maximum]`; otherwise a [`CannotScale`] notice), `to_all`,
//!   `to_one` (Escalate from the head, DeEscalate from the tail), and generic
//!   types through [`EscalationHandler`] (built in: [`Notify`]).
//!
//! ```
//! use vamp_sla::{Engine, EngineOptions, Output, Registry};
//! # fn blueprint() -> vamp_model::Blueprint {
//! #     use vamp_model::*;
//! #     let breed = Breed { name: "sava:1.0.0".into(), metadata: Map::new(),
//! #         deployable: Deployable { deployable_type: None, definition: "sava".into() },
//! #         ports: Map::new(), environment_variables: Map::new(), constants: Map::new(),
//! #         arguments: vec![], dependencies: Map::new(), health_checks: None, span: None };
//! #     let service = Service { breed: OrRef::Inline(breed), environment_variables: Map::new(),
//! #         scale: Some(OrRef::Inline(Scale { cpu: 0.5, memory: 512.0, instances: 2 })),
//! #         arguments: vec![], health_checks: None, network: None, dialects: Map::new(), span: None };
//! #     let sla = Sla::ResponseTimeSlidingWindow {
//! #         threshold: Threshold { upper: 1000, lower: 100 },
//! #         window: Window { interval: 60, cooldown: 120 },
//! #         escalations: vec![Escalation::Scale { resource: ScaleResource::Instances,
//! #             minimum: 1.0, maximum: 5.0, scale_by: 1.0, target: None, span: None }] };
//! #     let cluster = Cluster { metadata: Map::new(), services: vec![service], gateways: Map::new(),
//! #         health_checks: None, network: None, sla: Some(sla), dialects: Map::new(), span: None };
//! #     let mut clusters = Map::new();
//! #     clusters.insert("sava".to_string(), cluster);
//! #     Blueprint { gateways: Map::new(), clusters, environment_variables: Map::new(), dialects: Map::new() }
//! # }
//! // A blueprint whose cluster `sava` has a response_time_sliding_window SLA
//! // (upper 1000 ms, interval 60 s) and a scale_instances escalation.
//! let mut engine = Engine::from_blueprint(&blueprint(), &Registry::with_builtins(),
//!                                         EngineOptions::default()).unwrap();
//! let mut out = Vec::new();
//! for second in 0..30 {
//!     let line = format!(r#"{{"timestamp": {second}, "cluster": "sava", "response_time": 1800, "status": 200}}"#);
//!     engine.ingest_line(line.as_bytes(), &mut out);
//! }
//! engine.finish(&mut out);
//! let actions: Vec<_> = out.iter().filter_map(|o| match o {
//!     Output::Scale(a) => Some((a.cluster.as_str(), a.service.as_str(), a.from, a.to)),
//!     _ => None,
//! }).collect();
//! assert_eq!(actions, [("sava", "sava:1.0.0", 2.0, 3.0)]);
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod engine;
mod escalate;
pub mod judge;
mod output;
pub mod parse;
pub mod sketch;
pub mod sla;
pub mod time;
mod window;

pub use engine::{
    ClusterId, ClusterSpec, Engine, EngineOptions, IngestStats, Registry, Sample, ServiceId,
    SetupNotice, SlaConstructor, SlaError,
};
pub use escalate::{EscalationHandler, Notify};
pub use output::{
    CannotScale, CannotScaleReason, CustomAction, Event, HandlerRequest, Origin, Output,
    ScaleAction, Unsupported,
};
pub use sla::{Direction, ServiceStats, SlaType, WindowSpec, WindowView};
