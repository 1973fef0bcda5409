//! SLA types: the [`SlaType`] trait and the built-in checks.
//!
//! An SLA type says which window it needs ([`WindowSpec`]) and, given the
//! statistics of that window ([`WindowView`]), whether to escalate, to
//! de-escalate or to do nothing. The engine owns the clock, the cooldown and
//! the escalations; an SLA type is a pure decision, so a user's own type
//! (registered with [`crate::Registry::register_sla`]) is on equal footing
//! with the built-in ones.

use std::fmt;

use vamp_model::{Map, Threshold, Value, Window};

use crate::sketch;
use crate::window::WindowAgg;

/// What an SLA event asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Scale up: the SLA is violated.
    Escalate,
    /// Scale down: the cluster has room to spare.
    DeEscalate,
}

impl Direction {
    /// `"escalate"` or `"deescalate"`, as in Vamp's event tags.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Escalate => "escalate",
            Direction::DeEscalate => "deescalate",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The window an SLA type looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// Seconds of traffic the check sees (at least 1).
    pub interval: u64,
    /// Seconds without a new event after one (the next event comes at the
    /// earliest `interval + cooldown` seconds after the previous one).
    pub cooldown: u64,
    /// Whether the check needs quantiles (keeps a histogram per second).
    pub histogram: bool,
}

impl WindowSpec {
    /// The window of an SLA written with `window` (an interval of at least
    /// one second).
    pub fn of(window: &Window, histogram: bool) -> Self {
        WindowSpec {
            interval: window.interval.max(1),
            cooldown: window.cooldown,
            histogram,
        }
    }
}

/// Statistics of one service inside a cluster's window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceStats {
    /// Samples in the window.
    pub count: u64,
    /// Average response time in ms, `None` without samples.
    pub mean_ms: Option<f64>,
    /// Share (0–1) of samples with a 5xx status, `None` without samples.
    pub error_rate: Option<f64>,
}

/// A read-only view of a cluster's window at the time of a check.
#[derive(Clone, Copy)]
pub struct WindowView<'a> {
    pub(crate) now_ms: u64,
    pub(crate) cluster: &'a WindowAgg,
    pub(crate) services: &'a [(String, WindowAgg)],
}

impl fmt::Debug for WindowView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowView")
            .field("now_ms", &self.now_ms)
            .field("count", &self.count())
            .field("mean_ms", &self.mean_ms())
            .finish()
    }
}

fn stats_of(w: &WindowAgg) -> ServiceStats {
    let t = w.totals();
    if t.count == 0 {
        return ServiceStats {
            count: 0,
            mean_ms: None,
            error_rate: None,
        };
    }
    ServiceStats {
        count: t.count,
        mean_ms: Some(t.sum_us as f64 / t.count as f64 / 1000.0),
        error_rate: Some(t.errors as f64 / t.count as f64),
    }
}

impl<'a> WindowView<'a> {
    /// The time of the check, unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Samples in the window.
    pub fn count(&self) -> u64 {
        self.cluster.totals().count
    }

    /// Average response time (ms) over the window, `None` when empty.
    pub fn mean_ms(&self) -> Option<f64> {
        stats_of(self.cluster).mean_ms
    }

    /// Share (0–1) of 5xx responses, `None` when empty.
    pub fn error_rate(&self) -> Option<f64> {
        stats_of(self.cluster).error_rate
    }

    /// The `q`-quantile (0 < q ≤ 1) of response times in ms, within about 3%;
    /// `None` when empty or when the SLA type did not ask for a histogram.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let h = self.cluster.histogram()?;
        sketch::quantile(h, self.count(), q)
    }

    /// The whole cluster's statistics.
    pub fn stats(&self) -> ServiceStats {
        stats_of(self.cluster)
    }

    /// One service's statistics (services as named in the blueprint).
    pub fn service(&self, name: &str) -> Option<ServiceStats> {
        self.services
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, w)| stats_of(w))
    }

    /// Every service of the cluster with its statistics, in blueprint order.
    pub fn services(&self) -> impl Iterator<Item = (&'a str, ServiceStats)> + 'a {
        self.services.iter().map(|(n, w)| (n.as_str(), stats_of(w)))
    }
}

/// A kind of SLA: which window it needs and what it concludes from it.
///
/// Implement it for your own SLA type and register a constructor for its
/// `type:` name with [`crate::Registry::register_sla`].
///
/// ```
/// use vamp_sla::{Direction, SlaType, WindowSpec, WindowView};
///
/// /// Escalates when the cluster serves more than `max` requests in a minute.
/// #[derive(Debug)]
/// struct Busy { max: u64 }
///
/// impl SlaType for Busy {
///     fn window(&self) -> WindowSpec {
///         WindowSpec { interval: 60, cooldown: 60, histogram: false }
///     }
///     fn check(&self, w: &WindowView<'_>) -> Option<Direction> {
///         (w.count() > self.max).then_some(Direction::Escalate)
///     }
/// }
/// ```
pub trait SlaType: fmt::Debug + Send + Sync {
    /// The window this check needs.
    fn window(&self) -> WindowSpec;

    /// The decision for the window as it is now. Called once per evaluation
    /// tick outside the cooldown; must be a pure function of the view.
    fn check(&self, window: &WindowView<'_>) -> Option<Direction>;
}

/// Compares a measure with `upper` / `lower`: above upper escalates, below
/// lower de-escalates, equal or between does nothing, no measure (an empty
/// window) does nothing.
fn compare(value: Option<f64>, upper: f64, lower: f64) -> Option<Direction> {
    let v = value?;
    if v > upper {
        Some(Direction::Escalate)
    } else if v < lower {
        Some(Direction::DeEscalate)
    } else {
        None
    }
}

/// `Some` when the window holds at least `minimum` samples (and at least
/// one): fewer are no decision.
fn enough(w: &WindowView<'_>, minimum: u64) -> Option<()> {
    (w.count() >= minimum.max(1)).then_some(())
}

/// [`compare`] against a threshold in milliseconds.
fn compare_ms(value: Option<f64>, threshold: &Threshold) -> Option<Direction> {
    compare(value, threshold.upper as f64, threshold.lower as f64)
}

/// `response_time_sliding_window`: the average response time over the last
/// `interval` seconds against `upper` / `lower` milliseconds.
///
/// An empty window gives no event. (The original averaged an empty window to
/// 0 and so de-escalated idle clusters; scaling down because no log line
/// arrived, which is also what a broken log pipeline looks like, is a
/// decision we do not take on missing data.)
///
/// ```
/// use vamp_model::{Threshold, Window};
/// use vamp_sla::{SlaType, sla::ResponseTimeSlidingWindow};
/// let sla = ResponseTimeSlidingWindow {
///     threshold: Threshold { upper: 1000, lower: 100 },
///     window: Window { interval: 60, cooldown: 120 },
/// };
/// assert_eq!(sla.window().interval, 60);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponseTimeSlidingWindow {
    /// Thresholds, ms.
    pub threshold: Threshold,
    /// Interval and cooldown, seconds.
    pub window: Window,
}

impl SlaType for ResponseTimeSlidingWindow {
    fn window(&self) -> WindowSpec {
        WindowSpec::of(&self.window, false)
    }

    fn check(&self, w: &WindowView<'_>) -> Option<Direction> {
        compare_ms(w.mean_ms(), &self.threshold)
    }
}

/// `response_time_percentile`: a percentile (such as p95 or p99) of response
/// times over the window against `upper` / `lower` milliseconds.
///
/// Written in a blueprint as
/// ```yaml
/// sla:
///   type: response_time_percentile
///   percentile: 95          # or "p99", 99.9; 0 < p <= 100
///   threshold: { upper: 800, lower: 50 }
///   window: { interval: 60, cooldown: 2m }
///   minimum_samples: 20     # optional, default 1
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponseTimePercentile {
    /// The percentile, 0 < p ≤ 100.
    pub percentile: f64,
    /// Thresholds, ms.
    pub threshold: Threshold,
    /// Interval and cooldown, seconds.
    pub window: Window,
    /// Fewer samples than this in the window: no decision.
    pub minimum_samples: u64,
}

impl SlaType for ResponseTimePercentile {
    fn window(&self) -> WindowSpec {
        WindowSpec::of(&self.window, true)
    }

    fn check(&self, w: &WindowView<'_>) -> Option<Direction> {
        enough(w, self.minimum_samples)?;
        compare_ms(w.quantile_ms(self.percentile / 100.0), &self.threshold)
    }
}

/// `error_rate`: the share of 5xx responses over the window against `upper`
/// / `lower` **percent**.
///
/// ```yaml
/// sla:
///   type: error_rate
///   threshold: { upper: 5%, lower: 0.5 }   # percent; the % sign is optional
///   window: { interval: 60, cooldown: 60 }
///   minimum_samples: 50                    # optional, default 1
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorRate {
    /// Escalate above this percentage.
    pub upper_percent: f64,
    /// De-escalate below this percentage.
    pub lower_percent: f64,
    /// Interval and cooldown, seconds.
    pub window: Window,
    /// Fewer samples than this in the window: no decision.
    pub minimum_samples: u64,
}

impl SlaType for ErrorRate {
    fn window(&self) -> WindowSpec {
        WindowSpec::of(&self.window, false)
    }

    fn check(&self, w: &WindowView<'_>) -> Option<Direction> {
        enough(w, self.minimum_samples)?;
        compare(
            w.error_rate().map(|r| r * 100.0),
            self.upper_percent,
            self.lower_percent,
        )
    }
}

// ---- reading generic parameters -------------------------------------------

fn param<'p>(params: &'p Map<Value>, key: &str) -> Result<&'p Value, String> {
    match params.get(key) {
        Some(Value::Null) | None => Err(format!("`{key}` is required")),
        Some(v) => Ok(v),
    }
}

fn number(v: &Value, what: &str) -> Result<f64, String> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse::<f64>().ok(),
        _ => None,
    };
    n.filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| format!("`{what}` must be a non-negative number, not `{v}`"))
}

fn seconds(v: &Value, what: &str) -> Result<u64, String> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => vamp_model::units::parse_duration(s).ok(),
        _ => None,
    }
    .ok_or_else(|| format!("`{what}` must be a duration (`60`, `30s`, `2m`), not `{v}`"))
}

fn pair(params: &Map<Value>, key: &str, a: &str, b: &str) -> Result<(Value, Value), String> {
    let Value::Object(m) = param(params, key)? else {
        return Err(format!("`{key}` must hold `{a}` and `{b}`"));
    };
    let get = |k: &str| {
        m.get(k)
            .filter(|v| !v.is_null())
            .cloned()
            .ok_or_else(|| format!("`{key}.{k}` is required"))
    };
    Ok((get(a)?, get(b)?))
}

/// `threshold: {upper, lower}` as numbers (text numbers allowed).
fn read_threshold(params: &Map<Value>) -> Result<(f64, f64), String> {
    let (u, l) = pair(params, "threshold", "upper", "lower")?;
    Ok((
        number(&u, "threshold.upper")?,
        number(&l, "threshold.lower")?,
    ))
}

/// `window: {interval, cooldown}` as durations.
fn read_window(params: &Map<Value>) -> Result<Window, String> {
    let (i, c) = pair(params, "window", "interval", "cooldown")?;
    let interval = seconds(&i, "window.interval")?;
    if interval == 0 {
        return Err("`window.interval` must be at least one second".into());
    }
    Ok(Window {
        interval,
        cooldown: seconds(&c, "window.cooldown")?,
    })
}

fn read_minimum(params: &Map<Value>) -> Result<u64, String> {
    match params.get("minimum_samples") {
        None | Some(Value::Null) => Ok(1),
        Some(v) => number(v, "minimum_samples").map(|n| n as u64),
    }
}

fn ms(v: f64) -> u64 {
    v.round() as u64
}

impl ResponseTimePercentile {
    /// Reads the parameters of a `response_time_percentile` SLA.
    ///
    /// ```
    /// use vamp_sla::sla::ResponseTimePercentile;
    /// let params = serde_json::from_value(serde_json::json!({
    ///     "percentile": "p99",
    ///     "threshold": {"upper": 800, "lower": 50},
    ///     "window": {"interval": "1m", "cooldown": 60},
    /// })).unwrap();
    /// let sla = ResponseTimePercentile::from_parameters(&params).unwrap();
    /// assert_eq!(sla.percentile, 99.0);
    /// assert_eq!(sla.window.interval, 60);
    /// ```
    pub fn from_parameters(params: &Map<Value>) -> Result<Self, String> {
        let p = match param(params, "percentile")? {
            Value::String(s) => {
                let s = s.trim();
                let s = s.strip_prefix(['p', 'P']).unwrap_or(s);
                number(&Value::String(s.to_owned()), "percentile")?
            }
            v => number(v, "percentile")?,
        };
        if !(p > 0.0 && p <= 100.0) {
            return Err(format!("`percentile` must be in (0, 100], not {p}"));
        }
        let (upper, lower) = read_threshold(params)?;
        Ok(ResponseTimePercentile {
            percentile: p,
            threshold: Threshold {
                upper: ms(upper),
                lower: ms(lower),
            },
            window: read_window(params)?,
            minimum_samples: read_minimum(params)?,
        })
    }
}

impl ErrorRate {
    /// Reads the parameters of an `error_rate` SLA.
    ///
    /// ```
    /// use vamp_sla::sla::ErrorRate;
    /// let params = serde_json::from_value(serde_json::json!({
    ///     "threshold": {"upper": "5%", "lower": 0.5},
    ///     "window": {"interval": 60, "cooldown": 60},
    /// })).unwrap();
    /// let sla = ErrorRate::from_parameters(&params).unwrap();
    /// assert_eq!(sla.upper_percent, 5.0);
    /// ```
    pub fn from_parameters(params: &Map<Value>) -> Result<Self, String> {
        let (upper, lower) = read_threshold(params)?;
        if upper > 100.0 || lower > 100.0 {
            return Err("`threshold` values are percentages (0–100)".into());
        }
        Ok(ErrorRate {
            upper_percent: upper,
            lower_percent: lower,
            window: read_window(params)?,
            minimum_samples: read_minimum(params)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Map<Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn percentile_parameters() {
        let ok = ResponseTimePercentile::from_parameters(&params(json!({
            "percentile": 95, "threshold": {"upper": "800", "lower": 50},
            "window": {"interval": "2m", "cooldown": "30s"}, "minimum_samples": 10
        })))
        .unwrap();
        assert_eq!(
            ok.threshold,
            Threshold {
                upper: 800,
                lower: 50
            }
        );
        assert_eq!(
            ok.window,
            Window {
                interval: 120,
                cooldown: 30
            }
        );
        assert_eq!(ok.minimum_samples, 10);
        for bad in [
            json!({"threshold": {"upper": 1, "lower": 0}, "window": {"interval": 1, "cooldown": 1}}),
            json!({"percentile": 0, "threshold": {"upper": 1, "lower": 0}, "window": {"interval": 1, "cooldown": 1}}),
            json!({"percentile": 95, "threshold": 5, "window": {"interval": 1, "cooldown": 1}}),
            json!({"percentile": 95, "threshold": {"upper": 1}, "window": {"interval": 1, "cooldown": 1}}),
            json!({"percentile": 95, "threshold": {"upper": 1, "lower": 0}, "window": {"interval": "1d", "cooldown": 1}}),
            json!({"percentile": 95, "threshold": {"upper": 1, "lower": 0}, "window": {"interval": 0, "cooldown": 1}}),
        ] {
            assert!(
                ResponseTimePercentile::from_parameters(&params(bad.clone())).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn error_rate_parameters() {
        assert!(ErrorRate::from_parameters(&params(json!({
            "threshold": {"upper": 150, "lower": 0}, "window": {"interval": 1, "cooldown": 1}
        })))
        .is_err());
    }

    #[test]
    fn compare_is_strict() {
        assert_eq!(compare(Some(10.0), 10.0, 5.0), None);
        assert_eq!(compare(Some(10.1), 10.0, 5.0), Some(Direction::Escalate));
        assert_eq!(compare(Some(4.9), 10.0, 5.0), Some(Direction::DeEscalate));
        assert_eq!(compare(None, 10.0, 5.0), None);
    }
}
