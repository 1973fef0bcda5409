//! Properties over random streams and escalation trees.

mod common;

use common::*;
use proptest::prelude::*;
use vamp_model::{Escalation, ScaleResource};
use vamp_sla::{Direction, Engine, Origin, Output};

/// Two clusters, each with its own window, thresholds and cooldown.
fn two_clusters(a: (u64, u64, u64, u64), b: (u64, u64, u64, u64)) -> vamp_model::Blueprint {
    let sla = |(upper, lower, interval, cooldown): (u64, u64, u64, u64)| {
        sliding(upper, lower, interval, cooldown, vec![instances(1, 4, 1)])
    };
    blueprint(vec![
        (
            "a",
            cluster(vec![service("a:1", Some(SMALL))], Some(sla(a))),
        ),
        (
            "b",
            cluster(vec![service("b:1", Some(SMALL))], Some(sla(b))),
        ),
    ])
}

fn sla_params() -> impl Strategy<Value = (u64, u64, u64, u64)> {
    (500u64..1500, 0u64..500, 1u64..20, 0u64..30)
}

/// (gap ms, cluster a?, response time ms, 5xx?)
fn stream() -> impl Strategy<Value = Vec<(u64, bool, u32, bool)>> {
    proptest::collection::vec(
        (0u64..2500, any::<bool>(), 0u32..2500, any::<bool>()),
        0..400,
    )
}

fn lines(stream: &[(u64, bool, u32, bool)]) -> Vec<String> {
    let mut t = 1_700_000_000_000u64;
    stream
        .iter()
        .map(|&(gap, a, rt, err)| {
            t += gap;
            line(
                t as f64 / 1000.0,
                if a { "a" } else { "b" },
                f64::from(rt),
                if err { 503 } else { 200 },
            )
        })
        .collect()
}

fn run(engine: &mut Engine, lines: &[String]) -> Vec<Output> {
    let mut out = Vec::new();
    for l in lines {
        engine.ingest_line(l.as_bytes(), &mut out);
    }
    engine.finish(&mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// After an event, a cluster is quiet for interval + cooldown seconds
    /// (so never two events closer than the cooldown).
    #[test]
    fn events_respect_the_cooldown(pa in sla_params(), pb in sla_params(), s in stream()) {
        let mut e = engine(&two_clusters(pa, pb));
        let out = run(&mut e, &lines(&s));
        for (name, (_, _, interval, cooldown)) in [("a", pa), ("b", pb)] {
            let times: Vec<u64> = out.iter().filter_map(|o| match o {
                Output::Event(ev) if ev.cluster == name => Some(ev.timestamp_ms),
                _ => None,
            }).collect();
            for w in times.windows(2) {
                prop_assert!(w[1] - w[0] >= (interval + cooldown) * 1000, "{name}: {w:?}");
                prop_assert!(w[1] - w[0] >= cooldown * 1000);
            }
        }
        prop_assert_eq!(e.stats().samples, s.len() as u64);
    }

    /// Replaying the same stream gives the same events and actions.
    #[test]
    fn replay_is_deterministic(pa in sla_params(), pb in sla_params(), s in stream()) {
        let bp = two_clusters(pa, pb);
        let l = lines(&s);
        let first = run(&mut engine(&bp), &l);
        let second = run(&mut engine(&bp), &l);
        prop_assert_eq!(&first, &second);
        // outputs come in time order
        prop_assert!(first.windows(2).all(|w| w[0].timestamp_ms() <= w[1].timestamp_ms()));
    }
}

#[derive(Debug, Clone)]
struct Leaf {
    resource: ScaleResource,
    min: f64,
    max: f64,
    by: f64,
    target: Option<&'static str>,
}

fn leaf() -> impl Strategy<Value = Leaf> {
    (
        prop_oneof![
            Just(ScaleResource::Instances),
            Just(ScaleResource::Cpu),
            Just(ScaleResource::Memory)
        ],
        0u32..6,
        0u32..6,
        1u32..4,
        prop_oneof![
            Just(None),
            Just(Some("web")),
            Just(Some("db")),
            Just(Some("gone"))
        ],
    )
        .prop_map(|(resource, a, b, by, target)| {
            let unit = match resource {
                ScaleResource::Instances => 1.0,
                ScaleResource::Cpu => 0.25,
                ScaleResource::Memory => 256.0,
            };
            Leaf {
                resource,
                min: f64::from(a.min(b)) * unit,
                max: f64::from(a.max(b)) * unit,
                by: f64::from(by) * unit,
                target,
            }
        })
}

fn tree() -> impl Strategy<Value = Escalation> {
    let l = leaf().prop_map(|l| scale(l.resource, l.min, l.max, l.by, l.target));
    l.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Escalation::ToAll),
            proptest::collection::vec(inner, 0..4).prop_map(Escalation::ToOne),
        ]
    })
}

fn leaves(e: &Escalation, out: &mut Vec<(ScaleResource, f64, f64, String)>) {
    match e {
        Escalation::Scale {
            resource,
            minimum,
            maximum,
            target,
            ..
        } => out.push((
            *resource,
            *minimum,
            *maximum,
            target.clone().unwrap_or_else(|| "web".into()),
        )),
        Escalation::ToAll(l) | Escalation::ToOne(l) => l.iter().for_each(|m| leaves(m, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every scale action lands inside the bounds of an escalation of its
    /// cluster and resource, and starts where the previous action left it.
    #[test]
    fn scale_targets_stay_in_bounds(
        t in tree(),
        directions in proptest::collection::vec(any::<bool>(), 1..40),
    ) {
        let bp = blueprint(vec![
            ("web", cluster(vec![service("web:1", Some(SMALL))], Some(vamp_model::Sla::EscalationOnly { escalations: vec![t.clone()] }))),
            ("db", cluster(vec![service("db:1", None)], None)),
        ]);
        let mut e = engine(&bp);
        let mut out = Vec::new();
        for (i, up) in directions.iter().enumerate() {
            let d = if *up { Direction::Escalate } else { Direction::DeEscalate };
            e.post_event(i as u64 * 1000, "web", d, &mut out);
        }
        let mut bounds = Vec::new();
        leaves(&t, &mut bounds);
        let mut last: std::collections::HashMap<(String, &str), f64> = Default::default();
        for o in &out {
            if let Output::Scale(a) = o {
                prop_assert!(
                    bounds.iter().any(|(r, min, max, c)| *r == a.resource && *c == a.cluster && *min <= a.to && a.to <= *max),
                    "{a:?} outside {bounds:?}"
                );
                if let Some(prev) = last.insert((a.cluster.clone(), a.resource.as_str()), a.to) {
                    prop_assert_eq!(prev, a.from);
                }
            }
            if let Output::Event(ev) = o {
                prop_assert_eq!(ev.origin, Origin::Posted);
            }
        }
    }
}
