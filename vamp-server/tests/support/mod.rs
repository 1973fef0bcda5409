//! Shared helpers: an in-process server on an ephemeral loopback port, an
//! HTTP client, and an SSE reader.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use vamp_drivers::{Driver, MemoryDriver};
use vamp_server::{Config, NoGateway, Server};

/// A fresh temporary folder.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "vamp-server-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Settings for tests: fast loop, short heartbeat.
pub fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::new(dir);
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.timing.resync = Duration::from_millis(500);
    c.timing.backoff = Duration::from_millis(50);
    c.timing.retry.initial = Duration::from_millis(10);
    c.timing.retry.deadline = Duration::from_millis(300);
    c.heartbeat = Duration::from_millis(300);
    c
}

/// A running server.
pub struct Srv {
    pub api: String,
    pub client: reqwest::Client,
    pub dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl Srv {
    pub async fn start(dir: PathBuf, driver: Arc<dyn Driver>) -> Srv {
        Self::with(config(&dir), driver).await
    }

    pub async fn with(config: Config, driver: Arc<dyn Driver>) -> Srv {
        Self::with_sink(config, driver, Arc::new(NoGateway)).await
    }

    pub async fn with_sink(
        config: Config,
        driver: Arc<dyn Driver>,
        sink: Arc<dyn vamp_server::GatewaySink>,
    ) -> Srv {
        let dir = config.store.clone();
        let server = Server::bind(config, driver, sink).await.unwrap();
        let api = format!("http://{}/api/v1", server.local_addr());
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            server
                .run(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Srv {
            api,
            client: reqwest::Client::new(),
            dir,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    pub async fn memory() -> (Srv, Arc<MemoryDriver>) {
        let d = Arc::new(MemoryDriver::new());
        (Srv::start(temp_dir("mem"), d.clone()).await, d)
    }

    /// Sends a request with `Accept: application/json` and, with a body,
    /// `Content-Type: application/x-yaml`.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let url = format!("{}/{path}", self.api);
        let resp = request(&self.client, method, &url, body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap())
    }

    pub async fn json(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let (s, _, t) = self.call(method, path, body).await;
        (s, serde_json::from_str(&t).unwrap_or(Value::Null))
    }

    /// [`Srv::json`] with a body.
    pub async fn send(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        self.json(method, path, Some(body)).await
    }

    /// A GET with this `Accept` header (none when empty) and nothing else.
    pub async fn get_as(&self, path: &str, accept: &str) -> reqwest::Response {
        let mut r = self.client.get(format!("{}/{path}", self.api));
        if !accept.is_empty() {
            r = r.header("Accept", accept);
        }
        r.send().await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(10), h)
                .await
                .expect("the server stops")
                .unwrap();
        }
    }

    pub async fn events(&self, query: &str) -> Sse {
        Sse::open(&format!("{}/events/stream{query}", self.api)).await
    }
}

/// A request to `url` with `Accept: application/json` and, with a body,
/// `Content-Type: application/x-yaml`.
pub fn request(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<&str>,
) -> reqwest::RequestBuilder {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let r = client.request(m, url).header("Accept", "application/json");
    match body {
        Some(b) => r
            .header("Content-Type", "application/x-yaml")
            .body(b.to_owned()),
        None => r,
    }
}

/// Calls `check` every `every_ms` until it holds or `secs` have passed;
/// whether it held.
pub async fn eventually(secs: u64, every_ms: u64, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(every_ms)).await;
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Frames read from an SSE stream.
pub struct Sse {
    pub rx: mpsc::UnboundedReceiver<String>,
}

impl Sse {
    pub async fn open(url: &str) -> Sse {
        let resp = reqwest::Client::new().get(url).send().await.unwrap();
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut stream = resp.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = stream.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(i) = buf.find("\n\n") {
                    let frame = buf[..i + 2].to_owned();
                    buf.drain(..i + 2);
                    if tx.send(frame).is_err() {
                        return;
                    }
                }
            }
        });
        Sse { rx }
    }

    /// The next event (skipping heartbeats) carrying all `tags`.
    pub async fn wait(&mut self, tags: &[&str], secs: u64) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let frame = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no event with {tags:?} within {secs} s"))
                .expect("stream open");
            let Some(data) = frame.strip_prefix("data:") else {
                continue;
            };
            let json: Value = serde_json::from_str(data.lines().next().unwrap()).unwrap();
            let have: Vec<&str> = json["tags"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if tags.iter().all(|t| have.contains(t)) {
                return json;
            }
        }
    }
}

pub const BREED: &str =
    "kind: breed\nname: sava:1.0\ndeployable: magneticio/sava:1.0.0\nports:\n  web: 8080/http\n";

/// A blueprint with one cluster `sava` running the given versions.
pub fn blueprint(name: &str, versions: &[&str], instances: u32) -> String {
    let mut s = format!("name: {name}\nclusters:\n  sava:\n    services:\n");
    for v in versions {
        s.push_str(&format!(
            "      - breed:\n          name: sava:{v}\n          deployable: magneticio/sava:{v}\n          ports:\n            web: 8080/http\n        scale:\n          cpu: 0.1\n          memory: 32MB\n          instances: {instances}\n"
        ));
    }
    s
}

/// Sends raw bytes to the server of `api` and reads the answer until the
/// connection closes or 2 s pass.
pub async fn raw(api: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = api
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}
