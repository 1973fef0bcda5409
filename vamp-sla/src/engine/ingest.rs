//! Ingesting samples: typed samples, parsed records, log lines (plain or
//! HAProxy) and JSON values, each placed in its cluster's and service's
//! windows.

use super::{BackendIds, ClusterId, Engine, Sample, ServiceId, MAX_CACHED_BACKENDS};
use crate::judge::is_error;
use crate::output::Output;
use crate::parse::{decode_backend, parse_value, scan_line, Line, LineError, Record, Scanned};
use crate::sketch;
use crate::window::second_of;

impl Engine {
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
        let error = is_error(sample.status);
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
    pub(super) fn find_cluster(&self, name: &str) -> Option<usize> {
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
    pub(super) fn backend_ids(&self, backend: &str) -> BackendIds {
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
    pub(super) fn ingest_parsed(
        &mut self,
        parsed: Result<Line<'_>, LineError>,
        out: &mut Vec<Output>,
    ) {
        match parsed {
            Ok(Line::Record(r)) => self.ingest_record(&r, out),
            Ok(Line::NotRoute) => self.stats.not_route += 1,
            Err(_) => self.stats.malformed += 1,
        }
    }
}
