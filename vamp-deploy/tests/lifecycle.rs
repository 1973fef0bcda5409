//! Properties of resolution and the deployment lifecycle, on generated
//! blueprints: resolution is idempotent, merging then removing the same
//! blueprint gives the original deployment back, and every gateway's
//! weights total 100.

use proptest::prelude::*;
use vamp_deploy::lifecycle::{merge, remove, Step};
use vamp_deploy::resolve::{blueprint_of, deploy_order, resolve_blueprint};
use vamp_deploy::store::{MemoryStore, Store};
use vamp_model::{
    Artifact, Blueprint, Breed, Cluster, Code, Deployable, Deployment, Document, Gateway, Map,
    OrRef, Port, Reference, Route, Scale, Service, TraitValue,
};

fn tv(v: Option<&str>) -> TraitValue {
    TraitValue {
        value: v.map(str::to_owned),
        alias: None,
        span: None,
    }
}

fn breed(name: &str, two_ports: bool, dep: Option<&str>) -> Breed {
    let mut ports = Map::new();
    ports.insert("p".to_owned(), Port::parse("8080").expect("port"));
    if two_ports {
        ports.insert("q".to_owned(), Port::parse("9090/tcp").expect("port"));
    }
    let mut env = Map::new();
    env.insert("PLAIN".to_owned(), tv(Some("x")));
    env.insert("HOLE".to_owned(), tv(None));
    let mut constants = Map::new();
    constants.insert("K".to_owned(), tv(Some(name)));
    let mut dependencies = Map::new();
    if let Some(d) = dep {
        dependencies.insert("up".to_owned(), OrRef::Reference(Reference::new(d)));
        env.insert(
            "UP".to_owned(),
            tv(Some(
                "$up.host:$up.ports.p/${up.constants.K}-$up.environment_variables.PLAIN",
            )),
        );
    }
    Breed {
        name: name.to_owned(),
        deployable: Deployable::untyped(format!("img/{name}")),
        ports,
        environment_variables: env,
        constants,
        dependencies,
        ..Breed::default()
    }
}

fn service(b: Breed, by_reference: bool) -> Service {
    let mut env = Map::new();
    env.insert("HOLE".to_owned(), tv(Some("filled")));
    let breed = if by_reference {
        OrRef::Reference(Reference::new(b.name.clone()))
    } else {
        OrRef::Inline(b)
    };
    Service {
        environment_variables: env,
        ..Service::new(breed)
    }
}

fn cluster(services: Vec<Service>, gateways: Map<Gateway>) -> Cluster {
    Cluster {
        services,
        gateways,
        ..Cluster::default()
    }
}

fn blueprint(name: &str, clusters: Map<Cluster>) -> Artifact<Blueprint> {
    Artifact::new(
        name,
        Blueprint {
            clusters,
            ..Blueprint::default()
        },
    )
}

/// One generated cluster: services (each: two ports?, by reference?), a
/// dependency on an earlier cluster's first breed, written weights.
#[derive(Debug, Clone)]
struct Shape {
    services: Vec<(bool, bool)>,
    dep: Option<usize>,
    weights: Vec<Option<u8>>,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::collection::vec((any::<bool>(), any::<bool>()), 1..4),
        prop::option::of(0usize..8),
        prop::collection::vec(prop::option::of(0u8..60), 0..4),
    )
        .prop_map(|(services, dep, weights)| Shape {
            services,
            dep,
            weights,
        })
}

/// Builds a blueprint (and the store its references need) from shapes;
/// breed names carry `prefix` so that two blueprints never share one.
fn build(
    prefix: &str,
    shapes: &[Shape],
    deps_from: &[String],
    store: &mut MemoryStore,
    name: &str,
) -> (Artifact<Blueprint>, Vec<String>) {
    let mut clusters = Map::new();
    let mut firsts: Vec<String> = deps_from.to_vec();
    let mut mine = Vec::new();
    for (ci, sh) in shapes.iter().enumerate() {
        let dep = sh
            .dep
            .and_then(|d| firsts.get(d % firsts.len().max(1)).cloned());
        let mut services = Vec::new();
        let mut names = Vec::new();
        for (si, (two, by_ref)) in sh.services.iter().enumerate() {
            let bname = format!("{prefix}{ci}-{si}");
            let b = breed(&bname, *two, dep.as_deref());
            if *by_ref {
                store.insert(Document::Breed(b.clone()));
            }
            services.push(service(b, *by_ref));
            names.push(bname);
        }
        // Written weights on port `p`: valid by construction (the last
        // route takes what is left unless some route has no weight).
        let mut gateways = Map::new();
        if !sh.weights.is_empty() {
            let mut routes = Map::new();
            let mut left: u32 = 100;
            for (i, n) in names.iter().enumerate() {
                let w = sh
                    .weights
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|w| u32::from(w).min(left));
                let w = if i + 1 == names.len()
                    && sh.weights.iter().take(names.len()).all(Option::is_some)
                {
                    Some(left)
                } else {
                    w
                };
                if let Some(w) = w {
                    left -= w;
                }
                routes.insert(
                    n.clone(),
                    OrRef::Inline(Route {
                        weight: w.and_then(|w| u8::try_from(w).ok()),
                        ..Route::default()
                    }),
                );
            }
            gateways.insert(
                "p".to_owned(),
                Gateway {
                    routes,
                    ..Gateway::default()
                },
            );
        }
        firsts.push(names[0].clone());
        mine.extend(names);
        clusters.insert(format!("c{ci}"), cluster(services, gateways));
    }
    (blueprint(name, clusters), mine)
}

fn weights_total_100(d: &Deployment) -> Result<(), String> {
    for (cname, c) in &d.clusters {
        for (port, g) in &c.gateways {
            let total: u32 = g
                .routes
                .values()
                .map(|r| r.as_inline().and_then(|r| r.weight).map_or(0, u32::from))
                .sum();
            if total != 100 {
                return Err(format!("{cname}/{port} totals {total}"));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn resolution_is_idempotent(shapes in prop::collection::vec(shape(), 1..6)) {
        let mut store = MemoryStore::default();
        let (bp, _) = build("b", &shapes, &[], &mut store, "shop");
        let d = resolve_blueprint(&bp, &store).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(resolve_blueprint(&bp, &store).ok(), Some(d.clone()));
        let again = resolve_blueprint(&blueprint_of(&d), &store).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again, d.clone());
        // Through the canonical JSON too.
        let json = serde_json::to_value(&d).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = Deployment::from_json(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, d);
    }

    #[test]
    fn fresh_resolution_is_a_merge_into_nothing(shapes in prop::collection::vec(shape(), 1..6)) {
        let mut store = MemoryStore::default();
        let (bp, _) = build("b", &shapes, &[], &mut store, "shop");
        let empty = Artifact::new("shop", Deployment::empty());
        let slow = merge(&empty, &bp, &store).map(|p| p.deployment);
        prop_assert_eq!(resolve_blueprint(&bp, &store), slow);
    }

    #[test]
    fn weights_always_total_100(shapes in prop::collection::vec(shape(), 1..6), more in prop::collection::vec(shape(), 1..4)) {
        let mut store = MemoryStore::default();
        let (bp, names) = build("b", &shapes, &[], &mut store, "shop");
        let d = resolve_blueprint(&bp, &store).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(weights_total_100(&d.spec), Ok(()));
        // Merge more services into the same clusters, with or without weights.
        let (bp2, _) = build("n", &more, &names, &mut store, "more");
        let plan = merge(&d, &bp2, &store).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(weights_total_100(&plan.deployment.spec), Ok(()));
    }

    #[test]
    fn merge_then_remove_gives_the_original(shapes in prop::collection::vec(shape(), 1..5), more in prop::collection::vec(shape(), 1..4), rename in any::<bool>()) {
        let mut store = MemoryStore::default();
        let (bp, names) = build("b", &shapes, &[], &mut store, "shop");
        let d = resolve_blueprint(&bp, &store).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // No weights: new services arrive at 0% and can leave again.
        let quiet: Vec<Shape> = more.into_iter().map(|s| Shape { weights: Vec::new(), ..s }).collect();
        let (mut bp2, _) = build("n", &quiet, &names, &mut store, "canary");
        if rename {
            // Also clusters the deployment does not have yet.
            bp2.spec.clusters = bp2.spec.clusters.into_iter().enumerate().map(|(i, (k, v))| if i % 2 == 1 { (format!("new{k}"), v) } else { (k, v) }).collect();
        }
        let plan = merge(&d, &bp2, &store).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let deploys = plan.steps.iter().filter(|s| matches!(s, Step::DeployService { .. })).count();
        prop_assert!(deploys > 0);
        let back = remove(&plan.deployment, &bp2).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.deployment, d);
        let undeploys = back.steps.iter().filter(|s| matches!(s, Step::UndeployService { .. })).count();
        prop_assert_eq!(undeploys, deploys);
    }
}

#[test]
fn default_scale_status_and_steps() {
    let mut store = MemoryStore::default();
    let db = breed("db", false, None);
    let web = breed("web", true, Some("db"));
    store.put(Document::Breed(db.clone())).expect("put");
    store
        .put(Document::Scale(Artifact::new(
            "big",
            Scale {
                cpu: 4.0,
                memory: 4000.0,
                instances: 3,
            },
        )))
        .expect("put");
    let mut s = service(web, false);
    s.scale = Some(OrRef::Reference(Reference::new("big")));
    let mut clusters = Map::new();
    clusters.insert("front".to_owned(), cluster(vec![s], Map::new()));
    clusters.insert(
        "back".to_owned(),
        cluster(vec![service(db, true)], Map::new()),
    );
    let bp = blueprint("shop", clusters);
    let d = resolve_blueprint(&bp, &store).expect("resolves");
    let front = &d.spec.clusters["front"].services[0];
    assert_eq!(
        front.scale,
        Scale {
            cpu: 4.0,
            memory: 4000.0,
            instances: 3
        }
    );
    assert_eq!(d.spec.clusters["back"].services[0].scale, Scale::DEFAULT);
    assert_eq!(front.status, vamp_model::Status::deploy());
    assert!(front.instances.is_empty());
    assert_eq!(front.environment["UP"], "$up.host:$up.ports.p/db-x");
    assert_eq!(front.dependencies["up"], "back");
    let order = deploy_order(&d.spec).expect("order");
    assert_eq!(
        order.iter().map(|s| s.service.as_str()).collect::<Vec<_>>(),
        vec!["db", "web"]
    );
    // Merging the same blueprint again redeploys every service, dependencies first.
    let plan = merge(&d, &bp, &store).expect("merges");
    let steps: Vec<String> = plan
        .steps
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default())
        .collect();
    assert_eq!(
        steps,
        vec![
            r#"{"step":"redeploy_service","cluster":"back","service":"db"}"#.to_owned(),
            r#"{"step":"redeploy_service","cluster":"front","service":"web"}"#.to_owned(),
        ]
    );
    assert_eq!(plan.deployment, d);
    // Removing everything removes every cluster and gateway.
    let gone = remove(&d, &bp).expect("removes");
    assert!(gone.deployment.spec.clusters.is_empty());
    assert!(gone.steps.contains(&Step::RemoveGateway {
        gateway: "shop/front/q".to_owned()
    }));
    assert_eq!(
        gone.steps
            .iter()
            .filter(|s| matches!(s, Step::UndeployService { .. }))
            .count(),
        2
    );
    // Undeploy in reverse dependency order.
    let first = gone
        .steps
        .iter()
        .find(|s| matches!(s, Step::UndeployService { .. }));
    assert_eq!(
        first,
        Some(&Step::UndeployService {
            cluster: "front".to_owned(),
            service: "web".to_owned()
        })
    );
}

#[test]
fn memory_store_revisions() {
    let mut store = MemoryStore::default();
    let doc = |cpu| {
        Document::Scale(Artifact::new(
            "s",
            Scale {
                cpu,
                memory: 1.0,
                instances: 1,
            },
        ))
    };
    assert_eq!(store.put(doc(1.0)).expect("put"), 1);
    assert_eq!(store.put(doc(2.0)).expect("put"), 2);
    assert!(store.delete(vamp_model::Kind::Scale, "s").expect("delete"));
    assert!(!store.delete(vamp_model::Kind::Scale, "s").expect("delete"));
    assert!(store
        .list(vamp_model::Kind::Scale)
        .expect("list")
        .is_empty());
    assert_eq!(store.put(doc(3.0)).expect("put"), 4);
    let h = store
        .history(vamp_model::Kind::Scale, "s")
        .expect("history");
    assert_eq!(
        h.iter()
            .map(|r| (r.revision, r.document.is_some()))
            .collect::<Vec<_>>(),
        vec![(1, true), (2, true), (3, false), (4, true)]
    );
    assert!(store.revision(vamp_model::Kind::Scale, "s", 3).is_err());
    let changes = store
        .diff(vamp_model::Kind::Scale, "s", 1, 4)
        .expect("diff");
    assert_eq!(changes.len(), 1);
    let e = resolve_blueprint(&blueprint("x", Map::new()), &store);
    assert!(e.is_ok());
    let _ = Code::Io;
}
