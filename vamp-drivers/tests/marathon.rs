//! The Marathon driver against the in-repo Marathon API test double
//! (`support/marathon_double.rs`), over real HTTP on 127.0.0.1. The
//! driver-neutral scenario runs against the in-memory driver too.
#![cfg(feature = "marathon")]
#![allow(clippy::unwrap_used)]

#[path = "support/marathon_double.rs"]
mod marathon_double;
#[path = "support/scenario.rs"]
mod scenario;

use std::time::Duration;

use marathon_double::MarathonDouble;
use scenario::{even_split as desired, plan_options as opts, web_service};
use vamp_drivers::{
    marathon_app, marathon_app_id, reconcile, ApplyError, Desired, Driver, DriverError,
    InstanceState, MarathonDriver, MarathonOptions, MemoryDriver, RetryPolicy, ServiceSpec,
};

/// The shared web service, with `PORT` in its environment (which Marathon
/// overrides), one more argument and a relative health check path.
fn service(name: &str, instances: u32) -> ServiceSpec {
    let mut s = web_service("shop", name, instances);
    s.environment.push(("PORT".into(), "1".into()));
    s.arguments
        .push(("security-opt".into(), "no-new-privileges".into()));
    s.health_checks[0].path = "health".into();
    s
}

fn options(url: &str) -> MarathonOptions {
    MarathonOptions {
        poll_interval: Duration::from_millis(2),
        deployment_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
        ..MarathonOptions::new(url)
    }
}

fn driver(double: &MarathonDouble) -> MarathonDriver {
    MarathonDriver::new(options(&double.url())).unwrap()
}

fn retry() -> RetryPolicy {
    scenario::retry(5, 20, 5)
}

async fn converge(d: &dyn Driver, want: &Desired) -> Result<usize, ApplyError> {
    reconcile(d, want, &opts(d), retry(), 4, &mut |_, _, _| {}).await
}

/// What runs, as `(service, fingerprint, index)` triples.
async fn running(d: &dyn Driver) -> Vec<(String, String, u32)> {
    let mut v: Vec<_> = d
        .observe("shop")
        .await
        .unwrap()
        .instances
        .into_iter()
        .map(|i| (i.key.service, i.fingerprint, i.index))
        .collect();
    v.sort();
    v
}

/// Deploy, scale, upgrade and remove, checked through `observe` only.
async fn scenario(d: &dyn Driver) {
    let v1 = service("web_1", 1);
    let v2 = service("web_2", 2);
    let want = desired(vec![v1.clone(), v2.clone()]);
    converge(d, &want).await.unwrap();
    let fp1 = want.services[0].fingerprint.clone();
    let fp2 = want.services[1].fingerprint.clone();
    assert_eq!(
        running(d).await,
        vec![
            ("web_1".into(), fp1.clone(), 0),
            ("web_2".into(), fp2.clone(), 0),
            ("web_2".into(), fp2.clone(), 1),
        ]
    );
    let actual = d.observe("shop").await.unwrap();
    assert!(actual
        .instances
        .iter()
        .all(|i| i.state == InstanceState::Running && i.healthy == Some(true)));
    assert!(actual
        .instances
        .iter()
        .all(|i| i.ports.len() == 1 && i.ports[0].0 == "webport" && i.ports[0].1 >= 31000));
    assert_eq!(actual.weights["web"], want.weights["web"]);

    // Scale web_2 up, then down.
    for n in [3, 1] {
        let want = desired(vec![v1.clone(), service("web_2", n)]);
        converge(d, &want).await.unwrap();
        let r = running(d).await;
        assert_eq!(
            r.iter().filter(|(s, _, _)| s == "web_2").count(),
            n as usize
        );
    }

    // Upgrade web_1 (new image): a new version replaces the old one.
    let mut v1b = v1.clone();
    v1b.image = "vamp-test/web:2".into();
    let want = desired(vec![v1b, service("web_2", 1)]);
    converge(d, &want).await.unwrap();
    let fp1b = want.services[0].fingerprint.clone();
    assert_ne!(fp1b, fp1);
    assert_eq!(
        running(d).await,
        vec![("web_1".into(), fp1b, 0), ("web_2".into(), fp2, 0)]
    );

    // Remove everything.
    converge(d, &Desired::empty("shop")).await.unwrap();
    assert!(running(d).await.is_empty());
}

#[tokio::test]
async fn the_scenario_runs_on_the_memory_driver() {
    scenario(&MemoryDriver::new()).await;
}

#[tokio::test]
async fn the_scenario_runs_on_the_marathon_test_double() {
    let double = MarathonDouble::start();
    scenario(&driver(&double)).await;
    assert!(double.app_ids().is_empty());
    assert!(double.running_deployments().is_empty());
    // Never forced, no write refused (404s are reads of apps not there yet).
    let requests = double.requests();
    assert!(requests.iter().all(|r| !r.target.contains("force=true")));
    assert!(
        requests
            .iter()
            .all(|r| r.status < 400 || (r.method == "GET" && r.status == 404)),
        "{requests:#?}"
    );
}

#[tokio::test]
async fn apps_carry_labels_env_resources_checks_and_host_ports() {
    let double = MarathonDouble::start();
    let d = driver(&double);
    let v1 = service("web_1", 2);
    let want = desired(vec![v1.clone()]);
    converge(&d, &want).await.unwrap();
    let fp = &want.services[0].fingerprint;
    let id = marathon_app_id("vamp", &v1.key, fp);
    assert_eq!(id, format!("/vamp/shop/web-web-1-{fp}"));
    assert_eq!(double.app_ids(), vec![id.clone()]);

    // What was posted is exactly the rendered app.
    let posted = double
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.target == "/v2/apps")
        .unwrap();
    assert_eq!(posted.body, marathon_app(&v1, fp, 1, "vamp"));

    let app = double.app(&id).unwrap();
    assert_eq!(app["instances"], 2);
    assert_eq!(app["cpus"], 0.25);
    assert_eq!(app["mem"], 64.0);
    assert_eq!(app["labels"]["io.vamp"], "deployment-service");
    assert_eq!(app["labels"]["io.vamp.deployment"], "shop");
    assert_eq!(app["labels"]["io.vamp.cluster"], "web");
    assert_eq!(app["labels"]["io.vamp.service"], "web_1");
    assert_eq!(app["labels"]["io.vamp.fingerprint"], fp.as_str());
    assert_eq!(app["container"]["type"], "DOCKER");
    assert_eq!(app["container"]["docker"]["image"], "vamp-test/web:1");
    assert_eq!(app["container"]["docker"]["privileged"], false);
    assert_eq!(
        app["container"]["docker"]["parameters"],
        serde_json::json!([{"key": "security-opt", "value": "no-new-privileges"}])
    );
    assert_eq!(app["networks"], serde_json::json!([{"mode": "host"}]));
    assert_eq!(app["portDefinitions"][0]["port"], 0);
    assert_eq!(app["portDefinitions"][0]["name"], "webport");
    assert_eq!(app["env"]["VERSION"], "web_1");
    assert_eq!(app["env"]["VAMP_SERVICE"], "web_1");
    // Marathon sets the port variables; the service's `PORT` is dropped.
    assert!(app["env"].get("PORT").is_none());
    let hc = &app["healthChecks"][0];
    assert_eq!(hc["protocol"], "MESOS_HTTP");
    assert_eq!(hc["path"], "/health");
    assert_eq!(hc["portIndex"], 0);
    assert_eq!(hc["gracePeriodSeconds"], 2);
    assert_eq!(hc["intervalSeconds"], 10);
    assert_eq!(hc["timeoutSeconds"], 5);
    assert_eq!(hc["maxConsecutiveFailures"], 3);
    assert_eq!(app["upgradeStrategy"]["minimumHealthCapacity"], 1.0);
    assert_eq!(app["tasksHealthy"], 2);

    // Each task learns its host port from PORT, PORT0 and PORT_WEBPORT, and
    // `observe` reports the same port.
    let envs = double.task_env(&id);
    assert_eq!(envs.len(), 2);
    let observed = d.observe("shop").await.unwrap();
    for (env, inst) in envs.iter().zip(&observed.instances) {
        assert_eq!(env["PORT"], env["PORT0"]);
        assert_eq!(env["PORT"], env["PORT_WEBPORT"]);
        assert_eq!(env["PORT"], inst.ports[0].1.to_string());
        assert_eq!(inst.host, "127.0.0.1");
    }
    assert_ne!(envs[0]["PORT"], envs[1]["PORT"]);

    // Every write was followed by polls of /v2/deployments until it ended.
    let requests = double.requests();
    let writes = requests.iter().filter(|r| r.method != "GET").count();
    let polls = requests
        .iter()
        .filter(|r| r.method == "GET" && r.target == "/v2/deployments")
        .count();
    assert_eq!(writes, 2, "create, then scale to 2");
    assert!(polls >= 2 * writes, "{polls} polls for {writes} writes");
    let scale = requests.iter().find(|r| r.method == "PUT").unwrap();
    assert!(scale.target.ends_with("?partialUpdate=false"));
    assert_eq!(scale.body["instances"], 2);
    assert_eq!(
        scale.body["container"]["docker"]["image"],
        "vamp-test/web:1"
    );

    // A fresh driver (a restarted program) finds the same instances by label.
    let again = driver(&double).observe("shop").await.unwrap();
    assert_eq!(again.instances, observed.instances);
    assert!(d.observe("other").await.unwrap().instances.is_empty());
}

#[tokio::test]
async fn locked_apps_are_waited_for_and_written_again() {
    let double = MarathonDouble::start();
    let d = driver(&double);
    converge(&d, &desired(vec![service("web_1", 1)]))
        .await
        .unwrap();
    let id = double.app_ids()[0].clone();

    // Another client's deployment is running: the driver waits for it first.
    double.lock_app(&id, 3);
    converge(&d, &desired(vec![service("web_1", 2)]))
        .await
        .unwrap();
    assert_eq!(double.app(&id).unwrap()["instances"], 2);

    // A deployment starts between the driver's read and its write: 409
    // "locked", then the same write again once that deployment ended.
    double.lock_before_next_write(2);
    converge(&d, &desired(vec![service("web_1", 3)]))
        .await
        .unwrap();
    assert_eq!(double.app(&id).unwrap()["instances"], 3);
    let requests = double.requests();
    let refused = requests
        .iter()
        .position(|r| r.status == 409 && r.method == "PUT")
        .expect("a locked write");
    assert!(requests[refused]
        .target
        .starts_with(&format!("/v2/apps{id}")));
    assert!(requests[refused + 1..]
        .iter()
        .any(|r| r.method == "PUT" && r.status == 200));
    assert!(double.running_deployments().is_empty());
}

#[tokio::test]
async fn removal_works_whatever_delete_force_defaults_to() {
    for force_default in [true, false] {
        let double = MarathonDouble::start();
        double.set_delete_force_default(force_default);
        let d = driver(&double);
        converge(&d, &desired(vec![service("web_1", 1)]))
            .await
            .unwrap();
        double.lock_before_next_write(2);
        converge(&d, &Desired::empty("shop")).await.unwrap();
        assert!(double.app_ids().is_empty());
        let deletes: Vec<u16> = double
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .map(|r| r.status)
            .collect();
        if force_default {
            // Marathon's 2021 default cancels the other deployment.
            assert_eq!(deletes, vec![200]);
        } else {
            assert_eq!(deletes, vec![409, 200]);
        }
        assert!(double
            .requests()
            .iter()
            .all(|r| !r.target.contains("force=true")));
    }
}

#[tokio::test]
async fn a_lock_that_outlasts_the_driver_is_a_transient_conflict() {
    let double = MarathonDouble::start();
    converge(&driver(&double), &desired(vec![service("web_1", 1)]))
        .await
        .unwrap();
    let d = MarathonDriver::new(MarathonOptions {
        deployment_timeout: Duration::from_millis(30),
        ..options(&double.url())
    })
    .unwrap();
    let id = double.app_ids()[0].clone();
    let lock = double.lock_app(&id, u32::MAX);
    let want = desired(vec![service("web_1", 2)]);
    let short = RetryPolicy {
        deadline: Duration::from_millis(200),
        ..retry()
    };
    let err = reconcile(&d, &want, &opts(&d), short, 2, &mut |_, _, _| {})
        .await
        .unwrap_err();
    match &err {
        ApplyError::Deadline { last, attempts, .. } => {
            assert_eq!(last.code(), "driver_conflict");
            assert!(last.is_transient());
            assert!(*attempts > 1);
        }
        other => panic!("expected a deadline, got {other:?}"),
    }
    // Someone else's deployment is left alone.
    assert!(double.running_deployments().contains(&lock));
    assert!(double.requests().iter().all(|r| !r.target.contains(&lock)));
}

#[tokio::test]
async fn server_errors_are_retried() {
    for status in [503, 500, 409] {
        let double = MarathonDouble::start();
        let d = driver(&double);
        converge(&d, &desired(vec![service("web_1", 1)]))
            .await
            .unwrap();
        double.fail_next_write(status);
        converge(&d, &desired(vec![service("web_1", 2)]))
            .await
            .unwrap();
        let id = double.app_ids()[0].clone();
        assert_eq!(double.app(&id).unwrap()["instances"], 2);
        assert!(double.requests().iter().any(|r| r.status == status));
    }
}

fn step_error(err: ApplyError) -> DriverError {
    match err {
        ApplyError::Step { source, .. } => source,
        other => panic!("expected a failed step, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_apps_are_typed_422_errors() {
    let double = MarathonDouble::start();
    let d = driver(&double);
    let mut zero_cpu = service("web_1", 1);
    zero_cpu.cpu = 0.0;
    let e = step_error(converge(&d, &desired(vec![zero_cpu])).await.unwrap_err());
    assert_eq!(e.code(), "driver_invalid_object");
    assert!(!e.is_transient());
    assert!(e.to_string().contains("/cpus"), "{e}");

    let mut no_ports = service("web_1", 1);
    no_ports.ports.clear();
    let e = step_error(converge(&d, &desired(vec![no_ports])).await.unwrap_err());
    assert_eq!(e.code(), "driver_invalid_object");
    assert!(e.to_string().contains("/healthChecks(0)"), "{e}");
    assert!(double.requests().iter().any(|r| r.status == 422));
    assert!(double.app_ids().is_empty());
}

#[tokio::test]
async fn transport_and_auth_errors_are_typed() {
    // Nothing listens on port 1.
    let d = MarathonDriver::new(options("http://127.0.0.1:1")).unwrap();
    let e = d.observe("shop").await.unwrap_err();
    assert_eq!(e.code(), "driver_unavailable");
    assert!(e.is_transient());

    for bad in [
        "https://marathon.example:8443",
        "marathon:8080",
        "http://bad host",
    ] {
        let e = MarathonDriver::new(MarathonOptions::new(bad)).unwrap_err();
        assert_eq!(e.code(), "driver_unavailable", "{bad}");
    }

    // A wrong base path: Marathon answers 404 for /nope/v2/apps.
    let double = MarathonDouble::start();
    let d = MarathonDriver::new(options(&format!("{}/nope", double.url()))).unwrap();
    let e = d.observe("shop").await.unwrap_err();
    assert_eq!(e.code(), "driver_not_found");
    assert!(e.to_string().contains("check the URL"), "{e}");

    let d = driver(&double);
    double.fail_next_write(401);
    let e = step_error(
        converge(&d, &desired(vec![service("web_1", 1)]))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code(), "driver_unauthorized");
}

#[tokio::test]
async fn deployments_that_never_finish_are_rolled_back() {
    let double = MarathonDouble::start();
    double.set_never_healthy(true);
    let d = MarathonDriver::new(MarathonOptions {
        deployment_timeout: Duration::from_millis(50),
        ..options(&double.url())
    })
    .unwrap();
    let e = step_error(
        converge(&d, &desired(vec![service("web_1", 1)]))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code(), "driver_deployment_stuck");
    assert!(!e.is_transient());
    assert!(e.to_string().contains("health checks"), "{e}");
    let requests = double.requests();
    let rollback = requests
        .iter()
        .find(|r| r.method == "DELETE" && r.target.starts_with("/v2/deployments/"))
        .expect("the stuck deployment is deleted");
    assert_eq!(rollback.status, 200);
    assert!(!rollback.target.contains("force"));
    // Rolling back a creation removes the app.
    assert!(double.app_ids().is_empty());
}

#[tokio::test]
async fn command_deployables_become_cmd_apps() {
    let double = MarathonDouble::start();
    let d = driver(&double);
    let mut cmd = service("job", 1);
    cmd.deployable_type = Some("command".into());
    cmd.image = "python3 -m http.server $PORT".into();
    cmd.arguments.clear();
    let want = desired(vec![cmd.clone()]);
    converge(&d, &want).await.unwrap();
    let id = marathon_app_id("vamp", &cmd.key, &want.services[0].fingerprint);
    let app = double.app(&id).unwrap();
    assert_eq!(app["cmd"], "python3 -m http.server $PORT");
    assert!(app.get("container").is_none());
}
