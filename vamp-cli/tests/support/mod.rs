//! What the CLI tests share: running `vamp`, reading its JSON, and a
//! temporary folder of a test's own.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `vamp` from the repository root, writing `stdin` to it if given.
pub(crate) fn vamp(args: &[&str], stdin: Option<&str>) -> Output {
    vamp_with(args, stdin, &[])
}

/// [`vamp`] with extra environment variables.
pub(crate) fn vamp_with(args: &[&str], stdin: Option<&str>, env: &[(&str, &Path)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vamp"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vamp runs");
    if let Some(input) = stdin {
        // A command may answer (and exit) before reading its input, e.g. on
        // an unknown kind: a broken pipe here is not a failure.
        if let Some(mut pipe) = child.stdin.take() {
            let _ = pipe.write_all(input.as_bytes());
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("vamp exits")
}

/// Standard output as JSON (the output is shown when it is not).
pub(crate) fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A fresh folder of a test's own, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    /// `vamp-<name>-<pid>` under the system's temporary folder.
    pub(crate) fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("vamp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    /// The folder as text.
    pub(crate) fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }

    /// Writes a file into the folder; returns its path.
    pub(crate) fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf-8 temp path").to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
