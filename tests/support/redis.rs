//! A private `redis-server` on a free loopback port, in its own temp dir, stopped by its pid on drop;
//! plus `redis-cli` calls for the checks a test makes.
//!
//! Without persistence (`--save '' --appendonly no`) unless the test asks for an append-only file
//! (`fsync` on every write), which is what lets a restart on the same port keep the streams.

use super::ports::{free_port, poll_until};
use super::process::ServerProcess;
use super::skip;
use super::tempdir::TempDir;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const SERVER: &str = "/usr/bin/redis-server";
const CLI: &str = "/usr/bin/redis-cli";

/// A running redis-server.
pub struct Redis {
    process: Option<ServerProcess>,
    port: u16,
    /// Where the append-only file lives, when persistent (kept across restarts).
    data: Option<PathBuf>,
}

impl Redis {
    /// Start one; `None` (after a skip notice, or a panic under CI) when redis is not installed.
    /// `data`: a directory for an append-only file that survives [`restart`](Redis::restart).
    pub fn start(data: Option<&Path>) -> Option<Redis> {
        if !Path::new(SERVER).exists() || !Path::new(CLI).exists() {
            skip::missing("redis-server", "apt-get install redis-server");
            return None;
        }
        let mut r = Redis {
            process: None,
            port: free_port(),
            data: data.map(Path::to_path_buf),
        };
        r.spawn();
        Some(r)
    }

    fn spawn(&mut self) {
        let dir = TempDir::new("redis");
        let mut cmd = Command::new(SERVER);
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--daemonize", "no", "--protected-mode", "yes"]);
        match &self.data {
            Some(d) => cmd
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(d),
            None => cmd.args(["--appendonly", "no", "--dir"]).arg(dir.path()),
        };
        self.process = Some(ServerProcess::spawn("redis-server", cmd, dir, "redis.log"));
        let up = poll_until(Duration::from_secs(20), || {
            (self.cli(&["PING"]).trim() == "PONG").then_some(())
        });
        assert!(
            up.is_some(),
            "redis-server did not answer PING on port {}",
            self.port
        );
    }

    /// Stop it (SIGTERM, which also flushes the append-only file) and start it again on the same port.
    pub fn restart(&mut self, down_for: Duration) {
        if let Some(mut p) = self.process.take() {
            p.stop();
        }
        std::thread::sleep(down_for);
        self.spawn();
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Run `redis-cli -p PORT args…` (raw output: one element per line), with a time bound.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("timeout")
            .args(["30", CLI, "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `XLEN key`.
    pub fn xlen(&self, key: &str) -> usize {
        self.cli(&["XLEN", key]).trim().parse().unwrap_or(0)
    }
}
