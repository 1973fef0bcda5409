//! Deployments over real HTTP with the memory driver: merge, slice,
//! synchronization events, internal gateways, scale and SLA, concurrent
//! writes, and convergence after a crash at any step.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use serde_json::Value;
use support::{blueprint, eventually, Srv};
use vamp_drivers::{Driver, MemoryDriver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_merge_slice_and_vanish() {
    let (s, driver) = Srv::memory().await;
    let mut ev = s.events("").await;
    let bp = blueprint("sava:1.0", &["1.0.0"], 2);
    let (st, v) = s.send("PUT", "deployments/sava", &bp).await;
    assert_eq!(st, 202, "{v}");
    ev.wait(&["breeds:sava:1.0.0", "archive:create"], 5).await;
    ev.wait(&["deployments:sava", "archive:update"], 5).await;
    ev.wait(
        &[
            "deployments:sava",
            "clusters:sava",
            "services:sava:1.0.0",
            "synchronization:deployed",
        ],
        10,
    )
    .await;
    assert_eq!(driver.observe("sava").await.unwrap().instances.len(), 2);
    let (_, d) = s.json("GET", "deployments/sava", None).await;
    let svc = &d["clusters"]["sava"]["services"][0];
    assert_eq!(svc["status"]["intention"], "Deployment");
    assert_eq!(svc["status"]["phase"]["name"], "Done");
    assert!(svc["status"]["since"].as_str().unwrap().ends_with('Z'));
    assert_eq!(svc["instances"].as_array().unwrap().len(), 2);
    // The internal gateway and its routes.
    let (st, g) = s.json("GET", "gateways/sava%2Fsava%2Fweb", None).await;
    assert_eq!(st, 200);
    assert_eq!(g["routes"]["sava/sava/sava:1.0.0/web"]["weight"], 100);
    // Merge a second version at 0%.
    let bp = blueprint("sava:1.1", &["1.1.0"], 1);
    let (st, _) = s.send("PUT", "deployments/sava", &bp).await;
    assert_eq!(st, 202);
    ev.wait(&["services:sava:1.1.0", "synchronization:deployed"], 10)
        .await;
    let (_, g) = s.json("GET", "gateways/sava/sava/web", None).await;
    assert_eq!(g["routes"]["sava/sava/sava:1.1.0/web"]["weight"], 0);
    // Slicing 1.0 away while it holds the weight is refused.
    let bp = blueprint("sava", &["1.0.0"], 1);
    let (st, v) = s.send("DELETE", "deployments/sava", &bp).await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["code"], "invalid_route_weight");
    // Move the weight, then slice 1.0 away.
    let weights = "name: sava\nclusters:\n  sava:\n    gateways:\n      web:\n        routes:\n          sava:1.0.0: {weight: 0%}\n          sava:1.1.0: {weight: 100%}\n    services:\n      - breed: sava:1.0.0\n      - breed: sava:1.1.0\n";
    let (st, v) = s.send("PUT", "deployments/sava", weights).await;
    assert_eq!(st, 202, "{v}");
    let bp = blueprint("sava", &["1.0.0"], 1);
    let (st, _) = s.send("DELETE", "deployments/sava", &bp).await;
    assert_eq!(st, 202);
    ev.wait(&["services:sava:1.0.0", "synchronization:undeployed"], 10)
        .await;
    let actual = driver.observe("sava").await.unwrap();
    assert!(actual
        .instances
        .iter()
        .all(|i| i.key.service == "sava:1.1.0"));
    let (_, g) = s.json("GET", "gateways/sava/sava/web", None).await;
    assert_eq!(g["routes"].as_object().unwrap().len(), 1);
    // An empty DELETE body changes nothing.
    let (st, d) = s.json("DELETE", "deployments/sava", None).await;
    assert_eq!((st, d["name"].as_str()), (202, Some("sava")));
    // as_blueprint.
    let (_, b) = s
        .json("GET", "deployments/sava?as_blueprint=true", None)
        .await;
    assert_eq!(b["kind"], "blueprints");
    // Slice the last service: the deployment and its internal gateway go.
    let bp = blueprint("sava", &["1.1.0"], 1);
    s.send("DELETE", "deployments/sava", &bp).await;
    ev.wait(&["services:sava:1.1.0", "synchronization:undeployed"], 10)
        .await;
    eventually(3, 50, async || {
        s.call("GET", "deployments/sava", None).await.0 == 404
    })
    .await;
    assert_eq!(s.call("GET", "deployments/sava", None).await.0, 404);
    assert_eq!(s.call("GET", "gateways/sava/sava/web", None).await.0, 404);
    assert!(driver.observe("sava").await.unwrap().instances.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_by_reference_gateways_scale_and_sla() {
    let (s, driver) = Srv::memory().await;
    let mut ev = s.events("").await;
    let bp = format!(
        "kind: blueprint\n{}gateways:\n  9150: sava/web\n",
        blueprint("shop:1", &["1.0.0"], 1)
    );
    let (st, _) = s.send("PUT", "", &bp).await;
    assert_eq!(st, 202);
    ev.wait(&["blueprints:shop:1", "archive:update"], 5).await;
    // Deploy by reference; the body name is not the path name.
    let (st, v) = s.send("PUT", "deployments/shop", "name: shop:1\n").await;
    assert_eq!(st, 202, "{v}");
    ev.wait(
        &[
            "deployments:shop",
            "services:sava:1.0.0",
            "synchronization:deployed",
        ],
        10,
    )
    .await;
    let (st, g) = s.json("GET", "gateways/shop/9150", None).await;
    assert_eq!(st, 200);
    assert_eq!(g["port"]["number"], 9150);
    // Another deployment may not take that port.
    let other = format!(
        "{}gateways:\n  9150: sava/web\n",
        blueprint("other", &["2.0.0"], 1)
    );
    let (st, v) = s.send("PUT", "deployments/other", &other).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (400, Some("unavailable_gateway_port"))
    );
    assert_eq!(s.call("GET", "deployments/other", None).await.0, 404);
    // Unknown reference, illegal name.
    let (st, v) = s.send("PUT", "deployments/shop", "name: nope\n").await;
    assert_eq!(
        (st, v["message"].as_str()),
        (400, Some("Artifact cannot be found: 'nope'."))
    );
    let bp = blueprint("x", &["1"], 1);
    let (st, _) = s.send("PUT", "deployments/bad%20name", &bp).await;
    assert_eq!(st, 400);
    // Scale: GET, PUT (redeploys).
    let path = "deployments/shop/clusters/sava/services/sava:1.0.0/scale";
    let (st, sc) = s.json("GET", path, None).await;
    assert_eq!((st, sc["instances"].as_u64()), (200, Some(1)));
    let (st, _) = s
        .send("PUT", path, "cpu: 0.2\nmemory: 64MB\ninstances: 3\n")
        .await;
    assert_eq!(st, 202);
    ev.wait(&["deployment-service-scales:shop", "archive:update"], 5)
        .await;
    ev.wait(&["services:sava:1.0.0", "synchronization:redeploy"], 10)
        .await;
    ev.wait(&["services:sava:1.0.0", "synchronization:deployed"], 10)
        .await;
    assert_eq!(driver.observe("shop").await.unwrap().instances.len(), 3);
    // SLA: empty, set, read, delete.
    let sla = "deployments/shop/clusters/sava/sla";
    let (st, _, body) = s.call("GET", sla, None).await;
    assert_eq!((st, body.as_str()), (200, ""));
    let (st, _) = s.send("PUT", sla, "type: response_time_sliding_window\nthreshold: {upper: 1000, lower: 100}\nwindow: {interval: 60, cooldown: 60}\n").await;
    assert_eq!(st, 202);
    let (_, v) = s.json("GET", sla, None).await;
    assert_eq!(v["type"], "response_time_sliding_window");
    assert_eq!(s.call("DELETE", sla, None).await.0, 204);
    assert_eq!(s.call("GET", sla, None).await.2, "");
    // Internal gateways cannot be deleted while the deployment exists.
    assert_eq!(
        s.call("DELETE", "gateways/shop/sava/web", None).await.0,
        400
    );
    // A kind: deployment document through the root, then a root DELETE.
    let bp = format!("kind: deployment\n{}", blueprint("root", &["3.0.0"], 1));
    let (st, _) = s.send("PUT", "", &bp).await;
    assert_eq!(st, 202);
    ev.wait(&["deployments:root", "synchronization:deployed"], 10)
        .await;
    let (st, _) = s.send("DELETE", "", "kind: deployment\nname: root\n").await;
    assert_eq!(st, 202);
    ev.wait(&["deployments:root", "synchronization:undeployed"], 10)
        .await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_merges_lose_no_update() {
    let (s, driver) = Srv::memory().await;
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let body = blueprint("many", &[&format!("1.{i}.0")], 1);
            s.send("PUT", "deployments/many", &body).await.0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 202);
    }
    let (_, d) = s.json("GET", "deployments/many", None).await;
    assert_eq!(
        d["clusters"]["sava"]["services"].as_array().unwrap().len(),
        12
    );
    eventually(5, 50, async || {
        driver.observe("many").await.unwrap().instances.len() == 12
    })
    .await;
    assert_eq!(driver.observe("many").await.unwrap().instances.len(), 12);
    Arc::try_unwrap(s).ok().unwrap().stop().await;
}

/// Crash the driver after every possible number of operations (with and
/// without the last one taking effect), restart the server on the same
/// store, and check that it converges to exactly the requested instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_after_a_crash_at_any_step() {
    for after_effect in [false, true] {
        for step in 0..5u64 {
            let dir = support::temp_dir("crash");
            let driver = Arc::new(MemoryDriver::new());
            driver.crash_after(step, after_effect);
            let s = Srv::start(dir.clone(), driver.clone()).await;
            let mut ev = s.events("").await;
            let bp = blueprint("c", &["1.0.0", "2.0.0"], 2);
            let (st, _) = s.send("PUT", "deployments/c", &bp).await;
            assert_eq!(st, 202);
            let failed = ev
                .wait(&["deployments:c", "synchronization:failed"], 10)
                .await;
            assert_eq!(failed["type"], "synchronization");
            let (_, d) = s.json("GET", "deployments/c", None).await;
            let phase = d["clusters"]["sava"]["services"][0]["status"]["phase"].clone();
            assert_eq!(phase["name"], "Failed", "{d}");
            assert!(
                phase["notification"].as_str().unwrap().contains("crash"),
                "{phase}"
            );
            s.stop().await;
            driver.clear_faults();
            let s = Srv::start(dir, driver.clone()).await;
            eventually(5, 50, async || {
                let (_, d) = s.json("GET", "deployments/c", None).await;
                d["clusters"]["sava"]["services"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|x| x["status"]["phase"]["name"] == "Done")
            })
            .await;
            let (_, d) = s.json("GET", "deployments/c", None).await;
            for svc in d["clusters"]["sava"]["services"].as_array().unwrap() {
                assert_eq!(svc["status"]["phase"]["name"], "Done", "step {step}: {d}");
            }
            let actual = driver.observe("c").await.unwrap();
            let mut names: Vec<&str> = actual.instances.iter().map(|i| i.name.as_str()).collect();
            names.dedup();
            assert_eq!(
                names.len(),
                4,
                "step {step}, after_effect {after_effect}: {names:?}"
            );
            assert!(actual
                .instances
                .iter()
                .all(|i| i.state == vamp_drivers::InstanceState::Running));
            let _: Value = d;
            s.stop().await;
        }
    }
}
