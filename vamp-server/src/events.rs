//! Events: the shape of the original's `Event`, tag expansion, a bounded
//! in-memory log (newest first) and the bus that feeds the SSE streams.
//!
//! Publishing never waits for a subscriber: the bus is a
//! [`tokio::sync::broadcast`] channel, so a slow SSE client that falls
//! behind loses the oldest events it has not read yet (and is told so in
//! the log), while everyone else goes on.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::broadcast;

/// One event, serialized as the original did (`None` fields left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// `1.0`.
    pub version: &'static str,
    /// Tags, expanded (each `a:b` also adds `a`), in first-seen order.
    pub tags: Vec<String>,
    /// The value (left out when the publisher suppresses it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// ISO-8601 offset date-time.
    pub timestamp: String,
    /// `archive`, `synchronization`, `event`, ...
    #[serde(rename = "type")]
    pub event_type: String,
}

impl Event {
    /// An event of `event_type` stamped now, tags expanded.
    pub fn new<S: Into<String>>(
        event_type: &str,
        tags: impl IntoIterator<Item = S>,
        value: Option<Value>,
    ) -> Self {
        Event {
            version: "1.0",
            tags: expand_tags(tags),
            value,
            timestamp: now(),
            event_type: event_type.to_owned(),
        }
    }

    /// True when every filter tag is among the event's tags and the type,
    /// if given, equals the event's.
    pub fn matches(&self, filter: &Filter) -> bool {
        filter.tags.iter().all(|t| self.tags.contains(t))
            && filter
                .event_type
                .as_ref()
                .is_none_or(|t| t == &self.event_type)
    }
}

/// The current time as the events and statuses write it.
pub fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Checks an ISO-8601 offset date-time and normalizes it.
///
/// # Errors
/// When the text is not one.
pub fn parse_timestamp(text: &str) -> Result<String, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .ok_or_else(|| format!("Event timestamp cannot be parsed: '{text}'."))
}

/// Expands tags: every tag with a `:` also adds its prefix before the first
/// `:`. Duplicates are dropped, the first position kept.
///
/// ```
/// use vamp_server::events::expand_tags;
/// assert_eq!(expand_tags(["breeds:sava:1.0", "archive:create"]),
///            ["breeds:sava:1.0", "breeds", "archive:create", "archive"]);
/// ```
pub fn expand_tags<S: Into<String>>(tags: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t: String = t.into();
        let prefix = t.split_once(':').map(|(p, _)| p.to_owned());
        for x in std::iter::once(t).chain(prefix) {
            if !out.contains(&x) {
                out.push(x);
            }
        }
    }
    out
}

/// What a reader of the log or stream wants: all of these tags (expanded
/// tags are compared) and, if given, this type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Every one must be present.
    pub tags: Vec<String>,
    /// The event type.
    pub event_type: Option<String>,
}

/// The event log and bus.
#[derive(Debug)]
pub struct Bus {
    log: Mutex<VecDeque<Event>>,
    capacity: usize,
    sender: broadcast::Sender<Event>,
}

impl Bus {
    /// A bus keeping the newest `capacity` events, with `lag` events of
    /// room per stream subscriber.
    pub fn new(capacity: usize, lag: usize) -> Self {
        let (sender, _) = broadcast::channel(lag.max(1));
        Bus {
            log: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity: capacity.max(1),
            sender,
        }
    }

    /// Publishes an event: into the log and to every subscriber.
    pub fn publish(&self, event: Event) {
        {
            let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() == self.capacity {
                log.pop_back();
            }
            log.push_front(event.clone());
        }
        // No subscriber is not an error.
        let _ = self.sender.send(event);
    }

    /// The logged events matching `filter`, newest first.
    pub fn query(&self, filter: &Filter) -> Vec<Event> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().filter(|e| e.matches(filter)).cloned().collect()
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

/// The SSE frame of an event: `data:<json>\nevent:<type>\n\n`.
pub fn sse_frame(event: &Event) -> String {
    let data = serde_json::to_string(event).unwrap_or_default();
    format!("data:{data}\nevent:{}\n\n", event.event_type)
}

/// The SSE heartbeat: a comment.
pub const HEARTBEAT: &str = ":\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_is_bounded_and_newest_first() {
        let bus = Bus::new(2, 4);
        for i in 0..3 {
            bus.publish(Event::new("event", [format!("n:{i}")], None));
        }
        let all = bus.query(&Filter::default());
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].tags[0], "n:2");
        assert_eq!(all[1].tags[0], "n:1");
        let one = bus.query(&Filter {
            tags: vec!["n:1".into()],
            event_type: None,
        });
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn frames_and_values() {
        let e = Event::new("synchronization", ["deployments:d"], None);
        let f = sse_frame(&e);
        assert!(f.starts_with(
            "data:{\"version\":\"1.0\",\"tags\":[\"deployments:d\",\"deployments\"],\"timestamp\":"
        ));
        assert!(f.ends_with("\nevent:synchronization\n\n"));
        assert!(parse_timestamp("2017-01-10T15:33:49.766Z").is_ok());
        assert!(parse_timestamp("yesterday").is_err());
    }
}
