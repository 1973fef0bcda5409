//! The engine: windows per cluster and service, an evaluation clock driven by
//! the samples' own timestamps, cooldowns and escalations.

use std::collections::HashMap;
use std::sync::Arc;

use vamp_model::{Blueprint, Document, Escalation, OrRef, Scale, Sla};

use crate::escalate::{ClusterScale, EscalationHandler};
use crate::sla::{ResponseTimeSlidingWindow, SlaType, WindowView};
use crate::window::WindowAgg;

/// Errors building an engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlaError {
    /// A known SLA type with parameters it cannot use.
    #[error("cluster `{cluster}`: SLA `{sla_type}`: {message}")]
    InvalidSla {
        /// The cluster.
        cluster: String,
        /// The SLA type.
        sla_type: String,
        /// What is wrong.
        message: String,
    },
    /// Two clusters with one name.
    #[error("cluster `{0}` is added twice")]
    DuplicateCluster(String),
    /// [`Engine::from_documents`] found no blueprint among the documents.
    #[error("the documents hold no blueprint")]
    NoBlueprint,
}

impl SlaError {
    /// The stable code of the error (from the registry `vamp_model::Code`),
    /// as `vamp sla evaluate` reports it: `invalid_sla`, `duplicate_cluster` or `no_blueprint`.
    ///
    /// ```
    /// assert_eq!(vamp_sla::SlaError::NoBlueprint.code(), "no_blueprint");
    /// ```
    pub fn code(&self) -> vamp_model::Code {
        match self {
            SlaError::InvalidSla { .. } => vamp_model::Code::InvalidSla,
            SlaError::DuplicateCluster(_) => vamp_model::Code::DuplicateCluster,
            SlaError::NoBlueprint => vamp_model::Code::NoBlueprint,
        }
    }
}

/// Something the engine could not monitor, found while it was built. The
/// cluster's escalations still react to posted events.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetupNotice {
    /// The cluster.
    pub cluster: String,
    /// What is not monitored and why.
    pub message: String,
}

/// Engine settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Seconds between SLA evaluations (the original's
    /// `vamp.operation.sla.period`). Evaluations happen at whole multiples of
    /// the period in unix time. At least 1; default 1.
    pub period_seconds: u64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { period_seconds: 1 }
    }
}

/// Index of a cluster in an [`Engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClusterId(pub(crate) usize);

/// Index of a service within its cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceId(pub(crate) usize);

/// One measured request with its cluster and service already looked up
/// (the fastest way in: see [`Engine::cluster_id`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// When, unix milliseconds.
    pub timestamp_ms: u64,
    /// The cluster.
    pub cluster: ClusterId,
    /// The service, when known.
    pub service: Option<ServiceId>,
    /// Response time, ms.
    pub response_time_ms: f64,
    /// HTTP status, 0 when unknown; 500–599 count as errors
    /// ([`crate::judge::is_error`]).
    pub status: u16,
}

/// Counters of what went in. Serializes to an object with one key per
/// counter (snake_case).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestStats {
    /// Lines offered to [`Engine::ingest_line`] (and sample objects to
    /// [`Engine::ingest_value`]); blank lines of [`Engine::ingest_text`] are
    /// not counted.
    pub lines: u64,
    /// Samples counted.
    pub samples: u64,
    /// Lines that could not be read (skipped).
    pub malformed: u64,
    /// Well-formed HAProxy records of hops other than route backends.
    pub not_route: u64,
    /// Records for a cluster not in the engine.
    pub unknown_cluster: u64,
    /// Records for a known cluster naming a service not in it (counted for
    /// the cluster only).
    pub unknown_service: u64,
    /// Samples older than the cluster's window at arrival (not counted).
    pub late: u64,
}

/// What the engine knows about one cluster: built from a blueprint cluster by
/// [`Engine::from_blueprint`] or by hand for [`Engine::add_cluster`].
#[derive(Debug)]
pub struct ClusterSpec {
    /// The check, `None` for no monitoring (`escalation_only`, unknown types).
    pub sla: Option<Box<dyn SlaType>>,
    /// Escalations, run as one `to_one` group over the list.
    pub escalations: Vec<Escalation>,
    /// Service names in order (the first is the one scale escalations change).
    pub services: Vec<String>,
    /// The first service's scale, `None` when it is not known.
    pub scale: Option<Scale>,
}

#[derive(Debug)]
struct ClusterState {
    name: String,
    sla: Option<Box<dyn SlaType>>,
    quiet_ms: u64,
    escalations: Vec<Escalation>,
    window: WindowAgg,
    services: Vec<(String, WindowAgg)>,
    last_event_ms: Option<u64>,
}

/// The SLA engine: feed it samples in (roughly) time order, get events and
/// scale actions back. It never reads a clock: time is the samples' own, or
/// what [`Engine::advance_to`] is told.
///
/// Evaluation: at every whole multiple `T` of the period, for each cluster
/// with a check, outside the cooldown (an event at `E` silences the cluster
/// until `E + interval + cooldown`), the check sees the samples with
/// `T − interval < t ≤ T`; an event runs the cluster's escalations at once.
/// Tick `T` runs when the first sample after `T` arrives (or on
/// [`Engine::advance_to`] / [`Engine::finish`]), so samples must arrive in
/// time order up to the period; older ones still count while inside their
/// window.
///
/// ```
/// use vamp_model::{Escalation, Scale, ScaleResource, Threshold, Window};
/// use vamp_sla::{ClusterSpec, Engine, EngineOptions, Output, sla::ResponseTimeSlidingWindow};
///
/// let mut engine = Engine::new(EngineOptions::default());
/// engine.add_cluster("sava", ClusterSpec {
///     sla: Some(Box::new(ResponseTimeSlidingWindow {
///         threshold: Threshold { upper: 1000, lower: 100 },
///         window: Window { interval: 10, cooldown: 30 },
///     })),
///     escalations: vec![Escalation::Scale {
///         resource: ScaleResource::Instances, minimum: 1.0, maximum: 3.0,
///         scale_by: 1.0, target: None, span: None,
///     }],
///     services: vec!["sava:1.0.0".into()],
///     scale: Some(Scale { cpu: 0.5, memory: 512.0, instances: 1 }),
/// }).unwrap();
///
/// let mut out = Vec::new();
/// for s in 0..10u64 {
///     let line = format!(r#"{{"timestamp": {s}, "cluster": "sava", "response_time": 1500, "status": 200}}"#);
///     engine.ingest_line(line.as_bytes(), &mut out);
/// }
/// engine.finish(&mut out);
/// // the evaluation at 0 s already sees the first sample
/// assert!(matches!(&out[0], Output::Event(e) if e.timestamp_ms == 0));
/// assert!(matches!(&out[1], Output::Scale(a) if a.from == 1.0 && a.to == 2.0));
/// ```
#[derive(Debug)]
pub struct Engine {
    options: EngineOptions,
    clusters: Vec<ClusterState>,
    scales: Vec<ClusterScale>,
    index: HashMap<String, usize>,
    handlers: HashMap<String, Arc<dyn EscalationHandler>>,
    /// The next evaluation time (ms), once time has started.
    next_tick_ms: Option<u64>,
    stats: IngestStats,
    notices: Vec<SetupNotice>,
    /// What each HAProxy backend name seen so far stands for, so a log line
    /// is counted without decoding its backend name again. Bounded; cleared
    /// when clusters change.
    backends: HashMap<String, BackendIds>,
}

/// What an HAProxy backend name stands for.
#[derive(Debug, Clone, Copy)]
enum BackendIds {
    NotRoute,
    UnknownCluster,
    Known(usize, Option<usize>),
}

/// The most backend names [`Engine`] remembers.
const MAX_CACHED_BACKENDS: usize = 4096;

fn service_name(s: &vamp_model::Service) -> String {
    match &s.breed {
        OrRef::Inline(b) => b.name.clone(),
        OrRef::Reference(r) => r.name.clone(),
    }
}

impl Engine {
    /// An engine without clusters and with the built-in handlers.
    pub fn new(options: EngineOptions) -> Self {
        Engine::with_registry(options, &Registry::with_builtins())
    }

    /// An engine without clusters, with the handlers of `registry`.
    pub fn with_registry(options: EngineOptions, registry: &Registry) -> Self {
        Engine {
            options: EngineOptions {
                period_seconds: options.period_seconds.max(1),
            },
            clusters: Vec::new(),
            scales: Vec::new(),
            index: HashMap::new(),
            handlers: registry.handlers.clone(),
            next_tick_ms: None,
            stats: IngestStats::default(),
            notices: Vec::new(),
            backends: HashMap::new(),
        }
    }

    /// An engine for every cluster of a blueprint: its SLA (through the
    /// registry for generic types), its escalations, its services and the
    /// scale of its first service (the default scale when none is written).
    ///
    /// Clusters whose SLA cannot be monitored (a reference, a type the
    /// registry does not know, `escalation_only`) get no check, and the first
    /// two are listed in [`Engine::notices`]. A known type with bad
    /// parameters is an error.
    ///
    /// ```
    /// use vamp_model::{Blueprint, Map};
    /// use vamp_sla::{Engine, EngineOptions, Registry};
    /// let empty = Blueprint { gateways: Map::new(), clusters: Map::new(),
    ///     environment_variables: Map::new(), dialects: Map::new() };
    /// let engine = Engine::from_blueprint(&empty, &Registry::with_builtins(), EngineOptions::default()).unwrap();
    /// assert_eq!(engine.stats().samples, 0);
    /// ```
    pub fn from_blueprint(
        blueprint: &Blueprint,
        registry: &Registry,
        options: EngineOptions,
    ) -> Result<Engine, SlaError> {
        let mut engine = Engine::with_registry(options, registry);
        for (name, cluster) in &blueprint.clusters {
            let mut notice = |message: String| {
                engine.notices.push(SetupNotice {
                    cluster: name.clone(),
                    message,
                })
            };
            let sla: Option<Box<dyn SlaType>> = match &cluster.sla {
                None | Some(Sla::EscalationOnly { .. }) => None,
                Some(Sla::ResponseTimeSlidingWindow {
                    threshold, window, ..
                }) => Some(Box::new(ResponseTimeSlidingWindow {
                    threshold: *threshold,
                    window: *window,
                })),
                Some(Sla::Generic {
                    sla_type,
                    parameters,
                    ..
                }) => match registry.slas.get(sla_type) {
                    Some(make) => {
                        Some(make(parameters).map_err(|message| SlaError::InvalidSla {
                            cluster: name.clone(),
                            sla_type: sla_type.clone(),
                            message,
                        })?)
                    }
                    None => {
                        notice(format!(
                            "SLA type `{sla_type}` is not supported: not monitored"
                        ));
                        None
                    }
                },
                Some(Sla::Reference { reference, .. }) => {
                    notice(format!(
                        "SLA `{}` is a reference to a stored SLA: not monitored",
                        reference.name
                    ));
                    None
                }
            };
            let scale = match cluster.services.first().map(|s| &s.scale) {
                Some(None) => Some(Scale::DEFAULT),
                Some(Some(OrRef::Inline(s))) => Some(s.clone()),
                Some(Some(OrRef::Reference(_))) | None => None,
            };
            let spec = ClusterSpec {
                sla,
                escalations: cluster
                    .sla
                    .as_ref()
                    .map(|s| s.escalations().to_vec())
                    .unwrap_or_default(),
                services: cluster.services.iter().map(service_name).collect(),
                scale,
            };
            engine.add_cluster(name, spec)?;
        }
        Ok(engine)
    }

    /// An engine for the first blueprint among `documents` (as read by
    /// `vamp_dsl` with the blueprint kind: the stream `vamp sla evaluate
    /// --blueprint` reads), see [`Engine::from_blueprint`].
    ///
    /// # Errors
    /// [`SlaError::NoBlueprint`] when there is none, and those of
    /// [`Engine::from_blueprint`].
    ///
    /// ```
    /// use vamp_sla::{Engine, EngineOptions, Registry, SlaError};
    /// let err = Engine::from_documents(&[], &Registry::with_builtins(), EngineOptions::default())
    ///     .unwrap_err();
    /// assert_eq!(err, SlaError::NoBlueprint);
    /// ```
    pub fn from_documents(
        documents: &[Document],
        registry: &Registry,
        options: EngineOptions,
    ) -> Result<Engine, SlaError> {
        let blueprint = documents
            .iter()
            .find_map(|d| match d {
                Document::Blueprint(b) => Some(&b.spec),
                _ => None,
            })
            .ok_or(SlaError::NoBlueprint)?;
        Engine::from_blueprint(blueprint, registry, options)
    }

    /// Adds a cluster.
    pub fn add_cluster(&mut self, name: &str, spec: ClusterSpec) -> Result<ClusterId, SlaError> {
        self.backends.clear();
        if self.index.contains_key(name) {
            return Err(SlaError::DuplicateCluster(name.to_owned()));
        }
        let ws = spec.sla.as_ref().map(|s| s.window());
        let (len, histogram) = ws.map_or((1, false), |w| (w.interval.max(1), w.histogram));
        let services = spec
            .services
            .iter()
            .map(|s| (s.clone(), WindowAgg::new(len, false)))
            .collect();
        let id = self.clusters.len();
        self.clusters.push(ClusterState {
            name: name.to_owned(),
            quiet_ms: ws.map_or(0, |w| {
                w.interval
                    .max(1)
                    .saturating_add(w.cooldown)
                    .saturating_mul(1000)
            }),
            sla: spec.sla,
            escalations: spec.escalations,
            window: WindowAgg::new(len, histogram),
            services,
            last_event_ms: None,
        });
        self.scales.push(ClusterScale {
            name: name.to_owned(),
            first: spec.services.first().map(|s| (s.clone(), spec.scale)),
        });
        self.index.insert(name.to_owned(), id);
        Ok(ClusterId(id))
    }

    /// Sets the current scale of a cluster's first service (for scales the
    /// blueprint only references, or after a driver applied something else).
    /// `false` when the cluster is unknown or has no service.
    pub fn set_scale(&mut self, cluster: &str, scale: Scale) -> bool {
        let Some(&i) = self.index.get(cluster) else {
            return false;
        };
        match &mut self.scales[i].first {
            Some((_, s)) => {
                *s = Some(scale);
                true
            }
            None => false,
        }
    }

    /// The current scale of a cluster's first service, with its name.
    pub fn scale_of(&self, cluster: &str) -> Option<(&str, &Scale)> {
        let i = *self.index.get(cluster)?;
        let (name, scale) = self.scales[i].first.as_ref()?;
        Some((name.as_str(), scale.as_ref()?))
    }

    /// Looks a cluster up by name.
    pub fn cluster_id(&self, name: &str) -> Option<ClusterId> {
        self.index.get(name).map(|&i| ClusterId(i))
    }

    /// Looks a service of a cluster up by name.
    pub fn service_id(&self, cluster: ClusterId, name: &str) -> Option<ServiceId> {
        self.clusters
            .get(cluster.0)?
            .services
            .iter()
            .position(|(n, _)| n == name)
            .map(ServiceId)
    }

    /// What went in so far.
    pub fn stats(&self) -> IngestStats {
        self.stats
    }

    /// What could not be monitored, found while building.
    pub fn notices(&self) -> &[SetupNotice] {
        &self.notices
    }

    /// Approximate heap bytes of all windows: a function of the windows'
    /// lengths and the number of clusters and services, never of traffic.
    pub fn window_bytes(&self) -> usize {
        self.clusters
            .iter()
            .map(|c| {
                c.window.heap_bytes()
                    + c.services
                        .iter()
                        .map(|(_, w)| w.heap_bytes())
                        .sum::<usize>()
            })
            .sum()
    }

    /// The window of a cluster as its check would see it now.
    pub fn view(&self, cluster: ClusterId) -> Option<WindowView<'_>> {
        let c = self.clusters.get(cluster.0)?;
        Some(WindowView {
            now_ms: self.next_tick_ms.unwrap_or(0),
            cluster: &c.window,
            services: &c.services,
        })
    }
}

mod clock;
mod ingest;
mod registry;
#[cfg(test)]
mod tests;

pub use registry::{Registry, SlaConstructor};
