//! `resolve_blueprint` takes a direct path for a fresh blueprint; its
//! result must be exactly the deployment of merging the blueprint into an
//! empty deployment (`lifecycle::merge_with`), errors included.

#[path = "support/synthetic.rs"]
mod synthetic;

use synthetic::{breed, service, synthetic, tv};
use vamp_deploy::lifecycle::merge;
use vamp_deploy::resolve::resolve_blueprint;
use vamp_deploy::store::MemoryStore;
use vamp_model::{Artifact, Blueprint, Deployment, OrRef, Reference};

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
