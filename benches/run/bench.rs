//! The harness: a throwaway project with its own state, the binary run in
//! it with a cleared environment, and the figures' units.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The API key every bench's project is given (the fakes accept any).
pub const KEY: &str = "sk-bench-not-a-real-key";

pub struct Bench {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Bench {
    pub fn new(events: &str, agents: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("events.toml"), events).unwrap();
        std::fs::create_dir_all(dir.path().join("agents")).unwrap();
        for id in agents {
            std::fs::write(
                dir.path().join(format!("agents/{id}.toml")),
                format!("name = \"Agent {id}\"\ninstructions = \"You are {id}. Reply with the verdict JSON.\"\n"),
            )
            .unwrap();
        }
        Bench { dir, env: vec![] }
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join(".state")
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bsu"));
        c.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("BSU_STATE_DIR", self.state())
            .args(args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// `tool` in this project's folder and environment, as `cmd` runs bsu:
    /// the caller gives its arguments, then a binary and its own.
    pub fn under(&self, tool: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(tool);
        c.current_dir(self.dir.path()).env_clear();
        for (k, v) in self.cmd(&[]).get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> i32 {
        self.timed(args).0
    }

    /// Run `bsu ARGS` once: (exit code, wall time).
    pub fn timed(&self, args: &[&str]) -> (i32, Duration) {
        let t = Instant::now();
        let out = self.cmd(args).output().unwrap();
        (out.status.code().unwrap_or(-1), t.elapsed())
    }

    /// Peak RSS (KiB) of one run of `bsu ARGS`, measured by `/usr/bin/time`
    /// (GNU time's `%M`) when the machine has it; 0 when it does not.
    pub fn peak_rss(&self, args: &[&str]) -> u64 {
        let time = Path::new("/usr/bin/time");
        if !time.exists() {
            return 0;
        }
        let out_file = self.dir.path().join(".rss");
        let mut c = self.under(time);
        c.args(["-f", "%M", "-o"])
            .arg(&out_file)
            .arg(env!("CARGO_BIN_EXE_bsu"))
            .args(args);
        let _ = c.output();
        std::fs::read_to_string(&out_file)
            .ok()
            .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
            .unwrap_or(0)
    }

    /// Median wall time of `n` runs of `bsu ARGS`, checking the exit code.
    pub fn median(&self, n: usize, args: &[&str], code: i32) -> Duration {
        self.measure(n, args, code).0
    }

    /// Median wall time of `n` runs, and the peak RSS (KiB) of one more.
    pub fn measure(&self, n: usize, args: &[&str], code: i32) -> (Duration, u64) {
        let mut times = Vec::new();
        for _ in 0..n {
            let (got, took) = self.timed(args);
            assert_eq!(got, code, "bsu {args:?}");
            times.push(took);
        }
        times.sort();
        (times[n / 2], self.peak_rss(args))
    }
}

/// `n` agent ids (`a0`, `a1`, ...) and the TOML list of them.
pub fn agent_ids(n: usize) -> (Vec<String>, String) {
    let ids: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    let list = ids
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    (ids, list)
}

/// KiB as MiB.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A unified diff of `files` files adding code-like lines, about `bytes` long.
pub fn big_patch(files: usize, bytes: usize) -> String {
    let per_file = bytes / files;
    let mut out = String::with_capacity(bytes + 4096);
    for f in 0..files {
        let path = format!("src/module_{f:03}/handler.rs");
        out.push_str(&format!(
            "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1,3 +1,60 @@\n"
        ));
        let start = out.len();
        let mut i = 0;
        while out.len() - start < per_file {
            out.push_str(&format!(
                "+    let value_{i} = request.header(\"x-field-{i}\").map(|v| v.trim().to_lowercase()).unwrap_or_default(); // {f}:{i}\n"
            ));
            i += 1;
        }
    }
    out
}
