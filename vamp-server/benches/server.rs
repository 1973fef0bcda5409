//! Load benchmark of `vamp serve`, every figure against a baseline in the
//! same run:
//!
//! 1. `GET /api/v1/breeds/{name}` with 64 concurrent clients: requests/s
//!    and p99, against a minimal hyper "hello" server (target: at least
//!    half its throughput);
//! 2. `PUT /deployments/x` to its `synchronization:deployed` event on the
//!    memory driver (target: median under 50 ms).
//!
//! Run with `cargo bench -p vamp-server --bench server`
//! (`VAMP_BENCH_SECS` sets the seconds per throughput run, default 3).
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use vamp_server::{Config, NoGateway, Server};

const CLIENTS: usize = 64;

async fn hello() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let svc = service_fn(|_req| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                        b"hello",
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}/")
}

/// Requests/s and p99 (ms) of GET `url` with `CLIENTS` concurrent clients.
async fn load(url: &str, secs: u64) -> (f64, f64) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < end {
                let t = Instant::now();
                let r = client
                    .get(&url)
                    .header("Accept", "application/json")
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
                let _ = r.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let p99 = all[(all.len() * 99 / 100).min(all.len() - 1)];
    (all.len() as f64 / elapsed, p99.as_secs_f64() * 1000.0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let secs = std::env::var("VAMP_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
        let dir = std::env::temp_dir().join(format!("vamp-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut config = Config::new(&dir);
        config.listen = "127.0.0.1:0".parse().unwrap();
        let server = Server::bind(config, Arc::new(vamp_drivers::MemoryDriver::new()), Arc::new(NoGateway)).await.unwrap();
        let api = format!("http://{}/api/v1", server.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async move { let _ = stopped.await; }));
        let c = reqwest::Client::new();
        let put = |path: String, body: String| {
            let c = c.clone();
            async move {
                let r = c.put(path).header("Accept", "application/json").header("Content-Type", "application/x-yaml").body(body).send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.text().await.unwrap());
            }
        };
        put(format!("{api}/breeds/sava:1.0"), "name: sava:1.0\ndeployable: magneticio/sava:1.0.0\nports:\n  web: 8080/http\n".into()).await;

        let base = hello().await;
        let (hello_rps, hello_p99) = load(&base, secs).await;
        let (vamp_rps, vamp_p99) = load(&format!("{api}/breeds/sava:1.0"), secs).await;
        println!("GET breed, {CLIENTS} clients: vamp {vamp_rps:.0} req/s (p99 {vamp_p99:.2} ms); hyper hello {hello_rps:.0} req/s (p99 {hello_p99:.2} ms); ratio {:.2} (target >= 0.50)", vamp_rps / hello_rps);

        let stream = c.get(format!("{api}/events/stream?tag=synchronization:deployed")).send().await.unwrap();
        let mut frames = stream.bytes_stream();
        let mut times = Vec::new();
        for i in 0..40 {
            let body = format!("name: x\nclusters:\n  web:\n    services:\n      breed:\n        name: web:{i}\n        deployable: acme/web:{i}\n        ports:\n          web: 8080/http\n");
            let t = Instant::now();
            put(format!("{api}/deployments/x{i}"), body).await;
            loop {
                let chunk = frames.next().await.unwrap().unwrap();
                if String::from_utf8_lossy(&chunk).contains(&format!("deployments:x{i}\"")) {
                    break;
                }
            }
            times.push(t.elapsed());
        }
        times.sort();
        let median = times[times.len() / 2].as_secs_f64() * 1000.0;
        let p90 = times[times.len() * 9 / 10].as_secs_f64() * 1000.0;
        println!("PUT /deployments/x -> synchronization:deployed (memory driver): median {median:.2} ms, p90 {p90:.2} ms (target median < 50 ms)");
        let _ = stop.send(());
        drop(frames);
        let _ = handle.await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
