//! Tests of the engine.

use super::*;
use vamp_model::{Threshold, Window};

use crate::output::Output;
use crate::sla::Direction;

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
