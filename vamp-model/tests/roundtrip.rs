//! Canonical JSON reads back to what wrote it: `from_json(to_json(x)) == x`
//! for every artifact kind (through [`Document`]) and for deployments.
#![allow(missing_docs)]

use proptest::prelude::*;
use serde_json::Value;
use vamp_model::rollout::{Analysis, Metric, OnFailure, OnInconclusive, Rollout};
use vamp_model::{
    Argument, Artifact, Blueprint, Breed, Cluster, ConditionDef, ConditionText, Deployable,
    DeployedCluster, DeployedService, Deployment, Document, Escalation, Gateway, GatewayService,
    HealthCheck, Instance, Intention, Map, OrRef, Phase, Port, Reference, Rewrite, Route,
    RouteCondition, Scale, ScaleResource, Service, Sla, Status, Sticky, Threshold, TraitValue,
    Window, Workflow,
};

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9:./_-]{0,8}"
}

fn text() -> impl Strategy<Value = String> {
    "[ -~é]{0,10}"
}

fn map_of<S: Strategy>(s: S) -> impl Strategy<Value = Map<S::Value>> {
    prop::collection::vec((name(), s), 0..3).prop_map(|v| v.into_iter().collect())
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
        prop::collection::vec(text(), 0..3).prop_map(Value::from),
    ]
}

fn reference() -> impl Strategy<Value = Reference> {
    name().prop_map(Reference::new)
}

fn or_ref<S: Strategy>(inline: S) -> impl Strategy<Value = OrRef<S::Value>>
where
    S::Value: std::fmt::Debug,
{
    prop_oneof![
        reference().prop_map(OrRef::Reference),
        inline.prop_map(OrRef::Inline)
    ]
}

fn trait_value() -> impl Strategy<Value = TraitValue> {
    (prop::option::of(text()), prop::option::of("[A-Z_]{1,6}")).prop_map(|(value, alias)| {
        TraitValue {
            value,
            alias,
            span: None,
        }
    })
}

fn port() -> impl Strategy<Value = Port> {
    prop_oneof![
        (
            any::<u16>(),
            prop::sample::select(vec!["", "/http", "/tcp"])
        )
            .prop_map(|(n, suffix)| format!("{n}{suffix}")),
        Just("$db.constants.port".to_owned()),
    ]
    .prop_map(|t| Port::parse(&t).expect("a port"))
}

fn health_check() -> impl Strategy<Value = HealthCheck> {
    (
        text(),
        name(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        prop::sample::select(vec!["HTTP", "HTTPS", "TCP", "COMMAND"]),
    )
        .prop_map(
            |(path, port, initial_delay, timeout, interval, failures, protocol)| HealthCheck {
                path,
                port,
                initial_delay,
                timeout,
                interval,
                failures,
                protocol: protocol.to_owned(),
                span: None,
            },
        )
}

fn health_checks() -> impl Strategy<Value = Option<Vec<HealthCheck>>> {
    prop::option::of(prop::collection::vec(health_check(), 0..2))
}

fn arguments() -> impl Strategy<Value = Vec<Argument>> {
    prop::collection::vec(
        (name(), text()).prop_map(|(key, value)| Argument { key, value }),
        0..2,
    )
}

fn breed_with(dependencies: BoxedStrategy<Map<OrRef<Breed>>>) -> impl Strategy<Value = Breed> {
    (
        name(),
        map_of(value()),
        (prop::option::of("docker|container/docker"), text()),
        map_of(port()),
        map_of(trait_value()),
        map_of(trait_value()),
        arguments(),
        dependencies,
        health_checks(),
    )
        .prop_map(
            |(
                name,
                metadata,
                (deployable_type, definition),
                ports,
                environment_variables,
                constants,
                arguments,
                dependencies,
                health_checks,
            )| Breed {
                name,
                metadata,
                deployable: Deployable {
                    deployable_type,
                    definition,
                },
                ports,
                environment_variables,
                constants,
                arguments,
                dependencies,
                health_checks,
                span: None,
            },
        )
}

/// A breed whose dependencies are references or inline breeds without
/// dependencies.
fn breed() -> impl Strategy<Value = Breed> {
    let leaf = breed_with(Just(Map::new()).boxed());
    breed_with(map_of(or_ref(leaf)).boxed())
}

fn scale() -> impl Strategy<Value = Scale> {
    (0.0..64.0f64, 0.0..1e6f64, any::<u32>()).prop_map(|(cpu, memory, instances)| Scale {
        cpu,
        memory,
        instances,
    })
}

fn condition_text() -> impl Strategy<Value = ConditionText> {
    prop::sample::select(vec![
        "has cookie vamp",
        "user-agent == Firefox and not host == 'a b'",
        "<path_beg /api>",
        "has",
        "header X-Id has 1 or misses cookie c",
    ])
    .prop_map(ConditionText::new)
}

fn rewrite() -> impl Strategy<Value = Rewrite> {
    (text(), text()).prop_map(|(path, condition)| Rewrite { path, condition })
}

fn route() -> impl Strategy<Value = Route> {
    (
        prop::option::of(0u8..=100),
        prop::option::of(prop_oneof![
            reference().prop_map(RouteCondition::Reference),
            condition_text().prop_map(|definition| RouteCondition::Inline {
                definition,
                span: None
            }),
        ]),
        prop::option::of(0u8..=100),
        prop::collection::vec(or_ref(rewrite()), 0..2),
        prop::option::of("roundrobin|leastconn"),
        prop::option::of(text()),
    )
        .prop_map(
            |(weight, condition, condition_strength, rewrites, balance, selector)| Route {
                weight,
                condition,
                condition_strength,
                rewrites,
                balance,
                selector,
                span: None,
            },
        )
}

fn gateway() -> impl Strategy<Value = Gateway> {
    (
        prop::option::of(port()),
        prop::option::of((name(), port()).prop_map(|(host, port)| GatewayService { host, port })),
        prop::option::of(prop_oneof![Just(Sticky::Route), Just(Sticky::Instance)]),
        prop::collection::vec(name(), 0..2),
        prop::option::of(text()),
        map_of(or_ref(route())),
    )
        .prop_map(
            |(port, service, sticky, virtual_hosts, selector, routes)| Gateway {
                port,
                service,
                sticky,
                virtual_hosts,
                selector,
                routes,
                span: None,
                routes_span: None,
            },
        )
}

fn escalation() -> impl Strategy<Value = Escalation> {
    let scale = (
        prop::sample::select(ScaleResource::ALL.to_vec()),
        0u32..1000,
        0u32..1000,
        1u32..10,
        0.0..8.0f64,
        prop::option::of(name()),
    )
        .prop_map(|(resource, min, max, by, fraction, target)| {
            // Instances are whole numbers in the canonical form.
            let extra = if resource == ScaleResource::Instances {
                0.0
            } else {
                fraction
            };
            Escalation::Scale {
                resource,
                minimum: f64::from(min) + extra,
                maximum: f64::from(max) + extra,
                scale_by: f64::from(by) + extra,
                target,
                span: None,
            }
        });
    let leaf = prop_oneof![
        scale,
        ("[a-z]{1,8}", map_of(value()))
            .prop_filter("not a known type", |(t, _)| {
                !matches!(t.as_str(), "to_all" | "to_one")
            })
            .prop_map(|(escalation_type, parameters)| Escalation::Generic {
                escalation_type,
                parameters,
            }),
        reference().prop_map(Escalation::Reference),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Escalation::ToAll),
            prop::collection::vec(inner, 0..3).prop_map(Escalation::ToOne),
        ]
    })
}

fn escalations() -> impl Strategy<Value = Vec<Escalation>> {
    prop::collection::vec(escalation(), 0..3)
}

fn sla() -> impl Strategy<Value = Sla> {
    prop_oneof![
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            escalations()
        )
            .prop_map(|(upper, lower, interval, cooldown, escalations)| {
                Sla::ResponseTimeSlidingWindow {
                    threshold: Threshold { upper, lower },
                    window: Window { interval, cooldown },
                    escalations,
                }
            }),
        escalations().prop_map(|escalations| Sla::EscalationOnly { escalations }),
        ("[a-z_]{1,12}", map_of(value()), escalations())
            .prop_filter("not a known type", |(t, _, _)| {
                !matches!(
                    t.as_str(),
                    "response_time_sliding_window" | "escalation_only"
                )
            })
            .prop_map(|(sla_type, parameters, escalations)| Sla::Generic {
                sla_type,
                parameters,
                escalations,
            }),
        (reference(), escalations()).prop_map(|(reference, escalations)| Sla::Reference {
            reference,
            escalations,
        }),
    ]
}

fn service() -> impl Strategy<Value = Service> {
    (
        or_ref(breed()),
        map_of(trait_value()),
        prop::option::of(or_ref(scale())),
        arguments(),
        health_checks(),
        prop::option::of(name()),
        map_of(value()),
    )
        .prop_map(
            |(breed, environment_variables, scale, arguments, health_checks, network, dialects)| {
                Service {
                    breed,
                    environment_variables,
                    scale,
                    arguments,
                    health_checks,
                    network,
                    dialects,
                    span: None,
                }
            },
        )
}

fn cluster() -> impl Strategy<Value = Cluster> {
    (
        map_of(value()),
        prop::collection::vec(service(), 0..2),
        map_of(gateway()),
        health_checks(),
        prop::option::of(name()),
        prop::option::of(sla()),
        map_of(value()),
    )
        .prop_map(
            |(metadata, services, gateways, health_checks, network, sla, dialects)| Cluster {
                metadata,
                services,
                gateways,
                health_checks,
                network,
                sla,
                dialects,
                span: None,
            },
        )
}

fn blueprint() -> impl Strategy<Value = Blueprint> {
    (
        map_of(gateway()),
        map_of(cluster()),
        map_of(trait_value()),
        map_of(value()),
    )
        .prop_map(
            |(gateways, clusters, environment_variables, dialects)| Blueprint {
                gateways,
                clusters,
                environment_variables,
                dialects,
            },
        )
}

fn workflow() -> impl Strategy<Value = Workflow> {
    (
        or_ref(breed()),
        value(),
        prop::option::of(or_ref(scale())),
        map_of(trait_value()),
        arguments(),
        map_of(value()),
    )
        .prop_map(
            |(breed, schedule, scale, environment_variables, arguments, dialects)| Workflow {
                breed,
                schedule,
                scale,
                environment_variables,
                arguments,
                dialects,
            },
        )
}

fn rollout() -> impl Strategy<Value = Rollout> {
    let metric = prop_oneof![
        any::<u8>().prop_map(|max_increase| Metric::ResponseTime { max_increase }),
        (prop::option::of(any::<u8>()), prop::option::of(any::<u8>()))
            .prop_map(|(max, max_increase)| Metric::ErrorRate { max, max_increase }),
    ];
    let analysis = (
        any::<u64>(),
        any::<u64>(),
        any::<u8>(),
        prop::collection::vec(metric, 0..3),
    )
        .prop_map(|(min_samples, max_wait, confidence, metrics)| Analysis {
            min_samples,
            max_wait,
            confidence,
            metrics,
        });
    (
        (name(), name(), prop::option::of(name()), name(), name()),
        (
            prop::collection::vec(any::<u8>(), 0..4),
            any::<u64>(),
            analysis,
        ),
        prop_oneof![Just(OnFailure::Rollback), Just(OnFailure::Undeploy)],
        prop_oneof![
            Just(OnInconclusive::Hold),
            Just(OnInconclusive::Rollback),
            Just(OnInconclusive::Promote)
        ],
    )
        .prop_map(
            |(
                (deployment, cluster, port, from, to),
                (steps, interval, analysis),
                on_failure,
                on_inconclusive,
            )| Rollout {
                deployment,
                cluster,
                port,
                from,
                to,
                steps,
                interval,
                analysis,
                on_failure,
                on_inconclusive,
            },
        )
}

fn artifact<T: vamp_model::Spec + std::fmt::Debug>(
    spec: impl Strategy<Value = T>,
) -> impl Strategy<Value = Artifact<T>> {
    (name(), map_of(value()), spec).prop_map(|(name, metadata, spec)| {
        let mut a = Artifact::new(name, spec);
        a.metadata = metadata;
        a
    })
}

fn document() -> impl Strategy<Value = Document> {
    prop_oneof![
        breed().prop_map(Document::Breed),
        artifact(blueprint()).prop_map(Document::Blueprint),
        artifact(gateway()).prop_map(Document::Gateway),
        artifact(condition_text().prop_map(|definition| ConditionDef { definition }))
            .prop_map(Document::Condition),
        artifact(rewrite()).prop_map(Document::Rewrite),
        artifact(scale()).prop_map(Document::Scale),
        artifact(sla()).prop_map(Document::Sla),
        artifact(escalation()).prop_map(Document::Escalation),
        artifact(workflow()).prop_map(Document::Workflow),
        artifact(rollout()).prop_map(Document::Rollout),
    ]
}

fn status() -> impl Strategy<Value = Status> {
    (
        prop_oneof![Just(Intention::Deploy), Just(Intention::Undeploy)],
        prop_oneof![
            Just(Phase::Initiated),
            Just(Phase::Updating),
            Just(Phase::Done),
            Just(Phase::Failed)
        ],
        prop::option::of(text()),
    )
        .prop_map(|(intention, phase, reason)| Status {
            intention,
            phase,
            reason,
        })
}

fn instance() -> impl Strategy<Value = Instance> {
    (name(), name(), map_of(any::<u16>()), any::<bool>()).prop_map(
        |(name, host, ports, healthy)| Instance {
            name,
            host,
            ports,
            healthy,
        },
    )
}

fn deployed_service() -> impl Strategy<Value = DeployedService> {
    (
        (breed(), map_of(trait_value()), scale(), map_of(text())),
        (arguments(), health_checks(), prop::option::of(name())),
        (map_of(value()), map_of(name()), status()),
        prop::collection::vec(instance(), 0..2),
    )
        .prop_map(
            |(
                (breed, environment_variables, scale, environment),
                (arguments, health_checks, network),
                (dialects, dependencies, status),
                instances,
            )| DeployedService {
                breed,
                environment_variables,
                scale,
                environment,
                arguments,
                health_checks,
                network,
                dialects,
                dependencies,
                status,
                instances,
            },
        )
}

/// A deployment: the parts it shares with a blueprint and a cluster come
/// from those strategies.
fn deployment() -> impl Strategy<Value = Artifact<Deployment>> {
    let cluster =
        (cluster(), prop::collection::vec(deployed_service(), 0..2)).prop_map(|(c, services)| {
            DeployedCluster {
                metadata: c.metadata,
                services,
                gateways: c.gateways,
                health_checks: c.health_checks,
                network: c.network,
                sla: c.sla,
                dialects: c.dialects,
            }
        });
    artifact(
        (blueprint(), map_of(cluster)).prop_map(|(b, clusters)| Deployment {
            gateways: b.gateways,
            clusters,
            environment_variables: b.environment_variables,
            dialects: b.dialects,
        }),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_document_reads_back(doc in document()) {
        let json = serde_json::to_value(&doc).expect("serializes");
        let back: Document = serde_json::from_value(json.clone())
            .map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
        prop_assert_eq!(back, doc);
    }

    #[test]
    fn deployments_read_back(d in deployment()) {
        let json = serde_json::to_value(&d).expect("serializes");
        let back = Deployment::from_json(&json)
            .map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
        prop_assert_eq!(back, d);
    }
}

#[test]
fn a_kind_that_does_not_match_is_an_error() {
    let json = serde_json::json!({"kind": "scale", "name": "s", "cpu": 1.0, "memory": 1.0, "instances": 1});
    let doc: Document = serde_json::from_value(json.clone()).expect("a scale");
    assert_eq!(doc.kind(), vamp_model::Kind::Scale);
    let wrong = serde_json::from_value::<Artifact<Rewrite>>(json);
    assert!(wrong.is_err(), "{wrong:?}");
    let err = Deployment::from_json(&serde_json::json!({"kind": "blueprint", "name": "x"}))
        .expect_err("not a deployment");
    assert_eq!(err.code, vamp_model::Code::InconsistentArtifactKind);
    let err =
        Deployment::from_json(&serde_json::json!({"kind": "deployment"})).expect_err("no name");
    assert_eq!(err.code, vamp_model::Code::MissingPathValue);
}
