//! The documented behaviour, reproduced on hand-built sample streams.

mod common;

use common::*;
use serde_json::json;
use vamp_model::{Escalation, Map, ScaleResource, Sla};
use vamp_sla::{
    Direction, Engine, EngineOptions, EscalationHandler, HandlerRequest, Notify, Origin, Output,
    Registry, SlaType, WindowSpec, WindowView,
};

fn sava(sla: Sla) -> vamp_model::Blueprint {
    blueprint(vec![(
        "sava",
        cluster(vec![service("sava:1.0.0", Some(SMALL))], Some(sla)),
    )])
}

/// [`sava`] with an SLA of type `sla_type` and these JSON parameters.
fn sava_generic(
    sla_type: &str,
    parameters: serde_json::Value,
    escalations: Vec<Escalation>,
) -> vamp_model::Blueprint {
    sava(Sla::Generic {
        sla_type: sla_type.into(),
        parameters: serde_json::from_value(parameters).expect("SLA parameters"),
        escalations,
    })
}

#[test]
fn escalates_above_upper_and_stays_quiet_during_cooldown() {
    // 300 ms until 200 s, then 2000 ms: the 10 s average crosses 1000 ms at
    // 204 s ((11×300 + 9×2000)/20 = 1065). Then one event every
    // interval + cooldown = 30 s, and "cannot scale further" at the maximum.
    let bp = sava(sliding(1000, 100, 10, 20, vec![instances(1, 5, 1)]));
    let mut stream = steady("sava", 100.0, 200.0, 0.5, 300.0);
    stream.extend(steady("sava", 200.0, 300.0, 0.5, 2000.0));
    check(
        &bp,
        stream,
        &[
            "E@204 sava escalate",
            "A@204 sava sava:1.0.0 scale_instances 2->3",
            "E@234 sava escalate",
            "A@234 sava sava:1.0.0 scale_instances 3->4",
            "E@264 sava escalate",
            "A@264 sava sava:1.0.0 scale_instances 4->5",
            "E@294 sava escalate",
            "X@294 sava scale_instances escalate",
        ],
    );
}

#[test]
fn the_check_before_the_crossing_sees_the_old_average() {
    // Same stream cut at 203 s: `finish` runs the evaluation at 203 s, which
    // sees (13×300 + 7×2000)/20 = 895 ms.
    let bp = sava(sliding(1000, 100, 10, 20, vec![instances(1, 5, 1)]));
    let mut stream = steady("sava", 100.0, 200.0, 0.5, 300.0);
    stream.extend(steady("sava", 200.0, 203.1, 0.5, 2000.0));
    check(&bp, stream, &[]);
}

#[test]
fn de_escalates_below_lower() {
    let mut three = SMALL;
    three.instances = 3;
    let bp = blueprint(vec![(
        "sava",
        cluster(
            vec![service("sava:1.0.0", Some(three))],
            Some(sliding(1000, 100, 10, 20, vec![instances(1, 5, 1)])),
        ),
    )]);
    check(
        &bp,
        steady("sava", 0.0, 40.0, 1.0, 50.0),
        &[
            "E@0 sava deescalate",
            "A@0 sava sava:1.0.0 scale_instances 3->2",
            "E@30 sava deescalate",
            "A@30 sava sava:1.0.0 scale_instances 2->1",
        ],
    );
}

#[test]
fn equal_to_a_threshold_or_between_is_no_event() {
    let bp = sava(sliding(1000, 100, 10, 0, vec![instances(1, 5, 1)]));
    check(&bp, steady("sava", 0.0, 30.0, 1.0, 1000.0), &[]);
    check(&bp, steady("sava", 0.0, 30.0, 1.0, 100.0), &[]);
    check(&bp, steady("sava", 0.0, 30.0, 1.0, 500.0), &[]);
}

#[test]
fn an_empty_window_is_no_event() {
    // lower 100 ms, but nothing measured for an hour: no de-escalation.
    let bp = sava(sliding(1000, 100, 10, 0, vec![instances(1, 5, 1)]));
    let mut stream = steady("sava", 0.0, 5.0, 1.0, 500.0);
    stream.extend(steady("sava", 3600.0, 3601.0, 1.0, 500.0));
    check(&bp, stream, &[]);
}

#[test]
fn to_one_walks_from_the_head_up_and_from_the_tail_down() {
    let group = Escalation::ToOne(vec![
        instances(1, 3, 1),
        scale(ScaleResource::Cpu, 0.5, 2.0, 0.5, None),
    ]);
    let bp = blueprint(vec![(
        "web",
        cluster(
            vec![service("web:1", Some(SMALL))],
            Some(sliding(1000, 100, 1, 0, vec![group])),
        ),
    )]);
    let mut stream = steady("web", 0.0, 4.0, 1.0, 2000.0);
    stream.extend(steady("web", 4.0, 8.0, 1.0, 10.0));
    check(
        &bp,
        stream,
        &[
            "E@0 web escalate",
            "A@0 web web:1 scale_instances 2->3",
            "E@1 web escalate",
            "A@1 web web:1 scale_cpu 1->1.5",
            "E@2 web escalate",
            "A@2 web web:1 scale_cpu 1.5->2",
            "E@3 web escalate",
            "X@3 web scale_instances escalate",
            "X@3 web scale_cpu escalate",
            "E@4 web deescalate",
            "A@4 web web:1 scale_cpu 2->1.5",
            "E@5 web deescalate",
            "A@5 web web:1 scale_cpu 1.5->1",
            "E@6 web deescalate",
            "A@6 web web:1 scale_cpu 1->0.5",
            "E@7 web deescalate",
            "A@7 web web:1 scale_instances 3->2",
        ],
    );
}

#[test]
fn to_all_and_targets_in_other_clusters() {
    let group = Escalation::ToAll(vec![
        instances(1, 5, 1),
        scale(ScaleResource::Instances, 1.0, 3.0, 1.0, Some("backend")),
        scale(ScaleResource::Instances, 1.0, 3.0, 1.0, Some("backend")),
        scale(ScaleResource::Memory, 512.0, 1024.0, 512.0, Some("backend")),
        scale(ScaleResource::Instances, 1.0, 3.0, 1.0, Some("nowhere")),
    ]);
    let mut one = SMALL;
    one.instances = 1;
    let bp = blueprint(vec![
        (
            "frontend",
            cluster(
                vec![
                    service("frontend:1", Some(SMALL)),
                    service("frontend:2", None),
                ],
                Some(sliding(1000, 100, 10, 100, vec![group])),
            ),
        ),
        (
            "backend",
            cluster(vec![service("backend:1", Some(one))], None),
        ),
    ]);
    let mut e = engine(&bp);
    let out = replay(&mut e, steady("frontend", 0.0, 1.0, 1.0, 2000.0));
    assert_eq!(
        brief(&out),
        [
            "E@0 frontend escalate",
            "A@0 frontend frontend:1 scale_instances 2->3",
            "A@0 backend backend:1 scale_instances 1->2",
            "A@0 backend backend:1 scale_instances 2->3",
            "A@0 backend backend:1 scale_memory 512->1024",
            "X@0 nowhere scale_instances escalate",
        ]
    );
    // each action applied to the state the previous one left
    let (svc, scale) = e.scale_of("backend").unwrap();
    assert_eq!(
        (svc, scale.instances, scale.memory),
        ("backend:1", 3, 1024.0)
    );
}

#[test]
fn a_service_without_scale_starts_from_the_default() {
    let bp = blueprint(vec![(
        "sava",
        cluster(
            vec![service("sava:1.0.0", None)],
            Some(sliding(
                1000,
                100,
                10,
                0,
                vec![scale(ScaleResource::Memory, 500.0, 2000.0, 500.0, None)],
            )),
        ),
    )]);
    check(
        &bp,
        steady("sava", 0.0, 1.0, 1.0, 5000.0),
        &[
            "E@0 sava escalate",
            "A@0 sava sava:1.0.0 scale_memory 1000->1500",
        ],
    );
}

/// Pages only on the way up.
#[derive(Debug)]
struct Pager;

impl EscalationHandler for Pager {
    fn act(&self, req: &HandlerRequest<'_>) -> Option<serde_json::Value> {
        (req.direction == Direction::Escalate).then(|| json!({"team": req.parameters.get("team")}))
    }
}

#[test]
fn generic_handlers() {
    let mut params = Map::new();
    params.insert("team".to_string(), json!("web"));
    let generic = |t: &str| Escalation::Generic {
        escalation_type: t.into(),
        parameters: params.clone(),
    };
    // Down, from the tail: `sms` has no handler, the pager does not act on
    // the way down, `notify` acts. Notices of members that could not act are
    // reported only when no member acts.
    let group = Escalation::ToOne(vec![generic("notify"), generic("page"), generic("sms")]);
    let bp = sava(sliding(1000, 100, 1, 0, vec![group]));
    let mut registry = Registry::with_builtins();
    registry.register_handler("page", Pager);
    let mut e = Engine::from_blueprint(&bp, &registry, EngineOptions::default()).unwrap();
    let mut stream = steady("sava", 0.0, 1.0, 1.0, 2000.0);
    stream.extend(steady("sava", 1.0, 2.0, 1.0, 10.0));
    let out = replay(&mut e, stream);
    assert_eq!(
        brief(&out),
        [
            "E@0 sava escalate",
            "C@0 sava notify",
            "E@1 sava deescalate",
            "C@1 sava notify"
        ]
    );
    let Output::Custom(c) = &out[1] else { panic!() };
    assert_eq!(c.detail, json!({"team": "web"}));
    // An escalation that is a reference cannot be seen: unsupported.
    let bp = sava(sliding(
        1000,
        100,
        1,
        0,
        vec![Escalation::Reference(vamp_model::Reference::new("red"))],
    ));
    check(
        &bp,
        steady("sava", 0.0, 1.0, 1.0, 2000.0),
        &["E@0 sava escalate", "U@0 sava reference:red"],
    );
    // Without handlers, every generic type is unsupported, and reported.
    let bp = sava(sliding(
        1000,
        100,
        1,
        0,
        vec![Escalation::ToOne(vec![generic("notify"), generic("page")])],
    ));
    let mut e = Engine::from_blueprint(&bp, &Registry::empty(), EngineOptions::default()).unwrap();
    let out = replay(&mut e, steady("sava", 0.0, 1.0, 1.0, 2000.0));
    assert_eq!(
        brief(&out),
        ["E@0 sava escalate", "U@0 sava notify", "U@0 sava page"]
    );
    let _ = Notify;
}

/// A user's SLA type: escalates when a cluster serves more than `max`
/// requests in its window.
#[derive(Debug)]
struct Busy {
    max: u64,
}

impl SlaType for Busy {
    fn window(&self) -> WindowSpec {
        WindowSpec {
            interval: 5,
            cooldown: 100,
            histogram: false,
        }
    }
    fn check(&self, w: &WindowView<'_>) -> Option<Direction> {
        (w.count() > self.max).then_some(Direction::Escalate)
    }
}

#[test]
fn a_users_sla_type_is_first_class() {
    let mut registry = Registry::with_builtins();
    registry.register_sla("busy", |p| {
        let max = p
            .get("max")
            .and_then(|v| v.as_u64())
            .ok_or("`max` is required")?;
        Ok(Box::new(Busy { max }) as Box<dyn SlaType>)
    });
    let mut params = Map::new();
    params.insert("max".to_string(), json!(20));
    let bp = sava(Sla::Generic {
        sla_type: "busy".into(),
        parameters: params,
        escalations: vec![instances(1, 5, 1)],
    });
    let mut e = Engine::from_blueprint(&bp, &registry, EngineOptions::default()).unwrap();
    // 10 requests a second from 0 s: 21 in the window (-3 s, 2 s]
    let out = replay(&mut e, steady("sava", 0.0, 4.0, 0.1, 10.0));
    assert_eq!(
        brief(&out)[..2],
        [
            "E@2 sava escalate",
            "A@2 sava sava:1.0.0 scale_instances 2->3"
        ]
    );

    let mut bad = Map::new();
    bad.insert("maximum".to_string(), json!(20));
    let bp = sava(Sla::Generic {
        sla_type: "busy".into(),
        parameters: bad,
        escalations: vec![],
    });
    let err = Engine::from_blueprint(&bp, &registry, EngineOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cluster `sava`: SLA `busy`: `max` is required"
    );
}

#[test]
fn unknown_sla_types_and_references_are_not_monitored() {
    let generic = Sla::Generic {
        sla_type: "vital-cloud".into(),
        parameters: Map::new(),
        escalations: vec![],
    };
    let e = engine(&sava(generic));
    assert_eq!(e.notices().len(), 1);
    assert!(e.notices()[0].message.contains("vital-cloud"));
    let reference = Sla::Reference {
        reference: vamp_model::Reference::new("strong"),
        escalations: vec![],
    };
    assert_eq!(engine(&sava(reference)).notices().len(), 1);
}

/// 40 requests to `sava`, 0.25 s apart: (response time, status) `usual`,
/// and `odd` for every tenth.
fn every_tenth(usual: (f64, u16), odd: (f64, u16)) -> Vec<(f64, String, f64, u16)> {
    (0..40)
        .map(|i| {
            let (time, status) = if i % 10 == 9 { odd } else { usual };
            (f64::from(i) * 0.25, "sava".to_string(), time, status)
        })
        .collect()
}

#[test]
fn percentile_sla() {
    let bp = sava_generic(
        "response_time_percentile",
        json!({
            "percentile": "p95", "threshold": {"upper": 800, "lower": 10},
            "window": {"interval": 10, "cooldown": 100}, "minimum_samples": 20
        }),
        vec![instances(1, 5, 1)],
    );
    // 90% fast (100 ms), 10% slow (1000 ms): the average (190) is fine,
    // the p95 (1000) is not; once there are 20 samples.
    let stream = every_tenth((100.0, 200), (1000.0, 200));
    check(
        &bp,
        stream,
        &[
            "E@5 sava escalate",
            "A@5 sava sava:1.0.0 scale_instances 2->3",
        ],
    );
    // the average SLA does not see it
    check(
        &sava(sliding(800, 10, 10, 100, vec![instances(1, 5, 1)])),
        every_tenth((100.0, 200), (1000.0, 200)),
        &[],
    );
}

#[test]
fn error_rate_sla() {
    let bp = sava_generic(
        "error_rate",
        json!({
            "threshold": {"upper": "5%", "lower": 0}, "window": {"interval": 10, "cooldown": 100}
        }),
        vec![instances(1, 5, 1)],
    );
    // 1 in 10 is a 503 from 2 s on: 10% > 5% at the first evaluation after it
    let stream = every_tenth((50.0, 200), (50.0, 503));
    check(
        &bp,
        stream,
        &[
            "E@3 sava escalate",
            "A@3 sava sava:1.0.0 scale_instances 2->3",
        ],
    );
}

#[test]
fn haproxy_log_lines() {
    let bp = sava(sliding(1000, 100, 10, 100, vec![instances(1, 5, 1)]));
    let mut e = engine(&bp);
    let mut out = Vec::new();
    for i in 0..20 {
        let t = 1_714_564_800 + i;
        // the outer hop through the gateway's weight backend: not counted
        let outer = format!(r#"{{"t":{t},"ft":"gw","b":"o_gw","s":"r1","Tt":1900,"ST":200}}"#);
        let route = format!(
            r#"{{"ci":"10.0.0.9","cp":40000,"t":"{}","ft":"r1","b":"shop_2fsava_2fwebport_2fsava:1.0.0","s":"i1","Tq":0,"Tw":0,"Tc":0,"Tr":1800,"Tt":1850,"ST":200,"B":10,"tsc":"----","r":"GET / HTTP/1.1"}}"#,
            format_args!("01/May/2024:12:00:{:02}.000", i)
        );
        e.ingest_line(outer.as_bytes(), &mut out);
        e.ingest_line(route.as_bytes(), &mut out);
        e.ingest_line(b"{\"t\": broken", &mut out);
    }
    e.finish(&mut out);
    assert_eq!(
        brief(&out),
        [
            "E@1714564800 sava escalate",
            "A@1714564800 sava sava:1.0.0 scale_instances 2->3"
        ]
    );
    let s = e.stats();
    assert_eq!(
        (s.lines, s.samples, s.not_route, s.malformed),
        (60, 20, 20, 20)
    );
    let v = e.view(e.cluster_id("sava").unwrap()).unwrap();
    assert_eq!(v.service("sava:1.0.0").unwrap().count, 10);
}

#[test]
fn posted_events_run_escalations_and_start_the_cooldown() {
    let bp = blueprint(vec![
        (
            "sava",
            cluster(
                vec![service("sava:1.0.0", Some(SMALL))],
                Some(sliding(1000, 100, 10, 20, vec![instances(1, 5, 1)])),
            ),
        ),
        (
            "ops",
            cluster(
                vec![service("ops:1", Some(SMALL))],
                Some(Sla::EscalationOnly {
                    escalations: vec![instances(1, 5, 2)],
                }),
            ),
        ),
    ]);
    let mut e = engine(&bp);
    let mut out = Vec::new();
    assert!(e.post_event(5_000, "ops", Direction::Escalate, &mut out));
    assert!(e.post_event(6_000, "sava", Direction::DeEscalate, &mut out));
    assert!(!e.post_event(6_000, "nowhere", Direction::DeEscalate, &mut out));
    // slow from 6 s on, but sava is quiet until 6 + 30 = 36 s
    for (t, c, rt, st) in steady("sava", 6.5, 40.0, 0.5, 2000.0) {
        e.ingest_line(line(t, &c, rt, st).as_bytes(), &mut out);
    }
    e.finish(&mut out);
    assert_eq!(
        brief(&out),
        [
            "E@5 ops escalate",
            "A@5 ops ops:1 scale_instances 2->4",
            "E@6 sava deescalate",
            "A@6 sava sava:1.0.0 scale_instances 2->1",
            "E@36 sava escalate",
            "A@36 sava sava:1.0.0 scale_instances 1->2",
        ]
    );
    assert!(matches!(&out[0], Output::Event(ev) if ev.origin == Origin::Posted));
    assert!(matches!(&out[4], Output::Event(ev) if ev.origin == Origin::Sla));
}

#[test]
fn memory_is_flat_as_the_stream_grows() {
    let bp = sava_generic(
        "response_time_percentile",
        json!({
            "percentile": 99, "threshold": {"upper": 100000, "lower": 0},
            "window": {"interval": 60, "cooldown": 60}
        }),
        vec![],
    );
    let mut e = engine(&bp);
    let c = e.cluster_id("sava").unwrap();
    let s = e.service_id(c, "sava:1.0.0");
    let mut out = Vec::new();
    let feed = |e: &mut Engine, out: &mut Vec<Output>, from: u64, n: u64| {
        for i in from..from + n {
            let sample = vamp_sla::Sample {
                timestamp_ms: i * 7,
                cluster: c,
                service: s,
                response_time_ms: (i % 997) as f64,
                status: 200,
            };
            e.ingest(&sample, out);
        }
    };
    feed(&mut e, &mut out, 0, 100_000);
    let before = e.window_bytes();
    feed(&mut e, &mut out, 100_000, 1_000_000);
    assert_eq!(e.window_bytes(), before);
    assert_eq!(out.len(), 0);
    assert_eq!(e.stats().samples, 1_100_000);
}

#[test]
fn lines_text_and_values_are_one_stream() {
    // The three ways in (one line at a time, a chunk of text, JSON values)
    // decide the same, and count the same, malformed input included.
    let bp = sava(sliding(1000, 100, 10, 20, vec![instances(1, 5, 1)]));
    let mut lines: Vec<String> = steady("sava", 0.0, 60.0, 0.5, 1500.0)
        .into_iter()
        .map(|(t, c, rt, st)| line(t, &c, rt, st))
        .collect();
    lines.insert(10, "not json".into());
    lines.insert(
        20,
        r#"{"timestamp": 5, "cluster": "nope", "response_time": 1, "status": 200}"#.into(),
    );

    let mut by_line = engine(&bp);
    let mut a = Vec::new();
    for l in &lines {
        by_line.ingest_line(l.as_bytes(), &mut a);
    }
    by_line.finish(&mut a);

    let mut by_text = engine(&bp);
    let mut b = Vec::new();
    let text = format!("\n{}\r\n\n", lines.join("\r\n"));
    by_text.ingest_text(text.as_bytes(), &mut b);
    by_text.finish(&mut b);

    let mut by_value = engine(&bp);
    let mut c = Vec::new();
    for l in &lines {
        let v = serde_json::from_str(l).unwrap_or(serde_json::Value::String(l.clone()));
        by_value.ingest_value(&v, &mut c);
    }
    by_value.finish(&mut c);

    assert_eq!(
        brief(&a)[..2],
        [
            "E@0 sava escalate",
            "A@0 sava sava:1.0.0 scale_instances 2->3"
        ]
    );
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(by_line.stats(), by_text.stats());
    assert_eq!(by_line.stats(), by_value.stats());
    let s = by_line.stats();
    assert_eq!(
        (s.malformed, s.unknown_cluster, s.lines),
        (1, 1, lines.len() as u64)
    );
    let stats = serde_json::to_value(s).unwrap();
    assert_eq!(stats["malformed"], 1);
    assert_eq!(stats["not_route"], 0);
}

#[test]
fn from_documents_takes_the_first_blueprint() {
    use vamp_model::{Artifact, Document};
    let doc = |bp| {
        Document::Blueprint(Artifact {
            kind: std::marker::PhantomData,
            name: "bp".into(),
            metadata: Map::new(),
            spec: bp,
        })
    };
    let bp = sava(sliding(1000, 100, 10, 20, vec![instances(1, 5, 1)]));
    let docs = [doc(bp), doc(blueprint(vec![]))];
    let e = Engine::from_documents(&docs, &Registry::with_builtins(), EngineOptions::default())
        .unwrap();
    assert!(e.cluster_id("sava").is_some());
    let err = Engine::from_documents(&[], &Registry::with_builtins(), EngineOptions::default())
        .unwrap_err();
    assert_eq!(
        (err.code().as_str(), err.to_string().as_str()),
        ("no_blueprint", "the documents hold no blueprint")
    );
    let bad = sava_generic("error_rate", json!({}), vec![]);
    let err = Engine::from_documents(
        &[doc(bad)],
        &Registry::with_builtins(),
        EngineOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_sla");
}
