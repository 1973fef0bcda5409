//! The synthetic blueprints of the resolver benchmark
//! (`benches/benches/resolver.rs`), shared with the tests that check the
//! resolver on them: dependency chains of 50 (each cluster depends on the one
//! before it), half the breeds referenced from a store, and environment
//! values that refer to the dependency's host, port, variable and constant
//! and to the breed's own constants.
#![allow(dead_code)]

use vamp_deploy::store::MemoryStore;
use vamp_model::{
    Artifact, Blueprint, Breed, Cluster, Deployable, Document, Map, OrRef, Port, Reference,
    Service, TraitValue,
};

/// Clusters per dependency chain.
pub(crate) const CHAIN: usize = 50;

/// A trait value.
pub(crate) fn tv(v: &str) -> TraitValue {
    TraitValue {
        value: Some(v.to_owned()),
        alias: None,
        span: None,
    }
}

/// Breed `b{i}`; it depends on `b{i-1}` unless it starts a chain.
pub(crate) fn breed(i: usize) -> Breed {
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
        deployable: Deployable::untyped(format!("acme/b{i}:1")),
        ports,
        environment_variables: env,
        constants,
        dependencies,
        ..Breed::default()
    }
}

/// A service of `breed` that sets `NAME`.
pub(crate) fn service(breed: OrRef<Breed>, name: &str) -> Service {
    let mut env = Map::new();
    env.insert("NAME".to_owned(), tv(name));
    Service {
        environment_variables: env,
        ..Service::new(breed)
    }
}

/// A cluster of these services.
pub(crate) fn cluster(services: Vec<Service>) -> Cluster {
    Cluster {
        services,
        ..Cluster::default()
    }
}

/// The benchmark's input: half the breeds stored, chains of dependencies.
pub(crate) fn synthetic(n: usize) -> (Artifact<Blueprint>, MemoryStore) {
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
            clusters,
            ..Blueprint::default()
        },
    );
    (bp, store)
}
