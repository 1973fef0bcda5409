//! `resolve_blueprint` takes a direct path for a fresh blueprint; its
//! result must be exactly the deployment of merging the blueprint into an
//! empty deployment (`lifecycle::merge_with`), errors included.

use vamp_model::lifecycle::merge;
use vamp_model::resolve::resolve_blueprint;
use vamp_model::store::MemoryStore;
use vamp_model::{
    Artifact, Blueprint, Breed, Cluster, Deployable, Deployment, Document, Map, OrRef, Port,
    Reference, Service, TraitValue,
};

const CHAIN: usize = 50;

fn tv(v: &str) -> TraitValue {
    TraitValue {
        value: Some(v.to_owned()),
        alias: None,
        span: None,
    }
}

/// The breed of the resolver benchmark (`benches/benches/resolver.rs`).
fn breed(i: usize) -> Breed {
    let mut ports = Map::new();
    ports.insert("web".to_owned(), Port::parse("8080").expect("port"));
    let mut env = Map::new();
    env.insert("NAME".to_owned(), tv(&format!("service-{i}")));
    env.insert("LABEL".to_owned(), tv("${PREFIX}-$NAME"));
    let mut constants = Map::new();
    constants.insert("PREFIX".to_owned(), tv("shop"));
    let mut dependencies = Map::new();
    if i % CHAIN != 0 {
        dependencies.insert(
            "up".to_owned(),
            OrRef::Reference(Reference::new(format!("b{}", i - 1))),
        );
        env.insert(
            "UP_URL".to_owned(),
            tv("http://$up.host:$up.ports.web/${up.constants.PREFIX}"),
        );
        env.insert("UP_NAME".to_owned(), tv("$up.environment_variables.NAME"));
    }
    Breed {
        name: format!("b{i}"),
        metadata: Map::new(),
        deployable: Deployable {
            deployable_type: None,
            definition: format!("acme/b{i}:1"),
        },
        ports,
        environment_variables: env,
        constants,
        arguments: Vec::new(),
        dependencies,
        health_checks: None,
        span: None,
    }
}

fn service(breed: OrRef<Breed>, name: &str) -> Service {
    let mut env = Map::new();
    env.insert("NAME".to_owned(), tv(name));
    Service {
        breed,
        environment_variables: env,
        scale: None,
        arguments: Vec::new(),
        health_checks: None,
        network: None,
        dialects: Map::new(),
        span: None,
    }
}

fn cluster(services: Vec<Service>) -> Cluster {
    Cluster {
        metadata: Map::new(),
        services,
        gateways: Map::new(),
        health_checks: None,
        network: None,
        sla: None,
        dialects: Map::new(),
        span: None,
    }
}

/// The benchmark's input: half the breeds stored, chains of dependencies.
fn synthetic(n: usize) -> (Artifact<Blueprint>, MemoryStore) {
    let mut store = MemoryStore::default();
    let mut clusters = Map::new();
    for i in 0..n {
        let b = breed(i);
        let breed = if i % 2 == 0 {
            store.insert(Document::Breed(b.clone()));
            OrRef::Reference(Reference::new(b.name.clone()))
        } else {
            OrRef::Inline(b)
        };
        clusters.insert(
            format!("c{i}"),
            cluster(vec![service(breed, &format!("svc-{i}"))]),
        );
    }
    let bp = Artifact::new(
        "synthetic",
        Blueprint {
            gateways: Map::new(),
            clusters,
            environment_variables: Map::new(),
            dialects: Map::new(),
        },
    );
    (bp, store)
}

fn same_as_merge(bp: &Artifact<Blueprint>, store: &MemoryStore) {
    let empty = Artifact::new(bp.name.clone(), Deployment::empty());
    let slow = merge(&empty, bp, store).map(|p| p.deployment);
    let fast = resolve_blueprint(bp, store);
    assert_eq!(fast, slow);
}

#[test]
fn synthetic_blueprint_resolves_as_a_merge_into_nothing() {
    for n in [1, 60, 1_000] {
        let (bp, store) = synthetic(n);
        same_as_merge(&bp, &store);
    }
}

#[test]
fn metadata_blueprint_variables_and_a_breed_written_twice() {
    let (mut bp, store) = synthetic(120);
    bp.metadata
        .insert("team".to_owned(), serde_json::Value::from("shop"));
    bp.spec
        .environment_variables
        .insert("c3.environment_variables.NAME".to_owned(), tv("blue"));
    // A second service of the same breed in one cluster: the later one
    // redeploys the first.
    let again = service(OrRef::Inline(breed(5)), "again");
    if let Some(c) = bp.spec.clusters.get_mut("c5") {
        c.services.push(again);
    }
    same_as_merge(&bp, &store);
}

#[test]
fn errors_are_the_same() {
    let (mut bp, store) = synthetic(10);
    // A missing stored breed.
    if let Some(c) = bp.spec.clusters.get_mut("c4") {
        c.services[0].breed = OrRef::Reference(Reference::new("nowhere"));
    }
    same_as_merge(&bp, &store);
    // A dependency on a breed no cluster runs.
    let (mut bp, store) = synthetic(10);
    bp.spec.clusters.shift_remove("c3");
    same_as_merge(&bp, &store);
}
