//! The Kubernetes driver against the in-repo API server test double
//! (`support/k8s_double.rs`), driven through the real `kube` client.
#![cfg(feature = "kubernetes")]
#![allow(clippy::unwrap_used)]

#[path = "support/k8s_double.rs"]
mod k8s_double;
#[path = "support/scenario.rs"]
mod scenario;

use k8s_double::K8sDouble;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};
use scenario::{even_split as desired, plan_options as opts, web_service};
use vamp_drivers::{
    deployment_object_name, export_yaml, plan, reconcile, service_object_name, Desired, Driver,
    KubernetesDriver, NewInstance, RetryPolicy, ServiceSpec,
};

const NS: &str = "vamp-test";

fn client(double: &K8sDouble) -> kube::Client {
    let mut config = kube::Config::new(double.url().parse().unwrap());
    config.default_namespace = NS.into();
    kube::Client::try_from(config).unwrap()
}

fn service(name: &str, instances: u32) -> ServiceSpec {
    web_service("shop", name, instances)
}

fn retry() -> RetryPolicy {
    scenario::retry(10, 50, 5)
}

async fn converge(d: &KubernetesDriver, want: &Desired) -> usize {
    reconcile(d, want, &opts(d), retry(), 4, &mut |_, _, _| {})
        .await
        .unwrap()
}

#[tokio::test]
async fn deploy_scale_upgrade_and_remove_against_the_test_double() {
    let double = K8sDouble::start();
    let d = KubernetesDriver::from_client(client(&double), NS);
    let v1 = service("web_1", 1);
    let v2 = service("web_2", 2);
    let want = desired(vec![v1.clone(), v2.clone()]);
    converge(&d, &want).await;

    let fp1 = &want.services[0].fingerprint;
    let dname = deployment_object_name(&v1.key, fp1);
    let dep = double.object("deployments", NS, &dname).unwrap();
    assert_eq!(dep["spec"]["replicas"], 1);
    assert_eq!(dep["metadata"]["labels"]["io.vamp.deployment"], "shop");
    assert_eq!(dep["metadata"]["labels"]["io.vamp.cluster"], "web");
    assert_eq!(dep["metadata"]["labels"]["io.vamp.service"], "web_1");
    assert_eq!(
        dep["spec"]["selector"]["matchLabels"],
        dep["spec"]["template"]["metadata"]["labels"]
    );
    let c = &dep["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "vamp-test/web:1");
    let env: Vec<(String, String)> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().into(),
                e["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(env.contains(&("VERSION".into(), "web_1".into())));
    assert!(env.contains(&("PORT".into(), "8080".into())));
    assert!(env.contains(&("PORT_WEBPORT".into(), "8080".into())));
    assert_eq!(c["resources"]["limits"]["cpu"], "250m");
    assert_eq!(c["resources"]["requests"]["memory"], "64Mi");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/health");
    assert_eq!(c["readinessProbe"]["httpGet"]["port"], "webport");
    assert_eq!(c["livenessProbe"]["periodSeconds"], 10);
    assert_eq!(c["securityContext"]["privileged"], false);
    let svc = double
        .object("services", NS, &service_object_name(&v1.key))
        .unwrap();
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "webport");
    assert_eq!(svc["spec"]["selector"]["io.vamp.service"], "web_1");
    assert_eq!(double.names("deployments", NS).len(), 2);
    assert_eq!(double.names("services", NS).len(), 2);

    // Observing gives the planner nothing more to do.
    let actual = d.observe("shop").await.unwrap();
    assert_eq!(actual.instances.len(), 3);
    assert!(actual.instances.iter().all(|i| i.healthy == Some(true)));
    assert!(plan(&want, &actual, &opts(&d)).unwrap().is_empty());

    // Scale up: one replace per new instance, each with the resourceVersion it read.
    let want = desired(vec![service("web_1", 3), v2.clone()]);
    converge(&d, &want).await;
    let dep = double.object("deployments", NS, &dname).unwrap();
    assert_eq!(dep["spec"]["replicas"], 3);
    assert_eq!(dep["metadata"]["generation"], 3);
    assert!(double
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .all(|r| r.body["metadata"]["resourceVersion"].is_string()));

    // A concurrent writer wins once: the driver re-reads and retries.
    double.conflict_next_write();
    let want = desired(vec![service("web_1", 1), v2.clone()]);
    converge(&d, &want).await;
    assert_eq!(
        double.object("deployments", NS, &dname).unwrap()["spec"]["replicas"],
        1
    );

    // A new version of web_1: a new Deployment next to the old, the old removed,
    // the Service kept.
    let mut v1b = service("web_1", 1);
    v1b.image = "vamp-test/web:2".into();
    let want = desired(vec![v1b.clone(), v2.clone()]);
    converge(&d, &want).await;
    assert!(double.object("deployments", NS, &dname).is_none());
    let new_name = deployment_object_name(&v1b.key, &want.services[0].fingerprint);
    assert!(double.object("deployments", NS, &new_name).is_some());
    assert!(double
        .object("services", NS, &service_object_name(&v1.key))
        .is_some());

    // Remove everything.
    converge(&d, &Desired::empty("shop")).await;
    assert!(double.names("deployments", NS).is_empty());
    assert!(double.names("services", NS).is_empty());
}

#[tokio::test]
async fn the_double_enforces_what_the_driver_relies_on() {
    let double = K8sDouble::start();
    let api: Api<Deployment> = Api::namespaced(client(&double), NS);
    let want = desired(vec![service("web_1", 1)]);
    let objects = vamp_drivers::render(&want, NS);
    let vamp_drivers::KubeObject::Deployment(obj) = &objects[0] else {
        panic!("a Deployment first")
    };
    let created = api.create(&PostParams::default(), obj).await.unwrap();
    // Name taken.
    let e = api.create(&PostParams::default(), obj).await.unwrap_err();
    assert!(matches!(&e, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists"));
    // Stale resourceVersion.
    let name = created.metadata.name.clone().unwrap();
    double.touch("deployments", NS, &name);
    let e = api
        .replace(&name, &PostParams::default(), &created)
        .await
        .unwrap_err();
    assert!(matches!(&e, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict"));
    // Absent.
    let e = api.get("nope").await.unwrap_err();
    assert!(matches!(&e, kube::Error::Api(s) if s.code == 404 && s.reason == "NotFound"));
    // Invalid: the selector does not match the template labels.
    let mut bad = (**obj).clone();
    bad.metadata.name = Some("bad".into());
    if let Some(spec) = bad.spec.as_mut() {
        spec.template.metadata = None;
    }
    let e = api.create(&PostParams::default(), &bad).await.unwrap_err();
    assert!(matches!(&e, kube::Error::Api(s) if s.code == 422 && s.reason == "Invalid"));
    // A driver meeting a 422 reports a permanent, typed error.
    let d = KubernetesDriver::from_client(client(&double), NS);
    let mut empty = service("web_3", 1);
    empty.image = String::new();
    let e = d
        .create(NewInstance {
            spec: &empty,
            fingerprint: "0123456789ab",
            index: 0,
            name: "x",
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), "driver_invalid_object", "{e}");
    assert!(!e.is_transient());
    // Lists are ordered by name and filtered by label.
    let list = api
        .list(&kube::api::ListParams::default().labels("io.vamp.deployment=shop"))
        .await
        .unwrap();
    let names: Vec<_> = list
        .items
        .iter()
        .map(|d| d.metadata.name.clone().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(!names.is_empty());
}

#[tokio::test]
async fn export_renders_the_objects_the_driver_writes() {
    let want = desired(vec![service("web_1", 2), service("web_2", 1)]);
    let yaml = export_yaml(&want, NS).unwrap();
    let docs: Vec<&str> = yaml.split("\n---\n").collect();
    assert_eq!(docs.len(), 4);
    // Every document is a valid k8s-openapi object.
    let d: Deployment = serde_yaml::from_str(docs[0]).unwrap();
    let s: Service = serde_yaml::from_str(docs[1]).unwrap();
    assert_eq!(d.spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(
        s.metadata.name.as_deref(),
        Some(service_object_name(&want.services[0].spec.key).as_str())
    );
    assert!(
        docs[0].starts_with("apiVersion: apps/v1\nkind: Deployment\n"),
        "{}",
        docs[0]
    );
    assert!(
        docs[1].starts_with("apiVersion: v1\nkind: Service\n"),
        "{}",
        docs[1]
    );

    // And they are what the driver wrote (apart from server-set fields).
    let double = K8sDouble::start();
    let drv = KubernetesDriver::from_client(client(&double), NS);
    converge(&drv, &want).await;
    let stored = double
        .object("deployments", NS, d.metadata.name.as_deref().unwrap())
        .unwrap();
    let rendered = serde_json::to_value(&d).unwrap();
    assert_eq!(stored["spec"], rendered["spec"]);
    assert_eq!(stored["metadata"]["labels"], rendered["metadata"]["labels"]);
}
