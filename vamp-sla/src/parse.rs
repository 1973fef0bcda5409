//! Log lines: HAProxy JSON access-log records and plain samples.
//!
//! One JSON object a line. Both forms are read by one borrowed serde pass
//! (strings without escapes are not copied); a line is a **plain sample** when
//! it has `response_time`, otherwise an **HAProxy record** when it has `b`.
//!
//! Plain sample:
//! `{"timestamp": <unix seconds or RFC 3339>, "cluster": "sava",
//! "service": "sava:1.0.0" (optional), "response_time": <ms>, "status": 200}`.
//! Instead of `cluster` a line may give `gateway` (`deployment/cluster/port`,
//! the internal gateway of the cluster).
//!
//! HAProxy record (keys of the access-log format, dsl-reference §7): `t`
//! accept time, `b` backend, `Tt` total time (ms, the response time used, as
//! in the original's metrics), `ST` status (absent for TCP: never an error).
//! The cluster and service come from the backend name, see [`RouteBackend`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use vamp_model::backend_name;

use crate::time::{parse_timestamp, seconds_to_ms};

/// One measured request, as read from a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// When, unix milliseconds.
    pub timestamp_ms: u64,
    /// The cluster.
    pub cluster: Cow<'a, str>,
    /// The service, when known.
    pub service: Option<Cow<'a, str>>,
    /// Response time, ms.
    pub response_time_ms: f64,
    /// HTTP status; 0 when unknown (TCP).
    pub status: u16,
}

/// What a line held.
#[derive(Debug, Clone, PartialEq)]
pub enum Line<'a> {
    /// A sample to count.
    Record(Record<'a>),
    /// A well-formed HAProxy record of a hop that is not a route backend
    /// (the gateway's weight or strength backend, stats, ...): skipped, not
    /// malformed. Each request passes one route backend, so counting only
    /// those counts each request once.
    NotRoute,
}

/// Why a line was skipped as malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// Not a JSON object (or a key repeated).
    #[error("not a JSON object: {0}")]
    Json(String),
    /// A needed key is missing.
    #[error("missing `{0}`")]
    Missing(&'static str),
    /// A key has a value of the wrong kind or out of range.
    #[error("invalid `{0}`")]
    Invalid(&'static str),
}

/// A JSON scalar, borrowed when possible, read without buffering.
#[derive(Debug)]
enum Scalar<'a> {
    Num(f64),
    Str(Cow<'a, str>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON scalar")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Num(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'a> Scalar<'a> {
    fn number(&self) -> Option<f64> {
        match self {
            Scalar::Num(n) => Some(*n),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Other => None,
        }
        .filter(|n: &f64| n.is_finite())
    }

    fn text(self) -> Option<Cow<'a, str>> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    fn time_ms(&self) -> Option<u64> {
        match self {
            Scalar::Num(n) => seconds_to_ms(*n),
            Scalar::Str(s) => parse_timestamp(s),
            Scalar::Other => None,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
struct RawLine<'a> {
    #[serde(borrow)]
    timestamp: Option<Scalar<'a>>,
    #[serde(borrow)]
    cluster: Option<Scalar<'a>>,
    #[serde(borrow)]
    service: Option<Scalar<'a>>,
    #[serde(borrow)]
    gateway: Option<Scalar<'a>>,
    #[serde(borrow)]
    response_time: Option<Scalar<'a>>,
    #[serde(borrow)]
    status: Option<Scalar<'a>>,
    #[serde(borrow)]
    t: Option<Scalar<'a>>,
    #[serde(borrow)]
    b: Option<Scalar<'a>>,
    #[serde(borrow, rename = "Tt")]
    tt: Option<Scalar<'a>>,
    #[serde(borrow, rename = "ST")]
    st: Option<Scalar<'a>>,
}

fn status_of(s: Option<Scalar<'_>>, key: &'static str) -> Result<u16, LineError> {
    match s {
        None | Some(Scalar::Other) => Ok(0),
        Some(v) => {
            let n = v.number().ok_or(LineError::Invalid(key))?;
            // HAProxy logs -1 when no response was received.
            if n < 0.0 {
                Ok(0)
            } else if n <= 999.0 {
                Ok(n as u16)
            } else {
                Err(LineError::Invalid(key))
            }
        }
    }
}

fn time_of(s: Option<Scalar<'_>>, key: &'static str) -> Result<u64, LineError> {
    s.ok_or(LineError::Missing(key))?
        .time_ms()
        .ok_or(LineError::Invalid(key))
}

fn duration_of(s: Option<Scalar<'_>>, key: &'static str) -> Result<f64, LineError> {
    let n = s
        .ok_or(LineError::Missing(key))?
        .number()
        .ok_or(LineError::Invalid(key))?;
    if n < 0.0 {
        return Err(LineError::Invalid(key));
    }
    Ok(n)
}

/// Reads one line (without its line break).
///
/// ```
/// use vamp_sla::parse::{parse_line, Line};
/// let line = br#"{"timestamp": "2024-05-01T12:00:00Z", "cluster": "sava", "response_time": 120, "status": 200}"#;
/// let Ok(Line::Record(r)) = parse_line(line) else { panic!() };
/// assert_eq!((r.cluster.as_ref(), r.response_time_ms), ("sava", 120.0));
///
/// let haproxy = br#"{"t":"01/May/2024:12:00:00.250","ft":"x","b":"shop_2fsava_2fwebport_2fsava:1.0.0","s":"i1","Tt":87,"ST":503}"#;
/// let Ok(Line::Record(r)) = parse_line(haproxy) else { panic!() };
/// assert_eq!((r.cluster.as_ref(), r.service.as_deref(), r.status), ("sava", Some("sava:1.0.0"), 503));
/// ```
pub fn parse_line(line: &[u8]) -> Result<Line<'_>, LineError> {
    let raw = match scan::flat_object(line) {
        Some(raw) => raw,
        // Escapes, nesting, duplicates or invalid JSON: serde decides.
        None => serde_json::from_slice(line).map_err(|e| LineError::Json(e.to_string()))?,
    };
    from_raw(raw)
}

/// Reads one sample given as a JSON value (a parsed line, or a dict / object
/// handed over by a language binding): the same keys and rules as
/// [`parse_line`]. Anything but an object is [`LineError::Json`].
///
/// ```
/// use vamp_sla::parse::{parse_value, Line};
/// let v = serde_json::json!({"timestamp": 1.5, "cluster": "sava", "service": "sava:1.0.0",
///                            "response_time": 120, "status": 503});
/// let Ok(Line::Record(r)) = parse_value(&v) else { panic!() };
/// assert_eq!((r.timestamp_ms, r.service.as_deref(), r.status), (1500, Some("sava:1.0.0"), 503));
/// assert!(parse_value(&serde_json::json!([1, 2])).is_err());
/// ```
pub fn parse_value(value: &serde_json::Value) -> Result<Line<'_>, LineError> {
    if !value.is_object() {
        return Err(LineError::Json("not a JSON object".into()));
    }
    let raw = RawLine::deserialize(value).map_err(|e| LineError::Json(e.to_string()))?;
    from_raw(raw)
}

/// A line read up to, but not including, the decoding of an HAProxy backend
/// name: the engine caches what each backend name means, so the common line
/// is counted without decoding (and allocating) the name again.
pub(crate) enum Scanned<'a> {
    /// A plain sample (or a line that is not a route).
    Line(Line<'a>),
    /// An HAProxy line with its backend name still encoded.
    Backend {
        /// The backend name as logged.
        backend: Cow<'a, str>,
        /// Milliseconds since the epoch.
        timestamp_ms: u64,
        /// `Tt`.
        response_time_ms: f64,
        /// `ST`.
        status: u16,
    },
}

/// Reads one line without decoding HAProxy backend names.
pub(crate) fn scan_line(line: &[u8]) -> Result<Scanned<'_>, LineError> {
    let raw = match scan::flat_object(line) {
        Some(raw) => raw,
        None => serde_json::from_slice(line).map_err(|e| LineError::Json(e.to_string()))?,
    };
    scanned_from_raw(raw)
}

/// The line a scanned HAProxy backend stands for.
pub(crate) fn decode_backend<'a>(
    backend: Cow<'a, str>,
    timestamp_ms: u64,
    response_time_ms: f64,
    status: u16,
) -> Line<'a> {
    let (cluster, service) = match backend {
        // Keep borrowing from the line when the name needed no decoding.
        Cow::Borrowed(s) => match RouteBackend::parse(s) {
            Some(r) => (r.cluster, r.service),
            None => return Line::NotRoute,
        },
        Cow::Owned(s) => match RouteBackend::parse(&s) {
            Some(r) => (
                Cow::Owned(r.cluster.into_owned()),
                Cow::Owned(r.service.into_owned()),
            ),
            None => return Line::NotRoute,
        },
    };
    Line::Record(Record {
        timestamp_ms,
        cluster,
        service: Some(service),
        response_time_ms,
        status,
    })
}

fn from_raw(raw: RawLine<'_>) -> Result<Line<'_>, LineError> {
    Ok(match scanned_from_raw(raw)? {
        Scanned::Line(l) => l,
        Scanned::Backend {
            backend,
            timestamp_ms,
            response_time_ms,
            status,
        } => decode_backend(backend, timestamp_ms, response_time_ms, status),
    })
}

fn scanned_from_raw(raw: RawLine<'_>) -> Result<Scanned<'_>, LineError> {
    if raw.response_time.is_some() {
        let cluster = match (raw.cluster, raw.gateway) {
            (Some(c), _) => c.text().ok_or(LineError::Invalid("cluster"))?,
            (None, Some(g)) => {
                let g = g.text().ok_or(LineError::Invalid("gateway"))?;
                gateway_cluster(g).ok_or(LineError::Invalid("gateway"))?
            }
            (None, None) => return Err(LineError::Missing("cluster")),
        };
        let service = match raw.service {
            None | Some(Scalar::Other) => None,
            Some(s) => Some(s.text().ok_or(LineError::Invalid("service"))?),
        };
        let status = match raw.status {
            None => return Err(LineError::Missing("status")),
            s => status_of(s, "status")?,
        };
        return Ok(Scanned::Line(Line::Record(Record {
            timestamp_ms: time_of(raw.timestamp, "timestamp")?,
            cluster,
            service,
            response_time_ms: duration_of(raw.response_time, "response_time")?,
            status,
        })));
    }
    let Some(b) = raw.b else {
        return Err(LineError::Missing("response_time"));
    };
    let backend = b.text().ok_or(LineError::Invalid("b"))?;
    Ok(Scanned::Backend {
        timestamp_ms: time_of(raw.t.or(raw.timestamp), "t")?,
        response_time_ms: duration_of(raw.tt, "Tt")?,
        status: status_of(raw.st, "ST")?,
        backend,
    })
}

/// A fast path for the common line: one flat JSON object whose strings hold
/// no escape. It accepts exactly what serde_json accepts for such lines and
/// answers `None` for anything else (escapes, nested values, a known key
/// twice, invalid JSON), which then goes through serde_json.
mod scan {
    use std::borrow::Cow;

    use super::{RawLine, Scalar};

    struct Cursor<'a> {
        /// The line, checked to be UTF-8 once: slicing it needs no re-check.
        s: &'a str,
        b: &'a [u8],
        i: usize,
    }

    impl<'a> Cursor<'a> {
        #[inline]
        fn ws(&mut self) {
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
                self.i += 1;
            }
        }

        #[inline]
        fn eat(&mut self, c: u8) -> Option<()> {
            (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
        }

        /// A string without escapes, after its opening quote.
        #[inline]
        fn string(&mut self) -> Option<&'a str> {
            let start = self.i;
            let rest = self.b.get(start..)?;
            // Jump to the closing quote (or an escape, which serde handles),
            // then check the skipped bytes for control characters in one
            // branch-free pass.
            let end = memchr::memchr2(b'"', b'\\', rest)?;
            if rest[end] != b'"' || !rest[..end].iter().fold(true, |ok, &c| ok & (c >= 0x20)) {
                return None;
            }
            self.i += end + 1;
            // quotes are ASCII, so both ends are character boundaries
            self.s.get(start..start + end)
        }

        /// A JSON number, strictly by the grammar.
        fn number(&mut self) -> Option<&'a str> {
            let start = self.i;
            let digits = |c: &mut Self| {
                let s = c.i;
                while c.b.get(c.i).is_some_and(u8::is_ascii_digit) {
                    c.i += 1;
                }
                c.i - s
            };
            let _ = self.eat(b'-');
            match self.b.get(self.i) {
                Some(b'0') => self.i += 1,
                Some(b'1'..=b'9') => {
                    digits(self);
                }
                _ => return None,
            }
            if self.eat(b'.').is_some() && digits(self) == 0 {
                return None;
            }
            if let Some(b'e' | b'E') = self.b.get(self.i) {
                self.i += 1;
                if let Some(b'+' | b'-') = self.b.get(self.i) {
                    self.i += 1;
                }
                if digits(self) == 0 {
                    return None;
                }
            }
            self.s.get(start..self.i)
        }

        fn literal(&mut self, word: &[u8]) -> Option<()> {
            let end = self.i + word.len();
            (self.b.get(self.i..end) == Some(word)).then(|| self.i = end)
        }
    }

    #[inline]
    fn number_value(text: &str) -> Option<f64> {
        // plain integers (most values) without the float parser
        if text.len() <= 15 && text.bytes().all(|c| c.is_ascii_digit()) {
            return Some(text.bytes().fold(0u64, |a, c| a * 10 + u64::from(c - b'0')) as f64);
        }
        text.parse().ok()
    }

    pub(super) fn flat_object(line: &[u8]) -> Option<RawLine<'_>> {
        let s = std::str::from_utf8(line).ok()?;
        let mut c = Cursor { s, b: line, i: 0 };
        let mut raw = RawLine::default();
        let mut ignored = None;
        let mut seen = 0u32;
        c.ws();
        c.eat(b'{')?;
        c.ws();
        if c.eat(b'}').is_none() {
            loop {
                c.eat(b'"')?;
                let key = c.string()?;
                c.ws();
                c.eat(b':')?;
                c.ws();
                // `None` is `null`, which serde reads as an absent Option.
                let wanted = matches!(
                    key,
                    "timestamp"
                        | "cluster"
                        | "service"
                        | "gateway"
                        | "response_time"
                        | "status"
                        | "t"
                        | "b"
                        | "Tt"
                        | "ST"
                );
                let value = match c.b.get(c.i)? {
                    b'"' => {
                        c.i += 1;
                        Some(Scalar::Str(Cow::Borrowed(c.string()?)))
                    }
                    b'-' | b'0'..=b'9' if !wanted => {
                        // validated by the grammar, never converted
                        c.number()?;
                        Some(Scalar::Other)
                    }
                    b'-' | b'0'..=b'9' => {
                        // out of range: serde reports it
                        let n = number_value(c.number()?).filter(|n| n.is_finite())?;
                        Some(Scalar::Num(n))
                    }
                    b't' => c.literal(b"true").map(|()| Some(Scalar::Other))?,
                    b'f' => c.literal(b"false").map(|()| Some(Scalar::Other))?,
                    b'n' => c.literal(b"null").map(|()| None)?,
                    _ => return None,
                };
                let (bit, slot) = match key {
                    "timestamp" => (0, &mut raw.timestamp),
                    "cluster" => (1, &mut raw.cluster),
                    "service" => (2, &mut raw.service),
                    "gateway" => (3, &mut raw.gateway),
                    "response_time" => (4, &mut raw.response_time),
                    "status" => (5, &mut raw.status),
                    "t" => (6, &mut raw.t),
                    "b" => (7, &mut raw.b),
                    "Tt" => (8, &mut raw.tt),
                    "ST" => (9, &mut raw.st),
                    _ => (16, &mut ignored),
                };
                if bit < 16 {
                    if seen & (1 << bit) != 0 {
                        return None; // a repeated key: serde reports it
                    }
                    seen |= 1 << bit;
                }
                *slot = value;
                c.ws();
                if c.eat(b',').is_some() {
                    c.ws();
                    continue;
                }
                c.eat(b'}')?;
                break;
            }
        }
        c.ws();
        (c.i == line.len()).then_some(raw)
    }
}

/// The cluster of an internal gateway name `deployment/cluster/port`.
fn gateway_cluster(g: Cow<'_, str>) -> Option<Cow<'_, str>> {
    match g {
        Cow::Borrowed(s) => {
            let mut it = s.split('/');
            let (_, c, _) = (it.next()?, it.next()?, it.next()?);
            (it.next().is_none() && !c.is_empty()).then_some(Cow::Borrowed(c))
        }
        Cow::Owned(s) => gateway_cluster(Cow::Borrowed(&s)).map(|c| Cow::Owned(c.into_owned())),
    }
}

/// The naming convention of HAProxy **route backends** that the SLA engine
/// reads cluster and service from.
///
/// A route of the internal gateway `DEPLOYMENT/CLUSTER/PORT` targets a
/// service; its backend is named after the route path
/// `DEPLOYMENT/CLUSTER/PORT/SERVICE` (the first three hold no `/`; the service,
/// a breed name, may: `magneticio/sava:1.0`), written in the characters HAProxy
/// accepts in names (`A–Z a–z 0–9 - _ . :`) with the codec of
/// [`vamp_model::backend_name`] (the one the exporter writes with): every
/// other byte, and `_` itself, is `_` followed by two lowercase hex digits:
/// `/` is `_2f`, `_` is `_5f`. So `shop/sava/webport/sava:1.0.0` is the
/// backend `shop_2fsava_2fwebport_2fsava:1.0.0`. The decoding is exact (the
/// mapping is one-to-one; upper-case escapes are not escapes), and a name
/// with a plain `/` is read as well.
///
/// Backend names with fewer than four segments (the gateway's weight
/// backend `o_…`, condition-strength backends `im_…`) are not route backends:
/// their records are skipped, so each request is counted once, at the hop
/// that reached a service. A route of a *deployment* gateway
/// (`DEPLOYMENT/9050` to `sava/webport`) reads as cluster `9050`, which names
/// no cluster, and is skipped as unmatched; exporters may also simply give
/// those backends names of another shape.
///
/// ```
/// use vamp_sla::parse::RouteBackend;
/// let name = RouteBackend::encode("shop", "sava", "webport", "sava:1.0.0");
/// assert_eq!(name, "shop_2fsava_2fwebport_2fsava:1.0.0");
/// let r = RouteBackend::parse(&name).unwrap();
/// assert_eq!((r.deployment.as_ref(), r.cluster.as_ref(), r.port.as_ref(), r.service.as_ref()),
///            ("shop", "sava", "webport", "sava:1.0.0"));
/// assert!(RouteBackend::parse("o_5b1f0a9c").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteBackend<'a> {
    /// Deployment name.
    pub deployment: Cow<'a, str>,
    /// Cluster name.
    pub cluster: Cow<'a, str>,
    /// Cluster port name.
    pub port: Cow<'a, str>,
    /// Service (breed) name.
    pub service: Cow<'a, str>,
}

impl<'a> RouteBackend<'a> {
    /// Reads a backend name; `None` when it is not a route backend.
    /// Segments without escapes are borrowed, not copied.
    pub fn parse(name: &'a str) -> Option<Self> {
        let b = name.as_bytes();
        let mut cuts = [(0usize, 0usize); 3]; // (start, end) of each separator
        let mut found = 0;
        let mut i = 0;
        while i < b.len() && found < 3 {
            if b[i] == b'/' {
                cuts[found] = (i, i + 1);
                found += 1;
            } else if b[i] == b'_' && b.get(i + 1..i + 3) == Some(b"2f") {
                cuts[found] = (i, i + 3);
                found += 1;
                i += 2;
            }
            i += 1;
        }
        if found < 3 {
            return None;
        }
        let seg = |from: usize, to: usize| -> Option<Cow<'a, str>> {
            let s = name.get(from..to)?;
            let d = backend_name::decode(s)?;
            (!d.is_empty()).then_some(d)
        };
        let service = seg(cuts[2].1, b.len())?;
        let port = seg(cuts[1].1, cuts[2].0)?;
        // only the service may hold a `/`
        let plain = |c: &Cow<'a, str>| !c.contains('/');
        let deployment = seg(0, cuts[0].0).filter(plain)?;
        let cluster = seg(cuts[0].1, cuts[1].0).filter(plain)?;
        let port = Some(port).filter(plain)?;
        Some(RouteBackend {
            deployment,
            cluster,
            port,
            service,
        })
    }

    /// The backend name of the route to `service` in the internal gateway
    /// `deployment/cluster/port`.
    pub fn encode(deployment: &str, cluster: &str, port: &str, service: &str) -> String {
        let mut out = String::new();
        for (i, part) in [deployment, cluster, port, service].into_iter().enumerate() {
            if i > 0 {
                out.push_str("_2f");
            }
            backend_name::encode_into(&mut out, part);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(line: &str) -> Record<'_> {
        match parse_line(line.as_bytes()) {
            Ok(Line::Record(r)) => r,
            other => panic!("{line}: {other:?}"),
        }
    }

    /// Found by the `sla_line` fuzz target: a long number must read the
    /// same through the scanner and through serde (both correctly rounded;
    /// serde_json needs its `float_roundtrip` feature for that).
    #[test]
    fn scanner_and_serde_round_long_numbers_alike() {
        let line =
            r#"{"t":"250","b":"shop/1.1/My/20","Tt":86666666666666666666666666666666666666666660}"#;
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let fast = rec(line);
        assert_eq!(fast.response_time_ms, 8.666666666666667e43);
        assert_eq!(parse_value(&value), Ok(Line::Record(fast)));
    }

    #[test]
    fn plain_samples() {
        let r = rec(
            r#"{"timestamp": 1714564800.5, "cluster": "sava", "service": "sava:1.0.0", "response_time": 12.5, "status": 200}"#,
        );
        assert_eq!(r.timestamp_ms, 1_714_564_800_500);
        assert_eq!(r.service.as_deref(), Some("sava:1.0.0"));
        assert!(matches!(r.cluster, Cow::Borrowed(_)));
        let r = rec(
            r#"{"timestamp": "2024-05-01T12:00:00Z", "gateway": "shop/sava/webport", "response_time": "7", "status": "503"}"#,
        );
        assert_eq!(
            (r.cluster.as_ref(), r.status, r.response_time_ms),
            ("sava", 503, 7.0)
        );
        let r =
            rec(r#"{"timestamp": 1, "cluster": "s\u0061va", "response_time": 1, "status": 200}"#);
        assert_eq!(r.cluster, "sava");
    }

    #[test]
    fn malformed() {
        for (line, err) in [
            ("", "json"),
            ("not json", "json"),
            ("[1,2]", "json"),
            (
                r#"{"timestamp": 1, "cluster": "a", "response_time": 1}"#,
                "missing status",
            ),
            (
                r#"{"cluster": "a", "response_time": 1, "status": 200}"#,
                "missing timestamp",
            ),
            (
                r#"{"timestamp": 1, "response_time": 1, "status": 200}"#,
                "missing cluster",
            ),
            (
                r#"{"timestamp": "soon", "cluster": "a", "response_time": 1, "status": 200}"#,
                "invalid timestamp",
            ),
            (
                r#"{"timestamp": 1, "cluster": "a", "response_time": -1, "status": 200}"#,
                "invalid response_time",
            ),
            (
                r#"{"timestamp": 1, "cluster": 5, "response_time": 1, "status": 200}"#,
                "invalid cluster",
            ),
            (
                r#"{"timestamp": 1, "cluster": "a", "response_time": 1, "status": 200, "cluster": "b"}"#,
                "json",
            ),
            (r#"{"t": 1, "b": "a/b/c/d", "ST": 200}"#, "missing Tt"),
            (r#"{"x": 1}"#, "missing response_time"),
        ] {
            let got = parse_line(line.as_bytes());
            let ok = match (&got, err) {
                (Err(LineError::Json(_)), "json") => true,
                (Err(e), want) => e.to_string().replace('`', "") == want,
                _ => false,
            };
            assert!(ok, "{line}: {got:?}");
        }
    }

    #[test]
    fn values_read_like_lines() {
        for line in [
            r#"{"timestamp": 1714564800.5, "cluster": "sava", "service": "sava:1.0.0", "response_time": 12.5, "status": 200}"#,
            r#"{"timestamp": "2024-05-01T12:00:00Z", "gateway": "shop/sava/webport", "response_time": "7", "status": "503"}"#,
            r#"{"timestamp": 1, "cluster": "a", "response_time": 1}"#,
            r#"{"timestamp": "soon", "cluster": "a", "response_time": 1, "status": 200}"#,
            r#"{"timestamp": 1, "cluster": 5, "response_time": 1, "status": 200}"#,
            r#"{"t":"01/May/2024:12:00:00.250","b":"shop/sava/webport/sava:1.0.0","Tt":87,"ST":200}"#,
            r#"{"t":1,"b":"o_abc","Tt":3,"ST":200}"#,
            r#"{"x": 1}"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(parse_value(&value), parse_line(line.as_bytes()), "{line}");
        }
        for not_object in [
            serde_json::json!([1, 2]),
            serde_json::json!("x"),
            serde_json::Value::Null,
        ] {
            assert!(matches!(parse_value(&not_object), Err(LineError::Json(_))));
        }
    }

    #[test]
    fn haproxy_records() {
        let r = rec(
            r#"{"ci":"10.0.0.1","cp":5000,"t":"01/May/2024:12:00:00.250","ft":"f","b":"shop/sava/webport/sava:1.0.0","s":"i1","Tq":0,"Tw":0,"Tc":1,"Tr":80,"Tt":87,"ST":200,"B":120,"CC":"-","CS":"-","tsc":"----","ac":1,"fc":1,"bc":1,"sc":1,"rc":0,"sq":0,"bq":0,"hr":"","hs":"","r":"GET / HTTP/1.1"}"#,
        );
        assert_eq!(
            (r.cluster.as_ref(), r.response_time_ms, r.status),
            ("sava", 87.0, 200)
        );
        assert_eq!(r.timestamp_ms, 1_714_564_800_250);
        // TCP: no status
        let r = rec(r#"{"t":1714564800,"b":"shop_2fdb_2fport_2fmysql:5.7","Tt":3,"ts":"--"}"#);
        assert_eq!((r.cluster.as_ref(), r.status), ("db", 0));
        // not a route backend
        assert_eq!(
            parse_line(br#"{"t":1,"b":"o_abc","Tt":3,"ST":200}"#),
            Ok(Line::NotRoute)
        );
        // aborted: ST -1
        assert_eq!(rec(r#"{"t":1,"b":"a/b/c/d","Tt":3,"ST":-1}"#).status, 0);
    }

    #[test]
    fn backend_names() {
        assert_eq!(
            RouteBackend::encode("my_dep", "a b", "p", "s/1"),
            "my_5fdep_2fa_20b_2fp_2fs_2f1"
        );
        assert!(RouteBackend::parse("a_2fb_2fc").is_none());
        let r = RouteBackend::parse("a_2fb_2fc_2fmagneticio_2fsava:1.0").unwrap();
        assert_eq!(r.service, "magneticio/sava:1.0");
        assert!(RouteBackend::parse("a_2f_2fc_2fd").is_none());
        assert!(RouteBackend::parse("a_zzb").is_none());
        assert!(RouteBackend::parse("a_2").is_none());
    }

    /// Pieces of flat JSON lines, some of which the scanner must hand over.
    fn piece() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("timestamp"),
            Just("cluster"),
            Just("service"),
            Just("gateway"),
            Just("response_time"),
            Just("status"),
            Just("t"),
            Just("b"),
            Just("Tt"),
            Just("ST"),
            Just("x"),
            Just("Tr"),
        ];
        let value = prop_oneof![
            Just("1714564800".to_string()),
            Just("12.5".to_string()),
            Just("-1".to_string()),
            Just("1e3".to_string()),
            Just("01".to_string()),
            Just("1.".to_string()),
            Just("\"sava\"".to_string()),
            Just("\"s\\u0061va\"".to_string()),
            Just("\"2024-05-01T12:00:00Z\"".to_string()),
            Just("\"a/b/c/d\"".to_string()),
            Just("null".to_string()),
            Just("true".to_string()),
            Just("nul".to_string()),
            Just("[1]".to_string()),
            Just("{}".to_string()),
            Just("\"\t\"".to_string()),
        ];
        (key, value).prop_map(|(k, v)| format!("\"{k}\": {v}"))
    }

    proptest! {
        /// Whenever the scanner answers, serde_json agrees with it.
        #[test]
        fn scanner_agrees_with_serde(
            pieces in proptest::collection::vec(piece(), 0..8),
            cut in proptest::option::of(0usize..120),
        ) {
            let mut line = format!("{{{}}}", pieces.join(", "));
            if let Some(n) = cut {
                line.truncate(n.min(line.len()));
            }
            let serde = serde_json::from_slice::<RawLine<'_>>(line.as_bytes());
            // when the scanner hands over (None), serde decides alone
            if let Some(raw) = scan::flat_object(line.as_bytes()) {
                let serde = serde.map_err(|e| e.to_string());
                prop_assert!(serde.is_ok(), "{line}: scanner accepted, serde said {serde:?}");
                if let Ok(serde) = serde {
                    prop_assert_eq!(from_raw(raw), from_raw(serde), "{}", line);
                }
            }
        }

        #[test]
        fn backend_names_round_trip(parts in proptest::collection::vec("[a-z_:./ 0-9-]{1,8}", 4)) {
            let name = RouteBackend::encode(&parts[0], &parts[1], &parts[2], &parts[3]);
            prop_assert!(name.bytes().all(|b| backend_name::is_plain(b) || b == b'_'));
            // only the service may hold a '/'
            if parts[..3].iter().all(|p| !p.contains('/')) {
                let r = RouteBackend::parse(&name).unwrap();
                prop_assert_eq!(r.deployment.as_ref(), parts[0].as_str());
                prop_assert_eq!(r.cluster.as_ref(), parts[1].as_str());
                prop_assert_eq!(r.port.as_ref(), parts[2].as_str());
                prop_assert_eq!(r.service.as_ref(), parts[3].as_str());
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_line(&bytes);
        }
    }
}
