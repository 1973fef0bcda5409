//! The HAProxy gateway agent end to end: a real HAProxy started by the
//! server, real containers of the stand-in images through the Docker
//! driver. One server start serves every step (the suite stays fast).
//!
//! Skipped, saying so, when `haproxy` is not on the PATH or the Docker
//! daemon cannot be reached; the stand-in images are built once per run
//! (`../shared/standin/build-images.sh`) when missing.
#![cfg(feature = "docker")]
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod gateway_backends;
mod support;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway_backends::free_port;
use serde_json::Value;
use support::{temp_dir, Srv};
use vamp_drivers::{DockerDriver, DockerOptions, Driver};
use vamp_server::gateway::Options;
use vamp_server::HaproxyGateway;

const STANDIN: &str = "/work/shared/standin/build-images.sh";

fn images() -> Result<(), String> {
    let have = std::process::Command::new("docker")
        .args([
            "image",
            "inspect",
            "magneticio/sava:1.0.0",
            "magneticio/sava:1.1.0",
            "magneticio/sava:runner_1.0",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if have.status.success() {
        return Ok(());
    }
    let built = std::process::Command::new(STANDIN)
        .output()
        .map_err(|e| e.to_string())?;
    if built.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&built.stderr).into_owned())
    }
}

/// The server (its store in `dir`), its HAProxy agent and the driver.
struct Setup {
    srv: Srv,
    sink: Arc<HaproxyGateway>,
    driver: Arc<DockerDriver>,
    dir: std::path::PathBuf,
}

async fn setup() -> Option<Setup> {
    if gateway_backends::no_haproxy() {
        return None;
    }
    let driver = match DockerDriver::connect(DockerOptions {
        stop_timeout: Duration::from_secs(1),
        ..DockerOptions::default()
    })
    .await
    {
        Ok(d) => Arc::new(d),
        Err(e) => {
            eprintln!("SKIPPED: the Docker daemon is unreachable: {e}");
            return None;
        }
    };
    if let Err(e) = images() {
        eprintln!("SKIPPED: the stand-in images cannot be built: {e}");
        return None;
    }
    let dir = temp_dir("gw");
    let mut config = support::config(&dir);
    config.gateway = "haproxy".into();
    config.port_range = 46000..=46999;
    let sink = Arc::new(HaproxyGateway::new(Options::new(dir.join("haproxy"))));
    let srv = Srv::with_sink(config, driver.clone(), sink.clone()).await;
    Some(Setup {
        srv,
        sink,
        driver,
        dir,
    })
}

/// One HTTP GET through a gateway: `(status, body)`.
fn get(port: u16, user_agent: &str) -> std::io::Result<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: t\r\nUser-Agent: {user_agent}\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    Ok((status, body))
}

fn id_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Waits until `f` holds (polling), or fails after `secs`.
async fn until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn split(port: u16, n: usize, ua: &str) -> (usize, usize) {
    let mut a = 0;
    let mut b = 0;
    for _ in 0..n {
        let (st, body) = get(port, ua).unwrap();
        assert_eq!(st, 200, "{body}");
        match id_of(&body).as_str() {
            "1.0.0" => a += 1,
            "1.1.0" => b += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    (a, b)
}

fn web_blueprint(port: u16) -> String {
    format!(
        "name: gw\ngateways:\n  {port}: web/port\nclusters:\n  web:\n    services:\n{}{}    gateways:\n      routes:\n        sava:1.0.0: {{weight: 70%}}\n        sava:1.1.0: {{weight: 30%}}\n",
        service("sava:1.0.0", "magneticio/sava:1.0.0"),
        service("sava:1.1.0", "magneticio/sava:1.1.0"),
    )
}

fn service(breed: &str, image: &str) -> String {
    format!("      - breed:\n          name: {breed}\n          deployable: {image}\n          ports:\n            port: 8080/http\n        scale: {{cpu: 0.1, memory: 32MB, instances: 1}}\n")
}

fn internal(weights: (u8, u8), firefox: bool) -> String {
    let cond = if firefox {
        "\n    condition: user-agent == Firefox\n    condition_strength: 100%"
    } else {
        ""
    };
    format!(
        "name: gw/web/port\nroutes:\n  gw/web/sava:1.0.0/port:\n    weight: {}%\n  gw/web/sava:1.1.0/port:\n    weight: {}%{cond}\n",
        weights.0, weights.1
    )
}

/// PUTs the internal gateway `gw/web/port` (see [`internal`]); it must be accepted.
async fn put_internal(srv: &Srv, weights: (u8, u8), firefox: bool) {
    let (st, _, body) = srv
        .call(
            "PUT",
            "gateways/gw/web/port",
            Some(&internal(weights, firefox)),
        )
        .await;
    assert_eq!(st, 202, "{body}");
}

async fn info(srv: &Srv) -> Value {
    srv.json("GET", "info", None).await.1["gateway_driver"]["status"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn haproxy_follows_every_gateway_change() {
    let Some(Setup {
        srv,
        sink,
        driver,
        dir: store,
    }) = setup().await
    else {
        return;
    };
    let result = std::panic::AssertUnwindSafe(steps(&srv, &sink));
    let outcome = futures_util::FutureExt::catch_unwind(result).await;
    // Cleanup, pass or fail.
    for d in ["gw", "deps"] {
        let (_, _, bp) = srv
            .call("GET", &format!("deployments/{d}?as_blueprint=true"), None)
            .await;
        let _ = srv
            .call("DELETE", &format!("deployments/{d}"), Some(&bp))
            .await;
    }
    let dir = sink.dir().to_owned();
    let pid = sink.pid();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline
        && !(driver.observe("gw").await.unwrap().instances.is_empty()
            && driver.observe("deps").await.unwrap().instances.is_empty())
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    srv.stop().await;
    outcome.unwrap();
    for d in ["gw", "deps"] {
        assert!(
            driver.observe(d).await.unwrap().instances.is_empty(),
            "containers of {d} left"
        );
    }
    if let Some(pid) = pid {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "haproxy {pid} still runs"
        );
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
    std::fs::remove_dir_all(&store).unwrap();
}

async fn steps(srv: &Srv, sink: &HaproxyGateway) {
    let mut events = srv.events("?tag=gateways").await;
    let port = free_port();
    let (st, _, body) = srv
        .call("PUT", "deployments/gw", Some(&web_blueprint(port)))
        .await;
    assert_eq!(st, 202, "{body}");
    events
        .wait(&[&format!("gateways:gw/{port}"), "deployed"], 60)
        .await;
    until(60, "both versions answer through the gateway", || {
        let seen: Vec<String> = (0..10)
            .filter_map(|_| get(port, "curl").ok())
            .map(|(_, b)| id_of(&b))
            .collect();
        seen.iter().any(|i| i == "1.0.0") && seen.iter().any(|i| i == "1.1.0")
    })
    .await;

    // Exact 70/30 over 100 requests, each one logged once.
    let log = sink.access_log();
    // Lines of the requests above may still be on their way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = log.lines_read();
    let (a, b) = split(port, 100, "curl");
    assert!((69..=71).contains(&a) && (29..=31).contains(&b), "{a}/{b}");
    // Every request crosses two frontends (public, then internal gateway).
    until(5, "200 access-log lines", || {
        log.lines_read() - before >= 200
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(log.lines_read() - before, 200);
    assert_eq!(log.malformed(), 0);

    // A weight change goes through the runtime API, without a reload.
    let reloads = info(srv).await["haproxy"]["reloads"].clone();
    let t = Instant::now();
    put_internal(srv, (20, 80), false).await;
    until(5, "the 20/80 split", || {
        let (a, b) = split(port, 100, "curl");
        (19..=21).contains(&a) && (79..=81).contains(&b)
    })
    .await;
    eprintln!(
        "PUT to 20/80 in effect (incl. one 100-request check): {:?}",
        t.elapsed()
    );
    let now = info(srv).await;
    assert_eq!(now["haproxy"]["reloads"], reloads, "{now}");
    assert!(now["haproxy"]["map_updates"].as_u64().unwrap() >= 1);

    // Firefox only.
    put_internal(srv, (100, 0), true).await;
    until(5, "the Firefox condition", || {
        split(port, 1, "Mozilla/5.0 Firefox/120.0").1 == 1
    })
    .await;
    assert_eq!(
        split(port, 20, "Mozilla/5.0 (X11) Gecko/20100101 Firefox/120.0"),
        (0, 20)
    );
    assert_eq!(split(port, 20, "Mozilla/5.0 Chrome/120.0"), (20, 0));

    // Ten route changes under concurrent load: no failed request.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        load.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match get(port, "load") {
                    Ok((200, _)) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for i in 0..10u8 {
        let w = 10 * (i + 1) - 5;
        put_internal(srv, (100 - w, w), i % 2 == 0).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "{} ok",
        ok.load(Ordering::Relaxed)
    );
    assert!(ok.load(Ordering::Relaxed) > 100);

    // Bad input is refused before anything is applied.
    let api_port: u16 = srv
        .api
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (st, _, body) = srv
        .call(
            "PUT",
            "gateways/taken",
            Some(&format!(
                "name: taken\nport: {api_port}\nroutes:\n  gw/web/port: {{}}\n"
            )),
        )
        .await;
    assert_eq!(st, 400, "{body}");
    assert!(body.contains("unavailable_gateway_port"), "{body}");
    let acl = format!("name: badacl\nport: {}\nroutes:\n  gw/web/port:\n    condition: \"hdr_sub(x) -m nonsense ((\"\n", free_port());
    let (st, _, body) = srv.call("PUT", "gateways/badacl", Some(&acl)).await;
    assert_eq!(st, 400, "{body}");
    assert_eq!(srv.call("GET", "gateways/badacl", None).await.0, 404);
    assert_eq!(get(port, "curl").unwrap().0, 200);

    // HAProxy killed: restarted with the configuration within seconds.
    let pid = sink.pid().unwrap();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let t = Instant::now();
    until(10, "a new HAProxy serving", || {
        sink.pid().is_some_and(|p| p != pid) && get(port, "curl").is_ok_and(|(s, _)| s == 200)
    })
    .await;
    eprintln!("HAProxy kill -9 recovery: {:?}", t.elapsed());

    // An HTTP and a TCP dependency, each reached through its gateway
    // (`$dep.host:$dep.ports.NAME` is the internal gateway's address).
    let (hp, tp) = (free_port(), free_port());
    let deps = format!(
        "name: deps\ngateways:\n  {hp}: hfront/web\n  {tp}/tcp: tfront/line\nclusters:\n\
         \x20 hfront:\n    services:\n      breed:\n        name: hfront\n        deployable: magneticio/sava:runner_1.0\n        ports:\n          web: 8080/http\n        environment_variables:\n          SAVA_RUNNER_ID: hfront\n          SAVA_RUNNER_HTTP_DEPENDENCY_URL1: http://$back.host:$back.ports.web\n        dependencies:\n          back: hback\n\
         \x20 hback:\n    services:\n      breed:\n        name: hback\n        deployable: magneticio/sava:runner_1.0\n        ports:\n          web: 8080/http\n        environment_variables:\n          SAVA_RUNNER_ID: hback\n\
         \x20 tfront:\n    services:\n      breed:\n        name: tfront\n        deployable: magneticio/sava:runner_1.0\n        ports:\n          line: 7000/tcp\n        environment_variables:\n          SAVA_RUNNER_ID: tfront\n          SAVA_RUNNER_TCP_DEPENDENCY_URL1: $worker.host:$worker.ports.line\n        dependencies:\n          worker: tback\n\
         \x20 tback:\n    services:\n      breed:\n        name: tback\n        deployable: magneticio/sava:runner_1.0\n        ports:\n          line: 7100/tcp\n        environment_variables:\n          SAVA_RUNNER_ID: tback\n"
    );
    let (st, _, body) = srv.call("PUT", "deployments/deps", Some(&deps)).await;
    assert_eq!(st, 202, "{body}");
    until(
        60,
        "the HTTP dependency answers through two gateways",
        || get(hp, "curl").is_ok_and(|(s, b)| s == 200 && id_of(&b) == "hback"),
    )
    .await;
    until(
        60,
        "the TCP dependency answers through two gateways",
        || tcp(tp, "ping").is_ok_and(|b| id_of(&b) == "tback"),
    )
    .await;
    // Both dependencies were reached through their internal gateways: the
    // access log names their frontends.
    let mut lines = log.subscribe();
    assert_eq!(id_of(&get(hp, "curl").unwrap().1), "hback");
    assert_eq!(id_of(&tcp(tp, "ping").unwrap()), "tback");
    let mut frontends = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while frontends.len() < 2 && Instant::now() < deadline {
        if let Ok(Ok(line)) = tokio::time::timeout(Duration::from_millis(200), lines.recv()).await {
            let ft = line["ft"].as_str().unwrap_or_default();
            if ["deps_2fhback_2fweb", "deps_2ftback_2fline"].contains(&ft) {
                frontends.insert(ft.to_owned());
            }
        }
    }
    assert_eq!(frontends.len(), 2, "{frontends:?}");
}

/// One TCP exchange through a gateway: what the far end answers to `data`.
fn tcp(port: u16, data: &str) -> std::io::Result<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(data.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}
