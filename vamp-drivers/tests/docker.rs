//! Integration tests of the Docker driver against a real daemon.
//!
//! CI starts the daemon as root with
//! `dockerd --bridge=none --iptables=false --ip-masq=false &`. When it cannot
//! be reached these tests FAIL, unless `VAMP_SKIP_DOCKER=1` is set (then they
//! say loudly that they skipped). They build a tiny image `FROM scratch` with
//! Debian's static busybox (`/usr/bin/busybox`, package `busybox-static`)
//! serving HTTP on `127.0.0.1:$PORT`, and remove every container labelled
//! with their deployment name when they end, pass or fail.
#![cfg(feature = "docker")]
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use vamp_drivers::{
    plan, reconcile, Desired, DockerDriver, DockerOptions, Driver, DriverError, InstanceState,
    NewInstance, Probe, RetryPolicy, ServiceSpec,
};

#[path = "support/scenario.rs"]
mod scenario;

use scenario::{plan_options as opts, web_service};

const IMAGE: &str = "vamp-test/busybox-web:1";

/// Connects, or decides the test is skipped (`None`) or failed (panic).
async fn driver() -> Option<DockerDriver> {
    let opts = DockerOptions {
        stop_timeout: Duration::from_secs(1),
        ..DockerOptions::default()
    };
    match DockerDriver::connect(opts).await {
        Ok(d) => Some(d),
        Err(e) if std::env::var("VAMP_SKIP_DOCKER").as_deref() == Ok("1") => {
            eprintln!("SKIPPED (VAMP_SKIP_DOCKER=1): the Docker daemon is unreachable: {e}");
            None
        }
        Err(e) => panic!(
            "the Docker daemon is unreachable ({e}); start it as root with \
             `dockerd --bridge=none --iptables=false --ip-masq=false &`, \
             or set VAMP_SKIP_DOCKER=1 to skip these tests"
        ),
    }
}

/// Builds the test image once per process.
fn image() -> &'static str {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let r = BUILT.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("vamp-docker-image-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::copy("/usr/bin/busybox", dir.join("busybox")).map_err(|e| {
            format!("cannot copy /usr/bin/busybox ({e}): install the `busybox-static` package")
        })?;
        // busybox picks the applet from argv[0]: copies named sh and wget
        // give the shell and the client the health check needs.
        let dockerfile = r#"FROM scratch
COPY busybox /bin/busybox
COPY busybox /bin/sh
COPY busybox /bin/wget
COPY busybox /bin/nc
ENV PATH=/bin
ENTRYPOINT ["/bin/sh", "-c", "/bin/busybox mkdir -p /www && echo $VAMP_SERVICE > /www/index.html && exec /bin/busybox httpd -f -p 127.0.0.1:$PORT -h /www"]
"#;
        std::fs::write(dir.join("Dockerfile"), dockerfile).map_err(|e| e.to_string())?;
        let out = Command::new("docker")
            .args(["build", "-q", "-t", IMAGE])
            .arg(&dir)
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .map_err(|e| format!("cannot run the docker CLI: {e}"))?;
        let _ = std::fs::remove_dir_all(&dir);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "docker build failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = r {
        panic!("{e}");
    }
    IMAGE
}

/// Removes every container labelled with the deployment, even on panic.
struct Cleanup(String);

/// The driver (None without a Docker daemon), the test image built, and a
/// deployment name of the test's own, cleaned up when dropped.
async fn start(prefix: &str) -> Option<(DockerDriver, Cleanup)> {
    let d = driver().await?;
    image();
    Some((d, Cleanup::new(prefix)))
}

impl Cleanup {
    fn new(prefix: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let c = Cleanup(format!("t{prefix}{}x{nanos}", std::process::id()));
        c.sweep();
        c
    }

    fn sweep(&self) {
        let out = Command::new("docker")
            .args(["ps", "-aq", "--filter"])
            .arg(format!("label=io.vamp.deployment={}", self.0))
            .output();
        if let Ok(out) = out {
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            if !ids.is_empty() {
                let _ = Command::new("docker")
                    .args(["rm", "-f", "-v"])
                    .args(&ids)
                    .output();
            }
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.sweep();
    }
}

/// The shared web service on the test image: no arguments, smaller, and
/// checked at once on `/`.
fn service(deployment: &str, name: &str, instances: u32) -> ServiceSpec {
    let mut s = web_service(deployment, name, instances);
    s.image = IMAGE.into();
    s.arguments.clear();
    s.cpu = 0.1;
    s.memory = 32.0;
    s.health_checks[0] = Probe {
        path: "/".into(),
        initial_delay: 0,
        interval: 1,
        timeout: 1,
        ..s.health_checks[0].clone()
    };
    s
}

fn retry() -> RetryPolicy {
    scenario::retry(100, 1000, 30)
}

/// GET / on 127.0.0.1:port; the body, trimmed.
fn http_get(port: u16) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    let (head, body) = buf.split_once("\r\n\r\n").unwrap_or((&buf, ""));
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("answer: {head}")));
    }
    Ok(body.trim().to_owned())
}

/// Waits until every instance answers with its service name over HTTP.
async fn expect_answers(d: &DockerDriver, deployment: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let actual = d.observe(deployment).await.unwrap();
        let running: Vec<_> = actual
            .instances
            .iter()
            .filter(|i| i.state == InstanceState::Running)
            .collect();
        let answers: Vec<Result<String, String>> = running
            .iter()
            .map(|i| http_get(i.ports[0].1).map_err(|e| e.to_string()))
            .collect();
        let ok = running.len() == count
            && running
                .iter()
                .zip(&answers)
                .all(|(i, a)| a.as_deref() == Ok(i.key.service.as_str()));
        if ok {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "expected {count} instances answering their service name, got {:?} -> {answers:?}",
                running
                    .iter()
                    .map(|i| (&i.name, &i.ports))
                    .collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn two_versions_scale_kill_replace_remove() {
    let Some((d, guard)) = start("a").await else {
        return;
    };
    let dep = guard.0.clone();
    let mut weights = std::collections::BTreeMap::new();
    weights.insert(
        "web".to_owned(),
        vec![("web_1".to_owned(), 50u8), ("web_2".to_owned(), 50u8)],
    );
    let v1 = service(&dep, "web_1", 1);
    let v2 = service(&dep, "web_2", 1);
    let desired = Desired::new(&dep, vec![v1.clone(), v2.clone()], weights.clone());
    let steps = reconcile(&d, &desired, &opts(&d), retry(), 3, &mut |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(steps, 3, "two creations and one weight step");
    expect_answers(&d, &dep, 2).await;

    // Labels carry everything: a new driver (a restarted program) finds the
    // same instances and has nothing to do.
    let again = DockerDriver::connect(DockerOptions::default())
        .await
        .unwrap();
    again.restore_weights(d.weights());
    let actual = again.observe(&dep).await.unwrap();
    assert_eq!(actual.instances.len(), 2);
    for i in &actual.instances {
        assert_eq!(i.key.cluster, "web");
        assert_eq!(i.ports[0].0, "webport");
    }
    assert!(plan(&desired, &actual, &opts(&again)).unwrap().is_empty());

    // Health checks run inside the containers.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let a = d.observe(&dep).await.unwrap();
        if a.instances.iter().all(|i| i.healthy == Some(true)) {
            break;
        }
        assert!(Instant::now() < deadline, "never healthy: {a:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Scale v1 to 3.
    let desired = Desired::new(&dep, vec![service(&dep, "web_1", 3), v2.clone()], weights);
    reconcile(&d, &desired, &opts(&d), retry(), 3, &mut |_, _, _| {})
        .await
        .unwrap();
    expect_answers(&d, &dep, 4).await;
    let actual = d.observe(&dep).await.unwrap();
    let mut ports: Vec<u16> = actual.instances.iter().map(|i| i.ports[0].1).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 4, "every instance has its own port");

    // Kill one: the reconciler replaces it.
    let victim = actual
        .instances
        .iter()
        .find(|i| i.key.service == "web_1")
        .unwrap()
        .name
        .clone();
    d.kill(&victim).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let a = d.observe(&dep).await.unwrap();
        if a.instances
            .iter()
            .any(|i| i.name == victim && i.state == InstanceState::Exited)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the killed container never exited"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let steps = reconcile(&d, &desired, &opts(&d), retry(), 3, &mut |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(steps, 2, "remove the dead one, create its replacement");
    expect_answers(&d, &dep, 4).await;

    // Remove everything.
    reconcile(
        &d,
        &Desired::empty(&dep),
        &opts(&d),
        retry(),
        3,
        &mut |_, _, _| {},
    )
    .await
    .unwrap();
    assert!(d.container_names(&dep).await.unwrap().is_empty());
}

/// Creates instance 0 of `s` as `name`, which must fail.
async fn create_fails(d: &DockerDriver, s: &ServiceSpec, name: &str) -> DriverError {
    let new = NewInstance {
        spec: s,
        fingerprint: "f",
        index: 0,
        name,
    };
    d.create(new).await.unwrap_err()
}

#[tokio::test]
async fn user_errors_are_typed() {
    let Some((d, guard)) = start("b").await else {
        return;
    };
    let dep = guard.0.clone();

    let mut s = service(&dep, "ghost", 1);
    s.image = "vamp-test/does-not-exist:1".into();
    let e = create_fails(&d, &s, &format!("vamp-{dep}-ghost")).await;
    assert_eq!(e.code(), "driver_image_not_found");
    assert!(e.to_string().contains("docker build"), "{e}");

    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let fixed = DockerDriver::connect(DockerOptions {
        use_breed_ports: true,
        ..DockerOptions::default()
    })
    .await
    .unwrap();
    let mut s = service(&dep, "fixed", 1);
    s.ports[0].number = Some(port);
    let e = create_fails(&fixed, &s, &format!("vamp-{dep}-fixed")).await;
    assert_eq!(e.code(), "driver_port_taken");
    drop(taken);

    let mut s = service(&dep, "args", 1);
    s.arguments = vec![("volume".into(), "/a:/b".into())];
    let e = create_fails(&d, &s, &format!("vamp-{dep}-args")).await;
    assert_eq!(e.code(), "driver_unsupported");
    assert!(d.container_names(&dep).await.unwrap().is_empty());
}

#[tokio::test]
async fn daemon_not_running_says_how_to_start_it() {
    let e = DockerDriver::connect(DockerOptions {
        socket: "/nonexistent/vamp/docker.sock".into(),
        ..DockerOptions::default()
    })
    .await
    .unwrap_err();
    assert_eq!(e.code(), "driver_unavailable");
    assert!(e.to_string().contains("dockerd"), "{e}");
    assert!(e.is_transient());
}

/// A unix socket that answers every request with 401, standing in for a
/// daemon behind an authorisation plugin.
#[tokio::test]
async fn unauthorised_daemon_is_a_typed_error() {
    use std::os::unix::net::UnixListener;
    let path = std::env::temp_dir().join(format!("vamp-401-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut s) = stream else { break };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = r#"{"message":"authorization denied by plugin vamp-test"}"#;
            let _ = write!(
                s,
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let e = DockerDriver::connect(DockerOptions {
        socket: path.display().to_string(),
        ..DockerOptions::default()
    })
    .await
    .unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert_eq!(e.code(), "driver_unauthorized", "{e}");
    assert!(!e.is_transient());
}
