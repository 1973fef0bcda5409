//! A real HAProxy, small HTTP backends and a minimal HTTP/1.1 client, all on
//! 127.0.0.1.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// An HTTP backend answering every request with `NAME PATH` (keep-alive).
pub struct Backend {
    /// Its name (the response body starts with it).
    pub name: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Requests answered.
    pub hits: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Backend {
    /// Starts a backend called `name`.
    pub fn start(name: &str) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind backend");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (n, h, s) = (name.to_owned(), hits.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (n, h) = (n.clone(), h.clone());
                thread::spawn(move || serve(stream, &n, &h));
            }
        });
        Backend {
            name: name.to_owned(),
            port,
            hits,
            stop,
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, name: &str, hits: &AtomicU64) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_owned();
        let mut close = false;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            if line.to_ascii_lowercase().starts_with("connection:")
                && line.to_ascii_lowercase().contains("close")
            {
                close = true;
            }
        }
        hits.fetch_add(1, Ordering::Relaxed);
        let body = format!("{name} {path}");
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n{body}",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        if writer.write_all(response.as_bytes()).is_err() || close {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body.
    pub body: String,
    /// `Set-Cookie` name/value pairs.
    pub set_cookies: Vec<(String, String)>,
}

impl Response {
    /// The backend that answered (first word of the body).
    pub fn backend(&self) -> &str {
        self.body.split(' ').next().unwrap_or("")
    }
    /// The path the backend saw.
    pub fn path(&self) -> &str {
        self.body.split(' ').nth(1).unwrap_or("")
    }
}

/// A minimal HTTP/1.1 client for one HAProxy port (keep-alive, reconnects).
pub struct Client {
    port: u16,
    conn: Option<BufReader<TcpStream>>,
    /// Send `Connection: close` and use a new connection per request.
    pub close: bool,
}

impl Client {
    /// A client of `127.0.0.1:port`.
    pub fn new(port: u16) -> Client {
        Client {
            port,
            conn: None,
            close: false,
        }
    }

    /// `GET path` with `headers` (name, value) and `cookies`.
    pub fn get(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        cookies: &[(&str, &str)],
    ) -> std::io::Result<Response> {
        let mut req = format!("GET {path} HTTP/1.1\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            req.push_str("Host: localhost\r\n");
        }
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if !cookies.is_empty() {
            let c: Vec<String> = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
            req.push_str(&format!("Cookie: {}\r\n", c.join("; ")));
        }
        if self.close {
            req.push_str("Connection: close\r\n");
        }
        req.push_str("\r\n");
        if self.conn.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port))?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            s.set_nodelay(true)?;
            self.conn = Some(BufReader::new(s));
        }
        let result = self.exchange(&req);
        if result.is_err() || self.close {
            self.conn = None;
        }
        result
    }

    fn exchange(&mut self, req: &str) -> std::io::Result<Response> {
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
        let conn = self.conn.as_mut().ok_or_else(|| bad("no connection"))?;
        conn.get_mut().write_all(req.as_bytes())?;
        let mut status_line = String::new();
        if conn.read_line(&mut status_line)? == 0 {
            return Err(bad("connection closed before the response"));
        }
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad status line"))?;
        let mut length = None;
        let mut set_cookies = Vec::new();
        let mut close = false;
        loop {
            let mut line = String::new();
            if conn.read_line(&mut line)? == 0 {
                return Err(bad("connection closed in the headers"));
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let Some((n, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match n.to_ascii_lowercase().as_str() {
                "content-length" => length = v.parse::<usize>().ok(),
                "set-cookie" => {
                    let pair = v.split(';').next().unwrap_or("");
                    if let Some((cn, cv)) = pair.split_once('=') {
                        set_cookies.push((cn.trim().to_owned(), cv.trim().to_owned()));
                    }
                }
                "connection" if v.eq_ignore_ascii_case("close") => close = true,
                _ => {}
            }
        }
        let mut body = Vec::new();
        match length {
            Some(n) => {
                body.resize(n, 0);
                conn.read_exact(&mut body)?;
            }
            None => {
                conn.read_to_end(&mut body)?;
                close = true;
            }
        }
        if close {
            self.conn = None;
        }
        Ok(Response {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            set_cookies,
        })
    }
}

/// HAProxy running in the foreground (master-worker), stopped on drop.
pub struct Haproxy {
    child: Child,
    /// The configuration file (rewrite it and [`Haproxy::reload`]).
    pub config: PathBuf,
    /// HAProxy's standard output: the JSON access log.
    pub log: PathBuf,
    dir: PathBuf,
}

impl Haproxy {
    /// Starts HAProxy on `config` and waits until `port` accepts connections.
    pub fn start(config: &str, port: u16) -> Haproxy {
        let bin = super::haproxy();
        super::check_config(config);
        let dir = super::scratch("live");
        let cfg = dir.join("haproxy.cfg");
        let log = dir.join("access.log");
        std::fs::write(&cfg, config).expect("write config");
        let child = Command::new(bin)
            .arg("-W")
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::from(File::create(&log).expect("log file")))
            .stderr(Stdio::from(
                File::create(dir.join("stderr.log")).expect("stderr file"),
            ))
            .spawn()
            .expect("start haproxy");
        let h = Haproxy {
            child,
            config: cfg,
            log,
            dir,
        };
        h.wait_for(port);
        h
    }

    fn wait_for(&self, port: u16) {
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "HAProxy did not listen on 127.0.0.1:{port} within 10 s: {}",
                std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Writes a new configuration and reloads (SIGUSR2 to the master).
    pub fn reload(&self, config: &str) {
        super::check_config(config);
        std::fs::write(&self.config, config).expect("write config");
        let status = Command::new("kill")
            .arg("-USR2")
            .arg(self.child.id().to_string())
            .status()
            .expect("send SIGUSR2");
        assert!(status.success(), "could not signal HAProxy");
    }

    /// The access log lines so far.
    pub fn log_lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(str::to_owned)
            .collect()
    }

    /// HAProxy's standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_dir_all(&self.dir);
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The port of the backend called `name` (0 when there is none).
pub fn port_of(by_port: &HashMap<u16, String>, name: &str) -> u16 {
    by_port
        .iter()
        .find(|(_, n)| *n == name)
        .map_or(0, |(p, _)| *p)
}

/// Backends by name, and the reverse map port → name.
pub fn backends(names: &[&str]) -> (Vec<Backend>, HashMap<u16, String>) {
    let list: Vec<Backend> = names.iter().map(|n| Backend::start(n)).collect();
    let by_port = list.iter().map(|b| (b.port, b.name.clone())).collect();
    (list, by_port)
}
