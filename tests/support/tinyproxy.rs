//! A private `tinyproxy` (Debian's package: a forward proxy written by others, in C) on a free
//! loopback port, in its own temp dir, stopped by its pid on drop.
//!
//! What it does that the proxy tests rely on, as tinyproxy 1.11 ships it:
//! - plain `http://` requests in absolute form are forwarded, and tinyproxy answers each one as
//!   HTTP/1.0 and closes the client connection after it (it has no keep-alive to clients);
//! - `CONNECT host:port` opens a tunnel to any port (no `ConnectPort` line means "all allowed");
//! - with [`TinyProxy::start_with_auth`], a request without the right `Proxy-Authorization`
//!   (Basic) gets `407`.
//!
//! Each request line tinyproxy took is in its log (`Request (file descriptor N): GET http://…`),
//! which [`TinyProxy::requests`] returns, so a test can check what went through it.

use super::ports::{free_port, poll_until};
use super::process::{reap_stale, ServerProcess};
use super::skip;
use super::tempdir::TempDir;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const PROGRAM: &str = "/usr/bin/tinyproxy";

/// A running tinyproxy.
pub struct TinyProxy {
    process: ServerProcess,
    port: u16,
}

impl TinyProxy {
    /// One that forwards everything from loopback; `None` (after a skip notice, or a panic under CI)
    /// when tinyproxy is not installed.
    pub fn start() -> Option<TinyProxy> {
        TinyProxy::spawn(None)
    }

    /// One that wants Basic credentials `user`/`password` (tinyproxy's `BasicAuth`; its config
    /// syntax takes neither spaces nor `@` in them).
    pub fn start_with_auth(user: &str, password: &str) -> Option<TinyProxy> {
        TinyProxy::spawn(Some((user, password)))
    }

    fn spawn(auth: Option<(&str, &str)>) -> Option<TinyProxy> {
        if !Path::new(PROGRAM).exists() {
            skip::missing("tinyproxy", "apt-get install tinyproxy");
            return None;
        }
        reap_stale("tinyproxy");
        let dir = TempDir::new("tinyproxy");
        let port = free_port();
        let log = dir.path().join("access.log");
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 200\nAllow 127.0.0.1\n\
             DisableViaHeader Yes\nLogLevel Info\nLogFile \"{}\"\n",
            log.display()
        );
        if let Some((user, password)) = auth {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let conf_path = dir.write("tinyproxy.conf", conf.as_bytes());
        let mut cmd = Command::new(PROGRAM);
        // -d: stay in the foreground, so the pid we hold is the proxy's.
        cmd.arg("-d").arg("-c").arg(&conf_path);
        let process = ServerProcess::spawn("tinyproxy", cmd, dir, "tinyproxy.out");
        let up = poll_until(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        assert!(up.is_some(), "tinyproxy did not listen on port {port}");
        Some(TinyProxy { process, port })
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`, or with `user:password@` in front of the host.
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(c) => format!("http://{c}@{}", self.addr()),
            None => format!("http://{}", self.addr()),
        }
    }

    /// The request lines tinyproxy logged so far, in order (`GET http://127.0.0.1:8080/a HTTP/1.1`,
    /// `CONNECT 127.0.0.1:8443 HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        let log =
            std::fs::read_to_string(self.process.dir().join("access.log")).unwrap_or_default();
        log.lines()
            .filter_map(|l| {
                l.split_once("): ")
                    .filter(|_| l.contains("Request (file descriptor"))
            })
            .map(|(_, line)| line.trim().to_string())
            .collect()
    }
}
