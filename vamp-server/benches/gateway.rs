//! Benchmark of the HAProxy gateway agent, every figure from one run, with
//! local backends (no Docker):
//!
//! 1. the time from `PUT /gateways/bench` to the new split in effect, for a
//!    weight change (90/10 to 10/90: runtime API, no reload) and for a
//!    route-set change (a third route added: seamless reload);
//! 2. requests/s through HAProxy at the 2-route gateway managed by the
//!    server (weight tables, access log read by the server) against an
//!    HAProxy serving the same two backends from a hand-written static
//!    configuration, in alternating rounds (target: within 5%).
//!
//! Run with `cargo bench -p vamp-server --bench gateway` (`haproxy` on the
//! PATH; `VAMP_BENCH_SECS` sets the seconds per throughput round, default 2).
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs
)]

#[path = "../tests/gateway_backends/mod.rs"]
mod gateway_backends;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway_backends::{free_port, gateway};
use vamp_server::gateway::Options;
use vamp_server::{Config, HaproxyGateway, Server};

/// Connections of the load generator.
const CONNECTIONS: usize = 32;
/// Alternating throughput rounds (managed, static).
const ROUNDS: usize = 5;
/// Samples per change latency.
const CHANGES: usize = 10;

/// The hand-written configuration a person would write for two backends.
fn static_config(port: u16, a: u16, b: u16) -> String {
    format!(
        "global\n    maxconn 4096\n\ndefaults\n    mode http\n    timeout connect 5s\n    \
         timeout client 30s\n    timeout server 30s\n\nfrontend web\n    bind 127.0.0.1:{port}\n    \
         default_backend app\n\nbackend app\n    balance roundrobin\n    \
         server a 127.0.0.1:{a} check\n    server b 127.0.0.1:{b} check\n"
    )
}

/// Requests/s of keep-alive GETs on `port` for `secs`.
async fn throughput(client: &reqwest::Client, port: u16, secs: u64) -> f64 {
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let url = format!("http://127.0.0.1:{port}/");
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, url, done, count) =
                (client.clone(), url.clone(), done.clone(), count.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    let r = client.get(&url).send().await.unwrap();
                    assert!(r.status().is_success());
                    r.bytes().await.unwrap();
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    done.store(true, Ordering::Relaxed);
    let n = count.load(Ordering::Relaxed);
    let elapsed = t.elapsed().as_secs_f64();
    for w in workers {
        w.await.unwrap();
    }
    n as f64 / elapsed
}

/// The id of the backend answering one GET on `port`.
async fn id(client: &reqwest::Client, port: u16) -> String {
    let v: serde_json::Value = client
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["id"].as_str().unwrap_or_default().to_owned()
}

async fn put(client: &reqwest::Client, api: &str, body: String) {
    let r = client
        .put(format!("{api}/gateways/bench"))
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-yaml")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

/// Milliseconds from the PUT of `body` until `in_effect` holds for the
/// answers seen since (requests sent one after another).
async fn until_in_effect(
    client: &reqwest::Client,
    api: &str,
    port: u16,
    body: String,
    in_effect: impl Fn(&[String]) -> bool,
) -> f64 {
    let t = Instant::now();
    put(client, api, body).await;
    let mut seen = Vec::new();
    while !in_effect(&seen) {
        seen.push(id(client, port).await);
        assert!(t.elapsed() < Duration::from_secs(10), "not in effect");
    }
    t.elapsed().as_secs_f64() * 1000.0
}

fn summary(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "median {:.1} ms, max {:.1} ms ({} changes)",
        ms[ms.len() / 2],
        ms[ms.len() - 1],
        ms.len()
    )
}

/// Two `b` answers in a row: impossible at 90/10 (smooth round-robin), the
/// rule at 10/90.
fn two_b_in_a_row(seen: &[String]) -> bool {
    seen.windows(2).any(|w| w[0] == "b" && w[1] == "b")
}

fn two_a_in_a_row(seen: &[String]) -> bool {
    seen.windows(2).any(|w| w[0] == "a" && w[1] == "a")
}

fn main() {
    if gateway_backends::no_haproxy() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let secs = std::env::var("VAMP_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2);
        let (a, b, c) = (
            gateway_backends::start("a").await,
            gateway_backends::start("b").await,
            gateway_backends::start("c").await,
        );
        let dir = std::env::temp_dir().join(format!("vamp-bench-gw-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut config = Config::new(dir.join("store"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.gateway = "haproxy".into();
        let sink = Arc::new(HaproxyGateway::new(Options::new(dir.join("haproxy"))));
        let server = Server::bind(config, Arc::new(vamp_drivers::MemoryDriver::new()), sink)
            .await
            .unwrap();
        let api = format!("http://{}/api/v1", server.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .unwrap();
        let managed = free_port();
        let two = |wa: u8, wb: u8| gateway("bench", managed, &[(a, wa), (b, wb)]);
        put(&client, &api, two(90, 10)).await;
        let t = Instant::now();
        while client
            .get(format!("http://127.0.0.1:{managed}/"))
            .send()
            .await
            .is_err()
        {
            assert!(t.elapsed() < Duration::from_secs(10), "the gateway never served");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // 1. Change latency, probed over fresh connections: HAProxy 2.6
        // closes idle keep-alive connections of the old worker at a reload
        // (`idle-close-on-response` arrives in 2.7), and a client reusing
        // one at that instant must retry, as browsers do.
        let probe = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let mut weights = Vec::new();
        let mut routes = Vec::new();
        for _ in 0..CHANGES {
            weights.push(until_in_effect(&probe, &api, managed, two(10, 90), two_b_in_a_row).await);
            weights.push(until_in_effect(&probe, &api, managed, two(90, 10), two_a_in_a_row).await);
            let three = gateway("bench", managed, &[(a, 45), (b, 45), (c, 10)]);
            routes.push(
                until_in_effect(&probe, &api, managed, three, |s| s.iter().any(|i| i == "c"))
                    .await,
            );
            // Back to two routes (a reload) before the next weight change.
            put(&client, &api, two(90, 10)).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        println!("PUT weight change -> new split in effect (runtime API): {}", summary(weights));
        println!("PUT route-set change -> new route in effect (seamless reload): {}", summary(routes));

        // 2. Throughput: managed 50/50 against the static configuration.
        put(&client, &api, two(50, 50)).await;
        let stat_port = free_port();
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("static.cfg");
        std::fs::write(&cfg, static_config(stat_port, a, b)).unwrap();
        let mut static_proxy = tokio::process::Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(&cfg)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let t = Instant::now();
        while client.get(format!("http://127.0.0.1:{stat_port}/")).send().await.is_err() {
            assert!(t.elapsed() < Duration::from_secs(10), "the static HAProxy never served");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Alternating rounds, so that both see the same machine load.
        let mut rounds = Vec::new();
        for _ in 0..ROUNDS {
            let s = throughput(&client, stat_port, secs).await;
            let m = throughput(&client, managed, secs).await;
            rounds.push((m, s, m / s));
        }
        let mut ratios: Vec<f64> = rounds.iter().map(|r| r.2).collect();
        ratios.sort_by(f64::total_cmp);
        let (m, s) = (
            rounds.iter().map(|r| r.0).sum::<f64>() / ROUNDS as f64,
            rounds.iter().map(|r| r.1).sum::<f64>() / ROUNDS as f64,
        );
        println!(
            "{CONNECTIONS} keep-alive connections, {ROUNDS} alternating rounds of {secs} s: managed \
             gateway {m:.0} req/s, static HAProxy {s:.0} req/s (means); managed/static per round \
             {:?}, median {:.3} (target >= 0.95)",
            rounds.iter().map(|r| format!("{:.3}", r.2)).collect::<Vec<_>>(),
            ratios[ROUNDS / 2]
        );
        let _ = static_proxy.kill().await;
        let _ = stop.send(());
        let _ = handle.await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
