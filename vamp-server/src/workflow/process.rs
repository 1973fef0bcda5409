//! One run of a workflow script: `node workflow.js` in its own process
//! group, its output kept in a bounded ring, killed on timeout or stop.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;

/// The newest bytes a workflow wrote (stdout and stderr, interleaved).
#[derive(Debug)]
pub struct Ring {
    bytes: VecDeque<u8>,
    capacity: usize,
}

impl Ring {
    /// A ring keeping the newest `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        Ring {
            bytes: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Appends, dropping the oldest bytes past the capacity.
    pub fn push(&mut self, chunk: &[u8]) {
        let chunk = &chunk[chunk.len().saturating_sub(self.capacity)..];
        let over = (self.bytes.len() + chunk.len()).saturating_sub(self.capacity);
        self.bytes.drain(..over);
        self.bytes.extend(chunk);
    }

    /// The kept text.
    pub fn text(&self) -> String {
        let (a, b) = self.bytes.as_slices();
        let mut v = Vec::with_capacity(a.len() + b.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b);
        String::from_utf8_lossy(&v).into_owned()
    }
}

/// Shared output of one workflow.
pub type Output = Arc<Mutex<Ring>>;

/// What one run needs.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The program (`node`), maybe behind `nice`.
    pub program: Vec<String>,
    /// The folder holding `workflow.js`.
    pub dir: PathBuf,
    /// The whole environment.
    pub env: Vec<(String, String)>,
    /// SIGKILL after this long.
    pub timeout: Option<Duration>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The process exited (its code, None for a signal).
    Exited(Option<i32>),
    /// Killed after the timeout.
    TimedOut,
    /// Stopped because the workflow stops.
    Stopped,
    /// It could not start.
    Failed(String),
}

/// Grace between SIGTERM and SIGKILL on stop.
const GRACE: Duration = Duration::from_secs(5);

fn signal_group(pid: Option<u32>, signal: rustix::process::Signal) {
    if let Some(pid) = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

async fn copy(mut from: impl AsyncRead + Unpin, out: Output) {
    let mut buf = vec![0u8; 8192];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        out.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(&buf[..n]);
    }
}

/// Runs once; returns when the process has ended (its whole group is
/// killed on timeout or when `stop` turns true).
pub async fn run(launch: &Launch, out: &Output, stop: &mut watch::Receiver<bool>) -> Ended {
    let Some((program, args)) = launch.program.split_first() else {
        return Ended::Failed("no program".into());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .arg("workflow.js")
        .current_dir(&launch.dir)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ended::Failed(format!("cannot start {program}: {e}")),
    };
    let pid = child.id();
    if let Some(o) = child.stdout.take() {
        tokio::spawn(copy(o, out.clone()));
    }
    if let Some(e) = child.stderr.take() {
        tokio::spawn(copy(e, out.clone()));
    }
    let deadline = async {
        match launch.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let stopping = async {
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        status = child.wait() => {
            // Leftovers of the group go with their leader.
            signal_group(pid, rustix::process::Signal::KILL);
            Ended::Exited(status.ok().and_then(|s| s.code()))
        }
        () = deadline => {
            signal_group(pid, rustix::process::Signal::KILL);
            let _ = child.wait().await;
            Ended::TimedOut
        }
        () = stopping => {
            signal_group(pid, rustix::process::Signal::TERM);
            if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
                signal_group(pid, rustix::process::Signal::KILL);
                let _ = child.wait().await;
            }
            signal_group(pid, rustix::process::Signal::KILL);
            Ended::Stopped
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_newest_bytes() {
        let mut r = Ring::new(4);
        r.push(b"ab");
        r.push(b"cde");
        assert_eq!(r.text(), "bcde");
        r.push(b"0123456789");
        assert_eq!(r.text(), "6789");
    }
}
