//! What a test asks of its nginx ([`NginxOptions`]) and the private `nginx.conf` that becomes.
//!
//! Every instance has these listeners on 127.0.0.1, all serving the same locations:
//! - the keep-alive port (`keepalive_timeout` from the options, `keepalive_requests` huge);
//! - the close port: `keepalive_timeout 0`, so every response says `Connection: close` and the
//!   server closes after it;
//! - the TLS port when certificates were given (session cache and tickets on, so resumption works);
//! - a status port for the harness only (stub_status and a readiness token; not in the access log).
//!
//! Locations on the test ports:
//! - `/<file>`: the docroot files from the options, with `Content-Length`.
//! - `/chunked/<file>`: the same bytes through the SSI filter. SSI drops the length, so nginx sends
//!   `Transfer-Encoding: chunked` to HTTP/1.1 requests and a close-delimited body to HTTP/1.0 ones.
//!   (Side effect: a file containing `<!--#` would be interpreted as SSI.)
//! - each redirect from the options: `return <status> <target>`, the target sent verbatim.
//! - with the echo module: `/slow?ms=N` (head and body after N ms, default 1 s), `/stall?ms=N`
//!   (head and `first\n` at once, then `second\n` after N ms), `/echo/headers` (the request head
//!   exactly as received), `/echo/body` (the request body, up to 1 MiB). All chunked.
//! - anything added with [`NginxOptions::server_conf`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Configuration for one test's nginx; build it with the chained methods.
///
/// ```ignore
/// let options = NginxOptions::new()
///     .file("small.txt", "hello")
///     .file("dir/big.bin", vec![7u8; 100_000])
///     .redirect("/old", 301, "/small.txt")
///     .keepalive_timeout(Duration::from_secs(1));
/// ```
#[derive(Debug, Clone)]
pub struct NginxOptions {
    pub(crate) files: Vec<(String, Vec<u8>)>,
    pub(crate) redirects: Vec<(String, u16, String)>,
    pub(crate) keepalive_timeout: Duration,
    pub(crate) keepalive_requests: u64,
    pub(crate) worker_connections: u32,
    pub(crate) tls: Option<(PathBuf, PathBuf)>,
    pub(crate) server_conf: String,
}

impl Default for NginxOptions {
    fn default() -> Self {
        NginxOptions {
            files: Vec::new(),
            redirects: Vec::new(),
            keepalive_timeout: Duration::from_secs(60),
            // "Large": a pooled connection must never be closed by the server's request limit
            // unless a test asks for that.
            keepalive_requests: 1_000_000,
            worker_connections: 4096,
            tls: None,
            server_conf: String::new(),
        }
    }
}

impl NginxOptions {
    /// Options with no files, keep-alive 60 s, 1,000,000 requests per connection, no TLS.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `bytes` at `/<path>` (and chunked at `/chunked/<path>`); `path` may contain `/`.
    pub fn file(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.to_string(), bytes.into()));
        self
    }

    /// Answers `GET <from>` (exact match) with `status` and `Location: <to>`, sent verbatim.
    ///
    /// `to` may use nginx variables for an absolute form, e.g.
    /// `"http://127.0.0.1:$server_port/target"`.
    pub fn redirect(mut self, from: &str, status: u16, to: &str) -> Self {
        assert!(
            from.starts_with('/'),
            "redirect source {from:?} must start with /"
        );
        for text in [from, to] {
            assert!(
                !text.contains(['"', ';', '{', '}', ' ', '\n']),
                "redirect {text:?} may not contain quotes, ';', braces or spaces"
            );
        }
        self.redirects
            .push((from.to_string(), status, to.to_string()));
        self
    }

    /// How long the keep-alive port keeps an idle connection open (nginx `keepalive_timeout`).
    pub fn keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.keepalive_timeout = timeout;
        self
    }

    /// How many requests one connection may carry before nginx closes it (`keepalive_requests`).
    pub fn keepalive_requests(mut self, requests: u64) -> Self {
        self.keepalive_requests = requests;
        self
    }

    /// How many connections the worker accepts at once (default 4096).
    pub fn worker_connections(mut self, connections: u32) -> Self {
        self.worker_connections = connections;
        self
    }

    /// Adds the TLS port, serving with this certificate chain and private key (PEM files).
    pub fn tls(mut self, cert_pem: impl Into<PathBuf>, key_pem: impl Into<PathBuf>) -> Self {
        self.tls = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// Raw nginx directives added to every test `server` block (e.g. `location = /x { return 204; }`).
    pub fn server_conf(mut self, directives: &str) -> Self {
        self.server_conf.push_str(directives);
        self.server_conf.push('\n');
        self
    }
}

/// How the echo module (`/slow`, `/stall`, `/echo/*`) is available to this nginx binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoModule {
    /// Neither built in nor installed as a loadable module.
    Absent,
    /// Compiled into the binary.
    BuiltIn,
    /// A dynamic module to `load_module` (Debian's libnginx-mod-http-echo).
    Dynamic(PathBuf),
}

/// Where one instance lives and listens: everything `render` needs besides the options.
#[derive(Debug)]
pub struct Layout<'a> {
    /// The private prefix (temp dir): conf/, html/, logs/, tmp/, nginx.pid.
    pub prefix: &'a Path,
    /// Keep-alive port.
    pub port: u16,
    /// `keepalive_timeout 0` port.
    pub close_port: u16,
    /// Harness-only status port.
    pub status_port: u16,
    /// TLS port, when the options ask for TLS.
    pub tls_port: Option<u16>,
    /// Echo module availability.
    pub echo: &'a EchoModule,
    /// Whether nginx starts as root (then its worker stays root, see `render`).
    pub as_root: bool,
    /// Body of the status port's `/__harness/ready`, unique to this instance.
    pub token: &'a str,
}

/// Relative path of the docroot inside the prefix.
pub const DOCROOT: &str = "html";
/// Relative path of the access log inside the prefix.
pub const ACCESS_LOG: &str = "logs/access.log";
/// Relative path of the error log inside the prefix.
pub const ERROR_LOG: &str = "logs/error.log";

/// Renders the complete `nginx.conf` for `options` laid out as `layout`.
pub fn render(options: &NginxOptions, layout: &Layout) -> String {
    let prefix = layout.prefix.display();
    let mut conf =
        String::from("# Rendered by spool's test harness (tests/support/nginx_conf.rs).\n");
    if let EchoModule::Dynamic(module) = layout.echo {
        let _ = writeln!(conf, "load_module \"{}\";", module.display());
    }
    if layout.as_root {
        // Started as root, nginx would switch its worker to `nobody`, which may not be able to
        // traverse the temp dir's parents (e.g. a private TMPDIR). Tests are root anyway.
        conf.push_str("user root root;\n");
    }
    let workers = options.worker_connections;
    let _ = write!(
        conf,
        r#"daemon off;  # the test owns the master process as its child and stops it by pid
master_process on;
worker_processes 1;
worker_rlimit_nofile {nofile};
pid "{prefix}/nginx.pid";
error_log "{prefix}/{ERROR_LOG}" warn;
events {{ worker_connections {workers}; }}
http {{
    default_type application/octet-stream;
    types {{ text/html html htm; text/plain txt; application/json json; }}
    client_body_temp_path "{prefix}/tmp/body";
    proxy_temp_path "{prefix}/tmp/proxy";
    fastcgi_temp_path "{prefix}/tmp/fastcgi";
    uwsgi_temp_path "{prefix}/tmp/uwsgi";
    scgi_temp_path "{prefix}/tmp/scgi";
    # No buffer= parameter: each line is written when its request ends, so the log is exact.
    log_format spool_harness "$connection\t$connection_requests\t$server_port\t$request_method\t$request_uri\t$server_protocol\t$status\t$body_bytes_sent";
    access_log "{prefix}/{ACCESS_LOG}" spool_harness;
    keepalive_timeout {keepalive}ms;
    keepalive_requests {requests};
    absolute_redirect off;
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    client_body_in_single_buffer on;
"#,
        nofile = u64::from(workers) * 2 + 64,
        keepalive = options.keepalive_timeout.as_millis(),
        requests = options.keepalive_requests,
    );
    if *layout.echo != EchoModule::Absent {
        conf.push_str(
            r#"    # ?ms=N -> seconds with three decimals for echo_sleep; no ms -> 1 second.
    map $arg_ms $spool_sleep {
        default "1";
        "~^(\d)$" "0.00$1";
        "~^(\d\d)$" "0.0$1";
        "~^(\d*)(\d\d\d)$" "0$1.$2";
    }
"#,
        );
    }
    let locations = test_locations(options, layout);
    let backlog = "backlog=4096";
    let _ = writeln!(
        conf,
        "    server {{\n        listen 127.0.0.1:{} {backlog};\n{locations}    }}",
        layout.port
    );
    let _ = writeln!(
        conf,
        "    server {{\n        listen 127.0.0.1:{} {backlog};\n        keepalive_timeout 0;\n{locations}    }}",
        layout.close_port
    );
    if let (Some(port), Some((cert, key))) = (layout.tls_port, &options.tls) {
        let _ = writeln!(
            conf,
            r#"    server {{
        listen 127.0.0.1:{port} ssl {backlog};
        ssl_certificate "{}";
        ssl_certificate_key "{}";
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:1m;
        ssl_session_timeout 10m;
        ssl_session_tickets on;
{locations}    }}"#,
            cert.display(),
            key.display()
        );
    }
    let _ = write!(
        conf,
        r#"    server {{
        listen 127.0.0.1:{status};
        access_log off;
        location = /__harness/status {{ stub_status; }}
        location = /__harness/ready {{ return 200 "{token}"; }}
        location / {{ return 404; }}
    }}
}}
"#,
        status = layout.status_port,
        token = layout.token,
    );
    conf
}

/// The locations every test port serves (see the module docs).
fn test_locations(options: &NginxOptions, layout: &Layout) -> String {
    let docroot = layout.prefix.join(DOCROOT);
    let docroot = docroot.display();
    let mut out = format!(
        r#"        root "{docroot}";
        location / {{ }}
        location /chunked/ {{ alias "{docroot}/"; ssi on; ssi_types *; }}
"#
    );
    for (from, status, to) in &options.redirects {
        let _ = writeln!(
            out,
            "        location = {from} {{ return {status} \"{to}\"; }}"
        );
    }
    if *layout.echo != EchoModule::Absent {
        out.push_str(
            r#"        location = /slow { echo_sleep $spool_sleep; echo "slept $arg_ms ms"; }
        location = /stall { echo "first"; echo_flush; echo_sleep $spool_sleep; echo "second"; }
        location = /echo/headers { echo -n $echo_client_request_headers; }
        location = /echo/body { echo_read_request_body; echo -n $request_body; }
"#,
        );
    }
    for line in options.server_conf.lines() {
        let _ = writeln!(out, "        {line}");
    }
    out
}
