//! The [`Nginx`] guard: a private nginx for one test, on loopback ports of its own, stopped (by
//! its pid) and its prefix removed when the guard drops. The config is in nginx_conf.rs.
//!
//! Connection counting: nginx's `stub_status` counter of accepted connections, read on a
//! harness-only port, minus the connections the harness made itself. nginx counts a connection
//! the moment it accepts it, so once a client has a response on a connection, that connection is
//! counted: the number is exact, with no log flushing or sleeping involved. The access log (one
//! line per request, with nginx's connection serial) tells which requests shared a connection.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::nginx_conf::{self, EchoModule, Layout, NginxOptions, ACCESS_LOG, DOCROOT, ERROR_LOG};
use super::nginx_log::{self, LoggedRequest};
use super::ports::{free_ports, poll_until, READY_TIMEOUT};
use super::process::{reap_stale, ServerProcess};
use super::raw;
use super::skip;
use super::tempdir::TempDir;

/// Environment variable naming the nginx binary to use; a path that is not a file means "absent"
/// (handy to check the skip path on a machine that has nginx).
pub const NGINX_ENV: &str = "SPOOL_TEST_NGINX";

/// Environment variable that lets tests needing the echo module skip under CI (for a CI image
/// whose apt has no libnginx-mod-http-echo; `.ci/run` sets it then).
pub const ALLOW_NO_ECHO_ENV: &str = "SPOOL_ALLOW_NO_ECHO";

/// How many times `start` tries fresh ports when another process took one first.
const START_ATTEMPTS: usize = 5;

/// A running private nginx (see the module docs); stopped on drop.
#[derive(Debug)]
pub struct Nginx {
    process: ServerProcess,
    port: u16,
    close_port: u16,
    tls_port: Option<u16>,
    status_port: u16,
    echo: bool,
    /// Connections the harness opened to the status port (readiness probes, status queries):
    /// nginx counts them too, so they are subtracted from its count.
    own_connections: AtomicU64,
}

impl Nginx {
    /// Starts nginx with `options` and waits (up to 10 s) until it answers.
    ///
    /// Returns `None`, after printing a notice, when no nginx binary is found (`$SPOOL_TEST_NGINX`,
    /// then `PATH`, then `/usr/sbin/nginx`); under `CI=true` that panics instead. Panics when nginx
    /// is found but fails to start, with its error log in the message.
    pub fn start(options: NginxOptions) -> Option<Nginx> {
        let Some(binary) = find_binary() else {
            skip::missing(
                "nginx",
                "looked at $SPOOL_TEST_NGINX, PATH and /usr/sbin/nginx; \
                 install it with `apt-get install nginx libnginx-mod-http-echo` or run .ci/run",
            );
            return None;
        };
        reap_stale("nginx");
        let echo = find_echo_module(&binary);
        for attempt in 1..=START_ATTEMPTS {
            match Self::try_start(&binary, &options, &echo) {
                Ok(nginx) => return Some(nginx),
                // A port was taken between free_ports() and nginx's bind: retry with fresh ones.
                Err(log) if log.contains("Address already in use") && attempt < START_ATTEMPTS => {}
                Err(log) => panic!("nginx ({}) failed to start:\n{log}", binary.display()),
            }
        }
        unreachable!("the last attempt either returns or panics")
    }

    /// One start attempt on fresh ports; `Err` carries nginx's output and error log.
    fn try_start(
        binary: &Path,
        options: &NginxOptions,
        echo: &EchoModule,
    ) -> Result<Nginx, String> {
        let dir = TempDir::new("nginx");
        for sub in ["conf", "logs", "tmp", DOCROOT] {
            dir.mkdir(sub);
        }
        for (path, bytes) in &options.files {
            dir.write(&format!("{DOCROOT}/{path}"), bytes);
        }
        let token = format!("spool-harness-{}", dir.path().display());
        let ports = free_ports(4);
        let tls = options.tls.as_ref().map(|_| ports[3]);
        let layout = Layout {
            prefix: dir.path(),
            port: ports[0],
            close_port: ports[1],
            status_port: ports[2],
            tls_port: tls,
            echo,
            as_root: running_as_root(),
            token: &token,
        };
        let conf_path = dir.write(
            "conf/nginx.conf",
            nginx_conf::render(options, &layout).as_bytes(),
        );
        let mut command = Command::new(binary);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join(ERROR_LOG));
        let (port, close_port, status_port) = (layout.port, layout.close_port, layout.status_port);
        let process = ServerProcess::spawn("nginx", command, dir, "logs/stdout.log");
        let mut nginx = Nginx {
            process,
            port,
            close_port,
            tls_port: tls,
            status_port,
            echo: *echo != EchoModule::Absent,
            own_connections: AtomicU64::new(0),
        };
        nginx.wait_ready(&token)?;
        Ok(nginx)
    }

    /// Polls the status port until it returns this instance's token, or nginx exits.
    fn wait_ready(&mut self, token: &str) -> Result<(), String> {
        let ready = poll_until(READY_TIMEOUT, || {
            if self.process.exited().is_some() {
                return Some(Err("nginx exited".to_string()));
            }
            let (status, body) = self.status_get("/__harness/ready")?;
            // nginx binds every port before answering on any, so an answer comes from our
            // instance; a wrong one means the config is wrong, not that it is still starting.
            Some(if status == 200 && body == token {
                Ok(())
            } else {
                Err(format!(
                    "readiness probe got {status} {body:?}, not the token"
                ))
            })
        });
        let failure = match ready {
            Some(Ok(())) => return Ok(()),
            Some(Err(why)) => why,
            None => format!("not answering after {READY_TIMEOUT:?}"),
        };
        self.process.stop();
        Err(format!("{failure}\n{}", self.logs()))
    }

    /// GET on the status port with `Connection: close`: status and body, `None` if it cannot
    /// connect or read.
    fn status_get(&self, path: &str) -> Option<(u16, String)> {
        let mut conn = raw::connect(self.status_port).ok()?;
        // Counted as soon as the connect succeeds: nginx will accept (and count) it from here.
        self.own_connections.fetch_add(1, Ordering::SeqCst);
        raw::send_get(&mut conn, path, &["Connection: close"]).ok()?;
        let response = raw::read_response(&mut conn, false).ok()?;
        // Read to the end so nginx has closed (and uncounted) this connection when we return.
        let mut rest = Vec::new();
        let _ = conn.read_to_end(&mut rest);
        Some((
            response.status,
            String::from_utf8_lossy(&response.body).into_owned(),
        ))
    }

    /// Port of the keep-alive listener.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Port of the listener that closes every connection after one response (`Connection: close`).
    pub fn close_port(&self) -> u16 {
        self.close_port
    }

    /// Port of the TLS listener, when started with [`NginxOptions::tls`].
    pub fn tls_port(&self) -> Option<u16> {
        self.tls_port
    }

    /// `http://127.0.0.1:<port><path>` on the keep-alive listener; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `http://127.0.0.1:<close port><path>`: every response closes its connection.
    pub fn close_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.close_port)
    }

    /// `https://127.0.0.1:<tls port><path>`; panics if started without TLS.
    pub fn tls_url(&self, path: &str) -> String {
        let port = self
            .tls_port
            .expect("tls_url: nginx was started without NginxOptions::tls");
        format!("https://127.0.0.1:{port}{path}")
    }

    /// Whether `/slow`, `/stall` and `/echo/*` exist (the echo module is available).
    pub fn has_echo(&self) -> bool {
        self.echo
    }

    /// For tests that need the echo locations: true when present; otherwise prints a skip notice
    /// and returns false, or panics under `CI=true` (unless `SPOOL_ALLOW_NO_ECHO=1`).
    pub fn require_echo(&self) -> bool {
        if self.echo {
            return true;
        }
        if std::env::var(ALLOW_NO_ECHO_ENV).as_deref() == Ok("1") {
            skip::skipped("the nginx echo module is absent and SPOOL_ALLOW_NO_ECHO=1");
        } else {
            skip::missing(
                "the nginx echo module",
                "apt-get install libnginx-mod-http-echo",
            );
        }
        false
    }

    /// Exact number of TCP connections nginx has accepted on the test ports (keep-alive, close
    /// and TLS together) since it started, from `stub_status`.
    ///
    /// A connection counts once nginx has accepted it: any connection on which the client got a
    /// response is counted. One the client opened but never used may still sit in the kernel's
    /// accept queue for a moment and be missing from the count.
    pub fn accepted_connections(&self) -> u64 {
        let status = self.stub_status();
        // The readiness probes and status queries, including this query's own connection.
        let own = self.own_connections.load(Ordering::SeqCst);
        status.accepted.checked_sub(own).unwrap_or_else(|| {
            panic!(
                "nginx counted {} connections, fewer than the harness's own {own}",
                status.accepted
            )
        })
    }

    /// Connections open at nginx right now on the test ports, idle keep-alive ones included.
    ///
    /// nginx notices a client's close only when its event loop gets to it: poll this
    /// (e.g. with [`crate::support::ports::poll_until`]) rather than expect it at once.
    pub fn active_connections(&self) -> u64 {
        // Minus this query's own connection; earlier queries were read to the end and are closed.
        let active = self.stub_status().active;
        active
            .checked_sub(1)
            .expect("stub_status counts the connection that asks for it")
    }

    fn stub_status(&self) -> StubStatus {
        let body = match self.status_get("/__harness/status") {
            Some((200, body)) => body,
            other => panic!("cannot read nginx stub_status: {other:?}\n{}", self.logs()),
        };
        StubStatus::parse(&body).unwrap_or_else(|| panic!("unexpected stub_status page {body:?}"))
    }

    /// Requests in the access log so far (see [`Nginx::wait_for_requests`] for exactness).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let log = std::fs::read_to_string(self.prefix().join(ACCESS_LOG)).unwrap_or_default();
        nginx_log::parse(&log)
    }

    /// Waits (up to 10 s) until the access log holds at least `count` requests and returns them.
    ///
    /// nginx logs a request just after sending its response, so a client can be a moment
    /// ahead of the log. Panics on timeout, showing the log.
    pub fn wait_for_requests(&self, count: usize) -> Vec<LoggedRequest> {
        poll_until(READY_TIMEOUT, || {
            let requests = self.requests();
            (requests.len() >= count).then_some(requests)
        })
        .unwrap_or_else(|| {
            panic!(
                "nginx logged fewer than {count} requests in {READY_TIMEOUT:?}: {:#?}",
                self.requests()
            )
        })
    }

    /// Waits until `requests` requests are logged, then counts the distinct connections that
    /// carried them (connections that carried no request are not in the log; see
    /// [`Nginx::accepted_connections`] for those).
    pub fn distinct_connections(&self, requests: usize) -> usize {
        let logged = self.wait_for_requests(requests);
        logged
            .iter()
            .map(|r| r.connection)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// The private prefix: conf/nginx.conf, html/ (docroot), logs/, nginx.pid.
    pub fn prefix(&self) -> &Path {
        self.process.dir()
    }

    /// The master's pid (the child of the test process).
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// nginx's stdout/stderr and error log, for failure messages.
    pub fn logs(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.prefix().join(name)).unwrap_or_default();
        format!(
            "--- nginx output ---\n{}--- {ERROR_LOG} ---\n{}",
            read("logs/stdout.log"),
            read(ERROR_LOG)
        )
    }
}

/// The numbers of nginx's `stub_status` page that the harness uses.
struct StubStatus {
    active: u64,
    accepted: u64,
}

impl StubStatus {
    /// Parses "Active connections: A \nserver accepts handled requests\n B C D \n...".
    fn parse(page: &str) -> Option<StubStatus> {
        let mut lines = page.lines();
        let active = lines
            .next()?
            .strip_prefix("Active connections:")?
            .trim()
            .parse()
            .ok()?;
        let accepted = lines.nth(1)?.split_whitespace().next()?.parse().ok()?;
        Some(StubStatus { active, accepted })
    }
}

/// The nginx binary: `$SPOOL_TEST_NGINX` if set (absent if not a file), else `PATH`, else sbin.
fn find_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(NGINX_ENV) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let path_dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path_dirs)
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

/// Finds the echo module: a loadable `.so` where Debian and others install it, else built in
/// if `nginx -V` lists it as a static module.
fn find_echo_module(binary: &Path) -> EchoModule {
    let module = "ngx_http_echo_module.so";
    let dirs = [
        "/usr/lib/nginx/modules",
        "/usr/share/nginx/modules",
        "/usr/lib64/nginx/modules",
    ];
    if let Some(path) = dirs
        .iter()
        .map(|d| Path::new(d).join(module))
        .find(|p| p.is_file())
    {
        return EchoModule::Dynamic(path);
    }
    let version = Command::new(binary).arg("-V").output();
    let configure = version
        .map(|out| String::from_utf8_lossy(&out.stderr).into_owned())
        .unwrap_or_default();
    let built_in = configure
        .split_whitespace()
        .any(|arg| arg.starts_with("--add-module=") && arg.contains("echo"));
    if built_in {
        EchoModule::BuiltIn
    } else {
        EchoModule::Absent
    }
}

/// Whether this process runs as root (effective uid 0), read from /proc without `unsafe`.
fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}
