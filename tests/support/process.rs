//! A server child process owned by one test: stopped by its own pid on drop (never by name, so other
//! nginx or Python instances on the machine are never touched), with its temp dir removed after.
//!
//! A test run killed outright (SIGKILL, a CI timeout) cannot run destructors; the next run's
//! [`reap_stale`] stops such leftovers, recognised by a pid file inside a temp dir whose owning test
//! process is gone, and only if that pid's command line names the same dir.

use std::fs::{self, File};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use super::ports::{poll_until, READY_TIMEOUT};
use super::tempdir::{owner_pid, TempDir, NAME_PREFIX};

/// File inside the server's temp dir holding the child's pid, for [`reap_stale`].
const PID_FILE: &str = "server.pid";

/// A running server process and the temp dir it works in.
#[derive(Debug)]
pub struct ServerProcess {
    /// `Option` only so that `stop` can run once from both `stop()` and `Drop`.
    child: Option<Child>,
    /// Dropped (removed) after the process is gone: see the field order rule in `Drop`.
    dir: TempDir,
    /// What is running, for messages ("nginx", "python http.server").
    name: &'static str,
}

impl ServerProcess {
    /// Spawns `command` with stdin closed and stdout + stderr appended to `<dir>/<log_name>`,
    /// and records the pid in the dir. Panics if the program cannot be started.
    pub fn spawn(
        name: &'static str,
        mut command: Command,
        dir: TempDir,
        log_name: &str,
    ) -> ServerProcess {
        let log_path = dir.path().join(log_name);
        let log = File::create(&log_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
        let log_err = log.try_clone().expect("cannot duplicate a log file handle");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        dir.write(PID_FILE, child.id().to_string().as_bytes());
        ServerProcess {
            child: Some(child),
            dir,
            name,
        }
    }

    /// The temp dir the server works in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The child's pid (for nginx with `daemon off`: the master process).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `Some(status)` once the process has exited (it is then reaped), `None` while it runs.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Stops the process: SIGTERM, wait up to 10 s, then SIGKILL. Idempotent, never panics.
    ///
    /// SIGTERM first because an nginx master that dies by SIGKILL leaves its worker running with
    /// the listening sockets; on SIGTERM it stops its workers and waits for them.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        // The pid is still ours: an un-waited child stays a zombie, so it cannot be reused yet.
        send_sigterm(child.id());
        let gone = poll_until(READY_TIMEOUT, || child.try_wait().ok().flatten());
        if gone.is_none() {
            super::skip::notice(&format!(
                "{} (pid {}) ignored SIGTERM for {READY_TIMEOUT:?}; killing it",
                self.name,
                child.id()
            ));
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Runs before the fields drop, so the process is gone before its dir is removed.
        self.stop();
    }
}

/// Stops servers of `kind` left behind by test processes that no longer exist, and removes their
/// temp dirs. Only a process whose command line contains the leftover dir's path is signalled.
pub fn reap_stale(kind: &str) {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(NAME_PREFIX) {
            continue;
        }
        let Some(owner) = owner_pid(&name, kind) else {
            continue;
        };
        if Path::new(&format!("/proc/{owner}")).exists() {
            continue; // its test process still runs (maybe another test binary right now)
        }
        let dir = entry.path();
        if let Some(pid) = fs::read_to_string(dir.join(PID_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let dir_bytes = dir.as_os_str().as_encoded_bytes();
            if cmdline.windows(dir_bytes.len()).any(|w| w == dir_bytes) {
                send_sigterm(pid);
                let _ = poll_until(Duration::from_secs(2), || (!is_running(pid)).then_some(()));
            }
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

/// Whether `pid` exists and is not a zombie. An orphan's zombie lingers until the machine's init
/// reaps it, which in a container may be never; it holds no ports, so it counts as gone.
fn is_running(pid: u32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Format: "pid (comm) state ...": the state follows the last ')'.
    match stat.rfind(')') {
        Some(end) => !matches!(
            stat[end + 1..].trim_start().chars().next(),
            Some('Z') | None
        ),
        None => false,
    }
}

/// Sends SIGTERM to `pid` through `sh`'s `kill` builtin: the project forbids `unsafe`, which
/// `libc::kill` would need, and `sh` exists everywhere (unlike a separate `kill` binary).
fn send_sigterm(pid: u32) {
    let _ = Command::new("sh")
        .args(["-c", "kill -TERM \"$0\" 2>/dev/null", &pid.to_string()])
        .stdin(Stdio::null())
        .status();
}
