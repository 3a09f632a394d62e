//! The command line: clap's parse of the flags, then the checks clap cannot make (header form, method
//! token, durations, `-d @FILE`), ending in one [`Config`] the rest of the tool reads.
//!
//! Every mistake here is a usage error: one line on stderr naming what was wrong, a hint to run
//! `--help`, and exit status 2 ([`UsageError`]). Nothing is fetched before the whole command line has
//! been checked.

use crate::proxy::ProxyChoice;
use crate::shard::Shard;
use clap::Parser;
use spool_client::tls::Certificate;
use spool_dns::{parse_server_addr, ResolvePin};
use spool_runtime::Driver;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the demo fetches when `--demo` is given without a number, or when no URL and no input is given.
pub const DEFAULT_DEMO_URLS: u64 = 10_000;

/// The flags exactly as users (and the benchmarks) type them.
#[derive(Parser, Debug)]
#[command(
    name = "fetch",
    about = "Fetch many URLs at once on one thread; one JSON line per URL.",
    long_about = "Fetch many URLs at once on one thread and write one JSON line per URL as each finishes:\n\
                  {\"index\":0,\"url\":\"…\",\"status\":200,\"bytes\":1234,\"ms\":3.2,\"error\":null}\n\n\
                  With neither URLs nor --input, runs the built-in demo (see --demo).\n\
                  Exit status: 0 when every URL got an HTTP response, 1 when some failed, 2 for bad usage."
)]
struct Args {
    /// URLs to fetch (before those of --input).
    #[arg(value_name = "URL")]
    urls: Vec<String>,

    /// File of URLs, one per line ('-' = stdin); blank lines and lines starting with '#' are skipped.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    input: Option<PathBuf>,

    /// Requests in flight at most.
    #[arg(
        short = 'c',
        long = "concurrency",
        value_name = "N",
        default_value_t = 256
    )]
    concurrency: usize,

    /// Connections per host at most (0 = no per-host limit).
    #[arg(long = "per-host", value_name = "N", default_value_t = 8)]
    per_host: usize,

    /// Limit for a whole request, body included, in seconds.
    #[arg(
        long = "timeout",
        value_name = "SECS",
        default_value = "30",
        allow_negative_numbers = true
    )]
    timeout: String,

    /// Limit for establishing a connection, in seconds.
    #[arg(
        long = "connect-timeout",
        value_name = "SECS",
        default_value = "10",
        allow_negative_numbers = true
    )]
    connect_timeout: String,

    /// Stop reading a body past this many bytes and report an error (default: no limit).
    #[arg(long = "max-body", value_name = "BYTES")]
    max_body: Option<u64>,

    /// Request method (default GET, or POST with --data).
    #[arg(short = 'X', long = "method", value_name = "M")]
    method: Option<String>,

    /// Request header 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'Name: value'")]
    headers: Vec<String>,

    /// Request body: a string, or @FILE for a file's contents.
    #[arg(short = 'd', long = "data", value_name = "STRING|@FILE")]
    data: Option<String>,

    /// Write the body of input position i to DIR/i.
    #[arg(long = "save-dir", value_name = "DIR")]
    save_dir: Option<PathBuf>,

    /// Results file (default stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,

    /// No progress bar, even when stderr is a terminal.
    #[arg(long = "no-progress")]
    no_progress: bool,

    /// Also trust the CA certificates in this PEM file for https (besides the built-in roots).
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_file: Option<PathBuf>,

    /// Ask this DNS server instead of those of /etc/resolv.conf (repeatable; port default 53).
    #[arg(long = "dns-server", value_name = "IP[:PORT]")]
    dns_servers: Vec<String>,

    /// Connect to ADDR for HOST:PORT without asking DNS, like curl's --resolve (repeatable;
    /// ADDR may be a comma-separated list).
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,

    /// Event loops (threads) sharing nothing; URLs go to a loop by origin hash, so --per-host
    /// stays exact. -c is the total over all loops. 0 = one per CPU.
    #[arg(long = "threads", value_name = "N", default_value_t = 1)]
    threads: usize,

    /// I/O driver of every event loop: epoll, io_uring, or auto (io_uring when the kernel offers
    /// all it needs, else epoll). Default: $SPOOL_DRIVER, else epoll. The summary names the one used.
    #[arg(long = "driver", value_name = "NAME")]
    driver: Option<String>,

    /// Fetch only the URLs whose origin hash modulo N is K (split one list over N machines
    /// without coordination; the hash is FNV-1a 64 of the lower-case scheme://host:port).
    #[arg(long = "shard", value_name = "K/N")]
    shard: Option<String>,

    /// At most R requests per second to each host (scheme://host:port), evenly spaced; fractions
    /// allowed (0.5 = one every 2 s). Default: no limit.
    #[arg(long = "rate", value_name = "R", allow_negative_numbers = true)]
    rate: Option<String>,

    /// At most N new connections to one host waiting for their first answer; lifted for a host
    /// once one answers and stays open (0 = no ramp). Spares servers with a short listen backlog.
    #[arg(long = "ramp", value_name = "N", default_value_t = 4)]
    ramp: usize,

    /// Retry a transient failure (refused, reset, timeout, 408/429/500/502/503/504) up to N times,
    /// waiting 1 s, 2 s, 4 s... (with jitter, honouring Retry-After); GET/HEAD/PUT/DELETE only,
    /// unless the connection could not even be made. --timeout covers all attempts.
    #[arg(long = "retry", value_name = "N", default_value_t = 0)]
    retry: u32,

    /// Start no retry later than SECS after the first attempt (0 = no limit but --timeout).
    #[arg(
        long = "retry-max-time",
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    retry_max_time: Option<String>,

    /// Send requests through this HTTP proxy, `[user:password@]host[:port]` (https URLs through
    /// CONNECT tunnels). Overrides the http_proxy/https_proxy/all_proxy variables; "" = no proxy.
    #[arg(short = 'x', long = "proxy", value_name = "URL")]
    proxy: Option<String>,

    /// Hosts reached without the proxy: comma-separated names (and their subdomains), IPs, CIDR
    /// blocks, or '*'. Overrides no_proxy/NO_PROXY.
    #[arg(long = "noproxy", value_name = "LIST")]
    noproxy: Option<String>,

    /// Start an HTTP server inside this process and thread, on 127.0.0.1, and fetch N URLs from it
    /// [default N: 10000]. Results go to -o FILE only when it is given.
    #[arg(
        long = "demo",
        value_name = "N",
        num_args = 0..=1,
        default_missing_value = "10000",
        conflicts_with_all = ["urls", "input"]
    )]
    demo: Option<u64>,

    /// Follow at most N redirects (default 10); 0 = follow none: a 3xx is the result.
    #[arg(
        long = "max-redirects",
        value_name = "N",
        allow_negative_numbers = true
    )]
    max_redirects: Option<usize>,

    /// Save and count bodies exactly as sent: no Accept-Encoding, no decompression.
    #[arg(long = "raw")]
    raw: bool,

    /// Accepted for curl users: bodies are already decompressed by default (gzip, deflate, br,
    /// zstd).
    #[arg(long = "compressed", conflicts_with = "raw")]
    compressed: bool,
}

/// Where the URLs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Positional URLs, then the lines of the file (`None`: no file; `Some("-")`: stdin).
    Urls {
        urls: Vec<String>,
        file: Option<PathBuf>,
    },
    /// The built-in demo with this many URLs.
    Demo { count: u64 },
}

/// A validated request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name as typed (a valid token).
    pub name: String,
    /// The field value, surrounding whitespace removed.
    pub value: String,
}

/// Everything the run needs, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the URLs come from.
    pub source: Source,
    /// Requests in flight at most (≥ 1).
    pub concurrency: usize,
    /// Requests (hence connections) per host at most; 0 = unlimited.
    pub per_host: usize,
    /// Limit for a whole request, body included.
    pub timeout: Duration,
    /// Limit for a TCP connect.
    pub connect_timeout: Duration,
    /// Body bytes read at most before the URL is reported as failed.
    pub max_body: Option<u64>,
    /// Request method, upper/lower case as typed.
    pub method: String,
    /// Extra request headers, in order.
    pub headers: Vec<Header>,
    /// Request body, if any.
    pub data: Option<Vec<u8>>,
    /// Directory receiving one file per input position.
    pub save_dir: Option<PathBuf>,
    /// Results file; `None` = stdout (or, in demo mode, nowhere).
    pub output: Option<PathBuf>,
    /// Whether the progress bar may be drawn (it also needs stderr to be a terminal).
    pub progress: bool,
    /// Extra trusted roots from `--ca-file`, already parsed.
    pub ca_certs: Vec<Certificate>,
    /// `--dns-server`s, in order; empty = `/etc/resolv.conf`.
    pub dns_servers: Vec<SocketAddr>,
    /// `--resolve` pins.
    pub resolve: Vec<ResolvePin>,
    /// Event loops to run (≥ 1; `--threads 0` already turned into the CPU count).
    pub threads: usize,
    /// `--driver` (else `SPOOL_DRIVER`, else epoll); `Auto` is resolved when the runtime is built.
    pub driver: Driver,
    /// `--shard K/N` (`0/1`: every URL).
    pub shard: Shard,
    /// `--max-redirects` (`None`: the client's default, 10).
    pub max_redirects: Option<usize>,
    /// Decode compressed bodies (off with `--raw`).
    pub decompress: bool,
    /// `--proxy`, `--noproxy` and the proxy environment, checked.
    pub proxy: ProxyChoice,
    /// `--retry N` (0: no retries).
    pub retry: u32,
    /// `--rate R`: requests per second per host.
    pub rate: Option<f64>,
    /// `--ramp N` (0: off).
    pub ramp: usize,
    /// `--retry-max-time` (`None`: no limit but `--timeout`).
    pub retry_max_time: Option<Duration>,
}

/// What parsing the command line ended in, other than a config.
#[derive(Debug)]
pub enum CliExit {
    /// `--help` or `--version`: print this text on stdout and exit 0.
    Info(String),
    /// Bad usage: print the one-line message and exit 2.
    Usage(UsageError),
}

/// A bad command line, as one line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fetch: {} (try 'fetch --help')", self.0)
    }
}

/// Parse and check `args` (the program name first, as in `std::env::args_os`).
pub fn parse<I, T>(args: I) -> Result<Config, CliExit>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            use clap::error::ErrorKind;
            return Err(match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => CliExit::Info(e.to_string()),
                _ => CliExit::Usage(UsageError(first_line(&e.to_string()))),
            });
        }
    };
    check(args).map_err(CliExit::Usage)
}

/// clap's message is several lines ("error: …", usage, "For more information…"): keep the first, without
/// its "error: " prefix, because the tool prints its own hint.
fn first_line(message: &str) -> String {
    let line = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("bad usage");
    line.strip_prefix("error: ")
        .unwrap_or(line)
        .trim()
        .to_string()
}

fn check(a: Args) -> Result<Config, UsageError> {
    if a.concurrency == 0 {
        return Err(UsageError("--concurrency must be at least 1".into()));
    }
    let timeout = seconds("--timeout", &a.timeout)?;
    let connect_timeout = seconds("--connect-timeout", &a.connect_timeout)?;
    let headers = a
        .headers
        .iter()
        .map(|h| header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let data = match a.data.as_deref() {
        None => None,
        Some(d) => Some(data(d)?),
    };
    let method = match a.method {
        Some(m) if !is_token(&m) => {
            return Err(UsageError(format!(
                "invalid method {m:?}: a method is a token such as GET or POST"
            )))
        }
        Some(m) => m,
        // Like curl: a body without an explicit method is a POST.
        None if data.is_some() => "POST".to_string(),
        None => "GET".to_string(),
    };
    let ca_certs = match &a.ca_file {
        None => Vec::new(),
        Some(path) => ca_file(path)?,
    };
    let dns_servers = a
        .dns_servers
        .iter()
        .map(|s| parse_server_addr(s).map_err(|e| UsageError(format!("--dns-server: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let resolve = a
        .resolve
        .iter()
        .map(|s| {
            s.parse::<ResolvePin>()
                .map_err(|e| UsageError(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let shard = match &a.shard {
        None => Shard::ALL,
        Some(text) => text.parse::<Shard>().map_err(|e| UsageError(e.0))?,
    };
    let rate = match a.rate.as_deref() {
        None => None,
        Some(text) => Some(rate(text)?),
    };
    let retry_max_time = match a.retry_max_time.as_deref() {
        None => None,
        Some(t) if t.trim().parse::<f64>() == Ok(0.0) => None,
        Some(t) => Some(seconds("--retry-max-time", t)?),
    };
    if retry_max_time.is_some() && a.retry == 0 {
        return Err(UsageError(
            "--retry-max-time needs --retry N (the number of retries)".into(),
        ));
    }
    let proxy = crate::proxy::choose(a.proxy, a.noproxy, |name| std::env::var(name).ok())?;
    let driver = match a.driver.as_deref() {
        None => Driver::from_env()
            .map_err(|e| UsageError(e.to_string().trim_start_matches("spool: ").to_string()))?,
        Some(name) => Driver::from_name(name).ok_or_else(|| {
            UsageError(format!(
                "invalid --driver {name:?}: expected epoll, io_uring or auto"
            ))
        })?,
    };
    let threads = match a.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let source = match (a.demo, a.urls.is_empty() && a.input.is_none()) {
        (Some(count), _) => Source::Demo { count },
        (None, true) => Source::Demo {
            count: DEFAULT_DEMO_URLS,
        },
        (None, false) => Source::Urls {
            urls: a.urls,
            file: a.input,
        },
    };
    Ok(Config {
        source,
        concurrency: a.concurrency,
        per_host: a.per_host,
        timeout,
        connect_timeout,
        max_body: a.max_body,
        method,
        headers,
        data,
        save_dir: a.save_dir,
        output: a.output,
        progress: !a.no_progress,
        ca_certs,
        dns_servers,
        resolve,
        threads,
        driver,
        shard,
        max_redirects: a.max_redirects,
        decompress: !a.raw,
        proxy,
        retry: a.retry,
        retry_max_time,
        rate,
        ramp: a.ramp,
    })
}

/// Every certificate of the PEM bundle at `path`; read here so that a bad file is a usage error
/// before anything is fetched.
fn ca_file(path: &Path) -> Result<Vec<Certificate>, UsageError> {
    let pem = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read --ca-file {path:?}: {e}")))?;
    Certificate::from_pem_bundle(&pem)
        .map_err(|e| UsageError(format!("invalid --ca-file {path:?}: {e}")))
}

/// A positive, finite number of seconds (fractions allowed: `0.5`).
fn seconds(flag: &str, text: &str) -> Result<Duration, UsageError> {
    let bad = || {
        UsageError(format!(
            "invalid value {text:?} for {flag}: expected a positive number of seconds"
        ))
    };
    let secs: f64 = text.trim().parse().map_err(|_| bad())?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(bad());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// `--rate R`: a positive, finite number of requests per second.
fn rate(text: &str) -> Result<f64, UsageError> {
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1e9 => Ok(r),
        _ => Err(UsageError(format!(
            "invalid value {text:?} for --rate: expected a positive number of requests per second"
        ))),
    }
}

/// `Name: value`, with a token name and a value free of control characters other than tab (RFC 9110 §5).
fn header(text: &str) -> Result<Header, UsageError> {
    let bad = |why: &str| {
        UsageError(format!(
            "invalid header {text:?}: {why}; expected 'Name: value'"
        ))
    };
    let (name, value) = text.split_once(':').ok_or_else(|| bad("no ':'"))?;
    if !is_token(name) {
        return Err(bad(
            "the name must be a token (letters, digits, !#$%&'*+-.^_`|~)",
        ));
    }
    let value = value.trim_matches([' ', '\t']);
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(bad("the value holds a control character"));
    }
    Ok(Header {
        name: name.to_string(),
        value: value.to_string(),
    })
}

/// `-d STRING` or `-d @FILE`.
fn data(arg: &str) -> Result<Vec<u8>, UsageError> {
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read(path)
            .map_err(|e| UsageError(format!("cannot read --data file {path:?}: {e}"))),
        None => Ok(arg.as_bytes().to_vec()),
    }
}

/// RFC 9110 §5.6.2 token: one or more tchar.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
