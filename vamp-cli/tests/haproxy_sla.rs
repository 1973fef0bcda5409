//! End to end through real components: a gateway exported by `vamp export
//! haproxy` runs in a real HAProxy in front of a backend made slow on
//! purpose; the access log HAProxy writes is fed to `vamp sla evaluate`,
//! which must escalate. All traffic stays on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vamp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vamp"))
        .args(args)
        .output()
        .expect("vamp runs")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A backend that answers every request after `delay`.
fn slow_backend(delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind backend");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream, delay));
        }
    });
    port
}

fn serve(mut stream: TcpStream, delay: Duration) {
    let mut buf = [0u8; 4096];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    std::thread::sleep(delay);
    let _ =
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

fn get(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET / HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body.starts_with("HTTP/1.1 200")
}

#[test]
fn slow_backend_behind_real_haproxy_escalates() {
    assert!(
        Command::new("haproxy").arg("-v").output().is_ok(),
        "haproxy is not installed: run `apt-get install haproxy` (scripts/test.sh does)"
    );
    let dir = std::env::temp_dir().join(format!("vamp-sla-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();

    let backend = slow_backend(Duration::from_millis(250));
    let gateway_port = free_port();
    std::fs::write(
        path("gateway.yml"),
        format!(
            "name: shop/sava/webport\nport: {gateway_port}/http\nroutes:\n  shop/sava/sava:1.0.0/webport:\n    weight: 100%\n"
        ),
    )
    .expect("write gateway");
    std::fs::write(
        path("targets.json"),
        format!(r#"{{"shop/sava/sava:1.0.0/webport": [{{"name": "sava-1", "host": "127.0.0.1", "port": {backend}}}]}}"#),
    )
    .expect("write targets");
    let vhosts = free_port().to_string();
    let out = vamp(&[
        "export",
        "haproxy",
        &path("gateway.yml"),
        "--targets",
        &path("targets.json"),
        "--virtual-hosts-port",
        &vhosts,
        "-o",
        &path("haproxy.cfg"),
    ]);
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    let log = std::fs::File::create(path("access.log")).expect("log file");
    let haproxy = Kill(
        Command::new("haproxy")
            .args(["-db", "-f", &path("haproxy.cfg")])
            .stdout(Stdio::from(log))
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", gateway_port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "haproxy did not listen on {gateway_port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ok = (0..12).filter(|_| get(gateway_port)).count();
    assert!(ok >= 10, "only {ok} of 12 requests went through");
    std::thread::sleep(Duration::from_millis(300));
    drop(haproxy);

    let lines = std::fs::read_to_string(path("access.log")).expect("log");
    assert!(
        lines.lines().count() >= 10,
        "HAProxy logged too little:\n{lines}"
    );
    std::fs::write(
        path("blueprint.yml"),
        "name: shop\nclusters:\n  sava:\n    sla:\n      type: response_time_sliding_window\n      threshold: {upper: 100, lower: 10}\n      window: {interval: 1, cooldown: 60}\n      escalations:\n        - type: scale_instances\n          minimum: 1\n          maximum: 3\n          scale_by: 1\n    services:\n      - breed:\n          name: sava:1.0.0\n          deployable: magneticio/sava:1.0.0\n          ports: {webport: 8080/http}\n",
    )
    .expect("write blueprint");
    let out = vamp(&[
        "sla",
        "evaluate",
        "--blueprint",
        &path("blueprint.yml"),
        "--logs",
        &path("access.log"),
        "--format",
        "json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sla evaluate failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r["event"] == "escalate" && r["cluster"] == "sava"),
        "no escalation in:\n{stdout}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "scale_instances" && r["from"] == 1 && r["to"] == 2),
        "no scale action in:\n{stdout}"
    );
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
