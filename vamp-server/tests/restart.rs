//! The real `vamp serve` binary: what was acknowledged survives a clean
//! stop (SIGTERM) and a `kill -9`, and the restarted server converges.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{blueprint, eventually, free_port};

/// The `vamp` binary next to this test's folder, built if missing.
fn vamp() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let bin = dir.join("vamp");
    let status = Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", "vamp-cli", "--bin", "vamp"])
        .status()
        .unwrap();
    assert!(status.success(), "cargo build of the vamp binary failed");
    assert!(bin.exists(), "{} is missing", bin.display());
    bin
}

struct Proc(Child, String);

impl Proc {
    fn start(bin: &PathBuf, store: &PathBuf) -> Proc {
        let port = free_port();
        let child = Command::new(bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--store"])
            .arg(store)
            .args(["--gateway", "none"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Proc(child, format!("http://127.0.0.1:{port}/api/v1"))
    }

    fn kill9(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }

    fn term(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        let start = Instant::now();
        loop {
            if let Some(s) = self.0.try_wait().unwrap() {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "vamp serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

async fn call(
    api: &str,
    method: &str,
    path: &str,
    body: Option<String>,
) -> (u16, serde_json::Value) {
    let c = reqwest::Client::new();
    let url = format!("{api}/{path}");
    let start = Instant::now();
    loop {
        match support::request(&c, method, &url, body.as_deref())
            .send()
            .await
        {
            Ok(resp) => {
                let st = resp.status().as_u16();
                return (st, resp.json().await.unwrap_or(serde_json::Value::Null));
            }
            Err(_) if start.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_and_sigterm() {
    let bin = vamp();
    let store = support::temp_dir("restart");
    let p = Proc::start(&bin, &store);
    let api = p.1.clone();
    // Many acknowledged writes, then kill -9 right after the last answer.
    for i in 0..40 {
        let body = format!("kind: breed\nname: b{i}\ndeployable: acme/b:{i}\n");
        assert_eq!(call(&api, "PUT", "", Some(body)).await.0, 202);
    }
    assert_eq!(
        call(
            &api,
            "PUT",
            "deployments/d",
            Some(blueprint("d", &["1.0.0"], 2))
        )
        .await
        .0,
        202
    );
    assert_eq!(
        call(
            &api,
            "PUT",
            "gateways/g",
            Some("name: g\nport: 9060\nroutes:\n  d/sava/web: {}\n".into())
        )
        .await
        .0,
        202
    );
    p.kill9();
    // No torn or temporary file is left, and everything reads back.
    let p = Proc::start(&bin, &store);
    let api = p.1.clone();
    for i in 0..40 {
        let (st, v) = call(&api, "GET", &format!("breeds/b{i}"), None).await;
        assert_eq!(
            (st, v["deployable"]["definition"].as_str()),
            (200, Some(&*format!("acme/b:{i}")))
        );
    }
    assert_eq!(
        call(&api, "GET", "gateways/g", None).await.1["port"]["number"],
        9060
    );
    assert_eq!(call(&api, "GET", "gateways/d/sava/web", None).await.0, 200);
    // The restarted server (a fresh memory driver) redeploys the deployment.
    let deployment = async || {
        let (st, d) = call(&api, "GET", "deployments/d", None).await;
        assert_eq!(st, 200);
        d
    };
    let redeployed = eventually(10, 100, async || {
        let d = deployment().await;
        let s = &d["clusters"]["sava"]["services"][0];
        s["status"]["phase"]["name"] == "Done"
            && s["instances"].as_array().is_some_and(|i| i.len() == 2)
    })
    .await;
    assert!(redeployed, "{}", deployment().await);
    // SIGTERM stops it cleanly, with a stream open.
    let stream = reqwest::Client::new()
        .get(format!("{api}/events/stream"))
        .send()
        .await
        .unwrap();
    let status = p.term();
    assert!(status.success(), "{status:?}");
    drop(stream);
    let leftovers: Vec<_> = walk(&store)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}
