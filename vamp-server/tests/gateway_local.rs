//! The HAProxy gateway agent with local backends (no Docker): stand-alone
//! gateways whose routes are external addresses `[127.0.0.1:PORT]`.
//!
//! - the access log drops no line under concurrent load;
//! - virtual hosts route by `Host` on the shared virtual-hosts port.
//!
//! Skipped, saying so, when `haproxy` is not on the PATH.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod gateway_backends;
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway_backends::{free_port, gateway};
use serde_json::Value;
use support::{temp_dir, Srv};
use vamp_drivers::MemoryDriver;
use vamp_server::gateway::Options;
use vamp_server::HaproxyGateway;

/// Removes a test's folder when the test ends, even by a panic (a clean
/// end has removed it already: [`finish`]).
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server with the HAProxy agent on the memory driver; `None` (said on
/// stderr) without `haproxy`.
async fn server(virtual_hosts_port: Option<u16>) -> Option<(Srv, Arc<HaproxyGateway>, Cleanup)> {
    if gateway_backends::no_haproxy() {
        return None;
    }
    let dir = temp_dir("gwl");
    let mut config = support::config(&dir);
    config.gateway = "haproxy".into();
    config.port_range = 47000..=47999;
    let mut options = Options::new(dir.join("haproxy"));
    options.virtual_hosts_port = virtual_hosts_port;
    let sink = Arc::new(HaproxyGateway::new(options));
    let srv = Srv::with_sink(config, Arc::new(MemoryDriver::new()), sink.clone()).await;
    Some((srv, sink, Cleanup(dir)))
}

/// Stops the server and checks that nothing is left: no HAProxy, no
/// private folder (sockets, tables), no store.
async fn finish(srv: Srv, sink: &HaproxyGateway) {
    let (pid, dir, store) = (sink.pid(), sink.dir().to_owned(), srv.dir.clone());
    srv.stop().await;
    if let Some(pid) = pid {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "haproxy {pid} still runs"
        );
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
    std::fs::remove_dir_all(store).unwrap();
}

async fn put(srv: &Srv, name: &str, body: &str) {
    let (st, _, text) = srv
        .call("PUT", &format!("gateways/{name}"), Some(body))
        .await;
    assert!(st == 201 || st == 202 || st == 200, "{st} {text}");
}

/// `(status, id)` of a GET through `port` with `host`.
async fn ask(client: &reqwest::Client, port: u16, host: &str) -> (u16, String) {
    ask_path(client, port, host, "/").await
}

/// [`ask`] for `path`.
async fn ask_path(client: &reqwest::Client, port: u16, host: &str, path: &str) -> (u16, String) {
    match client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .header("Host", host)
        .send()
        .await
    {
        Ok(r) => {
            let st = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (st, body["id"].as_str().unwrap_or_default().to_owned())
        }
        Err(_) => (0, String::new()),
    }
}

async fn until_serving(client: &reqwest::Client, port: u16, host: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while ask(client, port, host).await.0 != 200 {
        assert!(
            Instant::now() < deadline,
            "port {port} does not serve {host}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const REQUESTS: usize = 20_000;
const CLIENTS: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_access_log_drops_no_line_under_load() {
    let Some((srv, sink, _cleanup)) = server(None).await else {
        return;
    };
    let (a, b) = (
        gateway_backends::start("a").await,
        gateway_backends::start("b").await,
    );
    let port = free_port();
    put(&srv, "load", &gateway("load", port, &[(a, 50), (b, 50)])).await;
    let client = reqwest::Client::new();
    until_serving(&client, port, "load").await;
    let log = sink.access_log();
    let mut lines = log.subscribe();
    let malformed = log.malformed();

    let next = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, next) = (client.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            while next.fetch_add(1, Ordering::Relaxed) < REQUESTS {
                if ask_path(&client, port, "load", "/load").await.0 == 200 {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for task in tasks {
        ok += task.await.unwrap();
    }
    eprintln!("{REQUESTS} requests in {:?}", t.elapsed());
    assert_eq!(ok, REQUESTS);

    // Exactly one line per request, each one whole. (Lines of the requests
    // that waited for the gateway may still arrive: they ask for `/`.)
    let mut seen = 0;
    let mut per_route = [0usize; 2];
    loop {
        match tokio::time::timeout(Duration::from_secs(2), lines.recv()).await {
            Ok(Ok(line)) => {
                assert_eq!(line["ft"], "load", "{line}");
                assert_eq!(line["ST"], 200, "{line}");
                if line["r"] != "GET /load HTTP/1.1" {
                    continue;
                }
                let route = line["b"].as_str().unwrap();
                per_route[usize::from(route.contains(&b.to_string()))] += 1;
                seen += 1;
            }
            Ok(Err(e)) => panic!("the subscriber lagged: {e}"),
            Err(_) => break,
        }
    }
    assert_eq!(seen, REQUESTS);
    assert_eq!(per_route, [REQUESTS / 2, REQUESTS / 2]);
    assert_eq!(log.malformed(), malformed);
    finish(srv, &sink).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_hosts_route_by_host_on_the_shared_port() {
    let vport = free_port();
    let Some((srv, sink, _cleanup)) = server(Some(vport)).await else {
        return;
    };
    let (a, b, c) = (
        gateway_backends::start("shop").await,
        gateway_backends::start("blog").await,
        gateway_backends::start("blog-canary").await,
    );
    let (shop, blog) = (free_port(), free_port());
    put(
        &srv,
        "shop",
        &format!(
            "{}virtual_hosts: [shop.example, www.shop.example]\n",
            gateway("shop", shop, &[(a, 100)])
        ),
    )
    .await;
    // The blog's own rules apply to requests that reach it by host: a
    // Firefox-only route.
    put(
        &srv,
        "blog",
        &format!(
            "name: blog\nport: {blog}/http\nvirtual_hosts: [blog.example]\nroutes:\n  \
             \"[127.0.0.1:{b}]\":\n    weight: 100%\n  \"[127.0.0.1:{c}]\":\n    weight: 0%\n    \
             condition: user-agent == Firefox\n    condition_strength: 100%\n"
        ),
    )
    .await;
    let client = reqwest::Client::new();
    until_serving(&client, vport, "shop.example").await;
    until_serving(&client, vport, "blog.example").await;
    for (host, want) in [
        ("shop.example", (200, "shop")),
        ("SHOP.example", (200, "shop")),
        ("www.shop.example", (200, "shop")),
        ("blog.example", (200, "blog")),
        ("elsewhere.example", (503, "")),
    ] {
        assert_eq!(
            ask(&client, vport, host).await,
            (want.0, want.1.to_owned()),
            "{host}"
        );
    }
    let firefox = client
        .get(format!("http://127.0.0.1:{vport}/"))
        .header("Host", "blog.example")
        .header("User-Agent", "Mozilla/5.0 Firefox/120.0")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(firefox["id"], "blog-canary");
    // Each gateway still serves on its own port, whatever the host.
    assert_eq!(ask(&client, shop, "any").await, (200, "shop".to_owned()));
    assert_eq!(ask(&client, blog, "any").await, (200, "blog".to_owned()));

    finish(srv, &sink).await;
}

/// Deployments written at once get distinct internal-gateway ports (port
/// assignment is serialized across deployments), each of the type of its
/// breed port.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deployments_get_distinct_gateway_ports() {
    let Some((srv, sink, _cleanup)) = server(None).await else {
        return;
    };
    let srv = Arc::new(srv);
    let writes: Vec<_> = (0..8)
        .map(|i| {
            let srv = srv.clone();
            tokio::spawn(async move {
                let body = format!(
                    "name: d{i}\nclusters:\n  c:\n    services:\n      breed:\n        name: b{i}\n        \
                     deployable: acme/b:{i}\n        ports:\n          web: 8080/http\n          line: 7000/tcp\n"
                );
                srv.call("PUT", &format!("deployments/d{i}"), Some(&body)).await
            })
        })
        .collect();
    for w in writes {
        let (st, _, body) = w.await.unwrap();
        assert_eq!(st, 202, "{body}");
    }
    let (_, all) = srv.json("GET", "gateways", None).await;
    let ports: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["port"]["number"].as_u64().unwrap())
        .collect();
    assert_eq!(ports.len(), 16, "{all}");
    // An internal gateway takes its type from the breeds' port.
    for g in all.as_array().unwrap() {
        let name = g["name"].as_str().unwrap();
        let want = if name.ends_with("/line") {
            "tcp"
        } else {
            "http"
        };
        assert_eq!(g["port"]["type"], want, "{name}");
    }
    let distinct: std::collections::BTreeSet<_> = ports.iter().collect();
    assert_eq!(distinct.len(), ports.len(), "{ports:?}");
    let srv = Arc::into_inner(srv).unwrap();
    finish(srv, &sink).await;
}
