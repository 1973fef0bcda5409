//! The engine: windows per cluster and service, an evaluation clock driven by
//! the samples' own timestamps, cooldowns and escalations.

use std::collections::HashMap;
use std::sync::Arc;

use vamp_model::{Blueprint, Document, Escalation, Map, OrRef, Scale, Sla, Value};

use crate::escalate::{ClusterScale, EscalationHandler, Notify, Run};
use crate::output::{Event, Origin, Output};
use crate::parse::{decode_backend, parse_value, scan_line, Line, LineError, Record, Scanned};
use crate::sketch;
use crate::sla::{
    Direction, ErrorRate, ResponseTimePercentile, ResponseTimeSlidingWindow, SlaType, WindowView,
};
use crate::window::{second_of, WindowAgg};

/// Builds an SLA type from the parameters of a generic SLA (every key but
/// `type` and `escalations`, as written); the error is a message.
pub type SlaConstructor =
    Box<dyn Fn(&Map<Value>) -> Result<Box<dyn SlaType>, String> + Send + Sync>;

/// The SLA types and escalation handlers known by name.
///
/// ```
/// use vamp_sla::{Registry, Notify};
/// let mut registry = Registry::with_builtins();
/// registry.register_handler("page", Notify); // any EscalationHandler
/// assert!(registry.knows_sla("response_time_percentile"));
/// ```
pub struct Registry {
    slas: HashMap<String, SlaConstructor>,
    handlers: HashMap<String, Arc<dyn EscalationHandler>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut slas: Vec<_> = self.slas.keys().collect();
        slas.sort();
        let mut handlers: Vec<_> = self.handlers.keys().collect();
        handlers.sort();
        f.debug_struct("Registry")
            .field("slas", &slas)
            .field("handlers", &handlers)
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::with_builtins()
    }
}

impl Registry {
    /// No generic SLA type and no handler (`response_time_sliding_window`
    /// and `escalation_only` are part of the model and always known).
    pub fn empty() -> Self {
        Registry {
            slas: HashMap::new(),
            handlers: HashMap::new(),
        }
    }

    /// `response_time_percentile`, `error_rate` and the `notify` handler.
    pub fn with_builtins() -> Self {
        let mut r = Registry::empty();
        r.register_sla("response_time_percentile", |p| {
            Ok(Box::new(ResponseTimePercentile::from_parameters(p)?) as Box<dyn SlaType>)
        });
        r.register_sla("error_rate", |p| {
            Ok(Box::new(ErrorRate::from_parameters(p)?) as Box<dyn SlaType>)
        });
        r.register_handler("notify", Notify);
        r
    }

    /// Registers (or replaces) the constructor of an SLA `type:`.
    pub fn register_sla<F>(&mut self, type_name: impl Into<String>, constructor: F)
    where
        F: Fn(&Map<Value>) -> Result<Box<dyn SlaType>, String> + Send + Sync + 'static,
    {
        self.slas.insert(type_name.into(), Box::new(constructor));
    }

    /// Registers (or replaces) the handler of a generic escalation `type:`.
    pub fn register_handler(
        &mut self,
        type_name: impl Into<String>,
        handler: impl EscalationHandler + 'static,
    ) {
        self.handlers.insert(type_name.into(), Arc::new(handler));
    }

    /// Whether a generic SLA type has a constructor.
    pub fn knows_sla(&self, type_name: &str) -> bool {
        self.slas.contains_key(type_name)
    }
}

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
    /// HTTP status, 0 when unknown; 500–599 count as errors.
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

    fn period_ms(&self) -> u64 {
        self.options.period_seconds.saturating_mul(1000)
    }

    /// The first evaluation time at or after `ms`.
    fn align_up(&self, ms: u64) -> u64 {
        ms.div_ceil(self.period_ms())
            .saturating_mul(self.period_ms())
    }

    /// Runs every evaluation due strictly before `ms`.
    fn run_ticks_before(&mut self, ms: u64, out: &mut Vec<Output>) {
        let Some(mut tick) = self.next_tick_ms else {
            self.next_tick_ms = Some(self.align_up(ms));
            return;
        };
        let period = self.period_ms();
        while tick < ms {
            self.tick(tick, out);
            let mut next = tick.saturating_add(period);
            if next < ms {
                // Skip ahead over evaluations that cannot change anything.
                next = next.max(self.next_interesting(tick).min(self.align_up(ms)));
            }
            tick = next;
        }
        self.next_tick_ms = Some(tick);
    }

    /// When every window is empty, the earliest time an evaluation could
    /// give an event (a check may fire on an empty window, but not during its
    /// cooldown); `u64::MAX` when none could. Otherwise the next tick.
    fn next_interesting(&self, tick: u64) -> u64 {
        let period = self.period_ms();
        let mut next = u64::MAX;
        for c in &self.clusters {
            let Some(sla) = &c.sla else { continue };
            if c.window.totals().count > 0 {
                // Samples will leave the window: evaluate every tick until then.
                return tick.saturating_add(period);
            }
            let view = WindowView {
                now_ms: tick,
                cluster: &c.window,
                services: &c.services,
            };
            if sla.check(&view).is_some() {
                let after_quiet = c.last_event_ms.map_or(0, |e| e.saturating_add(c.quiet_ms));
                next = next.min(self.align_up(after_quiet.max(tick.saturating_add(period))));
            }
        }
        next
    }

    /// One evaluation at `now` (ms, a multiple of the period).
    fn tick(&mut self, now: u64, out: &mut Vec<Output>) {
        let now_sec = now / 1000;
        for i in 0..self.clusters.len() {
            let c = &mut self.clusters[i];
            let Some(sla) = &c.sla else { continue };
            c.window.advance(now_sec);
            for (_, w) in &mut c.services {
                w.advance(now_sec);
            }
            if c.last_event_ms
                .is_some_and(|e| now < e.saturating_add(c.quiet_ms))
            {
                continue;
            }
            let view = WindowView {
                now_ms: now,
                cluster: &c.window,
                services: &c.services,
            };
            if let Some(direction) = sla.check(&view) {
                self.event(i, now, direction, Origin::Sla, out);
            }
        }
    }

    fn event(
        &mut self,
        i: usize,
        now: u64,
        direction: Direction,
        origin: Origin,
        out: &mut Vec<Output>,
    ) {
        let c = &mut self.clusters[i];
        c.last_event_ms = Some(c.last_event_ms.map_or(now, |e| e.max(now)));
        out.push(Output::Event(Event {
            timestamp_ms: now,
            cluster: c.name.clone(),
            direction,
            origin,
        }));
        let mut run = Run {
            timestamp_ms: now,
            cluster: &c.name,
            direction,
            scales: &mut self.scales,
            index: &self.index,
            handlers: &self.handlers,
        };
        run.first_that_acts(&c.escalations, out);
    }

    /// Runs every evaluation due up to and including `now_ms`.
    pub fn advance_to(&mut self, now_ms: u64, out: &mut Vec<Output>) {
        if self.next_tick_ms.is_none() {
            self.next_tick_ms = Some(self.align_up(now_ms));
        }
        self.run_ticks_before(now_ms.saturating_add(1), out);
    }

    /// At the end of a stream: runs the first evaluation at or after the last
    /// sample, so that the last samples are evaluated too.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        if let Some(t) = self.next_tick_ms {
            self.advance_to(t, out);
        }
    }

    /// Posts an Escalate/DeEscalate event for a cluster from outside (as
    /// other systems could in Vamp): the evaluations due before `now_ms` run
    /// first, then the cluster's escalations, and the event starts the
    /// cluster's cooldown like one of its own. `false` for an unknown
    /// cluster.
    pub fn post_event(
        &mut self,
        now_ms: u64,
        cluster: &str,
        direction: Direction,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(&i) = self.index.get(cluster) else {
            return false;
        };
        self.run_ticks_before(now_ms, out);
        self.event(i, now_ms, direction, Origin::Posted, out);
        true
    }

    /// Counts one sample; evaluations due before it run first.
    #[inline]
    pub fn ingest(&mut self, sample: &Sample, out: &mut Vec<Output>) {
        if self.next_tick_ms.is_none_or(|t| t < sample.timestamp_ms) {
            self.run_ticks_before(sample.timestamp_ms, out);
        }
        let Some(c) = self.clusters.get_mut(sample.cluster.0) else {
            self.stats.unknown_cluster += 1;
            return;
        };
        if c.sla.is_none() {
            // Not monitored: nothing to keep.
            self.stats.samples += 1;
            return;
        }
        let second = second_of(sample.timestamp_ms);
        let rt_us = (sample.response_time_ms * 1000.0).round() as u64;
        let error = (500..600).contains(&sample.status);
        let bucket = sketch::bucket((rt_us / 1000).min(u64::from(u32::MAX)) as u32);
        if !c.window.add(second, rt_us, error, bucket) {
            self.stats.late += 1;
            return;
        }
        if let Some((_, w)) = sample.service.and_then(|s| c.services.get_mut(s.0)) {
            w.add(second, rt_us, error, bucket);
        }
        self.stats.samples += 1;
    }

    /// A few clusters are found faster by comparing names than by hashing.
    #[inline]
    fn find_cluster(&self, name: &str) -> Option<usize> {
        if self.clusters.len() <= 8 {
            self.clusters.iter().position(|c| c.name == name)
        } else {
            self.index.get(name).copied()
        }
    }

    /// Counts one record read from a line (cluster and service by name).
    pub fn ingest_record(&mut self, record: &Record<'_>, out: &mut Vec<Output>) {
        let Some(ci) = self.find_cluster(&record.cluster) else {
            self.stats.unknown_cluster += 1;
            return;
        };
        let service = match &record.service {
            None => None,
            Some(name) => {
                let s = self.clusters[ci]
                    .services
                    .iter()
                    .position(|(n, _)| n == name);
                if s.is_none() {
                    self.stats.unknown_service += 1;
                }
                s.map(ServiceId)
            }
        };
        let sample = Sample {
            timestamp_ms: record.timestamp_ms,
            cluster: ClusterId(ci),
            service,
            response_time_ms: record.response_time_ms,
            status: record.status,
        };
        self.ingest(&sample, out);
    }

    /// Reads and counts one log line (HAProxy record or plain sample, see
    /// [`crate::parse`]); malformed lines are counted and skipped.
    pub fn ingest_line(&mut self, line: &[u8], out: &mut Vec<Output>) {
        self.stats.lines += 1;
        let (backend, timestamp_ms, response_time_ms, status) = match scan_line(line) {
            Ok(Scanned::Line(l)) => return self.ingest_parsed(Ok(l), out),
            Err(e) => return self.ingest_parsed(Err(e), out),
            Ok(Scanned::Backend {
                backend,
                timestamp_ms,
                response_time_ms,
                status,
            }) => (backend, timestamp_ms, response_time_ms, status),
        };
        let ids = match self.backends.get(backend.as_ref()) {
            Some(ids) => *ids,
            None => {
                let ids = self.backend_ids(&backend);
                if self.backends.len() < MAX_CACHED_BACKENDS {
                    self.backends.insert(backend.into_owned(), ids);
                }
                ids
            }
        };
        match ids {
            BackendIds::NotRoute => self.stats.not_route += 1,
            BackendIds::UnknownCluster => self.stats.unknown_cluster += 1,
            BackendIds::Known(ci, si) => {
                if si.is_none() {
                    self.stats.unknown_service += 1;
                }
                let sample = Sample {
                    timestamp_ms,
                    cluster: ClusterId(ci),
                    service: si.map(ServiceId),
                    response_time_ms,
                    status,
                };
                self.ingest(&sample, out);
            }
        }
    }

    /// Decodes a backend name into cluster and service ids.
    fn backend_ids(&self, backend: &str) -> BackendIds {
        match decode_backend(std::borrow::Cow::Borrowed(backend), 0, 0.0, 0) {
            Line::Record(r) => match self.find_cluster(&r.cluster) {
                None => BackendIds::UnknownCluster,
                Some(ci) => {
                    let si = r.service.as_ref().and_then(|name| {
                        self.clusters[ci]
                            .services
                            .iter()
                            .position(|(n, _)| n == name)
                    });
                    BackendIds::Known(ci, si)
                }
            },
            Line::NotRoute => BackendIds::NotRoute,
        }
    }

    /// Reads and counts one sample given as a JSON object of the line
    /// formats (see [`crate::parse::parse_value`]), exactly as the same
    /// object written as a line; anything else is counted as malformed.
    ///
    /// ```
    /// # use vamp_sla::{Engine, EngineOptions};
    /// let mut engine = Engine::new(EngineOptions::default());
    /// let mut out = Vec::new();
    /// engine.ingest_value(&serde_json::json!({"timestamp": 1, "cluster": "web",
    ///     "response_time": 12, "status": 200}), &mut out);
    /// engine.ingest_value(&serde_json::json!("not an object"), &mut out);
    /// let s = engine.stats();
    /// assert_eq!((s.lines, s.unknown_cluster, s.malformed), (2, 1, 1));
    /// ```
    pub fn ingest_value(&mut self, value: &serde_json::Value, out: &mut Vec<Output>) {
        self.stats.lines += 1;
        let parsed = parse_value(value);
        self.ingest_parsed(parsed, out);
    }

    /// Reads and counts a chunk of log text: one line per `\n` (trailing
    /// `\r`s are dropped), blank lines skipped and not counted, every other
    /// line as [`Engine::ingest_line`]. This is how `vamp sla evaluate`
    /// reads its log.
    ///
    /// ```
    /// # use vamp_sla::{Engine, EngineOptions};
    /// let mut engine = Engine::new(EngineOptions::default());
    /// let mut out = Vec::new();
    /// engine.ingest_text(b"garbage\r\n\n  \n{\"timestamp\": 1, \"cluster\": \"web\", \"response_time\": 1, \"status\": 200}",
    ///                    &mut out);
    /// let s = engine.stats();
    /// assert_eq!((s.lines, s.malformed, s.unknown_cluster), (2, 1, 1));
    /// ```
    pub fn ingest_text(&mut self, text: &[u8], out: &mut Vec<Output>) {
        for line in text.split(|&b| b == b'\n') {
            let end = line.iter().rposition(|&b| b != b'\r').map_or(0, |i| i + 1);
            let line = &line[..end];
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.ingest_line(line, out);
        }
    }

    #[inline]
    fn ingest_parsed(&mut self, parsed: Result<Line<'_>, LineError>, out: &mut Vec<Output>) {
        match parsed {
            Ok(Line::Record(r)) => self.ingest_record(&r, out),
            Ok(Line::NotRoute) => self.stats.not_route += 1,
            Err(_) => self.stats.malformed += 1,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use vamp_model::{Threshold, Window};

    fn engine(interval: u64, cooldown: u64) -> Engine {
        let mut e = Engine::new(EngineOptions::default());
        e.add_cluster(
            "web",
            ClusterSpec {
                sla: Some(Box::new(ResponseTimeSlidingWindow {
                    threshold: Threshold {
                        upper: 100,
                        lower: 10,
                    },
                    window: Window { interval, cooldown },
                })),
                escalations: vec![],
                services: vec!["a".into(), "b".into()],
                scale: Some(Scale::DEFAULT),
            },
        )
        .unwrap();
        e
    }

    fn sample(e: &Engine, ms: u64, rt: f64, service: Option<&str>) -> Sample {
        let c = e.cluster_id("web").unwrap();
        Sample {
            timestamp_ms: ms,
            cluster: c,
            service: service.and_then(|s| e.service_id(c, s)),
            response_time_ms: rt,
            status: 200,
        }
    }

    #[test]
    fn window_is_right_closed() {
        let mut e = engine(2, 100);
        let mut out = Vec::new();
        // t = 1.0 s belongs to the evaluation at 1 s; 1.001 s to the one at 2 s.
        let s = sample(&e, 1000, 500.0, Some("a"));
        e.ingest(&s, &mut out);
        let s = sample(&e, 1001, 5.0, Some("b"));
        e.ingest(&s, &mut out);
        assert_eq!(
            out.len(),
            1,
            "the evaluation at 1 s ran when 1.001 s arrived"
        );
        assert!(
            matches!(&out[0], Output::Event(ev) if ev.timestamp_ms == 1000 && ev.direction == Direction::Escalate)
        );
        let v = e.view(ClusterId(0)).unwrap();
        assert_eq!(v.count(), 2);
        assert_eq!(v.service("a").unwrap().mean_ms, Some(500.0));
        assert_eq!(v.services().count(), 2);
    }

    #[test]
    fn gaps_are_skipped_cheaply() {
        let mut e = engine(10, 0);
        let mut out = Vec::new();
        let s = sample(&e, 0, 50.0, None);
        e.ingest(&s, &mut out);
        // a sample a century later: must not loop over 3e9 ticks
        let s = sample(&e, 3_000_000_000_000, 50.0, None);
        e.ingest(&s, &mut out);
        assert!(out.is_empty());
        assert_eq!(e.stats().samples, 2);
    }

    #[test]
    fn late_samples_are_counted_as_late() {
        let mut e = engine(5, 0);
        let mut out = Vec::new();
        for ms in [100_000, 90_000, 97_000] {
            let s = sample(&e, ms, 50.0, None);
            e.ingest(&s, &mut out);
        }
        assert_eq!(e.stats().late, 1);
        assert_eq!(e.stats().samples, 2);
    }

    #[test]
    fn unknown_names() {
        let mut e = engine(5, 0);
        let mut out = Vec::new();
        e.ingest_line(
            br#"{"timestamp":1,"cluster":"nope","response_time":1,"status":200}"#,
            &mut out,
        );
        e.ingest_line(
            br#"{"timestamp":1,"cluster":"web","service":"zz","response_time":1,"status":200}"#,
            &mut out,
        );
        e.ingest_line(b"garbage", &mut out);
        let s = e.stats();
        assert_eq!(
            (
                s.lines,
                s.unknown_cluster,
                s.unknown_service,
                s.malformed,
                s.samples
            ),
            (3, 1, 1, 1, 1)
        );
        assert!(e
            .add_cluster(
                "web",
                ClusterSpec {
                    sla: None,
                    escalations: vec![],
                    services: vec![],
                    scale: None
                }
            )
            .is_err());
    }
}
