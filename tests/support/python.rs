//! The [`PythonServer`] guard: `python3 -m http.server` serving a private docroot on loopback,
//! stopped (by its pid) and its files removed on drop.
//!
//! What the real server sends (Python 3.11, checked by tests/harness_selftest.rs):
//! - default (`HTTP/1.0`): status line `HTTP/1.0 200 OK`, `Content-Length`, no `Connection`
//!   header, and the server closes after every response (HTTP/1.0 without keep-alive).
//! - [`PythonServer::start_http11`] (`--protocol HTTP/1.1`, Python >= 3.11): `HTTP/1.1`
//!   responses with `Content-Length`, connection kept open for further requests.
//!
//! Both are threaded (one thread per connection), so a kept-alive connection blocks nobody.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::ports::{free_port, poll_until, READY_TIMEOUT};
use super::process::{reap_stale, ServerProcess};
use super::raw;
use super::tempdir::TempDir;

/// How many times `start` tries a fresh port when another process took it first.
const START_ATTEMPTS: usize = 5;

/// Docroot directory name inside the server's temp dir.
const DOCROOT: &str = "www";

/// Log file (the server's stderr: one line per request) inside the temp dir.
const LOG: &str = "server.log";

/// A running `python3 -m http.server`; stopped on drop.
#[derive(Debug)]
pub struct PythonServer {
    process: ServerProcess,
    port: u16,
}

impl PythonServer {
    /// Starts an HTTP/1.0 `http.server` serving `files` (`(path, bytes)`, path may contain `/`).
    ///
    /// Panics if python3 is missing or the server does not answer within 10 s.
    ///
    /// ```ignore
    /// let server = PythonServer::start([("hello.txt", "hello")]);
    /// let url = server.url("/hello.txt");
    /// ```
    pub fn start<P, B>(files: impl IntoIterator<Item = (P, B)>) -> PythonServer
    where
        P: AsRef<str>,
        B: AsRef<[u8]>,
    {
        Self::start_with(files, false)
    }

    /// Like [`PythonServer::start`], with `--protocol HTTP/1.1` (keep-alive). Needs Python 3.11+.
    pub fn start_http11<P, B>(files: impl IntoIterator<Item = (P, B)>) -> PythonServer
    where
        P: AsRef<str>,
        B: AsRef<[u8]>,
    {
        Self::start_with(files, true)
    }

    fn start_with<P, B>(files: impl IntoIterator<Item = (P, B)>, http11: bool) -> PythonServer
    where
        P: AsRef<str>,
        B: AsRef<[u8]>,
    {
        let python = python();
        if http11 {
            assert!(
                python.version >= (3, 11),
                "http.server --protocol needs Python >= 3.11, found {:?} at {}",
                python.version,
                python.path.display()
            );
        }
        reap_stale("python");
        let files: Vec<(String, Vec<u8>)> = files
            .into_iter()
            .map(|(p, b)| (p.as_ref().to_string(), b.as_ref().to_vec()))
            .collect();
        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&python.path, &files, http11) {
                Ok(server) => return server,
                Err(log) if log.contains("Address already in use") => last_log = log,
                Err(log) => panic!("python http.server failed to start:\n{log}"),
            }
        }
        panic!("python http.server found no free port in {START_ATTEMPTS} tries:\n{last_log}");
    }

    fn try_start(python: &Path, files: &[(String, Vec<u8>)], http11: bool) -> Result<Self, String> {
        let dir = TempDir::new("python");
        let docroot = dir.mkdir(DOCROOT);
        for (path, bytes) in files {
            dir.write(&format!("{DOCROOT}/{path}"), bytes);
        }
        // A file only this instance serves: proves that whoever answers on the port is our child.
        let token = format!("spool-harness-{}", dir.path().display());
        let token_name = ".spool-harness-ready";
        let token_file = dir.write(&format!("{DOCROOT}/{token_name}"), token.as_bytes());
        let port = free_port();
        let mut command = Command::new(python);
        command
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(&docroot)
            .arg(port.to_string());
        if http11 {
            command.args(["--protocol", "HTTP/1.1"]);
        }
        let mut server = PythonServer {
            process: ServerProcess::spawn("python http.server", command, dir, LOG),
            port,
        };
        let ready = poll_until(READY_TIMEOUT, || {
            if server.process.exited().is_some() {
                return Some(false);
            }
            let mut conn = raw::connect(port).ok()?;
            raw::send_get(&mut conn, &format!("/{token_name}"), &["Connection: close"]).ok()?;
            let response = raw::read_response(&mut conn, false).ok()?;
            (response.body == token.as_bytes()).then_some(true)
        });
        match ready {
            Some(true) => {
                // Out of the way, so directory listings show only the test's files.
                let _ = std::fs::remove_file(token_file);
                Ok(server)
            }
            Some(false) => Err(server.log()),
            None => Err(format!(
                "not answering after {READY_TIMEOUT:?}\n{}",
                server.log()
            )),
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port><path>`; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The directory it serves.
    pub fn docroot(&self) -> PathBuf {
        self.process.dir().join(DOCROOT)
    }

    /// The server's output so far: one line per request it handled (its stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.process.dir().join(LOG)).unwrap_or_default()
    }
}

/// The Python interpreter to run, resolved once.
struct Python {
    /// `sys.executable`: the real interpreter, not a wrapper such as a pyenv shim, so the pid the
    /// harness signals is the server's own.
    path: PathBuf,
    version: (u32, u32),
}

fn python() -> &'static Python {
    static PYTHON: OnceLock<Python> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let script = "import sys; print(sys.executable); print(*sys.version_info[:2])";
        let output = Command::new("python3")
            .args(["-c", script])
            .output()
            .unwrap_or_else(|e| {
                panic!("python3 is needed by the test harness but cannot run: {e}")
            });
        let text = String::from_utf8_lossy(&output.stdout);
        let mut lines = text.lines();
        let path = lines.next().filter(|p| !p.is_empty());
        let version = lines.next().and_then(|v| {
            let (major, minor) = v.split_once(' ')?;
            Some((major.parse().ok()?, minor.parse().ok()?))
        });
        match (output.status.success(), path, version) {
            (true, Some(path), Some(version)) => Python {
                path: PathBuf::from(path),
                version,
            },
            _ => panic!(
                "python3 -c {script:?} failed: {}{}",
                text,
                String::from_utf8_lossy(&output.stderr)
            ),
        }
    })
}
