//! The HAProxy process: started in master-worker mode (`-W`) with its
//! master CLI on a private unix socket (`-S`) and the runtime API on
//! another (`stats socket ... expose-fd listeners`, so that a reload takes
//! the listening sockets over from the old worker and no connection is
//! refused). Its standard error is kept bounded (the last lines only).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::process::{Child, Command};

/// Lines of HAProxy's standard error kept.
const KEEP_LINES: usize = 20;

/// The files of one agent, all in one private folder.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    pub(crate) dir: PathBuf,
    pub(crate) config: PathBuf,
    pub(crate) master: PathBuf,
    pub(crate) stats: PathBuf,
    pub(crate) maps: PathBuf,
    pub(crate) check: PathBuf,
}

impl Paths {
    pub(crate) fn new(dir: &Path) -> Paths {
        Paths {
            dir: dir.to_owned(),
            config: dir.join("haproxy.cfg"),
            master: dir.join("master.sock"),
            stats: dir.join("stats.sock"),
            maps: dir.join("maps"),
            check: dir.join("check"),
        }
    }

    /// Creates the folder (owner only), emptied of what a previous run left.
    pub(crate) fn create(&self) -> std::io::Result<()> {
        let _ = std::fs::remove_dir_all(&self.dir);
        std::fs::create_dir_all(&self.maps)?;
        std::fs::create_dir_all(&self.check)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
}

/// Writes `content` to `path` atomically (a temporary file renamed).
pub(crate) fn write_atomic(path: &Path, content: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, path)
}

/// A running HAProxy master.
pub(crate) struct Proxy {
    child: Child,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl Proxy {
    /// Starts HAProxy on `paths.config` and waits until its runtime API answers.
    pub(crate) async fn spawn(binary: &Path, paths: &Paths) -> Result<Proxy, String> {
        let mut child = Command::new(binary)
            .arg("-W")
            .arg("-db")
            .arg("-S")
            .arg(format!("{},mode,600", paths.master.display()))
            .arg("-f")
            .arg(&paths.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(err) = child.stderr.take() {
            let keep = stderr.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(err).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut k = keep.lock().unwrap_or_else(|e| e.into_inner());
                    if k.len() == KEEP_LINES {
                        k.pop_front();
                    }
                    k.push_back(line);
                }
            });
        }
        let mut proxy = Proxy { child, stderr };
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(status)) = proxy.child.try_wait() {
                return Err(format!("haproxy exited ({status}): {}", proxy.last_error()));
            }
            if worker_pid(&paths.stats).await.is_some() {
                return Ok(proxy);
            }
            if Instant::now() > deadline {
                proxy.stop().await;
                return Err("haproxy did not answer on its runtime API within 5 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The master's process id.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// What HAProxy said last on its standard error.
    pub(crate) fn last_error(&self) -> String {
        let k = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        k.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Completes when the master exits.
    pub(crate) async fn exited(&mut self) {
        let _ = self.child.wait().await;
    }

    /// Reloads the configuration seamlessly (the master starts a new
    /// worker that takes the listeners over), and waits until the new
    /// worker answers on the runtime API.
    pub(crate) async fn reload(&mut self, paths: &Paths) -> Result<(), String> {
        let before = worker_pid(&paths.stats).await;
        command(&paths.master, "reload")
            .await
            .map_err(|e| format!("master CLI: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("haproxy exited ({status}): {}", self.last_error()));
            }
            let now = worker_pid(&paths.stats).await;
            if now.is_some() && now != before {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("no new worker after reload: {}", self.last_error()));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops HAProxy (SIGTERM, then SIGKILL after 3 s) and waits for it.
    pub(crate) async fn stop(&mut self) {
        if let Some(pid) = self
            .child
            .id()
            .and_then(|p| rustix::process::Pid::from_raw(p as i32))
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            if tokio::time::timeout(Duration::from_secs(3), self.child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

/// Sends one command line to a HAProxy CLI socket and reads the answer.
pub(crate) async fn command(socket: &Path, line: &str) -> std::io::Result<String> {
    let mut s = UnixStream::connect(socket).await?;
    s.write_all(line.as_bytes()).await?;
    s.write_all(b"\n").await?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer"))??;
    Ok(out)
}

/// The pid of the worker that answers on the runtime API.
pub(crate) async fn worker_pid(stats: &Path) -> Option<u32> {
    let info = command(stats, "show info").await.ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid: "))
        .and_then(|p| p.trim().parse().ok())
}

/// Runs `haproxy -c` on a configuration file: `Err` with what it said.
pub(crate) fn check(binary: &Path, config: &Path) -> Result<(), String> {
    let out = std::process::Command::new(binary)
        .arg("-c")
        .arg("-q")
        .arg("-f")
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let alerts: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("[ALERT]"))
        .map(str::trim)
        .collect();
    Err(if alerts.is_empty() {
        text.trim().to_owned()
    } else {
        alerts.join("; ")
    })
}
