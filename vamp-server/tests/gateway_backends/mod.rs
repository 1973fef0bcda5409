//! Local HTTP backends for the gateway tests and benchmark: each answers
//! every request with `{"id": ID}` (keep-alive, HTTP/1.1). Each test
//! binary uses a part of them.
#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr, unreachable_pub)]

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// Starts a backend answering `{"id": id}`; returns its port. It runs
/// until the runtime stops.
pub async fn start(id: &str) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = Bytes::from(format!("{{\"id\":\"{id}\"}}"));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req| {
                    let body = body.clone();
                    async move { Ok::<_, Infallible>(hyper::Response::new(Full::new(body))) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    port
}

/// A port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A stand-alone gateway on `port` splitting `weights` between external
/// routes to local `backends`.
pub fn gateway(name: &str, port: u16, backends: &[(u16, u8)]) -> String {
    let mut out = format!("name: {name}\nport: {port}/http\nroutes:\n");
    for (b, w) in backends {
        out.push_str(&format!("  \"[127.0.0.1:{b}]\":\n    weight: {w}%\n"));
    }
    out
}

/// True, said on stderr, when `haproxy` is not on the PATH (the caller
/// skips).
pub fn no_haproxy() -> bool {
    let missing = std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .is_err();
    if missing {
        eprintln!("SKIPPED: haproxy is not on the PATH");
    }
    missing
}
